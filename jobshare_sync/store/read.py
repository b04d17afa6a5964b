"""Reading git: commits and merge bases, trees, blobs and the records in them.

Everything here only reads the object database and refs. Parsed trees are kept for
reuse within a command: a 100,000-entry folder costs about 50 ms to parse, and a
merge looks paths up in the same few trees thousands of times.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pygit2
from pygit2.enums import FileMode

from ..core import records, schema
from ..core.records import FOLDERS, Label, Loaded, Skipped
from ..errors import RecordError, RepositoryStateError

GITKEEP = ".gitkeep"


@dataclass(frozen=True)
class Signature:
    """Who made a commit, and when: git's author or committer."""

    name: str
    email: str
    time: int  # seconds since the epoch
    offset: int  # the person's UTC offset, in minutes


@dataclass(frozen=True)
class Commit:
    """A commit as plain values; every id is git's hex object id."""

    id: str
    parents: tuple[str, ...]
    tree: str
    author: Signature
    committer: Signature
    message: str


def _text(decode: Callable[[], str], raw: Callable[[], bytes]) -> str:
    """A commit's text as git declared it (its `encoding` header), or, when that
    encoding is unknown or the bytes do not fit it, as UTF-8 with U+FFFD for what
    does not decode: a friend's odd commit is shown as best it can be, never a crash."""
    try:
        return decode()
    except (LookupError, UnicodeDecodeError, ValueError):
        return raw().decode("utf-8", errors="replace")


def _signature(person: pygit2.Signature) -> Signature:
    return Signature(
        _text(lambda: person.name, lambda: person.raw_name),
        _text(lambda: person.email, lambda: person.raw_email),
        person.time,
        person.offset,
    )


def _commit(commit: pygit2.Commit) -> Commit:
    return Commit(
        str(commit.id),
        tuple(str(p) for p in commit.parent_ids),
        str(commit.tree_id),
        _signature(commit.author),
        _signature(commit.committer),
        _text(lambda: commit.message, lambda: commit.raw_message),
    )


def blob_id(data: bytes) -> str:
    """The id git gives a file with these bytes, computed without writing anything."""
    return str(pygit2.hash(data))


def is_visible(name: str) -> bool:
    """Whether a name in a record folder is worth a word when it is not a record:
    `.gitkeep` and hidden files other than `.yaml` ones are passed over in silence."""
    return name != GITKEEP and not (name.startswith(".") and not name.endswith(".yaml"))


class Reader:
    """Commits, trees and record blobs of one repository, handed out as plain values:
    ids as hex strings, commits as `Commit`, records as dicts."""

    def __init__(self, repo: pygit2.Repository) -> None:
        self.repo = repo
        self.loads = 0  # records parsed: tests check that work follows the change
        # parsed folder trees by (tree id, folder): looking a path up from the root
        # re-parses a 100,000-entry folder every time
        self._folders: dict[tuple[str, str], pygit2.Tree | None] = {}
        self._trees: dict[str, pygit2.Tree] = {}

    # --- revisions --------------------------------------------------------------

    def current_branch(self) -> str | None:
        """The full name of the checked-out branch (`refs/heads/main`); None when HEAD
        is detached."""
        if self.repo.head_is_detached:
            return None
        return str(self.repo.lookup_reference("HEAD").target)

    def branch_ref(self) -> str:
        """The full name of the checked-out branch; refuses a detached HEAD."""
        ref = self.current_branch()
        if ref is None:
            raise RepositoryStateError(
                "HEAD is detached: check out a branch first ('git switch main')"
            )
        return ref

    def ref_target(self, name: str) -> str | None:
        """The commit id a ref (`refs/remotes/bob/main`) points at, or None without it.
        An annotated tag (plain git can store one there) stands for the commit it tags;
        a ref that names no commit (a tree, a blob, a tag of one) is as good as none."""
        ref = self.repo.references.get(name)
        if ref is None:
            return None
        try:
            return str(ref.peel(pygit2.Commit).id)
        except (KeyError, ValueError, pygit2.GitError, pygit2.InvalidSpecError):
            return None

    def head_commit(self) -> Commit | None:
        if self.repo.head_is_unborn:
            return None
        return _commit(self.repo.head.peel(pygit2.Commit))

    def head_tree(self) -> str | None:
        """The id of HEAD's tree, or None before the first commit."""
        head = self.head_commit()
        return head.tree if head is not None else None

    def commit(self, commit_id: str) -> Commit:
        """The commit with this id; RepositoryStateError when the repository lacks it."""
        try:
            return _commit(self.repo[commit_id].peel(pygit2.Commit))
        except (KeyError, ValueError, pygit2.GitError, pygit2.InvalidSpecError):
            raise RepositoryStateError(
                f"commit {commit_id} is not in the repository: fetch it first"
            ) from None

    def commit_of(self, rev: str) -> Commit:
        """A commit by any name git understands (HEAD~2, a branch, bob/main, a hash)."""
        commit = self.resolve_commit(rev)
        if commit is None:
            raise RepositoryStateError(
                f"unknown revision '{rev}': try 'jobshare log' or 'git log' to find one"
            )
        return commit

    def resolve_commit(self, rev: str) -> Commit | None:
        """The commit `rev` names (HEAD~2, a branch, a hash), or None when it names none."""
        try:
            return _commit(self.repo.revparse_single(rev).peel(pygit2.Commit))
        except (KeyError, ValueError, TypeError, pygit2.GitError, pygit2.InvalidSpecError):
            return None

    def merge_bases(self, a: str, b: str) -> list[str]:
        """Every best common ancestor of two commits (git merge-base --all).

        pygit2 gives only one; a criss-cross history has several, and a record merge
        that ignored the others would report conflicts that were already resolved.
        """
        a, b = str(a), str(b)
        if a == b:
            return [a]
        one, two, stale, result = 1, 2, 4, 8
        flags: dict[str, int] = {a: one, b: two}
        queue: list[tuple[int, str]] = []
        for oid in (a, b):
            heapq.heappush(queue, (-self._commit_time(oid), oid))
        found: list[str] = []
        while any(not flags[item[1]] & stale for item in queue):
            _, oid = heapq.heappop(queue)
            mark = flags[oid] & (one | two | stale)
            if mark == one | two:
                if not flags[oid] & result:
                    flags[oid] |= result
                    found.append(oid)
                mark |= stale
            for parent_id in self.repo[oid].peel(pygit2.Commit).parent_ids:
                parent = str(parent_id)
                if flags.get(parent, 0) & mark == mark:
                    continue
                flags[parent] = flags.get(parent, 0) | mark
                heapq.heappush(queue, (-self._commit_time(parent), parent))
        return [
            oid
            for oid in found
            if not any(other != oid and self.repo.descendant_of(other, oid) for other in found)
        ]

    def _commit_time(self, oid: str) -> int:
        return int(self.repo[oid].peel(pygit2.Commit).commit_time)

    def merge_base(self, a: str, b: str) -> str | None:
        """One best common ancestor of two commits (git merge-base), None if unrelated."""
        base = self.repo.merge_base(a, b)
        return str(base) if base is not None else None

    def descendant_of(self, commit_id: str, ancestor_id: str) -> bool:
        """Whether `ancestor_id` is in the history of `commit_id` (and not the same)."""
        return bool(self.repo.descendant_of(commit_id, ancestor_id))

    def is_shallow(self) -> bool:
        """Whether the repository is a shallow clone, where history ends early."""
        return bool(self.repo.is_shallow)

    def walk_commits(self, start: str) -> Iterator[Commit]:
        """Every commit reachable from `start`, newest first and children before parents."""
        order = pygit2.enums.SortMode.TOPOLOGICAL | pygit2.enums.SortMode.TIME
        for commit in self.repo.walk(start, order):
            yield _commit(commit)

    def count_commits(self, start: str, hidden: str | None = None, merges: bool = True) -> int:
        """Commits reachable from `start` but not from `hidden` (git rev-list --count
        hidden..start; without `merges`, --no-merges). A walk: libgit2's ahead_behind
        miscounts some histories with several merges."""
        walker = self.repo.walk(start)
        if hidden is not None:
            walker.hide(hidden)
        return sum(1 for commit in walker if merges or len(commit.parent_ids) < 2)

    def count_record_commits(self, start: str, hidden: str | None = None) -> int:
        """Commits reachable from `start` but not from `hidden` that change a record, or a
        file a pull would skip, in the record folders against their first parent: the
        commits that bring records work. One that touches only other files (its
        jobshare.yaml, `.jobshare/`) brings none and is not counted."""
        walker = self.repo.walk(start)
        if hidden is not None:
            walker.hide(hidden)
        count = 0
        for commit in walker:
            parent = str(commit.parents[0].tree_id) if commit.parent_ids else None
            skipped: list[Skipped] = []
            if self.changed_entries(parent, str(commit.tree_id), skipped) or skipped:
                count += 1
        return count

    # --- trees and their records -------------------------------------------------------

    def changed_entries(
        self,
        old_id: str | None,
        new_id: str | None,
        skipped: list[Skipped] | None = None,
    ) -> dict[Label, tuple[str | None, str | None]]:
        """Records whose blob differs between two trees (by id): (old blob id, new blob
        id), None where absent.

        Only record folders are compared, a folder whose tree id is the same on both sides
        costs nothing, and inside a changed folder only the changed names are looked at,
        so the work follows the change, not the repository. Changed paths in `new` that
        are not record files (symlinks, submodules, bad names, sub-folders) go to `skipped`.
        """
        changed: dict[Label, tuple[str | None, str | None]] = {}
        old = self._root(old_id) if old_id is not None else None
        new = self._root(new_id) if new_id is not None else None
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
            old_tree = self.tree_object(old_sub) if old_sub is not None else None
            new_tree = self.tree_object(new_sub) if new_sub is not None else None
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

    def _root(self, tree_id: str) -> pygit2.Tree:
        """A commit's top tree: a few entries, cheap to look up again (libgit2 keeps small
        objects), so it takes no place among the folders kept below."""
        return self.repo[tree_id].peel(pygit2.Tree)

    def tree_object(self, tree_id: str) -> pygit2.Tree:
        """A folder's tree object, kept for reuse: each lookup of a 100,000-entry folder
        parses it anew."""
        found = self._trees.get(tree_id)
        if found is None:
            if len(self._trees) >= 16:
                self._trees.clear()
            found = self._trees[tree_id] = self.repo[tree_id].peel(pygit2.Tree)
        return found

    def blob_id_at(self, tree_id: str | None, path: str) -> str | None:
        """The id of the regular file at `path` in a tree, or None (absent, link, folder)."""
        if tree_id is None:
            return None
        folder, _, name = path.rpartition("/")
        parent = self._folder(tree_id, folder) if folder else self._root(tree_id)
        return _record_blob(parent, name)[0]

    def _folder(self, tree_id: str, folder: str) -> pygit2.Tree | None:
        key = (tree_id, folder)
        if key not in self._folders:
            if len(self._folders) > 16:
                self._folders.clear()
            sub = _subtree(self._root(tree_id), folder)
            self._folders[key] = self.tree_object(sub) if sub is not None else None
        return self._folders[key]

    # --- blobs and records --------------------------------------------------------------

    def blob_bytes(self, oid: str) -> bytes:
        return bytes(self.repo[oid].peel(pygit2.Blob).data)

    def read_blob(self, oid: str) -> bytes:
        """A record file's bytes; RecordError when it is not a file or over the size limit."""
        # the header alone: looking the object up would load a friend's huge blob into
        # memory just to reject it
        kind, size = self.repo.odb.read_header(oid)
        if kind != pygit2.enums.ObjectType.BLOB:
            raise RecordError(oid, "not a file")
        if size > records.MAX_RECORD_BYTES:
            raise RecordError(
                oid,
                f"file is {size:,} bytes, over the {records.MAX_RECORD_BYTES:,}-byte limit for a record",
            )
        return self.blob_bytes(oid)

    def load(self, label: Label, oid: str, *, lines: bool = False) -> Loaded:
        """Parse one record blob; RecordError names the record's path. Merges and diffs
        need no line map (`lines=True` for a report that places problems)."""
        self.loads += 1
        try:
            raw = self.read_blob(oid)
        except RecordError as e:
            raise RecordError(label.path, e.reason) from None
        return records.load_yaml(raw, label.path, lines=lines)

    def read_record(self, tree_id: str | None, label: Label) -> dict[str, Any] | None:
        """The record `label` at a tree, or None when absent or not a mapping.

        Raises RecordError if it does not parse."""
        oid = self.blob_id_at(tree_id, label.path)
        if oid is None:
            return None
        data = self.load(label, oid).data
        return data if isinstance(data, dict) else None

    def load_valid(self, label: Label, oid: str) -> tuple[dict[str, Any] | None, str | None]:
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

    @staticmethod
    def hash_bytes(data: bytes) -> str:
        """The blob id git gives `data`, without writing anything."""
        return blob_id(data)


_KINDS: dict[int, str] = {
    FileMode.LINK: "a symbolic link",
    FileMode.COMMIT: "a submodule",
    FileMode.TREE: "a folder",
}


def _kind(mode: int, otherwise: str = "not a regular file") -> str:
    """What a tree entry that is not a regular file is, in words."""
    return _KINDS.get(mode, otherwise)


def _record_blob(tree: pygit2.Tree | None, name: str) -> tuple[str | None, str | None]:
    """The blob id of a record file in a folder tree, or None and why it is not one."""
    if tree is None:
        return None, None
    try:
        entry = tree[name]
    except KeyError:
        return None, None
    if entry.filemode in (FileMode.BLOB, FileMode.BLOB_EXECUTABLE):
        return str(entry.id), None
    return None, f"{_kind(entry.filemode)}, not a record file"


def _subtree(tree: pygit2.Tree | None, name: str) -> str | None:
    """The id of the folder `name` in a tree; None when it is absent or not a folder."""
    if tree is None or name not in tree:
        return None
    entry = tree[name]
    return str(entry.id) if entry.type == pygit2.GIT_OBJECT_TREE else None
