"""The working tree's changes against HEAD and the paths git's merge left unmerged
(store/worktree.py): asked of git, and of libgit2 when git cannot answer; both
readings give the same answers."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from conftest import git, make_repo
from test_sync import commit, contact, edit, write

from jobshare_sync.store import Store


def every_kind_of_change(repo: Path) -> None:
    """A conflict left by git's merge, and each other state a record file can be in."""
    for name in ("conflict", "edited", "gone", "staged-gone", "staged-then-gone", "left"):
        write(repo, f"contacts/{name}", contact(name))
    commit(repo, "base")
    git("checkout", "-qb", "other", cwd=repo)
    edit(repo, "contacts/conflict", location="Leeds")
    commit(repo, "theirs")
    git("checkout", "-q", "main", cwd=repo)
    edit(repo, "contacts/conflict", location="York")
    commit(repo, "ours")
    merged = subprocess.run(["git", "merge", "-q", "other"], cwd=repo, capture_output=True)
    assert merged.returncode == 1 and b"CONFLICT" in merged.stdout, merged
    edit(repo, "contacts/edited", location="Bath")
    (repo / "contacts/gone.yaml").unlink()
    git("rm", "-q", "contacts/staged-gone.yaml", cwd=repo)
    edit(repo, "contacts/staged-then-gone", location="Ely")
    git("add", "contacts/staged-then-gone.yaml", cwd=repo)
    (repo / "contacts/staged-then-gone.yaml").unlink()
    write(repo, "contacts/untracked", contact("untracked"))
    write(repo, "contacts/staged-new", contact("staged-new"))
    git("add", "contacts/staged-new.yaml", cwd=repo)
    write(repo, "contacts/staged-new-then-gone", contact("staged-new-then-gone"))
    git("add", "contacts/staged-new-then-gone.yaml", cwd=repo)
    (repo / "contacts/staged-new-then-gone.yaml").unlink()
    (repo / "contacts/.left.yaml.jobshare-tmp").write_text("debris\n")
    (repo / "notes.txt").write_text("not a record\n")


EXPECTED = {
    "contacts/conflict.yaml": "modified",
    "contacts/edited.yaml": "modified",
    "contacts/gone.yaml": "removed",
    "contacts/staged-gone.yaml": "removed",
    "contacts/staged-then-gone.yaml": "removed",
    "contacts/untracked.yaml": "added",
    "contacts/staged-new.yaml": "added",
    "contacts/staged-new-then-gone.yaml": "added",
}


def test_git_status_and_libgit2_read_the_same_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = make_repo(tmp_path / "alice")
    every_kind_of_change(repo)
    store = Store.open(repo)
    by_git = store.worktree_changes(), store.git_merge_paths()
    monkeypatch.setenv("PATH", str(tmp_path / "no-programs-here"))  # no git to ask
    store = Store.open(repo)
    by_libgit2 = store.worktree_changes(), store.git_merge_paths()
    assert by_git == by_libgit2 == (EXPECTED, ["contacts/conflict.yaml"])
    assert (repo / "contacts/.left.yaml.jobshare-tmp").exists()  # only the lock's holder removes
