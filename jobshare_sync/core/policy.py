"""What a pull decides beyond the record merge (DESIGN sections 3 and 4): which of a
friend's copies must not be merged (the drop step), and what the merge's result becomes
(the policy step). The pull (`sync.merge_friend`) runs them between gathering the three
versions of each record and writing the result.

Both steps are pure. What they need to know about the repositories (which copies are
stale, which records their owners deleted, which contacts we hold) arrives as data that
the pull gathered.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Mapping
from copy import deepcopy
from dataclasses import dataclass, field
from typing import Any

from . import identity, merge, resolving, rules, schema, values
from .fieldmerge import AncestorOursTheirs
from .merge import MergeResult, Notice, RecordConflict, RecordMerge
from .records import ID_RE, Label, Loaded, Skipped

Record = dict[str, Any]
Versions = AncestorOursTheirs[Record | None]


def rules_for(label: str) -> Mapping[str, str]:
    """The x-merge rules of a record's fields, by its label (`contacts/<id>`)."""
    return schema.merge_rules(label.split("/", 1)[0])


def validate(label: str, data: Record) -> list[str]:
    """A record's problems by its own schema, one line each; [] when it is valid."""
    folder, _, record_id = label.partition("/")
    return schema.record_errors(Label(folder, record_id), data)


# --- drop: what must not be merged ----------------------------------------------------


@dataclass(frozen=True)
class Candidate:
    """One record the friend changed since a merge base, as the pull found it."""

    label: str  # contacts/<id>
    versions: Versions  # base, ours, theirs (None: absent); all None when there is a problem
    problem: str | None = None  # why their version cannot be merged (parse, schema, size)
    stale_theirs: bool = False  # ours lacks it; theirs is a copy its owner held, then deleted
    stale_ours: bool = False  # theirs lacks it; ours is a copy its owner held, then deleted
    held_by_you: bool = False  # your own branch held the record once (you added it)
    # history entries of this referral found on the branches of the handles that the
    # entries new in theirs name (a relayed entry is confirmed by its author's branch)
    confirmed: tuple[Record, ...] = ()
    # the handles among those whose branch no one can read here (not the user, no friend
    # pinned to them): their entries are taken on the friend's word, the rules still apply
    unverifiable: frozenset[str] = frozenset()
    id_in_other_folder: bool = False  # we hold a record with this id in the other folder


AUTHOR_FIELDS = {"contacts": ("added_by",), "referrals": ("added_by", "from")}


def in_your_name(label: str, record: Record | None, own_handle: str | None) -> str | None:
    """The author field (`added_by`, a referral's `from`) of a record that names the
    user, or None. A friend cannot add a record in the user's name (DESIGN section 3).

    An alias is not such a record: it holds nothing of the user's, keeps the `added_by`
    of the record it was, and names its maker in `alias_by` (core/identity)."""
    if record is None or own_handle is None or "alias_of" in record:
        return None
    for key in AUTHOR_FIELDS.get(label.split("/", 1)[0], ()):
        if record.get(key) == own_handle:
            return key
    return None


REASON_LIMIT = 300  # characters of a skipped record's reason: a short excerpt, no more
PLAUSIBLE_AHEAD = dt.timedelta(days=1)  # how far a friend's clock may run ahead of ours


def _date_times(value: Any, pointer: str = "") -> Iterator[tuple[str, str]]:
    """Every date-time in a record, as (JSON pointer, text), depth first."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _date_times(item, f"{pointer}/{key}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _date_times(item, f"{pointer}/{i}")
    elif isinstance(value, str) and "T" in value and values.parse_instant(value) is not None:
        yield pointer, value


def implausible_time(versions: Versions, now: dt.datetime) -> str | None:
    """Why their version holds a date-time more than a day ahead of `now` (the clock of
    the machine receiving it) that neither the base nor ours holds already, or None.
    Such a time would win `max` and `--strategy newest` for good (DESIGN section 3)."""
    base, ours, theirs = versions
    held = {text for side in (base, ours) for _, text in _date_times(side)}
    limit = now + PLAUSIBLE_AHEAD
    for pointer, text in _date_times(theirs):
        when = values.parse_instant(text)
        if text not in held and when is not None and when > limit:
            return (
                f"{pointer.lstrip('/')}: {values.shorten(text)!r} is more than a day ahead of "
                "this machine's clock: refused as implausible"
            )
    return None


def history_refusal(
    label: str,
    versions: Versions,
    theirs_handle: str | None,
    confirmed: Iterable[Record] = (),
    unverifiable: Iterable[str] = (),
) -> str | None:
    """Why a friend's version of a referral must not be merged for its history, or None
    (DESIGN section 6: a history is append-only and written by its authors).

    - An entry of the base (the history both sides shared) missing from theirs: they
      dropped or rewrote it.
    - An entry new in theirs (in neither the base nor ours) by someone else than the
      friend (`theirs_handle`), unless the same entry is on that person's own branch
      (`confirmed`): a forged entry, a "declined" in the user's name say. Entries by
      people whose branch cannot be read here (`unverifiable`) only a signature could
      prove: they are taken, and the rules still apply to them.
    - A history the referral rules reject (`rules.history_problems`).
    """
    base, ours, theirs = versions
    if not label.startswith("referrals/") or theirs is None:
        return None
    theirs_entries = rules.history_entries(theirs)
    for entry in rules.history_entries(base) if base is not None else []:
        if entry not in theirs_entries and not _lost_race(entry, theirs_entries):
            return f"history: drops or rewrites the entry {_entry_text(entry)}"
    held = [e for side in (base, ours) if side is not None for e in rules.history_entries(side)]
    confirmed = list(confirmed)
    for entry in theirs_entries:
        if entry in held or entry.get("by") == theirs_handle or entry in confirmed:
            continue
        if entry.get("by") in set(unverifiable):
            continue
        return (
            f"history: the entry {_entry_text(entry)} is not by {_short(theirs_handle)}, and "
            f"the branch of {_short(entry.get('by'))} does not show it: refused as forged"
        )
    # judged with the fixed fields (from, created) we hold: a change to them is refused
    judged = dict(theirs)
    merge.keep_fixed(judged, ours if ours is not None else base, rules_for(label))
    folder, _, record_id = label.partition("/")
    problems = rules.history_problems(Label(folder, record_id), Loaded(judged, {}))
    if problems:
        name = problems[0].field.lstrip("/").replace("/", ".")
        return f"{name}: {values.shorten(problems[0].message, 120)}"
    return None


def _lost_race(entry: Mapping[str, Any], kept: list[dict[str, Any]]) -> bool:
    """Whether `entry` is a status change that lost a race (two accepted at once,
    section 6): `kept` holds another change from the same previous status. Resolving
    the race keeps one story whole, so the other change may leave the history; a note,
    or a change nobody raced, may not."""

    def changes(e: Mapping[str, Any]) -> bool:
        return e.get("previous") is not None and e.get("status") != e.get("previous")

    return changes(entry) and any(
        changes(other) and other.get("previous") == entry.get("previous") and other != entry
        for other in kept
    )


def _short(value: Any) -> str:
    return repr(values.shorten(value)) if isinstance(value, str) else repr(type(value).__name__)


def _entry_text(entry: Mapping[str, Any]) -> str:
    """An entry in a few words, for a reason: `'declined' by 'alice' at '...'`."""
    return (
        f"{_short(entry.get('status'))} by {_short(entry.get('by'))} at {_short(entry.get('at'))}"
    )


def _refused_before(base: Record | None, now: dt.datetime) -> bool:
    """Whether a base version is one that `implausible_time` refused when it came."""
    return implausible_time(AncestorOursTheirs(None, None, base), now) is not None


def drop_unmergeable(
    candidates: Iterable[Candidate],
    not_records: Iterable[Skipped] = (),
    *,
    own_handle: str | None = None,
    now: dt.datetime | None = None,
    theirs_handle: str | None = None,
) -> tuple[list[tuple[str, Versions]], list[Skipped]]:
    """The records to merge as (label, versions), and what was left out with the reason.

    - Paths that are no record files (bad names, links, submodules, folders), as the
      scan of their tree reported them: reported, never merged (DESIGN section 1).
    - A record of theirs that does not parse or breaks its schema (or is too large to
      read): reported with the reason; nothing of it enters, as if they had not touched
      it (section 3).
    - Stale copies of a record its owner deleted, kept by a friend for want of proof
      of the deletion: taken for an addition, or for a change since the merge base,
      such a copy would bring the record back for good, to its owner too, and no proof
      of the deletion would be left anywhere. So their stale copy is dropped, and ours
      counts as untouched (the base), so that their deletion applies.
    - A record new to us whose id we use in the other folder, or that they hold under
      one id in both folders: two records cannot share an id (section 2).
    - A record new to us whose author (`added_by`, a referral's `from`) is the user
      (`own_handle`), which the user's own branch never held: nobody adds a record in
      the user's name. Refused and reported, never merged.
    - Their version with a date-time more than a day ahead of `now` that we do not
      hold already (`implausible_time`): refused and reported, as if they had not
      touched the record.
    - A referral of theirs whose history is not append-only, holds an entry its author
      did not write, or breaks the referral rules (`history_refusal`, with
      `theirs_handle`): refused and reported; ours stays.
    """
    skipped = list(not_records)
    items: list[tuple[str, Versions]] = []
    candidates = list(candidates)
    twins = _new_in_both_folders(candidates)
    for candidate in candidates:
        base, ours, theirs = candidate.versions
        if candidate.label in twins:
            other = "referrals" if candidate.label.startswith("contacts/") else "contacts"
            reason = f"id: they use this id in {other}/ too: two records cannot share it"
            skipped.append(Skipped(f"{candidate.label}.yaml", reason))
            continue
        if candidate.problem is not None:
            problem = values.shorten(candidate.problem, REASON_LIMIT)
            skipped.append(Skipped(f"{candidate.label}.yaml", problem))
            continue
        if ours is None and theirs is not None and candidate.stale_theirs:
            continue
        forged = in_your_name(candidate.label, theirs, own_handle)
        if ours is None and base is None and forged and not candidate.held_by_you:
            reason = (
                f"{forged}: names you ({own_handle!r}), but you never added this record: "
                "nobody can add a record in your name"
            )
            skipped.append(Skipped(f"{candidate.label}.yaml", reason))
            continue
        ahead = implausible_time(candidate.versions, now) if now is not None else None
        if ahead is not None:
            skipped.append(Skipped(f"{candidate.label}.yaml", ahead))
            continue
        if theirs_handle is not None and (
            why := history_refusal(
                candidate.label,
                candidate.versions,
                theirs_handle,
                candidate.confirmed,
                candidate.unverifiable,
            )
        ):
            skipped.append(Skipped(f"{candidate.label}.yaml", why))
            continue
        if ours is None and theirs is not None and candidate.id_in_other_folder:
            other = "referrals" if candidate.label.startswith("contacts/") else "contacts"
            reason = f"id: you already use this id in {other}/: two records cannot share it"
            skipped.append(Skipped(f"{candidate.label}.yaml", reason))
            continue
        if ours is None and now is not None and _refused_before(base, now):
            base = None  # we never took it: their corrected version is an addition
        if theirs is None and ours is not None and candidate.stale_ours:
            base = ours
        items.append((candidate.label, AncestorOursTheirs(base, ours, theirs)))
    return items, skipped


def _new_in_both_folders(candidates: list[Candidate]) -> set[str]:
    """The labels of records new to us that the friend holds under one id in both
    folders (a hand-made branch can): neither may enter, or the pull would leave two
    records sharing an id, which `validate` rejects (DESIGN section 2)."""
    new: dict[str, set[str]] = {}
    for c in candidates:
        if c.problem is None and c.versions.ours is None and c.versions.theirs is not None:
            folder, _, record_id = c.label.partition("/")
            new.setdefault(record_id, set()).add(folder)
    return {f"{f}/{i}" for i, folders in new.items() if len(folders) > 1 for f in folders}


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
