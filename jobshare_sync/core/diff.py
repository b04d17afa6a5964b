"""Record-level differences between two versions of a contact or referral.

Pure functions over parsed records (plain dicts): no I/O, no git, no YAML.

A record changes field by field. Each top-level field carries an ``x-merge``
rule from its schema (see ``Rules``) that also decides how its change reads:

- ``set`` fields (lists) list the items added and removed;
- ``text`` fields carry a line diff;
- ``append`` fields list the new entries in ``added``;
- anything else (``value``, ``max``, ``fixed``) is one old -> new pair, except
  that a mapping on both sides is followed down to the leaves that changed,
  each reported under a dotted path such as ``budget.amount``.

Absent versus null: ``FieldChange.old`` / ``.new`` are None when the key is
absent, as renderers and JSON expect. The rare explicit null (YAML ``~``) is
marked by ``old_null`` / ``new_null``, so that ``apply_diff`` can tell
"remove the key" from "set it to null" and rebuild a record exactly.
"""

from __future__ import annotations

import copy
import difflib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "FOLDERS",
    "FieldChange",
    "RecordDiff",
    "Rules",
    "apply_diff",
    "diff_record",
    "diff_records",
    "diff_stat",
    "text_line_diff",
]

Rules = Mapping[str, str]
"""Field name -> x-merge rule; fields not listed are "value". Order = schema order."""

Record = dict[str, Any]

FOLDERS = ("contacts", "referrals")
CHANGES = ("added", "removed", "modified")

# Rules whose changes list items in ``added`` / ``removed``.
_ITEM_RULES = frozenset({"set", "append"})


class _Absent:
    """Marks a missing key while diffing; never leaves this module."""

    def __repr__(self) -> str:
        return "<absent>"


_ABSENT: Any = _Absent()


@dataclass(frozen=True)
class FieldChange:
    """How one field (or one nested leaf, by dotted path) changed."""

    field: str
    old: Any
    new: Any
    added: tuple[Any, ...] = ()
    removed: tuple[Any, ...] = ()
    lines: tuple[str, ...] = ()
    # The field's x-merge rule; decides which keys ``to_json`` carries.
    rule: str = "value"
    # Keys from the record root to the leaf. Empty means ``(field,)``; kept
    # apart from the dotted ``field`` so that a key containing "." survives.
    path: tuple[str, ...] = ()
    # True when old/new is an explicit null rather than an absent key.
    old_null: bool = False
    new_null: bool = False

    @property
    def keys(self) -> tuple[str, ...]:
        """The path from the record root to the changed value."""
        return self.path or (self.field,)

    def to_json(self) -> dict[str, Any]:
        """``{"field", "old", "new"}``, plus ``added`` / ``removed`` for set and append fields."""
        out: dict[str, Any] = {"field": self.field, "old": self.old, "new": self.new}
        if self.rule in _ITEM_RULES:
            out["added"] = list(self.added)
            out["removed"] = list(self.removed)
        return out


@dataclass(frozen=True)
class RecordDiff:
    """How one record changed: added, removed, or modified field by field."""

    label: str
    change: str
    old: Record | None
    new: Record | None
    fields: tuple[FieldChange, ...]

    @property
    def folder(self) -> str:
        """``contacts`` or ``referrals`` (the part of the label before the slash)."""
        folder, _, _ = self.label.partition("/")
        return folder

    @property
    def id(self) -> str:
        """The record's id (the part of the label after the slash)."""
        _, _, record_id = self.label.partition("/")
        return record_id

    @property
    def name(self) -> str:
        """The record's ``name`` (contacts) or ``title`` (referrals), newest first."""
        record = self.new if self.new is not None else self.old
        if not record:
            return ""
        value = record.get("name") or record.get("title")
        return "" if value is None else str(value)

    def to_json(self) -> dict[str, Any]:
        """``{"label", "change", "fields": [...]}``."""
        return {
            "label": self.label,
            "change": self.change,
            "fields": [change.to_json() for change in self.fields],
        }


def diff_record(
    label: str, old: Record | None, new: Record | None, rules: Rules
) -> RecordDiff | None:
    """Compare two versions of one record; None when they are equal (or both None).

    Example: ``diff_record("contacts/acme-7k2q", old, new, {"tags": "set"})``.
    """
    if old is None and new is None:
        return None
    if old is None:
        assert new is not None
        change = "added"
        keys = list(new)
    elif new is None:
        change = "removed"
        keys = list(old)
    else:
        if _same(old, new):
            return None
        change = "modified"
        keys = list(old) + [key for key in new if key not in old]
    before = old or {}
    after = new or {}
    changes: list[FieldChange] = []
    for key in _ordered(keys, rules):
        changes.extend(
            _diff_field(
                key, before.get(key, _ABSENT), after.get(key, _ABSENT), rules.get(key, "value")
            )
        )
    return RecordDiff(label=label, change=change, old=old, new=new, fields=tuple(changes))


def diff_records(
    pairs: Iterable[tuple[str, Record | None, Record | None]],
    rules_for: Callable[[str], Rules],
) -> list[RecordDiff]:
    """Diff many ``(label, old, new)`` pairs; equal ones are dropped, the rest sorted by label.

    ``rules_for`` is called with the label's folder (``"contacts"``), once per folder.
    """
    rules_by_folder: dict[str, Rules] = {}
    diffs: list[RecordDiff] = []
    for label, old, new in pairs:
        folder = label.partition("/")[0]
        if folder not in rules_by_folder:
            rules_by_folder[folder] = rules_for(folder)
        diff = diff_record(label, old, new, rules_by_folder[folder])
        if diff is not None:
            diffs.append(diff)
    diffs.sort(key=lambda diff: diff.label)
    return diffs


def apply_diff(old: Record | None, diff: RecordDiff | None) -> Record | None:
    """Replay ``diff`` on ``old``: ``apply_diff(a, diff_record(l, a, b, r)) == b``.

    Uses only ``diff.change`` and ``diff.fields``; ``old`` is not modified. A None
    diff (what ``diff_record`` returns for equal records) gives a copy of ``old``.
    """
    if diff is None:
        return copy.deepcopy(old)
    if diff.change == "removed":
        return None
    if diff.change == "added":
        record: Record = {}
    elif diff.change == "modified":
        record = copy.deepcopy(old) if old is not None else {}
    else:
        raise ValueError(f"unknown change {diff.change!r} in the diff of {diff.label}")
    for change in diff.fields:
        _apply_change(record, change)
    return record


def diff_stat(diffs: Iterable[RecordDiff]) -> dict[str, dict[str, int]]:
    """Count added, removed and modified records per folder; both folders always present."""
    stat = {folder: dict.fromkeys(CHANGES, 0) for folder in FOLDERS}
    for diff in diffs:
        counts = stat.setdefault(diff.folder, dict.fromkeys(CHANGES, 0))
        counts[diff.change] = counts.get(diff.change, 0) + 1
    return stat


def text_line_diff(old: str, new: str, context: int = 2) -> tuple[str, ...]:
    """A line diff of two texts: lines prefixed ``"+ "``, ``"- "`` or ``"  "``.

    Only ``context`` unchanged lines are kept around each change, and ``"…"``
    stands between hunks. Lines are split on "\\n" only, like git, so other
    Unicode line separators stay inside their line.
    """
    if old == new:
        return ()
    # Keep line endings while matching so that a change to the final newline
    # still shows up; strip them for display.
    old_lines = _split_lines(old)
    new_lines = _split_lines(new)
    matcher = difflib.SequenceMatcher(a=old_lines, b=new_lines, autojunk=False)
    out: list[str] = []
    for group in matcher.get_grouped_opcodes(context):
        if out:
            out.append("…")
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                out.extend("  " + line.rstrip("\n") for line in old_lines[i1:i2])
                continue
            out.extend("- " + line.rstrip("\n") for line in old_lines[i1:i2])
            out.extend("+ " + line.rstrip("\n") for line in new_lines[j1:j2])
    return tuple(out)


# -- internals ---------------------------------------------------------------


def _diff_field(key: str, old: Any, new: Any, rule: str) -> list[FieldChange]:
    """The changes of one top-level field; empty when it did not change."""
    if _same(old, new):
        return []
    if rule in _ITEM_RULES:
        # Absent counts as an empty list, so a new field lists all its items.
        old_items = old if isinstance(old, list) else []
        new_items = new if isinstance(new, list) else []
        if (old is _ABSENT or isinstance(old, list)) and (new is _ABSENT or isinstance(new, list)):
            return [
                _change(
                    (key,),
                    old,
                    new,
                    rule,
                    added=tuple(item for item in new_items if not _contains(old_items, item)),
                    removed=tuple(item for item in old_items if not _contains(new_items, item)),
                )
            ]
        return [_change((key,), old, new, rule)]
    if rule == "text":
        if isinstance(old, str | _Absent) and isinstance(new, str | _Absent):
            old_text = old if isinstance(old, str) else ""
            new_text = new if isinstance(new, str) else ""
            return [_change((key,), old, new, rule, lines=text_line_diff(old_text, new_text))]
        return [_change((key,), old, new, rule)]
    return _diff_nested((key,), old, new, rule)


def _diff_nested(path: tuple[str, ...], old: Any, new: Any, rule: str) -> list[FieldChange]:
    """Follow mappings present on both sides down to the leaves that changed.

    Where only one side is a mapping (or a side is absent) the whole value is one
    change: splitting it into leaves could not tell ``{}`` from an absent key.
    """
    if _same(old, new):
        return []
    if isinstance(old, dict) and isinstance(new, dict):
        keys = list(old) + [key for key in new if key not in old]
        changes: list[FieldChange] = []
        for key in sorted(keys, key=str):
            changes.extend(
                _diff_nested(path + (key,), old.get(key, _ABSENT), new.get(key, _ABSENT), rule)
            )
        return changes
    return [_change(path, old, new, rule)]


def _change(
    path: tuple[str, ...],
    old: Any,
    new: Any,
    rule: str,
    *,
    added: tuple[Any, ...] = (),
    removed: tuple[Any, ...] = (),
    lines: tuple[str, ...] = (),
) -> FieldChange:
    """Build a FieldChange, turning the absent marker into None plus a null flag."""
    field = ".".join(str(key) for key in path)
    return FieldChange(
        field=field,
        old=None if old is _ABSENT else old,
        new=None if new is _ABSENT else new,
        added=added,
        removed=removed,
        lines=lines,
        rule=rule,
        path=() if path == (field,) else path,
        old_null=old is None,
        new_null=new is None,
    )


def _apply_change(record: Record, change: FieldChange) -> None:
    """Set (or remove) the value at ``change``'s path in ``record``, in place."""
    *parents, leaf = change.keys
    target = record
    for key in parents:
        # The diff only descends where both sides are mappings, so the parent
        # exists; creating it keeps hand-built diffs from failing obscurely.
        child = target.get(key)
        if not isinstance(child, dict):
            child = target[key] = {}
        target = child
    if change.new is None and not change.new_null:
        target.pop(leaf, None)
    else:
        target[leaf] = copy.deepcopy(change.new)


def _ordered(keys: Iterable[str], rules: Rules) -> list[str]:
    """Schema order (the order of ``rules``) first, then unknown fields sorted."""
    present = set(keys)
    known = [key for key in rules if key in present]
    unknown = sorted((key for key in present if key not in rules), key=str)
    return known + unknown


def _contains(items: list[Any], item: Any) -> bool:
    return any(_same(item, other) for other in items)


def _same(a: Any, b: Any) -> bool:
    """Equality that also tells apart what YAML writes differently.

    Python's ``==`` holds for ``1 == True == 1.0`` and ``0.0 == -0.0``, but
    each is a real change in the file, so types must match and floats are
    compared by their exact repr (which also makes NaN equal to NaN).
    """
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[key], b[key]) for key in a)
    if isinstance(a, list | tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float):
        return repr(a) == repr(b)
    return bool(a == b)


def _split_lines(text: str) -> list[str]:
    """Split on "\\n", keeping it on every line but possibly the last."""
    lines = text.split("\n")
    out = [line + "\n" for line in lines[:-1]]
    if lines[-1]:
        out.append(lines[-1])
    return out
