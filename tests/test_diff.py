"""Tests for jobshare_sync.core.diff: tables of cases plus a round-trip property."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jobshare_sync.core.diff import (
    FieldChange,
    RecordDiff,
    Rules,
    apply_diff,
    diff_record,
    diff_records,
    diff_stat,
    text_line_diff,
)

SCHEMA_DIR = Path(__file__).resolve().parent.parent / "schema"


def load_rules(name: str) -> dict[str, str]:
    """The x-merge rule of every property, in the schema's order."""
    schema = json.loads((SCHEMA_DIR / name).read_text(encoding="utf-8"))
    return {field: spec.get("x-merge", "value") for field, spec in schema["properties"].items()}


CONTACT_RULES = load_rules("contact.schema.json")
REFERRAL_RULES = load_rules("referral.schema.json")
RULES_BY_FOLDER = {"contacts": CONTACT_RULES, "referrals": REFERRAL_RULES}

CONTACT: dict[str, Any] = {
    "id": "acme-7k2q",
    "kind": "recruiter",
    "name": "Acme Recruiting",
    "organization": "Acme",
    "emails": ["jo@acme.example"],
    "tags": ["remote", "python"],
    "notes": "Pays on time.\nAsk for Jo.\n",
    "added_by": "alice",
    "updated": "2024-05-01T10:00:00Z",
}

ENTRY_OPEN = {"at": "2024-05-01T10:00:00Z", "by": "alice", "status": "open"}
ENTRY_ACCEPTED = {
    "at": "2024-05-02T09:30:00Z",
    "by": "bob",
    "status": "accepted",
    "previous": "open",
    "note": "Glad to — merci!",
}
REFERRAL: dict[str, Any] = {
    "id": "pipeline-3m-9x1z",
    "title": "Data pipeline, 3 months",
    "client": "acme-7k2q",
    "from": "alice",
    "to": "bob",
    "status": "open",
    "created": "2024-05-01T10:00:00Z",
    "updated": "2024-05-01T10:00:00Z",
    "history": [ENTRY_OPEN],
}

NOTES_OLD = "\n".join(f"línea {n} ✓" for n in range(1, 11)) + "\n"
NOTES_NEW = NOTES_OLD.replace("línea 2 ✓", "línea 2 — 日本語").replace("línea 9 ✓", "línea 9 🚀")


def edit(record: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """A copy of ``record`` with fields replaced; a value of ``...`` removes the field."""
    out = copy.deepcopy(record)
    for key, value in changes.items():
        if value is ...:
            out.pop(key)
        else:
            out[key] = value
    return out


def fc(field: str, old: Any, new: Any, **extra: Any) -> dict[str, Any]:
    """Expected attributes of one FieldChange."""
    return {"field": field, "old": old, "new": new, **extra}


RATE_CONTACT = edit(CONTACT, rate={"amount": 600, "currency": "EUR", "terms": {"days": 30}})

CASES: list[tuple[str, dict[str, Any] | None, dict[str, Any] | None, str | None, list[Any]]] = [
    (
        "value",
        CONTACT,
        edit(CONTACT, kind="agency"),
        "modified",
        [fc("kind", "recruiter", "agency")],
    ),
    (
        "set-add",
        CONTACT,
        edit(CONTACT, tags=["remote", "python", "contract"]),
        "modified",
        [fc("tags", ["remote", "python"], ["remote", "python", "contract"], added=("contract",))],
    ),
    (
        "set-remove",
        CONTACT,
        edit(CONTACT, tags=["remote"]),
        "modified",
        [fc("tags", ["remote", "python"], ["remote"], added=(), removed=("python",))],
    ),
    (
        "set-add-and-remove",
        CONTACT,
        edit(CONTACT, emails=["jo@acme.io", "team@acme.io"]),
        "modified",
        [
            fc(
                "emails",
                ["jo@acme.example"],
                ["jo@acme.io", "team@acme.io"],
                added=("jo@acme.io", "team@acme.io"),
                removed=("jo@acme.example",),
            )
        ],
    ),
    (
        "set-reorder",
        CONTACT,
        edit(CONTACT, tags=["python", "remote"]),
        "modified",
        [fc("tags", ["remote", "python"], ["python", "remote"], added=(), removed=())],
    ),
    (
        "set-new-field",
        CONTACT,
        edit(CONTACT, phones=["+44 20 7946 0000"]),
        "modified",
        [fc("phones", None, ["+44 20 7946 0000"], added=("+44 20 7946 0000",), removed=())],
    ),
    (
        "text-unicode-two-hunks",
        edit(CONTACT, notes=NOTES_OLD),
        edit(CONTACT, notes=NOTES_NEW),
        "modified",
        [
            fc(
                "notes",
                NOTES_OLD,
                NOTES_NEW,
                lines=(
                    "  línea 1 ✓",
                    "- línea 2 ✓",
                    "+ línea 2 — 日本語",
                    "  línea 3 ✓",
                    "  línea 4 ✓",
                    "…",
                    "  línea 7 ✓",
                    "  línea 8 ✓",
                    "- línea 9 ✓",
                    "+ línea 9 🚀",
                    "  línea 10 ✓",
                ),
            )
        ],
    ),
    (
        "max",
        CONTACT,
        edit(CONTACT, updated="2024-06-01T08:00:00+02:00"),
        "modified",
        [fc("updated", "2024-05-01T10:00:00Z", "2024-06-01T08:00:00+02:00", rule="max")],
    ),
    (
        "append",
        REFERRAL,
        edit(REFERRAL, status="accepted", history=[ENTRY_OPEN, ENTRY_ACCEPTED]),
        "modified",
        [
            fc("status", "open", "accepted"),
            fc(
                "history",
                [ENTRY_OPEN],
                [ENTRY_OPEN, ENTRY_ACCEPTED],
                added=(ENTRY_ACCEPTED,),
                removed=(),
                rule="append",
            ),
        ],
    ),
    (
        "added-record",
        None,
        {"name": "Zoë", "kind": "freelancer", "id": "zoe-1a2b", "tags": ["rust"]},
        "added",
        [
            fc("id", None, "zoe-1a2b", rule="fixed"),
            fc("kind", None, "freelancer"),
            fc("name", None, "Zoë"),
            fc("tags", None, ["rust"], added=("rust",), removed=()),
        ],
    ),
    (
        "removed-record",
        {"id": "zoe-1a2b", "name": "Zoë", "notes": "hi"},
        None,
        "removed",
        [
            fc("id", "zoe-1a2b", None),
            fc("name", "Zoë", None),
            fc("notes", "hi", None, lines=("- hi",)),
        ],
    ),
    (
        "nested-leaf-changed",
        RATE_CONTACT,
        edit(RATE_CONTACT, rate={"amount": 650, "currency": "EUR", "terms": {"days": 30}}),
        "modified",
        [fc("rate.amount", 600, 650, path=("rate", "amount"))],
    ),
    (
        "nested-leaf-added-deep",
        RATE_CONTACT,
        edit(
            RATE_CONTACT,
            rate={"amount": 600, "currency": "EUR", "terms": {"days": 30, "net": True}},
        ),
        "modified",
        [fc("rate.terms.net", None, True, path=("rate", "terms", "net"))],
    ),
    (
        "nested-leaf-removed",
        RATE_CONTACT,
        edit(RATE_CONTACT, rate={"amount": 600, "terms": {"days": 30}}),
        "modified",
        [fc("rate.currency", "EUR", None, new_null=False)],
    ),
    (
        "nested-mapping-removed-whole",
        RATE_CONTACT,
        CONTACT,
        "modified",
        [fc("rate", RATE_CONTACT["rate"], None)],
    ),
    (
        "nested-mapping-emptied",
        RATE_CONTACT,
        edit(RATE_CONTACT, rate={}),
        "modified",
        [
            fc("rate.amount", 600, None),
            fc("rate.currency", "EUR", None),
            fc("rate.terms", {"days": 30}, None),
        ],
    ),
    (
        "unicode-name",
        edit(CONTACT, name="Zoë Müller"),
        edit(CONTACT, name="Zoë Müller-Ødegaard 山田"),
        "modified",
        [fc("name", "Zoë Müller", "Zoë Müller-Ødegaard 山田")],
    ),
    (
        "field-becomes-absent",
        CONTACT,
        edit(CONTACT, organization=...),
        "modified",
        [fc("organization", "Acme", None, old_null=False, new_null=False)],
    ),
    (
        "field-becomes-explicit-null",
        CONTACT,
        edit(CONTACT, organization=None),
        "modified",
        [fc("organization", "Acme", None, new_null=True)],
    ),
    (
        "explicit-null-becomes-absent",
        edit(CONTACT, role=None),
        CONTACT,
        "modified",
        [fc("role", None, None, old_null=True, new_null=False)],
    ),
    (
        "type-change-int-to-bool",
        edit(CONTACT, x=1),
        edit(CONTACT, x=True),
        "modified",
        [fc("x", 1, True)],
    ),
    (
        "schema-order-then-unknown-sorted",
        CONTACT,
        edit(CONTACT, zeta=1, alpha=2, updated="2025-01-01T00:00:00Z", kind="client"),
        "modified",
        [
            fc("kind", "recruiter", "client"),
            fc("updated", "2024-05-01T10:00:00Z", "2025-01-01T00:00:00Z"),
            fc("alpha", None, 2),
            fc("zeta", None, 1),
        ],
    ),
    ("identical", CONTACT, copy.deepcopy(CONTACT), None, []),
    ("both-none", None, None, None, []),
]


@pytest.mark.parametrize(
    ("old", "new", "change", "expected"),
    [pytest.param(*case[1:], id=case[0]) for case in CASES],
)
def test_diff_record_cases(
    old: dict[str, Any] | None,
    new: dict[str, Any] | None,
    change: str | None,
    expected: list[dict[str, Any]],
) -> None:
    rules = REFERRAL_RULES if (old or new or {}).get("history") else CONTACT_RULES
    diff = diff_record("contacts/acme-7k2q", old, new, rules)
    if change is None:
        assert diff is None
        return
    assert diff is not None
    assert diff.change == change
    assert [c.field for c in diff.fields] == [e["field"] for e in expected]
    for got, want in zip(diff.fields, expected, strict=True):
        for attribute, value in want.items():
            assert getattr(got, attribute) == value, (got.field, attribute)
    assert apply_diff(old, diff) == new
    json.dumps(diff.to_json())  # must be JSON-serialisable as is


def test_apply_diff_keeps_types_and_does_not_mutate_input() -> None:
    old = edit(CONTACT, x=1, rate={"amount": 1.0}, y=-0.0)
    new = edit(CONTACT, x=True, rate={"amount": 1}, y=0.0, tags=["go"])
    frozen = copy.deepcopy(old)
    diff = diff_record("contacts/acme-7k2q", old, new, CONTACT_RULES)
    assert diff is not None
    result = apply_diff(old, diff)
    assert old == frozen
    assert canonical(result) == canonical(new)
    # The result shares no mutable value with the diff (or with new).
    assert result is not None
    result["tags"].append("rust")
    assert new["tags"] == ["go"]
    assert [c.new for c in diff.fields if c.field == "tags"] == [["go"]]


def test_apply_diff_of_none_copies_old() -> None:
    assert apply_diff(CONTACT, None) == CONTACT
    assert apply_diff(None, None) is None


def test_dotted_key_round_trips() -> None:
    old = {"id": "x", "meta": {"a.b": 1, "a": {"b": 2}}}
    new = {"id": "x", "meta": {"a.b": 3, "a": {"b": 2}}}
    diff = diff_record("contacts/x", old, new, CONTACT_RULES)
    assert diff is not None
    assert [(c.field, c.keys) for c in diff.fields] == [("meta.a.b", ("meta", "a.b"))]
    assert apply_diff(old, diff) == new


def test_text_line_diff() -> None:
    assert text_line_diff("a\nb\n", "a\nb\n") == ()
    assert text_line_diff("", "ü\nß") == ("+ ü", "+ ß")
    assert text_line_diff("a\nb\nc\nd\ne\nf\n", "a\nb\nc\nX\ne\nf\n", context=1) == (
        "  c",
        "- d",
        "+ X",
        "  e",
    )
    # Only the final newline changed: still reported, never an empty diff.
    assert text_line_diff("a", "a\n") == ("- a", "+ a")
    # U+2028 is not a line break for us (nor for git).
    assert text_line_diff("a\u2028b", "a\u2028c") == ("- a\u2028b", "+ a\u2028c")


# -- JSON shape, properties, stats ---------------------------------------------


def test_to_json_shape() -> None:
    new = edit(CONTACT, tags=["python", "remote"], kind="agency", notes="x\n", rate={"a": {"b": 1}})
    old = edit(CONTACT, rate={"a": {"b": 2}})
    diff = diff_record("contacts/acme-7k2q", old, new, CONTACT_RULES)
    assert diff is not None
    assert diff.to_json() == {
        "label": "contacts/acme-7k2q",
        "change": "modified",
        "fields": [
            {"field": "kind", "old": "recruiter", "new": "agency"},
            {
                "field": "tags",
                "old": ["remote", "python"],
                "new": ["python", "remote"],
                "added": [],
                "removed": [],
            },
            {"field": "notes", "old": CONTACT["notes"], "new": "x\n"},
            {"field": "rate.a.b", "old": 2, "new": 1},
        ],
    }
    history = FieldChange("history", None, [ENTRY_OPEN], added=(ENTRY_OPEN,), rule="append")
    assert history.to_json() == {
        "field": "history",
        "old": None,
        "new": [ENTRY_OPEN],
        "added": [ENTRY_OPEN],
        "removed": [],
    }


def test_record_diff_properties() -> None:
    diff = diff_record("referrals/pipeline-3m-9x1z", REFERRAL, None, REFERRAL_RULES)
    assert diff is not None
    assert (diff.folder, diff.id, diff.name) == ("referrals", "pipeline-3m-9x1z", REFERRAL["title"])
    assert [c.field for c in diff.fields] == [f for f in REFERRAL_RULES if f in REFERRAL]
    added = diff_record("contacts/zoe", None, {"name": "Zoë Ødegaard"}, CONTACT_RULES)
    assert added is not None and added.name == "Zoë Ødegaard"
    nameless = diff_record("contacts/x", None, {"id": "x"}, CONTACT_RULES)
    assert nameless is not None and nameless.name == ""


def test_diff_records_sorts_drops_equal_and_asks_rules_per_folder() -> None:
    asked: list[str] = []

    def rules_for(folder: str) -> Rules:
        asked.append(folder)
        return RULES_BY_FOLDER[folder]

    pairs = [
        ("referrals/b", REFERRAL, edit(REFERRAL, status="withdrawn")),
        ("contacts/z", CONTACT, None),
        ("contacts/same", CONTACT, copy.deepcopy(CONTACT)),
        ("contacts/a", None, CONTACT),
        ("contacts/m", CONTACT, edit(CONTACT, kind="client")),
    ]
    diffs = diff_records(pairs, rules_for)
    assert [(d.label, d.change) for d in diffs] == [
        ("contacts/a", "added"),
        ("contacts/m", "modified"),
        ("contacts/z", "removed"),
        ("referrals/b", "modified"),
    ]
    assert sorted(asked) == ["contacts", "referrals"]
    assert diff_stat(diffs) == {
        "contacts": {"added": 1, "removed": 1, "modified": 1},
        "referrals": {"added": 0, "removed": 0, "modified": 1},
    }


def test_diff_stat_always_has_both_folders() -> None:
    empty = {"added": 0, "removed": 0, "modified": 0}
    assert diff_stat([]) == {"contacts": empty, "referrals": empty}
    one = RecordDiff("referrals/r", "added", None, {"id": "r"}, ())
    assert diff_stat([one])["referrals"] == {"added": 1, "removed": 0, "modified": 0}


# -- round-trip property -------------------------------------------------------

PROPERTY_RULES: dict[str, str] = {**CONTACT_RULES, "history": "append", "details": "text"}

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**40), 2**40),
    st.floats(allow_nan=False),
    st.text(max_size=8),
)
keys = st.one_of(st.sampled_from(["a", "b", "a.b", "amount", ""]), st.text(max_size=4))
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(keys, inner, max_size=4)),
    max_leaves=10,
)
multiline = st.lists(st.text(max_size=6), max_size=6).map("\n".join)
item_lists = st.lists(st.sampled_from(["python", "rust", "remote", "ü@x.io", "日本"]), max_size=5)
history = st.lists(
    st.fixed_dictionaries({"at": st.sampled_from(["t1", "t2", "t3"]), "by": st.text(max_size=3)}),
    max_size=3,
)
field_values: dict[str, st.SearchStrategy[Any]] = {
    "id": st.sampled_from(["acme-7k2q", "zoe-1a2b"]),
    "name": st.text(max_size=10),
    "emails": item_lists,
    "tags": item_lists,
    "notes": multiline,
    "details": multiline,
    "updated": st.sampled_from(["2024-05-01T10:00:00Z", "2025-01-01T00:00:00Z"]),
    "history": history,
    "rate": st.dictionaries(keys, json_values, max_size=4),
    "extra.field": json_values,
}
# Each field holds the kind of value its rule expects, or now and then anything.
records = st.fixed_dictionaries(
    {},
    optional={
        key: st.one_of(strategy, strategy, strategy, json_values)
        for key, strategy in field_values.items()
    },
)


@st.composite
def record_pairs(draw: st.DrawFn) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """Two versions of a record: unrelated, or the second an edit of the first."""
    old = draw(st.one_of(st.none(), records, records, records))
    if old is not None and draw(st.booleans()):
        new = copy.deepcopy(old)
        edits = draw(st.dictionaries(st.sampled_from(sorted(field_values)), records, max_size=3))
        for key, source in edits.items():
            # Take the field from another generated record: present or absent.
            if key in source:
                new[key] = source[key]
            else:
                new.pop(key, None)
        return old, new
    return old, draw(st.one_of(st.none(), records, records, records))


def canonical(record: dict[str, Any] | None) -> str:
    """Type-exact comparison form: json tells 1 from 1.0 from true."""
    return json.dumps(record, sort_keys=True)


@settings(max_examples=300, deadline=None)
@given(record_pairs())
def test_apply_diff_reconstructs_new(
    pair: tuple[dict[str, Any] | None, dict[str, Any] | None],
) -> None:
    old, new = pair
    before = copy.deepcopy(old)
    diff = diff_record("contacts/acme-7k2q", old, new, PROPERTY_RULES)
    result = apply_diff(old, diff)
    assert result == new
    assert canonical(result) == canonical(new)
    assert canonical(old) == canonical(before)
    if diff is None:
        assert canonical(old) == canonical(new)
        return
    assert canonical(old) != canonical(new)
    assert diff.change == ("added" if old is None else "removed" if new is None else "modified")
    assert diff.fields or diff.change != "modified"
    json.dumps(diff.to_json())
