"""Deletions relayed by friends: what the owner's own branch shows, and the deletions
kept for want of that proof.

A friend may delete only the records they added (DESIGN section 3). When Carol deletes
her record and Bob pulls her, Bob's deletion reaches Alice as Bob's, and is kept. So
that the network still converges, Alice accepts it when Carol's own branch shows that
Carol deleted it: not in her latest commit, but in one before. Deletions kept for want
of that proof are remembered (`.git/jobshare/kept-deletions.json`), and checked again
whenever Carol is pulled.
"""

from __future__ import annotations

import contextlib
import itertools
import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from .core.merge import MergeResult
from .friends import list_friends
from .store import KEPT_DELETIONS, Commit, Store, write_atomically


class OwnerBranches:
    """What the owner's own branch shows of a record: a friend's branch as last fetched,
    our own for the records we added. Nobody else's word counts.

    `limit` is how many commits of the owner's own line are searched for the record.
    The line is read once per tip (the commits are shared by every record looked up);
    `lookups` counts the record paths looked up in trees, the work that grows with the
    records and the commits searched.
    """

    def __init__(self, store: Store, limit: int) -> None:
        self.store = store
        self.limit = limit
        self.tips = {f.handle: f.fetched for f in list_friends(store) if f.handle and f.fetched}
        head = store.head_commit()
        if head is not None:
            self.tips[store.handle] = head.id
        self.lookups = 0
        # per tip: the steps read so far, and the last commit reached
        self._lines: dict[str, tuple[list[tuple[str, list[str]]], list[Commit]]] = {}

    def _line(self, tip: str) -> Iterator[tuple[str, list[str]]]:
        """The owner's line below `tip`, newest first: per step, the commit reached (a
        first parent) and the trees to look in there: those of what the step's merge
        took in (its other parents), then the first parent's own. Read as far as a
        search goes, once per tip."""
        if tip not in self._lines:
            self._lines[tip] = ([], [self.store.commit(tip)])
        steps, last = self._lines[tip]
        for i in itertools.count():
            if i == len(steps):
                if i >= self.limit or not last[0].parents:
                    return
                parents = [self.store.commit(p) for p in last[0].parents]
                steps.append((parents[0].id, [p.tree for p in parents[1:]] + [parents[0].tree]))
                last[0] = parents[0]
            yield steps[i]

    def _blob(self, tree: str | None, path: str) -> str | None:
        self.lookups += 1
        return self.store.blob_id_at(tree, path)

    def _versions(
        self, label: str, added_by: Any, since: str | None = None
    ) -> Iterator[str | None]:
        """The record's blob along its owner's branch, newest first: in each commit of the
        branch's own line (first parents, at most `limit` of them) and in what each of its
        merges took in; nothing when the branch still holds it, or is unknown. With
        `since` (a tip of the same branch searched before), the search stops at that
        commit's own version: what lies below it was searched then.

        Not the whole history: in a network of many friends it holds every friend's
        commits, thousands of them, and a deletion made long ago fell out of reach (so
        the deletion was never proved, and a stale copy came back to its owner).
        """
        tip = self.tips.get(added_by) if isinstance(added_by, str) else None
        path = f"{label}.yaml"
        if tip is None or self._blob(self.store.commit(tip).tree, path):
            return
        for reached, trees in self._line(tip):
            for tree in trees:
                yield self._blob(tree, path)
            if reached == since:
                return

    def holds(self, label: str, added_by: Any) -> bool:
        """Whether the owner's branch holds the record at its tip (one look)."""
        tip = self.tips.get(added_by) if isinstance(added_by, str) else None
        return (
            tip is not None and self._blob(self.store.commit(tip).tree, f"{label}.yaml") is not None
        )

    def deleted(self, label: str, added_by: Any) -> bool:
        """Whether the owner had the record, and no longer has it."""
        return any(oid is not None for oid in self._versions(label, added_by))

    def held(self, label: str, added_by: Any, oid: str | None, since: str | None = None) -> bool:
        """Whether the owner deleted the record after holding exactly this version of it
        (a blob id): a copy of it is then stale, not a change anyone made since. With
        `since`, only the part of the owner's line above that earlier tip is searched."""
        return oid is not None and any(
            found == oid for found in self._versions(label, added_by, since)
        )


def _kept_path(store: Store) -> Path:
    return store.state_dir / KEPT_DELETIONS


def load_kept(store: Store) -> dict[str, str]:
    """The deletions kept for want of proof: label -> the handle of who added the record."""
    try:
        kept = json.loads(_kept_path(store).read_text())
    except (OSError, ValueError):
        return {}
    return {str(k): str(v) for k, v in kept.items()} if isinstance(kept, dict) else {}


def kept_state(
    store: Store, result: MergeResult | None, removed: Iterable[str]
) -> dict[str, str | None]:
    """The kept deletions once a merge is committed, as a state file for `commit_files`
    ({} when unchanged): the ones `result` kept are added, the `removed` records dropped.
    Written with the commit, never before it, so a pull killed or aborted leaves none."""
    kept = load_kept(store)
    new = dict(kept)
    for record in result.records if result is not None else []:
        for notice in record.notices:
            if notice.kind == "kept-deleted" and record.result is not None:
                new[record.label] = str(record.result.get("added_by"))
    for label in removed:
        new.pop(label, None)
    if new == kept:
        return {}
    return {KEPT_DELETIONS: json.dumps(new, sort_keys=True) if new else None}


def late_deletions(
    store: Store, handle: str | None, ours: Commit | None, owners: OwnerBranches
) -> list[str]:
    """Kept records of the friend with this handle that their own branch shows they
    deleted, as we hold them still (one changed here since is a change made without
    seeing the deletion: it stays, as it would in a conflict resolved by newest).

    Checked on every pull of that friend, so its cost must not grow with their history
    for every kept record: what was found unproven is remembered with the friend's tip
    and our version (`kept-checked.json`, a cache), and searched again only above that
    tip once the branch moved, or in full when our version changed. (A record the tip
    still holds costs one look, and is not remembered: the search below starts once the
    owner deletes it.)"""
    if ours is None:
        return []
    checked = _load_checked(store)
    tip = owners.tips.get(handle) if handle is not None else None
    before: dict[str, Any] = checked.get(handle or "", {})
    since = before.get("tip") if isinstance(before.get("tip"), str) else None
    records = before.get("records")
    known: dict[str, Any] = records if isinstance(records, dict) else {}
    late, unproven = [], {}
    for label, added_by in sorted(load_kept(store).items()):
        if added_by != handle:
            continue
        oid = store.blob_id_at(ours.tree, f"{label}.yaml")
        searched = known.get(label) == oid and since is not None
        if searched and since == tip:
            unproven[label] = oid
        elif owners.held(label, added_by, oid, since if searched else None):
            late.append(label)
        elif not owners.holds(label, added_by):  # searched below the tip: remembered
            unproven[label] = oid
    if handle is not None and tip is not None and (unproven or handle in checked):
        _save_checked(store, checked, handle, {"tip": tip, "records": unproven})
    return late


CHECKED = "kept-checked.json"  # a cache: kept deletions found unproven, by the owner's tip


def _load_checked(store: Store) -> dict[str, dict[str, Any]]:
    try:
        found = json.loads((store.state_dir / CHECKED).read_text())
    except (OSError, ValueError):
        return {}
    if not isinstance(found, dict):
        return {}
    return {str(k): v for k, v in found.items() if isinstance(v, dict)}


def _save_checked(
    store: Store, checked: dict[str, dict[str, Any]], handle: str, entry: dict[str, Any]
) -> None:
    """Remember what was searched for one handle. A cache: losing it, or a write that
    races another command's, costs a search, never a wrong answer (every entry names
    the tip and the versions it holds for)."""
    if checked.get(handle) == entry:
        return
    checked[handle] = entry
    with contextlib.suppress(OSError):
        write_atomically(store.state_dir / CHECKED, json.dumps(checked, sort_keys=True).encode())
