"""core/search.py: what a search and the filters of `list` match, as tables of cases."""

from __future__ import annotations

from typing import Any

import pytest

from jobshare_sync.core.records import Label
from jobshare_sync.core.search import Query, entry_of, matches, since_key

ZOE: dict[str, Any] = {
    "id": "zoe-1",
    "kind": "recruiter",
    "name": "Zoë Łukasiewicz",
    "organization": "Straße & Co",
    "emails": ["Zoe@Example.ORG"],
    "tags": ["Remote", "python"],
    "industries": ["FinTech"],
    "added_by": "Alice",
    "updated": "2026-12-01T11:00:00+02:00",
    "notes": "Met at PyCon_2026\n",
}

CASES = [
    (Query(), True),
    (Query(search="zoe"), True),
    (Query(search="ZOË ŁUKAS"), True),
    (Query(search="lukasiewicz zoe"), True),
    (Query(search="ukas"), False),  # a word's start, not any part of it
    (Query(search="strasse"), True),
    (Query(search="zoe@example.org"), True),
    (Query(search="pycon 2026"), True),
    (Query(search="zoe-1"), True),
    (Query(search="zoe nobody"), False),
    (Query(search="!!"), False),
    (Query(search="recruiter"), True),  # values, not field names
    (Query(search="organization"), False),
    (Query(tag="REMOTE"), True),
    (Query(tag="remot"), False),
    (Query(industry="fintech"), True),
    (Query(added_by="alice"), True),
    (Query(added_by="bob"), False),
    (Query(kind="recruiter", folder="contacts"), True),
    (Query(kind="agency"), False),
    (Query(folder="referrals"), False),
    (Query(updated_since="2026-12-01"), True),
    (Query(updated_since="2026-12-01T09:00:00Z"), True),  # 11:00+02:00 is 09:00Z
    (Query(updated_since="2026-12-01T09:00:01Z"), False),
    (Query(updated_since="soon"), False),
]


@pytest.mark.parametrize("query, expected", CASES, ids=[str(i) for i in range(len(CASES))])
def test_what_a_query_matches(query: Query, expected: bool) -> None:
    assert matches(entry_of(Label("contacts", "zoe-1"), None, ZOE), query) is expected


def test_a_file_that_is_no_mapping_is_in_no_answer() -> None:
    for data in (None, [], "text", 3):
        entry = entry_of(Label("contacts", "x"), "0" * 40, data)
        assert entry.data is None and not matches(entry, Query())


@pytest.mark.parametrize(
    "text, key",
    [
        ("2026-12-01", "2026-12-01T00:00:00.000000Z"),
        ("2026-12-01T10:00:00+01:00", "2026-12-01T09:00:00.000000Z"),
        (" 2026-12-01 ", "2026-12-01T00:00:00.000000Z"),
        ("12/01/2026", None),
        ("", None),
    ],
)
def test_updated_since_takes_a_date_or_a_date_time(text: str, key: str | None) -> None:
    assert since_key(text) == key
