"""Aliases: the small records a combined or renamed contact leaves behind, and where they lead.

An alias is `contacts/<old-id>.yaml` holding only::

    id: acme-ltd-x9z3
    alias_of: acme-recruiting-7k2q
    alias_reason: combined          # or renamed
    alias_by: bob                   # who combined or renamed it
    alias_at: '2026-10-03T09:15:00Z'
    added_by: alice                 # who added the record: the deletion rules still apply

Following `alias_of` from record to record ends at the survivor. Each repository
holds at most one alias per id and, after a merge, no cycle; when two alias
records of one id meet, or aliases meet in a cycle, every repository settles them
by the same rule (`alias_rank`, `settle_aliases`): the earlier alias stands.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Collection, Mapping, Sequence
from copy import deepcopy
from dataclasses import dataclass, field
from typing import Any

from ..values import parse_instant

Record = dict[str, Any]
ALIAS_FIELDS = ("id", "alias_of", "alias_reason", "alias_by", "alias_at", "added_by")
REASONS = ("combined", "renamed")
_EARLIEST = dt.datetime.min.replace(tzinfo=dt.UTC)

Aliases = Mapping[str, Mapping[str, Any]] | Callable[[str], Mapping[str, Any] | None]
"""The alias records of a tree by id (a mapping, or a function that looks one up)."""


def canon(value: Any) -> str:
    """Canonical text of a record: a hashable identity and a deterministic order."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=repr)


def is_alias(record: object) -> bool:
    """Whether a parsed record is an alias (it has `alias_of`)."""
    return isinstance(record, Mapping) and "alias_of" in record


def make_alias(
    record: Mapping[str, Any], survivor_id: str, *, by: str, at: str, reason: str = "combined"
) -> Record:
    """The alias `record` leaves when it is combined into, or renamed to, `survivor_id`.

    `by` is a handle, `at` an RFC 3339 instant (as jobshare writes them, `...Z`),
    `reason` one of REASONS. The alias keeps the record's `added_by`. Raises
    ValueError for an unknown reason or an alias to itself.
    """
    if reason not in REASONS:
        raise ValueError(f"unknown alias reason {reason!r}: use {' or '.join(REASONS)}")
    if record["id"] == survivor_id:
        raise ValueError(f"contacts/{survivor_id} cannot be an alias of itself")
    alias: Record = {
        "id": record["id"],
        "alias_of": survivor_id,
        "alias_reason": reason,
        "alias_by": by,
        "alias_at": at,
    }
    if "added_by" in record:
        alias["added_by"] = record["added_by"]
    return alias


def rename(record: Mapping[str, Any], new_id: str, *, by: str, at: str) -> tuple[Record, Record]:
    """`jobshare rename`: the record under `new_id` (all else as it was, `added_by`
    included) and the alias its old id becomes. Returns (renamed record, alias)."""
    renamed = deepcopy(dict(record))
    renamed["id"] = new_id
    return renamed, make_alias(record, new_id, by=by, at=at, reason="renamed")


def alias_rank(alias: Mapping[str, Any]) -> tuple[dt.datetime, str, str, str]:
    """The order in which aliases take precedence: earlier `alias_at` first (as an
    instant; an unreadable one counts as earliest), then the id it names, then who
    made it, then the whole record. Smaller ranks first."""
    at = alias.get("alias_at")
    instant = parse_instant(at) if isinstance(at, str) else None
    target = alias.get("alias_of")
    by = alias.get("alias_by")
    return (
        instant or _EARLIEST,
        target if isinstance(target, str) else "",
        by if isinstance(by, str) else "",
        canon(dict(alias)),
    )


def preferred_alias(*aliases: Mapping[str, Any]) -> Mapping[str, Any]:
    """Of several alias records of one id, the one that stands: the earliest by `alias_rank`."""
    return min(aliases, key=alias_rank)


def _lookup(aliases: Aliases) -> Callable[[str], Mapping[str, Any] | None]:
    if callable(aliases):
        return aliases
    return aliases.get


def alias_path(record_id: str, aliases: Aliases) -> list[str]:
    """The ids from `record_id` along `alias_of` to its survivor, both ends included.

    `aliases` holds a tree's alias records by id (other ids are not aliases). A
    cycle, which a merge never leaves but a hand edit can, is read as every merge
    would settle it: its latest alias (greatest `alias_rank`) is undone, so the
    record that alias names is the survivor. `alias_path("a", {})` is `["a"]`.
    """
    find = _lookup(aliases)
    path = [record_id]
    seen = {record_id: 0}
    while (alias := find(path[-1])) is not None and is_alias(alias):
        target = alias["alias_of"]
        if target in seen:
            cycle = path[seen[target] :]
            undone = max(cycle, key=lambda x: (alias_rank(find(x) or {}), x))
            return path[: path.index(undone) + 1]
        seen[target] = len(path)
        path.append(target)
    return path


def resolve(record_id: str, aliases: Aliases) -> str:
    """The survivor `record_id` leads to through `aliases` (itself if it is no alias).

    A chain that ends at an id with no record still ends there; the caller says so.
    """
    return alias_path(record_id, aliases)[-1]


@dataclass
class Settled:
    """Which alias record stands for each id, once candidates met (`settle_aliases`)."""

    chosen: dict[str, Record] = field(default_factory=dict)  # id -> the alias that stands
    passed_over: dict[str, list[Record]] = field(default_factory=dict)  # id -> candidates not taken
    undone: list[tuple[Record, tuple[str, ...]]] = field(default_factory=list)  # alias, its cycle

    def survivor(self, record_id: str) -> str:
        return resolve(record_id, self.chosen)


def settle_aliases(
    candidates: Mapping[str, Sequence[Mapping[str, Any]]], held: Collection[str] = ()
) -> Settled:
    """The aliases that stand when several repositories' aliases meet.

    `candidates` gives, per id, every alias record the merged sides hold for it.
    Rules (every repository computes the same result from the same candidates):

    1. Of two aliases of one id, the earlier (`alias_rank`) stands: a later combine
       of the same record, made without knowing the first, is passed over (its
       survivor keeps what it took in: nothing is lost, it is one more duplicate).
    2. Aliases that form a cycle (alice combined A into B while bob combined B into
       A; or A into B, B into C, C into A) are settled by undoing the latest alias
       of the cycle (greatest rank, then greatest id) among those whose record a
       side still holds as a record (`held`: ids that are no alias on some side), or
       the latest of all when none is held: that record stays, the others lead to
       it. If the undone id has another candidate alias, that one is tried next;
       otherwise the id is no alias.

    Repeats until no cycle is left; the result is acyclic.
    """
    ranked = {
        record_id: sorted(
            {canon(dict(c)): deepcopy(dict(c)) for c in cands}.values(), key=alias_rank
        )
        for record_id, cands in sorted(candidates.items())
        if cands
    }
    position = dict.fromkeys(ranked, 0)
    undone: list[tuple[Record, tuple[str, ...]]] = []
    while True:
        chosen = {i: ranked[i][p] for i, p in position.items() if p < len(ranked[i])}
        cycle = _first_cycle(chosen)
        if cycle is None:
            break
        latest = max(cycle, key=lambda i: (i in held, alias_rank(chosen[i]), i))
        undone.append((chosen[latest], cycle))
        position[latest] += 1
    passed = {
        i: [c for c in cands if c is not chosen.get(i)]
        for i, cands in ranked.items()
        if len(cands) > 1 or i not in chosen
    }
    return Settled(chosen, passed, undone)


def _first_cycle(edges: Mapping[str, Mapping[str, Any]]) -> tuple[str, ...] | None:
    """The first cycle (in id order) of a graph where each id has at most one edge."""
    done: set[str] = set()
    for start in sorted(edges):
        path: list[str] = []
        at: str | None = start
        on_path: dict[str, int] = {}
        while at is not None and at in edges and at not in done:
            if at in on_path:
                return tuple(path[on_path[at] :])
            on_path[at] = len(path)
            path.append(at)
            at = edges[at]["alias_of"]
        done.update(path)
    return None
