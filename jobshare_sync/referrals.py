"""Referrals: "I can't take this job, can you?" as commits, the inbox and the ledger.

A referral goes from its sender (`from`) to one friend or to `anyone` (`to`). Its
status moves only along these steps, each a commit with a history entry:

    open -> accepted    by the recipient (for `anyone`: anyone but the sender, first come)
    open -> declined    by the recipient (an `anyone` referral is left open instead)
    open -> withdrawn   by the sender
    accepted -> completed   by whoever accepted it, or the sender
    accepted -> withdrawn   by the sender

declined, completed and withdrawn are final. `transition_refusal` is the one place
these rules live: the commands ask it before writing, and `history_problems` replays
a referral's history through it for `validate`. Nothing here prints.
"""

from __future__ import annotations

import datetime as dt
import difflib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from . import workspace
from .core import records, values
from .core.records import Label, Loaded
from .core.schema import Problem
from .errors import FriendError, LabelError, RecordError, ReferralError
from .store import Store

ANYONE = "anyone"
STATUSES = ("open", "accepted", "declined", "completed", "withdrawn")
FINAL = ("declined", "completed", "withdrawn")
# the command's word (and its commit message's verb) -> the status it sets
ACTIONS = {
    "accept": "accepted",
    "decline": "declined",
    "complete": "completed",
    "withdraw": "withdrawn",
}
VERB_OF_STATUS = {status: action for action, status in ACTIONS.items()}


# --- the rules ------------------------------------------------------------------------


def transition_refusal(
    sender: str, to: str, current: str, accepted_by: str | None, by: str, new: str
) -> str | None:
    """Why `by` may not move a referral from `current` to `new`, or None when they may.

    `sender` and `to` are the referral's `from` and `to`; `accepted_by` is who accepted
    it (None while nobody has).
    """
    if current in FINAL:
        return f"it is {current}, which is final"
    if new == current:
        return f"it is {current} already"
    if new == "open":
        return "a referral is opened once, when it is made"
    if new in ("accepted", "declined"):
        verb = VERB_OF_STATUS[new]
        if current != "open":
            return f"only an open referral can be {new}; it is {current}"
        if by == sender:
            return f"it is {sender}'s own referral"
        if new == "declined" and to == ANYONE:
            return "it is offered to anyone, so nobody declines it: leave it open for others"
        if to != ANYONE and by != to:
            return f"it is offered to {to}, so only {to} can {verb} it"
        return None
    if new == "withdrawn":
        if by != sender:
            return f"only {sender}, who made it, can withdraw it"
        return None  # from open or accepted: the final states were refused above
    if new == "completed":
        if current != "accepted":
            return f"only an accepted referral can be completed; it is {current}"
        if by not in (accepted_by, sender):
            taker = f"{accepted_by} (who accepted it)" if accepted_by else "whoever accepted it"
            return f"only {taker} or {sender} (who made it) can complete it"
        return None
    return f"'{new}' is not a status: use one of {', '.join(STATUSES)}"


def accepted_by(data: Mapping[str, Any]) -> str | None:
    """Who accepted the referral: the `by` of its last `accepted` history entry."""
    who = None
    for entry in _entries(data):
        if entry.get("status") == "accepted" and isinstance(entry.get("by"), str):
            who = entry["by"]
    if who is None and data.get("status") in ("accepted", "completed"):
        to = data.get("to")  # a history written by hand may lack the entry
        who = to if isinstance(to, str) and to != ANYONE else None
    return who


def _entries(data: Mapping[str, Any]) -> list[dict[str, Any]]:
    history = data.get("history")
    return [e for e in history if isinstance(e, dict)] if isinstance(history, list) else []


def _latest(first: str, *others: Any) -> str:
    """The latest of some date-times as written (`first` on a tie); unreadable ones do not count."""
    best, best_time = first, _parse_time(first)
    for value in others:
        when = _parse_time(value)
        if when is not None and (best_time is None or when > best_time):
            best, best_time = value, when
    return best


def _parse_time(value: Any) -> dt.datetime | None:
    """A date-time as an instant (offsets and fractions honoured), or None."""
    return values.parse_instant(value) if isinstance(value, str) else None


# --- validate: a history that breaks the rules ---------------------------------------


def history_problems(label: Label, loaded: Loaded) -> list[Problem]:
    """Every way a referral's history breaks the rules, each with its file and line.

    The first entry opens it (`open`, by `from`); each later entry names as `previous`
    the status before it, is made by someone the rules allow, and is not earlier than
    the entry before it; the last entry's status is the referral's `status`. An entry
    that keeps the status (a note) is allowed. Shapes the schema rejects are left to it.
    """
    data = loaded.data
    if not isinstance(data, dict) or not isinstance(data.get("history"), list):
        return []
    sender, to = data.get("from"), data.get("to")
    if not isinstance(sender, str) or not isinstance(to, str):
        return []
    problems: list[Problem] = []

    def problem(pointer: str, message: str) -> None:
        problems.append(Problem(label.path, loaded.line_of(pointer), pointer, message))

    status: str | None = None
    taker: str | None = None
    when: dt.datetime | None = None
    last_at = ""
    for i, entry in enumerate(data["history"]):
        at = f"/history/{i}"
        if not isinstance(entry, dict) or entry.get("status") not in STATUSES:
            return problems  # the schema reports it; the story cannot be followed past it
        new, by, previous = entry["status"], entry.get("by"), entry.get("previous")
        if not isinstance(by, str):
            return problems
        moment = _parse_time(entry.get("at"))
        if moment is not None and when is not None and moment < when:
            problem(f"{at}/at", f"{entry['at']} is earlier than the entry before it ({last_at})")
        if moment is not None:
            when, last_at = moment, entry["at"]
        if status is None:  # the first entry
            if new != "open":
                problem(f"{at}/status", f"the first entry must open the referral, not say {new!r}")
            elif by != sender:
                problem(f"{at}/by", f"{by} opened it, but it is from {sender}")
            if previous is not None:
                problem(f"{at}/previous", "the first entry has no previous status")
            status = new
            continue
        if previous is None:
            problem(at, f"has no 'previous': the entry before it set {status!r}")
        elif previous != status:
            problem(f"{at}/previous", f"is {previous!r}, but the entry before it set {status!r}")
        if new == status:
            continue  # a note: the status stays
        reason = transition_refusal(sender, to, status, taker, by, new)
        if reason is not None:
            problem(f"{at}/by", f"{by} set it {new}, which is not allowed: {reason}")
        if new == "accepted":
            taker = by
        status = new
    if status is not None and data.get("status") != status:
        problem("/status", f"is {data.get('status')!r}, but the last history entry says {status!r}")
    return problems


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
    return workspace.known_handles(store) - {store.handle}


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
    me = store.handle
    client = find_contact(store, contact)
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
    label = Label("referrals", records.new_id(title, workspace.id_in_use(store)))
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
    client_name = _contact_name(store, client)
    message = f'Refer "{title}" ({client_name}) to {to}'
    saved = workspace.save_record(store, label, data, message=message)
    return ReferralChange(label, saved.data, saved.commit, message)


def _text_block(text: str | None) -> str | None:
    """Multi-line text ends in a newline, so it is written as a clean literal block."""
    if text is None or not text.strip():
        return None
    return text if "\n" not in text.rstrip("\n") else text.rstrip("\n") + "\n"


def find_contact(store: Store, text: str) -> Label:
    """The client of a referral: a contact's label, id, unique id prefix or name."""
    return _find(store, text, "contacts")


def find_referral(store: Store, text: str) -> Label:
    """A referral from its label, id, unique id prefix or title."""
    return _find(store, text, "referrals")


def _find(store: Store, text: str, folder: str) -> Label:
    """A record of one folder, found as every label is (`records.match_label`: label,
    id, unique id prefix, then name or title without regard to case or accents); a
    miss suggests the closest ids and names of that folder."""
    wanted = text.strip().removesuffix(".yaml")
    noun = records.KIND_OF_FOLDER[folder]
    if wanted.partition("/")[0] in records.FOLDERS:
        label = workspace.find_label(store, wanted)
        if label.folder != folder:
            raise LabelError(f"'{text}' is a {label.kind}, not a {noun}")
        return label
    known = [label for label in workspace.known_labels(store) if label.folder == folder]
    names: dict[Label, str] = {}

    def titles() -> dict[Label, str]:
        if not names:
            names.update(workspace.record_titles(store, folder))
        return names

    try:
        return records.match_label(wanted, known, titles)
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
    data = workspace.read_worktree_record(store, label)
    new, me = ACTIONS[action], store.handle
    sender, to, current = (str(data.get(k)) for k in ("from", "to", "status"))
    reason = transition_refusal(sender, to, current, accepted_by(data), me, new)
    if reason is not None:
        raise ReferralError(f"you ({me}) cannot {action} {label}: {reason}")
    # a friend's clock may run ahead of ours: the history stays in order all the same
    at = _latest(workspace.now(), *(e.get("at") for e in _entries(data)))
    entry: dict[str, Any] = {"at": at, "by": me, "status": new, "previous": current}
    if note:
        entry["note"] = note
    changed = dict(data)
    changed["status"] = new
    changed["updated"] = _latest(at, data.get("updated"))
    changed["history"] = [*_entries(data), entry]
    title = data.get("title") or label.id
    whom = f"from {sender}" if sender != me else f"(offered to {to})"
    subject = f'{action.capitalize()} "{title}" {whom}'
    message = f"{subject}\n\n{note}\n" if note else subject
    saved = workspace.save_record(store, label, changed, message=message)
    return ReferralChange(label, saved.data, saved.commit, subject, current)


def _contact_name(store: Store, label: Label) -> str:
    try:
        data = workspace.read_worktree_record(store, label)
    except (RecordError, OSError):
        return label.id
    return str(data.get("name") or label.id)


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
    listed = workspace.list_records(store)
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
                names.get(client, client),
                str(data.get("from") or ""),
                str(data.get("to") or ""),
                str(data.get("status") or ""),
                _optional(data.get("deadline")),
                _optional(data.get("budget")),
                str(data.get("created") or ""),
            )
        )
    items.sort(key=lambda i: str(i.label))
    items.sort(key=lambda i: _parse_time(i.created) or _EPOCH, reverse=True)
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
        if any(e.get("status") == "accepted" for e in _entries(data)) or data.get("status") in (
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
        [item.data for item in workspace.list_records(store, "referrals")],
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
