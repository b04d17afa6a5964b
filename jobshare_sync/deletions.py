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

import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from .core.merge import MergeResult
from .friends import list_friends
from .store import KEPT_DELETIONS, Commit, Store


class OwnerBranches:
    """What the owner's own branch shows of a record: a friend's branch as last fetched,
    our own for the records we added. Nobody else's word counts.

    `limit` is how many commits of the owner's own line are searched for the record.
    """

    def __init__(self, store: Store, limit: int) -> None:
        self.store = store
        self.limit = limit
        self.tips = {f.handle: f.fetched for f in list_friends(store) if f.handle and f.fetched}
        head = store.head_commit()
        if head is not None:
            self.tips[store.handle] = head.id

    def _versions(self, label: str, added_by: Any) -> Iterator[str | None]:
        """The record's blob along its owner's branch, newest first: in each commit of the
        branch's own line (first parents, at most `limit` of them) and in what each of its
        merges took in; nothing when the branch still holds it, or is unknown.

        Not the whole history: in a network of many friends it holds every friend's
        commits, thousands of them, and a deletion made long ago fell out of reach (so
        the deletion was never proved, and a stale copy came back to its owner).
        """
        tip = self.tips.get(added_by) if isinstance(added_by, str) else None
        path = f"{label}.yaml"
        if tip is None:
            return
        commit = self.store.commit(tip)
        if self.store.blob_id_at(commit.tree, path):
            return
        for _ in range(self.limit):
            parents = [self.store.commit(p) for p in commit.parents]
            for merged in parents[1:]:
                yield self.store.blob_id_at(merged.tree, path)
            if not parents:
                return
            commit = parents[0]
            yield self.store.blob_id_at(commit.tree, path)

    def deleted(self, label: str, added_by: Any) -> bool:
        """Whether the owner had the record, and no longer has it."""
        return any(oid is not None for oid in self._versions(label, added_by))

    def held(self, label: str, added_by: Any, oid: str | None) -> bool:
        """Whether the owner deleted the record after holding exactly this version of it
        (a blob id): a copy of it is then stale, not a change anyone made since."""
        return oid is not None and any(found == oid for found in self._versions(label, added_by))


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
    seeing the deletion: it stays, as it would in a conflict resolved by newest)."""
    if ours is None:
        return []
    late = []
    for label, added_by in sorted(load_kept(store).items()):
        oid = store.blob_id_at(ours.tree, f"{label}.yaml")
        if added_by == handle and owners.held(label, added_by, oid):
            late.append(label)
    return late
