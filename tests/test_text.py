"""Text as people type, paste and save it, through the command line: one normal form
wherever a record enters, times compared as instants, records found by their names, and
nothing a friend wrote printed raw to a terminal (DESIGN section 1)."""

from __future__ import annotations

import json
import re
import sys
import unicodedata
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from conftest import clone_friend, git, jobshare, make_repo

from jobshare_sync.core import records, schema

NOW = "2026-12-24T12:00:00Z"
CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


# --- helpers -----------------------------------------------------------------------------


def ok(*args: str, cwd: Path) -> Result:
    result = jobshare(*args, cwd=cwd)
    assert result.exit_code == 0, result.output
    return result


def add(repo: Path, name: str, *options: str) -> str:
    """Add a contact through the command line; returns its label."""
    result = ok("add", "contact", "--name", name, *options, "--json", cwd=repo)
    label: str = json.loads(result.stdout)["jobshare.add/v1"]["label"]
    return label


def raw(repo: Path, label: str) -> bytes:
    return (repo / f"{label}.yaml").read_bytes()


def read(repo: Path, label: str) -> dict[str, Any]:
    data: dict[str, Any] = records.load_yaml(raw(repo, label), f"{label}.yaml").data
    return data


def hand_edit(repo: Path, label: str, **changes: Any) -> None:
    """What a person does in an editor: change fields, leave `updated` alone."""
    data = read(repo, label)
    data.update(changes)
    (repo / f"{label}.yaml").write_bytes(schema.dump_record(label.split("/")[0], data))


def by_git(repo: Path, label: str, text: str | bytes, message: str = "edit by plain git") -> None:
    """Commit a file with plain git: jobshare never sees it on the way in (a friend's
    data from an older jobshare, or another tool's)."""
    data = text.encode("utf-8") if isinstance(text, str) else text
    (repo / f"{label}.yaml").write_bytes(data)
    git("add", "-A", cwd=repo)
    git("commit", "-qm", message, cwd=repo)


def contact_yaml(
    record_id: str, name: str, extra: str = "", updated: str = NOW, added_by: str = "alice"
) -> str:
    return (
        f"id: {record_id}\nkind: agency\nname: {name}\n{extra}"
        f"added_by: {added_by}\nupdated: '{updated}'\n"
    )


def with_friend(tmp_path: Path) -> tuple[Path, Path, str]:
    """alice with one contact, and bob, a clone of her, as her friend."""
    alice = make_repo(tmp_path / "alice")
    label = add(alice, "Acme Recruiting", "--notes", "one\ntwo\nthree\nfour\n")
    bob = clone_friend(alice, tmp_path / "bob", "bob")
    ok("friend", "add", "bob", str(bob), cwd=alice)
    return alice, bob, label


def pull(repo: Path, *args: str) -> Result:
    result = jobshare("pull", *args, cwd=repo)
    assert result.exit_code == 0, result.output
    assert "CONFLICT" not in result.output, result.output
    return result


@pytest.fixture(autouse=True)
def clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JOBSHARE_NOW", NOW)


# --- Unicode NFC ---------------------------------------------------------------------------


@pytest.mark.parametrize("place", ["Zürich", "Genève", "Łódź", "Åre"])
def test_nfd_and_nfc_spellings_merge_without_a_conflict(tmp_path: Path, place: str) -> None:
    alice, bob, label = with_friend(tmp_path)
    decomposed = unicodedata.normalize("NFD", place)
    record_id = label.split("/")[1]
    # bob's tool wrote the decomposed form; alice typed the composed one
    by_git(bob, label, contact_yaml(record_id, "Acme Recruiting", f"location: {decomposed}\n"))
    hand_edit(alice, label, location=place)
    ok("commit", cwd=alice)
    result = pull(alice, "bob")
    assert read(alice, label)["location"] == place
    assert place.encode() in raw(alice, label) and decomposed.encode() not in raw(alice, label)
    assert "location" not in result.output


def test_search_and_refer_find_a_record_stored_in_nfd(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "alice")
    by_git(
        repo,
        "contacts/muller-personal-ab2c",
        contact_yaml("muller-personal-ab2c", "Mu\u0308ller Personal"),
    )
    for needle in ("Müller", "Mu\u0308ller", "muller", "MÜLLER"):
        found = ok("list", "--search", needle, cwd=repo).stdout
        assert "contacts/muller-personal-ab2c" in found, needle
    ok("friend", "add", "bob", str(tmp_path / "nowhere"), cwd=repo)
    repo_config = repo / ".git" / "config"
    repo_config.write_text(repo_config.read_text() + '[jobshare-friend "bob"]\n\thandle = bob\n')
    result = ok("refer", "Müller Personal", "--to", "bob", "--title", "Audit", "--json", cwd=repo)
    assert json.loads(result.stdout)["jobshare.referral/v1"]["record"]["client"] == (
        "muller-personal-ab2c"
    )


# --- line ends -------------------------------------------------------------------------------


@pytest.mark.parametrize("end", ["\r\n", "\r"])
def test_pasted_line_ends_are_written_as_a_literal_block(tmp_path: Path, end: str) -> None:
    repo = make_repo(tmp_path / "alice")
    label = add(repo, "Acme", "--notes", f"Ask for Dana.{end}Pays on time.")
    assert b"notes: |-\n  Ask for Dana.\n  Pays on time.\n" in raw(repo, label)
    assert read(repo, label)["notes"] == "Ask for Dana.\nPays on time."


def test_a_note_pasted_with_crlf_merges_line_by_line(tmp_path: Path) -> None:
    alice, bob, label = with_friend(tmp_path)
    record_id = label.split("/")[1]
    # bob pasted the note from a mail client: every line ends in CR LF
    pasted = '"ONE\\r\\ntwo\\r\\nthree\\r\\nfour\\r\\n"'
    by_git(bob, label, contact_yaml(record_id, "Acme Recruiting", f"notes: {pasted}\n"))
    hand_edit(alice, label, notes="one\ntwo\nthree\nFOUR\n")
    ok("commit", cwd=alice)
    pull(alice, "bob")
    assert read(alice, label)["notes"] == "ONE\ntwo\nthree\nFOUR\n"


# --- byte-order marks ------------------------------------------------------------------------

BOM = b"\xef\xbb\xbf"


def doctor_check(repo: Path, name: str) -> dict[str, Any]:
    report = json.loads(jobshare("doctor", "--json", cwd=repo).stdout)["jobshare.doctor/v1"]
    check: dict[str, Any] = next(c for c in report["checks"] if c["name"] == name)
    return check


def test_a_record_saved_with_a_bom_is_read_and_written_without(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "alice")
    label = add(repo, "Acme")
    edited = raw(repo, label).replace(b"name: Acme", b"name: Acme Ltd")
    (repo / f"{label}.yaml").write_bytes(BOM + edited)  # "UTF-8 with BOM"
    assert doctor_check(repo, "schema comments")["ok"]  # its first line names the schema
    ok("validate", cwd=repo)
    assert "Acme Ltd" in ok("show", label, cwd=repo).stdout
    ok("commit", cwd=repo)
    assert not raw(repo, label).startswith(BOM)
    assert not git("show", f"HEAD:{label}.yaml", cwd=repo).startswith("\ufeff")
    assert read(repo, label)["name"] == "Acme Ltd"
    assert git("status", "--porcelain", cwd=repo) == ""


def test_doctors_advice_when_followed_makes_its_check_pass(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "alice")
    label = add(repo, "Acme")
    lines = raw(repo, label).split(b"\n", 1)
    by_git(repo, label, BOM + lines[1])  # saved with a BOM, without the schema comment
    check = doctor_check(repo, "schema comments")
    assert not check["ok"] and label + ".yaml" in check["detail"]
    comment = "# yaml-language-server: $schema=../.jobshare/schema/contact.schema.json"
    assert comment in check["fix"] and "jobshare commit" in check["fix"]
    # as an editor does: the new first line goes after the BOM, which the editor keeps
    (repo / f"{label}.yaml").write_bytes(BOM + comment.encode() + b"\n" + lines[1])
    ok("commit", cwd=repo)
    assert doctor_check(repo, "schema comments")["ok"]
    assert raw(repo, label).startswith(comment.encode())


# --- control characters ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        (
            "--name",
            "Acme\x1b]0;pwned\x07",
            "name: contains the control characters U+001B (ESC), U+0007 (BEL)",
        ),
        (
            "--organization",
            "Acme\x1b[2J",
            "organization: contains the control character U+001B (ESC)",
        ),
        ("--role", "Recruiter\nCEO", "role: contains the control character U+000A (line break)"),
        ("--location", "Hull\x07", "location: contains the control character U+0007 (BEL)"),
        ("--tag", "x\x9b2J", "tags.0: contains the control character U+009B (CSI)"),
    ],
)
def test_single_line_fields_refuse_control_characters(
    tmp_path: Path, option: str, value: str, message: str
) -> None:
    repo = make_repo(tmp_path / "alice")
    result = jobshare("add", "contact", "--name", "Acme", option, value, cwd=repo)
    assert result.exit_code == 6
    assert message in result.stderr
    assert not CONTROL.search(result.output) and len(result.stderr.splitlines()) == 1
    assert not list((repo / "contacts").glob("*.yaml"))


def test_a_nul_in_a_hand_edited_file_is_refused(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "alice")
    (repo / "contacts/x.yaml").write_text(contact_yaml("x", '"Ac\\0me"'))
    result = jobshare("validate", cwd=repo)
    assert result.exit_code == 1
    assert "name: contains the control character U+0000 (NUL)" in result.stdout
    assert jobshare("commit", cwd=repo).exit_code == 6


EVIL = '"Evil\\e]0;pwned\\a\\e[2J \\u202eCorp"'  # sets the title, clears, reverses


def test_nothing_a_friend_wrote_reaches_the_terminal_raw(tmp_path: Path) -> None:
    """Values from before these checks (or from paths that do not validate) are shown
    escaped by list, show, diff, log, inbox, conflicts, pull and status."""
    alice, bob, label = with_friend(tmp_path)
    record_id = label.split("/")[1]
    evil = contact_yaml(record_id, EVIL, 'tags: ["\\e[31mred"]\nnotes: "a\\e[2J\\nb\\n"\n')
    by_git(alice, label, evil, message="Evil \x1b]0;pwned\x07 commit")
    referral = (
        f"id: r-1\ntitle: {EVIL}\nclient: {record_id}\nfrom: bob\nto: anyone\nstatus: open\n"
        f"created: '{NOW}'\nupdated: '{NOW}'\nhistory:\n- at: '{NOW}'\n  by: bob\n  status: open\n"
    )
    by_git(alice, "referrals/r-1", referral)
    hand_edit(alice, label, location="Hull\x1b[2J")
    # bob renames it: a conflict with alice's evil name; and adds a contact with a bidi override
    by_git(bob, label, contact_yaml(record_id, "Acme Bob"))
    # (added by bob: nobody can add a record in alice's name)
    by_git(bob, "contacts/rtl-1", contact_yaml("rtl-1", '"\\u202eevil.exe"', added_by="bob"))
    outputs = [
        ok("list", cwd=alice),
        ok("list", "--json", cwd=alice),
        ok("show", label, cwd=alice),
        ok("diff", cwd=alice),
        ok("log", "-n", "3", cwd=alice),
        ok("log", label, cwd=alice),
        ok("show", "HEAD~1", cwd=alice),
        ok("inbox", cwd=alice),
        ok("status", cwd=alice),
        jobshare("validate", cwd=alice),
    ]
    git("checkout", "--", ".", cwd=alice)
    outputs.append(jobshare("pull", "bob", cwd=alice))
    outputs.append(ok("conflicts", cwd=alice))
    outputs.append(jobshare("resolve", f"{label}:name", "--ours", cwd=alice))
    for result in outputs:
        assert not CONTROL.search(result.output), result.output
    shown = "\n".join(result.output for result in outputs)
    assert "Evil\\e]0;pwned\\x07\\e[2J \\u202eCorp" in shown
    assert "\\u202eevil.exe" in shown  # bob's new contact, as the pull lists it


# --- surrounding white space ------------------------------------------------------------------


def test_surrounding_white_space_is_trimmed(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "alice")
    label = add(
        repo, "\u00a0Acme\t", "--email", " a@b.example ", "--tag", " remote", "--role", "  "
    )
    data = read(repo, label)
    assert data["name"] == "Acme" and data["emails"] == ["a@b.example"]
    assert data["tags"] == ["remote"] and "role" not in data


@pytest.mark.parametrize("name", ["   ", "\t", "\u3000\u200b"])
def test_a_name_of_only_spaces_is_refused(tmp_path: Path, name: str) -> None:
    repo = make_repo(tmp_path / "alice")
    result = jobshare("add", "contact", "--name", name, cwd=repo)
    assert result.exit_code == 6 and "name: must not be empty" in result.stderr


# --- emails, tags and industries ---------------------------------------------------------------


def test_emails_tags_and_industries_count_once_whatever_their_case(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "alice")
    label = add(
        repo,
        "Acme",
        *("--id", "acme-1"),
        *("--tag", "Remote", "--tag", "remote", "--tag", "REMOTE"),
        *("--email", "Dana@Acme.example", "--email", "dana@acme.example"),
        *("--industry", "FinTech", "--industry", "fintech"),
    )
    data = read(repo, label)
    assert data["tags"] == ["Remote"]
    assert data["emails"] == ["Dana@Acme.example"]  # stored as first typed
    assert data["industries"] == ["FinTech"]
    assert label in ok("list", "--tag", "remote", cwd=repo).stdout
    assert label in ok("list", "--search", "DANA@ACME.EXAMPLE", cwd=repo).stdout
    other = add(repo, "Acme again", "--id", "acme-2", "--email", "DANA@acme.EXAMPLE")
    warnings = ok("validate", cwd=repo).stdout
    # the warning names the line and field of the matching value
    assert f"{other}.yaml:6: emails.0: warning: likely duplicate of {label}: same email" in warnings


def test_a_set_merge_compares_without_case(tmp_path: Path) -> None:
    alice, bob, label = with_friend(tmp_path)
    record_id = label.split("/")[1]
    by_git(
        bob,
        label,
        contact_yaml(record_id, "Acme Recruiting", "emails: [jobs@acme.example]\ntags: [remote]\n"),
    )
    hand_edit(alice, label, tags=["Remote", "python"], emails=["Jobs@Acme.example"])
    ok("commit", cwd=alice)
    pull(alice, "bob")
    data = read(alice, label)
    assert data["tags"] == ["Remote", "python"] and data["emails"] == ["Jobs@Acme.example"]


# --- phones ------------------------------------------------------------------------------------


def test_everyday_phone_formats_are_accepted(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "alice")
    phones = ["(415) 555-0100", "+1 (415) 555-0100 ext. 12", "+49 (0)40 123456", "020 7946 0000"]
    label = add(repo, "Acme", *[x for p in phones for x in ("--phone", p)])
    assert read(repo, label)["phones"] == phones  # stored as typed


@pytest.mark.parametrize(
    ("phone", "message"),
    [
        ("call me", "phones.0: 'call me' is not a valid phone number, e.g. +44 20 7946 0000"),
        ("0800-HELP", "is not a valid phone number, e.g. +44 20 7946 0000"),
        ("+999 1234 5678", "has no country code that phone numbers use, e.g. +44 20 7946 0000"),
    ],
)
def test_what_is_no_phone_number_is_refused_with_an_example(
    tmp_path: Path, phone: str, message: str
) -> None:
    repo = make_repo(tmp_path / "alice")
    result = jobshare("add", "contact", "--name", "Acme", "--phone", phone, cwd=repo)
    assert result.exit_code == 6 and message in result.stderr


@pytest.mark.parametrize(
    ("environ", "region"),
    [
        ({"LANG": "en_GB.UTF-8"}, "GB"),
        ({"LANG": "en_GB.UTF-8", "LC_ALL": "de_DE.UTF-8"}, "DE"),
        ({"LANG": "C.UTF-8"}, None),
    ],
)
def test_init_takes_the_phone_region_from_the_locale(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, environ: dict[str, str], region: str | None
) -> None:
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    repo = make_repo(tmp_path / "alice")
    config = records.load_yaml((repo / "jobshare.yaml").read_bytes(), "jobshare.yaml").data
    assert config.get("region") == region
    ok("validate", cwd=repo)


def test_the_region_can_be_changed_and_two_spellings_of_a_number_are_one(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "alice")
    both = ("--phone", "+1 415 555 0100", "--phone", "(415) 555-0100")
    without = add(repo, "Acme", *both)  # no region: the second might be another country's
    assert read(repo, without)["phones"] == ["+1 415 555 0100", "(415) 555-0100"]
    result = ok("init", "--region", "us", cwd=repo)
    assert "Updated the jobshare files" in result.stdout
    assert b"region: US\n" in (repo / "jobshare.yaml").read_bytes()
    assert git("status", "--porcelain", cwd=repo) == ""
    label = add(repo, "Beta", *both)
    assert read(repo, label)["phones"] == ["+1 415 555 0100"]
    # a number without a country code is accepted whatever the region
    add(repo, "Gamma", "--phone", "020 7946 0000")
    bad = jobshare("init", "--region", "XX", cwd=repo)
    assert bad.exit_code == 6 and "'XX' is not a country code" in bad.stderr


def test_two_spellings_of_one_number_merge_as_one(tmp_path: Path) -> None:
    alice, bob, label = with_friend(tmp_path)
    record_id = label.split("/")[1]
    by_git(
        bob, label, contact_yaml(record_id, "Acme Recruiting", "phones: ['+44 (0)20 7946 0000']\n")
    )
    hand_edit(alice, label, phones=["+44 20 7946 0000"])
    ok("commit", cwd=alice)
    pull(alice, "bob")
    assert read(alice, label)["phones"] == ["+44 20 7946 0000"]


# --- web sites -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("acme.example", "https://acme.example"),
        ("www.acme.example", "https://www.acme.example"),
        ("acme.example/jobs", "https://acme.example/jobs"),
    ],
)
def test_a_web_site_without_its_scheme_gets_https(tmp_path: Path, given: str, stored: str) -> None:
    repo = make_repo(tmp_path / "alice")
    result = ok("add", "contact", "--name", "Acme", "--website", given, cwd=repo)
    assert f"website {given} became {stored}" in result.stderr
    label = re.search(r"Added (contacts/\S+)", result.stdout)
    assert label is not None and read(repo, label.group(1))["website"] == stored


def test_a_hand_edited_web_site_without_its_scheme_is_an_error(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "alice")
    label = add(repo, "Acme")
    hand_edit(repo, label, website="www.acme.example")
    fix = "website: 'www.acme.example' lacks its scheme: write 'https://www.acme.example'"
    assert fix in jobshare("validate", cwd=repo).stdout
    result = jobshare("commit", cwd=repo)
    assert result.exit_code == 6 and fix in result.stderr


# --- values YAML reads specially ------------------------------------------------------------------

SPECIALS = [
    ("=", "a special symbol (YAML's default value)"),
    ("~", "an empty value (null)"),
    ("null", "an empty value (null)"),
    ("yes", "true"),
    ("on", "true"),
    ("0123", "the number 83 (octal)"),
    ("1e3", "the number 1000"),
    (".inf", "infinity"),
    ("2026-12-01", "a date"),
    ("2026-12-01 10:00:00", "a date and time"),
    ("10:00", "the number 600 (base 60)"),
]


@pytest.mark.parametrize(("plain", "reads_as"), SPECIALS)
def test_values_yaml_reads_specially_say_so(tmp_path: Path, plain: str, reads_as: str) -> None:
    repo = make_repo(tmp_path / "alice")
    (repo / "contacts/x.yaml").write_text(contact_yaml("x", "Acme", f"location: {plain}\n"))
    result = jobshare("validate", cwd=repo)
    assert result.exit_code == 1
    line = f"location: should be text, but YAML reads {plain} as {reads_as}: put it in quotes"
    assert line in result.stdout
    assert "tag" not in result.stdout


@pytest.mark.parametrize(("plain", "reads_as"), SPECIALS)
def test_values_yaml_reads_specially_in_resolve_field(
    tmp_path: Path, plain: str, reads_as: str
) -> None:
    alice, bob, label = with_friend(tmp_path)
    record_id = label.split("/")[1]
    by_git(bob, label, contact_yaml(record_id, "Acme Bob"))
    by_git(alice, label, contact_yaml(record_id, "Acme Alice"))
    assert jobshare("pull", "bob", cwd=alice).exit_code == 1
    result = jobshare("resolve", label, "--field", f"location={plain}", cwd=alice)
    assert result.exit_code == 6
    assert f"YAML reads {plain} as {reads_as}: put it in quotes" in result.stderr
    assert "tag" not in result.stderr
    ok("resolve", label, "--field", f"location='{plain}'", cwd=alice)
    ok("resolve", label, "--ours", cwd=alice)


@pytest.mark.parametrize("plain", [p for p, _ in SPECIALS])
def test_jobshare_writes_such_values_quoted(tmp_path: Path, plain: str) -> None:
    repo = make_repo(tmp_path / "alice")
    label = add(repo, "Acme", "--location", plain, "--tag", plain)
    assert f"location: '{plain}'\n".encode() in raw(repo, label)
    assert read(repo, label)["location"] == plain
    ok("validate", cwd=repo)


# --- short messages ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--notes", "x" * 25_000, "notes: is 25,000 characters long, over the limit of 20,000"),
        ("--name", "N" * 300, "name: is 300 characters long, over the limit of 200"),
        (
            "--website",
            "https://" + "w" * 600,
            "website: is 608 characters long, over the limit of 500",
        ),
    ],
)
def test_a_long_value_is_never_echoed_whole(
    tmp_path: Path, option: str, value: str, message: str
) -> None:
    repo = make_repo(tmp_path / "alice")
    args = ["add", "contact", "--name", "Acme", option, value]
    result = jobshare(*args, cwd=repo)
    assert result.exit_code == 6
    assert message in result.stderr
    assert len(result.stderr.splitlines()) == 1 and len(result.stderr) < 300


# --- times are instants ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ours", "theirs", "later"),
    [
        ("2026-12-01T11:00:00+02:00", "2026-12-01T10:00:00Z", "2026-12-01T10:00:00Z"),
        ("2026-12-01T10:00:00Z", "2026-12-01T10:00:00.500Z", "2026-12-01T10:00:00.500Z"),
        ("2026-12-02T00:30:00+01:00", "2026-12-01T23:00:00Z", "2026-12-01T23:30:00Z"),
    ],
)
def test_the_max_rule_compares_instants(tmp_path: Path, ours: str, theirs: str, later: str) -> None:
    alice, bob, label = with_friend(tmp_path)
    record_id = label.split("/")[1]
    by_git(bob, label, contact_yaml(record_id, "Acme Recruiting", "location: Hull\n", theirs))
    by_git(alice, label, contact_yaml(record_id, "Acme Recruiting", "role: Agency\n", ours))
    pull(alice, "bob")
    data = read(alice, label)
    assert data["updated"] == later and data["location"] == "Hull" and data["role"] == "Agency"


@pytest.mark.parametrize(
    ("ours", "theirs", "winner"),
    [
        ("2026-12-01T10:00:00Z", "2026-12-01T10:00:00.500Z", "Acme Bob"),
        ("2026-12-01T11:00:00+02:00", "2026-12-01T10:00:00Z", "Acme Bob"),
        ("2026-12-01T10:00:00.500Z", "2026-12-01T10:00:00Z", "Acme Alice"),
    ],
)
def test_strategy_newest_compares_instants(
    tmp_path: Path, ours: str, theirs: str, winner: str
) -> None:
    alice, bob, label = with_friend(tmp_path)
    record_id = label.split("/")[1]
    by_git(bob, label, contact_yaml(record_id, "Acme Bob", "", theirs))
    by_git(alice, label, contact_yaml(record_id, "Acme Alice", "", ours))
    ok("pull", "bob", "--strategy", "newest", cwd=alice)
    assert read(alice, label)["name"] == winner


def test_history_is_ordered_and_checked_by_instant(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "alice")
    add(repo, "Acme", "--id", "acme")

    def referral(first: str, second: str) -> str:
        return (
            "id: r-1\ntitle: Job\nclient: acme\nfrom: alice\nto: anyone\nstatus: withdrawn\n"
            f"created: '{first}'\nupdated: '{second}'\nhistory:\n"
            f"- at: '{first}'\n  by: alice\n  status: open\n"
            f"- at: '{second}'\n  by: alice\n  status: withdrawn\n  previous: open\n"
        )

    (repo / "referrals/r-1.yaml").write_text(
        referral("2026-12-01T11:00:00+02:00", "2026-12-01T10:00:00Z")
    )
    ok("validate", cwd=repo)  # 09:00 UTC, then 10:00 UTC
    (repo / "referrals/r-1.yaml").write_text(
        referral("2026-12-01T10:00:00.500Z", "2026-12-01T10:00:00Z")
    )
    result = jobshare("validate", cwd=repo)
    assert result.exit_code == 1
    assert "history.1.at: 2026-12-01T10:00:00Z is earlier than the entry before it" in result.stdout


def test_jobshare_writes_utc_with_z(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "alice")
    label = add(repo, "Acme")
    text = raw(repo, label).replace(
        f"updated: '{NOW}'".encode(), b"location: Hull\nupdated: 2026-12-25T09:00:00+01:00"
    )
    (repo / f"{label}.yaml").write_bytes(text)
    result = ok("commit", cwd=repo)
    assert "set 'updated'" not in result.stdout  # its `updated` changed with it
    assert b"updated: '2026-12-25T08:00:00Z'\n" in raw(repo, label)


# --- commit stamps `updated` -------------------------------------------------------------------------


def test_commit_stamps_updated_of_a_hand_edit_and_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = make_repo(tmp_path / "alice")
    label = add(repo, "Acme")
    assert read(repo, label)["updated"] == NOW
    hand_edit(repo, label, location="Hull")
    monkeypatch.setenv("JOBSHARE_NOW", "2026-12-25T08:00:00Z")
    result = ok("commit", cwd=repo)
    assert f"{label}.yaml: content changed but 'updated' did not: set 'updated' to " in (
        result.stdout
    )
    assert read(repo, label)["updated"] == "2026-12-25T08:00:00Z"
    assert git("status", "--porcelain", cwd=repo) == ""
    payload = json.loads(jobshare("commit", "--json", cwd=repo).stdout)
    assert payload["jobshare.commit/v1"]["commit"] is None


def test_strategy_newest_sees_a_later_hand_edit_as_later(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    alice, bob, label = with_friend(tmp_path)
    hand_edit(alice, label, name="Acme Alice", updated="2026-12-24T13:00:00Z")
    ok("commit", cwd=alice)
    monkeypatch.setenv("JOBSHARE_NOW", "2026-12-24T14:00:00Z")  # bob edits an hour later
    hand_edit(bob, label, name="Acme Bob")
    ok("commit", cwd=bob)
    ok("pull", "bob", "--strategy", "newest", cwd=alice)
    assert read(alice, label)["name"] == "Acme Bob"


# --- names that find records ----------------------------------------------------------------------------


def test_new_ids_transliterate_every_script(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "alice")
    for name, slug in [
        ("Zoë Łukasiewicz", "zoe-lukasiewicz-"),
        ("Ωmega", "omega-"),
        ("山田太郎", "shan-tian-tai-lang-"),
        ("Дмитрий Волков", "dmitriy-volkov-"),
    ]:
        assert add(repo, name).startswith(f"contacts/{slug}")


def test_every_command_finds_a_record_by_its_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = make_repo(tmp_path / "alice")
    zoe = add(repo, "Zoë Łukasiewicz", "--kind", "recruiter")
    add(repo, "Acme Recruiting")
    for text in ("Zoë Łukasiewicz", "zoe lukasiewicz", "lukas", "Zoe\u0308 Łukasiewicz"):
        assert ok("show", text, cwd=repo).stdout.startswith(f"{zoe}  Zoë Łukasiewicz"), text
    assert zoe in ok("log", "lukas", cwd=repo).stdout
    hand_edit(repo, zoe, location="Kraków")
    assert zoe in ok("diff", "--", "Zoë Łukasiewicz", cwd=repo).stdout
    assert zoe in ok("diff", "lukas", cwd=repo).stdout
    git("checkout", "--", ".", cwd=repo)
    editor = tmp_path / "editor.py"
    editor.write_text(
        "import sys, pathlib\np = pathlib.Path(sys.argv[1])\n"
        "p.write_text(p.read_text().replace('kind: recruiter', 'kind: agency'))\n"
    )
    monkeypatch.setenv("EDITOR", f"{sys.executable} {editor}")
    ok("edit", "LUKASIEWICZ", cwd=repo)
    assert read(repo, zoe)["kind"] == "agency"
    ok("friend", "add", "bob", str(tmp_path / "nowhere"), cwd=repo)
    config = repo / ".git" / "config"
    config.write_text(config.read_text() + '[jobshare-friend "bob"]\n\thandle = bob\n')
    refer = ok("refer", "łukasiewicz", "--to", "bob", "--title", "Données, 3 mois", cwd=repo)
    assert refer.stdout.startswith("Referred referrals/donnees-3-mois-")
    ok("referral", "withdraw", "donnees 3 mois", cwd=repo)
    kept = jobshare("rm", "Zoë Łukasiewicz", cwd=repo)  # a withdrawn referral names her
    assert kept.exit_code == 13 and "referrals/donnees-3-mois-" in kept.stderr
    ok("rm", "Zoë Łukasiewicz", "--force", cwd=repo)
    assert not (repo / f"{zoe}.yaml").exists()


def test_resolve_finds_a_conflict_by_a_unique_prefix_or_its_name(tmp_path: Path) -> None:
    alice, bob, label = with_friend(tmp_path)
    record_id = label.split("/")[1]
    by_git(bob, label, contact_yaml(record_id, "Acme Bob"))
    by_git(alice, label, contact_yaml(record_id, "Acme Alice"))
    assert jobshare("pull", "bob", cwd=alice).exit_code == 1
    result = ok("resolve", "acme", "--theirs", cwd=alice)
    assert f"resolved {label}" in result.stdout
    result = ok("resolve", "Acme Alice", "--ours", cwd=alice)
    assert f"resolved {label}" in result.stdout
    ok("merge", "--continue", cwd=alice)
    assert read(alice, label)["name"] == "Acme Alice"


def test_list_and_inbox_line_up_wide_characters(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "alice")
    for name in ("山田太郎", "Zoë 😀", "Acme", "Zo\u0308e"):
        add(repo, name, "--kind", "agency")
    lines = ok("list", cwd=repo).stdout.splitlines()
    starts = {_columns(line[: line.index("agency")]) for line in lines}
    assert len(starts) == 1, lines
    acme = next(line.split()[0] for line in lines if "Acme" in line)
    for i, title in enumerate(["データ基盤", "Data 😀 pipeline", "Plain"]):
        by_git(
            repo,
            f"referrals/r-{i}",
            f"id: r-{i}\ntitle: {title}\nclient: {acme.split('/')[1]}\nfrom: bob\nto: anyone\n"
            f"status: open\ncreated: '{NOW}'\nupdated: '{NOW}'\n"
            f"history:\n- at: '{NOW}'\n  by: bob\n  status: open\n",
        )
    lines = ok("inbox", cwd=repo).stdout.splitlines()
    starts = {_columns(line[: line.index("Acme")]) for line in lines[1:]}
    assert len(starts) == 1, lines


def _columns(text: str) -> int:
    from jobshare_sync.render import width

    return width(text)


def test_add_contact_help_gives_examples() -> None:
    text = jobshare("add", "contact", "--help").stdout
    for example in ("(415) 555-0100 ext. 12", "+49 (0)40 123456", "acme.example", "Zoë"):
        assert example in text


# --- every way in: resolve --field and --file, the git merge driver, a friend's history ---------


def test_resolve_brings_field_values_and_files_to_the_normal_form(tmp_path: Path) -> None:
    alice, bob, label = with_friend(tmp_path)
    record_id = label.split("/")[1]
    by_git(bob, label, contact_yaml(record_id, "Acme Bob"))
    by_git(alice, label, contact_yaml(record_id, "Acme Alice"))
    assert jobshare("pull", "bob", cwd=alice).exit_code == 1
    ok("resolve", label, "--field", "name=  Acme Zu\u0308rich\t", cwd=alice)
    assert conflict_working(alice)["name"] == "Acme Zürich"
    bad = jobshare("resolve", label, "--field", 'name="Acme\\e[2J"', cwd=alice)
    assert bad.exit_code == 6 and "U+001B (ESC)" in bad.stderr
    assert not CONTROL.search(bad.output)
    text = BOM + contact_yaml(record_id, '"Acme Gene\\u0300ve "', 'notes: "a\\r\\nb"\n').encode()
    (tmp_path / "resolved.yaml").write_bytes(text)
    ok("resolve", label, "--file", str(tmp_path / "resolved.yaml"), cwd=alice)
    ok("merge", "--continue", cwd=alice)
    data = read(alice, label)
    assert data["name"] == "Acme Genève" and data["notes"] == "a\nb"
    assert b"name: Acme Gen\xc3\xa8ve\n" in raw(alice, label)


def conflict_working(repo: Path) -> dict[str, Any]:
    state = json.loads((repo / ".git/jobshare/merge.json").read_text())
    working: dict[str, Any] = state["conflicts"][0]["working"]
    return working


def test_the_git_merge_driver_merges_in_the_normal_form(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "alice")
    label = add(repo, "Acme", "--notes", "one\ntwo\nthree\nfour\n")
    ok("git-setup", cwd=repo)
    record_id = label.split("/")[1]
    git("checkout", "-qb", "side", cwd=repo)
    pasted = '"one\\r\\ntwo\\r\\nthree\\r\\nFOUR\\r\\n"'
    by_git(
        repo, label, contact_yaml(record_id, "Acme", f"location: Zu\u0308rich\nnotes: {pasted}\n")
    )
    git("checkout", "-q", "main", cwd=repo)
    text = contact_yaml(
        record_id, "Acme", "location: Zürich\nnotes: |\n  ONE\n  two\n  three\n  four\n"
    )
    by_git(repo, label, text)
    git("merge", "-q", "--no-edit", "side", cwd=repo)  # raises if git reports a conflict
    data = read(repo, label)
    assert data["location"] == "Zürich" and data["notes"] == "ONE\ntwo\nthree\nFOUR\n"
    assert "Zürich".encode() in raw(repo, label)


def test_a_friends_history_is_merged_in_time_order(tmp_path: Path) -> None:
    alice, bob, _ = with_friend(tmp_path)
    client = add(alice, "Client", "--id", "client")
    ok("friend", "add", "alice", str(alice), cwd=bob)
    ok("pull", "alice", cwd=bob)

    def referral(*notes: tuple[str, str, str]) -> str:
        entries = "".join(
            f"- at: '{at}'\n  by: {by}\n  status: open\n  previous: open\n  note: {note}\n"
            for at, by, note in notes
        )
        return (
            f"id: r-1\ntitle: Job\nclient: {client.split('/')[1]}\nfrom: alice\nto: anyone\n"
            f"status: open\ncreated: '{NOW}'\nupdated: '{NOW}'\nhistory:\n"
            f"- at: '{NOW}'\n  by: alice\n  status: open\n{entries}"
        )

    by_git(alice, "referrals/r-1", referral())
    ok("pull", "alice", cwd=bob)
    by_git(alice, "referrals/r-1", referral(("2026-12-24T13:00:00.500Z", "alice", "later")))
    by_git(bob, "referrals/r-1", referral(("2026-12-24T14:00:00+01:00", "bob", "earlier")))
    pull(alice, "bob")
    notes = [entry.get("note") for entry in read(alice, "referrals/r-1")["history"]]
    assert notes == [None, "earlier", "later"]  # 13:00 UTC before 13:00.5 UTC
    ok("validate", cwd=alice)


def test_commit_json_lists_what_it_stamped_and_rewrote(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = make_repo(tmp_path / "alice")
    label = add(repo, "Acme")
    hand_edit(repo, label, role="Desk")
    (repo / f"{label}.yaml").write_bytes(BOM + raw(repo, label))
    monkeypatch.setenv("JOBSHARE_NOW", "2026-12-25T08:00:00Z")
    payload = json.loads(ok("commit", "--json", cwd=repo).stdout)["jobshare.commit/v1"]
    assert payload["stamped"] == {f"{label}.yaml": "2026-12-25T08:00:00Z"}
    assert payload["rewritten"] == [f"{label}.yaml"]
    assert payload["files"] == {f"{label}.yaml": "modified"}
