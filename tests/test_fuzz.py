"""Fuzzing: generated YAML text, bytes and unicode for the loader, generated
records for the schema checks, generated edits (wrong types included) for the merge and
the diff. Each either succeeds or raises the project's own error (a JobshareError with a
message): never a TypeError, KeyError, RecursionError or any other crash.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from jobshare_sync.core import diff, fieldmerge, merge, mergebases, records, resolving, schema
from jobshare_sync.core.fieldmerge import MISSING, AncestorOursTheirs
from jobshare_sync.core.records import Label, Loaded
from jobshare_sync.errors import JobshareError, RecordError

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FOLDERS = st.sampled_from(records.FOLDERS)
T1, T2 = "2026-10-01T09:00:00Z", "2026-10-02T09:00:00Z"


def own_error(error: JobshareError) -> None:
    """What an error of ours must carry: a message, on one line when it names a file."""
    assert str(error).strip()
    if isinstance(error, RecordError):
        assert str(error).startswith(error.path) and "\n" not in error.reason


# --- YAML text ------------------------------------------------------------------------------

FRAGMENTS = [
    "id: acme\n",
    "kind: agency\n",
    "name: Acme\n",
    "emails:\n- jobs@acme.example\n",
    "  - nested\n",
    "notes: |\n  one\n  two\n",
    "notes: >-\n  folded\n",
    "a: &x [1, 2]\n",
    "b: *x\n",
    "*x\n",
    "&a &b x\n",
    "<<: {a: 1}\n",
    "c: !!python/object/apply:os.system ['true']\n",
    "!!python/name:os.system\n",
    "!foo bar\n",
    "!<tag:yaml.org,2002:str> x\n",
    "!!binary aGVsbG8=\n",
    "!!set {a, b}\n",
    "!!omap [a: 1]\n",
    "!!int x\n",
    "!!int 99999999999999999999999999\n",
    "!!float abc\n",
    "!!bool maybe\n",
    "!!null x\n",
    "!!timestamp x\n",
    "!!str\n",
    "!!map {}\n",
    "!!seq []\n",
    "x: 1e999\n",
    "y: 0x1F\n",
    "z: .nan\n",
    "t: 2026-13-45\n",
    "u: 12:30:00\n",
    "v: ~\n",
    "w: NO\n",
    "1: one\n",
    "null: x\n",
    "[a]: b\n",
    "{a: b}: c\n",
    "? complex\n",
    "a: b: c\n",
    "- item\n",
    "--- \n",
    "...\n",
    "%YAML 1.1\n",
    "%TAG ! tag:x,2000:\n",
    "{",
    "}",
    "[",
    "]",
    ": ",
    "'",
    '"',
    '"\\x00"\n',
    '"\\ud800"\n',
    "\t",
    "#c\n",
    "\ufeff",
    "\x85",
    "\u2028",
    "[" * 30,
    "]" * 30,
    "- " * 30,
]
YAML_TEXT = st.lists(st.sampled_from(FRAGMENTS), max_size=14).map("".join)
RAW = st.one_of(
    YAML_TEXT.map(lambda text: text.encode("utf-8", "surrogatepass")),
    st.binary(max_size=300),
    st.text(max_size=300).map(lambda text: text.encode("utf-8", "surrogatepass")),
)


@FUZZ
@given(RAW, FOLDERS)
@example(b"name: !!bool maybe\n", "contacts")  # found by this test: a KeyError in PyYAML
@example(b"id: x\nname: \x01\n", "contacts")  # found by this test: a two-line message
@example(b"a: &a [1]\nb: *a\n", "contacts")
@example(b"!!python/object/apply:os.system ['true']\n", "referrals")
def test_load_yaml_gives_data_or_a_record_error(raw: bytes, folder: str) -> None:
    try:
        loaded = records.load_yaml(raw, f"{folder}/fuzz.yaml")
    except RecordError as e:
        own_error(e)
        return
    label = Label(folder, "fuzz")
    problems = schema.record_problems(label, loaded)
    assert all(problem.message for problem in problems)
    if isinstance(loaded.data, dict):  # what loads, writes, and reads back the same
        again = records.load_yaml(schema.dump_record(folder, loaded.data), label.path)
        assert fieldmerge._same(again.data, loaded.data)


# --- records for the schema -----------------------------------------------------------------

SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from(["", "anyone", "bob", "open", "accepted", T1, "2026-12-15", "a@b.c"]),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
KEYS = sorted(set(schema.field_names("contacts")) | set(schema.field_names("referrals")))
ENTRY = st.fixed_dictionaries(
    {},
    optional={
        "at": st.one_of(st.sampled_from([T1, T2]), VALUES),
        "by": st.one_of(st.sampled_from(["alice", "bob", "carol"]), VALUES),
        "status": st.one_of(st.sampled_from(["open", "accepted", "declined"]), VALUES),
        "previous": st.one_of(st.sampled_from(["open", "accepted"]), VALUES),
        "note": VALUES,
    },
)
FIELD = st.one_of(
    VALUES,
    st.lists(st.one_of(ENTRY, VALUES), max_size=4),  # lists of entries: history-shaped
    st.lists(st.sampled_from(["a", "b", "c", "d"]), max_size=4),  # lists of text: set-shaped
)
RECORD = st.dictionaries(st.sampled_from([*KEYS, "unknown"]), FIELD, max_size=10)


def valid(folder: str) -> dict[str, Any]:
    if folder == "contacts":
        return {"id": "fuzz", "kind": "agency", "name": "Fuzz", "added_by": "bob", "updated": T1}
    history = [{"at": T1, "by": "bob", "status": "open"}]
    return {
        "id": "fuzz",
        "title": "Job",
        "client": "acme",
        "from": "bob",
        "to": "anyone",
        "status": "open",
        "created": T1,
        "updated": T1,
        "history": history,
    }


NEAR_VALID = st.tuples(FOLDERS, RECORD).map(lambda pair: (pair[0], {**valid(pair[0]), **pair[1]}))


@FUZZ
@given(st.one_of(st.tuples(FOLDERS, VALUES), NEAR_VALID))
def test_schema_checks_report_problems_for_any_data(case: tuple[str, Any]) -> None:
    folder, data = case
    label = Label(folder, "fuzz")
    problems = schema.record_problems(label, Loaded(data, {}))
    assert all(isinstance(p.message, str) and p.message and str(p) for p in problems)
    errors = schema.record_errors(label, data)
    assert bool(errors) == bool(problems)
    if isinstance(data, dict):
        try:
            written = schema.dump_record(folder, data)
        except JobshareError as e:
            own_error(e)
        else:
            assert written.endswith(b"\n")


# --- merging generated edits -----------------------------------------------------------------

SIDE = st.one_of(st.none(), NEAR_VALID.map(lambda pair: pair[1]), RECORD)


def check_merge_outcome(label: str, result: merge.RecordMerge) -> None:
    assert result.outcome in ("unchanged", "added", "updated", "removed", "conflict")
    assert (result.conflict is not None) == (result.outcome == "conflict")
    conflict = result.conflict
    if conflict is None:
        return
    json.dumps(conflict.to_json())  # it is stored as JSON in .git/jobshare/merge.json
    json.dumps([conflict.merged, conflict.merged_theirs, list(conflict.versions)])
    for strategy in merge.STRATEGIES:
        resolving.resolve_by_strategy(conflict, strategy)
    for choice in merge.CHOICES:
        resolving.resolve_conflict(conflict, choice)
        resolving.resolve_conflict(conflict, choice, [f.field for f in conflict.fields])


@FUZZ
@given(FOLDERS, SIDE, SIDE, SIDE, st.lists(SIDE, max_size=2), st.booleans())
def test_merge_record_of_any_edits_gives_a_result(
    folder: str,
    base: dict[str, Any] | None,
    ours: dict[str, Any] | None,
    theirs: dict[str, Any] | None,
    more_bases: list[dict[str, Any] | None],
    whole_record: bool,
) -> None:
    label = f"{folder}/fuzz"
    rules = schema.merge_rules(folder)
    if more_bases:  # a criss-cross history: several merge bases
        base = mergebases.virtual_base(label, [base, *more_bases], rules)
    try:
        result = merge.merge_record(
            label,
            AncestorOursTheirs(base, ours, theirs),
            rules,
            theirs_handle="bob",
            whole_record=whole_record,
            validate=lambda name, data: schema.record_errors(Label(folder, "fuzz"), data),
            owner_deleted=lambda name, added_by: added_by == "carol",
        )
    except JobshareError as e:
        own_error(e)
        return
    check_merge_outcome(label, result)


@FUZZ
@given(st.sampled_from(sorted(fieldmerge.RULES)), st.tuples(FIELD, FIELD, FIELD), st.booleans())
def test_merge_field_of_any_values_gives_a_value(
    rule: str, values: tuple[Any, Any, Any], base_missing: bool
) -> None:
    base, ours, theirs = values
    versions = AncestorOursTheirs(MISSING if base_missing else base, ours, theirs)
    value, conflict = fieldmerge.merge_field(rule, "field", versions)
    if conflict is not None:
        assert conflict.field == "field"
    elif fieldmerge._same(ours, theirs):
        assert fieldmerge._same(value, ours)


def test_a_type_mismatch_is_a_conflict_not_a_crash() -> None:
    """Both sides changed a list field, one to something that is no list: a value
    conflict on that field (ours kept until resolved); a one-sided change is taken."""
    rules = schema.merge_rules("contacts")
    base = {**valid("contacts"), "tags": ["a"]}
    ours = {**base, "tags": "a, b"}
    theirs = {**base, "tags": ["a", "c"]}
    result = merge.merge_record(
        "contacts/fuzz", AncestorOursTheirs(base, ours, theirs), rules, theirs_handle="bob"
    )
    assert result.conflict is not None
    assert [f.field for f in result.conflict.fields] == ["tags"]
    assert result.conflict.merged is not None and result.conflict.merged["tags"] == "a, b"
    only_theirs = merge.merge_record(
        "contacts/fuzz",
        AncestorOursTheirs(base, base, {**base, "notes": 7}),
        rules,
        theirs_handle="bob",
    )
    assert only_theirs.outcome == "updated" and only_theirs.result is not None
    assert only_theirs.result["notes"] == 7
    # `updated` takes the later of two values, whatever their types, and never conflicts
    later = merge.merge_record(
        "contacts/fuzz",
        AncestorOursTheirs(base, {**base, "updated": 5}, {**base, "updated": T2}),
        rules,
        theirs_handle="bob",
        validate=lambda name, data: [],
    )
    assert later.conflict is None


# --- the diff of generated records --------------------------------------------------------------


@FUZZ
@given(FOLDERS, SIDE, SIDE)
def test_diff_of_any_two_records_applies_back(
    folder: str, old: dict[str, Any] | None, new: dict[str, Any] | None
) -> None:
    rules = schema.merge_rules(folder)
    found = diff.diff_record(f"{folder}/fuzz", old, new, rules)
    if found is None:
        assert (old is None and new is None) or diff._same(old, new)
        return
    json.dumps(found.to_json())
    assert found.change in diff.CHANGES
    assert diff._same(diff.apply_diff(old, found), new)
    assert sum(sum(counts.values()) for counts in diff.diff_stat([found]).values()) == 1
