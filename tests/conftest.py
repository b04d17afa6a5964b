"""Shared fixtures: an isolated HOME and git identity, real repositories in tmp_path."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pygit2
import pytest
from click.testing import CliRunner, Result

from jobshare_sync.cli import cli

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"


@pytest.fixture(autouse=True)
def isolated_home(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Path]:
    """A fresh HOME with a git identity, so no test reads or writes the user's config."""
    home = tmp_path_factory.mktemp("home")
    (home / ".gitconfig").write_text(
        "[user]\n\tname = Test Person\n\temail = test@example.com\n"
        '[init]\n\tdefaultBranch = main\n[protocol "file"]\n\tallow = always\n'
    )
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(home / ".gitconfig"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("JOBSHARE_LOCK_TIMEOUT", "2")
    monkeypatch.delenv("JOBSHARE_KILL_AT", raising=False)
    monkeypatch.delenv("JOBSHARE_NOW", raising=False)
    monkeypatch.delenv("EDITOR", raising=False)
    monkeypatch.delenv("VISUAL", raising=False)
    for var in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE"):
        monkeypatch.delenv(var, raising=False)
    old = pygit2.settings.search_path[pygit2.enums.ConfigLevel.GLOBAL]
    pygit2.settings.search_path[pygit2.enums.ConfigLevel.GLOBAL] = str(home)
    yield home
    pygit2.settings.search_path[pygit2.enums.ConfigLevel.GLOBAL] = old


def jobshare(*args: str, cwd: Path | None = None, input: str | None = None) -> Result:
    """Run the CLI in-process (click's CliRunner), with -C cwd when given."""
    argv = (["-C", str(cwd)] if cwd is not None else []) + list(args)
    return CliRunner().invoke(cli, argv, input=input, catch_exceptions=False)


def git(*args: str, cwd: Path) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, text=True
    ).stdout


def make_repo(path: Path, handle: str = "alice", name: str | None = None) -> Path:
    result = jobshare(
        "init",
        str(path),
        "--handle",
        handle,
        "--name",
        name or handle.title(),
        "--email",
        f"{handle}@example.com",
    )
    assert result.exit_code == 0, result.output
    return path


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """An initialised jobshare repository owned by 'alice'."""
    return make_repo(tmp_path / "alice")
