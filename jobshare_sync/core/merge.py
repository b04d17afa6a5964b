"""Pure three-way merge of records and of record sets (DESIGN.md section 3).

A record is a parsed YAML dict. Three versions always travel in the order
base, ours, theirs (``AncestorOursTheirs``); ``None`` is an absent record and
``MISSING`` an absent field. Each field is merged by its schema's ``x-merge``
rule. Nothing here does I/O: results, conflicts and notices are data.
"""

from __future__ import annotations

import difflib
import enum
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from copy import deepcopy
from dataclasses import dataclass, field
from typing import Any, Final, Generic, NamedTuple, TypeVar

from .records import FORMAT, is_newer, record_format
from .values import DEFAULT_REGION, instant_key, item_key

T = TypeVar("T")
U = TypeVar("U")
Record = dict[str, Any]
Rules = Mapping[str, str]  # field name -> x-merge rule; fields not listed are "value"
Ident = Callable[[Any], str]  # an item of a set -> the text two spellings of it share
Validate = Callable[[str, Record], list[str]]
OwnerDeleted = Callable[[str, Any], bool]  # (label, added_by) -> the owner deleted it too
RULES: Final = ("value", "set", "text", "max", "append", "fixed")
CHOICES: Final = ("ours", "theirs", "base", "delete")
STRATEGIES: Final = ("ours", "theirs", "newest")


class _Missing(enum.Enum):
    MISSING = "MISSING"

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Final = _Missing.MISSING
"""An absent field while merging; public dataclasses show it as None."""


class AncestorOursTheirs(NamedTuple, Generic[T]):
    """Three versions of one thing, always in this order."""

    base: T
    ours: T
    theirs: T

    def map(self, f: Callable[[T], U]) -> AncestorOursTheirs[U]:
        return AncestorOursTheirs(f(self.base), f(self.ours), f(self.theirs))


Versions = AncestorOursTheirs[Record | None]


@dataclass(frozen=True)
class FieldConflict:
    field: str
    base: Any
    ours: Any
    theirs: Any


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


class VirtualBase(dict[str, Any]):
    """A base made of several merge bases (see ``virtual_base``): a plain dict that also
    keeps, per field the bases disagree on, every value they held (``alternatives``)."""

    def __init__(self, data: Mapping[str, Any], alternatives: Mapping[str, tuple[Any, ...]]):
        super().__init__(data)
        self.alternatives = dict(alternatives)


# --- values ----------------------------------------------------------------------


def _same(a: Any, b: Any) -> bool:
    """Equality that, unlike ==, tells 1 from 1.0 and True: YAML must round-trip."""
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return isinstance(b, list) and len(a) == len(b) and all(map(_same, a, b))
    return type(a) is type(b) and (a == b or (a != a and b != b))  # NaN equals itself here


def _canon(value: Any) -> str:
    """Canonical text of a value: a hashable identity and a deterministic order."""
    try:
        return json.dumps(value, sort_keys=True, ensure_ascii=False)
    except (TypeError, ValueError):  # e.g. mixed key types: repr is deterministic too
        return repr(value)


def _public(value: Any) -> Any:
    return None if value is MISSING else value


def _get(record: Mapping[str, Any] | None, key: str) -> Any:
    return MISSING if record is None else record.get(key, MISSING)


def _alternatives(base: Mapping[str, Any] | None, key: str) -> tuple[Any, ...]:
    return base.alternatives.get(key, ()) if isinstance(base, VirtualBase) else ()


def _in_base(value: Any, base: Any, alternatives: tuple[Any, ...]) -> bool:
    return _same(value, base) or any(_same(value, a) for a in alternatives)


def _unique(items: Iterable[Any], ident: Ident = _canon) -> list[Any]:
    """The first of each item (by `ident`), in order."""
    seen: dict[str, Any] = {}
    for item in items:
        seen.setdefault(ident(item), item)
    return list(seen.values())


def _ident(field: str, region: str) -> Ident:
    """How the items of a set field are told apart: by the key of `values.item_key`
    (emails and tags without case, phones as numbers), else as they are."""
    key = item_key(field, region)
    if key is None:
        return _canon
    found = key
    return lambda item: _canon(found(item))


def _as_list(value: Any) -> list[Any] | None:
    """MISSING as [], a list as itself, anything else None (not mergeable as a list)."""
    return [] if value is MISSING else value if isinstance(value, list) else None


def _canon_set(value: Any, ident: Ident = _canon) -> set[str]:
    return {ident(x) for x in _as_list(value) or []}


def _empty_to_missing(result: Any, values: AncestorOursTheirs[Any]) -> Any:
    return MISSING if not result and MISSING in (values.ours, values.theirs) else result


def _keys(*records: Mapping[str, Any] | None) -> list[str]:
    """Keys of all records in first-seen order."""
    return list(dict.fromkeys(k for r in records if r is not None for k in r))


# --- fields ------------------------------------------------------------------------


def _one_sided(values: AncestorOursTheirs[Any], alternatives: tuple[Any, ...]) -> tuple[bool, Any]:
    """(True, value) when at most one side changed the field, else (False, None)."""
    base, ours, theirs = values
    if _same(ours, theirs):
        return True, ours
    ours_kept, theirs_kept = (_in_base(v, base, alternatives) for v in (ours, theirs))
    if ours_kept != theirs_kept:
        return True, theirs if ours_kept else ours
    return False, None


def _merge_set(values: AncestorOursTheirs[Any], ident: Ident = _canon) -> Any:
    base, ours, theirs = values.map(lambda v: _canon_set(v, ident))
    # An item survives unless it was in base and a side dropped it; new items come from both.
    # Items compare by `ident`: "Remote" in ours is "remote" in base, respelled.
    kept = [x for x in _as_list(values.ours) or [] if ident(x) not in base or ident(x) in theirs]
    new = [x for x in _as_list(values.theirs) or [] if ident(x) not in base | ours]
    return _empty_to_missing(_unique(kept + new, ident), values)


def _by_time(lists: Iterable[Any]) -> list[Any]:
    """The union of log entries, ordered by the instant of their "at" (RFC 3339, offsets
    and fractions honoured), then canonically."""

    def when(entry: Any) -> tuple[str, str, str]:
        at = entry.get("at") if isinstance(entry, dict) else None
        return (instant_key(at) or "", at if isinstance(at, str) else "", _canon(entry))

    return sorted(_unique(x for v in lists for x in _as_list(v) or []), key=when)


def _rank(value: Any) -> tuple[int, Any]:
    """An order for the `max` rule: date-times as instants, above anything else."""
    if value is MISSING or value is None:
        return (0, "")
    if isinstance(value, str):
        instant = instant_key(value)
        return (4, instant) if instant is not None else (1, value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return (2, value)
    return (3, _canon(value))  # odd types: any deterministic order will do


def _merge_max(ours: Any, theirs: Any) -> Any:
    o, t = _rank(ours), _rank(theirs)
    if o == t:  # e.g. 1 and 1.0: break the tie symmetrically
        return ours if _canon(ours) >= _canon(theirs) else theirs
    return ours if o > t else theirs


def _merge_field(
    rule: str,
    name: str,
    values: AncestorOursTheirs[Any],
    alternatives: tuple[Any, ...] = (),
    ident: Ident = _canon,
) -> tuple[Any, FieldConflict | None]:
    base, ours, theirs = values
    if rule not in RULES:
        raise ValueError(f"unknown x-merge rule {rule!r} for field {name!r}")
    lists = all(_as_list(v) is not None for v in values)
    if rule == "fixed":  # set once: ours stays; theirs only fills a gap
        return (theirs if ours is MISSING else ours), None
    if rule == "max":
        return _merge_max(ours, theirs), None
    if rule == "append" and lists and not _same(ours, theirs):
        return _empty_to_missing(_by_time(values), values), None
    if rule == "set" and lists:
        same = _canon_set(ours, ident) == _canon_set(theirs, ident)
        if same and (ours is MISSING) == (theirs is MISSING):
            return ours, None  # the same set: keep our order (and spelling), whatever the base
        # Several bases: their union is the base value, so removals made after a criss-cross
        # still apply; their alternatives would resurrect removed items.
        done, value = _one_sided(values, ())
        return (value if done else _merge_set(values, ident)), None
    done, value = _one_sided(values, alternatives)
    if done:
        return value, None
    # Both changed. (With several bases, each side may hold another base's value: a conflict.)
    texts = _is_text(ours) and _is_text(theirs)
    if rule == "text" and texts and not _in_base(ours, base, alternatives):
        for text in (t for t in (base, *alternatives) if _is_text(t)):  # first base that merges
            merged = merge_text(*AncestorOursTheirs(text, ours, theirs).map(_text))
            if merged is not None:
                return _empty_to_missing(merged, values), None
    return ours, FieldConflict(name, *values.map(_public))


def merge_field(
    rule: str, field: str, values: AncestorOursTheirs[Any], region: str = DEFAULT_REGION
) -> tuple[Any, FieldConflict | None]:
    """Merge one field by its x-merge rule.

    Returns the merged value (MISSING: remove the key) and a conflict or None; on
    a conflict the value is ours. A value that does not suit its rule (a "set"
    that is no list) is merged as "value". The items of a set compare by their key
    (`values.item_key`; `region` for phone numbers without a country code).
    """
    return _merge_field(rule, field, values, (), _ident(field, region))


def _is_text(value: Any) -> bool:
    return value is MISSING or isinstance(value, str)


def _text(value: Any) -> str:
    return "" if value is MISSING else str(value)


def _lines(text: str) -> list[str]:
    """Split on "\\n" only (as git does), keeping the ends: joining gives the text back."""
    parts = text.split("\n")
    return [p + "\n" for p in parts[:-1]] + ([parts[-1]] if parts[-1] else [])


def merge_text(base: str, ours: str, theirs: str) -> str | None:
    """Line-based three-way merge (diff3); None when the two sides' edits collide.

    As in git, edits that overlap or touch the same or adjacent base lines
    collide unless both sides made them identically; all other edits apply.
    """
    base_lines = _lines(base)
    edits: list[tuple[int, int, int, list[str]]] = []  # base start, base end, side, new lines
    for side, text in enumerate((ours, theirs)):
        lines = _lines(text)
        matcher = difflib.SequenceMatcher(None, base_lines, lines, autojunk=False)
        for tag, i1, i2, j1, j2 in matcher.get_opcodes():
            if tag != "equal":
                edits.append((i1, i2, side, lines[j1:j2]))
    edits.sort(key=lambda e: e[:3])
    out: list[str] = []
    pos = i = 0
    while i < len(edits):
        low, high, j = edits[i][0], edits[i][1], i + 1
        while j < len(edits) and edits[j][0] <= high:  # overlapping or touching: one cluster
            high, j = max(high, edits[j][1]), j + 1
        versions = []  # each side's text for base lines low..high
        for side in (0, 1):
            if mine := [e for e in edits[i:j] if e[2] == side]:
                region: list[str] = []
                at = low
                for start, end, _, new in mine:
                    region, at = region + base_lines[at:start] + new, end
                versions.append(region + base_lines[at:high])
        if len(versions) == 2 and versions[0] != versions[1]:
            return None
        out += base_lines[pos:low] + versions[0]
        pos, i = high, j
    return "".join(out + base_lines[pos:])


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


def _keep_fixed(
    label: str, record: Record, versions: Versions, rules: Rules, handle: str
) -> list[Notice]:
    """Put ours' fixed fields back into ``record``; report those theirs had changed."""
    notices = []
    base, ours, theirs = versions
    for key in (k for k, rule in rules.items() if rule == "fixed"):
        mine, refused = _get(ours, key), _get(theirs, key)
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
        _keep_fixed(label, mirror, versions, rules, theirs_handle)
    notices = _keep_fixed(label, merged, versions, rules, theirs_handle)
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


# --- several merge bases -----------------------------------------------------------


def virtual_base(
    label: str, bases: Sequence[Record | None], rules: Rules, region: str = DEFAULT_REGION
) -> Record | None:
    """One base for a record from several merge bases (criss-cross history).

    git's recursive strategy merges the bases against their own ancestor, which
    is not at hand here. Instead: a record present in any base is present (it
    must not look added by both sides); a field the bases agree on keeps its
    value; otherwise "set" takes their union (removals after the criss-cross
    still apply), "append" the union, "max" the maximum, other rules the most
    common value (ties: canonically largest). The ``VirtualBase`` returned also
    keeps every value the bases held: a side holding any of them counts as
    unchanged for "value", "text" and "fixed" fields. So edits made after a
    criss-cross merge cleanly, while two sides that changed a field differently,
    or hold two different base values, still conflict. Order of ``bases`` is
    irrelevant.
    """
    present = sorted((b for b in bases if b is not None), key=_canon)
    if not present:
        return None
    if all(_same(b, present[0]) and type(b) is dict for b in present) or len(present) == 1:
        return deepcopy(present[0])
    data: Record = {}
    alternatives: dict[str, tuple[Any, ...]] = {}
    for key in _keys(*present):
        held = [_get(b, key) for b in present]
        distinct = _unique(held)
        rule = rules.get(key, "value")
        value = distinct[0] if len(distinct) == 1 else _fold(rule, held, _ident(key, region))
        if (
            len(
                candidates := _unique(
                    distinct + [a for b in present for a in _alternatives(b, key)]
                )
            )
            > 1
        ):
            alternatives[key] = tuple(deepcopy(candidates))
        if value is not MISSING:
            data[key] = deepcopy(value)
    return VirtualBase(data, alternatives)


def deleted_in_bases(
    bases: Sequence[Record | None], ancestors: Callable[[int, int], list[Record | None]]
) -> bool:
    """Whether several merge bases, some holding a record and some not, amount to its
    deletion, so that the virtual base has no record.

    A base without the record deleted it or never had it. ``ancestors(i, j)`` gives the
    versions that the common ancestors of bases ``i`` (without it) and ``j`` (with it)
    hold, and tells which, as git's recursive merge of the bases would: when base ``i``'s
    history held the very version that base ``j`` still holds, ``i`` deleted it and ``j``
    did not touch it since. A side that still lacks the record then holds the base, and
    the other side's later edit (or its choice to keep the record) is taken, not met as a
    conflict. Otherwise (added after the bases parted, or changed since) ``virtual_base``
    keeps the record.
    """
    present = {j: b for j, b in enumerate(bases) if b is not None}
    absent = [i for i, b in enumerate(bases) if b is None]
    if not present or not absent:
        return False
    return all(
        any(old is not None and _same(old, held) for old in ancestors(i, j))
        for i in absent
        for j, held in present.items()
    )


def _fold(rule: str, held: list[Any], ident: Ident = _canon) -> Any:
    """The virtual base value of a field the bases disagree on."""
    lists = all(_as_list(v) is not None for v in held)
    items = (x for v in held for x in _as_list(v) or [])
    if rule == "set" and lists and (union := _unique(items, ident)):
        return union
    if rule == "append" and lists and (entries := _by_time(held)):
        return entries
    if rule == "max":
        result = held[0]
        for value in held[1:]:
            result = _merge_max(result, value)
        return result

    def weight(value: Any) -> tuple[int, bool, str]:
        return (sum(_same(value, h) for h in held), value is not MISSING, _canon(value))

    return max(_unique(held), key=weight)


def merge_bases(
    bases: Sequence[Mapping[str, Record | None]], rules_for: Callable[[str], Rules]
) -> dict[str, Record | None]:
    """``virtual_base`` for every label of several base trees (label -> record or None)."""
    return {
        label: virtual_base(label, [b.get(label) for b in bases], rules_for(label))
        for label in _keys(*bases)
    }


# --- resolving -------------------------------------------------------------------


def resolve_conflict(
    conflict: RecordConflict,
    choice: str,
    fields: Iterable[str] | None = None,
    rules: Rules | None = None,
) -> Record | None:
    """A record resolved by taking one side: "ours", "theirs", "base" or "delete".

    Without ``fields``, the whole record of that side (None if absent there).
    With ``fields``, the best-effort merge with just those fields from that side
    (a field absent there, or "delete", removes the key). With ``rules``, the fixed
    fields ours holds stay whatever the side chosen (``keep_fixed``).
    """
    result = _resolve(conflict, choice, fields)
    if rules is not None:
        keep_fixed(result, conflict.versions.ours, rules)
    return result


def _resolve(conflict: RecordConflict, choice: str, fields: Iterable[str] | None) -> Record | None:
    if choice not in CHOICES:
        raise ValueError(f"unknown choice {choice!r}: use ours, theirs, base or delete")
    versions = conflict.versions
    side = None if choice == "delete" else getattr(versions, choice)
    if fields is None:
        return deepcopy(side)
    start = conflict.merged or next(
        (r for r in (versions.ours, versions.theirs, versions.base) if r), {}
    )
    result = deepcopy(start)
    for name in fields:
        if (value := _get(side, name)) is MISSING:
            result.pop(name, None)
        else:
            result[name] = deepcopy(value)
    return result


def resolve_by_strategy(
    conflict: RecordConflict, strategy: str, rules: Rules | None = None
) -> Record | None:
    """Resolve a conflict with "ours", "theirs" or "newest" (the later ``updated``).

    Field conflicts take the conflicting fields from that side, other conflicts
    the whole record. "newest" keeps a record that one side deleted and breaks
    ties by the canonically larger record, so that two friends resolving the
    same conflict from opposite sides reach the same record. With ``rules``, the
    fixed fields ours holds stay (``keep_fixed``).
    """
    result = _by_strategy(conflict, strategy)
    if rules is not None:
        keep_fixed(result, conflict.versions.ours, rules)
    return result


def _by_strategy(conflict: RecordConflict, strategy: str) -> Record | None:
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown strategy {strategy!r}: use ours, theirs or newest")
    side = _newest(conflict.versions) if strategy == "newest" else strategy
    if conflict.reason not in ("both-modified", "add-add"):
        return resolve_conflict(conflict, side)
    if side == "ours":
        return deepcopy(conflict.merged)
    if conflict.merged_theirs is not None:
        return deepcopy(conflict.merged_theirs)
    return resolve_conflict(conflict, "theirs", [f.field for f in conflict.fields])


def _newest(versions: Versions) -> str:
    _, ours, theirs = versions
    if ours is None or theirs is None:  # keep the record: nothing is lost
        return "theirs" if ours is None else "ours"
    ours_time, theirs_time = _rank(_get(ours, "updated")), _rank(_get(theirs, "updated"))
    if ours_time != theirs_time:
        return "ours" if ours_time > theirs_time else "theirs"
    return "ours" if _canon(ours) >= _canon(theirs) else "theirs"
