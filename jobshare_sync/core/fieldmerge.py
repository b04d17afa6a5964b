"""Pure three-way merge of one field by its schema's x-merge rule (DESIGN.md section 3).

Three versions always travel in the order base, ours, theirs
(``AncestorOursTheirs``); ``MISSING`` is an absent field. The rules are value, set,
text (a line merge, as git merges a file), max, append and fixed. Nothing here does
I/O: a result is a value and a conflict or None.
"""

from __future__ import annotations

import difflib
import enum
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final, Generic, NamedTuple, TypeVar

from .values import DEFAULT_REGION, instant_key, item_key

T = TypeVar("T")
U = TypeVar("U")
Ident = Callable[[Any], str]  # an item of a set -> the text two spellings of it share
RULES: Final = ("value", "set", "text", "max", "append", "fixed")


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


@dataclass(frozen=True)
class FieldConflict:
    field: str
    base: Any
    ours: Any
    theirs: Any


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
