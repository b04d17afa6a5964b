"""The private side's writes, killed with SIGKILL at every checkpoint (DESIGN section
4, last bullet; store/private.py): the private branch is the old commit or the new
one, never half; `git fsck` of the private repository is clean; `share` and `unshare`
killed between their two commits leave the record on both sides, identical, and the
same command run again finishes; running a command again after any kill gives the
state of a run that was never interrupted."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pygit2
import pytest
from conftest import git, make_repo
from test_sync import ok

NOW = "2026-10-05T09:00:00Z"


def command(repo: Path, args: list[str], kill_at: int | None = None) -> int:
    env = {**os.environ, "JOBSHARE_NOW": NOW}
    if kill_at is not None:
        env["JOBSHARE_KILL_AT"] = str(kill_at)
    done = subprocess.run(
        [sys.executable, "-P", "-m", "jobshare_sync", "-C", str(repo), *args],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode in (0, -9), done.stdout + done.stderr
    return done.returncode


def files_of(repo: pygit2.Repository, tree: pygit2.Tree, prefix: str = "") -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    for entry in tree:
        obj = repo[entry.id]
        if isinstance(obj, pygit2.Tree):
            out |= files_of(repo, obj, f"{prefix}{entry.name}/")
        else:
            out[f"{prefix}{entry.name}"] = bytes(obj.peel(pygit2.Blob).data)
    return out


def state(repo: Path) -> dict[str, Any]:
    """The shared branch's records and the private branch's files."""
    main = pygit2.Repository(str(repo))
    shared = {
        p: d
        for p, d in files_of(main, main.head.peel(pygit2.Tree)).items()
        if p.startswith(("contacts/", "referrals/"))
    }
    path = repo / ".git/jobshare/private.git"
    private: dict[str, bytes] = {}
    if path.exists():
        side = pygit2.Repository(str(path))
        ref = side.references.get("refs/heads/private")
        if ref is not None:
            private = files_of(side, side[ref.target].peel(pygit2.Tree))
    return {"shared": shared, "private": private}


def on_both_sides(now: dict[str, Any]) -> bool:
    return any(p in now["private"] and now["private"][p] == d for p, d in now["shared"].items())


def fsck_ok(repo: Path) -> None:
    git("fsck", "--no-progress", cwd=repo)
    private = repo / ".git/jobshare/private.git"
    if private.exists():
        subprocess.run(
            ["git", "--git-dir", str(private), "fsck", "--no-progress"],
            check=True,
            capture_output=True,
        )


def seeded(path: Path) -> Path:
    repo = make_repo(path)
    ok("add", "contact", "--name", "Acme", "--id", "acme", cwd=repo)
    ok("add", "contact", "--name", "Quiet Client", "--id", "quiet", "--private", cwd=repo)
    ok("note", "acme", "--set", "rating=3", cwd=repo)
    return repo


SCENARIOS: dict[str, tuple[Callable[[Path], Path], list[str]]] = {
    "add private": (seeded, ["add", "contact", "--name", "New", "--id", "new", "--private"]),
    "note": (seeded, ["note", "acme", "--set", "rating=5", "--set", "tags=late"]),
    "note removed": (seeded, ["note", "acme", "--unset", "rating"]),
    "share": (seeded, ["share", "quiet"]),
    "unshare": (seeded, ["unshare", "acme", "--yes"]),
}


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_a_private_write_killed_at_any_checkpoint(tmp_path: Path, name: str) -> None:
    build, args = SCENARIOS[name]
    template = build(tmp_path / "template")
    before = state(template)
    reference = tmp_path / "reference"
    shutil.copytree(template, reference, symlinks=True)
    assert command(reference, args) == 0
    after = state(reference)
    assert after != before
    cases: set[str] = set()
    for kill_at in range(1, 40):
        work = tmp_path / f"killed-{kill_at}"
        shutil.copytree(template, work, symlinks=True)
        code = command(work, args, kill_at)
        now = state(work)
        fsck_ok(work)
        if code == 0:
            assert now == after
            break
        if now == before:
            cases.add("before")
            assert command(work, args) == 0
        elif now == after:
            cases.add("after")
        else:  # killed between the two sides' commits: on both, identical; run again
            assert name in ("share", "unshare") and on_both_sides(now), now
            cases.add("both")
            assert command(work, args) == 0
        assert state(work) == after
        assert command(work, ["status"]) == 0
    else:
        pytest.fail("the command never completed")
    assert "before" in cases
    if name in ("share", "unshare"):
        assert "both" in cases


def two_machines(path: Path) -> Path:
    """A desk and a laptop whose private sides both changed since they last met, with
    their private remote beside them (the URL relative to the private repository, so
    that a copy of the folder is a world of its own); returns the desk."""
    path.mkdir()
    git("init", "-q", "--bare", str(path / "mine.git"), cwd=path)
    desk = seeded(path / "desk")
    relative = "../../../../mine.git"  # from desk/.git/jobshare/private.git
    git("config", "jobshare.privateRemote", relative, cwd=desk)
    ok("sync", "--no-push", cwd=desk)  # no origin: only the private side is pushed
    laptop = path / "laptop"
    shutil.copytree(desk, laptop, symlinks=True)
    ok("note", "acme", "--set", "tags=late", cwd=laptop)
    ok("sync", cwd=laptop)
    ok("note", "acme", "--set", "day_rate=EUR 500", cwd=desk)
    return desk


def test_a_private_sync_killed_at_any_checkpoint(tmp_path: Path) -> None:
    template = two_machines(tmp_path / "template")
    world = template.parent
    before = state(template)
    reference = tmp_path / "reference"
    shutil.copytree(world, reference, symlinks=True)
    assert command(reference / "desk", ["sync"]) == 0
    after = state(reference / "desk")
    note = after["private"]["notes/contacts/acme.yaml"]
    assert b"late" in note and b"EUR 500" in note
    cases: set[str] = set()
    for kill_at in range(1, 40):
        copy = tmp_path / f"killed-{kill_at}"
        shutil.copytree(world, copy, symlinks=True)
        work = copy / "desk"
        code = command(work, ["sync"], kill_at)
        now = state(work)
        fsck_ok(work)
        if code == 0:
            assert now == after
            break
        assert now in (before, after)
        cases.add("before" if now == before else "after")
        assert command(work, ["sync"]) == 0
        assert state(work) == after
    else:
        pytest.fail("sync never completed")
    assert cases == {"before", "after"}  # killed before and after the private branch moved
