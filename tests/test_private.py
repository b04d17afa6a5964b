"""The private side (jobshare_sync.private, store/private.py): private records and
notes shown beside the shared ones, moved by share and unshare, synced only with the
private remote, and never sent to origin or a friend (README "What is private")."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pygit2
import pytest
from conftest import clone_friend, git, jobshare, make_repo, publish
from test_sync import commit, contact, ok, write

SECRET = "Zqx Secret Client"
NOTE_TEXT = "pays 60 days late, asked me to undercut qvb"


def private_git(repo: Path) -> Path:
    return repo / ".git/jobshare/private.git"


def private_tip(repo: Path) -> str | None:
    path = private_git(repo)
    if not path.exists():
        return None
    ref = pygit2.Repository(str(path)).references.get("refs/heads/private")
    return str(ref.target) if ref is not None else None


def add_private(repo: Path, name: str = SECRET, *extra: str) -> str:
    out = json.loads(
        ok(
            "add",
            "contact",
            "--name",
            name,
            "--kind",
            "client",
            "--private",
            *extra,
            "--json",
            cwd=repo,
        )
    )
    label: str = out["jobshare.add/v1"]["label"]
    return label


def listed(repo: Path, *args: str) -> list[dict[str, object]]:
    entries: list[dict[str, object]] = json.loads(ok("list", *args, "--json", cwd=repo))[
        "jobshare.list/v1"
    ]
    return entries


def test_a_private_contact_is_listed_and_shown_marked_and_is_not_on_the_branch(
    repo: Path,
) -> None:
    ok("add", "contact", "--name", "Acme Recruiting", "--id", "acme", cwd=repo)
    before = git("rev-parse", "HEAD", cwd=repo)
    label = add_private(repo, SECRET, "--email", "boss@secret.example", "--tag", "direct")
    assert git("rev-parse", "HEAD", cwd=repo) == before  # no shared commit
    assert not (repo / label).with_suffix(".yaml").exists()
    assert git("status", "--porcelain", cwd=repo) == ""
    entries = {e["label"]: e for e in listed(repo)}
    assert entries[label]["private"] is True and "private" not in entries["contacts/acme"]
    assert [e["label"] for e in listed(repo, "--tag", "direct")] == [label]
    assert [e["label"] for e in listed(repo, "--search", "zqx")] == [label]
    text = ok("list", cwd=repo)
    assert f"{label} [private]" in text and "contacts/acme " in text
    shown = ok("show", "zqx", cwd=repo)
    assert "[private: never shared]" in shown and "boss@secret.example" in shown
    shown_json = json.loads(ok("show", label, "--json", cwd=repo))["jobshare.show/v1"]
    assert shown_json["private"] is True and shown_json["record"]["name"] == SECRET
    # a new id is never a private one's, on either side
    record_id = label.split("/")[1]
    taken = jobshare("add", "contact", "--name", "X", "--id", record_id, cwd=repo)
    assert taken.exit_code != 0 and "already used" in taken.output


def test_notes_on_any_record_are_shown_listed_searched_and_never_shared(tmp_path: Path) -> None:
    alice = make_repo(tmp_path / "alice")
    bob = clone_friend(alice, tmp_path / "bob", "bob")
    ok("add", "contact", "--name", "Bobs Agency", "--id", "bobs-agency", cwd=bob)
    ok("friend", "add", "bob", str(bob), cwd=alice)
    ok("pull", "bob", cwd=alice)
    head = git("rev-parse", "HEAD", cwd=alice)
    out = ok(
        "note", "bobs", "--set", "rating=2", "--set", f"notes={NOTE_TEXT}",
        "--set", "tags=slow-payer,agency", "--set", "day_rate=EUR 777", cwd=alice,
    )  # fmt: skip
    assert "private commit" in out
    assert git("rev-parse", "HEAD", cwd=alice) == head
    assert git("status", "--porcelain", cwd=alice) == ""
    shown = ok("show", "bobs-agency", cwd=alice)
    assert "# private note (never shared):" in shown and "EUR 777" in shown
    [entry] = listed(alice, "--tag", "slow-payer")
    assert entry["label"] == "contacts/bobs-agency" and "private" not in entry
    assert entry["note"]["rating"] == 2  # type: ignore[index]
    assert [e["label"] for e in listed(alice, "--search", "undercut")] == ["contacts/bobs-agency"]
    assert "(slow-payer)" in ok("list", cwd=alice)
    # diff and the shared record know nothing of it
    assert NOTE_TEXT not in (alice / "contacts/bobs-agency.yaml").read_text()
    assert ok("diff", cwd=alice).strip() in ("", "no changes")
    # unset, and a note left empty is removed
    ok("note", "bobs", "--unset", "day_rate", cwd=alice)
    assert (
        "day_rate"
        not in json.loads(ok("note", "bobs", "--json", cwd=alice))["jobshare.note/v1"]["note"]
    )
    for field in ("rating", "notes", "tags"):
        ok("note", "bobs", "--unset", field, cwd=alice)
    assert "no private note" in ok("note", "bobs", cwd=alice)


def test_a_bad_note_is_one_line_and_changes_nothing(repo: Path) -> None:
    ok("add", "contact", "--name", "Acme", "--id", "acme", cwd=repo)
    ok("note", "acme", "--set", "rating=4", cwd=repo)
    tip = private_tip(repo)
    for args, words in (
        (["--set", "rating=9"], "rating"),
        (["--set", "rating=good"], "whole number"),
        (["--set", "colour=red"], "no field 'colour'"),
        (["--set", "do_not_refer_to=Not A Handle"], "do_not_refer_to"),
        (["--set", "rating"], "FIELD=VALUE"),
    ):
        result = jobshare("note", "acme", *args, cwd=repo)
        assert result.exit_code not in (0, 1), result.output
        assert words in result.stderr and len(result.stderr.strip().splitlines()) == 1
        assert private_tip(repo) == tip
    missing = jobshare("note", "nothing-here", "--set", "rating=1", cwd=repo)
    assert missing.exit_code == 7


def test_share_then_unshare_and_back_loses_nothing(repo: Path) -> None:
    label = add_private(repo, SECRET, "--phone", "+44 20 7946 0000")
    record_id = label.split("/")[1]
    ok("note", record_id, "--set", "day_rate=EUR 650", cwd=repo)
    out = ok("share", record_id, cwd=repo)
    assert "Shared" in out and (repo / f"{label}.yaml").is_file()
    assert git("log", "-1", "--format=%s", cwd=repo).startswith("Share contact")
    assert all(e.get("private") is not True for e in listed(repo))
    assert "EUR 650" in ok("show", record_id, cwd=repo)  # the note stays
    shared = (repo / f"{label}.yaml").read_bytes()
    refused = jobshare("unshare", record_id, cwd=repo, input="n\n")
    assert refused.exit_code == 1 and "keep their copy" in refused.stderr
    assert (repo / f"{label}.yaml").is_file()
    out = ok("unshare", record_id, "--yes", cwd=repo)
    assert "private now" in out and not (repo / f"{label}.yaml").exists()
    assert git("log", "-1", "--format=%s", cwd=repo).strip() == f'Remove contact "{SECRET}"'
    [entry] = listed(repo)
    assert entry["private"] is True and entry["label"] == label
    private_bytes = pygit2.Repository(str(private_git(repo)))
    tree = private_bytes.revparse_single("private").peel(pygit2.Tree)
    assert private_bytes[tree[f"{label}.yaml"].id].data == shared  # the same record, whole
    again = jobshare("unshare", record_id, "--yes", cwd=repo)
    assert again.exit_code == 0 and "already private; nothing changed" in again.output
    ok("share", record_id, cwd=repo)
    assert (repo / f"{label}.yaml").read_bytes() == shared


def test_unshare_refuses_what_would_leave_shared_records_pointing_nowhere(tmp_path: Path) -> None:
    alice = make_repo(tmp_path / "alice")
    ok("friend", "add", "bob", str(clone_friend(alice, tmp_path / "bob", "bob")), cwd=alice)
    ok("fetch", "bob", cwd=alice)
    ok("add", "contact", "--name", "Acme", "--id", "acme", cwd=alice)
    ok("refer", "acme", "--to", "bob", "--title", "A job", cwd=alice)
    result = jobshare("unshare", "acme", "--yes", cwd=alice)
    assert result.exit_code != 0 and "referrals name contacts/acme" in result.stderr
    assert (alice / "contacts/acme.yaml").is_file() and private_tip(alice) is None
    # a shared referral naming a private client is refused: it would give the id away
    label = add_private(alice)
    refer = jobshare("refer", label.split("/")[1], "--to", "bob", "--title", "Job", cwd=alice)
    assert refer.exit_code != 0
    assert label.split("/")[1] not in git("log", "-p", "--all", cwd=alice)


def test_the_private_remote_is_never_origin_or_a_friend(tmp_path: Path) -> None:
    alice = make_repo(tmp_path / "alice")
    git("remote", "add", "origin", "https://alice:s3cret@Git.Example.com/alice/jobs.git", cwd=alice)
    ok("friend", "add", "bob", "ssh://git@example.org/bob/jobs", cwd=alice)
    for url in (
        "https://git.example.com/alice/jobs",
        "https://alice:pw0ther@GIT.example.com/alice/jobs.git/",
        "git@example.org:bob/jobs.git",
        "ssh://example.org/bob/jobs.git",
        str(alice),
        ".",
    ):
        result = jobshare("private", "remote", url, cwd=alice)
        assert result.exit_code == 10, (url, result.output)
        assert "s3cret" not in result.output and "pw0ther" not in result.output
    result = jobshare("private", "remote", "https://me:hunter2@example.net/private.git", cwd=alice)
    assert result.exit_code == 0 and "hunter2" not in result.output
    assert "hunter2" not in ok("private", "remote", cwd=alice)
    assert "hunter2" not in ok("private", "status", cwd=alice)


def test_a_friends_record_with_a_private_id_keeps_both(tmp_path: Path) -> None:
    alice = make_repo(tmp_path / "alice")
    bob = clone_friend(alice, tmp_path / "bob", "bob")
    label = add_private(alice, SECRET)
    record_id = label.split("/")[1]
    # bob, by chance or from an old copy, has a shared record with that id
    write(bob, label, contact(record_id, "bob", name="Bobs Own"))
    commit(bob)
    ok("friend", "add", "bob", str(bob), cwd=alice)
    ok("pull", "bob", cwd=alice)
    entries = listed(alice)
    assert [(e["label"], e.get("private", False)) for e in entries] == [
        (label, False),
        (label, True),
    ]
    shown = jobshare("show", record_id, cwd=alice)
    assert "Bobs Own" in shown.stdout and SECRET in shown.stdout
    assert "same label" in shown.stderr
    refused = jobshare("share", record_id, cwd=alice)
    assert refused.exit_code == 6 and "both are kept" in refused.stderr
    assert "both shared and private" in ok("private", "status", cwd=alice)


def test_notes_follow_a_combine_and_outlive_a_deletion(repo: Path) -> None:
    ok("add", "contact", "--name", "Acme", "--id", "acme", "--email", "a@acme.example", cwd=repo)
    ok("add", "contact", "--name", "Acme Ltd", "--id", "acme-ltd", cwd=repo)
    ok("add", "contact", "--name", "Gone Co", "--id", "gone", cwd=repo)
    ok("note", "acme-ltd", "--set", "tags=late", "--set", "notes=ask for Dana", cwd=repo)
    ok("note", "gone", "--set", "rating=1", cwd=repo)
    ok("combine", "acme", "acme-ltd", cwd=repo)
    shown = ok("show", "acme", cwd=repo)
    assert "ask for Dana" in shown
    assert [e["label"] for e in listed(repo, "--tag", "late")] == ["contacts/acme"]
    # a note on the alias now changes it on the survivor
    result = jobshare("note", "acme-ltd", "--set", "rating=3", cwd=repo)
    assert result.exit_code == 0 and "alias of contacts/acme" in result.stderr
    ok("rm", "gone", cwd=repo)
    status = json.loads(ok("private", "status", "--json", cwd=repo))["jobshare.private/v1"]
    assert status["orphaned_notes"] == ["contacts/gone"]
    kept = json.loads(ok("note", "contacts/gone", "--json", cwd=repo))["jobshare.note/v1"]
    assert kept["note"]["rating"] == 1 and kept["record"] == "gone"


def test_doctor_finds_the_private_side_copied_into_the_repository(repo: Path) -> None:
    add_private(repo)
    ok("note", "zqx", "--set", "rating=1", cwd=repo)
    report = json.loads(ok("doctor", "--json", cwd=repo))["jobshare.doctor/v1"]
    [check] = [c for c in report["checks"] if c["name"] == "private side"]
    assert check["ok"]
    git("fetch", "-q", str(private_git(repo)), "private:refs/heads/copied", cwd=repo)
    result = jobshare("doctor", "--json", cwd=repo)
    assert result.exit_code == 1
    checks = json.loads(result.stdout)["jobshare.doctor/v1"]["checks"]
    [check] = [c for c in checks if c["name"] == "private side"]
    assert not check["ok"] and "git gc --prune=now" in check["fix"]
    git("update-ref", "-d", "refs/heads/copied", cwd=repo)
    git("reflog", "expire", "--expire=now", "--all", cwd=repo)
    git("gc", "-q", "--prune=now", cwd=repo)
    assert jobshare("doctor", cwd=repo).exit_code == 0


def test_a_repository_without_a_private_side_is_as_before(repo: Path) -> None:
    ok("add", "contact", "--name", "Acme", "--id", "acme", cwd=repo)
    assert listed(repo) == [
        {
            "label": "contacts/acme",
            "record": json.loads(ok("show", "acme", "--json", cwd=repo))["jobshare.show/v1"][
                "record"
            ],
        }
    ]
    assert not private_git(repo).exists()
    publish(repo)


def test_log_and_diff_of_the_private_side(repo: Path) -> None:
    ok("add", "contact", "--name", "Acme", "--id", "acme", cwd=repo)
    label = add_private(repo)
    ok("note", "acme", "--set", "rating=2", cwd=repo)
    ok("note", "acme", "--set", "rating=4", "--set", "tags=late", cwd=repo)
    entries = json.loads(ok("log", "--private", "--json", cwd=repo))["jobshare.log/v1"]
    assert [e["message"] for e in entries] == [
        "Note on contacts/acme",
        "Note on contacts/acme",
        f'Add private contact "{SECRET}" ({label})',
    ]
    assert entries[2]["records"][0]["label"] == label
    assert entries[2]["records"][0]["change"] == "added"
    only = json.loads(ok("log", "--private", "acme", "--json", cwd=repo))["jobshare.log/v1"]
    assert len(only) == 2 and all(
        r["label"] == "notes/contacts/acme" for e in only for r in e["records"]
    )
    # the shared log knows nothing of it
    shared = json.loads(ok("log", "--json", cwd=repo))["jobshare.log/v1"]
    assert all("notes/" not in json.dumps(e) and SECRET not in json.dumps(e) for e in shared)
    last = ok("diff", "--private", cwd=repo)
    assert "notes/contacts/acme" in last and "rating: 2 → 4" in last and "+ late" in last
    first = json.loads(ok("diff", "--private", "private~2", "--json", cwd=repo))["jobshare.diff/v1"]
    assert [d["label"] for d in first] == ["notes/contacts/acme"]
    assert [d["change"] for d in first] == ["added"]
    stat = json.loads(ok("diff", "--private", "private~2", "--stat", "--json", cwd=repo))
    assert stat["jobshare.diffstat/v1"]["notes"]["added"] == 1
    bad = jobshare("diff", "--private", "nowhere", cwd=repo)
    assert bad.exit_code == 7 and "log --private" in bad.stderr
    assert jobshare("diff", "--private", "--exit-code", cwd=repo).exit_code == 1


def test_a_private_referral_may_name_a_private_client_a_shared_one_may_not(
    tmp_path: Path,
) -> None:
    alice = make_repo(tmp_path / "alice")
    ok("friend", "add", "bob", str(clone_friend(alice, tmp_path / "bob", "bob")), cwd=alice)
    ok("fetch", "bob", cwd=alice)
    label = add_private(alice)
    record_id = label.split("/")[1]
    head = git("rev-parse", "HEAD", cwd=alice)
    shared = jobshare("refer", record_id, "--to", "bob", "--title", "Audit", cwd=alice)
    assert shared.exit_code == 13 and "is private" in shared.stderr
    assert "--private" in shared.stderr
    refused = jobshare(
        "refer", record_id, "--to", "bob", "--title", "A", "--private", "--push", cwd=alice
    )
    assert refused.exit_code == 2
    made = json.loads(
        ok("refer", "zqx", "--to", "bob", "--title", "Audit job", "--private", "--json", cwd=alice)
    )["jobshare.referral/v1"]
    assert made["record"]["client"] == record_id and not made["pushed"]
    assert git("rev-parse", "HEAD", cwd=alice) == head  # nothing on the branch
    entries = {e["label"]: e for e in listed(alice, "referrals")}
    assert entries[made["label"]]["private"] is True
    assert "Audit job" in ok("show", made["label"], cwd=alice)
    # sharing the referral waits for its client
    refused = jobshare("share", made["label"], cwd=alice)
    assert refused.exit_code == 6 and "share the client first" in refused.stderr
    ok("share", record_id, cwd=alice)
    ok("share", made["label"], cwd=alice)
    assert (alice / f"{made['label']}.yaml").is_file()
    assert ok("validate", cwd=alice)


def test_duplicates_pair_a_private_contact_with_a_shared_one_marked(repo: Path) -> None:
    ok("add", "contact", "--name", "Acme", "--id", "acme", "--email", "jobs@acme.example", cwd=repo)
    label = add_private(repo, "Acme Direct", "--email", "Jobs@Acme.example")
    groups = json.loads(ok("duplicates", "--json", cwd=repo))["jobshare.duplicates/v1"]
    [group] = groups
    assert sorted(group["ids"]) == sorted(["acme", label.split("/")[1]])
    assert group["private"] == [label.split("/")[1]]
    assert f"{label} [private]" in ok("duplicates", cwd=repo)


def test_a_note_edited_in_the_editor(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ok("add", "contact", "--name", "Acme", "--id", "acme", cwd=repo)
    ok("note", "acme", "--set", "rating=2", cwd=repo)
    monkeypatch.setenv("EDITOR", "sed -i -e 's/^rating: 2/rating: 4\\nday_rate: EUR 500/'")
    out = ok("note", "acme", "--edit", cwd=repo)
    assert "Saved the private note" in out
    note = json.loads(ok("note", "acme", "--json", cwd=repo))["jobshare.note/v1"]["note"]
    assert note["rating"] == 4 and note["day_rate"] == "EUR 500"
    tip = private_tip(repo)
    monkeypatch.setenv("EDITOR", "sed -i -e 's/^rating: 4/rating: 11/'")
    bad = jobshare("note", "acme", "--edit", cwd=repo)
    assert bad.exit_code == 6 and "rating" in bad.stderr and private_tip(repo) == tip
    monkeypatch.setenv("EDITOR", "true")
    assert "unchanged" in ok("note", "acme", "--edit", cwd=repo)
    assert jobshare("note", "acme", "--edit", "--set", "rating=1", cwd=repo).exit_code == 2
    assert git("status", "--porcelain", cwd=repo) == ""


def test_a_friends_combine_and_deletion_reach_notes_through_a_pull(tmp_path: Path) -> None:
    alice = make_repo(tmp_path / "alice")
    bob = clone_friend(alice, tmp_path / "bob", "bob")
    for record_id, name in (("bobs-a", "Bob Agency"), ("bobs-b", "Bob Agency Ltd"), ("old", "Old")):
        ok("add", "contact", "--name", name, "--id", record_id, cwd=bob)
    ok("friend", "add", "bob", str(bob), cwd=alice)
    ok("pull", "bob", cwd=alice)
    ok("note", "bobs-b", "--set", "notes=slow to pay", "--set", "tags=late", cwd=alice)
    ok("note", "old", "--set", "rating=1", cwd=alice)
    ok("combine", "bobs-a", "bobs-b", cwd=bob)
    ok("rm", "old", cwd=bob)
    ok("pull", "bob", cwd=alice)
    assert not (alice / "contacts/old.yaml").exists()
    # the note on the combined-away record shows on the survivor, and is found there
    assert "slow to pay" in ok("show", "bobs-a", cwd=alice)
    assert [e["label"] for e in listed(alice, "--tag", "late")] == ["contacts/bobs-a"]
    # the note on the deleted record is kept, and said to be on a record that is gone
    status = json.loads(ok("private", "status", "--json", cwd=alice))["jobshare.private/v1"]
    assert status["orphaned_notes"] == ["contacts/old"]
    assert status["notes"] == ["contacts/bobs-b", "contacts/old"]
    shown = jobshare("note", "old", cwd=alice)
    assert shown.exit_code == 0 and "rating: 1" in shown.stdout and "is gone" in shown.stderr


@pytest.mark.parametrize("form", ["vcard", "csv"])
def test_export_private_marks_them_and_importing_the_file_never_shares_them(
    tmp_path: Path, form: str
) -> None:
    repo = make_repo(tmp_path / "alice")
    added = ok("add", "contact", "--name", "Shared Agency", "--kind", "agency", "--json", cwd=repo)
    shared = json.loads(added)["jobshare.add/v1"]["label"].removeprefix("contacts/")
    secret = add_private(repo).removeprefix("contacts/")
    plain = ok("export", "--format", form, cwd=repo)
    assert shared in plain and secret not in plain  # private ones only when asked
    out = tmp_path / f"all.{form}"
    ok("export", "--private", "--format", form, "--output", str(out), cwd=repo)
    text = out.read_text("utf-8")
    assert shared in text and secret in text
    if form == "vcard":
        cards = {c.split("UID;VALUE=text:")[1].split()[0]: c for c in text.split("END:VCARD")[:-1]}
        assert "X-JOBSHARE-PRIVATE:TRUE" in cards[secret]
        assert "X-JOBSHARE-PRIVATE" not in cards[shared]
    else:
        rows = {r.split(",jobshare id,")[1].split(",")[0]: r for r in text.splitlines()[1:]}
        assert ",Private,True" in rows[secret] and "Private" not in rows[shared]
    exported = json.loads(ok("export", "--private", "--format", "json", cwd=repo))
    marks = {r["id"]: r.get("private") for r in exported["jobshare.export/v1"]}
    assert marks == {shared: None, secret: True}

    for target in (repo, make_repo(tmp_path / "new")):  # again here, or on a new repository
        result = jobshare("import", str(out), "--json", cwd=target)
        assert result.exit_code == 0, result.output
        files = json.loads(result.output)["jobshare.import/v1"]["files"]
        skipped = [i for f in files for i in f["items"] if i["action"] == "skipped"]
        assert len(skipped) == 1 and "marked private" in skipped[0]["reason"]
        on_branch = git("ls-tree", "-r", "--name-only", "HEAD", cwd=target)
        assert secret not in on_branch
        assert not any(SECRET in p.read_text() for p in (target / "contacts").glob("*.yaml"))


def test_merge_continue_after_a_stopped_sync_carries_the_private_side_too(tmp_path: Path) -> None:
    desk = make_repo(tmp_path / "desk")
    write(desk, "contacts/acme", contact("acme"))
    commit(desk)
    bob = clone_friend(desk, tmp_path / "bob", "bob")
    write(bob, "contacts/acme", contact("acme", name="Acme Bob"))
    commit(bob)
    write(desk, "contacts/acme", contact("acme", name="Acme Alice"))
    commit(desk)
    mine = tmp_path / "mine.git"
    git("init", "-q", "--bare", str(mine), cwd=tmp_path)
    ok("friend", "add", "bob", str(bob), cwd=desk)
    ok("private", "remote", str(mine), cwd=desk)
    assert jobshare("sync", cwd=desk).exit_code == 1  # stopped at contacts/acme
    second = add_private(desk, "Qvz Second Client")  # while the merge waits
    ok("resolve", "contacts/acme", "--theirs", cwd=desk)
    carried = ok("merge", "--continue", cwd=desk)
    assert "private side with" in carried
    tree = git("ls-tree", "-r", "--name-only", "private", cwd=mine)
    assert f"{second}.yaml" in tree.split()


def test_url_key_gives_one_place_one_key(tmp_path: Path) -> None:
    from jobshare_sync.private.travel import url_key

    same = [
        ("ssh://git@Host.example:22/a/jobs.git", "git@host.example:a/jobs"),
        ("ssh://host.example/~/a/jobs", "host.example:a/jobs.git/"),
        ("git://127.0.0.1:9418/o.git", "git://127.0.0.1/o"),
        ("https://tok:pw@Git.example.com:443/x.git", "https://git.example.com/x"),
        (f"file://localhost{tmp_path}/o.git", f"{tmp_path}/o.git"),
        (f"FILE://LOCALHOST{tmp_path}/o.git/", f"file://{tmp_path}/o"),
    ]
    for a, b in same:
        assert url_key(a, tmp_path) == url_key(b, tmp_path), (a, b)
    assert url_key("https://host.example/a", tmp_path) != url_key(
        "https://host.example/b", tmp_path
    )
    assert url_key("git://host:9419/o", tmp_path) != url_key("git://host/o", tmp_path)


def test_a_private_remote_in_disguise_never_receives_the_private_side(tmp_path: Path) -> None:
    alice = make_repo(tmp_path / "alice")
    origin = publish(alice, tmp_path / "origin.git")
    git("remote", "add", "origin", str(origin), cwd=alice)
    add_private(alice)
    pub = tmp_path / "pub.git"
    git("init", "-q", "--bare", str(pub), cwd=tmp_path)
    git("config", "remote.origin.pushurl", str(pub), cwd=alice)
    git("config", f"url.{tmp_path}/.insteadOf", "play:", cwd=alice)
    for disguise in (
        f"file://localhost{origin}",  # git reads it as the same path
        str(pub),  # where the shared branch is pushed
        "play:origin.git",  # an insteadOf alias of origin
        f"{tmp_path}/./origin.git/",
    ):
        refused = jobshare("private", "remote", disguise, cwd=alice)
        assert refused.exit_code == 10, (disguise, refused.output)
        assert "friends can read" in refused.output

    # named while it was a place of its own, then made origin: refused both ways at sync
    mine = tmp_path / "mine.git"
    git("init", "-q", "--bare", str(mine), cwd=tmp_path)
    ok("private", "remote", str(mine), cwd=alice)
    git("config", "--unset", "remote.origin.pushurl", cwd=alice)
    git("remote", "set-url", "origin", str(mine), cwd=alice)
    pushed = jobshare("push", cwd=alice)
    assert pushed.exit_code != 0 and "private side" in pushed.output
    assert git("for-each-ref", cwd=mine) == ""
    synced = jobshare("sync", cwd=alice)
    assert synced.exit_code != 0 and "place of your private side" in synced.output
    assert git("for-each-ref", cwd=mine) == ""

    # a private remote that turns out to hold other branches is not pushed to
    git("remote", "set-url", "origin", str(origin), cwd=alice)
    shared = tmp_path / "shared.git"
    git("clone", "-q", "--bare", str(origin), str(shared), cwd=tmp_path)
    ok("private", "remote", str(shared), cwd=alice)
    synced = jobshare("sync", cwd=alice)
    assert synced.exit_code == 11 and "holds other branches" in synced.output
    assert "refs/heads/private" not in git("for-each-ref", cwd=shared)
    for place in (origin, pub, shared):
        blobs = subprocess.run(
            ["git", "cat-file", "--batch-all-objects", "--batch"],
            cwd=place,
            capture_output=True,
            check=True,
        ).stdout
        assert SECRET.encode() not in blobs, place


def test_import_and_vdir_never_make_a_private_contact_shared(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "alice")
    secret = add_private(repo, SECRET, "--email", "pp@secret.example")
    card = tmp_path / "card.vcf"
    card.write_text(
        f"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:{SECRET}\r\nEMAIL:PP@secret.example\r\n"
        "TEL:+44 20 7946 0999\r\nEND:VCARD\r\n"
    )
    before = git("rev-parse", "HEAD", cwd=repo)
    result = jobshare("import", str(card), "--json", cwd=repo)
    assert result.exit_code == 0, result.output
    items = json.loads(result.output)["jobshare.import/v1"]["files"][0]["items"]
    assert [i["action"] for i in items] == ["skipped"]
    assert f"your private contact {secret}" in items[0]["reason"]
    assert git("rev-parse", "HEAD", cwd=repo) == before  # nothing committed
    folder = tmp_path / "vdir"
    folder.mkdir()
    (folder / "new.vcf").write_bytes(card.read_bytes())
    synced = jobshare("vdir", "sync", str(folder), cwd=repo)
    assert synced.exit_code == 0, synced.output
    assert "your private contact" in synced.output
    assert ".yaml" not in git("ls-tree", "-r", "--name-only", "HEAD", "--", "contacts", cwd=repo)
    assert not list((repo / "contacts").glob("*.yaml"))


def test_a_private_record_copied_into_the_working_tree_is_not_committed(repo: Path) -> None:
    label = add_private(repo)
    raw = git("show", f"private:{label}.yaml", cwd=private_git(repo))
    (repo / f"{label}.yaml").write_text(raw)
    refused = jobshare("commit", cwd=repo)
    assert refused.exit_code != 0 and "a private record has this id" in refused.output
    assert label not in git("ls-tree", "-r", "--name-only", "HEAD", cwd=repo)
    (repo / f"{label}.yaml").unlink()
    ok("share", label, cwd=repo)  # the way to share it on purpose still works
    assert label in git("ls-tree", "-r", "--name-only", "HEAD", cwd=repo)


def test_rm_removes_a_private_record_and_its_note_from_the_private_side(repo: Path) -> None:
    label = add_private(repo)
    ok("note", label, "--set", f"notes={NOTE_TEXT}", cwd=repo)
    shared_head = git("rev-parse", "HEAD", cwd=repo)
    out = ok("rm", label, cwd=repo)
    assert f"Removed private {label}" in out
    assert git("rev-parse", "HEAD", cwd=repo) == shared_head  # the shared branch untouched
    tree = git("ls-tree", "-r", "--name-only", "private", cwd=private_git(repo))
    assert label not in tree and "notes/" not in tree
    assert SECRET not in ok("list", cwd=repo)
    missing = jobshare("rm", "no-such-record", cwd=repo)
    assert missing.exit_code != 0 and "no-such-record" in missing.output
