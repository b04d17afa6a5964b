"""Hostile friend repositories, and what a push lets out.

A friend's branch may hold anything git can store: trees built with pygit2's object
database here, since git's porcelain refuses most of them. A pull takes only valid
records from contacts/ and referrals/; everything else is skipped and reported, or
refused by git's own object checks at the fetch, and nothing is written outside those
two folders, or outside the repository. Nothing a friend sends is ever run. A push
sends the current branch and nothing else.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pygit2
import pytest
from conftest import git, jobshare, publish, set_owner
from pygit2.enums import FileMode, ObjectType
from test_sync import (
    Serve,
    assert_clean,
    commit,
    contact,
    edit,
    head,
    labels,
    ok,
    pair,
    read,
    snapshot,
    write,
)

from jobshare_sync.core import schema

Entry = tuple[int, bytes, pygit2.Oid]  # file mode, name, object: one entry of a git tree
PASSWD_LINE = b"root:x:0:0:"  # what /etc/passwd starts with: it must never reach a record


# --- building what git's porcelain would refuse ------------------------------------------


def write_tree(repo: pygit2.Repository, entries: Iterable[Entry]) -> pygit2.Oid:
    """A tree object written as raw bytes: no check of names or modes applies."""

    def order(entry: Entry) -> bytes:  # git's order: a folder sorts as if its name ended in /
        mode, name, _ = entry
        return name + (b"/" if mode == FileMode.TREE else b"")

    body = b"".join(
        b"%o %s\0%s" % (mode, name, oid.raw) for mode, name, oid in sorted(entries, key=order)
    )
    return repo.odb.write(ObjectType.TREE, body)


def entries_of(tree: pygit2.Tree) -> list[Entry]:
    return [(entry.filemode, entry.raw_name, entry.id) for entry in tree]


def blob(repo: pygit2.Repository, data: bytes) -> pygit2.Oid:
    return repo.create_blob(data)


def hostile_commit(
    friend: Path,
    *,
    contacts: Iterable[Entry] = (),
    referrals: Iterable[Entry] = (),
    root: Iterable[Entry] = (),
    message: str = "All sorts",
) -> str:
    """Commit, on the friend's main branch, their HEAD tree with these entries added (an
    entry replaces one of the same name). Their working tree is never touched: checking
    out such a tree is exactly what must not happen."""
    repo = pygit2.Repository(str(friend))
    parent = repo.head.peel(pygit2.Commit)
    top = {name: (mode, name, oid) for mode, name, oid in entries_of(parent.tree)}
    for folder, extra in ((b"contacts", contacts), (b"referrals", referrals)):
        extra = list(extra)
        if extra:
            inner = {e[1]: e for e in entries_of(repo[top[folder][2]].peel(pygit2.Tree))}
            inner.update({e[1]: e for e in extra})
            top[folder] = (FileMode.TREE, folder, write_tree(repo, inner.values()))
    top.update({e[1]: e for e in root})
    tree = write_tree(repo, top.values())
    who = pygit2.Signature("Bob", "bob@example.com")
    return str(repo.create_commit("refs/heads/main", who, who, message, tree, [parent.id]))


def record_bytes(folder: str, data: dict[str, Any]) -> bytes:
    return schema.dump_record(folder, data)


# --- what a pull must leave as it was ----------------------------------------------------


@dataclass
class Before:
    """What lies around the user's repository before a pull."""

    files: set[str]
    around: dict[Path, set[str]]
    config: str


def worktree_files(repo: Path) -> set[str]:
    return {
        p.relative_to(repo).as_posix()
        for p in repo.rglob("*")
        if not p.is_dir() and p.relative_to(repo).parts[0] != ".git"
    }


def look_around(repo: Path) -> Before:
    folders = [repo.parent, repo.parent.parent]
    return Before(
        worktree_files(repo),
        {folder: {p.name for p in folder.iterdir()} for folder in folders},
        git("config", "--local", "--list", cwd=repo),
    )


def assert_unharmed(
    repo: Path, before: Before, added: Iterable[str] = (), removed: Iterable[str] = ()
) -> None:
    """After a pull: the working tree holds what it held plus the records named in `added`
    (less those in `removed`), the repository is sound and valid, and nothing appeared
    next to it."""
    expected = before.files | {f"{label}.yaml" for label in added}
    assert worktree_files(repo) == expected - {f"{label}.yaml" for label in removed}
    assert_clean(repo)  # git status is empty and git fsck --strict finds nothing
    validated = jobshare("validate", cwd=repo)
    assert validated.exit_code == 0, validated.output
    for folder, names in before.around.items():
        assert {p.name for p in folder.iterdir()} == names, folder
    for path in repo.rglob("*"):
        if path.is_file() and ".git" not in path.relative_to(repo).parts:
            assert PASSWD_LINE not in path.read_bytes(), path
    assert PASSWD_LINE.decode() not in git("log", "--format=%B", cwd=repo)
    assert not list(Path("/tmp").glob("jobshare-pwned-*"))


def pulled(repo: Path, *args: str) -> dict[str, Any]:
    """`jobshare pull --json` that must succeed; the JSON of the one friend pulled."""
    result = jobshare("pull", "--json", *args, cwd=repo)
    assert result.exit_code == 0, result.output
    [outcome] = json.loads(result.stdout)["jobshare.pull/v1"]
    return dict(outcome)


def skipped_of(outcome: dict[str, Any]) -> dict[str, str]:
    return {item["path"]: item["reason"] for item in outcome["skipped"]}


# --- a branch full of bad entries ---------------------------------------------------------

BOMB = (
    b'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    + b"".join(
        b"%s: &%s [%s]\n" % (bytes([c]), bytes([c]), b",".join([b"*" + bytes([c - 1])] * 9))
        for c in range(ord("b"), ord("j"))
    )
    + b"id: bomb\nname: *i\n"
)


def bad_entries(repo: pygit2.Repository, marker: Path) -> list[tuple[Entry, str, str]]:
    """(entry in contacts/, path reported, words of the reason) for every kind of bad entry
    that git's own checks let through."""
    good = contact("fine", "bob")

    def rec(**fields: Any) -> bytes:
        return record_bytes("contacts", {**good, **fields})

    def file(name: bytes, data: bytes) -> Entry:
        return (FileMode.BLOB, name, blob(repo, data))

    sub = write_tree(repo, [file(b"inner.yaml", rec(id="inner"))])
    tag = f"id: tagged\nname: !!python/object/apply:os.system ['touch {marker}']\n".encode()
    return [
        ((FileMode.LINK, b"passwd.yaml", blob(repo, b"/etc/passwd")), "passwd.yaml", "link"),
        ((FileMode.LINK, b"up.yaml", blob(repo, b"../../")), "up.yaml", "link"),
        ((FileMode.LINK, b"etc", blob(repo, b"/etc")), "etc", "link"),
        ((FileMode.COMMIT, b"module.yaml", pygit2.Oid(hex="1" * 40)), "module.yaml", "submodule"),
        ((FileMode.TREE, b"sub", sub), "sub/inner.yaml", "not a valid record id"),
        (file(b".yaml", rec(id="x")), ".yaml", "not a valid record id"),
        (file(b"Bad_Id.yaml", rec(id="bad-id")), "Bad_Id.yaml", "not a valid record id"),
        (file(b"x" * 70 + b".yaml", rec(id="x" * 70)), "x" * 70 + ".yaml", "not a valid"),
        (file(b"..\\..\\jobshare-pwned-1.yaml", rec()), "..\\..\\jobshare-pwned-1.yaml", "id"),
        (file(b"bomb.yaml", BOMB), "bomb.yaml", "aliases"),
        (file(b"deep.yaml", b"id: deep\nname: " + b"[" * 5000 + b"]" * 5000), "deep.yaml", "nest"),
        (file(b"latin.yaml", rec(id="latin").replace(b"Fine", b"Caf\xe9")), "latin.yaml", "UTF-8"),
        (file(b"nul.yaml", rec(id="nul") + b"\0"), "nul.yaml", "NUL"),
        (file(b"mismatch.yaml", rec(id="other")), "mismatch.yaml", "differs from the file name"),
        (file(b"extra.yaml", rec(id="extra") + b"password: hunter2\n"), "extra.yaml", "unknown"),
        (file(b"tagged.yaml", tag), "tagged.yaml", "python/object/apply"),
        (file(b"dup.yaml", rec(id="dup") + b"name: Again\n"), "dup.yaml", "duplicate key"),
        (file(b"list.yaml", b"- id: list\n"), "list.yaml", "mapping"),
        (file(b"empty.yaml", b""), "empty.yaml", "mapping"),
        (file(b"robot.yaml", rec(id="robot", kind="robot")), "robot.yaml", "robot"),
    ]


def test_a_branch_full_of_bad_entries_gives_only_its_valid_records(tmp_path: Path) -> None:
    alice, bob = pair(tmp_path, contact("alices"), contact("carols", "carol"))
    repo = pygit2.Repository(str(bob))
    marker = tmp_path / "marker-from-a-yaml-tag"
    bad = bad_entries(repo, marker)
    good = [
        (FileMode.BLOB, b"fine.yaml", blob(repo, record_bytes("contacts", contact("fine", "bob")))),
        # an executable bit does not make a record less of a record
        (
            FileMode.BLOB_EXECUTABLE,
            b"exec.yaml",
            blob(repo, record_bytes("contacts", contact("exec", "bob"))),
        ),
    ]
    client = contact("client-co", "bob")
    offer = {
        "id": "offer",
        "title": "Data pipeline",
        "client": "client-co",
        "from": "bob",
        "to": "alice",
        "status": "open",
        "created": "2026-10-01T09:00:00Z",
        "updated": "2026-10-01T09:00:00Z",
        "history": [{"at": "2026-10-01T09:00:00Z", "by": "bob", "status": "open"}],
    }
    orphan = {**offer, "id": "orphan", "client": "robot"}
    passwd_blob = blob(repo, b"/etc/passwd")
    schema_copy = (
        FileMode.TREE,
        b"schema",
        write_tree(repo, [(FileMode.BLOB, b"contact.schema.json", blob(repo, b"{}\n"))]),
    )
    hostile_commit(
        bob,
        contacts=[
            *(entry for entry, _, _ in bad),
            *good,
            (FileMode.BLOB, b"client-co.yaml", blob(repo, record_bytes("contacts", client))),
        ],
        referrals=[
            (FileMode.BLOB, b"offer.yaml", blob(repo, record_bytes("referrals", offer))),
            (FileMode.LINK, b"link.yaml", passwd_blob),
            # valid on its own, but its client is the contact of theirs that was skipped
            (FileMode.BLOB, b"orphan.yaml", blob(repo, record_bytes("referrals", orphan))),
        ],
        root=[
            (FileMode.BLOB, b".gitattributes", blob(repo, b"* filter=evil\n*.yaml merge=ours\n")),
            (
                FileMode.BLOB,
                b".gitmodules",
                blob(repo, b'[submodule "x"]\n\tpath = x\n\turl = ../x\n'),
            ),
            (FileMode.TREE, b".jobshare", write_tree(repo, [schema_copy])),
            (
                FileMode.BLOB,
                b"jobshare-pwned-2.yaml",
                blob(repo, record_bytes("contacts", contact("p", "bob"))),
            ),
            (FileMode.LINK, b"hooks", blob(repo, b".git/hooks")),
            (FileMode.BLOB, b"README.md", blob(repo, b"Bob's notes\n")),
        ],
    )
    before = look_around(alice)
    started = time.monotonic()
    outcome = pulled(alice, "bob")
    assert time.monotonic() - started < 10
    assert outcome["counts"] == {"added": 4, "updated": 0, "removed": 0, "conflicts": 0}
    skipped = skipped_of(outcome)
    expected = {f"contacts/{path}": words for _, path, words in bad}
    expected["referrals/link.yaml"] = "link"
    expected["referrals/orphan.yaml"] = "'robot' names no contact"
    assert set(skipped) == set(expected), skipped
    for path, words in expected.items():
        assert words in skipped[path], (path, skipped[path])
    assert "1,048,576" not in json.dumps(skipped)  # nothing was mistaken for a huge file
    added = {"contacts/fine", "contacts/exec", "contacts/client-co", "referrals/offer"}
    assert_unharmed(alice, before, added)
    assert read(alice, "contacts/fine") == contact("fine", "bob")
    assert not marker.exists()
    assert not (alice / ".gitattributes").exists() and not (alice / ".gitmodules").exists()
    assert (alice / ".jobshare/schema/contact.schema.json").read_bytes() != b"{}\n"
    assert (
        git("config", "--local", "--list", cwd=alice)
        == before.config + "jobshare-friend.bob.handle=bob\n"
    )
    # the merge commit lists what was skipped; a second pull finds nothing new
    body = git("log", "-1", "--format=%B", cwd=alice)
    assert "- skipped contacts/passwd.yaml: a symbolic link" in body
    assert pulled(alice, "bob")["up_to_date"] is True


# --- what git itself refuses at the fetch ----------------------------------------------------


def git_files(repo: Path) -> set[str]:
    """Every file under .git, by path (the objects and refs git keeps loose, config, ...)."""
    git_dir = repo / ".git"
    return {p.relative_to(git_dir).as_posix() for p in git_dir.rglob("*") if p.is_file()}


def objects(repo: Path) -> set[str]:
    listing = git("cat-file", "--batch-all-objects", "--batch-check=%(objectname)", cwd=repo)
    return set(listing.split())


@pytest.mark.parametrize(
    ("where", "name", "kind"),
    [
        ("contacts", b"..", "hasDotdot"),
        ("root", b"..", "hasDotdot"),
        ("contacts", b".", "hasDot"),
        ("contacts", b".git", "hasDotgit"),
        ("root", b".GIT", "hasDotgit"),
        ("contacts", b"/tmp/jobshare-pwned-3.yaml", "fullPathname"),
        ("contacts", b"../../jobshare-pwned-4.yaml", "fullPathname"),
        # git's own upload-pack gives up on this one before sending anything
        ("contacts", b"", "possible repository corruption"),
    ],
)
def test_a_tree_git_refuses_is_never_fetched(
    tmp_path: Path, where: str, name: bytes, kind: str
) -> None:
    alice, bob = pair(tmp_path, contact("alices"))
    ok("fetch", "bob", cwd=alice)
    repo = pygit2.Repository(str(bob))
    evil = blob(repo, record_bytes("contacts", contact("evil", "bob")))
    inner = write_tree(repo, [(FileMode.BLOB, b"evil.yaml", evil)])
    entry: Entry = (FileMode.TREE, name, inner) if b"/" not in name else (FileMode.BLOB, name, evil)
    good = (
        FileMode.BLOB,
        b"fine.yaml",
        blob(repo, record_bytes("contacts", contact("fine", "bob"))),
    )
    if where == "root":
        hostile_commit(bob, contacts=[good], root=[entry])
    else:
        hostile_commit(bob, contacts=[good, entry])
    before, around, known = snapshot(alice), look_around(alice), objects(alice)
    stored = git_files(alice)

    result = jobshare("pull", "bob", cwd=alice)
    assert result.exit_code == 11, result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("jobshare:")]
    assert len(errors) == 1 and "Traceback" not in result.output, result.stderr
    assert f"cannot fetch friend 'bob' ({bob}): " in errors[0] and kind in errors[0]
    assert snapshot(alice) == before  # refs (bob's tracking branch too), files, index, state
    assert objects(alice) == known
    # in .git, at most the temporary pack file git's index-pack leaves when it gives up
    # (git's own gc removes it); no object, no ref, no config
    new = git_files(alice) - stored
    assert all(name.startswith("objects/pack/tmp_pack_") for name in new), new
    assert_unharmed(alice, around)


def test_a_refused_tree_over_git_daemon_is_one_line_too(tmp_path: Path, git_daemon: Serve) -> None:
    alice, bob = pair(tmp_path, contact("alices"))
    repo = pygit2.Repository(str(bob))
    inner = write_tree(repo, [(FileMode.BLOB, b"x.yaml", blob(repo, b"id: x\n"))])
    hostile_commit(bob, contacts=[(FileMode.TREE, b".git", inner)])
    bare = publish(bob)
    ok("friend", "remove", "bob", cwd=alice)
    ok("friend", "add", "bob", git_daemon(bare), cwd=alice)
    before = snapshot(alice)
    result = jobshare("pull", cwd=alice)
    assert result.exit_code == 11, result.output
    [error] = [line for line in result.stderr.splitlines() if line.startswith("jobshare:")]
    assert "git refused their branch" in error and "hasDotgit" in error
    assert snapshot(alice) == before
    # the preview refuses it the same way, and leaves no ref behind
    preview = jobshare("incoming", "bob", cwd=alice)
    assert preview.exit_code == 11 and "git refused their branch" in preview.stderr
    assert snapshot(alice) == before


# --- big, many, and the folder itself ---------------------------------------------------------


PEAK = """
import sys
from pathlib import Path
from jobshare_sync.cli import cli
try:
    cli(sys.argv[2:], prog_name="jobshare")
finally:
    status = Path("/proc/self/status").read_text()
    Path(sys.argv[1]).write_text(status.split("VmHWM:")[1].split()[0])
"""


def measured(*args: str, cwd: Path) -> tuple[subprocess.CompletedProcess[str], int]:
    """Run the command in a new Python process; also its peak resident memory in MiB (the
    high-water mark of its own memory: a parent's, counted at fork, would hide it)."""
    with tempfile.TemporaryDirectory() as folder:
        peak = Path(folder) / "peak"
        command = [sys.executable, "-P", "-c", PEAK, str(peak), "-C", str(cwd), *args]
        done = subprocess.run(
            command, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120
        )
        return done, int(peak.read_text()) // 1024


def test_a_fifty_megabyte_file_is_skipped_for_its_size_without_being_read(tmp_path: Path) -> None:
    alice, bob = pair(tmp_path, contact("alices"))
    repo = pygit2.Repository(str(bob))
    size = 50 * 1024 * 1024
    huge = blob(repo, b"id: huge\nname: " + b"x" * (size - 16) + b"\n")
    fine = blob(repo, record_bytes("contacts", contact("fine", "bob")))
    hostile_commit(
        bob, contacts=[(FileMode.BLOB, b"huge.yaml", huge), (FileMode.BLOB, b"fine.yaml", fine)]
    )
    ok("fetch", "bob", cwd=alice)
    before = look_around(alice)
    started = time.monotonic()
    done, peak = measured("pull", "--no-fetch", "--json", cwd=alice)
    took = time.monotonic() - started
    assert done.returncode == 0, done.stderr
    [outcome] = json.loads(done.stdout)["jobshare.pull/v1"]
    assert skipped_of(outcome) == {
        "contacts/huge.yaml": f"file is {size:,} bytes, over the 1,048,576-byte limit for a record"
    }
    assert outcome["counts"]["added"] == 1
    assert took < 10
    _, baseline = measured("status", cwd=alice)  # what the program takes anyway
    assert peak < baseline + 25, (peak, baseline)  # reading the file would take 50 MiB more
    assert_unharmed(alice, before, ["contacts/fine"])


@pytest.mark.parametrize("how", ["deleted", "no-folder", "a-symlink", "a-file"])
def test_a_tree_that_drops_records_others_added_keeps_them(tmp_path: Path, how: str) -> None:
    alice, bob = pair(
        tmp_path, contact("alices"), contact("carols", "carol"), contact("bobs", "bob")
    )
    repo = pygit2.Repository(str(bob))
    parent = repo.head.peel(pygit2.Commit)
    top = [e for e in entries_of(parent.tree) if e[1] != b"contacts"]
    if how == "deleted":
        top.append((FileMode.TREE, b"contacts", write_tree(repo, [])))
    elif how == "a-symlink":
        top.append((FileMode.LINK, b"contacts", blob(repo, b"/etc")))
    elif how == "a-file":
        top.append((FileMode.BLOB, b"contacts", blob(repo, b"/etc/passwd\n")))
    who = pygit2.Signature("Bob", "bob@example.com")
    repo.create_commit(
        "refs/heads/main", who, who, "No contacts", write_tree(repo, top), [parent.id]
    )
    before = look_around(alice)
    outcome = pulled(alice, "bob")
    if how in ("deleted", "no-folder"):  # bob may delete the record he added, no other
        assert labels(alice) == {"contacts/alices", "contacts/carols"}
        assert outcome["counts"]["removed"] == 1
        assert sorted(outcome["notices"]) == [
            "contacts/alices: kept; bob deleted it, but alice added it",
            "contacts/carols: kept; bob deleted it, but carol added it",
        ]
        assert_unharmed(alice, before, removed=["contacts/bobs"])
    else:  # not a folder: nothing in it, and it takes nothing away
        kind = "a symbolic link" if how == "a-symlink" else "a file"
        assert skipped_of(outcome) == {"contacts": f"{kind}, not a folder: nothing in it merged"}
        assert outcome["counts"]["removed"] == 0
        assert labels(alice) == {"contacts/alices", "contacts/carols", "contacts/bobs"}
        assert_unharmed(alice, before)


def test_a_history_of_three_thousand_commits_pulls_in_reasonable_time(tmp_path: Path) -> None:
    alice, bob = pair(tmp_path, contact("alices"))
    start = int(git("rev-list", "--count", "main", cwd=bob))
    stream = [f"reset refs/heads/main\nfrom {head(bob)}\n"]
    for i in range(3000):
        record = record_bytes("contacts", contact(f"bob-{i % 50}", "bob", location=f"Desk {i}"))
        stream.append(
            f"commit refs/heads/main\ncommitter Bob <bob@example.com> {1_760_000_000 + i} +0000\n"
            f"data {len(f'Edit {i}')}\nEdit {i}\n"
            f"M 100644 inline contacts/bob-{i % 50}.yaml\ndata {len(record)}\n"
        )
        stream.append(record.decode() + "\n")
    subprocess.run(
        ["git", "fast-import", "--quiet"], input="".join(stream), text=True, cwd=bob, check=True
    )
    assert int(git("rev-list", "--count", "main", cwd=bob)) == start + 3000
    before = look_around(alice)
    started = time.monotonic()
    outcome = pulled(alice, "bob")
    assert time.monotonic() - started < 20
    assert outcome["counts"]["added"] == 50
    assert read(alice, "contacts/bob-49")["location"] == "Desk 2999"
    assert_unharmed(alice, before, [f"contacts/bob-{i}" for i in range(50)])
    # the next commit of theirs merges as quickly, and the history stays walkable
    git("reset", "-q", "--hard", cwd=bob)  # fast-import moved the branch, not the files
    edit(bob, "contacts/bob-7", location="Desk 3000")
    commit(bob)
    started = time.monotonic()
    assert pulled(alice, "bob")["counts"]["updated"] == 1
    assert time.monotonic() - started < 10
    assert read(alice, "contacts/bob-7")["location"] == "Desk 3000"
    status = json.loads(ok("status", "--json", cwd=alice))["jobshare.status/v1"]
    assert status["friends"][0]["unmerged"] == 0
    assert ok("log", "-n", "3", cwd=alice).count("\ncommit ") <= 3


# --- never run anything, never take anyone's settings ---------------------------------------


HOOKS = ("post-merge", "post-checkout", "post-commit", "post-rewrite", "reference-transaction")


def test_a_friends_hooks_and_git_settings_are_never_taken_or_run(
    tmp_path: Path, git_daemon: Serve
) -> None:
    alice, bob = pair(tmp_path, contact("alices"))
    markers = tmp_path / "markers"
    markers.mkdir()
    for name in (*HOOKS, "pre-push", "update", "post-update", "pre-receive"):
        hook = bob / ".git/hooks" / name
        hook.write_text(f"#!/bin/sh\ntouch {markers}/{name}\n")
        hook.chmod(0o755)
    # bob's own repository config: filters, fsmonitor, a hooks path, an upload-pack hook
    for key, value in [
        ("filter.evil.smudge", f"touch {markers}/smudge; cat"),
        ("filter.evil.clean", f"touch {markers}/clean; cat"),
        ("core.fsmonitor", f"touch {markers}/fsmonitor"),
        ("core.hooksPath", str(bob / ".git/hooks")),
        ("uploadpack.packObjectsHook", f"touch {markers}/pack-objects-hook;"),
        ("merge.ours.driver", f"touch {markers}/merge-driver"),
    ]:
        git("config", key, value, cwd=bob)
    (bob / ".gitattributes").write_text("* filter=evil merge=ours\n")
    git("add", ".gitattributes", cwd=bob)
    write(bob, "contacts/fine", contact("fine", "bob"))
    git("add", "contacts", cwd=bob)
    git("commit", "-qm", "Hooks and filters", cwd=bob)
    bare = publish(bob)  # bob's push to his server
    # they are live where they belong: in bob's own repository
    assert {p.name for p in markers.iterdir()} >= {"post-commit", "clean", "pre-push"}
    for marker in markers.iterdir():
        marker.unlink()
    before = look_around(alice)

    assert pulled(alice, "bob")["counts"]["added"] == 1  # over a path: git runs upload-pack there
    ok("friend", "add", "bob-daemon", git_daemon(bare), cwd=alice)
    # the same bob at another URL: his handle is pinned for 'bob' already, so deliberately
    ok("friend", "pin", "bob-daemon", "bob", cwd=alice)
    ok("fetch", "bob-daemon", cwd=alice)
    assert sorted(p.name for p in markers.iterdir()) == []
    assert (
        sorted(p.name for p in (alice / ".git/hooks").iterdir() if not p.name.endswith(".sample"))
        == []
    )
    assert not (alice / ".gitattributes").exists()
    config = git("config", "--local", "--list", cwd=alice)
    assert "evil" not in config and "fsmonitor" not in config and "hooksPath" not in config
    before.config = config  # it gained bob-daemon, which is ours
    assert_unharmed(alice, before, ["contacts/fine"])
    assert sorted(p.name for p in markers.iterdir()) == []  # git status in there ran none either


# --- who they say they are -----------------------------------------------------------------


def test_a_branch_claiming_another_handle_is_pulled_as_the_pinned_one(tmp_path: Path) -> None:
    alice, bob = pair(tmp_path, contact("carols", "carol"), contact("bobs", "bob"))
    ok("fetch", "bob", cwd=alice)
    set_owner(bob, "carol")
    for label in ("carols", "bobs"):
        (bob / f"contacts/{label}.yaml").unlink()
    write(bob, "contacts/new", contact("new", "carol"))
    commit(bob)
    before = look_around(alice)
    result = jobshare("pull", "bob", cwd=alice)
    assert result.exit_code == 0, result.output
    assert "warning: bob's branch claims the handle 'carol'; 'bob' applies" in result.stderr
    assert labels(alice) == {"contacts/carols", "contacts/new"}  # only bob's own went
    assert read(alice, "contacts/new")["added_by"] == "carol"  # what it says, not who sent it
    assert "jobshare-friend.bob.handle=bob" in git("config", "--local", "--list", cwd=alice)
    assert_unharmed(alice, before, ["contacts/new"], removed=["contacts/bobs"])


def test_a_branch_claiming_the_users_own_handle_is_refused(tmp_path: Path) -> None:
    alice, bob = pair(tmp_path, contact("mine"))
    ok("fetch", "bob", cwd=alice)
    set_owner(bob, "alice")
    (bob / "contacts/mine.yaml").unlink()
    write(bob, "contacts/planted", contact("planted"))
    commit(bob)
    before, around = snapshot(alice), look_around(alice)
    result = jobshare("pull", "bob", cwd=alice)
    assert result.exit_code == 10
    [error] = [line for line in result.stderr.splitlines() if line.startswith("jobshare:")]
    assert error.endswith("claims your own handle 'alice': pull refused")
    after = snapshot(alice)
    assert {k: v for k, v in after.items() if k != "refs"} == {
        k: v for k, v in before.items() if k != "refs"
    }
    assert_unharmed(alice, around)


@pytest.mark.parametrize(
    "config",
    [
        pytest.param((FileMode.LINK, b"/etc/passwd"), id="symlink-to-passwd"),
        pytest.param((FileMode.BLOB, b"owner: !!python/object/apply:os.system [id]\n"), id="tag"),
        pytest.param((FileMode.BLOB, b"owner:\n  handle: alice\n" + b"#" * 2_000_000), id="huge"),
        pytest.param((FileMode.BLOB, b"- alice\n"), id="a-list"),
        pytest.param((FileMode.TREE, b""), id="a-folder"),
        pytest.param((FileMode.COMMIT, b""), id="a-submodule"),
    ],
)
def test_an_unreadable_jobshare_yaml_leaves_the_pinned_handle_in_charge(
    tmp_path: Path, config: tuple[int, bytes]
) -> None:
    alice, bob = pair(tmp_path, contact("alices"))
    ok("fetch", "bob", cwd=alice)
    repo = pygit2.Repository(str(bob))
    mode, data = config
    if mode == FileMode.TREE:
        oid = write_tree(repo, [(FileMode.BLOB, b"x", blob(repo, b"owner: alice\n"))])
    elif mode == FileMode.COMMIT:
        oid = pygit2.Oid(hex="2" * 40)
    else:
        oid = blob(repo, data)
    fine = blob(repo, record_bytes("contacts", contact("fine", "bob")))
    hostile_commit(
        bob,
        contacts=[(FileMode.BLOB, b"fine.yaml", fine)],
        root=[(mode, b"jobshare.yaml", oid)],
    )
    before = look_around(alice)
    outcome = pulled(alice, "bob")
    assert outcome["handle"] == "bob" and outcome["counts"]["added"] == 1
    assert "handle: alice" in (alice / "jobshare.yaml").read_text()
    assert_unharmed(alice, before, ["contacts/fine"])


# --- what a push lets out ------------------------------------------------------------------


@pytest.mark.parametrize("over", ["path", "daemon"])
def test_push_sends_the_current_branch_and_nothing_else(
    tmp_path: Path, git_daemon: Serve, over: str
) -> None:
    alice, bob = pair(tmp_path, contact("shared"))
    server = tmp_path / "server.git"
    git("init", "-q", "--bare", str(server), cwd=tmp_path)
    git(
        "remote",
        "add",
        "origin",
        git_daemon(server) if over == "daemon" else str(server),
        cwd=alice,
    )
    ok("push", cwd=alice)
    # what must stay home: a friend's branch, a branch, tags, notes, a stash, a stopped pull
    write(bob, "contacts/bob-only", contact("bob-only", "bob", notes="secret-of-bob"))
    edit(bob, "contacts/shared", name="Secret name from bob")
    commit(bob)
    git("switch", "-q", "-c", "private", cwd=alice)
    write(alice, "contacts/private-lead", contact("private-lead", notes="secret-branch"))
    commit(alice)
    git("tag", "light", cwd=alice)
    git("tag", "-a", "annotated", "-m", "secret-tag", cwd=alice)
    git("switch", "-q", "main", cwd=alice)
    git("notes", "add", "-m", "secret-note", "HEAD", cwd=alice)
    edit(alice, "contacts/shared", notes="secret-stash")
    git("stash", "-q", cwd=alice)
    edit(alice, "contacts/shared", name="Alice's name")
    commit(alice)
    assert jobshare("pull", "bob", cwd=alice).exit_code == 1  # stopped at a conflict
    assert (alice / ".git/jobshare/merge.json").is_file()
    # settings that would push more, were the refspec not spelled out
    git("config", "push.followTags", "true", cwd=alice)
    git("config", "remote.origin.push", "+refs/*:refs/*", cwd=alice)
    git("config", "push.default", "matching", cwd=alice)

    ok("push", cwd=alice)
    assert git("for-each-ref", "--format=%(refname)", cwd=server) == "refs/heads/main\n"
    assert git("rev-parse", "main", cwd=server) == git("rev-parse", "main", cwd=alice)

    def reachable(*revs: str) -> set[str]:
        listing = git("rev-list", "--objects", *revs, cwd=alice).splitlines()
        return {line.split()[0] for line in listing}

    sent = reachable("main")
    assert objects(server) == sent
    kept_home = reachable("--all", "refs/stash", "--reflog") - sent
    assert len(kept_home) > 10 and not kept_home & objects(server)
    everything = subprocess.run(
        ["git", "cat-file", "--batch-all-objects", "--batch"], cwd=server, capture_output=True
    ).stdout
    for secret in (b"secret-of-bob", b"Secret name", b"secret-branch", b"secret-tag"):
        assert secret not in everything, secret
    for secret in (b"secret-note", b"secret-stash"):
        assert secret not in everything, secret
    fresh = tmp_path / "fresh.git"
    git("init", "-q", "--bare", str(fresh), cwd=tmp_path)
    assert {p.name for p in server.iterdir()} <= {p.name for p in fresh.iterdir()} | {"packed-refs"}
    assert not [p for p in server.rglob("*") if "jobshare" in p.name or p.name == "merge.json"]
