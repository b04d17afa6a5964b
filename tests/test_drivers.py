"""Tests of jobshare_sync.drivers: git-setup, the textconv and merge drivers that plain
git runs, and doctor (DESIGN section 7)."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import git, jobshare, make_repo
from test_review import add_acme, contact_yaml, identity, replace, run_git

from jobshare_sync.core import records, schema


def test_git_setup_then_plain_git_diff_shows_records(repo: Path) -> None:
    (repo / ".gitattributes").write_text("*.png binary\ncontacts/*.yaml text eol=lf\n")
    add_acme(repo)
    result = jobshare("git-setup", cwd=repo)
    assert result.exit_code == 0, result.output
    assert (repo / ".gitattributes").read_text() == (
        "*.png binary\n"
        "contacts/*.yaml text eol=lf diff=jobshare merge=jobshare\n"
        "referrals/*.yaml diff=jobshare merge=jobshare\n"
        "jobshare.yaml merge=jobshare-owner\n"
    )
    assert git("log", "-1", "--format=%s", cwd=repo).strip() == "Set up jobshare's git drivers"
    assert git("status", "--porcelain", cwd=repo) == ""
    textconv = git("config", "--local", "diff.jobshare.textconv", cwd=repo).strip()
    assert "-m jobshare_sync textconv" in textconv and textconv.startswith("/")
    driver = git("config", "--local", "merge.jobshare.driver", cwd=repo).strip()
    assert driver.endswith("-m jobshare_sync merge-driver %O %A %B %P")
    again = jobshare("git-setup", "--json", cwd=repo)
    data = json.loads(again.stdout)["jobshare.git-setup/v1"]
    assert data["commit"] is None and data["config_changed"] == []

    replace(repo, "contacts/acme.yaml", "+44 20 7946 0000", "+44 20 7946 1111")
    replace(repo, "contacts/acme.yaml", "Pays on time.", "Pays late.")
    plain = git("diff", cwd=repo)
    assert "-phones: +44 20 7946 0000\n+phones: +44 20 7946 1111\n" in plain
    assert "-  | Pays on time.\n+  | Pays late.\n" in plain
    assert "yaml-language-server" not in plain and "\n- +44" not in plain
    git("commit", "-qam", "new phone", cwd=repo)
    assert "+phones: +44 20 7946 1111\n" in git("log", "-p", "-1", cwd=repo)

    rendered = jobshare("textconv", str(repo / "contacts/acme.yaml"), cwd=repo).stdout
    assert rendered.splitlines()[:3] == ["id: acme", "kind: agency", "name: Acme Recruiting"]
    assert "emails: jobs@acme.example\n" in rendered and "tags: remote\n" in rendered
    assert "notes:\n  | Ask for Dana.\n  | Pays late.\n" in rendered


def test_textconv_of_unusual_files(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("name: [unclosed\n")
    out = jobshare("textconv", str(broken)).stdout
    assert out.startswith("(unreadable: line 2: YAML syntax error") and "name: [unclosed" in out
    nested = tmp_path / "r.yaml"
    nested.write_bytes(
        schema.dump_record(
            "referrals",
            {
                "id": "r",
                "title": "Job",
                "budget": {"amount": 500, "currency": "EUR"},
                "history": [{"at": "2026-01-01T00:00:00Z", "by": "alice", "status": "open"}],
            },
        )
    )
    lines = jobshare("textconv", str(nested)).stdout.splitlines()
    assert "budget.amount: 500" in lines and "budget.currency: EUR" in lines
    assert "history: at: 2026-01-01T00:00:00Z, by: alice, status: open" in lines


def clones_with_drivers(tmp_path: Path) -> tuple[Path, Path]:
    alice = make_repo(tmp_path / "alice")
    add_acme(alice)
    assert jobshare("git-setup", cwd=alice).exit_code == 0
    bob = tmp_path / "bob"
    git("clone", "-q", str(alice), str(bob), cwd=tmp_path)
    identity(bob, "Bob Builder")
    assert jobshare("git-setup", cwd=bob).exit_code == 0  # config is per clone
    return alice, bob


def test_plain_git_merge_merges_record_fields_with_the_driver(tmp_path: Path) -> None:
    alice, bob = clones_with_drivers(tmp_path)
    # adjacent lines: git's own line merge would call this a conflict
    replace(alice, "contacts/acme.yaml", "+44 20 7946 0000", "+44 20 7946 1111")
    git("commit", "-qam", "Alice: new phone", cwd=alice)
    replace(bob, "contacts/acme.yaml", "- jobs@acme.example", "- dana@acme.example")
    replace(bob, "contacts/acme.yaml", "- remote", "- remote\n- urgent")
    git("commit", "-qam", "Bob: new email, urgent", cwd=bob)

    pulled = run_git("pull", "--no-rebase", "--no-edit", str(bob), "main", cwd=alice)
    assert pulled.returncode == 0, pulled.stdout + pulled.stderr
    merged = (alice / "contacts/acme.yaml").read_bytes()
    text = merged.decode()
    assert "- dana@acme.example\n" in text and "- jobs@acme.example" not in text
    assert "- +44 20 7946 1111\n" in text and "- urgent\n" in text
    data = records.load_yaml(merged, "contacts/acme.yaml").data
    assert merged == schema.dump_record("contacts", data)  # canonical form
    assert git("status", "--porcelain", cwd=alice) == ""
    assert jobshare("validate", cwd=alice).exit_code == 0
    parents = git("log", "-1", "--format=%P", cwd=alice).split()
    assert len(parents) == 2


def test_plain_git_merge_leaves_a_real_conflict_with_markers(tmp_path: Path) -> None:
    alice, bob = clones_with_drivers(tmp_path)
    replace(alice, "contacts/acme.yaml", "name: Acme Recruiting", "name: Acme Ltd")
    git("commit", "-qam", "Alice renames", cwd=alice)
    replace(bob, "contacts/acme.yaml", "name: Acme Recruiting", "name: Acme Limited")
    replace(bob, "contacts/acme.yaml", "- remote", "- remote\n- urgent")
    git("commit", "-qam", "Bob renames", cwd=bob)

    pulled = run_git("pull", "--no-rebase", "--no-edit", str(bob), "main", cwd=alice)
    assert pulled.returncode != 0
    assert "conflict in contacts/acme.yaml: name" in pulled.stderr
    assert git("status", "--porcelain", cwd=alice).splitlines() == ["UU contacts/acme.yaml"]
    text = (alice / "contacts/acme.yaml").read_text()
    assert (
        "kind: agency\n<<<<<<< ours\nname: Acme Ltd\n=======\nname: Acme Limited\n"
        ">>>>>>> theirs\nemails:\n"
    ) in text
    assert "- urgent\n" in text  # the fields that did not conflict are merged
    assert text.startswith("# yaml-language-server: $schema=")


def test_merge_driver_falls_back_to_lines_for_unreadable_files(tmp_path: Path) -> None:
    base, ours, theirs = (tmp_path / n for n in ("base", "ours", "theirs"))
    base.write_text("a: [\nb\nx\nc\n")
    ours.write_text("a: [\nb2\nx\nc\n")
    theirs.write_text("a: [\nb\nx\nc2\n")
    done = jobshare("merge-driver", str(base), str(ours), str(theirs), "contacts/x.yaml")
    assert done.exit_code == 0 and ours.read_text() == "a: [\nb2\nx\nc2\n"
    assert "merged line by line" in done.output
    theirs.write_text("a: [\nb3\nx\nc\n")
    ours.write_text("a: [\nb2\nx\nc\n")
    clash = jobshare("merge-driver", str(base), str(ours), str(theirs), "contacts/x.yaml")
    assert clash.exit_code == 1
    assert ours.read_text() == (
        "<<<<<<< ours\na: [\nb2\nx\nc\n=======\na: [\nb3\nx\nc\n>>>>>>> theirs\n"
    )
    # add/add: git passes an empty base
    base.write_text("")
    ours.write_bytes(contact_yaml("x", "X", tags=["a"]))
    theirs.write_bytes(contact_yaml("x", "X", tags=["b"]))
    added = jobshare("merge-driver", str(base), str(ours), str(theirs), "contacts/x.yaml")
    assert added.exit_code == 0, added.output
    assert "tags:\n- a\n- b\n" in ours.read_text()


def test_a_repository_fresh_from_init_passes_doctor(tmp_path: Path) -> None:
    result = jobshare("init", str(tmp_path / "new"), "--handle", "alice", "--name", "Alice")
    assert result.exit_code == 0, result.output
    report = jobshare("doctor", cwd=tmp_path / "new")
    assert report.exit_code == 0, report.output
    assert "FAIL" not in report.stdout
    for name in ("attributes", "drivers", "pre-commit hook"):
        assert f"--    {name}: not set up (optional)" in report.stdout
    assert "3 optional item(s) not set up" in report.stdout
    data = json.loads(jobshare("doctor", "--json", cwd=tmp_path / "new").stdout)
    checks = {c["name"]: c for c in data["jobshare.doctor/v1"]["checks"]}
    assert data["jobshare.doctor/v1"]["ok"] is True
    assert checks["drivers"]["optional"] and not checks["drivers"]["ok"]
    assert jobshare("git-setup", "--pre-commit-hook", cwd=tmp_path / "new").exit_code == 0
    after = jobshare("doctor", cwd=tmp_path / "new")
    assert "OK    pre-commit hook:" in after.stdout
    assert after.stdout.strip().splitlines()[-1] == "everything is set up"


def test_doctor_before_and_after_git_setup(repo: Path) -> None:
    add_acme(repo)
    before = jobshare("doctor", cwd=repo)
    assert before.exit_code == 0, before.output  # the drivers are optional set-up
    assert "--    attributes: not set up (optional)" in before.stdout
    assert "to set up: jobshare git-setup" in before.stdout
    assert "--    drivers: not set up (optional)" in before.stdout
    assert "FAIL" not in before.stdout
    assert "OK    git: git 2." in before.stdout
    assert "OK    schema comments:" in before.stdout and "OK    schema copy:" in before.stdout

    assert jobshare("git-setup", cwd=repo).exit_code == 0
    after = jobshare("doctor", cwd=repo)
    assert after.exit_code == 0, after.output
    assert "FAIL" not in after.stdout and after.stdout.strip().endswith("everything is set up")
    assert "--    pre-commit hook: not set up (optional)" in after.stdout

    # a record without the schema comment, a stale schema copy, a friend without a remote
    path = repo / "contacts/acme.yaml"
    path.write_text(path.read_text().split("\n", 1)[1])
    (repo / ".jobshare/schema/contact.schema.json").write_text("{}\n")
    git("config", "jobshare-friend.bob.handle", "bob", cwd=repo)
    report = json.loads(jobshare("doctor", "--json", cwd=repo).stdout)["jobshare.doctor/v1"]
    checks = {c["name"]: c for c in report["checks"]}
    assert report["ok"] is False
    assert set(checks) == {
        "git",
        "attributes",
        "drivers",
        "pre-commit hook",
        "schema comments",
        "schema copy",
        "friends",
    }
    assert (
        not checks["schema comments"]["ok"]
        and "contacts/acme.yaml" in checks["schema comments"]["detail"]
    )
    assert not checks["schema copy"]["ok"] and "jobshare init" in checks["schema copy"]["fix"]
    assert not checks["friends"]["ok"] and "bob" in checks["friends"]["detail"]
    git("remote", "add", "bob", "https://example.com/bob.git", cwd=repo)
    report = json.loads(jobshare("doctor", "--json", cwd=repo).stdout)["jobshare.doctor/v1"]
    friends = [c for c in report["checks"] if c["name"] == "friends"][0]
    assert friends["ok"] and "https://example.com/bob.git" in friends["detail"]
    # a configured Python that is gone is reported
    git(
        "config",
        "diff.jobshare.textconv",
        "/nonexistent/python -m jobshare_sync textconv",
        cwd=repo,
    )
    drivers = jobshare("doctor", cwd=repo).stdout
    assert "FAIL  drivers: diff.jobshare.textconv runs '/nonexistent/python'" in drivers
