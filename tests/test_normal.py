"""core/normal.py: the normal form of records, applied by the loader and the writer, and
the problems it reports instead of putting right."""

from __future__ import annotations

import unicodedata
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from jobshare_sync.core import normal, records, schema
from jobshare_sync.core.records import Label, Loaded
from jobshare_sync.errors import JobshareError

T = "2026-12-01T10:00:00Z"


def contact(**fields: Any) -> dict[str, Any]:
    return {"id": "x", "kind": "other", "name": "X", "added_by": "me", "updated": T, **fields}


def problems(data: dict[str, Any], folder: str = "contacts") -> list[str]:
    """The problems of a record as it enters: in its normal form."""
    kind = records.KIND_OF_FOLDER[folder]
    return schema.record_errors(Label(folder, "x"), normal.normal_form(kind, data))


def loaded_problems(text: str, folder: str = "contacts") -> list[str]:
    path = f"{folder}/x.yaml"
    loaded = records.load_yaml(text.encode("utf-8"), path)
    return [str(p) for p in schema.record_problems(Label(folder, "x"), loaded)]


# --- the normal form, field by field ---------------------------------------------------


@pytest.mark.parametrize(
    ("field", "given", "normal_value"),
    [
        ("name", "Zu\u0308rich", "Zürich"),  # NFD, as macOS and some phones write it
        ("name", "Gene\u0300ve", "Genève"),
        ("location", "Ła\u0301dz", "Łádz"),
        ("name", "  Acme Recruiting \t", "Acme Recruiting"),
        ("name", "\ufeffAcme", "Acme"),  # a byte-order mark pasted along
        ("name", "Acme\u00a0", "Acme"),  # a no-break space
        ("name", "\u200bAcme\u200b", "Acme"),  # zero-width spaces
        ("emails", [" a@b.example "], ["a@b.example"]),
        ("tags", [" remote", "contract "], ["remote", "contract"]),
        ("notes", "Ask for Dana.\r\nPays on time.", "Ask for Dana.\nPays on time."),
        ("notes", "old Mac\rline ends\r", "old Mac\nline ends\n"),
        ("notes", "  indented\n  stays\n", "  indented\n  stays\n"),  # multi-line: not trimmed
        ("notes", "\ufeffpasted", "pasted"),
        ("updated", "2026-12-01T11:00:00+02:00", "2026-12-01T09:00:00Z"),
        ("updated", "2026-12-01T10:00:00.500-01:30", "2026-12-01T11:30:00.500Z"),
        ("updated", "2026-12-01 10:00:00z", "2026-12-01T10:00:00Z"),
        ("updated", "2026-12-01T10:00:00.500Z", "2026-12-01T10:00:00.500Z"),  # kept as written
        ("updated", "yesterday", "yesterday"),  # not a date-time: left for the checks
    ],
)
def test_normal_form_of_a_field(field: str, given: Any, normal_value: Any) -> None:
    assert normal.normal_form("contact", contact(**{field: given}))[field] == normal_value


def test_normal_form_of_nested_and_unknown_fields() -> None:
    referral = {
        "title": " Data pipeline ",
        "history": [{"at": "2026-12-01T12:00:00+01:00", "note": "line one\r\nline two"}],
        "zzz": "  unknown fields: NFC and line ends only\r\n",
    }
    assert normal.normal_form("referral", referral) == {
        "title": "Data pipeline",
        "history": [{"at": "2026-12-01T11:00:00Z", "note": "line one\nline two"}],
        "zzz": "  unknown fields: NFC and line ends only\n",
    }


def test_normal_form_keeps_what_is_normal_and_what_is_no_text() -> None:
    data = contact(tags=["a", 1, None, {"b": "c"}], location=False, phones="+44 20")
    assert normal.normal_form("contact", data) is data  # nothing to change: the same object


def test_the_loader_and_the_writer_apply_it() -> None:
    raw = (
        b'\xef\xbb\xbfid: x\nkind: other\nname: "Zu\\u0308rich "\n'
        b'notes: "a\\r\\nb"\nadded_by: me\nupdated: 2026-12-01T11:00:00+02:00\n'
    )
    data = records.load_yaml(raw, "contacts/x.yaml").data
    assert data["name"] == "Zürich" and data["notes"] == "a\nb"
    assert data["updated"] == "2026-12-01T09:00:00Z"
    written = schema.dump_record("contacts", {**data, "name": "Zu\u0308rich "})
    assert b"name: Z\xc3\xbcrich\n" in written and b"notes: |-\n  a\n  b\n" in written
    assert not written.startswith(b"\xef\xbb\xbf")
    # a document read for no record path is brought to NFC and line ends only
    other = records.load_yaml(b'name: "Zu\\u0308rich "\n', "jobshare.yaml").data
    assert other == {"name": "Zürich "}


# --- what it reports -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("name", "Acme\x1b]0;pwned\x07", "name: contains the control characters U+001B (ESC)"),
        ("name", "Acme\x07", "U+0007 (BEL): a one-line field allows none"),
        ("name", "Ac\x00me", "U+0000 (NUL)"),
        ("role", "Recruiter\nand more", "role: contains the control character U+000A"),
        ("organization", "Acme\tLtd", "U+0009 (TAB)"),
        ("location", "\x9b2J", "U+009B (CSI)"),
        ("tags", ["ok", "bad\x1b[2J"], "tags/1: contains the control character U+001B"),
        ("notes", "line\x1b[2J\nnext", "notes: contains the control character U+001B (ESC)"),
        ("name", "   ", "name: must not be empty"),
        (
            "website",
            "acme.example",
            "'acme.example' lacks its scheme: write 'https://acme.example'",
        ),
        (
            "website",
            "www.acme.example/jobs",
            "write 'https://www.acme.example/jobs'",
        ),
        ("phones", ["call me"], "'call me' is not a valid phone number, e.g. +44 20 7946 0000"),
        ("phones", ["+999 1234 5678"], "has no country code that phone numbers use"),
        ("phones", ["12"], "'12' has 2 digits, too few for a phone number"),
        ("emails", ["Dana@Acme.example", "dana@acme.example"], "are the same email address"),
        ("tags", ["Remote", "remote"], "'Remote' and 'remote' are the same tag: keep one"),
        ("industries", ["FinTech", "fintech"], "are the same industry"),
        ("phones", ["+44 20 7946 0000", "+44 (0)20 7946-0000"], "are the same phone number"),
        ("notes", "x" * 25_000, "notes: is 25,000 characters long, over the limit of 20,000"),
    ],
)
def test_problems_it_reports(field: str, value: Any, message: str) -> None:
    found = problems(contact(**{field: value}))
    assert any(message in p for p in found), found
    assert all(len(p) < 200 for p in found)  # never the whole value


@pytest.mark.parametrize(
    "value",
    [
        "(415) 555-0100",
        "+1 (415) 555-0100 ext. 12",
        "+49 (0)40 123456",
        "020 7946 0000",
        "+44 20 7946 0000;ext=5",
        "+33 1.23.45.67.89",
        "555-0100 x7",
    ],
)
def test_everyday_phone_numbers_are_accepted(value: str) -> None:
    assert problems(contact(phones=[value])) == []


def test_a_number_and_its_national_spelling_are_two_items_without_a_region() -> None:
    # valid for every friend alike: without a country code, no region decides
    assert problems(contact(phones=["+1 415 555 0100", "(415) 555-0100"])) == []


@pytest.mark.parametrize(
    ("plain", "reads_as"),
    [
        ("=", "a special symbol"),
        ("~", "an empty value (null)"),
        ("null", "an empty value (null)"),
        ("yes", "true"),
        ("on", "true"),
        ("NO", "false"),
        ("Off", "false"),
        ("y", "true"),
        ("0123", "the number 83 (octal)"),
        ("0x1F", "the number 31"),
        ("1984", "a number"),
        ("1_000", "the number 1000"),
        ("1e3", "the number 1000"),
        ("09", "the number 9"),
        ("3.5", "a number"),
        (".inf", "infinity"),
        ("-.inf", "minus infinity"),
        (".NaN", "not-a-number (NaN)"),
        ("10:00", "the number 600 (base 60)"),
        ("2026-12-01", "a date"),
        ("2026-12-01 10:00:00", "a date and time"),
        ("<<", "a merge key"),
    ],
)
def test_plain_values_yaml_reads_specially(plain: str, reads_as: str) -> None:
    """Each gives "YAML reads X as ...: put it in quotes", never a word about tags."""
    for field in ("location", "name", "tags"):
        text = f"[{plain}]" if field == "tags" else plain
        found = loaded_problems(
            f"id: x\nkind: other\nname: X\n{field}: {text}\nadded_by: me\nupdated: '{T}'\n"
            if field != "name"
            else f"id: x\nkind: other\nname: {text}\nadded_by: me\nupdated: '{T}'\n"
        )
        wanted = f"YAML reads {plain} as {reads_as}"
        assert any(wanted in p and p.endswith("put it in quotes") for p in found), found
        assert not any("tag" in p.lower().replace("tags", "") for p in found), found


def test_an_empty_value_says_so() -> None:
    found = loaded_problems(f"id: x\nkind: other\nname:\nadded_by: me\nupdated: '{T}'\n")
    assert found == ["contacts/x.yaml:3: name: has no value: write one, or leave the field out"]


def test_special_looking_values_are_fine_where_they_are_meant() -> None:
    ok = (
        "id: x\ntitle: Job\nclient: acme\nfrom: bob\nto: anyone\nstatus: open\n"
        "deadline: 2026-12-15\ncreated: 2026-12-01T10:00:00Z\nupdated: 2026-12-01T10:00:00Z\n"
        "history:\n- at: 2026-12-01T10:00:00Z\n  by: bob\n  status: open\n"
    )
    assert loaded_problems(ok, "referrals") == []
    assert loaded_problems(f"id: x\nkind: other\nname: '1e3'\nadded_by: me\nupdated: '{T}'\n") == []


@pytest.mark.parametrize("plain", ["yes", "~", "0123", "1e3", "=", "2026-12-01", ".inf", "y"])
def test_jobshare_writes_such_values_quoted(plain: str) -> None:
    written = schema.dump_record("contacts", contact(location=plain, tags=[plain]))
    assert f"location: '{plain}'\n".encode() in written
    assert f"- '{plain}'\n".encode() in written
    assert records.load_yaml(written, "contacts/x.yaml").data["location"] == plain


def test_unique_items_keeps_the_first_spelling() -> None:
    assert normal.unique_items("tags", ["Remote", "remote", "REMOTE", "python"]) == [
        "Remote",
        "python",
    ]
    assert normal.unique_items("emails", ["A@x.example", "a@X.example"]) == ["A@x.example"]
    phones = ["+1 415 555 0100", "(415) 555-0100"]
    assert normal.unique_items("phones", phones) == phones  # no region: two numbers
    assert normal.unique_items("phones", phones, "US") == ["+1 415 555 0100"]
    assert normal.unique_items("notes", ["a", "a"]) == ["a", "a"]  # no set key: as given


# --- properties ------------------------------------------------------------------------------

PIECES = st.sampled_from(
    [
        "a",
        "Z",
        " ",
        "é",
        "e\u0301",  # é decomposed
        "ü",
        "u\u0308",
        "Å",
        "A\u030a",
        "\u212b",  # Ångström sign: NFC makes it Å
        "한",
        "\u1112\u1161\u11ab",  # 한 as jamo
        "日本",
        "\r\n",
        "\r",
        "\n",
        "\t",
        "\ufeff",
        "\u00a0",
        "\u200b",
        "\x1b",
        "\x07",
        "\x00",
        "\x9b",
        "😀",
    ]
)
TEXT = st.lists(PIECES, max_size=12).map("".join) | st.text(max_size=20)
FIELDS = st.sampled_from(["name", "location", "notes", "tags", "emails", "phones", "updated"])


@st.composite
def messy_contact(draw: st.DrawFn) -> dict[str, Any]:
    data = contact()
    for field in draw(st.lists(FIELDS, max_size=5, unique=True)):
        if field in ("tags", "emails", "phones"):
            data[field] = draw(st.lists(TEXT, max_size=3))
        else:
            data[field] = draw(TEXT)
    return data


@settings(max_examples=300, deadline=None)
@given(messy_contact())
@example(contact(name="\u212b\r\n", notes="\ufeff\ufeffa\r\r\n"))
def test_normalising_twice_changes_nothing(data: dict[str, Any]) -> None:
    once = normal.normal_form("contact", data)
    assert normal.normal_form("contact", once) == once
    for value in once.values():
        for text in value if isinstance(value, list) else [value]:
            if isinstance(text, str):
                assert unicodedata.is_normalized("NFC", text) and "\r" not in text


@settings(max_examples=300, deadline=None)
@given(messy_contact())
def test_messy_text_never_crashes_and_round_trips(data: dict[str, Any]) -> None:
    label = Label("contacts", "x")
    found = schema.record_problems(label, Loaded(data, {}))
    assert all(p.message and "\n" not in str(p) for p in found)
    try:
        raw = schema.dump_record("contacts", data)
    except JobshareError:  # a lone surrogate cannot be written: one clear error
        return
    loaded = records.load_yaml(raw, label.path)
    assert loaded.data == normal.normal_form("contact", data)
    assert schema.dump_record("contacts", loaded.data) == raw
    assert not raw.startswith(b"\xef\xbb\xbf") and b"\r" not in raw


def spellings(text: str) -> list[str]:
    """Ways people's tools write one single-line value."""
    nfd = unicodedata.normalize("NFD", text)
    return [text, nfd, f"  {text}\t", f"\ufeff{nfd}", f"{text}\r\n", f"\u00a0{text}\u200b"]


@settings(max_examples=200, deadline=None)
@given(st.lists(PIECES.filter(lambda p: p.strip() and p.isprintable()), min_size=1).map("".join))
def test_spellings_of_one_value_are_stored_alike(text: str) -> None:
    """NFC or NFD, surrounding spaces, a BOM, a line end: one stored spelling."""
    stored = {schema.dump_record("contacts", contact(name=s, tags=[s])) for s in spellings(text)}
    assert len(stored) == 1
    lines = [f"{text}\n", f"{text}\r\n", f"{unicodedata.normalize('NFD', text)}\r\n"]
    notes = {schema.dump_record("contacts", contact(notes=n * 2)) for n in lines}
    assert len(notes) == 1
