"""interchange: `jobshare import` and `jobshare export` on real repositories.

Each example file of examples/import goes through the command line and a few contacts
are checked field by field; cards match the contacts they are (by each kind of key)
instead of duplicating them; bad cards are reported with file and line; a dry run
writes nothing; export then import changes nothing.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import DANA_FROM_IPHONE, EXAMPLES, git, jobshare, make_repo
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_cards import contacts as generated_contacts

from jobshare_sync.core import schema
from jobshare_sync.interchange import ContactIndex, fold_card
from jobshare_sync.store import Store

IMPORT = EXAMPLES / "import"


def records(repo: Path) -> dict[str, dict[str, Any]]:
    """Every contact of the working tree by id."""
    return {
        path.stem: yaml.safe_load(path.read_text())
        for path in sorted((repo / "contacts").glob("*.yaml"))
    }


def by_name(repo: Path) -> dict[str, dict[str, Any]]:
    return {record["name"]: record for record in records(repo).values()}


def without_own(record: dict[str, Any]) -> dict[str, Any]:
    """A record without the fields the importer fills in (id, updated)."""
    return {k: v for k, v in record.items() if k not in ("id", "updated")}


def head(repo: Path) -> str:
    return git("rev-parse", "HEAD", cwd=repo).strip()


def card(*lines: str, uid: str | None = None) -> str:
    body = [f"UID:{uid}"] if uid else []
    return "\r\n".join(["BEGIN:VCARD", "VERSION:3.0", *body, *lines, "END:VCARD", ""])


def with_alices_contacts(repo: Path) -> Path:
    for path in sorted((EXAMPLES / "alice" / "contacts").glob("*.yaml")):
        shutil.copyfile(path, repo / "contacts" / path.name)
    assert jobshare("commit", "-m", "Alice's contacts", cwd=repo).exit_code == 0
    return repo


# --- each example file ------------------------------------------------------------------


def test_a_vcard_file_from_a_phone(repo: Path) -> None:
    result = jobshare("import", str(IMPORT / "iphone-3.0.vcf"), cwd=repo)
    assert result.exit_code == 0, result.output
    assert "Import 3 contacts from iphone-3.0.vcf (3 added, 0 updated)" in result.output
    assert git("log", "-1", "--format=%s", cwd=repo).strip() == (
        "Import 3 contacts from iphone-3.0.vcf (3 added, 0 updated)"
    )
    contacts = by_name(repo)
    assert without_own(contacts["Dana Okafor"]) == {
        "kind": "other",
        **DANA_FROM_IPHONE,
        "added_by": "alice",
        "format": 2,
    }
    assert contacts["Spreewald Energie GmbH"]["kind"] == "client"  # X-ABShowAs:COMPANY
    assert contacts["山田 花子"]["tags"] == ["clients", "Tokyo"]
    assert "ignored: 2 X-ABADR, 1 ADR, 1 BDAY, 1 PHOTO" in result.output
    assert git("status", "--porcelain", cwd=repo) == ""
    assert jobshare("validate", cwd=repo).exit_code == 0


def test_a_vcard_21_file_with_a_bad_card_reports_it_and_imports_the_rest(repo: Path) -> None:
    result = jobshare("import", str(IMPORT / "android-2.1.vcf"), cwd=repo)
    assert result.exit_code == 0, result.output
    assert "skipped   android-2.1.vcf:35 #3: no name and no email" in result.output
    message = git("log", "-1", "--format=%B", cwd=repo)
    assert message.startswith("Import 3 contacts from android-2.1.vcf (3 added, 0 updated)\n")
    assert "- skipped android-2.1.vcf:35 #3: no name and no email" in message
    contacts = by_name(repo)
    assert sorted(contacts) == ["Ayşe Öztürk", "Jürgen Müller", "Νίκος Παπαδόπουλος"]
    assert contacts["Jürgen Müller"]["address"] == {
        "street": "Friedrichstraße 120",
        "locality": "Berlin",
        "postal_code": "10117",
        "country": "Deutschland",
    }
    assert contacts["Ayşe Öztürk"]["notes"].startswith("Met at the Leeds fintech fair, 2025.")


def test_an_unparseable_card_is_reported_with_its_line(repo: Path, tmp_path: Path) -> None:
    path = tmp_path / "mixed.vcf"
    path.write_text(
        card("FN:Good One", "EMAIL:good@one.example")
        + "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Never ended\r\n"
        + card("FN:Also Good", "EMAIL:also@good.example")
    )
    result = jobshare("import", str(path), cwd=repo)
    assert result.exit_code == 0, result.output
    assert "mixed.vcf:6 #2: BEGIN:VCARD without END:VCARD" in result.output
    assert sorted(by_name(repo)) == ["Also Good", "Good One"]


@pytest.mark.parametrize(
    ("name", "options", "person", "expected"),
    [
        (
            "google.csv",
            [],
            "Siobhan Kelly",
            {
                "organization": "Harbour Street Recruitment",
                "emails": ["siobhan@harbour-street.example", "s.kelly@harbour-street.example"],
                "links": ["https://www.linkedin.com/in/siobhan-kelly-dub"],
                "tags": ["Recruiters", "Dublin"],
            },
        ),
        (
            "google-old.csv",
            [],
            "Mehmet Yılmaz",
            {"location": "Berlin, DE", "phones": ["+49 151 5550 4411"], "tags": ["Freelancers"]},
        ),
        (
            "outlook.csv",
            [],
            "Inés Castro",
            {
                "website": "https://iberia-it.example/",
                "address": {
                    "street": "Calle de Alcalá 42, Planta 3",
                    "locality": "Madrid",
                    "postal_code": "28014",
                    "country": "Spain",
                },
            },
        ),
        (
            "Connections.csv",
            ["--tag", "linkedin"],
            "Dana Okafor",
            {
                "kind": "other",
                "organization": "Northbridge Talent",
                "role": "Senior Tech Recruiter",
                "links": ["https://www.linkedin.com/in/dana-okafor-4b2a1"],
                "connected": "2024-03-05",
                "tags": ["linkedin"],
            },
        ),
        (
            "agenturen.csv",
            ["--map", "Agentur=organization", "--map", "Ansprechpartner=name", "--kind", "agency"],
            "Jörg Weiß",
            {
                "kind": "agency",
                "organization": "Nordlicht Digital GmbH",
                "emails": ["joerg.weiss@nordlicht-digital.example"],
            },
        ),
        (
            "nextcloud-4.0.vcf",
            [],
            "Fjord Logistics AS",
            {
                "kind": "client",
                "tags": ["client", "logistics", "Norway"],
                "phones": ["+47-21-55-01-23"],
            },
        ),
    ],
)
def test_each_csv_and_vcard_format_imports(
    repo: Path, name: str, options: list[str], person: str, expected: dict[str, Any]
) -> None:
    result = jobshare("import", str(IMPORT / name), *options, cwd=repo)
    assert result.exit_code == 0, result.output
    record = by_name(repo)[person]
    assert {k: record.get(k) for k in expected} == expected
    assert record["added_by"] == "alice" and record["id"] in records(repo)
    assert jobshare("validate", cwd=repo).exit_code == 0


def test_every_example_file_at_once_then_again_changes_nothing(repo: Path) -> None:
    files = sorted(str(p) for p in IMPORT.iterdir())
    first = jobshare("import", *files, cwd=repo)
    assert first.exit_code == 0, first.output
    assert git("log", "-1", "--format=%s", cwd=repo).startswith("Import 20 contacts from 8 files")
    before, commit = records(repo), head(repo)
    again = jobshare("import", *files, cwd=repo)
    assert again.exit_code == 0
    assert "Nothing new" in again.output
    assert head(repo) == commit and records(repo) == before


# --- matching: no duplicates ----------------------------------------------------------------


EXISTING = {
    "id": "acme-recruiting-7k2q",
    "kind": "agency",
    "name": "Acme Recruiting",
    "emails": ["jobs@acme.example"],
    "phones": ["+44 20 7946 0000"],
    "website": "https://www.acme.example/",
    "links": ["https://www.linkedin.com/company/acme-recruiting"],
    "tags": ["remote"],
    "notes": "Ask for Dana.\n",
    "added_by": "alice",
    "updated": "2026-01-01T00:00:00Z",
    "format": 2,
}


@pytest.mark.parametrize(
    ("lines", "uid", "rule"),
    [
        (
            ["FN:Acme Recruiting Ltd", "EMAIL:other@elsewhere.example"],
            "acme-recruiting-7k2q",
            "UID",
        ),
        (["FN:Acme Recruiting Ltd", "EMAIL:JOBS@Acme.Example"], None, "email JOBS@Acme.Example"),
        (["FN:Acme Recruiting Ltd", "TEL:+442079460000"], None, "phone +442079460000"),
        (
            ["FN:Acme Recruiting", "URL:http://acme.example/jobs"],
            None,
            "website acme.example",
        ),
        (
            [
                "FN:Acme Recruiting Ltd",
                "URL;TYPE=x-profile:http://linkedin.com/company/Acme-Recruiting/",
            ],
            None,
            "link http://linkedin.com/company/Acme-Recruiting/",
        ),
        (["FN:ACME RECRUITING", "TITLE:Agency"], None, "name ACME RECRUITING"),
    ],
)
def test_a_card_matches_its_contact_by_each_kind_of_key(
    repo: Path, tmp_path: Path, lines: list[str], uid: str | None, rule: str
) -> None:
    (repo / "contacts" / f"{EXISTING['id']}.yaml").write_bytes(
        schema.dump_record("contacts", EXISTING)
    )
    assert jobshare("commit", "-m", "Acme", cwd=repo).exit_code == 0
    path = tmp_path / "one.vcf"
    path.write_text(card(*lines, "NOTE:Pays on time.", "CATEGORIES:contract", uid=uid))
    result = jobshare("import", str(path), cwd=repo)
    assert result.exit_code == 0, result.output
    assert f"(matched by {rule})" in result.output
    assert list(records(repo)) == [EXISTING["id"]]  # no second contact
    record = records(repo)[EXISTING["id"]]
    assert record["notes"] == "Ask for Dana.\nPays on time.\n"  # appended
    assert record["tags"] == ["remote", "contract"]  # joined the set
    assert record["emails"][0] == "jobs@acme.example"  # the contact's spelling stays
    assert record["website"] == EXISTING["website"]
    assert record["updated"] != EXISTING["updated"]
    again = jobshare("import", str(path), cwd=repo)
    assert "Nothing new" in again.output


def test_new_values_join_and_a_differing_scalar_is_kept_and_reported(
    repo: Path, tmp_path: Path
) -> None:
    (repo / "contacts" / f"{EXISTING['id']}.yaml").write_bytes(
        schema.dump_record("contacts", EXISTING)
    )
    jobshare("commit", "-m", "Acme", cwd=repo)
    path = tmp_path / "acme.vcf"
    path.write_text(
        card(
            "FN:Acme Recruiting",
            "EMAIL:jobs@acme.example",
            "EMAIL:invoices@acme.example",
            "TITLE:Agency for data people",
            "X-JOBSHARE-KIND:recruiter",
        )
    )
    result = jobshare("import", str(path), cwd=repo)
    assert result.exit_code == 0, result.output
    record = records(repo)[EXISTING["id"]]
    assert record["emails"] == ["jobs@acme.example", "invoices@acme.example"]
    assert record["role"] == "Agency for data people"  # the contact had none: filled in
    assert record["kind"] == "agency"  # left as it is, and reported
    assert "kept      contacts/acme-recruiting-7k2q:kind agency (the file has recruiter)" in (
        result.output
    )


def test_two_people_of_one_agency_sharing_a_website_stay_two(repo: Path, tmp_path: Path) -> None:
    (repo / "contacts" / f"{EXISTING['id']}.yaml").write_bytes(
        schema.dump_record("contacts", EXISTING)
    )
    jobshare("commit", "-m", "Acme", cwd=repo)
    path = tmp_path / "people.vcf"
    path.write_text(
        card("FN:Dana Recruiter", "EMAIL:dana@acme.example", "URL:https://acme.example")
        + card("FN:Dana Recruiter", "TEL:+44 7700 900111")  # the same person, by name? no:
    )
    result = jobshare("import", str(path), cwd=repo)
    assert result.exit_code == 0, result.output
    names = sorted(r["name"] for r in records(repo).values())
    # the second card has a phone, so its name is no key: it is a contact of its own
    assert names == ["Acme Recruiting", "Dana Recruiter", "Dana Recruiter"]


def test_cards_of_one_file_for_one_person_make_one_contact(repo: Path, tmp_path: Path) -> None:
    path = tmp_path / "twice.vcf"
    path.write_text(
        card("FN:Priya Raman", "EMAIL:priya@northbridge.example")
        + card("FN:Priya Raman", "EMAIL:PRIYA@northbridge.example", "TEL:+44 20 7946 0312")
    )
    result = jobshare("import", str(path), cwd=repo)
    assert "Import 1 contact from twice.vcf (1 added, 0 updated)" in result.output
    [record] = records(repo).values()
    assert record["emails"] == ["priya@northbridge.example"]
    assert record["phones"] == ["+44 20 7946 0312"]


def test_a_contact_of_a_newer_format_is_left_alone(repo: Path, tmp_path: Path) -> None:
    newer = {**EXISTING, "format": 3, "pronouns": "they/them"}
    raw = yaml.safe_dump(newer, sort_keys=False, allow_unicode=True)
    (repo / "contacts" / f"{EXISTING['id']}.yaml").write_text(raw)
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", "From a newer jobshare", cwd=repo)
    path = tmp_path / "acme.vcf"
    path.write_text(card("FN:Acme Recruiting", "EMAIL:jobs@acme.example", "TITLE:Agency"))
    result = jobshare("import", str(path), cwd=repo)
    assert result.exit_code == 0, result.output
    assert (
        "skipped   one.vcf" not in result.output
        and "contacts/acme-recruiting-7k2q is written by a newer jobshare (record format 3; "
        "this jobshare knows formats up to 2): upgrade jobshare to change it"
        in result.output
    )
    assert (repo / "contacts" / f"{EXISTING['id']}.yaml").read_text() == raw
    assert list(records(repo)) == [EXISTING["id"]]


def test_matching_table() -> None:
    index = ContactIndex({EXISTING["id"]: EXISTING})
    assert index.match({"name": "x", "emails": ["nobody@acme.example"]}) is None
    assert index.match({"name": "x", "website": "https://acme.example"}) is None  # not one
    found = index.match({"name": "Acme", "kind": "client", "website": "https://acme.example"})
    assert found is not None and found.rule == "website"  # two organisations
    assert index.match({"name": "Acme Recruiting", "emails": ["x@y.example"]}) is None
    folded = fold_card(EXISTING, {"name": "Acme Recruiting", "notes": "Ask for Dana.\n"})
    assert folded.changed == [] and folded.kept == []


# --- dry run, JSON, errors ---------------------------------------------------------------------


def test_dry_run_shows_what_would_happen_and_writes_nothing(repo: Path) -> None:
    with_alices_contacts(repo)
    commit = head(repo)
    result = jobshare("import", "--dry-run", str(IMPORT / "iphone-3.0.vcf"), cwd=repo)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "iphone-3.0.vcf (vcard, utf-8): would add 2, update 1"
    assert lines[1] == "  add       contacts/(new)  Dana Okafor"
    assert lines[2].startswith(
        "  update    contacts/spreewald-energie-x2kf  Spreewald Energie GmbH: emails, phones, "
        "notes, organization (matched by website spreewald-energie.example)"
    )
    assert "Dry run: would add 2 and update 1 contacts; nothing written" in result.output
    assert head(repo) == commit and git("status", "--porcelain", cwd=repo) == ""
    real = jobshare("import", str(IMPORT / "iphone-3.0.vcf"), cwd=repo)
    assert "2 added, 1 updated" in real.output


def test_json_lists_every_card(repo: Path) -> None:
    result = jobshare("import", "--json", str(IMPORT / "Connections.csv"), cwd=repo)
    payload = json.loads(result.output)["jobshare.import/v1"]
    assert payload["counts"] == {"added": 3, "updated": 0, "unchanged": 0, "skipped": 1}
    [file] = payload["files"]
    assert file["format"] == "linkedin-csv"
    skipped = [i for i in file["items"] if i["action"] == "skipped"]
    assert skipped == [
        {
            "source": "Connections.csv",
            "number": 4,
            "line": 8,
            "name": "",
            "action": "skipped",
            "label": None,
            "match": None,
            "changed": [],
            "kept": [],
            "reason": "no name and no email",
        }
    ]
    assert payload[
        "message"
    ] == "Import 3 contacts from Connections.csv (3 added, 0 updated)\n\n" + (
        "- skipped Connections.csv:8 #4: no name and no email\n"
    )


def test_a_file_that_cannot_be_read_stops_the_import_before_anything_is_written(
    repo: Path, tmp_path: Path
) -> None:
    commit = head(repo)
    bad = tmp_path / "notes.csv"
    bad.write_text("Colour;Size\nred;L\n")
    result = jobshare("import", str(IMPORT / "iphone-3.0.vcf"), str(bad), cwd=repo)
    assert result.exit_code == 15
    assert result.output.count("\n") == 1 and "notes.csv" in result.output
    missing = jobshare("import", str(tmp_path / "nope.vcf"), cwd=repo)
    assert missing.exit_code == 15 and "cannot read" in missing.output
    wrong_map = jobshare("import", str(IMPORT / "google.csv"), "--map", "Colour", cwd=repo)
    assert wrong_map.exit_code == 15 and "is not COLUMN=FIELD" in wrong_map.output
    assert head(repo) == commit


def test_a_contact_with_uncommitted_changes_is_not_overwritten(repo: Path, tmp_path: Path) -> None:
    with_alices_contacts(repo)
    path = repo / "contacts" / "spreewald-energie-x2kf.yaml"
    path.write_text(path.read_text().replace("Cottbus", "Cottbus (Lausitz)"))
    result = jobshare("import", str(IMPORT / "iphone-3.0.vcf"), cwd=repo)
    assert result.exit_code == 9
    assert "contacts/spreewald-energie-x2kf.yaml" in result.output
    assert "Cottbus (Lausitz)" in path.read_text()


# --- export ------------------------------------------------------------------------------------


def test_export_formats_and_selection(repo: Path, tmp_path: Path) -> None:
    with_alices_contacts(repo)
    vcards = jobshare("export", cwd=repo).stdout_bytes.decode()
    assert vcards.count("BEGIN:VCARD") == 21 and vcards.count("VERSION:4.0") == 21
    assert "UID;VALUE=text:fjord-logistics-9pha\r\n" in vcards
    assert "REV:20260828T120000Z\r\n" in vcards
    old = jobshare("export", "fjord-logistics-9pha", "--vcard-version", "3.0", cwd=repo).output
    assert old.count("BEGIN:VCARD") == 1 and "VERSION:3.0" in old and "FN:Fjord Logistics AB" in old
    recruiters = jobshare("export", "--kind", "recruiter", "--format", "json", cwd=repo).output
    listed = json.loads(recruiters)["jobshare.export/v1"]
    assert listed and {r["kind"] for r in listed} == {"recruiter"}
    tagged = jobshare(
        "export", "--tag", "kafka", "--search", "smart-meter", "--format", "csv", cwd=repo
    )
    rows = list(csv.reader(io.StringIO(tagged.output)))
    assert rows[0][:4] == ["First Name", "Middle Name", "Last Name", "Organization Name"]
    assert len(rows) == 2 and f"{rows[1][0]} {rows[1][2]}" == "Spreewald Energie GmbH"
    out = tmp_path / "all.vcf"
    written = jobshare("export", "-o", str(out), cwd=repo)
    assert written.output == f"Exported 21 contacts to {out}\n"
    assert out.read_bytes().decode() == vcards
    assert not list(tmp_path.glob(".*jobshare-tmp"))
    relative = jobshare("export", "-o", "../relative.vcf", cwd=repo)  # read from -C's folder
    assert relative.output == f"Exported 21 contacts to {repo / '../relative.vcf'}\n"
    assert (tmp_path / "relative.vcf").read_bytes().decode() == vcards
    assert jobshare("export", "nonesuch", cwd=repo).exit_code == 7
    missing = jobshare("export", "-o", str(tmp_path / "no" / "such.vcf"), cwd=repo)
    assert missing.exit_code == 15 and "create it first" in missing.output


@pytest.mark.parametrize(
    "options",
    [[], ["--vcard-version", "3.0"], ["--format", "csv"]],
)
def test_export_then_import_changes_nothing(repo: Path, tmp_path: Path, options: list[str]) -> None:
    with_alices_contacts(repo)
    jobshare("import", str(IMPORT / "iphone-3.0.vcf"), str(IMPORT / "Connections.csv"), cwd=repo)
    before, commit = records(repo), head(repo)
    out = tmp_path / "export.out"
    assert jobshare("export", "-o", str(out), *options, cwd=repo).exit_code == 0
    result = jobshare("import", str(out), cwd=repo)
    assert result.exit_code == 0, result.output
    assert "Nothing new" in result.output
    assert head(repo) == commit and records(repo) == before


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    many=st.lists(generated_contacts(), min_size=1, max_size=4, unique_by=lambda r: r["id"]),
    options=st.sampled_from([[], ["--vcard-version", "3.0"], ["--format", "csv"]]),
)
def test_generated_contacts_exported_and_imported_change_nothing(
    many: list[dict[str, Any]], options: list[str]
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        repo = make_repo(Path(tmp) / "repo")
        store = Store.open(repo)
        handles = {"alice"}
        files: dict[str, bytes | None] = {}
        for record in many:
            handles.add(record["added_by"])
            files[f"contacts/{record['id']}.yaml"] = schema.dump_record("contacts", record)
        with store.locked():
            store.commit_files(files, "Generated contacts")
        before, commit = records(repo), head(repo)
        out = Path(tmp) / "export.out"
        assert jobshare("export", "-o", str(out), *options, cwd=repo).exit_code == 0
        result = jobshare("import", str(out), cwd=repo)
        assert result.exit_code == 0, result.output
        assert "Nothing new" in result.output, result.output
        assert head(repo) == commit and records(repo) == before
