"""Fetch never hangs: a friend's server that accepts the connection and never answers
is given up on after `jobshare.fetchTimeout` seconds without progress, with one line,
and the other friends are still fetched (store/transport.py)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import clone_friend, git, jobshare, make_repo
from test_sync import ok

from jobshare_sync.store import transport


class Mute:
    """A listener on 127.0.0.1 that accepts every connection and never says a word; it
    counts the most connections open at one time (a closed one reads as end of file)."""

    def __init__(self) -> None:
        self.server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(16)
        self.port: int = self.server.getsockname()[1]
        self.held: list[socket.socket] = []
        self.closed: set[socket.socket] = set()
        self.most_open = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _still_open(self, conn: socket.socket) -> bool:
        if conn in self.closed:
            return False
        try:
            while conn.recv(4096, socket.MSG_DONTWAIT):
                pass  # the client's request, never answered
        except BlockingIOError:
            return True
        except OSError:
            pass
        self.closed.add(conn)
        return False

    def _accept(self) -> None:
        self.server.settimeout(0.2)
        while not self.stop.is_set():
            try:
                conn, _ = self.server.accept()
            except OSError:
                continue
            self.held.append(conn)
            self.most_open = max(self.most_open, sum(map(self._still_open, self.held)))

    def close(self) -> None:
        self.stop.set()
        self.thread.join()
        for conn in self.held:
            conn.close()
        self.server.close()


@pytest.fixture
def mute() -> Iterator[Mute]:
    server = Mute()
    yield server
    server.close()


@pytest.fixture
def silent_server(mute: Mute) -> int:
    """The port of a listener that accepts every connection and never says a word."""
    return mute.port


@pytest.mark.parametrize("scheme", ["git", "http"])
def test_a_silent_server_is_given_up_and_others_are_fetched(
    tmp_path: Path, silent_server: int, scheme: str
) -> None:
    alice = make_repo(tmp_path / "alice")
    bob = clone_friend(alice, tmp_path / "bob", "bob")
    git("config", "jobshare.fetchTimeout", "2", cwd=alice)
    ok("friend", "add", "bob", str(bob), cwd=alice)
    ok("friend", "add", "mute", f"{scheme}://127.0.0.1:{silent_server}/repo", cwd=alice)
    result = jobshare("fetch", cwd=alice)
    assert result.exit_code != 0
    lines = [x for x in result.stderr.splitlines() if "cannot fetch friend 'mute'" in x]
    assert len(lines) == 1, result.output
    [line] = lines
    assert "no answer for 2 s: gave up" in line or "Operation too slow" in line, line
    assert "pinned bob's handle as 'bob'" in result.output


def test_friends_are_fetched_at_once_and_each_silent_one_is_given_up(
    tmp_path: Path, mute: Mute
) -> None:
    alice = make_repo(tmp_path / "alice")
    bob = clone_friend(alice, tmp_path / "bob", "bob")
    git("config", "jobshare.fetchTimeout", "2", cwd=alice)
    ok("friend", "add", "bob", str(bob), cwd=alice)
    for name in ("mute1", "mute2", "mute3"):
        ok("friend", "add", name, f"git://127.0.0.1:{mute.port}/{name}", cwd=alice)
    result = jobshare("fetch", cwd=alice)
    assert result.exit_code == 11, result.output
    given_up = [x for x in result.stderr.splitlines() if "no answer for 2 s: gave up" in x]
    assert [x.split("'")[1] for x in given_up] == ["mute1", "mute2", "mute3"]
    assert "pinned bob's handle as 'bob'" in result.output
    assert mute.most_open == 3  # one at a time, each would be closed before the next


def test_a_pool_of_fetches_runs_at_most_jobs_git_processes(tmp_path: Path, mute: Mute) -> None:
    alice = make_repo(tmp_path / "alice")
    wanted = [(f"git://127.0.0.1:{mute.port}/r{i}", "main", f"refs/x/r{i}") for i in range(4)]
    failures = transport.fetch_many(alice, wanted, timeout=2, jobs=2)
    assert failures == ["no answer for 2 s: gave up (jobshare.fetchTimeout sets the limit)"] * 4
    assert len(mute.held) == 4 and mute.most_open == 2
    assert git("for-each-ref", "refs/x", cwd=alice) == ""


@pytest.mark.parametrize(
    ("configured", "seconds"),
    [(None, 60.0), ("5", 5.0), ("0.5", 0.5), ("0", 60.0), ("-3", 60.0), ("soon", 60.0)],
)
def test_stall_timeout_table(configured: str | None, seconds: float) -> None:
    assert transport.stall_timeout(configured) == seconds


def test_a_merge_message_stays_short_however_much_is_skipped(tmp_path: Path) -> None:
    from test_sync import contact, write

    alice = make_repo(tmp_path / "alice")
    bob = clone_friend(alice, tmp_path / "bob", "bob")
    ok("friend", "add", "bob", str(bob), cwd=alice)
    for i in range(60):
        write(bob, f"contacts/bad-{i:02}", contact(f"bad-{i:02}", "bob", kind="x" * 20_000))
    write(bob, "contacts/good", contact("good", "bob"))
    git("add", "-A", cwd=bob)
    git("commit", "-qm", "bad ones", cwd=bob)
    result = jobshare("pull", "bob", cwd=alice)
    assert result.exit_code == 0, result.output
    message = git("log", "-1", "--format=%B", cwd=alice)
    assert len(message) < 30_000
    assert "- and 10 more (see 'jobshare pull --json')" in message
    assert message.count("- skipped contacts/bad-") == 50
    assert all(len(line) < 700 for line in result.output.splitlines())


def test_a_record_folder_replaced_by_a_link_is_refused_by_every_command(tmp_path: Path) -> None:
    import shutil

    from test_sync import contact, pair, write

    alice, bob = pair(tmp_path)
    outside = tmp_path / "outside"
    write(outside, "contacts/x", contact("x"))
    git("rm", "-rq", "--ignore-unmatch", "contacts", cwd=alice)
    shutil.rmtree(alice / "contacts", ignore_errors=True)
    (alice / "contacts").symlink_to(outside / "contacts")
    git("add", "-A", cwd=alice)
    git("commit", "-qm", "a link, by plain git", cwd=alice)
    commands = [
        ["list"],
        ["show", "x"],
        ["validate"],
        ["status"],
        ["commit"],
        ["pull", "bob"],
        ["add", "contact", "--name", "New One", "--kind", "agency"],
    ]
    for args in commands:
        result = jobshare(*args, cwd=alice)
        assert result.exit_code == 14, (args, result.output)
        assert result.stderr.strip().count("\n") == 0
        assert "contacts/ is a symbolic link, which jobshare never follows" in result.stderr
    assert [p.name for p in (outside / "contacts").iterdir()] == ["x.yaml"]
