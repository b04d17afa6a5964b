"""The pull's part of identity: merging contacts when aliases are involved.

`merge_identities` takes the contacts a pull found changed (base, ours, theirs per
label), picks those an alias touches on any side, and decides them together:
which aliases stand (`settle_aliases`), the content of every survivor (its own
three-way merge, notes merged by source), and the edits made to a record before
it became an alias, carried into its survivor (`carry_into_survivor`). Every
other label is left to the ordinary record merge (core/merge.py). See the
package docstring for the rules and the cases they settle.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from copy import deepcopy
from dataclasses import dataclass, field
from typing import Any

from ..fieldmerge import AncestorOursTheirs, VirtualBase
from ..merge import Notice, RecordConflict, RecordMerge, Validate, merge_record, refuse_fixed
from ..values import DEFAULT_REGION
from .aliases import Settled, alias_path, canon, is_alias, settle_aliases
from .combining import carry_into_survivor, contact_rules
from .notes import merge_notes_by_source, split_notes

Record = dict[str, Any]
Versions = AncestorOursTheirs[Record | None]
FOLDER = "contacts/"
_NONE: Versions = AncestorOursTheirs(None, None, None)


@dataclass
class IdentityMerge:
    """What `merge_identities` decided: one RecordMerge per label it took on."""

    records: list[RecordMerge] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)

    @property
    def labels(self) -> set[str]:
        """The labels decided here: the ordinary record merge skips them."""
        return {r.label for r in self.records}


def _live(record: Record | None) -> Record | None:
    return record if record is not None and not is_alias(record) else None


def _same(a: Any, b: Any) -> bool:
    return canon(a) == canon(b)


class _Group:
    """The versions of every contact an alias touches, read once each."""

    def __init__(self, changed: Mapping[str, Versions], lookup: Callable[[str], Versions] | None):
        self.changed, self.lookup = changed, lookup
        self.versions: dict[str, Versions] = {}

    def get(self, record_id: str) -> Versions:
        if record_id not in self.versions:
            label = FOLDER + record_id
            found = self.changed.get(label)
            if found is None and self.lookup is not None:
                found = self.lookup(label)
            self.versions[record_id] = found if found is not None else _NONE
        return self.versions[record_id]

    def close(self, seeds: list[str]) -> set[str]:
        """The seeds and every id their aliases lead to, on any side."""
        involved: set[str] = set()
        queue = list(seeds)
        while queue:
            record_id = queue.pop()
            if record_id not in involved:
                involved.add(record_id)
                queue += [
                    r["alias_of"] for r in self.get(record_id) if r is not None and is_alias(r)
                ]
        return involved


def merge_identities(
    changed: Mapping[str, Versions],
    *,
    theirs_handle: str,
    lookup: Callable[[str], Versions] | None = None,
    rules: Mapping[str, str] | None = None,
    region: str = DEFAULT_REGION,
    whole_record: bool = False,
    validate: Validate | None = None,
) -> IdentityMerge:
    """Merge the contacts that aliases touch; leave every other label alone.

    `changed` maps labels (`contacts/<id>`, other folders ignored) to base, ours and
    theirs (parsed records or None), as the pull found them changed on either side;
    `lookup(label)` gives the versions of a contact not in `changed` (unchanged on
    both sides), which a survivor or a chain may need. Returns an empty result, at
    once, when no version in `changed` is an alias or holds such sections. The RecordMerge of each label
    taken on says its outcome relative to ours, as `merge_record` does; conflicts
    are only those a person would call real (two edits of one field of a
    survivor). Contacts whose notes hold sections of combined records are taken on
    too, so that their notes merge section by section (`merge_notes_by_source`). Notices report aliases new to ours ("combined contacts/x into
    contacts/y (by bob)"), edits carried into survivors, values not taken, and
    aliases settled by the rules.
    """
    rules = rules if rules is not None else contact_rules()
    contacts = {
        label[len(FOLDER) :]: versions
        for label, versions in changed.items()
        if label.startswith(FOLDER)
    }
    seeds = sorted(i for i, versions in contacts.items() if any(is_alias(r) for r in versions))
    sectioned = {i for i, versions in contacts.items() if any(map(_has_sections, versions))}
    if not seeds and not sectioned:
        return IdentityMerge()
    group = _Group(changed, lookup)
    involved = group.close(seeds)
    candidates = {
        i: [r for r in group.get(i)[1:] if r is not None and is_alias(r)] for i in sorted(involved)
    }
    held = {i for i in involved if any(_live(r) is not None for r in group.get(i)[1:])}
    settled = settle_aliases(candidates, held)
    carry_base = {i: _live(group.get(i).base) for i in involved}
    if renamed := _rename_losers(settled, candidates, group, carry_base):
        candidates.update(renamed)
        settled = settle_aliases(candidates, held)
    out = IdentityMerge()
    merges: dict[str, RecordMerge] = {}
    for i in sorted((involved | sectioned) - set(settled.chosen)):
        merge = _merge_own(i, group, rules, theirs_handle, whole_record, settled)
        if merge is not None:
            merges[i] = merge
    _carry_all(settled, group, carry_base, merges, out, rules, region)
    for i, merge in sorted(merges.items()):
        if i not in held and not _live(group.get(i).base):
            _complete(i, merge, settled, out)
        out.records.append(_finish(merge, group.get(i), validate))
    for i, alias in sorted(settled.chosen.items()):
        out.records.append(_alias_merge(i, alias, group.get(i), theirs_handle, out))
    _settling_notices(settled, out)
    _keep_fixed_fields(out, group, settled, rules, theirs_handle)
    return out


def _keep_fixed_fields(
    out: IdentityMerge,
    group: _Group,
    settled: Settled,
    rules: Mapping[str, str],
    theirs_handle: str,
) -> None:
    """The fixed fields ours holds (`id`, `added_by`) win in every record decided here,
    as in the ordinary merge (`refuse_fixed`): an alias, a survivor or a record brought
    back from a friend's combine or rename cannot change them, and each refusal is
    reported with its record. A record new to us that a rename made of one we hold is
    that record under another id: it keeps the `added_by` we hold for it."""
    renamed_from = {
        alias["alias_of"]: live
        for i, alias in settled.chosen.items()
        if alias.get("alias_reason") == "renamed"
        and (live := _live(group.get(i).ours)) is not None
        and "added_by" in live
    }
    for n, record in enumerate(out.records):
        record_id = record.label[len(FOLDER) :]
        versions = group.get(record_id)
        if versions.ours is None and record_id in renamed_from:
            held = {"added_by": renamed_from[record_id]["added_by"]}
            versions = AncestorOursTheirs(versions.base, held, versions.theirs)
        for k, target in enumerate(_targets(record)):
            refused = refuse_fixed(record.label, target, versions, rules, theirs_handle)
            if k == 0:
                record.notices += [x for x in refused if x not in record.notices]
        ours = group.get(record_id).ours
        if record.outcome == "updated" and ours is not None and _same(record.result, ours):
            out.records[n] = RecordMerge(
                record.label, "unchanged", record.result, None, record.notices
            )


def _has_sections(record: Record | None) -> bool:
    """Whether a contact's notes hold sections of combined records (notes.py)."""
    notes = record.get("notes") if record is not None else None
    return (
        isinstance(notes, str) and "From contacts/" in notes and bool(split_notes(notes).sections)
    )


def _rename_losers(
    settled: Settled,
    candidates: Mapping[str, list[Record]],
    group: _Group,
    carry_base: dict[str, Record | None],
) -> dict[str, list[Record]]:
    """Two renames of one record: the record the later rename made becomes an alias (a
    rename) of the one the earlier rename leads to, so the network keeps one record.

    Applies where the passed-over rename's record (followed along that side's own
    renames) is a record on that side that no base holds and no other alias names.
    Returns the new candidates; `carry_base` learns their base: the renamed record's.
    """
    found: dict[str, list[Record]] = {}
    for record_id, passed in sorted(settled.passed_over.items()):
        stands = settled.chosen.get(record_id)
        for alias in passed:
            if stands is None or alias.get("alias_reason") != "renamed":
                continue
            side = 1 if _same(alias, group.get(record_id).ours) else 2
            new_id = _renamed_to(alias["alias_of"], side, group)
            made = _live(group.get(new_id)[side])
            if made is None or group.get(new_id).base is not None or candidates.get(new_id):
                continue
            twin = {k: v for k, v in alias.items() if k != "added_by"}
            twin |= {"id": new_id, "alias_of": stands["alias_of"]}
            if "added_by" in made:
                twin["added_by"] = made["added_by"]
            found.setdefault(new_id, [twin])
            carry_base[new_id] = _live(group.get(record_id).base)
    return found


def _renamed_to(record_id: str, side: int, group: _Group) -> str:
    """Where a side's renames lead from `record_id` (side 1 ours, 2 theirs)."""
    for _ in range(64):  # a side's own aliases hold no cycle; the bound is for safety
        held = group.get(record_id)[side]
        if held is None or not is_alias(held) or held.get("alias_reason") != "renamed":
            break
        record_id = held["alias_of"]
    return record_id


def _content(record: Record | None, base: Record | None) -> Record | None:
    """A side's content of a record that stays: an alias side changed nothing of it."""
    return base if is_alias(record) else record


def _merge_own(
    record_id: str,
    group: _Group,
    rules: Mapping[str, str],
    theirs_handle: str,
    whole_record: bool,
    settled: Settled,
) -> RecordMerge | None:
    """The three-way merge of a record that is no alias in the result."""
    label = FOLDER + record_id
    versions = group.get(record_id)
    base = _live(versions.base)
    own: Versions = AncestorOursTheirs(
        base, _content(versions.ours, base), _content(versions.theirs, base)
    )
    if own == _NONE:
        undone = [a for a, _ in settled.undone if a["id"] == record_id]
        if not undone:
            return None  # a chain's end that no side holds: nothing to merge
        alias = undone[0]
        own = AncestorOursTheirs(None, None, {"id": record_id, "added_by": alias.get("added_by")})
    merge = merge_record(label, own, rules, theirs_handle=theirs_handle, whole_record=whole_record)
    conflict = merge.conflict
    if conflict is None or whole_record or not any(f.field == "notes" for f in conflict.fields):
        return merge
    texts = own.map(lambda r: r.get("notes") if r is not None else None)
    sources = {k for text in texts for k in split_notes(text).sections}
    origins = {
        k: notes
        for k in sorted(sources)
        if (b := _live(group.get(k).base)) is not None and isinstance(notes := b.get("notes"), str)
    }
    held = base.alternatives.get("notes", ()) if isinstance(base, VirtualBase) else ()
    alternatives = [n for n in held if isinstance(n, str)]
    notes = merge_notes_by_source(*texts, origins, alternatives)
    if notes is None:
        return merge
    for record in (conflict.merged, conflict.merged_theirs):
        if record is not None:
            record["notes"] = notes
    conflict.fields = [f for f in conflict.fields if f.field != "notes"]
    if conflict.fields or conflict.messages or conflict.merged is None:
        return merge
    return RecordMerge(label, "updated", conflict.merged, None, merge.notices)


def _complete(record_id: str, merge: RecordMerge, settled: Settled, out: IdentityMerge) -> None:
    """A record brought back to settle a cycle, which no side held any more: its fields
    came from the records carried into it; any required one still missing is filled."""
    undone = [a for a, _ in settled.undone if a["id"] == record_id]
    if not undone:
        return
    for record in _targets(merge):
        record.setdefault("kind", "other")
        record.setdefault("name", record_id)
        record.setdefault("updated", undone[0].get("alias_at"))
    message = (
        f"contacts/{record_id}: brought back to settle the cycle; its values come from "
        "the records combined into it"
    )
    out.notices.append(Notice(FOLDER + record_id, "brought-back", message))


def _own_key(record_id: str, chosen: Mapping[str, Record]) -> str:
    """Under which source a record's own notes sit in its survivor: its id, or after a
    rename the id it was renamed to (and so on along the chain)."""
    key = record_id
    path = alias_path(record_id, chosen)
    for here, there in zip(path, path[1:], strict=False):
        if key == here and chosen[here].get("alias_reason") == "renamed":
            key = there
    return key


def _carry_all(
    settled: Settled,
    group: _Group,
    carry_base: Mapping[str, Record | None],
    merges: dict[str, RecordMerge],
    out: IdentityMerge,
    rules: Mapping[str, str],
    region: str,
) -> None:
    """Carry each side's edits of a record that is now an alias into its survivor."""
    carries: dict[tuple[str, str], Record] = {}
    for record_id in settled.chosen:
        base = carry_base.get(record_id)
        for side in group.get(record_id)[1:]:
            edited = _live(side)
            if edited is not None and not _same(edited, base):
                carries[(record_id, canon(edited))] = edited
    for (record_id, _), edited in sorted(carries.items()):
        survivor = settled.survivor(record_id)
        label = FOLDER + survivor
        merge = merges.get(survivor)
        targets = _targets(merge)
        if merge is None or not targets:
            message = f"{label} is gone: the edits of contacts/{record_id} stay in its history"
            out.notices.append(Notice(label, "carry-lost", message))
            continue
        survivor_base = _live(group.get(survivor).base)
        for n, target in enumerate(targets):
            carried = carry_into_survivor(
                target,
                carry_base.get(record_id),
                edited,
                survivor_base=survivor_base,
                own_key=_own_key(record_id, settled.chosen),
                region=region,
                rules=rules,
            )
            target.clear()
            target.update(carried.record)
            if n == 0:
                _carry_notices(label, record_id, carried.not_taken, carried.collided, out)


def _targets(merge: RecordMerge | None) -> list[Record]:
    """The records a carry must reach: the merged one, or a conflict's best efforts."""
    if merge is None:
        return []
    if merge.conflict is not None:
        c = merge.conflict
        return [r for r in (c.merged, c.merged_theirs) if r is not None]
    return [merge.result] if merge.result is not None else []


def _carry_notices(
    label: str, record_id: str, not_taken: Any, collided: Any, out: IdentityMerge
) -> None:
    out.notices.append(
        Notice(label, "carried", f"{label}: carried the edits of contacts/{record_id}")
    )
    for choice in not_taken:
        (_, kept), (_, edit) = choice.values
        message = (
            f"{label}: kept {choice.field} {kept!r}; "
            f"the edit of contacts/{record_id} to {edit!r} is not taken"
        )
        out.notices.append(Notice(label, "not-taken", message))
    for source in collided:
        message = f"{label}: the notes from contacts/{source} were edited on both sides: both kept"
        out.notices.append(Notice(label, "notes-kept", message))


def _finish(merge: RecordMerge, versions: Versions, validate: Validate | None) -> RecordMerge:
    """The outcome relative to ours, and a check of content that neither side wrote."""
    if merge.conflict is not None or merge.outcome == "removed":
        return merge
    result, ours = merge.result, versions.ours
    if result is None:
        return RecordMerge(merge.label, "unchanged", None, None, merge.notices)
    if _same(result, ours):
        return RecordMerge(merge.label, "unchanged", result, None, merge.notices)
    messages: list[str] | None = [] if validate is None or _same(result, versions.theirs) else None
    if messages is None and validate is not None:
        messages = validate(merge.label, result)
    if messages:
        conflict = RecordConflict(
            merge.label, "invalid-after-merge", [], versions, result, messages
        )
        return RecordMerge(merge.label, "conflict", None, conflict, merge.notices)
    return RecordMerge(
        merge.label, "added" if ours is None else "updated", result, None, merge.notices
    )


def _alias_merge(
    record_id: str, alias: Record, versions: Versions, theirs_handle: str, out: IdentityMerge
) -> RecordMerge:
    label = FOLDER + record_id
    ours = versions.ours
    if _same(alias, ours):
        if versions.theirs is None and (is_alias(versions.base) or versions.base is None):
            message = f"{label}: kept; {theirs_handle} deleted it, but an alias is never removed"
            out.notices.append(Notice(label, "kept-alias", message))
        return RecordMerge(label, "unchanged", deepcopy(alias))
    reason = alias.get("alias_reason", "combined")
    word = "to" if reason == "renamed" else "into"
    message = f"{reason} {label} {word} contacts/{alias['alias_of']} (by {alias.get('alias_by')})"
    out.notices.append(Notice(label, str(reason), message))
    return RecordMerge(label, "added" if ours is None else "updated", deepcopy(alias))


def _settling_notices(settled: Settled, out: IdentityMerge) -> None:
    for alias, cycle in settled.undone:
        ids = " and ".join(f"contacts/{i}" for i in sorted(cycle))
        message = (
            f"{ids} were combined into each other at once: contacts/{alias['id']} stays, "
            f"the later alias (by {alias.get('alias_by')}, {alias.get('alias_at')}) is undone"
        )
        out.notices.append(Notice(FOLDER + alias["id"], "alias-undone", message))
    undone = {canon(alias) for alias, _ in settled.undone}
    for record_id, passed in sorted(settled.passed_over.items()):
        stands = settled.chosen.get(record_id)
        for alias in passed:
            if stands is None or canon(alias) in undone:
                continue
            message = (
                f"contacts/{record_id}: {alias.get('alias_by')}'s later combine into "
                f"contacts/{alias['alias_of']} is passed over; it stays combined into "
                f"contacts/{stands['alias_of']} (by {stands.get('alias_by')}), and "
                f"contacts/{alias['alias_of']} keeps what it took in"
            )
            out.notices.append(Notice(FOLDER + record_id, "alias-passed-over", message))
