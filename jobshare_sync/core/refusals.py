"""The pull's drop step (DESIGN sections 1, 3 and 6): which of a friend's copies must
not be merged, each with the reason the pull lists. Pure: what it needs to know of the
repositories arrives with each `Candidate`, as the gather step found it (gather.py).
core/policy.py runs it before the merge and re-exports its names.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from . import merge, rules, schema, values
from .fieldmerge import AncestorOursTheirs
from .records import Label, Loaded, Skipped

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
