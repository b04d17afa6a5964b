"""Times from a friend's branch: a date-time more than a day ahead of the receiving
machine's clock is refused as implausible, so it never wins `max` or `--strategy newest`
for good (DESIGN section 3). Through the command line, and the pure step directly."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from conftest import jobshare
from test_sync import T0, T1, assert_clean, commit, contact, edit, ok, pair, read, write

from jobshare_sync.core.merge import AncestorOursTheirs
from jobshare_sync.core.policy import Candidate, drop_unmergeable, implausible_time

FAR = "9999-12-31T23:59:59Z"
NOW = dt.datetime(2026, 10, 1, 9, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize("strategy", [[], ["--strategy", "newest"]])
def test_a_time_far_ahead_from_a_friend_is_refused(tmp_path: Path, strategy: list[str]) -> None:
    alice, bob = pair(tmp_path, contact("acme", location="Leeds"))
    edit(alice, "contacts/acme", location="York", updated=T1)
    commit(alice)
    edit(bob, "contacts/acme", location="Bath", updated=FAR)
    write(bob, "contacts/new", contact("new", "bob", updated=FAR))
    write(bob, "contacts/fine", contact("fine", "bob", updated=T1))
    commit(bob)
    result = jobshare("pull", "bob", *strategy, cwd=alice)
    assert result.exit_code == 0, result.output
    assert "is more than a day ahead of this machine's clock" in result.output
    assert read(alice, "contacts/acme")["updated"] == T1
    assert read(alice, "contacts/acme")["location"] == "York"
    assert not (alice / "contacts/new.yaml").exists()
    assert read(alice, "contacts/fine")["updated"] == T1
    assert_clean(alice)
    # a later plausible edit of theirs comes through as usual
    edit(bob, "contacts/acme", updated=T0)
    edit(bob, "contacts/new", updated=T0)
    commit(bob)
    ok("pull", "bob", *strategy, cwd=alice)
    assert (alice / "contacts/new.yaml").exists()


@pytest.mark.parametrize(
    ("base", "ours", "theirs", "refused"),
    [
        (None, None, {"updated": FAR}, True),
        (None, None, {"updated": "2026-10-02T08:59:59Z"}, False),  # less than a day ahead
        (None, None, {"updated": "2026-10-02T09:00:01Z"}, True),
        (None, None, {"updated": "2026-10-02T10:00:00+02:00"}, False),  # an offset, honoured
        (None, None, {"history": [{"at": FAR}]}, True),
        (None, None, {"connected": "9999-12-31"}, False),  # a date, no time
        ({"updated": FAR}, {"updated": FAR}, {"updated": FAR, "x": 1}, False),  # held already
        (None, {"updated": FAR}, {"history": [{"at": FAR}]}, False),
    ],
)
def test_implausible_time_table(
    base: dict[str, Any] | None,
    ours: dict[str, Any] | None,
    theirs: dict[str, Any],
    refused: bool,
) -> None:
    versions = AncestorOursTheirs(base, ours, theirs)
    assert (implausible_time(versions, NOW) is not None) == refused
    candidate = Candidate("contacts/x", versions)
    items, skipped = drop_unmergeable([candidate], now=NOW)
    assert (len(skipped), len(items)) == ((1, 0) if refused else (0, 1))
