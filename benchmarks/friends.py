"""Fetching many friends: `jobshare fetch` of M friends at once against the slowest of
them fetched alone (target: at most 1.5×), over `git daemon` on 127.0.0.1.

Run through `python benchmarks/run.py --fetch-friends 30`. The user's repository is the
pull benchmark's (generate.py, N records); each friend is a branch of one served
repository: the common base plus one commit that adds K contacts of their own and
claims their own handle. Every timed fetch starts from a fresh clone, so each one
transfers those objects. With --fetch-latency, each friend's connection goes through a
proxy in this process that holds every chunk for half the round-trip time each way, as
a friend across the internet would; without it, localhost leaves only CPU to share,
and two cores run at most two fetches' work at a time.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import generate

from jobshare_sync.core import schema

if TYPE_CHECKING:
    from run import Repos, Runner, Timing


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_for(port: int, proc: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            if (proc is not None and proc.poll() is not None) or time.monotonic() > deadline:
                raise RuntimeError(f"nothing listens on port {port}") from None
            time.sleep(0.02)


@contextlib.contextmanager
def git_daemon(base: Path, env: dict[str, str]) -> Iterator[int]:
    """`git daemon` serving every repository under `base` on 127.0.0.1: its port."""
    port = _free_port()
    daemon = subprocess.Popen(
        ["git", "daemon", "--reuseaddr", f"--base-path={base}", "--export-all"]
        + ["--listen=127.0.0.1", f"--port={port}", str(base)],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for(port, daemon)
        yield port
    finally:
        daemon.terminate()
        daemon.wait()


@contextlib.contextmanager
def delayed(target: int, rtt: float) -> Iterator[int]:
    """A TCP proxy on 127.0.0.1 to `target` that holds each chunk rtt/2 seconds in each
    direction, in order: its port (the target's own when rtt is 0)."""
    if rtt <= 0:
        yield target
        return
    loop = asyncio.new_event_loop()

    async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

        async def send() -> None:
            while True:
                due, chunk = await queue.get()
                await asyncio.sleep(max(0.0, due - loop.time()))
                if not chunk:
                    with contextlib.suppress(OSError):
                        writer.write_eof()
                    return
                writer.write(chunk)
                await writer.drain()

        sender = loop.create_task(send())
        while True:
            chunk = await reader.read(65536)
            await queue.put((loop.time() + rtt / 2, chunk))
            if not chunk:
                break
        await sender

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", target)
        try:
            await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
        except OSError:
            pass
        finally:
            writer.close()
            up_writer.close()

    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    start = asyncio.start_server(handle, "127.0.0.1", 0)
    server = asyncio.run_coroutine_threadsafe(start, loop).result(10)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:

        async def close() -> None:
            server.close()
            await server.wait_closed()

        asyncio.run_coroutine_threadsafe(close(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join()


def build_friends(runner: Runner, repos: Repos, root: Path, friends: int, k: int) -> Path:
    """A bare repository with a branch per friend (friend01, friend02, ...), each the
    base plus one commit adding K contacts and claiming the handle of that name."""
    served = root / f"friends-m{friends}-k{k}.git"
    if (served / "built").exists():
        return served
    runner.quiet(["rm", "-rf", str(served)])
    runner.quiet(
        ["git", "clone", "-q", "--bare", "--single-branch", "--branch", "main"]
        + [str(repos.source), str(served)]
    )
    rng = random.Random(11)
    for f in range(1, friends + 1):
        handle = f"friend{f:02d}"
        files: dict[str, bytes | None] = {
            "jobshare.yaml": schema.dump_config(
                {"owner": {"handle": handle, "name": handle.title()}, "format": 1}
            )
        }
        for j in range(k):
            c = generate.contact(1_000_000 + f * k + j, rng, handle)
            files[f"contacts/{c['id']}.yaml"] = schema.dump_record("contacts", c)
        generate.fast_import(served, handle, files, f"{handle}'s contacts", repos.base)
    (served / "built").write_text("")
    return served


def _fresh(runner: Runner, repos: Repos, work: Path, url: str, names: list[str]) -> None:
    """A fresh clone of the user's repository at `work`, with these friends added as
    `jobshare friend add NAME URL --branch NAME` adds them (its git config, written at
    once: thirty `friend add` commands would take longer than the fetch measured)."""
    from run import clone

    clone(runner, repos, work)
    config = "".join(
        f'[remote "{n}"]\n\turl = {url}\n\tfetch = +refs/heads/{n}:refs/remotes/{n}/{n}\n'
        f'\ttagopt = --no-tags\n[jobshare-friend "{n}"]\n\tbranch = {n}\n'
        for n in names
    )
    with (work / ".git" / "config").open("a") as f:
        f.write(config)


def measure(
    runner: Runner,
    repos: Repos,
    scratch: Path,
    *,
    friends: int,
    k: int,
    runs: int,
    latencies: list[float],
) -> list[dict[str, Any]]:
    """Per round-trip time: the slowest friend fetched alone, every friend fetched by
    one `jobshare fetch`, and their sum one by one (rows of seconds)."""
    from run import Timing, remove

    served = build_friends(runner, repos, scratch.parent, friends, k)
    names = [f"friend{f:02d}" for f in range(1, friends + 1)]
    rows: list[dict[str, Any]] = []
    with git_daemon(served.parent, runner.env) as daemon_port:
        for rtt in latencies:
            with delayed(daemon_port, rtt) as port:
                url = f"git://127.0.0.1:{port}/{served.name}"
                work = scratch / "fetch-friends"

                alone = []
                for name in names:
                    _fresh(runner, repos, work, url, [name])
                    alone.append(runner.js("fetch", name, cwd=work).seconds)
                together = []
                for _ in range(runs):
                    _fresh(runner, repos, work, url, names)
                    together.append(runner.js("fetch", cwd=work))
                remove(work)
            every: Timing = Timing.of(together)
            rows.append(
                {
                    "rtt": rtt,
                    "friends": friends,
                    "k": k,
                    "slowest_alone": max(alone),
                    "median_alone": sorted(alone)[len(alone) // 2],
                    "sum_alone": sum(alone),
                    "together": every.seconds,
                    "together_runs": every.runs,
                    "ratio": every.seconds / max(alone),
                }
            )
    return rows


def table(rows: list[dict[str, Any]]) -> str:
    header = "| round trip | friends | slowest alone | all, one by one | all at once | ratio |"
    lines = [header, "|---|---|---|---|---|---|"]
    for r in rows:
        rtt = f"{r['rtt'] * 1000:.0f} ms" if r["rtt"] else "0 (localhost)"
        lines.append(
            f"| {rtt} | {r['friends']} | {r['slowest_alone']:.3f} s | {r['sum_alone']:.3f} s | "
            f"{r['together']:.3f} s | {r['ratio']:.2f} |"
        )
    return "\n".join(lines)
