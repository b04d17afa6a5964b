"""core/cards: contacts to and from vCard 2.1/3.0/4.0 and Google, Outlook, LinkedIn and
other CSV files. Every example file in examples/import is read and a few contacts checked
field by field; the quirks each get a table; exported contacts read back equal themselves."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from conftest import DANA_FROM_IPHONE
from hypothesis import given, settings
from hypothesis import strategies as st

from jobshare_sync.core import cards, records, schema
from jobshare_sync.core.cards.model import ADDRESS_PARTS
from jobshare_sync.core.values import (
    clean_line,
    clean_text,
    email_key,
    format_instant,
    link_key,
    phone_compare_key,
    word_key,
)
from jobshare_sync.errors import InterchangeError

IMPORT = Path(__file__).resolve().parent.parent / "examples" / "import"


def read(name: str, **options: Any) -> cards.ReadResult:
    return cards.read_contacts((IMPORT / name).read_bytes(), name, **options)


def by_name(result: cards.ReadResult) -> dict[str, cards.ImportedContact]:
    return {c.fields["name"]: c for c in result.contacts}


def messages(result: cards.ReadResult) -> list[str]:
    return [str(p) for p in result.problems]


# --- the example files ------------------------------------------------------------------


def test_every_example_file_is_read_in_its_format_and_encoding() -> None:
    found = {
        path.name: (result.format, result.encoding, len(result.contacts))
        for path in sorted(IMPORT.iterdir())
        for result in [read(path.name)]
    }
    assert found == {
        "Connections.csv": ("linkedin-csv", "utf-8", 3),
        "agenturen.csv": ("csv", "cp1252", 2),
        "android-2.1.vcf": ("vcard", "mixed", 3),
        "google-old.csv": ("google-csv", "utf-8-sig", 2),
        "google.csv": ("google-csv", "utf-8", 4),
        "iphone-3.0.vcf": ("vcard", "utf-8", 3),
        "nextcloud-4.0.vcf": ("vcard", "utf-8", 2),
        "outlook.csv": ("outlook-csv", "utf-16", 2),
    }
    for path in IMPORT.iterdir():
        assert cards.detect_format(path.read_bytes()) == found[path.name][0]


def test_android_vcard_21_quoted_printable_charset_and_bare_commas() -> None:
    result = read("android-2.1.vcf")
    contacts = by_name(result)
    assert contacts["Ayşe Öztürk"].fields == {
        "name": "Ayşe Öztürk",
        "organization": "Bosphorus Talent",
        "role": "Senior tech recruiter",
        "emails": ["ayse@bosphorus-talent.example", "ayse.ozturk@mail.example"],
        "phones": ["+44 7700 900123", "020 7946 0321"],
        "website": "https://www.bosphorus-talent.example",
        "notes": (
            "Met at the Leeds fintech fair, 2025. Pays £550/day, net 30; prefers calls before "
            "10am.\nSecond line: ask about the Istanbul team, not the London one.\n"
        ),
    }
    # a card in ISO-8859-1 bytes, as its CHARSET says, in a file that is otherwise UTF-8
    assert contacts["Jürgen Müller"].fields == {
        "name": "Jürgen Müller",
        "organization": "Spree Talent GmbH",
        "emails": ["j.mueller@spree-talent.example"],
        "phones": ["+49 30 5550 7788", "+49 30 5550 7789"],
        "address": {
            "street": "Friedrichstraße 120",
            "locality": "Berlin",
            "postal_code": "10117",
            "country": "Deutschland",
        },
        "notes": "Rückruf nur vormittags, Freitag nie.\n",
    }
    assert contacts["Νίκος Παπαδόπουλος"].fields["emails"] == ["nikos@aegean-data.example"]
    assert [c.number for c in result.contacts] == [1, 2, 4]
    assert messages(result) == ["android-2.1.vcf:35: card 3: no name and no email: skipped"]
    assert result.ignored_summary() == "ignored: 1 BDAY, 1 PHOTO, 1 X-ANDROID-CUSTOM"


def test_iphone_vcard_30_groups_labels_social_profiles_and_a_company() -> None:
    result = read("iphone-3.0.vcf")
    contacts = by_name(result)
    dana = contacts["Dana Okafor"]
    assert dana.fields == DANA_FROM_IPHONE
    assert dana.uid is None and dana.updated is None and dana.line == 1
    assert contacts["Spreewald Energie GmbH"].fields == {
        "kind": "client",  # X-ABShowAs:COMPANY
        "name": "Spreewald Energie GmbH",
        "organization": "Spreewald Energie GmbH",
        "emails": ["einkauf@spreewald-energie.example"],
        "phones": ["+49 355 5550 1234"],
        "website": "https://spreewald-energie.example",
        "notes": "Buys data engineering by the project; framework contract until 2027.\n",
    }
    assert contacts["山田 花子"].fields == {
        "name": "山田 花子",
        "organization": "サクラデジタル株式会社",
        "role": "採用担当",
        "emails": ["hanako.yamada@sakura-digital.example"],
        "phones": ["+81 3 5555 0123"],
        "tags": ["clients", "Tokyo"],
    }
    assert result.problems == []
    assert result.ignored_summary() == (
        "ignored: 2 X-ABADR, 1 ADR, 1 BDAY, 1 PHOTO, 1 X-ABUID, 1 X-PHONETIC-FIRST-NAME, "
        "1 X-PHONETIC-LAST-NAME"
    )


def test_nextcloud_vcard_40_kind_uid_rev_and_escapes() -> None:
    result = read("nextcloud-4.0.vcf")
    fjord, maria = result.contacts
    assert fjord.fields == {
        "kind": "client",
        "name": "Fjord Logistics AS",
        "organization": "Fjord Logistics AS",
        "emails": ["freelance@fjord-logistics.example"],
        "phones": ["+47-21-55-01-23"],
        "website": "https://fjord-logistics.example",
        "address": {
            "street": "Havnegata 12",
            "locality": "Oslo",
            "postal_code": "0150",
            "country": "Norway",
        },
        "tags": ["client", "logistics", "Norway"],
        "notes": (
            "Long-term client. Contracts through their agency, never direct.\n"
            "Invoices: net 45; EUR or NOK.\nBackslash in their ERP path: C:\\ERP\\export\n"
        ),
    }
    assert fjord.uid == "urn:uuid:4fbe8971-0bc3-424c-9c26-36c3e1eff6b1"
    assert fjord.record_id is None  # a UUID is not one of our ids
    assert fjord.updated == "2026-04-12T08:30:00Z"
    assert maria.fields == {
        "name": "Мария Соколова",
        "organization": "Baltic Recruiting OÜ",
        "role": "Recruiter, IT contracts",
        "emails": ["m.sokolova@baltic-recruiting.example"],
        "phones": ["+372-5555-0199"],
        "links": ["https://www.linkedin.com/in/maria-sokolova-ee"],
        "notes": "Speaks Estonian, Russian and English.\n",
    }
    assert maria.updated == "2026-05-01T08:00:00Z"  # +02:00, as an instant
    assert messages(result) == [
        "nextcloud-4.0.vcf:32: card 2: warning: TEL 'tel:+372-5555-0199;ext=12': "
        "extension 12 left out"
    ]
    assert result.ignored_summary() == "ignored: 1 GENDER, 1 LOGO, 1 PHOTO"


def test_google_csv_current_header() -> None:
    result = read("google.csv")
    contacts = by_name(result)
    assert contacts["Siobhan Kelly"].fields == {
        "name": "Siobhan Kelly",
        "organization": "Harbour Street Recruitment",
        "role": "Contract recruiter",
        "emails": ["siobhan@harbour-street.example", "s.kelly@harbour-street.example"],
        "phones": ["+353 85 555 0142"],
        "website": "https://harbour-street.example",
        "links": ["https://www.linkedin.com/in/siobhan-kelly-dub"],
        "address": {
            "street": "7 Harbour Street",
            "locality": "Dublin",
            "postal_code": "D02 X285",
            "country": "Ireland",
        },
        "tags": ["Recruiters", "Dublin"],
        "notes": (
            "Knows every Dublin fintech, and who is hiring.\nRates: €550–650/day; she "
            'negotiates hard.\n"Call, don\'t email" on Fridays.\n'
        ),
    }
    assert contacts["प्रिया शर्मा"].fields["organization"] == "Ganga Analytics"
    assert contacts["Lumière Numérique SAS"].fields == {
        "kind": "client",  # no person's name: the organisation itself
        "name": "Lumière Numérique SAS",
        "organization": "Lumière Numérique SAS",
        "emails": ["achats@lumiere-numerique.example"],
        "website": "https://lumiere-numerique.example",
        "tags": ["Clients", "France"],
        "notes": "Paris, 11e; pays in 60 days.\n",
    }
    assert "emails" not in contacts["Tomasz Nowak"].fields
    assert messages(result) == [
        "google.csv:9: row 4: no name and no email: skipped",
        "google.csv:10: row 5: warning: E-mail 1 - Value 'tomasz(at)vistula-recruiting.example' "
        "is not an email address: left out",
    ]
    assert result.ignored_summary() == (
        "ignored: 1 Birthday, 1 Custom Field 1 - Value, 1 Organization Department, 1 Photo"
    )


def test_google_csv_older_header() -> None:
    result = read("google-old.csv")
    mehmet, lena = result.contacts
    assert mehmet.fields == {
        "name": "Mehmet Yılmaz",
        "organization": "Yılmaz Dev",
        "role": "Owner",
        "emails": ["mehmet@yilmaz-dev.example"],
        "phones": ["+49 151 5550 4411"],
        "website": "https://yilmaz-dev.example",
        "location": "Berlin, DE",
        "tags": ["Freelancers"],
        "notes": "Freelance Go developer; shares overflow work.\n",
    }
    assert lena.fields["links"] == ["https://www.xing.com/profile/Lena_Hoffmann7"]
    assert lena.fields["tags"] == ["Clients", "Leipzig"]
    assert result.ignored_summary() == "ignored: 1 Gender"


def test_outlook_csv_in_utf16() -> None:
    result = read("outlook.csv")
    ines, lukasz = result.contacts
    assert ines.fields == {
        "name": "Inés Castro",
        "organization": "Iberia IT Staffing",
        "role": "Account manager",
        "emails": ["ines.castro@iberia-it.example"],
        "phones": ["+34 91 555 0123", "+34 600 555 012"],
        "website": "https://iberia-it.example/",
        "address": {
            "street": "Calle de Alcalá 42, Planta 3",
            "locality": "Madrid",
            "postal_code": "28014",
            "country": "Spain",
        },
        "tags": ["Recruiters", "Spain"],
        "notes": (
            "Madrid and Lisbon projects, SAP and data.\n"
            "Sends contracts in Spanish; ask for English.\n"
        ),
    }
    assert lukasz.fields["name"] == "Łukasz Wiśniewski"
    assert lukasz.fields["organization"] == "Pieniądz Pay"
    assert result.ignored_summary() == "ignored: 1 Business Fax"  # Outlook's defaults say nothing


def test_a_windows_1252_spreadsheet_with_semicolons_through_map() -> None:
    mapping = cards.parse_mapping(
        [
            "Agentur=organization",
            "Ansprechpartner=name",
            "Ort=location",
            "Schwerpunkt=industries",
            "Notizen=notes",
            "Telefon=phones",
        ]
    )
    result = read("agenturen.csv", mapping=mapping, kind="agency")
    joerg, anna = result.contacts
    assert joerg.fields == {
        "kind": "agency",
        "name": "Jörg Weiß",
        "organization": "Nordlicht Digital GmbH",
        "emails": ["joerg.weiss@nordlicht-digital.example"],  # "E-Mail" is understood as it is
        "phones": ["+49 40 5550 2211"],
        "location": "Hamburg",
        "industries": ["E-Commerce", "Shopware"],
        "notes": "Tagessatz bis 780 €, Zahlung in 14 Tagen\n",
    }
    assert anna.fields["notes"] == "„Nur per E-Mail“ – ruft nie zurück\n"
    assert result.problems == [] and not result.ignored


def test_linkedin_connections_with_free_text_before_the_header() -> None:
    result = read("Connections.csv")
    dana, zoe, ahmed = result.contacts
    assert dana.fields == {
        "name": "Dana Okafor",
        "organization": "Northbridge Talent",
        "role": "Senior Tech Recruiter",
        "links": ["https://www.linkedin.com/in/dana-okafor-4b2a1"],
        "connected": "2024-03-05",
    }
    assert (dana.line, zoe.line, ahmed.line) == (5, 6, 7)
    assert zoe.fields["emails"] == ["zoe@brightlane.example"]
    assert zoe.fields["role"] == "Delivery Lead, Data & AI"
    assert ahmed.fields["name"] == "أحمد الفارسي" and ahmed.fields["connected"] == "2026-01-02"
    assert messages(result) == ["Connections.csv:8: row 4: no name and no email: skipped"]


def test_every_example_contact_is_a_valid_record() -> None:
    for path in IMPORT.iterdir():
        for contact in read(path.name).contacts:
            record = {
                "id": "x",
                "kind": "other",
                "added_by": "alice",
                "updated": "2026-01-01T00:00:00Z",
            }
            raw = schema.dump_record("contacts", record | contact.fields)
            label = records.Label("contacts", "x")
            assert schema.record_problems(label, records.load_yaml(raw, "x")) == [], contact


# --- vCard quirks -----------------------------------------------------------------------


def card(*lines: str, version: str = "3.0") -> bytes:
    body = ["BEGIN:VCARD", f"VERSION:{version}", *lines, "END:VCARD"]
    return ("\r\n".join(body) + "\r\n").encode("utf-8")


def one(data: bytes, **options: Any) -> cards.ImportedContact:
    result = cards.read_contacts(data, "t.vcf", **options)
    assert result.errors == [], messages(result)
    (contact,) = result.contacts
    return contact


@pytest.mark.parametrize(
    "lines, version, expected",
    [
        # folded lines (RFC 6350 3.2), a character split between two lines' bytes
        (["FN:Zo", " ë Ł", "\tukasiewicz"], "4.0", {"name": "Zoë Łukasiewicz"}),
        # 2.1: quoted-printable with CHARSET and soft line breaks; a bare comma stays
        (
            [
                "FN;ENCODING=QUOTED-PRINTABLE;CHARSET=UTF-8:Ay=C5=9Fe",
                "NOTE;QUOTED-PRINTABLE:one, two=",
                "; three=0D=0Afour",
            ],
            "2.1",
            {"name": "Ayşe", "notes": "one, two; three\nfour\n"},
        ),
        # 2.1: a backslash is a backslash
        (["FN:A", "NOTE:C:\\temp, D:\\n"], "2.1", {"name": "A", "notes": "C:\\temp, D:\\n\n"}),
        # 3.0 and 4.0: escapes (RFC 6350 3.4), and Google's `\:` in URLs
        (
            ["FN:Mr. John Q. Public\\, Esq.", "NOTE:a\\nb\\Nc\\;d\\\\e", "URL:http\\://x.example"],
            "3.0",
            {
                "name": "Mr. John Q. Public, Esq.",
                "website": "http://x.example",
                "notes": "a\nb\nc;d\\e\n",
            },
        ),
        # no FN: N gives the name; no names at all: the organisation, then the email
        (
            ["N:Stevenson;John;Philip,Paul;Dr.;Jr.,M.D."],
            "4.0",
            {"name": "Dr. John Philip Paul Stevenson Jr. M.D."},
        ),
        (
            ["ORG:ABC\\, Inc.;North American Division;Marketing", "KIND:org"],
            "4.0",
            {"kind": "client", "name": "ABC, Inc.", "organization": "ABC, Inc."},
        ),
        (
            ["EMAIL:only@mail.example"],
            "3.0",
            {"name": "only@mail.example", "emails": ["only@mail.example"]},
        ),
        # TYPE parameters: 2.1 bare ones, 3.0 repeated, 4.0 quoted lists; tel: URIs
        (
            [
                "FN:T",
                "TEL;CELL;PREF:+44 7700 900001",
                "TEL;type=WORK;type=pref:+44 7700 900002",
                'TEL;VALUE=uri;TYPE="voice,home":tel:+1-555-555-5555',
            ],
            "4.0",
            {"name": "T", "phones": ["+44 7700 900001", "+44 7700 900002", "+1-555-555-5555"]},
        ),
        # repeats of one value are one value: emails by case, phones as numbers
        (
            [
                "FN:R",
                "EMAIL:Dana@Acme.example",
                "EMAIL:dana@acme.example",
                "TEL:+44 20 7946 0000",
                "TEL:+442079460000",
            ],
            "3.0",
            {"name": "R", "emails": ["Dana@Acme.example"], "phones": ["+44 20 7946 0000"]},
        ),
        # URLs: the preferred one is the website; profiles (by type, label, host) are links
        (
            [
                "FN:U",
                "URL:https://www.linkedin.com/in/u",
                "URL:https://blog.u.example",
                "URL;PREF=1:https://u.example",
                "item1.URL:https://u.example/cv",
                "item1.X-ABLabel:LinkedIn",
                "URL;TYPE=x-profile:https://u.example/about",
            ],
            "4.0",
            {
                "name": "U",
                "website": "https://u.example",
                "links": [
                    "https://www.linkedin.com/in/u",
                    "https://blog.u.example",
                    "https://u.example/cv",
                    "https://u.example/about",
                ],
            },
        ),
        (
            ["FN:V", "URL:https://github.com/v", "URL:https://v.example"],
            "3.0",
            {"name": "V", "website": "https://v.example", "links": ["https://github.com/v"]},
        ),
        # CATEGORIES: a list, with an escaped comma inside one; repeats by case
        (
            ["FN:C", "CATEGORIES:a\\,b,Remote", "CATEGORIES:remote,x"],
            "4.0",
            {"name": "C", "tags": ["a,b", "Remote", "x"]},
        ),
        # the ADR a card prefers; a semicolon inside a part
        (
            [
                "FN:A",
                "ADR;TYPE=home:;;1 Home St;Town;;;",
                "ADR;TYPE=work:;;2 Work St\\; rear;City;;;",
                "ADR;PREF=1:PO 7;;;Leeds;;LS1;UK",
            ],
            "4.0",
            {
                "name": "A",
                "address": {
                    "post_office_box": "PO 7",
                    "locality": "Leeds",
                    "postal_code": "LS1",
                    "country": "UK",
                },
            },
        ),
        (
            [
                "FN:W",
                "ADR;TYPE=home:;;1 Home St;Town;;;",
                "ADR;TYPE=work:;;2 Work St\\; rear;City;;;",
            ],
            "4.0",
            {"name": "W", "address": {"street": "2 Work St; rear", "locality": "City"}},
        ),
        # what jobshare writes for fields vCard has no property for
        (
            [
                "FN:J",
                "X-JOBSHARE-KIND:agency",
                "X-JOBSHARE-LOCATION:London\\, UK",
                "X-JOBSHARE-INDUSTRIES:fintech,health\\, care",
                "X-JOBSHARE-CONNECTED:2024-03-05",
            ],
            "4.0",
            {
                "kind": "agency",
                "name": "J",
                "location": "London, UK",
                "industries": ["fintech", "health, care"],
                "connected": "2024-03-05",
            },
        ),
    ],
)
def test_vcard_quirks(lines: list[str], version: str, expected: dict[str, Any]) -> None:
    assert one(card(*lines, version=version)).fields == expected


@pytest.mark.parametrize(
    "lines, kind, expected",
    [
        (["FN:P"], None, None),  # says nothing: the importer's default applies
        (["FN:P"], "recruiter", "recruiter"),
        (["FN:O", "KIND:org"], None, "client"),
        (["FN:O", "KIND:org"], "agency", "agency"),  # --kind says more than KIND:org
        (["FN:O", "X-ABShowAs:COMPANY"], None, "client"),
        (["FN:J", "KIND:org", "X-JOBSHARE-KIND:service-business"], "agency", "service-business"),
        (["FN:J", "X-JOBSHARE-KIND:robot"], None, None),
    ],
)
def test_the_kind_of_a_card(lines: list[str], kind: str | None, expected: str | None) -> None:
    assert one(card(*lines, version="4.0"), kind=kind).fields.get("kind") == expected


def test_uid_rev_and_added_by() -> None:
    contact = one(
        card(
            "FN:X",
            "UID;VALUE=text:acme-recruiting-7k2q",
            "REV:19951031T222710Z",
            "X-JOBSHARE-ADDED-BY:alice",
            version="4.0",
        )
    )
    assert contact.uid == contact.record_id == "acme-recruiting-7k2q"
    assert (contact.updated, contact.added_by) == ("1995-10-31T22:27:10Z", "alice")


@pytest.mark.parametrize(
    "text, expected",
    [
        ("19951031T222710Z", "1995-10-31T22:27:10Z"),
        ("1995-10-31T22:27:10Z", "1995-10-31T22:27:10Z"),
        ("1995-10-31T22:27:10.123Z", "1995-10-31T22:27:10Z"),
        ("19951031T222710", "1995-10-31T22:27:10Z"),
        ("2026-05-01T10:00:00+02:00", "2026-05-01T08:00:00Z"),
        ("20260501T100000-0130", "2026-05-01T11:30:00Z"),
        ("20260501", "2026-05-01T00:00:00Z"),
        ("2026-13-01T00:00:00Z", None),
        ("yesterday", None),
    ],
)
def test_rev(text: str, expected: str | None) -> None:
    assert cards.parse_rev(text) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2024-03-05", "2024-03-05"),
        ("20240305", "2024-03-05"),
        ("05 Mar 2024", "2024-03-05"),
        ("5 March 2024", "2024-03-05"),
        ("Mar 5, 2024", "2024-03-05"),
        ("31 Feb 2024", None),
        ("05/03/24", None),  # day or month first? not guessed
    ],
)
def test_days(text: str, expected: str | None) -> None:
    assert cards.parse_day(text) == expected


def test_bad_cards_and_lines_are_reported_with_their_line_and_the_rest_is_read() -> None:
    data = b"".join(
        [
            card("FN:Good one", "EMAIL:good@one.example"),
            b"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Never ended\r\n",
            card(
                "FN:Second",
                "this line has no colon",
                "PHOTO;ENCODING=b;TYPE=JPEG:AAAA",
                "BDAY:2000-01-01",
            ),
            card("TEL:+44 7700 900001", "NOTE:only a phone"),
            card("FN:Bad charset", "NOTE;ENCODING=QUOTED-PRINTABLE;CHARSET=x-nonesuch:caf=E9"),
            card("FN:Bad email", "EMAIL:not-an-address", "TEL:call me", "URL:mailto:x@y.example"),
        ]
    )
    result = cards.read_contacts(data, "t.vcf")
    assert [c.fields["name"] for c in result.contacts] == [
        "Good one",
        "Second",
        "Bad charset",
        "Bad email",
    ]
    assert messages(result) == [
        "t.vcf:6: card 2: BEGIN:VCARD without END:VCARD: skipped",
        "t.vcf:12: card 3: warning: line 12 is not a vCard property ('this line has no colon'): "
        "left out",
        "t.vcf:16: card 4: no name and no email: skipped",
        "t.vcf:24: card 5: warning: NOTE could not be decoded (unknown encoding: x-nonesuch): "
        "left out",
        "t.vcf:29: card 6: warning: EMAIL 'not-an-address' is not an email address: left out",
        "t.vcf:30: card 6: warning: TEL 'call me' is not a phone number: left out",
        "t.vcf:31: card 6: warning: URL 'mailto:x@y.example' is not a web address: left out",
    ]
    assert result.ignored == {"PHOTO": 1, "BDAY": 1}
    assert [p.severity for p in result.problems].count("error") == 2


def test_what_cannot_be_read_at_all_raises_one_clear_error() -> None:
    with pytest.raises(InterchangeError, match="t.csv is empty"):
        cards.read_contacts(b"  \n", "t.csv")
    with pytest.raises(InterchangeError, match="no column gives a name or an email"):
        cards.read_contacts(b"Colour,Size\nred,3\n", "t.csv")
    with pytest.raises(InterchangeError, match="--map names column 'Agency'"):
        cards.read_contacts(
            b"Name,Mail\nA,a@b.example\n", "t.csv", mapping={"Agency": "organization"}
        )
    with pytest.raises(InterchangeError, match="is not COLUMN=FIELD"):
        cards.parse_mapping(["Agency"])
    with pytest.raises(InterchangeError, match="'colour' is not a contact field"):
        cards.parse_mapping(["Agency=colour"])
    with pytest.raises(ValueError, match="unknown format"):
        cards.read_contacts(b"x", "t", format="xml")
    with pytest.raises(ValueError, match="unknown kind"):
        cards.read_contacts(b"x", "t", kind="robot")


# --- CSV quirks -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data, encoding",
    [
        ("Name,Email\nZoë,z@x.example\n".encode(), "utf-8"),
        ("\ufeffName,Email\nZoë,z@x.example\n".encode(), "utf-8-sig"),
        ("Name,Email\r\nZoë,z@x.example\r\n".encode("utf-16"), "utf-16"),
        ("Name,Email\r\nZoë,z@x.example\r\n".encode("utf-16-le"), "utf-16-le"),
        ("Name,Email\r\nZoë,z@x.example\r\n".encode("utf-16-be"), "utf-16-be"),
        ("Name,Email\r\nZoë,z@x.example\r\n".encode("cp1252"), "cp1252"),
        ("Name\tEmail\nZoë\tz@x.example\n".encode(), "utf-8"),
        ("Name;Email\nZoë;z@x.example\n".encode(), "utf-8"),
        ("Name|Email\nZoë|z@x.example\n".encode(), "utf-8"),
        ("'Name';'Email'\n'Zoë';'z@x.example'\n".encode(), "utf-8"),
    ],
)
def test_csv_encodings_delimiters_and_quotes_are_found(data: bytes, encoding: str) -> None:
    result = cards.read_contacts(data, "t.csv")
    assert (result.format, result.encoding) == ("csv", encoding)
    assert [c.fields for c in result.contacts] == [{"name": "Zoë", "emails": ["z@x.example"]}]


def test_csv_cells_with_commas_quotes_and_new_lines() -> None:
    data = (
        b'Name,Notes,Tags,Phone\r\n"Okafor, Dana","Line one, ""quoted""\r\nline two; end",'
        b'"a; b, c",+44 20 7946 0000\r\nSecond,,,\r\n'
    )
    result = cards.read_contacts(data, "t.csv")
    first, second = result.contacts
    assert first.fields == {
        "name": "Okafor, Dana",
        "phones": ["+44 20 7946 0000"],
        "tags": ["a", "b", "c"],
        "notes": 'Line one, "quoted"\nline two; end\n',
    }
    assert (first.line, second.line) == (2, 4)


def test_generic_csv_map_joins_names_and_collects_sets() -> None:
    data = b"First,Last,Agency,Mail,Mail 2,Street,Town\nDana,Okafor,Northbridge,d@n.example,d2@n.example,1 High St,Leeds\n"
    mapping = cards.parse_mapping(
        [
            "First=name",
            "Last=name",
            "Agency=organization",
            "Mail=emails",
            "Mail 2=emails",
            "Street=address.street",
            "Town = address.locality",
        ]
    )
    (contact,) = cards.read_contacts(data, "t.csv", mapping=mapping).contacts
    assert contact.fields == {
        "name": "Dana Okafor",
        "organization": "Northbridge",
        "emails": ["d@n.example", "d2@n.example"],
        "address": {"street": "1 High St", "locality": "Leeds"},
    }


def test_forced_formats_and_values_too_long_for_a_contact() -> None:
    data = ("Name,Notes\nA," + "x" * 20001 + "\n").encode()
    result = cards.read_contacts(data, "t.csv", format="csv")
    (contact,) = result.contacts
    assert len(contact.fields["notes"]) <= 20000
    assert messages(result) == [
        "t.csv:2: row 1: warning: notes are longer than 20000 characters: cut"
    ]
    linkedin = b"First Name,Last Name,URL\nA,B,https://www.linkedin.com/in/ab\n"
    forced = cards.read_contacts(linkedin, "c.csv", format="linkedin-csv")
    assert forced.format == "linkedin-csv"
    assert forced.contacts[0].fields["links"] == ["https://www.linkedin.com/in/ab"]


# --- export -----------------------------------------------------------------------------


def unfold(text: str) -> list[str]:
    assert "\n" not in text.replace("\r\n", "")  # CRLF line ends only
    return text.replace("\r\n ", "").split("\r\n")[:-1]


def test_vcard_40_output_matches_rfc_6350s_examples() -> None:
    """The property lines of RFC 6350's own examples (sections 6.2.1, 6.3.1, 6.6.4, 6.7.1,
    6.7.2, 6.7.4, 6.1.4, 6.6.4), written from a record that holds the same values."""
    record = {
        "id": "acme-7k2q",
        "kind": "agency",
        "name": "Mr. John Q. Public, Esq.",
        "organization": "ABC, Inc.",
        "address": {
            "street": "123 Main Street",
            "locality": "Any Town",
            "region": "CA",
            "postal_code": "91921-1234",
            "country": "U.S.A.",
        },
        "tags": ["INTERNET", "IETF", "INDUSTRY", "INFORMATION TECHNOLOGY"],
        "notes": "This fax number is operational 0800 to 1715 EST, Mon-Fri.",
        "updated": "1995-10-31T22:27:10Z",
        "added_by": "alice",
    }
    lines = unfold(cards.to_vcard(record))
    assert lines[:2] == ["BEGIN:VCARD", "VERSION:4.0"] and lines[-1] == "END:VCARD"
    for expected in [
        "FN:Mr. John Q. Public\\, Esq.",
        "ORG:ABC\\, Inc.",
        "ADR;TYPE=work:;;123 Main Street;Any Town;CA;91921-1234;U.S.A.",
        "CATEGORIES:INTERNET,IETF,INDUSTRY,INFORMATION TECHNOLOGY",
        "NOTE:This fax number is operational 0800 to 1715 EST\\, Mon-Fri.",
        "KIND:org",
        "REV:19951031T222710Z",
        "UID;VALUE=text:acme-7k2q",
    ]:
        assert expected in lines
    assert not any(line.startswith("N:") for line in lines)  # an organisation has no N
    three = unfold(cards.to_vcard(record, "3.0"))
    assert three[:2] == ["BEGIN:VCARD", "VERSION:3.0"]
    assert {"N:;;;;", "X-ABSHOWAS:COMPANY", "REV:1995-10-31T22:27:10Z", "UID:acme-7k2q"} <= set(
        three
    )
    with pytest.raises(ValueError, match="use 4.0 or 3.0"):
        cards.to_vcard(record, "2.1")


@pytest.mark.parametrize(
    "text, escaped",
    [
        ("a,b", "a\\,b"),
        ("a;b", "a\\;b"),
        ("C:\\path", "C:\\\\path"),
        ("line\nnext", "line\\nnext"),
        ("\\,", "\\\\\\,"),
        ("plain: text", "plain: text"),
    ],
)
def test_escape(text: str, escaped: str) -> None:
    assert cards.escape(text) == escaped


def test_lines_are_folded_at_75_octets_without_splitting_a_character() -> None:
    text = cards.to_vcard({"id": "x", "kind": "other", "name": "名" * 80, "notes": "é" * 300})
    physical = text.split("\r\n")
    assert all(len(line.encode()) <= 75 for line in physical)
    assert sum(line.startswith(" ") for line in physical) > 5
    (contact,) = cards.read_contacts(text.encode(), "x.vcf").contacts
    assert contact.fields["name"] == "名" * 80 and contact.fields["notes"] == "é" * 300 + "\n"


def test_person_names_split_so_that_they_come_back() -> None:
    assert cards.split_name("Dana Okafor") == ("Dana", "Okafor")
    assert cards.split_name("Jean-Luc de la Croix") == ("Jean-Luc de la", "Croix")
    assert cards.split_name("山田花子") == ("山田花子", "")
    assert cards.split_name("Dana  Okafor") == ("Dana  Okafor", "")  # two spaces stay
    lines = unfold(cards.to_vcard({"id": "x", "kind": "recruiter", "name": "Dana Okafor"}))
    assert "N:Okafor;Dana;;;" in lines


# --- round trips ------------------------------------------------------------------------

_UNSAFE = ("Cc", "Cs", "Zl", "Zp")
_text = st.text(st.characters(blacklist_categories=_UNSAFE), min_size=1, max_size=30)
# non-Latin letters, and the characters vCard and CSV escape or quote
_tricky = st.sampled_from(list(",;:\\\"'=* ") + ["名", "Ł", "é", "ش", "Ж", "ü", "€", "\t"])
_line = (
    st.lists(st.one_of(_text, _tricky), min_size=1, max_size=6)
    .map(lambda parts: clean_line("".join(parts)))
    .filter(bool)
)


def _limited(limit: int) -> st.SearchStrategy[str]:
    return _line.map(lambda s: s[:limit].strip()).filter(bool)


_notes = st.lists(st.one_of(_line, st.just("")), min_size=1, max_size=5).map(
    lambda lines: clean_text("\n".join(lines))
)
_email = st.from_regex(r"[A-Za-z0-9._%+-]{1,12}@[a-z0-9-]{1,12}\.[a-z]{2,6}", fullmatch=True)
# real country codes (the normal form refuses a `+` code no country uses), national parts
# of any plausible length, with the spacing people type
_phone = st.builds(
    lambda cc, rest: f"+{cc} {rest}",
    st.sampled_from(["1", "33", "44", "49", "61", "81", "86", "91", "353"]),
    st.from_regex(r"[1-9][0-9]{2}( ?[0-9]{2,3}){1,3}", fullmatch=True),
)
_url = st.from_regex(
    r"https?://(www\.)?[a-z0-9-]{1,12}\.(example|com)(/[A-Za-z0-9_.~%-]{1,12}){0,2}/?",
    fullmatch=True,
)
# Google's CSV separates several values in one cell with " ::: " and keeps labels that
# start with "* " for itself: such tags cannot travel through it.
_word = _limited(60).filter(lambda s: ":::" not in s and not s.startswith("* "))
_instant = st.datetimes(min_value=dt.datetime(1900, 1, 1), max_value=dt.datetime(2200, 1, 1)).map(
    lambda d: format_instant(d.replace(microsecond=0, tzinfo=dt.UTC))
)


@st.composite
def contacts(draw: st.DrawFn) -> dict[str, Any]:
    """A contact record as jobshare writes it: values in normal form, no repeats of one
    value under its key (emails by case, phones as numbers, tags by case)."""
    record: dict[str, Any] = {
        "id": draw(st.from_regex(r"[a-z0-9][a-z0-9-]{0,20}", fullmatch=True)),
        "kind": draw(st.sampled_from(cards.KINDS)),
        "name": draw(_limited(200)),
    }
    optional: dict[str, st.SearchStrategy[Any]] = {
        "organization": _limited(200),
        "role": _limited(200),
        "emails": st.lists(_email, min_size=1, max_size=3, unique_by=email_key),
        "phones": st.lists(_phone, min_size=1, max_size=3, unique_by=phone_compare_key),
        "website": _url,
        "links": st.lists(_url, min_size=1, max_size=3, unique_by=lambda u: link_key(u) or u),
        "location": _limited(200),
        "address": st.dictionaries(st.sampled_from(ADDRESS_PARTS), _limited(40), min_size=1),
        "industries": st.lists(_word, min_size=1, max_size=3, unique_by=word_key),
        "tags": st.lists(_word, min_size=1, max_size=4, unique_by=word_key),
        "connected": st.dates(dt.date(1990, 1, 1), dt.date(2100, 1, 1)).map(dt.date.isoformat),
        "notes": _notes.filter(bool),
    }
    for name, strategy in optional.items():
        if draw(st.booleans()):
            record[name] = draw(strategy)
    if record.get("website") in record.get("links", []):
        record["links"].remove(record["website"])
        if not record["links"]:
            del record["links"]
    record["added_by"] = draw(st.from_regex(r"[a-z0-9][a-z0-9_-]{0,10}", fullmatch=True))
    record["updated"] = draw(_instant)
    return record


def back(contact: cards.ImportedContact) -> dict[str, Any]:
    """An imported contact as the record it was exported from."""
    record = dict(contact.fields)
    record.update(id=contact.uid, added_by=contact.added_by, updated=contact.updated)
    return record


@settings(max_examples=300, deadline=None)
@given(record=contacts(), version=st.sampled_from(cards.VERSIONS))
def test_a_contact_exported_to_vcard_and_read_back_is_itself(
    record: dict[str, Any], version: str
) -> None:
    text = cards.to_vcard(record, version)
    result = cards.read_contacts(text.encode(), "x.vcf")
    assert result.problems == [] and not result.ignored, messages(result)
    (contact,) = result.contacts
    assert back(contact) == record
    assert list(contact.fields) == [
        k for k in schema.field_order("contact")[0] if k in contact.fields
    ]
    # and it is a valid record as it comes back
    raw = schema.dump_record("contacts", back(contact))
    label = records.Label("contacts", record["id"])
    assert schema.record_problems(label, records.load_yaml(raw, label.path)) == []


@settings(max_examples=150, deadline=None)
@given(many=st.lists(contacts(), min_size=1, max_size=4))
def test_many_contacts_exported_to_google_csv_and_read_back_are_themselves(
    many: list[dict[str, Any]],
) -> None:
    text = cards.to_google_csv(many)
    result = cards.read_contacts(text.encode(), "x.csv")
    assert result.format == "google-csv"
    assert result.problems == [] and not result.ignored, messages(result)
    assert [back(c) for c in result.contacts] == many


@settings(max_examples=50, deadline=None)
@given(many=st.lists(contacts(), min_size=2, max_size=5), version=st.sampled_from(cards.VERSIONS))
def test_a_file_of_many_cards_reads_back_card_by_card(
    many: list[dict[str, Any]], version: str
) -> None:
    result = cards.read_contacts(cards.to_vcards(many, version).encode(), "x.vcf")
    assert [back(c) for c in result.contacts] == many
    assert [c.number for c in result.contacts] == list(range(1, len(many) + 1))


def test_a_vcard_file_in_utf16_and_one_with_a_byte_order_mark() -> None:
    text = "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Zoë Ł\r\nEND:VCARD\r\n"
    for data in (
        text.encode("utf-16"),
        text.encode("utf-16-le"),
        "\ufeff".encode() + text.encode(),
    ):
        assert cards.detect_format(data) == "vcard"
        result = cards.read_contacts(data, "t.vcf")
        assert [c.fields for c in result.contacts] == [{"name": "Zoë Ł"}]
