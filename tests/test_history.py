"""A friend's branch is a claim about history and deletions: a relayed deletion never
removes a later edit, references survive a friend's deletion, and a referral's history
is append-only and written by its authors (DESIGN sections 3 and 6). Through the command
line over real repositories, and the pure steps directly."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from conftest import clone_friend, git, jobshare
from test_sync import (
    T1,
    T2,
    assert_clean,
    commit,
    conflicts_json,
    contact,
    edit,
    labels,
    ok,
    pair,
    read,
    referral,
    write,
)

from jobshare_sync.core.fieldmerge import AncestorOursTheirs
from jobshare_sync.core.merge import MergeResult, Notice, RecordMerge
from jobshare_sync.core.policy import apply_relayed_deletions, history_refusal

# --- a relayed deletion never removes a later edit ------------------------------------


def _three(tmp_path: Path) -> tuple[Path, Path, Path]:
    alice, bob = pair(tmp_path, contact("carols", "carol"))
    carol = clone_friend(alice, tmp_path / "carol", "carol")
    ok("friend", "add", "carol", str(carol), cwd=alice)
    ok("friend", "add", "carol", str(carol), cwd=bob)
    return alice, bob, carol


def test_a_relayed_deletion_meets_a_later_edit_as_a_conflict(tmp_path: Path) -> None:
    alice, bob, carol = _three(tmp_path)
    edit(alice, "contacts/carols", location="York", updated=T1)
    commit(alice)
    (carol / "contacts/carols.yaml").unlink()
    commit(carol)
    ok("pull", "carol", cwd=bob)  # bob applies carol's own deletion
    assert "contacts/carols" not in labels(bob)
    ok("fetch", "carol", cwd=alice)  # alice can see carol's branch: the deletion is proven
    relayed = jobshare("pull", "bob", cwd=alice)
    assert relayed.exit_code == 1, relayed.output
    assert [(c["label"], c["reason"]) for c in conflicts_json(alice)] == [
        ("contacts/carols", "modify-delete")
    ]
    ok("merge", "--abort", cwd=alice)
    # pulling the owner directly says the same
    direct = jobshare("pull", "carol", cwd=alice)
    assert direct.exit_code == 1, direct.output
    assert [(c["label"], c["reason"]) for c in conflicts_json(alice)] == [
        ("contacts/carols", "modify-delete")
    ]


def test_a_relayed_deletion_of_an_untouched_copy_still_applies(tmp_path: Path) -> None:
    alice, bob, carol = _three(tmp_path)
    (carol / "contacts/carols.yaml").unlink()
    commit(carol)
    ok("pull", "carol", cwd=bob)
    ok("fetch", "carol", cwd=alice)
    ok("pull", "bob", cwd=alice)
    assert "contacts/carols" not in labels(alice)
    assert_clean(alice)


def test_policy_turns_an_edit_since_the_deletion_into_a_conflict() -> None:
    def kept(label: str) -> RecordMerge:
        notice = Notice(label, "kept-deleted", f"{label}: kept")
        return RecordMerge(label, "unchanged", contact(label[-1], "carol"), None, [notice])

    result = MergeResult([kept("contacts/a"), kept("contacts/b"), kept("contacts/c")])
    versions = AncestorOursTheirs(contact("b", "carol"), contact("b", "carol", location="X"), None)
    apply_relayed_deletions(result, {"contacts/a"}, {"contacts/b": versions})
    outcomes = [(r.label, r.outcome) for r in result.records]
    assert outcomes == [
        ("contacts/a", "removed"),
        ("contacts/b", "conflict"),
        ("contacts/c", "unchanged"),
    ]
    [conflict] = result.conflicts
    assert conflict.reason == "modify-delete" and conflict.versions == versions


# --- a referral's history is append-only and written by its authors -------------------

OPEN = {"at": T1, "by": "bob", "status": "open"}
NOTE = {"at": T1, "by": "alice", "status": "open", "previous": "open", "note": "Maybe."}
DECLINED = {"at": T2, "by": "alice", "status": "declined", "previous": "open"}


def _referred(tmp_path: Path) -> tuple[Path, Path]:
    alice, bob = pair(tmp_path, contact("client-co"))
    write(bob, "referrals/r1", referral())
    commit(bob)
    ok("pull", "bob", cwd=alice)
    return alice, bob


def _forge(bob: Path, **fields: Any) -> None:
    """bob's branch says something with plain git (jobshare commit would refuse it)."""
    write(bob, "referrals/r1", referral(**fields))
    git("commit", "-qam", "forged", cwd=bob)


def test_a_declined_in_your_name_is_refused_and_the_inbox_keeps_it(tmp_path: Path) -> None:
    alice, bob = _referred(tmp_path)
    history = [*referral()["history"], DECLINED]
    _forge(bob, status="declined", updated=T2, history=history)
    result = jobshare("pull", "bob", cwd=alice)
    assert result.exit_code == 0, result.output
    assert "referrals/r1.yaml" in result.output and "refused as forged" in result.output
    assert read(alice, "referrals/r1") == referral()
    assert "r1" in ok("inbox", cwd=alice)
    ok("validate", cwd=alice)
    assert_clean(alice)


def test_a_pull_never_drops_or_rewrites_an_entry(tmp_path: Path) -> None:
    alice, bob = _referred(tmp_path)
    ok("friend", "add", "alice", str(alice), cwd=bob)
    edit(alice, "referrals/r1", history=[*referral()["history"], NOTE], updated=T1)
    commit(alice)
    ok("pull", "alice", cwd=bob)
    assert read(bob, "referrals/r1")["history"][-1] == NOTE
    reasons = [
        "history: drops or rewrites the entry 'open' by 'alice'",
        "the branch of 'alice' does not show it: refused as forged",
    ]
    for history in ([referral()["history"][0]], [referral()["history"][0], NOTE | {"note": "No."}]):
        _forge(bob, history=history, updated=T2)
        result = jobshare("pull", "bob", cwd=alice)
        assert result.exit_code == 0, result.output
        # the first pull refuses the drop; the second sees the rewritten entry as new
        assert reasons.pop(0) in result.output
        assert read(alice, "referrals/r1")["history"][-1] == NOTE
        ok("validate", cwd=alice)


def test_a_history_that_breaks_the_rules_is_skipped_and_commit_refuses_it(
    tmp_path: Path,
) -> None:
    alice, bob = _referred(tmp_path)
    accepted = {"at": T2, "by": "bob", "status": "accepted", "previous": "open"}
    # bob accepts his own referral: the rules say no
    write(
        bob, "referrals/r1", referral(status="accepted", history=[*referral()["history"], accepted])
    )
    refused = jobshare("commit", "-m", "self", cwd=bob)
    assert refused.exit_code != 0 and "it is bob's own referral" in refused.output
    git("commit", "-qam", "self", cwd=bob)
    result = jobshare("pull", "bob", cwd=alice)
    assert result.exit_code == 0, result.output
    assert "it is bob's own referral" in result.output
    assert read(alice, "referrals/r1") == referral()
    ok("validate", cwd=alice)


@pytest.mark.parametrize(
    ("base", "ours", "theirs", "confirmed", "unverifiable", "refused"),
    [
        # a new entry by the friend: fine
        ([OPEN], [OPEN], [OPEN, NOTE | {"by": "bob"}], [], [], False),
        # in someone else's name, not on their branch: forged
        ([OPEN], [OPEN], [OPEN, NOTE], [], [], True),
        # ... unless their own branch shows it (relayed)
        ([OPEN], [OPEN], [OPEN, NOTE], [NOTE], [], False),
        # ... or nobody here can read their branch (only a signature could tell)
        ([OPEN], [OPEN], [OPEN, NOTE], [], ["alice"], False),
        # an entry we hold already
        ([OPEN], [OPEN, NOTE], [OPEN, NOTE], [], [], False),
        # dropped from the shared history
        ([OPEN, NOTE], [OPEN, NOTE], [OPEN], [], [], True),
        # a new referral whose first entry is by the friend
        (None, None, [OPEN], [], [], False),
    ],
)
def test_history_refusal_table(
    base: list[Any] | None,
    ours: list[Any] | None,
    theirs: list[Any],
    confirmed: list[Any],
    unverifiable: list[str],
    refused: bool,
) -> None:
    def side(history: list[Any] | None) -> dict[str, Any] | None:
        return None if history is None else referral(history=history)

    versions = AncestorOursTheirs(side(base), side(ours), side(theirs))
    why = history_refusal("referrals/r1", versions, "bob", confirmed, unverifiable)
    assert (why is not None) == refused, why


# --- references survive a friend's deletion ----------------------------------------------


def test_a_client_of_our_referral_survives_its_deletion(tmp_path: Path) -> None:
    alice, bob = pair(tmp_path, contact("client-co", "bob"), contact("other", "bob"))
    write(
        alice,
        "referrals/r1",
        referral(**{"from": "alice", "to": "bob"})
        | {"history": [{"at": T1, "by": "alice", "status": "open"}], "created": T1, "updated": T1},
    )
    commit(alice)
    ok("validate", cwd=alice)
    for name in ("client-co", "other"):
        (bob / f"contacts/{name}.yaml").unlink()
    commit(bob)
    result = jobshare("pull", "bob", cwd=alice)
    assert result.exit_code == 0, result.output
    assert "contacts/client-co: kept; a referral names it as its client" in result.output
    assert labels(alice) == {"contacts/client-co", "referrals/r1"}
    ok("validate", cwd=alice)
    assert_clean(alice)


def test_a_record_whose_id_we_use_in_the_other_folder_is_skipped(tmp_path: Path) -> None:
    alice, bob = pair(tmp_path, contact("client-co"))
    write(
        alice,
        "referrals/r1",
        referral(**{"from": "alice", "to": "bob"})
        | {"history": [{"at": T1, "by": "alice", "status": "open"}], "created": T1, "updated": T1},
    )
    commit(alice)
    write(bob, "contacts/r1", contact("r1", "bob"))
    commit(bob)
    result = jobshare("pull", "bob", cwd=alice)
    assert result.exit_code == 0, result.output
    assert (
        "contacts/r1.yaml" in result.output and "already use this id in referrals/" in result.output
    )
    assert "contacts/r1" not in labels(alice)
    ok("validate", cwd=alice)


@pytest.mark.parametrize("whose", ["ours", "theirs"])
def test_incoming_predicts_the_skip_of_an_id_used_in_the_other_folder(
    tmp_path: Path, whose: str
) -> None:
    """A record whose id is used in the other folder (ours, or their own second record
    under that id, which a hand-made branch can hold) never enters; `incoming` lists the
    same skip before the pull does, and `validate` passes after it."""
    alice, bob = pair(tmp_path, contact("client-co"))
    opened = {"history": [{"at": T1, "by": "bob", "status": "open"}], "created": T1, "updated": T1}
    dup = referral(**{"id": "dup", "from": "bob", "to": "anyone"}) | opened
    if whose == "ours":
        write(alice, "contacts/dup", contact("dup"))
        commit(alice)
        write(bob, "referrals/dup", dup)
        commit(bob)
        skipped = {"referrals/dup.yaml"}
    else:
        write(bob, "referrals/dup", dup)
        write(bob, "contacts/dup", contact("dup", "bob"))
        git("add", "-A", cwd=bob)
        git("commit", "-qm", "by hand", cwd=bob)  # jobshare commit would refuse it
        skipped = {"contacts/dup.yaml", "referrals/dup.yaml"}
    ok("validate", cwd=alice)
    listed = jobshare("incoming", "bob", "--json", cwd=alice)
    assert listed.exit_code == 0, listed.output
    preview = json.loads(listed.stdout)["jobshare.incoming/v1"]
    assert {s["path"] for s in preview["skipped"]} == skipped
    assert all("two records cannot share it" in s["reason"] for s in preview["skipped"])
    pulled = json.loads(ok("pull", "bob", "--json", cwd=alice))["jobshare.pull/v1"]
    assert [p["skipped"] for p in pulled] == [preview["skipped"]]
    assert labels(alice) == {"contacts/client-co"} | (
        {"contacts/dup"} if whose == "ours" else set()
    )
    ok("validate", cwd=alice)
    assert_clean(alice)
