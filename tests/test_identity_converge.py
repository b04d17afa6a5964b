"""core/identity/converge.py: a combine or rename travels by pull and meets every other change
without loss, and every repository settles on the same survivors.

Trees here are plain dicts (id -> record). `pull` is the merge a pull makes of them: the
contacts an alias touches through `merge_identities`, every other one through the
ordinary record merge, exactly as the pull's integration is meant to call them."""

from __future__ import annotations

import copy
import random
from typing import Any

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from jobshare_sync.core import identity, merge, mergebases, resolving, schema
from jobshare_sync.core.fieldmerge import AncestorOursTheirs as A
from jobshare_sync.core.records import Label

Tree = dict[str, dict[str, Any]]
RULES = schema.merge_rules("contacts")
T1, T2, T3, T4 = (f"2026-10-0{d}T09:00:00Z" for d in (2, 3, 4, 5))
SET_FIELDS = ("emails", "phones", "tags", "industries")


def contact(record_id: str, name: str, added_by: str = "alice", **fields: Any) -> dict[str, Any]:
    record = {
        "id": record_id,
        "kind": "agency",
        "name": name,
        "added_by": added_by,
        "updated": "2026-10-01T09:00:00Z",
    }
    return record | fields


class Pulled:
    def __init__(self, tree: Tree, result: merge.MergeResult, notices: list[merge.Notice]):
        self.tree, self.result, self.notices = tree, result, notices

    @property
    def conflicts(self) -> list[merge.RecordConflict]:
        return self.result.conflicts

    def said(self, kind: str) -> list[str]:
        return [n.message for n in self.notices if n.kind == kind]


def validate(label: str, record: dict[str, Any]) -> list[str]:
    return schema.record_errors(Label(*label.split("/")), record)


def pull(
    base: Tree, ours: Tree, theirs: Tree, handle: str = "bob", strategy: str | None = None
) -> Pulled:
    """Merge `theirs` into `ours` as a pull does (resolving conflicts by `strategy`)."""
    ids = set(base) | set(ours) | set(theirs)

    def versions(record_id: str) -> A[dict[str, Any] | None]:
        return A(base.get(record_id), ours.get(record_id), theirs.get(record_id))

    changed = {
        f"contacts/{i}": versions(i)
        for i in sorted(ids)
        if not (base.get(i) == ours.get(i) == theirs.get(i))
    }
    found = identity.merge_identities(
        changed,
        lookup=lambda label: versions(label.split("/")[1]),
        theirs_handle=handle,
        rules=RULES,
        region="GB",
        validate=validate,
    )
    rest = [(label, v) for label, v in changed.items() if label not in found.labels]
    plain = merge.merge_records(rest, lambda _: RULES, theirs_handle=handle, validate=validate)
    result = merge.MergeResult(found.records + plain.records)
    tree = copy.deepcopy(ours)
    for record in result.records:
        record_id = record.label.split("/")[1]
        if record.conflict is not None:
            if strategy is None:
                continue
            record.result = resolving.resolve_by_strategy(record.conflict, strategy)
        if record.result is None:
            tree.pop(record_id, None)
        else:
            tree[record_id] = copy.deepcopy(record.result)
    for record_id, record in tree.items():
        assert validate(f"contacts/{record_id}", record) == [], record
    return Pulled(tree, result, found.notices + plain.notices)


def normal(tree: Tree) -> Tree:
    """A tree with set fields in key order: two pulls in opposite directions may list the
    items of a set in another order (ours first), never other items."""
    out = copy.deepcopy(tree)
    for record in out.values():
        for name in SET_FIELDS:
            if name in record:
                record[name] = sorted(record[name], key=lambda v: identity.value_key(name, v, "GB"))
    return out


def both_ways(base: Tree, alice: Tree, bob: Tree) -> Tree:
    """Alice pulls bob and bob pulls alice: the same records, no conflict. Returns alice's."""
    at_alice, at_bob = pull(base, alice, bob, "bob"), pull(base, bob, alice, "alice")
    assert at_alice.conflicts == [] and at_bob.conflicts == []
    assert normal(at_alice.tree) == normal(at_bob.tree)
    # pulling again changes nothing (each friend pulls the other's merge)
    assert normal(pull(bob, at_alice.tree, bob).tree) == normal(at_alice.tree)
    assert normal(pull(alice, alice, at_alice.tree).tree) == normal(at_alice.tree)
    return at_alice.tree


def combined(tree: Tree, keep: str, other: str, by: str, at: str, **chosen: Any) -> Tree:
    """`jobshare combine KEEP OTHER` in one repository."""
    out = copy.deepcopy(tree)
    result = identity.combine(out[keep], [out[other]], chosen, region="GB", updated=at)
    out[keep] = result.record
    out[other] = identity.make_alias(out[other], keep, by=by, at=at)
    return out


def renamed(tree: Tree, old: str, new: str, by: str, at: str) -> Tree:
    out = copy.deepcopy(tree)
    out[new], out[old] = identity.rename(out[old], new, by=by, at=at)
    return out


def edited(tree: Tree, record_id: str, **fields: Any) -> Tree:
    out = copy.deepcopy(tree)
    out[record_id] = out[record_id] | fields
    return out


def own_line(record: dict[str, Any], line: str) -> str:
    """The record's notes with a line added to its own text (before the sections)."""
    notes = identity.split_notes(record.get("notes"))
    return identity.join_notes(notes.own + line + "\n", notes.sections.values())


BASE: Tree = {
    "acme-a": contact(
        "acme-a", "Acme Recruiting", emails=["jobs@acme.example"], notes="Ask for Dana.\n"
    ),
    "acme-b": contact(
        "acme-b",
        "ACME Recruiting Ltd",
        "bob",
        phones=["+44 20 7946 0000"],
        role="Tech desk",
        notes="Pays on time.\n",
    ),
    "acme-c": contact("acme-c", "Acme", "carol", emails=["hello@acme.example"], notes="C.\n"),
    "other": contact("other", "Globex", "bob", notes="Unrelated.\n"),
}


def lines(tree: Tree) -> set[str]:
    """Every note line of every record that is no alias."""
    return {
        x
        for r in tree.values()
        if not identity.is_alias(r)
        for x in str(r.get("notes", "")).splitlines()
        if x.strip() and not identity.notes.HEADER_RE.match(x)
    }


def keys(tree: Tree, name: str) -> set[str]:
    return {
        identity.value_key(name, v, "GB")
        for r in tree.values()
        if not identity.is_alias(r)
        for v in r.get(name, [])
    }


def survivors(tree: Tree) -> dict[str, str]:
    return {i: identity.resolve(i, tree) for i in sorted(tree)}


# --- the cases ------------------------------------------------------------------------------


def test_a_tree_without_aliases_is_left_to_the_ordinary_merge() -> None:
    bob = edited(BASE, "acme-a", role="Desk")
    changed = {"contacts/acme-a": A(BASE["acme-a"], BASE["acme-a"], bob["acme-a"])}
    assert identity.merge_identities(changed, theirs_handle="bob").records == []


def test_edits_to_the_other_made_before_pulling_the_combine_are_carried() -> None:
    """alice combines acme-b into acme-a; bob, who has not pulled it, adds a phone and a
    note to acme-b and changes its role. Each pulls the other: one survivor with all of it,
    acme-b an alias, no delete/modify conflict."""
    alice = combined(BASE, "acme-a", "acme-b", "alice", T2)
    bob = edited(
        BASE,
        "acme-b",
        phones=["+44 20 7946 0000", "+44 20 7946 0001"],
        notes="Pays on time.\nSam took over from Dana.\n",
        role="Senior desk",
        updated=T3,
    )
    tree = both_ways(BASE, alice, bob)
    survivor = tree["acme-a"]
    assert tree["acme-b"] == alice["acme-b"]
    assert survivor["phones"] == ["+44 20 7946 0000", "+44 20 7946 0001"]
    assert survivor["role"] == "Senior desk" and survivor["updated"] == T3
    assert survivor["notes"] == (
        "Ask for Dana.\n\n"
        "From contacts/acme-b (added by bob):\nPays on time.\nSam took over from Dana.\n"
    )
    at_bob = pull(BASE, bob, alice, "alice")
    assert "combined contacts/acme-b into contacts/acme-a (by alice)" in at_bob.said("combined")
    assert at_bob.said("carried") == ["contacts/acme-a: carried the edits of contacts/acme-b"]


def test_an_edit_the_survivor_cannot_take_is_reported_not_lost() -> None:
    alice = combined(BASE, "acme-a", "acme-b", "alice", T2)  # keeps acme-a's name
    bob = edited(BASE, "acme-b", name="Acme Recruiting Group")
    at_alice = pull(BASE, alice, bob)
    assert at_alice.tree["acme-a"]["name"] == "Acme Recruiting"
    assert at_alice.said("not-taken") == [
        "contacts/acme-a: kept name 'Acme Recruiting'; the edit of contacts/acme-b to "
        "'Acme Recruiting Group' is not taken"
    ]
    assert at_alice.conflicts == []


def test_edits_to_the_survivor_meet_the_combine_field_by_field() -> None:
    alice = combined(BASE, "acme-a", "acme-b", "alice", T2)
    bob = edited(BASE, "acme-a", location="Leeds", emails=["jobs@acme.example", "x@acme.example"])
    tree = both_ways(BASE, alice, bob)
    assert tree["acme-a"]["location"] == "Leeds"
    assert tree["acme-a"]["emails"] == ["jobs@acme.example", "x@acme.example"]
    assert tree["acme-a"]["phones"] == ["+44 20 7946 0000"]


@pytest.mark.parametrize("first", ["alice", "bob"])
def test_opposite_combines_at_once_settle_on_the_earlier(first: str) -> None:
    """alice keeps acme-a, bob keeps acme-b, at the same time. The earlier combine stands,
    whoever pulls first; the later one is undone and its notes and values survive."""
    alice_at, bob_at = (T2, T3) if first == "alice" else (T3, T2)
    alice = combined(BASE, "acme-a", "acme-b", "alice", alice_at)
    bob = combined(BASE, "acme-b", "acme-a", "bob", bob_at)
    bob = edited(bob, "acme-b", tags=["remote"])
    tree = both_ways(BASE, alice, bob)
    keep, other = ("acme-a", "acme-b") if first == "alice" else ("acme-b", "acme-a")
    assert identity.is_alias(tree[other]) and tree[other]["alias_of"] == keep
    assert not identity.is_alias(tree[keep])
    assert keys(tree, "emails") == {"jobs@acme.example", "hello@acme.example"}
    assert keys(tree, "tags") == {"remote"}
    assert lines(tree) == {"Ask for Dana.", "Pays on time.", "C.", "Unrelated."}
    notes = identity.split_notes(tree[keep]["notes"])
    assert list(notes.sections) == [other]  # no section of the survivor inside itself
    undone = pull(BASE, alice, bob).said("alias-undone")
    assert len(undone) == 1 and f"contacts/{keep} stays" in undone[0]


def test_a_chain_made_in_two_places_ends_at_one_survivor() -> None:
    """alice combines acme-a into acme-b while carol combines acme-b into acme-c."""
    alice = combined(BASE, "acme-b", "acme-a", "alice", T2)
    alice = edited(alice, "acme-b", notes=own_line(alice["acme-b"], "Alice was here."))
    carol = combined(BASE, "acme-c", "acme-b", "carol", T3)
    tree = both_ways(BASE, alice, carol)
    assert survivors(tree)["acme-a"] == survivors(tree)["acme-b"] == "acme-c"
    assert keys(tree, "emails") == {"jobs@acme.example", "hello@acme.example"}
    assert keys(tree, "phones") == {"+442079460000"}
    sections = identity.split_notes(tree["acme-c"]["notes"]).sections
    assert sections["acme-a"].text == "Ask for Dana.\n"
    assert sections["acme-b"].text == "Pays on time.\nAlice was here.\n"
    assert "Alice was here." not in tree["acme-c"]["notes"].split("From contacts/")[0]


def test_a_cycle_of_three_is_broken_at_its_latest_alias() -> None:
    """Here acme-b was combined into acme-c, then acme-c into acme-a; there acme-a into
    acme-b. The latest (acme-c into acme-a) is undone: acme-c survives."""
    here = combined(BASE, "acme-c", "acme-b", "carol", T2)
    here = combined(here, "acme-a", "acme-c", "carol", T4)
    there = combined(BASE, "acme-b", "acme-a", "bob", T3)
    tree = both_ways(BASE, here, there)
    assert {survivors(tree)[i] for i in ("acme-a", "acme-b", "acme-c")} == {"acme-c"}
    assert lines(tree) == {"Ask for Dana.", "Pays on time.", "C.", "Unrelated."}
    assert keys(tree, "emails") == {"jobs@acme.example", "hello@acme.example"}


def test_the_same_combine_made_twice_meets_cleanly() -> None:
    """alice and bob both combine acme-b into acme-a; bob had added a note to acme-b
    first. One alias (the earlier), one survivor with bob's note, no conflict."""
    alice = combined(BASE, "acme-a", "acme-b", "alice", T2)
    bob = edited(BASE, "acme-b", notes="Pays on time.\nBob's note.\n")
    bob = combined(bob, "acme-a", "acme-b", "bob", T3)
    tree = both_ways(BASE, alice, bob)
    assert tree["acme-b"] == alice["acme-b"]  # the earlier alias record
    assert identity.split_notes(tree["acme-a"]["notes"]).sections["acme-b"].text == (
        "Pays on time.\nBob's note.\n"
    )


def test_two_records_combined_into_one_survivor_in_two_places() -> None:
    alice = combined(BASE, "acme-a", "acme-b", "alice", T2)
    carol = combined(BASE, "acme-a", "acme-c", "carol", T3)
    tree = both_ways(BASE, alice, carol)
    assert survivors(tree) == {
        "acme-a": "acme-a",
        "acme-b": "acme-a",
        "acme-c": "acme-a",
        "other": "other",
    }
    assert tree["acme-a"]["notes"] == (
        "Ask for Dana.\n\n"
        "From contacts/acme-b (added by bob):\nPays on time.\n\n"
        "From contacts/acme-c (added by carol):\nC.\n"
    )


def test_one_record_combined_into_two_survivors_keeps_the_earlier() -> None:
    alice = combined(BASE, "acme-a", "acme-b", "alice", T2)
    carol = combined(BASE, "acme-c", "acme-b", "carol", T3)
    tree = both_ways(BASE, alice, carol)
    assert tree["acme-b"]["alias_of"] == "acme-a"
    # acme-c keeps what it took in: nothing lost, and a duplicate left to combine by hand
    assert "Pays on time." in tree["acme-c"]["notes"]
    assert pull(BASE, carol, alice).said("alias-passed-over")


def test_an_alias_is_never_removed_by_a_pull() -> None:
    alice = combined(BASE, "acme-a", "acme-b", "alice", T2)
    bob = {k: v for k, v in alice.items() if k != "acme-b"}  # bob deletes the alias by hand
    at_alice = pull(alice, alice, bob)
    assert at_alice.tree["acme-b"] == alice["acme-b"]
    assert at_alice.said("kept-alias")
    # and the owner deleting a record that someone combined does not undo the combine
    owner = {k: v for k, v in BASE.items() if k != "acme-b"}  # bob added acme-b
    at_alice = pull(BASE, alice, owner)
    assert identity.is_alias(at_alice.tree["acme-b"]) and at_alice.conflicts == []
    assert at_alice.tree["acme-a"] == alice["acme-a"]


def test_a_rename_carries_edits_made_to_the_old_id() -> None:
    alice = renamed(BASE, "acme-b", "acme-recruiting-b", "alice", T2)
    bob = edited(BASE, "acme-b", notes="Pays on time.\nNew note.\n", tags=["python"])
    tree = both_ways(BASE, alice, bob)
    new = tree["acme-recruiting-b"]
    assert new["notes"] == "Pays on time.\nNew note.\n"  # still its own notes, no section
    assert new["tags"] == ["python"] and new["added_by"] == "bob"
    assert survivors(tree)["acme-b"] == "acme-recruiting-b"


def test_two_renames_of_one_record_keep_one_record() -> None:
    alice = renamed(BASE, "acme-b", "acme-b-alice", "alice", T2)
    bob = renamed(BASE, "acme-b", "acme-b-bob", "bob", T3)
    bob = edited(bob, "acme-b-bob", emails=["b@acme.example"])
    tree = both_ways(BASE, alice, bob)
    assert survivors(tree)["acme-b"] == survivors(tree)["acme-b-bob"] == "acme-b-alice"
    assert tree["acme-b-bob"]["alias_reason"] == "renamed"
    assert tree["acme-b-alice"]["emails"] == ["b@acme.example"]
    assert tree["acme-b-alice"]["notes"] == "Pays on time.\n"


def test_a_rename_and_a_combine_of_one_record() -> None:
    alice = renamed(BASE, "acme-b", "acme-b-new", "alice", T2)
    bob = combined(BASE, "acme-a", "acme-b", "bob", T3)
    tree = both_ways(BASE, alice, bob)
    assert survivors(tree)["acme-b"] == "acme-b-new"
    assert lines(tree) >= {"Ask for Dana.", "Pays on time."}
    assert keys(tree, "phones") == {"+442079460000"}


def test_a_real_conflict_on_a_survivor_is_still_one() -> None:
    """Two people change the same field of the survivor: that is a conflict, and its best
    efforts carry the edits made to the other record."""
    alice = edited(combined(BASE, "acme-a", "acme-b", "alice", T2), "acme-a", location="York")
    bob = edited(edited(BASE, "acme-a", location="Leeds"), "acme-b", tags=["python"])
    at_alice = pull(BASE, alice, bob)
    assert [(c.label, [f.field for f in c.fields]) for c in at_alice.conflicts] == [
        ("contacts/acme-a", ["location"])
    ]
    conflict = at_alice.conflicts[0]
    assert conflict.merged is not None and conflict.merged["tags"] == ["python"]
    assert conflict.merged_theirs is not None and conflict.merged_theirs["tags"] == ["python"]


# --- properties ---------------------------------------------------------------------------

PEOPLE = ("alice", "bob")


@st.composite
def histories(draw: st.DrawFn) -> tuple[Tree, Tree, Tree]:
    """A base of a few contacts and two friends who each, without the other, edit, combine
    and rename some of them (each edits their own fields, so no conflict is genuine)."""
    base: Tree = {}
    for n in range(draw(st.integers(2, 4))):
        record_id = f"src-{n}"
        base[record_id] = contact(
            record_id,
            f"Source {n}",
            draw(st.sampled_from(PEOPLE)),
            emails=[f"s{n}@x.example"],
            phones=[f"+44 20 7946 00{n:02d}"],
            notes=f"Base note {n}.\n",
        )
    sides = []
    for who, person in enumerate(PEOPLE):
        tree = copy.deepcopy(base)
        for step in range(draw(st.integers(0, 4))):
            live = sorted(i for i, r in tree.items() if not identity.is_alias(r))
            at = f"2026-10-0{step + 2}T09:00:0{who}Z"
            action = draw(st.sampled_from(["edit", "combine", "rename"]))
            if action == "combine" and len(live) >= 2:
                keep, other = draw(st.permutations(live))[:2]
                tree = combined(tree, keep, other, person, at)
            elif action == "rename":
                old = draw(st.sampled_from(live))
                tree = renamed(tree, old, f"{old}-{person[0]}{step}", person, at)
            else:
                record_id = draw(st.sampled_from(live))
                record = tree[record_id]
                notes = identity.split_notes(record.get("notes"))
                line = f"{person} {step}.\n"
                own = line + notes.own if person == "alice" else notes.own + line
                field = "location" if person == "alice" else "role"
                tree[record_id] = record | {
                    "emails": [*record.get("emails", []), f"{person}{step}@y.example"],
                    field: f"{person} {step}",
                    "notes": identity.join_notes(own, notes.sections.values()),
                    "updated": at,
                }
        sides.append(tree)
    return base, sides[0], sides[1]


@settings(max_examples=300, deadline=None)
@given(history=histories())
def test_any_two_histories_merge_alike_both_ways_and_lose_nothing(
    history: tuple[Tree, Tree, Tree],
) -> None:
    base, alice, bob = history
    for name, side in (("alice", alice), ("bob", bob)):
        reasons = sorted({r["alias_reason"] for r in side.values() if identity.is_alias(r)})
        event(f"{name}: {', '.join(reasons) or 'edits only'}")
    tree = both_ways(base, alice, bob)
    # nothing lost: every email, phone and note line of any version is in some survivor
    for name in ("emails", "phones"):
        assert keys(base, name) | keys(alice, name) | keys(bob, name) <= keys(tree, name)
    assert lines(base) | lines(alice) | lines(bob) <= lines(tree)
    # every alias of either side is still an alias, and every id leads to a record
    for side in (alice, bob):
        for record_id, record in side.items():
            if identity.is_alias(record):
                assert identity.is_alias(tree[record_id]) or record_id in {
                    a for a in tree if not identity.is_alias(tree[a])
                }
    for record_id, survivor in survivors(tree).items():
        assert survivor in tree and not identity.is_alias(tree[survivor]), record_id


@pytest.mark.parametrize("seed", range(60))
def test_histories_of_combines_and_renames_only(seed: int) -> None:
    """Seeded histories where each friend makes three combines or renames: many chains,
    cycles and twin renames at once."""
    base, alice, bob = _draw(random.Random(seed))
    tree = both_ways(base, alice, bob)
    assert lines(base) | lines(alice) | lines(bob) <= lines(tree)
    for record_id, survivor in survivors(tree).items():
        assert survivor in tree and not identity.is_alias(tree[survivor]), record_id


def _draw(rng: random.Random) -> tuple[Tree, Tree, Tree]:
    base = {f"src-{n}": contact(f"src-{n}", f"Source {n}", notes=f"N{n}.\n") for n in range(3)}
    sides = []
    for who, person in enumerate(PEOPLE):
        tree = copy.deepcopy(base)
        for step in range(3):
            live = sorted(i for i, r in tree.items() if not identity.is_alias(r))
            at = f"2026-10-0{step + 2}T09:00:0{who}Z"
            if rng.random() < 0.5 and len(live) >= 2:
                keep, other = rng.sample(live, 2)
                tree = combined(tree, keep, other, person, at)
            else:
                old = rng.choice(live)
                tree = renamed(tree, old, f"{old}-{person[0]}{step}", person, at)
        sides.append(tree)
    return base, sides[0], sides[1]


# --- a network of friends, in memory -------------------------------------------------------


class Network:
    """Friends as chains of commits (tree, parents); a pull merges with the merge bases
    git would find (several of them after criss-cross merges: a virtual base)."""

    FIELDS = {"alice": "location", "bob": "role", "carol": "organization", "dave": "website"}

    def __init__(self, people: list[str], seed: int):
        self.rng = random.Random(seed)
        self.people = people
        self.commits: list[tuple[Tree, tuple[int, ...]]] = [({}, ())]
        self.head = dict.fromkeys(people, 0)
        self.clock = 0
        self.conflicts: list[merge.RecordConflict] = []

    def tree(self, person: str) -> Tree:
        return self.commits[self.head[person]][0]

    def commit(self, person: str, tree: Tree, *parents: int) -> None:
        self.commits.append((tree, parents or (self.head[person],)))
        self.head[person] = len(self.commits) - 1

    def ancestors(self, start: int) -> set[int]:
        seen, todo = set(), [start]
        while todo:
            if (c := todo.pop()) not in seen:
                seen.add(c)
                todo += self.commits[c][1]
        return seen

    def now(self) -> str:
        self.clock += 1
        return f"2026-11-01T00:{self.clock // 60:02d}:{self.clock % 60:02d}Z"

    def pull(self, person: str, friend: str) -> None:
        ours, theirs = self.head[person], self.head[friend]
        mine, yours = self.ancestors(ours), self.ancestors(theirs)
        if theirs in mine:
            return
        if ours in yours:
            self.head[person] = theirs
            return
        common = mine & yours
        best = [c for c in common if not any(c in self.ancestors(o) - {o} for o in common)]
        trees = [self.commits[c][0] for c in sorted(best)]
        if len(trees) == 1:
            base: dict[str, Any] = trees[0]
        else:
            virtual = mergebases.merge_bases(trees, lambda _: RULES)
            base = {k: v for k, v in virtual.items() if v is not None}
        pulled = pull(base, self.tree(person), self.tree(friend), friend, "newest")
        self.conflicts += pulled.conflicts
        self.commit(person, pulled.tree, ours, theirs)

    def act(self, person: str) -> None:
        tree = copy.deepcopy(self.tree(person))
        live = sorted(i for i, r in tree.items() if not identity.is_alias(r))
        action = self.rng.choice(["add", "add", "edit", "edit", "combine", "rename"])
        at = self.now()
        n = self.clock
        if action == "add" or len(live) < 2:
            source = self.rng.randrange(12)
            record_id = f"s{source}-{person}{n}"
            tree[record_id] = contact(
                record_id,
                f"Source {source}",
                person,
                emails=[f"{person}{n}@s{source}.example"],
                notes=f"{person} met source {source} ({n}).\n",
                updated=at,
            )
        elif action == "combine":
            keep, other = self.rng.sample(live, 2)
            tree = combined(tree, keep, other, person, at)
        elif action == "rename" and len(live[0]) < 40:
            old = self.rng.choice(live)
            tree = renamed(tree, old, f"{old[:20]}-r{person[0]}{n}", person, at)
        else:
            record_id = self.rng.choice(live)
            record = tree[record_id]
            change = {
                "phones": [*record.get("phones", []), f"+44 20 7946 {n:04d}"],
                self.FIELDS[person]: (
                    f"https://{person}{n}.example" if person == "dave" else f"{person} {n}"
                ),
                "updated": at,
            }
            if person == "alice":  # one writer of note lines: no genuine text conflict
                change["notes"] = own_line(record, f"alice noted {n}.")
            tree[record_id] = record | change
        self.commit(person, tree)

    def run(self, rounds: int) -> None:
        for _ in range(rounds):
            person = self.rng.choice(self.people)
            if self.rng.random() < 0.5:
                self.act(person)
            else:
                self.pull(person, self.rng.choice([p for p in self.people if p != person]))
        for _ in range(2):  # then everyone pulls everyone
            for person in self.people:
                for friend in self.people:
                    if friend != person:
                        self.pull(person, friend)


@pytest.mark.parametrize("seed", range(12))
def test_a_network_of_friends_converges_on_the_same_survivors(seed: int) -> None:
    network = Network(["alice", "bob", "carol", "dave"], seed)
    network.run(60)
    # Each friend edits fields of their own, but a combine fills a field its survivor lacks
    # from the other record: met with an edit of that field made at the same time, that is
    # two values for one field, a conflict anyone would call real (resolved as newest).
    # Nothing else conflicts: no notes, sets, aliases, deletions.
    for conflict in network.conflicts:
        assert conflict.reason == "both-modified", conflict
        assert {f.field for f in conflict.fields} <= set(Network.FIELDS.values()), conflict
    final = [normal(network.tree(p)) for p in network.people]
    assert all(tree == final[0] for tree in final)
    ever = [tree for tree, _ in network.commits]
    tree = final[0]
    for name in ("emails", "phones"):
        assert set().union(*(keys(t, name) for t in ever)) <= keys(tree, name)
    assert set().union(*(lines(t) for t in ever)) <= lines(tree)
    for record_id, survivor in survivors(tree).items():
        assert survivor in tree and not identity.is_alias(tree[survivor]), record_id
