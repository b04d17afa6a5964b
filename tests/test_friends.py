"""Friends, end to end: adding, pinning and removing them, fetching over a path and over
`git daemon` on 127.0.0.1, their handles, and pushing to one's own remote (DESIGN
section 4). Tests of jobshare_sync.friends, through the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import clone_friend, free_port, git, jobshare, make_repo, publish, set_owner
from test_sync import (
    BASE,
    T1,
    Serve,
    assert_clean,
    commit,
    contact,
    edit,
    head,
    labels,
    ok,
    pair,
    pull_ok,
    read,
    snapshot,
    write,
)


def test_friend_add_list_pin_remove(tmp_path: Path) -> None:
    alice = make_repo(tmp_path / "alice")
    bob = clone_friend(alice, tmp_path / "bob", "bob")
    carol = clone_friend(alice, tmp_path / "carol", "carol")
    ok("friend", "add", "bob", str(bob), cwd=alice)
    ok("friend", "add", "carol", str(carol), "--branch", "main", cwd=alice)
    listed = json.loads(ok("friend", "list", "--json", cwd=alice))
    assert listed == {
        "jobshare.friends/v1": [
            {"branch": "main", "fetched": None, "handle": None, "name": "bob", "url": str(bob)},
            {"branch": "main", "fetched": None, "handle": None, "name": "carol", "url": str(carol)},
        ]
    }
    assert "(not fetched)" in ok("friend", "list", cwd=alice)

    fetched = ok("fetch", "bob", cwd=alice)
    assert "pinned bob's handle as 'bob'" in fetched
    [bob_json, carol_json] = json.loads(ok("friend", "list", "--json", cwd=alice))[
        "jobshare.friends/v1"
    ]
    assert bob_json["handle"] == "bob" and bob_json["fetched"] == head(bob)
    assert carol_json["handle"] is None and carol_json["fetched"] is None
    text = ok("friend", "list", cwd=alice)
    assert [f"{bob}", "bob", head(bob)[:10]] == text.splitlines()[1].split()[1:]

    # a name that is taken, or is no name, or is 'origin'
    for name in ("bob", "_x", "origin", "a b"):
        refused = jobshare("friend", "add", name, str(carol), cwd=alice)
        assert refused.exit_code == 10, (name, refused.output)

    ok("friend", "pin", "bob", "robert", cwd=alice)
    assert git("config", "jobshare-friend.bob.handle", cwd=alice).strip() == "robert"
    own = jobshare("friend", "pin", "bob", "alice", cwd=alice)
    assert own.exit_code == 10 and "your own handle" in own.stderr
    assert jobshare("friend", "pin", "bob", "Not Valid", cwd=alice).exit_code == 10
    assert jobshare("friend", "pin", "nobody", "x", cwd=alice).exit_code == 10

    write(alice, "contacts/mine", contact("mine"))
    commit(alice)
    ok("friend", "remove", "bob", cwd=alice)
    assert git("remote", cwd=alice).split() == ["carol"]
    assert "refs/remotes/bob" not in git("for-each-ref", cwd=alice)
    assert "jobshare-friend.bob" not in git("config", "--list", cwd=alice)
    assert labels(alice) == {"contacts/mine"}
    assert [
        f["name"]
        for f in json.loads(ok("friend", "list", "--json", cwd=alice))["jobshare.friends/v1"]
    ] == ["carol"]
    assert jobshare("friend", "remove", "bob", cwd=alice).exit_code == 10
    # the name is free again
    ok("friend", "add", "bob", str(bob), cwd=alice)


def test_fetch_one_several_all_over_path_and_daemon(tmp_path: Path, git_daemon: Serve) -> None:
    alice = make_repo(tmp_path / "alice")
    friends = {
        name: clone_friend(alice, tmp_path / name, name) for name in ("bob", "carol", "dave")
    }
    for name, repo in friends.items():
        write(repo, f"contacts/{name}-agency", contact(f"{name}-agency", name))
        commit(repo)
    ok("friend", "add", "bob", str(friends["bob"]), cwd=alice)
    for name in ("carol", "dave"):
        ok("friend", "add", name, git_daemon(publish(friends[name])), cwd=alice)
    assert git("config", "remote.carol.url", cwd=alice).startswith("git://127.0.0.1:")

    def fetched() -> dict[str, str]:
        refs = git("for-each-ref", "--format=%(refname) %(objectname)", "refs/remotes", cwd=alice)
        return dict(line.split() for line in refs.splitlines())

    ok("fetch", "carol", cwd=alice)
    assert fetched() == {"refs/remotes/carol/main": head(friends["carol"])}
    ok("fetch", "bob", "dave", cwd=alice)
    assert fetched() == {f"refs/remotes/{n}/main": head(r) for n, r in friends.items()}
    for repo in friends.values():
        edit(repo, f"contacts/{repo.name}-agency", location="Leeds")
        commit(repo)
    publish(friends["carol"])
    publish(friends["dave"])
    result = json.loads(ok("fetch", "--json", cwd=alice))["jobshare.fetch/v1"]
    assert [(r["friend"], r["ok"], r["commit"]) for r in result] == [
        (n, True, head(r)) for n, r in friends.items()
    ]
    assert fetched() == {f"refs/remotes/{n}/main": head(r) for n, r in friends.items()}
    # fetching changes no record, and fetches no tags
    git("tag", "v1", cwd=friends["bob"])
    ok("fetch", cwd=alice)
    assert git("tag", cwd=alice) == "" and labels(alice) == set()
    assert git("status", "--porcelain", cwd=alice) == ""
    unknown = jobshare("fetch", "nobody", cwd=alice)
    assert unknown.exit_code == 10 and "unknown friend 'nobody'" in unknown.stderr


def test_unreachable_friends_are_reported_and_the_others_fetched(
    tmp_path: Path, git_daemon: Serve
) -> None:
    alice = make_repo(tmp_path / "alice")
    bob = clone_friend(alice, tmp_path / "bob", "bob")
    carol = clone_friend(alice, tmp_path / "carol", "carol")
    write(carol, "contacts/carol-agency", contact("carol-agency", "carol"))
    commit(carol)
    missing = tmp_path / "nowhere" / "jobs"
    closed = f"git://127.0.0.1:{free_port()}/jobs.git"
    unserved = git_daemon(tmp_path / "absent.git")
    ok("friend", "add", "bob", str(bob), cwd=alice)
    ok("friend", "add", "carol", git_daemon(publish(carol)), cwd=alice)
    ok("friend", "add", "gone", str(missing), cwd=alice)
    ok("friend", "add", "offline", closed, cwd=alice)
    ok("friend", "add", "unserved", unserved, cwd=alice)

    result = jobshare("fetch", cwd=alice)
    assert result.exit_code == 11, result.output
    errors = [line for line in result.stderr.splitlines() if not line.startswith("Fetching ")]
    assert len(errors) == 3, result.stderr
    gone, offline, unserved_line = errors
    assert gone.startswith(f"jobshare: cannot fetch friend 'gone' ({missing}): ")
    assert "does not appear to be a git repository" in gone
    assert offline.startswith(f"jobshare: cannot fetch friend 'offline' ({closed}): ")
    assert "unable to connect to 127.0.0.1" in offline and "Connection refused" in offline
    assert unserved_line.startswith(f"jobshare: cannot fetch friend 'unserved' ({unserved}): ")
    assert unserved_line.endswith("remote error: no such repository: /absent.git")
    assert "bob: fetched" in result.stdout and "carol: fetched" in result.stdout
    assert git("rev-parse", "refs/remotes/carol/main", cwd=alice).strip() == head(carol)
    assert git("rev-parse", "refs/remotes/bob/main", cwd=alice).strip() == head(bob)

    # pull merges the friends it could reach and still fails
    pulled = jobshare("pull", cwd=alice)
    assert pulled.exit_code == 11, pulled.output
    assert pulled.stderr.count("cannot fetch friend") == 3
    assert "contacts/carol-agency" in labels(alice)
    assert_clean(alice)


def test_many_friends_fetched_at_once_are_reported_in_order(
    tmp_path: Path, git_daemon: Serve
) -> None:
    """Friends are fetched by a pool of git processes; the results, the errors and the
    pinning of handles still come friend by friend, in the order of the friends."""
    alice = make_repo(tmp_path / "alice")
    names = ["bea", "bea-copy", "cem", "dov", "eli", "fay", "gus", "hal", "ida", "jon"]
    served = {}
    for name in names:
        repo = clone_friend(alice, tmp_path / name, "bea" if name == "bea-copy" else name)
        write(repo, f"contacts/{name}-agency", contact(f"{name}-agency", name))
        commit(repo)
        served[name] = repo
        ok("friend", "add", name, git_daemon(publish(repo)), cwd=alice)
    broken = git_daemon(tmp_path / "absent.git")
    ok("friend", "add", "eve", broken, cwd=alice)

    result = jobshare("fetch", "--json", cwd=alice)
    assert result.exit_code == 11, result.output
    listed = json.loads(result.stdout)["jobshare.fetch/v1"]
    assert [r["friend"] for r in listed] == sorted([*names, "eve"])
    for r in listed:
        if r["friend"] in ("eve", "bea-copy"):
            assert not r["ok"], r
        else:
            assert r["ok"] and r["commit"] == head(served[r["friend"]]), r
    errors = [x for x in result.stderr.splitlines() if not x.startswith("Fetching ")]
    assert len(errors) == 2, result.stderr
    assert errors[0].startswith("jobshare: friend 'bea-copy' (git://127.0.0.1:"), errors
    assert "claims the handle 'bea', pinned for 'bea'" in errors[0]
    assert errors[1] == (
        f"jobshare: cannot fetch friend 'eve' ({broken}): remote error: no such repository: "
        "/absent.git"
    )
    config = git("config", "--get-regexp", r"jobshare-friend\..*\.handle", cwd=alice)
    pinned = dict(line.split() for line in config.splitlines())
    assert pinned == {f"jobshare-friend.{n}.handle": n for n in names if n != "bea-copy"}
    refs = git("for-each-ref", "--format=%(refname) %(objectname)", "refs/remotes", cwd=alice)
    assert dict(line.split() for line in refs.splitlines()) == {
        f"refs/remotes/{n}/main": head(served[n]) for n in names
    }

    # named friends come in the order named, each once; the text output follows it
    for name in ("jon", "cem"):
        edit(served[name], f"contacts/{name}-agency", location="Leeds")
        commit(served[name])
        publish(served[name])
    text = jobshare("fetch", "jon", "eve", "cem", "jon", cwd=alice)
    assert text.exit_code == 11, text.output
    assert [line.split(":")[0] for line in text.stdout.splitlines()] == ["jon", "cem"]
    assert text.stderr.count("cannot fetch friend 'eve'") == 1
    fetching = [line for line in text.stderr.splitlines() if line.startswith("Fetching ")]
    assert [line.split()[1] for line in fetching] == ["jon", "eve", "cem"]
    assert git("rev-parse", "refs/remotes/jon/main", cwd=alice).strip() == head(served["jon"])
    assert git("rev-parse", "refs/remotes/cem/main", cwd=alice).strip() == head(served["cem"])
    assert_clean(alice)


def test_a_friend_without_the_branch_or_a_jobshare_yaml(tmp_path: Path) -> None:
    alice = make_repo(tmp_path / "alice")
    plain = tmp_path / "plain"
    plain.mkdir()
    git("init", "-q", cwd=plain)
    (plain / "README").write_text("hi\n")
    git("add", "README", cwd=plain)
    git("commit", "-qm", "first", cwd=plain)
    ok("friend", "add", "plain", str(plain), cwd=alice)
    ok("friend", "add", "branchless", str(plain), "--branch", "jobs", cwd=alice)
    result = jobshare("fetch", cwd=alice)
    assert result.exit_code == 11
    assert f"friend 'plain' ({plain}) has no valid jobshare.yaml" in result.stderr
    assert f"cannot fetch friend 'branchless' ({plain}): it has no branch 'jobs'" in result.stderr
    assert jobshare("pull", "plain", cwd=alice).exit_code == 11
    assert_clean(alice)


def test_handle_is_pinned_at_first_fetch_and_a_later_claim_changes_nothing(
    tmp_path: Path,
) -> None:
    alice, bob = pair(tmp_path, contact("bobs", "bob"), contact("carols", "carol"))
    assert "pinned bob's handle as 'bob'" in ok("fetch", cwd=alice)
    # bob now claims to be carol, and deletes carol's record and his own
    set_owner(bob, "carol")
    (bob / "contacts/carols.yaml").unlink()
    (bob / "contacts/bobs.yaml").unlink()
    commit(bob)
    fetched = jobshare("fetch", cwd=alice)
    assert fetched.exit_code == 0
    assert (
        "warning: friend 'bob' now claims the handle 'carol'; 'bob' still applies "
        "(to change it: jobshare friend pin bob carol)"
    ) in fetched.stderr
    result = jobshare("pull", cwd=alice)
    assert result.exit_code == 0, result.output
    assert "claims the handle 'carol'" in result.stderr
    # ownership is judged by the pinned handle: bob's own record goes, carol's stays
    assert labels(alice) == {"contacts/carols"}
    assert "kept; bob deleted it, but carol added it" in result.stdout
    assert git("config", "jobshare-friend.bob.handle", cwd=alice).strip() == "bob"
    assert_clean(alice)


def test_a_friend_claiming_our_own_handle_is_refused(tmp_path: Path) -> None:
    alice, bob = pair(tmp_path, contact("mine"))
    ok("fetch", cwd=alice)
    set_owner(bob, "alice")
    (bob / "contacts/mine.yaml").unlink()
    commit(bob)
    before = snapshot(alice)
    result = jobshare("pull", "bob", cwd=alice)
    assert result.exit_code == 10, result.output
    assert result.stderr.strip().endswith(
        f"friend 'bob' ({bob}) claims your own handle 'alice': pull refused"
    )
    assert {k: v for k, v in snapshot(alice).items() if k != "refs"} == {
        k: v for k, v in before.items() if k != "refs"
    }
    assert not (alice / ".git/jobshare/merge.json").exists()
    # nor can a new friend be pinned with our handle at the first fetch
    mallory = make_repo(tmp_path / "mallory", "alice", name="Mallory")
    ok("friend", "add", "mallory", str(mallory), cwd=alice)
    fetched = jobshare("fetch", "mallory", cwd=alice)
    assert fetched.exit_code != 0
    assert f"friend 'mallory' ({mallory}) claims your own handle 'alice': refused" in fetched.stderr
    assert "jobshare-friend.mallory.handle" not in git("config", "--list", cwd=alice)
    assert jobshare("pull", "mallory", cwd=alice).exit_code != 0
    assert head(alice) == before["head"]


def test_push_over_a_path_and_over_git_daemon(tmp_path: Path, git_daemon: Serve) -> None:
    alice, bob = pair(tmp_path, BASE)
    origin = tmp_path / "origin.git"
    git("init", "-q", "--bare", str(origin), cwd=tmp_path)
    git("remote", "add", "origin", str(origin), cwd=alice)
    git("tag", "v1", cwd=alice)
    ok("fetch", cwd=alice)  # refs/remotes/bob/main: not to be pushed
    out = ok("push", cwd=alice)
    assert out.strip() == f"pushed main to origin ({origin})"
    refs = git("for-each-ref", "--format=%(refname) %(objectname)", cwd=origin)
    assert refs.strip() == f"refs/heads/main {head(alice)}"  # the branch, and nothing else

    served = tmp_path / "served.git"
    git("init", "-q", "--bare", str(served), cwd=tmp_path)
    url = git_daemon(served)
    git("remote", "add", "public", url, cwd=alice)
    assert ok("push", "public", cwd=alice).strip() == f"pushed main to public ({url})"
    assert git("rev-parse", "main", cwd=served).strip() == head(alice)
    # friends pull from there
    ok("friend", "add", "alice", url, cwd=bob)
    edit(alice, "contacts/acme", location="Hull", updated=T1)
    commit(alice)
    ok("push", "public", cwd=alice)
    pull_ok(bob)
    assert read(bob, "contacts/acme")["location"] == "Hull"

    unknown = jobshare("push", "nowhere", cwd=alice)
    assert unknown.exit_code == 11 and "no remote 'nowhere'" in unknown.stderr


@pytest.mark.parametrize("over", ["path", "daemon"])
def test_a_rejected_push_says_so_and_suggests_pulling(
    tmp_path: Path, git_daemon: Serve, over: str
) -> None:
    alice = make_repo(tmp_path / "alice")
    origin = publish(alice, tmp_path / "origin.git")
    url = str(origin) if over == "path" else git_daemon(origin)
    git("remote", "add", "origin", url, cwd=alice)
    laptop = tmp_path / "laptop"  # alice's other clone moves the remote on
    git("clone", "-q", url, str(laptop), cwd=tmp_path)
    write(laptop, "contacts/from-laptop", contact("from-laptop"))
    commit(laptop)
    git("push", "-q", "origin", "main", cwd=laptop)
    write(alice, "contacts/from-desk", contact("from-desk"))
    commit(alice)
    result = jobshare("push", cwd=alice)
    assert result.exit_code == 11, result.output
    message = result.stderr.strip()
    assert message.count("\n") == 0
    assert message.startswith(f"jobshare: push to 'origin' ({url}) was rejected")
    assert "Pull them first" in message
    assert "'jobshare sync'" in message
    assert git("rev-parse", "main", cwd=origin).strip() == head(laptop)
    # the advice works: sync merges the laptop's record and pushes
    synced = ok("sync", cwd=alice)
    assert "pushed main to origin" in synced
    assert labels(alice) >= {"contacts/from-laptop", "contacts/from-desk"}
    assert git("rev-parse", "main", cwd=origin).strip() == head(alice)
    assert_clean(alice)


def test_push_to_an_unreachable_remote_names_it_and_gits_reason(tmp_path: Path) -> None:
    alice = make_repo(tmp_path / "alice")
    closed = f"git://127.0.0.1:{free_port()}/jobs.git"
    git("remote", "add", "origin", closed, cwd=alice)
    result = jobshare("push", cwd=alice)
    assert result.exit_code == 11
    assert result.stderr.startswith(f"jobshare: cannot push to 'origin' ({closed}): ")
    assert "Connection refused" in result.stderr and result.stderr.count("\n") == 1
