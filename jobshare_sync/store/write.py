"""Writing git: blobs, trees, commits and refs, each change through the journal.

`Writer.commit_files` makes one change durable in a fixed order: objects first, then
the journal naming the new commit, then the working tree, the index, the state files
and finally the branch (DESIGN section 4; update the working tree before the ref, see
section 10). Killed before the journal, the repository is as it was; after it, the
next command to take the lock replays the journal to the end (`recover`).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator, Mapping
from typing import Any

import pygit2
from pygit2.enums import FileMode

from ..errors import MergeStateError, RepositoryStateError
from . import transport
from .journal import MERGE_STATE, Journal, checkpoint, git_lock_error
from .read import Reader
from .worktree import Worktree

FileContent = bytes | None  # a file's new bytes, or None to delete it
GC_AFTER = 1000  # files written by one change after which git may want to pack


def _moved_error(ref: str) -> RepositoryStateError:
    return RepositoryStateError(
        f"{ref.removeprefix('refs/heads/')} moved while jobshare was writing (a git "
        "command?): nothing changed; run the command again"
    )


class Writer:
    """Commits on the checked-out branch of one repository, made atomic by its journal."""

    def __init__(
        self, repo: pygit2.Repository, reader: Reader, worktree: Worktree, journal: Journal
    ) -> None:
        self.repo = repo
        self.reader = reader
        self.worktree = worktree
        self.journal = journal

    @contextlib.contextmanager
    def locked(self, timeout: float | None = None) -> Iterator[None]:
        """Hold the repository's jobshare lock; wait briefly for another command to finish.

        Whoever takes the lock first finishes what a killed command left half done (its
        journal) and removes its debris (temporary files), so every write starts whole.
        """
        with self.journal.lock(timeout):
            if self.journal.path.exists():
                self.recover()
            yield

    def recover(self) -> str | None:
        """Finish a write that a killed command left half done. Returns what was done."""
        journal, note = self.journal.pending(self.reader.ref_target)
        if journal is None:
            return note
        if note is not None:  # the branch moved by other means since: put our files back
            self._undo(journal, self._journal_blobs(journal))
            self.journal.done()
            return "discarded a journal for a branch that has moved since"
        self.journal.remove_stale_git_locks(journal["ref"])
        self._replay(journal)
        return f"completed an interrupted change ({len(journal['paths'])} files)"

    def merge_in_progress(self) -> bool:
        """Whether a pull stopped at conflicts; clears the state of one already committed.

        `merge --continue` commits, then deletes the state: killed in between, the commit
        is there (the journal saw to it) and the state is merely left over.
        """
        path = self.journal.state_dir / MERGE_STATE
        if not path.exists():
            return False
        try:
            state = json.loads(path.read_text())
            head = self.reader.head_commit()
            parents = list(head.parents) if head is not None else []
            if parents and parents == [h for h in (state["ours"], state["theirs"]) if h]:
                path.unlink()
                return False
        except (ValueError, KeyError, TypeError):
            pass  # a damaged state is reported when it is read
        return True

    # --- objects ----------------------------------------------------------------------

    def _blobs(self, files: Mapping[str, FileContent]) -> dict[str, pygit2.Oid | None]:
        return {
            path: self.repo.create_blob(data) if data is not None else None
            for path, data in files.items()
        }

    def _build_tree(
        self, base: pygit2.Tree | None, blobs: Mapping[str, pygit2.Oid | None]
    ) -> pygit2.Oid:
        return build_tree(self.repo, self.reader, base, blobs)

    def signature(
        self, owner: Mapping[str, Any] | None = None
    ) -> tuple[pygit2.Signature, pygit2.Signature]:
        """Author and committer: the repository's owner wrote the change; git's identity
        (when configured) committed it. So history says whose network a change came from."""
        if owner is None:
            owner = self.worktree.config()["owner"]
        author = pygit2.Signature(
            owner["name"], owner.get("email") or f"{owner['handle']}@jobshare.invalid"
        )
        try:
            return author, self.repo.default_signature
        except (KeyError, pygit2.GitError):
            return author, author

    # --- commits ----------------------------------------------------------------------

    def commit_files(
        self,
        files: Mapping[str, FileContent],
        message: str,
        *,
        parents: list[str] | None = None,
        base_tree: str | None = None,
        owner: Mapping[str, Any] | None = None,
        state: Mapping[str, str | None] | None = None,
    ) -> str:
        """Commit `files` (path -> bytes, None to delete) on the current branch, atomically.

        The caller holds the lock. `parents` (commit ids) default to HEAD; `base_tree` (a
        tree id) to HEAD's tree. Returns the new commit's id.
        `state` names files of `.git/jobshare/` to write (text) or delete (None) with the
        commit: they change if and only if the branch does.
        """
        ref = self.reader.branch_ref()
        if parents is None and self.merge_in_progress():
            raise MergeStateError(
                "a pull stopped at conflicts: finish it first ('jobshare conflicts', then "
                "'jobshare merge --continue') or undo it with 'jobshare merge --abort'"
            )
        head = self.reader.head_commit()
        old_head = head.id if head is not None else None
        if parents is None:
            parents = [old_head] if old_head is not None else []
        if base_tree is None:
            base_tree = head.tree if head is not None else None
        blobs = self._blobs(files)
        base = self.repo[base_tree].peel(pygit2.Tree) if base_tree is not None else None
        tree = self._build_tree(base, blobs)
        checkpoint("objects")
        author, committer = self.signature(owner)
        new = str(self.repo.create_commit(None, author, committer, message, tree, parents))
        self.finish_commit(ref, old_head, new, sorted(files), state, blobs)
        return new

    def finish_commit(
        self,
        ref: str,
        old_head: str | None,
        new: str,
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
            "old": old_head,
            "new": new,
            "paths": paths,
            "state": dict(state or {}),
            # the state files as they were, put back if the branch moves under us
            "state_before": {name: self.journal.read_state(name) for name in state or {}},
        }
        if blobs is not None:
            journal["blobs"] = {p: str(o) if o is not None else None for p, o in blobs.items()}
        self._check_unmoved(ref, old_head)
        self.journal.record(journal)
        self._replay(journal)
        if len(paths) > GC_AFTER:
            transport.collect_garbage(self.worktree.root)

    def _journal_blobs(self, journal: Mapping[str, Any]) -> dict[str, str | None]:
        """Each path of a journal with its blob in the journal's commit (None: deleted)."""
        tree = str(self.repo[journal["new"]].peel(pygit2.Commit).tree_id)
        known: dict[str, str | None] = journal.get("blobs") or {}
        return {
            path: known[path] if path in known else self.reader.blob_id_at(tree, path)
            for path in journal["paths"]
        }

    def _replay(self, journal: Mapping[str, Any]) -> None:
        """Bring the working tree, the index, the state files and the branch, in that
        order, to the journal's commit; then forget the journal.

        The branch moves only from the journal's `old` (compare and swap): if a plain
        `git commit` moved it while the files were written, that commit stays, the
        files and state this change wrote are put back as the branch has them, and
        RepositoryStateError says so in one line (the command can be run again)."""
        new = self.repo[journal["new"]].peel(pygit2.Commit)
        paths: list[str] = journal["paths"]
        blobs = self._journal_blobs(journal)
        self.worktree.update(blobs)
        self.worktree.stage(paths)
        self.journal.write_state(journal.get("state", {}))
        if not self._move_ref(journal["ref"], new, journal.get("old")):
            self._undo(journal, blobs)
            self.journal.done()
            raise _moved_error(journal["ref"])
        checkpoint("ref")
        self.journal.done()

    def _undo(self, journal: Mapping[str, Any], blobs: Mapping[str, str | None]) -> None:
        """Put back what a journal's change wrote, now that the branch moved by other
        means: each file still as the change wrote it takes the branch's version (and so
        does its index entry), and each state file still as written its old content.
        A file or state changed since by someone else is left as it is."""
        tip = self._target(journal["ref"])
        tree = str(self.repo[tip].peel(pygit2.Commit).tree_id) if tip is not None else None
        restore = {}
        for path, oid in blobs.items():
            file = self.worktree.root / path
            held = (
                self.reader.hash_bytes(file.read_bytes())
                if file.is_file() and not file.is_symlink()
                else None
            )
            if held == oid:
                restore[path] = self.reader.blob_id_at(tree, path)
        self.worktree.update(restore)
        self.worktree.stage(restore)
        written: Mapping[str, str | None] = journal.get("state") or {}
        before: Mapping[str, str | None] = journal.get("state_before") or {}
        self.journal.write_state(
            {
                name: before.get(name)
                for name, text in written.items()
                if self.journal.read_state(name) == text
            }
        )

    def _target(self, name: str) -> str | None:
        ref = self.repo.references.get(name)
        return str(ref.target) if ref is not None else None

    def _check_unmoved(self, name: str, expected: str | None) -> None:
        """Compare before the swap: the branch must still be where the command started
        from, or a commit made meanwhile by other means (plain `git commit`) would be
        lost. Raises RepositoryStateError, with nothing written but unreachable objects."""
        if self._target(name) != expected:
            raise _moved_error(name)

    def _move_ref(self, name: str, commit: pygit2.Commit, old: str | None) -> bool:
        """Move the branch from `old` to `commit`; False when something else moved it
        since the journal was written. The swap itself compares too: libgit2 moves a
        loaded reference only from the value it was loaded with."""
        existing = self.repo.references.get(name)
        if existing is not None and str(existing.target) not in (old, str(commit.id)):
            return False
        try:
            with git_lock_error(self.journal.git_dir, name):
                if existing is None:
                    self.repo.references.create(name, commit.id)
                elif existing.target != commit.id:
                    existing.set_target(
                        commit.id, commit.message.splitlines()[0] if commit.message else "jobshare"
                    )
        except pygit2.GitError:
            if self._target(name) in (old, str(commit.id)):
                raise
            return False  # moved between the look and the swap
        return True

    def delete_ref(self, name: str) -> None:
        """Delete a ref, if it exists (not a branch of one's own: those move by commits)."""
        ref = self.repo.references.get(name)
        if ref is not None:
            ref.delete()


def build_tree(
    repo: pygit2.Repository,
    reader: Reader,
    base: pygit2.Tree | None,
    blobs: Mapping[str, pygit2.Oid | None],
) -> pygit2.Oid:
    """A new tree: `base` with each path set to its blob, or removed for None; a
    folder left empty is removed."""
    builder = repo.TreeBuilder(base) if base is not None else repo.TreeBuilder()
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
            reader.tree_object(str(existing.id))
            if existing is not None and existing.type == pygit2.GIT_OBJECT_TREE
            else None
        )
        oid = build_tree(repo, reader, sub_base, sub)
        if len(reader.tree_object(str(oid))) == 0:
            if builder.get(name) is not None:
                builder.remove(name)
        else:
            builder.insert(name, oid, FileMode.TREE)
    return builder.write()
