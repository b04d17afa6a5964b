"""Plain git beside jobshare: a friend's jobshare.yaml brought in by `git merge` never
makes the repository act as the friend, and a merge by git in progress stops the
writing commands. Tests of jobshare_sync.owner, through the command line."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import clone_friend, git, jobshare, make_repo, set_owner
from test_sync import commit, contact, head, ok, read, write


def merged_by_git(tmp_path: Path) -> tuple[Path, Path]:
    """alice, who merged bob's branch with plain git: his jobshare.yaml is hers now."""
    alice = make_repo(tmp_path / "alice")
    write(alice, "contacts/acme", contact("acme"))
    commit(alice)
    bob = clone_friend(alice, tmp_path / "bob", "bob")
    write(bob, "contacts/bobs", contact("bobs", "bob"))
    commit(bob)
    git("pull", "-q", "--no-rebase", "--no-edit", str(bob), "main", cwd=alice)
    assert "handle: bob" in (alice / "jobshare.yaml").read_text()
    return alice, bob


@pytest.mark.parametrize(
    "command",
    [
        ["add", "contact", "--name", "New One"],
        ["commit"],
        ["rm", "acme"],
        ["status"],
        ["doctor"],
        ["refer", "acme", "--to", "bob", "--title", "Data"],
        ["sync"],
        ["pull"],
        ["friend", "add", "carol", "/nowhere"],
    ],
)
def test_a_swapped_owner_stops_writing_commands_status_and_doctor(
    tmp_path: Path, command: list[str]
) -> None:
    alice, _ = merged_by_git(tmp_path)
    before = head(alice)
    result = jobshare(*command, cwd=alice)
    assert result.exit_code == 14, result.output
    line = result.stderr.strip()
    assert line.count("\n") == 0
    assert "names the owner 'bob', but this clone is 'alice''s" in line
    assert "jobshare owner --restore" in line
    assert head(alice) == before


def test_restore_brings_the_owner_back_and_new_records_are_hers(tmp_path: Path) -> None:
    alice, _ = merged_by_git(tmp_path)
    assert "this clone's owner: alice; jobshare.yaml names: bob" in ok("owner", cwd=alice)
    assert "restored jobshare.yaml" in ok("owner", "--restore", cwd=alice)
    assert "handle: alice" in (alice / "jobshare.yaml").read_text()
    ok("add", "contact", "--name", "New One", "--id", "new-one", cwd=alice)
    assert read(alice, "contacts/new-one")["added_by"] == "alice"
    assert ok("status", cwd=alice) is not None
    assert "already names" in ok("owner", "--restore", cwd=alice)


def test_init_does_not_change_the_owner(tmp_path: Path) -> None:
    alice = make_repo(tmp_path / "alice")
    result = jobshare("init", str(alice), "--handle", "mallory")
    assert result.exit_code == 14
    assert "init will not change the owner" in result.stderr
    assert "handle: alice" in (alice / "jobshare.yaml").read_text()
    assert git("config", "jobshare.owner", cwd=alice).strip() == "alice"
    ok("init", str(alice), "--handle", "alice", cwd=None)  # the same owner: fine


def test_a_merge_by_git_in_progress_stops_writing_commands(tmp_path: Path) -> None:
    alice = make_repo(tmp_path / "alice")
    write(alice, "contacts/acme", contact("acme", location="Leeds"))
    commit(alice)
    bob = clone_friend(alice, tmp_path / "bob", "bob")
    write(bob, "contacts/acme", contact("acme", location="York"))
    commit(bob)
    write(alice, "contacts/acme", contact("acme", location="Hull"))
    commit(alice)
    # plain git with no merge driver: a conflict in the record file
    fetched = git("fetch", "-q", str(bob), "main", cwd=alice)
    assert fetched == ""
    merged = subprocess_git(alice, "merge", "--no-edit", "FETCH_HEAD")
    assert merged != 0
    assert (alice / ".git/MERGE_HEAD").exists()
    for command in (["commit"], ["add", "contact", "--name", "X"], ["rm", "acme"], ["sync"]):
        result = jobshare(*command, cwd=alice)
        assert result.exit_code == 8, (command, result.output)
        assert "finish or abort git's merge first" in result.stderr
        assert "contacts/acme.yaml" in result.stderr
    # status shows git's conflicted record file
    assert "unmerged contacts/acme.yaml" in ok("status", cwd=alice)
    assert "unmerged contacts/acme.yaml" in ok("conflicts", cwd=alice)
    git("merge", "--abort", cwd=alice)
    ok("rm", "acme", cwd=alice)


def subprocess_git(repo: Path, *args: str) -> int:
    import subprocess

    return subprocess.run(["git", *args], cwd=repo, capture_output=True).returncode


def test_validate_reports_conflict_markers_and_no_derived_error(tmp_path: Path) -> None:
    alice = make_repo(tmp_path / "alice")
    write(alice, "contacts/acme", contact("acme", location="Leeds"))
    commit(alice)
    bob = clone_friend(alice, tmp_path / "bob", "bob")
    ok("friend", "add", "bob", str(bob), cwd=alice)
    ok("fetch", "bob", cwd=alice)
    ok("refer", "acme", "--to", "bob", "--title", "Data pipeline", cwd=alice)
    write(bob, "contacts/acme", contact("acme", location="York"))
    commit(bob)
    write(alice, "contacts/acme", contact("acme", location="Hull"))
    commit(alice)
    git("fetch", "-q", str(bob), "main", cwd=alice)
    assert subprocess_git(alice, "merge", "--no-edit", "FETCH_HEAD") != 0
    text = (alice / "contacts/acme.yaml").read_text()
    marker_line = text.splitlines().index(next(x for x in text.splitlines() if x.startswith("<<<")))
    result = jobshare("validate", cwd=alice)
    assert result.exit_code == 1
    assert f"contacts/acme.yaml:{marker_line + 1}: " in result.stdout
    assert f"unresolved merge conflict markers at line {marker_line + 1}" in result.stdout
    assert "syntax" not in result.stdout.lower()
    assert "names no contact" not in result.stdout


def test_rm_of_a_referrals_client_refuses_unless_forced(tmp_path: Path) -> None:
    alice = make_repo(tmp_path / "alice")
    write(alice, "contacts/acme", contact("acme"))
    write(alice, "contacts/other", contact("other"))
    commit(alice)
    bob = clone_friend(alice, tmp_path / "bob", "bob")
    ok("friend", "add", "bob", str(bob), cwd=alice)
    ok("fetch", "bob", cwd=alice)
    ok("refer", "acme", "--to", "bob", "--title", "Data pipeline", cwd=alice)
    [data] = [p.stem for p in (alice / "referrals").glob("*.yaml")]
    before = head(alice)
    refused = jobshare("rm", "acme", "other", cwd=alice)
    assert refused.exit_code == 13, refused.output
    assert f"contacts/acme by referrals/{data}" in refused.stderr and "--force" in refused.stderr
    assert head(alice) == before and (alice / "contacts/other.yaml").exists()
    assert jobshare("validate", cwd=alice).exit_code == 0
    # removing the referral with it is fine
    both = jobshare("rm", "acme", f"referrals/{data}", "--no-commit", cwd=alice)
    assert both.exit_code == 0, both.output
    git("checkout", "--", ".", cwd=alice)
    forced = jobshare("rm", "acme", "--force", cwd=alice)
    assert forced.exit_code == 0
    assert f"now name a client that is gone: contacts/acme by referrals/{data}" in forced.stderr


def test_the_pre_commit_hook_stops_an_invalid_record_committed_with_plain_git(
    tmp_path: Path,
) -> None:
    alice = make_repo(tmp_path / "alice")
    out = ok("git-setup", "--pre-commit-hook", cwd=alice)
    assert "installed the pre-commit hook" in out
    assert "is in place" in ok("git-setup", "--pre-commit-hook", cwd=alice)
    write(alice, "contacts/good", contact("good"))
    git("add", "contacts/good.yaml", cwd=alice)
    git("commit", "-qm", "good", cwd=alice)  # a valid record passes
    good = (alice / "contacts/good.yaml").read_text()
    (alice / "contacts/bad.yaml").write_text(good.replace("id: good", "id: bad") + "colour: blue\n")
    colour_line = len(good.splitlines()) + 1
    git("add", "contacts/bad.yaml", cwd=alice)
    import subprocess

    done = subprocess.run(
        ["git", "commit", "-qm", "bad"], cwd=alice, capture_output=True, text=True
    )
    assert done.returncode != 0
    assert f"contacts/bad.yaml:{colour_line}: colour: unknown field 'colour'" in (
        done.stdout + done.stderr
    )
    assert "bad" not in git("log", "--format=%s", cwd=alice).split()
    # another program's hook is kept
    hook = alice / ".git/hooks/pre-commit"
    hook.write_text("#!/bin/sh\nexit 0\n")
    refused = jobshare("git-setup", "--pre-commit-hook", cwd=alice)
    assert refused.exit_code == 14 and "another program's hook" in refused.stderr
    assert hook.read_text() == "#!/bin/sh\nexit 0\n"


def test_the_repository_offers_a_pre_commit_framework_hook() -> None:
    import yaml

    root = Path(__file__).resolve().parent.parent
    [hook] = yaml.safe_load((root / ".pre-commit-hooks.yaml").read_text())
    assert hook["id"] == "jobshare-validate" and hook["entry"] == "jobshare validate"


def test_a_failed_init_leaves_nothing_behind(tmp_path: Path) -> None:
    fresh = tmp_path / "fresh"
    result = jobshare("init", str(fresh), "--handle", "Not Valid", "--name", "X")
    assert result.exit_code == 6, result.output
    assert not fresh.exists()
    empty = tmp_path / "empty"
    empty.mkdir()
    result = jobshare("init", str(empty), "--handle", "Not Valid", "--name", "X")
    assert result.exit_code == 6
    assert empty.is_dir() and list(empty.iterdir()) == []
    ok("init", str(empty), "--handle", "alice", "--name", "Alice", cwd=None)


def test_autocrlf_true_leaves_status_and_diff_clean_and_no_empty_commits(
    tmp_path: Path,
) -> None:
    git("config", "--global", "core.autocrlf", "true", cwd=tmp_path)
    alice = make_repo(tmp_path / "alice")
    ok("add", "contact", "--name", "Acme", "--id", "acme", cwd=alice)
    path = alice / "contacts/acme.yaml"
    text = path.read_text().replace("name: Acme\n", "name: Acme Two\n")
    path.write_bytes(text.replace("\n", "\r\n").encode())  # saved by a Windows editor
    commit(alice, "crlf edit")
    before = head(alice)
    assert git("status", "--porcelain", cwd=alice) == ""
    assert "No uncommitted record changes." in ok("status", cwd=alice)
    diffed = jobshare("diff", cwd=alice)
    assert diffed.exit_code == 0 and "no record changes" in diffed.output
    assert read(alice, "contacts/acme")["name"] == "Acme Two"
    assert b"\r" not in git("show", "HEAD:contacts/acme.yaml", cwd=alice).encode()
    nothing = jobshare("commit", cwd=alice)
    assert "nothing to commit" in nothing.output
    assert head(alice) == before
    bob = clone_friend(alice, tmp_path / "bob", "bob")
    write(bob, "contacts/bobs", contact("bobs", "bob"))
    commit(bob)
    ok("friend", "add", "bob", str(bob), cwd=alice)
    assert "1 added" in ok("pull", "bob", cwd=alice)


def test_git_setup_keeps_the_owners_jobshare_yaml_in_a_plain_git_merge(tmp_path: Path) -> None:
    alice = make_repo(tmp_path / "alice")
    ok("git-setup", cwd=alice)
    assert "jobshare.yaml merge=jobshare-owner" in (alice / ".gitattributes").read_text()
    assert git("config", "merge.jobshare-owner.driver", cwd=alice).strip() == "true"
    bob = clone_friend(alice, tmp_path / "bob", "bob")
    write(bob, "contacts/bobs", contact("bobs", "bob"))
    commit(bob)
    set_owner(alice, "alice")  # alice changed her jobshare.yaml too: both sides did
    git("pull", "-q", "--no-rebase", "--no-edit", str(bob), "main", cwd=alice)
    assert "handle: alice" in (alice / "jobshare.yaml").read_text()
    assert (alice / "contacts/bobs.yaml").exists()
    assert jobshare("status", cwd=alice).exit_code == 0
    ok("add", "contact", "--name", "New One", "--id", "new-one", cwd=alice)
    assert read(alice, "contacts/new-one")["added_by"] == "alice"
