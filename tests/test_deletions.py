"""Deletions kept for want of proof cost what the change costs (deletions.py): a pull of
their owner that brings nothing does not search the owner's history once per kept
record, and a search done once is not done again until the owner's branch moves. The
work is counted (record paths looked up in trees), never timed."""

from __future__ import annotations

from pathlib import Path

from conftest import clone_friend, git, make_repo
from test_sync import commit, contact, labels, ok, write

from jobshare_sync.deletions import OwnerBranches, late_deletions, load_kept
from jobshare_sync.store import Store

KEPT = 30  # records planted in carol's name, then deleted by bob: kept by alice
HISTORY = 40  # commits on carol's own line


def _planted(tmp_path: Path) -> tuple[Path, Path, Path]:
    """alice holds KEPT records that bob added in carol's name and then deleted: kept,
    since carol's branch never shows them. carol has HISTORY commits of her own."""
    alice = make_repo(tmp_path / "alice")
    write(alice, "contacts/seed", contact("seed"))
    commit(alice)
    bob = clone_friend(alice, tmp_path / "bob", "bob")
    carol = clone_friend(alice, tmp_path / "carol", "carol")
    for i in range(HISTORY):
        git("commit", "-q", "--allow-empty", "-m", f"carol {i}", cwd=carol)
    ok("friend", "add", "bob", str(bob), cwd=alice)
    ok("friend", "add", "carol", str(carol), cwd=alice)
    for n in range(KEPT):
        write(bob, f"contacts/p{n}", contact(f"p{n}", "carol"))
    commit(bob, "plant")
    ok("pull", "bob", cwd=alice)
    for n in range(KEPT):
        (bob / f"contacts/p{n}.yaml").unlink()
    commit(bob, "unplant")
    ok("pull", "bob", cwd=alice)
    assert len(load_kept(Store.open(alice))) == KEPT
    ok("fetch", "carol", cwd=alice)
    return alice, bob, carol


def _search(alice: Path) -> tuple[list[str], int]:
    """What a pull of carol finds of the kept deletions, and the tree look-ups it took."""
    store = Store.open(alice)
    owners = OwnerBranches(store, 2000)
    late = late_deletions(store, "carol", store.head_commit(), owners)
    return late, owners.lookups


def test_kept_deletions_are_searched_once_per_tip_of_their_owner(tmp_path: Path) -> None:
    alice, _, carol = _planted(tmp_path)
    late, first = _search(alice)
    assert late == [] and first >= KEPT * HISTORY  # the whole line, once
    late, again = _search(alice)
    assert late == [] and again == 0  # the branch did not move: nothing searched
    git("commit", "-q", "--allow-empty", "-m", "one more", cwd=carol)
    ok("fetch", "carol", cwd=alice)
    late, moved = _search(alice)
    assert late == [] and moved <= KEPT * 3  # only above the tip searched before
    ok("pull", "carol", cwd=alice)
    ok("pull", "carol", cwd=alice)
    assert {f"contacts/p{n}" for n in range(KEPT)} <= labels(alice)


def test_a_deletion_proven_above_a_searched_tip_still_applies(tmp_path: Path) -> None:
    """The search resumes where it stopped: carol now holds exactly the copy alice kept,
    then deletes it, and the next pull of carol removes it."""
    alice, _, carol = _planted(tmp_path)
    _search(alice)
    (carol / "contacts").mkdir(exist_ok=True)
    (carol / "contacts/p3.yaml").write_bytes((alice / "contacts/p3.yaml").read_bytes())
    commit(carol, "mine after all")
    (carol / "contacts/p3.yaml").unlink()
    commit(carol, "gone")
    ok("fetch", "carol", cwd=alice)
    late, _ = _search(alice)
    assert late == ["contacts/p3"]
    out = ok("pull", "carol", cwd=alice)
    assert "contacts/p3" not in labels(alice), out
    assert "contacts/p4" in labels(alice)
    late, again = _search(alice)
    assert late == [] and again == 0


def test_a_changed_copy_is_searched_again_in_full(tmp_path: Path) -> None:
    """What was remembered holds for the version searched: alice's own edit of a kept
    record is a new question (and a change made here without seeing a deletion stays)."""
    alice, _, _ = _planted(tmp_path)
    _search(alice)
    write(alice, "contacts/p5", contact("p5", "carol", location="Leeds"))
    commit(alice)
    late, lookups = _search(alice)
    assert late == [] and HISTORY <= lookups <= HISTORY * 3
