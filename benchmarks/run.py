"""jobshare's benchmark: jobshare against plain git and check-jsonschema, on realistic repositories.

    python benchmarks/run.py                        # N = 100,000 records, K = 1,000 changes
    python benchmarks/run.py --records 10000 --runs 1
    python benchmarks/run.py --scaling              # pull time per N and per K
    python benchmarks/run.py --fetch-friends 30 -n 10000 -k 100  # many friends at once
    python benchmarks/run.py --table 10000,100000,1000000  # the README's scaling table

It builds repositories with generate.py (a base of N records and two branches, 'ours' and
'theirs', each changing K records, 50 of them on both sides in different fields), then
runs every command as a subprocess of the installed `jobshare`, of git and of
check-jsonschema, with a clean environment (a temporary HOME and global gitconfig), and
prints one table. Each time is the median of --runs runs, each on fresh state; each
memory figure is the largest peak RSS of those runs. The same figures go to a JSON file
(default benchmarks/results/latest.json) for comparison between commits.
"""

from __future__ import annotations

import argparse
import datetime as dt
import errno
import hashlib
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import generate  # noqa: E402

HERE = Path(__file__).resolve().parent
CHECKOUT = HERE.parent
TOOLS_VENV = HERE / ".venv"  # check-jsonschema lives here, never in the project's dependencies
FRIEND = "bob"
FRESH_FILE_SECONDS = 3.0  # jobshare's validation cache skips files younger than 2 s
STARTED = time.perf_counter()

# --- running commands ----------------------------------------------------------------


class BenchError(Exception):
    """A command the benchmark relies on failed: the figures would mean nothing."""


@dataclass
class Sample:
    """One timed run of one command."""

    seconds: float
    peak_mib: float  # the child's peak resident set size
    code: int
    tail: str = ""  # the end of its standard output


@dataclass
class Timing:
    """Several runs of one measurement: the median time and the largest peak."""

    seconds: float
    peak_mib: float
    runs: list[float]

    @classmethod
    def of(cls, samples: Sequence[Sample]) -> Timing:
        return cls(
            statistics.median(s.seconds for s in samples),
            max(s.peak_mib for s in samples),
            [round(s.seconds, 4) for s in samples],
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "seconds": round(self.seconds, 4),
            "peak_mib": round(self.peak_mib, 1),
            "runs": self.runs,
        }


def combined(*parts: Sample) -> Sample:
    """Commands run one after the other as one operation (git add, then git commit)."""
    return Sample(
        sum(p.seconds for p in parts),
        max(p.peak_mib for p in parts),
        parts[-1].code,
        parts[-1].tail,
    )


def log(message: str) -> None:
    print(f"[{time.perf_counter() - STARTED:7.1f}s] {message}", file=sys.stderr, flush=True)


def clean_env(home: Path) -> dict[str, str]:
    """An environment that does not depend on this machine's git config or locale."""
    home.mkdir(parents=True, exist_ok=True)
    gitconfig = home / ".gitconfig"  # libgit2 (pygit2) reads $HOME/.gitconfig; git reads both
    gitconfig.write_text(
        "[user]\n\tname = Bench\n\temail = bench@example.com\n"
        "[init]\n\tdefaultBranch = main\n"
        "[advice]\n\tdetachedHead = false\n"
    )
    tmp = home / "tmp"
    tmp.mkdir(exist_ok=True)
    return {
        "PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"),
        "HOME": str(home),
        "GIT_CONFIG_GLOBAL": str(gitconfig),
        "GIT_CONFIG_NOSYSTEM": "1",
        "XDG_CONFIG_HOME": str(home / ".config"),
        "GIT_TERMINAL_PROMPT": "0",
        "LC_ALL": "C",
        "LANG": "C",
        "TMPDIR": str(tmp),
    }


# Each timed command is forked by this small launcher, not by the benchmark itself: Linux
# carries the peak RSS of the process that forked a command into the command's own
# ru_maxrss, and the benchmark holds hundreds of MiB of generated records. The launcher
# (a bare `python -I -S`) adds a floor of a few MiB, measured and reported as such.
LAUNCHER = r"""
import json, os, resource, sys, time
for line in sys.stdin:
    job = json.loads(line)
    start = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        try:
            os.chdir(job["cwd"])
            if job["stack"]:  # the kernel takes arguments up to a quarter of the stack limit
                soft, hard = resource.getrlimit(resource.RLIMIT_STACK)
                want = job["stack"] if hard == resource.RLIM_INFINITY else min(job["stack"], hard)
                resource.setrlimit(resource.RLIMIT_STACK, (want, hard))
            for fd, path, flags in ((0, os.devnull, os.O_RDONLY), (1, job["out"], os.O_WRONLY),
                                    (2, job["err"], os.O_WRONLY)):
                os.dup2(os.open(path, flags), fd)
            os.execvpe(job["args"][0], job["args"], job["env"])
        except OSError as e:
            os.write(2, ("cannot run %s: %s\n" % (job["args"][0], e)).encode())
        os._exit(127)
    _, status, usage = os.wait4(pid, 0)
    seconds = time.perf_counter() - start
    print(json.dumps({"seconds": seconds, "status": status, "maxrss": usage.ru_maxrss}), flush=True)
"""


class Runner:
    """Runs commands in the clean environment: timed ones with their peak memory."""

    def __init__(self, env: dict[str, str], jobshare: list[str]) -> None:
        self.env = env
        self.jobshare = jobshare
        self._launcher: subprocess.Popen[str] | None = None
        self.floor_mib = 0.0

    def start(self) -> None:
        self._launcher = subprocess.Popen(
            [sys.executable, "-I", "-S", "-c", LAUNCHER],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=self.env,
        )
        self.floor_mib = self.timed(["true"], Path("/")).peak_mib

    def close(self) -> None:
        if self._launcher is not None and self._launcher.stdin is not None:
            self._launcher.stdin.close()
            self._launcher.wait()
            self._launcher = None

    def timed(
        self,
        args: Sequence[str],
        cwd: Path,
        *,
        ok: Sequence[int] = (0,),
        stack_bytes: int | None = None,
    ) -> Sample:
        """Run one command: its wall time (perf_counter around fork and wait4) and its
        peak RSS (wait4's ru_maxrss, KiB on Linux)."""
        launcher = self._launcher
        if launcher is None or launcher.stdin is None or launcher.stdout is None:
            raise BenchError("the launcher is not running")
        with tempfile.NamedTemporaryFile() as out, tempfile.NamedTemporaryFile() as err:
            job = {
                "args": [str(a) for a in args],
                "cwd": str(cwd),
                "env": self.env,
                "out": out.name,
                "err": err.name,
                "stack": stack_bytes,
            }
            launcher.stdin.write(json.dumps(job) + "\n")
            launcher.stdin.flush()
            reply = launcher.stdout.readline()
            if not reply:
                raise BenchError(f"the launcher died running `{_show(args)}`")
            done = json.loads(reply)
            code = os.waitstatus_to_exitcode(done["status"])
            out.seek(max(0, out.seek(0, os.SEEK_END) - 4096))
            tail = out.read().decode(errors="replace")
            if code not in ok:
                reason = err.read().decode(errors="replace").strip()[-2000:] or tail[-2000:]
                raise BenchError(f"`{_show(args)}` in {cwd} exited {code}:\n{reason}")
        return Sample(done["seconds"], done["maxrss"] / 1024, code, tail)

    def js(self, *args: str, cwd: Path, ok: Sequence[int] = (0,)) -> Sample:
        return self.timed([*self.jobshare, *args], cwd, ok=ok)

    def quiet(self, args: Sequence[str], cwd: Path | None = None) -> str:
        """An untimed step (setup, checks); its standard output."""
        proc = subprocess.run(
            list(args),
            cwd=cwd,
            env=self.env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            check=False,
        )
        if proc.returncode != 0:
            raise BenchError(
                f"`{_show(args)}` exited {proc.returncode}:\n{(proc.stderr or proc.stdout).strip()}"
            )
        return proc.stdout

    def git(self, *args: str, cwd: Path) -> str:
        return self.quiet(["git", *args], cwd).strip()


def _show(args: Sequence[str]) -> str:
    shown = [str(a) for a in args[:8]]
    return " ".join(shown) + (f" ... ({len(args)} arguments)" if len(args) > 8 else "")


def jobshare_command(override: str | None) -> list[str]:
    """The installed `jobshare` next to this Python, else `python -P -m jobshare_sync`."""
    if override:
        return override.split()
    script = Path(sys.executable).parent / "jobshare"
    if script.is_file() and os.access(script, os.X_OK):
        return [str(script)]
    return [sys.executable, "-P", "-m", "jobshare_sync"]


def check_jsonschema_command(runner: Runner, override: str | None) -> list[str] | None:
    """check-jsonschema from its own venv, installed there with pip if missing."""
    if override:
        return override.split()
    exe = TOOLS_VENV / "bin" / "check-jsonschema"
    if not exe.exists():
        log(f"installing check-jsonschema into {TOOLS_VENV} (for the benchmark only)")
        try:
            runner.quiet([sys.executable, "-m", "venv", str(TOOLS_VENV)])
            runner.quiet(
                [
                    str(TOOLS_VENV / "bin" / "python"),
                    "-m",
                    "pip",
                    "install",
                    "-q",
                    "check-jsonschema",
                ]
            )
        except BenchError as e:
            log(f"cannot install check-jsonschema, skipping that reference: {e}")
            return None
    return [str(exe)]


# --- repositories ---------------------------------------------------------------------


@dataclass
class Repos:
    """One generated repository set: the friend's repository and a bare clone of ours."""

    n: int
    k: int
    source: Path  # branches main (base), ours, theirs: the friend's URL
    ours_bare: Path  # only 'ours' history: clones of it are the user's repository
    base: str
    ours: str
    theirs: str
    contacts: int
    referrals: int


def _generator_version() -> str:
    return hashlib.sha256(Path(generate.__file__).read_bytes()).hexdigest()[:16]


def prepare(runner: Runner, workdir: Path, n: int, k: int) -> Repos:
    """Generate N records with K changes per side, or reuse a set generated before."""
    root = workdir / f"repos-n{n}-k{k}"
    marker = root / "repos.json"
    if marker.exists():
        saved = json.loads(marker.read_text())
        if saved.get("generator") == _generator_version():
            log(f"reusing the repositories in {root}")
            saved.pop("generator")
            return Repos(
                **{
                    key: Path(v) if key in ("source", "ours_bare") else v
                    for key, v in saved.items()
                }
            )
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    log(f"generating {n:,} records with {k:,} changes per side (generate.py)")
    built = generate.build(root, n, k)
    source = Path(built["repo"])
    ours_bare = root / "ours.git"
    # a real transfer, not hardlinks: the user's repository lacks the friend's objects
    runner.quiet(
        [
            "git",
            "clone",
            "-q",
            "--bare",
            "--single-branch",
            "--branch",
            "ours",
            source.resolve().as_uri(),
            str(ours_bare),
        ]
    )
    referrals = max(1, n // 20)
    repos = Repos(
        n,
        k,
        source,
        ours_bare,
        built["base"],
        built["ours"],
        built["theirs"],
        n - referrals,
        referrals,
    )
    saved = {key: str(v) if isinstance(v, Path) else v for key, v in repos.__dict__.items()}
    marker.write_text(json.dumps({**saved, "generator": _generator_version()}, indent=1))
    return repos


def clone(runner: Runner, repos: Repos, dest: Path) -> Path:
    """A fresh working clone of the user's repository, 'ours' checked out."""
    remove(dest)
    runner.quiet(["git", "clone", "-q", str(repos.ours_bare), str(dest)])
    return dest


def remove(path: Path) -> None:
    if path.exists():
        shutil.rmtree(path)


# --- results -------------------------------------------------------------------------


@dataclass
class Result:
    """One row of the table: a jobshare command against its reference."""

    key: str
    operation: str
    records: int  # what the operation works through (changed records, or all of them)
    jobshare: Timing | None
    reference: str = ""
    ref: Timing | None = None
    ref_records: int | None = None
    note: str = ""
    target: str = ""
    met: bool | None = None

    @property
    def ratio(self) -> float | None:
        if self.jobshare is None or self.ref is None or self.ref.seconds == 0:
            return None
        return self.jobshare.seconds / self.ref.seconds

    @property
    def rate(self) -> float | None:
        return self.records / self.jobshare.seconds if self.jobshare else None

    @property
    def ref_rate(self) -> float | None:
        if self.ref is None or self.ref_records is None:
            return None
        return self.ref_records / self.ref.seconds

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "operation": self.operation,
            "records": self.records,
            "jobshare": self.jobshare.to_json() if self.jobshare else None,
            "reference": self.reference,
            "reference_timing": self.ref.to_json() if self.ref else None,
            "reference_records": self.ref_records,
            "ratio": round(self.ratio, 3) if self.ratio is not None else None,
            "records_per_second": round(self.rate) if self.rate else None,
            "reference_records_per_second": round(self.ref_rate) if self.ref_rate else None,
            "target": self.target,
            "met": self.met,
            "note": self.note,
        }


# --- the measurements ----------------------------------------------------------------


@dataclass
class Bench:
    runner: Runner
    repos: Repos
    scratch: Path  # clones go here and are removed after use
    runs: int
    cjs: list[str] | None = None
    cjs_runs: int = 3

    def run_n(self, what: str, count: int | None = None) -> range:
        count = self.runs if count is None else count
        log(f"{what}: {count} run{'s' if count != 1 else ''}")
        return range(count)


def measure_pull(bench: Bench, *, floor: bool = True) -> list[Result]:
    """fetch, then pull --no-fetch, against git fetch and git merge (ort) in clones alike."""
    r, repos = bench.runner, bench.repos
    theirs_ref = f"refs/remotes/{FRIEND}/theirs"
    git_fetch_args = [
        "git",
        "fetch",
        "--no-tags",
        "--quiet",
        FRIEND,
        f"+refs/heads/theirs:{theirs_ref}",
    ]
    js_fetch: list[Sample] = []
    js_pull: list[Sample] = []
    git_fetch: list[Sample] = []
    git_merge: list[Sample] = []
    git_floor: list[Sample] = []
    conflicts = "?"
    for i in bench.run_n(f"pull N={repos.n:,} K={repos.k:,}"):
        work = clone(r, repos, bench.scratch / f"pull-jobshare-{i}")
        add_friend(r, repos, work)
        js_fetch.append(r.js("fetch", FRIEND, cwd=work))
        js_pull.append(r.js("pull", "--no-fetch", FRIEND, cwd=work))
        parents = r.git("rev-list", "--parents", "-n", "1", "HEAD", cwd=work).split()[1:]
        if parents != [repos.ours, repos.theirs]:
            raise BenchError(f"jobshare pull did not write the merge commit: parents {parents}")
        if r.git("status", "--porcelain", "--untracked-files=no", cwd=work):
            raise BenchError("jobshare pull left the working tree different from its commit")
        remove(work)

        work = clone(r, repos, bench.scratch / f"pull-git-{i}")
        r.git("remote", "add", FRIEND, str(repos.source), cwd=work)
        git_fetch.append(r.timed(git_fetch_args, work))
        if floor:
            merge_tree = ["git", "merge-tree", "--write-tree", "HEAD", theirs_ref]
            git_floor.append(r.timed(merge_tree, work, ok=(0, 1)))
        git_merge.append(r.timed(["git", "merge", "--no-edit", "-q", theirs_ref], work, ok=(0, 1)))
        conflicts = str(len(r.git("diff", "--name-only", "--diff-filter=U", cwd=work).split()))
        remove(work)

    k = repos.k  # the records the friend changed: what a pull works through
    pull = Timing.of(js_pull)
    results = [
        Result(
            key="fetch",
            operation=f"fetch {FRIEND}",
            records=k,
            jobshare=Timing.of(js_fetch),
            reference="git fetch (same refspec)",
            ref=Timing.of(git_fetch),
            ref_records=k,
            note="git does the transfer in both",
        ),
        Result(
            key="pull",
            operation="pull --no-fetch (merge + working tree)",
            records=k,
            jobshare=pull,
            reference="git merge (ort)",
            ref=Timing.of(git_merge),
            ref_records=k,
            note=f"git merge stops at {conflicts} conflicts (`updated` set on both sides); "
            "jobshare merges them field by field",
        ),
    ]
    if floor:
        results.append(
            Result(
                key="pull-floor",
                operation="pull --no-fetch, against the floor",
                records=k,
                jobshare=pull,
                reference="git merge-tree --write-tree",
                ref=Timing.of(git_floor),
                ref_records=k,
                note="merge-tree writes no working tree, index or ref",
            )
        )
    return results


def add_friend(runner: Runner, repos: Repos, work: Path) -> None:
    """The friend whose branch is 'theirs' in the generated repository."""
    args = ["friend", "add", FRIEND, str(repos.source), "--branch", "theirs"]
    runner.quiet([*runner.jobshare, *args], work)


def validation_clone(bench: Bench) -> Path:
    """The user's repository with the friend known (so referrals to them are no warnings)."""
    r = bench.runner
    work = clone(r, bench.repos, bench.scratch / "work")
    add_friend(r, bench.repos, work)
    r.quiet([*r.jobshare, "friend", "pin", FRIEND, "bob"], work)
    # A file written in the last seconds may change again within its mtime's granularity, so
    # caches keyed by stat (git's index, validate's) do not trust it yet: let the clone age,
    # as a real repository has.
    time.sleep(FRESH_FILE_SECONDS)
    return work


def clear_validation_cache(work: Path) -> None:
    """Remove any cache of validated records (.git/jobshare/validated*), for a cold run."""
    for path in (work / ".git" / "jobshare").glob("validated*"):
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink()


def measure_validate(bench: Bench, work: Path) -> list[Result]:
    """validate cold (cache removed) and warm (run again), against check-jsonschema."""
    r, repos = bench.runner, bench.repos
    cold: list[Sample] = []
    warm: list[Sample] = []
    for _ in bench.run_n(f"validate N={repos.n:,}"):
        clear_validation_cache(work)
        cold.append(r.js("validate", cwd=work))
        warm.append(r.js("validate", cwd=work))
    summary = cold[0].tail.strip().splitlines()[-1] if cold[0].tail.strip() else ""
    cjs_timing, cjs_note = measure_check_jsonschema(bench, work)
    cached = any((work / ".git" / "jobshare").glob("validated*"))
    return [
        Result(
            key="validate-cold",
            operation="validate, cold (no cache)",
            records=repos.n,
            jobshare=Timing.of(cold),
            reference="check-jsonschema, contacts",
            ref=cjs_timing,
            ref_records=repos.contacts,
            note=f"jobshare: {summary}; {cjs_note}",
        ),
        Result(
            key="validate-warm",
            operation="validate, warm (nothing changed)",
            records=repos.n,
            jobshare=Timing.of(warm),
            note="a cache of validated records exists"
            if cached
            else "no validation cache found: the same work as cold",
        ),
    ]


def measure_check_jsonschema(bench: Bench, work: Path) -> tuple[Timing | None, str]:
    """ONE check-jsonschema process over every contact, if the kernel lets one take them all."""
    if bench.cjs is None or bench.cjs_runs == 0:
        return None, "check-jsonschema not run"
    from jobshare_sync.core import schema

    schema_file = bench.scratch / "contact.schema.json"
    schema_file.write_text(schema.schema_text("contact"))  # the very schema jobshare uses
    files = sorted(f"contacts/{p.name}" for p in (work / "contacts").glob("*.yaml"))
    head = [*bench.cjs, "--schemafile", str(schema_file), "--"]
    chunks, stack = _argument_chunks(head, files, bench.runner.env)
    samples = []
    for _ in bench.run_n(f"check-jsonschema over {len(files):,} contacts", bench.cjs_runs):
        parts = [bench.runner.timed([*head, *chunk], work, stack_bytes=stack) for chunk in chunks]
        if not all("ok" in p.tail for p in parts):
            raise BenchError(f"check-jsonschema found problems: {parts[-1].tail[-500:]}")
        samples.append(combined(*parts))
    if len(chunks) == 1:
        how = "one process" + (" (stack limit raised for ARG_MAX)" if stack else "")
    else:
        how = f"{len(chunks)} processes: one cannot take {len(files):,} paths (ARG_MAX)"
    return Timing.of(samples), f"check-jsonschema: {len(files):,} contacts in {how}"


ARG_LIMIT_CAP = 6 * 1024 * 1024  # Linux: arguments never exceed 3/4 of _STK_LIM (8 MiB)


def _arg_bytes(args: Sequence[str], env: dict[str, str]) -> int:
    strings = [*args, *(f"{k}={v}" for k, v in env.items())]
    return sum(len(s.encode()) + 1 + 8 for s in strings) + 16  # bytes, NUL, pointer


def _argument_chunks(
    head: list[str], files: list[str], env: dict[str, str]
) -> tuple[list[list[str]], int | None]:
    """The fewest command lines for `files`, and the stack size that lets the kernel take them.

    Linux allows argv + environ up to a quarter of the stack limit, and never more than
    6 MiB: a larger stack limit for the child fits about 200,000 paths in one process."""
    needed = _arg_bytes([*head, *files], env)
    if needed <= os.sysconf("SC_ARG_MAX") - 4096:
        return [files], None
    if needed <= ARG_LIMIT_CAP - 65536:
        return [files], 4 * ARG_LIMIT_CAP
    budget = ARG_LIMIT_CAP - 65536 - _arg_bytes(head, env)
    chunks: list[list[str]] = [[]]
    used = 0
    for f in files:
        size = len(f.encode()) + 9
        if used + size > budget and chunks[-1]:
            chunks.append([])
            used = 0
        chunks[-1].append(f)
        used += size
    return chunks, 4 * ARG_LIMIT_CAP


def measure_diff(bench: Bench, work: Path) -> list[Result]:
    """diff and diff --stat of base..ours (K changed records) against git diff --stat."""
    r, repos = bench.runner, bench.repos
    a, b = repos.base, repos.ours
    full: list[Sample] = []
    stat: list[Sample] = []
    git: list[Sample] = []
    for _ in bench.run_n(f"diff of {repos.k:,} changed records"):
        full.append(r.js("diff", a, b, cwd=work))
        stat.append(r.js("diff", "--stat", a, b, cwd=work))
        git.append(r.timed(["git", "diff", "--stat", a, b], work))
    summary = stat[0].tail.strip().splitlines()
    common = {
        "records": repos.k,
        "reference": "git diff --stat A B",
        "ref": Timing.of(git),
        "ref_records": repos.k,
    }
    return [
        Result(
            key="diff",
            operation=f"diff A B ({repos.k:,} records)",
            jobshare=Timing.of(full),
            **common,
        ),
        Result(
            key="diff-stat",
            operation="diff --stat A B",
            jobshare=Timing.of(stat),
            note=f"jobshare: {summary[-1].strip() if summary else ''}",
            **common,
        ),
    ]


def measure_add(bench: Bench, work: Path) -> list[Result]:
    """add contact (one record, one commit) against git add + git commit of one file."""
    r, repos = bench.runner, bench.repos
    js: list[Sample] = []
    git: list[Sample] = []
    victim = min((work / "contacts").glob("*.yaml"))
    rel = f"contacts/{victim.name}"
    original = victim.read_text().splitlines()
    for i in bench.run_n(f"add contact at N={repos.n:,}"):
        name, email = f"Benchmark Contact {i}", f"bench{i}@example.com"
        args = ["add", "contact", "--name", name, "--email", email, "--kind", "agency"]
        js.append(r.js(*args, "--tag", "remote", cwd=work))
        if r.git("rev-parse", "HEAD~1", cwd=work) != repos.ours:
            raise BenchError("jobshare add contact did not make exactly one commit")
        r.git("reset", "-q", "--hard", repos.ours, cwd=work)

        edited = [  # one changed line, as an edit by hand
            f"updated: '2027-01-{1 + i % 28:02d}T09:00:00Z'"
            if line.startswith("updated:")
            else line
            for line in original
        ]
        victim.write_text("\n".join(edited) + "\n")
        git_add = r.timed(["git", "add", rel], work)
        git_commit = r.timed(["git", "commit", "-q", "-m", f"Edit {rel}"], work)
        git.append(combined(git_add, git_commit))
        r.git("reset", "-q", "--hard", repos.ours, cwd=work)
    return [
        Result(
            key="add",
            operation="add contact (one commit)",
            records=1,
            jobshare=Timing.of(js),
            reference="git add + git commit (one file)",
            ref=Timing.of(git),
            ref_records=1,
        )
    ]


# --- targets ---------------------------------------------------------------------------


def judge(results: list[Result], k: int) -> None:
    """Set each row's target and whether it is met (targets are for N=100k, K=1k)."""
    by_key = {r.key: r for r in results}

    def set_target(key: str, text: str, test: Callable[[Result], bool]) -> None:
        row = by_key.get(key)
        if row is not None and row.jobshare is not None:
            row.target = text
            row.met = test(row)

    def ratio_at_most(limit: float) -> Callable[[Result], bool]:
        return lambda row: row.ratio is not None and row.ratio <= limit

    def seconds_under(limit: float) -> Callable[[Result], bool]:
        return lambda row: row.jobshare is not None and row.jobshare.seconds < limit

    set_target("pull", "≤ 1× git merge", ratio_at_most(1.0))
    if by_key.get("validate-cold") and by_key["validate-cold"].ref_rate:
        set_target(
            "validate-cold",
            "≥ 5× check-jsonschema records/s",
            lambda row: (row.rate or 0) >= 5 * (row.ref_rate or 0),
        )
    set_target("validate-warm", "< 0.5 s", seconds_under(0.5))
    set_target("add", "< 0.5 s", seconds_under(0.5))
    set_target("diff", "≤ 2× git diff --stat", ratio_at_most(2.0))
    set_target("diff-stat", "≤ 2× git diff --stat", ratio_at_most(2.0))
    pull = by_key.get("pull")
    if pull is not None and pull.jobshare is not None:
        results.append(
            Result(
                key="pull-memory",
                operation="pull peak memory",
                records=k,
                jobshare=pull.jobshare,
                reference="git merge (ort)",
                ref=pull.ref,
                ref_records=k,
                target="< 200 MiB",
                met=pull.jobshare.peak_mib < 200,
                note="the peak RSS of the pull process",
            )
        )


# --- printing -------------------------------------------------------------------------


def _secs(t: Timing | None) -> str:
    if t is None:
        return "—"
    return f"{t.seconds * 1000:.0f} ms" if t.seconds < 1 else f"{t.seconds:.2f} s"


def _num(x: float | None, decimals: int = 0) -> str:
    if x is None:
        return "—"
    return f"{x:,.{1 if decimals == 0 and x < 10 else decimals}f}"


def markdown(header: list[str], rows: list[list[str]], text: set[int] | None = None) -> str:
    """An aligned Markdown table (numbers to the right, the `text` columns to the left),
    so it reads in a terminal and pastes into the README."""
    text = text or set()
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        out = [
            c.ljust(w) if i in text else c.rjust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ]
        return "| " + " | ".join(out) + " |"

    rule = [("-" * (w + 2)) if i in text else ("-" * (w + 1) + ":") for i, w in enumerate(widths)]
    return "\n".join([line(header), "|" + "|".join(rule) + "|", *(line(r) for r in rows)])


def table(results: list[Result]) -> str:
    header = ["operation", "jobshare", "reference", "ref. time", "ratio", "records/s"]
    header += ["ref. records/s", "peak MiB", "ref. peak MiB", "target"]
    rows = []
    for row in results:
        memory_only = row.key == "pull-memory"
        verdict = "" if row.met is None else (" met" if row.met else " **missed**")
        rows.append(
            [
                row.operation,
                "" if memory_only else _secs(row.jobshare),
                row.reference or "—",
                "" if memory_only else _secs(row.ref),
                "" if memory_only else _num(row.ratio, 2),
                "" if memory_only else _num(row.rate),
                "" if memory_only else _num(row.ref_rate),
                _num(row.jobshare.peak_mib if row.jobshare else None),
                _num(row.ref.peak_mib if row.ref else None),
                f"{row.target}{verdict}" if row.target else "",
            ]
        )
    return markdown(header, rows, text={0, 2, 9})


def scaling_table(points: list[dict[str, Any]]) -> str:
    header = ["N", "K", "jobshare pull", "git merge", "ratio", "merge-tree", "jobshare fetch"]
    rows = [
        [f"{p['n']:,}", f"{p['k']:,}", f"{p['pull']:.3f} s", f"{p['git_merge']:.3f} s"]
        + [f"{p['pull'] / p['git_merge']:.2f}", f"{p['merge_tree']:.3f} s", f"{p['fetch']:.3f} s"]
        for p in points
    ]
    return markdown(header, rows)


# --- main -------------------------------------------------------------------------------


def provenance(runner: Runner, label: str | None) -> dict[str, Any]:
    """What was measured: which jobshare, and the checkout's commit when it runs from there."""
    import jobshare_sync

    library = Path(jobshare_sync.__file__).resolve().parent
    info: dict[str, Any] = {
        "label": label,
        "date": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "jobshare": runner.jobshare,
        "library": str(library),
        "peak_floor_mib": round(runner.floor_mib, 1),  # what `true` shows through the launcher
    }
    try:
        info["git"] = runner.quiet(["git", "--version"]).strip()
        if library.parent == CHECKOUT:  # an editable install of this checkout
            info["commit"] = runner.git("rev-parse", "HEAD", cwd=CHECKOUT)
            info["library_modified"] = bool(
                runner.git("status", "--porcelain", "--", "jobshare_sync", cwd=CHECKOUT)
            )
    except BenchError:
        pass
    return info


def run_main(args: argparse.Namespace, runner: Runner, workdir: Path) -> dict[str, Any]:
    repos = prepare(runner, workdir, args.records, args.changes)
    bench = Bench(runner, repos, workdir / "scratch", args.runs)
    bench.scratch.mkdir(parents=True, exist_ok=True)
    bench.cjs = check_jsonschema_command(runner, args.check_jsonschema)
    bench.cjs_runs = args.runs if args.check_jsonschema_runs is None else args.check_jsonschema_runs
    results = measure_pull(bench)
    work = validation_clone(bench)
    results += measure_validate(bench, work)
    results += measure_diff(bench, work)
    results += measure_add(bench, work)
    remove(work)
    judge(results, repos.k)
    print(
        f"\njobshare benchmark: N = {repos.n:,} records ({repos.contacts:,} contacts, "
        f"{repos.referrals:,} referrals), K = {repos.k:,} changed records per side, "
        f"median of {args.runs} run{'s' if args.runs != 1 else ''}\n"
    )
    print(table(results))
    notes = [f"- {r.operation}: {r.note}" for r in results if r.note]
    notes.append(
        f"- peak MiB: wait4's ru_maxrss of each command; an empty command shows "
        f"{bench.runner.floor_mib:.1f} MiB (the launcher's floor)"
    )
    print("\n" + "\n".join(notes))
    missed = [r for r in results if r.met is False]
    print(
        "\ntargets: "
        + (f"{len(missed)} missed ({', '.join(r.key for r in missed)})" if missed else "all met")
        + (
            " (they are set for N = 100,000, K = 1,000)"
            if (repos.n, repos.k) != (100_000, 1_000)
            else ""
        )
    )
    return {
        "params": {
            "records": repos.n,
            "changes": repos.k,
            "runs": args.runs,
            "contacts": repos.contacts,
            "referrals": repos.referrals,
        },
        "results": [r.to_json() for r in results],
    }


def run_scaling(args: argparse.Namespace, runner: Runner, workdir: Path) -> dict[str, Any]:
    series = [(n, args.scaling_k) for n in args.scaling_records]
    series += [
        (args.scaling_n, k) for k in args.scaling_changes if (args.scaling_n, k) not in series
    ]
    measured: dict[tuple[int, int], dict[str, Any]] = {}
    for n, k in series:
        repos = prepare(runner, workdir, n, k)
        bench = Bench(runner, repos, workdir / "scratch", args.runs)
        bench.scratch.mkdir(parents=True, exist_ok=True)
        rows = {r.key: r for r in measure_pull(bench)}
        pull, fetch, floor = rows["pull"], rows["fetch"], rows["pull-floor"]
        assert pull.jobshare and pull.ref and fetch.jobshare and floor.ref
        measured[(n, k)] = {
            "n": n,
            "k": k,
            "pull": pull.jobshare.seconds,
            "pull_runs": pull.jobshare.runs,
            "pull_peak_mib": pull.jobshare.peak_mib,
            "git_merge": pull.ref.seconds,
            "git_merge_runs": pull.ref.runs,
            "merge_tree": floor.ref.seconds,
            "fetch": fetch.jobshare.seconds,
        }
    by_n = [measured[(n, args.scaling_k)] for n in args.scaling_records]
    by_k = [measured[(args.scaling_n, k)] for k in args.scaling_changes]
    runs = f"{args.runs} run{'s' if args.runs != 1 else ''}"
    print(f"\npull time per N (K = {args.scaling_k:,}), median of {runs}\n")
    print(scaling_table(by_n))
    print(f"\npull time per K (N = {args.scaling_n:,})\n")
    print(scaling_table(by_k))
    if len(by_n) > 1 and len(by_k) > 1:
        print(
            f"\nN ×{by_n[-1]['n'] / by_n[0]['n']:,.0f}: pull ×{by_n[-1]['pull'] / by_n[0]['pull']:.2f}"
            f" (git merge ×{by_n[-1]['git_merge'] / by_n[0]['git_merge']:.2f}); "
            f"K ×{by_k[-1]['k'] / by_k[0]['k']:,.0f}: pull ×{by_k[-1]['pull'] / by_k[0]['pull']:.2f}"
            f" (git merge ×{by_k[-1]['git_merge'] / by_k[0]['git_merge']:.2f})"
        )
    return {
        "params": {"runs": args.runs, "k_for_n": args.scaling_k, "n_for_k": args.scaling_n},
        "scaling": {"by_records": by_n, "by_changes": by_k},
    }


def run_reads(args: argparse.Namespace, runner: Runner, workdir: Path) -> dict[str, Any]:
    """list --search / --tag, show, status and log per N, beside git (reads.py)."""
    import reads

    by_n: dict[int, list[dict[str, Any]]] = {}
    for n in args.reads:
        k = min(args.changes, max(2, (n - n // 20) // 4))
        repos = prepare(runner, workdir, n, k)
        scratch = workdir / "scratch"
        scratch.mkdir(parents=True, exist_ok=True)
        work = clone(runner, repos, scratch / f"reads-{n}")
        log(f"reads at N = {n:,}: {args.runs} run{'s' if args.runs != 1 else ''} each")
        by_n[n] = reads.measure(runner, work, args.runs)
        remove(work)
    runs = f"{args.runs} run{'s' if args.runs != 1 else ''}"
    print(f"\nreading commands per N, median of {runs}\n")
    print(reads.table(by_n))
    return {"params": {"runs": args.runs, "records": args.reads}, "reads": reads.to_json(by_n)}


def run_table(args: argparse.Namespace, runner: Runner, workdir: Path) -> dict[str, Any]:
    """pull (K fixed), show, list --search and status per N, each beside git's figure
    for the same operation: the scaling table of the README."""
    import reads

    by_n: dict[int, list[dict[str, Any]]] = {}
    for n in args.table:
        repos = prepare(runner, workdir, n, args.changes)
        bench = Bench(runner, repos, workdir / "scratch", args.runs)
        bench.scratch.mkdir(parents=True, exist_ok=True)
        rows = []
        if not args.table_reads_only:
            [_, pull] = measure_pull(bench, floor=False)
            rows.append(
                {
                    "operation": f"pull --no-fetch, K = {repos.k:,}",
                    "jobshare": pull.jobshare,
                    "reference": "git merge (ort), same commits",
                    "ref": pull.ref,
                }
            )
        work = clone(runner, repos, bench.scratch / f"table-{n}")
        log(f"reads at N = {n:,} (index built first): {args.runs} run(s) each")
        rows += reads.measure_scaling(runner, work, args.runs)
        remove(work)
        by_n[n] = rows
    print(f"\nper N, median of {args.runs} run(s): jobshare's seconds, git's, and the ratio\n")
    print(scaling_rows_table(by_n))
    return {"params": {"runs": args.runs, "records": args.table}, "table": reads.to_json(by_n)}


def scaling_rows_table(by_n: dict[int, list[dict[str, Any]]]) -> str:
    ns = sorted(by_n)
    header = ["operation", "git's operation"]
    header += [f"{label} N = {n:,}" for n in ns for label in ("jobshare", "git", "ratio")]
    rows = []
    for i, first in enumerate(by_n[ns[0]]):
        cells = [first["operation"], first["reference"]]
        for n in ns:
            ours, ref = by_n[n][i]["jobshare"], by_n[n][i]["ref"]
            cells += [f"{ours.seconds:.3f} s", f"{ref.seconds:.3f} s" if ref else ""]
            cells.append(f"{ours.seconds / ref.seconds:.2f}" if ref and ref.seconds else "")
        rows.append(cells)
    return markdown(header, rows, text={0, 1})


def run_fetch_friends(args: argparse.Namespace, runner: Runner, workdir: Path) -> dict[str, Any]:
    """M friends fetched by one `jobshare fetch` against the slowest alone (friends.py)."""
    import friends

    repos = prepare(runner, workdir, args.records, args.changes)
    scratch = workdir / "scratch"
    scratch.mkdir(parents=True, exist_ok=True)
    log(
        f"fetch of {args.fetch_friends} friends adding {args.fetch_k:,} contacts each, "
        f"N = {repos.n:,}: each alone once, all at once {args.runs} time(s), "
        f"round trips {', '.join(f'{x * 1000:.0f} ms' for x in args.fetch_latency)}"
    )
    rows = friends.measure(
        runner,
        repos,
        scratch,
        friends=args.fetch_friends,
        k=args.fetch_k,
        runs=args.runs,
        latencies=args.fetch_latency,
    )
    print(
        f"\nfetch of {args.fetch_friends} friends (K = {args.fetch_k:,} new contacts each) into "
        f"N = {repos.n:,}, git daemon on 127.0.0.1; target: all at once ≤ 1.5× the slowest alone\n"
    )
    print(friends.table(rows))
    return {
        "params": {
            "records": repos.n,
            "friends": args.fetch_friends,
            "new_per_friend": args.fetch_k,
            "runs": args.runs,
        },
        "fetch_friends": rows,
    }


def _float_list(text: str) -> list[float]:
    return [float(x) for x in text.split(",") if x.strip()]


def _int_list(text: str) -> list[int]:
    return [int(x.replace("_", "")) for x in text.split(",") if x.strip()]


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python benchmarks/run.py",
        description=(
            "jobshare's benchmark: time jobshare's pull, fetch, validate, diff and add on a "
            "generated repository of N records, against git merge / merge-tree / fetch / "
            "diff --stat / commit and check-jsonschema, and print a table (also written as JSON)."
        ),
        epilog="Targets (N=100,000, K=1,000): pull ≤ git merge; cold validate ≥ 5× "
        "check-jsonschema's records/s; warm validate < 0.5 s; add < 0.5 s; diff ≤ 2× git "
        "diff --stat; pull peak memory < 200 MiB.",
    )
    parser.add_argument(
        "--records",
        "-n",
        type=int,
        default=100_000,
        metavar="N",
        help="records in the repository (default: %(default)s)",
    )
    parser.add_argument(
        "--changes",
        "-k",
        type=int,
        default=1_000,
        metavar="K",
        help="records changed on each side (default: %(default)s)",
    )
    parser.add_argument(
        "--runs",
        "-r",
        type=int,
        default=3,
        metavar="R",
        help="runs per figure; the median is reported (default: %(default)s)",
    )
    parser.add_argument(
        "--json-out",
        type=Path,
        metavar="FILE",
        help="where to write the JSON (default: benchmarks/results/latest.json, "
        "or scaling.json with --scaling)",
    )
    parser.add_argument(
        "--scaling",
        action="store_true",
        help="only the scaling run: pull time per N at fixed K, and per K at fixed N",
    )
    parser.add_argument(
        "--scaling-records",
        type=_int_list,
        default=[1_000, 10_000, 100_000],
        metavar="N,N,...",
        help="N values of the scaling run (default: 1000,10000,100000)",
    )
    parser.add_argument(
        "--scaling-k",
        type=int,
        default=100,
        metavar="K",
        help="K while N varies (default: %(default)s)",
    )
    parser.add_argument(
        "--scaling-changes",
        type=_int_list,
        default=[10, 100, 1_000],
        metavar="K,K,...",
        help="K values of the scaling run (default: 10,100,1000)",
    )
    parser.add_argument(
        "--scaling-n",
        type=int,
        default=10_000,
        metavar="N",
        help="N while K varies (default: %(default)s)",
    )
    parser.add_argument(
        "--reads",
        type=_int_list,
        metavar="N,N,...",
        help="only the reading commands (list --search/--tag, show, status, log) at these N, "
        "beside git grep / show / status / log",
    )
    parser.add_argument(
        "--table",
        type=_int_list,
        metavar="N,N,...",
        help="only the scaling table: pull (K = --changes), show, list --search and status "
        "at these N, each beside git's figure (e.g. 10000,100000,1000000)",
    )
    parser.add_argument(
        "--table-reads-only",
        action="store_true",
        help="with --table: leave out pull (the slowest to measure)",
    )
    parser.add_argument(
        "--fetch-friends",
        type=int,
        metavar="M",
        help="only the fetch of M friends at once against the slowest alone, over git "
        "daemon (friends.py); --records sets the user's N (10000 is plenty)",
    )
    parser.add_argument(
        "--fetch-k",
        type=int,
        default=100,
        metavar="K",
        help="new contacts each friend has (default: %(default)s)",
    )
    parser.add_argument(
        "--fetch-latency",
        type=_float_list,
        default=[0.0, 0.05, 0.2],
        metavar="S,S,...",
        help="round-trip times in seconds to measure at, through a delaying proxy "
        "(default: 0,0.05,0.2)",
    )
    parser.add_argument(
        "--workdir",
        type=Path,
        metavar="DIR",
        help="keep generated repositories here and reuse them on the next run, until "
        "generate.py changes (default: a temporary folder, removed at the end)",
    )
    parser.add_argument(
        "--jobshare",
        metavar="CMD",
        help="the jobshare command to time (default: the one installed next to "
        "this Python, else 'python -P -m jobshare_sync')",
    )
    parser.add_argument(
        "--check-jsonschema",
        metavar="CMD",
        help=f"the check-jsonschema command (default: installed into {TOOLS_VENV} "
        "with pip if missing)",
    )
    parser.add_argument(
        "--check-jsonschema-runs",
        type=int,
        metavar="R",
        help="runs of check-jsonschema, the slowest reference (default: --runs; 0 skips it)",
    )
    parser.add_argument(
        "--label", help="a name for this run in the JSON, e.g. the commit or change measured"
    )
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    if args.table:
        sizes = [(n, args.changes) for n in args.table]
    elif args.reads:
        sizes = []
    elif args.fetch_friends:
        if args.fetch_friends < 1 or args.fetch_k < 1:
            parser.error("--fetch-friends and --fetch-k must be at least 1")
        sizes = [(args.records, args.changes)]
    elif args.scaling:
        sizes = [(n, args.scaling_k) for n in args.scaling_records]
        sizes += [(args.scaling_n, k) for k in args.scaling_changes]
    else:
        sizes = [(args.records, args.changes)]
    for n, k in sizes:
        if k < 2 or 2 * k > n - n // 20:
            parser.error(
                f"K = {k} changes need at least {2 * k} contacts (and K ≥ 2): raise N ({n})"
            )
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    keep = args.workdir is not None
    workdir = (args.workdir or Path(tempfile.mkdtemp(prefix="jobshare-bench-"))).resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    runner = Runner(clean_env(workdir / "home"), jobshare_command(args.jobshare))
    runner.start()
    name = (
        "table.json"
        if args.table
        else "reads.json"
        if args.reads
        else "fetch.json"
        if args.fetch_friends
        else "scaling.json"
        if args.scaling
        else "latest.json"
    )
    out = args.json_out or HERE / "results" / name
    try:
        report: dict[str, Any] = {
            "benchmark": "jobshare.bench/v1",
            **provenance(runner, args.label),
        }
        if args.table:
            report.update(run_table(args, runner, workdir))
        elif args.reads:
            report.update(run_reads(args, runner, workdir))
        elif args.fetch_friends:
            report.update(run_fetch_friends(args, runner, workdir))
        elif args.scaling:
            report.update(run_scaling(args, runner, workdir))
        else:
            report.update(run_main(args, runner, workdir))
    except BenchError as e:
        print(f"benchmark failed: {e}", file=sys.stderr)
        return 1
    except OSError as e:
        if e.errno == errno.E2BIG:
            print(f"benchmark failed: a command line is too long: {e}", file=sys.stderr)
            return 1
        raise
    finally:
        runner.close()
        if not keep:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            remove(workdir / "scratch")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    log(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
