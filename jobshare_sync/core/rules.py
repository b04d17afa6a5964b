"""The referral lifecycle rules (DESIGN section 6): which status changes are allowed,
who accepted a referral, and what a valid history is. Pure: no store, no I/O.

A referral goes from its sender (`from`) to one friend or to `anyone` (`to`). Its
status moves only along these steps, each a commit with a history entry:

    open -> accepted    by the recipient (for `anyone`: anyone but the sender, first come)
    open -> declined    by the recipient (an `anyone` referral is left open instead)
    open -> withdrawn   by the sender
    accepted -> completed   by whoever accepted it, or the sender
    accepted -> withdrawn   by the sender

declined, completed and withdrawn are final. `transition_refusal` is the one place
these rules live: the commands (referrals.py) ask it before writing, and
`history_problems` replays a referral's history through it for `validate`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from .records import Label, Loaded
from .schema import Problem

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
    for entry in history_entries(data):
        if entry.get("status") == "accepted" and isinstance(entry.get("by"), str):
            who = entry["by"]
    if who is None and data.get("status") in ("accepted", "completed"):
        to = data.get("to")  # a history written by hand may lack the entry
        who = to if isinstance(to, str) and to != ANYONE else None
    return who


def history_entries(data: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The entries of a referral's `history` that are mappings (others are the schema's
    to report)."""
    history = data.get("history")
    return [e for e in history if isinstance(e, dict)] if isinstance(history, list) else []


def parse_time(value: Any) -> dt.datetime | None:
    """A date-time as written in a record, as an aware instant; None when it is none."""
    if not isinstance(value, str):
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


# --- a valid history ---------------------------------------------------------------


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
        moment = parse_time(entry.get("at"))
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
