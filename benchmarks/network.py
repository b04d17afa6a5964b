"""Does a network of freelancers converge? The simulation of network_sim.py, at scale.

    python benchmarks/network.py                          # 30 people, 12 rounds, seed 1
    python benchmarks/network.py --people 8 --rounds 6 --seed 3
    python benchmarks/network.py --deletions any          # deletions may race edits
    python benchmarks/network.py --disjoint --deletions none

Each freelancer is a real repository in a temporary folder, with a temporary HOME and
global git config. Prints the time, the writes, the pulls (and how many had several
merge bases), the conflicts (and how many were genuine), and whether every repository
ended with the same records and nothing was lost; exit 0 when so, 1 otherwise. The
test suite runs the same simulation with 8 people (tests/test_network.py).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import network_sim  # noqa: E402
import simulation  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python benchmarks/network.py", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--people", type=int, default=30, help="freelancers (default 30)")
    parser.add_argument("--rounds", type=int, default=12, help="rounds of work (default 12)")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    parser.add_argument(
        "--deletions",
        choices=network_sim.DELETIONS,
        default="ephemeral",
        help="who deletes what (see network_sim.DELETIONS; default ephemeral)",
    )
    parser.add_argument(
        "--disjoint", action="store_true", help="each field of each record has one editor"
    )
    parser.add_argument("--keep", metavar="DIR", help="build the repositories in DIR and keep them")
    args = parser.parse_args(argv)
    if args.people < 2 or args.rounds < 0:
        parser.error("--people needs at least 2, --rounds at least 0")

    with tempfile.TemporaryDirectory(prefix="jobshare-network-") as scratch:
        simulation.use_git_home(Path(scratch), "Network Benchmark")
        root = Path(args.keep) if args.keep else Path(scratch) / "network"
        root.mkdir(parents=True, exist_ok=True)
        network = network_sim.Network(
            root, args.people, args.seed, disjoint=args.disjoint, deletions=args.deletions
        )
        report = network.run(args.rounds)

    print(f"people           {report.people}")
    print(f"rounds           {report.rounds}")
    print(f"seed             {report.seed}")
    print(f"time             {report.seconds:.1f} s")
    print(f"writes           {report.writes}")
    print(f"pulls            {report.pulls} ({report.criss_cross} with several merge bases)")
    print(f"relayed deletions kept  {report.kept}")
    print(
        f"conflicts        {report.conflicts} ({report.genuine} genuine, {report.repeated} "
        f"between two resolutions, {report.unexplained} not called exactly)"
    )
    print(f"final passes     {report.passes}")
    print(f"records          {report.records}")
    ok = report.converged and not report.problems
    print(f"convergence      {'OK' if ok else 'NOT OK'}")
    for problem in report.problems[:20]:
        print(f"  {problem}")
    if len(report.problems) > 20:
        print(f"  ... and {len(report.problems) - 20} more")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
