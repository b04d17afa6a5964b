"""core/values.py: the keys two spellings of one value share."""

from __future__ import annotations

import pytest

from jobshare_sync.core import values


@pytest.mark.parametrize(
    ("a", "b", "region"),
    [
        ("(415) 555-0100", "+1 415 555 0100", "US"),
        ("+1 (415) 555-0100 ext. 12", "+14155550100;ext=12", "ZZ"),
        ("+49 (0)40 123456", "+49 40 123456", "ZZ"),
        ("020 7946 0000", "+44 20 7946 0000", "GB"),
    ],
)
def test_two_spellings_of_one_number_share_a_key(a: str, b: str, region: str) -> None:
    assert values.phone_key(a, region) is not None
    assert values.phone_key(a, region) == values.phone_key(b, region)


def test_a_number_that_does_not_parse_falls_back_to_its_digits() -> None:
    assert values.phone_key("call me") is None
    assert values.phone_compare_key("0-800-HELP", "ZZ") == "0800"


@pytest.mark.parametrize(
    ("url", "host"),
    [
        ("https://WWW.Acme.example/jobs/", "acme.example"),
        ("http://acme.example", "acme.example"),
        ("acme.example/contact", "acme.example"),
        ("https://jobs.acme.example:8443/", "jobs.acme.example"),
        ("www.com", "www.com"),
        ("", None),
    ],
)
def test_website_host(url: str, host: str | None) -> None:
    assert values.website_host(url) == host


def test_instants_compare_by_time_not_by_text() -> None:
    earlier = values.parse_instant("2026-12-01T11:00:00+02:00")
    later = values.parse_instant("2026-12-01T10:00:00Z")
    assert earlier is not None and later is not None and earlier < later
    half = values.parse_instant("2026-12-01T10:00:00.500Z")
    assert half is not None and half > later
    assert values.parse_instant("2026-12-01T10:00:00") is None  # no offset: not an instant
    assert values.format_instant(earlier) == "2026-12-01T09:00:00Z"


def test_keys_fold_case_and_accents() -> None:
    assert values.email_key(" Dana@Acme.Example ") == values.email_key("dana@acme.example")
    assert values.word_key("Remote") == values.word_key("remote")
    assert values.fold("Zoë Łukasiewicz") == "zoe lukasiewicz"
    assert values.nfc("Zu\u0308rich") == "Zürich"


@pytest.mark.parametrize(
    ("name", "tokens"),
    [
        ("ACME Recruiting, Ltd.", ("acme", "recruiting")),
        ("Acme Recruiting Limited", ("acme", "recruiting")),
        ("Zoë Müller GmbH & Co. KG", ("zoe", "muller")),
        ("Société Lumière S.A.", ("societe", "lumiere")),
        ("Société Lumière S. A.", ("societe", "lumiere")),
        ("Fjord Logistics AS", ("fjord", "logistics")),
        ("Wisła Sp. z o.o.", ("wisla",)),
        ("Northwind B.V.", ("northwind",)),
        ("O'Brien & Partners LLC", ("obrien", "partners")),
        ("Smith, Dana", ("smith", "dana")),
        ("IT-Support", ("it", "support")),
        ("Inc.", ("inc",)),  # a name that is only a legal form keeps it
        ("AG Analytics", ("ag", "analytics")),  # only at the end
        ("", ()),
    ],
)
def test_name_tokens_fold_and_drop_legal_forms(name: str, tokens: tuple[str, ...]) -> None:
    assert values.name_tokens(name) == tokens
    assert values.name_key(name) == " ".join(tokens)


@pytest.mark.parametrize(
    ("url", "key"),
    [
        ("https://www.acme.example/jobs/", "acme.example"),
        ("https://linkedin.com/in/Dana-Smith/", "linkedin.com/in/dana-smith"),
        ("https://uk.linkedin.com/in/dana-smith", "uk.linkedin.com/in/dana-smith"),
        ("https://www.xing.com/", None),  # a shared host alone names nobody
        ("https://sites.google.com/view/acme", "sites.google.com/view/acme"),
        ("https://notlinkedin.com/in/x", "notlinkedin.com"),
        ("", None),
    ],
)
def test_website_key_keeps_the_path_on_shared_hosts(url: str, key: str | None) -> None:
    assert values.website_key(url) == key


def test_shared_hosts_and_email_domains() -> None:
    assert values.is_shared_host("gmail.com") and values.is_shared_host("de.linkedin.com")
    assert not values.is_shared_host("acme.example") and not values.is_shared_host("com")
    assert values.email_domain("Dana@Acme.Example") == "acme.example"
    assert values.email_domain("no-at-sign") is None


# --- the normal form of one value ----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "single_line", "expected"),
    [
        ("Mu\u0308ller", True, "Müller"),
        ("  Acme \t", True, "Acme"),
        ("\ufeff\u200bAcme\u00a0\u3000", True, "Acme"),
        ("Acme\r\n", True, "Acme"),
        ("a\r\nb\rc\n", False, "a\nb\nc\n"),
        ("  keep\n  indents  ", False, "  keep\n  indents  "),
        ("\ufeffnote", False, "note"),
        ("\x1bstays\x07", True, "\x1bstays\x07"),  # control characters are refused, not removed
    ],
)
def test_normal_text(text: str, single_line: bool, expected: str) -> None:
    assert values.normal_text(text, single_line=single_line) == expected
    assert values.normal_text(expected, single_line=single_line) == expected


def test_control_characters_are_named() -> None:
    assert values.control_characters("a\x1b]0;x\x07\x1b", single_line=True) == [
        "U+001B (ESC)",
        "U+0007 (BEL)",
    ]
    assert values.control_characters("a\tb\nc", single_line=True) == [
        "U+0009 (TAB)",
        "U+000A (line break)",
    ]
    assert values.control_characters("a\tb\nc", single_line=False) == []
    assert values.control_characters("\x00\x85\x9b", single_line=False) == [
        "U+0000 (NUL)",
        "U+0085 (NEL)",
        "U+009B (CSI)",
    ]
    assert values.shorten("x" * 25_000) == "x" * 59 + "…"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("(415) 555-0100", None),
        ("+1 (415) 555-0100 ext. 12", None),
        ("+49 (0)40 123456", None),
        ("+44 20 7946 0000", None),
        ("0049 40 123456", None),
        ("+1 415 555 0100 #12", None),
        ("call me", "'call me' is not a valid phone number, e.g. +44 20 7946 0000"),
        ("0800-HELP", "is not a valid phone number, e.g. +44 20 7946 0000"),
        ("+999 1234 5678", "has no country code that phone numbers use"),
        ("12", "has 2 digits, too few"),
        ("1" * 20, "has 20 digits, too many"),
    ],
)
def test_phone_problem(text: str, problem: str | None) -> None:
    found = values.phone_problem(text)
    assert found is None if problem is None else problem in (found or "")


@pytest.mark.parametrize(
    ("text", "fixed"),
    [
        ("acme.example", "https://acme.example"),
        ("www.acme.example", "https://www.acme.example"),
        ("acme.example/jobs?x=1", "https://acme.example/jobs?x=1"),
        ("jobs.acme.co.uk", "https://jobs.acme.co.uk"),
        ("https://acme.example", None),
        ("HTTP://acme.example", None),
        ("ftp://acme.example", None),
        ("mailto:a@acme.example", None),
        ("a@acme.example", None),
        ("acme", None),
        ("not a site", None),
    ],
)
def test_website_fix(text: str, fixed: str | None) -> None:
    assert values.website_fix(text) == fixed


def test_website_key_ignores_scheme_www_and_path_off_shared_hosts() -> None:
    assert values.website_key("https://WWW.Acme.example/jobs/") == "acme.example"
    assert values.website_key("acme.example") == values.website_key("http://www.acme.example/")
    assert values.website_key("https://linkedin.com/in/a") != values.website_key(
        "https://linkedin.com/in/b"
    )


@pytest.mark.parametrize(
    ("text", "normal"),
    [
        ("2026-12-01T10:00:00Z", "2026-12-01T10:00:00Z"),
        ("2026-12-01T11:00:00+02:00", "2026-12-01T09:00:00Z"),
        ("2026-12-01T00:30:00+01:00", "2026-11-30T23:30:00Z"),
        ("2026-12-31T23:00:00-02:00", "2027-01-01T01:00:00Z"),
        ("2026-12-01T10:00:00.500+00:00", "2026-12-01T10:00:00.500Z"),
        ("2026-12-01t10:00:00z", "2026-12-01T10:00:00Z"),
        ("2026-12-01T10:00:00.123456789Z", "2026-12-01T10:00:00.123456789Z"),
        ("2026-12-01T10:00:00", "2026-12-01T10:00:00"),  # no offset: no instant, kept
        ("2026-02-30T10:00:00Z", "2026-02-30T10:00:00Z"),  # no such day: kept, for the checks
        ("2026-12-01 10:00", "2026-12-01 10:00"),
    ],
)
def test_normal_instant(text: str, normal: str) -> None:
    assert values.normal_instant(text) == normal
    assert values.normal_instant(normal) == normal


def test_instant_keys_sort_as_time() -> None:
    times = [
        "2026-12-01T10:00:00.500Z",
        "2026-12-01T10:00:00Z",
        "2026-12-01T11:00:00+02:00",
        "2026-12-01T10:00:00.1234567Z",
    ]
    ordered = sorted(times, key=lambda t: values.instant_key(t) or "")
    assert ordered == [
        "2026-12-01T11:00:00+02:00",
        "2026-12-01T10:00:00Z",
        "2026-12-01T10:00:00.1234567Z",
        "2026-12-01T10:00:00.500Z",
    ]
    assert values.instant_key("soon") is None and values.instant_key(5) is None


@pytest.mark.parametrize(
    ("environ", "region"),
    [
        ({"LANG": "en_GB.UTF-8"}, "GB"),
        ({"LANG": "de_DE.UTF-8", "LC_ALL": "fr_CH.UTF-8"}, "CH"),
        ({"LANG": "pt_BR", "LC_TELEPHONE": "en_US.UTF-8"}, "US"),
        ({"LANG": "sr_RS@latin"}, "RS"),
        ({"LANG": "C.UTF-8"}, None),
        ({"LANG": "POSIX"}, None),
        ({"LC_ALL": "C", "LANG": "en_GB.UTF-8"}, None),  # LC_ALL decides, as in POSIX
        ({"LANG": "en_XX.UTF-8"}, None),
        ({}, None),
    ],
)
def test_region_from_locale(environ: dict[str, str], region: str | None) -> None:
    assert values.region_from_locale(environ) == region


def test_item_keys_of_the_set_fields() -> None:
    email = values.item_key("emails")
    tag = values.item_key("tags")
    phone_us = values.item_key("phones", "US")
    phone = values.item_key("phones")
    assert email is not None and tag is not None and phone is not None and phone_us is not None
    assert email("Dana@Acme.Example") == email("dana@acme.example")
    assert tag("Remote") == tag(" remote") and tag("Zu\u0308rich") == tag("zürich")
    assert phone_us("(415) 555-0100") == phone_us("+1 415-555-0100")
    assert phone("(415) 555-0100") != phone("+1 415-555-0100")
    assert phone("w") != phone("x")  # no digits: only equal to itself
    assert values.item_key("notes") is None
    assert values.words("Zoë Łukasiewicz-Nowak") == ["zoe", "lukasiewicz", "nowak"]
