"""A friend's odd git objects never crash a command: a commit dated in the year 10000,
with an unknown `encoding` header and a message that is no UTF-8, and a branch naming a
blob, a tree or a tag of one (store/read.py, review.py, friends.py)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from conftest import clone_friend, git, jobshare, make_repo
from test_sync import commit, contact, ok, write


def _odd_commit(repo: Path) -> str:
    """A commit on top of HEAD in the year 10000, `encoding bogus-enc`, bytes 0xff 0xfe."""
    tree = git("rev-parse", "HEAD^{tree}", cwd=repo).strip()
    parent = git("rev-parse", "HEAD", cwd=repo).strip()
    raw = (
        f"tree {tree}\nparent {parent}\n"
        "author X <x@example.com> 253402300800 +0000\n"
        "committer X <x@example.com> 253402300800 +0000\n"
        "encoding bogus-enc\n\n"
    ).encode() + b"\xff\xfe odd message\n"
    done = subprocess.run(
        ["git", "hash-object", "-t", "commit", "-w", "--stdin", "--literally"],
        cwd=repo,
        input=raw,
        capture_output=True,
        check=True,
    )
    return done.stdout.decode().strip()


def test_an_odd_commit_is_shown_as_best_it_can_be(tmp_path: Path) -> None:
    alice = make_repo(tmp_path / "alice")
    bob = clone_friend(alice, tmp_path / "bob", "bob")
    write(bob, "contacts/acme", contact("acme", "bob"))
    commit(bob)
    odd = _odd_commit(bob)
    git("update-ref", "refs/heads/main", odd, cwd=bob)
    ok("friend", "add", "bob", str(bob), cwd=alice)
    for args in (["fetch"], ["incoming", "bob"], ["pull"]):
        result = jobshare(*args, cwd=alice)
        assert result.exit_code == 0, (args, result.output)
    for args in (["log"], ["log", "--json"], ["show", odd], ["diff", f"{odd}~1", odd]):
        result = jobshare(*args, cwd=alice)
        assert result.exit_code == 0, (args, result.output)
        assert "Traceback" not in result.output
    shown = ok("show", odd, cwd=alice)
    assert "odd message" in shown and "@253402300800 +0000" in shown


@pytest.mark.parametrize("kind", ["blob", "tree"])
def test_a_branch_naming_no_commit_gives_one_line(tmp_path: Path, kind: str) -> None:
    alice = make_repo(tmp_path / "alice")
    bob = clone_friend(alice, tmp_path / "bob", "bob")
    carol = clone_friend(alice, tmp_path / "carol", "carol")
    ok("friend", "add", "bob", str(bob), cwd=alice)
    ok("friend", "add", "carol", str(carol), cwd=alice)
    oid = (
        git("rev-parse", "HEAD^{tree}", cwd=bob).strip()
        if kind == "tree"
        else subprocess.run(
            ["git", "hash-object", "-w", "--stdin"],
            cwd=bob,
            input=b"hi\n",
            capture_output=True,
            check=True,
        )
        .stdout.decode()
        .strip()
    )
    (bob / ".git/refs/heads/main").write_text(oid + "\n")  # plain git refuses to do this
    for args in (["fetch"], ["incoming", "bob"], ["pull"]):
        result = jobshare(*args, cwd=alice)
        assert result.exit_code != 0, (args, result.output)
        assert "Traceback" not in result.output
        assert "their branch 'main' names no commit" in result.stderr
    assert "carol: fetched" in jobshare("fetch", cwd=alice).output  # the others still are


def test_an_editor_saving_bytes_that_are_no_utf8_gives_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = make_repo(tmp_path / "alice")
    write(repo, "contacts/acme", contact("acme"))
    commit(repo)
    editor = tmp_path / "editor.sh"
    editor.write_text('#!/bin/sh\nprintf "\\377\\376 bad\\n" >> "$1"\n')
    editor.chmod(0o755)
    monkeypatch.setenv("VISUAL", str(editor))
    before = (repo / "contacts/acme.yaml").read_bytes()
    result = jobshare("edit", "acme", cwd=repo)
    assert result.exit_code == 6, result.output
    assert "Traceback" not in result.output
    assert result.stderr.strip().endswith("save the file as UTF-8 and edit again")
    assert (repo / "contacts/acme.yaml").read_bytes() == before


def test_commit_writes_a_hand_edited_record_in_canonical_form(tmp_path: Path) -> None:
    from jobshare_sync.core import schema

    repo = make_repo(tmp_path / "alice")
    (repo / "contacts/hand-made.yaml").write_text(
        "name: Hand Made\nid: hand-made\nkind: agency\nadded_by: alice\n"
        "updated: '2026-10-01T09:00:00Z'\ntags: [b, a]\n"
    )
    ok("commit", "-m", "by hand", cwd=repo)
    data = {
        "id": "hand-made",
        "kind": "agency",
        "name": "Hand Made",
        "tags": ["b", "a"],
        "added_by": "alice",
        "updated": "2026-10-01T09:00:00Z",
    }
    canonical = schema.dump_record("contacts", data)
    committed = subprocess.run(
        ["git", "show", "HEAD:contacts/hand-made.yaml"], cwd=repo, capture_output=True, check=True
    ).stdout
    assert committed == canonical
    assert (repo / "contacts/hand-made.yaml").read_bytes() == canonical


def _tagged(tmp_path: Path) -> tuple[Path, Path, dict[str, str]]:
    """alice, and bob with a record and two annotated tags: of his commit and of its tree."""
    alice = make_repo(tmp_path / "alice")
    bob = clone_friend(alice, tmp_path / "bob", "bob")
    write(bob, "contacts/acme", contact("acme", "bob"))
    commit(bob)
    git("tag", "-a", "of-commit", "-m", "a tag", cwd=bob)
    git("tag", "-a", "of-tree", "-m", "a tag of a tree", "HEAD^{tree}", cwd=bob)
    tags = {name: git("rev-parse", name, cwd=bob).strip() for name in ("of-commit", "of-tree")}
    ok("friend", "add", "bob", str(bob), cwd=alice)
    return alice, bob, tags


def _one_line_or_ok(args: list[str], cwd: Path, code: int | None = None) -> str:
    result = jobshare(*args, cwd=cwd)
    assert "Traceback" not in result.output, (args, result.output)
    if code is not None:
        assert result.exit_code == code, (args, result.output)
    if result.exit_code not in (0, 1):
        errors = [line for line in result.stderr.splitlines() if line.startswith("jobshare:")]
        assert len(errors) == 1, (args, result.stderr)
    return result.output


@pytest.mark.parametrize("kind", ["of-commit", "of-tree"])
def test_a_branch_naming_an_annotated_tag_gives_one_line(tmp_path: Path, kind: str) -> None:
    """Their branch names a tag where a commit was expected: a tag of a commit stands for
    that commit (pulled as such); a tag of anything else gives one line."""
    alice, bob, tags = _tagged(tmp_path)
    (bob / ".git/refs/heads/main").write_text(tags[kind] + "\n")  # plain git refuses this
    code = 0 if kind == "of-commit" else 11
    for args in (["fetch"], ["incoming", "bob"], ["pull"]):
        out = _one_line_or_ok(args, alice, code)
        assert kind == "of-commit" or "their branch 'main' names no commit" in out
    assert ("contacts/acme" in ok("list", cwd=alice)) == (kind == "of-commit")
    git("fetch", "-q", str(bob), "refs/tags/*:refs/tags/*", cwd=alice)
    tag = tags[kind]
    for args in (["log"], ["log", "--json"], ["show", tag], ["diff", tag], ["diff", "HEAD", tag]):
        _one_line_or_ok(args, alice, 0 if kind == "of-commit" else None)


@pytest.mark.parametrize("kind", ["of-commit", "of-tree"])
def test_a_fetched_ref_that_plain_git_made_a_tag_gives_one_line(tmp_path: Path, kind: str) -> None:
    """Plain git can store an annotated tag as a friend's fetched branch (`git fetch bob
    refs/tags/x:refs/remotes/bob/main`): every command reads it as the commit it tags, or
    as nothing fetched, never with a traceback."""
    alice, bob, tags = _tagged(tmp_path)
    ok("fetch", cwd=alice)
    git("fetch", "-q", str(bob), "refs/tags/*:refs/tags/*", cwd=alice)
    git("update-ref", "refs/remotes/bob/main", tags[kind], cwd=alice)
    for args in (["status"], ["status", "--json"], ["friend", "list"], ["log"]):
        _one_line_or_ok(args, alice, 0)
    pulled = _one_line_or_ok(["pull", "--no-fetch"], alice)
    if kind == "of-commit":
        assert "contacts/acme" in ok("list", cwd=alice), pulled
    else:
        assert "nothing fetched from 'bob' yet: run 'jobshare fetch bob'" in pulled
