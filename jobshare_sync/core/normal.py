"""The normal form of a whole record, field by field, and the checks it brings.

`normal_form` is applied wherever a record enters: the loader (`records.load_yaml`, for
every document read for a record path: a hand-edited file, a friend's blob, the git
merge driver's versions) and the writer (`schema.dump_record`), so `add`, `edit`,
`commit`, `resolve`, `pull` and import all store one spelling of each value (DESIGN
section 1). Per text value (see `values.normal_text`): NFC, `\\n` line ends, no
byte-order mark; single-line values trimmed; date-times (`format: date-time`) in UTC
with `Z`. A string field is single-line unless its schema marks it `x-multiline`.
The normal form never changes a record's shape and never fails: what it cannot put
right (a control character, a phone number that is none, a web address without its
scheme, two spellings of one set item, a value YAML reads as no text) is reported by
`text_problems`, which the record checks include.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from ..errors import RecordError
from . import schema
from .records import UNIVERSAL, TextForm, _escape_pointer, load_yaml, plain_reading
from .values import (
    DEFAULT_REGION,
    SET_FIELDS,
    control_characters,
    item_key,
    normal_instant,
    normal_text,
    phone_problem,
    shorten,
    website_fix,
)

_NOUNS = {
    "emails": "email address",
    "phones": "phone number",
    "tags": "tag",
    "industries": "industry",
}


@dataclass(eq=False)
class Shape(TextForm):
    """What the schema says about one position in a record, for the normal form (and,
    as a `records.TextForm`, how the loader brings the text there to it)."""

    text: bool = False  # a string is meant here
    single_line: bool = True
    instant: bool = False  # format: date-time
    date: bool = False  # format: date
    role: str = ""  # "website" or "phone": checked as such
    items: Shape | None = None
    properties: dict[str, Shape] = field(default_factory=dict)

    def fix(self, text: str) -> str:
        """`text` in the normal form of this place (NFC and line ends where no text is
        meant: what the schema does not know keeps its spaces)."""
        if not self.text:
            return normal_text(text, single_line=False)
        if self.instant:
            return normal_instant(normal_text(text, single_line=True))
        return normal_text(text, single_line=self.single_line)

    def item(self) -> TextForm:
        return self.items if self.items is not None else UNIVERSAL

    def child(self, key: str) -> TextForm:
        return self.properties.get(key) or UNIVERSAL


def _shape_of(spec: Mapping[str, Any], role: str = "") -> Shape:
    types = spec.get("type")
    types = types if isinstance(types, list) else [types]
    fmt = spec.get("format")
    shape = Shape(
        text="string" in types,
        single_line=not spec.get("x-multiline", False),
        instant=fmt == "date-time",
        date=fmt == "date",
        role=role,
    )
    items = spec.get("items")
    if isinstance(items, dict):
        shape.items = _shape_of(items, "phone" if role == "phones" else "")
    for name, sub in (spec.get("properties") or {}).items():
        shape.properties[name] = _shape_of(sub, name)
    return shape


@cache
def shape(kind: str) -> Shape:
    """The shape of a kind of record ("contact", "referral", "jobshare"), from its schema."""
    return _shape_of(schema.load_schema(kind))


def shape_at(kind: str, pointer: str) -> Shape | None:
    """The shape at a JSON pointer (`/history/0/note`), or None where the schema has none."""
    found: Shape | None = shape(kind)
    for part in pointer.split("/")[1:]:
        if found is None:
            return None
        if found.items is not None and part.isdigit():
            found = found.items
        else:
            found = found.properties.get(part.replace("~1", "/").replace("~0", "~"))
    return found


# --- the normal form -------------------------------------------------------------------


def normal_form(kind: str, data: Any) -> Any:
    """`data` with every text in the normal form of its field. Pure, idempotent, any
    shape of data accepted (what does not fit the schema is left to the checks);
    returns `data` itself when nothing changes."""
    return _normal(shape(kind), data)


def _normal(where: Shape | None, value: Any) -> Any:
    if isinstance(value, str):
        # a field the schema does not know: NFC and line ends only
        return where.fix(value) if where is not None else normal_text(value, single_line=False)
    if isinstance(value, list):
        inner = where.items if where is not None else None
        items = [_normal(inner, item) for item in value]
        return value if all(a is b for a, b in zip(items, value, strict=True)) else items
    if isinstance(value, dict):
        props = where.properties if where is not None else {}
        out = {key: _normal(props.get(key), item) for key, item in value.items()}
        return value if all(out[k] is value[k] for k in value) else out
    return value


def normal_value(kind: str, pointer: str, value: Any) -> Any:
    """One value in the normal form of the field at `pointer` (`/name`), e.g. from
    `resolve --field`."""
    return _normal(shape_at(kind, pointer), value)


def unique_items(field: str, items: list[Any], region: str = DEFAULT_REGION) -> list[Any]:
    """The items of a set field with later spellings of an item left out, as first given
    (`--tag Remote --tag remote` keeps `Remote`); phones compare with `region`."""
    key = item_key(field, region)
    if key is None:
        return list(items)
    seen: set[Any] = set()
    kept = []
    for item in items:
        try:
            k = key(item)
            hash(k)
        except TypeError:
            kept.append(item)
            continue
        if k not in seen:
            seen.add(k)
            kept.append(item)
    return kept


# --- what the normal form cannot put right ---------------------------------------------


def special_message(text: str) -> str | None:
    """The message for a plain scalar that YAML reads as no text, where text is meant."""
    reading = plain_reading(text)
    if reading is None:
        return None
    if not text:
        return "has no value: write one, or leave the field out"
    return f"should be text, but YAML reads {shorten(text, 40)} as {reading}: put it in quotes"


def text_problems(
    kind: str, data: Any, specials: Mapping[str, str] | None = None
) -> list[tuple[str, str]]:
    """(JSON pointer, message) for each text the normal form cannot put right: control
    characters (none in a single-line field; in multi-line text none but tab and line
    feed), phone numbers that are none, web addresses without their scheme, two
    spellings of one item of a set (`Remote` and `remote`), and plain scalars that YAML
    reads as something else than text where text is meant (`specials`, pointer -> as
    written, from `records.Loaded`)."""
    problems: list[tuple[str, str]] = []
    for pointer, text in (specials or {}).items():
        where = shape_at(kind, pointer)
        if where is not None and where.text and not (where.instant or where.date):
            message = special_message(text)
            if message is not None:
                problems.append((pointer, message))
    _walk(shape(kind), data, "", problems)
    if isinstance(data, dict):
        for name in SET_FIELDS:
            items = data.get(name)
            if isinstance(items, list) and name in shape(kind).properties:
                problems.extend(_same_items(name, items))
    return problems


def _walk(where: Shape, value: Any, pointer: str, out: list[tuple[str, str]]) -> None:
    """Check every text under `value` (at `pointer`); pointers are made only for problems."""
    if isinstance(value, str):
        if where.text and (message := _text_problem(where, value)) is not None:
            out.append((pointer, message))
    elif isinstance(value, list) and where.items is not None:
        inner = where.items
        for i, item in enumerate(value):
            if isinstance(item, str):
                if inner.text and (message := _text_problem(inner, item)) is not None:
                    out.append((f"{pointer}/{i}", message))
            elif isinstance(item, list | dict):
                _walk(inner, item, f"{pointer}/{i}", out)
    elif isinstance(value, dict):
        props = where.properties
        for key, item in value.items():
            found = props.get(key)
            if found is not None and (found.text or not isinstance(item, str)):
                _walk(found, item, f"{pointer}/{_escape_pointer(key)}", out)


def _text_problem(where: Shape, value: str) -> str | None:
    bad = control_characters(value, single_line=where.single_line)
    if bad:
        noun = "character" if len(bad) == 1 else "characters"
        rule = (
            "a one-line field allows none"
            if where.single_line
            else "text allows none but tab and line breaks"
        )
        return f"contains the control {noun} {', '.join(bad)}: {rule}"
    if where.role == "phone":
        return phone_problem(value)
    if where.role == "website":
        fix = website_fix(value)
        if fix is not None:
            return f"{shorten(value)!r} lacks its scheme: write {shorten(fix)!r}"
    return None


def _same_items(name: str, items: list[Any]) -> list[tuple[str, str]]:
    """Two spellings of one item in a set field (exact repeats are the schema's to report)."""
    key = item_key(name)
    if key is None or len(items) < 2:
        return []
    first: dict[Any, Any] = {}
    found = []
    for i, item in enumerate(items):
        try:
            k = key(item)
            hash(k)
        except TypeError:  # a list or a mapping as an item: the schema reports it
            continue
        if k in first and first[k] != item:
            noun = _NOUNS.get(name, "item")
            message = (
                f"{shorten(str(first[k]))!r} and {shorten(str(item))!r} are the same {noun}: "
                "keep one"
            )
            found.append((f"/{name}/{i}", message))
        first.setdefault(k, item)
    return found


# --- input from the command line and from files -------------------------------------


def contact_options(
    fields: Mapping[str, Any], region: str = DEFAULT_REGION
) -> tuple[dict[str, Any], list[str]]:
    """What `add contact`'s options give, in the form a record takes, and notices of
    what was made of them: text in the normal form, a later spelling of a set item left
    out (`--tag Remote --tag remote` keeps one; phones compare with `region`), and a
    web address given without its scheme (`acme.example`) made `https://acme.example`.
    """
    out: dict[str, Any] = {}
    notices = []
    for key, value in fields.items():
        if isinstance(value, list | tuple):
            items = [normal_value("contact", f"/{key}/0", item) for item in value]
            out[key] = unique_items(key, items, region)
        else:
            out[key] = normal_value("contact", f"/{key}", value)
    website = out.get("website")
    fixed = website_fix(website) if isinstance(website, str) else None
    if fixed is not None:
        out["website"] = fixed
        notices.append(f"website {website} became {fixed}")
    return out, notices


def in_normal_form(path: str, raw: bytes, data: Any) -> bool:
    """Whether a record file's bytes hold its text in the normal form: no byte-order
    mark, no CR, and the text as written equal to `data`, its normal form."""
    if raw.startswith(b"\xef\xbb\xbf") or b"\r" in raw:
        return False
    try:
        written = load_yaml(raw, path, normal=False).data
    except RecordError:
        return False
    return bool(written == data)
