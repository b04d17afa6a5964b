"""Pure merge with several merge bases (DESIGN.md section 3), as after a criss-cross merge.

git may find more than one best common ancestor. Their records are folded into one
virtual base, field by field, that keeps every value the bases disagree on; a record
deleted in some bases and kept in others is told apart for the record-set merge.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from copy import deepcopy
from typing import Any

from .fieldmerge import (
    MISSING,
    Ident,
    VirtualBase,
    _alternatives,
    _as_list,
    _by_time,
    _canon,
    _get,
    _ident,
    _keys,
    _merge_max,
    _same,
    _unique,
)
from .merge import Record, Rules
from .values import DEFAULT_REGION


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
