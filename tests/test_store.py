"""Tests of jobshare_sync.store: the git layer, on real repositories in tmp_path."""

from __future__ import annotations

import dataclasses
import random
import subprocess
from pathlib import Path

import pygit2
import pytest
from conftest import git

from jobshare_sync.core.records import Label
from jobshare_sync.store import Commit, Store, transport


@pytest.mark.parametrize("skew", [False, True], ids=["ordered-clocks", "skewed-clocks"])
def test_merge_bases_agree_with_git_on_random_histories(tmp_path: Path, skew: bool) -> None:
    rnd = random.Random(7)
    repo = pygit2.init_repository(str(tmp_path / "r"))
    (tmp_path / "r/jobshare.yaml").write_text("")
    store = Store(repo)
    for history in range(6):
        commits: list[pygit2.Oid] = []
        when = 1_790_000_000
        for i in range(16):
            parents = rnd.sample(commits, min(len(commits), rnd.choice([1, 1, 2, 2, 3])))
            when += rnd.randint(-3000, 100) if skew else rnd.choice([0, 60])
            sig = pygit2.Signature("T", "t@example.com", when, 0)
            tree = repo.TreeBuilder()
            tree.insert(
                "f", repo.create_blob(f"{history} {i}".encode()), pygit2.enums.FileMode.BLOB
            )
            commits.append(repo.create_commit(None, sig, sig, f"c{i}", tree.write(), parents))
        for _ in range(8):
            a, b = rnd.choice(commits), rnd.choice(commits)
            expected = git("merge-base", "--all", str(a), str(b), cwd=tmp_path / "r").split()
            assert sorted(str(o) for o in store.merge_bases(a, b)) == sorted(expected)


def test_the_store_hands_out_plain_values(repo: Path) -> None:
    """Ids as hex strings, commits as Commit, records as dicts: nothing of pygit2 leaves."""
    (repo / "contacts/acme.yaml").write_bytes(
        b"id: acme\nkind: agency\nname: Acme\nadded_by: alice\nupdated: '2026-01-01T00:00:00Z'\n"
    )
    git("add", "contacts", cwd=repo)
    git("commit", "-qm", "Acme", cwd=repo)
    store = Store.open(repo)
    head = store.head_commit()
    assert isinstance(head, Commit)
    assert head.id == git("rev-parse", "HEAD", cwd=repo).strip()
    assert head.tree == git("rev-parse", "HEAD^{tree}", cwd=repo).strip()
    assert head.parents == (git("rev-parse", "HEAD~1", cwd=repo).strip(),)
    assert head.message == "Acme\n" and head.author.name == "Test Person"
    assert plain(dataclasses.asdict(head))
    assert store.commit(head.id) == store.commit_of("HEAD") == head
    assert [c.id for c in store.walk_commits(head.id)] == git("rev-list", "HEAD", cwd=repo).split()
    changed = store.changed_entries(store.commit(head.parents[0]).tree, head.tree)
    blob = git("rev-parse", "HEAD:contacts/acme.yaml", cwd=repo).strip()
    assert changed == {Label("contacts", "acme"): (None, blob)}
    assert (
        store.blob_id_at(head.tree, "contacts/acme.yaml")
        == blob
        == store.hash_bytes((repo / "contacts/acme.yaml").read_bytes())
    )
    assert store.load(Label("contacts", "acme"), blob).data["name"] == "Acme"
    assert store.merge_bases(head.id, head.parents[0]) == [head.parents[0]]
    assert store.ref_target(store.branch_ref()) == head.id


def test_commit_files_returns_the_new_commit_and_moves_the_branch(repo: Path) -> None:
    store = Store.open(repo)
    before = store.head_commit()
    assert before is not None
    with store.locked():
        new = store.commit_files({"contacts/x.yaml": b"id: x\n"}, "Add x\n")
    assert isinstance(new, str) and new == git("rev-parse", "HEAD", cwd=repo).strip()
    assert store.commit(new).parents == (before.id,)
    assert (repo / "contacts/x.yaml").read_bytes() == b"id: x\n"
    assert git("status", "--porcelain", cwd=repo) == ""


def plain(value: object) -> bool:
    """Whether a value is made of str, int, None, tuples, lists and dicts only."""
    if isinstance(value, dict):
        return all(isinstance(k, str) and plain(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return all(plain(v) for v in value)
    return value is None or isinstance(value, str | int)


@pytest.mark.parametrize(
    "stderr, reason",
    [
        (
            "fatal: 'nowhere' does not appear to be a git repository\n"
            "fatal: Could not read from remote repository.\n\n"
            "Please make sure you have the correct access rights\nand the repository exists.\n",
            "'nowhere' does not appear to be a git repository",
        ),
        (
            "fatal: unable to connect to example.invalid:\n"
            "example.invalid[0: 192.0.2.1]: errno=Connection refused\n",
            "unable to connect to example.invalid: example.invalid[0: 192.0.2.1]: "
            "errno=Connection refused",
        ),
        ("hint: try this\nerror: one\nerror: two\n", "one; two"),
        ("", "git exited with 128"),
    ],
    ids=["boilerplate", "joined", "several", "silent"],
)
def test_gits_reason_on_one_line(stderr: str, reason: str) -> None:
    proc = subprocess.CompletedProcess(["git"], 128, "", stderr)
    assert transport.git_reason(proc) == reason


def test_a_branch_moved_by_plain_git_meanwhile_is_never_overwritten(repo: Path) -> None:
    """Compare and swap: jobshare moves the branch only from the value it started from;
    a `git commit` made while it wrote stays on the branch, and one line says why
    jobshare stopped, its own change not left staged."""
    from jobshare_sync.errors import RepositoryStateError

    store = Store.open(repo)
    before = store.head_commit()
    assert before is not None
    mine = str(
        store.writer.repo.create_commit(
            None,
            *store.writer.signature(None),
            "jobshare's change\n",
            pygit2.Oid(hex=before.tree),
            [before.id],
        )
    )
    (repo / "notes.txt").write_text("by hand\n")
    git("add", "notes.txt", cwd=repo)
    git("commit", "-qm", "plain git, meanwhile", cwd=repo)
    theirs = git("rev-parse", "HEAD", cwd=repo).strip()
    with store.locked(), pytest.raises(RepositoryStateError, match="moved while jobshare"):
        store.writer.finish_commit(store.branch_ref(), before.id, mine, ["contacts/x.yaml"])
    assert git("rev-parse", "HEAD", cwd=repo).strip() == theirs
    assert not store.journal_path.exists()
    assert git("status", "--porcelain", cwd=repo) == ""


def _pull_to_race(tmp_path: Path) -> tuple[Path, str]:
    """alice, who has fetched bob: his pull updates a record, adds one, and keeps a
    deletion (a state file); and her HEAD before it."""
    from conftest import clone_friend, make_repo
    from test_sync import commit, contact, edit, ok, write

    alice = make_repo(tmp_path / "alice")
    write(alice, "contacts/acme", contact("acme", location="Leeds"))
    write(alice, "contacts/carols", contact("carols", "carol"))
    commit(alice)
    bob = clone_friend(alice, tmp_path / "bob", "bob")
    edit(bob, "contacts/acme", location="Bath")
    write(bob, "contacts/new", contact("new", "bob"))
    (bob / "contacts/carols.yaml").unlink()  # not bob's to delete: a kept deletion
    commit(bob)
    ok("friend", "add", "bob", str(bob), cwd=alice)
    ok("fetch", "bob", cwd=alice)
    return alice, git("rev-parse", "HEAD", cwd=alice).strip()


def _commit_meanwhile(repo: Path) -> str:
    """A plain `git commit` of another file only: what jobshare staged stays staged."""
    (repo / "notes.txt").write_text("by hand\n")
    git("add", "notes.txt", cwd=repo)
    git("commit", "-qm", "meanwhile", "--only", "notes.txt", cwd=repo)
    return git("rev-parse", "HEAD", cwd=repo).strip()


def _assert_put_back(repo: Path, before: str, meanwhile: str) -> None:
    """git's commit on the branch, on top of `before`, and nothing of the pull left."""
    from test_sync import ok

    assert git("rev-parse", "HEAD", cwd=repo).strip() == meanwhile
    assert git("rev-parse", "HEAD~1", cwd=repo).strip() == before
    assert git("status", "--porcelain", cwd=repo) == ""
    assert not (repo / ".git/jobshare/journal.json").exists()
    assert not (repo / ".git/jobshare/kept-deletions.json").exists()
    ok("pull", "bob", "--no-fetch", cwd=repo)  # run again: on top of git's commit
    assert meanwhile in git("rev-list", "HEAD", cwd=repo).split()
    assert "Bath" in (repo / "contacts/acme.yaml").read_text()
    assert (repo / "contacts/new.yaml").exists() and (repo / "notes.txt").exists()
    assert (repo / ".git/jobshare/kept-deletions.json").exists()
    assert git("status", "--porcelain", cwd=repo) == ""


@pytest.mark.parametrize("step", ["worktree", "index", "state"])
def test_a_git_commit_made_while_a_pull_writes_its_files_stays(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, step: str
) -> None:
    """Compare and swap through the whole write: a plain `git commit` made while the pull
    writes the working tree, the index or its state files (at the store's checkpoint of
    that step) stays on the branch; the pull stops with one line and puts back what it
    wrote (files, index entries, kept deletions), so nothing of it is left staged; run
    again, it merges on top of that commit."""
    from conftest import jobshare

    from jobshare_sync.store import journal, worktree

    alice, before = _pull_to_race(tmp_path)
    raced: list[str] = []

    def race(name: str) -> None:
        if name == step and not raced:
            raced.append(_commit_meanwhile(alice))

    monkeypatch.setattr(worktree, "checkpoint", race)
    monkeypatch.setattr(journal, "checkpoint", race)
    result = jobshare("pull", "bob", "--no-fetch", cwd=alice)
    monkeypatch.undo()
    assert raced, "the race did not happen"
    assert result.exit_code != 0 and "Traceback" not in result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("jobshare:")]
    assert len(errors) == 1 and "main moved while jobshare was writing" in errors[0]
    _assert_put_back(alice, before, raced[0])


def test_a_git_commit_after_a_killed_write_is_kept_and_the_write_put_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Killed once the index was written, then a plain `git commit`: the next command
    finds the journal for a branch that moved, drops it and puts its files back."""
    import sys

    from test_sync import ok

    alice, before = _pull_to_race(tmp_path)
    monkeypatch.setenv("JOBSHARE_KILL_AT", "index")
    command = [sys.executable, "-P", "-m", "jobshare_sync", "-C", str(alice)]
    subprocess.run([*command, "pull", "bob", "--no-fetch"], capture_output=True, check=False)
    monkeypatch.delenv("JOBSHARE_KILL_AT")
    assert (alice / ".git/jobshare/journal.json").exists()
    meanwhile = _commit_meanwhile(alice)
    ok("status", cwd=alice)
    _assert_put_back(alice, before, meanwhile)
