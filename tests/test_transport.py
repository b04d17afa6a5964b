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


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A listener on 127.0.0.1 that accepts every connection and never says a word."""
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            held.append(conn)

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    thread.join()
    for conn in held:
        conn.close()
    server.close()


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
