"""Notes by source: the notes of a combined contact, each part under a line naming its record.

A combined contact keeps its own notes first, as they were, and the notes of every
record combined into it after them, each under a header line, sorted by the id it
names::

    Ask for Dana. Pays on time.

    From contacts/acme-ltd-x9z3 (added by bob):
    Dana left in May; ask for Sam.

The header is the whole line `From contacts/<id>:` or `From contacts/<id> (added by
<handle>):`. Reading notes splits them at such lines into the record's own text and
one section per source id; writing joins them in that canonical order, a blank line
between parts, one final newline. Sections are what lets edits to a record made
before it was combined follow it into its survivor (`carry_notes`), and two
friends' combines of one record into one survivor meet without a conflict
(`merge_notes_by_source`).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from ..fieldmerge import merge_text

HEADER_RE = re.compile(
    r"^From contacts/(?P<id>[a-z0-9][a-z0-9-]{0,63})"
    r"(?: \(added by (?P<by>[a-z0-9][a-z0-9_-]{0,38})\))?:$"
)


@dataclass(frozen=True)
class Section:
    """The notes one source record brought into a combined contact."""

    source: str  # the id of the record they came from
    added_by: str | None  # who added that record, as the header names them
    text: str  # the lines, each ending in "\n", no trailing blank lines


@dataclass(frozen=True)
class Notes:
    """Notes split at their header lines: the record's own text and its sections."""

    own: str
    sections: dict[str, Section]  # by source id, in the order met


def header(source: str, added_by: str | None) -> str:
    """The header line of a section, without its line end."""
    return (
        f"From contacts/{source} (added by {added_by}):" if added_by else f"From contacts/{source}:"
    )


def _tidy(lines: Iterable[str]) -> str:
    """Lines joined, trailing blank lines and spaces dropped, one final newline (or "")."""
    text = "".join(lines).rstrip()
    return text + "\n" if text else ""


def split_notes(text: str | None) -> Notes:
    """Split notes at their header lines (see the module docstring).

    A source named twice keeps both texts, in order, as one section. Text that is
    not a string (a bad record) is read as no notes.
    """
    if not isinstance(text, str) or not text:
        return Notes("", {})
    own: list[str] = []
    parts: dict[str, tuple[str | None, list[str]]] = {}
    current = own
    for line in text.splitlines(keepends=True):
        match = HEADER_RE.match(line.rstrip("\r\n"))
        if match is None:
            current.append(line if line.endswith("\n") else line + "\n")
            continue
        source = match["id"]
        if source in parts:
            current = parts[source][1]
            current.append("\n")
        else:
            current = []
            parts[source] = (match["by"], current)
    return Notes(
        _tidy(own),
        {
            source: Section(source, by, tidy)
            for source, (by, lines) in parts.items()
            if (tidy := _tidy(lines))
        },
    )


def join_notes(own: str, sections: Iterable[Section]) -> str:
    """Notes in canonical form: own text, then each non-empty section by source id."""
    parts = [own.rstrip()] if own.strip() else []
    for section in sorted(sections, key=lambda s: s.source):
        if section.text.strip():
            parts.append(f"{header(section.source, section.added_by)}\n{section.text.rstrip()}")
    return "\n\n".join(parts) + "\n" if parts else ""


def union_text(first: str, second: str) -> str:
    """`first`, then every non-blank line of `second` that `first` lacks: no line lost."""
    have = set(first.splitlines())
    extra = [line for line in second.splitlines() if line.strip() and line not in have]
    if not extra:
        return first
    return _tidy([first.rstrip() + "\n" if first.strip() else "", *(x + "\n" for x in extra)])


def _added_lines(current: str, base: str, edited: str) -> str:
    """`current` plus the lines `edited` added to `base`: the fallback when edits collide."""
    gone = set(base.splitlines())
    return union_text(current, "\n".join(x for x in edited.splitlines() if x not in gone))


def combine_notes(
    keep_id: str, keep_notes: str | None, others: Iterable[tuple[str, str | None, str | None]]
) -> str | None:
    """The notes of KEEP after combining `others` ((id, added_by, notes) each) into it.

    KEEP's own text stays first; each other record's own text becomes the section
    of its id, and the sections it held become KEEP's sections (one naming KEEP
    joins KEEP's own text). Where KEEP already has a section of that source, the
    two are joined by `union_text`. Returns KEEP's notes unchanged (None if it had
    none) when nothing comes in.
    """
    keep = split_notes(keep_notes)
    own, sections = keep.own, dict(keep.sections)
    changed = False
    for other_id, added_by, text in others:
        notes = split_notes(text)
        incoming = [Section(other_id, added_by, notes.own), *notes.sections.values()]
        for part in incoming:
            if not part.text.strip():
                continue
            if part.source == keep_id:
                merged = union_text(own, part.text)
                changed, own = changed or merged != own, merged
                continue
            held = sections.get(part.source)
            merged = part.text if held is None else union_text(held.text, part.text)
            if held is None or merged != held.text:
                by = held.added_by if held is not None and held.added_by else part.added_by
                sections[part.source] = Section(part.source, by, merged)
                changed = True
    if not changed:
        return keep_notes
    return join_notes(own, sections.values()) or None


def carry_notes(
    survivor_id: str,
    survivor_notes: str | None,
    base_notes: str | None,
    edited_notes: str | None,
    own_key: str,
    own_added_by: str | None,
) -> tuple[str | None, list[str]]:
    """Carry the edits that turned `base_notes` into `edited_notes` (the notes of a
    record since combined into the survivor) into the survivor's notes.

    The record's own text belongs to the survivor's section `own_key` (the survivor's
    own text when `own_key` is the survivor's id, as after a rename), its sections to
    the survivor's sections of the same source. Each part is merged line by line
    (`merge_text`, base: the record's part before the edits); where the edits collide
    with the survivor's own changes to that part, the lines the edits added are kept
    after it, and the part is named in the returned list. Returns the survivor's new
    notes (None when empty) and the sources whose edits collided.
    """
    survivor, base, edited = (split_notes(t) for t in (survivor_notes, base_notes, edited_notes))

    def parts(notes: Notes) -> dict[str, tuple[str | None, str]]:
        found = {own_key: (own_added_by, notes.own)}
        for s in notes.sections.values():
            held = found.get(s.source, (s.added_by, ""))
            found[s.source] = (held[0] or s.added_by, union_text(held[1], s.text))
        return found

    before, after = parts(base), parts(edited)
    own, sections = survivor.own, dict(survivor.sections)
    collided: list[str] = []
    changed = False
    for key in sorted(set(before) | set(after)):
        by, old = before.get(key, (None, ""))
        by, new = after.get(key, (by, ""))
        if old == new:
            continue
        current = own if key == survivor_id else (s.text if (s := sections.get(key)) else "")
        merged = merge_text(old, current, new)
        if merged is None:
            merged = _added_lines(current, old, new)
            collided.append(key)
        if merged == current:
            continue
        changed = True
        if key == survivor_id:
            own = merged
        else:
            held = sections.get(key)
            sections[key] = Section(key, held.added_by if held and held.added_by else by, merged)
    if not changed:
        return survivor_notes, collided
    return join_notes(own, sections.values()) or None, collided


def merge_notes_by_source(
    base: str | None,
    ours: str | None,
    theirs: str | None,
    origins: Mapping[str, str] | None = None,
    alternatives: Iterable[str | None] = (),
) -> str | None:
    """Three-way merge of a survivor's notes part by part; None when a part conflicts.

    Each part (own text, each source's section) is merged line by line on its own,
    so that two friends who combined different records into one survivor, or one
    record each with other notes, do not meet as overlapping edits at the end of
    the text. A section the base lacks has as its base `origins[source]`, the notes
    that record had of its own in the merge base (the text both combines started
    from), else nothing; a side without such a section left it as it was. A section
    the base has and a side lacks was removed by that side. `alternatives` are the
    notes of other merge bases (after criss-cross merges): a part that does not
    merge on the first base's text is tried on theirs, as the `text` rule does.
    """
    b, o, t = (split_notes(x) for x in (base, ours, theirs))
    others = [split_notes(x) for x in alternatives]
    origins = origins or {}
    own = _merge_on([b.own, *(n.own for n in others)], o.own, t.own)
    if own is None:
        return None
    sections: list[Section] = []
    for key in sorted(set(b.sections) | set(o.sections) | set(t.sections)):
        in_base = key in b.sections
        starts = [n.sections[key].text for n in (b, *others) if key in n.sections]
        known = bool(starts) or key in origins
        starts = starts or [split_notes(origins.get(key)).own]
        sides = [n.sections.get(key) for n in (o, t)]
        texts = [s.text if s else ("" if in_base else starts[0]) for s in sides]
        merged = _merge_on(starts, *texts) if known else _merge_copies(*texts)
        if merged is None:
            return None
        by = next((s.added_by for s in (*sides, b.sections.get(key)) if s and s.added_by), None)
        sections.append(Section(key, by, merged))
    return join_notes(own, sections)


def _merge_copies(ours: str, theirs: str) -> str:
    """Two copies of one record's notes that reached a survivor by two routes, with no
    base between them: merged on the lines both hold (in order), else every line of
    both, the two taken in a fixed order so that either side merges alike."""
    first, second = sorted((ours, theirs))
    a, b = first.splitlines(keepends=True), second.splitlines(keepends=True)
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    common = "".join(line for m in matcher.get_matching_blocks() for line in a[m.a : m.a + m.size])
    merged = _merge_part(common, first, second)
    return merged if merged is not None else union_text(first, second)


def _merge_on(bases: list[str], ours: str, theirs: str) -> str | None:
    """The first clean merge of one part on one of several base texts."""
    for base in dict.fromkeys(bases):
        if (merged := _merge_part(base, ours, theirs)) is not None:
            return merged
    return None


def _merge_part(base: str, ours: str, theirs: str) -> str | None:
    """`merge_text`, and where its edits collide but were only additions, one of which
    holds every line of the other in order (the same lines that reached a record by two
    routes, one with more), the larger: nothing lost, nothing undone."""
    if ours == theirs:
        return ours
    merged = merge_text(base, ours, theirs)
    if merged is not None:
        return merged
    lines = [x.splitlines() for x in (base, ours, theirs)]
    if _within(lines[0], lines[1]) and _within(lines[0], lines[2]):
        if _within(lines[1], lines[2]):
            return theirs
        if _within(lines[2], lines[1]):
            return ours
    return None


def _within(short: list[str], long: list[str]) -> bool:
    """Whether `short` is a subsequence of `long`."""
    rest = iter(long)
    return all(any(line == other for other in rest) for line in short)
