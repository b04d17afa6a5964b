"""One source, one record across a network: the simulation of benchmarks/identity_sim.py
with eight freelancers adding the same sources under their own ids, combining random
pairs in random directions (some at once), renaming, editing through aliases, and
pulling random friends; then everyone pulls everyone."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from conftest import ROOT

sys.path.insert(0, str(ROOT / "benchmarks"))
import identity_sim  # noqa: E402  (the benchmark's simulation, run there with 30 people)


@pytest.mark.slow
def test_eight_freelancers_combining_at_random_converge_and_lose_nothing(tmp_path: Path) -> None:
    """Every repository ends with the same records and aliases, byte for byte, valid;
    every alias leads to a record; every email, phone and note line ever added is in a
    survivor; no pull met a conflict (nothing edits a field two people could both
    change)."""
    network = identity_sim.Network(tmp_path, 8, seed=3)
    report = network.run(8)
    print(report.summary())
    assert report.problems == []
    assert report.converged
    # the run met what it is meant to check
    assert report.combines > 10 and report.renames > 2 and report.edits_via_alias > 3
    assert report.aliases > 10
