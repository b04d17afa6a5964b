"""A friend's branch is a claim, not a fact: handles that belong to one friend, records
nobody can add in the user's name, fixed fields that stay fixed on every path, and
patterns that match whole values (DESIGN sections 3 and 4). Through the command line
over real repositories, and the pure steps directly."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from conftest import clone_friend, git, jobshare, make_repo
from test_sync import (
    T1,
    T2,
    assert_clean,
    commit,
    contact,
    edit,
    installed,
    labels,
    ok,
    pair,
    read,
    records_bytes,
    write,
)

from jobshare_sync.core import fastcheck, policy, records, resolving, schema
from jobshare_sync.core.fieldmerge import AncestorOursTheirs
from jobshare_sync.core.merge import RecordConflict
from jobshare_sync.core.policy import Candidate

# --- a handle belongs to one friend ----------------------------------------------------


def test_a_second_friend_claiming_a_pinned_handle_is_not_pinned(tmp_path: Path) -> None:
    alice, bob = pair(tmp_path, contact("bobs", "bob"))
    ok("fetch", "bob", cwd=alice)
    mallory = clone_friend(alice, tmp_path / "mallory", "bob")
    (mallory / "contacts/bobs.yaml").unlink()
    commit(mallory)
    ok("friend", "add", "mallory", str(mallory), cwd=alice)
    fetched = jobshare("fetch", "mallory", cwd=alice)
    assert fetched.exit_code != 0
    assert (
        f"friend 'mallory' ({mallory}) claims the handle 'bob', pinned for 'bob': not pinned"
        in fetched.stderr
    )
    pulled = jobshare("pull", "mallory", cwd=alice)
    assert pulled.exit_code != 0
    assert labels(alice) == {"contacts/bobs"}  # bob's record is not mallory's to delete
    listed = json.loads(ok("friend", "list", "--json", cwd=alice))["jobshare.friends/v1"]
    assert {f["name"]: f["handle"] for f in listed} == {"bob": "bob", "mallory": None}
    # the other friends are still fetched and pulled
    whole = jobshare("pull", cwd=alice)
    assert "bob: already up to date" in whole.stdout, whole.output
    # a deliberate re-pin lets it through
    ok("friend", "pin", "mallory", "bob", cwd=alice)
    ok("pull", "mallory", cwd=alice)
    assert labels(alice) == set()
    assert_clean(alice)


def test_a_friend_name_with_a_dot_works_in_every_command(tmp_path: Path) -> None:
    alice = make_repo(tmp_path / "alice")
    bob = clone_friend(alice, tmp_path / "bob", "bob")
    write(bob, "contacts/acme", contact("acme", "bob"))
    commit(bob)
    ok("friend", "add", "bob.smith", str(bob), cwd=alice)
    listed = json.loads(ok("friend", "list", "--json", cwd=alice))["jobshare.friends/v1"]
    assert [f["name"] for f in listed] == ["bob.smith"]
    assert "bob.smith" in ok("friend", "list", cwd=alice)
    assert "pinned bob.smith's handle as 'bob'" in ok("fetch", cwd=alice)
    assert "bob.smith" in ok("status", cwd=alice)
    assert "Merge bob.smith: 1 added" in ok("pull", cwd=alice)
    assert labels(alice) == {"contacts/acme"}
    ok("friend", "remove", "bob.smith", cwd=alice)
    assert json.loads(ok("friend", "list", "--json", cwd=alice))["jobshare.friends/v1"] == []


# --- nobody adds a record in your name --------------------------------------------------


def test_a_friend_cannot_add_a_record_in_your_name(tmp_path: Path) -> None:
    alice, bob = pair(tmp_path, contact("gone"))
    (alice / "contacts/gone.yaml").unlink()
    commit(alice, "delete gone")
    write(bob, "contacts/forged", contact("forged", "alice", location="Nowhere"))
    write(bob, "contacts/honest", contact("honest", "bob"))
    commit(bob)
    result = jobshare("pull", "bob", "--json", cwd=alice)
    assert result.exit_code == 0, result.output
    [skipped] = [s for p in _pulled(result.stdout) for s in p["skipped"]]
    assert skipped["path"] == "contacts/forged.yaml"
    assert "added_by: names you ('alice'), but you never added this record" in skipped["reason"]
    # the record alice held once and deleted is no forgery: bob's stale copy is the
    # old deletion's business, not refused as written in her name
    assert labels(alice) == {"contacts/honest"}
    assert_clean(alice)


def _pulled(stdout: str) -> list[dict[str, Any]]:
    data = json.loads(stdout)
    pulled: list[dict[str, Any]] = data["jobshare.pull/v1"]
    return pulled


def test_the_forged_record_is_reported_on_the_terminal(tmp_path: Path) -> None:
    alice, bob = pair(tmp_path)
    write(bob, "contacts/forged", contact("forged", "alice"))
    commit(bob)
    result = jobshare("pull", "bob", cwd=alice)
    assert result.exit_code == 0, result.output
    assert "contacts/forged.yaml" in result.output
    assert "nobody can add a record in your name" in result.output
    assert labels(alice) == set()


@pytest.mark.parametrize(
    ("label", "record", "held", "refused"),
    [
        ("contacts/x", {"added_by": "alice"}, False, True),
        ("contacts/x", {"added_by": "alice"}, True, False),  # alice's own, deleted since
        ("contacts/x", {"added_by": "bob"}, False, False),
        ("referrals/x", {"added_by": "bob", "from": "alice"}, False, True),
        ("referrals/x", {"added_by": "alice", "from": "bob"}, False, True),
        ("referrals/x", {"added_by": "bob", "from": "bob"}, False, False),
    ],
)
def test_in_your_name_table(label: str, record: dict[str, Any], held: bool, refused: bool) -> None:
    candidate = Candidate(label, AncestorOursTheirs(None, None, record), held_by_you=held)
    items, skipped = policy.drop_unmergeable([candidate], own_handle="alice")
    assert (not items, bool(skipped)) == (refused, refused)


def test_an_existing_record_naming_you_is_merged_as_usual() -> None:
    ours = contact("x", "alice")
    theirs = contact("x", "alice", location="York")
    candidate = Candidate("contacts/x", AncestorOursTheirs(ours, ours, theirs))
    items, skipped = policy.drop_unmergeable([candidate], own_handle="alice")
    assert len(items) == 1 and skipped == []


# --- fixed fields on every path ---------------------------------------------------------


def test_resolve_theirs_or_base_of_a_whole_record_keeps_fixed_fields(tmp_path: Path) -> None:
    alice, bob = pair(tmp_path, contact("acme", location="Leeds"))
    edit(alice, "contacts/acme", location="York", updated=T1)
    commit(alice)
    edit(bob, "contacts/acme", location="Bath", added_by="bob", updated=T2)
    commit(bob)
    assert jobshare("pull", "bob", cwd=alice).exit_code == 1
    ok("resolve", "contacts/acme", "--theirs", cwd=alice)
    ok("merge", "--continue", cwd=alice)
    acme = read(alice, "contacts/acme")
    assert acme["location"] == "Bath" and acme["added_by"] == "alice"
    assert_clean(alice)


@pytest.mark.parametrize("strategy", ["theirs", "newest"])
def test_strategy_and_whole_record_keep_fixed_fields(tmp_path: Path, strategy: str) -> None:
    alice, bob = pair(tmp_path, contact("acme", location="Leeds"))
    edit(alice, "contacts/acme", location="York", updated=T1)
    commit(alice)
    edit(bob, "contacts/acme", id="acme", added_by="bob", location="Bath", updated=T2)
    commit(bob)
    ok("pull", "bob", "--whole-record", "--strategy", strategy, cwd=alice)
    acme = read(alice, "contacts/acme")
    assert acme["location"] == "Bath" and acme["added_by"] == "alice"


def test_a_refused_change_then_a_deletion_keeps_the_record(tmp_path: Path) -> None:
    alice, bob = pair(tmp_path, contact("acme"))
    edit(bob, "contacts/acme", added_by="bob", updated=T1)
    commit(bob)
    assert "refused bob's change" in ok("pull", "bob", cwd=alice)
    (bob / "contacts/acme.yaml").unlink()
    commit(bob)
    result = jobshare("pull", "bob", "--strategy", "theirs", cwd=alice)
    assert result.exit_code == 0, result.output
    assert "kept; bob deleted it, but alice added it" in result.stdout
    assert read(alice, "contacts/acme")["added_by"] == "alice"
    assert_clean(alice)


def _conflict(ours: dict[str, Any], theirs: dict[str, Any], reason: str) -> RecordConflict:
    versions = AncestorOursTheirs(None, ours, theirs)
    return RecordConflict("contacts/acme", reason, [], versions, ours, [], theirs)


@pytest.mark.parametrize("choice", ["theirs", "base"])
def test_resolve_conflict_keeps_the_fixed_fields_ours_holds(choice: str) -> None:
    ours = contact("acme", "alice", location="York")
    theirs = contact("acme", "bob", location="Bath")
    conflict = RecordConflict(
        "contacts/acme", "both-modified", [], AncestorOursTheirs(theirs, ours, theirs), ours
    )
    rules = schema.merge_rules("contacts")
    resolved = resolving.resolve_conflict(conflict, choice, None, rules)
    assert resolved is not None and resolved["added_by"] == "alice"
    assert resolved["location"] == "Bath"
    taken = resolving.resolve_conflict(conflict, "theirs", ["added_by"], rules)
    assert taken is not None and taken["added_by"] == "alice"
    newer = _conflict(ours, theirs, "newer-format")
    by_strategy = resolving.resolve_by_strategy(newer, "theirs", rules)
    assert by_strategy is not None and by_strategy["added_by"] == "alice"


def test_merge_driver_keeps_fixed_fields(tmp_path: Path) -> None:
    alice, bob = pair(tmp_path, contact("acme", location="Leeds"))
    edit(bob, "contacts/acme", added_by="bob", location="Bath", updated=T1)
    commit(bob)
    edit(alice, "contacts/acme", tags=["remote"], updated=T1)
    commit(alice)
    ok("git-setup", cwd=alice)
    git("fetch", "-q", str(bob), "main:refs/heads/bobs", cwd=alice)
    git("merge", "-q", "--no-edit", "bobs", cwd=alice)
    acme = read(alice, "contacts/acme")
    assert acme["added_by"] == "alice" and acme["location"] == "Bath"


def test_a_friends_combine_keeps_the_fixed_fields_you_hold(tmp_path: Path) -> None:
    """A combine reaches you as an alias (and a survivor): the `added_by` you hold stays,
    and the refusal is listed, as on every other path."""
    alice, bob = pair(tmp_path, contact("acme"), contact("acme-two", location="Leeds"))
    edit(bob, "contacts/acme-two", added_by="bob", updated=T1)
    commit(bob)
    edit(bob, "contacts/acme", added_by="bob", updated=T1)
    commit(bob)
    ok("combine", "acme", "acme-two", cwd=bob)
    assert read(bob, "contacts/acme-two")["added_by"] == "bob"
    pulled = installed("pull", "bob", cwd=alice).stdout
    alias, survivor = read(alice, "contacts/acme-two"), read(alice, "contacts/acme")
    assert alias["alias_of"] == "acme" and alias["added_by"] == "alice"
    assert survivor["added_by"] == "alice" and survivor["location"] == "Leeds"
    assert "refused bob's change to 'bob' of fixed field 'added_by'; kept 'alice'" in pulled
    assert "contacts/acme-two: refused" in pulled and "contacts/acme: refused" in pulled
    assert "  note     combined contacts/acme-two into contacts/acme (by bob)" in pulled
    assert_clean(alice)


def test_a_friends_rename_keeps_the_author_you_hold(tmp_path: Path) -> None:
    """A rename is the record under another id: the new record keeps the `added_by` you
    hold for the old one (or bob could delete it as his), and bob, who changed it by
    hand, takes it back from you."""
    alice, bob = pair(tmp_path, contact("acme", location="Leeds"))
    ok("friend", "add", "alice", str(alice), cwd=bob)
    ok("rename", "acme", "acme-new", cwd=bob)
    edit(bob, "contacts/acme-new", added_by="bob", updated=T1)
    commit(bob)
    pulled = ok("pull", "bob", cwd=alice)
    assert "contacts/acme-new: refused bob's change to 'bob' of fixed field 'added_by'" in pulled
    assert read(alice, "contacts/acme-new")["added_by"] == "alice"
    ok("pull", "alice", cwd=bob)
    assert records_bytes(alice) == records_bytes(bob)
    for name in ("acme-new", "acme"):  # the record, and the alias that names it
        (bob / f"contacts/{name}.yaml").unlink()
    commit(bob, "gone")  # bob deletes what is alice's: she keeps it
    assert "contacts/acme-new: kept; bob deleted it, but alice added it" in ok(
        "pull", "bob", cwd=alice
    )
    assert read(alice, "contacts/acme-new")["location"] == "Leeds"
    assert_clean(alice)


def test_repositories_that_saw_different_sides_of_a_refusal_converge(tmp_path: Path) -> None:
    """bob changes `added_by` of alice's record by hand; alice and carol refuse it. A fixed
    field is set once: bob's repository takes the first value back from them, and the
    three end with the same bytes, and without a merge commit per pull for ever."""
    alice, bob = pair(tmp_path, contact("acme", location="Leeds"), contact("beta"))
    carol = clone_friend(alice, tmp_path / "carol", "carol")
    for repo, friends in ((alice, (carol,)), (bob, (alice, carol)), (carol, (alice, bob))):
        for friend in friends:
            ok("friend", "add", friend.name, str(friend), cwd=repo)
    edit(bob, "contacts/acme", added_by="bob", location="Bath", updated=T1)
    edit(bob, "contacts/beta", added_by="bob", updated=T1)
    commit(bob)
    assert "refused bob's change" in ok("pull", "bob", cwd=carol)
    for _ in range(2):
        for repo in (alice, bob, carol):
            ok("pull", cwd=repo)
    assert records_bytes(alice) == records_bytes(bob) == records_bytes(carol)
    acme = read(bob, "contacts/acme")
    assert acme["added_by"] == "alice" and acme["location"] == "Bath"
    for repo in (alice, bob, carol):
        assert "nothing new" not in ok("pull", cwd=repo)
        assert_clean(repo)


@pytest.mark.parametrize("order", ["refusers-first", "owner-first"])
def test_a_hand_changed_author_converges_in_either_pull_order(tmp_path: Path, order: str) -> None:
    alice, bob = pair(tmp_path, contact("acme"))
    ok("friend", "add", "alice", str(alice), cwd=bob)
    edit(bob, "contacts/acme", added_by="bob", updated=T1)
    commit(bob)
    repos = [alice, bob] if order == "refusers-first" else [bob, alice]
    for _ in range(2):
        for repo in repos:
            ok("pull", cwd=repo)
    assert records_bytes(alice) == records_bytes(bob)
    assert read(alice, "contacts/acme")["added_by"] == "alice"


# --- patterns match whole values ---------------------------------------------------------


@pytest.mark.parametrize(
    "pattern", ["^[a-z0-9][a-z0-9_-]{0,38}$", "^[A-Z]{2}$", "^https?://[^\\s]+$", "^a[$]b$"]
)
def test_schema_patterns_never_let_a_final_newline_through(pattern: str) -> None:
    regex = fastcheck.ecma_regex(pattern)
    for good in ("alice", "GB", "https://x.example", "a$b"):
        bad = good + "\n"
        assert regex.search(bad) is None
        assert (regex.search(good) is None) == (re_search(pattern, good) is None)


def re_search(pattern: str, text: str) -> Any:
    import re

    return re.search(pattern, text)


@pytest.mark.parametrize(
    ("field", "value"),
    [("added_by", "alice\n"), ("id", "acme\n"), ("updated", "2026-10-01T09:00:00Z\n")],
)
def test_a_value_with_a_final_newline_is_invalid_by_both_checks(field: str, value: str) -> None:
    data = contact("acme") | {field: value}
    label = records.Label("contacts", "acme")
    assert schema.record_errors(label, data)
    assert not schema.record_errors(label, contact("acme"))


def test_ids_and_handles_match_whole_strings() -> None:
    assert records.ID_RE.match("acme\n") is None
    assert records.label_of_path("contacts/acme\n.yaml") is None
    assert records.label_of_path("contacts/acme.yaml") is not None


def test_a_file_name_with_a_newline_is_skipped_as_a_bad_name(tmp_path: Path) -> None:
    alice, bob = pair(tmp_path)
    (bob / "contacts").mkdir(exist_ok=True)
    (bob / "contacts/acme\n.yaml").write_bytes(
        schema.dump_record("contacts", contact("acme", "bob"))
    )
    git("add", "-A", cwd=bob)
    git("commit", "-qm", "a name with a newline", cwd=bob)
    result = jobshare("pull", "bob", cwd=alice)
    assert result.exit_code == 0, result.output
    assert labels(alice) == set()
    assert "skipped" in result.output


def test_a_friend_claiming_your_handle_with_a_newline_is_not_pinned(tmp_path: Path) -> None:
    alice = make_repo(tmp_path / "alice")
    bob = clone_friend(alice, tmp_path / "bob", "bob")
    text = (bob / "jobshare.yaml").read_text().replace("handle: bob", 'handle: "alice\\n"')
    (bob / "jobshare.yaml").write_text(text)
    git("commit", "-qam", "newline", cwd=bob)
    ok("friend", "add", "bob", str(bob), cwd=alice)
    fetched = jobshare("fetch", "bob", cwd=alice)
    assert fetched.exit_code != 0
    assert "has no valid jobshare.yaml" in fetched.stderr
