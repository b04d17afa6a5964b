"""The journal, the repository lock and crash recovery: how a change survives a kill.

A change is made durable in a fixed order: objects first, then a journal naming the
new commit, then the working tree, the index, the state files and finally the branch
(see `write.Writer.finish_commit`). A process killed before the journal leaves the
repository as it was (plus unreachable objects, which git ignores); one killed after
it leaves a journal that the next command to take the lock replays to the end.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pygit2

from ..errors import LockError, RepositoryStateError

# files under .git/jobshare/
JOURNAL = "journal.json"  # a change on its way: see write.Writer.finish_commit
MERGE_STATE = "merge.json"  # a pull stopped at conflicts
KEPT_DELETIONS = "kept-deletions.json"  # deletions kept for want of proof: see deletions.py
LOCK = "lock"
TEMP_SUFFIX = ".jobshare-tmp"  # see write_atomically


def checkpoint(name: str) -> None:
    """Die here if JOBSHARE_KILL_AT names this step (used by the interruption tests)."""
    target = os.environ.get("JOBSHARE_KILL_AT")
    if not target:
        return
    global _checkpoints_passed
    _checkpoints_passed += 1
    if target in (name, str(_checkpoints_passed)):
        os.kill(os.getpid(), signal.SIGKILL)


_checkpoints_passed = 0


def write_atomically(path: Path, data: bytes, *, durable: bool = True) -> None:
    """Replace a file's content all at once (write a sibling, rename over the file).

    `durable` also fsyncs it first. Working-tree files skip that: the journal that
    names their commit is durable, and a replay rewrites them from the commit.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}{TEMP_SUFFIX}")
    with open(tmp, "wb") as f:
        f.write(data)
        if durable:
            f.flush()
            os.fsync(f.fileno())
    checkpoint("tmp")
    os.replace(tmp, path)


def is_temp_file(name: str) -> bool:
    """A sibling `write_atomically` writes before renaming it over the file. One found
    while holding the lock was left by a killed command: it is ignored, never committed,
    and removed by the next command that writes the same file or takes the lock."""
    return name.startswith(".") and name.endswith(TEMP_SUFFIX)


@contextlib.contextmanager
def git_lock_error(git_dir: Path, name: str) -> Iterator[None]:
    """git's lock file on the index or a branch, held by someone else: one clear line.
    The journal stays, so the next command finishes the change once the lock is gone."""
    try:
        yield
    except pygit2.GitError as e:
        lock = git_dir / f"{name}.lock"
        if not lock.exists():
            raise
        raise RepositoryStateError(
            f"cannot write {name}: {lock} exists ({e}). If no git command is running, "
            f"delete it, then run 'jobshare status' to finish the change"
        ) from None


class Journal:
    """The state folder `.git/jobshare/`: the journal of the change under way, the state
    files written with commits, and the lock that lets one command write at a time."""

    def __init__(self, git_dir: Path) -> None:
        self.git_dir = git_dir
        self.state_dir = git_dir / "jobshare"
        self.path = self.state_dir / JOURNAL
        self.holds_lock = False

    # --- the lock ------------------------------------------------------------------

    @contextlib.contextmanager
    def lock(self, timeout: float | None = None) -> Iterator[None]:
        """Hold the repository's jobshare lock; wait briefly for another command to finish.

        Whoever takes it removes the debris of a killed command's state files; finishing
        its journal is the caller's next step (see write.Writer.locked).
        """
        if timeout is None:
            timeout = float(os.environ.get("JOBSHARE_LOCK_TIMEOUT", "5"))
        self.state_dir.mkdir(parents=True, exist_ok=True)
        lock = self.state_dir / LOCK
        me = f"{os.getpid()} {socket.gethostname()}\n".encode()
        deadline = time.monotonic() + timeout
        while True:
            try:
                fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                if _lock_is_stale(lock):
                    _break_stale_lock(lock)
                    continue
                if time.monotonic() >= deadline:
                    holder = _read_lock(lock)
                    raise LockError(
                        f"another jobshare command is working on this repository "
                        f"(lock {lock}, held by process {holder}): wait for it to finish, "
                        "or remove the lock if that process is gone"
                    ) from None
                time.sleep(0.05)
                continue
            try:
                os.write(fd, me)
            finally:
                os.close(fd)
            break
        try:
            self.holds_lock = True
            checkpoint("locked")
            for name in (JOURNAL, MERGE_STATE, KEPT_DELETIONS):  # written under the lock only
                (self.state_dir / f".{name}{TEMP_SUFFIX}").unlink(missing_ok=True)
            yield
            checkpoint("unlock")
        finally:
            self.holds_lock = False
            with contextlib.suppress(FileNotFoundError):
                os.unlink(lock)

    # --- the journal -----------------------------------------------------------------

    def record(self, journal: Mapping[str, Any]) -> None:
        """Make the intent of a change durable: from here on, it will be finished."""
        self.state_dir.mkdir(parents=True, exist_ok=True)
        write_atomically(self.path, json.dumps(journal).encode())
        checkpoint("journal")

    def pending(
        self, ref_target: Callable[[str], str | None]
    ) -> tuple[dict[str, Any] | None, str | None]:
        """The journal a killed command left, if it still applies: (journal, None); for a
        branch that moved by other means since, (journal, "moved"), to be undone and
        dropped; (None, what was done with an unreadable one); (None, None) for none.

        `ref_target` gives a ref's commit id (None when the ref does not exist).
        """
        try:
            journal: dict[str, Any] = json.loads(self.path.read_text())
        except FileNotFoundError:
            return None, None
        except (OSError, ValueError):
            self.path.unlink()
            return None, "discarded an unreadable journal"
        if not _journal_well_formed(journal):
            self.path.unlink()
            return None, "discarded a journal of an unknown shape"
        if ref_target(journal["ref"]) not in (journal["old"], journal["new"]):
            # the branch moved by other means since: the journal no longer applies, and
            # what it wrote is to be put back (write.Writer.recover)
            return journal, "moved"
        return journal, None

    def done(self) -> None:
        """The change is complete: forget its journal."""
        self.path.unlink()

    def read_state(self, name: str) -> str | None:
        """A state file's text, or None when it does not exist (or cannot be read)."""
        try:
            return (self.state_dir / name).read_text()
        except (OSError, ValueError):
            return None

    def write_state(self, files: Mapping[str, str | None]) -> None:
        """Write (text) or delete (None) state files, as a journal says."""
        for name, text in files.items():
            if text is None:
                (self.state_dir / name).unlink(missing_ok=True)
            else:
                write_atomically(self.state_dir / name, text.encode())
            checkpoint("state")

    def remove_stale_git_locks(self, ref: str) -> None:
        """Delete the lock files that libgit2 leaves when killed while writing the index or
        moving the branch (`.git/index.lock`, `.git/refs/heads/main.lock`, ...): while they
        exist, neither jobshare nor git can write the index or the branch again.

        Only called to replay the journal of a killed command, under our lock. A lock file
        older than that journal is not that command's (git's own advice applies to it);
        one made since is, unless a plain git command made it and is running now, which
        would hold it for a moment only: such a young lock is given two seconds to go.
        """
        since = self.path.stat().st_mtime
        names = ["index", ref, f"logs/{ref}", "logs/HEAD", "HEAD", "packed-refs"]
        for lock in (self.git_dir / f"{name}.lock" for name in names):
            deadline = time.monotonic() + 2
            while True:
                try:
                    made = lock.stat().st_mtime
                except FileNotFoundError:
                    break
                if made < since:
                    break
                if time.time() - made >= 2 or time.monotonic() >= deadline:
                    lock.unlink(missing_ok=True)
                    break
                time.sleep(0.05)


def _journal_well_formed(journal: Any) -> bool:
    """Whether a journal (valid JSON) has the shape `Writer` records: the ref, the old
    and new commit ids, the paths, and optional blobs and state files."""
    if not isinstance(journal, dict):
        return False
    blobs, state = journal.get("blobs") or {}, journal.get("state") or {}
    before = journal.get("state_before") or {}
    return (
        isinstance(journal.get("ref"), str)
        and journal["ref"].startswith("refs/")
        and (journal.get("old") is None or isinstance(journal.get("old"), str))
        and isinstance(journal.get("new"), str)
        and isinstance(journal.get("paths"), list)
        and all(isinstance(p, str) for p in journal["paths"])
        and isinstance(blobs, dict)
        and all(isinstance(k, str) and (v is None or isinstance(v, str)) for k, v in blobs.items())
        and isinstance(state, dict)
        and all(isinstance(k, str) and (v is None or isinstance(v, str)) for k, v in state.items())
        and isinstance(before, dict)
        and all(isinstance(k, str) and (v is None or isinstance(v, str)) for k, v in before.items())
    )


def _read_lock(lock: Path) -> str:
    try:
        return lock.read_text().strip() or "unknown"
    except OSError:
        return "unknown"


def _lock_is_stale(lock: Path) -> bool:
    """A lock left by a process on this host that no longer runs, or an old unreadable one.

    A lock from another host (a repository on a shared drive) is never taken for stale:
    its process cannot be checked from here, and the error message says whose it is.
    """
    parts = _read_lock(lock).split()
    if len(parts) != 2 or not parts[0].isdigit():
        # a lock being written right now has no content yet: only call it stale when old
        try:
            return time.time() - lock.stat().st_mtime > 60
        except FileNotFoundError:
            return True
    if parts[1] != socket.gethostname():
        return False
    try:
        os.kill(int(parts[0]), 0)
    except ProcessLookupError:
        return True
    except (PermissionError, ValueError):
        return False
    return False


def _break_stale_lock(lock: Path) -> None:
    """Remove a stale lock, safely against other commands doing the same at once.

    Seeing that a lock is stale and deleting it are two steps: in between, another
    command may have deleted it and taken a fresh lock, which must survive. So only the
    holder of a second, short-lived lock (`lock.break`) deletes a lock it did not make,
    after checking again that it is stale; nobody else deletes a stale lock, so the one
    it checked is the one it deletes.
    """
    guard = lock.with_name(lock.name + ".break")
    try:
        fd = os.open(guard, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    except FileExistsError:
        # another command is breaking it right now (for microseconds); a guard older than
        # that was left by a command killed at that very moment
        with contextlib.suppress(FileNotFoundError):
            if time.time() - guard.stat().st_mtime > 10:
                guard.unlink()
        time.sleep(0.01)
        return
    os.close(fd)
    try:
        if _lock_is_stale(lock):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(lock)
    finally:
        os.unlink(guard)
