"""Referrals as commits: refer, the four status changes, inbox, ledger, history checks,
and referrals travelling between friends' real repositories (over paths and git daemon).
The rules themselves, without a repository: test_rules.py."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from conftest import git, jobshare, make_repo, set_owner

from jobshare_sync import referrals

TITLE = "Data pipeline, 3 months"


def ok(result: Result) -> Result:
    assert result.exit_code == 0, result.output
    return result


def subjects(repo: Path) -> list[str]:
    return git("log", "--format=%s", cwd=repo).splitlines()


def add_acme(repo: Path) -> None:
    ok(jobshare("add", "contact", "--name", "Acme Recruiting", "--id", "acme", cwd=repo))


def pin(repo: Path, *handles: str) -> None:
    """Pin friends' handles as 'jobshare fetch' does, for tests that need no remote."""
    for handle in handles:
        git("config", f"jobshare-friend.{handle}.handle", handle, cwd=repo)


def refer(repo: Path, *args: str, to: str = "bob", title: str = TITLE) -> str:
    """Refer a job for Acme; returns the referral's label."""
    result = ok(jobshare("refer", "acme", "--to", to, "--title", title, *args, "--json", cwd=repo))
    return str(json.loads(result.output)["jobshare.referral/v1"]["label"])


def record(repo: Path, label: str) -> dict[str, Any]:
    shown = ok(jobshare("show", label, "--json", cwd=repo))
    data: dict[str, Any] = json.loads(shown.output)["jobshare.show/v1"]["record"]
    return data


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Callable[[str], None]:
    """Set the time jobshare writes into records (JOBSHARE_NOW)."""

    def set_time(when: str) -> None:
        monkeypatch.setenv("JOBSHARE_NOW", when)

    set_time("2026-10-01T09:00:00Z")
    return set_time


@pytest.fixture
def office(tmp_path: Path, clock: Callable[[str], None]) -> Path:
    """One repository whose owner the tests switch between alice, bob and carol, so that
    each of them can act on the same referrals; every handle is pinned as a friend's."""
    repo = make_repo(tmp_path / "office")
    add_acme(repo)
    pin(repo, "alice", "bob", "carol")
    return repo


def become(repo: Path, who: str) -> None:
    """Make `who` the repository's owner (a commit), unless they are already."""
    if f"handle: {who}\n" not in (repo / "jobshare.yaml").read_text():
        set_owner(repo, who)


def act(repo: Path, who: str, *args: str) -> Result:
    """Run a command as `who` (the repository's owner for the moment)."""
    become(repo, who)
    return jobshare(*args, cwd=repo)


# --- refer --------------------------------------------------------------------------


def test_refer_writes_one_commit_with_the_first_history_entry(
    repo: Path, clock: Callable[[str], None]
) -> None:
    add_acme(repo)
    pin(repo, "bob")
    clock("2026-10-03T09:15:00Z")
    result = ok(
        jobshare(
            "refer",
            "Acme Recruiting",  # a contact's name does as well as its id
            "--to",
            "bob",
            "--title",
            TITLE,
            "--details",
            "Airflow and dbt.\nTalk to Dana.",
            "--budget",
            "EUR 600/day",
            "--deadline",
            "2026-12-15",
            cwd=repo,
        )
    )
    [path] = list((repo / "referrals").glob("data-pipeline-3-months-*.yaml"))
    assert f"Referred referrals/{path.stem} to bob in commit" in result.output
    assert subjects(repo)[0] == f'Refer "{TITLE}" (Acme Recruiting) to bob'
    assert git("show", "--stat", "--format=", "HEAD", cwd=repo).count("|") == 1  # one file
    assert git("status", "--porcelain", cwd=repo) == ""
    assert path.read_text() == (
        "# yaml-language-server: $schema=../.jobshare/schema/referral.schema.json\n"
        f"id: {path.stem}\n"
        f"title: {TITLE}\n"
        "client: acme\n"
        "from: alice\n"
        "to: bob\n"
        "status: open\n"
        "details: |\n"
        "  Airflow and dbt.\n"
        "  Talk to Dana.\n"
        "budget: EUR 600/day\n"
        "deadline: '2026-12-15'\n"
        "created: '2026-10-03T09:15:00Z'\n"
        "updated: '2026-10-03T09:15:00Z'\n"
        "history:\n"
        "- at: '2026-10-03T09:15:00Z'\n"
        "  by: alice\n"
        "  status: open\n"
    )
    ok(jobshare("validate", cwd=repo))


def test_refer_to_anyone_and_json(repo: Path) -> None:
    add_acme(repo)
    result = ok(jobshare("refer", "acme", "--to", "anyone", "--title", "Audit", "--json", cwd=repo))
    payload = json.loads(result.output)["jobshare.referral/v1"]
    assert payload["status"] == "open" and payload["previous"] is None
    assert payload["record"]["to"] == "anyone" and payload["pushed"] is None
    assert payload["message"] == 'Refer "Audit" (Acme Recruiting) to anyone'
    assert payload["commit"] == git("rev-parse", "HEAD", cwd=repo).strip()


@pytest.mark.parametrize(
    "args, code, message",
    [
        (["acmx", "--to", "bob"], 7, "no contact 'acmx' (did you mean acme?)"),
        (["Acme Recruting", "--to", "bob"], 7, "did you mean acme recruiting?"),
        (["acme", "--to", "dave"], 10, "'dave' is not a friend's handle (known: bob)"),
        (["acme", "--to", "alice"], 13, "you cannot refer a job to yourself"),
        (["acme", "--to", "bob", "--deadline", "15/12/2026"], 6, "deadline: '15/12/2026' is not"),
    ],
)
def test_refer_refusals_commit_nothing(
    repo: Path, args: list[str], code: int, message: str
) -> None:
    add_acme(repo)
    pin(repo, "bob")
    before = subjects(repo)
    result = jobshare("refer", *args, "--title", TITLE, cwd=repo)
    assert result.exit_code == code, result.output
    assert message in result.output
    assert subjects(repo) == before and not list((repo / "referrals").glob("*.yaml"))


def test_refer_needs_a_contact_not_a_referral(office: Path) -> None:
    label = refer(office)
    result = jobshare("refer", label, "--to", "bob", "--title", "Again", cwd=office)
    assert result.exit_code == 7 and "is a referral, not a contact" in result.output


# --- the status changes -------------------------------------------------------------

# (who, command, exit code): each scenario starts with a referral from alice
SCENARIOS = {
    "accept-then-complete": (
        "bob",
        [("bob", "accept", 0), ("bob", "complete", 0), ("alice", "withdraw", 13)],
        "completed",
    ),
    "only-the-recipient-answers": (
        "bob",
        [("carol", "accept", 13), ("alice", "accept", 13), ("carol", "decline", 13)]
        + [("bob", "decline", 0), ("bob", "accept", 13), ("alice", "withdraw", 13)],
        "declined",
    ),
    "withdraw-while-open": (
        "bob",
        [("bob", "withdraw", 13), ("alice", "withdraw", 0), ("bob", "accept", 13)],
        "withdrawn",
    ),
    "sender-completes": (
        "bob",
        [("bob", "complete", 13), ("bob", "accept", 0), ("bob", "accept", 13)]
        + [("carol", "complete", 13), ("alice", "complete", 0), ("bob", "complete", 13)],
        "completed",
    ),
    "withdraw-after-accept": (
        "bob",
        [("bob", "accept", 0), ("bob", "withdraw", 13), ("bob", "decline", 13)]
        + [("alice", "withdraw", 0), ("bob", "complete", 13)],
        "withdrawn",
    ),
    "anyone-first-come": (
        "anyone",
        [("carol", "decline", 13), ("alice", "accept", 13), ("carol", "accept", 0)]
        + [("bob", "accept", 13), ("bob", "complete", 13), ("carol", "complete", 0)],
        "completed",
    ),
    "anyone-withdrawn": (
        "anyone",
        [("alice", "withdraw", 0), ("carol", "accept", 13)],
        "withdrawn",
    ),
}


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_status_changes_allowed_and_refused(office: Path, scenario: str) -> None:
    to, steps, final = SCENARIOS[scenario]
    label = refer(office, to=to)
    path = office / f"{label}.yaml"
    expected_history = [("alice", "open")]
    for who, action, code in steps:
        become(office, who)
        before, head = path.read_bytes(), subjects(office)[0]
        result = jobshare("referral", action, label, "--note", f"{who} {action}s", cwd=office)
        assert result.exit_code == code, (who, action, result.output)
        if code == 0:
            status = referrals.ACTIONS[action]
            verb = action.capitalize()
            whom = "from alice" if who != "alice" else f"(offered to {to})"
            assert subjects(office)[0] == f'{verb} "{TITLE}" {whom}'
            body = git("log", "-1", "--format=%b", cwd=office)
            assert f"{who} {action}s" in body
            expected_history.append((who, status))
        else:  # refused: one line with the reason, nothing written or committed
            assert result.output.startswith(f"jobshare: you ({who}) cannot {action} {label}: ")
            assert result.output.count("\n") == 1
            assert path.read_bytes() == before and subjects(office)[0] == head
    data = record(office, label)
    assert data["status"] == final
    assert [(e["by"], e["status"]) for e in data["history"]] == expected_history
    for prior, entry in zip(data["history"], data["history"][1:], strict=False):
        assert entry["previous"] == prior["status"]
    ok(jobshare("validate", cwd=office))


def test_refusal_reasons_name_who_may(office: Path) -> None:
    to_bob = refer(office)
    to_anyone = refer(office, to="anyone", title="Audit")
    cases = [
        ("carol", "accept", to_bob, "it is offered to bob, so only bob can accept it"),
        ("alice", "accept", to_bob, "it is alice's own referral"),
        ("carol", "decline", to_anyone, "leave it open for others"),
        ("bob", "withdraw", to_bob, "only alice, who made it, can withdraw it"),
        ("bob", "complete", to_bob, "only an accepted referral can be completed; it is open"),
    ]
    for who, action, label, reason in cases:
        result = act(office, who, "referral", action, label)
        assert result.exit_code == 13 and reason in result.output, result.output
    ok(act(office, "carol", "referral", "accept", to_anyone))
    result = act(office, "bob", "referral", "complete", to_anyone)
    assert "only carol (who accepted it) or alice (who made it) can complete it" in result.output
    ok(act(office, "carol", "referral", "complete", "Audit"))  # a title does as a label
    final = act(office, "alice", "referral", "withdraw", to_anyone)
    assert final.exit_code == 13 and "it is completed, which is final" in final.output


def test_referral_commands_find_referrals_only(office: Path) -> None:
    result = act(office, "bob", "referral", "accept", "contacts/acme")
    assert result.exit_code == 7 and "is a contact, not a referral" in result.output
    missing = act(office, "bob", "referral", "accept", "data-pipe")
    assert missing.exit_code == 7 and "no referral 'data-pipe'" in missing.output


def test_a_clock_behind_the_history_keeps_it_in_order(
    office: Path, clock: Callable[[str], None]
) -> None:
    clock("2026-10-05T12:00:00Z")
    label = refer(office)
    clock("2026-10-05T11:58:00Z")  # bob's clock is two minutes behind alice's
    ok(act(office, "bob", "referral", "accept", label))
    data = record(office, label)
    assert [e["at"] for e in data["history"]] == ["2026-10-05T12:00:00Z"] * 2
    assert data["updated"] == "2026-10-05T12:00:00Z"
    ok(jobshare("validate", cwd=office))


# --- inbox --------------------------------------------------------------------------


def test_inbox_lists_open_referrals_for_me_newest_first(
    office: Path, clock: Callable[[str], None]
) -> None:
    made = {}
    for day, (sender, to, title) in enumerate(
        [
            ("alice", "bob", "Old job for bob"),
            ("carol", "anyone", "Job for anyone"),
            ("alice", "carol", "Job for carol"),
            ("bob", "anyone", "Bob's own job"),
            ("alice", "bob", "New job for bob"),
            ("carol", "bob", "Declined job"),
        ],
        start=1,
    ):
        clock(f"2026-10-0{day}T09:00:00Z")
        become(office, sender)
        made[title] = refer(office, "--deadline", f"2026-12-0{day}", to=to, title=title)
    clock("2026-10-09T09:00:00Z")
    ok(act(office, "bob", "referral", "decline", made["Declined job"]))
    out = ok(jobshare("inbox", cwd=office)).output
    lines = out.splitlines()
    assert lines[0].split() == ["referral", "title", "client", "from", "to", "deadline"]
    assert [line.split("  ")[0] for line in lines[1:]] == [
        made["New job for bob"],
        made["Job for anyone"],
        made["Old job for bob"],
    ]
    assert lines[1].split()[-4:] == ["Recruiting", "alice", "bob", "2026-12-05"]
    data = json.loads(ok(jobshare("inbox", "--json", cwd=office)).output)["jobshare.inbox/v1"]
    assert [i["title"] for i in data] == ["New job for bob", "Job for anyone", "Old job for bob"]
    assert data[1] == {
        "label": made["Job for anyone"],
        "title": "Job for anyone",
        "client": "acme",
        "client_name": "Acme Recruiting",
        "from": "carol",
        "to": "anyone",
        "status": "open",
        "deadline": "2026-12-02",
        "budget": None,
        "created": "2026-10-02T09:00:00Z",
    }
    every = json.loads(ok(jobshare("inbox", "--all", "--json", cwd=office)).output)
    assert len(every["jobshare.inbox/v1"]) == 6
    assert "declined" in ok(jobshare("inbox", "--all", cwd=office)).output
    become(office, "dave")  # a stranger sees what is offered to anyone
    strangers = json.loads(ok(jobshare("inbox", "--json", cwd=office)).output)
    titles = [i["title"] for i in strangers["jobshare.inbox/v1"]]
    assert titles == ["Bob's own job", "Job for anyone"]
    fresh = make_repo(office.parent / "fresh", "zoe")
    assert "no open referrals for you" in ok(jobshare("inbox", cwd=fresh)).output


# --- ledger -------------------------------------------------------------------------

# sender, to, then each step as (who, action)
SCRIPT = [
    ("alice", "bob", [("bob", "accept"), ("bob", "complete")]),  # r1
    ("alice", "bob", [("bob", "decline")]),  # r2
    ("alice", "carol", [("carol", "accept"), ("alice", "withdraw")]),  # r3
    ("alice", "anyone", [("carol", "accept")]),  # r4
    ("alice", "anyone", []),  # r5: nobody has taken it: counts for nobody
    ("bob", "alice", [("alice", "accept")]),  # r6
    ("bob", "alice", []),  # r7
    ("carol", "alice", [("alice", "accept"), ("carol", "complete")]),  # r8
    ("carol", "anyone", [("bob", "accept")]),  # r9: between others
    ("bob", "carol", [("carol", "accept")]),  # r10: between others
    ("bob", "anyone", [("carol", "accept")]),  # r11: between others
    ("carol", "bob", []),  # r12: between others
    ("alice", "carol", [("carol", "decline")]),  # r13
    ("alice", "bob", [("bob", "accept")]),  # r14
    ("carol", "alice", [("alice", "accept")]),  # r15
    ("carol", "alice", [("alice", "accept"), ("alice", "complete")]),  # r16
]


def flows(gave: tuple[int, int, int], got: tuple[int, int, int], balance: int) -> dict[str, Any]:
    names = ("referred", "accepted", "completed")
    return {
        "gave": dict(zip(names, gave, strict=True)),
        "got": dict(zip(names, got, strict=True)),
        "balance": balance,
    }


def test_ledger_counts_a_scripted_history_between_three_friends(office: Path) -> None:
    for n, (sender, to, steps) in enumerate(SCRIPT, start=1):
        become(office, sender)
        label = refer(office, to=to, title=f"Job r{n}")
        for who, action in steps:
            ok(act(office, who, "referral", action, label))
    ok(jobshare("validate", cwd=office))

    def ledger_of(who: str) -> dict[str, Any]:
        become(office, who)
        payload = json.loads(ok(jobshare("ledger", "--json", cwd=office)).output)
        return {row.pop("friend"): row for row in payload["jobshare.ledger/v1"]}

    # Counted by hand from SCRIPT. Alice gave bob r1, r2, r14 (accepted r1, r14; completed r1)
    # and got r6, r7 (accepted r6). She gave carol r3, r13 and r4 (to anyone, carol took it;
    # accepted r3, r4) and got r8, r15, r16 (all accepted; r8 and r16 completed).
    assert ledger_of("alice") == {
        "bob": flows((3, 2, 1), (2, 1, 0), +1),
        "carol": flows((3, 2, 0), (3, 3, 2), -1),
    }
    # Bob's view mirrors alice's row; with carol: gave r10, r11 (both taken), got r12, r9.
    assert ledger_of("bob") == {
        "alice": flows((2, 1, 0), (3, 2, 1), -1),
        "carol": flows((2, 2, 0), (2, 1, 0), +1),
    }
    become(office, "alice")
    text = ok(jobshare("ledger", cwd=office)).output.splitlines()
    assert text[0].split() == ["you", "gave", "them", "they", "gave", "you"]
    assert text[1].split() == ["friend"] + ["referred", "accepted", "completed"] * 2 + ["balance"]
    assert text[2].split() == ["bob", "3", "2", "1", "2", "1", "0", "+1"]
    assert text[3].split() == ["carol", "3", "2", "0", "3", "3", "2", "-1"]
    assert text[5].split() == ["total", "6", "4", "1", "5", "4", "2", "0"]
    assert any("balance: referrals you gave them that they accepted" in line for line in text)


def test_ledger_lists_friends_with_nothing_yet(office: Path) -> None:
    payload = json.loads(ok(jobshare("ledger", "--json", cwd=office)).output)
    assert [row["friend"] for row in payload["jobshare.ledger/v1"]] == ["bob", "carol"]
    assert payload["jobshare.ledger/v1"][0] == {"friend": "bob"} | flows((0, 0, 0), (0, 0, 0), 0)
    fresh = make_repo(office.parent / "fresh", "zoe")
    assert "no referrals with friends yet" in ok(jobshare("ledger", cwd=fresh)).output


# --- validate: histories that break the rules ----------------------------------------

GOOD = """\
id: r-1
title: Job
client: acme
from: alice
to: bob
status: {status}
created: '2026-10-01T09:00:00Z'
updated: '2026-10-04T09:00:00Z'
history:
- at: '2026-10-01T09:00:00Z'
  by: alice
  status: open
{more}"""

ENTRY = """\
- at: '{at}'
  by: {by}
  status: {status}
  previous: {previous}
"""


def entry(day: int, by: str, status: str, previous: str) -> str:
    return ENTRY.format(at=f"2026-10-0{day}T09:00:00Z", by=by, status=status, previous=previous)


BAD_HISTORIES = [
    # id, status, entries after the first, (line, field, message) expected
    (
        "wrong-person-accepted",
        "accepted",
        entry(2, "carol", "accepted", "open"),
        (14, "history.1.by", "carol set it accepted, which is not allowed: it is offered to bob"),
    ),
    (
        "previous-mismatch",
        "completed",
        entry(2, "bob", "accepted", "open") + entry(3, "bob", "completed", "open"),
        (20, "history.2.previous", "is 'open', but the entry before it set 'accepted'"),
    ),
    (
        "out-of-order",
        "completed",
        entry(3, "bob", "accepted", "open") + entry(2, "bob", "completed", "accepted"),
        (17, "history.2.at", "2026-10-02T09:00:00Z is earlier than the entry before it"),
    ),
    (
        "last-status-mismatch",
        "open",
        entry(2, "bob", "accepted", "open"),
        (6, "status", "is 'open', but the last history entry says 'accepted'"),
    ),
    (
        "declined-then-accepted",
        "accepted",
        entry(2, "bob", "declined", "open") + entry(3, "bob", "accepted", "declined"),
        (
            18,
            "history.2.by",
            "bob set it accepted, which is not allowed: it is declined, which is final",
        ),
    ),
    (
        "withdrawn-by-the-recipient",
        "withdrawn",
        entry(2, "bob", "withdrawn", "open"),
        (14, "history.1.by", "bob set it withdrawn, which is not allowed: only alice"),
    ),
]


@pytest.mark.parametrize(
    "status, more, expected",
    [case[1:] for case in BAD_HISTORIES],
    ids=[case[0] for case in BAD_HISTORIES],
)
def test_validate_flags_a_bad_history_with_file_and_line(
    office: Path, status: str, more: str, expected: tuple[int, str, str]
) -> None:
    (office / "referrals/r-1.yaml").write_text(GOOD.format(status=status, more=more))
    result = jobshare("validate", cwd=office)
    assert result.exit_code == 1, result.output
    line, field, message = expected
    assert f"referrals/r-1.yaml:{line}: {field}: {message}" in result.output
    assert result.output.count("referrals/r-1.yaml") == 1, result.output


def test_validate_flags_a_history_not_opened_by_the_sender(office: Path) -> None:
    text = GOOD.format(status="open", more="").replace("  by: alice\n", "  by: bob\n")
    (office / "referrals/r-1.yaml").write_text(text)
    result = jobshare("validate", "--json", cwd=office)
    problems = json.loads(result.output)["jobshare.validate/v1"]["problems"]
    assert [(p["line"], p["field"], p["message"]) for p in problems] == [
        (11, "/history/0/by", "bob opened it, but it is from alice")
    ]


def test_validate_accepts_good_histories_and_notes(office: Path) -> None:
    note = "- at: '2026-10-03T09:00:00Z'\n  by: alice\n  status: accepted\n  previous: accepted\n  note: Kick-off\n"
    more = entry(2, "bob", "accepted", "open") + note + entry(4, "alice", "completed", "accepted")
    (office / "referrals/r-1.yaml").write_text(GOOD.format(status="completed", more=more))
    result = jobshare("validate", cwd=office)
    assert result.exit_code == 0, result.output


# --- between friends' repositories --------------------------------------------------


def serve(work: Path, url: str | None = None) -> str:
    """Give `work` a bare 'origin' next to it (or at `url`) and push to it."""
    bare = work.with_name(work.name + ".git")
    git("init", "-q", "--bare", str(bare), cwd=work.parent)
    git("remote", "add", "origin", url or str(bare), cwd=work)
    ok(jobshare("push", cwd=work))
    return str(bare)


def befriend(repo: Path, name: str, url: str) -> None:
    ok(jobshare("friend", "add", name, url, cwd=repo))
    ok(jobshare("fetch", name, cwd=repo))


def test_concurrent_accept_of_an_anyone_referral_is_a_conflict_naming_both(
    tmp_path: Path,
) -> None:
    alice = make_repo(tmp_path / "alice", "alice")
    add_acme(alice)
    label = refer(alice, to="anyone")
    alice_url = serve(alice)
    clones = {}
    for who in ("bob", "carol"):
        clones[who] = make_repo(tmp_path / who, who)
        befriend(clones[who], "alice", alice_url)
        ok(jobshare("pull", "alice", cwd=clones[who]))
        assert label in ok(jobshare("inbox", cwd=clones[who])).output
        ok(jobshare("referral", "accept", label, "--note", f"{who} is free", cwd=clones[who]))
        befriend(alice, who, serve(clones[who]))
    ok(jobshare("pull", "bob", cwd=alice))
    assert record(alice, label)["status"] == "accepted"

    pulled = jobshare("pull", "carol", cwd=alice)
    assert pulled.exit_code == 1, pulled.output
    assert f"CONFLICT {label} (both-modified): status, history" in pulled.output
    conflicts = json.loads(ok(jobshare("conflicts", "--json", cwd=alice)).output)
    [conflict] = conflicts["jobshare.conflicts/v1"]
    assert conflict["label"] == label and conflict["reason"] == "both-modified"
    status = next(f for f in conflict["fields"] if f["field"] == "status")
    assert (status["base"], status["ours"], status["theirs"]) == ("open", "accepted", "accepted")
    [message] = conflict["messages"]
    assert "accepted concurrently by bob (ours) and carol (theirs)" in message

    # Alice keeps bob's acceptance; carol's is not lost from git, only from the record.
    ok(jobshare("resolve", label, "--ours", cwd=alice))
    ok(jobshare("merge", "--continue", cwd=alice))
    data = record(alice, label)
    assert [(e["by"], e["status"]) for e in data["history"]] == [
        ("alice", "open"),
        ("bob", "accepted"),
    ]
    ok(jobshare("validate", cwd=alice))
    assert git("status", "--porcelain", cwd=alice) == ""

    # Alice's merge has carol's commit as a parent: carol's next pull takes its outcome,
    # quietly, and the race is settled everywhere.
    ok(jobshare("push", cwd=alice))
    carol = clones["carol"]
    ok(jobshare("pull", "alice", cwd=carol))
    assert record(carol, label) == data
    ok(jobshare("validate", cwd=carol))


def test_history_merges_from_both_sides_and_nothing_is_lost(tmp_path: Path) -> None:
    alice = make_repo(tmp_path / "alice", "alice")
    bob = make_repo(tmp_path / "bob", "bob")
    bob_url = serve(bob)
    befriend(alice, "bob", bob_url)
    add_acme(alice)
    label = refer(alice, "--details", "Airflow\ndbt\n3 months\n")
    befriend(bob, "alice", serve(alice))
    ok(jobshare("pull", "alice", cwd=bob))
    ok(jobshare("push", cwd=bob))
    ok(jobshare("pull", "bob", cwd=alice))  # now they share history

    # At the same time: alice adds a line to the details, bob accepts.
    path = alice / f"{label}.yaml"
    path.write_text(path.read_text().replace("  3 months\n", "  3 months\n  Remote is fine.\n"))
    ok(jobshare("commit", "-m", "More details", cwd=alice))
    ok(jobshare("push", cwd=alice))
    ok(jobshare("referral", "accept", label, "--note", "Talked to Dana", cwd=bob))
    ok(jobshare("push", cwd=bob))

    for me, friend in ((alice, "bob"), (bob, "alice")):
        pulled = ok(jobshare("pull", friend, cwd=me))
        assert "1 updated" in pulled.output
        data = record(me, label)
        assert data["status"] == "accepted"
        assert data["details"] == "Airflow\ndbt\n3 months\nRemote is fine.\n"
        assert [(e["by"], e["status"], e.get("note")) for e in data["history"]] == [
            ("alice", "open", None),
            ("bob", "accepted", "Talked to Dana"),
        ]
        ok(jobshare("validate", cwd=me))
    assert (alice / f"{label}.yaml").read_bytes() == (bob / f"{label}.yaml").read_bytes()


def test_round_trip_over_git_daemon(
    tmp_path: Path, git_daemon: Callable[[Path], str], clock: Callable[[str], None]
) -> None:
    alice = make_repo(tmp_path / "alice", "alice")
    bob = make_repo(tmp_path / "bob", "bob")
    urls = {}
    for name, work in (("alice", alice), ("bob", bob)):
        bare = tmp_path / f"{name}.git"
        git("init", "-q", "--bare", str(bare), cwd=tmp_path)
        urls[name] = git_daemon(bare)
        git("remote", "add", "origin", urls[name], cwd=work)
        ok(jobshare("push", cwd=work))  # over git:// (receive-pack enabled)
    befriend(alice, "bob", urls["bob"])
    befriend(bob, "alice", urls["alice"])
    add_acme(alice)

    clock("2026-10-03T09:00:00Z")
    result = ok(
        jobshare("refer", "acme", "--to", "bob", "--title", TITLE, "--push", "--json", cwd=alice)
    )
    payload = json.loads(result.output)["jobshare.referral/v1"]
    label = payload["label"]
    assert payload["pushed"].startswith("pushed main to origin (git://127.0.0.1:")

    ok(jobshare("pull", "alice", cwd=bob))
    inbox = ok(jobshare("inbox", cwd=bob)).output
    assert label in inbox and "Acme Recruiting  alice" in inbox
    clock("2026-10-04T10:00:00Z")
    accepted = ok(
        jobshare("referral", "accept", label, "--note", "Starting Monday", "--push", cwd=bob)
    )
    assert "open -> accepted" in accepted.output and "pushed main to origin" in accepted.output

    pulled = ok(jobshare("pull", "bob", cwd=alice))
    assert f"updated  {label}" in pulled.output
    assert record(alice, label)["status"] == "accepted"
    ledger = json.loads(ok(jobshare("ledger", "--json", cwd=alice)).output)["jobshare.ledger/v1"]
    assert ledger == [{"friend": "bob"} | flows((1, 1, 0), (0, 0, 0), +1)]
    clock("2026-10-20T17:00:00Z")
    ok(jobshare("referral", "complete", label, "--push", cwd=bob))
    ok(jobshare("pull", "bob", cwd=alice))
    assert record(alice, label)["status"] == "completed"

    # Every step, and who made it, in the record's history across both repositories.
    steps = [
        (entry["author"], entry["message"].splitlines()[0])
        for entry in json.loads(ok(jobshare("log", label, "--json", cwd=alice)).output)[
            "jobshare.log/v1"
        ]
        if not entry["message"].startswith("Merge ")
    ]
    assert steps == [
        ("Bob", f'Complete "{TITLE}" from alice'),
        ("Bob", f'Accept "{TITLE}" from alice'),
        ("Alice", f'Refer "{TITLE}" (Acme Recruiting) to bob'),
    ]
    plain = git("log", "--format=%an%x09%s", "--no-merges", "--", f"{label}.yaml", cwd=alice)
    assert plain.splitlines() == [f"{author}\t{subject}" for author, subject in steps]
    for repo in (alice, bob):
        ok(jobshare("validate", cwd=repo))
        assert git("status", "--porcelain", cwd=repo) == ""


def test_a_failed_push_keeps_the_referral_commit(repo: Path, tmp_path: Path) -> None:
    add_acme(repo)
    git("remote", "add", "origin", str(tmp_path / "nowhere.git"), cwd=repo)
    result = jobshare("refer", "acme", "--to", "anyone", "--title", TITLE, "--push", cwd=repo)
    assert result.exit_code == 11, result.output
    assert "is committed but not pushed: cannot push to 'origin'" in result.output
    assert subjects(repo)[0].startswith(f'Refer "{TITLE}"')
