"""The fast check: a bundled JSON Schema compiled once into a plain predicate.

jsonschema takes about 0.7 ms per record; a repository of 100,000 records cannot
wait for that. The bundled schemas use a small set of keywords, so each is compiled
once into a plain predicate. It decides valid/invalid only; when it says invalid,
jsonschema runs to find and word every problem (core/schema.py). tests/test_schema.py
checks that both agree on generated records.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from functools import cache
from typing import Any


def is_date_time(value: object) -> bool:
    """RFC 3339 date-times, checked for real (the pattern alone allows month 13)."""
    if not isinstance(value, str):
        return True
    try:
        dt.datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return False
    return True


@cache
def ecma_regex(pattern: str) -> re.Pattern[str]:
    """A JSON Schema `pattern` (ECMA 262 syntax, JSON Schema 2020-12 section 6.3.3)
    compiled for Python's `re` with ECMA's meaning of `$`: the end of the string. In
    Python `$` also matches before a final newline, so `^[a-z]+$` would pass "abc\\n".
    Every `$` that is no escaped character and stands outside a character class
    becomes `\\Z`."""
    out: list[str] = []
    escaped = in_class = False
    for char in pattern:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == "[":
            in_class = True
        elif char == "]":
            in_class = False
        elif char == "$" and not in_class:
            out.append("\\Z")
            continue
        out.append(char)
    return re.compile("".join(out))


Predicate = Callable[[Any], bool]
_ANNOTATIONS = {
    "$schema",
    "$id",
    "title",
    "description",
    "examples",
    "default",
    "x-merge",
    "x-since",
}
_TYPES: dict[str, Predicate] = {
    "string": lambda v: isinstance(v, str),
    "array": lambda v: isinstance(v, list),
    "object": lambda v: isinstance(v, dict),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
    "integer": lambda v: (
        (isinstance(v, int) and not isinstance(v, bool))
        or (isinstance(v, float) and v.is_integer())
    ),
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
}


def _json_equal(a: Any, b: Any) -> bool:
    """JSON Schema equality: 1 == 1.0, but true is not 1."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_json_equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_json_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict | list) or isinstance(b, dict | list):
        return False
    return bool(a == b)


def _is_date(value: object) -> bool:
    if not isinstance(value, str):
        return True
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        return False
    return True


_FORMATS: dict[str, Predicate] = {
    "date-time": lambda v: is_date_time(v),
    "date": _is_date,
    "email": lambda v: not isinstance(v, str) or "@" in v,
}


def compile_schema(schema: Mapping[str, Any] | bool) -> Predicate:
    """One schema (the keywords the bundled schemas use) as a predicate."""
    if isinstance(schema, bool):  # JSON Schema's boolean schemas: anything, or nothing
        return (lambda v: True) if schema else (lambda v: False)
    checks: list[Predicate] = []
    for key, arg in schema.items():
        if key in _ANNOTATIONS or key.startswith("x-") or key in ("then", "else"):
            # x-merge, x-since, x-multiline: annotations; then/else: checked with "if"
            continue
        checks.append(_keyword(key, arg, schema))
    return lambda v: all(check(v) for check in checks)


def _keyword(key: str, arg: Any, schema: Mapping[str, Any]) -> Predicate:
    if key == "type":
        names = arg if isinstance(arg, list) else [arg]
        preds = [_TYPES[n] for n in names]
        return lambda v: any(p(v) for p in preds)
    if key == "enum":
        return lambda v: any(_json_equal(v, option) for option in arg)
    if key == "const":
        return lambda v: _json_equal(v, arg)
    if key == "pattern":
        regex = ecma_regex(arg)
        return lambda v: not isinstance(v, str) or regex.search(v) is not None
    if key in ("minLength", "maxLength"):
        low = key == "minLength"
        return lambda v: not isinstance(v, str) or (len(v) >= arg if low else len(v) <= arg)
    if key in ("minimum", "maximum"):
        low = key == "minimum"
        return lambda v: not _TYPES["number"](v) or (v >= arg if low else v <= arg)
    if key in ("minProperties", "maxProperties"):
        low = key == "minProperties"
        return lambda v: not isinstance(v, dict) or (len(v) >= arg if low else len(v) <= arg)
    if key in ("minItems", "maxItems"):
        low = key == "minItems"
        return lambda v: not isinstance(v, list) or (len(v) >= arg if low else len(v) <= arg)
    if key == "uniqueItems":
        return lambda v: not arg or not isinstance(v, list) or _unique_items(v)
    if key == "format":
        fmt = _FORMATS[arg]
        return fmt
    if key == "if":
        condition = compile_schema(arg)
        then = compile_schema(schema.get("then", True))
        otherwise = compile_schema(schema.get("else", True))
        return lambda v: then(v) if condition(v) else otherwise(v)
    if key == "items":
        item = compile_schema(arg)
        return lambda v: not isinstance(v, list) or all(item(x) for x in v)
    if key == "required":
        return lambda v: not isinstance(v, dict) or all(name in v for name in arg)
    if key == "properties":
        props = {name: compile_schema(sub) for name, sub in arg.items()}
        return lambda v: (
            not isinstance(v, dict) or all(props[k](x) for k, x in v.items() if k in props)
        )
    if key == "additionalProperties":
        known = set(schema.get("properties", {}))
        if arg is False:
            return lambda v: not isinstance(v, dict) or all(k in known for k in v)
        extra = compile_schema(arg) if isinstance(arg, dict) else (lambda v: True)
        return lambda v: (
            not isinstance(v, dict) or all(extra(x) for k, x in v.items() if k not in known)
        )
    raise NotImplementedError(f"schema keyword {key!r} has no fast check")


def _unique_items(items: list[Any]) -> bool:
    return not any(_json_equal(a, b) for i, a in enumerate(items) for b in items[i + 1 :])
