"""A validate with nothing changed parses nothing; any change is seen."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest
from conftest import jobshare

from jobshare_sync import validation
from jobshare_sync.core import records
from jobshare_sync.store import Store


def age(repo: Path, seconds: int = 60) -> None:
    """Make every record file look written a while ago (past the racy window)."""
    past = time.time() - seconds
    for folder in ("contacts", "referrals"):
        for path in (repo / folder).glob("*.yaml"):
            os.utime(path, (past, past))


def add(repo: Path, record_id: str, email: str) -> None:
    result = jobshare(
        "add", "contact", "--name", record_id, "--id", record_id, "--email", email, cwd=repo
    )
    assert result.exit_code == 0, result.output


def count_parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    parsed: list[str] = []
    real = records.load_yaml

    def counting(raw: bytes, path: str, **kw: bool) -> records.Loaded:
        if path.startswith(("contacts/", "referrals/")):
            parsed.append(path)
        return real(raw, path, **kw)

    monkeypatch.setattr(records, "load_yaml", counting)
    return parsed


def test_warm_validate_parses_nothing(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for i in range(5):
        add(repo, f"c{i}", f"c{i}@example.com")
    age(repo)
    first = validation.validate(Store.open(repo))
    parsed = count_parses(monkeypatch)
    second = validation.validate(Store.open(repo))
    assert parsed == []
    assert (second.checked, second.problems) == (first.checked, first.problems) == (5, [])


def test_a_changed_file_is_checked_again_and_only_it(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for i in range(4):
        add(repo, f"c{i}", f"c{i}@example.com")
    age(repo)
    validation.validate(Store.open(repo))
    path = repo / "contacts/c1.yaml"
    path.write_text(path.read_text().replace("c1@example.com", "c2@example.com"))
    age(repo)
    parsed = count_parses(monkeypatch)
    report = validation.validate(Store.open(repo))
    assert parsed == ["contacts/c1.yaml"]
    assert [p.message for p in report.warnings] == [
        "likely duplicate of contacts/c1: same email 'c2@example.com'"
    ]
    path.write_text(path.read_text().replace("kind: other", "kind: nonsense"))
    age(repo)
    assert not validation.validate(Store.open(repo)).ok


def test_a_file_written_just_now_is_not_trusted_to_its_stat(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    add(repo, "c0", "c0@example.com")
    validation.validate(Store.open(repo))  # the file is fresh: no whole-report shortcut saved
    parsed = count_parses(monkeypatch)
    validation.validate(Store.open(repo))
    assert parsed == ["contacts/c0.yaml"] or parsed == []  # checked again, or by blob id
    assert not (repo / ".git/jobshare/validated.marshal").exists()


def test_new_friend_or_other_jobshare_version_invalidates(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    add(repo, "c0", "c0@example.com")
    age(repo)
    validation.validate(Store.open(repo))
    monkeypatch.setattr(validation, "__version__", "0.0.0-other")
    parsed = count_parses(monkeypatch)
    validation.validate(Store.open(repo))
    assert parsed == ["contacts/c0.yaml"]


def test_a_damaged_cache_is_ignored(repo: Path) -> None:
    add(repo, "c0", "c0@example.com")
    age(repo)
    validation.validate(Store.open(repo))
    for name in ("validated.marshal", "validated-files.marshal"):
        (repo / ".git/jobshare" / name).write_bytes(b"\x00garbage")
    report = validation.validate(Store.open(repo))
    assert report.ok and report.checked == 1


def test_the_fingerprint_of_stats_depends_on_values_only() -> None:
    # marshal's newer versions flag objects that are referenced more than once: the same
    # stats, held differently, would give different bytes and a cache that never hits
    mtime = int("1764000000123456789")
    shared = (mtime, 420, int("987654321"))
    also_held = [shared, shared]
    first = {"contacts/a.yaml": shared, "contacts/b.yaml": shared}
    second = {
        "contacts/a.yaml": (int("1764000000123456789"), 420, int("987654321")),
        "contacts/b.yaml": (int("1764000000123456789"), 420, int("987654321")),
    }
    assert validation._digest(first) == validation._digest(second)
    assert also_held


def test_a_file_restored_with_an_old_mtime_is_checked_again(repo: Path, tmp_path: Path) -> None:
    """`cp -p` or `rsync -t` bring back an old mtime, with the same size; the ctime the
    system sets tells the cache that the file changed."""
    add(repo, "c0", "c0@example.com")
    age(repo)
    path = repo / "contacts/c0.yaml"
    assert validation.validate(Store.open(repo)).ok
    good = path.read_bytes()
    bad = good.replace(b"c0@example.com", b"c0@example,com")
    assert len(bad) == len(good)
    before = path.stat()
    saved = tmp_path / "restored.yaml"
    saved.write_bytes(bad)
    os.utime(saved, ns=(before.st_atime_ns, before.st_mtime_ns))
    subprocess.run(["cp", "-p", str(saved), str(path)], check=True)
    after = path.stat()
    assert (after.st_mtime_ns, after.st_size, after.st_ino) == (
        before.st_mtime_ns,
        before.st_size,
        before.st_ino,
    )
    report = validation.validate(Store.open(repo))
    assert not report.ok and any("email" in p.field for p in report.problems)
