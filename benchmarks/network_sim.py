"""A network of freelancers, simulated with real repositories: does everyone converge?

Each freelancer is a real jobshare repository, made by `jobshare init` with their own
handle, with every other freelancer as a friend over a file path. Over several rounds,
each one (in a seeded random order) adds contacts, edits fields of any contact they hold,
adds tags, deletes some contacts they added (see DELETIONS), and pulls one or two random
friends with `--strategy newest`. Then everyone pulls everyone until a whole pass moves
no branch. The work goes through the library (`Store`, `workspace`, `sync`), as the
commands do, without starting a process per step; each pull is previewed first
(`merge_friend(dry_run=True)`), to see the conflicts `newest` then resolves.

The simulation keeps a ledger of every write: who wrote what value to which field of
which record, and what the writer had seen by then, as a vector clock (for each person,
how many of their writes had reached the writer's repository; a repository has seen a
friend's writes once its branch contains the friend's branch). Every value written is
unique, so a field's value in any repository names the write that produced it. A
conflict resolved counts as a write of its resolver, kept apart. With that it checks:

- before each pull, the conflicts the merge reports are exactly the genuine ones: a
  field both sides hold from two different writes, neither of which the other side had
  seen, or from two resolutions of an earlier conflict made each without seeing the
  other (newest decides by each record's `updated`, so two people can resolve the same
  conflict differently); and a record one side deleted while the other changed it;
- at the end, all repositories hold byte-identical `contacts/` and `referrals/`, and
  pass `validate`;
- no write is lost unless something replaced it: a final value is never one that a
  write which had seen it replaced (so only a concurrent write, picked by `newest`,
  can replace a value), except where the record's owner deleted the record after that
  write; every tag added survives; a record is absent only if its owner deleted it,
  and present only if something written to it was not seen by every deletion of it.

Two cases are counted rather than failed (`Report.unexplained`), because the ledger
cannot call them exactly: a field whose conflict was resolved before (git's three-way
merge sees a resolution only where a merge base held the other value), and a record its
owner deleted (until the owner's branch shows the deletion to a friend, copies of any
age travel, and one older than a merge base looks changed).

Used by tests/test_network.py (which puts this folder on sys.path) and by
benchmarks/network.py, which runs it with more people and prints the figures.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pygit2
import simulation  # noqa: E402  (benchmarks/ is on the path wherever this runs)
from simulation import record_bytes

from jobshare_sync import finishing, sync, validation, workspace
from jobshare_sync.core import records
from jobshare_sync.core.merge import MergeResult
from jobshare_sync.core.records import Label
from jobshare_sync.store import KEPT_DELETIONS, Store

VALUE_FIELDS = ("name", "organization", "role", "location", "website")
# Who deletes what. "ephemeral": some records are edited by their owner only, who may
# delete them; a deletion then never races an edit, and everything is checked exactly.
# "any": owners delete any record they added, others may be editing it at the time; newest
# keeps such a record (nothing is lost), but which side's version comes back depends on
# each record's `updated`, so that conflicts and losses are not predicted exactly: only
# convergence, resurrection and values' origins are checked, mismatches are counted.
DELETIONS = ("none", "ephemeral", "any")
KINDS = ("recruiter", "client", "agency", "service-business", "freelancer", "other")
CREATED, DELETED, TAGS = "<created>", "<deleted>", "tags"
START = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


@dataclass(frozen=True, eq=False)
class Write:
    """One commit of one freelancer: a record created or deleted, one field set, a tag added."""

    number: int  # global order; also the record's `updated`, in seconds after START
    who: str
    seq: int  # the writer's own count of writes
    label: str
    field: str  # a value field, TAGS, CREATED or DELETED
    value: Any
    clock: Mapping[str, int]  # what the writer had seen, this write included

    def seen_by(self, clock: Mapping[str, int]) -> bool:
        return clock.get(self.who, 0) >= self.seq

    def before(self, other: Write) -> bool:
        """Whether `other` was written by someone who had seen this write."""
        return other is not self and self.seen_by(other.clock)

    @property
    def time(self) -> str:
        return (START + dt.timedelta(seconds=self.number)).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Freelancer:
    handle: str
    root: Path
    store: Store
    clock: dict[str, int] = field(default_factory=dict)
    seq: int = 0
    added: int = 0

    def head(self) -> str:
        head = self.store.head_commit()
        assert head is not None
        return head.id


@dataclass
class Report:
    people: int
    rounds: int
    seed: int
    seconds: float = 0.0
    writes: int = 0
    pulls: int = 0
    conflicts: int = 0  # conflicts the merges reported (fields, and records deleted on one side)
    genuine: int = 0  # concurrent edits the ledger says they should have reported
    repeated: int = 0  # of those, between two resolutions of an earlier conflict
    unexplained: int = 0  # reported but not genuine, or the reverse, where not called exactly
    criss_cross: int = 0  # pulls with several merge bases
    kept: int = 0  # deletions a friend relayed, kept for want of the owner's word
    passes: int = 0  # passes of everyone pulling everyone at the end
    records: int = 0
    converged: bool = False
    problems: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"{self.people} people, {self.rounds} rounds, seed {self.seed}: "
            f"{self.seconds:.1f} s, {self.writes} writes, {self.pulls} pulls "
            f"({self.criss_cross} criss-cross, {self.kept} relayed deletions kept), "
            f"{self.conflicts} conflicts "
            f"({self.genuine} genuine, {self.repeated} after an earlier resolution, "
            f"{self.unexplained} unexplained), "
            f"{self.passes} final passes, {self.records} records, "
            f"convergence {'OK' if self.converged and not self.problems else 'NOT OK'}"
        )


def canon(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


class Network:
    """The freelancers, the ledger, and the checks (see the module's docstring)."""

    def __init__(
        self,
        root: Path,
        people: int,
        seed: int,
        *,
        disjoint: bool = False,
        deletions: str = "ephemeral",
    ) -> None:
        if deletions not in DELETIONS:
            raise ValueError(f"deletions: one of {', '.join(DELETIONS)}")
        self.rng = random.Random(seed)
        self.disjoint = disjoint  # each field of each record edited by one person only
        self.deletions = deletions
        self.exact = deletions != "any"  # see DELETIONS
        self.ephemeral: set[str] = set()  # records only their owner edits, and may delete
        self.report = Report(people, 0, seed)
        self.writes: list[Write] = []
        self.by_value: dict[tuple[str, str, str], list[Write]] = {}  # (label, field, value)
        self.field_writes: dict[tuple[str, str], list[Write]] = {}
        self.deleted: dict[str, list[Write]] = {}
        self.parsed: dict[str, tuple[str, dict[str, dict[str, Any]]]] = {}  # handle: head, records
        self.resolutions: dict[tuple[str, str], list[Write]] = {}  # (label, field)
        self.people: list[Freelancer] = []
        for i in range(people):
            handle = f"f{i:02d}"
            path = root / handle
            workspace.init_repository(path, handle, f"Freelancer {i}", f"{handle}@example.com")
            self.people.append(Freelancer(handle, path, Store.open(path)))
        for person in self.people:
            for friend in self.people:
                if friend is not person:
                    sync.add_friend(person.store, friend.handle, str(friend.root))

    # --- the ledger -----------------------------------------------------------------

    def write(self, person: Freelancer, label: str, name: str, value: Any) -> Write:
        person.seq += 1
        person.clock[person.handle] = person.seq
        w = Write(
            len(self.writes) + 1, person.handle, person.seq, label, name, value, dict(person.clock)
        )
        self.writes.append(w)
        if name in VALUE_FIELDS:
            self.by_value.setdefault((label, name, canon(value)), []).append(w)
        if name == DELETED:
            self.deleted.setdefault(label, []).append(w)
        self.field_writes.setdefault((label, name), []).append(w)
        return w

    def writers(
        self, label: str, name: str, record: Mapping[str, Any], clock: Mapping[str, int]
    ) -> list[Write]:
        """The write a field's value comes from (an absent field: the record's creation)."""
        return latest(self.by_value.get((label, name, canon(record.get(name))), []), clock)

    def resolve(self, person: Freelancer, keys: list[tuple[str, str]]) -> None:
        """Conflicts on these fields resolved in `person`'s merge commit (which counts as a
        write of theirs): remembered with the value kept."""
        if not keys:
            return
        person.seq += 1
        person.clock[person.handle] = person.seq
        now = self.state(person)
        for label, name in keys:
            value = now[label].get(name)
            # numbered as the last write before it: only its clock matters
            r = Write(
                len(self.writes), person.handle, person.seq, label, name, value, dict(person.clock)
            )
            self.resolutions.setdefault((label, name), []).append(r)

    def record_writes(
        self, label: str, record: Mapping[str, Any], clock: Mapping[str, int]
    ) -> list[Write]:
        """The writes a record's content shows: its value fields' and its tags'."""
        found = [w for name in VALUE_FIELDS for w in self.writers(label, name, record, clock)]
        tags = {canon(t) for t in record.get(TAGS, [])}
        found += [w for w in self.field_writes.get((label, TAGS), []) if canon(w.value) in tags]
        return found

    # --- what people do ----------------------------------------------------------------

    def state(self, person: Freelancer) -> dict[str, dict[str, Any]]:
        """The person's records, parsed once per commit."""
        head = person.head()
        if self.parsed.get(person.handle, ("", {}))[0] != head:
            found, _ = person.store.worktree_files()
            held = {
                str(label): records.load_yaml(path.read_bytes(), label.path).data
                for label, path in sorted(found.items())
            }
            self.parsed[person.handle] = (head, held)
        return self.parsed[person.handle][1]

    def add(self, person: Freelancer) -> None:
        person.added += 1
        record_id = f"{person.handle}-{person.added}"
        label = f"contacts/{record_id}"
        w = self.write(person, label, CREATED, None)
        data: dict[str, Any] = {
            "id": record_id,
            "kind": self.rng.choice(KINDS),
            "name": self.value("name", w.who, w.number),
            "added_by": person.handle,
            "updated": w.time,
        }
        if self.rng.random() < 0.5:
            data["location"] = self.value("location", w.who, w.number)
        if self.deletions == "ephemeral" and self.rng.random() < 0.3:
            self.ephemeral.add(label)
        for name in VALUE_FIELDS:  # absent fields too: their "value" is the creation's
            self.by_value.setdefault((label, name, canon(data.get(name))), []).append(w)
        workspace.save_record(
            person.store, Label("contacts", record_id), data, message=f"Add {label}"
        )

    def value(self, name: str, who: str, number: int) -> str:
        """A value nobody else writes: the field, the writer and the write's number."""
        if name == "website":
            return f"https://{who}.example/{number}"
        if name == TAGS:
            return f"t-{who}-{number}"
        return f"{name} {who} {number}"

    def edit(self, person: Freelancer) -> None:
        held = {
            label: data
            for label, data in self.state(person).items()
            if label not in self.ephemeral or data.get("added_by") == person.handle
        }
        if self.disjoint:
            choices = [
                (label, name)
                for label in held
                for name in VALUE_FIELDS
                if self.editor_of(label, name) == person.handle
            ]
        else:
            names = (*VALUE_FIELDS, TAGS)
            choices = [(label, name) for label in held for name in names]
        if not choices:
            return
        label, name = self.rng.choice(choices)
        data = dict(held[label])
        value = self.value(name, person.handle, len(self.writes) + 1)
        w = self.write(person, label, name, value)
        data[name] = [*data.get(TAGS, []), value] if name == TAGS else value
        data["updated"] = w.time
        folder, _, record_id = label.partition("/")
        workspace.save_record(person.store, Label(folder, record_id), data, message=f"Edit {label}")

    def editor_of(self, label: str, name: str) -> str:
        """In the disjoint variant, the one person who edits this field of this record."""
        slot = (sum(label.encode()) * len(VALUE_FIELDS) + VALUE_FIELDS.index(name)) % len(
            self.people
        )
        return self.people[slot].handle

    def delete(self, person: Freelancer) -> None:
        mine = [
            label
            for label, data in self.state(person).items()
            if data.get("added_by") == person.handle
            and (self.deletions == "any" or label in self.ephemeral)
        ]
        if not mine:
            return
        label = self.rng.choice(mine)
        self.write(person, label, DELETED, None)
        folder, _, record_id = label.partition("/")
        workspace.remove_record(person.store, Label(folder, record_id))

    # --- pulling -----------------------------------------------------------------------

    def pull(self, person: Freelancer, friend: Freelancer) -> bool:
        """`person` pulls `friend` with --strategy newest; True when their branch moved."""
        store = person.store
        self.report.pulls += 1
        [fetched] = sync.fetch(store, [friend.handle])
        if not fetched.ok:
            self.problem(f"{person.handle} cannot fetch {friend.handle}: {fetched.message}")
            return False
        known = sync.get_friend(store, friend.handle)
        ours, theirs = self.state(person), self.state(friend)
        genuine = self.genuine_conflicts(person, friend, ours, theirs)
        preview = sync.merge_friend(store, known, dry_run=True)
        reported = conflict_keys(preview.result)
        head, their_head = person.head(), known.fetched
        assert their_head is not None
        apart = head != their_head and not store.descendant_of(head, their_head)
        if apart and len(store.merge_bases(head, their_head)) > 1:
            self.report.criss_cross += 1
        self.report.conflicts += len(reported)
        self.report.genuine += len(genuine)
        # Two cases the ledger cannot call exactly, counted rather than failed (the checks
        # at the end still apply): a field whose conflict was resolved before, somewhere
        # (git's three-way merge sees a resolution only where a merge base held the other
        # value), and a record its owner deleted (friends keep a deletion that reaches them
        # through another friend until the owner's branch shows it, so copies of any age
        # travel meanwhile, and one older than a merge base looks changed).
        differ = reported ^ genuine
        self.report.unexplained += len(differ)
        wrong = {k for k in differ if k not in self.resolutions and k[0] not in self.deleted}
        if not self.exact:
            wrong = set()
        if wrong:
            self.problem(
                f"{person.handle} pulling {friend.handle}: conflicts reported "
                f"{sorted(reported & wrong)} are not genuine; genuine ones not reported: "
                f"{sorted(genuine & wrong)}"
            )
        _, [outcome] = sync.pull(store, [friend.handle], strategy="newest", do_fetch=False)
        self.report.kept += sum(1 for n in outcome.result.notices if n.kind == "kept-deleted")
        if outcome.conflicted:
            self.problem(f"{person.handle} pulling {friend.handle}: newest left conflicts")
            finishing.abort(store)
        if outcome.resolved_by_strategy != len(preview.result.conflicts):
            self.problem(
                f"{person.handle} pulling {friend.handle}: resolved {outcome.resolved_by_strategy}"
            )
        now = person.head()
        moved = now != head
        if store.descendant_of(now, their_head) or now == their_head:
            for who, seq in friend.clock.items():
                person.clock[who] = max(person.clock.get(who, 0), seq)
        self.resolve(person, sorted(key for key in reported if key[1] in VALUE_FIELDS))
        return moved

    def genuine_conflicts(
        self,
        person: Freelancer,
        friend: Freelancer,
        ours: Mapping[str, Mapping[str, Any]],
        theirs: Mapping[str, Mapping[str, Any]],
    ) -> set[tuple[str, str]]:
        """What a pull should report, from the ledger alone."""
        found: set[tuple[str, str]] = set()
        for label in sorted(set(ours) | set(theirs)):
            mine, yours = ours.get(label), theirs.get(label)
            if mine is not None and yours is not None:
                for name in VALUE_FIELDS:
                    if canon(mine.get(name)) != canon(yours.get(name)):
                        a = self.writers(label, name, mine, person.clock)
                        b = self.writers(label, name, yours, friend.clock)
                        if concurrent(a, b, person.clock, friend.clock):
                            found.add((label, name))
                        elif seen(a, friend.clock) and seen(b, person.clock):
                            # both saw both writes, and each resolved their conflict (or
                            # took a resolution) its own way: do the resolutions race?
                            resolutions = self.resolutions.get((label, name), [])
                            a = latest(resolutions, person.clock)
                            b = latest(resolutions, friend.clock)
                            if a and b and concurrent(a, b, person.clock, friend.clock):
                                found.add((label, name))
                                self.report.repeated += 1
                continue
            held, holder, other = (
                (mine, person, friend) if mine is not None else (yours, friend, person)
            )
            assert held is not None
            deletions = [
                d
                for d in self.deleted.get(label, [])
                if d.seen_by(other.clock) and not d.seen_by(holder.clock)
            ]
            changes = [
                w
                for w in self.record_writes(label, held, holder.clock)
                if not w.seen_by(other.clock)
            ]
            if deletions and changes:
                found.add((label, DELETED))
        return found

    def problem(self, text: str) -> None:
        self.report.problems.append(text)

    # --- the whole run -----------------------------------------------------------------

    def run(self, rounds: int, max_passes: int = 8) -> Report:
        started = time.perf_counter()
        self.report.rounds = rounds
        for person in self.people:
            for _ in range(2):
                self.add(person)
        self.report.passes = simulation.run_rounds(
            self.rng,
            self.people,
            rounds,
            step=self.step,
            pull=self.pull,
            max_passes=max_passes,
            needs_pull=self.needs_pull,
        )
        self.report.writes = len(self.writes)
        self.check_final()
        self.report.seconds = time.perf_counter() - started
        return self.report

    def step(self, person: Freelancer) -> None:
        """One piece of work: add a record, delete one (when deletions are simulated),
        or edit one."""
        roll = self.rng.random()
        if roll < 0.25:
            self.add(person)
        elif roll < 0.33 and self.deletions != "none":
            self.delete(person)
        else:
            self.edit(person)

    def needs_pull(self, person: Freelancer, friend: Freelancer) -> bool:
        """Whether a pull could change anything: not when the person's branch has the
        friend's (a pull then only applies deletions kept earlier, if any)."""
        mine, theirs = person.head(), friend.head()
        try:
            has_it = mine == theirs or person.store.descendant_of(mine, theirs)
        except (KeyError, ValueError, pygit2.GitError):  # their commit is not fetched yet
            return True
        return not has_it or (person.store.state_dir / KEPT_DELETIONS).exists()

    # --- the checks at the end --------------------------------------------------------

    def check_final(self) -> None:
        contents = [record_bytes(p.root) for p in self.people]
        self.report.converged = all(c == contents[0] for c in contents)
        if not self.report.converged:
            for p, c in zip(self.people, contents, strict=True):
                differ = sorted(set(c.items()) ^ set(contents[0].items()))
                if differ:
                    self.problem(f"{p.handle} differs from {self.people[0].handle}: {differ[:4]}")
        final = self.state(self.people[0])
        self.report.records = len(final)
        for person in self.people:
            report = validation.validate(person.store)
            if report.errors:
                self.problem(f"{person.handle}: invalid records: {report.problems[:3]}")
        everything = {p.handle: p.seq for p in self.people}
        created = {w.label for w in self.writes if w.field == CREATED}
        for label in sorted(created):
            record = final.get(label)
            deletions = self.deleted.get(label, [])
            if record is None:
                if not deletions:
                    self.problem(f"{label} is gone, but its owner never deleted it")
                continue
            shown = self.record_writes(label, record, everything)
            for d in deletions:
                if all(w.before(d) for w in shown):
                    self.problem(f"{label} was deleted after every write it shows, but is back")
            for name in (*VALUE_FIELDS, TAGS):
                self.check_field(label, name, record, deletions, everything)

    def check_field(
        self,
        label: str,
        name: str,
        record: Mapping[str, Any],
        deletions: list[Write],
        everything: Mapping[str, int],
    ) -> None:
        writes = self.field_writes.get((label, name), []) if self.exact else []
        if name == TAGS:
            tags = set(record.get(TAGS, []))
            for w in writes:
                if w.value not in tags and not any(w.before(d) for d in deletions):
                    self.problem(f"{label}: tag {w.value} by {w.who} was lost")
            return
        finals = self.writers(label, name, record, everything)
        if not finals:
            self.problem(f"{label}: {name} is {record.get(name)!r}, which nobody wrote")
            return
        for w in writes:
            if all(f.before(w) for f in finals) and not any(w.before(d) for d in deletions):
                self.problem(
                    f"{label}: {name} is {record.get(name)!r} (write {finals[0].number} by "
                    f"{finals[0].who}), but {w.who} replaced it with {w.value!r} "
                    f"(write {w.number})"
                )


def latest(writes: list[Write], clock: Mapping[str, int]) -> list[Write]:
    """Of these writes, those a repository with this clock has seen and has not seen
    replaced by another of them: one, or several made concurrently."""
    known = [w for w in writes if w.seen_by(clock)]
    return [w for w in known if not any(w.before(other) for other in known)]


def seen(writes: list[Write], clock: Mapping[str, int]) -> bool:
    """Whether a repository with this clock has seen all these writes (a value's latest)."""
    return bool(writes) and all(w.seen_by(clock) for w in writes)


def concurrent(
    ours: list[Write],
    theirs: list[Write],
    our_clock: Mapping[str, int],
    their_clock: Mapping[str, int],
) -> bool:
    """Whether neither side had seen the other's write(s)."""
    return not seen(theirs, our_clock) and not seen(ours, their_clock)


def conflict_keys(result: MergeResult) -> set[tuple[str, str]]:
    keys: set[tuple[str, str]] = set()
    for conflict in result.conflicts:
        if conflict.reason in ("modify-delete", "delete-modify"):
            keys.add((conflict.label, DELETED))
        elif conflict.fields:
            keys |= {(conflict.label, f.field) for f in conflict.fields}
        else:
            keys.add((conflict.label, conflict.reason))
    return keys
