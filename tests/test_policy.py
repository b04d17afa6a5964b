"""Tests of jobshare_sync.core.policy: the pull's drop and policy steps, on plain dicts.

No repository here: what the pull gathers from git (stale copies, the owner's word on a
deletion, the contacts we hold) is given as data, so each rule is tried on its own.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jobshare_sync.core import merge, policy
from jobshare_sync.core.merge import AncestorOursTheirs, MergeResult, Notice, RecordMerge
from jobshare_sync.core.policy import (
    Candidate,
    Facts,
    add_late_deletions,
    apply_policy,
    apply_relayed_deletions,
    apply_strategy,
    clients_named,
    drop_unmergeable,
    rules_for,
    skip_referrals_without_client,
    validate,
)
from jobshare_sync.core.records import Skipped

A = AncestorOursTheirs
T0 = "2026-01-01T00:00:00Z"
T1 = "2026-02-01T00:00:00Z"


def contact(record_id: str = "acme", added_by: str = "alice", **fields: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": record_id,
        "kind": "recruiter",
        "name": "Acme",
        "added_by": added_by,
        "updated": T0,
    }
    data.update(fields)
    return data


def referral(client: Any = "acme", **fields: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": "r1",
        "title": "Data pipeline",
        "client": client,
        "from": "bob",
        "to": "alice",
        "status": "open",
        "created": T0,
        "updated": T0,
        "history": [{"at": T0, "by": "bob", "status": "open"}],
    }
    data.update(fields)
    return data


def test_the_records_here_are_valid() -> None:
    """The tables below mean something only if their records pass the schema."""
    assert validate("contacts/acme", contact()) == []
    assert validate("referrals/r1", referral()) == []
    assert validate("contacts/acme", contact(kind="robot")) != []


# --- drop --------------------------------------------------------------------------------

BASE, OURS, THEIRS = contact(), contact(name="Acme Ltd"), contact(location="York")

DROP_TABLE = [
    # id, candidate, expected item (None: not merged), expected skipped reasons
    ("plain", Candidate("contacts/acme", A(BASE, OURS, THEIRS)), A(BASE, OURS, THEIRS), []),
    (
        "unreadable-theirs",
        Candidate("contacts/acme", A(None, None, None), "line 2: kind: 'robot' is not one of"),
        None,
        ["contacts/acme.yaml: line 2: kind: 'robot' is not one of"],
    ),
    (
        "stale-copy-of-theirs-is-dropped",
        Candidate("contacts/acme", A(None, None, THEIRS), stale_theirs=True),
        None,
        [],
    ),
    (
        "stale-theirs-counts-only-where-ours-lacks-it",
        Candidate("contacts/acme", A(BASE, OURS, THEIRS), stale_theirs=True),
        A(BASE, OURS, THEIRS),
        [],
    ),
    (
        "stale-copy-of-ours-is-the-base",
        Candidate("contacts/acme", A(BASE, OURS, None), stale_ours=True),
        A(OURS, OURS, None),
        [],
    ),
    (
        "stale-ours-counts-only-where-theirs-lacks-it",
        Candidate("contacts/acme", A(BASE, OURS, THEIRS), stale_ours=True),
        A(BASE, OURS, THEIRS),
        [],
    ),
    (
        "their-deletion-without-staleness",
        Candidate("contacts/acme", A(BASE, OURS, None)),
        A(BASE, OURS, None),
        [],
    ),
]


@pytest.mark.parametrize(
    "candidate, item, reasons", [row[1:] for row in DROP_TABLE], ids=[row[0] for row in DROP_TABLE]
)
def test_drop_table(
    candidate: Candidate,
    item: AncestorOursTheirs[dict[str, Any] | None] | None,
    reasons: list[str],
) -> None:
    items, skipped = drop_unmergeable([candidate])
    assert items == ([] if item is None else [(candidate.label, item)])
    assert [str(s) for s in skipped] == reasons


def test_drop_reports_paths_that_are_no_records_first_and_keeps_the_order() -> None:
    bad = Skipped("contacts/Bad Name.yaml", "file name is not a valid record id")
    candidates = [
        Candidate("contacts/a", A(None, None, contact("a"))),
        Candidate("contacts/b", A(None, None, None), "not a mapping of fields"),
        Candidate("contacts/c", A(None, None, contact("c"))),
    ]
    items, skipped = drop_unmergeable(candidates, [bad])
    assert [label for label, _ in items] == ["contacts/a", "contacts/c"]
    assert skipped == [bad, Skipped("contacts/b.yaml", "not a mapping of fields")]


def test_a_stale_copy_of_ours_lets_the_deletion_of_its_owner_through() -> None:
    """Ours is a copy carol deleted; bob (her friend, who added it) deleted it too. As the
    base, ours is untouched: the merge takes the deletion."""
    stale = contact(added_by="bob", updated=T1)
    items, _ = drop_unmergeable([Candidate("contacts/acme", A(BASE, stale, None), stale_ours=True)])
    result = merge.merge_records(items, rules_for, theirs_handle="bob", validate=validate)
    assert result.changes == {"contacts/acme": None}
    unmarked, _ = drop_unmergeable([Candidate("contacts/acme", A(BASE, stale, None))])
    kept = merge.merge_records(unmarked, rules_for, theirs_handle="bob", validate=validate)
    assert [c.reason for c in kept.conflicts] == ["modify-delete"]


# --- policy: relayed and late deletions ------------------------------------------------


def kept_by_merge(label: str, data: dict[str, Any]) -> RecordMerge:
    """What the merge gives for a friend's deletion of a record someone else added."""
    notice = Notice(label, "kept-deleted", f"{label}: kept; bob deleted it, but carol added it")
    return RecordMerge(label, "unchanged", data, None, [notice])


def test_a_relayed_deletion_applies_once_the_owner_deleted_the_record() -> None:
    result = MergeResult(
        [
            kept_by_merge("contacts/a", contact("a", "carol")),
            kept_by_merge("contacts/b", contact("b", "carol")),
            RecordMerge("contacts/c", "updated", contact("c")),
        ]
    )
    apply_relayed_deletions(result, {"contacts/a", "contacts/c"})
    assert [(r.label, r.outcome) for r in result.records] == [
        ("contacts/a", "removed"),
        ("contacts/b", "unchanged"),
        ("contacts/c", "updated"),  # the merge did not keep it against a deletion
    ]
    assert result.changes == {"contacts/a": None, "contacts/c": contact("c")}
    assert [n.label for n in result.notices] == ["contacts/b"]


def test_late_deletions_are_removed_unless_the_merge_has_the_record() -> None:
    result = MergeResult([RecordMerge("contacts/m", "updated", contact("m"))])
    add_late_deletions(result, ["contacts/z", "contacts/m", "contacts/a"])
    assert [(r.label, r.outcome) for r in result.records] == [
        ("contacts/a", "removed"),
        ("contacts/m", "updated"),
        ("contacts/z", "removed"),
    ]


# --- policy: strategies -----------------------------------------------------------------


def conflicted(ours: dict[str, Any] | None, theirs: dict[str, Any] | None) -> MergeResult:
    items = [("contacts/acme", A(contact(), ours, theirs))]
    return merge.merge_records(items, rules_for, theirs_handle="bob", validate=validate)


OLDER, NEWER = contact(name="Acme A", updated=T0), contact(name="Acme B", updated=T1)

STRATEGY_TABLE = [
    # id, ours, theirs, strategy, outcome, name (None: removed)
    ("ours", NEWER, OLDER, "ours", "unchanged", "Acme B"),
    ("theirs", OLDER, NEWER, "theirs", "updated", "Acme B"),
    ("newest-theirs", OLDER, NEWER, "newest", "updated", "Acme B"),
    ("newest-ours", NEWER, OLDER, "newest", "unchanged", "Acme B"),
    ("newest-keeps-a-deleted-record", None, NEWER, "newest", "updated", "Acme B"),
    ("theirs-deletes", OLDER, None, "theirs", "removed", None),
]


@pytest.mark.parametrize(
    "ours, theirs, strategy, outcome, name",
    [row[1:] for row in STRATEGY_TABLE],
    ids=[row[0] for row in STRATEGY_TABLE],
)
def test_strategy_table(
    ours: dict[str, Any] | None,
    theirs: dict[str, Any] | None,
    strategy: str,
    outcome: str,
    name: str | None,
) -> None:
    result = conflicted(ours, theirs)
    assert len(result.conflicts) == 1
    assert apply_strategy(result, strategy) == 1
    [record] = result.records
    assert (record.outcome, record.conflict) == (outcome, None)
    assert (record.result or {}).get("name") == name


def test_a_resolution_that_fails_validation_stays_a_conflict() -> None:
    ours, theirs = contact(kind="agency", updated=T0), contact(kind="robot", updated=T1)
    result = conflicted(ours, theirs)
    assert apply_strategy(result, "theirs") == 0
    assert [c.reason for c in result.conflicts] == ["both-modified"]
    assert apply_strategy(result, "ours") == 1 and not result.conflicts


def test_without_a_strategy_conflicts_stay() -> None:
    decided = apply_policy(conflicted(OLDER, NEWER), Facts())
    assert decided.resolved_by_strategy == 0
    assert len(decided.result.conflicts) == 1


# --- policy: referrals without their client ---------------------------------------------

CLIENT_TABLE = [
    # id, the client contact in the merge (None: not there), our contacts, kept
    ("we-hold-the-client", None, {"acme"}, True),
    ("nobody-holds-it", None, set(), False),
    ("the-pull-adds-it", RecordMerge("contacts/acme", "added", contact()), set(), True),
    ("the-pull-removes-it", RecordMerge("contacts/acme", "removed", None), {"acme"}, False),
    ("the-pull-leaves-it", RecordMerge("contacts/acme", "unchanged", contact()), {"acme"}, True),
]


@pytest.mark.parametrize(
    "contact_merge, ours, kept",
    [row[1:] for row in CLIENT_TABLE],
    ids=[row[0] for row in CLIENT_TABLE],
)
def test_client_table(contact_merge: RecordMerge | None, ours: set[str], kept: bool) -> None:
    records = [RecordMerge("referrals/r1", "added", referral())]
    if contact_merge is not None:
        records.append(contact_merge)
    result = MergeResult(records)
    skipped = skip_referrals_without_client(result, ours)
    assert ("referrals/r1" in result.changes) is kept
    assert skipped == (
        []
        if kept
        else [
            Skipped(
                "referrals/r1.yaml", "client: 'acme' names no contact, in your repository or theirs"
            )
        ]
    )


def test_only_referrals_a_pull_adds_or_changes_are_checked() -> None:
    result = MergeResult(
        [
            RecordMerge("referrals/r1", "unchanged", referral()),
            RecordMerge("referrals/r2", "removed", None),
            RecordMerge("referrals/r3", "updated", referral(client=None)),
        ]
    )
    assert skip_referrals_without_client(result, ()) == []
    assert len(result.records) == 3


def test_clients_named_looks_at_every_version_a_strategy_may_take() -> None:
    result = conflicted_referral(referral(client="ours-co"), referral(client="their-co"))
    result.records.append(RecordMerge("referrals/r2", "added", referral(client="added-co")))
    result.records.append(RecordMerge("referrals/r3", "added", referral(client="Not An Id")))
    result.records.append(RecordMerge("contacts/x", "added", contact("x", client="no")))
    assert clients_named(result) == {"base-co", "ours-co", "their-co", "added-co"}


def conflicted_referral(ours: dict[str, Any], theirs: dict[str, Any]) -> MergeResult:
    items = [("referrals/r1", A(referral(client="base-co"), ours, theirs))]
    return merge.merge_records(items, rules_for, theirs_handle="bob", validate=validate)


# --- the policy as a whole ----------------------------------------------------------------


def test_the_policy_runs_deletions_before_strategy_and_the_client_check() -> None:
    """The client contact goes by a relayed deletion: the referral naming it is skipped,
    a late deletion is added, and the strategy settles the remaining conflict."""
    result = conflicted(OLDER, NEWER)
    result.records += [
        kept_by_merge("contacts/client", contact("client", "carol")),
        RecordMerge("referrals/r1", "added", referral(client="client")),
    ]
    facts = Facts(
        owner_deleted=frozenset({"contacts/client"}),
        late_deletions=("contacts/late",),
        our_contacts=frozenset({"client"}),
    )
    decided = apply_policy(result, facts, strategy="theirs")
    assert decided.resolved_by_strategy == 1
    assert decided.result.changes == {
        "contacts/acme": NEWER,
        "contacts/client": None,
        "contacts/late": None,
    }
    assert [s.path for s in decided.skipped] == ["referrals/r1.yaml"]
    assert [r.label for r in decided.result.records] == sorted(
        r.label for r in decided.result.records
    )


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["a", "b", "c", "d"]),
            st.booleans(),  # their copy unreadable
            st.booleans(),  # stale theirs
            st.booleans(),  # stale ours
            st.booleans(),  # ours present
            st.booleans(),  # theirs present
        ),
        unique_by=lambda row: row[0],
    )
)
def test_drop_never_invents_or_loses_a_record(rows: list[tuple[Any, ...]]) -> None:
    """Each candidate is merged, reported or dropped as stale, exactly once, and what is
    merged keeps ours and theirs as they came."""
    candidates = [
        Candidate(
            f"contacts/{name}",
            A(BASE, OURS if ours else None, THEIRS if theirs else None),
            "bad" if problem else None,
            stale_theirs,
            stale_ours,
        )
        for name, problem, stale_theirs, stale_ours, ours, theirs in rows
    ]
    items, skipped = drop_unmergeable(candidates)
    merged = dict(items)
    for candidate in candidates:
        base, ours, theirs = candidate.versions
        dropped = ours is None and theirs is not None and candidate.stale_theirs
        reported = Skipped(f"{candidate.label}.yaml", "bad") in skipped
        assert reported == (candidate.problem is not None)
        assert (candidate.label in merged) == (not reported and not dropped)
        if candidate.label in merged:
            assert merged[candidate.label][1:] == (ours, theirs)


def test_an_alias_in_your_name_is_no_forged_record() -> None:
    """A friend's rename or combine keeps the added_by of the record it was: the alias is
    no record added in your name (its maker is alias_by)."""
    alias = {
        "id": "acme-old",
        "alias_of": "acme-new",
        "alias_reason": "renamed",
        "alias_by": "bob",
        "alias_at": "2026-10-03T09:15:00Z",
        "added_by": "alice",
    }
    assert policy.in_your_name("contacts/acme-old", alias, "alice") is None
    record = {"id": "acme", "kind": "agency", "name": "Acme", "added_by": "alice"}
    assert policy.in_your_name("contacts/acme", record, "alice") == "added_by"
