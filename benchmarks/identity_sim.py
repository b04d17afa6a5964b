"""One source, one record across a network: duplicates combined by hand, everywhere at once.

    python benchmarks/identity_sim.py                     # 30 people, 10 rounds, seed 1
    python benchmarks/identity_sim.py --people 8 --rounds 6 --seed 3

Each freelancer is a real jobshare repository (`jobshare init` with their own handle),
every other freelancer a friend over a file path. There are SOURCES real-world-like
agencies; each freelancer adds some of them under their own ids, with their own details
(an email of their own and the agency's shared one, a phone of their own, a note line).
Over several rounds, each one, in a seeded random order: adds another source; adds an
email, phone or tag to a contact they hold (or a note line to one they added), sometimes
through an alias's id (which leads to its survivor); combines a random pair of likely duplicates, in a
random direction; renames a contact now and then; and pulls one or two random friends.
Combines of one pair in opposite directions, chains, renames of combined records and
edits of records a friend combined meanwhile all happen. Then everyone pulls everyone
until a whole pass moves no branch. The work goes through the library (`Store`,
`workspace`, `identity`, `sync`), as the commands do.

Checks (`Report.problems`):
- no pull leaves a conflict: nothing edits a single-valued field, so no conflict here is
  one a person would call real;
- at the end, every repository holds the same contacts and aliases (byte for byte), and
  passes `validate`; every alias leads to a record;
- every email, phone and note line ever added is in some survivor.

Used by tests/test_identity_network.py (8 people) and run alone with 30.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import simulation  # noqa: E402  (benchmarks/ is on the path wherever this runs)
from simulation import record_bytes

from jobshare_sync import finishing, identity, reading, sync, validation, workspace
from jobshare_sync.core import identity as core_identity
from jobshare_sync.core import labels
from jobshare_sync.core.records import Label
from jobshare_sync.errors import JobshareError
from jobshare_sync.store import Store

AGENCIES = (
    "Acme Recruiting",
    "Northwind Talent",
    "Blue Harbour Staffing",
    "Kestrel IT Partners",
    "Meridian Search",
    "Oakridge Consulting",
    "Pinewood Digital",
    "Quantum Hire",
    "Redwood Interim",
    "Silverline People",
    "Tidewater Tech Jobs",
    "Umbra Analytics",
    "Vantage Contractors",
    "Westbrook Associates",
    "Yellowstone Recruitment",
    "Zephyr Engineering",
    "Alder & Finch",
    "Bramble Cloud Services",
    "Copperfield Data",
    "Dunmore Executive",
    "Elmstead Software",
    "Foxglove Projects",
    "Granite Solutions",
    "Hollowbrook Labs",
    "Ironbridge Interim",
    "Juniper Field Services",
    "Larkspur Media",
    "Marlowe Finance Talent",
    "Nettlefield Health",
    "Orchard Lane Hiring",
)
SUFFIXES = ("", " Ltd", " GmbH", " Limited", " Inc.")
START = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)


@dataclass
class Report:
    people: int
    rounds: int
    seed: int
    seconds: float = 0.0
    pulls: int = 0
    combines: int = 0
    renames: int = 0
    edits: int = 0
    edits_via_alias: int = 0
    passes: int = 0
    records: int = 0
    aliases: int = 0
    converged: bool = False
    problems: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"{self.people} people, {self.rounds} rounds, seed {self.seed}: {self.seconds:.1f} s, "
            f"{self.pulls} pulls, {self.combines} combines, {self.renames} renames, "
            f"{self.edits} edits ({self.edits_via_alias} through an alias), "
            f"{self.records} records and {self.aliases} aliases at the end, "
            f"{self.passes} final passes, {'converged' if self.converged else 'NOT converged'}, "
            f"{len(self.problems)} problems"
        )


@dataclass
class Freelancer:
    handle: str
    root: Path
    store: Store
    sources: set[int] = field(default_factory=set)


def slug(text: str) -> str:
    return labels.slugify(text)[:40]


class Network:
    """The freelancers, the ledger of values added, and the checks."""

    def __init__(self, root: Path, people: int, seed: int, sources: int = 30) -> None:
        self.rng = random.Random(seed)
        self.sources = AGENCIES[:sources]
        self.report = Report(people, 0, seed)
        self.clock = 0
        self.emails: set[str] = set()
        self.phones: set[str] = set()
        self.note_lines: set[str] = set()
        self.counter = 0
        self.people: list[Freelancer] = []
        self.tick()
        for i in range(people):
            handle = f"f{i:02d}"
            path = root / handle
            workspace.init_repository(
                path, handle, f"Freelancer {i}", f"{handle}@example.com", region="GB"
            )
            self.people.append(Freelancer(handle, path, Store.open(path)))
        for person in self.people:
            for friend in self.people:
                if friend is not person:
                    sync.add_friend(person.store, friend.handle, str(friend.root))

    def tick(self) -> None:
        """The clock every command reads moves on a minute (JOBSHARE_NOW)."""
        self.clock += 1
        instant = START + dt.timedelta(minutes=self.clock)
        os.environ["JOBSHARE_NOW"] = instant.strftime("%Y-%m-%dT%H:%M:%SZ")

    def unique(self) -> int:
        self.counter += 1
        return self.counter

    def problem(self, text: str) -> None:
        self.report.problems.append(text)

    # --- what people do ----------------------------------------------------------------

    def add(self, person: Freelancer) -> None:
        free = [i for i in range(len(self.sources)) if i not in person.sources]
        if not free:
            return
        i = self.rng.choice(free)
        person.sources.add(i)
        name = self.sources[i]
        domain = slug(name).replace("-", "") + ".example"
        n = self.unique()
        own_email = f"{person.handle}.{n}@{domain}"
        shared = f"jobs@{domain}"
        phone = f"+44 20 7946 {n:04d}"
        note = f"Met {name} through {person.handle} (note {n})."
        fields: dict[str, Any] = {
            "name": name + self.rng.choice(SUFFIXES),
            "kind": self.rng.choice(("agency", "recruiter")),
            "emails": [self.rng.choice((shared, shared.upper())), own_email],
            "phones": [phone],
            "notes": note + "\n",
        }
        self.emails |= {shared, own_email}
        self.phones.add(phone)
        self.note_lines.add(note)
        record_id = f"{slug(name)}-{person.handle}"
        self.tick()
        label, data = workspace.new_contact(person.store, fields, record_id)
        workspace.save_record(person.store, label, data, message=f"Add {label}")

    def edit(self, person: Freelancer) -> None:
        held = self.contacts(person)
        if not held:
            return
        record_id = self.rng.choice(sorted(held))
        via_alias = core_identity.is_alias(held[record_id])
        try:
            label = reading.follow_alias(person.store, Label("contacts", record_id))
        except JobshareError:
            return
        data = reading.read_worktree_record(person.store, label)
        n = self.unique()
        what = self.rng.random()
        if what < 0.35:
            value = f"{person.handle}.edit{n}@{record_id[:20]}.example"
            data["emails"] = [*data.get("emails", []), value]
            self.emails.add(value)
        elif what < 0.6:
            value = f"+44 161 496 {n:04d}"
            data["phones"] = [*data.get("phones", []), value]
            self.phones.add(value)
        elif what < 0.8 or data.get("added_by") != person.handle:
            # two people adding a line at one place of one text is a real conflict
            # (README: two edits of one part); so a person adds note lines only to the
            # records they added, which no one else writes in the same part
            data["tags"] = [*data.get("tags", []), f"t{n}"]
        else:
            line = f"{person.handle} says hello (line {n})."
            notes = core_identity.split_notes(data.get("notes"))
            data["notes"] = core_identity.join_notes(
                notes.own + line + "\n", notes.sections.values()
            )
            self.note_lines.add(line)
        self.tick()
        data["updated"] = os.environ["JOBSHARE_NOW"]
        workspace.save_record(person.store, label, data, message=f"Edit {label}")
        self.report.edits += 1
        self.report.edits_via_alias += via_alias

    def combine(self, person: Freelancer) -> None:
        groups = identity.duplicates(person.store)
        if not groups:
            return
        group = self.rng.choice(groups)
        keep, other = self.rng.sample(list(group.ids), 2)
        self.tick()
        identity.combine_contacts(person.store, keep, [other])
        self.report.combines += 1

    def rename(self, person: Freelancer) -> None:
        live = [i for i, r in self.contacts(person).items() if not core_identity.is_alias(r)]
        if not live:
            return
        old = self.rng.choice(sorted(live))
        new = f"{old[:50]}-r{self.unique()}"
        self.tick()
        identity.rename_contact(person.store, old, new)
        self.report.renames += 1

    def pull(self, person: Freelancer, friend: Freelancer) -> bool:
        """`person` pulls `friend` (no strategy); True when their branch moved."""
        store = person.store
        self.report.pulls += 1
        head = store.head_commit()
        self.tick()
        _, pulled = sync.pull(store, [friend.handle])
        for outcome in pulled:
            if outcome.conflicted:
                listed = [
                    (c.label, c.reason, [(f.field, f.base, f.ours, f.theirs) for f in c.fields])
                    for c in outcome.result.conflicts
                ]
                self.problem(f"{person.handle} pulling {friend.handle}: conflicts {listed}")
                finishing.abort(store)
        now = store.head_commit()
        return (now.id if now else None) != (head.id if head else None)

    def contacts(self, person: Freelancer) -> dict[str, dict[str, Any]]:
        return identity.contacts(person.store)

    # --- the run -----------------------------------------------------------------------

    def run(self, rounds: int, max_passes: int = 6) -> Report:
        started = time.perf_counter()
        self.report.rounds = rounds
        for person in self.people:
            for _ in range(4):
                self.add(person)
        self.report.passes = simulation.run_rounds(
            self.rng, self.people, rounds, step=self.step, pull=self.pull, max_passes=max_passes
        )
        self.check_final()
        self.report.seconds = time.perf_counter() - started
        return self.report

    def step(self, person: Freelancer) -> None:
        """One piece of work: add a source, combine a likely pair, rename, or edit."""
        roll = self.rng.random()
        if roll < 0.15:
            self.add(person)
        elif roll < 0.45:
            self.combine(person)
        elif roll < 0.52:
            self.rename(person)
        else:
            self.edit(person)

    # --- the checks at the end ---------------------------------------------------------

    def check_final(self) -> None:
        contents = [record_bytes(p.root, ["contacts"]) for p in self.people]
        self.report.converged = all(c == contents[0] for c in contents)
        if not self.report.converged:
            for person, content in zip(self.people, contents, strict=True):
                differ = sorted(set(content.items()) ^ set(contents[0].items()))
                if differ:
                    paths = sorted({path for path, _ in differ})[:5]
                    self.problem(f"{person.handle} differs from f00 in {paths}")
        for person in self.people:
            report = validation.validate(person.store)
            errors = [p for p in report.problems if p.severity == "error"]
            if errors:
                self.problem(f"{person.handle}: validate: {errors[:3]}")
        held = self.contacts(self.people[0])
        survivors = {i: r for i, r in held.items() if not core_identity.is_alias(r)}
        self.report.records, self.report.aliases = len(survivors), len(held) - len(survivors)
        for record_id, record in held.items():
            if core_identity.is_alias(record):
                end = core_identity.resolve(record_id, held)
                if end not in survivors:
                    self.problem(f"contacts/{record_id} leads to {end}, which is no record")
        emails = {str(e).lower() for r in survivors.values() for e in r.get("emails", [])}
        phones = {str(p) for r in survivors.values() for p in r.get("phones", [])}
        notes = "\n".join(str(r.get("notes", "")) for r in survivors.values())
        lost = sorted(e for e in self.emails if e.lower() not in emails)
        lost += sorted(p for p in self.phones if p not in phones)
        lost += sorted(line for line in self.note_lines if line not in notes)
        if lost:
            self.problem(f"{len(lost)} values added are in no survivor: {lost[:5]}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python benchmarks/identity_sim.py", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--people", type=int, default=30, help="freelancers (default 30)")
    parser.add_argument("--rounds", type=int, default=10, help="rounds of work (default 10)")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="jobshare-identity-") as scratch:
        simulation.use_git_home(Path(scratch), "Identity Benchmark")
        network = Network(Path(scratch) / "network", args.people, args.seed)
        report = network.run(args.rounds)
    print(report.summary())
    for problem in report.problems[:20]:
        print(f"  {problem}")
    return 0 if report.converged and not report.problems else 1


if __name__ == "__main__":
    sys.exit(main())
