"""The record format and its versions: format 2's fields (links, address, connected), the
record's own `format` marker, how an older jobshare tells a newer record from a typo, and
how merge and diff treat the new fields (DESIGN section 2)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from conftest import clone_friend, git, jobshare, make_repo

from jobshare_sync.core import records, schema
from jobshare_sync.core.diff import diff_record
from jobshare_sync.core.fieldmerge import AncestorOursTheirs
from jobshare_sync.core.merge import merge_record
from jobshare_sync.core.records import FORMAT, Label, Loaded

T0 = "2026-10-01T09:00:00Z"
T1 = "2026-10-02T09:00:00Z"
LINKEDIN = "https://www.linkedin.com/in/dana-okafor-4b2a1"
GITHUB = "https://github.com/dana-okafor"
ADDRESS = {"street": "14 Fenwick Lane", "locality": "Leeds", "country": "United Kingdom"}


def contact(**fields: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": "dana-okafor-k2q7",
        "kind": "recruiter",
        "name": "Dana Okafor",
        "added_by": "alice",
        "updated": T0,
    }
    return data | fields


def problems(data: dict[str, Any]) -> list[schema.Problem]:
    label = Label("contacts", "dana-okafor-k2q7")
    raw = schema.dump_record("contacts", data) if "format" not in data else None
    if raw is None:  # written by hand: keep the record's own format field as it is
        raw = records.dump_yaml(data)
    return schema.record_problems(label, records.load_yaml(raw, label.path))


def test_format_is_two_and_every_new_field_says_since_when() -> None:
    assert FORMAT == 2
    assert schema.fields_since("contact") == {"links": 2, "address": 2, "connected": 2}
    assert schema.fields_since("referral") == {}
    for kind in schema.KINDS:
        assert f"/schema/{FORMAT}/{kind}.schema.json" in schema.load_schema(kind)["$id"]
    props = schema.load_schema("contact")["properties"]
    for name in ("links", "address", "connected", "format"):
        assert props[name]["title"] and props[name]["description"] and props[name]["examples"]
    assert schema.merge_rules("contacts")["links"] == "set"
    assert schema.merge_rules("contacts")["address"] == "value"
    assert schema.merge_rules("contacts")["format"] == "max"


def test_the_writer_adds_the_format_a_record_needs_and_keeps_schema_order() -> None:
    plain = schema.dump_record("contacts", contact(format=2)).decode()
    assert "format" not in plain  # a format 1 record says nothing
    text = schema.dump_record(
        "contacts",
        contact(
            connected="2024-03-05", address=ADDRESS, links=[LINKEDIN], website="https://a.example"
        ),
    ).decode()
    keys = [line.split(":")[0] for line in text.splitlines()[1:] if not line.startswith((" ", "-"))]
    assert keys == [
        "id",
        "kind",
        "name",
        "website",
        "links",
        "address",
        "connected",
        "added_by",
        "updated",
        "format",
    ]
    assert text.endswith("format: 2\n")
    assert (
        "address:\n  street: 14 Fenwick Lane\n  locality: Leeds\n  country: United Kingdom\n"
        in text
    )
    # a number from a newer jobshare stays: only that jobshare knows what it covers
    newer = schema.dump_record("contacts", contact(format=3, pronouns="she/her")).decode()
    assert "format: 3" in newer


@pytest.mark.parametrize(
    "fields, severity, message",
    [
        ({"links": [LINKEDIN]}, None, None),
        ({"address": ADDRESS, "connected": "2024-03-05"}, None, None),
        # a typo in a record that says nothing about its format: an unknown field
        ({"linkz": [LINKEDIN]}, "error", "unknown field 'linkz'"),
        ({"linkz": [LINKEDIN], "format": 2}, "error", "unknown field 'linkz'"),
        # a field from a format this jobshare does not know: newer, not invalid
        ({"pronouns": "she/her", "format": 3}, "warning", "written by a newer jobshare"),
        ({"kind": "robot", "format": 7}, "warning", "record format 7"),
        # a format 2 field in a record that does not say format 2 (written by hand)
        ({"links": [LINKEDIN], "format": 1}, "error", "links came with format 2: add 'format: 2'"),
        ({"connected": "2024-03-05", "format": 1}, "error", "connected came with format 2"),
        ({"format": 0}, "error", "must be at least 1"),
        ({"format": "2"}, "error", "should be a whole number"),
        ({"address": {}}, "error", "is empty: give at least one of its fields"),
        ({"address": {"city": "Leeds"}}, "error", "unknown field 'city'"),
        ({"connected": "5 Mar 2024"}, "error", "a date (YYYY-MM-DD)"),
        ({"links": ["linkedin.com/in/x"]}, "error", "is not a valid link"),
    ],
)
def test_records_of_each_format_are_read_as_they_should(
    fields: dict[str, Any], severity: str | None, message: str | None
) -> None:
    found = problems(contact(**fields))
    if severity is None:
        assert found == []
        return
    assert found, fields
    assert any(p.severity == severity and message in p.message for p in found), found
    if severity == "warning":
        assert len(found) == 1  # nothing else of a newer record is judged


def test_an_older_jobshare_reports_a_newer_record_once_and_as_a_warning() -> None:
    label = Label("contacts", "x")
    loaded = Loaded(contact(id="x", format=FORMAT + 1, pronouns="they"), {"/format": 9})
    (problem,) = schema.record_problems(label, loaded)
    assert problem.severity == "warning" and problem.line == 9 and problem.field == "/format"
    assert problem.message == (
        f"written by a newer jobshare (record format {FORMAT + 1}; this jobshare knows formats "
        f"up to {FORMAT}): upgrade jobshare to merge it"
    )
    # whoever must write or merge the record refuses it all the same
    assert schema.record_errors(label, loaded.data)


def merged(base: Any, ours: Any, theirs: Any) -> Any:
    return merge_record(
        "contacts/dana-okafor-k2q7",
        AncestorOursTheirs(base, ours, theirs),
        schema.merge_rules("contacts"),
        theirs_handle="bob",
    )


def test_the_new_fields_merge_by_their_rules() -> None:
    base = contact(links=[LINKEDIN], format=2)
    ours = contact(links=[LINKEDIN, GITHUB], connected="2024-03-05", format=2)
    theirs = contact(links=[LINKEDIN, "https://xing.example/dana"], address=ADDRESS, format=2)
    result = merged(base, ours, theirs)
    assert result.outcome == "updated"
    assert result.result["links"] == [LINKEDIN, GITHUB, "https://xing.example/dana"]
    assert result.result["address"] == ADDRESS and result.result["connected"] == "2024-03-05"
    # a format 1 record meets a format 2 one: the marker merges by max
    result = merged(contact(), contact(notes="Ask for Dana.\n"), contact(links=[GITHUB], format=2))
    assert result.result["format"] == 2 and result.result["links"] == [GITHUB]
    # an address is one value: two different edits conflict
    moved = dict(ADDRESS, locality="York")
    renamed = dict(ADDRESS, street="16 Fenwick Lane")
    result = merged(contact(address=ADDRESS), contact(address=moved), contact(address=renamed))
    assert result.outcome == "conflict"
    assert [f.field for f in result.conflict.fields] == ["address"]


def test_a_newer_record_is_never_merged_half() -> None:
    newer = contact(pronouns="she/her", format=3, updated=T1)
    edited = contact(notes="Pays on time.\n")
    result = merged(contact(), edited, newer)
    assert result.outcome == "conflict" and result.conflict.reason == "newer-format"
    assert "written by a newer jobshare (record format 3" in result.conflict.messages[0]
    assert result.conflict.merged == edited and result.conflict.merged_theirs == newer
    # ours from a newer jobshare (another machine) and an edit from a friend: the same
    result = merged(contact(), newer, edited)
    assert result.conflict is not None and result.conflict.reason == "newer-format"
    # nothing to merge when only one side changed: that side is kept whole
    assert merged(contact(), contact(), newer).result == newer
    assert merged(contact(), newer, contact()).result == newer


def test_diff_shows_the_new_fields_by_their_rules() -> None:
    old = contact(links=[LINKEDIN], address=ADDRESS, format=2)
    new = contact(
        links=[GITHUB], address=dict(ADDRESS, locality="York"), connected="2024-03-05", format=2
    )
    changes = diff_record("contacts/x", old, new, schema.merge_rules("contacts")).fields
    by_field = {c.field: c for c in changes}
    assert by_field["links"].added == (GITHUB,) and by_field["links"].removed == (LINKEDIN,)
    assert (
        by_field["address.locality"].old == "Leeds" and by_field["address.locality"].new == "York"
    )
    assert by_field["connected"].old is None and by_field["connected"].new == "2024-03-05"
    assert [c.field for c in changes] == ["links", "address.locality", "connected"]


# --- end to end -------------------------------------------------------------------------


def ok(*args: str, cwd: Path) -> str:
    result = jobshare(*args, cwd=cwd)
    assert result.exit_code == 0, result.output
    return result.stdout


def test_init_writes_the_newest_format_and_brings_an_older_repository_up(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "alice")
    assert f"format: {FORMAT}" in (repo / "jobshare.yaml").read_text()
    # a repository of format 1 (an older jobshare started it)
    (repo / "jobshare.yaml").write_text(
        (repo / "jobshare.yaml").read_text().replace("format: 2", "format: 1")
    )
    old_schema = repo / ".jobshare/schema/contact.schema.json"
    old_schema.write_text("{}\n")
    git("commit", "-qam", "as an older jobshare left it", cwd=repo)
    ok("init", str(repo), cwd=repo)
    assert "format: 2" in (repo / "jobshare.yaml").read_text()
    assert old_schema.read_text() == schema.schema_text("contact")
    assert git("log", "-1", "--format=%s", cwd=repo).strip() == "Update jobshare files"
    # a repository a newer jobshare brought to format 3 is not taken back
    (repo / "jobshare.yaml").write_text(
        (repo / "jobshare.yaml").read_text().replace("format: 2", "format: 3")
    )
    old_schema.write_text('{"$id": "newer"}\n')
    git("commit", "-qam", "as a newer jobshare left it", cwd=repo)
    ok("init", str(repo), cwd=repo)
    assert "format: 3" in (repo / "jobshare.yaml").read_text()
    assert old_schema.read_text() == '{"$id": "newer"}\n'
    assert ok("validate", cwd=repo)


def test_a_friends_newer_records_are_reported_and_skipped_and_typos_are_invalid(
    tmp_path: Path,
) -> None:
    alice = make_repo(tmp_path / "alice")
    bob = clone_friend(alice, tmp_path / "bob", "bob")
    ok("friend", "add", "bob", str(bob), cwd=alice)
    head = "# yaml-language-server: $schema=../.jobshare/schema/contact.schema.json\n"
    body = "kind: recruiter\nname: {name}\nadded_by: bob\nupdated: '2026-10-01T09:00:00Z'\n"
    newer = head + "id: newer\n" + body.format(name="Newer") + "pronouns: she/her\nformat: 3\n"
    typo = head + "id: typo\n" + body.format(name="Typo") + "linkz:\n- https://a.example/x\n"
    (bob / "contacts/newer.yaml").write_text(newer)
    (bob / "contacts/typo.yaml").write_text(typo)
    (bob / "contacts/linked.yaml").write_bytes(
        schema.dump_record(
            "contacts",
            {
                "id": "linked",
                "kind": "recruiter",
                "name": "Dana Okafor",
                "links": [LINKEDIN],
                "connected": "2024-03-05",
                "added_by": "bob",
                "updated": T0,
            },
        )
    )
    git("add", "-A", cwd=bob)
    git("commit", "-qm", "records of all formats", cwd=bob)

    result = jobshare("pull", "bob", cwd=alice)
    assert result.exit_code == 0, result.output
    skipped = {
        line.split()[1].rstrip(":"): line
        for line in result.stdout.splitlines()
        if line.startswith("  skipped ")
    }
    assert set(skipped) == {"contacts/newer.yaml", "contacts/typo.yaml"}, result.stdout
    assert (
        "written by a newer jobshare (record format 3; this jobshare knows formats up to 2): "
        "upgrade jobshare to merge it" in skipped["contacts/newer.yaml"]
    )
    assert "invalid" not in skipped["contacts/newer.yaml"]
    assert "unknown field 'linkz'" in skipped["contacts/typo.yaml"]
    assert not (alice / "contacts/newer.yaml").exists()
    linked = records.load_yaml((alice / "contacts/linked.yaml").read_bytes(), "linked").data
    assert linked["links"] == [LINKEDIN] and linked["format"] == 2

    # in one's own repository (another machine has a newer jobshare): a warning, exit 0
    (alice / "contacts/newer.yaml").write_text(newer)
    result = jobshare("validate", "--json", cwd=alice)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    (found,) = _problems(report)
    assert found["severity"] == "warning" and "written by a newer jobshare" in found["message"]


def _problems(report: dict[str, Any]) -> list[dict[str, Any]]:
    (body,) = report.values()
    items: list[dict[str, Any]] = body["problems"]
    return items


def test_the_readmes_contact_is_a_valid_format_2_record_in_canonical_order() -> None:
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    start = readme.index("```yaml\n# yaml-language-server: $schema=../.jobshare/schema/contact")
    block = readme[start + len("```yaml\n") : readme.index("```\n", start + 8)]
    loaded = records.load_yaml(block.encode(), "README.md")
    assert schema.record_problems(Label("contacts", "acme-recruiting-7k2q"), loaded) == []
    data = loaded.data
    assert data["format"] == 2 and {"links", "address", "connected"} <= set(data)
    written = schema.dump_record("contacts", data).decode()
    uncommented = "".join(line.split("  #")[0].rstrip() + "\n" for line in block.splitlines())
    assert written == uncommented
