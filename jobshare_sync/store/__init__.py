"""The git layer: the only code that imports pygit2 or runs git (DESIGN section 9).

It hands plain values upward: object ids as hex strings, commits as `Commit`, trees
by their id, records as dicts.

`Store` is one freelancer's repository, composed of its parts:

    read.Reader        commits, merge bases, trees, blobs and the records in them
    write.Writer       blobs, trees, commits and refs, each change through the journal
    journal.Journal    the journal, the lock, crash recovery, state files
    worktree.Worktree  jobshare.yaml, scanning the record folders, updating files and index
    gitconfig.GitConfig  git config, remotes and attributes
    transport          fetch and push through the system git

Callers use the Store's methods, which keep the names they had before the parts
were split out; each is documented where it is defined.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Sequence
from pathlib import Path

import pygit2

from ..core.records import FOLDERS
from ..errors import LockError, NotARepositoryError, RepositoryStateError
from . import transport
from .gitconfig import GitConfig
from .journal import (
    JOURNAL,
    KEPT_DELETIONS,
    MERGE_STATE,
    TEMP_SUFFIX,
    Journal,
    checkpoint,
    is_temp_file,
    write_atomically,
)
from .private import PRIVATE_REF, PrivateRepository
from .read import GITKEEP, Commit, Reader, Signature, Skipped, blob_id
from .worktree import CONFIG_FILE, StatKey, Worktree, git_unmerged
from .write import FileContent, Writer

__all__ = [
    "CONFIG_FILE",
    "GITKEEP",
    "JOURNAL",
    "KEPT_DELETIONS",
    "MERGE_STATE",
    "PRIVATE_REF",
    "TEMP_SUFFIX",
    "Commit",
    "FileContent",
    "Signature",
    "Skipped",
    "StatKey",
    "Store",
    "blob_id",
    "checkpoint",
    "is_temp_file",
    "write_atomically",
]


class Store:
    """One freelancer's repository: records in git, read and written through pygit2.

    Made of parts (see the module's docstring), which it hands the pygit2 repository;
    nothing outside this package uses that repository or any pygit2 object.
    """

    def __init__(self, repo: pygit2.Repository) -> None:
        if repo.is_bare or repo.workdir is None:
            raise RepositoryStateError(
                f"{repo.path} is a bare repository: jobshare needs a working folder; clone it first"
            )
        self._repo = repo
        self.root = Path(repo.workdir)
        self.git_dir = Path(repo.path)
        self.reader = reader = Reader(repo)
        self.journal = journal = Journal(self.git_dir)
        self.state_dir = journal.state_dir
        self.worktree = worktree = Worktree(repo, self.root, self.git_dir, reader)
        self.writer = writer = Writer(repo, reader, worktree, journal)
        self.settings = settings = GitConfig(repo)
        self.private = PrivateRepository(self.state_dir, writer.signature)

        # the parts' methods, under the names callers know
        self.current_branch = reader.current_branch
        self.branch_ref = reader.branch_ref
        self.ref_target = reader.ref_target
        self.head_commit = reader.head_commit
        self.head_tree = reader.head_tree
        self.commit = reader.commit
        self.commit_of = reader.commit_of
        self.resolve_commit = reader.resolve_commit
        self.merge_bases = reader.merge_bases
        self.merge_base = reader.merge_base
        self.descendant_of = reader.descendant_of
        self.is_shallow = reader.is_shallow
        self.walk_commits = reader.walk_commits
        self.count_commits = reader.count_commits
        self.count_record_commits = reader.count_record_commits
        self.changed_entries = reader.changed_entries
        self.blob_id_at = reader.blob_id_at
        self.read_blob = reader.read_blob
        self.load = reader.load
        self.load_valid = reader.load_valid
        self.read_record = reader.read_record
        self.hash_bytes = reader.hash_bytes

        self.config = worktree.config
        self.worktree_files = worktree.files
        self.worktree_entries = worktree.entries
        self.worktree_stats = worktree.stats

        self.locked = writer.locked
        self.merge_in_progress = writer.merge_in_progress
        self.commit_files = writer.commit_files
        self.delete_ref = writer.delete_ref

        self.git_config = settings.get
        self.set_git_config = settings.set
        self.unset_git_config = settings.unset
        self.git_config_names = settings.names
        self.remote_urls = settings.remote_urls
        self.remote_places = settings.remote_places
        self.add_remote = settings.add_remote
        self.remove_remote = settings.remove_remote
        self.attribute = settings.attribute

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
            raise _open_error(found, e) from None
        if need_config and not (store.root / CONFIG_FILE).is_file():
            raise NotARepositoryError(
                f"{store.root} is a git repository but not a jobshare one (no {CONFIG_FILE}): "
                f"run 'jobshare init {store.root}' to adopt it"
            )
        if need_config:
            store.check_record_folders()
        if store.journal_path.exists():
            # A command killed half way left it: taking the lock finishes it. A command
            # still writing holds the lock and finishes it itself; a reader need not wait.
            with contextlib.suppress(LockError), store.locked(timeout=0):
                pass
        return store

    def check_record_folders(self) -> None:
        """Refuse a record folder that is a symbolic link (plain git writes one when a
        merged branch holds a link there) or no folder: following it would read and
        write records outside the repository. Raises RepositoryStateError."""
        for folder in FOLDERS:
            path = self.root / folder
            if path.is_symlink() or (path.exists() and not path.is_dir()):
                what = "a symbolic link" if path.is_symlink() else "not a folder"
                raise RepositoryStateError(
                    f"{folder}/ is {what}, which jobshare never follows: put the folder back "
                    f"(for example 'git rm {folder} && git checkout HEAD~1 -- {folder}/')"
                )

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
                try:
                    return cls(pygit2.Repository(found)), False
                except pygit2.GitError as e:
                    raise _open_error(found, e) from None
        try:
            root.mkdir(parents=True, exist_ok=True)
            return cls(pygit2.init_repository(str(root), initial_head="main")), True
        except (OSError, pygit2.GitError) as e:
            reason = e.strerror if isinstance(e, OSError) and e.strerror else e
            raise NotARepositoryError(f"cannot create a repository in {root}: {reason}") from None

    # --- what needs more than one part -------------------------------------------------

    @property
    def handle(self) -> str:
        """The owner's handle, from the working tree's jobshare.yaml."""
        return str(self.config()["owner"]["handle"])

    @property
    def loads(self) -> int:
        """Records parsed by this store: tests check that work follows the change."""
        return self.reader.loads

    @loads.setter
    def loads(self, value: int) -> None:
        self.reader.loads = value

    @property
    def journal_path(self) -> Path:
        return self.journal.path

    def worktree_changes(self) -> dict[str, str]:
        """Record paths whose working-tree or staged content differs from HEAD: path ->
        added, modified or removed. Under the lock, a killed writer's temporary files go."""
        return self.worktree.changes(remove_debris=self.journal.holds_lock)

    def git_merge_paths(self) -> list[str] | None:
        """A merge by git in progress: the paths its index holds unmerged (stages 1-3),
        possibly none (`.git/MERGE_HEAD` alone); None when git is not merging."""
        unmerged = git_unmerged(self.root)
        if unmerged is None:  # no git to ask: libgit2 reads the index
            index = self._repo.index
            index.read(False)
            conflicts = index.conflicts or ()
            unmerged = {e.path for entries in conflicts for e in entries if e is not None}
        paths = sorted(unmerged)
        if paths or (self.git_dir / "MERGE_HEAD").exists():
            return paths
        return None

    def fast_forward(self, new: str) -> None:
        """Move the branch forward to the commit `new`, a descendant of HEAD (or onto an
        unborn branch), bringing every file that differs into the working tree and the
        index, through the journal like any commit. The caller holds the lock."""
        head = self.head_commit()
        target = self._repo[new].peel(pygit2.Commit)
        if head is None:
            paths = {p for p, _ in _tree_files(target.tree)}
        else:
            old_tree = self._repo[head.tree].peel(pygit2.Tree)
            diff = old_tree.diff_to_tree(target.tree)
            paths = {d.old_file.path for d in diff.deltas} | {d.new_file.path for d in diff.deltas}
        old = head.id if head is not None else None
        self.writer.finish_commit(self.branch_ref(), old, new, sorted(paths))

    def fetch(
        self, source: str, branch: str, ref: str, *, show_progress: bool = False
    ) -> str | None:
        """Fetch a branch into a ref through git: None, or why it failed (transport.fetch).
        Given up after `jobshare.fetchTimeout` seconds (git config) without progress."""
        return transport.fetch(
            self.root,
            source,
            branch,
            ref,
            show_progress=show_progress,
            timeout=transport.stall_timeout(self.git_config("jobshare.fetchTimeout")),
            objects=self.git_dir / "objects",
        )

    def fetch_many(
        self, wanted: Sequence[tuple[str, str, str]], *, show_progress: bool = False
    ) -> list[str | None]:
        """Fetch several (source, branch, ref) at once through a bounded pool of git
        processes: per entry, in order, None or why it failed (transport.fetch_many)."""
        return transport.fetch_many(
            self.root,
            wanted,
            show_progress=show_progress,
            timeout=transport.stall_timeout(self.git_config("jobshare.fetchTimeout")),
            objects=self.git_dir / "objects",
        )

    def expanded_url(self, url: str) -> str:
        """`url` with git's `insteadOf` rules applied, as git would use it here."""
        return transport.expanded_url(self.root, url)

    def push(self, remote: str, url: str, *, show_progress: bool = False) -> None:
        """Push the checked-out branch to `remote` through git (transport.push)."""
        transport.push(self.root, remote, url, self.branch_ref(), show_progress=show_progress)

    def private_exposure(self) -> list[str]:
        """What of the private side the main repository holds (DESIGN section 7c): the
        ids of private commits, their top trees and note blobs found in its object
        database (a private branch fetched or pushed into it by hand). Empty when nothing private can leave by
        a push of this repository."""
        odb = self._repo.odb
        found = sorted(oid for oid in self.private.exposable_ids() if pygit2.Oid(hex=oid) in odb)
        return found

    @staticmethod
    def git_version() -> str | None:
        return transport.git_version()


def _tree_files(tree: pygit2.Tree, prefix: str = "") -> list[tuple[str, str]]:
    """Every file of a tree: (path, blob id)."""
    found: list[tuple[str, str]] = []
    for entry in tree:
        path = f"{prefix}{entry.name}"
        if entry.type == pygit2.GIT_OBJECT_TREE:
            found += _tree_files(entry.peel(pygit2.Tree), path + "/")
        else:
            found.append((path, str(entry.id)))
    return found


def _open_error(found: str, error: pygit2.GitError) -> NotARepositoryError:
    """Why the repository git found at `found` cannot be opened, in one line: for a
    repository owned by another user (git's safe.directory check, git-config(1)),
    git's own remedy."""
    if "not owned by current user" in str(error):
        top = Path(found).resolve()
        top = top.parent if top.name == ".git" else top
        return NotARepositoryError(
            f"{top} is owned by another user, so git refuses to work in it (its "
            "safe.directory check); if you trust it, run "
            f"'git config --global --add safe.directory {top}'"
        )
    return NotARepositoryError(f"{found}: cannot open the repository: {error}")
