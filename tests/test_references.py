"""References stay whole: no command jobshare performs leaves a referral's client, or an
alias, naming a contact that is gone, so `validate` passes after it if it passed before
(DESIGN section 2). `rm`, `commit` of a hand removal and `vdir sync --propagate-deletes`,
through the command line; `combine`, `rename` and the referral commands too."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import git, jobshare, make_repo
from test_sync import commit, contact, head, ok, write


def with_referral(tmp_path: Path, status: str) -> tuple[Path, str]:
    """alice with contacts acme and other, and a referral to bob about acme that is
    `status`: open, withdrawn (by her), or declined (by bob, pulled back by her)."""
    alice = make_repo(tmp_path / "alice")
    write(alice, "contacts/acme", contact("acme"))
    write(alice, "contacts/other", contact("other"))
    commit(alice)
    bob = make_repo(tmp_path / "bob", "bob")
    ok("friend", "add", "bob", str(bob), cwd=alice)
    ok("fetch", "bob", cwd=alice)
    ok("refer", "acme", "--to", "bob", "--title", "Data pipeline", cwd=alice)
    [referral] = [p.stem for p in (alice / "referrals").glob("*.yaml")]
    if status == "withdrawn":
        ok("referral", "withdraw", referral, cwd=alice)
    elif status == "declined":
        ok("friend", "add", "alice", str(alice), cwd=bob)
        ok("pull", "alice", cwd=bob)
        ok("referral", "decline", referral, cwd=bob)
        ok("pull", "bob", cwd=alice)
    assert f"status: {status}" in (alice / "referrals" / f"{referral}.yaml").read_text()
    assert jobshare("validate", cwd=alice).exit_code == 0
    return alice, referral


@pytest.mark.parametrize("status", ["open", "withdrawn", "declined"])
def test_rm_keeps_a_contact_any_referral_names(tmp_path: Path, status: str) -> None:
    alice, referral = with_referral(tmp_path, status)
    before = head(alice)
    refused = jobshare("rm", "acme", "other", cwd=alice)
    assert refused.exit_code == 13, refused.output
    assert f"contacts/acme by referrals/{referral}" in refused.stderr
    assert "--force" in refused.stderr and refused.stderr.count("\n") == 1
    assert head(alice) == before and (alice / "contacts/other.yaml").exists()
    assert jobshare("validate", cwd=alice).exit_code == 0
    # a contact no referral names goes; removing the referral in the same command too
    assert "Removed contacts/other" in ok("rm", "other", cwd=alice)
    both = ok("rm", "acme", f"referrals/{referral}", cwd=alice)
    assert "Removed contacts/acme" in both
    assert jobshare("validate", cwd=alice).exit_code == 0
    git("reset", "-q", "--hard", before, cwd=alice)
    forced = jobshare("rm", "acme", "--force", cwd=alice)
    assert forced.exit_code == 0, forced.output
    assert f"now name a client that is gone: contacts/acme by referrals/{referral}" in (
        forced.stderr
    )
    assert not (alice / "contacts/acme.yaml").exists()


def test_commit_of_a_hand_removal_keeps_references_whole(tmp_path: Path) -> None:
    alice, referral = with_referral(tmp_path, "withdrawn")
    before = head(alice)
    (alice / "contacts/acme.yaml").unlink()
    refused = jobshare("commit", cwd=alice)
    assert refused.exit_code == 6, refused.output
    assert "nothing committed" in refused.stderr
    assert f"contacts/acme.yaml: removed, but referrals/{referral} still name its id" in (
        refused.stderr
    )
    assert head(alice) == before
    git("checkout", "--", ".", cwd=alice)
    # a referral edited by hand to name a contact that does not exist
    path = alice / "referrals" / f"{referral}.yaml"
    path.write_text(path.read_text().replace("client: acme", "client: nobody"))
    refused = jobshare("commit", cwd=alice)
    assert refused.exit_code == 6
    assert "client 'nobody' names no contact" in refused.stderr
    assert head(alice) == before
    git("checkout", "--", ".", cwd=alice)
    # removing both together, or a contact nobody names, is fine
    (alice / "contacts/other.yaml").unlink()
    assert "removed   contacts/other.yaml" in ok("commit", cwd=alice)
    (alice / "contacts/acme.yaml").unlink()
    path.unlink()
    ok("commit", cwd=alice)
    assert jobshare("validate", cwd=alice).exit_code == 0


def test_combine_rename_and_withdraw_leave_validate_passing(tmp_path: Path) -> None:
    alice, referral = with_referral(tmp_path, "open")
    ok("combine", "other", "acme", cwd=alice)  # acme, the client, becomes an alias
    assert jobshare("validate", cwd=alice).exit_code == 0
    ok("rename", "other", "other-ltd", cwd=alice)
    assert jobshare("validate", cwd=alice).exit_code == 0
    ok("referral", "withdraw", referral, cwd=alice)
    assert jobshare("validate", cwd=alice).exit_code == 0
    # the survivor, an alias and the client are each kept by rm
    for label in ("other-ltd", "other", "acme"):
        assert jobshare("rm", label, cwd=alice).exit_code != 0
    assert jobshare("validate", cwd=alice).exit_code == 0


def test_vdir_sync_keeps_a_contact_deleted_in_the_folder_that_a_referral_names(
    tmp_path: Path,
) -> None:
    alice, referral = with_referral(tmp_path, "withdrawn")
    folder = tmp_path / "cards"
    ok("vdir", "sync", str(folder), cwd=alice)
    (folder / "acme.vcf").unlink()
    (folder / "other.vcf").unlink()
    out = ok("vdir", "sync", str(folder), "--propagate-deletes", cwd=alice)
    assert (
        f"acme.vcf: deleted in the folder, but contacts/acme is named by referrals/{referral}: kept"
        in out
    )
    assert "removed   contacts/other" in out
    assert (alice / "contacts/acme.yaml").exists() and not (alice / "contacts/other.yaml").exists()
    assert jobshare("validate", cwd=alice).exit_code == 0


def test_merge_continue_keeps_a_contact_a_referral_names(tmp_path: Path) -> None:
    alice = make_repo(tmp_path / "alice")
    bob = make_repo(tmp_path / "bob", "bob")
    write(bob, "contacts/bobco", contact("bobco", "bob"))
    commit(bob)
    ok("friend", "add", "bob", str(bob), cwd=alice)
    ok("pull", "bob", cwd=alice)
    ok("refer", "bobco", "--to", "bob", "--title", "Data pipeline", cwd=alice)
    [referral] = [p.stem for p in (alice / "referrals").glob("*.yaml")]
    path = alice / "contacts/bobco.yaml"
    path.write_text(path.read_text().replace("name: Bobco", "name: Bobco Ltd"))
    commit(alice)
    ok("rm", "bobco", cwd=bob)  # his own contact, which alice changed: a conflict
    assert jobshare("pull", "bob", cwd=alice).exit_code == 1
    ok("resolve", "contacts/bobco", "--delete", cwd=alice)
    before = head(alice)
    refused = jobshare("merge", "--continue", cwd=alice)
    assert refused.exit_code == 8, refused.output
    assert f"contacts/bobco by referrals/{referral}" in refused.stderr
    assert "jobshare resolve contacts/bobco --ours" in refused.stderr
    assert head(alice) == before
    ok("resolve", "contacts/bobco", "--ours", cwd=alice)
    ok("merge", "--continue", cwd=alice)
    assert path.exists()
    assert jobshare("validate", cwd=alice).exit_code == 0


def test_merge_continue_refuses_a_referral_resolved_to_name_no_contact(tmp_path: Path) -> None:
    alice, referral = with_referral(tmp_path, "open")
    bob = tmp_path / "bob"
    ok("friend", "add", "alice", str(alice), cwd=bob)
    ok("pull", "alice", cwd=bob)
    label = f"referrals/{referral}"
    for repo, title in ((alice, "Data pipeline, 3 months"), (bob, "Data pipeline, 4 months")):
        path = repo / f"{label}.yaml"
        path.write_text(path.read_text().replace("title: Data pipeline", f"title: {title}"))
        commit(repo)
    assert jobshare("pull", "bob", cwd=alice).exit_code == 1
    ok("resolve", f"{label}:title", "--ours", cwd=alice)
    ok("resolve", label, "--field", "client=nobody", cwd=alice)
    before = head(alice)
    refused = jobshare("merge", "--continue", cwd=alice)
    assert refused.exit_code == 8, refused.output
    assert f"{label}: its client 'nobody' names no contact in the result" in refused.stderr
    assert head(alice) == before
    ok("resolve", label, "--field", "client=other", cwd=alice)
    ok("merge", "--continue", cwd=alice)
    assert jobshare("validate", cwd=alice).exit_code == 0
