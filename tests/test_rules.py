"""Tests of jobshare_sync.core.rules: the referral lifecycle, pure (DESIGN section 6)."""

from __future__ import annotations

from typing import Any

import pytest

from jobshare_sync import referrals
from jobshare_sync.core.records import Label, Loaded
from jobshare_sync.core.rules import accepted_by, history_problems, transition_refusal


def test_transition_rules_table() -> None:
    """Every status against every change, for the sender, the recipient and a third friend."""
    allowed = set()
    for current in referrals.STATUSES:
        for new in referrals.STATUSES:
            for to in ("bob", "anyone"):
                for by in ("alice", "bob", "carol"):
                    if transition_refusal("alice", to, current, "bob", by, new) is None:
                        allowed.add((current, new, to, by))
    assert allowed == {
        ("open", "accepted", "bob", "bob"),
        ("open", "accepted", "anyone", "bob"),
        ("open", "accepted", "anyone", "carol"),
        ("open", "declined", "bob", "bob"),
        ("open", "withdrawn", "bob", "alice"),
        ("open", "withdrawn", "anyone", "alice"),
        ("accepted", "withdrawn", "bob", "alice"),
        ("accepted", "withdrawn", "anyone", "alice"),
        ("accepted", "completed", "bob", "bob"),
        ("accepted", "completed", "bob", "alice"),
        ("accepted", "completed", "anyone", "bob"),
        ("accepted", "completed", "anyone", "alice"),
    }


T0, T1, T2 = "2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z", "2026-01-03T00:00:00Z"
OPENED = {"at": T0, "by": "alice", "status": "open"}
ACCEPTED = {"at": T1, "by": "bob", "status": "accepted", "previous": "open"}


def problems(history: list[Any], status: str, to: str = "bob") -> list[tuple[str, str]]:
    data = {"from": "alice", "to": to, "status": status, "history": history}
    found = history_problems(Label("referrals", "r1"), Loaded(data, {}))
    return [(p.field, p.message) for p in found]


HISTORIES = [
    # id, history, status, expected (field, words in the message)
    ("opened", [OPENED], "open", []),
    ("accepted", [OPENED, ACCEPTED], "accepted", []),
    ("a-note-keeps-the-status", [OPENED, {**ACCEPTED, "status": "open"}], "open", []),
    (
        "not-opened-first",
        [{**OPENED, "status": "accepted"}],
        "accepted",
        [("/history/0/status", "must open the referral")],
    ),
    (
        "opened-by-someone-else",
        [{**OPENED, "by": "bob"}],
        "open",
        [("/history/0/by", "bob opened it, but it is from alice")],
    ),
    (
        "accepted-by-a-third-friend",
        [OPENED, {**ACCEPTED, "by": "carol"}],
        "accepted",
        [("/history/1/by", "only bob can accept it")],
    ),
    (
        "wrong-previous",
        [OPENED, {**ACCEPTED, "previous": "declined"}],
        "accepted",
        [("/history/1/previous", "but the entry before it set 'open'")],
    ),
    (
        "back-in-time",
        [{**OPENED, "at": T2}, ACCEPTED],
        "accepted",
        [("/history/1/at", "earlier than the entry before it")],
    ),
    (
        "status-disagrees-with-history",
        [OPENED, ACCEPTED],
        "open",
        [("/status", "the last history entry says 'accepted'")],
    ),
    (
        "completed-by-the-taker",
        [OPENED, ACCEPTED, {"at": T2, "by": "bob", "status": "completed", "previous": "accepted"}],
        "completed",
        [],
    ),
    (
        "after-a-final-status",
        [
            OPENED,
            {"at": T1, "by": "alice", "status": "withdrawn", "previous": "open"},
            {"at": T2, "by": "bob", "status": "accepted", "previous": "withdrawn"},
        ],
        "accepted",
        [("/history/2/by", "which is final")],
    ),
    ("shape-left-to-the-schema", [OPENED, "not an entry"], "open", []),
]


@pytest.mark.parametrize(
    "history, status, expected", [h[1:] for h in HISTORIES], ids=[h[0] for h in HISTORIES]
)
def test_history_problems_table(
    history: list[Any], status: str, expected: list[tuple[str, str]]
) -> None:
    found = problems(history, status)
    assert [field for field, _ in found] == [field for field, _ in expected]
    for (_, message), (_, words) in zip(found, expected, strict=True):
        assert words in message


@pytest.mark.parametrize(
    "data, who",
    [
        ({"to": "bob", "status": "open", "history": [OPENED]}, None),
        ({"to": "anyone", "status": "accepted", "history": [OPENED, ACCEPTED]}, "bob"),
        ({"to": "bob", "status": "completed", "history": [OPENED]}, "bob"),  # written by hand
        ({"to": "anyone", "status": "accepted", "history": [OPENED]}, None),
        ({"to": "bob", "status": "accepted", "history": "not a list"}, "bob"),
    ],
    ids=["open", "from-history", "by-hand", "anyone-by-hand", "bad-history"],
)
def test_accepted_by(data: dict[str, Any], who: str | None) -> None:
    assert accepted_by(data) == who
