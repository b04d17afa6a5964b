"""Interrupted commands (DESIGN.md section 4, last bullet): nothing lost, nothing half done.

Each writing command runs for real, in a subprocess, and is killed with SIGKILL: at
every checkpoint of the store (JOBSHARE_KILL_AT=1, 2, 3, ... until a run completes,
so every write step is hit) and after a few seeded random delays. After each kill the
repository must be exactly as before the command or exactly as after it, or in a state
that the next jobshare command (`status` here) completes to "after". Whatever the case,
`git fsck` is clean, `validate` and `status` work, running the command again gives the
same result as a run that was never interrupted, and once a writing command has run no
debris (stale lock, temporary file) is left.
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pygit2
import pytest
from conftest import clone_friend, git, jobshare, make_repo
from test_sync import commit, contact, edit, ok, write

from jobshare_sync.store import JOURNAL, KEPT_DELETIONS, MERGE_STATE, TEMP_SUFFIX

NOW = "2026-10-05T09:00:00Z"
RANDOM_KILLS = 4
Norm = Callable[[bytes], bytes]


def same(data: bytes) -> bytes:
    return data


# --- the state of a repository -------------------------------------------------------


def is_debris(path: Path) -> bool:
    """What a killed command may leave that no command reads: its lock, temporary files."""
    return path.name.endswith(TEMP_SUFFIX) or (
        path.parent.name == "jobshare" and path.name.startswith("lock")
    )


def debris(repo: Path) -> list[str]:
    found = [p for p in repo.rglob("*") if p.is_file() and is_debris(p)]
    found += [
        p for p in (repo / ".git/index.lock", repo / ".git/refs/heads/main.lock") if p.exists()
    ]
    return sorted(str(p.relative_to(repo)) for p in found)


def tree_files(repo: pygit2.Repository, tree: pygit2.Tree, norm: Norm, prefix: str = "") -> Any:
    files = {}
    for entry in tree:
        path = f"{prefix}{entry.name}"
        obj = repo[entry.id]
        if isinstance(obj, pygit2.Tree):
            files.update(tree_files(repo, obj, norm, f"{path}/"))
        else:
            files[norm(path.encode())] = (entry.filemode, norm(bytes(obj.data)))
    return files


def state(repo: Path, norm: Norm = same) -> dict[str, Any]:
    """Everything a command can change, with new commits described by their content
    (tree, message, parents) so that two runs at different times compare equal."""
    r = pygit2.Repository(str(repo))

    def describe(oid: str) -> Any:
        commit = r[oid].peel(pygit2.Commit)
        return {
            "parents": [str(p) for p in commit.parent_ids],
            "message": norm(commit.message.encode()),
            "tree": tree_files(r, commit.tree, norm),
        }

    refs = {}
    for line in git("for-each-ref", "--format=%(refname) %(objectname)", cwd=repo).splitlines():
        name, oid = line.split()
        refs[name] = describe(oid)
    index = {}
    for line in git("ls-files", "-s", cwd=repo).splitlines():
        meta, path = line.split("\t", 1)
        mode, oid, stage = meta.split()
        index[norm(path.encode())] = (mode, stage, norm(bytes(r[oid].peel(pygit2.Blob).data)))
    files = {
        norm(str(p.relative_to(repo)).encode()): norm(p.read_bytes())
        for p in sorted(repo.rglob("*"))
        if p.is_file() and p.relative_to(repo).parts[0] != ".git" and not is_debris(p)
    }
    state_dir = repo / ".git/jobshare"
    # the state a command keeps there (caches aside: they are rebuilt when missing)
    jobshare_files = {
        name: norm((state_dir / name).read_bytes())
        for name in (MERGE_STATE, KEPT_DELETIONS)
        if (state_dir / name).exists()
    }
    return {
        "HEAD": (repo / ".git/HEAD").read_bytes(),
        "refs": refs,
        "index": index,
        "files": files,
        "jobshare": jobshare_files,
        "journal": (state_dir / JOURNAL).exists(),
    }


def difference(a: dict[str, Any], b: dict[str, Any]) -> list[str]:
    return [key for key in a if a[key] != b.get(key)]


def fsck_ok(repo: Path) -> None:
    done = subprocess.run(
        ["git", "fsck", "--strict", "--no-dangling", "--no-progress"],
        cwd=repo,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


# --- running and killing ----------------------------------------------------------------


def command_line(repo: Path, args: list[str]) -> list[str]:
    return [sys.executable, "-P", "-m", "jobshare_sync", "-C", str(repo), *args]


def run(
    repo: Path, args: list[str], kill_at: int | str | None = None
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "JOBSHARE_NOW": NOW}
    if kill_at is not None:
        env["JOBSHARE_KILL_AT"] = str(kill_at)
    return subprocess.run(
        command_line(repo, args),
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def run_and_kill_after(repo: Path, args: list[str], delay: float) -> int | None:
    """Start the command, SIGKILL it (and any git it runs) after `delay` seconds.
    Returns its exit code when it finished first, else None."""
    proc = subprocess.Popen(
        command_line(repo, args),
        env={**os.environ, "JOBSHARE_NOW": NOW},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        return proc.wait(timeout=delay)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        return None


@dataclass
class Scenario:
    """A repository (a template copied for each run) and one command to run in it."""

    args: list[str]
    build: Callable[[Path], Path]  # makes the template in the folder given, returns it
    codes: tuple[int, ...] = (0,)  # exit codes of a run to the end
    norm: Norm = same  # what tells two runs apart, taken out (a random id)


def copy(template: Path, dest: Path) -> Path:
    shutil.copytree(template, dest, symlinks=True)
    return dest


def check_after_kill(
    work: Path,
    scenario: Scenario,
    before: dict[str, Any],
    after: dict[str, Any],
    finished: bool,
) -> str:
    """The checks after one kill; returns which case it was (for the coverage summary)."""
    norm = scenario.norm
    now = state(work, norm)
    if finished:
        assert now == after, difference(now, after)
    if now == before:
        case = "before"
    elif now == after:
        case = "after"
    else:
        case = "completed by the next command"
        assert now["journal"], (difference(now, before), difference(now, after))
    # the next command: status works, and finishes a half-done change
    status = jobshare("status", cwd=work)
    assert status.exit_code == 0, status.output
    recovered = state(work, norm)
    if case == "completed by the next command":
        assert recovered == after, difference(recovered, after)
    else:
        assert recovered == now, difference(recovered, now)
    assert not recovered["journal"]
    fsck_ok(work)
    checked = jobshare("validate", cwd=work)
    assert checked.exit_code == 0, checked.output
    # running the command again completes it, as if it had never been interrupted
    if recovered == before:
        again = run(work, scenario.args)
        assert again.returncode in scenario.codes, again.stdout + again.stderr
    final = state(work, norm)
    assert final == after, difference(final, after)
    # the next writing command clears a dead command's lock and temporary files
    ok("commit", cwd=work)
    assert debris(work) == []
    assert state(work, norm) == after
    fsck_ok(work)
    return case


def exercise(tmp_path: Path, scenario: Scenario) -> dict[str, int]:
    """Kill the command at every checkpoint, then at random moments; check every run."""
    template = scenario.build(tmp_path / "template")
    before = state(template, scenario.norm)
    clean = copy(template, tmp_path / "uninterrupted")
    started = time.monotonic()
    done = run(clean, scenario.args)
    duration = time.monotonic() - started
    assert done.returncode in scenario.codes, done.stdout + done.stderr
    after = state(clean, scenario.norm)
    assert after != before
    assert debris(clean) == []
    cases: dict[str, int] = {}

    def count(case: str) -> None:
        cases[case] = cases.get(case, 0) + 1

    n = 1
    while True:
        work = copy(template, tmp_path / f"kill-{n}")
        killed = run(work, scenario.args, kill_at=n)
        if killed.returncode != -signal.SIGKILL:
            assert killed.returncode in scenario.codes, killed.stdout + killed.stderr
            assert state(work, scenario.norm) == after
            break
        count(check_after_kill(work, scenario, before, after, finished=False))
        shutil.rmtree(work)
        n += 1
        assert n < 100, "the command never finished"
    cases["checkpoints"] = n - 1
    # the first part of a run is Python starting up, where a kill changes nothing
    rng = random.Random(" ".join(scenario.args))
    for i in range(RANDOM_KILLS):
        work = copy(template, tmp_path / f"random-{i}")
        code = run_and_kill_after(work, scenario.args, rng.uniform(0.4 * duration, duration))
        if code is not None:
            assert code in scenario.codes
        count(check_after_kill(work, scenario, before, after, finished=code is not None))
        shutil.rmtree(work)
    return cases


# --- the scenarios ------------------------------------------------------------------------


def seeded(path: Path) -> Path:
    """alice with three contacts, one of them added by carol (whom bob cannot delete)."""
    alice = make_repo(path / "alice")
    for data in (contact("acme"), contact("beta"), contact("carols", "carol")):
        write(alice, f"contacts/{data['id']}", data)
    commit(alice, "seed")
    return alice


def with_bob(path: Path) -> tuple[Path, Path]:
    """alice and bob (her clone, her friend over a path), after one pull each way, then
    bob's changes: an edit, two additions, a deletion of his own record, and a deletion
    of carol's record that alice must keep (a kept deletion, remembered in a state file)."""
    alice = seeded(path)
    bob = clone_friend(alice, path / "bob", "bob")
    write(bob, "contacts/bob-gone", contact("bob-gone", "bob"))
    commit(bob, "bob adds")
    ok("friend", "add", "bob", str(bob), cwd=alice)
    ok("pull", "bob", cwd=alice)
    edit(bob, "contacts/acme", location="York", updated="2026-10-02T09:00:00Z")
    write(bob, "contacts/bob-1", contact("bob-1", "bob"))
    write(bob, "contacts/bob-2", contact("bob-2", "bob", tags=["remote"]))
    (bob / "contacts/bob-gone.yaml").unlink()
    (bob / "contacts/carols.yaml").unlink()
    commit(bob, "bob's changes")
    edit(alice, "contacts/beta", location="Leeds")
    commit(alice, "alice's change")
    ok("fetch", "bob", cwd=alice)  # fetched: the pull's own fetch then changes no ref
    return alice, bob


def before_conflict(path: Path) -> Path:
    """with_bob, plus a name both changed: a pull would stop at a conflict."""
    alice, bob = with_bob(path)
    edit(bob, "contacts/beta", name="Beta Bob")
    commit(bob, "bob renames beta")
    edit(alice, "contacts/beta", name="Beta Alice")
    commit(alice, "alice renames beta")
    ok("fetch", "bob", cwd=alice)
    return alice


def conflicted(path: Path) -> Path:
    alice = before_conflict(path)
    assert jobshare("pull", "bob", cwd=alice).exit_code == 1
    return alice


def resolved(path: Path) -> Path:
    alice = conflicted(path)
    ok("resolve", "contacts/beta", "--theirs", cwd=alice)
    return alice


def for_add(path: Path) -> Path:
    return seeded(path)


def for_commit(path: Path) -> Path:
    alice = seeded(path)
    edit(alice, "contacts/acme", location="Hull", tags=["remote", "contract"])
    (alice / "contacts/beta.yaml").unlink()
    write(alice, "contacts/new-one", contact("new-one", notes="Met at a meetup.\nCall in May.\n"))
    return alice


def for_pull(path: Path) -> Path:
    return with_bob(path)[0]


def for_refer(path: Path) -> Path:
    alice, _ = with_bob(path)
    ok("pull", "bob", cwd=alice)
    return alice


REFERRAL_ID = re.compile(rb"data-pipeline-[a-z2-9]{4}")


def referral_id(data: bytes) -> bytes:
    return REFERRAL_ID.sub(b"data-pipeline-XXXX", data)


SCENARIOS = {
    "add": Scenario(
        ["add", "contact", "--name", "Gamma Agency", "--id", "gamma-1", "--tag", "remote"],
        build=for_add,
    ),
    "commit": Scenario(["commit", "-m", "Hand edits"], build=for_commit),
    "pull": Scenario(["pull", "bob"], build=for_pull),
    "pull-conflicted": Scenario(["pull", "bob"], codes=(1,), build=before_conflict),
    "resolve": Scenario(["resolve", "contacts/beta", "--theirs"], build=conflicted),
    "merge-continue": Scenario(["merge", "--continue"], build=resolved),
    "merge-abort": Scenario(["merge", "--abort"], build=conflicted),
    "refer": Scenario(
        ["refer", "acme", "--to", "bob", "--title", "Data pipeline", "--details", "3 months"],
        norm=referral_id,
        build=for_refer,
    ),
}


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_a_command_killed_at_any_moment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    monkeypatch.setenv("JOBSHARE_NOW", NOW)
    cases = exercise(tmp_path, SCENARIOS[name])
    assert cases["checkpoints"] >= 3, cases
    print(name, cases)


def test_resolve_and_abort_write_only_the_merge_state(tmp_path: Path) -> None:
    """Both change one file under .git/jobshare by renaming a whole new version over it."""
    for args in (["resolve", "contacts/beta", "--theirs"], ["merge", "--abort"]):
        template = conflicted(tmp_path / args[0])
        before = state(template)
        done = copy(template, tmp_path / f"{args[0]}-done")
        ok(*args, cwd=done)
        after = state(done)
        assert difference(before, after) == ["jobshare"]
        versions = [s["jobshare"].get("merge.json") for s in (before, after)]
        n = 1
        while True:
            work = copy(template, tmp_path / f"{args[0]}-{n}")
            killed = run(work, args, kill_at=n)
            now = state(work)
            assert difference(before, now) in ([], ["jobshare"])
            assert now["jobshare"].get("merge.json") in versions
            if killed.returncode == 0:
                break
            n += 1


def test_a_temporary_file_left_in_a_record_folder_is_ignored_then_removed(tmp_path: Path) -> None:
    """`add --no-commit` writes the record through a temporary file; killed before the
    rename, it leaves `.gamma-1.yaml.jobshare-tmp` in contacts/."""
    alice = seeded(tmp_path)
    killed = run(
        alice, ["add", "contact", "--name", "Gamma", "--id", "gamma-1", "--no-commit"], "tmp"
    )
    assert killed.returncode == -signal.SIGKILL
    temp = alice / "contacts" / f".gamma-1.yaml{TEMP_SUFFIX}"
    assert temp.exists() and not (alice / "contacts/gamma-1.yaml").exists()
    before = state(alice)
    # readers ignore it
    report = json.loads(ok("validate", "--json", cwd=alice))["jobshare.validate/v1"]
    assert report["ok"] and report["checked"] == 3 and report["problems"] == []
    assert "gamma" not in ok("list", cwd=alice)
    assert json.loads(ok("status", "--json", cwd=alice))["jobshare.status/v1"]["changes"] == {}
    # the next writing command commits nothing of it, and removes it
    assert "nothing to commit" in ok("commit", cwd=alice)
    assert not temp.exists() and debris(alice) == []
    assert state(alice) == before
    # and it never stops a pull
    temp.write_bytes(b"id: gam")
    bob = clone_friend(alice, tmp_path / "bob", "bob")
    write(bob, "contacts/bob-1", contact("bob-1", "bob"))
    commit(bob)
    ok("friend", "add", "bob", str(bob), cwd=alice)
    ok("pull", "bob", cwd=alice)
    assert not temp.exists()
    assert git("ls-tree", "-r", "--name-only", "HEAD", "contacts", cwd=alice).split() == [
        "contacts/.gitkeep",
        "contacts/acme.yaml",
        "contacts/beta.yaml",
        "contacts/bob-1.yaml",
        "contacts/carols.yaml",
    ]


def test_git_lock_files_left_by_a_killed_command_do_not_block_the_next(tmp_path: Path) -> None:
    """Killed inside libgit2's index or branch write (between two checkpoints), a command
    leaves `.git/index.lock` or `.git/refs/heads/main.lock`, half written. The next
    command, replaying the dead command's journal, removes them and finishes the change;
    a lock file older than the journal is not the dead command's and stays."""
    template = seeded(tmp_path / "template")
    args = ["add", "contact", "--name", "Gamma", "--id", "gamma-1"]
    after_dir = copy(template, tmp_path / "uninterrupted")
    assert run(after_dir, args).returncode == 0
    after = state(after_dir)
    work = copy(template, tmp_path / "killed")
    assert run(work, args, kill_at="journal").returncode == -signal.SIGKILL
    journal = work / ".git/jobshare/journal.json"
    locks = [work / ".git/index.lock", work / ".git/refs/heads/main.lock"]
    for lock in locks:
        lock.write_bytes(b"DIRC\x00\x00\x00\x02 half written")
    stamp = time.time()
    os.utime(journal, (stamp - 10, stamp - 10))
    for lock in locks:
        os.utime(lock, (stamp - 5, stamp - 5))  # made after the journal, by the dead command
    ok("status", cwd=work)
    assert [lock.exists() for lock in locks] == [False, False]
    assert state(work) == after
    fsck_ok(work)
    assert git("status", "--porcelain", cwd=work) == ""

    # an index.lock older than the journal belongs to someone else: a clear error, no change
    work = copy(template, tmp_path / "older")
    assert run(work, args, kill_at="journal").returncode == -signal.SIGKILL
    journal = work / ".git/jobshare/journal.json"
    lock = work / ".git/index.lock"
    lock.write_bytes(b"")
    os.utime(lock, (stamp - 20, stamp - 20))
    os.utime(journal, (stamp - 10, stamp - 10))
    refused = jobshare("status", cwd=work)
    assert refused.exit_code == 14, refused.output
    assert "index.lock exists" in refused.stderr and "delete it" in refused.stderr
    assert journal.exists()
    lock.unlink()
    ok("status", cwd=work)
    assert state(work) == after
