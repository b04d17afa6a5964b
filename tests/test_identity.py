"""core/identity: finding likely duplicates, combining, notes by source, aliases, carrying
edits into a survivor. (Merging with aliases: tests/test_identity_converge.py.)"""

from __future__ import annotations

import copy
import random
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jobshare_sync.core import identity, schema
from jobshare_sync.core.records import Label
from jobshare_sync.errors import InvalidRecordError, LabelError

PROPERTY = settings(max_examples=150, deadline=None)
NOW = "2026-10-05T12:00:00Z"


def contact(record_id: str, name: str, added_by: str = "alice", **fields: Any) -> dict[str, Any]:
    record = {
        "id": record_id,
        "kind": "agency",
        "name": name,
        "added_by": added_by,
        "updated": "2026-10-01T09:00:00Z",
    }
    record.update(fields)
    return record


def errors(record: dict[str, Any]) -> list[str]:
    return schema.record_errors(Label("contacts", record["id"]), record)


# --- finding ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b", "fields"),
    [
        ({"emails": ["Jobs@Acme.example"]}, {"emails": ["jobs@acme.example"]}, {"emails"}),
        ({"phones": ["020 7946 0000"]}, {"phones": ["+44 20 7946 0000"]}, {"phones"}),
        (
            {"website": "https://www.acme.example/jobs/"},
            {"website": "http://acme.example"},
            {"website"},
        ),
        (
            {"website": "https://linkedin.com/in/dana-smith"},
            {"website": "https://www.linkedin.com/in/Dana-Smith/"},
            {"website"},
        ),
        ({"name": "Acme Recruiting Ltd."}, {"name": "ACME Recruiting"}, {"name"}),
        ({"name": "Zoë Müller"}, {"name": "Zoe Mueller"}, {"name"}),
        ({"name": "Smith, Dana"}, {"name": "Dana Smith"}, {"name"}),
        (
            {"name": "Dana Smith", "emails": ["dana@acme.example"]},
            {"name": "Dana Smyth", "emails": ["sam@acme.example"]},
            {"name", "domain"},
        ),
    ],
)
def test_reasons_that_make_a_match(a: dict[str, Any], b: dict[str, Any], fields: set[str]) -> None:
    left = contact("left", "Left One") | a
    right = contact("right", "Right Two") | b
    match = identity.match_pair(left, right, region="GB")
    assert match is not None
    assert {r.field for r in match.reasons} == fields
    assert (match.left, match.right) == ("left", "right")
    for reason in match.reasons:  # the values as written, with their pointers
        assert reason.left_pointer.startswith(f"/{reason.field.rstrip('s')}") or reason.field in (
            "domain",
            "website",
        )
        assert reason.left in str(left.values()) and reason.right in str(right.values())


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ({"name": "IT-Support"}, {"name": "IT Support"}),  # only common words
        ({"name": "Sales"}, {"name": "Sales"}),
        ({"name": "Acme Sales"}, {"name": "Globex Sales"}),  # only a common word shared
        ({"name": "Acme Recruiting"}, {"name": "Globex Recruiting"}),
        ({"name": "Northbridge Talent Partners"}, {"name": "Southbridge Talent Partners"}),
        ({"website": "https://www.linkedin.com"}, {"website": "https://linkedin.com/"}),
        ({"emails": ["a@gmail.com"]}, {"emails": ["b@gmail.com"]}),  # shared mail host
        ({"emails": ["dana@acme.example"]}, {"emails": ["sam@acme.example"]}),  # weak alone
        ({"organization": "Acme"}, {"organization": "Acme Ltd"}),  # weak alone
        ({"phones": ["112"]}, {"phones": ["112"]}),  # too short to name anyone
        ({"name": "Dana Smith"}, {"name": "Sam Jones"}),
    ],
)
def test_what_never_makes_a_match(a: dict[str, Any], b: dict[str, Any]) -> None:
    left = contact("left", "Left Person") | a
    right = contact("right", "Other Body") | b
    assert identity.match_pair(left, right) is None


def test_same_name_in_two_organisations_scores_lower() -> None:
    same = identity.match_pair(
        contact("a", "Dana Smith", organization="Acme"),
        contact("b", "Dana Smith", organization="Acme Ltd"),
    )
    other = identity.match_pair(
        contact("a", "Dana Smith", organization="Acme"),
        contact("b", "Dana Smith", organization="Globex"),
    )
    assert same is not None and other is not None
    assert same.score > 0.8 > 0.5 > other.score


def test_groups_best_first_with_reasons_and_scores() -> None:
    records = [
        contact("acme-1", "Acme Recruiting", emails=["jobs@acme.example"]),
        contact("acme-2", "ACME Recruiting Ltd", emails=["JOBS@acme.example"]),
        contact("acme-3", "Acme Recruitment", phones=["+44 20 7946 0000"]),
        contact("sales-1", "Sales"),
        contact("sales-2", "Sales"),
        contact("dana-1", "Dana Smith", phones=["+44 20 7946 0001"]),
        contact("dana-2", "Dana Smyth", phones=["+44 (0)20 7946 0001"]),
        identity.make_alias(contact("old", "Acme Recruiting"), "acme-1", by="bob", at=NOW),
    ]
    groups = identity.find_duplicates(records, region="GB")
    assert [g.ids for g in groups] == [("acme-1", "acme-2", "acme-3"), ("dana-1", "dana-2")]
    assert groups[0].score >= groups[1].score
    best = groups[0].matches[0]
    assert (best.left, best.right) == ("acme-1", "acme-2")
    assert {r.field for r in best.reasons} == {"emails", "name"}
    email = next(r for r in best.reasons if r.field == "emails")
    assert (email.left, email.right, email.right_pointer) == (
        "jobs@acme.example",
        "JOBS@acme.example",
        "/emails/0",
    )
    assert groups[0].to_json()["matches"][0]["reasons"][0]["field"] == "emails"
    # min_score and only
    assert [g.ids for g in identity.find_duplicates(records, region="GB", min_score=0.97)] == [
        ("acme-1", "acme-2")
    ]
    only = identity.find_duplicates(records, region="GB", only=["dana-2"])
    assert [g.ids for g in only] == [("dana-1", "dana-2")]


@PROPERTY
@given(seed=st.integers(0, 10_000))
def test_groups_do_not_depend_on_the_order_of_records(seed: int) -> None:
    records = [
        contact(f"r{i}", name, emails=[f"{name.split()[0].lower()}@x{i % 3}.example"])
        for i, name in enumerate(
            ["Acme Recruiting", "Acme Recruitment", "Dana Smith", "Dana Smyth", "Globex", "IT"]
        )
    ]
    shuffled = copy.deepcopy(records)
    random.Random(seed).shuffle(shuffled)
    assert identity.find_duplicates(shuffled) == identity.find_duplicates(records)


def test_blocking_compares_few_pairs_of_many_records() -> None:
    """20,000 distinct records with some shared words: the pairs compared grow with what
    records share, not with the square of their number, and planted duplicates are found."""
    rng = random.Random(1)
    syllables = ["ka", "lo", "mi", "ne", "ru", "ta", "vi", "zo", "pe", "su", "da", "fi"]

    def word() -> str:
        return "".join(rng.choice(syllables) for _ in range(4))

    records = [
        contact(
            f"r{i}",
            f"{word().title()} {rng.choice(['Recruiting', 'Consulting', 'GmbH', 'Talent'])}",
            emails=[f"info{i}@{word()}.example"],
            phones=[f"+49 30 {1000000 + i}"],
        )
        for i in range(20_000)
    ]
    records.append(contact("twin", records[123]["name"], emails=records[123]["emails"]))
    pairs = identity.candidate_pairs(records)
    assert len(pairs) < 20 * len(records)  # all pairs would be 200 million
    assert ("r123", "twin") in pairs
    groups = identity.find_duplicates(records)
    assert ("r123", "twin") in [g.ids for g in groups]


# --- notes by source ----------------------------------------------------------------------


def test_notes_split_and_join_in_canonical_form() -> None:
    text = (
        "Ask for Dana.\n\n"
        "From contacts/zeta-1 (added by bob):\nZeta line.\n\n\n"
        "From contacts/beta-2:\nBeta line.\n"
    )
    notes = identity.split_notes(text)
    assert notes.own == "Ask for Dana.\n"
    assert list(notes.sections) == ["zeta-1", "beta-2"]
    assert notes.sections["zeta-1"] == identity.Section("zeta-1", "bob", "Zeta line.\n")
    joined = identity.join_notes(notes.own, notes.sections.values())
    assert joined == (
        "Ask for Dana.\n\n"
        "From contacts/beta-2:\nBeta line.\n\n"
        "From contacts/zeta-1 (added by bob):\nZeta line.\n"
    )
    assert identity.join_notes(*_parts(joined)) == joined


def _parts(text: str) -> tuple[str, list[identity.Section]]:
    notes = identity.split_notes(text)
    return notes.own, list(notes.sections.values())


_line = st.text(st.sampled_from("abc xyz.:()"), min_size=1, max_size=12).filter(str.strip)


@PROPERTY
@given(
    own=st.lists(_line, max_size=3),
    sections=st.dictionaries(
        st.sampled_from(["a-1", "b-2", "c-3"]), st.lists(_line, min_size=1, max_size=3)
    ),
)
def test_joined_notes_read_back_the_same(own: list[str], sections: dict[str, list[str]]) -> None:
    parts = [
        identity.Section(k, "bob", "".join(x.strip() + "\n" for x in v))
        for k, v in sections.items()
    ]
    text = identity.join_notes("".join(x.strip() + "\n" for x in own), parts)
    assert identity.join_notes(*_parts(text)) == text


def _notes(own: str, **sections: str) -> str:
    parts = [identity.Section(k.replace("_", "-"), "bob", v) for k, v in sections.items()]
    return identity.join_notes(own, parts)


@pytest.mark.parametrize(
    ("base", "ours", "theirs", "origins", "alternatives", "expect"),
    [
        # two friends combine different records into one survivor: two sections, no clash
        (
            _notes("Own.\n"),
            _notes("Own.\n", b_1="B.\n"),
            _notes("Own.\n", c_1="C.\n"),
            {},
            [],
            _notes("Own.\n", b_1="B.\n", c_1="C.\n"),
        ),
        # an edit of the own text meets a new section at the end
        (
            "Own.\n",
            "Own.\nMore.\n",
            _notes("Own.\n", b_1="B.\n"),
            {},
            [],
            _notes("Own.\nMore.\n", b_1="B.\n"),
        ),
        # one record combined on both sides, one copy edited first: its base notes settle it
        (
            "Own.\n",
            _notes("Own.\n", b_1="B.\n"),
            _notes("Own.\n", b_1="B.\nEdited.\n"),
            {"b-1": "B.\n"},
            [],
            _notes("Own.\n", b_1="B.\nEdited.\n"),
        ),
        # a section only another merge base holds (criss-cross) is the base of that part
        (
            "Own.\n",
            _notes("Own.\n", b_1="B.\nX.\nY.\n"),
            _notes("Own.\n", b_1="B.\nX.\n"),
            {},
            [_notes("Own.\n", b_1="B.\n")],
            _notes("Own.\n", b_1="B.\nX.\nY.\n"),
        ),
        # no base knows the section: merged on the lines both copies hold
        (
            "Own.\n",
            _notes("Own.\n", b_1="New.\nB.\n"),
            _notes("Own.\n", b_1="B.\nOld.\n"),
            {},
            [],
            _notes("Own.\n", b_1="New.\nB.\nOld.\n"),
        ),
        # a section removed on one side and untouched on the other is removed
        (_notes("Own.\n", b_1="B.\n"), "Own.\n", _notes("Own.\n", b_1="B.\n"), {}, [], "Own.\n"),
        # the same lines by two routes, one with more: the larger, not a conflict
        ("Own.\n", "Own.\nA.\nB.\n", "Own.\nA.\n", {}, [], "Own.\nA.\nB.\n"),
        # a genuine clash of one part stays a conflict
        ("Own.\n", "Ours.\n", "Theirs.\n", {}, [], None),
        (
            _notes("Own.\n", b_1="B.\n"),
            _notes("Own.\n", b_1="B1.\n"),
            _notes("Own.\n", b_1="B2.\n"),
            {},
            [],
            None,
        ),
    ],
)
def test_merging_notes_by_source(
    base: str,
    ours: str,
    theirs: str,
    origins: dict[str, str],
    alternatives: list[str],
    expect: str | None,
) -> None:
    assert identity.merge_notes_by_source(base, ours, theirs, origins, alternatives) == expect
    assert identity.merge_notes_by_source(base, theirs, ours, origins, alternatives) == expect


# --- combining ----------------------------------------------------------------------------

KEEP = contact(
    "acme-a",
    "Acme Recruiting",
    role="Tech desk",
    emails=["jobs@acme.example"],
    phones=["+44 20 7946 0000"],
    tags=["Remote"],
    notes="Ask for Dana.\n",
)
OTHER = contact(
    "acme-b",
    "ACME Recruiting Ltd",
    "bob",
    kind="recruiter",
    role="Tech desk",
    location="London, UK",
    emails=["JOBS@acme.example", "dana@acme.example"],
    phones=["020 7946 0000", "+44 20 7946 0001"],
    tags=["remote", "contract"],
    industries=["fintech"],
    notes="Pays on time.\n",
    updated="2026-10-03T09:00:00Z",
)


def test_combine_keeps_every_value_and_reports_what_it_did_not_take() -> None:
    result = identity.combine(KEEP, [OTHER], region="GB")
    record = result.record
    assert record["id"] == "acme-a" and record["added_by"] == "alice"
    assert record["emails"] == ["jobs@acme.example", "dana@acme.example"]
    assert record["phones"] == ["+44 20 7946 0000", "+44 20 7946 0001"]
    assert record["tags"] == ["Remote", "contract"] and record["industries"] == ["fintech"]
    assert record["notes"] == (
        "Ask for Dana.\n\nFrom contacts/acme-b (added by bob):\nPays on time.\n"
    )
    assert record["name"] == "Acme Recruiting" and record["kind"] == "agency"
    assert record["location"] == "London, UK"  # KEEP had none: nothing to choose
    assert record["updated"] == "2026-10-03T09:00:00Z"  # the latest
    assert [c.field for c in result.choices] == ["kind", "name"]
    assert result.message_lines() == [
        "kind: took 'agency' (contacts/acme-a); not taken: 'recruiter' (contacts/acme-b)",
        "name: took 'Acme Recruiting' (contacts/acme-a); not taken: "
        "'ACME Recruiting Ltd' (contacts/acme-b)",
    ]
    assert errors(record) == []


def test_combine_takes_a_chosen_value() -> None:
    result = identity.combine(
        KEEP, [OTHER], {"name": "ACME Recruiting Ltd", "role": "Desk"}, updated=NOW
    )
    assert result.record["name"] == "ACME Recruiting Ltd" and result.record["role"] == "Desk"
    assert result.record["updated"] == NOW
    name = next(c for c in result.choices if c.field == "name")
    assert (name.taken_from, name.not_taken) == ("acme-b", (("acme-a", "Acme Recruiting"),))
    role = next(c for c in result.choices if c.field == "role")
    assert role.taken_from is None and role.not_taken == (("acme-a", "Tech desk"),)


@pytest.mark.parametrize(
    ("keep", "others", "chosen", "error"),
    [
        (KEEP, [], {}, LabelError),
        (KEEP, [KEEP], {}, LabelError),
        (KEEP, [OTHER, OTHER], {}, LabelError),
        (KEEP, [identity.make_alias(OTHER, "x", by="bob", at=NOW)], {}, LabelError),
        (KEEP, [OTHER], {"emails": "x@y.example"}, InvalidRecordError),
        (KEEP, [OTHER], {"added_by": "bob"}, InvalidRecordError),
        (KEEP, [OTHER], {"nmae": "Acme"}, InvalidRecordError),
        (KEEP, [OTHER], {"alias_of": "acme-b"}, InvalidRecordError),
    ],
)
def test_combine_refuses_bad_input(
    keep: dict[str, Any], others: list[dict[str, Any]], chosen: dict[str, Any], error: type
) -> None:
    with pytest.raises(error):
        identity.combine(keep, others, chosen)


def test_combine_merges_sections_the_records_already_had() -> None:
    earlier = identity.combine(OTHER, [contact("acme-c", "Acme", "carol", notes="C says hi.\n")])
    result = identity.combine(KEEP, [earlier.record])
    notes = identity.split_notes(result.record["notes"])
    assert notes.own == "Ask for Dana.\n"
    assert {k: s.text for k, s in notes.sections.items()} == {
        "acme-b": "Pays on time.\n",
        "acme-c": "C says hi.\n",
    }


_email = st.sampled_from(["a@x.example", "A@X.example", "b@x.example", "c@y.example"])
_phone = st.sampled_from(
    ["+44 20 7946 0000", "020 7946 0000", "+44 20 7946 0001", "+1 415 555 0100"]
)
_word = st.sampled_from(["remote", "Remote", "python", "contract"])


@st.composite
def contacts(draw: st.DrawFn, record_id: str) -> dict[str, Any]:
    record = contact(
        record_id,
        draw(st.sampled_from(["Acme", "ACME Ltd", "Acme Recruiting"])),
        draw(st.sampled_from(["alice", "bob", "carol"])),
        kind=draw(st.sampled_from(["agency", "recruiter"])),
        updated=draw(st.sampled_from(["2026-10-01T09:00:00Z", "2026-10-02T10:00:00+02:00"])),
    )
    for name, items in (("emails", _email), ("phones", _phone), ("tags", _word)):
        if values := draw(st.lists(items, max_size=3, unique=True)):
            record[name] = values
    for name in ("role", "location"):
        if draw(st.booleans()):
            record[name] = draw(st.sampled_from(["Desk", "Lead", "London"]))
    lines = draw(st.lists(_line, max_size=3))
    if lines:
        record["notes"] = "".join(x.strip() + "\n" for x in lines)
    return record


@st.composite
def combinations(draw: st.DrawFn) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    ids = ["rec-a", "rec-b", "rec-c", "rec-d"][: draw(st.integers(2, 4))]
    records = [draw(contacts(i)) for i in ids]
    return records[0], records[1:]


def _line_set(notes: Any) -> set[str]:
    return {x for x in str(notes or "").splitlines() if x.strip()}


@PROPERTY
@given(data=combinations(), seed=st.integers(0, 1000))
def test_combining_does_not_depend_on_the_order_of_the_others(
    data: tuple[dict[str, Any], list[dict[str, Any]]], seed: int
) -> None:
    keep, others = data
    shuffled = copy.deepcopy(others)
    random.Random(seed).shuffle(shuffled)
    first, second = identity.combine(keep, others), identity.combine(keep, shuffled)
    assert first.record == second.record and first.choices == second.choices
    # whichever record is kept, the values are the same sets
    swapped = identity.combine(others[0], [keep, *others[1:]])
    for name in ("emails", "phones", "tags"):
        keys = [
            {identity.value_key(name, v) for v in r.get(name, [])}
            for r in (first.record, swapped.record)
        ]
        assert keys[0] == keys[1]
    header = identity.notes.HEADER_RE
    assert {x for x in _line_set(first.record.get("notes")) if not header.match(x)} == {
        x for x in _line_set(swapped.record.get("notes")) if not header.match(x)
    }


@PROPERTY
@given(data=combinations(), chosen=st.sampled_from([{}, {"name": "Chosen"}, {"role": "Lead"}]))
def test_combining_loses_no_value_of_any_record(
    data: tuple[dict[str, Any], list[dict[str, Any]]], chosen: dict[str, Any]
) -> None:
    keep, others = data
    result = identity.combine(keep, others, chosen)
    record = result.record
    for source in (keep, *others):
        for name in ("emails", "phones", "tags"):
            have = {identity.value_key(name, v) for v in record.get(name, [])}
            assert {identity.value_key(name, v) for v in source.get(name, [])} <= have
        assert _line_set(source.get("notes")) <= _line_set(record.get("notes"))
        for name in ("name", "kind", "role", "location"):
            if name in source:
                kept = record.get(name) == source[name]
                reported = any(
                    c.field == name and (source["id"], source[name]) in (*c.not_taken, *c.values)
                    for c in result.choices
                )
                assert kept or reported
    assert record["id"] == keep["id"] and record["added_by"] == keep["added_by"]
    assert errors(record) == []


# --- aliases ------------------------------------------------------------------------------


def test_an_alias_is_valid_by_the_contact_schema_and_written_canonically() -> None:
    alias = identity.make_alias(OTHER, "acme-a", by="carol", at=NOW)
    assert alias == {
        "id": "acme-b",
        "alias_of": "acme-a",
        "alias_reason": "combined",
        "alias_by": "carol",
        "alias_at": NOW,
        "added_by": "bob",
    }
    assert errors(alias) == []
    assert schema.dump_record("contacts", alias).decode().splitlines()[1:] == [
        "id: acme-b",
        "alias_of: acme-a",
        "alias_reason: combined",
        "alias_by: carol",
        f"alias_at: '{NOW}'",
        "added_by: bob",
    ]
    assert identity.is_alias(alias) and not identity.is_alias(OTHER)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"name": "Acme"}, "name: an alias (a record with alias_of) holds only id, alias_of"),
        ({"alias_reason": "merged"}, "alias_reason: 'merged' is not one of: combined, renamed"),
        ({"alias_at": "yesterday"}, "alias_at: 'yesterday' is not an ISO 8601 date-time"),
        ({"alias_of": "Bad Id"}, "alias_of: 'Bad Id' is not a valid alias of"),
        ({"alias_by": None}, "alias_by: should be text"),
    ],
)
def test_a_bad_alias_gets_one_clear_message(change: dict[str, Any], message: str) -> None:
    alias = identity.make_alias(OTHER, "acme-a", by="carol", at=NOW) | change
    found = errors(alias)
    assert len(found) == 1 and found[0].startswith(message), found


def test_a_contact_may_not_carry_alias_fields_without_alias_of() -> None:
    assert errors(KEEP | {"alias_by": "bob"}) == [
        "alias_by: unknown field 'alias_by'; allowed fields: id, kind, name, organization, "
        "role, emails, phones, website, links, location, address, industries, tags, connected, "
        "notes, added_by, updated, format"
    ]


def test_rename_keeps_everything_under_the_new_id() -> None:
    renamed, alias = identity.rename(OTHER, "acme-recruiting-b", by="bob", at=NOW)
    assert renamed == OTHER | {"id": "acme-recruiting-b"}
    assert alias["alias_reason"] == "renamed" and alias["alias_of"] == "acme-recruiting-b"
    assert errors(alias) == [] and errors(renamed) == []
    with pytest.raises(ValueError):
        identity.make_alias(OTHER, "acme-b", by="bob", at=NOW)


def _alias(record_id: str, target: str, at: str = NOW, by: str = "bob") -> dict[str, Any]:
    return identity.make_alias(contact(record_id, "X"), target, by=by, at=at)


T1, T2, T3 = "2026-10-01T09:00:00Z", "2026-10-02T09:00:00Z", "2026-10-03T09:00:00Z"


@pytest.mark.parametrize(
    ("aliases", "start", "path"),
    [
        ([], "a", ["a"]),
        ([("a", "b", T1)], "a", ["a", "b"]),
        ([("a", "b", T1), ("b", "c", T2)], "a", ["a", "b", "c"]),  # a chain: one survivor
        # b -> a came later: it is undone, so b stays, and a (combined into b first) leads there
        ([("a", "b", T1), ("b", "a", T2)], "a", ["a", "b"]),
        ([("a", "b", T1), ("b", "a", T2)], "b", ["b"]),
        ([("a", "b", T2), ("b", "a", T1)], "a", ["a"]),
        ([("a", "b", T2), ("b", "a", T1)], "b", ["b", "a"]),
        ([("a", "b", T1), ("b", "c", T2), ("c", "a", T3)], "b", ["b", "c"]),  # c's undone
        ([("x", "a", T1), ("a", "b", T1), ("b", "a", T2)], "x", ["x", "a", "b"]),
        # the same instant: the alias naming the greater id counts as later
        ([("a", "b", T1), ("b", "a", T1)], "a", ["a"]),
        ([("a", "gone", T1)], "a", ["a", "gone"]),  # a chain to a missing record ends there
    ],
)
def test_resolving_follows_chains_and_settles_cycles(
    aliases: list[tuple[str, str, str]], start: str, path: list[str]
) -> None:
    by_id = {a: _alias(a, b, at) for a, b, at in aliases}
    assert identity.alias_path(start, by_id) == path
    assert identity.resolve(start, by_id.get) == path[-1]


def test_settling_takes_the_earlier_alias_and_undoes_the_latest_of_a_cycle() -> None:
    # Two combines of one record: the earlier stands.
    settled = identity.settle_aliases({"x": [_alias("x", "b", T2), _alias("x", "a", T1)]})
    assert settled.chosen["x"]["alias_of"] == "a"
    assert [a["alias_of"] for a in settled.passed_over["x"]] == ["b"]
    # Opposite combines at once: the later is undone, whichever side is listed first.
    for cands in (
        {"a": [_alias("a", "b", T2)], "b": [_alias("b", "a", T1)]},
        {"b": [_alias("b", "a", T1)], "a": [_alias("a", "b", T2)]},
    ):
        settled = identity.settle_aliases(cands)
        assert set(settled.chosen) == {"b"} and settled.survivor("b") == "a"
        assert [(u["id"], cycle) for u, cycle in settled.undone] == [("a", ("a", "b"))]
    # A record no side holds any more (its content went on into another) is not the one
    # brought back while another record of the cycle is still held.
    cycle = {
        "a": [_alias("a", "b", T1)],
        "b": [_alias("b", "c", T3)],
        "c": [_alias("c", "a", T2)],
    }
    assert identity.settle_aliases(cycle).undone[0][0]["id"] == "b"
    assert identity.settle_aliases(cycle, held={"a", "c"}).undone[0][0]["id"] == "c"
    # The undone record's other candidate is tried next.
    settled = identity.settle_aliases(
        {"a": [_alias("a", "b", T2), _alias("a", "c", T3)], "b": [_alias("b", "a", T1)]}
    )
    assert settled.chosen["a"]["alias_of"] == "c" and settled.survivor("b") == "c"


# --- carrying edits into a survivor --------------------------------------------------------

SURVIVOR = identity.combine(KEEP, [OTHER], region="GB").record


@pytest.mark.parametrize(
    ("edit", "expect", "not_taken"),
    [
        ({"phones": [*OTHER["phones"], "+44 20 7946 0002"]}, {"phones": "+44 20 7946 0002"}, []),
        ({"emails": ["jobs@acme.example"]}, {"-emails": "dana@acme.example"}, []),  # removed
        ({"tags": ["REMOTE", "contract", "python"]}, {"tags": "python"}, []),
        ({"location": "Leeds, UK"}, {"location": "Leeds, UK"}, []),  # the survivor held OTHER's
        ({"role": "Lead"}, {"role": "Lead"}, []),  # both held "Tech desk"
        ({"name": "Acme Group"}, {"name": "Acme Recruiting"}, ["name"]),  # KEEP's name stays
        ({"organization": "Acme Group"}, {"organization": "Acme Group"}, []),  # none before
        ({"updated": "2026-11-01T00:00:00Z"}, {"updated": "2026-11-01T00:00:00Z"}, []),
        ({"added_by": "mallory", "id": "other"}, {"added_by": "alice", "id": "acme-a"}, []),
    ],
)
def test_carrying_one_edit(
    edit: dict[str, Any], expect: dict[str, Any], not_taken: list[str]
) -> None:
    carried = identity.carry_into_survivor(SURVIVOR, OTHER, OTHER | edit, region="GB")
    record = carried.record
    for name, value in expect.items():
        if name.startswith("-"):
            assert value not in record[name[1:]]
        elif isinstance(record[name], list):
            assert value in record[name]
        else:
            assert record[name] == value
    assert [c.field for c in carried.not_taken] == not_taken
    assert errors(record) == []


def test_a_removal_does_not_remove_what_the_survivor_held_itself() -> None:
    edited = OTHER | {"emails": ["dana@acme.example"]}  # drops jobs@, which KEEP had too
    carried = identity.carry_into_survivor(SURVIVOR, OTHER, edited, survivor_base=KEEP)
    assert carried.record["emails"] == SURVIVOR["emails"]


def test_carrying_notes_into_the_section_of_their_record() -> None:
    edited = OTHER | {"notes": "Pays on time.\nSam replaced Dana.\n"}
    carried = identity.carry_into_survivor(SURVIVOR, OTHER, edited)
    assert carried.record["notes"] == (
        "Ask for Dana.\n\nFrom contacts/acme-b (added by bob):\nPays on time.\nSam replaced Dana.\n"
    )
    # notes of a record that had none when it was combined get a section of their own
    bare = OTHER | {"notes": ""}
    carried = identity.carry_into_survivor(KEEP, bare, bare | {"notes": "New.\n"})
    assert (
        carried.record["notes"] == "Ask for Dana.\n\nFrom contacts/acme-b (added by bob):\nNew.\n"
    )
    # after a rename, the record's own notes are the survivor's own
    renamed, _ = identity.rename(OTHER, "acme-new", by="bob", at=NOW)
    carried = identity.carry_into_survivor(renamed, OTHER, edited, own_key="acme-new")
    assert carried.record["notes"] == "Pays on time.\nSam replaced Dana.\n"


def test_colliding_note_edits_keep_both() -> None:
    survivor = SURVIVOR | {"notes": SURVIVOR["notes"].replace("Pays on time.", "Pays late now.")}
    edited = OTHER | {"notes": "Pays within 30 days.\n"}
    carried = identity.carry_into_survivor(survivor, OTHER, edited)
    lines = carried.record["notes"].splitlines()
    assert "Pays late now." in lines and "Pays within 30 days." in lines
    assert carried.collided == ("acme-b",)


def test_a_whole_record_is_carried_when_it_had_no_base() -> None:
    carried = identity.carry_into_survivor(KEEP, None, OTHER, region="GB")
    assert set(carried.record["emails"]) == {"jobs@acme.example", "dana@acme.example"}
    assert "Pays on time." in carried.record["notes"]
    assert carried.record["name"] == "Acme Recruiting"
    assert [c.field for c in carried.not_taken] == ["kind", "name"]
