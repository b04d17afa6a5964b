"""`jobshare sync`, end to end: the own remote merged record by record, friends pulled,
the branch pushed; two machines and three friends reaching the same records; a sync
stopped at conflicts and carried on by `merge --continue`; friends learned by a second
clone, never with a secret. Tests of jobshare_sync.daily, through the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from conftest import clone_friend, free_port, git, jobshare, make_repo, publish
from test_sync import (
    T1,
    T2,
    Serve,
    assert_clean,
    commit,
    contact,
    edit,
    head,
    labels,
    ok,
    read,
    records_bytes,
    write,
)


def machines(tmp_path: Path, url_of: Serve | None = None) -> tuple[Path, Path, Path, str]:
    """alice's desk and laptop, both cloned from her own remote (served by git daemon
    when `url_of` is given): (desk, laptop, the bare remote, its URL)."""
    desk = make_repo(tmp_path / "desk")
    write(desk, "contacts/acme", contact("acme", location="Leeds"))
    commit(desk, "seed")
    origin = publish(desk, tmp_path / "alice.git")
    url = url_of(origin) if url_of is not None else str(origin)
    git("remote", "add", "origin", url, cwd=desk)
    git("fetch", "-q", "origin", cwd=desk)
    laptop = tmp_path / "laptop"
    git("clone", "-q", url, str(laptop), cwd=tmp_path)
    return desk, laptop, origin, url


def friend_repo(tmp_path: Path, name: str, source: Path | None = None) -> Path:
    """A friend's working repository: a clone of `source` with their own owner, or a
    repository of their own."""
    if source is not None:
        return clone_friend(source, tmp_path / name, name)
    return make_repo(tmp_path / name, name)


def test_two_machines_three_friends_reach_the_same_records_with_sync_alone(
    tmp_path: Path, git_daemon: Serve
) -> None:
    desk, laptop, origin, url = machines(tmp_path, git_daemon)
    bob = friend_repo(tmp_path, "bob", desk)
    carol = friend_repo(tmp_path, "carol")
    dave = friend_repo(tmp_path, "dave")
    write(carol, "contacts/carols-agency", contact("carols-agency", "carol"))
    commit(carol)
    write(dave, "contacts/daves-client", contact("daves-client", "dave", kind="client"))
    commit(dave)
    served = {
        name: git_daemon(publish(repo))
        for name, repo in (("bob", bob), ("carol", carol), ("dave", dave))
    }

    ok("friend", "add", "bob", served["bob"], cwd=desk)
    ok("friend", "add", "carol", served["carol"], cwd=desk)
    first = ok("sync", cwd=desk)
    assert "pushed main to origin" in first
    assert git("rev-parse", "main", cwd=origin).strip() == head(desk)

    # the laptop learns the desk's friends (and their pinned handles) from origin
    on_laptop = ok("sync", cwd=laptop)
    assert "learned friend 'bob'" in on_laptop and "learned friend 'carol'" in on_laptop
    assert git("config", "jobshare-friend.bob.handle", cwd=laptop).strip() == "bob"
    assert git("config", "jobshare-friend.carol.handle", cwd=laptop).strip() == "carol"
    assert labels(laptop) == labels(desk) == {"contacts/acme", "contacts/carols-agency"}

    # a day of work everywhere: each machine and each friend changes something
    ok("friend", "add", "dave", served["dave"], cwd=laptop)
    write(laptop, "contacts/from-laptop", contact("from-laptop"))
    commit(laptop)
    edit(desk, "contacts/acme", phones=["+44 20 7946 0000"], updated=T1)
    commit(desk)
    edit(bob, "contacts/acme", website="https://acme.example", updated=T2)
    commit(bob)
    publish(bob)
    write(carol, "contacts/carols-second", contact("carols-second", "carol"))
    commit(carol)
    publish(carol)

    ok("sync", cwd=laptop)
    ok("sync", cwd=desk)
    assert (
        "learned friend 'dave'" in ok("sync", cwd=desk)
        or git("config", "jobshare-friend.dave.handle", cwd=desk).strip() == "dave"
    )
    ok("sync", cwd=laptop)
    ok("sync", cwd=desk)  # nothing new: no commit
    before = head(desk)
    ok("sync", cwd=desk)
    assert head(desk) == before

    assert records_bytes(desk) == records_bytes(laptop)
    assert head(desk) == head(laptop) == git("rev-parse", "main", cwd=origin).strip()
    assert labels(desk) == {
        "contacts/acme",
        "contacts/carols-agency",
        "contacts/carols-second",
        "contacts/daves-client",
        "contacts/from-laptop",
    }
    acme = read(desk, "contacts/acme")
    assert acme["phones"] == ["+44 20 7946 0000"] and acme["website"] == "https://acme.example"
    assert acme["added_by"] == "alice"
    for machine in (desk, laptop):
        assert_clean(machine)
        assert ok("validate", cwd=machine) is not None
    # the friends file lists the three friends on both machines
    listed = (desk / ".jobshare/friends.yaml").read_text()
    assert all(f"{name}:" in listed for name in ("bob", "carol", "dave"))
    assert (laptop / ".jobshare/friends.yaml").read_bytes() == listed.encode()

    # the friends' records came in with their owners
    assert read(desk, "contacts/carols-agency")["added_by"] == "carol"


def test_json_and_no_push(tmp_path: Path) -> None:
    desk, laptop, origin, _ = machines(tmp_path)
    bob = friend_repo(tmp_path, "bob", desk)
    write(bob, "contacts/bobs", contact("bobs", "bob"))
    commit(bob)
    ok("friend", "add", "bob", str(bob), cwd=laptop)
    pushed_before = git("rev-parse", "main", cwd=origin).strip()
    data = json.loads(ok("sync", "--no-push", "--json", cwd=laptop))
    report = data["jobshare.sync/v1"]
    assert report["pushed"] is None and report["stopped_at_conflicts"] is False
    assert [p["friend"] for p in report["pulled"]] == ["bob"]
    assert report["pulled"][0]["counts"]["added"] == 1
    assert git("rev-parse", "main", cwd=origin).strip() == pushed_before
    assert "contacts/bobs" in labels(laptop)
    data = json.loads(ok("sync", "--json", cwd=laptop))["jobshare.sync/v1"]
    assert data["pushed"].startswith("pushed main to origin")
    assert git("rev-parse", "main", cwd=origin).strip() == head(laptop)


def test_divergent_machines_merge_record_by_record_under_the_own_handle(tmp_path: Path) -> None:
    desk, laptop, origin, _ = machines(tmp_path)
    edit(desk, "contacts/acme", location="York", updated=T1)
    commit(desk)
    ok("sync", cwd=desk)
    edit(laptop, "contacts/acme", phones=["+44 20 7946 0000"], updated=T2)
    write(laptop, "contacts/new-one", contact("new-one"))
    commit(laptop)
    out = ok("sync", cwd=laptop)  # never "claims your own handle"
    assert "claims" not in out
    acme = read(laptop, "contacts/acme")
    assert acme["location"] == "York" and acme["phones"] == ["+44 20 7946 0000"]
    assert len(git("rev-list", "--parents", "-n", "1", "HEAD", cwd=laptop).split()) == 3
    ok("sync", cwd=desk)
    assert records_bytes(desk) == records_bytes(laptop)
    assert_clean(desk)
    assert_clean(laptop)


def test_a_conflict_with_the_own_remote_stops_and_continue_carries_on(tmp_path: Path) -> None:
    desk, laptop, origin, _ = machines(tmp_path)
    bob = friend_repo(tmp_path, "bob", desk)
    write(bob, "contacts/bobs", contact("bobs", "bob"))
    commit(bob)
    ok("friend", "add", "bob", str(bob), cwd=desk)
    ok("sync", cwd=desk)  # pulls bob, and the friends file goes to origin
    edit(desk, "contacts/acme", name="Acme Desk", updated=T1)
    commit(desk)
    ok("sync", cwd=desk)
    edit(laptop, "contacts/acme", name="Acme Laptop", updated=T2)
    commit(laptop)
    stopped = jobshare("sync", cwd=laptop)
    assert stopped.exit_code == 1, stopped.output
    assert "CONFLICT contacts/acme" in stopped.stdout
    assert "merge --continue" in stopped.stderr
    assert git("rev-parse", "main", cwd=origin).strip() != head(laptop)
    ok("resolve", "contacts/acme", "--ours", cwd=laptop)
    carried = ok("merge", "--continue", cwd=laptop)
    assert "Merge committed" in carried and "pushed main to origin" in carried
    assert read(laptop, "contacts/acme")["name"] == "Acme Laptop"
    assert "contacts/bobs" in labels(laptop)  # learned bob and pulled him, after the merge
    assert git("rev-parse", "main", cwd=origin).strip() == head(laptop)
    assert_clean(laptop)


def test_a_conflict_with_a_friend_stops_and_continue_pulls_the_others(tmp_path: Path) -> None:
    desk = make_repo(tmp_path / "desk")
    write(desk, "contacts/acme", contact("acme"))
    commit(desk)
    origin = publish(desk, tmp_path / "alice.git")
    git("remote", "add", "origin", str(origin), cwd=desk)
    bob = friend_repo(tmp_path, "bob", desk)
    carol = friend_repo(tmp_path, "carol")
    write(carol, "contacts/carols", contact("carols", "carol"))
    commit(carol)
    edit(bob, "contacts/acme", name="Acme Bob", updated=T2)
    commit(bob)
    edit(desk, "contacts/acme", name="Acme Alice", updated=T1)
    commit(desk)
    ok("friend", "add", "bob", str(bob), cwd=desk)
    ok("friend", "add", "carol", str(carol), cwd=desk)
    stopped = jobshare("sync", cwd=desk)
    assert stopped.exit_code == 1
    assert "contacts/carols" not in labels(desk)
    state = json.loads((desk / ".git/jobshare/merge.json").read_text())
    assert state["sync"]["friends"] == ["carol"]
    ok("resolve", "contacts/acme", "--theirs", cwd=desk)
    carried = ok("merge", "--continue", cwd=desk)
    assert "carol" in carried and "pushed main to origin" in carried
    assert "contacts/carols" in labels(desk)
    assert read(desk, "contacts/acme")["name"] == "Acme Bob"
    assert git("rev-parse", "main", cwd=origin).strip() == head(desk)


def test_an_own_remote_owned_by_someone_else_is_refused(tmp_path: Path) -> None:
    desk, laptop, origin, _ = machines(tmp_path)
    bob = friend_repo(tmp_path, "bob", desk)
    write(bob, "contacts/bobs", contact("bobs", "bob"))
    commit(bob)
    git("remote", "set-url", "origin", str(publish(bob)), cwd=laptop)
    before = head(laptop)
    refused = jobshare("sync", cwd=laptop)
    assert refused.exit_code == 10, refused.output
    assert "owned by 'bob', not by you ('alice')" in refused.stderr
    assert head(laptop) == before and (laptop / "jobshare.yaml").read_text().count("alice")


def test_the_friends_file_never_holds_a_secret(tmp_path: Path) -> None:
    desk, laptop, origin, _ = machines(tmp_path)
    secret_url = f"https://eve:s3cret-token@127.0.0.1:{free_port()}/eve.git"
    ok("friend", "add", "eve", secret_url, cwd=desk)
    result = jobshare("sync", "--json", cwd=desk)
    assert result.exit_code == 11  # eve cannot be fetched; the rest is done
    assert "s3cret" not in result.output
    listed = (desk / ".jobshare/friends.yaml").read_text()
    assert "https://eve@127.0.0.1" in listed and "s3cret" not in listed
    assert "s3cret" not in git("log", "-p", "--all", cwd=desk)
    assert "s3cret" not in git("log", "-p", "--all", cwd=origin)
    # the laptop learns eve without the secret (a credential helper supplies it there)
    learned = jobshare("sync", cwd=laptop)
    assert "learned friend 'eve'" in learned.stdout
    assert "s3cret" not in git("config", "remote.eve.url", cwd=laptop)


def test_a_friends_copy_of_the_friends_file_is_never_merged(tmp_path: Path) -> None:
    desk, laptop, origin, _ = machines(tmp_path)
    bob = friend_repo(tmp_path, "bob", desk)
    (bob / ".jobshare").mkdir(exist_ok=True)
    (bob / ".jobshare/friends.yaml").write_text(
        "friends:\n  mallory: {url: /nowhere, branch: main, handle: mallory}\n"
    )
    git("add", ".jobshare/friends.yaml", cwd=bob)
    git("commit", "-qm", "friends", cwd=bob)
    ok("friend", "add", "bob", str(bob), cwd=desk)
    ok("sync", cwd=desk)
    assert "mallory" not in git("config", "--list", cwd=desk)
    assert "mallory" not in (desk / ".jobshare/friends.yaml").read_text()


def test_incoming_and_sync_refuse_a_shallow_clone_as_pull_does(tmp_path: Path) -> None:
    alice = make_repo(tmp_path / "alice")
    write(alice, "contacts/acme", contact("acme"))
    commit(alice)
    bob = friend_repo(tmp_path, "bob", alice)
    shallow = tmp_path / "shallow"
    git("clone", "-q", "--depth", "1", f"file://{alice}", str(shallow), cwd=tmp_path)
    ok("friend", "add", "bob", str(bob), cwd=shallow)
    pulled = jobshare("pull", cwd=shallow)
    for command in (["incoming", "bob"], ["sync", "--no-push"]):
        result = jobshare(*command, cwd=shallow)
        assert result.exit_code == 14 == pulled.exit_code, result.output
        assert result.stderr == pulled.stderr
        assert "git fetch --unshallow" in result.stderr


def test_a_friend_on_another_branch_is_told_about_branch(tmp_path: Path) -> None:
    alice = make_repo(tmp_path / "alice")
    bob = make_repo(tmp_path / "bob", "bob")
    git("branch", "-m", "main", "trunk", cwd=bob)
    ok("friend", "add", "bob", str(bob), cwd=alice)
    for command in (["fetch"], ["pull"], ["sync"], ["incoming", "bob"]):
        result = jobshare(*command, cwd=alice)
        assert result.exit_code != 0
        assert "it has no branch 'main'" in result.stderr and "--branch" in result.stderr
    git("remote", "remove", "bob", cwd=alice)
    git("config", "--remove-section", "jobshare-friend.bob", cwd=alice)
    ok("friend", "add", "bob", str(bob), "--branch", "trunk", cwd=alice)
    ok("sync", cwd=alice)


def test_incoming_names_the_merge_base_your_common_history(tmp_path: Path) -> None:
    alice = make_repo(tmp_path / "alice")
    bob = friend_repo(tmp_path, "bob", alice)
    write(bob, "contacts/bobs", contact("bobs", "bob"))
    commit(bob)
    ok("friend", "add", "bob", str(bob), cwd=alice)
    text = ok("incoming", "bob", cwd=alice)
    assert f"bob's changes since your common history, up to their {head(bob)[:10]}:" in text


@pytest.mark.parametrize("over", ["path", "daemon"])
def test_a_friend_removed_on_one_machine_is_removed_on_the_other(
    tmp_path: Path, git_daemon: Serve, over: str
) -> None:
    desk, laptop, origin, _ = machines(tmp_path, git_daemon if over == "daemon" else None)
    urls = {}
    for name in ("bob", "carol", "dave"):
        repo = friend_repo(tmp_path, name)
        urls[name] = git_daemon(publish(repo)) if over == "daemon" else str(repo)
    ok("friend", "add", "bob", urls["bob"], cwd=desk)
    ok("friend", "add", "carol", urls["carol"], cwd=desk)
    ok("sync", cwd=desk)
    assert "learned friend 'bob'" in ok("sync", cwd=laptop)

    def friends(machine: Path) -> set[str]:
        listed = json.loads(ok("friend", "list", "--json", cwd=machine))
        return {f["name"] for f in listed["jobshare.friends/v1"]}

    def listed(machine: Path) -> set[str]:
        text = git("show", "HEAD:.jobshare/friends.yaml", cwd=machine)
        return set(yaml.safe_load(text)["friends"])

    # removed on the desk, while the laptop adds dave
    ok("friend", "remove", "bob", cwd=desk)
    ok("sync", cwd=desk)
    ok("friend", "add", "dave", urls["dave"], cwd=laptop)
    out = ok("sync", cwd=laptop)
    assert "removed friend 'bob': removed on another of your clones" in out
    assert friends(laptop) == {"carol", "dave"} and listed(laptop) == {"carol", "dave"}
    assert "bob" not in git("remote", cwd=laptop).split()
    ok("sync", cwd=desk)  # learns dave; bob does not come back
    for _ in range(2):
        ok("sync", cwd=laptop)
        ok("sync", cwd=desk)
    assert friends(desk) == friends(laptop) == {"carol", "dave"}
    assert listed(desk) == listed(laptop) == {"carol", "dave"}

    # carol moved: her new URL, set on the desk, reaches the laptop
    moved = publish(tmp_path / "carol", tmp_path / "carol-moved.git")
    moved_url = git_daemon(moved) if over == "daemon" else str(moved)
    ok("friend", "remove", "carol", cwd=desk)
    ok("friend", "add", "carol", moved_url, cwd=desk)
    ok("sync", cwd=desk)
    out = ok("sync", cwd=laptop)
    assert "updated friend 'carol'" in out
    assert git("config", "remote.carol.url", cwd=laptop).strip() == moved_url
    assert git("config", "jobshare-friend.carol.handle", cwd=laptop).strip() == "carol"
    ok("sync", cwd=desk)
    assert git("config", "remote.carol.url", cwd=desk).strip() == moved_url

    # removed on the laptop: the desk follows, and it never comes back
    ok("friend", "remove", "carol", cwd=laptop)
    ok("sync", cwd=laptop)
    ok("sync", cwd=desk)
    ok("sync", cwd=laptop)
    assert friends(desk) == friends(laptop) == {"dave"}
    assert listed(desk) == listed(laptop) == {"dave"}
    data = json.loads(ok("sync", "--json", cwd=desk))["jobshare.sync/v1"]
    assert data["removed_friends"] == [] and data["learned_friends"] == []

    # a friend added again by hand is a new friend, and reaches the other machine
    ok("friend", "add", "bob", urls["bob"], cwd=laptop)
    ok("sync", cwd=laptop)
    assert "learned friend 'bob'" in ok("sync", cwd=desk)
    assert friends(desk) == {"bob", "dave"}


def test_status_counts_only_the_commits_that_bring_records_as_incoming_does(
    tmp_path: Path,
) -> None:
    alice = make_repo(tmp_path / "alice")
    write(alice, "contacts/acme", contact("acme"))
    commit(alice)
    bob = friend_repo(tmp_path, "bob", alice)  # his branch: alice's, then his owner
    ok("friend", "add", "bob", str(bob), cwd=alice)
    ok("pull", "bob", cwd=alice)

    def incoming() -> tuple[int, int]:
        data = json.loads(ok("status", "--json", cwd=alice))["jobshare.status/v1"]
        friend = data["friends"][0]
        return friend["incoming"], friend["unmerged"]

    # commits that touch only his jobshare.yaml and .jobshare/ (and the one that made
    # him the owner): no records to bring
    (bob / "jobshare.yaml").write_text(
        (bob / "jobshare.yaml").read_text().replace("name: Bob", "name: Bobby")
    )
    git("commit", "-qam", "my name", cwd=bob)
    (bob / ".jobshare/notes.txt").write_text("mine\n")
    git("add", ".jobshare/notes.txt", cwd=bob)
    git("commit", "-qm", "notes", cwd=bob)
    ok("fetch", cwd=alice)
    assert "bob has nothing new for you" in ok("incoming", "bob", cwd=alice)
    assert incoming() == (0, 3)
    assert "up to date" in ok("status", cwd=alice)
    # the same when alice's branch moved on too (a pull would merge, bringing no record)
    write(alice, "contacts/beta", contact("beta"))
    commit(alice)
    assert "(no record changes)" in ok("incoming", "bob", cwd=alice)
    assert incoming() == (0, 3)
    assert "up to date" in ok("status", cwd=alice)
    # a commit that changes a record is one to pull, in both
    edit(bob, "contacts/acme", location="Hull", updated=T1)
    commit(bob)
    ok("fetch", cwd=alice)
    assert "location" in ok("incoming", "bob", cwd=alice)
    assert incoming() == (1, 4)
    assert "1 commit to pull" in ok("status", cwd=alice)
    ok("pull", "bob", cwd=alice)
    assert incoming() == (0, 0)
    # his merge of her own work, while she moved on: nothing to bring, in both
    ok("friend", "add", "alice", str(alice), cwd=bob)
    write(alice, "contacts/gamma", contact("gamma"))
    commit(alice)
    ok("pull", "alice", cwd=bob)
    write(alice, "contacts/delta", contact("delta"))
    commit(alice)
    ok("fetch", cwd=alice)
    assert "(no record changes)" in ok("incoming", "bob", cwd=alice)
    assert incoming()[0] == 0 and "up to date" in ok("status", cwd=alice)


def test_a_sync_with_nothing_to_sync_with_says_what_to_add(tmp_path: Path) -> None:
    alice = make_repo(tmp_path / "alice")
    out = ok("sync", cwd=alice)
    assert "no remote 'origin'" in out and "git remote add origin URL" in out
    assert "no friends yet: add one with 'jobshare friend add NAME URL'" in out
    bob = make_repo(tmp_path / "bob", "bob")
    added = ok("friend", "add", "bob", str(bob), cwd=alice)
    assert "'jobshare sync' merges their sources" in added
    out = ok("sync", cwd=alice)
    assert "Merge bob" in out and "no friends yet" not in out
    git("remote", "add", "origin", str(publish(alice, tmp_path / "alice.git")), cwd=alice)
    out = ok("sync", cwd=alice)
    assert "no remote 'origin'" not in out and "pushed main to origin" in out
