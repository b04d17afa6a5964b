"""What the network simulations share: a git home of their own, the rounds of work with
random pulls, the passes until quiet, and the record files compared at the end.

`benchmarks/network_sim.py` (edits and deletions) and `benchmarks/identity_sim.py`
(duplicates combined by hand) each give `run_rounds` what one person does in one step
and how one pull is made; the order of people, steps and friends comes from one seeded
`random.Random`, so a seed gives the same run.
"""

from __future__ import annotations

import os
import random
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

import pygit2

from jobshare_sync.core import records

Person = TypeVar("Person")


def use_git_home(scratch: Path, name: str) -> Path:
    """Point git and pygit2 at a fresh home under `scratch` (user `name`, branch main, no
    automatic gc), so a run never reads or writes the user's own configuration."""
    home = scratch / "home"
    home.mkdir(parents=True, exist_ok=True)
    slug = name.lower().replace(" ", "-")
    (home / ".gitconfig").write_text(
        f"[user]\n\tname = {name}\n\temail = {slug}@example.com\n"
        "[init]\n\tdefaultBranch = main\n[gc]\n\tauto = 0\n"
    )
    os.environ.update(
        HOME=str(home), GIT_CONFIG_GLOBAL=str(home / ".gitconfig"), GIT_CONFIG_NOSYSTEM="1"
    )
    pygit2.settings.search_path[pygit2.enums.ConfigLevel.GLOBAL] = str(home)
    return home


def run_rounds(
    rng: random.Random,
    people: Sequence[Person],
    rounds: int,
    *,
    step: Callable[[Person], None],
    pull: Callable[[Person, Person], bool],
    max_passes: int,
    needs_pull: Callable[[Person, Person], bool] = lambda person, friend: True,
) -> int:
    """Rounds of work, then passes until quiet; returns the number of passes made.

    Each round takes the people in a shuffled order; each makes one to three `step`s,
    then pulls one or two random friends. After the rounds, everyone pulls everyone
    (where `needs_pull` says a pull could change anything) until a whole pass moves no
    branch (`pull` returns whether the person's branch moved), `max_passes` at most."""
    for _ in range(rounds):
        order = list(people)
        rng.shuffle(order)
        for person in order:
            for _ in range(rng.randint(1, 3)):
                step(person)
            others = [p for p in people if p is not person]
            for friend in rng.sample(others, rng.randint(1, 2)):
                pull(person, friend)
    for passes in range(1, max_passes + 1):
        moved = False
        for person in people:
            for friend in people:
                if friend is not person and needs_pull(person, friend):
                    moved |= pull(person, friend)
        if not moved:
            return passes
    return max_passes


def record_bytes(root: Path, folders: Sequence[str] = records.FOLDERS) -> dict[str, bytes]:
    """Every record file's bytes under `root`, by path relative to it ("contacts/x.yaml")."""
    return {
        str(p.relative_to(root)): p.read_bytes()
        for folder in folders
        for p in sorted((root / folder).glob("*.yaml"))
    }
