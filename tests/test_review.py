"""Review through the command line: diff, show REV, log. Real repositories in tmp_path,
real git. (git-setup, the drivers under plain git and doctor: test_drivers.py.)"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from conftest import git, jobshare, make_repo

from jobshare_sync import review
from jobshare_sync.core import schema
from jobshare_sync.store import Store


@pytest.fixture(autouse=True)
def pinned_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """One clock for the whole test: `jobshare commit` stamps `updated` on a hand edit
    that left it alone, and a second ticking between add and commit would show it."""
    monkeypatch.setenv("JOBSHARE_NOW", "2026-10-01T12:00:00Z")


ANSI = "\x1b["


def add_contact(repo: Path, record_id: str, name: str, *extra: str) -> None:
    result = jobshare("add", "contact", "--name", name, "--id", record_id, *extra, cwd=repo)
    assert result.exit_code == 0, result.output


def add_acme(repo: Path) -> None:
    add_contact(
        repo,
        "acme",
        "Acme Recruiting",
        "--kind",
        "agency",
        "--email",
        "jobs@acme.example",
        "--phone",
        "+44 20 7946 0000",
        "--tag",
        "remote",
        "--notes",
        "Ask for Dana.\nPays on time.",
    )


def replace(repo: Path, rel: str, old: str, new: str) -> None:
    path = repo / rel
    text = path.read_text()
    assert old in text, (old, text)
    path.write_text(text.replace(old, new, 1))


def contact_yaml(record_id: str, name: str, **fields: object) -> bytes:
    data = {"id": record_id, "kind": "other", "name": name, "added_by": "alice"}
    data.update(fields)
    data["updated"] = "2026-01-01T00:00:00Z"
    return schema.dump_record("contacts", data)


def run_git(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)


def identity(repo: Path, name: str) -> None:
    git("config", "user.name", name, cwd=repo)
    git("config", "user.email", f"{name.split()[0].lower()}@example.com", cwd=repo)


def diff_json(*args: str, cwd: Path) -> list[dict]:  # type: ignore[type-arg]
    result = jobshare("diff", "--json", *args, cwd=cwd)
    assert result.exit_code == 0, result.output
    payload: list[dict] = json.loads(result.stdout)["jobshare.diff/v1"]  # type: ignore[type-arg]
    return payload


# --- diff ----------------------------------------------------------------------------


def test_diff_working_tree_against_head(repo: Path) -> None:
    add_acme(repo)
    add_contact(repo, "gone", "Gone Ltd")
    replace(repo, "contacts/acme.yaml", "kind: agency", "kind: recruiter")
    replace(repo, "contacts/acme.yaml", "+44 20 7946 0000", "+44 20 7946 1111")
    replace(repo, "contacts/acme.yaml", "Pays on time.", "Pays late.")
    (repo / "contacts/beta.yaml").write_bytes(contact_yaml("beta", "Beta Clinic", tags=["health"]))
    (repo / "contacts/gone.yaml").unlink()

    result = jobshare("diff", cwd=repo)
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "modified  contacts/acme  Acme Recruiting\n" in out
    assert "  kind: agency → recruiter\n" in out
    assert "  phones:\n    + +44 20 7946 1111\n    - +44 20 7946 0000\n" in out
    assert "  notes:\n      Ask for Dana.\n    - Pays on time.\n    + Pays late.\n" in out
    assert "added     contacts/beta  Beta Clinic\n" in out and "  tags:\n    + health" in out
    assert "removed   contacts/gone  Gone Ltd" in out
    assert out.index("contacts/acme") < out.index("contacts/beta") < out.index("contacts/gone")
    assert ANSI not in out  # not a terminal: plain

    git("add", "-A", cwd=repo)  # staged changes are still uncommitted ones
    assert [d["label"] for d in diff_json(cwd=repo)] == [
        "contacts/acme",
        "contacts/beta",
        "contacts/gone",
    ]
    git("commit", "-qm", "by hand", cwd=repo)
    clean = jobshare("diff", "--exit-code", cwd=repo)
    assert clean.exit_code == 0 and clean.stdout == ""
    assert "no record changes" in clean.output


def test_diff_json_shape_stat_and_exit_code(repo: Path) -> None:
    add_acme(repo)
    replace(repo, "contacts/acme.yaml", "- remote", "- onsite")
    replace(repo, "contacts/acme.yaml", "name: Acme Recruiting", "name: Acme Ltd")
    (repo / "contacts/beta.yaml").write_bytes(contact_yaml("beta", "Beta"))

    [acme, beta] = diff_json(cwd=repo)
    assert set(acme) == {"label", "change", "fields"}
    assert acme["label"] == "contacts/acme" and acme["change"] == "modified"
    by_field = {f["field"]: f for f in acme["fields"]}
    assert by_field["name"] == {"field": "name", "old": "Acme Recruiting", "new": "Acme Ltd"}
    assert by_field["tags"] == {
        "field": "tags",
        "old": ["remote"],
        "new": ["onsite"],
        "added": ["onsite"],
        "removed": ["remote"],
    }
    assert beta["change"] == "added" and beta["fields"][0]["old"] is None

    stat = jobshare("diff", "--stat", cwd=repo)
    assert stat.exit_code == 0
    assert stat.stdout.splitlines() == [
        "contacts   1 added, 0 removed, 1 modified",
        "referrals  0 added, 0 removed, 0 modified",
        "2 records changed (HEAD → working tree)",
    ]
    stat_json = json.loads(jobshare("diff", "--stat", "--json", cwd=repo).stdout)
    assert stat_json["jobshare.diffstat/v1"]["contacts"] == {
        "added": 1,
        "removed": 0,
        "modified": 1,
    }
    assert jobshare("diff", "--exit-code", cwd=repo).exit_code == 1
    assert jobshare("diff", "--exit-code", "--stat", cwd=repo).exit_code == 1
    assert jobshare("diff", "--exit-code", "--json", "referrals", cwd=repo).exit_code == 0


def test_diff_between_revisions_and_ranges(repo: Path) -> None:
    add_acme(repo)  # HEAD~3 after the steps below
    add_contact(repo, "beta", "Beta")
    git("branch", "side", "HEAD", cwd=repo)
    replace(repo, "contacts/acme.yaml", "kind: agency", "kind: client")
    assert jobshare("commit", "-m", "acme is a client", cwd=repo).exit_code == 0
    assert jobshare("rm", "beta", cwd=repo).exit_code == 0
    git("switch", "-q", "side", cwd=repo)
    add_contact(repo, "gamma", "Gamma")
    git("switch", "-q", "main", cwd=repo)

    # REV REV2 and REV..REV2: one against the other
    two = diff_json("HEAD~2", "HEAD", cwd=repo)
    assert [(d["label"], d["change"]) for d in two] == [
        ("contacts/acme", "modified"),
        ("contacts/beta", "removed"),
    ]
    assert diff_json("HEAD~2..HEAD", cwd=repo) == two
    assert [d["label"] for d in diff_json("HEAD~1", "HEAD", cwd=repo)] == ["contacts/beta"]

    # REV: that revision against the working tree (which has an uncommitted edit)
    replace(repo, "contacts/acme.yaml", "name: Acme Recruiting", "name: Acme Two")
    against_tree = diff_json("HEAD~1", cwd=repo)
    assert [(d["label"], d["change"]) for d in against_tree] == [
        ("contacts/acme", "modified"),
        ("contacts/beta", "removed"),
    ]
    assert [f["field"] for f in against_tree[0]["fields"]] == ["name"]
    assert {f["field"] for f in diff_json("HEAD~2", cwd=repo)[0]["fields"]} == {"kind", "name"}

    # A...B: what side changed since it forked from main, not what main did since
    assert [(d["label"], d["change"]) for d in diff_json("main...side", cwd=repo)] == [
        ("contacts/gamma", "added")
    ]
    both = diff_json("main", "side", cwd=repo)
    assert {d["label"] for d in both} == {"contacts/acme", "contacts/beta", "contacts/gamma"}

    unknown = jobshare("diff", "main", "nosuchrev", cwd=repo)
    assert unknown.exit_code == 7 and "names no revision and no record" in unknown.output
    assert jobshare("diff", "HEAD~1", "HEAD", "HEAD~2", cwd=repo).exit_code == 7


def test_diff_label_arguments_and_separator(repo: Path) -> None:
    add_acme(repo)
    add_contact(repo, "beta", "Beta")
    add_contact(repo, "main", "A record called main")
    for rel in ("contacts/acme.yaml", "contacts/beta.yaml", "contacts/main.yaml"):
        replace(repo, rel, "kind: ", "role: Someone\nkind: ")

    def labels(*args: str) -> list[str]:
        return [d["label"] for d in diff_json(*args, cwd=repo)]

    assert labels() == ["contacts/acme", "contacts/beta", "contacts/main"]
    assert labels("contacts/beta") == ["contacts/beta"]
    assert labels("beta", "acme") == ["contacts/acme", "contacts/beta"]  # bare ids
    assert labels("contacts/beta.yaml") == ["contacts/beta"]
    assert labels("contacts/a*") == ["contacts/acme"]  # a glob
    assert labels("referrals") == []  # a folder
    # 'main' resolves as a revision (the branch), so it is HEAD vs the working tree...
    assert labels("main") == ["contacts/acme", "contacts/beta", "contacts/main"]
    # ...unless it comes after --, or as a full label
    assert labels("--", "main") == ["contacts/main"]
    assert labels("contacts/main") == ["contacts/main"]
    assert labels("HEAD", "--", "main", "beta") == ["contacts/beta", "contacts/main"]
    assert labels("HEAD", "beta") == ["contacts/beta"]
    # a branch named like a label is still read as a label
    git("branch", "contacts/acme", cwd=repo)
    assert labels("contacts/acme") == ["contacts/acme"]
    missing = jobshare("diff", "--", "nobody", cwd=repo)
    assert missing.exit_code == 7


def test_diff_colour_on_and_off(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    add_acme(repo)
    replace(repo, "contacts/acme.yaml", "- remote", "- onsite")
    always = jobshare("diff", "--color", "always", cwd=repo).stdout
    assert "\x1b[32m    + onsite\x1b[0m" in always and "\x1b[31m    - remote\x1b[0m" in always
    assert "\x1b[1mcontacts/acme\x1b[0m" in always  # the record header is bold
    assert ANSI not in jobshare("diff", "--color", "never", cwd=repo).stdout
    assert ANSI not in jobshare("diff", cwd=repo).stdout  # auto, and not a terminal
    monkeypatch.setenv("NO_COLOR", "1")
    assert ANSI not in jobshare("diff", "--color", "auto", cwd=repo).stdout
    assert ANSI in jobshare("diff", "--color", "always", cwd=repo).stdout  # asked for: given
    assert jobshare("diff", "--color", "sometimes", cwd=repo).exit_code == 2


def test_diff_shows_unreadable_records_instead_of_crashing(repo: Path) -> None:
    add_acme(repo)
    (repo / "contacts/acme.yaml").write_text("id: acme\nname: [unclosed\n")
    (repo / "contacts/list.yaml").write_text("- just\n- a list\n")
    result = jobshare("diff", cwd=repo)
    assert result.exit_code == 0, result.output
    assert "modified  contacts/acme  Acme Recruiting\n  (unreadable: line 3: YAML syntax" in (
        result.stdout
    )
    assert "added     contacts/list\n  (unreadable: not a mapping of fields)" in result.stdout
    [acme, listed] = diff_json(cwd=repo)
    assert acme["unreadable"]["new"].startswith("line 3: YAML syntax error")
    assert acme["unreadable"]["old"] is None and listed["unreadable"]["old"] is None
    git("commit", "-qam", "broken", cwd=repo)
    (repo / "contacts/acme.yaml").write_bytes(contact_yaml("acme", "Acme fixed"))
    shown = jobshare("diff", cwd=repo).stdout
    assert "modified  contacts/acme  Acme fixed\n  (was unreadable: line 3:" in shown


def test_diff_reads_only_the_changed_records(repo: Path) -> None:
    for i in range(30):
        (repo / f"contacts/c{i:02}.yaml").write_bytes(contact_yaml(f"c{i:02}", f"C {i}"))
    assert jobshare("commit", "-m", "thirty", cwd=repo).exit_code == 0
    replace(repo, "contacts/c07.yaml", "name: C 7", "name: Seven")
    replace(repo, "contacts/c08.yaml", "name: C 8", "name: C 8")  # rewritten, same bytes
    store = Store.open(repo)
    result = review.diff(store)
    assert [c.label for c in result.changes] == ["contacts/c07"]
    assert store.loads == 1  # HEAD's version of c07; nothing else was parsed
    assert jobshare("commit", cwd=repo).exit_code == 0
    store = Store.open(repo)
    assert [c.label for c in review.diff(store, ["HEAD~1", "HEAD"]).changes] == ["contacts/c07"]
    assert store.loads == 2


# --- show REV ------------------------------------------------------------------------


def test_show_commit_and_merge_commit(repo: Path) -> None:
    add_acme(repo)
    git("switch", "-q", "-c", "side", cwd=repo)
    add_contact(repo, "beta", "Beta")
    replace(repo, "contacts/acme.yaml", "- remote", "- remote\n- urgent")
    git("commit", "-qam", "acme is urgent", cwd=repo)
    git("switch", "-q", "main", cwd=repo)
    add_contact(repo, "gamma", "Gamma")
    git("merge", "-q", "--no-ff", "-m", "Merge side", "side", cwd=repo)

    normal = jobshare("show", "side", cwd=repo)
    assert normal.exit_code == 0, normal.output
    out = normal.stdout
    assert out.startswith("commit " + git("rev-parse", "side", cwd=repo).strip() + "\n")
    assert "Author: Test Person <test@example.com>\n" in out and "\nDate:   20" in out
    assert "\n    acme is urgent\n" in out
    assert "modified  contacts/acme  Acme Recruiting\n  tags:\n    + urgent" in out

    merged = jobshare("show", "HEAD", cwd=repo)
    assert merged.exit_code == 0
    assert "\nMerge:  " in merged.stdout and "\n    Merge side\n" in merged.stdout
    # what the merge brought in, relative to main's side: beta and acme, not gamma
    assert "added     contacts/beta  Beta" in merged.stdout
    assert "modified  contacts/acme" in merged.stdout and "gamma" not in merged.stdout

    data = json.loads(jobshare("show", "HEAD", "--json", cwd=repo).stdout)["jobshare.show/v1"]
    assert len(data["parents"]) == 2 and data["message"] == "Merge side"
    assert {"commit", "author", "email", "date", "message", "records"} <= set(data)
    assert [(r["label"], r["change"]) for r in data["records"]] == [
        ("contacts/acme", "modified"),
        ("contacts/beta", "added"),
    ]
    # a record still shows as before, by label or id, and wins over a revision name
    assert jobshare("show", "acme", cwd=repo).stdout.startswith("contacts/acme  Acme Recruiting")
    git("branch", "gamma", "HEAD~1", cwd=repo)
    assert jobshare("show", "gamma", cwd=repo).stdout.startswith("contacts/gamma  Gamma")
    record = json.loads(jobshare("show", "gamma", "--json", cwd=repo).stdout)
    assert record["jobshare.show/v1"]["label"] == "contacts/gamma"
    missing = jobshare("show", "nothing-here", cwd=repo)
    assert missing.exit_code == 7 and "no record or revision 'nothing-here'" in missing.output


# --- log -----------------------------------------------------------------------------


def test_log_lists_commits_with_their_records(repo: Path) -> None:
    add_acme(repo)
    add_contact(repo, "beta", "Beta")
    replace(repo, "contacts/acme.yaml", "kind: agency", "kind: client")
    (repo / "contacts/beta.yaml").unlink()
    assert jobshare("commit", "-m", "Tidy up", cwd=repo).exit_code == 0

    result = jobshare("log", cwd=repo)
    assert result.exit_code == 0
    out = result.stdout
    assert out.startswith("commit ")
    assert "    Tidy up\n\n    modified  contacts/acme\n    removed   contacts/beta\n" in out
    assert "    added     contacts/beta\n" in out
    assert out.count("\ncommit ") == 3  # four commits, counting the first one

    entries = json.loads(jobshare("log", "-n", "2", "--json", cwd=repo).stdout)["jobshare.log/v1"]
    assert len(entries) == 2
    first = entries[0]
    assert {"commit", "author", "email", "date", "message", "records"} <= set(first)
    assert first["message"] == "Tidy up" and first["author"] == "Alice"  # the owner
    assert first["records"] == [
        {"label": "contacts/acme", "change": "modified"},
        {"label": "contacts/beta", "change": "removed"},
    ]
    assert entries[1]["records"] == [{"label": "contacts/beta", "change": "added"}]


def test_log_label_follows_a_record_through_merges_from_every_friend(tmp_path: Path) -> None:
    alice = make_repo(tmp_path / "alice")
    identity(alice, "Alice Example")
    add_acme(alice)
    bob, carol = tmp_path / "bob", tmp_path / "carol"
    for clone, name in ((bob, "Bob Builder"), (carol, "Carol Jones")):
        git("clone", "-q", str(alice), str(clone), cwd=tmp_path)
        identity(clone, name)

    # Bob changes the phone and Carol the tags, each with plain git
    replace(bob, "contacts/acme.yaml", "+44 20 7946 0000", "+44 20 7946 1111")
    git("commit", "-qam", "Acme's new number", cwd=bob)
    replace(carol, "contacts/acme.yaml", "- remote", "- onsite\n- remote")
    git("commit", "-qam", "Acme hires on site too", cwd=carol)
    # meanwhile Alice adds another contact, with jobshare
    add_contact(alice, "beta", "Beta")

    # Alice merges Bob (only Bob touched acme: the merge is not a change of acme) ...
    git("pull", "-q", "--no-rebase", "--no-edit", str(bob), "main", cwd=alice)
    # ... then Carol (both touched it: the merge makes a new combined version)
    git("pull", "-q", "--no-rebase", "--no-edit", str(carol), "main", cwd=alice)
    # Carol then pulls from Alice: a fast-forward, no new change
    git("pull", "-q", "--no-rebase", "--no-edit", str(alice), "main", cwd=carol)
    text = (alice / "contacts/acme.yaml").read_text()
    assert "+44 20 7946 1111" in text and "- onsite" in text

    entries = json.loads(jobshare("log", "acme", "--json", cwd=carol).stdout)["jobshare.log/v1"]
    who = [(e["author"], e["message"].splitlines()[0]) for e in entries]
    assert who[0][0] == "Alice Example" and who[0][1].startswith("Merge")  # combined version
    assert set(who[1:3]) == {
        ("Bob Builder", "Acme's new number"),
        ("Carol Jones", "Acme hires on site too"),
    }
    assert who[3] == ("Alice", 'Add contact "Acme Recruiting" (contacts/acme)')
    assert len(entries) == 4  # not Alice's other commits, nor the merge of Bob's branch

    by_message = {e["message"].splitlines()[0]: e for e in entries}
    [phone] = by_message["Acme's new number"]["records"]
    assert phone["label"] == "contacts/acme" and phone["change"] == "modified"
    assert [(f["field"], f["added"], f["removed"]) for f in phone["fields"]] == [
        ("phones", ["+44 20 7946 1111"], ["+44 20 7946 0000"])
    ]
    [combined] = entries[0]["records"]  # against the first parent: what Carol brought in
    assert [(f["field"], f["added"]) for f in combined["fields"]] == [("tags", ["onsite"])]
    assert entries[3]["records"][0]["change"] == "added"
    assert entries[0]["email"] == "alice@example.com"

    text_log = jobshare("log", "contacts/acme", cwd=carol).stdout
    assert "Author: Bob Builder <bob@example.com>" in text_log
    assert "Author: Carol Jones <carol@example.com>" in text_log
    assert "  phones:\n    + +44 20 7946 1111\n    - +44 20 7946 0000" in text_log
    assert jobshare("log", "contacts/acme", "-n", "1", cwd=carol).stdout.count("\ncommit ") == 0
    # a record that is gone is still followed by its full label
    assert jobshare("rm", "beta", cwd=alice).exit_code == 0
    gone = json.loads(jobshare("log", "contacts/beta", "--json", cwd=alice).stdout)
    assert [r["records"][0]["change"] for r in gone["jobshare.log/v1"]] == ["removed", "added"]


# --- git-setup, textconv, merge driver ------------------------------------------------


# --- doctor --------------------------------------------------------------------------
