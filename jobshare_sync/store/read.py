"""Reading git: commits and merge bases, trees, blobs and the records in them.

Everything here only reads the object database and refs. Parsed trees are kept for
reuse within a command: a 100,000-entry folder costs about 50 ms to parse, and a
merge looks paths up in the same few trees thousands of times.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pygit2
from pygit2.enums import FileMode

from ..core import records, schema
from ..core.records import FOLDERS, Label, Loaded
from ..errors import RecordError, RepositoryStateError

GITKEEP = ".gitkeep"


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


def is_visible(name: str) -> bool:
    """Whether a name in a record folder is worth a word when it is not a record:
    `.gitkeep` and hidden files other than `.yaml` ones are passed over in silence."""
    return name != GITKEEP and not (name.startswith(".") and not name.endswith(".yaml"))


class Reader:
    """Commits, trees and record blobs of one repository."""

    def __init__(self, repo: pygit2.Repository) -> None:
        self.repo = repo
        self.loads = 0  # records parsed: tests check that work follows the change
        # parsed folder trees by (tree id, folder): looking a path up from the root
        # re-parses a 100,000-entry folder every time
        self._folders: dict[tuple[pygit2.Oid, str], pygit2.Tree | None] = {}
        self._trees: dict[pygit2.Oid, pygit2.Tree] = {}

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
        commit = self.resolve_commit(rev)
        if commit is None:
            raise RepositoryStateError(
                f"unknown revision '{rev}': try 'jobshare log' or 'git log' to find one"
            )
        return commit

    def resolve_commit(self, rev: str) -> pygit2.Commit | None:
        """The commit `rev` names (HEAD~2, a branch, a hash), or None when it names none."""
        try:
            return self.repo.revparse_single(rev).peel(pygit2.Commit)
        except (KeyError, ValueError, TypeError, pygit2.GitError, pygit2.InvalidSpecError):
            return None

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

    def merge_base(self, a: pygit2.Oid, b: pygit2.Oid) -> pygit2.Oid | None:
        """One best common ancestor of two commits (git merge-base), None if unrelated."""
        base: pygit2.Oid | None = self.repo.merge_base(a, b)
        return base

    def walk_commits(self, start: pygit2.Oid) -> Iterator[pygit2.Commit]:
        """Every commit reachable from `start`, newest first and children before parents."""
        order = pygit2.enums.SortMode.TOPOLOGICAL | pygit2.enums.SortMode.TIME
        yield from self.repo.walk(start, order)

    # --- trees and their records -------------------------------------------------------

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
                    what = _kind(new[folder].filemode, otherwise="a file")
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
                    if skipped is not None and is_visible(name) and (reason or new_oid):
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

    # --- blobs and records --------------------------------------------------------------

    def blob_bytes(self, oid: pygit2.Oid) -> bytes:
        return bytes(self.repo[oid].peel(pygit2.Blob).data)

    def read_blob(self, oid: pygit2.Oid) -> bytes:
        """A record file's bytes; RecordError when it is not a file or over the size limit."""
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
        return self.blob_bytes(oid)

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

    def hash_bytes(self, data: bytes) -> pygit2.Oid:
        """The blob id git gives `data`, without writing anything."""
        oid: pygit2.Oid = pygit2.hash(data)
        return oid


_KINDS: dict[int, str] = {
    FileMode.LINK: "a symbolic link",
    FileMode.COMMIT: "a submodule",
    FileMode.TREE: "a folder",
}


def _kind(mode: int, otherwise: str = "not a regular file") -> str:
    """What a tree entry that is not a regular file is, in words."""
    return _KINDS.get(mode, otherwise)


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
    return None, f"{_kind(entry.filemode)}, not a record file"


def _subtree(tree: pygit2.Tree | None, name: str) -> pygit2.Oid | None:
    if tree is None or name not in tree:
        return None
    entry = tree[name]
    return entry.id if entry.type == pygit2.GIT_OBJECT_TREE else None
