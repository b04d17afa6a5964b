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
