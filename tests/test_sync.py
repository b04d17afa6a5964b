"""Sync with friends, end to end: real repositories, friends over a path and over
`git daemon` on 127.0.0.1, the CLI through click's CliRunner (DESIGN.md sections 3-5).
Friends themselves (adding, fetching, pushing) are in test_friends.py; the pull's pure
steps in test_policy.py."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import clone_friend, git, jobshare, make_repo, publish

from jobshare_sync import sync
from jobshare_sync.core import records, schema
from jobshare_sync.store import Store

Serve = Callable[[Path], str]
T0 = "2026-10-01T09:00:00Z"
T1 = "2026-10-02T09:00:00Z"
T2 = "2026-10-03T09:00:00Z"
T3 = "2026-10-04T09:00:00Z"


@pytest.fixture(autouse=True)
def clock_at_t0(isolated_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The clock stands at T0, the time of the records these tests write by hand:
    `jobshare commit` stamps a hand edit that left `updated` as it was with the clock,
    so such an edit keeps T0 here (tests/test_text.py covers the stamping itself)."""
    monkeypatch.setenv("JOBSHARE_NOW", T0)


# --- helpers ---------------------------------------------------------------------------


def contact(record_id: str, added_by: str = "alice", **fields: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": record_id,
        "kind": "agency",
        "name": record_id.replace("-", " ").title(),
        "added_by": added_by,
        "updated": T0,
    }
    data.update(fields)
    return data


def write(repo: Path, label: str, data: dict[str, Any]) -> None:
    path = repo / f"{label}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(schema.dump_record(label.split("/")[0], data))


def read(repo: Path, label: str) -> dict[str, Any]:
    data: dict[str, Any] = records.load_yaml((repo / f"{label}.yaml").read_bytes(), label).data
    return data


def edit(repo: Path, label: str, **changes: Any) -> None:
    """Change fields of a record in the working tree (None removes a field)."""
    data = read(repo, label)
    for key, value in changes.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    write(repo, label, data)


def commit(repo: Path, message: str = "edit") -> None:
    result = jobshare("commit", "-m", message, cwd=repo)
    assert result.exit_code == 0, result.output


def ok(*args: str, cwd: Path) -> str:
    result = jobshare(*args, cwd=cwd)
    assert result.exit_code == 0, result.output
    return result.stdout


def head(repo: Path) -> str:
    return git("rev-parse", "HEAD", cwd=repo).strip()


def parents(repo: Path, rev: str = "HEAD") -> list[str]:
    return git("rev-list", "--parents", "-n", "1", rev, cwd=repo).split()[1:]


def subject(repo: Path, rev: str = "HEAD") -> str:
    return git("log", "-1", "--format=%s", rev, cwd=repo).strip()


def assert_clean(repo: Path) -> None:
    """Working tree and index match HEAD, and the object database is sound."""
    assert git("status", "--porcelain", "--untracked-files=all", cwd=repo) == ""
    assert git("fsck", "--strict", "--no-progress", cwd=repo) == ""


def labels(repo: Path) -> set[str]:
    return {
        f"{p.parent.name}/{p.stem}"
        for folder in ("contacts", "referrals")
        for p in (repo / folder).glob("*.yaml")
    }


def records_bytes(repo: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(repo)): p.read_bytes()
        for folder in ("contacts", "referrals")
        for p in sorted((repo / folder).glob("*.yaml"))
    }


def snapshot(repo: Path) -> dict[str, Any]:
    """Everything a pull could change: working tree bytes, index bytes, every ref, HEAD."""
    files = {
        str(p.relative_to(repo)): p.read_bytes()
        for p in sorted(repo.rglob("*"))
        if p.is_file() and ".git" not in p.relative_to(repo).parts[:1]
    }
    return {
        "files": files,
        "index": (repo / ".git/index").read_bytes(),
        "refs": git("for-each-ref", "--format=%(refname) %(objectname)", cwd=repo),
        "HEAD": (repo / ".git/HEAD").read_bytes(),
        "head": head(repo),
        "state": sorted(p.name for p in (repo / ".git/jobshare").glob("*")),
    }


def conflicts_json(repo: Path) -> list[dict[str, Any]]:
    result = jobshare("conflicts", "--json", cwd=repo)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert list(data) == ["jobshare.conflicts/v1"]
    items: list[dict[str, Any]] = data["jobshare.conflicts/v1"]
    return items


def pair(tmp_path: Path, *seed: dict[str, Any]) -> tuple[Path, Path]:
    """alice with the given contacts committed, and bob, a clone of her, as her friend
    (over a path)."""
    alice = make_repo(tmp_path / "alice")
    for data in seed:
        write(alice, f"contacts/{data['id']}", data)
    if seed:
        commit(alice, "seed")
    bob = clone_friend(alice, tmp_path / "bob", "bob")
    ok("friend", "add", "bob", str(bob), cwd=alice)
    return alice, bob


# --- friends and fetch -----------------------------------------------------------------


# --- clean pulls -----------------------------------------------------------------------


def test_clean_pulls_from_three_friends_over_git_daemon(tmp_path: Path, git_daemon: Serve) -> None:
    acme = contact("acme", phones=["+44 20 7946 0000"], tags=["remote"], notes="Ask for Dana.\n")
    alice, bob = pair(tmp_path, acme, contact("beta"))
    carol = clone_friend(alice, tmp_path / "carol", "carol")
    dave = clone_friend(alice, tmp_path / "dave", "dave")
    ok("friend", "remove", "bob", cwd=alice)
    for name, repo in (("bob", bob), ("carol", carol), ("dave", dave)):
        ok("friend", "add", name, git_daemon(publish(repo)), cwd=alice)
    ok("fetch", cwd=alice)  # pins the handles; nothing new yet
    # alice and bob each change another field of acme, and each add a contact
    edit(alice, "contacts/acme", phones=["+44 20 7946 0001"], updated=T1)
    write(alice, "contacts/alices-new", contact("alices-new"))
    commit(alice, "alice's edits")
    edit(bob, "contacts/acme", location="London, UK", updated=T2)
    write(bob, "contacts/bobs-new", contact("bobs-new", "bob"))
    commit(bob, "bob's edits")
    # carol adds a tag and a line of notes; dave adds a contact only
    edit(carol, "contacts/acme", tags=["remote", "contract"], notes="Ask for Dana.\nPays late.\n")
    commit(carol, "carol's edit")
    write(dave, "contacts/daves-new", contact("daves-new", "dave"))
    commit(dave, "dave's addition")
    for repo in (bob, carol, dave):
        publish(repo)
    before = head(alice)

    result = jobshare("pull", "bob", "carol", "dave", cwd=alice)
    assert result.exit_code == 0, result.output
    assert "Merge bob: 1 added, 1 updated (commit" in result.stdout
    assert "CONFLICT" not in result.output
    # one merge commit per friend, each with two parents: our HEAD and the friend's commit
    log = git("log", "--first-parent", "--format=%H %P|%s", cwd=alice).splitlines()[:3]
    chain = [line.partition("|") for line in log]
    assert [msg for _, _, msg in chain] == [
        "Merge dave: 1 added",
        "Merge carol: 1 updated",
        "Merge bob: 1 added, 1 updated",
    ]
    (dave_m, _, _), (carol_m, _, _), (bob_m, _, _) = chain
    assert dave_m.split()[1:] == [carol_m.split()[0], head(dave)]
    assert carol_m.split()[1:] == [bob_m.split()[0], head(carol)]
    assert bob_m.split()[1:] == [before, head(bob)]
    graph = git("log", "--graph", "--oneline", cwd=alice)
    assert graph.startswith("*   ") and "|\\" in graph
    assert read(alice, "contacts/acme") == contact(
        "acme",
        phones=["+44 20 7946 0001"],
        location="London, UK",
        tags=["remote", "contract"],
        notes="Ask for Dana.\nPays late.\n",
        updated=T2,
    )
    assert labels(alice) == {
        "contacts/acme",
        "contacts/beta",
        "contacts/alices-new",
        "contacts/bobs-new",
        "contacts/daves-new",
    }
    assert (alice / "jobshare.yaml").read_text().startswith("owner:\n  handle: alice\n")
    assert_clean(alice)
    assert ok("validate", cwd=alice).startswith("OK")
    # a second pull finds nothing new
    again = jobshare("pull", cwd=alice)
    assert again.exit_code == 0 and again.stdout.count("already up to date") == 3, again.output
    assert head(alice) == dave_m.split()[0]


def test_pull_json_reports_counts_and_commit(tmp_path: Path) -> None:
    alice, bob = pair(tmp_path, contact("acme"))
    write(bob, "contacts/new", contact("new", "bob"))
    edit(bob, "contacts/acme", location="Leeds", updated=T1)
    commit(bob)
    data = json.loads(ok("pull", "--json", cwd=alice))
    [pulled] = data["jobshare.pull/v1"]
    assert pulled["friend"] == "bob" and pulled["handle"] == "bob"
    assert pulled["commit"] == head(alice)
    assert pulled["counts"] == {"added": 1, "updated": 1, "removed": 0, "conflicts": 0}
    assert pulled["conflicts"] == [] and pulled["skipped"] == [] and not pulled["up_to_date"]


# --- conflicts -------------------------------------------------------------------------

LONG_OURS = "".join(
    f"alice's line {i:05d} ........................................\n" for i in range(200)
)
LONG_THEIRS = "".join(
    f"bob's line {i:05d} ..........................................\n" for i in range(200)
)


def conflicted_pair(tmp_path: Path) -> tuple[Path, Path]:
    """alice and bob with one conflict of each reason between them (nothing pulled yet)."""
    alice, bob = pair(
        tmp_path,
        contact("both", phones=["+44 20 7946 0000"], location="Leeds"),
        contact("moddel"),
        contact("delmod"),
        contact("long", notes="middle\n"),
        contact("calm"),
    )
    # both-modified: name changed to two values (and a field merged cleanly beside it)
    edit(alice, "contacts/both", name="Both Alice", phones=["+44 20 7946 0001"], updated=T1)
    edit(bob, "contacts/both", name="Both Bob", location="York", updated=T2)
    # modify-delete: we change it, bob deletes it
    edit(alice, "contacts/moddel", location="Hull", updated=T1)
    (bob / "contacts/moddel.yaml").unlink()
    # delete-modify: we delete it, bob changes it
    (alice / "contacts/delmod.yaml").unlink()
    edit(bob, "contacts/delmod", location="Bath", updated=T2)
    # add-add: the same id added by both, differently
    write(alice, "contacts/twin", contact("twin", kind="recruiter"))
    write(bob, "contacts/twin", contact("twin", "bob", kind="client"))
    # invalid-after-merge: each side's notes are valid (under 20,000 characters), their
    # line merge is not
    edit(alice, "contacts/long", notes=LONG_OURS + "middle\n")
    edit(bob, "contacts/long", notes="middle\n" + LONG_THEIRS)
    # and one clean change, which must wait for the conflicts to be resolved
    edit(bob, "contacts/calm", location="Ely", updated=T2)
    commit(alice, "alice's side")
    commit(bob, "bob's side")
    assert len(LONG_OURS) < 20000 and len(LONG_OURS + LONG_THEIRS) > 20000
    return alice, bob


def test_each_conflict_reason_and_the_conflicts_listing(tmp_path: Path) -> None:
    alice, bob = conflicted_pair(tmp_path)
    ok("fetch", cwd=alice)
    before = snapshot(alice)
    result = jobshare("pull", "bob", cwd=alice)
    assert result.exit_code == 1, result.output
    assert "Merge bob: 1 updated, 5 conflicts; nothing committed" in result.stdout
    for line in (
        "CONFLICT contacts/both (both-modified): name",
        "CONFLICT contacts/delmod (delete-modify)",
        "CONFLICT contacts/long (invalid-after-merge)",
        "CONFLICT contacts/moddel (modify-delete)",
        "CONFLICT contacts/twin (add-add): kind",
        # added_by is set once: bob's claim to have added our record is refused
        "refused  contacts/twin: refused bob's change to 'bob' of fixed field 'added_by'",
    ):
        assert line in result.stdout, result.stdout
    assert "jobshare merge --continue" in result.stdout
    # nothing applied (HEAD, index, working tree, refs), only the merge state stored
    after = snapshot(alice)
    assert (before.pop("state"), after.pop("state")) == ([], ["merge.json"])
    assert after == before

    listed = conflicts_json(alice)
    by_label = {c["label"]: c for c in listed}
    assert [c["label"] for c in listed] == sorted(by_label)
    for item in listed:
        assert set(item) == {"label", "reason", "fields", "messages", "resolved"}
        assert item["resolved"] is False
    assert by_label["contacts/both"]["reason"] == "both-modified"
    assert by_label["contacts/both"]["fields"] == [
        {"field": "name", "base": "Both", "ours": "Both Alice", "theirs": "Both Bob"}
    ]
    assert by_label["contacts/moddel"]["reason"] == "modify-delete"
    assert by_label["contacts/delmod"]["reason"] == "delete-modify"
    assert by_label["contacts/moddel"]["fields"] == by_label["contacts/delmod"]["fields"] == []
    twin = by_label["contacts/twin"]
    assert twin["reason"] == "add-add"
    assert twin["fields"] == [
        {"field": "kind", "base": None, "ours": "recruiter", "theirs": "client"}
    ]
    long = by_label["contacts/long"]
    assert long["reason"] == "invalid-after-merge" and long["fields"] == []
    assert len(long["messages"]) == 1 and long["messages"][0].startswith("notes: ")

    text = ok("conflicts", cwd=alice)
    assert text.startswith("Merging bob: 5 of 5 unresolved\n")
    assert (
        "contacts/both:name\n    base:   Both\n    ours:   Both Alice\n    theirs: Both Bob" in text
    )
    assert "contacts/moddel  modify-delete  (unresolved)" in text
    assert "deleted on theirs's side" in text or "deleted on theirs" in text
    # the listing changes nothing either
    after = snapshot(alice)
    del after["state"]
    assert after == before


BASE = contact("acme", phones=["+44 20 7946 0000"], tags=["remote"], location="Leeds")
OURS = {**BASE, "name": "Acme Alice", "phones": ["+44 20 7946 0001"], "updated": T1}
THEIRS = {**BASE, "name": "Acme Bob", "tags": ["remote", "contract"], "updated": T2}
MERGED = {**OURS, "tags": THEIRS["tags"], "updated": T2}  # name still ours: in conflict
MODDEL = contact("moddel", location="Hull")


def name_conflict(tmp_path: Path) -> tuple[Path, Path]:
    """A pull of bob stopped at two conflicts: acme (name changed on both sides; phones
    and tags merged cleanly) and moddel (changed by us, deleted by bob)."""
    alice, bob = pair(tmp_path, BASE, contact("moddel"), contact("calm"))
    write(alice, "contacts/acme", OURS)
    write(alice, "contacts/moddel", MODDEL)
    write(bob, "contacts/acme", THEIRS)
    (bob / "contacts/moddel.yaml").unlink()
    edit(bob, "contacts/calm", location="Ely")
    commit(alice, "alice's side")
    commit(bob, "bob's side")
    result = jobshare("pull", "bob", cwd=alice)
    assert result.exit_code == 1, result.output
    return alice, bob


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["contacts/acme", "--ours"], OURS),
        (["contacts/acme", "--theirs"], THEIRS),
        (["contacts/acme", "--base"], BASE),
        (["contacts/acme", "--delete"], None),
        (["acme", "--theirs"], THEIRS),  # a bare id names the record too
        (["contacts/acme.yaml", "--theirs"], THEIRS),
        (["contacts/acme:name", "--ours"], MERGED),
        (["contacts/acme:name", "--theirs"], {**MERGED, "name": "Acme Bob"}),
        (["contacts/acme:name", "--base"], {**MERGED, "name": "Acme"}),
        (["contacts/acme", "--field", "name=Acme Group"], {**MERGED, "name": "Acme Group"}),
        (["contacts/a*", "--theirs"], THEIRS),
        (["contacts/*:name", "--theirs"], {**MERGED, "name": "Acme Bob"}),
        (["contacts/acme:*", "--theirs"], {**MERGED, "name": "Acme Bob"}),
    ],
)
def test_each_resolution_then_continue(
    tmp_path: Path, args: list[str], expected: dict[str, Any] | None
) -> None:
    alice, bob = name_conflict(tmp_path)
    before = head(alice)
    resolved = jobshare("resolve", *args, cwd=alice)
    assert resolved.exit_code == 0, resolved.output
    assert "resolved contacts/acme" in resolved.stdout
    [acme, moddel] = conflicts_json(alice)
    assert acme["resolved"] is True and moddel["resolved"] is False
    ok("resolve", "contacts/moddel", "--ours", cwd=alice)
    assert head(alice) == before  # resolving commits nothing
    done = ok("merge", "--continue", cwd=alice)
    assert done.startswith("Merge committed: ")
    assert parents(alice) == [before, head(bob)]
    message = git("log", "-1", "--format=%B", cwd=alice)
    assert message.startswith("Merge bob: 1 updated, 2 conflicts\n")
    assert "2 conflicts resolved by hand" in message
    if expected is None:
        assert not (alice / "contacts/acme.yaml").exists()
    else:
        assert read(alice, "contacts/acme") == expected
    assert read(alice, "contacts/moddel") == MODDEL
    assert read(alice, "contacts/calm")["location"] == "Ely"
    assert_clean(alice)
    assert jobshare("conflicts", cwd=alice).stdout.strip() == "no merge in progress"
    assert jobshare("merge", "--continue", cwd=alice).exit_code == 8


def test_resolve_with_a_file_and_a_glob_over_all_records(tmp_path: Path) -> None:
    alice, bob = name_conflict(tmp_path)
    mine = tmp_path / "acme.yaml"
    mine.write_text(
        "id: acme\nkind: client\nname: Acme From File\nadded_by: alice\nupdated: '2026-10-09T00:00:00Z'\n"
    )
    ok("resolve", "contacts/acme", "--file", str(mine), cwd=alice)
    ok("merge", "--abort", cwd=alice)
    alice_head = head(alice)
    # all at once: a glob over every record
    assert jobshare("pull", "bob", cwd=alice).exit_code == 1
    ok("resolve", "contacts/acme", "--file", str(mine), cwd=alice)
    out = ok("resolve", "contacts/moddel", "--theirs", cwd=alice)
    assert out.strip() == "resolved contacts/moddel"
    ok("merge", "--continue", cwd=alice)
    assert parents(alice) == [alice_head, head(bob)]
    assert read(alice, "contacts/acme") == records.load_yaml(mine.read_bytes(), "f").data
    assert (alice / "contacts/acme.yaml").read_bytes() == schema.dump_record(
        "contacts", read(alice, "contacts/acme")
    )  # written in canonical form
    assert not (alice / "contacts/moddel.yaml").exists()  # bob's deletion, taken
    assert_clean(alice)

    alice2, _ = name_conflict(tmp_path / "again")
    out = ok("resolve", "contacts/*", "--theirs", cwd=alice2)
    assert out.split() == ["resolved", "contacts/acme", "resolved", "contacts/moddel"]
    ok("merge", "--continue", cwd=alice2)
    assert read(alice2, "contacts/acme") == THEIRS
    assert not (alice2 / "contacts/moddel.yaml").exists()
    assert_clean(alice2)


def test_invalid_or_unknown_resolutions_are_refused_and_change_nothing(tmp_path: Path) -> None:
    alice, _ = name_conflict(tmp_path)
    state = alice / ".git/jobshare/merge.json"
    before = state.read_bytes()
    bad_file = tmp_path / "bad.yaml"
    bad_file.write_text(
        "id: acme\nkind: robot\nname: X\nadded_by: alice\nupdated: '2026-10-09T00:00:00Z'\n"
    )
    broken = tmp_path / "broken.yaml"
    broken.write_text("name: [unclosed\n")
    for args, code, words in [
        (["contacts/acme", "--field", "kind=robot"], 6, "kind"),
        (["contacts/acme", "--field", "name="], 6, "name"),
        (["contacts/acme", "--field", "emails=[not-an-email]"], 6, "emails"),
        (["contacts/acme", "--field", "phones=[1, 2"], 6, "phones"),
        (["contacts/acme", "--field", "nonsense"], 6, "NAME=VALUE"),
        (["contacts/acme:name", "--field", "name=X"], 2, "--field"),
        (["contacts/acme", "--file", str(bad_file)], 6, "kind"),
        (["contacts/acme", "--file", str(broken)], 5, "broken.yaml"),
        (["contacts/acme", "--file", str(tmp_path / "missing.yaml")], 6, "missing.yaml"),
        (["contacts/moddel:name", "--theirs"], 6, "resolve the whole record"),
        (["contacts/nothing", "--ours"], 7, "names no conflict"),
        (["contacts/acme"], 2, "exactly one"),
        (["contacts/acme", "contacts/nothing", "--ours"], 7, "contacts/nothing"),
    ]:
        result = jobshare("resolve", *args, cwd=alice)
        assert result.exit_code == code, (args, result.output)
        assert words in result.output, (args, result.output)
        assert state.read_bytes() == before, args
    # an invalid whole-record resolution leaves the state as it was, too
    assert [c["resolved"] for c in conflicts_json(alice)] == [False, False]


def test_continue_with_unresolved_conflicts_lists_them(tmp_path: Path) -> None:
    alice, _ = name_conflict(tmp_path)
    before = snapshot(alice)
    result = jobshare("merge", "--continue", cwd=alice)
    assert result.exit_code == 1
    assert result.stdout.split() == ["contacts/acme", "contacts/moddel"]
    assert "2 conflict(s) still unresolved" in result.stderr
    ok("resolve", "contacts/acme:name", "--theirs", cwd=alice)
    result = jobshare("merge", "--continue", cwd=alice)
    assert result.exit_code == 1 and result.stdout.split() == ["contacts/moddel"]
    assert snapshot(alice) == before
    status = json.loads(ok("status", "--json", cwd=alice))["jobshare.status/v1"]
    assert [c["resolved"] for c in status["merge"]["conflicts"]] == [True, False]


def test_abort_restores_exactly_the_state_before_the_pull(tmp_path: Path) -> None:
    alice, bob = conflicted_pair(tmp_path)
    ok("fetch", "bob", cwd=alice)  # the fetch is not part of what a merge undoes
    before = snapshot(alice)
    assert jobshare("pull", "bob", cwd=alice).exit_code == 1
    ok("resolve", "contacts/both", "--theirs", cwd=alice)
    ok("resolve", "contacts/twin:kind", "--theirs", cwd=alice)
    assert jobshare("pull", "bob", cwd=alice).exit_code == 8
    out = ok("merge", "--abort", cwd=alice)
    assert "aborted" in out
    assert snapshot(alice) == before
    assert not (alice / ".git/jobshare/merge.json").exists()
    assert jobshare("merge", "--abort", cwd=alice).exit_code == 8
    assert_clean(alice)
    # and the pull can start again
    assert jobshare("pull", "bob", cwd=alice).exit_code == 1


# --- strategies ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("strategy", "acme", "moddel"),
    [
        ("ours", {**MERGED}, MODDEL),
        ("theirs", {**MERGED, "name": "Acme Bob"}, None),
        ("newest", {**MERGED, "name": "Acme Bob"}, MODDEL),  # bob's is newer; keep, not delete
    ],
)
def test_strategy_resolves_every_conflict_up_front(
    tmp_path: Path, strategy: str, acme: dict[str, Any], moddel: dict[str, Any] | None
) -> None:
    alice, bob = pair(tmp_path, BASE, contact("moddel"))
    write(alice, "contacts/acme", OURS)
    write(alice, "contacts/moddel", MODDEL)
    write(bob, "contacts/acme", THEIRS)
    (bob / "contacts/moddel.yaml").unlink()
    commit(alice)
    commit(bob)
    before = head(alice)
    result = jobshare("pull", "--strategy", strategy, cwd=alice)
    assert result.exit_code == 0, result.output
    assert parents(alice) == [before, head(bob)]
    assert "2 conflict(s) resolved by strategy" in git("log", "-1", "--format=%B", cwd=alice)
    assert read(alice, "contacts/acme") == acme
    if moddel is None:
        assert not (alice / "contacts/moddel.yaml").exists()
    else:
        assert read(alice, "contacts/moddel") == moddel
    assert_clean(alice)


@pytest.mark.parametrize(("alice_time", "bob_time"), [(T2, T1), (T1, T2), (T1, T1)])
def test_newest_brings_two_friends_to_the_same_record(
    tmp_path: Path, git_daemon: Serve, alice_time: str, bob_time: str
) -> None:
    alice, bob = pair(tmp_path, BASE)
    ok("friend", "add", "alice", git_daemon(publish(alice)), cwd=bob)
    ok("friend", "remove", "bob", cwd=alice)
    ok("friend", "add", "bob", git_daemon(publish(bob)), cwd=alice)
    # the same field changed on both sides, and both sides add tags
    edit(alice, "contacts/acme", name="Acme Alice", tags=["remote", "a"], updated=alice_time)
    edit(
        bob,
        "contacts/acme",
        name="Acme Bob",
        tags=["remote", "b"],
        location="York",
        updated=bob_time,
    )
    commit(alice)
    commit(bob)
    publish(alice)
    publish(bob)
    ok("pull", "bob", "--strategy", "newest", cwd=alice)
    ok("pull", "alice", "--strategy", "newest", cwd=bob)
    ours, theirs = read(alice, "contacts/acme"), read(bob, "contacts/acme")
    assert ours == theirs
    assert (alice / "contacts/acme.yaml").read_bytes() == (bob / "contacts/acme.yaml").read_bytes()
    assert ours["location"] == "York" and set(ours["tags"]) == {"remote", "a", "b"}
    if alice_time != bob_time:
        assert ours["name"] == ("Acme Alice" if alice_time > bob_time else "Acme Bob")
    # and pulling each other again changes no record
    publish(alice)
    publish(bob)
    ok("pull", "bob", cwd=alice)
    ok("pull", "alice", cwd=bob)
    assert records_bytes(alice) == records_bytes(bob)


def test_whole_record_turns_a_clean_field_merge_into_a_conflict(tmp_path: Path) -> None:
    alice, bob = pair(tmp_path, BASE)
    edit(alice, "contacts/acme", phones=["+44 20 7946 0001"])
    edit(bob, "contacts/acme", location="York")
    commit(alice)
    commit(bob)
    result = jobshare("pull", "--whole-record", cwd=alice)
    assert result.exit_code == 1, result.output
    [acme] = conflicts_json(alice)
    assert acme["reason"] == "both-modified"
    assert [f["field"] for f in acme["fields"]] == ["phones", "location"]
    ok("merge", "--abort", cwd=alice)
    ok("pull", cwd=alice)
    assert read(alice, "contacts/acme") == {
        **BASE,
        "phones": ["+44 20 7946 0001"],
        "location": "York",
    }
    assert_clean(alice)


# --- what a friend can and cannot do -----------------------------------------------------


def test_bad_records_and_other_files_of_a_friend_never_enter(tmp_path: Path) -> None:
    alice, bob = pair(tmp_path, contact("acme"))
    write(bob, "contacts/good", contact("good", "bob"))
    (bob / "contacts/broken.yaml").write_text("id: broken\nname: [unclosed\n")
    (bob / "contacts/robot.yaml").write_text(
        "id: robot\nkind: robot\nname: R\nadded_by: bob\nupdated: '2026-10-01T09:00:00Z'\n"
    )
    (bob / "contacts/wrong-id.yaml").write_text(
        "id: other\nkind: agency\nname: W\nadded_by: bob\nupdated: '2026-10-01T09:00:00Z'\n"
    )
    (bob / "contacts/alias.yaml").write_text("a: &x 1\nb: *x\n")
    (bob / "contacts/Bad_Name.yaml").write_text("id: x\n")
    (bob / "contacts/sub").mkdir()
    write(bob, "contacts/sub/nested", contact("nested", "bob"))
    (bob / "contacts/link.yaml").symlink_to("good.yaml")
    (bob / "README.md").write_text("bob's notes\n")
    (bob / "elsewhere").mkdir()
    (bob / "elsewhere/stray.yaml").write_bytes(schema.dump_record("contacts", contact("stray")))
    (bob / ".jobshare/schema/contact.schema.json").write_text("{}\n")
    (bob / ".gitattributes").write_text("*.yaml merge=ours\n")
    config = (bob / "jobshare.yaml").read_text().replace("name: Bob", "name: Bobby")
    (bob / "jobshare.yaml").write_text(config)
    # an invalid edit of an existing record is skipped too: acme stays as it was
    (bob / "contacts/acme.yaml").write_text("id: acme\nkind: agency\nname: ''\n")
    git("add", "-A", cwd=bob)
    git("commit", "-qm", "all sorts", cwd=bob)
    before = head(alice)
    acme = (alice / "contacts/acme.yaml").read_bytes()

    result = jobshare("pull", "bob", cwd=alice)
    assert result.exit_code == 0, result.output
    assert subject(alice).startswith("Merge bob: 1 added")
    skipped = {
        line.split()[1].rstrip(":"): line
        for line in result.stdout.splitlines()
        if line.startswith("  skipped ")
    }
    assert set(skipped) == {
        "contacts/acme.yaml",
        "contacts/alias.yaml",
        "contacts/broken.yaml",
        "contacts/robot.yaml",
        "contacts/wrong-id.yaml",
        "contacts/Bad_Name.yaml",
        "contacts/sub/nested.yaml",
        "contacts/link.yaml",
    }, result.stdout
    assert "contacts/broken.yaml: line 3: YAML syntax error" in skipped["contacts/broken.yaml"]
    assert (
        "contacts/robot.yaml: line 2: kind: 'robot' is not one of" in skipped["contacts/robot.yaml"]
    )
    assert (
        "wrong-id.yaml: line 1: id: id 'other' differs from the file name"
        in skipped["contacts/wrong-id.yaml"]
    )
    assert "alias.yaml: line 2: YAML aliases" in skipped["contacts/alias.yaml"]
    assert (
        "acme.yaml: added_by: required field 'added_by' is missing" in skipped["contacts/acme.yaml"]
    )
    assert "link.yaml: a symbolic link, not a record file" in skipped["contacts/link.yaml"]
    assert (
        "sub/nested.yaml: file name is not a valid record id" in skipped["contacts/sub/nested.yaml"]
    )
    # the merge commit lists them too
    body = git("log", "-1", "--format=%B", cwd=alice)
    assert "- skipped contacts/broken.yaml: line 3: YAML syntax error" in body
    # only the good record changed between our HEAD and the merge
    changed = git("diff", "--name-only", before, "HEAD", cwd=alice).split()
    assert changed == ["contacts/good.yaml"]
    assert (alice / "contacts/acme.yaml").read_bytes() == acme
    assert not (alice / "README.md").exists() and not (alice / "elsewhere").exists()
    assert "handle: alice" in (alice / "jobshare.yaml").read_text()
    assert_clean(alice)
    data = json.loads(ok("pull", "--json", cwd=alice))["jobshare.pull/v1"][0]
    assert data["up_to_date"] is True


def test_deletions_and_fixed_fields_from_a_friend(tmp_path: Path) -> None:
    alice, bob = pair(
        tmp_path,
        contact("bobs-own", "bob"),
        contact("alices-own"),
        contact("carols", "carol"),
        contact("claimed"),
    )
    for label in ("bobs-own", "alices-own", "carols"):
        (bob / f"contacts/{label}.yaml").unlink()
    edit(bob, "contacts/claimed", added_by="bob", location="York", updated=T1)
    commit(bob)
    result = jobshare("pull", "bob", cwd=alice)
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "Merge bob: 1 updated, 1 removed" in out
    assert "removed  contacts/bobs-own" in out
    assert "kept     contacts/alices-own: kept; bob deleted it, but alice added it" in out
    assert "kept     contacts/carols: kept; bob deleted it, but carol added it" in out
    assert (
        "refused  contacts/claimed: refused bob's change to 'bob' of fixed field 'added_by'; "
        "kept 'alice'"
    ) in out
    assert labels(alice) == {"contacts/alices-own", "contacts/carols", "contacts/claimed"}
    claimed = read(alice, "contacts/claimed")
    assert claimed["added_by"] == "alice" and claimed["location"] == "York"
    body = git("log", "-1", "--format=%B", cwd=alice)
    assert "- contacts/alices-own: kept; bob deleted it, but alice added it" in body
    assert_clean(alice)
    # pulling again does not bring the refused changes back as new ones
    again = jobshare("pull", "bob", cwd=alice)
    assert again.exit_code == 0 and "already up to date" in again.stdout, again.output
    # nor does bob's next change: it merges, and nothing is reported twice
    edit(bob, "contacts/claimed", location="Bath", updated=T2)
    commit(bob)
    again = jobshare("pull", "bob", cwd=alice)
    assert again.exit_code == 0, again.output
    assert again.stdout.splitlines()[1:] == ["  updated  contacts/claimed  Claimed"]
    assert read(alice, "contacts/claimed") == contact("claimed", location="Bath", updated=T2)
    assert labels(alice) == {"contacts/alices-own", "contacts/carols", "contacts/claimed"}


# --- histories -------------------------------------------------------------------------


def test_first_pull_from_an_unrelated_history(tmp_path: Path) -> None:
    alice = make_repo(tmp_path / "alice")
    bob = make_repo(tmp_path / "bob", "bob")
    write(alice, "contacts/mine", contact("mine"))
    write(alice, "contacts/shared", contact("shared", notes="Alice's note.\n"))
    commit(alice)
    write(bob, "contacts/his", contact("his", "bob"))
    write(bob, "contacts/shared", contact("shared", notes="Bob's note.\n"))
    commit(bob)
    ok("friend", "add", "bob", str(bob), cwd=alice)
    before = head(alice)
    result = jobshare("pull", "bob", cwd=alice)
    assert result.exit_code == 1, result.output  # the same id added by both: add-add
    [shared] = conflicts_json(alice)
    assert shared["reason"] == "add-add" and [f["field"] for f in shared["fields"]] == ["notes"]
    ok("resolve", "contacts/shared", "--field", "notes=Both notes.", cwd=alice)
    ok("merge", "--continue", cwd=alice)
    assert parents(alice) == [before, head(bob)]
    assert subject(alice) == "Merge bob: 1 added, 1 conflict"
    assert labels(alice) == {"contacts/mine", "contacts/his", "contacts/shared"}
    assert read(alice, "contacts/shared")["notes"] == "Both notes."
    assert "handle: alice" in (alice / "jobshare.yaml").read_text()
    assert_clean(alice)
    # bob pulls alice back: his first pull from her, with her merge of him as the base
    ok("friend", "add", "alice", str(alice), cwd=bob)
    ok("pull", cwd=bob)
    assert records_bytes(bob) == records_bytes(alice)
    assert_clean(bob)


def test_unrelated_history_without_overlap_merges_cleanly(tmp_path: Path) -> None:
    alice = make_repo(tmp_path / "alice")
    bob = make_repo(tmp_path / "bob", "bob")
    write(bob, "contacts/his", contact("his", "bob"))
    commit(bob)
    ok("friend", "add", "bob", str(bob), cwd=alice)
    ok("fetch", cwd=alice)
    assert (
        subprocess.run(
            ["git", "merge-base", "HEAD", "refs/remotes/bob/main"], cwd=alice, capture_output=True
        ).returncode
        == 1
    )  # no common ancestor at all
    before = head(alice)
    result = jobshare("pull", cwd=alice)
    assert result.exit_code == 0, result.output
    assert subject(alice) == "Merge bob: 1 added"
    assert parents(alice) == [before, head(bob)]
    assert labels(alice) == {"contacts/his"}
    assert_clean(alice)


def pull_ok(repo: Path, *args: str) -> str:
    result = jobshare("pull", *args, cwd=repo)
    assert result.exit_code == 0, result.output
    assert "CONFLICT" not in result.output and "kept " not in result.output, result.output
    return result.stdout


def test_repeated_pulls_both_ways_and_through_a_third_friend(tmp_path: Path) -> None:
    alice, bob = pair(tmp_path, BASE, contact("beta"), contact("gamma", notes="one\ntwo\n"))
    carol = clone_friend(alice, tmp_path / "carol", "carol")
    ok("friend", "add", "carol", str(carol), cwd=alice)
    ok("friend", "add", "alice", str(alice), cwd=bob)
    ok("friend", "add", "carol", str(carol), cwd=bob)
    ok("friend", "add", "alice", str(alice), cwd=carol)
    ok("friend", "add", "bob", str(bob), cwd=carol)

    edit(alice, "contacts/acme", name="Acme A", updated=T1)
    edit(bob, "contacts/acme", phones=["+44 20 7946 0002"], updated=T1)
    edit(carol, "contacts/acme", location="Hull", tags=["remote", "c"], updated=T1)
    write(carol, "contacts/carols", contact("carols", "carol"))
    for repo in (alice, bob, carol):
        commit(repo)
    pull_ok(alice, "bob")  # alice pulls bob
    pull_ok(bob, "carol")  # bob pulls carol
    pull_ok(alice, "carol")  # alice pulls carol, whose work she partly has through bob
    pull_ok(bob, "alice")
    pull_ok(carol, "alice", "bob")
    assert records_bytes(alice) == records_bytes(bob) == records_bytes(carol)

    # more edits on all sides, then everyone pulls everyone, twice
    edit(alice, "contacts/gamma", notes="zero\none\ntwo\n", updated=T2)
    edit(bob, "contacts/gamma", notes="one\ntwo\nthree\n", updated=T2)
    edit(carol, "contacts/carols", kind="client", updated=T2)
    edit(carol, "contacts/beta", kind="client", updated=T2)
    for repo in (alice, bob, carol):
        commit(repo)
    for _ in range(2):
        pull_ok(alice)
        pull_ok(bob)
        pull_ok(carol)
    assert records_bytes(alice) == records_bytes(bob) == records_bytes(carol)
    assert read(alice, "contacts/gamma")["notes"] == "zero\none\ntwo\nthree\n"
    assert read(alice, "contacts/acme") == {
        **BASE,
        "name": "Acme A",
        "phones": ["+44 20 7946 0002"],
        "location": "Hull",
        "tags": ["remote", "c"],
        "updated": T1,
    }
    assert read(alice, "contacts/carols")["kind"] == "client"
    # once all agree, pulling again writes nothing: no empty merges back and forth
    heads = [head(repo) for repo in (alice, bob, carol)]
    for repo in (alice, bob, carol):
        assert pull_ok(repo).count("already up to date") == 2
    assert [head(repo) for repo in (alice, bob, carol)] == heads
    for repo in (alice, bob, carol):
        assert_clean(repo)
        status = json.loads(ok("status", "--json", cwd=repo))["jobshare.status/v1"]
        for friend in status["friends"]:
            unmerged = git("rev-list", "--count", f"HEAD..{friend['fetched']}", cwd=repo)
            assert friend["unmerged"] == int(unmerged)


def test_pulling_back_and_forth_writes_no_empty_merges(tmp_path: Path) -> None:
    alice, bob = pair(tmp_path, BASE)
    ok("friend", "add", "alice", str(alice), cwd=bob)
    edit(bob, "contacts/acme", location="York", updated=T1)
    commit(bob)
    assert "Merge bob: 1 updated" in pull_ok(alice)
    merged = head(alice)
    for _ in range(3):
        assert "alice: already up to date" in pull_ok(bob)  # her merge brings him nothing
        assert "bob: already up to date" in pull_ok(alice)
    assert (head(alice), head(bob)) == (merged, parents(alice)[1])
    assert records_bytes(alice) == records_bytes(bob)
    # a real change still merges; then both settle again
    edit(bob, "contacts/acme", tags=["remote", "b"], updated=T2)
    commit(bob)
    pull_ok(bob)  # her merge, beside his new commit: a merge, though nothing is new
    assert "Merge bob: 1 updated" in pull_ok(alice)
    assert read(alice, "contacts/acme")["tags"] == ["remote", "b"]
    settled = head(alice), head(bob)
    for _ in range(2):
        assert "already up to date" in pull_ok(bob)
        assert "already up to date" in pull_ok(alice)
    assert (head(alice), head(bob)) == settled
    # a friend who merged us and whose branch we would only report on still gets a merge
    # commit, so that the report is not repeated at every pull
    (bob / "contacts/acme.yaml").unlink()
    commit(bob)
    result = jobshare("pull", cwd=alice)
    assert "kept; bob deleted it, but alice added it" in result.stdout
    assert parents(alice)[1] == head(bob)
    assert "already up to date" in pull_ok(alice)


def test_a_conflict_resolved_once_does_not_come_back(tmp_path: Path) -> None:
    alice, bob = pair(tmp_path, BASE)
    ok("friend", "add", "alice", str(alice), cwd=bob)
    edit(alice, "contacts/acme", location="Hull", updated=T1)
    edit(bob, "contacts/acme", location="York", updated=T2)
    commit(alice)
    commit(bob)
    assert jobshare("pull", cwd=alice).exit_code == 1
    ok("resolve", "contacts/acme:location", "--theirs", cwd=alice)
    ok("merge", "--continue", cwd=alice)
    pull_ok(bob)  # bob pulls alice's merge: nothing to decide again
    pull_ok(alice)
    assert records_bytes(alice) == records_bytes(bob)
    assert read(bob, "contacts/acme")["location"] == "York"


def test_criss_cross_merges_use_every_merge_base(tmp_path: Path) -> None:
    alice, bob = pair(tmp_path, BASE, contact("beta", notes="n\n"))
    ok("friend", "add", "alice", str(alice), cwd=bob)
    edit(alice, "contacts/acme", name="Acme A", location="Hull", updated=T1)
    edit(bob, "contacts/acme", phones=["+44 20 7946 0002"], location="York", updated=T1)
    commit(alice, "A1")
    commit(bob, "B1")
    a1, b1 = head(alice), head(bob)
    ok("fetch", cwd=alice)
    ok("fetch", cwd=bob)
    # both merge the other's branch at the same time, and settle the conflict the same way
    assert jobshare("pull", "--no-fetch", cwd=alice).exit_code == 1
    ok("resolve", "contacts/acme:location", "--theirs", cwd=alice)
    ok("merge", "--continue", cwd=alice)
    assert jobshare("pull", "--no-fetch", cwd=bob).exit_code == 1
    ok("resolve", "contacts/acme:location", "--ours", cwd=bob)
    ok("merge", "--continue", cwd=bob)
    assert parents(alice) == [a1, b1] and parents(bob) == [b1, a1]
    # then both edit again, on top of their own merge
    edit(alice, "contacts/acme", name="Acme A2", notes="Call first.\n", updated=T2)
    write(alice, "contacts/alices", contact("alices"))
    edit(bob, "contacts/acme", location="Bath", tags=["remote", "b"], updated=T3)
    edit(bob, "contacts/beta", notes="n\nm\n", updated=T3)
    commit(alice, "A2")
    commit(bob, "B2")
    ok("fetch", cwd=alice)
    ok("fetch", cwd=bob)

    store = Store.open(alice)
    ours = store.head_commit()
    assert ours is not None
    theirs = store.commit_of("refs/remotes/bob/main").id
    bases = store.merge_bases(ours.id, theirs)
    assert len(bases) == 2
    expected = git("merge-base", "--all", "HEAD", "refs/remotes/bob/main", cwd=alice).split()
    assert sorted(str(b) for b in bases) == sorted(expected) == sorted([a1, b1])

    pull_ok(alice)
    pull_ok(bob)
    for repo in (alice, bob):
        assert read(repo, "contacts/acme") == {
            **BASE,
            "name": "Acme A2",
            "phones": ["+44 20 7946 0002"],
            "location": "Bath",
            "tags": ["remote", "b"],
            "notes": "Call first.\n",
            "updated": T3,
        }
        assert read(repo, "contacts/beta")["notes"] == "n\nm\n"
        assert_clean(repo)
    assert records_bytes(alice) == records_bytes(bob)
    # and once more, both ways: nothing to decide
    pull_ok(alice)
    pull_ok(bob)
    assert records_bytes(alice) == records_bytes(bob)


def test_a_deletion_by_its_owner_relayed_by_another_friend(tmp_path: Path) -> None:
    alice, bob = pair(tmp_path, contact("carols", "carol"))
    carol = clone_friend(alice, tmp_path / "carol", "carol")
    ok("friend", "add", "carol", str(carol), cwd=alice)
    ok("friend", "add", "alice", str(alice), cwd=bob)
    ok("friend", "add", "carol", str(carol), cwd=bob)
    (carol / "contacts/carols.yaml").unlink()
    commit(carol)
    pull_ok(alice, "carol")  # carol deleted her own record: alice applies it
    assert "contacts/carols" not in labels(alice)
    jobshare("pull", "alice", "carol", cwd=bob)  # bob hears of it through alice first
    assert "contacts/carols" not in labels(bob)


def test_a_relayed_deletion_kept_at_first_is_applied_once_the_owner_is_pulled(
    tmp_path: Path,
) -> None:
    alice, bob = pair(tmp_path, contact("carols", "carol"))
    carol = clone_friend(alice, tmp_path / "carol", "carol")
    ok("friend", "add", "carol", str(carol), cwd=alice)
    ok("friend", "add", "alice", str(alice), cwd=bob)
    ok("friend", "add", "carol", str(carol), cwd=bob)
    ok("fetch", "carol", cwd=bob)  # bob's copy of carol's branch still has the record
    (carol / "contacts/carols.yaml").unlink()
    commit(carol)
    pull_ok(alice, "carol")
    relayed = jobshare("pull", "alice", cwd=bob)
    assert "kept" in relayed.output and "contacts/carols" in labels(bob)
    later = jobshare("pull", "carol", cwd=bob)  # carol's own branch shows she deleted it
    assert later.exit_code == 0, later.output
    assert "contacts/carols" not in labels(bob)
    assert records_bytes(alice) == records_bytes(bob)
    assert_clean(bob)


def test_a_deletion_the_owner_never_made_is_kept(tmp_path: Path) -> None:
    alice, bob = pair(tmp_path, contact("carols", "carol"))
    carol = clone_friend(alice, tmp_path / "carol", "carol")
    ok("friend", "add", "carol", str(carol), cwd=bob)
    ok("friend", "add", "alice", str(alice), cwd=bob)
    (alice / "contacts/carols.yaml").unlink()  # alice deletes carol's record: not hers to delete
    commit(alice)
    result = jobshare("pull", "alice", "carol", cwd=bob)
    assert result.exit_code == 0, result.output
    assert "contacts/carols" in labels(bob)


def test_later_friends_wait_while_a_merge_is_in_progress(tmp_path: Path) -> None:
    alice, bob = pair(tmp_path, BASE)
    carol = clone_friend(alice, tmp_path / "carol", "carol")
    ok("friend", "add", "carol", str(carol), cwd=alice)
    edit(alice, "contacts/acme", name="Acme A", updated=T1)
    edit(bob, "contacts/acme", name="Acme B", updated=T1)
    write(carol, "contacts/carols", contact("carols", "carol"))
    for repo in (alice, bob, carol):
        commit(repo)
    result = jobshare("pull", "--json", cwd=alice)
    assert result.exit_code == 1
    [pulled] = json.loads(result.stdout)["jobshare.pull/v1"]
    assert pulled["friend"] == "bob" and pulled["commit"] is None
    assert [(c["label"], c["reason"]) for c in pulled["conflicts"]] == [
        ("contacts/acme", "both-modified")
    ]
    assert "contacts/carols" not in labels(alice)  # carol waits
    ok("resolve", "contacts/acme", "--ours", cwd=alice)
    ok("merge", "--continue", cwd=alice)
    pull_ok(alice)
    assert "contacts/carols" in labels(alice)
    assert subject(alice) == "Merge carol: 1 added"


# --- refusals, push, status --------------------------------------------------------------


def test_pull_refuses_to_start_with_uncommitted_records_or_a_merge_in_progress(
    tmp_path: Path,
) -> None:
    alice, bob = pair(tmp_path, BASE)
    edit(bob, "contacts/acme", name="Acme Bob")
    commit(bob)
    before = head(alice)
    for change in ("modified", "added", "removed"):
        if change == "modified":
            edit(alice, "contacts/acme", location="Hull")
        elif change == "added":
            write(alice, "contacts/draft", contact("draft"))
        else:
            (alice / "contacts/acme.yaml").unlink()
        result = jobshare("pull", cwd=alice)
        assert result.exit_code == 9, result.output
        assert "record files have uncommitted changes" in result.stderr
        assert "commit them with 'jobshare commit' (or undo them) before pulling" in result.stderr
        assert head(alice) == before
        git("checkout", "--", ".", cwd=alice)
        git("clean", "-qfd", "contacts", cwd=alice)
    # a staged change counts as well; a file outside the record folders does not
    edit(alice, "contacts/acme", location="Hull")
    git("add", "contacts", cwd=alice)
    assert jobshare("pull", cwd=alice).exit_code == 9
    git("reset", "-q", "--hard", cwd=alice)
    (alice / "NOTES.txt").write_text("mine\n")
    pull_ok(alice)

    edit(alice, "contacts/acme", name="Acme Alice", updated=T1)
    commit(alice)
    edit(bob, "contacts/acme", name="Acme Bobby", updated=T1)
    commit(bob)
    assert jobshare("pull", cwd=alice).exit_code == 1
    again = jobshare("pull", cwd=alice)
    assert again.exit_code == 8
    assert "a merge is in progress: see 'jobshare conflicts', then 'jobshare merge --continue'" in (
        again.stderr
    )
    assert "'jobshare merge --abort'" in again.stderr


def test_status_shows_changes_merge_and_what_friends_have_new(tmp_path: Path) -> None:
    alice, bob = pair(tmp_path, BASE, contact("beta"))
    carol = clone_friend(alice, tmp_path / "carol", "carol")
    ok("friend", "add", "carol", str(carol), cwd=alice)

    def report() -> dict[str, Any]:
        data: dict[str, Any] = json.loads(ok("status", "--json", cwd=alice))
        assert list(data) == ["jobshare.status/v1"]
        return data["jobshare.status/v1"]  # type: ignore[no-any-return]

    status = report()
    assert status["branch"] == "main" and status["changes"] == {} and status["merge"] is None
    assert [(f["name"], f["unmerged"], f["handle"]) for f in status["friends"]] == [
        ("bob", None, None),
        ("carol", None, None),
    ]
    assert "never fetched" in ok("status", cwd=alice)

    edit(bob, "contacts/acme", name="Acme Bob", updated=T1)
    commit(bob, "one")
    write(bob, "contacts/more", contact("more", "bob"))
    commit(bob, "two")
    ok("fetch", cwd=alice)
    status = report()
    assert [(f["name"], f["unmerged"], f["handle"]) for f in status["friends"]] == [
        ("bob", 3, "bob"),  # his two commits and the one that made him bob
        ("carol", 1, "carol"),
    ]
    text = ok("status", cwd=alice)
    assert "No uncommitted record changes." in text
    # to pull: his two; the commit that made him (or her) the owner brings no record
    assert "bob    (bob)    2 commits to pull" in text and "carol  (carol)  up to date" in text
    assert "bob has nothing new" not in ok("incoming", "bob", cwd=alice)
    assert "carol has nothing new for you" in ok("incoming", "carol", cwd=alice)

    edit(alice, "contacts/acme", name="Acme Alice", updated=T1)
    commit(alice)
    edit(alice, "contacts/beta", location="Hull")
    write(alice, "contacts/draft", contact("draft"))
    status = report()
    assert status["changes"] == {"contacts/beta.yaml": "modified", "contacts/draft.yaml": "added"}
    text = ok("status", cwd=alice)
    assert "  modified contacts/beta.yaml" in text and "  added    contacts/draft.yaml" in text
    git("checkout", "--", "contacts", cwd=alice)
    (alice / "contacts/draft.yaml").unlink()

    assert jobshare("pull", "bob", cwd=alice).exit_code == 1
    status = report()
    assert status["merge"]["friend"] == "bob"
    assert [(c["label"], c["reason"], c["resolved"]) for c in status["merge"]["conflicts"]] == [
        ("contacts/acme", "both-modified", False)
    ]
    text = ok("status", cwd=alice)
    assert "Merge of bob in progress: 1 conflict(s), 1 unresolved" in text
    assert "  contacts/acme  both-modified" in text
    ok("resolve", "contacts/acme", "--ours", cwd=alice)
    ok("merge", "--continue", cwd=alice)
    status = report()
    assert status["merge"] is None
    assert [(f["name"], f["unmerged"]) for f in status["friends"]] == [("bob", 0), ("carol", 1)]
    assert "up to date" in ok("status", cwd=alice)


# --- interoperability and cost -----------------------------------------------------------


def test_a_friend_who_edits_yaml_with_plain_git(tmp_path: Path) -> None:
    alice, bob = pair(tmp_path, BASE, contact("beta"))
    # bob edits by hand: a changed line, an appended tag, no schema comment, his own order
    text = (bob / "contacts/acme.yaml").read_text()
    text = text.replace("location: Leeds", "location: 'York'").replace(
        "- remote\n", "- remote\n- contract\n"
    )
    (bob / "contacts/acme.yaml").write_text(text)
    (bob / "contacts/hand-made.yaml").write_text(
        "updated: '2026-10-02T09:00:00Z'\nname: Hand Made\n"
        "added_by: bob\nkind: recruiter\nid: hand-made\n"
        "notes: |\n  Line one.\n  Line two.\n"
    )
    (bob / "contacts/beta.yaml").unlink()
    git("add", "-A", cwd=bob)
    git("commit", "-qm", "by hand", cwd=bob)
    edit(alice, "contacts/acme", phones=["+44 20 7946 0009"], updated=T1)
    commit(alice)
    before = head(alice)
    result = jobshare("pull", cwd=alice)
    assert result.exit_code == 0, result.output
    assert "kept     contacts/beta: kept; bob deleted it, but alice added it" in result.stdout
    assert parents(alice) == [before, head(bob)]
    assert read(alice, "contacts/acme") == {
        **BASE,
        "phones": ["+44 20 7946 0009"],
        "location": "York",
        "tags": ["remote", "contract"],
        "updated": T1,
    }
    made = read(alice, "contacts/hand-made")
    assert made == {
        "id": "hand-made",
        "kind": "recruiter",
        "name": "Hand Made",
        "notes": "Line one.\nLine two.\n",
        "added_by": "bob",
        "updated": T1,
    }
    for label in ("contacts/acme", "contacts/hand-made"):  # written in canonical form
        assert (alice / f"{label}.yaml").read_bytes() == schema.dump_record(
            "contacts", read(alice, label)
        )
    assert "contacts/beta" in labels(alice)  # alice added it: bob cannot delete it
    assert ok("validate", cwd=alice).startswith("OK")
    assert_clean(alice)
    # and bob, pulling alice with plain git, gets a merge git understands
    git("pull", "-q", "--no-rebase", "--no-edit", str(alice), "main", cwd=bob)
    assert records.load_yaml((bob / "contacts/acme.yaml").read_bytes(), "x").data["phones"] == [
        "+44 20 7946 0009"
    ]


def many_contacts(repo: Path, count: int) -> None:
    """`count` contacts written straight to disk and committed with plain git (fast)."""
    for i in range(count):
        write(repo, f"contacts/c{i:04d}", contact(f"c{i:04d}", location=f"Town {i}"))
    git("add", "contacts", cwd=repo)
    git("commit", "-qm", f"{count} contacts", cwd=repo)


def test_the_cost_of_a_pull_follows_the_change_not_the_repository(tmp_path: Path) -> None:
    alice = make_repo(tmp_path / "alice")
    many_contacts(alice, 300)
    bob = clone_friend(alice, tmp_path / "bob", "bob")
    for i in (1, 2, 3):
        edit(bob, f"contacts/c{i:04d}", location="Changed by Bob", updated=T1)
    write(bob, "contacts/c0200", {**read(bob, "contacts/c0200"), "name": "Renamed by Bob"})
    git("commit", "-qam", "bob's changes", cwd=bob)
    for i in (100, 200):
        edit(alice, f"contacts/c{i:04d}", kind="client", updated=T1)
    git("commit", "-qam", "alice's changes", cwd=alice)
    ok("friend", "add", "bob", str(bob), cwd=alice)

    store = Store.open(alice)
    store.loads = 0
    fetched, [pulled] = sync.pull(store, ["bob"])
    assert [f.ok for f in fetched] == [True]
    changed = 3 + 2  # records changed on either side (c0200 on both)
    assert 0 < store.loads <= changed * 3, store.loads
    assert pulled.result.counts() == {"added": 0, "updated": 4, "removed": 0, "conflicts": 0}
    assert pulled.commit == head(alice)
    assert read(alice, "contacts/c0200")["name"] == "Renamed by Bob"
    assert read(alice, "contacts/c0200")["kind"] == "client"
    assert_clean(alice)
    # a pull with nothing new reads no record at all
    store.loads = 0
    sync.pull(store, ["bob"])
    assert store.loads == 0


def test_resolving_every_kind_of_conflict_then_continue(tmp_path: Path) -> None:
    alice, bob = conflicted_pair(tmp_path)
    before = head(alice)
    assert jobshare("pull", cwd=alice).exit_code == 1
    ok("resolve", "contacts/both:name", "--theirs", cwd=alice)
    ok("resolve", "contacts/moddel", "--delete", cwd=alice)  # bob's deletion, agreed to
    ok("resolve", "contacts/delmod", "--theirs", cwd=alice)  # bring back bob's edit
    ok("resolve", "contacts/twin", "--field", "kind=recruiter", cwd=alice)
    # an invalid-after-merge conflict has no field to pick: fix the merged record itself
    too_long = jobshare("resolve", "contacts/long:notes", "--theirs", cwd=alice)
    assert too_long.exit_code == 6 and "resolve the whole record" in too_long.stderr
    ok("resolve", "contacts/long", "--field", "notes=Shortened by hand.", cwd=alice)
    assert all(c["resolved"] for c in conflicts_json(alice))
    ok("merge", "--continue", cwd=alice)
    assert parents(alice) == [before, head(bob)]
    assert subject(alice) == "Merge bob: 1 updated, 5 conflicts"
    assert "5 conflicts resolved by hand" in git("log", "-1", "--format=%B", cwd=alice)
    assert read(alice, "contacts/both") == contact(
        "both", name="Both Bob", phones=["+44 20 7946 0001"], location="York", updated=T2
    )
    assert "contacts/moddel" not in labels(alice)
    assert read(alice, "contacts/delmod")["location"] == "Bath"
    assert read(alice, "contacts/twin") == contact("twin", kind="recruiter")
    assert read(alice, "contacts/long")["notes"] == "Shortened by hand."
    assert read(alice, "contacts/calm")["location"] == "Ely"
    assert ok("validate", cwd=alice).startswith("OK")
    assert_clean(alice)
    # bob pulls the result: his deletion stands, nothing conflicts; the twin both added
    # keeps its added_by on each side (a fixed field), all else is the same
    ok("friend", "add", "alice", str(alice), cwd=bob)
    result = jobshare("pull", cwd=bob)
    assert result.exit_code == 0 and "CONFLICT" not in result.output, result.output
    assert (
        "refused alice's change to 'alice' of fixed field 'added_by'; kept 'bob'" in result.stdout
    )
    assert read(bob, "contacts/twin") == contact("twin", "bob", kind="recruiter")
    mine, his = records_bytes(alice), records_bytes(bob)
    assert mine.pop("contacts/twin.yaml") != his.pop("contacts/twin.yaml")
    assert mine == his


def referral(**fields: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": "r1",
        "title": "Data pipeline",
        "client": "client-co",
        "from": "bob",
        "to": "alice",
        "status": "open",
        "details": "Two weeks.\nRemote.\n",
        "created": T0,
        "updated": T0,
        "history": [{"at": T0, "by": "bob", "status": "open"}],
    }
    data.update(fields)
    return data


def test_referrals_merge_history_and_details_both_ways(tmp_path: Path) -> None:
    alice, bob = pair(tmp_path, contact("client-co"))
    ok("friend", "add", "alice", str(alice), cwd=bob)
    write(bob, "referrals/r1", referral())
    commit(bob)
    pull_ok(alice)
    assert read(alice, "referrals/r1") == referral()
    accepted = {"at": T2, "by": "alice", "status": "accepted", "previous": "open"}
    write(
        alice,
        "referrals/r1",
        referral(status="accepted", updated=T2, history=[*referral()["history"], accepted]),
    )
    note = {"at": T1, "by": "bob", "status": "open", "previous": "open", "note": "Budget raised."}
    write(
        bob,
        "referrals/r1",
        referral(
            budget="GBP 500/day",
            details="Two weeks.\nRemote.\nStarts Monday.\n",
            updated=T1,
            history=[*referral()["history"], note],
        ),
    )
    commit(alice)
    commit(bob)
    pull_ok(alice)
    pull_ok(bob)
    expected = referral(
        status="accepted",
        budget="GBP 500/day",
        details="Two weeks.\nRemote.\nStarts Monday.\n",
        updated=T2,
        history=[referral()["history"][0], note, accepted],
    )
    assert read(alice, "referrals/r1") == read(bob, "referrals/r1") == expected
    # a fixed field (from, created) changed by a friend is refused
    write(bob, "referrals/r1", {**expected, "from": "carol", "created": T1})
    # by plain git: `jobshare commit` refuses a history that no longer fits `from`
    refused = jobshare("commit", "-m", "forge", cwd=bob)
    assert refused.exit_code != 0 and "bob opened it, but it is from carol" in refused.output
    git("commit", "-qam", "forge", cwd=bob)
    result = jobshare("pull", cwd=alice)
    assert result.exit_code == 0, result.output
    assert "refused bob's change to 'carol' of fixed field 'from'" in result.stdout
    assert (
        "refused bob's change to '2026-10-02T09:00:00Z' of fixed field 'created'" in result.stdout
    )
    assert read(alice, "referrals/r1") == expected
    assert_clean(alice)


def test_pull_refuses_repositories_it_cannot_work_on(tmp_path: Path) -> None:
    alice, bob = pair(tmp_path, BASE)
    never = jobshare("pull", "--no-fetch", cwd=alice)
    assert never.exit_code == 10 and "run 'jobshare fetch bob'" in never.stderr
    shallow = tmp_path / "shallow"
    git("clone", "-q", "--depth", "1", f"file://{alice}", str(shallow), cwd=tmp_path)
    ok("friend", "add", "bob", str(bob), cwd=shallow)
    result = jobshare("pull", cwd=shallow)
    assert result.exit_code == 14 and "shallow" in result.stderr
    git("checkout", "-q", "--detach", cwd=alice)
    result = jobshare("pull", cwd=alice)
    assert result.exit_code == 14 and "detached" in result.stderr


# --- through the installed command -------------------------------------------------------


def installed(*args: str, cwd: Path, code: int = 0) -> subprocess.CompletedProcess[str]:
    """Run the installed `jobshare` command, as a user does (never waiting on a prompt)."""
    command = Path(sys.executable).with_name("jobshare")
    done = subprocess.run(
        [str(command), "-C", str(cwd), *args],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=60,
        check=False,
    )
    assert done.returncode == code, (args, done.stdout, done.stderr)
    return done


@pytest.mark.slow
def test_two_freelancers_share_through_git_daemon_with_the_installed_command(
    tmp_path: Path, git_daemon: Serve
) -> None:
    alice = make_repo(tmp_path / "alice")
    write(alice, "contacts/acme", BASE)
    installed("commit", "-m", "acme", cwd=alice)
    alice_pub = publish(alice, tmp_path / "pub/alice.git")
    git("remote", "add", "origin", git_daemon(alice_pub), cwd=alice)
    bob = make_repo(tmp_path / "bob", "bob")
    bob_pub = publish(bob, tmp_path / "pub/bob.git")
    git("remote", "add", "origin", git_daemon(bob_pub), cwd=bob)
    installed("friend", "add", "alice", git_daemon(alice_pub), cwd=bob)
    installed("friend", "add", "bob", git_daemon(bob_pub), cwd=alice)

    installed("pull", cwd=bob)  # unrelated histories: bob gets acme
    assert read(bob, "contacts/acme") == BASE
    write(bob, "contacts/acme", {**THEIRS})
    installed("commit", cwd=bob)
    installed("push", cwd=bob)
    write(alice, "contacts/acme", {**OURS})
    installed("commit", cwd=alice)
    pulled = installed("pull", cwd=alice, code=1)
    assert "CONFLICT contacts/acme (both-modified): name" in pulled.stdout
    listed = json.loads(installed("conflicts", "--json", cwd=alice).stdout)
    assert [c["label"] for c in listed["jobshare.conflicts/v1"]] == ["contacts/acme"]
    installed("resolve", "contacts/acme:name", "--theirs", cwd=alice)
    installed("merge", "--continue", cwd=alice)
    installed("push", cwd=alice)
    installed("pull", cwd=bob)
    assert read(alice, "contacts/acme") == read(bob, "contacts/acme")
    assert read(bob, "contacts/acme") == {**MERGED, "name": "Acme Bob"}
    status = json.loads(installed("status", "--json", cwd=bob).stdout)["jobshare.status/v1"]
    assert status["friends"][0]["unmerged"] == 0
    for repo in (alice, bob):
        assert_clean(repo)


def test_no_other_commit_while_a_pull_waits_at_conflicts(tmp_path: Path) -> None:
    alice, bob = pair(tmp_path, BASE)
    edit(alice, "contacts/acme", name="Acme A", updated=T1)
    commit(alice)
    edit(bob, "contacts/acme", name="Acme B", updated=T1)
    commit(bob)
    assert jobshare("pull", "bob", cwd=alice).exit_code == 1
    head = git("rev-parse", "HEAD", cwd=alice)
    added = jobshare("add", "contact", "--name", "Gamma", cwd=alice)
    assert added.exit_code == 8 and "merge --continue" in added.output
    assert git("rev-parse", "HEAD", cwd=alice) == head
    both = jobshare("resolve", "contacts/acme", "--ours", "--theirs", cwd=alice)
    assert both.exit_code == 2
    ok("resolve", "contacts/acme", "--theirs", cwd=alice)
    ok("merge", "--continue", cwd=alice)
    assert jobshare("add", "contact", "--name", "Gamma", cwd=alice).exit_code == 0


def test_incoming_shows_changes_and_conflicts_and_changes_nothing(tmp_path: Path) -> None:
    alice, bob = pair(tmp_path, BASE, contact("beta"))
    edit(alice, "contacts/acme", name="Acme A", updated=T1)
    commit(alice)
    edit(bob, "contacts/acme", name="Acme B", updated=T1)
    edit(bob, "contacts/beta", tags=["python"])
    write(bob, "contacts/gamma", contact("gamma", "bob"))
    commit(bob)
    config = (alice / ".git/config").read_bytes()
    before = snapshot(alice)
    text = jobshare("incoming", "bob", cwd=alice)
    assert text.exit_code == 0, text.output
    assert "added     contacts/gamma" in text.output or "contacts/gamma" in text.output
    assert "CONFLICT contacts/acme (both-modified): name" in text.output
    data = json.loads(jobshare("incoming", "bob", "--json", cwd=alice).stdout)[
        "jobshare.incoming/v1"
    ]
    assert data["pull"] == {"added": 1, "updated": 1, "removed": 0, "conflicts": 1}
    assert sorted(c["label"] for c in data["changes"]) == [
        "contacts/acme",
        "contacts/beta",
        "contacts/gamma",
    ]
    assert [c["label"] for c in data["conflicts"]] == ["contacts/acme"]
    assert snapshot(alice) == before
    assert (alice / ".git/config").read_bytes() == config
    assert not (alice / ".git/FETCH_HEAD").exists()
    # a friend never fetched before is not pinned by a look
    carol = clone_friend(bob, tmp_path / "carol", "carol")
    ok("friend", "add", "carol", str(carol), cwd=alice)
    config = (alice / ".git/config").read_bytes()
    assert jobshare("incoming", "carol", cwd=alice).exit_code == 0
    assert (alice / ".git/config").read_bytes() == config


def test_status_counts_the_commits_incoming_would_bring(tmp_path: Path) -> None:
    alice, bob = pair(tmp_path, BASE)
    ok("friend", "add", "alice", str(alice), cwd=bob)
    write(bob, "contacts/bobs", contact("bobs", "bob"))
    commit(bob)
    ok("pull", "bob", cwd=alice)  # alice merges bob: her branch adds only his work back
    ok("fetch", cwd=bob)

    def incoming() -> int | None:
        data = json.loads(ok("status", "--json", cwd=bob))["jobshare.status/v1"]
        return data["friends"][0]["incoming"]  # type: ignore[no-any-return]

    assert int(git("rev-list", "--count", "HEAD..refs/remotes/alice/main", cwd=bob)) > 0
    assert "alice has nothing new for you" in ok("incoming", "alice", cwd=bob)
    assert incoming() == 0
    assert "up to date" in ok("status", cwd=bob)
    assert "1 commit" not in ok("status", cwd=bob)

    edit(alice, "contacts/acme", name="Acme Alice", updated=T1)
    commit(alice)
    ok("fetch", cwd=bob)
    assert "Acme Alice" in ok("incoming", "alice", cwd=bob)
    assert incoming() == 2  # her merge and her edit
    assert "2 commits to pull" in ok("status", cwd=bob)


def _skipped_then_fixed(tmp_path: Path) -> tuple[Path, Path]:
    """bob replaced acme's email in a version alice's pull skipped (its kind is not
    one jobshare knows), then fixed the kind."""
    alice, bob = pair(tmp_path, contact("acme", emails=["old@acme.example"], location="Leeds"))
    ok("friend", "add", "alice", str(alice), cwd=bob)
    edit(bob, "contacts/acme", emails=["new@acme.example"], kind="headhunter", updated=T1)
    git("commit", "-qam", "new email, a kind jobshare does not know", cwd=bob)
    edit(alice, "contacts/acme", location="Hull", updated=T1)
    commit(alice)
    pulled = json.loads(ok("pull", "bob", "--json", cwd=alice))["jobshare.pull/v1"]
    assert [s["path"] for p in pulled for s in p["skipped"]] == ["contacts/acme.yaml"]
    assert read(alice, "contacts/acme")["emails"] == ["old@acme.example"]
    edit(bob, "contacts/acme", kind="agency", updated=T2)
    git("commit", "-qam", "kind fixed", cwd=bob)
    return alice, bob


def test_a_skipped_version_never_becomes_the_merge_base(tmp_path: Path) -> None:
    alice, bob = _skipped_then_fixed(tmp_path)
    ok("pull", "bob", cwd=alice)
    acme = read(alice, "contacts/acme")
    assert acme["emails"] == ["new@acme.example"]  # the email bob replaced stays replaced
    assert acme["location"] == "Hull" and acme["kind"] == "agency"  # and alice's edit stays
    ok("pull", "alice", cwd=bob)
    assert read(bob, "contacts/acme") == acme
    carol = clone_friend(bob, tmp_path / "carol", "carol")
    ok("friend", "add", "alice", str(alice), cwd=carol)
    ok("pull", "alice", cwd=carol)
    assert read(carol, "contacts/acme") == acme


def test_a_skipped_version_is_no_merge_base_on_the_friends_side_either(tmp_path: Path) -> None:
    alice, bob = _skipped_then_fixed(tmp_path)
    ok("pull", "alice", cwd=bob)  # bob pulls alice's merge that skipped his version
    acme = read(bob, "contacts/acme")
    assert acme["emails"] == ["new@acme.example"]  # his replaced email does not come back
    assert acme["location"] == "Hull"
    ok("pull", "bob", cwd=alice)
    assert read(alice, "contacts/acme") == acme
