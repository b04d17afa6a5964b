"""The read index (DESIGN section 7a): used, a cache, and safe to read while it changes."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest
from conftest import clone_friend, git, jobshare, make_repo
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jobshare_sync import index, reading, render, sync
from jobshare_sync.core import schema
from jobshare_sync.index import Index, Query
from jobshare_sync.store import Store

T0 = "2026-01-01T00:00:00Z"


def contact(record_id: str, **fields: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": record_id,
        "kind": "agency",
        "name": record_id.replace("-", " ").title(),
        "added_by": "alice",
        "updated": T0,
    }
    data.update(fields)
    return data


def write(repo: Path, data: dict[str, Any], folder: str = "contacts") -> None:
    path = repo / folder / f"{data['id']}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(schema.dump_record(folder, data))


def ok(*args: str, cwd: Path) -> str:
    result = jobshare(*args, cwd=cwd)
    assert result.exit_code == 0, result.output
    return result.stdout


def index_file(repo: Path) -> Path:
    return repo / ".git" / "jobshare" / index.FILE_NAME


def listed(repo: Path, query: Query) -> list[str]:
    store = Store.open(repo)
    found = reading.list_records(
        store,
        query.folder,
        query.kind,
        query.tag,
        query.search,
        industry=query.industry,
        added_by=query.added_by,
        updated_since=query.updated_since,
    )
    return [str(item.label) for item in found]


def scanned(repo: Path, query: Query) -> list[str]:
    return [str(item.label) for item in reading.scan_records(Store.open(repo), query)]


@pytest.fixture
def town(tmp_path: Path) -> Path:
    """Alice's repository with 40 committed contacts, one of them unreadable on disk."""
    repo = make_repo(tmp_path / "alice")
    for i in range(40):
        tags = ["python"] if i % 3 == 0 else ["rust"]
        write(
            repo,
            contact(f"c{i:02d}", name=f"Fenwick {i}" if i % 7 == 0 else f"Other {i}", tags=tags),
        )
    (repo / "contacts" / "broken.yaml").write_text("name: [unclosed\n")
    git("add", "-A", cwd=repo)
    git("commit", "-qm", "contacts", cwd=repo)
    return repo


QUERIES = [
    Query(),
    Query(search="fenwick"),
    Query(search="FENW"),
    Query(tag="Python"),
    Query(kind="agency", tag="rust"),
    Query(search="fenwick", tag="python"),
    Query(folder="referrals"),
    Query(added_by="ALICE", updated_since="2025-12-31"),
    Query(updated_since="2026-01-02"),
]


def answers(repo: Path) -> dict[str, Any]:
    """What the reading commands say, for comparing with and without the index."""
    out: dict[str, Any] = {str(q): sorted(listed(repo, q)) for q in QUERIES}
    out["list"] = ok("list", "--json", cwd=repo)
    out["search"] = ok("list", "--search", "fenwick 14", cwd=repo)
    out["show"] = ok("show", "Fenwick 21", cwd=repo)
    return out


# --- the index is used ----------------------------------------------------------------------


def test_a_warm_index_parses_nothing_and_after_a_pull_only_what_changed(town: Path) -> None:
    bob = clone_friend(town, town.parent / "bob", "bob")
    assert listed(town, Query(search="fenwick")) == [
        f"contacts/c{i:02d}" for i in (0, 7, 14, 21, 28, 35)
    ]
    store = Store.open(town)
    store.loads = 0
    assert len(reading.list_records(store, search="fenwick")) == 6
    assert store.loads == 0  # warm: no record parsed

    changed = 5
    for i in range(changed):
        write(bob, contact(f"c{i:02d}", name=f"Fenwick Pulled {i}", added_by="bob"))
    git("commit", "-qam", "bob renames five", cwd=bob)
    ok("friend", "add", "bob", str(bob), cwd=town)
    sync.pull(Store.open(town), ["bob"])

    store = Store.open(town)
    store.loads = 0
    found = reading.list_records(store, search="fenwick pulled")
    assert [str(item.label) for item in found] == [f"contacts/c{i:02d}" for i in range(changed)]
    assert store.loads == changed
    store.loads = 0
    reading.list_records(store, search="fenwick")
    assert store.loads == 0


def test_search_ranks_and_folds_and_filters_in_the_index(town: Path) -> None:
    write(town, contact("zoe", name="Zoë Łukasiewicz", industries=["FinTech"], tags=["Python"]))
    write(
        town,
        contact(
            "muller",
            name="Müller Personal Müller",
            added_by="Bob",
            updated="2026-12-01T10:00:00+02:00",
        ),
    )
    write(town, contact("mull", name="Mullet Consulting", notes="Muller once"))
    assert listed(town, Query(search="zoe lukas")) == ["contacts/zoe"]
    assert listed(town, Query(search="MÜLL")) == ["contacts/muller", "contacts/mull"]  # twice first
    assert listed(town, Query(industry="fintech")) == ["contacts/zoe"]
    assert listed(town, Query(added_by="bob")) == ["contacts/muller"]
    assert listed(town, Query(updated_since="2026-12-01T08:00:00Z")) == ["contacts/muller"]
    assert listed(town, Query(updated_since="2026-12-01T08:00:01Z")) == []
    assert listed(town, Query(search="@@@")) == []
    out = ok(
        "list",
        "--industry",
        "FINTECH",
        "--added-by",
        "alice",
        "--updated-since",
        "2025-01-01",
        cwd=town,
    )
    assert "contacts/zoe" in out and "contacts/c00" not in out
    bad = jobshare("list", "--updated-since", "yesterday", cwd=town)
    assert bad.exit_code == 2 and "date" in bad.output


def test_the_working_tree_is_laid_over_head(town: Path) -> None:
    ok("list", cwd=town)  # build
    write(town, contact("c00", name="Renamed Locally"))
    (town / "contacts" / "c07.yaml").unlink()
    write(town, contact("new-one", name="Fenwick New"))
    assert listed(town, Query(search="fenwick")) == [
        f"contacts/{i}" for i in ("c14", "c21", "c28", "c35", "new-one")
    ]
    assert listed(town, Query(search="renamed")) == ["contacts/c00"]
    labels = Index.open(Store.open(town)).labels()
    assert "contacts/c07" not in map(str, labels) and "contacts/broken" in map(str, labels)
    for query in QUERIES:
        assert sorted(listed(town, query)) == scanned(town, query), query


@pytest.mark.parametrize(
    "odd",
    [
        {"kind": True, "tags": [False, 1.5, None, "x"]},
        {"kind": 0.30000000000000004},
        {"kind": 123456789012345678901234, "title": None},
        {"kind": None, "tags": None, "name": 7},
        {"tags": {"nested": [1e300, "ü"]}, "status": "open", "from": -5, "to": "ß"},
        {"name": "Ünïcode ✓", "kind": "agency\u202e", "tags": ["tab\there"]},
    ],
)
def test_a_listing_decodes_only_the_fields_it_shows(town: Path, odd: dict[str, Any]) -> None:
    """The fields picked out of the index are the record's own, whatever their values
    (true stays true, a real keeps its digits, null stays null), committed or on disk."""
    fields = ("name", "title", "kind", "tags", "status", "from", "to")
    write(town, contact("odd-head", **odd))
    git("add", "-A", cwd=town)
    git("commit", "-qm", "odd", cwd=town)
    write(town, contact("odd-disk", **odd))
    store = Store.open(town)
    whole = reading.list_records(store)
    part = reading.list_records(store, fields=fields)
    assert [p.label for p in part] == [w.label for w in whole]
    for p, w in zip(part, whole, strict=True):
        expected = {k: v for k, v in w.data.items() if k in fields}
        assert p.data == expected and all(type(p.data[k]) is type(v) for k, v in expected.items())
    assert {"contacts/odd-head", "contacts/odd-disk"} <= {str(p.label) for p in part}
    assert ok("list", cwd=town) == render.listing(whole) + "\n"


# --- the index is a cache ---------------------------------------------------------------------


def kill_in_a_transaction(path: Path) -> None:
    """A process that starts emptying the index and is killed before it commits."""
    code = (
        "import os, sqlite3, sys\n"
        "db = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
        "db.execute('BEGIN IMMEDIATE')\n"
        "db.execute('DELETE FROM records')\n"
        "db.execute(\"UPDATE meta SET value = 'x'\")\n"
        "os.kill(os.getpid(), 9)\n"
    )
    result = subprocess.run([sys.executable, "-c", code, str(path)], check=False)
    assert result.returncode == -9


def damage(repo: Path, how: str) -> None:
    path = index_file(repo)
    if how == "deleted":
        path.unlink()
    elif how == "truncated":
        path.write_bytes(path.read_bytes()[:200])
    elif how == "garbage":
        path.write_bytes(os.urandom(4096) * 4)
    elif how == "other-version":
        with sqlite3.connect(path) as db:
            db.execute("PRAGMA user_version = 99")
            db.execute("DELETE FROM records")
    elif how == "killed":
        kill_in_a_transaction(path)
    elif (
        how == "lying-stats"
    ):  # a kept stat that names a wrong blob is only trusted when it matches
        with sqlite3.connect(path) as db:
            db.execute("UPDATE stats SET mtime = mtime + 1, blob = 'x'")


@pytest.mark.parametrize(
    "how", ["deleted", "truncated", "garbage", "other-version", "killed", "lying-stats"]
)
def test_a_damaged_index_is_rebuilt_and_every_answer_stays(town: Path, how: str) -> None:
    os.utime(town / "contacts" / "c21.yaml", (1, 1))  # old enough for its stat to be kept
    before = answers(town)
    assert index_file(town).is_file()
    for query in QUERIES:
        assert sorted(listed(town, query)) == scanned(town, query), query
    damage(town, how)
    assert answers(town) == before
    assert answers(town) == before  # and again, from the rebuilt index


def test_an_index_that_cannot_be_opened_is_kept_in_memory(town: Path) -> None:
    before = answers(town)
    path = index_file(town)
    for extra in path.parent.glob(f"{index.FILE_NAME}*"):
        extra.unlink()
    path.mkdir()  # a folder where the database belongs: neither opened nor removed
    assert answers(town) == before
    assert path.is_dir() and not any(path.iterdir())


def test_only_a_bad_file_counts_as_damaged_never_one_another_command_holds(
    tmp_path: Path,
) -> None:
    path = tmp_path / "held.sqlite"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("CREATE TABLE t (x)")
    holder.execute("BEGIN IMMEDIATE")
    other = sqlite3.connect(path, isolation_level=None, timeout=0)
    with pytest.raises(sqlite3.OperationalError) as held:
        other.execute("BEGIN IMMEDIATE")
    assert not index._damaged(held.value)  # busy: kept, read in memory this time
    holder.execute("ROLLBACK")
    for con in (holder, other):
        con.close()
    (tmp_path / "bad.sqlite").write_bytes(b"not a database, " * 512)
    with pytest.raises(sqlite3.DatabaseError) as bad:
        sqlite3.connect(tmp_path / "bad.sqlite").execute("PRAGMA user_version")
    assert index._damaged(bad.value)
    with pytest.raises(sqlite3.DatabaseError) as other_version:
        index._connect(_with_version(tmp_path / "v.sqlite", 99))
    assert index._damaged(other_version.value)


def _with_version(path: Path, version: int) -> Path:
    with sqlite3.connect(path) as db:
        db.execute(f"PRAGMA user_version = {version}")
    return path


# --- indexed and unindexed answers agree --------------------------------------------------------

NAMES = st.text(alphabet="aeoüéłßnmrt -", min_size=1, max_size=12).filter(str.strip)
TAGS = st.lists(st.sampled_from(["Python", "python", "Rust", "go"]), max_size=2)
RECORD = st.fixed_dictionaries(
    {
        "name": NAMES,
        "kind": st.sampled_from(["agency", "recruiter", "client"]),
        "tags": TAGS,
        "industries": st.lists(st.sampled_from(["FinTech", "health"]), max_size=2),
        "added_by": st.sampled_from(["alice", "bob"]),
        "updated": st.sampled_from([T0, "2026-06-01T12:00:00Z", "2026-06-01T13:00:00+02:00"]),
    }
)
QUERY = st.builds(
    Query,
    folder=st.sampled_from([None, "contacts", "referrals"]),
    kind=st.sampled_from([None, "agency", "client"]),
    tag=st.sampled_from([None, "PYTHON", "rust"]),
    industry=st.sampled_from([None, "fintech"]),
    added_by=st.sampled_from([None, "bob"]),
    updated_since=st.sampled_from([None, "2026-06-01", "2026-06-01T11:30:00Z"]),
    search=st.one_of(st.none(), NAMES, st.sampled_from(["mu", "ue", "ss", "Ł"])),
)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    committed=st.lists(RECORD, min_size=1, max_size=6),
    edited=st.lists(st.tuples(st.integers(0, 7), st.one_of(st.none(), RECORD)), max_size=4),
    queries=st.lists(QUERY, min_size=1, max_size=4),
    data=st.data(),
)
def test_indexed_and_unindexed_answers_agree(
    committed: list[dict[str, Any]],
    edited: list[tuple[int, dict[str, Any] | None]],
    queries: list[Query],
    data: st.DataObject,
) -> None:
    # and searches for the start of a name some record has, as people type them
    for _ in range(3):
        name = data.draw(st.sampled_from([r["name"] for r in committed]))
        cut = data.draw(st.integers(1, len(name)))
        queries.append(Query(search=data.draw(st.sampled_from([name[:cut], name[:cut].upper()]))))
    with tempfile.TemporaryDirectory() as tmp:
        repo = make_repo(Path(tmp) / "r")
        for i, record in enumerate(committed):
            write(repo, {"id": f"r{i}", **record})
        git("add", "-A", cwd=repo)
        git("commit", "-qm", "records", cwd=repo)
        ok("list", cwd=repo)  # the index describes this commit
        for i, record in edited:  # then the working tree moves on
            if record is None:
                (repo / "contacts" / f"r{i}.yaml").unlink(missing_ok=True)
            else:
                write(repo, {"id": f"r{i}", **record})
        for query in queries:
            assert sorted(listed(repo, query)) == scanned(repo, query), query
        git("add", "-A", cwd=repo)
        git("commit", "-qm", "edits", "--allow-empty", cwd=repo)
        for query in queries:
            assert sorted(listed(repo, query)) == scanned(repo, query), query


# --- reading while another command updates the index ------------------------------------------

READER = """
import json, sys
from click.testing import CliRunner
from jobshare_sync.cli import cli
for _ in range(int(sys.argv[2])):
    result = CliRunner().invoke(cli, ["-C", sys.argv[1], "list", "--search", "gen", "--json"])
    if result.exit_code != 0:
        import traceback
        traceback.print_exception(*result.exc_info)
        raise SystemExit(result.output or repr(result.exception))
    names = {item["record"]["name"] for item in json.loads(result.output)["jobshare.list/v1"]}
    count = len(json.loads(result.output)["jobshare.list/v1"])
    print(count, sorted(names))
"""


def test_readers_never_see_half_an_update(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "alice")
    commits = []
    for generation in range(2):
        for i in range(60):
            write(repo, contact(f"c{i:02d}", name=f"Gen {generation}"))
        git("add", "-A", cwd=repo)
        git("commit", "-qm", f"generation {generation}", cwd=repo)
        commits.append(git("rev-parse", "HEAD", cwd=repo).strip())
    ok("list", cwd=repo)
    # the package this test imported (installed, or a checkout), not the checkout blindly
    env = {**os.environ, "PYTHONPATH": str(Path(index.__file__).resolve().parent.parent)}
    readers = [
        subprocess.Popen(
            [sys.executable, "-c", READER, str(repo), "15"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for _ in range(2)
    ]
    # the third moves HEAD back and forth (the files stay), updating the index each time
    flips = 0
    while any(r.poll() is None for r in readers) and flips < 40:
        git("update-ref", "refs/heads/main", commits[flips % 2], cwd=repo)
        store = Store.open(repo)
        with Index.open(store) as opened:
            rows = opened.db.execute("SELECT count(*) FROM main.records").fetchone()[0]
        assert rows == 60
        flips += 1
    for reader in readers:
        out, err = reader.communicate(timeout=120)
        assert reader.returncode == 0, err
        lines = out.splitlines()
        assert lines and all(line == "60 ['Gen 1']" for line in lines), lines
    git("update-ref", "refs/heads/main", commits[1], cwd=repo)
    assert json.loads(ok("list", "--json", "--search", "gen 1", cwd=repo))["jobshare.list/v1"]


def age(repo: Path, seconds: int = 3600) -> None:
    """Every record file made older, as files are a while after they were written."""
    for path in [*repo.glob("contacts/*"), *repo.glob("referrals/*")]:
        stat = path.stat()
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns - seconds * 10**9))


def test_a_working_tree_unchanged_since_the_last_command_is_not_read_again(town: Path) -> None:
    age(town)
    write(town, contact("c00", name="Fenwick Edited"))
    age(town)
    assert listed(town, Query(search="fenwick edited")) == ["contacts/c00"]
    store = Store.open(town)
    store.loads = 0
    assert len(reading.list_records(store, search="fenwick")) == 6
    assert store.loads == 1  # the one file that differs from HEAD, and nothing else
    write(town, contact("c07", name="Plain"))  # an edit changes the fingerprint
    age(town, 7200)
    (town / "contacts" / "c14.yaml").unlink()
    found = sorted(listed(town, Query(search="fenwick")))
    assert found == [f"contacts/c{i:02d}" for i in (0, 21, 28, 35)]
    assert found == scanned(town, Query(search="fenwick"))
    git("commit", "-qam", "edits", cwd=town)
    store = Store.open(town)
    store.loads = 0
    assert listed(town, Query(search="plain")) == ["contacts/c07"]
    for query in QUERIES:
        assert sorted(listed(town, query)) == scanned(town, query), query
