"""The working tree: the owner's jobshare.yaml, scanning the record folders, and bringing
files and git's index to a commit.

Scanning uses one `os.scandir` per folder (its entries carry the file type without a
system call); git's status answers what changed since HEAD.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pygit2
from pygit2.enums import FileStatus

from ..core import records, schema
from ..core.records import FOLDERS, Label
from ..errors import NotARepositoryError, RecordError
from .journal import checkpoint, git_lock_error, is_temp_file, write_atomically
from .read import GITKEEP, Reader, Skipped, is_visible

CONFIG_FILE = "jobshare.yaml"
# a file's mtime_ns, size, inode and ctime_ns: a file restored with an old mtime (cp -p,
# rsync -t) still has a new ctime, which nothing but the system sets
StatKey = tuple[int, int, int, int]


class Worktree:
    """The files of one repository's working folder, and git's index of them."""

    def __init__(self, repo: pygit2.Repository, root: Path, git_dir: Path, reader: Reader) -> None:
        self.repo = repo
        self.root = root
        self.git_dir = git_dir
        self.reader = reader

    # --- the owner ----------------------------------------------------------------

    def config(self) -> dict[str, Any]:
        """The parsed jobshare.yaml of the working tree, checked against its schema."""
        path = self.root / CONFIG_FILE
        try:
            raw = path.read_bytes()
        except OSError as e:
            raise NotARepositoryError(f"cannot read {path}: {e.strerror}") from None
        loaded = records.load_yaml(raw, CONFIG_FILE)
        problems = schema.schema_problems("jobshare", loaded, CONFIG_FILE)
        if problems:
            raise RecordError(
                CONFIG_FILE, f"{problems[0].field}: {problems[0].message}", problems[0].line
            )
        data: dict[str, Any] = loaded.data
        return data

    # --- scanning ---------------------------------------------------------------------

    def files(self) -> tuple[dict[Label, Path], list[Skipped]]:
        """Record files present in the working tree, and paths there that are not records."""
        entries, skipped = self.entries()
        return {label: Path(entry.path) for label, entry in entries.items()}, skipped

    def entries(self) -> tuple[dict[Label, os.DirEntry[str]], list[Skipped]]:
        """Like `files`, as directory entries (their lstat comes without a Path)."""
        found: dict[Label, os.DirEntry[str]] = {}
        skipped: list[Skipped] = []
        for folder in FOLDERS:
            directory = self.root / folder
            if not directory.is_dir():
                continue
            for item in os.scandir(directory):
                name = item.name
                record_id = name[:-5]
                regular = not item.is_symlink() and item.is_file()  # d_type: no system call
                if regular and name.endswith(".yaml") and records.ID_RE.match(record_id):
                    found[Label(folder, record_id)] = item
                    continue
                if not is_visible(name):
                    continue
                path = f"{folder}/{name}"
                label = records.label_of_path(path)
                if label is None:
                    if name.endswith(".yaml"):
                        reason = "file name is not a valid record id: use lower-case letters, digits and dashes"
                        skipped.append(Skipped(path, reason))
                    else:
                        skipped.append(Skipped(path, "not a record file (records end in .yaml)"))
                elif item.is_symlink() or not item.is_file():
                    skipped.append(Skipped(path, "not a regular file"))
                else:
                    found[label] = item
        return found, skipped

    def stats(self) -> dict[str, StatKey]:
        """Every name in the record folders with its lstat (mtime, size, inode), keyed by
        path: what a validate with nothing changed needs, and no more."""
        stats: dict[str, StatKey] = {}
        for folder in FOLDERS:
            with contextlib.suppress(OSError), os.scandir(self.root / folder) as items:
                for item in items:
                    st = item.stat(follow_symlinks=False)
                    stats[f"{folder}/{item.name}"] = (
                        st.st_mtime_ns,
                        st.st_size,
                        st.st_ino,
                        st.st_ctime_ns,
                    )
        return stats

    def changes(self, *, remove_debris: bool = False) -> dict[str, str]:
        """Record paths whose working-tree or staged content differs from HEAD: path -> state.

        `remove_debris` (for the holder of the lock) deletes temporary files that a killed
        writer left: their writer held the lock too, so it is gone.

        Asked of `git status` (its checks of file stats run in parallel, and it reads the
        index faster than libgit2), else, when git cannot answer, of libgit2's status.
        """
        found = _git_status(self.root)
        if found is None:
            found = [
                (path, _state(flags), bool(flags & FileStatus.WT_NEW))
                for path, flags in self.repo.status(untracked_files="all").items()
            ]
        changes: dict[str, str] = {}
        for path, state, untracked in found:
            if not path.startswith(FOLDERS) or path.endswith(f"/{GITKEEP}"):
                continue
            if is_temp_file(path.rpartition("/")[2]) and untracked:
                if remove_debris:
                    (self.root / path).unlink(missing_ok=True)
                continue
            if state is not None:
                changes[path] = state
        return changes

    # --- updating -----------------------------------------------------------------------

    def update(self, blobs: Mapping[str, str | None]) -> None:
        """Bring files to the given blobs (path -> blob id, None to delete); a file that
        already holds the bytes is left alone, so its stat stays."""
        for path, oid in blobs.items():
            target = self.root / path
            if oid is None:
                with contextlib.suppress(FileNotFoundError):
                    target.unlink()
            else:
                data = self.reader.blob_bytes(oid)
                if not target.is_file() or target.is_symlink() or target.read_bytes() != data:
                    if target.is_symlink():
                        target.unlink()
                    write_atomically(target, data, durable=False)
            checkpoint("worktree")

    def stage(self, paths: Iterable[str]) -> None:
        """Record the files at `paths` in git's index as they are now (absent: removed)."""
        index = self.repo.index
        index.read(False)  # loaded just now by repo.index: re-read only if it changed
        for path in paths:
            if (self.root / path).is_file():
                index.add(path)
            else:
                with contextlib.suppress(OSError, KeyError):
                    index.remove(path)
        with git_lock_error(self.git_dir, "index"):
            index.write()
        checkpoint("index")


def _state(flags: int) -> str | None:
    """added, removed or modified, from libgit2's status flags (None: ignored only)."""
    if flags & (FileStatus.WT_NEW | FileStatus.INDEX_NEW):
        return "added"
    if flags & (FileStatus.WT_DELETED | FileStatus.INDEX_DELETED):
        return "removed"
    return "modified" if flags & ~FileStatus.IGNORED else None


_UNMERGED = {"DD", "AU", "UD", "UA", "DU", "AA", "UU"}  # git status's codes of a conflict


def git_unmerged(root: Path) -> set[str] | None:
    """The paths git's index holds unmerged (stages 1-3), from `git ls-files --unmerged`
    (quicker than loading the index into libgit2); None when git cannot answer."""
    from .transport import git_env

    args = ["git", "--no-optional-locks", "ls-files", "--unmerged", "-z"]
    try:
        done = subprocess.run(
            args, cwd=root, env=git_env(), stdin=subprocess.DEVNULL, capture_output=True
        )
    except OSError:
        return None
    if done.returncode != 0:
        return None
    return {os.fsdecode(item.partition(b"\t")[2]) for item in done.stdout.split(b"\0") if item}


def _git_status(root: Path) -> list[tuple[str, str | None, bool]] | None:
    """(path, added/removed/modified, untracked) for each path `git status` lists as
    differing from HEAD (index or working tree), as libgit2's flags are read in
    `_state`; None when git cannot answer (not installed, or it refuses the folder)."""
    from .transport import git_env

    args = ["git", "--no-optional-locks", "status", "--porcelain=v1", "-z"]
    args += ["--untracked-files=all", "--no-renames", "--ignore-submodules=none"]
    try:
        done = subprocess.run(
            args, cwd=root, env=git_env(), stdin=subprocess.DEVNULL, capture_output=True
        )
    except OSError:
        return None
    if done.returncode != 0:
        return None
    found: list[tuple[str, str | None, bool]] = []
    for item in done.stdout.split(b"\0"):
        if len(item) < 4:
            continue
        code, path = item[:2].decode("ascii", "replace"), os.fsdecode(item[3:])
        if code in _UNMERGED:
            found.append((path, "modified", False))
        elif code == "??":
            found.append((path, "added", True))
        elif "A" in code:  # added to the index (or intended to be, ` A`)
            found.append((path, "added", False))
        elif "D" in code:
            found.append((path, "removed", False))
        elif code != "!!":
            found.append((path, "modified", False))
    return found
