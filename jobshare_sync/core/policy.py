"""What a pull decides beyond the record merge (DESIGN sections 3 and 4): which of a
friend's copies must not be merged (the drop step, in refusals.py), and what the merge's result becomes
(the policy step). The pull (`sync.merge_friend`) runs them between gathering the three
versions of each record and writing the result.

Both steps are pure. What they need to know about the repositories (which copies are
stale, which records their owners deleted, which contacts we hold) arrives as data that
the pull gathered.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from copy import deepcopy
from dataclasses import dataclass, field
from typing import Any

from . import identity, merge, resolving
from .fieldmerge import AncestorOursTheirs
from .merge import MergeResult, Notice, RecordConflict, RecordMerge
from .records import ID_RE, Skipped
from .refusals import (  # the drop step (refusals.py), re-exported
    AUTHOR_FIELDS,
    PLAUSIBLE_AHEAD,
    REASON_LIMIT,
    Candidate,
    drop_unmergeable,
    history_refusal,
    implausible_time,
    in_your_name,
    rules_for,
    validate,
)

Record = dict[str, Any]
Versions = AncestorOursTheirs[Record | None]

__all__ = [
    "AUTHOR_FIELDS",
    "PLAUSIBLE_AHEAD",
    "REASON_LIMIT",
    "Candidate",
    "Decided",
    "Facts",
    "apply_policy",
    "drop_unmergeable",
    "history_refusal",
    "implausible_time",
    "in_your_name",
    "merge_step",
    "rules_for",
    "validate",
]


# --- merge: aliases first, then every other record -------------------------------------


def merge_step(
    items: Iterable[tuple[str, Versions]],
    *,
    theirs_handle: str,
    lookup: Callable[[str], Versions] | None = None,
    whole_record: bool = False,
    region: str = merge.DEFAULT_REGION,
) -> MergeResult:
    """The merge step: the contacts that aliases touch on any side through
    `identity.merge_identities` (combines and renames meet every other change, see
    core/identity), every other record through `merge.merge_records`. `lookup(label)`
    gives base, ours and theirs of a contact the friend did not change, which a
    survivor or a chain of aliases may need. Notices of the identity merge are kept
    with the record they name (or the first record it decided)."""
    items = list(items)
    found = identity.merge_identities(
        dict(items),
        theirs_handle=theirs_handle,
        lookup=lookup,
        rules=rules_for("contacts/"),
        region=region,
        whole_record=whole_record,
        validate=validate,
    )
    taken = found.labels
    plain = merge.merge_records(
        [(label, versions) for label, versions in items if label not in taken],
        rules_for,
        theirs_handle=theirs_handle,
        whole_record=whole_record,
        validate=validate,
        region=region,
    )
    by_label = {record.label: record for record in found.records}
    anywhere = found.records or plain.records
    for notice in found.notices:
        record = by_label.get(notice.label) or (anywhere[0] if anywhere else None)
        if record is not None and notice not in record.notices:
            record.notices.append(notice)
    result = MergeResult(found.records + plain.records)
    name_sources(result, dict(items))
    return result


def name_sources(result: MergeResult, items: Mapping[str, Versions]) -> None:
    """A conflict on a contact that records were combined into names them (from the
    aliases that lead to it and the sections of its notes, core/identity), so that the
    person resolving it knows where each part came from."""
    for record in result.records:
        conflict = record.conflict
        if conflict is None or not record.label.startswith("contacts/"):
            continue
        record_id = record.label.split("/", 1)[1]
        sources = {
            source
            for version in conflict.versions
            if version is not None
            for source in identity.split_notes(version.get("notes")).sections
        }
        sources |= {
            label.split("/", 1)[1]
            for label, versions in items.items()
            if label.startswith("contacts/")
            and any(
                v is not None and identity.is_alias(v) and v.get("alias_of") == record_id
                for v in versions
            )
        }
        sources.discard(record_id)
        if sources:
            named = ", ".join(f"contacts/{s}" for s in sorted(sources))
            conflict.messages.append(f"{record.label} holds the records combined into it: {named}")


# --- policy: what the merge's result becomes ------------------------------------------


@dataclass(frozen=True)
class Facts:
    """What the repositories show that the policy needs, gathered by the pull."""

    # records the merge kept although the friend deleted them (someone else added them),
    # whose owner's own branch shows the deletion
    owner_deleted: frozenset[str] = frozenset()
    # records kept that way earlier, whose owner is this friend and whose branch now shows
    # them deleted, as we still hold them
    late_deletions: tuple[str, ...] = ()
    # the ids, among the clients the merged referrals name, of contacts we hold
    our_contacts: frozenset[str] = frozenset()
    # records the merge kept although the friend deleted them, whose owner's branch shows
    # the deletion, but which we hold in a version the owner never held (edited since):
    # label -> the three versions, for a modify/delete conflict
    edited_since_deleted: Mapping[str, Versions] = field(default_factory=dict)
    # contacts we hold that the pull may remove, and that one of our referrals (or one
    # the merge brings) names as its client: label -> our version
    referenced: Mapping[str, Record] = field(default_factory=dict)
    # records whose fixed fields we changed after they first came, while theirs holds the
    # first values: label -> those values (a fixed field is set once)
    restored_fixed: Mapping[str, Record] = field(default_factory=dict)


@dataclass
class Decided:
    """The merge's result once the policy applied, with what it left out."""

    result: MergeResult
    skipped: list[Skipped] = field(default_factory=list)
    resolved_by_strategy: int = 0


def apply_policy(result: MergeResult, facts: Facts, *, strategy: str | None = None) -> Decided:
    """Apply, in this order: fixed fields set back to their first values, relayed deletions, late deletions, the strategy (if any),
    and referrals without a client. `result` is changed in place and returned."""
    restore_fixed(result, facts.restored_fixed)
    apply_relayed_deletions(result, facts.owner_deleted, facts.edited_since_deleted)
    add_late_deletions(result, facts.late_deletions)
    resolved = apply_strategy(result, strategy) if strategy is not None else 0
    keep_referenced(result, facts.referenced)
    skipped = skip_referrals_without_client(result, facts.our_contacts)
    return Decided(result, skipped, resolved)


def restore_fixed(result: MergeResult, restored: Mapping[str, Record]) -> None:
    """Fixed fields are set once (DESIGN section 3): where we changed one ourselves after
    the record came (by hand, with plain git) and theirs holds the value it came with,
    that first value wins, so that repositories that saw different sides of a refusal
    end alike. The merge had kept ours' value: its refusal notice gives way to this one."""
    for i, record in enumerate(result.records):
        values_ = restored.get(record.label)
        if values_ is None or record.result is None or record.conflict is not None:
            continue
        data = deepcopy(record.result)
        data.update(deepcopy(dict(values_)))
        shown = ", ".join(f"{k} {v!r}" for k, v in sorted(values_.items()))
        message = f"{record.label}: set back to {shown}, as it came: a fixed field is set once"
        notices = [n for n in record.notices if n.kind != "refused-fixed"]
        notices.append(Notice(record.label, "restored-fixed", message))
        outcome = "updated" if record.outcome == "unchanged" else record.outcome
        result.records[i] = RecordMerge(record.label, outcome, data, None, notices)


def apply_relayed_deletions(
    result: MergeResult,
    owner_deleted: Iterable[str],
    edited_since_deleted: Mapping[str, Versions] | None = None,
) -> None:
    """A friend may delete only the records they added (section 3); a deletion relayed
    by another friend is kept. It applies when the owner's own branch shows it: such a
    kept record is removed, so that the network converges. But only to a version the
    owner held before deleting it: one edited since (`edited_since_deleted`) meets the
    deletion as a modify/delete conflict, as it would when pulling the owner directly,
    so that no pull order makes an edit silently disappear."""
    proven = set(owner_deleted)
    edited = edited_since_deleted or {}
    for i, record in enumerate(result.records):
        kept = any(notice.kind == "kept-deleted" for notice in record.notices)
        if kept and record.label in edited:
            conflict = RecordConflict(record.label, "modify-delete", [], edited[record.label], None)
            result.records[i] = RecordMerge(record.label, "conflict", None, conflict)
        elif kept and record.label in proven:
            result.records[i] = RecordMerge(record.label, "removed", None)


def add_late_deletions(result: MergeResult, late: Iterable[str]) -> None:
    """Records kept earlier for want of proof of their deletion, now proven by their
    owner's branch, are removed (unless the merge has something to say about them)."""
    merged = {record.label for record in result.records}
    result.records.extend(
        RecordMerge(label, "removed", None) for label in late if label not in merged
    )
    result.records.sort(key=lambda r: r.label)


def apply_strategy(result: MergeResult, strategy: str) -> int:
    """Resolve every conflict up front by `ours`, `theirs` or `newest` (section 5); a
    resolution that fails validation stays a conflict. Returns how many were resolved."""
    resolved = 0
    for record in result.records:
        conflict = record.conflict
        if conflict is None:
            continue
        data = resolving.resolve_by_strategy(conflict, strategy, rules_for(record.label))
        if data is not None and validate(record.label, data):
            continue
        ours = conflict.versions.ours
        record.result = data
        record.conflict = None
        record.outcome = "unchanged" if data == ours else ("removed" if data is None else "updated")
        resolved += 1
    return resolved


def keep_referenced(result: MergeResult, referenced: Mapping[str, Record]) -> None:
    """A contact that a referral names as its client stays when a friend deletes it
    (DESIGN section 6): the referral would otherwise name no contact, and `validate`
    would fail after a pull it passed before. `referenced` holds the contacts we hold
    that our referrals, or the merged ones, name (label -> our version); a removal of
    one becomes ours kept, with a notice saying why."""
    for i, record in enumerate(result.records):
        if record.outcome == "removed" and record.label in referenced:
            message = f"{record.label}: kept; a referral names it as its client"
            notice = Notice(record.label, "kept-referenced", message)
            ours = deepcopy(referenced[record.label])
            result.records[i] = RecordMerge(record.label, "unchanged", ours, None, [notice])


def clients_named(result: MergeResult) -> set[str]:
    """The contact ids that referrals of `result` name as client, in any version the
    policy may choose: the facts about them are all `skip_referrals_without_client` needs.
    A client that is no valid id names no contact anyone can hold, and is left out."""
    clients: set[str] = set()
    for record in result.records:
        if not record.label.startswith("referrals/"):
            continue
        versions: list[Record | None] = [record.result]
        if record.conflict is not None:
            conflict = record.conflict
            versions += [conflict.merged, conflict.merged_theirs, *conflict.versions]
        clients.update(v["client"] for v in versions if v and isinstance(v.get("client"), str))
    return {client for client in clients if ID_RE.match(client)}


def skip_referrals_without_client(
    result: MergeResult, our_contacts: Iterable[str]
) -> list[Skipped]:
    """A friend's referral whose client is a contact neither side has (theirs skipped as
    invalid, say) would leave the repository failing `validate`: it is skipped too, as
    if they had not touched it. `our_contacts` are the client ids we hold."""
    ours = set(our_contacts)
    changes = result.changes
    skipped = []
    for record in list(result.records):
        data = record.result
        if not record.label.startswith("referrals/") or record.outcome not in ("added", "updated"):
            continue
        client = data.get("client") if data is not None else None
        if not isinstance(client, str):
            continue
        contact = f"contacts/{client}"
        present = changes[contact] is not None if contact in changes else client in ours
        if not present:
            result.records.remove(record)
            reason = f"client: {client!r} names no contact, in your repository or theirs"
            skipped.append(Skipped(f"{record.label}.yaml", reason))
    return skipped
