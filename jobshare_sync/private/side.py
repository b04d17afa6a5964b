"""Private records and private notes: reading the private side, and writing it.

Everything is stored by `Store.private` (store/private.py) in its own repository; a
change is one commit there, made under the repository's jobshare lock.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..core import labels, normal, notes, records, schema
from ..core.records import Label
from ..errors import InvalidRecordError, LabelError, RecordError
from ..reading import follow_alias
from ..referrals import ReferralChange
from ..store import Store
from ..validation import owner_region, require_valid
from ..workspace import Saved, new_contact, now


@dataclass
class PrivateSide:
    """What the private branch holds at its tip: records and notes, parsed."""

    tip: str | None = None
    records: dict[Label, dict[str, Any]] = field(default_factory=dict)
    raw: dict[Label, bytes] = field(default_factory=dict)
    notes: dict[Label, dict[str, Any]] = field(default_factory=dict)  # by the label noted

    def labels(self) -> list[Label]:
        return sorted(self.records)


def read_side(store: Store) -> PrivateSide:
    """The private side at its tip; an unreadable private record is left out (it stays
    in the private history)."""
    side = PrivateSide(store.private.tip())
    for path, raw in store.private.files(side.tip).items():
        noted = notes.label_of_note(path)
        if noted is not None:
            side.notes[noted] = notes.load_note(raw, path)
            continue
        label = records.label_of_path(path)
        if label is None:
            continue
        try:
            data = records.load_yaml(raw, path, lines=False).data
        except RecordError:
            continue
        if isinstance(data, dict):
            side.records[label] = data
            side.raw[label] = raw
    return side


def find_private(side: PrivateSide, text: str) -> Label | None:
    """The private record a user means (label, id, unique prefix or name), or None."""
    if not side.records:
        return None
    titles = {
        label: str(d.get("name") or d.get("title") or "") for label, d in side.records.items()
    }
    try:
        return labels.match_label(text, side.labels(), lambda: titles)
    except LabelError:
        return None


def commit_private(
    store: Store, files: Mapping[str, bytes | None], message: str, expected: str | None
) -> str:
    """One commit on the private branch; the caller holds the lock."""
    return store.private.commit(files, message, expected=expected)


def commit_on(
    store: Store, side: PrivateSide, files: Mapping[str, bytes | None], message: str
) -> str:
    """One private commit on top of the tip `side` was read at, under the lock; raises
    InvalidRecordError when the private side moved since (another command wrote)."""
    with store.locked():
        if store.private.tip() != side.tip:
            raise InvalidRecordError("the private side changed meanwhile: run the command again")
        return commit_private(store, files, message, side.tip)


# --- records -----------------------------------------------------------------------------


def add_private_contact(
    store: Store, fields: Mapping[str, Any], record_id: str | None = None
) -> Saved:
    """`add contact --private`: a contact written to the private side only, validated
    as a shared one is, committed there as 'Add private contact "NAME" (contacts/<id>)'.
    Raises InvalidRecordError for a bad or taken id or an invalid value."""
    options, notices = normal.contact_options(fields, owner_region(store))
    label, data = new_contact(store, options, record_id)
    data = normal.normal_form(label.kind, dict(data))
    raw = schema.dump_record(label.folder, data)
    require_valid(label, raw)
    with store.locked():
        tip = store.private.tip()
        message = f'Add private contact "{data.get("name", "")}" ({label})'
        commit = commit_private(store, {label.path: raw}, message, tip)
    return Saved(label, commit, data=dict(data), notices=notices)


def remove_private(store: Store, texts: Iterable[str]) -> list[Label] | None:
    """`rm` of private records: each of `texts` names one (as `find_private` finds it),
    removed from the private side in one private commit, with its note. None when one
    of `texts` names no private record (the caller then reports it as `rm` does).
    Raises InvalidRecordError when a private referral names a contact removed as its
    client (nothing removed)."""
    side = read_side(store)
    found = [find_private(side, text) for text in texts]
    chosen = list(dict.fromkeys(label for label in found if label is not None))
    if None in found or not chosen:
        return None
    gone = {label.id for label in chosen if label.folder == "contacts"}
    naming = [
        str(label)
        for label, data in sorted(side.records.items())
        if label.folder == "referrals" and data.get("client") in gone and label not in chosen
    ]
    if naming:
        raise InvalidRecordError(
            f"private referrals name it as their client ({', '.join(naming)}): nothing removed"
        )
    files: dict[str, bytes | None] = {label.path: None for label in chosen}
    files.update({notes.note_path(label): None for label in chosen if label in side.notes})
    commit_on(store, side, files, f"Remove private {', '.join(map(str, chosen))}")
    return chosen


def refer_private(
    store: Store,
    contact: str,
    to: str,
    title: str,
    *,
    details: str | None = None,
    budget: str | None = None,
    deadline: str | None = None,
) -> ReferralChange:
    """`refer --private`: a referral kept on the private side, whose client may be a
    private contact or a shared one; validated as a shared referral is. Raises what
    `referrals.new_referral` raises, and LabelError for an unknown client."""
    from ..referrals import find_contact, new_referral

    side = read_side(store)
    client = find_private(side, contact)
    if client is None or client.folder != "contacts":
        client = find_contact(store, contact)
    label, data = new_referral(
        store, client, to, title, details=details, budget=budget, deadline=deadline
    )
    data = normal.normal_form(label.kind, data)
    raw = schema.dump_record(label.folder, data)
    require_valid(label, raw)
    message = f'Refer "{title}" ({client}) to {to}, privately'
    with store.locked():
        commit = commit_private(store, {label.path: raw}, message, store.private.tip())
    return ReferralChange(label, data, commit, message)


# --- notes -------------------------------------------------------------------------------


@dataclass
class NoteTarget:
    label: Label  # the record the note is kept under
    asked: Label  # what the user named, before following an alias
    exists: str  # "shared", "private" or "gone" (an orphaned note)


def note_target(store: Store, side: PrivateSide, text: str) -> NoteTarget:
    """The record a note command means: a shared record (followed through aliases to
    its survivor), a private one, or a record gone that still has a note.
    Raises LabelError when none is found."""
    from ..reading import find_label

    try:
        asked = find_label(store, text)
    except LabelError:
        found = find_private(side, text)
        if found is not None:
            return NoteTarget(found, found, "private")
        for noted in side.notes:
            if text.strip().strip("/") in (str(noted), noted.id):
                return NoteTarget(noted, noted, "gone")
        raise
    return NoteTarget(follow_alias(store, asked), asked, "shared")


def save_note(
    store: Store, text: str, sets: Iterable[str] = (), unsets: Iterable[str] = ()
) -> tuple[NoteTarget, dict[str, Any], str | None]:
    """`note LABEL --set F=V --unset F`: change the private note on a record; a note
    left empty is removed. Returns (target, the note as kept, the private commit or
    None when nothing changed). Raises LabelError, InvalidRecordError."""
    side = read_side(store)
    target = note_target(store, side, text)
    old = side.notes.get(target.label, {})
    sets, unsets = list(sets), list(unsets)
    if not sets and not unsets:
        return target, old, None
    new = notes.apply_changes(old, sets, unsets)
    return target, *_keep_note(store, side, target, old, new)


def edit_note(
    store: Store, text: str, edit: Callable[[str, str], str]
) -> tuple[NoteTarget, dict[str, Any], str | None]:
    """`note LABEL --edit`: the note as YAML, handed to `edit(file name, text)` (an
    editor), read back, checked against note.schema.json and kept as `save_note`
    keeps it. Raises InvalidRecordError with the first problem, nothing saved."""
    side = read_side(store)
    target = note_target(store, side, text)
    old = side.notes.get(target.label, {})
    shown = {k: v for k, v in old.items() if k != "updated"}
    name = notes.note_path(target.label)
    result = edit(name, notes.dump_note(shown).decode("utf-8") if shown else "notes: |\n  \n")
    try:
        data = records.load_yaml(result.encode("utf-8"), name, lines=False).data
    except RecordError as e:
        raise InvalidRecordError(f"the note is not valid YAML ({e}): nothing saved") from None
    data = {} if data is None else data
    if not isinstance(data, dict):
        raise InvalidRecordError("a note is a mapping of fields: nothing saved")
    data.pop("updated", None)
    for key, value in data.items():  # checked as given, not through the text of --set
        if key == "notes" and isinstance(value, str) and value.strip():
            data[key] = value.strip() + "\n"
    new = {k: v for k, v in data.items() if v not in (None, "", [])}
    problems = notes.note_errors(new)
    if problems:
        raise InvalidRecordError(f"invalid note: {problems[0]}: nothing saved")
    return target, *_keep_note(store, side, target, old, new)


def _keep_note(
    store: Store,
    side: PrivateSide,
    target: NoteTarget,
    old: Mapping[str, Any],
    new: dict[str, Any],
) -> tuple[dict[str, Any], str | None]:
    """Write a changed note as one private commit (removed when left empty)."""
    if {k: v for k, v in new.items() if k != "updated"} == {
        k: v for k, v in old.items() if k != "updated"
    }:
        return dict(old), None
    path = notes.note_path(target.label)
    if notes.is_empty(new):
        data: bytes | None = None
        message = f"Remove private note on {target.label}"
        new = {}
    else:
        new["updated"] = now()
        data = notes.dump_note(new)
        message = f"Note on {target.label}"
    return new, commit_on(store, side, {path: data}, message)


def notes_for(store: Store, side: PrivateSide, label: Label) -> dict[str, Any]:
    """The note a record shows: its own, with the notes of the contacts combined into
    it (their aliases) folded in, so a note follows a combine to the survivor."""
    found = dict(side.notes.get(label, {}))
    for noted, note in sorted(side.notes.items()):
        if noted == label or noted.folder != label.folder:
            continue
        if (store.root / noted.path).is_file():
            try:
                leads = follow_alias(store, noted)
            except LabelError:
                continue
            if leads == label:
                found = merge_into(found, note)
    return found


def merge_into(into: Mapping[str, Any], note: Mapping[str, Any]) -> dict[str, Any]:
    """Two notes as one for display: lists joined, texts joined, `into` first."""
    out = dict(into)
    for key, value in note.items():
        if key not in out:
            out[key] = value
        elif isinstance(value, list):
            out[key] = list(dict.fromkeys([*out[key], *value]))
        elif key == "notes" and value != out[key]:
            out[key] = f"{out[key]}{value}"
    return out


def orphaned_notes(store: Store, side: PrivateSide) -> list[Label]:
    """Notes on records that are neither shared nor private any more (deleted by
    you or a friend): kept, listed by `private status`, readable with `note LABEL`."""
    return [
        label
        for label in sorted(side.notes)
        if label not in side.records and not (store.root / label.path).is_file()
    ]


def private_ids(side: PrivateSide) -> set[str]:
    return {label.id for label in side.records}
