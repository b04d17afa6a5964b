"""records.py: the strict loader, the canonical writer, ids and labels."""

from __future__ import annotations

import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jobshare_sync.core import labels, normal, records, schema
from jobshare_sync.core.records import Label
from jobshare_sync.errors import LabelError, RecordError


@pytest.mark.parametrize(
    ("raw", "line", "message"),
    [
        (b"name: [unclosed\n", 2, "YAML syntax error"),
        (b"a: &a [x, x]\nb: &b [*a, *a]\nc: [*b, *b]\n", 2, "aliases"),
        (b"name: one\nname: two\n", 2, "duplicate key 'name'"),
        (b"name: !!python/object/apply:os.system [echo hi]\n", 1, "tag"),
        (b"name: !custom x\n", 1, "tag"),
        (b"\xff\xfe\x00name", None, "binary file"),
        (b"name: caf\xe9\n", 1, "not valid UTF-8"),
        (b"a:\n" + b"".join(b"  " * i + b"- \n" for i in range(1, 40)), None, "nested deeper"),
        (b"<<: {a: 1}\n", 1, "plain keys"),
    ],
)
def test_loader_rejects_with_file_and_line(raw: bytes, line: int | None, message: str) -> None:
    with pytest.raises(RecordError) as info:
        records.load_yaml(raw, "contacts/x.yaml")
    assert message in str(info.value)
    assert str(info.value).startswith("contacts/x.yaml")
    if line is not None:
        assert info.value.line == line


def test_loader_rejects_big_files_without_parsing() -> None:
    raw = b"notes: " + b"x" * (10 * 1024 * 1024) + b"\n"
    with pytest.raises(RecordError, match="over the 1,048,576-byte limit"):
        records.load_yaml(raw, "contacts/big.yaml")


def test_dates_stay_strings_and_lines_are_known() -> None:
    loaded = records.load_yaml(
        b"# yaml-language-server: $schema=../x.json\nid: a\nupdated: 2026-11-01\nlocation: NO\n",
        "p",
    )
    assert loaded.data == {"id": "a", "updated": "2026-11-01", "location": False}
    assert loaded.line_of("/updated") == 3
    assert loaded.line_of("/nowhere/deep") == 2  # the document starts after the comment


def test_canonical_form_orders_keys_and_uses_literal_blocks() -> None:
    data = {
        "updated": "2026-01-01T00:00:00Z",
        "notes": "one\ntwo\n",
        "name": "Zoë",
        "id": "z-1",
        "kind": "other",
        "added_by": "a",
    }
    text = schema.dump_record("contacts", data).decode()
    assert (
        text.splitlines()[0]
        == "# yaml-language-server: $schema=../.jobshare/schema/contact.schema.json"
    )
    assert [line.split(":")[0] for line in text.splitlines()[1:] if not line.startswith(" ")] == [
        "id",
        "kind",
        "name",
        "notes",
        "added_by",
        "updated",
    ]
    assert "notes: |\n  one\n  two\n" in text
    assert "Zoë" in text
    assert text.endswith("\n")


_text = st.text(alphabet=string.ascii_letters + string.digits + " .,:;#'\"-!?@é€ü\t", max_size=30)
_scalar = st.one_of(
    _text,
    st.sampled_from(
        [
            "NO",
            "yes",
            "null",
            "~",
            "2026-11-01",
            "12:30",
            "0x1F",
            "1e3",
            "+44 20",
            "- x",
            "a: b",
            "",
        ]
    ),
    st.integers(-(10**6), 10**6),
    st.booleans(),
    st.none(),
)
_multiline = st.lists(_text, min_size=1, max_size=5).map("\n".join) | st.lists(
    _text, max_size=4
).map(lambda lines: "".join(line + "\n" for line in lines))


@st.composite
def contact_like(draw: st.DrawFn) -> dict:
    data = {
        "id": draw(st.from_regex(r"[a-z0-9][a-z0-9-]{0,20}", fullmatch=True)),
        "kind": draw(st.sampled_from(["agency", "client", "other"])),
        "name": draw(_text),
        "emails": draw(st.lists(_scalar, max_size=3)),
        "notes": draw(_multiline),
        "updated": draw(_scalar),
    }
    extra = draw(
        st.dictionaries(
            st.sampled_from(["location", "role", "website", "zzz", "tags"]), _scalar, max_size=3
        )
    )
    data.update(extra)
    return data


@settings(max_examples=300, deadline=None)
@given(contact_like())
def test_canonical_writing_round_trips(data: dict) -> None:
    raw = schema.dump_record("contacts", data)
    loaded = records.load_yaml(raw, "contacts/x.yaml").data
    assert loaded == normal.normal_form("contact", data)  # the text in its normal form
    if normal.normal_form("contact", data) == data:
        assert loaded == data
    assert schema.dump_record("contacts", loaded) == raw
    assert schema.dump_record("contacts", dict(reversed(list(data.items())))) == raw


def test_ids_and_labels() -> None:
    new = labels.new_id("Société Générale Tech!")
    assert records.ID_RE.match(new) and new.startswith("societe-generale-tech-")
    assert labels.new_id("!!!").startswith("record-")
    assert records.label_of_path("contacts/a-1.yaml") == Label("contacts", "a-1")
    for bad in (
        "contacts/.yaml",
        "contacts/Bad.yaml",
        "other/a.yaml",
        "contacts/a/b.yaml",
        "../contacts/a.yaml",
    ):
        assert records.label_of_path(bad) is None
    known = [Label("contacts", "acme-1"), Label("referrals", "acme-1"), Label("contacts", "beta-2")]
    assert labels.parse_label("beta-2", known) == Label("contacts", "beta-2")
    assert labels.parse_label("bet", known) == Label("contacts", "beta-2")
    assert labels.parse_label("referrals/acme-1.yaml", known) == Label("referrals", "acme-1")
    with pytest.raises(LabelError, match="ambiguous"):
        labels.parse_label("acme-1", known)
    with pytest.raises(LabelError, match="no record"):
        labels.parse_label("zzz", known)
    with pytest.raises(LabelError, match="not a label"):
        labels.parse_label("people/x", known)


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("Zoë Łukasiewicz", "zoe-lukasiewicz"),
        ("Zo\u0308e\u0308", "zoe"),  # decomposed accents too
        ("Ωmega", "omega"),
        ("Дмитрий Волков", "dmitriy-volkov"),
        ("山田太郎", "shan-tian-tai-lang"),
        ("やまだ", "yamada"),
        ("한국어", "han-gug-eo"),
        ("Ærø Ølbryggeri", "aero-olbryggeri"),
        ("Straße & Söhne", "strasse-sohne"),
        ("😀 Smile Agency", "grinning-smile-agency"),
        ("!!!", "record"),
    ],
)
def test_new_ids_transliterate_every_script(name: str, slug: str) -> None:
    assert labels.slugify(name) == slug
    new = labels.new_id(name)
    assert records.ID_RE.match(new) and new.startswith(slug + "-")


KNOWN = {
    Label("contacts", "zoe-lukasiewicz-x7k2"): "Zoë Łukasiewicz",
    Label("contacts", "muller-personal-ab2c"): "Müller Personal",
    Label("contacts", "acme-recruiting-7k2q"): "Acme Recruiting",
    Label("contacts", "acme-data-2b3c"): "Acme Data",
    Label("referrals", "data-pipeline-q7rn"): "Data pipeline, 3 months",
}


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("contacts/acme-data-2b3c", "contacts/acme-data-2b3c"),  # the label
        ("acme-data-2b3c.yaml", "contacts/acme-data-2b3c"),  # the id
        ("zoe", "contacts/zoe-lukasiewicz-x7k2"),  # a unique id prefix
        ("Zoë Łukasiewicz", "contacts/zoe-lukasiewicz-x7k2"),  # the name
        ("zoe lukasiewicz", "contacts/zoe-lukasiewicz-x7k2"),  # without case or accents
        ("ZOË ŁUKASIEWICZ", "contacts/zoe-lukasiewicz-x7k2"),
        ("Zo\u0308e\u0308 \u0141ukasiewicz", "contacts/zoe-lukasiewicz-x7k2"),  # typed in NFD
        ("lukas", "contacts/zoe-lukasiewicz-x7k2"),  # a word of the name, begun
        ("Müller Personal", "contacts/muller-personal-ab2c"),
        ("Mu\u0308ller Personal", "contacts/muller-personal-ab2c"),
        ("muller", "contacts/muller-personal-ab2c"),
        ("acme rec", "contacts/acme-recruiting-7k2q"),
        ("data pipeline", "referrals/data-pipeline-q7rn"),  # a referral's title
        ("Data pipeline, 3 months", "referrals/data-pipeline-q7rn"),
    ],
)
def test_match_label_finds_records_as_people_name_them(text: str, found: str) -> None:
    assert str(labels.match_label(text, KNOWN, lambda: KNOWN)) == found


@pytest.mark.parametrize(
    ("text", "error"),
    [
        (
            "acme",
            "'acme' is ambiguous: say contacts/acme-data-2b3c or contacts/acme-recruiting-7k2q",
        ),
        ("Acme", "ambiguous"),  # a name beginning both
        ("nobody", "no record 'nobody'"),
        ("", "an empty label"),
    ],
)
def test_match_label_refuses_what_is_ambiguous_or_unknown(text: str, error: str) -> None:
    with pytest.raises(LabelError, match=error):
        labels.match_label(text, KNOWN, lambda: KNOWN)


def test_match_label_reads_names_only_when_no_id_matches() -> None:
    def titles() -> dict[Label, str]:
        raise AssertionError("names read for an id")

    assert labels.match_label("acme-data", KNOWN, titles) == Label("contacts", "acme-data-2b3c")


def test_the_loader_notes_plain_values_yaml_reads_specially() -> None:
    raw = b"a: yes\nb: 'yes'\nc: 1e3\nd: [2026-12-01, x]\ne: =\nf: text\ng: |\n  1e3\n"
    loaded = records.load_yaml(raw, "p", lines=False)
    assert loaded.data == {
        "a": True,
        "b": "yes",
        "c": "1e3",
        "d": ["2026-12-01", "x"],
        "e": "=",
        "f": "text",
        "g": "1e3\n",
    }
    assert loaded.specials == {"/a": "yes", "/c": "1e3", "/d/0": "2026-12-01", "/e": "="}
    assert records.plain_reading("text") is None and records.plain_reading("yes") == "true"
