"""Pure three-way merge of records and of record sets (DESIGN.md section 3).

A record is a parsed YAML dict. Three versions always travel in the order
base, ours, theirs (``AncestorOursTheirs``); ``None`` is an absent record and
``MISSING`` an absent field. Each field is merged by its schema's ``x-merge``
rule. Nothing here does I/O: results, conflicts and notices are data.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from copy import deepcopy
from dataclasses import dataclass, field
from typing import Any, Final

from .fieldmerge import (
    MISSING,
    AncestorOursTheirs,
    FieldConflict,
    VirtualBase,
    _alternatives,
    _as_list,
    _by_time,
    _canon,
    _canon_set,
    _get,
    _ident,
    _in_base,
    _keys,
    _lines,
    _merge_field,
    _public,
    _same,
)
from .records import FORMAT, is_newer, record_format
from .values import DEFAULT_REGION

Record = dict[str, Any]
Rules = Mapping[str, str]  # field name -> x-merge rule; fields not listed are "value"
Validate = Callable[[str, Record], list[str]]
OwnerDeleted = Callable[[str, Any], bool]  # (label, added_by) -> the owner deleted it too
CHOICES: Final = ("ours", "theirs", "base", "delete")
STRATEGIES: Final = ("ours", "theirs", "newest")


Versions = AncestorOursTheirs[Record | None]


@dataclass
class RecordConflict:
    """A record the merge cannot decide; ``merged`` is the best effort (ours where in doubt)."""

    label: str
    # both-modified | add-add | modify-delete | delete-modify | invalid-after-merge | newer-format
    reason: str
    fields: list[FieldConflict]
    versions: Versions
    merged: Record | None
    messages: list[str] = field(default_factory=list)  # why invalid-after-merge, who raced
    # The best effort with theirs in ours' place (conflicting fields and set order from theirs,
    # fixed fields still ours), so that "theirs" and "newest" resolve symmetrically.
    merged_theirs: Record | None = None

    def to_json(self) -> dict[str, Any]:
        fields = [
            {"field": f.field, "base": f.base, "ours": f.ours, "theirs": f.theirs}
            for f in self.fields
        ]
        return {
            "label": self.label,
            "reason": self.reason,
            "fields": fields,
            "messages": list(self.messages),
        }


@dataclass(frozen=True)
class Notice:
    label: str
    kind: str  # refused-fixed | kept-deleted
    message: str


@dataclass
class RecordMerge:
    label: str
    outcome: str  # relative to ours: unchanged | added | updated | removed | conflict
    result: Record | None  # None when removed or in conflict
    conflict: RecordConflict | None = None
    notices: list[Notice] = field(default_factory=list)


# --- records ---------------------------------------------------------------------


def _unfixed(record: Record, rules: Rules) -> Record:
    """A record without its fixed fields: a change to one is refused, so it cannot make
    a side count as modified (a refused change followed by a deletion stays a deletion
    of the record the user holds, with the author the user holds)."""
    return {k: v for k, v in record.items() if rules.get(k) != "fixed"}


def keep_fixed(record: Record | None, held: Record | None, rules: Rules) -> list[str]:
    """Put the fixed fields `held` has (the value already held wins: DESIGN section 3)
    back into `record`, in place; the names of those that `record` had changed."""
    if record is None or held is None:
        return []
    changed = []
    for key in (k for k, rule in rules.items() if rule == "fixed"):
        mine = _get(held, key)
        if mine is MISSING or _same(mine, _get(record, key)):
            continue
        record[key] = deepcopy(mine)
        changed.append(key)
    return changed


def _untouched(record: Record | None, base: Record | None, rules: Rules) -> bool:
    """Whether a side still holds the base, when the other side deleted the record.

    With several bases a field is untouched when it holds one of their values or,
    for sets and texts, a possible merge of them: every item (line) all bases
    share kept, none that no base has. (A later edit this misses is lost only if
    the record's own author deleted it; otherwise the record is kept anyway.)
    """
    if _same(record, base) or record is None or base is None:
        return _same(record, base)
    if not isinstance(base, VirtualBase):
        return _same(_unfixed(record, rules), _unfixed(base, rules))
    for key in _keys(record, base):
        if rules.get(key) == "fixed":
            continue
        value, held = _get(record, key), (_get(base, key), *_alternatives(base, key))
        if any(_same(value, h) for h in held):
            continue
        parts = [set(_lines(v)) if isinstance(v, str) else _canon_set(v) for v in (value, *held)]
        possible = set.intersection(*parts[1:]) <= parts[0] <= set.union(*parts[1:])
        if rules.get(key) not in ("set", "text") or not possible:
            return False
    return True


def _merge_fields(
    versions: Versions, rules: Rules, region: str = DEFAULT_REGION
) -> tuple[Record, list[FieldConflict]]:
    merged: Record = {}
    conflicts = []
    base, ours, theirs = versions
    for key in _keys(ours, theirs, base):
        values = versions.map(lambda r: _get(r, key))  # noqa: B023 (used at once)
        value, conflict = _merge_field(
            rules.get(key, "value"), key, values, _alternatives(base, key), _ident(key, region)
        )
        conflicts += [conflict] if conflict else []
        if value is not MISSING:
            merged[key] = value
    return deepcopy(merged), conflicts


# --- referrals: two status changes at once -------------------------------------------


def _changes_status(entry: Any) -> bool:
    """A history entry that moves the status (not a note that leaves it as it was)."""
    return (
        isinstance(entry, dict) and "status" in entry and entry.get("previous") != entry["status"]
    )


def _new_status_changes(side: Record | None, known: Iterable[Any]) -> list[dict[str, Any]]:
    """A side's status-changing history entries that no list in ``known`` holds."""
    held = {_canon(e) for entries in known for e in _as_list(entries) or []}
    entries = _as_list(_get(side, "history")) or []
    return [e for e in entries if _changes_status(e) and _canon(e) not in held]


def _status_race(versions: Versions, rules: Rules) -> tuple[list[Any], list[Any]] | None:
    """Status changes each side appended to a record's history since the base, when they
    race: made by different people or ending in different statuses (two friends accepting
    one "anyone" referral). The append rule alone would keep both entries and report
    nothing, since both sides set the same status."""
    if rules.get("history") != "append":
        return None
    base, ours, theirs = versions
    known = [_get(base, "history"), *_alternatives(base, "history")]
    mine = _new_status_changes(ours, [*known, _get(theirs, "history")])
    yours = _new_status_changes(theirs, [*known, _get(ours, "history")])
    if not mine or not yours:
        return None
    same_people = {_canon(e.get("by")) for e in mine} == {_canon(e.get("by")) for e in yours}
    if same_people and _same(_get(ours, "status"), _get(theirs, "status")):
        return None
    return mine, yours


def _race_message(mine: list[Any], yours: list[Any]) -> str:
    """Who raced, from each side's first change: "accepted concurrently by bob (ours) and ..."."""
    a, b = mine[0], yours[0]
    who_a, who_b = f"{a.get('by')} (ours)", f"{b.get('by')} (theirs)"
    keep = "keep one side's status and history (resolve --ours or --theirs)"
    if a["status"] == b["status"]:
        return f"{a['status']} concurrently by {who_a} and {who_b}: {keep}"
    return f"{a['status']} by {who_a} and {b['status']} by {who_b} concurrently: {keep}"


def _one_side_history(
    side: Record | None, other: Record | None, others_changes: list[Any]
) -> list[Any]:
    """``side``'s history plus the other side's new entries except its status changes, so
    that the history stays the story of one side's status."""
    dropped = {_canon(e) for e in others_changes}
    extra = [e for e in _as_list(_get(other, "history")) or [] if _canon(e) not in dropped]
    return _by_time([_get(side, "history"), extra])


def _race_conflicts(
    versions: Versions, fields: list[FieldConflict], keys: list[str]
) -> list[FieldConflict]:
    """``fields`` with conflicts on status and history (base, ours, theirs), in key order."""
    by_name = {f.field: f for f in fields}
    for name in ("status", "history"):
        by_name[name] = FieldConflict(name, *versions.map(lambda r: _public(_get(r, name))))  # noqa: B023
    order = {k: i for i, k in enumerate([*keys, "status", "history"])}
    return sorted(by_name.values(), key=lambda f: order.get(f.field, len(order)))


# --- records (continued) -------------------------------------------------------------


def refuse_fixed(
    label: str, record: Record, versions: Versions, rules: Rules, handle: str
) -> list[Notice]:
    """Put the fixed fields ours holds back into ``record``, in place, and report each
    change of one that arrived from ``handle`` (DESIGN section 3: the value already
    held wins). The one place this rule is applied to a merged record: the field merge,
    the identity merge (combines, renames, aliases) and the resolutions all come here
    or to ``keep_fixed``.

    The value refused is the record's own where it differs from ours, else theirs'; a
    value the base held already (ours changed it) is not reported."""
    notices = []
    base, ours, theirs = versions
    for key in (k for k, rule in rules.items() if rule == "fixed"):
        mine, held = _get(ours, key), _get(record, key)
        refused = held if not _same(mine, held) else _get(theirs, key)
        if mine is MISSING or _same(mine, refused):
            continue
        record[key] = deepcopy(mine)
        if not _in_base(refused, _get(base, key), _alternatives(base, key)):
            change = "removal" if refused is MISSING else f"change to {refused!r}"
            message = f"{label}: refused {handle}'s {change} of fixed field {key!r}; kept {mine!r}"
            notices.append(Notice(label, "refused-fixed", message))
    return notices


def merge_record(
    label: str,
    versions: AncestorOursTheirs[Record | None],
    rules: Rules,
    *,
    theirs_handle: str,
    whole_record: bool = False,
    validate: Validate | None = None,
    owner_deleted: OwnerDeleted | None = None,
    region: str = DEFAULT_REGION,
) -> RecordMerge:
    """Merge one record by the table of DESIGN.md section 3.

    ``validate`` checks each merged record that is neither ours nor theirs (the
    caller checks a friend's records before they get here). A friend's deletion of
    a record someone else added applies only if ``owner_deleted(label, added_by)``
    says that the owner deleted it too (a deletion relayed through a friend).
    ``region`` (ISO 3166 alpha-2, the owner's) reads phone numbers written without a
    country code when the items of ``phones`` are compared.
    """
    base, ours, theirs = versions
    if _same(ours, theirs):
        return RecordMerge(label, "unchanged", deepcopy(ours))
    # With both sides present, several bases are left to the field merge (it knows their values).
    single = not isinstance(base, VirtualBase)
    ours_kept = _untouched(ours, base, rules) if theirs is None else single and _same(ours, base)
    theirs_kept = (
        _untouched(theirs, base, rules) if ours is None else single and _same(theirs, base)
    )
    if theirs_kept and not ours_kept:
        return RecordMerge(label, "unchanged", deepcopy(ours))
    if ours_kept and not theirs_kept and ours is None:
        return RecordMerge(label, "added", deepcopy(theirs))
    if ours_kept and not theirs_kept and theirs is None:
        # the author we hold: a change to it in the base was refused (fixed field)
        added_by = _get(ours, "added_by")
        added_by = _get(base, "added_by") if added_by is MISSING else added_by
        if added_by == theirs_handle or (
            owner_deleted is not None and owner_deleted(label, added_by)
        ):
            return RecordMerge(label, "removed", None)
        message = f"{label}: kept; {theirs_handle} deleted it, but {_public(added_by)} added it"
        return RecordMerge(
            label, "unchanged", deepcopy(ours), None, [Notice(label, "kept-deleted", message)]
        )
    if ours is None or theirs is None:
        reason = "delete-modify" if ours is None else "modify-delete"
        return RecordMerge(
            label, "conflict", None, RecordConflict(label, reason, [], versions, None)
        )
    if not ours_kept and any(is_newer(v) for v in versions):
        # Fields of a format this jobshare does not know have no rule here: merging them
        # field by field could merge half of the record. Either side whole, or upgrade.
        found = max(record_format(v) for v in versions if v is not None)
        message = (
            f"{label}: written by a newer jobshare (record format {found}; this jobshare knows "
            f"formats up to {FORMAT}): upgrade jobshare to merge it, or keep one side whole"
        )
        conflict = RecordConflict(
            label, "newer-format", [], versions, deepcopy(ours), [message], deepcopy(theirs)
        )
        return RecordMerge(label, "conflict", None, conflict)
    reason = "add-add" if base is None else "both-modified"
    mirror: Record | None = None  # see RecordConflict.merged_theirs
    race = None if ours_kept else _status_race(versions, rules)
    if ours_kept:  # only theirs changed: take it, but not its changes to fixed fields
        merged, fields = deepcopy(theirs), []
    elif whole_record:
        merged, mirror = deepcopy(ours), deepcopy(theirs)
        keys = [k for k in _keys(ours, theirs, base) if not _same(_get(ours, k), _get(theirs, k))]
        fields = [FieldConflict(k, *versions.map(lambda r: _public(_get(r, k)))) for k in keys]  # noqa: B023
    else:
        merged, fields = _merge_fields(versions, rules, region)
        if fields or race:
            mirror = _merge_fields(AncestorOursTheirs(base, theirs, ours), rules, region)[0]
    if race is not None and mirror is not None:
        # Two status changes raced (two friends accepted at once): a conflict on status and
        # history, each best effort keeping one side's story whole and the other's notes.
        fields = _race_conflicts(versions, fields, _keys(ours, theirs, base))
        if not whole_record:
            for record, side, other, dropped in (
                (merged, ours, theirs, race[1]),
                (mirror, theirs, ours, race[0]),
            ):
                record["history"] = deepcopy(_one_side_history(side, other, dropped))
                if (status := _get(side, "status")) is not MISSING:
                    record["status"] = deepcopy(status)
    if mirror is not None:  # our fixed fields stay, whoever resolves the conflict
        refuse_fixed(label, mirror, versions, rules, theirs_handle)
    notices = refuse_fixed(label, merged, versions, rules, theirs_handle)
    if fields:  # a whole-record conflict lists the fixed fields itself
        messages = [_race_message(*race)] if race is not None else []
        conflict = RecordConflict(label, reason, fields, versions, merged, messages, mirror)
        return RecordMerge(label, "conflict", None, conflict, [] if whole_record else notices)
    if _same(merged, ours):
        return RecordMerge(label, "unchanged", merged, None, notices)
    if validate is not None and not _same(merged, theirs) and (messages := validate(label, merged)):
        conflict = RecordConflict(label, "invalid-after-merge", [], versions, merged, messages)
        return RecordMerge(label, "conflict", None, conflict, notices)
    return RecordMerge(label, "updated", merged, None, notices)


# --- record sets -------------------------------------------------------------------


@dataclass
class MergeResult:
    """The merge of a set of records, sorted by label."""

    records: list[RecordMerge] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.records = sorted(self.records, key=lambda r: r.label)

    @property
    def conflicts(self) -> list[RecordConflict]:
        return [r.conflict for r in self.records if r.conflict is not None]

    @property
    def notices(self) -> list[Notice]:
        return [n for r in self.records for n in r.notices]

    @property
    def changes(self) -> dict[str, Record | None]:
        """What to write: new content by label, None for a record to remove."""
        return {
            r.label: r.result for r in self.records if r.outcome in ("added", "updated", "removed")
        }

    def counts(self) -> dict[str, int]:
        outcomes = [r.outcome for r in self.records]
        counts = {k: outcomes.count(k) for k in ("added", "updated", "removed")}
        return counts | {"conflicts": outcomes.count("conflict")}

    def summary(self, friend: str) -> str:
        """One line such as "Merge bob: 12 added, 3 updated, 1 removed"."""
        counts = self.counts()
        parts = [f"{n} {k}" for k, n in counts.items() if n]
        if counts["conflicts"] == 1:
            parts[-1] = "1 conflict"
        return f"Merge {friend}: {', '.join(parts) or 'nothing new'}"


def merge_records(
    items: Iterable[tuple[str, AncestorOursTheirs[Record | None]]],
    rules_for: Callable[[str], Rules],
    *,
    theirs_handle: str,
    whole_record: bool = False,
    validate: Validate | None = None,
    owner_deleted: OwnerDeleted | None = None,
    region: str = DEFAULT_REGION,
) -> MergeResult:
    """Merge records given as (label, versions); ``rules_for(label)`` gives its folder's
    rules; ``region`` as in ``merge_record``."""
    return MergeResult(
        [
            merge_record(
                label,
                v,
                rules_for(label),
                theirs_handle=theirs_handle,
                whole_record=whole_record,
                validate=validate,
                owner_deleted=owner_deleted,
                region=region,
            )
            for label, v in items
        ]
    )
