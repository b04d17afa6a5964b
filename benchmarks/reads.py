"""The reading commands against git's own, per N: list --search and --tag (the index warm
and cold), show, status and log, each beside the git command that answers the same.

Run through `python benchmarks/run.py --reads 10000,100000`; the repositories are the
ones the pull benchmark generates (generate.py), cloned fresh for each N.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from run import Runner, Timing

INDEX = Path(".git") / "jobshare" / "index.sqlite"


def _forget_index(work: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        (work / f"{INDEX}{suffix}").unlink(missing_ok=True)


def measure(runner: Runner, work: Path, runs: int) -> list[dict[str, Any]]:
    """Rows of (operation, jobshare Timing, reference, reference Timing) for one clone."""
    from run import Timing

    def js(*args: str, cold: bool = False) -> Timing:
        samples = []
        for _ in range(runs):
            if cold:
                _forget_index(work)
            samples.append(runner.js(*args, cwd=work))
        return Timing.of(samples)

    def git(*args: str, ok: tuple[int, ...] = (0, 1)) -> Timing:
        return Timing.of([runner.timed(["git", *args], work, ok=ok) for _ in range(runs)])

    record_id = runner.git("ls-tree", "--name-only", "HEAD", "contacts/", cwd=work).split("\n")[7]
    record_id = record_id.rpartition("/")[2].removesuffix(".yaml")
    rows: list[dict[str, Any]] = []

    def row(operation: str, ours: Timing, reference: str = "", ref: Timing | None = None) -> None:
        rows.append({"operation": operation, "jobshare": ours, "reference": reference, "ref": ref})

    row(
        "list --search fenwick (cold: no index)",
        js("list", "--search", "fenwick", cold=True),
        "git grep -il fenwick",
        git("grep", "-il", "fenwick"),
    )
    runner.js("list", cwd=work)  # warm
    row(
        "list --search fenwick",
        js("list", "--search", "fenwick"),
        "git grep -il fenwick",
        git("grep", "-il", "fenwick"),
    )
    row(
        "list --search vistula",
        js("list", "--search", "vistula"),
        "git grep -il vistula",
        git("grep", "-il", "vistula"),
    )
    row(
        "list --tag hiring-now",
        js("list", "--tag", "hiring-now"),
        "git grep -l hiring-now",
        git("grep", "-l", "hiring-now"),
    )
    row(
        f"show {record_id}",
        js("show", record_id),
        "git show HEAD:contacts/<id>.yaml",
        git("show", f"HEAD:contacts/{record_id}.yaml", ok=(0,)),
    )
    row("status", js("status"), "git status --porcelain", git("status", "--porcelain", ok=(0,)))
    row(
        "log -n 5",
        js("log", "-n", "5"),
        "git log -n 5 --stat",
        git("log", "-n", "5", "--stat", ok=(0,)),
    )
    row("--version", js("--version"))
    return rows


def measure_scaling(runner: Runner, work: Path, runs: int) -> list[dict[str, Any]]:
    """The reading rows of the scaling table, the index warm: show, list --search,
    list --tag, status, each beside git's command for the same answer, and the
    interpreter's start with the imports of `show` (the floor of `show`)."""
    import sys

    from run import Timing

    def js(*args: str) -> Timing:
        return Timing.of([runner.js(*args, cwd=work) for _ in range(runs)])

    def git(*args: str, ok: tuple[int, ...] = (0, 1)) -> Timing:
        return Timing.of([runner.timed(["git", *args], work, ok=ok) for _ in range(runs)])

    record_id = runner.git("ls-tree", "--name-only", "HEAD", "contacts/", cwd=work).split("\n")[7]
    record_id = record_id.rpartition("/")[2].removesuffix(".yaml")
    runner.js("list", "--search", "warm", cwd=work)  # the index built, the overlay kept
    imports = [sys.executable, "-c", "import jobshare_sync.cli, jobshare_sync.cli.records"]
    return [
        {
            "operation": "show ID",
            "jobshare": js("show", record_id),
            "reference": "git show HEAD:contacts/ID.yaml",
            "ref": git("show", f"HEAD:contacts/{record_id}.yaml", ok=(0,)),
        },
        {
            "operation": "show's floor: python + imports",
            "jobshare": Timing.of([runner.timed(imports, work) for _ in range(runs)]),
            "reference": "",
            "ref": None,
        },
        {
            "operation": "list --search fenwick",
            "jobshare": js("list", "--search", "fenwick"),
            "reference": "git grep -il fenwick",
            "ref": git("grep", "-il", "fenwick"),
        },
        {
            "operation": "list --tag hiring-now",
            "jobshare": js("list", "--tag", "hiring-now"),
            "reference": "git grep -l hiring-now",
            "ref": git("grep", "-l", "hiring-now"),
        },
        {
            "operation": "status",
            "jobshare": js("status"),
            "reference": "git status --porcelain",
            "ref": git("status", "--porcelain", ok=(0,)),
        },
    ]


def table(by_n: dict[int, list[dict[str, Any]]]) -> str:
    """One markdown table: each operation, per N, jobshare's seconds and git's."""
    ns = sorted(by_n)
    header = [
        "operation",
        *[f"N = {n:,}" for n in ns],
        "git (same tree)",
        *[f"git N = {n:,}" for n in ns],
    ]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for i, first in enumerate(by_n[ns[0]]):
        cells = [first["operation"].replace(" (cold: no index)", " (cold)")]
        cells += [f"{by_n[n][i]['jobshare'].seconds:.3f} s" for n in ns]
        cells.append(first["reference"] or "")
        cells += [f"{by_n[n][i]['ref'].seconds:.3f} s" if by_n[n][i]["ref"] else "" for n in ns]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def to_json(by_n: dict[int, list[dict[str, Any]]]) -> dict[str, Any]:
    return {
        str(n): [
            {
                "operation": r["operation"],
                "jobshare": r["jobshare"].to_json(),
                "reference": r["reference"],
                "reference_timing": r["ref"].to_json() if r["ref"] else None,
            }
            for r in rows
        ]
        for n, rows in by_n.items()
    }
