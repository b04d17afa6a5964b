"""Shared fixtures: an isolated HOME and git identity, real repositories in tmp_path."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pygit2
import pytest
from click.testing import CliRunner, Result

from jobshare_sync.cli import cli
from jobshare_sync.core import schema

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
    # no phone region from the machine's locale: tests that want one set it
    monkeypatch.delenv("LC_ALL", raising=False)
    monkeypatch.delenv("LC_TELEPHONE", raising=False)
    monkeypatch.setenv("LANG", "C.UTF-8")
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


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (right now)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def git_daemon(tmp_path: Path) -> Iterator[Callable[[Path], str]]:
    """A `git daemon` on 127.0.0.1 serving every bare repository under tmp_path, pushes
    allowed; yields a function turning a bare repository's path into its git:// URL."""
    base = tmp_path.resolve()
    port = free_port()
    daemon = subprocess.Popen(
        [
            "git",
            "daemon",
            "--reuseaddr",
            "--informative-errors",
            f"--base-path={base}",
            "--export-all",
            "--enable=receive-pack",
            "--listen=127.0.0.1",
            f"--port={port}",
            str(base),
        ],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if daemon.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"git daemon did not start on port {port}") from None
                time.sleep(0.02)

        def url(bare: Path) -> str:
            return f"git://127.0.0.1:{port}/{bare.resolve().relative_to(base).as_posix()}"

        yield url
    finally:
        daemon.terminate()
        try:
            daemon.wait(timeout=5)
        except subprocess.TimeoutExpired:
            daemon.kill()
            daemon.wait()


def publish(work: Path, bare: Path | None = None) -> Path:
    """Push a working repository's main branch to a bare repository (created on first use,
    default `<work>.git`), as a freelancer publishes for friends; returns the bare path."""
    bare = bare if bare is not None else work.with_name(work.name + ".git")
    if not bare.exists():
        git("init", "-q", "--bare", str(bare), cwd=work.parent)
    git("push", "-q", "--force", str(bare), "main:main", cwd=work)
    return bare


def set_owner(repo: Path, handle: str) -> None:
    """Rewrite jobshare.yaml's owner and commit it with plain git, on purpose: this
    clone's recorded owner follows (as 'jobshare owner --accept' does)."""
    owner = {"handle": handle, "name": handle.title(), "email": f"{handle}@example.com"}
    (repo / "jobshare.yaml").write_bytes(schema.dump_config({"owner": owner, "format": 1}))
    git("commit", "-qam", f"I am {handle}", cwd=repo)
    git("config", "jobshare.owner", handle, cwd=repo)


def clone_friend(source: Path, dest: Path, handle: str) -> Path:
    """A friend who started from a copy of `source`: a git clone with its own owner."""
    git("clone", "-q", str(source), str(dest), cwd=source.parent)
    git("remote", "remove", "origin", cwd=dest)
    set_owner(dest, handle)
    return dest


# The first card of examples/import/iphone-3.0.vcf, as read (tests of cards and of import)
DANA_FROM_IPHONE: dict[str, Any] = {
    "name": "Dana Okafor",
    "organization": "Northbridge Talent",
    "role": "Senior tech recruiter",
    "emails": ["dana@northbridge-talent.example", "invoices@northbridge-talent.example"],
    "phones": ["+44 7700 900456", "+44 20 7946 0456"],
    "website": "https://northbridge-talent.example",
    "links": [
        "https://www.linkedin.com/in/dana-okafor-4b2a1",
        "https://www.xing.com/profile/Dana_Okafor",
    ],
    "address": {
        "extended": "Suite 4",
        "street": "14 Fenwick Lane",
        "locality": "Leeds",
        "region": "West Yorkshire",
        "postal_code": "LS1 4AP",
        "country": "United Kingdom",
    },
    "tags": ["Recruiters", "fintech", "remote"],
    "notes": (
        "Prefers email, never LinkedIn messages.\nRate card: £600/day; 5% off for six "
        "months or more.\nAsk about the Leeds office, not Manchester.\n"
    ),
}
