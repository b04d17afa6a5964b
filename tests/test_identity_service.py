"""duplicates, combine, rename and aliases through the command line, over real
repositories; friends over file paths (jobshare_sync/identity.py, and the pull's
identity merge in core/policy.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from conftest import clone_friend, git, jobshare, make_repo
from test_sync import commit, contact, edit, ok, pull_ok, read, write

from jobshare_sync.core import identity


def two_friends(tmp_path: Path, *seed: dict[str, Any]) -> tuple[Path, Path]:
    """alice with `seed` committed, and bob a clone of her; each the other's friend."""
    alice = make_repo(tmp_path / "alice")
    for data in seed:
        write(alice, f"contacts/{data['id']}", data)
    if seed:
        commit(alice, "seed")
    bob = clone_friend(alice, tmp_path / "bob", "bob")
    ok("friend", "add", "bob", str(bob), cwd=alice)
    ok("friend", "add", "alice", str(alice), cwd=bob)
    return alice, bob


ACME_A = contact(
    "acme-a",
    name="Acme Recruiting",
    emails=["jobs@acme.example"],
    notes="Ask for Dana.\n",
)
ACME_B = contact(
    "acme-b",
    added_by="bob",
    name="ACME Recruiting Ltd",
    kind="recruiter",
    emails=["Jobs@Acme.example", "dana@acme.example"],
    phones=["+44 20 7946 0000"],
    notes="Pays on time.\n",
)
OTHER = contact("beta-works", name="Beta Works", emails=["hello@beta.example"])


def contacts_of(repo: Path) -> dict[str, dict[str, Any]]:
    return {p.stem: read(repo, f"contacts/{p.stem}") for p in (repo / "contacts").glob("*.yaml")}


def normal(tree: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Set fields in key order: two merges may list a set's items in another order."""
    out = json.loads(json.dumps(tree))
    for record in out.values():
        for name in ("emails", "phones", "tags", "industries"):
            if name in record:
                record[name] = sorted(record[name], key=lambda v: identity.value_key(name, v))
    return out


def test_duplicates_lists_the_pair_with_reasons_and_json(repo: Path) -> None:
    for data in (ACME_A, ACME_B, OTHER):
        write(repo, f"contacts/{data['id']}", data)
    commit(repo)
    out = ok("duplicates", cwd=repo)
    assert "contacts/acme-a  contacts/acme-b" in out
    assert "emails: 'jobs@acme.example' / 'Jobs@Acme.example'" in out
    assert "beta-works" not in out
    groups = json.loads(ok("duplicates", "--json", cwd=repo))["jobshare.duplicates/v1"]
    assert [g["ids"] for g in groups] == [["acme-a", "acme-b"]]
    assert ok("duplicates", "beta-works", cwd=repo).strip() == "no likely duplicates"
    assert "acme-a" in ok("duplicates", "acme-b", cwd=repo)
    high = json.loads(ok("duplicates", "--json", "--min-score", "1", cwd=repo))
    assert high["jobshare.duplicates/v1"] == []


def test_combine_keeps_everything_and_leaves_an_alias(repo: Path) -> None:
    for data in (ACME_A, ACME_B, OTHER):
        write(repo, f"contacts/{data['id']}", data)
    commit(repo)
    before = git("rev-parse", "HEAD", cwd=repo)
    dry = ok("combine", "acme-a", "acme-b", "--dry-run", cwd=repo)
    assert "dana@acme.example" in dry and "(dry run) Combine 2 contacts" in dry
    assert git("rev-parse", "HEAD", cwd=repo) == before
    assert "alias_of" not in read(repo, "contacts/acme-b")

    out = ok("combine", "acme-a", "acme-b", "--field", "kind=recruiter", cwd=repo)
    assert out.startswith("Combine 2 contacts into contacts/acme-a in commit ")
    kept = read(repo, "contacts/acme-a")
    assert kept["kind"] == "recruiter" and kept["name"] == "Acme Recruiting"
    assert kept["emails"] == ["jobs@acme.example", "dana@acme.example"]
    assert kept["phones"] == ["+44 20 7946 0000"]
    assert "Ask for Dana." in kept["notes"] and "Pays on time." in kept["notes"]
    assert "From contacts/acme-b (added by bob):" in kept["notes"]
    alias = read(repo, "contacts/acme-b")
    assert alias["alias_of"] == "acme-a" and alias["alias_reason"] == "combined"
    assert alias["alias_by"] == "alice" and alias["added_by"] == "bob"
    message = git("log", "-1", "--format=%B", cwd=repo)
    assert message.startswith("Combine 2 contacts into contacts/acme-a\n")
    assert "name: took 'Acme Recruiting' (contacts/acme-a); not taken: 'ACME Recruiting Ltd'" in (
        message
    )
    assert git("status", "--porcelain", cwd=repo) == ""
    # the alias leads to the survivor everywhere a label is taken
    shown = jobshare("show", "acme-b", cwd=repo)
    assert shown.stdout.startswith("contacts/acme-a  Acme Recruiting")
    assert "is an alias of contacts/acme-a" in shown.stderr
    listed = ok("list", cwd=repo)
    assert "contacts/acme-a" in listed and "acme-b" not in listed
    ok("refer", "acme-b", "--to", "anyone", "--title", "Data engineer", cwd=repo)
    referral = next((repo / "referrals").glob("*.yaml"))
    assert "client: acme-a" in referral.read_text()
    assert jobshare("validate", cwd=repo).exit_code == 0
    assert "acme-a" not in ok("duplicates", cwd=repo)
    # an alias and its survivor stay
    assert jobshare("rm", "contacts/acme-b", cwd=repo).exit_code == 6
    refused = jobshare("rm", "acme-a", cwd=repo)
    assert refused.exit_code == 6 and "holds contacts/acme-b" in refused.stderr
    # combining an alias again, or a record with itself, is refused in one line
    assert jobshare("combine", "acme-a", "acme-a", cwd=repo).exit_code == 7
    assert jobshare("combine", "beta-works", "acme-b", cwd=repo).exit_code == 0
    assert read(repo, "contacts/acme-a")["alias_of"] == "beta-works"
    assert ok("show", "acme-b", "--json", cwd=repo).count('"id": "beta-works"') == 1


def test_edit_of_an_alias_edits_its_survivor(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for data in (ACME_A, ACME_B):
        write(repo, f"contacts/{data['id']}", data)
    commit(repo)
    ok("combine", "acme-a", "acme-b", cwd=repo)
    script = repo.parent / "editor.py"
    script.write_text(
        "import sys\np = sys.argv[1]\nt = open(p).read()\n"
        "open(p, 'w').write(t.replace('role', 'x') + 'role: Hiring lead\\n')\n"
    )
    monkeypatch.setenv("EDITOR", f"python3 {script}")
    ok("edit", "acme-b", cwd=repo)
    assert read(repo, "contacts/acme-a")["role"] == "Hiring lead"
    assert "role" not in read(repo, "contacts/acme-b")


def test_rename_leaves_an_alias_that_a_friend_follows(tmp_path: Path) -> None:
    alice, bob = two_friends(tmp_path, ACME_A)
    out = ok("rename", "acme-a", "acme-recruiting", cwd=alice)
    assert out.startswith("Renamed contacts/acme-a to contacts/acme-recruiting")
    assert read(alice, "contacts/acme-a")["alias_reason"] == "renamed"
    assert jobshare("rename", "acme-recruiting", "Bad Id", cwd=alice).exit_code == 6
    # bob added a phone to the old id meanwhile: it follows the record
    edit(bob, "contacts/acme-a", phones=["+44 20 7946 0999"])
    commit(bob)
    pull_ok(bob)
    assert read(bob, "contacts/acme-recruiting")["phones"] == ["+44 20 7946 0999"]
    assert read(bob, "contacts/acme-a")["alias_of"] == "acme-recruiting"
    pull_ok(alice)
    assert normal(contacts_of(alice)) == normal(contacts_of(bob))


def test_a_friend_pulls_a_combine_and_keeps_their_own_edits(tmp_path: Path) -> None:
    alice, bob = two_friends(tmp_path, ACME_A, ACME_B)
    ok("combine", "acme-a", "acme-b", cwd=alice)
    # before pulling it, bob adds a phone and a note to the record alice combined
    edit(
        bob,
        "contacts/acme-b",
        phones=["+44 20 7946 0000", "+44 20 7946 0123"],
        notes="Pays on time.\nNew office in Leeds.\n",
    )
    commit(bob)
    preview = ok("incoming", "alice", cwd=bob)
    assert "combined contacts/acme-b into contacts/acme-a (by alice)" in preview
    out = pull_ok(bob, "alice")
    assert "combined contacts/acme-b into contacts/acme-a (by alice)" in out
    # a note on what the pull did, not a change of alice's refused
    assert "  note     combined contacts/acme-b into contacts/acme-a (by alice)" in out
    assert "refused" not in out
    kept = read(bob, "contacts/acme-a")
    assert "+44 20 7946 0123" in kept["phones"]
    assert "New office in Leeds." in kept["notes"]
    assert read(bob, "contacts/acme-b")["alias_of"] == "acme-a"
    pull_ok(alice)
    assert normal(contacts_of(alice)) == normal(contacts_of(bob))
    assert jobshare("validate", cwd=alice).exit_code == 0


def test_combines_in_opposite_directions_converge(tmp_path: Path) -> None:
    alice, bob = two_friends(tmp_path, ACME_A, ACME_B, OTHER)
    ok("combine", "acme-a", "acme-b", cwd=alice)
    ok("combine", "acme-b", "acme-a", cwd=bob)
    pull_ok(alice)
    pull_ok(bob)
    pull_ok(alice)
    pull_ok(bob)
    at_alice, at_bob = contacts_of(alice), contacts_of(bob)
    assert normal(at_alice) == normal(at_bob)
    aliases = [i for i, r in at_alice.items() if identity.is_alias(r)]
    assert len(aliases) == 1  # one survivor, the other leads to it
    survivor = at_alice[at_alice[aliases[0]]["alias_of"]]
    assert {"jobs@acme.example", "dana@acme.example"} <= {e.lower() for e in survivor["emails"]}
    assert "Ask for Dana." in survivor["notes"] and "Pays on time." in survivor["notes"]
    assert jobshare("validate", cwd=alice).exit_code == 0


def test_an_alias_is_never_removed_by_a_pull(tmp_path: Path) -> None:
    alice, bob = two_friends(tmp_path, ACME_A, ACME_B)
    ok("combine", "acme-a", "acme-b", cwd=alice)
    pull_ok(bob)
    git("rm", "-q", "contacts/acme-b.yaml", cwd=bob)
    git("commit", "-qm", "drop the alias", cwd=bob)
    pulled = jobshare("pull", cwd=alice)
    assert pulled.exit_code == 0 and "CONFLICT" not in pulled.output, pulled.output
    assert "contacts/acme-b: kept; bob deleted it, but an alias is never removed" in pulled.stdout
    assert read(alice, "contacts/acme-b")["alias_of"] == "acme-a"


def test_validate_warns_from_the_matcher_and_checks_aliases(repo: Path) -> None:
    for data in (ACME_A, ACME_B, OTHER):
        write(repo, f"contacts/{data['id']}", data)
    commit(repo)
    out = jobshare("validate", cwd=repo)
    assert out.exit_code == 0
    # the same matcher as `duplicates`: one warning for the pair, on the line of the value
    line = (repo / "contacts/acme-b.yaml").read_text().splitlines().index("- Jobs@Acme.example")
    assert (
        f"contacts/acme-b.yaml:{line + 1}: emails.0: warning: likely duplicate of "
        "contacts/acme-a: same email 'jobs@acme.example'"
    ) in out.stdout
    assert out.stdout.count("likely duplicate") == 1
    ok("combine", "acme-a", "acme-b", cwd=repo)
    assert "likely duplicate" not in ok("validate", cwd=repo)
    # an alias leading nowhere is an error
    git("rm", "-q", "contacts/acme-a.yaml", cwd=repo)
    bad = jobshare("validate", cwd=repo)
    assert bad.exit_code == 1
    assert "contacts/acme-b.yaml: alias_of: alias_of 'acme-a' names no contact" in bad.stdout
    assert jobshare("show", "acme-b", cwd=repo).exit_code == 7


def test_log_of_an_alias_follows_it_into_its_survivor(repo: Path) -> None:
    for data in (ACME_A, ACME_B):
        write(repo, f"contacts/{data['id']}", data)
    commit(repo, "seed both")
    edit(repo, "contacts/acme-a", role="Before the combine")
    commit(repo, "an edit of acme-a alone")
    edit(repo, "contacts/acme-b", role="Talent partner")
    commit(repo, "an edit of acme-b")
    ok("combine", "acme-a", "acme-b", cwd=repo)
    edit(repo, "contacts/acme-a", location="Leeds")
    commit(repo, "acme-a after the combine")
    entries = json.loads(ok("log", "acme-b", "--json", cwd=repo))["jobshare.log/v1"]
    messages = [e["message"].splitlines()[0] for e in entries]
    assert messages == [
        "acme-a after the combine",
        "Combine 2 contacts into contacts/acme-a",
        "an edit of acme-b",
        "seed both",
    ]
    labels = {r["label"] for r in entries[1]["records"]}
    assert labels == {"contacts/acme-a", "contacts/acme-b"}


def test_a_conflict_on_a_survivor_names_the_records_it_came_from(tmp_path: Path) -> None:
    alice, bob = two_friends(tmp_path, ACME_A, ACME_B)
    ok("combine", "acme-a", "acme-b", cwd=alice)
    pull_ok(bob)
    edit(alice, "contacts/acme-a", role="Head of talent")
    commit(alice)
    edit(bob, "contacts/acme-a", role="Talent partner")
    commit(bob)
    pulled = jobshare("pull", cwd=alice)
    assert pulled.exit_code == 1
    shown = jobshare("conflicts", cwd=alice).stdout
    assert "contacts/acme-a:role" in shown
    assert "contacts/acme-a holds the records combined into it: contacts/acme-b" in shown


def test_a_referral_whose_client_was_combined_leads_to_the_survivor(tmp_path: Path) -> None:
    alice, bob = two_friends(tmp_path, ACME_A, ACME_B)
    ok("fetch", "bob", cwd=alice)
    ok("refer", "acme-b", "--to", "bob", "--title", "Data engineer", cwd=alice)
    # the referral names acme-b as it was then; the combine comes later
    assert read(alice, "contacts/acme-b")["name"] == "ACME Recruiting Ltd"
    ok("combine", "acme-a", "acme-b", cwd=alice)
    pull_ok(bob)
    inbox = ok("inbox", cwd=bob)
    assert "Data engineer" in inbox and "Acme Recruiting" in inbox
    assert jobshare("validate", cwd=bob).exit_code == 0


def test_diff_of_an_alias_shows_its_combine_and_its_survivor(repo: Path) -> None:
    for data in (ACME_A, ACME_B, OTHER):
        write(repo, f"contacts/{data['id']}", data)
    commit(repo, "seed")
    ok("combine", "acme-a", "acme-b", cwd=repo)
    edit(repo, "contacts/acme-a", role="Head of talent")
    edit(repo, "contacts/beta-works", role="Founder")
    shown = jobshare("diff", "HEAD~1", "acme-b", cwd=repo)
    assert shown.exit_code == 0, shown.output
    assert "contacts/acme-b is an alias of contacts/acme-a: showing both" in shown.stderr
    out = shown.stdout
    assert "contacts/acme-b  ACME Recruiting Ltd\n  combined into contacts/acme-a (by alice)" in out
    assert "contacts/acme-a" in out and "role: (none) → Head of talent" in out
    assert "beta-works" not in out and "phones" not in out.split("contacts/acme-b")[1]
    records = json.loads(ok("diff", "HEAD~1", "HEAD", "--json", cwd=repo))["jobshare.diff/v1"]
    alias = {r["label"]: r.get("alias") for r in records}
    assert alias == {
        "contacts/acme-a": None,
        "contacts/acme-b": {"of": "contacts/acme-a", "reason": "combined", "by": "alice"},
    }
    # a record that is no alias is diffed alone, as before
    alone = jobshare("diff", "beta-works", cwd=repo)
    assert "alias" not in alone.stderr and "acme" not in alone.stdout


def test_diff_of_a_rename_reads_as_one_line(repo: Path) -> None:
    write(repo, "contacts/acme-a", ACME_A)
    commit(repo, "seed")
    ok("rename", "acme-a", "acme-recruiting", cwd=repo)
    out = ok("diff", "HEAD~1", "HEAD", cwd=repo)
    assert (
        "contacts/acme-a  Acme Recruiting\n  renamed to contacts/acme-recruiting (by alice)" in out
    )
    assert "added     contacts/acme-recruiting" in out


def test_resolve_given_an_alias_resolves_its_survivor(tmp_path: Path) -> None:
    alice, bob = two_friends(tmp_path, ACME_A, ACME_B)
    ok("combine", "acme-a", "acme-b", cwd=alice)
    pull_ok(bob)
    edit(alice, "contacts/acme-a", role="Head of talent")
    commit(alice)
    edit(bob, "contacts/acme-a", role="Talent partner")
    commit(bob)
    assert jobshare("pull", cwd=alice).exit_code == 1
    done = ok("resolve", "contacts/acme-b:role", "--theirs", cwd=alice)
    assert "resolved contacts/acme-a:role" in done
    ok("merge", "--continue", cwd=alice)
    assert read(alice, "contacts/acme-a")["role"] == "Talent partner"
    assert read(alice, "contacts/acme-b")["alias_of"] == "acme-a"


def test_resolve_given_an_alias_the_pull_brings_leads_to_its_survivor(tmp_path: Path) -> None:
    alice, bob = two_friends(tmp_path, ACME_A, ACME_B, OTHER)
    edit(alice, "contacts/acme-a", role="Head of talent")
    commit(alice)
    ok("combine", "acme-a", "acme-b", cwd=bob)
    edit(bob, "contacts/acme-a", role="Talent partner")
    commit(bob)
    assert jobshare("pull", cwd=alice).exit_code == 1
    assert read(alice, "contacts/acme-b").get("alias_of") is None  # only the merge holds it
    missing = jobshare("resolve", "beta-works", "--theirs", cwd=alice)
    assert missing.exit_code != 0 and "names no conflict" in missing.output
    done = ok("resolve", "acme-b", "--ours", cwd=alice)
    assert "resolved contacts/acme-a" in done
