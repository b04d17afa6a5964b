"""The git side of records, through pygit2: read records at a revision, write commits.

Every write goes through `Store.commit_files`, which makes one change durable in a
fixed order: objects first, then a journal naming the new commit, then the working
tree, the index and finally the branch. A process killed before the journal leaves
the repository as it was (plus unreachable objects, which git ignores); one killed
after it leaves a journal that the next command replays to the end.
"""

from __future__ import annotations

import contextlib
import heapq
import json
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pygit2
from pygit2.enums import FileMode, FileStatus

from .core import records, schema
from .core.records import FOLDERS, Label, Loaded
from .errors import (
    LockError,
    MergeStateError,
    NotARepositoryError,
    RecordError,
    RepositoryStateError,
)

CONFIG_FILE = "jobshare.yaml"
MERGE_STATE = "merge.json"  # under .git/jobshare/: a pull stopped at conflicts
KEPT_DELETIONS = "kept-deletions.json"  # under .git/jobshare/: see sync.py
JOURNAL = "journal.json"  # under .git/jobshare/: see Store.finish_commit
StatKey = tuple[int, int, int]  # a file's mtime_ns, size and inode
FileContent = bytes | pygit2.Oid | None  # new bytes, a blob already in the repository, or delete
GITKEEP = ".gitkeep"
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


@dataclass(frozen=True)
class Entry:
    """A record file in a tree: its label and blob id."""

    label: Label
    oid: pygit2.Oid


@dataclass(frozen=True)
class Skipped:
    """A path in a tree that is not a record and was left alone, with the reason."""

    path: str
    reason: str

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


def blob_id(data: bytes) -> str:
    """The id git gives a file with these bytes, computed without writing anything."""
    return str(pygit2.hash(data))


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


class Store:
    """One freelancer's repository: records in git, read and written through pygit2."""

    def __init__(self, repo: pygit2.Repository) -> None:
        self.repo = repo
        if repo.is_bare or repo.workdir is None:
            raise RepositoryStateError(
                f"{repo.path} is a bare repository: jobshare needs a working folder; clone it first"
            )
        self.root = Path(repo.workdir)
        self.git_dir = Path(repo.path)
        self.state_dir = self.git_dir / "jobshare"
        self.loads = 0  # records parsed by this store: tests check that work follows the change
        # parsed folder trees by (tree id, folder): looking a path up from the root
        # re-parses a 100,000-entry folder every time
        self._folders: dict[tuple[pygit2.Oid, str], pygit2.Tree | None] = {}
        self._trees: dict[pygit2.Oid, pygit2.Tree] = {}
        self.holds_lock = False

    # --- finding and opening ---------------------------------------------------------

    @classmethod
    def open(cls, start: str | os.PathLike[str] = ".", *, need_config: bool = True) -> Store:
        """Find the repository from `start` upwards, like git does."""
        start_path = Path(start)
        if not start_path.exists():
            raise NotARepositoryError(f"{start_path}: no such folder")
        try:
            found = pygit2.discover_repository(str(start_path.resolve()))
        except pygit2.GitError as e:
            raise NotARepositoryError(
                f"{start_path}: cannot read it as a git repository: {e}"
            ) from None
        if found is None:
            raise NotARepositoryError(
                f"{start_path.resolve()} is not inside a jobshare repository: "
                "run 'jobshare init' there, or use -C PATH"
            )
        try:
            store = cls(pygit2.Repository(found))
        except pygit2.GitError as e:
            raise NotARepositoryError(f"{found}: cannot open the repository: {e}") from None
        if need_config and not (store.root / CONFIG_FILE).is_file():
            raise NotARepositoryError(
                f"{store.root} is a git repository but not a jobshare one (no {CONFIG_FILE}): "
                f"run 'jobshare init {store.root}' to adopt it"
            )
        if store.journal_path.exists():
            # A command killed half way left it: taking the lock finishes it. A command
            # still writing holds the lock and finishes it itself; a reader need not wait.
            with contextlib.suppress(LockError), store.locked(timeout=0):
                pass
        return store

    @classmethod
    def init_or_adopt(cls, root: Path) -> tuple[Store, bool]:
        """The repository whose top folder is `root`, created when there is none:
        (store, whether it was created)."""
        found = pygit2.discover_repository(str(root)) if root.exists() else None
        if found is not None:
            git_dir = Path(found).resolve()
            if git_dir == root or git_dir in root.parents:  # a bare repository, or inside .git
                raise RepositoryStateError(
                    f"{root} is in the git directory {git_dir}, not in a working folder: run "
                    "'jobshare init' in a working folder (clone a bare repository first)"
                )
            if git_dir.parent == root:
                return cls(pygit2.Repository(found)), False
        try:
            root.mkdir(parents=True, exist_ok=True)
            return cls(pygit2.init_repository(str(root), initial_head="main")), True
        except (OSError, pygit2.GitError) as e:
            reason = e.strerror if isinstance(e, OSError) and e.strerror else e
            raise NotARepositoryError(f"cannot create a repository in {root}: {reason}") from None

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

    @property
    def handle(self) -> str:
        return str(self.config()["owner"]["handle"])

    # --- revisions --------------------------------------------------------------

    def branch_ref(self) -> str:
        """The full name of the checked-out branch; refuses a detached HEAD."""
        if self.repo.head_is_detached:
            raise RepositoryStateError(
                "HEAD is detached: check out a branch first ('git switch main')"
            )
        return str(self.repo.lookup_reference("HEAD").target)

    def head_commit(self) -> pygit2.Commit | None:
        if self.repo.head_is_unborn:
            return None
        return self.repo.head.peel(pygit2.Commit)

    def head_tree(self) -> pygit2.Tree | None:
        head = self.head_commit()
        return head.tree if head is not None else None

    def commit_of(self, rev: str) -> pygit2.Commit:
        """A commit by any name git understands (HEAD~2, a branch, bob/main, a hash)."""
        try:
            obj = self.repo.revparse_single(rev)
            return obj.peel(pygit2.Commit)
        except (KeyError, ValueError, pygit2.GitError, pygit2.InvalidSpecError):
            raise RepositoryStateError(
                f"unknown revision '{rev}': try 'jobshare log' or 'git log' to find one"
            ) from None

    def merge_bases(self, a: pygit2.Oid, b: pygit2.Oid) -> list[pygit2.Oid]:
        """Every best common ancestor of two commits (git merge-base --all).

        pygit2 gives only one; a criss-cross history has several, and a record merge
        that ignored the others would report conflicts that were already resolved.
        """
        if a == b:
            return [a]
        one, two, stale, result = 1, 2, 4, 8
        flags: dict[pygit2.Oid, int] = {a: one, b: two}
        queue: list[tuple[int, str, pygit2.Oid]] = []
        for oid in (a, b):
            heapq.heappush(queue, (-self._commit_time(oid), str(oid), oid))
        found: list[pygit2.Oid] = []
        while any(not flags[item[2]] & stale for item in queue):
            _, _, oid = heapq.heappop(queue)
            mark = flags[oid] & (one | two | stale)
            if mark == one | two:
                if not flags[oid] & result:
                    flags[oid] |= result
                    found.append(oid)
                mark |= stale
            for parent in self.repo[oid].peel(pygit2.Commit).parent_ids:
                if flags.get(parent, 0) & mark == mark:
                    continue
                flags[parent] = flags.get(parent, 0) | mark
                heapq.heappush(queue, (-self._commit_time(parent), str(parent), parent))
        return [
            oid
            for oid in found
            if not any(other != oid and self.repo.descendant_of(other, oid) for other in found)
        ]

    def _commit_time(self, oid: pygit2.Oid) -> int:
        return int(self.repo[oid].peel(pygit2.Commit).commit_time)

    # --- reading records -------------------------------------------------------------

    def entries(
        self, tree: pygit2.Tree | None, folder: str
    ) -> tuple[dict[Label, pygit2.Oid], list[Skipped]]:
        """Record blobs of one folder of a tree; everything else in it is skipped, with why."""
        found: dict[Label, pygit2.Oid] = {}
        skipped: list[Skipped] = []
        if tree is None or folder not in tree:
            return found, skipped
        sub_id = _subtree(tree, folder)  # without loading what may be a huge blob
        if sub_id is None:
            return found, [Skipped(folder, "not a folder")]
        sub = self.tree(sub_id)
        for entry in sub:
            name = entry.name or ""
            path = f"{folder}/{name}"
            if name.startswith(".") and not name.endswith(".yaml") or name == GITKEEP:
                continue
            label = records.label_of_path(path)
            if label is None:
                skipped.append(Skipped(path, "file name is not a valid record id"))
            elif entry.filemode not in (FileMode.BLOB, FileMode.BLOB_EXECUTABLE):
                kind = {FileMode.LINK: "a symbolic link", FileMode.COMMIT: "a submodule"}.get(
                    entry.filemode, "not a regular file"
                )
                skipped.append(Skipped(path, f"{kind}, not a record file"))
            else:
                found[label] = entry.id
        return found, skipped

    def all_entries(
        self, tree: pygit2.Tree | None
    ) -> tuple[dict[Label, pygit2.Oid], list[Skipped]]:
        found: dict[Label, pygit2.Oid] = {}
        skipped: list[Skipped] = []
        for folder in FOLDERS:
            f, s = self.entries(tree, folder)
            found.update(f)
            skipped.extend(s)
        return found, skipped

    def changed_entries(
        self,
        old: pygit2.Tree | None,
        new: pygit2.Tree | None,
        skipped: list[Skipped] | None = None,
    ) -> dict[Label, tuple[pygit2.Oid | None, pygit2.Oid | None]]:
        """Records whose blob differs between two trees: (old oid, new oid), None if absent.

        Only record folders are compared, a folder whose tree id is the same on both sides
        costs nothing, and inside a changed folder only the changed names are looked at,
        so the work follows the change, not the repository. Changed paths in `new` that
        are not record files (symlinks, submodules, bad names, sub-folders) go to `skipped`.
        """
        changed: dict[Label, tuple[pygit2.Oid | None, pygit2.Oid | None]] = {}
        for folder in FOLDERS:
            old_sub = _subtree(old, folder)
            new_sub = _subtree(new, folder)
            if new_sub is None and new is not None and folder in new:
                # a link, file or submodule where the folder belongs holds no record, and
                # takes none away: the folder is left as it was
                if skipped is not None:
                    kind = {FileMode.LINK: "a symbolic link", FileMode.COMMIT: "a submodule"}
                    what = kind.get(new[folder].filemode, "a file")
                    skipped.append(Skipped(folder, f"{what}, not a folder: nothing in it merged"))
                continue
            if old_sub == new_sub:
                continue
            old_tree = self.tree(old_sub) if old_sub is not None else None
            new_tree = self.tree(new_sub) if new_sub is not None else None
            if old_tree is not None and new_tree is not None:
                names: set[str] = set()
                for delta in old_tree.diff_to_tree(new_tree).deltas:
                    names.add(delta.old_file.path)
                    names.add(delta.new_file.path)
            else:
                names = {entry.name or "" for entry in (old_tree or new_tree or [])}
            for name in sorted(names):
                path = f"{folder}/{name}"
                old_oid, _ = _record_blob(old_tree, name)
                new_oid, reason = _record_blob(new_tree, name)
                label = records.label_of_path(path)
                if label is None or reason is not None:
                    if skipped is not None and _is_visible(name) and (reason or new_oid):
                        why = reason or "file name is not a valid record id"
                        skipped.append(Skipped(path, why))
                    if label is None:
                        continue
                if old_oid != new_oid:
                    changed[label] = (old_oid, new_oid)
        return changed

    def tree(self, oid: pygit2.Oid) -> pygit2.Tree:
        """A tree object, kept for reuse: each lookup of a 100,000-entry folder parses it anew."""
        found = self._trees.get(oid)
        if found is None:
            if len(self._trees) >= 16:
                self._trees.clear()
            found = self._trees[oid] = self.repo[oid].peel(pygit2.Tree)
        return found

    def blob_bytes(self, oid: pygit2.Oid) -> bytes:
        return bytes(self.repo[oid].peel(pygit2.Blob).data)

    def read_blob(self, oid: pygit2.Oid) -> bytes:
        # the header alone: looking the object up would load a friend's huge blob into
        # memory just to reject it
        kind, size = self.repo.odb.read_header(oid)
        if kind != pygit2.enums.ObjectType.BLOB:
            raise RecordError(str(oid), "not a file")
        if size > records.MAX_RECORD_BYTES:
            raise RecordError(
                str(oid),
                f"file is {size:,} bytes, over the {records.MAX_RECORD_BYTES:,}-byte limit for a record",
            )
        return bytes(self.repo[oid].peel(pygit2.Blob).data)

    def load(self, label: Label, oid: pygit2.Oid, *, lines: bool = False) -> Loaded:
        """Parse one record blob; RecordError names the record's path. Merges and diffs
        need no line map (`lines=True` for a report that places problems)."""
        self.loads += 1
        try:
            raw = self.read_blob(oid)
        except RecordError as e:
            raise RecordError(label.path, e.reason) from None
        return records.load_yaml(raw, label.path, lines=lines)

    def load_valid(self, label: Label, oid: pygit2.Oid) -> tuple[dict[str, Any] | None, str | None]:
        """A record's data if it parses and passes its own checks, else None and the reason."""
        try:
            loaded = self.load(label, oid)
        except RecordError as e:
            return None, f"{e.line and f'line {e.line}: ' or ''}{e.reason}"
        problems = schema.record_problems(label, loaded)
        if problems:  # worded as a parse error is: "line 2: kind: 'robot' is not one of: ..."
            loaded = records.load_yaml(self.read_blob(oid), label.path)  # again, with lines
            problems = schema.record_problems(label, loaded)
            first = problems[0]
            name = first.field.lstrip("/").replace("/", ".")
            reason = f"{name}: {first.message}" if name else first.message
            return None, f"line {first.line}: {reason}" if first.line else reason
        return loaded.data, None

    def read_record(self, tree: pygit2.Tree | None, label: Label) -> dict[str, Any] | None:
        """One record at a tree, or None when absent. Raises RecordError if unreadable."""
        oid = self.blob_id_at(tree, label.path)
        if oid is None:
            return None
        data = self.load(label, oid).data
        return data if isinstance(data, dict) else None

    # --- the working tree ----------------------------------------------------------

    def worktree_files(self) -> tuple[dict[Label, Path], list[Skipped]]:
        """Record files present in the working tree, and paths there that are not records."""
        entries, skipped = self.worktree_entries()
        return {label: Path(entry.path) for label, entry in entries.items()}, skipped

    def worktree_entries(self) -> tuple[dict[Label, os.DirEntry[str]], list[Skipped]]:
        """Like worktree_files, as directory entries (their lstat comes without a Path)."""
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
                path = f"{folder}/{name}"
                if name.startswith(".") and not name.endswith(".yaml") or name == GITKEEP:
                    continue
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

    def worktree_stats(self) -> dict[str, StatKey]:
        """Every name in the record folders with its lstat (mtime, size, inode), keyed by
        path: what a validate with nothing changed needs, and no more."""
        stats: dict[str, StatKey] = {}
        for folder in FOLDERS:
            with contextlib.suppress(OSError), os.scandir(self.root / folder) as items:
                for item in items:
                    st = item.stat(follow_symlinks=False)
                    stats[f"{folder}/{item.name}"] = (st.st_mtime_ns, st.st_size, st.st_ino)
        return stats

    def worktree_changes(self) -> dict[str, str]:
        """Record paths whose working-tree or staged content differs from HEAD: path -> state."""
        changes: dict[str, str] = {}
        for path, flags in self.repo.status(untracked_files="all").items():
            if not path.startswith(FOLDERS) or path.endswith(f"/{GITKEEP}"):
                continue
            if is_temp_file(path.rpartition("/")[2]) and flags & FileStatus.WT_NEW:
                if self.holds_lock:  # its writer held the lock too: it is gone
                    (self.root / path).unlink(missing_ok=True)
                continue
            if flags & (FileStatus.WT_NEW | FileStatus.INDEX_NEW):
                changes[path] = "added"
            elif flags & (FileStatus.WT_DELETED | FileStatus.INDEX_DELETED):
                changes[path] = "removed"
            elif flags & ~FileStatus.IGNORED:
                changes[path] = "modified"
        return changes

    # --- writing ---------------------------------------------------------------

    @property
    def journal_path(self) -> Path:
        return self.state_dir / JOURNAL

    @contextlib.contextmanager
    def locked(self, timeout: float | None = None) -> Iterator[None]:
        """Hold the repository's jobshare lock; wait briefly for another command to finish.

        Whoever takes the lock first finishes what a killed command left half done (its
        journal) and removes its debris (temporary files), so every write starts whole.
        """
        if timeout is None:
            timeout = float(os.environ.get("JOBSHARE_LOCK_TIMEOUT", "5"))
        self.state_dir.mkdir(parents=True, exist_ok=True)
        lock = self.state_dir / "lock"
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
            if self.journal_path.exists():
                self.recover()
            yield
            checkpoint("unlock")
        finally:
            self.holds_lock = False
            with contextlib.suppress(FileNotFoundError):
                os.unlink(lock)

    def build_tree(self, base: pygit2.Tree | None, files: Mapping[str, FileContent]) -> pygit2.Oid:
        """A new tree: `base` with each path set to the given bytes (or existing blob),
        or removed for None."""
        return self._build_tree(base, self._blobs(files))

    def _blobs(self, files: Mapping[str, FileContent]) -> dict[str, pygit2.Oid | None]:
        return {
            path: (self.repo.create_blob(data) if isinstance(data, bytes) else data)
            for path, data in files.items()
        }

    def _build_tree(
        self, base: pygit2.Tree | None, blobs: Mapping[str, pygit2.Oid | None]
    ) -> pygit2.Oid:
        builder = self.repo.TreeBuilder(base) if base is not None else self.repo.TreeBuilder()
        nested: dict[str, dict[str, pygit2.Oid | None]] = {}
        for path, oid in blobs.items():
            head, _, rest = path.partition("/")
            if rest:
                nested.setdefault(head, {})[rest] = oid
            elif oid is None:
                if builder.get(head) is not None:
                    builder.remove(head)
            else:
                builder.insert(head, oid, FileMode.BLOB)
        for name, sub in nested.items():
            existing = base[name] if base is not None and name in base else None
            sub_base = (
                self.tree(existing.id)
                if existing is not None and existing.type == pygit2.GIT_OBJECT_TREE
                else None
            )
            oid = self._build_tree(sub_base, sub)
            if len(self.tree(oid)) == 0:
                if builder.get(name) is not None:
                    builder.remove(name)
            else:
                builder.insert(name, oid, FileMode.TREE)
        return builder.write()

    def signature(
        self, owner: Mapping[str, Any] | None = None
    ) -> tuple[pygit2.Signature, pygit2.Signature]:
        """Author and committer: the repository's owner wrote the change; git's identity
        (when configured) committed it. So history says whose network a change came from."""
        if owner is None:
            owner = self.config()["owner"]
        author = pygit2.Signature(
            owner["name"], owner.get("email") or f"{owner['handle']}@jobshare.invalid"
        )
        try:
            return author, self.repo.default_signature
        except (KeyError, pygit2.GitError):
            return author, author

    def merge_in_progress(self) -> bool:
        """Whether a pull stopped at conflicts; clears the state of one already committed.

        `merge --continue` commits, then deletes the state: killed in between, the commit
        is there (the journal saw to it) and the state is merely left over.
        """
        path = self.state_dir / MERGE_STATE
        if not path.exists():
            return False
        try:
            state = json.loads(path.read_text())
            head = self.head_commit()
            parents = [str(p) for p in head.parent_ids] if head is not None else []
            if parents and parents == [h for h in (state["ours"], state["theirs"]) if h]:
                path.unlink()
                return False
        except (ValueError, KeyError, TypeError):
            pass  # a damaged state is reported when it is read
        return True

    def commit_files(
        self,
        files: Mapping[str, FileContent],
        message: str,
        *,
        parents: list[pygit2.Oid] | None = None,
        base_tree: pygit2.Tree | None = None,
        owner: Mapping[str, Any] | None = None,
        state: Mapping[str, str | None] | None = None,
    ) -> pygit2.Oid:
        """Commit `files` (path -> bytes, None to delete) on the current branch, atomically.

        The caller holds the lock. `parents` defaults to HEAD; `base_tree` to HEAD's tree.
        `state` names files of `.git/jobshare/` to write (text) or delete (None) with the
        commit: they change if and only if the branch does.
        """
        ref = self.branch_ref()
        if parents is None and self.merge_in_progress():
            raise MergeStateError(
                "a pull stopped at conflicts: finish it first ('jobshare conflicts', then "
                "'jobshare merge --continue') or undo it with 'jobshare merge --abort'"
            )
        head = self.head_commit()
        old_head = head.id if head is not None else None
        if parents is None:
            parents = [old_head] if old_head is not None else []
        if base_tree is None:
            base_tree = head.tree if head is not None else None
        blobs = self._blobs(files)
        tree = self._build_tree(base_tree, blobs)
        checkpoint("objects")
        author, committer = self.signature(owner)
        new = self.repo.create_commit(None, author, committer, message, tree, parents)
        self.finish_commit(ref, old_head, new, sorted(files), state, blobs)
        return new

    def finish_commit(
        self,
        ref: str,
        old_head: pygit2.Oid | None,
        new: pygit2.Oid,
        paths: list[str],
        state: Mapping[str, str | None] | None = None,
        blobs: Mapping[str, pygit2.Oid | None] | None = None,
    ) -> None:
        """Record the intent, then bring working tree, index, state files and branch to `new`.

        `blobs` (path -> blob id, None for a deletion) spares the replay looking each
        path up in the new tree, which means parsing a folder of 100,000 entries.
        """
        journal = {
            "ref": ref,
            "old": str(old_head) if old_head is not None else None,
            "new": str(new),
            "paths": paths,
            "state": dict(state or {}),
        }
        if blobs is not None:
            journal["blobs"] = {p: str(o) if o is not None else None for p, o in blobs.items()}
        self.state_dir.mkdir(parents=True, exist_ok=True)
        write_atomically(self.journal_path, json.dumps(journal).encode())
        checkpoint("journal")
        self._replay(journal)
        if len(paths) > 1000:
            # pygit2 never packs; let git decide whether the loose objects need it
            subprocess.run(["git", "gc", "--auto", "--quiet"], cwd=self.root, check=False)

    def recover(self) -> str | None:
        """Finish a write that a killed command left half done. Returns what was done."""
        try:
            journal = json.loads(self.journal_path.read_text())
        except FileNotFoundError:
            return None
        except (OSError, ValueError):
            self.journal_path.unlink()
            return "discarded an unreadable journal"
        ref = self.repo.references.get(journal["ref"])
        current = str(ref.target) if ref is not None else None
        if current not in (journal["old"], journal["new"]):
            # the branch moved by other means since: the journal no longer applies
            self.journal_path.unlink()
            return "discarded a journal for a branch that has moved since"
        self._remove_stale_git_locks(journal["ref"])
        self._replay(journal)
        return f"completed an interrupted change ({len(journal['paths'])} files)"

    def _remove_stale_git_locks(self, ref: str) -> None:
        """Delete the lock files that libgit2 leaves when killed while writing the index or
        moving the branch (`.git/index.lock`, `.git/refs/heads/main.lock`, ...): while they
        exist, neither jobshare nor git can write the index or the branch again.

        Only called to replay the journal of a killed command, under our lock. A lock file
        older than that journal is not that command's (git's own advice applies to it);
        one made since is, unless a plain git command made it and is running now, which
        would hold it for a moment only: such a young lock is given two seconds to go.
        """
        since = self.journal_path.stat().st_mtime
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

    @contextlib.contextmanager
    def _git_lock_error(self, name: str) -> Iterator[None]:
        """git's lock file on the index or a branch, held by someone else: one clear line.
        The journal stays, so the next command finishes the change once the lock is gone."""
        try:
            yield
        except pygit2.GitError as e:
            lock = self.git_dir / f"{name}.lock"
            if not lock.exists():
                raise
            raise RepositoryStateError(
                f"cannot write {name}: {lock} exists ({e}). If no git command is running, "
                f"delete it, then run 'jobshare status' to finish the change"
            ) from None

    def _replay(self, journal: dict[str, Any]) -> None:
        new = self.repo[pygit2.Oid(hex=journal["new"])].peel(pygit2.Commit)
        tree = new.tree
        paths: list[str] = journal["paths"]
        known: dict[str, str | None] = journal.get("blobs") or {}
        for path in paths:
            if path in known:
                hex_id = known[path]
                oid = pygit2.Oid(hex=hex_id) if hex_id is not None else None
            else:
                oid = self.blob_id_at(tree, path)
            target = self.root / path
            if oid is None:
                with contextlib.suppress(FileNotFoundError):
                    target.unlink()
            else:
                data = self.blob_bytes(oid)
                if not target.is_file() or target.is_symlink() or target.read_bytes() != data:
                    if target.is_symlink():
                        target.unlink()
                    write_atomically(target, data, durable=False)
            checkpoint("worktree")
        index = self.repo.index
        index.read(False)  # loaded just now by repo.index: re-read only if it changed
        for path in paths:
            if (self.root / path).is_file():
                index.add(path)
            else:
                with contextlib.suppress(OSError, KeyError):
                    index.remove(path)
        with self._git_lock_error("index"):
            index.write()
        checkpoint("index")
        for name, text in journal.get("state", {}).items():
            if text is None:
                (self.state_dir / name).unlink(missing_ok=True)
            else:
                write_atomically(self.state_dir / name, text.encode())
            checkpoint("state")
        ref_name = journal["ref"]
        target_oid = pygit2.Oid(hex=journal["new"])
        existing = self.repo.references.get(ref_name)
        with self._git_lock_error(ref_name):
            if existing is None:
                self.repo.references.create(ref_name, target_oid)
            elif existing.target != target_oid:
                existing.set_target(
                    target_oid, new.message.splitlines()[0] if new.message else "jobshare"
                )
        checkpoint("ref")
        self.journal_path.unlink()

    # --- history and settings, for review (diff, log, show, git-setup, doctor) ---------

    def resolve_commit(self, rev: str) -> pygit2.Commit | None:
        """The commit `rev` names (HEAD~2, a branch, a hash), or None when it names none."""
        try:
            return self.repo.revparse_single(rev).peel(pygit2.Commit)
        except (KeyError, ValueError, TypeError, pygit2.GitError, pygit2.InvalidSpecError):
            return None

    def merge_base(self, a: pygit2.Oid, b: pygit2.Oid) -> pygit2.Oid | None:
        """One best common ancestor of two commits (git merge-base), None if unrelated."""
        base: pygit2.Oid | None = self.repo.merge_base(a, b)
        return base

    def walk_commits(self, start: pygit2.Oid) -> Iterator[pygit2.Commit]:
        """Every commit reachable from `start`, newest first and children before parents."""
        order = pygit2.enums.SortMode.TOPOLOGICAL | pygit2.enums.SortMode.TIME
        yield from self.repo.walk(start, order)

    def blob_id_at(self, tree: pygit2.Tree | None, path: str) -> pygit2.Oid | None:
        """The id of the regular file at `path` in a tree, or None (absent, link, folder)."""
        if tree is None:
            return None
        folder, _, name = path.rpartition("/")
        parent = self._folder(tree, folder) if folder else tree
        return _record_blob(parent, name)[0]

    def _folder(self, tree: pygit2.Tree, folder: str) -> pygit2.Tree | None:
        key = (tree.id, folder)
        if key not in self._folders:
            if len(self._folders) > 16:
                self._folders.clear()
            try:
                entry = tree[folder]
            except KeyError:
                entry = None
            is_tree = entry is not None and entry.type == pygit2.GIT_OBJECT_TREE
            self._folders[key] = self.tree(entry.id) if is_tree and entry is not None else None
        return self._folders[key]

    def hash_bytes(self, data: bytes) -> pygit2.Oid:
        """The blob id git gives `data`, without writing anything."""
        oid: pygit2.Oid = pygit2.hash(data)
        return oid

    def git_config(self, name: str) -> str | None:
        """One value of the repository's git config (all levels), or None."""
        config = self.repo.config
        if name not in config:
            return None
        return str(config[name])

    def set_git_config(self, name: str, value: str) -> None:
        """Set a value in the repository's own config (.git/config)."""
        local = pygit2.Config(str(self.git_dir / "config"))
        local[name] = value

    def git_config_names(self, prefix: str) -> dict[str, str]:
        """Config entries whose name starts with `prefix`, name -> value."""
        return {
            entry.name: entry.value
            for entry in self.repo.config
            if entry.name.startswith(prefix) and entry.value is not None
        }

    def remote_urls(self) -> dict[str, str]:
        """The git remotes of the repository, name -> URL."""
        return {str(remote.name): remote.url or "" for remote in self.repo.remotes}

    def attribute(self, path: str, name: str) -> str | bool | None:
        """The git attribute `name` of `path` as .gitattributes set it (True for a bare `diff`)."""
        value: str | bool | None = self.repo.get_attr(path, name)
        return value

    @staticmethod
    def git_version() -> str | None:
        """The version of the `git` found on PATH (`2.43.0`), or None when there is none."""
        try:
            done = subprocess.run(
                ["git", "--version"],
                capture_output=True,
                text=True,
                check=False,
                env={**os.environ, "LC_ALL": "C"},
            )
        except OSError:
            return None
        if done.returncode != 0:
            return None
        return done.stdout.strip().removeprefix("git version ").strip() or None


def _is_visible(name: str) -> bool:
    return name != GITKEEP and not (name.startswith(".") and not name.endswith(".yaml"))


def _record_blob(tree: pygit2.Tree | None, name: str) -> tuple[pygit2.Oid | None, str | None]:
    """The blob id of a record file in a folder tree, or None and why it is not one."""
    if tree is None:
        return None, None
    try:
        entry = tree[name]
    except KeyError:
        return None, None
    if entry.filemode in (FileMode.BLOB, FileMode.BLOB_EXECUTABLE):
        return entry.id, None
    kind = {
        FileMode.LINK: "a symbolic link",
        FileMode.COMMIT: "a submodule",
        FileMode.TREE: "a folder",
    }.get(entry.filemode, "not a regular file")
    return None, f"{kind}, not a record file"


def _subtree(tree: pygit2.Tree | None, name: str) -> pygit2.Oid | None:
    if tree is None or name not in tree:
        return None
    entry = tree[name]
    return entry.id if entry.type == pygit2.GIT_OBJECT_TREE else None


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
