"""The bundled JSON Schemas: loading, per-record validation, cross-record checks.

Findings are data, not exceptions: every file is checked and each problem becomes a
`Problem` with the file, the line of the offending key, a JSON pointer and a message.
The caller decides the exit code once, from the whole report.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import normal, records
from .fastcheck import Predicate, compile_schema, ecma_regex, is_date_time
from .records import FOLDERS, KIND_OF_FOLDER, Label, Loaded
from .values import shorten

if TYPE_CHECKING:  # jsonschema is imported only when a record fails the fast check
    import jsonschema

KINDS = ("contact", "referral", "jobshare")
SCHEMA_DIR_IN_REPO = ".jobshare/schema"


@dataclass(frozen=True)
class Problem:
    """One finding about one file: an error makes `validate` exit 1, a warning does not."""

    path: str
    line: int | None
    field: str  # a JSON pointer ("" for the whole file)
    message: str
    severity: str = "error"

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        name = self.field.lstrip("/").replace("/", ".") if self.field else ""
        prefix = f"{where}: {name}: " if name else f"{where}: "
        tag = "warning: " if self.severity == "warning" else ""
        return f"{prefix}{tag}{self.message}"

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "line": self.line,
            "field": self.field,
            "message": self.message,
            "severity": self.severity,
        }


@dataclass
class ValidationReport:
    """Everything `validate` found, and how many records it looked at."""

    checked: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]

    @property
    def ok(self) -> bool:
        return not self.errors

    def sorted(self) -> list[Problem]:
        return sorted(self.problems, key=lambda p: (p.path, p.line or 0, p.field, p.message))

    def summary(self) -> str:
        noun = "record" if self.checked == 1 else "records"
        parts = [f"{self.checked} {noun} checked"]
        parts.append(f"{len(self.errors)} error{'s' if len(self.errors) != 1 else ''}")
        if self.warnings:
            parts.append(f"{len(self.warnings)} warning{'s' if len(self.warnings) != 1 else ''}")
        return ", ".join(parts)

    def to_json(self) -> dict[str, Any]:
        return {
            "checked": self.checked,
            "errors": len(self.errors),
            "warnings": len(self.warnings),
            "ok": self.ok,
            "problems": [p.to_json() for p in self.sorted()],
        }


# --- the bundled schemas -------------------------------------------------------------


CHECKOUT_SCHEMAS = Path(__file__).resolve().parents[2] / "schema"  # in a source checkout


def schema_text(kind: str) -> str:
    """The text of a bundled schema file, exactly as shipped: from the installed
    package `jobshare_sync.schemas`, or, run from a source checkout that is not
    installed, from the checkout's `schema/` folder (the same files)."""
    if kind not in KINDS:
        raise ValueError(kind)
    name = f"{kind}.schema.json"
    try:
        return (resources.files("jobshare_sync.schemas") / name).read_text("utf-8")
    except ModuleNotFoundError:
        return (CHECKOUT_SCHEMAS / name).read_text("utf-8")


@cache
def load_schema(kind: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(schema_text(kind))
    return loaded


@cache
def schema_version() -> str:
    """A fingerprint of the bundled schemas, for caches of validated records."""
    import hashlib

    digest = hashlib.sha1()
    for kind in KINDS:
        digest.update(schema_text(kind).encode())
    return digest.hexdigest()[:16]


def _pattern_whole(
    validator: Any, pattern: str, instance: Any, schema: Any
) -> Iterator[jsonschema.ValidationError]:
    """jsonschema's `pattern` keyword with ECMA 262's `$` (the end of the string, never
    before a final newline): see `fastcheck.ecma_regex`."""
    import jsonschema

    if isinstance(instance, str) and ecma_regex(pattern).search(instance) is None:
        yield jsonschema.ValidationError(f"{instance!r} does not match {pattern!r}")


@cache
def _validator(kind: str) -> jsonschema.protocols.Validator:
    import jsonschema

    schema = load_schema(kind)
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    cls = jsonschema.validators.extend(cls, {"pattern": _pattern_whole})
    # jsonschema checks date-time only with an optional package; check it ourselves, on purpose
    checker = jsonschema.FormatChecker(formats=("date", "email"))
    checker.checks("date-time")(is_date_time)
    validator: jsonschema.protocols.Validator = cls(schema, format_checker=checker)
    return validator


@cache
def merge_rules(folder: str) -> dict[str, str]:
    """Field name to x-merge rule, in the schema's property order."""
    props = load_schema(KIND_OF_FOLDER[folder])["properties"]
    return {name: spec.get("x-merge", "value") for name, spec in props.items()}


@cache
def field_order(kind: str) -> tuple[tuple[str, ...], dict[str, tuple[str, ...]]]:
    """Top-level property order, and the order inside object-valued fields."""
    props = load_schema(kind)["properties"]
    nested: dict[str, tuple[str, ...]] = {}
    for name, spec in props.items():
        inner = spec.get("items", spec) if spec.get("type") == "array" else spec
        if isinstance(inner, dict) and "properties" in inner:
            nested[name] = tuple(inner["properties"])
    return tuple(props), nested


def field_names(folder: str) -> tuple[str, ...]:
    return field_order(KIND_OF_FOLDER[folder])[0]


@cache
def fields_since(kind: str) -> dict[str, int]:
    """Field name to the format that added it (`x-since`), for fields added after format 1."""
    props = load_schema(kind)["properties"]
    return {name: spec["x-since"] for name, spec in props.items() if "x-since" in spec}


def needed_format(kind: str, data: Mapping[str, Any]) -> int:
    """The lowest format whose fields cover `data`'s: 1, or the highest `x-since` it uses."""
    since = fields_since(kind)
    return max((since[key] for key in data if key in since), default=1)


# --- canonical form ------------------------------------------------------------------


def schema_comment(kind: str) -> str:
    """The relative path, from a record file, to the schema copy inside the repository."""
    return f"../{SCHEMA_DIR_IN_REPO}/{kind}.schema.json"


def dump_record(folder: str, data: Mapping[str, Any]) -> bytes:
    """The canonical bytes of a record: its text in the normal form (`normal.py`),
    schema key order, schema comment first.

    Its `format` field is written here, from the fields it uses (`needed_format`):
    absent for a format 1 record. A number higher than this jobshare's `FORMAT` is
    kept, since only the newer jobshare that wrote it knows what it covers.
    """
    kind = KIND_OF_FOLDER[folder]
    order, nested = field_order(kind)
    data = dict(normal.normal_form(kind, dict(data)))
    declared = records.record_format(data)
    wanted = declared if declared > records.FORMAT else needed_format(kind, data)
    if wanted > 1:
        data["format"] = wanted
    else:
        data.pop("format", None)
    return records.dump_yaml(records.order_keys(data, order, nested), schema_comment(kind))


def dump_config(data: Mapping[str, Any]) -> bytes:
    order, nested = field_order("jobshare")
    return records.dump_yaml(records.order_keys(dict(data), order, nested))


# --- validation ----------------------------------------------------------------------


def _describe(error: jsonschema.ValidationError) -> tuple[str, str]:
    """A JSON pointer and a plain-words message for one schema error; a long value is
    never echoed whole."""
    pointer = "".join(f"/{p}" for p in error.absolute_path)
    schema = error.schema if isinstance(error.schema, dict) else {}
    title = schema.get("title", "value")
    value = error.instance
    shown = _shown(value)
    if error.validator == "additionalProperties" and isinstance(value, dict):
        allowed = schema.get("properties", {})
        extra = sorted(k for k in value if k not in allowed)
        where = f"{pointer}/{extra[0]}" if extra else pointer
        if title == "Alias":  # the contact schema's second shape (core/identity.py)
            return where, (
                f"an alias (a record with alias_of) holds only {', '.join(allowed)}; "
                f"remove {', '.join(repr(k) for k in extra)}"
            )
        return where, (
            f"unknown field {', '.join(repr(k) for k in extra)}; allowed fields: {', '.join(allowed)}"
        )
    if error.validator == "required":
        missing = re.findall(r"'([^']+)' is a required property", error.message)
        name = missing[0] if missing else "?"
        return f"{pointer}/{name}", f"required field '{name}' is missing"
    if error.validator == "type":
        expected = error.validator_value
        if expected == "string" and isinstance(value, bool | int | float):
            seen = str(value).lower() if isinstance(value, bool) else f"the number {value!r}"
            return pointer, f"should be text, but YAML reads it as {seen}: put it in quotes"
        return pointer, f"should be {_article(expected)}, not {_type_name(value)} {shown}"
    if error.validator == "enum":
        options: list[Any] = list(error.validator_value)  # type: ignore[arg-type]
        return pointer, f"{shown} is not one of: {', '.join(str(v) for v in options)}"
    if error.validator in ("pattern", "format"):
        noun = _FORMAT_NOUNS.get(schema.get("format", ""), f"a valid {title.lower()}")
        examples = schema.get("examples") or []
        return pointer, f"{shown} is not {noun}" + (f", e.g. {examples[0]}" if examples else "")
    if error.validator == "maxLength" and isinstance(value, str):
        limit = error.validator_value
        return pointer, f"is {len(value):,} characters long, over the limit of {limit:,}"
    if error.validator == "minLength" and isinstance(value, str):
        n = error.validator_value
        return pointer, "must not be empty" if n == 1 else f"needs at least {n} characters"
    if error.validator == "minItems":
        n = error.validator_value
        return pointer, f"needs at least {n} item{'s' if n != 1 else ''}"
    if error.validator == "uniqueItems":
        return pointer, "has the same item twice"
    if error.validator == "const":
        return pointer, f"must be {error.validator_value!r}"
    if error.validator == "minProperties":
        return pointer, "is empty: give at least one of its fields, or leave it out"
    if error.validator == "minimum":
        return pointer, f"must be at least {error.validator_value!r}"
    return pointer, shorten(error.message, 200)


def _shown(value: Any) -> str:
    """A value as messages quote it: its repr, cut short."""
    return shorten(repr(value), 60) if not isinstance(value, str) else repr(shorten(value))


_FORMAT_NOUNS = {"date-time": "an ISO 8601 date-time", "date": "a date (YYYY-MM-DD)"}


def _article(expected: Any) -> str:
    names = {
        "string": "text",
        "array": "a list",
        "object": "a mapping",
        "integer": "a whole number",
    }
    if isinstance(expected, list):
        return " or ".join(names.get(e, str(e)) for e in expected)
    return names.get(expected, str(expected))


def _type_name(value: Any) -> str:
    if isinstance(value, bool):
        return "true/false"
    if value is None:
        return "empty value"
    return {int: "number", float: "number", list: "list", dict: "mapping", str: "text"}.get(
        type(value), type(value).__name__
    )


@cache
def fast_check(kind: str) -> Predicate:
    """The compiled predicate of a bundled schema (falls back to jsonschema if it cannot)."""
    try:
        return compile_schema(load_schema(kind))
    except (NotImplementedError, KeyError):
        return lambda v: bool(_validator(kind).is_valid(v))


def schema_problems(kind: str, loaded: Loaded, path: str) -> list[Problem]:
    """Every schema violation of one parsed document, with the line of each key, and
    what its normal form cannot put right (`normal.text_problems`): where both speak of
    one value, the plainer message of the latter stands."""
    if not isinstance(loaded.data, dict):
        return [
            Problem(
                path, 1, "", f"a {kind} must be a mapping of fields, not {_type_name(loaded.data)}"
            )
        ]
    found = normal.text_problems(kind, loaded.data, loaded.specials)
    problems = [Problem(path, loaded.line_of(p), p, message) for p, message in found]
    if fast_check(kind)(loaded.data):
        return problems
    covered = {pointer for pointer, _ in found}
    for error in _validator(kind).iter_errors(loaded.data):
        pointer, message = _describe(error)
        if pointer in covered:
            continue
        line: int | None = loaded.line_of(pointer)
        if error.validator == "required" and not error.absolute_path:
            line = None  # a missing top-level field has no line; the first key's would mislead
        problem = Problem(path, line, pointer, message)
        if problem not in problems:  # a pattern and a format can word one fault alike
            problems.append(problem)
    return problems


def newer_format_problem(label: Label, loaded: Loaded) -> Problem | None:
    """The report of a record that says it needs a format newer than this jobshare's.

    Such a record is neither checked against the schema (its new fields would read as
    mistakes) nor merged: the one line says what to do. A warning, not an error: the
    record is not invalid, this jobshare is old. Whoever takes in or writes records
    refuses it all the same (any problem stops them).
    """
    data = loaded.data
    if not records.is_newer(data):
        return None
    found = records.record_format(data)
    return Problem(
        label.path,
        loaded.line_of("/format"),
        "/format",
        f"written by a newer jobshare (record format {found}; this jobshare knows formats "
        f"up to {records.FORMAT}): upgrade jobshare to merge it",
        severity="warning",
    )


def format_problems(label: Label, loaded: Loaded) -> list[Problem]:
    """A record that uses a field from format N must say `format: N` (or higher), so that
    a jobshare that knows only older formats can tell that field from a typo."""
    data = loaded.data
    if not isinstance(data, dict):
        return []
    since = fields_since(label.kind)
    declared = records.record_format(data)
    newer = sorted((key for key in data if key in since and since[key] > declared), key=str)
    if not newer:
        return []
    needed = max(since[key] for key in newer)
    names = ", ".join(newer)
    return [
        Problem(
            label.path,
            loaded.line_of(f"/{newer[0]}"),
            "/format",
            f"{names} came with format {needed}: add 'format: {needed}' to the record "
            "(jobshare writes it itself when it saves a record)",
        )
    ]


def record_problems(label: Label, loaded: Loaded) -> list[Problem]:
    """Schema problems plus the checks that concern the record alone (id = file name).

    A record written by a newer jobshare gives only `newer_format_problem`.
    """
    newer = newer_format_problem(label, loaded)
    if newer is not None:
        return [newer]
    problems = schema_problems(label.kind, loaded, label.path)
    problems.extend(format_problems(label, loaded))
    data = loaded.data
    if isinstance(data, dict) and "id" in data and data["id"] != label.id:
        problems.append(
            Problem(
                label.path,
                loaded.line_of("/id"),
                "/id",
                f"id {_shown(data['id'])} differs from the file name: it must be {label.id!r}",
            )
        )
    return problems


def record_errors(label: Label, data: Any) -> list[str]:
    """Plain messages for a record held in memory (after a merge or a resolution)."""
    loaded = Loaded(data, {})
    return [
        f"{p.field.lstrip('/') or 'record'}: {p.message}" for p in record_problems(label, loaded)
    ]


def folder_of_kind(kind: str) -> str:
    return {v: k for k, v in KIND_OF_FOLDER.items()}[kind]


__all__ = [
    "FOLDERS",
    "Problem",
    "ValidationReport",
    "dump_record",
    "load_schema",
    "merge_rules",
    "record_problems",
    "schema_text",
]
