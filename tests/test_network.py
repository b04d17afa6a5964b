"""A network of friends converges: the simulation of benchmarks/network_sim.py with eight
freelancers (real repositories, pulling each other at random with --strategy newest), and
the three faults it found, each as a small scenario of its own."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from conftest import ROOT, clone_friend, git, jobshare, make_repo
from test_sync import commit, contact, edit, ok, read, write

from jobshare_sync import sync

sys.path.insert(0, str(ROOT / "benchmarks"))
import network_sim  # noqa: E402  (the benchmark's simulation, shared with benchmarks/network.py)


def run(
    tmp_path: Path,
    people: int,
    rounds: int,
    seed: int,
    *,
    disjoint: bool = False,
    deletions: str = "ephemeral",
) -> network_sim.Report:
    network = network_sim.Network(tmp_path, people, seed, disjoint=disjoint, deletions=deletions)
    report = network.run(rounds)
    print(report.summary())
    return report


@pytest.mark.slow
def test_eight_freelancers_converge_and_lose_nothing(tmp_path: Path) -> None:
    """Edits to any field of any record, sometimes the same field at once, tags added,
    records their owner deletes. Every conflict a pull reports is a genuine one (two
    edits of one field, neither made by someone who had seen the other), every genuine
    one is reported, and at the end every repository holds the same bytes."""
    report = run(tmp_path, 8, 12, seed=7)
    assert report.problems == []
    assert report.converged
    # every one called exactly, and the run met what it is meant to check
    assert report.conflicts == report.genuine > 5 and report.unexplained == 0
    assert report.criss_cross > 10 and report.kept > 0


@pytest.mark.slow
def test_no_conflict_when_nobody_edits_the_same_field(tmp_path: Path) -> None:
    """Each field of each record has one editor: criss-cross merges galore, not one
    conflict."""
    report = run(tmp_path, 8, 12, seed=3, disjoint=True, deletions="none")
    assert report.problems == []
    assert report.converged and report.criss_cross > 10
    assert report.conflicts == report.genuine == 0


@pytest.mark.slow
def test_owners_deleting_records_others_are_editing(tmp_path: Path) -> None:
    """Deletions racing edits: newest keeps such a record, and everyone still ends with
    the same records, none of them back from a deletion that nothing raced."""
    report = run(tmp_path, 6, 8, seed=2, deletions="any")
    assert report.problems == []
    assert report.converged


# --- what the simulation found ------------------------------------------------------------


def network(tmp_path: Path, *names: str) -> list[Path]:
    """alice with one contact of hers, and friends who start from a copy of her
    repository; everyone is everyone's friend, and has fetched everyone once."""
    alice = make_repo(tmp_path / "alice")
    write(alice, "contacts/gone", contact("gone"))
    commit(alice)
    repos = [alice] + [clone_friend(alice, tmp_path / name, name) for name in names]
    handles = ["alice", *names]
    for me in repos:
        for name, friend in zip(handles, repos, strict=True):
            if friend != me:
                ok("friend", "add", name, str(friend), cwd=me)
                ok("fetch", name, cwd=me)
    return repos


def test_a_kept_copy_never_brings_back_a_record_its_owner_deleted(tmp_path: Path) -> None:
    """alice deletes her record; bob pulls her, and passes the deletion on to carol, who
    keeps the record for want of alice's word (her copy of alice's branch is older). Then
    alice and bob pulled carol, and got the record back for good: carol's merge holds it
    where their merge base did not, so it looked added, and once alice's own branch held
    it again no proof of the deletion was left to anyone."""
    alice, bob, carol = network(tmp_path, "bob", "carol")
    ok("rm", "contacts/gone", cwd=alice)
    ok("pull", "alice", cwd=bob)
    assert not (bob / "contacts/gone.yaml").exists()
    kept = ok("pull", "bob", cwd=carol)
    assert "contacts/gone: kept; bob deleted it, but alice added it" in kept
    assert (carol / "contacts/gone.yaml").exists()

    ok("pull", "carol", cwd=alice)
    ok("pull", "carol", cwd=bob)
    assert not (alice / "contacts/gone.yaml").exists()
    assert not (bob / "contacts/gone.yaml").exists()
    ok("pull", "alice", cwd=carol)  # alice's branch shows the deletion: carol applies it
    assert not (carol / "contacts/gone.yaml").exists()
    for repo in (alice, bob):
        ok("pull", cwd=repo)
        assert not (repo / "contacts/gone.yaml").exists()


def test_a_deletion_resolved_by_a_friend_does_not_conflict_again(tmp_path: Path) -> None:
    """Criss-cross after a deletion. alice deletes her record and merges carol's
    unrelated commit; carol, who had edited the record meanwhile, meets the deletion
    through bob and keeps her edit (--strategy newest). When alice pulls carol, her merge
    bases are carol's commit (record untouched) and alice's deletion: the deletion is
    the base, and carol's choice, made after seeing it, comes in; the bases' union had
    the record, so alice met the same delete-modify conflict again."""
    alice, bob, carol = network(tmp_path, "bob", "carol")
    write(carol, "contacts/mine", contact("mine", "carol"))
    commit(carol)
    ok("rm", "contacts/gone", cwd=alice)
    ok("pull", "alice", cwd=bob)
    ok("pull", "carol", cwd=alice)
    assert not (alice / "contacts/gone.yaml").exists()
    edit(carol, "contacts/gone", location="York", updated="2026-10-09T09:00:00Z")
    commit(carol)
    ok("pull", "bob", "--strategy", "newest", cwd=carol)
    assert "1 conflict(s) resolved by strategy" in git("log", "-1", "--format=%B", cwd=carol)
    assert read(carol, "contacts/gone")["location"] == "York"

    pulled = jobshare("pull", "carol", cwd=alice)
    assert pulled.exit_code == 0, pulled.output
    assert read(alice, "contacts/gone")["location"] == "York"


def test_the_owners_word_is_found_however_busy_the_network(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The proof that alice deleted her record is on her own line of commits, one step
    back. Her whole history holds every commit her friends made, and with thirty of them
    that step lay beyond the commits searched: bob's relay of her deletion was kept for
    good, and copies of the record came back. (Here: ten commits of dave's, merged after
    the deletion, and a limit of five.)"""
    monkeypatch.setattr(sync, "OWNER_HISTORY_LIMIT", 5)
    alice, bob, carol = network(tmp_path, "bob", "carol")
    dave = make_repo(tmp_path / "dave", "dave")
    with monkeypatch.context() as dated:  # later than alice's: a walk by date lists them first
        dated.setenv("GIT_COMMITTER_DATE", "2030-01-01T00:00:00Z")
        for i in range(10):
            write(dave, f"contacts/dave-{i}", contact(f"dave-{i}", "dave"))
            git("add", "contacts", cwd=dave)
            git("commit", "-qm", f"dave {i}", cwd=dave)
    ok("friend", "add", "dave", str(dave), cwd=alice)
    ok("rm", "contacts/gone", cwd=alice)
    ok("pull", "dave", cwd=alice)
    ok("pull", "alice", cwd=bob)
    assert not (bob / "contacts/gone.yaml").exists()
    ok("fetch", "alice", cwd=carol)
    relayed = ok("pull", "bob", cwd=carol)
    assert "kept" not in relayed
    assert not (carol / "contacts/gone.yaml").exists()
