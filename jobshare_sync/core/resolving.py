"""Pure resolution of a record conflict (DESIGN.md section 3): by the side a user chose
for each record or field, or by a strategy (ours, theirs, newest) for every conflict.
"""

from __future__ import annotations

from collections.abc import Iterable
from copy import deepcopy

from .fieldmerge import MISSING, _canon, _get, _rank
from .merge import CHOICES, STRATEGIES, Record, RecordConflict, Rules, Versions, keep_fixed


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
