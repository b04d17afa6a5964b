"""Two commands at once: a writer waits for another (JOBSHARE_LOCK_TIMEOUT), then fails
naming the lock (exit 12); parallel writers never interleave; locks of dead commands
are removed safely; readers never need the lock."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from conftest import git, jobshare
from test_interrupt import command_line, fsck_ok, run, seeded, state
from test_sync import ok

from jobshare_sync.errors import LockError
from jobshare_sync.store import Store
from jobshare_sync.store import journal as store_module


def lock_path(repo: Path) -> Path:
    return repo / ".git/jobshare/lock"


def hold_lock(repo: Path, content: str, age: float = 0) -> Path:
    lock = lock_path(repo)
    lock.parent.mkdir(parents=True, exist_ok=True)
    lock.write_text(content)
    if age:
        stamp = time.time() - age
        os.utime(lock, (stamp, stamp))
    return lock


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def add(
    repo: Path, record_id: str, timeout: float | None = None
) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    if timeout is not None:
        env["JOBSHARE_LOCK_TIMEOUT"] = str(timeout)
    return subprocess.run(
        command_line(repo, ["add", "contact", "--name", record_id.title(), "--id", record_id]),
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def committed_contacts(repo: Path) -> list[str]:
    names = git("ls-tree", "--name-only", "HEAD", "contacts/", cwd=repo).split()
    return sorted(
        n.removeprefix("contacts/").removesuffix(".yaml") for n in names if n.endswith(".yaml")
    )


def assert_linear_and_sound(repo: Path) -> None:
    assert git("rev-list", "--merges", "HEAD", cwd=repo) == ""
    assert git("status", "--porcelain", "--untracked-files=all", cwd=repo) == ""
    fsck_ok(repo)
    assert jobshare("validate", cwd=repo).exit_code == 0
    assert not lock_path(repo).exists()


# --- waiting, then failing --------------------------------------------------------------


def test_a_writer_waits_for_the_lock_then_fails_naming_it(tmp_path: Path) -> None:
    alice = seeded(tmp_path)
    before = state(alice)
    with Store.open(alice).locked():  # a command of ours at work, in this process
        started = time.monotonic()
        refused = add(alice, "gamma-1", timeout=0.6)
        waited = time.monotonic() - started
    assert refused.returncode == 12, refused.stderr
    [line] = refused.stderr.splitlines()
    assert line.startswith("jobshare: another jobshare command is working on this repository")
    assert str(lock_path(alice)) in line and f"held by process {os.getpid()} " in line
    assert 0.6 <= waited < 5
    assert state(alice) == before

    # released within the time allowed: the waiting command goes ahead
    lock = hold_lock(alice, f"{os.getpid()} {socket.gethostname()}\n")
    release = threading.Timer(0.5, lock.unlink)
    release.start()
    started = time.monotonic()
    done = add(alice, "gamma-1", timeout=10)
    release.join()
    assert done.returncode == 0, done.stderr
    assert time.monotonic() - started >= 0.5
    assert "gamma-1" in committed_contacts(alice)


def test_the_default_wait_is_five_seconds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    alice = seeded(tmp_path)
    monkeypatch.delenv("JOBSHARE_LOCK_TIMEOUT")
    hold_lock(alice, f"{os.getpid()} {socket.gethostname()}\n")
    started = time.monotonic()
    refused = add(alice, "gamma-1")
    assert refused.returncode == 12
    assert 5 <= time.monotonic() - started < 9


def test_every_writing_command_takes_the_lock(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JOBSHARE_LOCK_TIMEOUT", "0.2")
    alice = seeded(tmp_path)
    (alice / "contacts/acme.yaml").write_text(
        (alice / "contacts/acme.yaml").read_text().replace("Acme", "Acme Ltd")
    )
    hold_lock(alice, f"{os.getpid()} {socket.gethostname()}\n")
    for args in (
        ["add", "contact", "--name", "Gamma"],
        ["commit"],
        ["rm", "beta"],
        ["friend", "add", "bob", str(tmp_path)],
        ["refer", "acme", "--to", "anyone", "--title", "A job"],
        ["init"],
    ):
        refused = jobshare(*args, cwd=alice)
        assert refused.exit_code == 12, (args, refused.output)
        assert "lock" in refused.stderr


# --- no interleaving ----------------------------------------------------------------------


def test_parallel_writers_never_interleave(tmp_path: Path) -> None:
    """Two processes adding ten contacts each at the same time: all twenty committed, one
    after the other, in a linear history, and a sound repository."""
    alice = seeded(tmp_path)
    start = git("rev-parse", "HEAD", cwd=alice).strip()
    failures: list[str] = []

    def worker(name: str) -> None:
        for i in range(10):
            done = add(alice, f"{name}-{i}", timeout=60)
            if done.returncode != 0:
                failures.append(done.stderr)

    threads = [threading.Thread(target=worker, args=(n,)) for n in ("one", "two")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    expected = sorted([f"{n}-{i}" for n in ("one", "two") for i in range(10)])
    assert committed_contacts(alice) == sorted([*expected, "acme", "beta", "carols"])
    assert git("rev-list", "--count", f"{start}..HEAD", cwd=alice).strip() == "20"
    assert_linear_and_sound(alice)


# --- stale locks --------------------------------------------------------------------------


def test_a_lock_of_a_dead_process_on_this_host_is_removed(tmp_path: Path) -> None:
    alice = seeded(tmp_path)
    hold_lock(alice, f"{dead_pid()} {socket.gethostname()}\n")
    started = time.monotonic()
    done = add(alice, "gamma-1", timeout=5)
    assert done.returncode == 0, done.stderr
    assert time.monotonic() - started < 4  # at once, not after the wait
    assert "gamma-1" in committed_contacts(alice)
    assert_linear_and_sound(alice)


def test_a_lock_of_a_killed_command_is_removed(tmp_path: Path) -> None:
    alice = seeded(tmp_path)
    killed = run(alice, ["add", "contact", "--name", "Gamma", "--id", "gamma-1"], "locked")
    assert killed.returncode == -signal.SIGKILL
    assert lock_path(alice).exists()
    done = add(alice, "gamma-2", timeout=5)
    assert done.returncode == 0, done.stderr
    assert committed_contacts(alice) == ["acme", "beta", "carols", "gamma-2"]


def test_an_old_unreadable_lock_is_removed_a_young_one_is_respected(tmp_path: Path) -> None:
    alice = seeded(tmp_path)
    # garbage (or empty: killed between creating and writing it), and old: stale
    hold_lock(alice, "\x00\x17garbage", age=600)
    assert add(alice, "gamma-1", timeout=5).returncode == 0
    hold_lock(alice, "", age=600)
    assert add(alice, "gamma-2", timeout=5).returncode == 0
    # the same, but young: it may be a lock being written right now
    hold_lock(alice, "", age=0)
    refused = add(alice, "gamma-3", timeout=0.3)
    assert refused.returncode == 12 and "held by process unknown" in refused.stderr
    assert committed_contacts(alice) == ["acme", "beta", "carols", "gamma-1", "gamma-2"]


def test_a_lock_from_another_host_is_never_taken_for_stale(tmp_path: Path) -> None:
    """Its process cannot be checked from here (a repository on a shared drive)."""
    alice = seeded(tmp_path)
    hold_lock(alice, f"{dead_pid()} another-host.example\n", age=3600)
    refused = add(alice, "gamma-1", timeout=0.3)
    assert refused.returncode == 12
    assert "another-host.example" in refused.stderr
    assert "remove the lock if that process is gone" in refused.stderr


def test_many_commands_breaking_one_stale_lock_at_once(tmp_path: Path) -> None:
    """Only one of them may take the lock at a time: each breaks the dead lock, never
    the fresh lock of another that broke it first."""
    alice = seeded(tmp_path)
    start = git("rev-parse", "HEAD", cwd=alice).strip()
    hold_lock(alice, f"{dead_pid()} {socket.gethostname()}\n")
    procs = [
        subprocess.Popen(
            command_line(alice, ["add", "contact", "--name", f"P{i}", "--id", f"p-{i}"]),
            env={**os.environ, "JOBSHARE_LOCK_TIMEOUT": "60"},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for i in range(6)
    ]
    for p in procs:
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
    assert committed_contacts(alice) == sorted(
        ["acme", "beta", "carols"] + [f"p-{i}" for i in range(6)]
    )
    assert git("rev-list", "--count", f"{start}..HEAD", cwd=alice).strip() == "6"
    assert_linear_and_sound(alice)
    assert not (alice / ".git/jobshare/lock.break").exists()


def test_breaking_a_stale_lock_never_deletes_the_fresh_lock_that_replaced_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The race, made to happen: this command finds the dead lock stale, and before it
    deletes it another command breaks it and takes a fresh lock. Deleting by name then
    would delete that live lock, and two commands would write at once."""
    alice = seeded(tmp_path)
    lock = hold_lock(alice, f"{dead_pid()} {socket.gethostname()}\n")
    real = store_module._lock_is_stale
    calls = []

    def stale_then_replaced(path: Path) -> bool:
        found = real(path)
        if not calls:  # the other command wins the race right after this look
            lock.write_text(f"{os.getpid()} {socket.gethostname()}\n")
        calls.append(found)
        return found

    monkeypatch.setattr(store_module, "_lock_is_stale", stale_then_replaced)
    store = Store.open(alice)
    with pytest.raises(LockError, match=f"held by process {os.getpid()} "), store.locked(0.3):
        pass
    assert calls[0] is True and calls[1] is False  # looked again before deleting
    assert lock.read_text().split()[0] == str(os.getpid())


# --- readers ----------------------------------------------------------------------------


READERS = [
    ["list"],
    ["list", "contacts", "--json"],
    ["show", "acme"],
    ["show", "HEAD"],
    ["validate"],
    ["diff"],
    ["diff", "HEAD~1"],
    ["status"],
    ["conflicts"],
    ["log", "-n", "2"],
    ["inbox"],
    ["ledger"],
]


def test_read_only_commands_do_not_need_the_lock(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    alice = seeded(tmp_path)
    monkeypatch.setenv("JOBSHARE_LOCK_TIMEOUT", "30")  # a reader that waited would show
    with Store.open(alice).locked():
        for args in READERS:
            started = time.monotonic()
            result = jobshare(*args, cwd=alice)
            assert result.exit_code == 0, (args, result.output)
            assert time.monotonic() - started < 5, args


def test_a_reader_does_not_wait_for_a_writer_finishing_its_change(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A journal with its writer still at work: the reader reads, the writer finishes it.
    With its writer dead, the first command to come finishes it, readers included."""
    alice = seeded(tmp_path)
    killed = run(alice, ["add", "contact", "--name", "Gamma", "--id", "gamma-1"], "journal")
    assert killed.returncode == -signal.SIGKILL
    journal = alice / ".git/jobshare/journal.json"
    assert journal.exists()
    hold_lock(alice, f"{os.getpid()} {socket.gethostname()}\n")  # the writer, alive
    monkeypatch.setenv("JOBSHARE_LOCK_TIMEOUT", "30")
    for args in READERS:
        started = time.monotonic()
        result = jobshare(*args, cwd=alice)
        assert result.exit_code == 0, (args, result.output)
        assert time.monotonic() - started < 5, args
    assert journal.exists()
    lock_path(alice).unlink()  # the writer is gone
    listed = json.loads(ok("list", "--json", cwd=alice))["jobshare.list/v1"]
    assert "contacts/gamma-1" in [item["label"] for item in listed]
    assert not journal.exists()
    assert "gamma-1" in committed_contacts(alice)
    assert_linear_and_sound(alice)
