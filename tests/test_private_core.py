"""The pure parts of the private side: notes (core/notes.py) and the merge of two
machines' private branches (core/privatemerge.py). Tables of cases and properties."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jobshare_sync.core import notes, schema
from jobshare_sync.core.privatemerge import merge_private
from jobshare_sync.core.records import Label
from jobshare_sync.errors import InvalidRecordError


@pytest.mark.parametrize(
    ("old", "sets", "unsets", "expected"),
    [
        ({}, ["rating=4"], [], {"rating": 4}),
        ({}, ["tags=a, b,a"], [], {"tags": ["a", "b"]}),
        ({}, ["do-not-refer-to=bob,carol"], [], {"do_not_refer_to": ["bob", "carol"]}),
        ({}, ["notes=  pays late  "], [], {"notes": "pays late\n"}),
        ({}, ["day_rate= EUR 600 "], [], {"day_rate": "EUR 600"}),
        ({"rating": 2}, [], ["rating"], {}),
        ({"rating": 2, "tags": ["x"]}, ["tags="], [], {"rating": 2}),
        ({"notes": "a\n"}, ["notes=Cafe\u0301"], [], {"notes": "Caf\u00e9\n"}),
    ],
)
def test_apply_changes(
    old: dict[str, Any], sets: list[str], unsets: list[str], expected: dict[str, Any]
) -> None:
    assert notes.apply_changes(old, sets, unsets) == expected


@pytest.mark.parametrize(
    ("sets", "words"),
    [
        (["rating=0"], "rating"),
        (["rating=6"], "rating"),
        (["rating=x"], "whole number"),
        (["colour=red"], "no field 'colour'"),
        (["updated=2026-01-01T00:00:00Z"], "no field 'updated'"),
        (["rating"], "FIELD=VALUE"),
        (["do_not_refer_to=Bob Smith"], "do_not_refer_to"),
    ],
)
def test_apply_changes_refuses(sets: list[str], words: str) -> None:
    with pytest.raises(InvalidRecordError, match=words):
        notes.apply_changes({}, sets, [])


@pytest.mark.parametrize(
    ("sets", "unsets"),
    [(["rating=5"], ["rating"]), (["notes=new"], ["notes"]), (["day-rate=600"], ["day_rate"])],
)
def test_a_field_both_set_and_unset_is_refused_and_nothing_lost(
    sets: list[str], unsets: list[str]
) -> None:
    old = {"notes": "keep\n", "rating": 4, "day_rate": 500}
    with pytest.raises(InvalidRecordError, match="both set and unset"):
        notes.apply_changes(old, sets, unsets)
    assert old == {"notes": "keep\n", "rating": 4, "day_rate": 500}


def test_note_paths_and_canonical_bytes() -> None:
    label = Label("contacts", "acme-7k2q")
    assert notes.note_path(label) == "notes/contacts/acme-7k2q.yaml"
    assert notes.label_of_note(notes.note_path(label)) == label
    assert notes.label_of_note("contacts/acme-7k2q.yaml") is None
    note = {"updated": "2026-10-01T09:00:00Z", "rating": 3, "notes": "x\ny\n", "tags": ["b"]}
    raw = notes.dump_note(note)
    assert raw.decode().splitlines()[0] == "notes: |"  # schema order, notes first
    assert notes.load_note(raw, "notes/contacts/acme-7k2q.yaml") == note
    assert notes.dump_note(notes.load_note(raw, "n")) == raw
    assert notes.load_note(b"[broken", "n") == {}
    assert notes.note_rules()["tags"] == "set" and notes.note_rules()["rating"] == "value"


def contact_bytes(**fields: Any) -> bytes:
    data = {"id": "acme", "kind": "agency", "name": "Acme", "added_by": "alice"}
    data.update(fields)
    return schema.dump_record("contacts", data)


def note_bytes(**fields: Any) -> bytes:
    return notes.dump_note(fields)


C = "contacts/acme.yaml"
N = "notes/contacts/acme.yaml"


@pytest.mark.parametrize(
    ("base", "ours", "theirs", "changes", "said"),
    [
        # unchanged on one machine: the other's version, deletions included
        ({C: contact_bytes()}, {C: contact_bytes()}, {}, {C: None}, 0),
        ({}, {}, {C: contact_bytes()}, {C: contact_bytes()}, 0),
        ({C: contact_bytes()}, {}, {C: contact_bytes()}, {}, 0),
        # changed on one, deleted on the other: kept, and said
        ({C: contact_bytes()}, {}, {C: contact_bytes(role="x")}, {C: contact_bytes(role="x")}, 1),
        ({C: contact_bytes()}, {C: contact_bytes(role="x")}, {}, {}, 1),
        # different fields: both
        (
            {N: note_bytes(rating=1)},
            {N: note_bytes(rating=2)},
            {N: note_bytes(rating=1, tags=["t"])},
            {N: note_bytes(rating=2, tags=["t"])},
            0,
        ),
        # sets merge as sets
        (
            {N: note_bytes(tags=["a"])},
            {N: note_bytes(tags=["a", "b"])},
            {N: note_bytes(tags=["a", "c"])},
            {N: note_bytes(tags=["a", "b", "c"])},
            0,
        ),
        # one field, two values: this machine's, said
        ({N: note_bytes(rating=1)}, {N: note_bytes(rating=2)}, {N: note_bytes(rating=3)}, {}, 1),
        # records too, field by field
        (
            {C: contact_bytes()},
            {C: contact_bytes(role="r")},
            {C: contact_bytes(location="Leeds")},
            {C: contact_bytes(role="r", location="Leeds")},
            0,
        ),
    ],
)
def test_merge_private(
    base: dict[str, bytes],
    ours: dict[str, bytes],
    theirs: dict[str, bytes],
    changes: dict[str, bytes | None],
    said: int,
) -> None:
    merged = merge_private(base, ours, theirs, "alice")
    assert merged.changes == changes
    assert len(merged.messages) == said


files = st.dictionaries(
    st.sampled_from([C, N, "notes/contacts/b.yaml"]),
    st.sampled_from([contact_bytes(), contact_bytes(role="x"), note_bytes(rating=2)]),
    max_size=3,
)


@given(files, files, files)
def test_merge_private_properties(
    base: dict[str, bytes], ours: dict[str, bytes], theirs: dict[str, bytes]
) -> None:
    # merging with oneself, or with the base, changes nothing
    assert merge_private(base, ours, ours, "alice").changes == {}
    assert merge_private(base, ours, base, "alice").changes == {}
    # taking the other side when only it changed
    assert {p: v for p, v in merge_private(base, base, theirs, "alice").changes.items()} == {
        p: theirs.get(p) for p in set(base) | set(theirs) if base.get(p) != theirs.get(p)
    }
    # nothing this machine holds is lost but by a deletion the other machine made to
    # a file this one did not change
    result = {**ours, **merge_private(base, ours, theirs, "alice").changes}
    for path in ours:
        if result.get(path) is None:
            assert path not in theirs and ours[path] == base.get(path)
