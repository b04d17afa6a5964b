"""A friend's branch is a claim about history and deletions: a relayed deletion never
removes a later edit, references survive a friend's deletion, and a referral's history
is append-only and written by its authors (DESIGN sections 3 and 6). Through the command
line over real repositories, and the pure steps directly."""

from __future__ import annotations

from pathlib import Path

from conftest import clone_friend, jobshare
from test_sync import T1, assert_clean, commit, conflicts_json, contact, edit, labels, ok, pair

from jobshare_sync.core.merge import AncestorOursTheirs, MergeResult, Notice, RecordMerge
from jobshare_sync.core.policy import apply_relayed_deletions

# --- a relayed deletion never removes a later edit ------------------------------------


def _three(tmp_path: Path) -> tuple[Path, Path, Path]:
    alice, bob = pair(tmp_path, contact("carols", "carol"))
    carol = clone_friend(alice, tmp_path / "carol", "carol")
    ok("friend", "add", "carol", str(carol), cwd=alice)
    ok("friend", "add", "carol", str(carol), cwd=bob)
    return alice, bob, carol


def test_a_relayed_deletion_meets_a_later_edit_as_a_conflict(tmp_path: Path) -> None:
    alice, bob, carol = _three(tmp_path)
    edit(alice, "contacts/carols", location="York", updated=T1)
    commit(alice)
    (carol / "contacts/carols.yaml").unlink()
    commit(carol)
    ok("pull", "carol", cwd=bob)  # bob applies carol's own deletion
    assert "contacts/carols" not in labels(bob)
    ok("fetch", "carol", cwd=alice)  # alice can see carol's branch: the deletion is proven
    relayed = jobshare("pull", "bob", cwd=alice)
    assert relayed.exit_code == 1, relayed.output
    assert [(c["label"], c["reason"]) for c in conflicts_json(alice)] == [
        ("contacts/carols", "modify-delete")
    ]
    ok("merge", "--abort", cwd=alice)
    # pulling the owner directly says the same
    direct = jobshare("pull", "carol", cwd=alice)
    assert direct.exit_code == 1, direct.output
    assert [(c["label"], c["reason"]) for c in conflicts_json(alice)] == [
        ("contacts/carols", "modify-delete")
    ]


def test_a_relayed_deletion_of_an_untouched_copy_still_applies(tmp_path: Path) -> None:
    alice, bob, carol = _three(tmp_path)
    (carol / "contacts/carols.yaml").unlink()
    commit(carol)
    ok("pull", "carol", cwd=bob)
    ok("fetch", "carol", cwd=alice)
    ok("pull", "bob", cwd=alice)
    assert "contacts/carols" not in labels(alice)
    assert_clean(alice)


def test_policy_turns_an_edit_since_the_deletion_into_a_conflict() -> None:
    def kept(label: str) -> RecordMerge:
        notice = Notice(label, "kept-deleted", f"{label}: kept")
        return RecordMerge(label, "unchanged", contact(label[-1], "carol"), None, [notice])

    result = MergeResult([kept("contacts/a"), kept("contacts/b"), kept("contacts/c")])
    versions = AncestorOursTheirs(contact("b", "carol"), contact("b", "carol", location="X"), None)
    apply_relayed_deletions(result, {"contacts/a"}, {"contacts/b": versions})
    outcomes = [(r.label, r.outcome) for r in result.records]
    assert outcomes == [
        ("contacts/a", "removed"),
        ("contacts/b", "conflict"),
        ("contacts/c", "unchanged"),
    ]
    [conflict] = result.conflicts
    assert conflict.reason == "modify-delete" and conflict.versions == versions
