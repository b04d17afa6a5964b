"""Combining several contacts into one, and carrying later edits of a combined one along.

Nothing is lost: set fields (emails, phones, industries, tags) become the union of
every record's values, compared by their value keys (core/values.py); notes keep
every record's text under a line naming it (notes.py); where single-valued fields
differ, one value is taken and the others are reported (`FieldChoice`), so that the
command can list them in its commit message and `show` of the old record at that
commit still finds them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from copy import deepcopy
from dataclasses import dataclass
from typing import Any

from ...errors import InvalidRecordError, LabelError
from .. import values
from .aliases import canon, is_alias
from .notes import carry_notes, combine_notes

Record = dict[str, Any]
_MISSING = object()
_EARLIEST = dt.datetime.min.replace(tzinfo=dt.UTC)
_ALIAS_ONLY = ("alias_of", "alias_reason", "alias_by", "alias_at")


def contact_rules() -> dict[str, str]:
    """The contact schema's x-merge rule of each field (DESIGN section 2)."""
    from .. import schema  # the bundled schema, read once

    return schema.merge_rules("contacts")


def value_key(field: str, value: Any, region: str = values.DEFAULT_REGION) -> str:
    """The key an item of a set field is compared by: emails without case, phones as
    numbers (`region` for numbers without a country code), tags and industries
    without case; anything else by its canonical text."""
    if not isinstance(value, str):
        return canon(value)
    if field == "emails":
        return values.email_key(value)
    if field == "phones":
        return values.phone_compare_key(value, region)
    if field in ("tags", "industries"):
        return values.word_key(value)
    return values.nfc(value)


def _items(value: Any) -> list[Any]:
    if value is _MISSING or value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


@dataclass(frozen=True)
class FieldChoice:
    """A single-valued field whose records held different values, and what was taken.

    `values` holds (record id, value) for each record that has the field, the
    survivor first; `taken_from` is None when the value was given (`--field`).
    """

    field: str
    values: tuple[tuple[str, Any], ...]
    taken: Any
    taken_from: str | None
    not_taken: tuple[tuple[str, Any], ...]

    def __str__(self) -> str:
        source = f"contacts/{self.taken_from}" if self.taken_from else "given"
        others = "; ".join(f"{v!r} (contacts/{i})" for i, v in self.not_taken)
        return f"{self.field}: took {self.taken!r} ({source}); not taken: {others}"

    def to_json(self) -> dict[str, Any]:
        return {
            "field": self.field,
            "values": [{"id": i, "value": v} for i, v in self.values],
            "taken": self.taken,
            "taken_from": self.taken_from,
            "not_taken": [{"id": i, "value": v} for i, v in self.not_taken],
        }


@dataclass(frozen=True)
class Combination:
    """The result of `combine`: the survivor's new content and the choices made."""

    record: Record
    sources: tuple[str, ...]  # the ids combined: KEEP, then the others by id
    choices: tuple[FieldChoice, ...]  # fields whose values differed, in schema order

    def message_lines(self) -> list[str]:
        """The lines a commit message lists: one per field where a value was not taken."""
        return [str(c) for c in self.choices if c.not_taken]


def _check_inputs(
    keep: Mapping[str, Any], others: Sequence[Mapping[str, Any]]
) -> list[Mapping[str, Any]]:
    if not others:
        raise LabelError("combine needs at least one record besides the one to keep")
    seen = {keep.get("id")}
    for record in (keep, *others):
        if is_alias(record):
            raise LabelError(
                f"contacts/{record.get('id')} was already combined into "
                f"contacts/{record.get('alias_of')}: name that one instead"
            )
    for other in others:
        if other.get("id") in seen:
            raise LabelError(f"contacts/{other.get('id')} is named twice: name each record once")
        seen.add(other.get("id"))
    return sorted(others, key=lambda r: str(r.get("id")))


def combine(
    keep: Mapping[str, Any],
    others: Sequence[Mapping[str, Any]],
    chosen_fields: Mapping[str, Any] | None = None,
    *,
    region: str = values.DEFAULT_REGION,
    rules: Mapping[str, str] | None = None,
    updated: str | None = None,
) -> Combination:
    """One record made of KEEP and `others` (parsed contacts, none an alias).

    - `fixed` fields (id, added_by) are KEEP's;
    - `set` fields are the union of every record's items by `value_key`, KEEP's
      first, then each other's new ones, others taken in id order;
    - `text` fields (notes): KEEP's own text first, every other's under a line
      naming it (`combine_notes`);
    - `max` fields (updated): `updated` when given (the command passes now), else
      the latest;
    - other fields (name, kind, organization, role, website, location, and any
      field added later): `chosen_fields[field]` if given, else KEEP's value, else
      the first other's (by id) that has one; differing values become a
      `FieldChoice`.

    The result does not depend on the order of `others`. Raises LabelError when a
    record is named twice or is an alias, InvalidRecordError when `chosen_fields`
    names a field that is not single-valued.
    """
    ordered = _check_inputs(keep, others)
    rules = rules if rules is not None else contact_rules()
    records = [keep, *ordered]
    chosen = dict(chosen_fields or {})
    single = [k for k, rule in rules.items() if rule == "value" and k not in _ALIAS_ONLY]
    for name in chosen:
        if name in single or (name not in rules and any(name in r for r in records)):
            continue
        rule = rules.get(name)
        why = (
            "is not a field of a contact"
            if rule is None or name in _ALIAS_ONLY
            else f"keeps every value when combining ({rule})"
            if rule in ("set", "text")
            else f"is not chosen when combining ({rule})"
        )
        raise InvalidRecordError(
            f"--field {name}: '{name}' {why}; choose among {', '.join(single)}"
        )
    ids = tuple(str(r.get("id")) for r in records)
    names = list(dict.fromkeys([*rules, *sorted({k for r in records for k in r} - set(rules))]))
    result: Record = {}
    choices: list[FieldChoice] = []
    for name in names:
        if name in _ALIAS_ONLY:
            continue
        rule = rules.get(name, "value")
        held = [(i, r[name]) for i, r in zip(ids, records, strict=True) if name in r]
        if rule == "fixed":
            value = keep.get(name, held[0][1] if held else _MISSING)
        elif rule == "set":
            value = _union(name, [v for _, v in held], region) or _MISSING
        elif rule == "text":
            parts = [(str(o.get("id")), o.get("added_by"), o.get(name)) for o in ordered]
            value = combine_notes(ids[0], keep.get(name), parts)
            value = _MISSING if value is None else value
        elif rule == "max":
            given = updated if name == "updated" else None  # `format` is a max field too
            value = given if given is not None else _latest([v for _, v in held])
        else:
            value, choice = _choose(name, held, chosen)
            choices += [choice] if choice else []
        if value is not _MISSING:
            result[name] = deepcopy(value)
    return Combination(result, ids, tuple(choices))


def _union(name: str, lists: Iterable[Any], region: str) -> list[Any]:
    seen: dict[str, Any] = {}
    for items in lists:
        for item in _items(items):
            seen.setdefault(value_key(name, item, region), item)
    return list(seen.values())


def _latest(held: list[Any]) -> Any:
    """The latest of several date-times, compared as instants (ties: the larger text)."""
    if not held:
        return _MISSING
    if all(isinstance(v, int) and not isinstance(v, bool) for v in held):
        return max(held)  # a record's `format` number

    def instant(value: Any) -> tuple[dt.datetime, str]:
        parsed = values.parse_instant(value) if isinstance(value, str) else None
        return (parsed or _EARLIEST, canon(value))

    return max(held, key=instant)


def _choose(
    name: str, held: list[tuple[str, Any]], chosen: Mapping[str, Any]
) -> tuple[Any, FieldChoice | None]:
    if name in chosen:
        value = chosen[name]
        source = next((i for i, v in held if canon(v) == canon(value)), None)
    elif held:
        source, value = held[0]
    else:
        return _MISSING, None
    distinct = {canon(v) for _, v in held} | {canon(value)}
    if len(distinct) < 2:
        return value, None
    shown: dict[str, tuple[str, Any]] = {}
    for i, v in held:
        shown.setdefault(canon(v), (i, v))
    not_taken = tuple(p for key, p in shown.items() if key != canon(value))
    return value, FieldChoice(name, tuple(held), value, source, not_taken)


@dataclass(frozen=True)
class Carried:
    """The result of `carry_into_survivor`."""

    record: Record
    not_taken: tuple[FieldChoice, ...]  # single-valued edits the survivor did not take
    collided: tuple[str, ...]  # note sections where edits collided (both kept, see notes.py)


def carry_into_survivor(
    survivor: Mapping[str, Any],
    alias_base: Mapping[str, Any] | None,
    alias_edited: Mapping[str, Any],
    *,
    survivor_base: Mapping[str, Any] | None = None,
    own_key: str | None = None,
    region: str = values.DEFAULT_REGION,
    rules: Mapping[str, str] | None = None,
) -> Carried:
    """Carry the edits that turned `alias_base` into `alias_edited` (a record that has
    since been combined into, or renamed to, `survivor`) into the survivor.

    `alias_base` None means the whole of `alias_edited` is new. Per rule:
    - `set`: items the edit added (by `value_key`) join the survivor's; items it
      removed leave the survivor, unless `survivor_base` (the survivor before the
      merge) held them itself;
    - `text`: the edit is merged into the survivor's section for that record
      (`own_key`, default the record's id; the survivor's own text after a rename),
      see `carry_notes`;
    - `max`: the later value;
    - `value`: the survivor takes the edited value where it held the value the edit
      replaced (or none); otherwise it keeps its own and the edit is listed in
      `not_taken`;
    - `fixed` fields and the alias fields: the survivor's, untouched.
    Never raises for a record's content; nothing the edit added is dropped.
    """
    rules = rules if rules is not None else contact_rules()
    base: Mapping[str, Any] = alias_base or {}
    result = deepcopy(dict(survivor))
    survivor_id = str(result.get("id"))
    edited_id = str(alias_edited.get("id"))
    not_taken: list[FieldChoice] = []
    collided: list[str] = []
    for name in dict.fromkeys([*base, *alias_edited]):
        rule = rules.get(name, "value")
        old, new = base.get(name, _MISSING), alias_edited.get(name, _MISSING)
        if rule == "fixed" or name in _ALIAS_ONLY or canon_or_missing(old) == canon_or_missing(new):
            continue
        current = result.get(name, _MISSING)
        if rule == "set":
            value: Any = _carry_set(name, current, old, new, survivor_base, region)
        elif rule == "text":
            by = alias_edited.get("added_by")
            value, clashed = carry_notes(
                survivor_id,
                current if isinstance(current, str) else None,
                old if isinstance(old, str) else None,
                new if isinstance(new, str) else None,
                own_key or edited_id,
                by if isinstance(by, str) else None,
            )
            collided += clashed
            value = _MISSING if value is None else value
        elif rule == "max":
            value = _latest([v for v in (current, new) if v is not _MISSING])
        elif current is _MISSING or canon(current) in (
            canon_or_missing(old),
            canon_or_missing(new),
        ):
            value = new  # the survivor held what the edit replaced, or nothing
        elif new is _MISSING:
            continue  # the edit removed a value the survivor does not hold
        else:
            held = ((survivor_id, current), (edited_id, new))
            not_taken.append(FieldChoice(name, held, current, survivor_id, (held[1],)))
            continue
        if value is _MISSING:
            result.pop(name, None)
        else:
            result[name] = deepcopy(value)
    return Carried(result, tuple(not_taken), tuple(collided))


def canon_or_missing(value: Any) -> str | None:
    return None if value is _MISSING else canon(value)


def _carry_set(
    name: str,
    current: Any,
    old: Any,
    new: Any,
    survivor_base: Mapping[str, Any] | None,
    region: str,
) -> Any:
    def keys(items: Any) -> set[str]:
        return {value_key(name, x, region) for x in _items(items)}

    before, after = keys(old), keys(new)
    own = keys(survivor_base.get(name)) if survivor_base is not None else set()
    removed = (before - after) - own
    kept = [x for x in _items(current) if value_key(name, x, region) not in removed]
    have = {value_key(name, x, region) for x in kept}
    for item in _items(new):
        key = value_key(name, item, region)
        if key not in before and key not in have:
            kept.append(item)
            have.add(key)
    return kept or _MISSING
