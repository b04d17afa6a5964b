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
