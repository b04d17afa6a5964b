"""Referrals: "I can't take this job, can you?" as commits, the inbox and the ledger.

Who may move a referral to which status, and what a valid history is, are the pure
rules of core/rules.py: the commands here ask `transition_refusal` before writing, and
`validate` replays each history through it. Nothing here prints.
"""

from __future__ import annotations

import datetime as dt
import difflib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from . import friends, reading, validation, workspace
from .core import labels, records, values
from .core.records import Label
from .core.rules import (
    ACTIONS,
    ANYONE,
    accepted_by,
    history_entries,
    parse_time,
    transition_refusal,
)
from .core.rules import STATUSES as STATUSES  # callers read referrals.STATUSES too
from .errors import FriendError, GitCommandError, LabelError, RecordError, ReferralError
from .store import Store


def _latest(first: str, *others: Any) -> str:
    """The latest of some date-times as written (`first` on a tie); unreadable ones do not count."""
    best, best_time = first, parse_time(first)
    for value in others:
        when = parse_time(value)
        if when is not None and (best_time is None or when > best_time):
            best, best_time = value, when
    return best


# --- refer and the status changes ----------------------------------------------------


@dataclass
class ReferralChange:
    """A referral written and committed: made (`refer`) or moved to a new status."""

    label: Label
    data: dict[str, Any]
    commit: str | None
    message: str
    previous: str | None = None  # the status before; None for a new referral

    def to_json(self) -> dict[str, Any]:
        return {
            "label": str(self.label),
            "commit": self.commit,
            "message": self.message,
            "previous": self.previous,
            "status": self.data.get("status"),
            "record": self.data,
        }


def friend_handles(store: Store) -> set[str]:
    """Handles a referral can go to: every friend's pinned handle (not the user's own)."""
    return validation.known_handles(store) - {store.handle}


def new_referral(
    store: Store,
    client: Label,
    to: str,
    title: str,
    *,
    details: str | None = None,
    budget: str | None = None,
    deadline: str | None = None,
) -> tuple[Label, dict[str, Any]]:
    """A new referral of the job `title` for `client`, open, from the user, to a
    friend's handle or anyone; not yet written. Raises ReferralError (to oneself),
    FriendError (a handle that is no friend's)."""
    me = store.handle
    if to == me:
        raise ReferralError(
            f"you cannot refer a job to yourself ('{me}'): name a friend, or --to anyone"
        )
    friends = friend_handles(store)
    if to != ANYONE and to not in friends:
        known = ", ".join(sorted(friends)) or "none yet"
        raise FriendError(
            f"'{to}' is not a friend's handle (known: {known}): use one of them or 'anyone', "
            "or add the friend with 'jobshare friend add NAME URL' and 'jobshare fetch NAME'"
        )
    label = Label("referrals", labels.new_id(title, reading.id_in_use(store)))
    at = workspace.now()
    data: dict[str, Any] = {
        "id": label.id,
        "title": title,
        "client": client.id,
        "from": me,
        "to": to,
        "status": "open",
        "details": _text_block(details),
        "budget": budget,
        "deadline": deadline,
        "created": at,
        "updated": at,
        "history": [{"at": at, "by": me, "status": "open"}],
    }
    data = {k: v for k, v in data.items() if v not in (None, "")}
    return label, data


def refer(
    store: Store,
    contact: str,
    to: str,
    title: str,
    *,
    details: str | None = None,
    budget: str | None = None,
    deadline: str | None = None,
) -> ReferralChange:
    """Write referrals/<id>.yaml, open, from the user, and commit it as one commit."""
    client = find_contact(store, contact)
    label, data = new_referral(
        store, client, to, title, details=details, budget=budget, deadline=deadline
    )
    client_name = _contact_name(store, client)
    message = f'Refer "{title}" ({client_name}) to {to}'
    saved = workspace.save_record(store, label, data, message=message)
    return ReferralChange(label, saved.data, saved.commit, message)


def push(store: Store, change: ReferralChange, *, show_progress: bool = False) -> str:
    """Push a referral's commit to the user's own remote (origin): git's report.

    Raises GitCommandError (exit 11) saying the change is committed but not pushed;
    the commit stays."""
    try:
        return friends.push(store, show_progress=show_progress)
    except GitCommandError as e:
        raise GitCommandError(f"{change.label} is committed but not pushed: {e}") from None


def _text_block(text: str | None) -> str | None:
    """Multi-line text ends in a newline, so it is written as a clean literal block."""
    if text is None or not text.strip():
        return None
    return text if "\n" not in text.rstrip("\n") else text.rstrip("\n") + "\n"


def find_contact(store: Store, text: str) -> Label:
    """The client of a referral: a contact's label, id, unique id prefix or name; an
    alias leads to its survivor (core/identity)."""
    return reading.follow_alias(store, _find(store, text, "contacts"))


def find_referral(store: Store, text: str) -> Label:
    """A referral from its label, id, unique id prefix or title."""
    return _find(store, text, "referrals")


def _find(store: Store, text: str, folder: str) -> Label:
    """A record of one folder, found as every label is (`labels.match_label`: label,
    id, unique id prefix, then name or title without regard to case or accents); a
    miss suggests the closest ids and names of that folder."""
    wanted = text.strip().removesuffix(".yaml")
    noun = records.KIND_OF_FOLDER[folder]
    if wanted.partition("/")[0] in records.FOLDERS:
        label = reading.find_label(store, wanted)
        if label.folder != folder:
            raise LabelError(f"'{text}' is a {label.kind}, not a {noun}")
        return label
    known = [label for label in reading.known_labels(store) if label.folder == folder]
    names: dict[Label, str] = {}

    def titles() -> dict[Label, str]:
        if not names:
            names.update(reading.record_titles(store, folder))
        return names

    try:
        return labels.match_label(wanted, known, titles)
    except LabelError as e:
        if "ambiguous" in str(e):
            raise
    folded = sorted({values.fold(name) for name in titles().values() if name})
    choices = [label.id for label in known] + folded
    close = difflib.get_close_matches(values.fold(wanted), choices, n=3, cutoff=0.5)
    hint = f" (did you mean {', '.join(close)}?)" if close else ""
    raise LabelError(f"no {noun} '{text}'{hint}: run 'jobshare list {folder}' to see them")


def transition(store: Store, text: str, action: str, note: str | None = None) -> ReferralChange:
    """accept, decline, complete or withdraw a referral as the user, as one commit."""
    if action not in ACTIONS:
        raise ValueError(f"unknown referral action {action!r}")
    label = find_referral(store, text)
    data = reading.read_worktree_record(store, label)
    new, me = ACTIONS[action], store.handle
    sender, to, current = (str(data.get(k)) for k in ("from", "to", "status"))
    reason = transition_refusal(sender, to, current, accepted_by(data), me, new)
    if reason is not None:
        raise ReferralError(f"you ({me}) cannot {action} {label}: {reason}")
    # a friend's clock may run ahead of ours: the history stays in order all the same
    at = _latest(workspace.now(), *(e.get("at") for e in history_entries(data)))
    entry: dict[str, Any] = {"at": at, "by": me, "status": new, "previous": current}
    if note:
        entry["note"] = note
    changed = dict(data)
    changed["status"] = new
    changed["updated"] = _latest(at, data.get("updated"))
    changed["history"] = [*history_entries(data), entry]
    title = data.get("title") or label.id
    whom = f"from {sender}" if sender != me else f"(offered to {to})"
    subject = f'{action.capitalize()} "{title}" {whom}'
    message = f"{subject}\n\n{note}\n" if note else subject
    saved = workspace.save_record(store, label, changed, message=message)
    return ReferralChange(label, saved.data, saved.commit, subject, current)


def _contact_name(store: Store, label: Label) -> str:
    try:
        data = reading.read_worktree_record(store, label)
    except (RecordError, OSError):
        return label.id
    return str(data.get("name") or label.id)


def _client_name(store: Store, client: str) -> str:
    """The name of a client that is no listed contact: an alias's survivor's (core/identity),
    else the id as it stands."""
    if not records.ID_RE.match(client):
        return client
    try:
        return _contact_name(store, reading.follow_alias(store, Label("contacts", client)))
    except LabelError:
        return client


# --- the inbox ------------------------------------------------------------------------


@dataclass(frozen=True)
class InboxItem:
    """One referral as the inbox lists it."""

    label: Label
    title: str
    client: str  # the contact's id
    client_name: str
    sender: str
    to: str
    status: str
    deadline: str | None
    budget: str | None
    created: str

    def to_json(self) -> dict[str, Any]:
        return {
            "label": str(self.label),
            "title": self.title,
            "client": self.client,
            "client_name": self.client_name,
            "from": self.sender,
            "to": self.to,
            "status": self.status,
            "deadline": self.deadline,
            "budget": self.budget,
            "created": self.created,
        }


def inbox(store: Store, *, include_all: bool = False) -> list[InboxItem]:
    """Open referrals for the user (to them or to anyone, not their own), newest first.

    With `include_all`, every referral: the user's own and closed ones too.
    """
    me = store.handle
    listed = reading.list_records(store)
    names = {
        item.label.id: str(item.data.get("name") or item.label.id)
        for item in listed
        if item.label.folder == "contacts"
    }
    items = []
    for item in listed:
        data = item.data
        if item.label.folder != "referrals":
            continue
        mine = data.get("to") in (me, ANYONE) and data.get("from") != me
        if not include_all and not (mine and data.get("status") == "open"):
            continue
        client = str(data.get("client") or "")
        items.append(
            InboxItem(
                item.label,
                str(data.get("title") or ""),
                client,
                names.get(client) or _client_name(store, client),
                str(data.get("from") or ""),
                str(data.get("to") or ""),
                str(data.get("status") or ""),
                _optional(data.get("deadline")),
                _optional(data.get("budget")),
                str(data.get("created") or ""),
            )
        )
    items.sort(key=lambda i: str(i.label))
    items.sort(key=lambda i: parse_time(i.created) or _EPOCH, reverse=True)
    return items


_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def _optional(value: Any) -> str | None:
    return None if value is None else str(value)


# --- the ledger -----------------------------------------------------------------------


@dataclass
class Flow:
    """Referrals one way between the user and one friend."""

    referred: int = 0  # offered to them (or, to anyone, taken by them)
    accepted: int = 0  # of those, ones they accepted (even if later withdrawn)
    completed: int = 0  # of those, ones now completed

    def add(self, data: Mapping[str, Any]) -> None:
        self.referred += 1
        if any(e.get("status") == "accepted" for e in history_entries(data)) or data.get(
            "status"
        ) in (
            "accepted",
            "completed",
        ):
            self.accepted += 1
        if data.get("status") == "completed":
            self.completed += 1

    def to_json(self) -> dict[str, int]:
        return {"referred": self.referred, "accepted": self.accepted, "completed": self.completed}


@dataclass
class LedgerRow:
    """The give and take with one friend.

    `balance` = referrals you gave them that they accepted, minus referrals they gave
    you that you accepted. Positive: you have sent more work their way than you took.
    """

    friend: str
    gave: Flow = field(default_factory=Flow)  # you -> them
    got: Flow = field(default_factory=Flow)  # them -> you

    @property
    def balance(self) -> int:
        return self.gave.accepted - self.got.accepted

    def to_json(self) -> dict[str, Any]:
        return {
            "friend": self.friend,
            "gave": self.gave.to_json(),
            "got": self.got.to_json(),
            "balance": self.balance,
        }


def ledger(store: Store) -> list[LedgerRow]:
    """Per friend, sorted by handle: referrals given and received, accepted and completed."""
    return ledger_of(
        store.handle,
        [item.data for item in reading.list_records(store, "referrals")],
        friend_handles(store),
    )


def ledger_of(
    me: str, referrals: Iterable[Mapping[str, Any]], friends: Iterable[str] = ()
) -> list[LedgerRow]:
    """The ledger of `me` over parsed referrals; every friend in `friends` gets a row.

    A referral to a friend counts for that friend; one to `anyone` counts for whoever
    accepted it (until someone does, for nobody). Referrals between two others are not
    the user's give and take and are left out.
    """
    rows: dict[str, LedgerRow] = {f: LedgerRow(f) for f in friends if f not in (me, ANYONE)}
    for data in referrals:
        sender, to = data.get("from"), data.get("to")
        if not isinstance(sender, str) or not isinstance(to, str):
            continue
        recipient = accepted_by(data) if to == ANYONE else to
        if recipient is None or recipient == sender or me not in (sender, recipient):
            continue
        friend = recipient if sender == me else sender
        row = rows.setdefault(friend, LedgerRow(friend))
        (row.gave if sender == me else row.got).add(data)
    return [rows[f] for f in sorted(rows)]


def totals(rows: Sequence[LedgerRow]) -> LedgerRow:
    """All friends together, for the ledger's last line."""
    total = LedgerRow("total")
    for row in rows:
        for mine, theirs in ((total.gave, row.gave), (total.got, row.got)):
            mine.referred += theirs.referred
            mine.accepted += theirs.accepted
            mine.completed += theirs.completed
    return total
