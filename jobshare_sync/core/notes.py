"""Private notes: fields a freelancer attaches to any record, kept on the private side.

A note is `notes/<folder>/<id>.yaml` in the private repository (README "What is
private"), checked against the bundled `note.schema.json` (JSON Schema 2020-12) and
written in the canonical form of records (schema key order, block style, UTF-8, a
final newline). Pure: no git, no files but the bundled schema.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from functools import cache
from importlib import resources
from typing import Any

from ..errors import InvalidRecordError, RecordError
from . import records
from .records import Label

NOTES = "notes"
LIST_FIELDS = ("tags", "do_not_refer_to")


@cache
def note_schema() -> dict[str, Any]:
    """The bundled note schema, as a dict."""
    import json

    text = (resources.files("jobshare_sync.schemas") / "note.schema.json").read_text("utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def note_fields() -> tuple[str, ...]:
    """The fields a note may hold, in the schema's order (the canonical key order)."""
    return tuple(note_schema()["properties"])


@cache
def note_rules() -> dict[str, str]:
    """Field name to x-merge rule, as `schema.merge_rules` gives them for records."""
    return {n: s.get("x-merge", "value") for n, s in note_schema()["properties"].items()}


def note_path(label: Label) -> str:
    """Where the note on a record lives in the private tree: notes/contacts/<id>.yaml."""
    return f"{NOTES}/{label.folder}/{label.id}.yaml"


def label_of_note(path: str) -> Label | None:
    """The record a note path is about, or None for a path that is no note."""
    head, _, rest = path.partition("/")
    return records.label_of_path(rest) if head == NOTES else None


def note_errors(note: Mapping[str, Any]) -> list[str]:
    """What is wrong with a note, each a line naming the field; empty when valid."""
    import jsonschema

    validator = jsonschema.Draft202012Validator(
        note_schema(), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    found = []
    for error in sorted(validator.iter_errors(dict(note)), key=lambda e: list(e.path)):
        where = ".".join(str(p) for p in error.path) or "note"
        found.append(f"{where}: {error.message}")
    return found


def _text(value: str, field: str) -> str:
    value = unicodedata.normalize("NFC", value.replace("\r\n", "\n").replace("\r", "\n"))
    return value.strip() + "\n" if field == "notes" and value.strip() else value.strip()


def apply_changes(
    note: Mapping[str, Any], sets: Iterable[str], unsets: Iterable[str]
) -> dict[str, Any]:
    """`note` with each `FIELD=VALUE` of `sets` set and each field of `unsets` removed.

    List fields (tags, do_not_refer_to) take comma-separated items and replace the
    list; `rating` takes a whole number 1 to 5. Raises InvalidRecordError for an
    unknown field, a field both set and unset, a value of the wrong shape, or a note
    that fails the schema."""
    out = dict(note)
    known = note_fields()
    sets, unsets = list(sets), list(unsets)
    both = {i.partition("=")[0].strip().replace("-", "_") for i in sets} & {
        u.strip().replace("-", "_") for u in unsets
    }
    if both:
        raise InvalidRecordError(
            f"'{sorted(both)[0]}' is both set and unset: give --set or --unset, not both"
        )
    for item in sets:
        field, sep, value = item.partition("=")
        field = field.strip().replace("-", "_")
        if not sep:
            raise InvalidRecordError(f"'{item}': write FIELD=VALUE, e.g. rating=4")
        if field not in known or field == "updated":
            choices = ", ".join(f for f in known if f != "updated")
            raise InvalidRecordError(f"a note has no field '{field}': use one of {choices}")
        if field in LIST_FIELDS:
            out[field] = list(dict.fromkeys(_text(v, field) for v in value.split(",") if v.strip()))
        elif field == "rating":
            try:
                out[field] = int(value.strip())
            except ValueError:
                raise InvalidRecordError(
                    f"rating must be a whole number 1 to 5, not '{value}'"
                ) from None
        else:
            out[field] = _text(value, field)
        if out[field] in ("", []):
            del out[field]
    for field in unsets:
        field = field.strip().replace("-", "_")
        if field not in known:
            raise InvalidRecordError(f"a note has no field '{field}'")
        out.pop(field, None)
    problems = note_errors(out)
    if problems:
        raise InvalidRecordError(f"invalid note: {problems[0]}: nothing saved")
    return out


def dump_note(note: Mapping[str, Any]) -> bytes:
    """The canonical bytes of a note (schema key order, block style, final newline)."""
    return records.dump_yaml(records.order_keys(dict(note), note_fields(), {}))


def load_note(raw: bytes, path: str) -> dict[str, Any]:
    """A note read from its bytes; an unreadable one is an empty note (it stays in
    history). Raises nothing."""
    try:
        data = records.load_yaml(raw, path, lines=False, normal=False).data
    except (InvalidRecordError, RecordError):
        return {}
    return dict(data) if isinstance(data, dict) else {}


def is_empty(note: Mapping[str, Any]) -> bool:
    """Whether a note holds nothing but its time stamp."""
    return not any(k != "updated" for k in note)


def note_words(note: Mapping[str, Any]) -> list[str]:
    """The text of a note's fields, for search."""
    out: list[str] = []
    for value in note.values():
        if isinstance(value, str):
            out.append(value)
        elif isinstance(value, list):
            out += [v for v in value if isinstance(v, str)]
    return out
