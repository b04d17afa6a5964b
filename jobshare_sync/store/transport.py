"""Fetch and push through the system git, and git's own reasons when they fail.

`git` honours ~/.ssh/config, credential helpers and agents, which pygit2's transports
do not (DESIGN section 10). It runs with prompts off, ssh in batch mode and LC_ALL=C,
so nothing hangs on a prompt and its messages can be read.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections.abc import Sequence
from pathlib import Path

from ..core.urls import redact_text, redacted
from ..errors import GitCommandError

# git checks every object a friend sends, as with `fetch.fsckObjects`: a tree naming `..`,
# `.git` or a path with `/` never enters, so no merge can make it part of our history (where
# `git fsck` and hosts that check pushes would refuse it for good). `fetch.fsck.<msg-id>`
# settings still apply, for a friend whose history has an old and harmless quirk.
FETCH = ["-c", "fetch.fsckObjects=true", "fetch", "--no-tags", "--no-recurse-submodules"]
FETCH += ["--no-write-fetch-head"]

# git's generic trailer after the real reason ("'x' does not appear to be a git repository")
_GIT_BOILERPLATE = (
    "Could not read from remote repository.",
    "Please make sure you have the correct access rights",
    "and the repository exists.",
)


def git_env() -> dict[str, str]:
    """git's environment for network work: never a prompt, always plain English."""
    env = dict(os.environ)
    env["GIT_TERMINAL_PROMPT"] = "0"
    env["LC_ALL"] = "C"
    env["LANGUAGE"] = "C"
    env.setdefault("GIT_SSH_COMMAND", "ssh -o BatchMode=yes")
    env.pop("GIT_DIR", None)
    env.pop("GIT_WORK_TREE", None)
    return env


FETCH_TIMEOUT = 60.0  # seconds a fetch may go without progress before it is given up
FETCH_JOBS = 8  # git fetch processes at once when several branches are fetched


def stall_timeout(configured: str | None) -> float:
    """The seconds a fetch may go without progress: `jobshare.fetchTimeout` when it is
    a positive number, else FETCH_TIMEOUT."""
    try:
        value = float(configured) if configured is not None else FETCH_TIMEOUT
    except ValueError:
        return FETCH_TIMEOUT
    return value if 0 < value < 1e6 else FETCH_TIMEOUT


def _progress_mark(objects: Path) -> tuple[int, int]:
    """What grows while git receives objects: the bytes of the pack folder (a pack being
    indexed is written there) and the newest change among loose object folders."""
    size = newest = 0
    try:
        with os.scandir(objects / "pack") as entries:
            size = sum(e.stat().st_size for e in entries if e.is_file())
        with os.scandir(objects) as folders:
            newest = max((f.stat().st_mtime_ns for f in folders if len(f.name) == 2), default=0)
    except OSError:
        pass
    return size, newest


def _run_watched(
    root: Path,
    args: Sequence[str],
    show_progress: bool,
    timeout: float,
    objects: Path,
    cancel: threading.Event | None = None,
) -> subprocess.CompletedProcess[str] | None:
    """Run git, killing it (and the ssh or helper it started) once `timeout` seconds
    pass without an object arriving, or once `cancel` is set; None when it was given up."""
    try:
        proc = subprocess.Popen(
            ["git", *args],
            cwd=root,
            env=git_env(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=None if show_progress else subprocess.PIPE,
            text=True,
            start_new_session=True,  # its own process group: killed with its helpers
        )
    except FileNotFoundError:
        raise GitCommandError("git is not installed or not on PATH: install git first") from None
    mark, since = _progress_mark(objects), time.monotonic()
    try:
        while True:
            try:
                out, err = proc.communicate(timeout=0.5)
                return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)
            except subprocess.TimeoutExpired:
                pass
            now, seen = time.monotonic(), _progress_mark(objects)
            if seen != mark:
                mark, since = seen, now
            elif now - since > timeout or (cancel is not None and cancel.is_set()):
                _kill_group(proc)
                return None
    except BaseException:  # interrupted: git, in a session of its own, would go on
        _kill_group(proc)
        raise


def _kill_group(proc: subprocess.Popen[str]) -> None:
    """End a process and its group, and reap it."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except OSError:
        proc.kill()
    proc.communicate()


def run_git(
    root: Path, args: Sequence[str], *, show_progress: bool = False
) -> subprocess.CompletedProcess[str]:
    """Run git in the repository at `root`; stderr is passed through when showing progress.
    Raises GitCommandError when there is no git to run."""
    try:
        return subprocess.run(
            ["git", *args],
            cwd=root,
            env=git_env(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=None if show_progress else subprocess.PIPE,
            text=True,
            check=False,
        )
    except FileNotFoundError:
        raise GitCommandError("git is not installed or not on PATH: install git first") from None


def expanded_url(root: Path, url: str) -> str:
    """`url` as git would use it from the repository at `root`: its `url.<base>.insteadOf`
    rules applied (`git ls-remote --get-url`, which reads config and never connects)."""
    proc = run_git(root, ["ls-remote", "--get-url", "--", url])
    out = proc.stdout.strip()
    return out if proc.returncode == 0 and out and "\n" not in out else url


def remote_refs(root: Path, url: str) -> list[str] | None:
    """The names of the refs at `url` (`git ls-remote`), or None when it cannot be read."""
    proc = run_git(root, ["ls-remote", "--", url])
    if proc.returncode != 0:
        return None
    return [line.split("\t", 1)[1] for line in proc.stdout.splitlines() if "\t" in line]


def git_reason(proc: subprocess.CompletedProcess[str]) -> str:
    """git's own reason on one line: its messages without the generic trailer, a line
    ending in ':' joined with the next ("unable to connect to host: errno=...")."""
    reasons: list[str] = []
    for raw in (proc.stderr or "").splitlines():
        line = raw.strip().removeprefix("fatal: ").removeprefix("error: ")
        if not line or line in _GIT_BOILERPLATE or line.startswith("hint:"):
            continue
        if reasons and reasons[-1].endswith(":"):
            reasons[-1] += " " + line
        else:
            reasons.append(line)
    return "; ".join(reasons) or f"git exited with {proc.returncode}"


def _fetch_reason(reason: str, branch: str) -> str:
    if "couldn't find remote ref" in reason:
        return f"it has no branch '{branch}'"
    if "fsck error" in reason:
        return (
            f"git refused their branch, it holds malformed or unsafe objects ({reason}): "
            "nothing was fetched; ask them to repair their branch"
        )
    return reason


def _fetch_args(
    source: str, branch: str, ref: str, show_progress: bool, timeout: float
) -> list[str]:
    refspec = f"+refs/heads/{branch}:{ref}"
    seconds = max(1, int(timeout))
    speed = ["-c", "http.lowSpeedLimit=1", "-c", f"http.lowSpeedTime={seconds}"]
    return [*speed, *FETCH, "--progress" if show_progress else "--quiet", "--", source, refspec]


def _fetch_outcome(
    proc: subprocess.CompletedProcess[str] | None, branch: str, timeout: float
) -> str | None:
    if proc is None:
        seconds = max(1, int(timeout))
        return f"no answer for {seconds} s: gave up (jobshare.fetchTimeout sets the limit)"
    if proc.returncode == 0:
        return None
    if proc.stderr is None:  # shown to the user as it came
        return f"git exited with {proc.returncode}"
    return _fetch_reason(git_reason(proc), branch)


def fetch(
    root: Path,
    source: str,
    branch: str,
    ref: str,
    *,
    show_progress: bool = False,
    timeout: float = FETCH_TIMEOUT,
    objects: Path | None = None,
) -> str | None:
    """Fetch `branch` of `source` (a remote's name, or a URL) into the local ref `ref`,
    every object checked. None when it worked, else why not, in one line.

    A server that accepts the connection and never answers does not hang it: git's own
    low-speed limit covers http(s), and for every transport (git://, ssh://) the git
    process is ended once `timeout` seconds pass without an object arriving in
    `objects` (the repository's object folder; default `root/.git/objects`).
    """
    args = _fetch_args(source, branch, ref, show_progress, timeout)
    watched = objects if objects is not None else root / ".git" / "objects"
    return _fetch_outcome(
        _run_watched(root, args, show_progress, timeout, watched), branch, timeout
    )


def fetch_many(
    root: Path,
    wanted: Sequence[tuple[str, str, str]],
    *,
    show_progress: bool = False,
    timeout: float = FETCH_TIMEOUT,
    objects: Path | None = None,
    jobs: int = FETCH_JOBS,
) -> list[str | None]:
    """Fetch several (source, branch, ref) at once, each as `fetch` does, with at most
    `jobs` git processes running: per entry of `wanted`, in its order, None or why not.

    One entry is fetched as `fetch` does, git's progress shown when `show_progress`;
    several never show git's progress (their bars would mix on one terminal), so each
    failure keeps git's own reason. The timeout counts time in which no object arrives
    for any of them, the object folder being shared. git's automatic maintenance runs
    once, after the last fetch, not in each of them at once. An interrupt ends every
    git process still running before it propagates.
    """
    if len(wanted) <= 1:
        return [
            fetch(root, *one, show_progress=show_progress, timeout=timeout, objects=objects)
            for one in wanted
        ]
    from concurrent.futures import ThreadPoolExecutor  # only here: imports take time

    watched = objects if objects is not None else root / ".git" / "objects"
    cancel = threading.Event()

    def one(entry: tuple[str, str, str]) -> str | None:
        source, branch, ref = entry
        args = ["-c", "maintenance.auto=false", "-c", "gc.auto=0"]
        args += _fetch_args(source, branch, ref, False, timeout)
        proc = _run_watched(root, args, False, timeout, watched, cancel)
        return _fetch_outcome(proc, branch, timeout)

    pool = ThreadPoolExecutor(max_workers=max(1, min(jobs, len(wanted))))
    try:
        results = list(pool.map(one, wanted))
    except BaseException:
        cancel.set()
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    collect_garbage(root)
    return results


def push(root: Path, remote: str, url: str, ref: str, *, show_progress: bool = False) -> None:
    """Push the branch `ref` (and nothing else) to the same name on `remote`, whose URL
    is `url` (for messages). GitCommandError says why it failed, and what to do."""
    args = ["push", "--no-follow-tags", "--no-recurse-submodules", "--porcelain"]
    args += ["--progress" if show_progress else "--quiet", remote, f"{ref}:{ref}"]
    proc = run_git(root, args, show_progress=False)
    if proc.returncode == 0:
        return
    text = (proc.stdout or "") + (proc.stderr or "")
    if "[rejected]" in text or "non-fast-forward" in text or "fetch first" in text:
        raise GitCommandError(
            f"push to '{redacted(remote)}' ({redacted(url)}) was rejected: it has commits you do not have. "
            "Pull them first with 'jobshare sync', which merges them and pushes"
        )
    raise GitCommandError(
        f"cannot push to '{redacted(remote)}' ({redacted(url)}): {redact_text(git_reason(proc))}"
    )


def collect_garbage(root: Path) -> None:
    """Let git pack loose objects if it finds too many: pygit2 never packs."""
    subprocess.run(["git", "gc", "--auto", "--quiet"], cwd=root, check=False)


def git_version() -> str | None:
    """The version of the `git` found on PATH (`2.43.0`), or None when there is none."""
    try:
        done = subprocess.run(
            ["git", "--version"],
            capture_output=True,
            text=True,
            check=False,
            env={**os.environ, "LC_ALL": "C"},
        )
    except OSError:
        return None
    if done.returncode != 0:
        return None
    return done.stdout.strip().removeprefix("git version ").strip() or None
