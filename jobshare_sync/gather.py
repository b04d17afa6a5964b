"""The pull's gather step: the three versions of each record a friend changed.

For every record the friend changed since the merge base (several bases, after
criss-cross pulls, folded by core/mergebases), the base, ours and theirs, parsed
only for those records; and the facts the policy step needs (relayed deletions
checked on the owner's own branch, contacts referrals name). See sync.py for the
steps of a pull.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import Any

from .accepted import accepted_base
from .core import mergebases, policy, rules
from .core.fieldmerge import AncestorOursTheirs
from .core.merge import MergeResult
from .core.policy import Candidate, Facts, Versions
from .core.records import Label, Skipped
from .deletions import OwnerBranches
from .errors import (
    RecordError,
)
from .store import Commit, Store


def gather(
    store: Store,
    bases: list[str],
    ours: Commit | None,
    theirs: Commit,
    owners: OwnerBranches,
) -> tuple[list[Candidate], list[Skipped]]:
    """Base, ours and theirs of every record the friend changed since a merge base, with
    what the drop step needs to know of each; and the paths of their tree that are not
    record files.

    A record only we changed needs no merge (ours stands), so only the friend's changes
    are looked at, and a blob met twice (ours unchanged = base) is parsed once. Several
    merge bases (criss-cross history) are folded into one virtual base per record.
    """
    not_records: list[Skipped] = []
    base_trees: list[str | None] = [store.commit(b).tree for b in bases]
    base_trees = base_trees or [None]
    base_ids: list[str | None] = [*bases] or [None]
    ours_tree = ours.tree if ours is not None else None
    labels: set[Label] = set()
    for base_tree in base_trees:
        labels |= set(store.changed_entries(base_tree, theirs.tree, not_records))
    parsed: dict[str, dict[str, Any] | None] = {}
    between: dict[tuple[int, int], list[str]] = {}

    def ancestor_versions(label: Label, i: int, j: int) -> list[dict[str, Any] | None]:
        """The record in the common ancestors of merge bases i and j (looked for once)."""
        if (i, j) not in between:
            found = store.merge_bases(bases[i], bases[j])
            between[i, j] = [store.commit(c).tree for c in found]
        return [read(tree, label) for tree in between[i, j]]

    def read(tree: str | None, label: Label) -> dict[str, Any] | None:
        oid = store.blob_id_at(tree, label.path)
        if oid is None:
            return None
        if oid not in parsed:
            try:
                data = store.load(label, oid).data
            except RecordError:
                data = None
            parsed[oid] = data if isinstance(data, dict) else None
        return parsed[oid]

    candidates = []
    for label in sorted(labels):
        name = str(label)
        their_oid = store.blob_id_at(theirs.tree, label.path)
        our_oid = store.blob_id_at(ours_tree, label.path)
        if their_oid is not None and their_oid == our_oid:
            continue  # both sides hold the same file: nothing to merge
        their_data: dict[str, Any] | None = None
        if their_oid is not None:
            their_data, problem = store.load_valid(label, their_oid)
            if their_data is None:  # the other versions do not matter: none is read
                unread: Versions = AncestorOursTheirs(None, None, None)
                candidates.append(Candidate(name, unread, problem or "invalid"))
                continue
            parsed[their_oid] = their_data
        base_versions = [
            accepted_base(store, b, t, label, our_oid, read(t, label))
            for b, t in zip(base_ids, base_trees, strict=True)
        ]
        if len(base_versions) == 1:
            base = base_versions[0]
        elif mergebases.deleted_in_bases(base_versions, partial(ancestor_versions, label)):
            base = None
        else:
            base = mergebases.virtual_base(name, base_versions, policy.rules_for(name))
        mine = read(ours_tree, label)
        stale_theirs = mine is None and their_data is not None
        stale_ours = their_data is None and mine is not None
        in_my_name = stale_theirs and policy.in_your_name(name, their_data, store.handle)
        candidates.append(
            Candidate(
                name,
                AncestorOursTheirs(base, mine, their_data),
                stale_theirs=stale_theirs and owners.held(name, _added_by(their_data), their_oid),
                stale_ours=stale_ours and owners.held(name, _added_by(mine), our_oid),
                held_by_you=bool(in_my_name) and owners.deleted(name, store.handle),
                **_confirmed_entries(store, owners, label, base, mine, their_data),
                id_in_other_folder=mine is None
                and their_data is not None
                and store.blob_id_at(ours_tree, _other_folder(label)) is not None,
            )
        )
    return candidates, not_records


def _unchanged_versions(
    store: Store, bases: list[str], ours: Commit | None, theirs: Commit, label: str
) -> Versions:
    """Base (the first merge base's), ours and theirs of a record the friend did not
    change: what the identity merge reads of a survivor or a chain of aliases."""

    def read(tree: str | None) -> dict[str, Any] | None:
        oid = store.blob_id_at(tree, f"{label}.yaml")
        if oid is None:
            return None
        try:
            data = store.load(Label(*label.split("/", 1)), oid).data
        except RecordError:
            return None
        return data if isinstance(data, dict) else None

    base_tree = store.commit(bases[0]).tree if bases else None
    return AncestorOursTheirs(
        read(base_tree), read(ours.tree if ours is not None else None), read(theirs.tree)
    )


def _other_folder(label: Label) -> str:
    """The path the same id would have in the other record folder."""
    other = "referrals" if label.folder == "contacts" else "contacts"
    return f"{other}/{label.id}.yaml"


def _confirmed_entries(
    store: Store,
    owners: OwnerBranches,
    label: Label,
    base: dict[str, Any] | None,
    mine: dict[str, Any] | None,
    theirs: dict[str, Any] | None,
) -> dict[str, Any]:
    """The history entries of a referral on the branches (ours, a friend's as fetched)
    of the handles that its entries new in `theirs` name, which confirm a relayed entry,
    and the handles whose branch nobody here can read: the `confirmed` and
    `unverifiable` of a Candidate."""
    if label.folder != "referrals" or theirs is None:
        return {}
    held = [e for side in (base, mine) if side is not None for e in rules.history_entries(side)]
    authors = {e.get("by") for e in rules.history_entries(theirs) if e not in held}
    found: list[dict[str, Any]] = []
    unverifiable = set()
    for author in sorted(a for a in authors if isinstance(a, str)):
        tip = owners.tips.get(author)
        if tip is None:
            unverifiable.add(author)
            continue
        oid = store.blob_id_at(store.commit(tip).tree, label.path)
        try:
            data = store.load(label, oid).data if oid is not None else None
        except RecordError:
            continue
        found += rules.history_entries(data) if isinstance(data, dict) else []
    return {"confirmed": tuple(found), "unverifiable": frozenset(unverifiable)}


def gather_facts(
    store: Store,
    ours: Commit | None,
    result: MergeResult,
    items: Mapping[str, Versions],
    owners: OwnerBranches,
    late: list[str],
) -> Facts:
    """What the policy needs to know of the repositories, for the records it concerns:
    which records the merge kept against a friend's deletion their owner has made too
    (in a version the owner held, or edited since), the late deletions, and which clients of the merged referrals we hold."""
    ours_tree = ours.tree if ours is not None else None
    owner_deleted, edited = set(), {}
    for record in result.records:
        if not any(notice.kind == "kept-deleted" for notice in record.notices):
            continue
        author = _added_by(_held(items[record.label]))
        if not owners.deleted(record.label, author):
            continue
        our_oid = store.blob_id_at(ours_tree, f"{record.label}.yaml")
        if owners.held(record.label, author, our_oid):
            owner_deleted.add(record.label)
        else:  # edited after the owner deleted it: a modify/delete conflict
            edited[record.label] = items[record.label]
    our_contacts = {
        client
        for client in policy.clients_named(result)
        if store.blob_id_at(ours_tree, f"contacts/{client}.yaml") is not None
    }
    referenced = _referenced_contacts(store, ours_tree, result, late)
    restored = _fixed_to_restore(store, ours, items)
    return Facts(
        frozenset(owner_deleted), tuple(late), frozenset(our_contacts), edited, referenced, restored
    )


FIXED_HISTORY_LIMIT = 1000  # commits of our own line looked through for a record's first version


def _fixed_to_restore(
    store: Store, ours: Commit | None, items: Mapping[str, Versions]
) -> dict[str, dict[str, Any]]:
    """The records whose fixed fields we changed ourselves (by hand, with plain git)
    after they first came, where theirs still holds the values they came with: label ->
    those values, which the policy puts back. A fixed field is set once, so everyone
    ends with the first values, whoever saw the refusal (DESIGN section 3). Only records
    whose fixed fields differ between ours and theirs are looked up."""
    found: dict[str, dict[str, Any]] = {}
    for label, (_, mine, theirs) in sorted(items.items()):
        if mine is None or theirs is None:
            continue
        fixed = [k for k, rule in policy.rules_for(label).items() if rule == "fixed"]
        differ = [k for k in fixed if k in theirs and mine.get(k) != theirs.get(k)]
        if not differ or ours is None:
            continue
        first = _first_version(store, ours, label)
        if first is not None and all(first.get(k) == theirs.get(k) for k in differ):
            found[label] = {k: theirs[k] for k in differ}
    return found


def _first_version(store: Store, ours: Commit, label: str) -> dict[str, Any] | None:
    """The record as it first came on our own line of history (first parents: a
    friend's record as the merge that brought it took it), within FIXED_HISTORY_LIMIT
    commits; None when unreadable."""
    path = f"{label}.yaml"
    commit, first = ours, store.blob_id_at(ours.tree, path)
    for _ in range(FIXED_HISTORY_LIMIT):
        if not commit.parents:
            break
        commit = store.commit(commit.parents[0])
        oid = store.blob_id_at(commit.tree, path)
        if oid is None:
            break
        first = oid
    if first is None:
        return None
    try:
        data = store.load(Label(*label.split("/", 1)), first).data
    except RecordError:
        return None
    return data if isinstance(data, dict) else None


def _referenced_contacts(
    store: Store, ours_tree: str | None, result: MergeResult, late: list[str]
) -> dict[str, dict[str, Any]]:
    """The contacts we hold that the pull may remove (a friend's deletion, relayed or
    late, or one side of a conflict) and that a referral names as its client, ours or
    merged: label -> our version. Our referrals are read only when there is such a
    contact to protect."""
    at_risk = {
        r.label
        for r in result.records
        if r.label.startswith("contacts/")
        and (r.outcome == "removed" or r.notices or r.conflict is not None)
    } | {label for label in late if label.startswith("contacts/")}
    at_risk = {label for label in at_risk if store.blob_id_at(ours_tree, f"{label}.yaml")}
    if not at_risk:
        return {}
    clients = {f"contacts/{c}" for c in policy.clients_named(result)}
    for referral, (_, oid) in store.changed_entries(None, ours_tree).items():
        if referral.folder != "referrals" or oid is None:
            continue
        try:
            data = store.load(referral, oid).data
        except RecordError:
            continue
        if isinstance(data, dict) and isinstance(data.get("client"), str):
            clients.add(f"contacts/{data['client']}")
    found = {}
    for label in sorted(at_risk & clients):
        folder, _, record_id = label.partition("/")
        data = store.read_record(ours_tree, Label(folder, record_id))
        if data is not None:
            found[label] = data
    return found


def _held(versions: Versions) -> dict[str, Any] | None:
    """Ours where we hold the record (its fixed fields are the ones that count), else
    the base."""
    return versions.ours if versions.ours is not None else versions.base


def _added_by(record: Mapping[str, Any] | None) -> Any:
    return record.get("added_by") if record is not None else None
