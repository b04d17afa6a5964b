"""jobshare's own state files holding valid JSON of the wrong shape: one line, never a
traceback, and `merge --abort` still clears a damaged merge state (conflicts.py,
store/journal.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import jobshare, make_repo

SHAPES = ["[]", '{"friend": 5}', '{"friend": "bob", "conflicts": [1]}', '"x"', "5", "not json"]


@pytest.mark.parametrize("content", SHAPES)
def test_a_merge_state_of_the_wrong_shape_gives_one_line(tmp_path: Path, content: str) -> None:
    repo = make_repo(tmp_path / "alice")
    state = repo / ".git/jobshare/merge.json"
    state.parent.mkdir(parents=True, exist_ok=True)
    state.write_text(content)
    for args in (["status"], ["conflicts"], ["merge", "--continue"], ["resolve", "x", "--ours"]):
        result = jobshare(*args, cwd=repo)
        assert result.exit_code == 8, (args, result.output)
        assert result.stderr.strip().endswith(
            "is damaged: run 'jobshare merge --abort' and pull again"
        )
        assert "Traceback" not in result.output
    aborted = jobshare("merge", "--abort", cwd=repo)
    assert aborted.exit_code == 0, aborted.output
    assert not state.exists()
    assert jobshare("status", cwd=repo).exit_code == 0


@pytest.mark.parametrize(
    "content", ["[]", '{"a": [1]}', "5", '{"ref": "refs/heads/main", "old": 1, "new": 2}']
)
def test_a_journal_of_the_wrong_shape_is_discarded(tmp_path: Path, content: str) -> None:
    repo = make_repo(tmp_path / "alice")
    journal = repo / ".git/jobshare/journal.json"
    journal.parent.mkdir(parents=True, exist_ok=True)
    journal.write_text(content)
    result = jobshare("add", "contact", "--name", "Acme", "--kind", "agency", cwd=repo)
    assert result.exit_code == 0, result.output
    assert not journal.exists()


@pytest.mark.parametrize(
    "content",
    [*SHAPES, '{"bob": {"tip": 5, "records": []}}', '{"bob": {"tip": "x", "records": {"a": 1}}}'],
)
def test_kept_deletion_files_of_the_wrong_shape_are_ignored(tmp_path: Path, content: str) -> None:
    """The kept deletions and the cache of their searches: a damaged one is read as none
    (the cache costs a search again), and pulls go on."""
    from conftest import clone_friend

    repo = make_repo(tmp_path / "alice")
    bob = clone_friend(repo, tmp_path / "bob", "bob")
    assert jobshare("friend", "add", "bob", str(bob), cwd=repo).exit_code == 0
    for name in ("kept-deletions.json", "kept-checked.json"):
        (repo / ".git/jobshare" / name).write_text(content)
    for args in (["pull"], ["status"], ["incoming", "bob"], ["pull"]):
        result = jobshare(*args, cwd=repo)
        assert result.exit_code == 0, (args, result.output)
        assert "Traceback" not in result.output
