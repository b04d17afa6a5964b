"""The private side's git repository (README "What is private", DESIGN section 7c).

Private records and private notes live in a bare repository of their own inside the
git directory, `.git/jobshare/private.git`, on its branch `private`. It is another
object database: nothing that pushes or fetches the main repository (`jobshare push`,
`git push --all`, `git push --mirror`, a friend's fetch) can reach its commits or
blobs, since git sends only objects of the repository it runs in. It travels only by
`PrivateRepository.fetch` and `push`, to a URL the user named for it.

A write is crash-safe in the order of the shared side: blobs, trees and the commit
first, then one compare-and-swap of the branch (libgit2 writes `private.lock` and
renames it over the ref only while the ref still names the commit read before). A
kill before the swap leaves unreachable objects and the old branch; after it, the
new branch. Nothing else is written, so nothing needs a journal.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import pygit2

from ..errors import RepositoryStateError
from . import transport
from .journal import checkpoint
from .read import Commit, Reader, _commit
from .write import build_tree

PRIVATE_GIT = "private.git"  # under .git/jobshare/
PRIVATE_BRANCH = "private"
PRIVATE_REF = f"refs/heads/{PRIVATE_BRANCH}"
FETCHED_REF = "refs/remotes/own/private"  # the private remote's branch, as last fetched
NOTES = "notes"  # the folder of private notes, notes/<folder>/<id>.yaml

Signer = Callable[[], tuple[pygit2.Signature, pygit2.Signature]]


class PrivateRepository:
    """The bare repository of the private side, created at its first write."""

    def __init__(self, state_dir: Path, signer: Signer) -> None:
        self.path = state_dir / PRIVATE_GIT
        self._signer = signer
        self._reader: Reader | None = None

    def exists(self) -> bool:
        """Whether anything private was ever written in this clone."""
        return (self.path / "HEAD").is_file()

    def _open(self, create: bool = False) -> Reader | None:
        if self._reader is not None:
            return self._reader
        if not self.exists():
            if not create:
                return None
            self.path.parent.mkdir(parents=True, exist_ok=True)
            pygit2.init_repository(str(self.path), bare=True, initial_head=PRIVATE_BRANCH)
        self._reader = Reader(pygit2.Repository(str(self.path)))
        return self._reader

    def tip(self, ref: str = PRIVATE_REF) -> str | None:
        """The commit a ref of the private repository names (the branch by default)."""
        reader = self._open()
        return reader.ref_target(ref) if reader is not None else None

    def files(self, commit_id: str | None = None) -> dict[str, bytes]:
        """Every file of a commit's tree (the branch's tip by default): path -> bytes.
        The private side holds one person's records, so it is read whole."""
        reader = self._open()
        commit_id = commit_id or self.tip()
        if reader is None or commit_id is None:
            return {}
        tree = reader.repo[commit_id].peel(pygit2.Commit).tree
        return {path: bytes(blob.data) for path, blob in _walk(reader.repo, tree)}

    def commit(
        self,
        files: Mapping[str, bytes | None],
        message: str,
        *,
        expected: str | None,
        parents: list[str] | None = None,
        base: str | None = None,
    ) -> str:
        """Commit `files` (path -> bytes, None to delete) on the private branch, whose tip
        must still be `expected` (None: no commit yet). `parents` default to `[expected]`,
        `base` (a commit whose tree is changed) to `expected`. Returns the new commit id.

        Raises RepositoryStateError when the branch moved meanwhile; then nothing but
        unreachable objects was written."""
        reader = self._open(create=True)
        assert reader is not None
        repo = reader.repo
        base = base if base is not None else expected
        base_tree = repo[base].peel(pygit2.Commit).tree if base is not None else None
        blobs = {p: repo.create_blob(d) if d is not None else None for p, d in files.items()}
        tree = build_tree(repo, reader, base_tree, blobs)
        checkpoint("private-objects")
        author, committer = self._signer()
        if parents is None:
            parents = [expected] if expected is not None else []
        new = repo.create_commit(None, author, committer, message, tree, parents)
        checkpoint("private-commit")
        self._swap(repo, expected, new, message)
        checkpoint("private-ref")
        return str(new)

    def _swap(
        self, repo: pygit2.Repository, expected: str | None, new: pygit2.Oid, message: str
    ) -> None:
        """Move the branch from `expected` to `new`, or refuse if it moved."""
        ref = repo.references.get(PRIVATE_REF)
        current = str(ref.target) if ref is not None else None
        if current != expected:
            raise RepositoryStateError(
                "the private side changed while jobshare was writing it: nothing changed; "
                "run the command again"
            )
        try:
            if ref is None:
                repo.references.create(PRIVATE_REF, new)  # refuses if it appeared meanwhile
            else:
                ref.set_target(new, message.splitlines()[0] if message else "jobshare")
        except (pygit2.GitError, pygit2.AlreadyExistsError) as e:
            raise RepositoryStateError(
                f"cannot move the private branch ({e}): nothing changed; run the command again"
            ) from None

    def move_to(self, expected: str | None, new: str) -> None:
        """Fast-forward the branch from `expected` to `new` (a fetched commit)."""
        reader = self._open(create=True)
        assert reader is not None
        self._swap(reader.repo, expected, pygit2.Oid(hex=new), "fast-forward")
        checkpoint("private-ref")

    # --- history ----------------------------------------------------------------------

    def walk(self, start: str | None = None) -> Iterator[Commit]:
        """Commits from `start` (the tip by default) back, newest first."""
        reader = self._open()
        start = start or self.tip()
        if reader is None or start is None:
            return iter(())
        return reader.walk_commits(start)

    def commit_info(self, commit_id: str) -> Commit:
        reader = self._open()
        if reader is None:
            raise RepositoryStateError("there is no private side yet")
        return _commit(reader.repo[commit_id].peel(pygit2.Commit))

    def resolve(self, rev: str) -> str | None:
        """The private commit a revision names (`private~2`, a hash, a prefix), or None."""
        reader = self._open()
        if reader is None:
            return None
        try:
            return str(reader.repo.revparse_single(rev).peel(pygit2.Commit).id)
        except (KeyError, ValueError, pygit2.GitError, pygit2.InvalidSpecError):
            return None

    def merge_base(self, a: str, b: str) -> str | None:
        reader = self._open()
        return reader.merge_base(a, b) if reader is not None else None

    def descendant_of(self, commit_id: str, ancestor_id: str) -> bool:
        reader = self._open()
        return reader is not None and reader.descendant_of(commit_id, ancestor_id)

    def exposable_ids(self) -> set[str]:
        """Objects that exist only because of the private side, so that finding one in
        another object database means private history was copied there: every commit
        of the branch, their top trees, and the blobs of the notes at the tip."""
        reader = self._open()
        tip = self.tip()
        if reader is None or tip is None:
            return set()
        repo = reader.repo
        found: set[str] = set()
        for commit in repo.walk(tip):
            found |= {str(commit.id), str(commit.tree_id)}
        notes = repo[tip].peel(pygit2.Commit).tree
        if NOTES in notes:
            found |= {
                str(blob.id) for _, blob in _walk(repo, repo[notes[NOTES].id].peel(pygit2.Tree))
            }
        return found

    # --- travelling to the user's own machines ----------------------------------------

    def fetch(self, url: str) -> str | None:
        """Fetch the private branch of `url` into FETCHED_REF: None, or why not (one
        line; "it has no branch 'private'" for a remote nothing private reached yet)."""
        self._open(create=True)
        return transport.fetch(
            self.path, url, PRIVATE_BRANCH, FETCHED_REF, objects=self.path / "objects"
        )

    def foreign_refs(self, url: str) -> list[str] | None:
        """The refs at `url` other than the private branch (and HEAD): a place of the
        private side's own has none. None when `url` cannot be read."""
        refs = transport.remote_refs(self.path, url)
        return None if refs is None else [r for r in refs if r not in (PRIVATE_REF, "HEAD")]

    def push(self, url: str) -> None:
        """Push the private branch, and nothing else, to `url` (GitCommandError)."""
        transport.push(self.path, url, url, PRIVATE_REF)

    def collect_garbage(self) -> None:
        """Let git pack the private repository's loose objects when there are many
        (pygit2 never packs; `sync` calls this)."""
        if self.exists():
            transport.collect_garbage(self.path)


def _walk(
    repo: pygit2.Repository, tree: pygit2.Tree, prefix: str = ""
) -> Iterator[tuple[str, pygit2.Blob]]:
    for entry in tree:
        obj = repo[entry.id]
        if isinstance(obj, pygit2.Tree):
            yield from _walk(repo, obj, f"{prefix}{entry.name}/")
        elif isinstance(obj, pygit2.Blob):
            yield f"{prefix}{entry.name}", obj
