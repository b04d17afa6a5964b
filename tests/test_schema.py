"""schema.py: the compiled fast check agrees with jsonschema on every record."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jobshare_sync.core import fastcheck, records, schema

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def example_records(folder: str) -> list[dict[str, Any]]:
    found = []
    for who in ("alice", "bob"):
        for path in sorted((EXAMPLES / who / folder).glob("*.yaml")):
            found.append(records.load_yaml(path.read_bytes(), str(path)).data)
    return found


def reference(kind: str) -> jsonschema.protocols.Validator:
    return schema._validator(kind)


_odd = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 3),
    st.floats(allow_nan=False, width=16),
    st.sampled_from(
        [
            "",
            "x",
            "NO",
            "2026-02-30",
            "2026-13-01T00:00:00Z",
            "2026-01-01T00:00:00Z",
            "a@b.c",
            "no-at",
            "https://x.example",
            "Bad Id",
            "ok-id",
            "open",
            "anyone",
        ]
    ),
    st.lists(st.sampled_from(["a", "a", "b@c.d", "+44 20 1234"]), max_size=3),
    st.just({}),
    st.just([{"at": "2026-01-01T00:00:00Z", "by": "al", "status": "open"}]),
)


_NEWER_FIELDS = ["format", "links", "address", "connected"]  # format 2's, and its marker


@st.composite
def mutated(draw: st.DrawFn, folder: str) -> dict[str, Any]:
    """An example record with a few fields replaced, removed or added."""
    base = copy.deepcopy(draw(st.sampled_from(example_records(folder))))
    for _ in range(draw(st.integers(0, 3))):
        action = draw(st.sampled_from(["set", "drop", "add", "nested"]))
        key = draw(st.sampled_from(sorted(base) or ["id"]))
        if action == "set":
            base[key] = draw(_odd)
        elif action == "drop":
            base.pop(key, None)
        elif action == "add":
            name = draw(st.sampled_from(["extra", "colour", "tags", "budget", *_NEWER_FIELDS]))
            base[name] = draw(st.one_of(_odd, st.sampled_from([{"locality": "x"}, {"city": "x"}])))
        elif isinstance(base.get(key), list) and base[key]:
            base[key][0] = draw(_odd)
        elif (
            isinstance(base.get("history"), list)
            and base["history"]
            and isinstance(base["history"][0], dict)
        ):
            base["history"][0][draw(st.sampled_from(["at", "by", "status", "note", "x"]))] = draw(
                _odd
            )
    return base


@pytest.mark.parametrize("folder", ["contacts", "referrals"])
@settings(max_examples=600, deadline=None)
@given(data=st.data())
def test_fast_check_agrees_with_jsonschema(folder: str, data: st.DataObject) -> None:
    record = data.draw(mutated(folder))
    kind = records.KIND_OF_FOLDER[folder]
    assert schema.fast_check(kind)(record) == reference(kind).is_valid(record), json.dumps(record)


def test_fast_check_compiles_every_bundled_schema() -> None:
    for kind in schema.KINDS:
        fastcheck.compile_schema(schema.load_schema(kind))  # raises if a keyword lacks a fast check


ALIAS = {
    "id": "acme-ltd-x9z3",
    "alias_of": "acme-recruiting-7k2q",
    "alias_reason": "combined",
    "alias_by": "bob",
    "alias_at": "2026-10-03T09:15:00Z",
    "added_by": "alice",
}


@st.composite
def mutated_alias(draw: st.DrawFn) -> dict[str, Any]:
    """An alias (the contact schema's second shape), or a contact, with a few fields
    replaced, removed, or taken from the other shape."""
    contact = draw(st.sampled_from(example_records("contacts")))
    base = copy.deepcopy(draw(st.sampled_from([ALIAS, ALIAS, contact])))
    for _ in range(draw(st.integers(0, 3))):
        action = draw(st.sampled_from(["set", "drop", "borrow"]))
        if action == "set":
            base[draw(st.sampled_from(sorted(base) or ["id"]))] = draw(_odd)
        elif action == "drop" and base:
            base.pop(draw(st.sampled_from(sorted(base))), None)
        else:
            donor = ALIAS if "kind" in base else contact
            key = draw(st.sampled_from(sorted(donor)))
            base[key] = copy.deepcopy(donor[key])
    return base


@settings(max_examples=600, deadline=None)
@given(record=mutated_alias())
def test_fast_check_agrees_with_jsonschema_on_aliases(record: dict[str, Any]) -> None:
    assert schema.fast_check("contact")(record) == reference("contact").is_valid(record), (
        json.dumps(record)
    )


def test_an_alias_validates_and_a_half_alias_does_not() -> None:
    assert schema.fast_check("contact")(ALIAS)
    assert not schema.fast_check("contact")(ALIAS | {"name": "Acme"})
    assert not schema.fast_check("contact")({k: v for k, v in ALIAS.items() if k != "alias_at"})


def test_a_source_checkout_not_installed_reads_its_own_schema_folder(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def not_installed(package: str) -> Any:
        raise ModuleNotFoundError(package)

    shipped = {kind: schema.schema_text(kind) for kind in schema.KINDS}
    monkeypatch.setattr(schema.resources, "files", not_installed)
    checkout = Path(__file__).resolve().parent.parent / "schema"
    if checkout != schema.CHECKOUT_SCHEMAS:  # the package is installed: read as from this one
        monkeypatch.setattr(schema, "CHECKOUT_SCHEMAS", checkout)
    for kind in schema.KINDS:
        from_checkout = schema.schema_text(kind)
        assert from_checkout == (checkout / f"{kind}.schema.json").read_text("utf-8")
        assert from_checkout == shipped[kind]
