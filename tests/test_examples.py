"""The bundled examples.

`examples/alice` and `examples/bob` are two friends' repositories that must validate
cleanly and be stored in canonical form; they share some contacts, a few of which
differ. `examples/invalid` holds one file per kind of mistake, and `expected.json`
the exact first message that validation gives for each.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from itertools import pairwise
from pathlib import Path

import pytest

from jobshare_sync.core import crosscheck, records, schema
from jobshare_sync.core.records import FOLDERS, Label, Loaded
from jobshare_sync.errors import RecordError

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
REPOS = ("alice", "bob")
HANDLES = {"alice", "bob", "carol"}
KINDS = {"recruiter", "client", "agency", "service-business", "freelancer", "other"}
INVALID = EXAMPLES / "invalid"
EXPECTED: dict[str, str] = json.loads((INVALID / "expected.json").read_text("utf-8"))
INVALID_NAME_MESSAGE = (
    "file name is not a valid record id: use lower-case letters, digits and dashes"
)
# a slug of the name, then a 4-character random suffix (see labels.new_id)
ID_WITH_SUFFIX = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*-[a-z2-9]{4}$")

# a referral's status changes: (previous, status) -> who may make the change
TRANSITIONS = {
    ("open", "accepted"): "recipient",
    ("open", "declined"): "recipient",
    ("open", "withdrawn"): "sender",
    ("accepted", "completed"): "either",
    ("accepted", "withdrawn"): "sender",
}


def record_paths(repo: str) -> list[str]:
    """Paths of the record files of an example repository, relative to it."""
    root = EXAMPLES / repo
    return sorted(
        f"{folder}/{path.name}" for folder in FOLDERS for path in (root / folder).glob("*.yaml")
    )


def load_record(repo: str, rel: str) -> tuple[Label, Loaded]:
    label = records.label_of_path(rel)
    assert label is not None, f"{repo}/{rel}: not a record path"
    return label, records.load_yaml((EXAMPLES / repo / rel).read_bytes(), rel)


def load_repo(repo: str) -> dict[Label, Loaded]:
    return dict(load_record(repo, rel) for rel in record_paths(repo))


def when(text: str) -> datetime:
    return datetime.fromisoformat(text)


RECORDS = [(repo, rel) for repo in REPOS for rel in record_paths(repo)]
REFERRALS = [(repo, rel) for repo, rel in RECORDS if rel.startswith("referrals/")]


# --- the two friends' repositories ----------------------------------------------------


@pytest.mark.parametrize("repo", REPOS)
def test_repository_holds_only_config_and_records(repo: str) -> None:
    root = EXAMPLES / repo
    files = sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())
    assert files == sorted(["jobshare.yaml", *record_paths(repo)])


@pytest.mark.parametrize("repo", REPOS)
def test_repository_size_and_variety(repo: str) -> None:
    found = load_repo(repo)
    contacts = [loaded.data for label, loaded in found.items() if label.folder == "contacts"]
    referrals = [loaded.data for label, loaded in found.items() if label.folder == "referrals"]
    assert 15 <= len(contacts) <= 25
    assert 2 <= len(referrals) <= 4
    assert {c["kind"] for c in contacts} == KINDS
    assert any(len(c.get("notes", "").splitlines()) > 1 for c in contacts)
    assert any(not c["name"].isascii() for c in contacts)


@pytest.mark.parametrize("repo", REPOS)
def test_config_is_valid_and_canonical(repo: str) -> None:
    raw = (EXAMPLES / repo / "jobshare.yaml").read_bytes()
    loaded = records.load_yaml(raw, "jobshare.yaml")
    assert schema.schema_problems("jobshare", loaded, "jobshare.yaml") == []
    assert loaded.data["owner"]["handle"] == repo
    assert schema.dump_config(loaded.data) == raw


@pytest.mark.parametrize(("repo", "rel"), RECORDS)
def test_record_is_valid(repo: str, rel: str) -> None:
    label, loaded = load_record(repo, rel)
    assert [str(p) for p in schema.record_problems(label, loaded)] == []
    assert ID_WITH_SUFFIX.match(label.id), label.id
    if label.folder == "contacts":
        assert loaded.data["added_by"] in HANDLES


@pytest.mark.parametrize(("repo", "rel"), RECORDS)
def test_record_is_canonical(repo: str, rel: str) -> None:
    raw = (EXAMPLES / repo / rel).read_bytes()
    label, loaded = load_record(repo, rel)
    assert schema.dump_record(label.folder, loaded.data).decode() == raw.decode()


@pytest.mark.parametrize("repo", REPOS)
def test_no_cross_record_problems_or_warnings(repo: str) -> None:
    problems = crosscheck.cross_record_problems(load_repo(repo), HANDLES)
    assert [str(p) for p in problems] == []


@pytest.mark.parametrize(("repo", "rel"), REFERRALS)
def test_referral_history_is_consistent(repo: str, rel: str) -> None:
    _, loaded = load_record(repo, rel)
    referral = loaded.data
    sender, recipient = referral["from"], referral["to"]
    assert sender in HANDLES
    assert recipient in HANDLES | {"anyone"}
    assert recipient != sender
    history = referral["history"]
    first = history[0]
    assert (first["status"], first["by"], first["at"]) == ("open", sender, referral["created"])
    assert "previous" not in first
    for before, entry in pairwise(history):
        assert entry["previous"] == before["status"]
        assert when(entry["at"]) > when(before["at"])
        who = TRANSITIONS.get((entry["previous"], entry["status"]))
        assert who is not None, f"{entry['previous']} -> {entry['status']} is not a transition"
        if who == "sender":
            assert entry["by"] == sender
        elif who == "recipient" and recipient != "anyone":
            assert entry["by"] == recipient
        elif who == "recipient":
            assert entry["by"] != sender
        else:
            assert entry["by"] in {sender, recipient}
    assert referral["status"] == history[-1]["status"]
    assert when(referral["updated"]) >= when(history[-1]["at"])


def test_alice_and_bob_share_records_some_of_which_differ() -> None:
    alice = {label: (EXAMPLES / "alice" / label.path).read_bytes() for label in load_repo("alice")}
    bob = {label: (EXAMPLES / "bob" / label.path).read_bytes() for label in load_repo("bob")}
    shared = sorted(set(alice) & set(bob))
    assert len(shared) >= 5
    differ = [label for label in shared if alice[label] != bob[label]]
    assert len(differ) >= 2
    assert len(differ) < len(shared)  # some are identical too
    for label in differ:
        a = records.load_yaml(alice[label], label.path).data
        b = records.load_yaml(bob[label], label.path).data
        changed = {k for k in a.keys() | b.keys() if a.get(k) != b.get(k)}
        # set-once fields never differ, and an edit always moves `updated`
        assert not changed & {"id", "added_by", "from", "created"}, label
        assert "updated" in changed, label
        if label.folder == "contacts":
            assert changed - {"updated"}, label
        else:  # one side saw more of the referral's life than the other
            assert changed <= {"status", "history", "updated"}, label
            shorter, longer = sorted((a["history"], b["history"]), key=len)
            assert longer[: len(shorter)] == shorter, label


# --- one file per mistake -------------------------------------------------------------


def test_expected_lists_every_invalid_file() -> None:
    files = {
        p.relative_to(INVALID).as_posix()
        for p in INVALID.rglob("*")
        if p.is_file() and p.name != "expected.json"
    }
    assert files == set(EXPECTED)


@pytest.mark.parametrize("rel", sorted(EXPECTED))
def test_invalid_file_gives_expected_message(rel: str) -> None:
    expected = EXPECTED[rel]
    raw = (INVALID / rel).read_bytes()
    label = records.label_of_path(rel)
    if label is None:
        # not a record id: the command line reports it (and its tests check the text)
        assert expected == f"{rel}: {INVALID_NAME_MESSAGE}"
        return
    try:
        loaded = records.load_yaml(raw, rel)
    except RecordError as e:
        message = str(e)
    else:
        problems = schema.record_problems(label, loaded)
        assert problems, f"{rel} is valid"
        message = str(problems[0])
    assert message == expected
    where = re.match(rf"{re.escape(rel)}(?::(\d+))?: ", message)
    assert where, message
    if where.group(1):
        assert 1 <= int(where.group(1)) <= raw.count(b"\n") + 1


def test_oversized_record_is_refused_without_parsing() -> None:
    raw = b"notes: |\n" + (b"  " + b"x" * 78 + b"\n") * 130_000
    assert len(raw) > 10_000_000
    with pytest.raises(RecordError) as caught:
        records.load_yaml(raw, "contacts/huge-file.yaml")
    assert str(caught.value) == (
        f"contacts/huge-file.yaml: file is {len(raw):,} bytes, "
        f"over the {records.MAX_RECORD_BYTES:,}-byte limit for a record"
    )
