"""Tests of jobshare_sync.core.merge: tables of base/ours/theirs cases plus properties."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jobshare_sync.core.fieldmerge import (
    MISSING,
    AncestorOursTheirs,
    FieldConflict,
    VirtualBase,
    merge_field,
    merge_text,
)
from jobshare_sync.core.merge import (
    MergeResult,
    Notice,
    RecordConflict,
    RecordMerge,
    merge_record,
    merge_records,
)
from jobshare_sync.core.mergebases import deleted_in_bases, merge_bases, virtual_base
from jobshare_sync.core.resolving import resolve_by_strategy, resolve_conflict

A = AncestorOursTheirs
LABEL = "contacts/acme-7k2q"
# The x-merge rules of schema/contact.schema.json and schema/referral.schema.json.
CONTACT_RULES = {
    "id": "fixed",
    "kind": "value",
    "name": "value",
    "organization": "value",
    "role": "value",
    "emails": "set",
    "phones": "set",
    "website": "value",
    "location": "value",
    "industries": "set",
    "tags": "set",
    "notes": "text",
    "added_by": "fixed",
    "updated": "max",
}
REFERRAL_RULES = {
    "id": "fixed",
    "title": "value",
    "client": "value",
    "from": "fixed",
    "to": "value",
    "status": "value",
    "details": "text",
    "budget": "value",
    "deadline": "value",
    "created": "fixed",
    "updated": "max",
    "history": "append",
}
DROP = object()  # in contact(): remove this key


def contact(**changes: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "id": "acme-7k2q",
        "kind": "recruiter",
        "name": "Acme",
        "tags": ["python", "remote"],
        "notes": "one\ntwo\nthree\nfour\nfive\n",
        "added_by": "alice",
        "updated": "2024-01-01T00:00:00Z",
    }
    record.update(changes)
    return {k: v for k, v in record.items() if v is not DROP}


def merge(
    base: dict[str, Any] | None,
    ours: dict[str, Any] | None,
    theirs: dict[str, Any] | None,
    *,
    handle: str = "bob",
    **options: Any,
) -> RecordMerge:
    return merge_record(
        LABEL, A(base, ours, theirs), CONTACT_RULES, theirs_handle=handle, **options
    )


# --- the record table (DESIGN.md section 3) ------------------------------------

B = contact()
T = contact(name="Acme Recruiting", updated="2024-02-01T00:00:00Z")
OURS_EDIT = contact(role="Tech recruiter", updated="2024-01-15T00:00:00Z")
BOB_ADDED = contact(added_by="bob")

RECORD_TABLE = [
    # id, base, ours, theirs, handle, outcome, result, notice kinds
    ("same-change", B, T, T, "bob", "unchanged", T, []),
    ("absent-everywhere", None, None, None, "bob", "unchanged", None, []),
    ("both-deleted", B, None, None, "bob", "unchanged", None, []),
    ("both-added-same", None, T, T, "bob", "unchanged", T, []),
    ("theirs-changed", B, B, T, "bob", "updated", T, []),
    ("theirs-added", None, None, T, "bob", "added", T, []),
    ("ours-changed", B, OURS_EDIT, B, "bob", "unchanged", OURS_EDIT, []),
    ("ours-added", None, OURS_EDIT, None, "bob", "unchanged", OURS_EDIT, []),
    ("ours-deleted", B, None, B, "bob", "unchanged", None, []),
    ("deleted-by-owner", BOB_ADDED, BOB_ADDED, None, "bob", "removed", None, []),
    ("deleted-by-non-owner", B, B, None, "bob", "unchanged", B, ["kept-deleted"]),
    (
        "both-changed-other-fields",
        B,
        OURS_EDIT,
        T,
        "bob",
        "updated",
        contact(name="Acme Recruiting", role="Tech recruiter", updated="2024-02-01T00:00:00Z"),
        [],
    ),
    (
        "add-add-sets-union",
        None,
        contact(tags=["python", "contract"], emails=["jo@acme.example"]),
        contact(tags=["python", "remote", "ai"], phones=["+44 20 7946 0000"]),
        "bob",
        "updated",
        contact(
            tags=["python", "contract", "remote", "ai"],
            emails=["jo@acme.example"],
            phones=["+44 20 7946 0000"],
        ),
        [],
    ),
    (
        "theirs-changed-fixed-only",
        B,
        B,
        contact(added_by="bob"),
        "bob",
        "unchanged",
        B,
        ["refused-fixed"],
    ),
    (
        "theirs-changed-fixed-and-name",
        B,
        B,
        contact(id="acme-2", name="Acme Recruiting"),
        "bob",
        "updated",
        contact(name="Acme Recruiting"),
        ["refused-fixed"],
    ),
    (
        "both-changed-fixed-refused",
        B,
        OURS_EDIT,
        contact(added_by="bob", name="Acme Recruiting"),
        "bob",
        "updated",
        contact(role="Tech recruiter", name="Acme Recruiting", updated="2024-01-15T00:00:00Z"),
        ["refused-fixed"],
    ),
    (
        "both-changed-text-lines",
        B,
        contact(notes="ONE\ntwo\nthree\nfour\nfive\n"),
        contact(notes="one\ntwo\nthree\nfour\nFIVE\n"),
        "bob",
        "updated",
        contact(notes="ONE\ntwo\nthree\nfour\nFIVE\n"),
        [],
    ),
    (
        "unicode-text",
        contact(notes="Grüße\nzwei\ndrei\nvier\n"),
        contact(notes="Grüße aus Köln 🚀\nzwei\ndrei\nvier\n"),
        contact(notes="Grüße\nzwei\ndrei\nvier — 東京\n"),
        "bob",
        "updated",
        contact(notes="Grüße aus Köln 🚀\nzwei\ndrei\nvier — 東京\n"),
        [],
    ),
    (
        "field-removed-by-theirs",
        contact(role="CTO"),
        contact(role="CTO", name="Acme Ltd"),
        contact(),
        "bob",
        "updated",
        contact(name="Acme Ltd"),
        [],
    ),
]


@pytest.mark.parametrize(
    "base, ours, theirs, handle, outcome, result, notices",
    [case[1:] for case in RECORD_TABLE],
    ids=[case[0] for case in RECORD_TABLE],
)
def test_record_table(
    base: Any, ours: Any, theirs: Any, handle: str, outcome: str, result: Any, notices: list[str]
) -> None:
    merged = merge(base, ours, theirs, handle=handle)
    assert merged.outcome == outcome
    assert merged.result == result
    assert merged.conflict is None
    assert [n.kind for n in merged.notices] == notices
    assert all(n.label == LABEL for n in merged.notices)


CONFLICT_TABLE = [
    # id, base, ours, theirs, reason, conflicting fields
    (
        "both-modified",
        B,
        contact(name="Acme Ltd"),
        contact(name="Acme Inc"),
        "both-modified",
        ["name"],
    ),
    ("delete-modify", B, None, T, "delete-modify", []),
    ("modify-delete", B, OURS_EDIT, None, "modify-delete", []),
    ("add-add", None, contact(name="Acme Ltd"), contact(name="Acme Inc"), "add-add", ["name"]),
    (
        "text-overlap",
        B,
        contact(notes="one\nTWO\nthree\nfour\nfive\n"),
        contact(notes="one\nzwei\nthree\nfour\nfive\n"),
        "both-modified",
        ["notes"],
    ),
    (
        "value-vs-removal",
        contact(role="CTO"),
        contact(role="CEO"),
        contact(),
        "both-modified",
        ["role"],
    ),
    (
        "add-add-text",
        None,
        contact(notes="ours\n"),
        contact(notes="theirs\n"),
        "add-add",
        ["notes"],
    ),
]


@pytest.mark.parametrize(
    "base, ours, theirs, reason, fields",
    [case[1:] for case in CONFLICT_TABLE],
    ids=[case[0] for case in CONFLICT_TABLE],
)
def test_conflict_table(base: Any, ours: Any, theirs: Any, reason: str, fields: list[str]) -> None:
    merged = merge(base, ours, theirs)
    assert merged.outcome == "conflict"
    assert merged.result is None
    conflict = merged.conflict
    assert conflict is not None
    assert conflict.label == LABEL
    assert conflict.reason == reason
    assert [f.field for f in conflict.fields] == fields
    assert conflict.versions == A(base, ours, theirs)
    if reason in ("delete-modify", "modify-delete"):
        assert conflict.merged is None
    else:
        assert conflict.merged is not None
        for f in conflict.fields:  # conflicting fields are ours in the best effort
            assert conflict.merged.get(f.field) == f.ours


def test_both_modified_conflict_keeps_other_fields_merged() -> None:
    ours = contact(name="Acme Ltd", tags=["python", "remote", "contract"])
    theirs = contact(name="Acme Inc", role="Talent lead", updated="2024-03-01T00:00:00Z")
    conflict = merge(B, ours, theirs).conflict
    assert conflict is not None
    assert conflict.fields == [FieldConflict("name", "Acme", "Acme Ltd", "Acme Inc")]
    assert conflict.merged == contact(
        name="Acme Ltd",
        tags=["python", "remote", "contract"],
        role="Talent lead",
        updated="2024-03-01T00:00:00Z",
    )
    assert conflict.to_json() == {
        "label": LABEL,
        "reason": "both-modified",
        "fields": [{"field": "name", "base": "Acme", "ours": "Acme Ltd", "theirs": "Acme Inc"}],
        "messages": [],
    }


def test_field_conflict_shows_absent_as_none() -> None:
    conflict = merge(contact(role="CTO"), contact(role="CEO"), contact()).conflict
    assert conflict is not None
    assert conflict.fields == [FieldConflict("role", "CTO", "CEO", None)]


def test_refused_fixed_notice_names_field_and_value() -> None:
    merged = merge(B, OURS_EDIT, contact(added_by="mallory", name="Acme Recruiting"))
    assert merged.result is not None and merged.result["added_by"] == "alice"
    (notice,) = merged.notices
    assert notice == Notice(LABEL, "refused-fixed", notice.message)
    assert "added_by" in notice.message and "mallory" in notice.message


def test_fixed_field_from_theirs_when_ours_lacks_it() -> None:
    ours = contact(added_by=DROP, name="Acme Ltd")
    merged = merge(B, ours, contact(role="CTO"))
    assert merged.result == contact(name="Acme Ltd", role="CTO")
    assert merged.notices == []


def test_add_add_fixed_field_refused() -> None:
    merged = merge(None, contact(), contact(added_by="bob"))
    assert merged.outcome == "unchanged"
    assert merged.result == contact()
    assert [n.kind for n in merged.notices] == ["refused-fixed"]


def test_kept_deleted_notice_names_the_friend() -> None:
    (notice,) = merge(B, B, None, handle="carol").notices
    assert notice.kind == "kept-deleted" and "carol" in notice.message


def test_whole_record_conflicts_on_any_concurrent_change() -> None:
    merged = merge(B, OURS_EDIT, T, whole_record=True)
    assert merged.outcome == "conflict" and merged.conflict is not None
    assert merged.conflict.reason == "both-modified"
    assert [f.field for f in merged.conflict.fields] == ["name", "updated", "role"]
    assert merged.conflict.merged == OURS_EDIT
    assert merged.conflict.merged_theirs == T


def test_whole_record_add_add_and_one_sided_changes() -> None:
    add_add = merge(None, contact(tags=["a"]), contact(tags=["b"]), whole_record=True)
    assert add_add.conflict is not None and add_add.conflict.reason == "add-add"
    assert [f.field for f in add_add.conflict.fields] == ["tags"]
    assert merge(B, B, T, whole_record=True).result == T
    assert merge(B, OURS_EDIT, B, whole_record=True).result == OURS_EDIT
    assert merge(B, T, T, whole_record=True).outcome == "unchanged"


def test_whole_record_still_refuses_fixed_changes() -> None:
    merged = merge(B, B, contact(added_by="bob", name="Acme Inc"), whole_record=True)
    assert merged.result == contact(name="Acme Inc")
    assert [n.kind for n in merged.notices] == ["refused-fixed"]


def test_invalid_after_merge() -> None:
    seen: list[tuple[str, dict[str, Any]]] = []

    def validate(label: str, record: dict[str, Any]) -> list[str]:
        seen.append((label, record))
        return ["role and organization must not both be set"] if "role" in record else []

    ours, theirs = contact(role="CTO"), contact(organization="Acme Group")
    merged = merge(B, ours, theirs, validate=validate)
    assert merged.outcome == "conflict" and merged.conflict is not None
    assert merged.conflict.reason == "invalid-after-merge"
    assert merged.conflict.fields == []
    assert merged.conflict.messages == ["role and organization must not both be set"]
    assert merged.conflict.merged == contact(role="CTO", organization="Acme Group")
    assert merged.conflict.to_json()["messages"] == merged.conflict.messages
    assert seen == [(LABEL, contact(role="CTO", organization="Acme Group"))]
    # One-sided changes are not validated here (the caller checks a friend's records).
    assert merge(B, B, theirs, validate=validate).outcome == "updated"
    assert merge(B, ours, B, validate=validate).outcome == "unchanged"
    assert merge(B, contact(name="X"), theirs, validate=validate).outcome == "updated"
    # A merge that comes out as theirs is not validated again.
    assert merge(
        B, contact(updated="2023-01-01T00:00:00Z"), contact(role="x"), validate=validate
    ).result == contact(role="x")


def test_merged_equal_to_ours_is_unchanged() -> None:
    ours = contact(tags=["python", "remote", "ai"], updated="2024-05-01T00:00:00Z")
    theirs = contact(tags=["remote", "python", "ai"], updated="2024-02-01T00:00:00Z")
    merged = merge(B, ours, theirs)
    assert merged.outcome == "unchanged"
    assert merged.result == ours


def test_results_do_not_alias_inputs() -> None:
    theirs = contact(tags=["a"])
    merged = merge(B, B, theirs)
    assert merged.result is not None
    merged.result["tags"].append("b")
    assert theirs["tags"] == ["a"]


# --- field rules ----------------------------------------------------------------

M = MISSING
FIELD_TABLE = [
    # rule, base, ours, theirs, expected, conflict
    ("value", "a", "a", "a", "a", False),
    ("value", "a", "a", "b", "b", False),
    ("value", "a", "b", "a", "b", False),
    ("value", "a", "b", "b", "b", False),
    ("value", "a", "b", "c", "b", True),
    ("value", M, "b", "c", "b", True),
    ("value", M, "b", "b", "b", False),
    ("value", M, M, "c", "c", False),
    ("value", "a", M, "a", M, False),
    ("value", "a", "a", M, M, False),
    ("value", "a", M, "c", M, True),
    ("value", {"k": 1}, {"k": 1}, {"k": 2}, {"k": 2}, False),
    ("value", {"k": 1}, {"k": 3}, {"k": 2}, {"k": 3}, True),
    ("value", [1, 2], [2, 1], [1, 2], [2, 1], False),
    ("value", 1, True, 1.0, True, True),  # YAML types differ: not equal values
    ("value", None, None, "x", "x", False),
    ("set", ["a", "b"], ["a", "b", "c"], ["a", "b"], ["a", "b", "c"], False),
    ("set", ["a", "b"], ["a", "b"], ["b", "a", "d"], ["b", "a", "d"], False),
    ("set", ["a", "b"], ["a", "b", "c"], ["a", "b", "d"], ["a", "b", "c", "d"], False),
    ("set", ["a", "b"], ["b", "c"], ["a", "d"], ["c", "d"], False),
    ("set", ["a", "b", "c"], ["c", "a"], ["a", "b", "c", "e", "f"], ["c", "a", "e", "f"], False),
    ("set", ["a"], ["a", "x"], ["x", "y"], ["x", "y"], False),
    ("set", M, ["a"], ["b"], ["a", "b"], False),
    ("set", M, ["a"], M, ["a"], False),
    ("set", ["a"], M, ["a", "b"], ["b"], False),
    ("set", ["a"], M, ["a"], M, False),
    ("set", ["a", "b"], ["b"], ["a"], [], False),
    ("set", ["a", "b"], ["b"], M, M, False),
    ("set", ["a"], [], ["a", "b"], ["b"], False),
    ("set", [], ["a"], ["b"], ["a", "b"], False),
    ("set", "a", "b", "c", "b", True),  # not a list: merged as a value
    ("text", "a\nb\nc\n", "A\nb\nc\n", "a\nb\nC\n", "A\nb\nC\n", False),
    ("text", "a\nb\nc\n", "A\nb\nc\n", "X\nb\nc\n", "A\nb\nc\n", True),
    ("text", M, "x\n", M, "x\n", False),
    ("text", "a\n", M, "a\n", M, False),
    ("text", "a\nb\nc\n", "b\nc\n", "a\nb\n", "b\n", False),
    ("text", "a\nb\nc\n", "b\nc\n", M, "b\nc\n", True),
    ("text", "a\n", "", "a\nb\n", "", True),  # adjacent edits collide, as in git
    ("text", "a\nb\n", "b\n", "a\n", "b\n", True),
    ("text", "a\nb\nc\nd\n", "b\nc\nd\n", "a\nb\nd\n", "b\nd\n", False),
    ("text", "x\n", "", M, M, False),
    ("text", "x\n", "", "", "", False),
    ("max", "2024-01-01", "2024-02-01", "2024-03-01", "2024-03-01", False),
    ("max", "2024-01-01", "2024-05-01", "2024-03-01", "2024-05-01", False),
    ("max", "2024-05-01", "2024-01-01", "2024-05-01", "2024-05-01", False),
    ("max", M, M, "2024-03-01", "2024-03-01", False),
    ("max", "2024-01-01", "2024-02-01", M, "2024-02-01", False),
    ("max", M, M, M, M, False),
    ("max", 1, 2, 3, 3, False),
    ("fixed", "a", "a", "b", "a", False),
    ("fixed", "a", "b", "a", "b", False),
    ("fixed", M, M, "b", "b", False),
    ("fixed", "a", "a", M, "a", False),
    ("fixed", M, "a", "b", "a", False),
]


@pytest.mark.parametrize("rule, base, ours, theirs, expected, conflict", FIELD_TABLE)
def test_merge_field(
    rule: str, base: Any, ours: Any, theirs: Any, expected: Any, conflict: bool
) -> None:
    value, found = merge_field(rule, "f", A(base, ours, theirs))
    assert value == expected and type(value) is type(expected)
    if conflict:
        assert found == FieldConflict(
            "f", *(None if v is MISSING else v for v in (base, ours, theirs))
        )
    else:
        assert found is None


def entry(at: str, status: str, by: str = "alice") -> dict[str, str]:
    return {"at": at, "by": by, "status": status}


OPEN = entry("2024-01-01T00:00:00Z", "open")
ACCEPTED = entry("2024-01-05T00:00:00Z", "accepted", "bob")
DECLINED = entry("2024-01-04T00:00:00Z", "declined", "carol")
WITHDRAWN = entry("2024-01-09T00:00:00Z", "withdrawn")
APPEND_TABLE = [
    # base, ours, theirs, expected
    ([OPEN], [OPEN, ACCEPTED], [OPEN], [OPEN, ACCEPTED]),
    ([OPEN], [OPEN, ACCEPTED], [OPEN, DECLINED], [OPEN, DECLINED, ACCEPTED]),
    ([OPEN], [OPEN, WITHDRAWN], [OPEN, ACCEPTED, WITHDRAWN], [OPEN, ACCEPTED, WITHDRAWN]),
    ([OPEN, ACCEPTED], [OPEN], [OPEN, ACCEPTED, WITHDRAWN], [OPEN, ACCEPTED, WITHDRAWN]),
    (M, [ACCEPTED, OPEN], [OPEN], [OPEN, ACCEPTED]),
    (M, [OPEN], M, [OPEN]),
    ([OPEN], [ACCEPTED, OPEN], [ACCEPTED, OPEN], [ACCEPTED, OPEN]),  # agreed: left alone
    ([], [{"by": "x"}], [{"at": "2024"}], [{"by": "x"}, {"at": "2024"}]),
]


@pytest.mark.parametrize("base, ours, theirs, expected", APPEND_TABLE)
def test_merge_field_append(base: Any, ours: Any, theirs: Any, expected: Any) -> None:
    assert merge_field("append", "history", A(base, ours, theirs)) == (expected, None)


def test_merge_field_unknown_rule() -> None:
    with pytest.raises(ValueError, match="unknown x-merge rule 'union'"):
        merge_field("union", "tags", A(["a"], ["b"], ["c"]))


def test_referral_history_and_details_merge() -> None:
    base = {
        "id": "data-pipeline-x1",
        "from": "alice",
        "to": "bob",
        "status": "open",
        "created": "2024-01-01T00:00:00Z",
        "updated": "2024-01-01T00:00:00Z",
        "details": "Python\nAirflow\n3 months\n",
        "history": [OPEN],
    }
    ours = base | {"details": "Python 3.12\nAirflow\n3 months\n", "updated": "2024-01-02T00:00:00Z"}
    theirs = base | {
        "status": "accepted",
        "history": [OPEN, ACCEPTED],
        "updated": "2024-01-05T00:00:00Z",
        "details": "Python\nAirflow\n3 months, remote\n",
        "created": "2020-01-01T00:00:00Z",
    }
    merged = merge_record(
        "referrals/data-pipeline-x1", A(base, ours, theirs), REFERRAL_RULES, theirs_handle="bob"
    )
    assert merged.outcome == "updated"
    assert merged.result == base | {
        "status": "accepted",
        "history": [OPEN, ACCEPTED],
        "updated": "2024-01-05T00:00:00Z",
        "details": "Python 3.12\nAirflow\n3 months, remote\n",
    }
    assert [n.kind for n in merged.notices] == ["refused-fixed"]
    assert "created" in merged.notices[0].message


# --- referrals: two status changes at once -----------------------------------------


def step(
    at: str, status: str, by: str, previous: str | None = None, **extra: str
) -> dict[str, Any]:
    made = {"at": f"2024-01-{at}T00:00:00Z", "by": by, "status": status}
    return made | ({"previous": previous} if previous else {}) | extra


MADE = step("01", "open", "alice")
BOB_TAKES = step("05", "accepted", "bob", "open")
CAROL_TAKES = step("06", "accepted", "carol", "open")
BOB_AGAIN = step("07", "accepted", "bob", "open")
ALICE_WITHDRAWS = step("04", "withdrawn", "alice", "open")
BOB_DONE = step("09", "completed", "bob", "accepted")
ALICE_NOTE = step("03", "open", "alice", "open", note="Client moved the start to May")
BOB_NOTE = step("08", "accepted", "bob", "accepted", note="Kick-off on Monday")


def referral(*history: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """A referral to anyone whose status is its last history entry's."""
    record: dict[str, Any] = {
        "id": "pipeline-x1",
        "title": "Data pipeline",
        "client": "acme-7k2q",
        "from": "alice",
        "to": "anyone",
        "status": history[-1]["status"],
        "details": "Python\nAirflow\n3 months\n",
        "created": "2024-01-01T00:00:00Z",
        "updated": max(e["at"] for e in history),
        "history": list(history),
    }
    return record | changes


RACE_TABLE = [
    # id, base, ours, theirs, ours' and theirs' statuses (None: no race), message
    (
        "both-accept-anyone",
        referral(MADE),
        referral(MADE, BOB_TAKES),
        referral(MADE, CAROL_TAKES),
        ("accepted", "accepted"),
        "accepted concurrently by bob (ours) and carol (theirs)",
    ),
    (
        "accept-against-withdraw",
        referral(MADE),
        referral(MADE, BOB_TAKES),
        referral(MADE, ALICE_WITHDRAWS),
        ("accepted", "withdrawn"),
        "accepted by bob (ours) and withdrawn by alice (theirs) concurrently",
    ),
    (
        "both-accept-in-repositories-that-never-met",
        None,
        referral(MADE, BOB_TAKES),
        referral(MADE, CAROL_TAKES),
        ("accepted", "accepted"),
        "accepted concurrently by bob (ours) and carol (theirs)",
    ),
    (
        "accept-and-complete-against-accept",
        referral(MADE),
        referral(MADE, BOB_TAKES, BOB_DONE),
        referral(MADE, CAROL_TAKES),
        ("completed", "accepted"),
        "accepted concurrently by bob (ours) and carol (theirs)",
    ),
    ("one-side-accepts", referral(MADE), referral(MADE, BOB_TAKES), referral(MADE), None, ""),
    (
        "accepted-there-completed-here",
        referral(MADE, BOB_TAKES),
        referral(MADE, BOB_TAKES, BOB_DONE),
        referral(MADE, BOB_TAKES),
        None,
        "",
    ),
    (
        "same-person-same-status",  # bob accepted in two clones of his own
        referral(MADE),
        referral(MADE, BOB_TAKES),
        referral(MADE, BOB_AGAIN),
        None,
        "",
    ),
    (
        "accept-against-a-note",
        referral(MADE),
        referral(MADE, BOB_TAKES),
        referral(MADE, ALICE_NOTE),
        None,
        "",
    ),
    (
        "notes-on-both-sides",
        referral(MADE, BOB_TAKES),
        referral(MADE, BOB_TAKES, BOB_NOTE),
        referral(MADE, ALICE_NOTE, BOB_TAKES),
        None,
        "",
    ),
]


@pytest.mark.parametrize(
    "base, ours, theirs, statuses, message",
    [case[1:] for case in RACE_TABLE],
    ids=[case[0] for case in RACE_TABLE],
)
def test_concurrent_status_changes(
    base: Any, ours: Any, theirs: Any, statuses: tuple[str, str] | None, message: str
) -> None:
    merged = merge_record(
        "referrals/pipeline-x1", A(base, ours, theirs), REFERRAL_RULES, theirs_handle="carol"
    )
    every_entry = {_key(e) for side in (ours, theirs) for e in side["history"]}
    if statuses is None:  # histories unioned, nothing lost, in order of time
        assert merged.conflict is None and merged.result is not None
        history = merged.result["history"]
        assert {_key(e) for e in history} == every_entry
        assert [e["at"] for e in history] == sorted(e["at"] for e in history)
        return
    conflict = merged.conflict
    assert conflict is not None and merged.outcome == "conflict"
    assert conflict.reason == ("add-add" if base is None else "both-modified")
    status = next(f for f in conflict.fields if f.field == "status")
    assert (status.ours, status.theirs) == statuses
    assert status.base == (base["status"] if base else None)
    assert [m for m in conflict.messages if message in m], conflict.messages
    assert "history" in {f.field for f in conflict.fields}
    # Each best effort tells one side's story whole: its status and its history.
    assert conflict.merged is not None and conflict.merged_theirs is not None
    assert conflict.merged["status"] == ours["status"]
    assert conflict.merged["history"] == ours["history"]
    assert conflict.merged_theirs["status"] == theirs["status"]
    assert conflict.merged_theirs["history"] == theirs["history"]


def _key(entry: dict[str, Any]) -> tuple[str, ...]:
    return tuple(sorted(f"{k}={v}" for k, v in entry.items()))


def test_concurrent_accept_keeps_the_other_sides_notes_and_other_fields() -> None:
    base = referral(MADE)
    ours = referral(MADE, BOB_TAKES, details="Python 3.12\nAirflow\n3 months\n")
    theirs = referral(MADE, ALICE_NOTE, CAROL_TAKES, budget="EUR 600/day")
    conflict = merge_record(
        "referrals/pipeline-x1", A(base, ours, theirs), REFERRAL_RULES, theirs_handle="carol"
    ).conflict
    assert conflict is not None
    assert [f.field for f in conflict.fields] == ["status", "history"]
    assert conflict.merged == ours | {
        "budget": "EUR 600/day",
        "history": [MADE, ALICE_NOTE, BOB_TAKES],
        "updated": CAROL_TAKES["at"],
    }
    assert conflict.merged_theirs is not None
    assert conflict.merged_theirs["history"] == [MADE, ALICE_NOTE, CAROL_TAKES]
    assert conflict.merged_theirs["details"] == ours["details"]
    assert resolve_by_strategy(conflict, "theirs") == conflict.merged_theirs
    assert resolve_by_strategy(conflict, "ours") == conflict.merged
    assert resolve_conflict(conflict, "theirs", ["status", "history"]) == conflict.merged | {
        "history": theirs["history"]
    }


def test_concurrent_accept_is_reported_from_either_side_and_whole_record() -> None:
    base, bob, carol = referral(MADE), referral(MADE, BOB_TAKES), referral(MADE, CAROL_TAKES)
    rules = REFERRAL_RULES
    back = merge_record("referrals/pipeline-x1", A(base, carol, bob), rules, theirs_handle="bob")
    assert back.conflict is not None
    assert back.conflict.messages[0].startswith(
        "accepted concurrently by carol (ours) and bob (theirs)"
    )
    whole = merge_record(
        "referrals/pipeline-x1", A(base, bob, carol), rules, theirs_handle="c", whole_record=True
    )
    assert whole.conflict is not None
    assert {f.field for f in whole.conflict.fields} >= {"status", "history"}
    assert whole.conflict.merged == bob and whole.conflict.merged_theirs == carol
    assert "bob (ours) and carol (theirs)" in whole.conflict.messages[0]


def test_contacts_have_no_history_rule() -> None:
    base = contact()
    assert merge(base, contact(name="A"), contact(role="B")).conflict is None


# --- diff3 ------------------------------------------------------------------------

BASE_TEXT = "1\n2\n3\n4\n5\n6\n"
TEXT_TABLE = [
    # id, ours, theirs, expected (None: conflict)
    ("separate-edits", "one\n2\n3\n4\n5\n6\n", "1\n2\n3\n4\n5\nsix\n", "one\n2\n3\n4\n5\nsix\n"),
    ("identical-edit", "1\ntwo\n3\n4\n5\n6\n", "1\ntwo\n3\n4\n5\n6\n", "1\ntwo\n3\n4\n5\n6\n"),
    ("identical-insert", "0\n" + BASE_TEXT, "0\n" + BASE_TEXT, "0\n" + BASE_TEXT),
    ("overlap", "1\nTWO\n3\n4\n5\n6\n", "1\ntwo\n3\n4\n5\n6\n", None),
    ("adjacent-lines", "1\nTWO\n3\n4\n5\n6\n", "1\n2\nTHREE\n4\n5\n6\n", None),
    ("one-line-apart", "1\nTWO\n3\n4\n5\n6\n", "1\n2\n3\nFOUR\n5\n6\n", "1\nTWO\n3\nFOUR\n5\n6\n"),
    ("insert-same-point", "1\n2\nours\n3\n4\n5\n6\n", "1\n2\ntheirs\n3\n4\n5\n6\n", None),
    ("insert-next-to-edit", "1\n2\nnew\n3\n4\n5\n6\n", "1\n2\nTHREE\n4\n5\n6\n", None),
    ("append-both", BASE_TEXT + "7\n", BASE_TEXT + "seven\n", None),
    ("append-and-prepend", "0\n" + BASE_TEXT, BASE_TEXT + "7\n", "0\n" + BASE_TEXT + "7\n"),
    ("delete-and-edit-apart", "2\n3\n4\n5\n6\n", "1\n2\n3\n4\n5\nsix\n", "2\n3\n4\n5\nsix\n"),
    ("delete-vs-edit", "1\n2\n4\n5\n6\n", "1\n2\nthree\n4\n5\n6\n", None),
    ("both-delete-same", "1\n2\n4\n5\n6\n", "1\n2\n4\n5\n6\n", "1\n2\n4\n5\n6\n"),
    ("delete-all-vs-keep", "", BASE_TEXT, ""),
    ("no-final-newline", "1\n2\n3\n4\n5\n6", BASE_TEXT, "1\n2\n3\n4\n5\n6"),
    ("crlf-lines", "1\r\n2\n3\n4\n5\n6\n", "1\n2\n3\n4\n5\n6\r\n", "1\r\n2\n3\n4\n5\n6\r\n"),
    (
        "unicode",
        "1\n2 ✓\n3\n4\n5\n6\n",
        "1\n2\n3\n4\n5\n6 — ünïcode 日本\n",
        "1\n2 ✓\n3\n4\n5\n6 — ünïcode 日本\n",
    ),
    (
        "unicode-line-separator-is-not-a-newline",
        "1\n2\u2028x\n3\n4\n5\n6\n",
        "1\n2\n3\n4\n5\nsix\n",
        "1\n2\u2028x\n3\n4\n5\nsix\n",
    ),
    ("several-hunks", "a\n2\nb\n4\n5\n6\n", "1\n2\n3\n4\nc\n6\n", "a\n2\nb\n4\nc\n6\n"),
]


@pytest.mark.parametrize(
    "ours, theirs, expected", [c[1:] for c in TEXT_TABLE], ids=[c[0] for c in TEXT_TABLE]
)
def test_merge_text(ours: str, theirs: str, expected: str | None) -> None:
    assert merge_text(BASE_TEXT, ours, theirs) == expected
    assert merge_text(BASE_TEXT, theirs, ours) == expected  # symmetric


TEXTS = st.lists(st.sampled_from(["a\n", "b\n", "c\n", "ü\n", "d"]), max_size=6).map("".join)


@settings(max_examples=200, deadline=None)
@given(TEXTS, TEXTS, TEXTS)
def test_merge_text_properties(base: str, ours: str, theirs: str) -> None:
    merged = merge_text(base, ours, theirs)
    assert merged == merge_text(base, theirs, ours)
    assert merge_text(base, base, theirs) == theirs
    assert merge_text(base, ours, ours) == ours
    if merged is not None and ours != base and theirs == base:
        assert merged == ours


def test_merge_text_from_empty_base() -> None:
    assert merge_text("", "a\n", "") == "a\n"
    assert merge_text("", "a\n", "a\n") == "a\n"
    assert merge_text("", "a\n", "b\n") is None


# --- property tests ----------------------------------------------------------------

FIELD_STRATEGIES: dict[str, st.SearchStrategy[Any]] = {
    "value": st.sampled_from(["a", "b", "ç"]),
    "set": st.lists(st.sampled_from(["w", "x", "y", "z"]), unique=True, max_size=4),
    "text": st.lists(
        st.sampled_from(["one\n", "two\n", "drei\n", "four", "ünf\n"]), max_size=5
    ).map("".join),
    "max": st.sampled_from(
        ["2024-01-01T00:00:00Z", "2024-06-01T00:00:00Z", "2025-01-01T00:00:00+01:00"]
    ),
    "fixed": st.sampled_from(["alice", "bob"]),
}


@st.composite
def edited(draw: st.DrawFn, base: dict[str, Any] | None) -> dict[str, Any] | None:
    """A side derived from base: some fields kept, some dropped, some set anew."""
    if draw(st.integers(0, 9)) == 0:
        return None
    record = dict(base or {})
    for name, rule in CONTACT_RULES.items():
        action = draw(st.sampled_from(["keep", "keep", "keep", "drop", "set"]))
        if action == "drop":
            record.pop(name, None)
        elif action == "set":
            record[name] = draw(FIELD_STRATEGIES[rule])
    return record


@st.composite
def histories(draw: st.DrawFn) -> AncestorOursTheirs[dict[str, Any] | None]:
    base = draw(st.none() | edited({}).filter(lambda r: r is not None))
    return A(base, draw(edited(base)), draw(edited(base)))


def field_of(record: dict[str, Any] | None, name: str) -> Any:
    return MISSING if record is None else record.get(name, MISSING)


def as_set(value: Any) -> Any:
    return frozenset(value) if isinstance(value, list) else value


PROPERTY = settings(max_examples=200, deadline=None)


@PROPERTY
@given(histories())
def test_change_against_unchanged_side_wins(versions: AncestorOursTheirs[Any]) -> None:
    base, _, theirs = versions
    merged = merge(base, base, theirs, handle="bob")
    assert merged.conflict is None
    if theirs is None and base is not None:
        owner = base.get("added_by") == "bob"
        assert merged.outcome == ("removed" if owner else "unchanged")
        assert merged.result == (None if owner else base)
    else:
        for name, rule in CONTACT_RULES.items():
            ours_value = field_of(base, name)
            if rule == "fixed" and ours_value is not MISSING:
                assert field_of(merged.result, name) == ours_value
            else:
                assert field_of(merged.result, name) == field_of(theirs, name)
    back = merge(base, theirs, base, handle="bob")
    assert (back.outcome, back.result, back.notices) == ("unchanged", theirs, [])


def best_effort(merged: RecordMerge) -> tuple[dict[str, Any] | None, set[str]]:
    if merged.conflict is None:
        return merged.result, set()
    return merged.conflict.merged, {f.field for f in merged.conflict.fields}


@PROPERTY
@given(histories())
def test_merge_is_symmetric_on_conflict_free_fields(versions: AncestorOursTheirs[Any]) -> None:
    base, ours, theirs = versions
    if ours is None or theirs is None:
        return
    forward, forward_conflicts = best_effort(merge(base, ours, theirs))
    backward, backward_conflicts = best_effort(merge(base, theirs, ours))
    assert forward_conflicts == backward_conflicts
    for name, rule in CONTACT_RULES.items():
        if rule == "fixed" or name in forward_conflicts:
            continue
        assert as_set(field_of(forward, name)) == as_set(field_of(backward, name)), name


@PROPERTY
@given(histories())
def test_one_sided_field_edit_is_never_lost(versions: AncestorOursTheirs[Any]) -> None:
    base, ours, theirs = versions
    if ours is None or theirs is None:
        return
    result, conflicts = best_effort(merge(base, ours, theirs))
    for name, rule in CONTACT_RULES.items():
        if rule not in ("value", "set", "text"):
            continue
        values = A(field_of(base, name), field_of(ours, name), field_of(theirs, name))
        for unchanged, changed in ((values.ours, values.theirs), (values.theirs, values.ours)):
            if unchanged == values.base and changed != unchanged:
                assert name not in conflicts
                if rule == "set":  # the same set may keep our order
                    assert as_set(field_of(result, name)) == as_set(changed), name
                else:
                    assert field_of(result, name) == changed, name


@PROPERTY
@given(histories())
def test_newest_resolves_symmetrically(versions: AncestorOursTheirs[Any]) -> None:
    base, ours, theirs = versions
    if ours is not None and theirs is not None:  # fixed fields: each side keeps its own
        theirs = theirs | {k: ours[k] for k in ("id", "added_by") if k in ours}
        theirs = {k: v for k, v in theirs.items() if k not in ("id", "added_by") or k in ours}
    forward = merge(base, ours, theirs).conflict
    backward = merge(base, theirs, ours).conflict
    assert (forward is None) == (backward is None)
    if forward is not None and backward is not None:
        assert resolve_by_strategy(forward, "newest") == resolve_by_strategy(backward, "newest")
        assert resolve_by_strategy(forward, "theirs") == resolve_by_strategy(backward, "ours")


# --- resolving -------------------------------------------------------------------


def both_modified() -> RecordConflict:
    ours = contact(name="Acme Ltd", role="CTO", tags=["python", "remote", "a"])
    theirs = contact(
        name="Acme Inc", role=DROP, tags=["remote", "python", "b"], updated="2024-02-01T00:00:00Z"
    )
    conflict = merge(contact(role="CEO"), ours, theirs).conflict
    assert conflict is not None and {f.field for f in conflict.fields} == {"name", "role"}
    return conflict


def test_resolve_conflict_whole_records() -> None:
    conflict = both_modified()
    base, ours, theirs = conflict.versions
    assert resolve_conflict(conflict, "ours") == ours
    assert resolve_conflict(conflict, "theirs") == theirs
    assert resolve_conflict(conflict, "base") == base
    assert resolve_conflict(conflict, "delete") is None
    added = merge(None, contact(name="X"), contact(name="Y")).conflict
    assert added is not None and resolve_conflict(added, "base") is None


def test_resolve_conflict_fields() -> None:
    conflict = both_modified()
    merged_tags = ["python", "remote", "a", "b"]
    assert conflict.merged is not None and conflict.merged["tags"] == merged_tags
    assert resolve_conflict(conflict, "theirs", ["name"]) == contact(
        name="Acme Inc", role="CTO", tags=merged_tags, updated="2024-02-01T00:00:00Z"
    )
    assert resolve_conflict(conflict, "theirs", ["name", "role"]) == contact(
        name="Acme Inc", tags=merged_tags, updated="2024-02-01T00:00:00Z"
    )
    assert resolve_conflict(conflict, "base", ["role"]) == contact(
        name="Acme Ltd", role="CEO", tags=merged_tags, updated="2024-02-01T00:00:00Z"
    )
    assert resolve_conflict(conflict, "delete", ["role"]) == contact(
        name="Acme Ltd", tags=merged_tags, updated="2024-02-01T00:00:00Z"
    )


def test_resolve_conflict_fields_of_a_delete_conflict() -> None:
    conflict = merge(B, None, T).conflict
    assert conflict is not None
    assert resolve_conflict(conflict, "base", ["name"]) == contact(updated=T["updated"])
    assert resolve_conflict(conflict, "ours", ["role"]) == T


def test_resolve_conflict_rejects_unknown_choice() -> None:
    with pytest.raises(ValueError, match="unknown choice"):
        resolve_conflict(both_modified(), "mine")
    with pytest.raises(ValueError, match="unknown strategy"):
        resolve_by_strategy(both_modified(), "oldest")


def test_resolve_by_strategy_field_conflicts() -> None:
    conflict = both_modified()
    common = {"updated": "2024-02-01T00:00:00Z"}
    assert resolve_by_strategy(conflict, "ours") == contact(
        name="Acme Ltd", role="CTO", tags=["python", "remote", "a", "b"], **common
    )
    theirs = contact(name="Acme Inc", role=DROP, tags=["remote", "python", "b", "a"], **common)
    assert resolve_by_strategy(conflict, "theirs") == theirs
    assert resolve_by_strategy(conflict, "newest") == theirs  # theirs was updated later


def test_resolve_by_strategy_keeps_our_fixed_fields() -> None:
    conflict = merge(B, contact(name="X"), contact(name="Y", added_by="bob")).conflict
    assert conflict is not None
    assert resolve_by_strategy(conflict, "theirs") == contact(name="Y")


def test_resolve_by_strategy_delete_cases() -> None:
    delete_modify = merge(B, None, T).conflict
    modify_delete = merge(B, OURS_EDIT, None).conflict
    assert delete_modify is not None and modify_delete is not None
    assert resolve_by_strategy(delete_modify, "ours") is None
    assert resolve_by_strategy(delete_modify, "theirs") == T
    assert resolve_by_strategy(delete_modify, "newest") == T
    assert resolve_by_strategy(modify_delete, "ours") == OURS_EDIT
    assert resolve_by_strategy(modify_delete, "theirs") is None
    assert resolve_by_strategy(modify_delete, "newest") == OURS_EDIT


def test_resolve_by_strategy_invalid_after_merge_takes_whole_side() -> None:
    def validate(label: str, record: dict[str, Any]) -> list[str]:
        return ["bad"]

    later = "2024-09-01T00:00:00Z"
    conflict = merge(
        B, contact(role="CTO"), contact(location="Leeds", updated=later), validate=validate
    )
    assert conflict.conflict is not None
    assert resolve_by_strategy(conflict.conflict, "ours") == contact(role="CTO")
    assert resolve_by_strategy(conflict.conflict, "newest") == contact(
        location="Leeds", updated=later
    )


def test_newest_tie_is_symmetric() -> None:
    ours, theirs = contact(name="Acme Ltd"), contact(name="Acme Inc")
    forward, backward = merge(B, ours, theirs).conflict, merge(B, theirs, ours).conflict
    assert forward is not None and backward is not None
    assert resolve_by_strategy(forward, "newest") == resolve_by_strategy(backward, "newest")
    assert resolve_by_strategy(forward, "newest") == ours  # '"Acme Ltd"' sorts after '"Acme Inc"'


# --- record sets -------------------------------------------------------------------


def test_merge_records_and_summary() -> None:
    labels: list[str] = []

    def rules_for(label: str) -> dict[str, str]:
        labels.append(label)
        return REFERRAL_RULES if label.startswith("referrals/") else CONTACT_RULES

    items = [
        ("contacts/z-new", A(None, None, T)),
        ("contacts/a-new", A(None, None, OURS_EDIT)),
        ("contacts/changed", A(B, B, T)),
        ("contacts/gone", A(BOB_ADDED, BOB_ADDED, None)),
        ("contacts/kept", A(B, B, None)),
        ("contacts/clash", A(B, contact(name="X"), contact(name="Y"))),
        ("contacts/same", A(B, OURS_EDIT, OURS_EDIT)),
    ]
    result = merge_records(items, rules_for, theirs_handle="bob")
    assert sorted(labels) == sorted(label for label, _ in items)
    assert [r.label for r in result.records] == sorted(labels)
    assert result.counts() == {"added": 2, "updated": 1, "removed": 1, "conflicts": 1}
    assert result.changes == {
        "contacts/a-new": OURS_EDIT,
        "contacts/changed": T,
        "contacts/gone": None,
        "contacts/z-new": T,
    }
    assert [c.label for c in result.conflicts] == ["contacts/clash"]
    assert [(n.label, n.kind) for n in result.notices] == [("contacts/kept", "kept-deleted")]
    assert result.summary("bob") == "Merge bob: 2 added, 1 updated, 1 removed, 1 conflict"
    assert MergeResult([]).summary("bob") == "Merge bob: nothing new"
    only_updated = merge_records(items[2:3], rules_for, theirs_handle="bob")
    assert only_updated.summary("carol") == "Merge carol: 1 updated"


def test_merge_records_whole_record_and_validate() -> None:
    items = [("contacts/x", A(B, OURS_EDIT, T))]
    result = merge_records(items, lambda _: CONTACT_RULES, theirs_handle="bob", whole_record=True)
    assert result.counts()["conflicts"] == 1
    result = merge_records(
        items, lambda _: CONTACT_RULES, theirs_handle="bob", validate=lambda *_: ["no"]
    )
    assert result.conflicts[0].reason == "invalid-after-merge"


def test_ancestor_ours_theirs() -> None:
    versions = A(1, 2, 3)
    assert (versions.base, versions.ours, versions.theirs) == (1, 2, 3)
    assert versions.map(str) == A("1", "2", "3")


# --- several merge bases (criss-cross) ----------------------------------------------

X = contact(notes="1\n2\n3\n4\n5\n6\n7\n")
ALICE_1 = contact(
    name="Acme Ltd",
    tags=["python", "remote", "contract"],
    notes="one\n2\n3\n4\n5\n6\n7\n",
    updated="2024-02-01T00:00:00Z",
)
BOB_1 = contact(
    tags=["remote", "ai"],
    notes="1\n2\n3\n4\n5\n6\nseven\n",
    role="Lead",
    updated="2024-03-01T00:00:00Z",
)


def criss_cross() -> tuple[dict[str, Any], dict[str, Any], dict[str, Any] | None]:
    """Alice and Bob each merge the other's first edit: two merge bases for what follows."""
    alice = merge(X, ALICE_1, BOB_1).result
    bob = merge(X, BOB_1, ALICE_1, handle="alice").result
    assert alice is not None and bob is not None
    assert alice["tags"] == ["remote", "contract", "ai"] and bob["tags"] == [
        "remote",
        "ai",
        "contract",
    ]
    return alice, bob, virtual_base(LABEL, [ALICE_1, BOB_1], CONTACT_RULES)


def test_criss_cross_repeated_pull_is_quiet() -> None:
    alice, bob, base = criss_cross()
    assert merge(base, alice, bob).outcome == "unchanged"
    assert merge(base, bob, alice, handle="alice").outcome == "unchanged"


def test_criss_cross_later_edits_merge_cleanly() -> None:
    alice, bob, base = criss_cross()
    alice_2 = alice | {"name": "Acme Limited", "notes": alice["notes"].replace("4", "four")}
    bob_2 = bob | {"role": "Head of talent", "tags": ["ai", "remote"]}  # drops "contract"
    merged = merge(base, alice_2, bob_2)
    assert merged.conflict is None
    assert merged.result == alice_2 | {"role": "Head of talent", "tags": ["remote", "ai"]}
    mirrored = merge(base, bob_2, alice_2, handle="alice")
    assert mirrored.result is not None and mirrored.result["name"] == "Acme Limited"
    assert merge(base, alice_2, bob).result == alice_2
    assert merge(base, alice, bob_2).result == bob_2 | {"tags": ["remote", "ai"]}


def test_criss_cross_genuine_conflict_still_conflicts() -> None:
    alice, bob, base = criss_cross()
    merged = merge(base, alice | {"name": "Acme A"}, bob | {"name": "Acme B"})
    assert merged.conflict is not None
    assert [f.field for f in merged.conflict.fields] == ["name"]
    # Each side holding a different base value is a disagreement too, not a silent pick.
    reverted = merge(base, alice | {"name": "Acme"}, bob)
    assert reverted.conflict is not None and reverted.conflict.fields[0].field == "name"


def test_criss_cross_deletion_of_untouched_record_is_not_a_conflict() -> None:
    alice, _, base = criss_cross()
    merged = merge(base, alice, None)
    assert merged.conflict is None
    assert [n.kind for n in merged.notices] == ["kept-deleted"]
    owner = merge(base, alice, None, handle="alice")
    assert owner.outcome == "removed"


def test_virtual_base_shape() -> None:
    base = virtual_base(LABEL, [ALICE_1, BOB_1], CONTACT_RULES)
    assert isinstance(base, VirtualBase)
    assert base == virtual_base(LABEL, [BOB_1, None, ALICE_1], CONTACT_RULES)
    assert sorted(base["tags"]) == ["ai", "contract", "python", "remote"]
    assert base["updated"] == "2024-03-01T00:00:00Z"
    assert base["name"] in ("Acme", "Acme Ltd")
    assert set(base.alternatives["name"]) == {"Acme", "Acme Ltd"}
    assert set(base.alternatives["role"]) == {MISSING, "Lead"}
    assert virtual_base(LABEL, [None, None], CONTACT_RULES) is None
    assert virtual_base(LABEL, [], CONTACT_RULES) is None
    plain = virtual_base(LABEL, [X, dict(X), None], CONTACT_RULES)
    assert plain == X and type(plain) is dict
    nested = virtual_base(LABEL, [base, ALICE_1], CONTACT_RULES)
    assert isinstance(nested, VirtualBase) and set(nested.alternatives["name"]) == {
        "Acme",
        "Acme Ltd",
    }


def test_virtual_base_most_common_value_wins() -> None:
    bases = [contact(role="a"), contact(role="b"), contact(role="b"), contact(role=DROP)]
    base = virtual_base(LABEL, bases, CONTACT_RULES)
    assert base is not None and base["role"] == "b"
    history_bases = [{"history": [OPEN, ACCEPTED]}, {"history": [OPEN, DECLINED]}]
    merged = virtual_base("referrals/r", history_bases, REFERRAL_RULES)
    assert merged == {"history": [OPEN, DECLINED, ACCEPTED]}


def test_record_added_in_one_base_only_is_present() -> None:
    base = virtual_base(LABEL, [None, ALICE_1], CONTACT_RULES)
    assert base == ALICE_1
    assert merge(base, ALICE_1 | {"role": "x"}, ALICE_1).result == ALICE_1 | {"role": "x"}


# Several merge bases, some with the record: base i (without it) deleted it when the common
# ancestors of bases i and j (with it) held the very version base j holds.
@pytest.mark.parametrize(
    ("bases", "ancestors", "deleted"),
    [
        ([None, X], {(0, 1): [X]}, True),  # i had X and deleted it; j never touched it
        ([X, None], {(1, 0): [X]}, True),  # order is irrelevant
        ([None, X], {(0, 1): [ALICE_1, X]}, True),  # any common ancestor will do
        ([None, X], {(0, 1): [None]}, False),  # added after they parted: i never had it
        ([None, X], {(0, 1): []}, False),  # unrelated histories
        ([None, ALICE_1], {(0, 1): [X]}, False),  # j changed it since: delete/modify
        ([None, X, X], {(0, 1): [X], (0, 2): [X]}, True),
        ([None, X, ALICE_1], {(0, 1): [X], (0, 2): [X]}, False),
        ([None, None, X], {(0, 2): [X], (1, 2): [None]}, False),  # base 1 never had it
        ([X, dict(X)], {}, False),  # present in every base: virtual_base's business
        ([None, None], {}, False),
    ],
)
def test_deleted_in_bases(
    bases: list[dict[str, Any] | None],
    ancestors: dict[tuple[int, int], list[dict[str, Any] | None]],
    deleted: bool,
) -> None:
    assert deleted_in_bases(bases, lambda i, j: ancestors[i, j]) is deleted


def test_a_deletion_in_one_of_two_bases_lets_a_later_change_through() -> None:
    """Criss-cross after a deletion: base 1 deleted X, base 2 still holds it untouched.
    Ours lacks it; theirs changed it after seeing the deletion (newest kept it, say). With
    the deletion as the base, theirs is taken; the bases' mere union would have been X,
    so the deletion met theirs' change as a conflict (delete-modify) once more."""
    theirs = X | {"role": "Kept", "updated": "2024-04-01T00:00:00Z"}
    base = None if deleted_in_bases([None, X], lambda i, j: [X]) else X
    assert merge(base, None, theirs).outcome == "added"
    assert merge(X, None, theirs).conflict is not None  # as it was: a spurious conflict


def test_merge_bases() -> None:
    trees = [{"contacts/a": ALICE_1, "contacts/b": X}, {"contacts/a": BOB_1, "contacts/c": None}]
    bases = merge_bases(trees, lambda _: CONTACT_RULES)
    assert set(bases) == {"contacts/a", "contacts/b", "contacts/c"}
    assert bases["contacts/a"] == virtual_base("contacts/a", [ALICE_1, BOB_1], CONTACT_RULES)
    assert bases["contacts/b"] == X and bases["contacts/c"] is None
    assert merge_bases([], lambda _: CONTACT_RULES) == {}


def test_criss_cross_text_tries_each_base() -> None:
    alice, bob, base = criss_cross()
    assert alice["notes"] == "one\n2\n3\n4\n5\n6\nseven\n"
    # The edit touches Bob's first change, so only Bob's base text merges it cleanly.
    alice_2 = alice | {"notes": "one\n2\n3\n4\n5\nsix\nseven\n"}
    assert merge(base, alice_2, bob).result == alice_2
    assert merge(base, bob, alice_2, handle="alice").result == bob | {"notes": alice_2["notes"]}


@PROPERTY
@given(st.data())
def test_criss_cross_property(data: st.DataObject) -> None:
    """After a criss-cross, pulling again is quiet and a later edit on one side wins."""
    start = data.draw(edited({}).filter(lambda r: r is not None))
    alice_1, bob_1 = data.draw(edited(start)), data.draw(edited(start))
    if alice_1 is None or bob_1 is None:
        return
    alice = merge(start, alice_1, bob_1, handle="bob")
    bob = merge(start, bob_1, alice_1, handle="alice")
    if alice.result is None or bob.result is None:
        return
    base = virtual_base(LABEL, [alice_1, bob_1], CONTACT_RULES)
    assert base == virtual_base(LABEL, [bob_1, alice_1], CONTACT_RULES)
    quiet = merge(base, alice.result, bob.result)
    assert quiet.conflict is None
    for name, rule in CONTACT_RULES.items():  # fixed fields: each side keeps its own
        if rule != "fixed":
            assert field_of(quiet.result, name) == field_of(alice.result, name)
    later = data.draw(edited(alice.result))
    if later is None:
        return
    result, conflicts = best_effort(merge(base, later, bob.result))
    for name, rule in CONTACT_RULES.items():
        value = field_of(later, name)
        held = (field_of(alice_1, name), field_of(bob_1, name), field_of(alice.result, name))
        if rule == "value" and value not in held:
            assert name not in conflicts and field_of(result, name) == value


# --- text as people type it: set items by key, times as instants --------------------------


@pytest.mark.parametrize(
    ("field", "base", "ours", "theirs", "region", "expected"),
    [
        (
            "tags",
            ["python"],
            ["python", "Remote"],
            ["python", "remote"],
            "ZZ",
            ["python", "Remote"],
        ),
        ("tags", ["remote"], ["Remote"], ["remote", "go"], "ZZ", ["Remote", "go"]),
        ("tags", ["Remote"], [], ["remote"], "ZZ", []),  # ours dropped it, theirs respelled
        ("emails", [], ["Dana@Acme.example"], ["dana@acme.example"], "ZZ", ["Dana@Acme.example"]),
        ("industries", [], ["FinTech"], ["fintech", "health"], "ZZ", ["FinTech", "health"]),
        (
            "phones",
            [],
            ["+44 20 7946 0000"],
            ["+44 (0)20 7946-0000"],
            "ZZ",
            ["+44 20 7946 0000"],
        ),
        (
            "phones",
            [],
            ["+1 415 555 0100"],
            ["(415) 555-0100"],
            "US",
            ["+1 415 555 0100"],
        ),
        (
            "phones",
            [],
            ["+1 415 555 0100"],
            ["(415) 555-0100"],
            "ZZ",  # without a region, a number without a country code may be another's
            ["+1 415 555 0100", "(415) 555-0100"],
        ),
    ],
)
def test_set_items_compare_by_their_key(
    field: str, base: Any, ours: Any, theirs: Any, region: str, expected: Any
) -> None:
    value, conflict = merge_field("set", field, A(base, ours, theirs), region)
    assert conflict is None and value == expected


@pytest.mark.parametrize(
    ("ours", "theirs", "later"),
    [
        ("2026-12-01T11:00:00+02:00", "2026-12-01T10:00:00Z", "theirs"),
        ("2026-12-01T10:00:00Z", "2026-12-01T10:00:00.500Z", "theirs"),
        ("2026-12-01T10:00:00.5Z", "2026-12-01T10:00:00.499999Z", "ours"),
        ("2026-12-02T00:30:00+01:00", "2026-12-01T23:00:00Z", "ours"),
        ("not a time", "2020-01-01T00:00:00Z", "theirs"),  # a real time wins over text
    ],
)
def test_max_and_newest_compare_instants(ours: str, theirs: str, later: str) -> None:
    value, conflict = merge_field("max", "updated", A(MISSING, ours, theirs))
    assert conflict is None and value == (ours if later == "ours" else theirs)
    # --strategy newest: the record with the later `updated` wins its conflicts
    base = contact()
    merged = merge(base, contact(name="Ours", updated=ours), contact(name="Theirs", updated=theirs))
    assert merged.conflict is not None
    resolved = resolve_by_strategy(merged.conflict, "newest")
    assert resolved is not None and resolved["name"] == ("Ours" if later == "ours" else "Theirs")


def test_history_is_ordered_by_instant() -> None:
    opened = {"at": "2026-12-01T09:00:00Z", "by": "alice", "status": "open"}
    late = {"at": "2026-12-01T10:00:00.500Z", "by": "bob", "status": "open", "note": "b"}
    early = {"at": "2026-12-01T10:00:00Z", "by": "carol", "status": "open", "note": "c"}
    offset = {"at": "2026-12-01T11:00:00+02:00", "by": "dave", "status": "open", "note": "d"}
    value, _ = merge_field(
        "append", "history", A([opened], [opened, late], [opened, early, offset])
    )
    assert value == [opened, offset, early, late]  # 09:00, 09:00+, 10:00, 10:00.5 UTC
