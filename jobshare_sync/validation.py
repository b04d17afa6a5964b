"""Validating records: one file's checks, the whole working tree's report and its cache.

A file is checked alone (YAML, schema, rules) and then with the others (cross-record
checks, DESIGN section 4). The report of the whole tree is kept in a cache keyed by
each file's stat, so an unchanged tree is checked in the time of a directory scan.
"""

from __future__ import annotations

import contextlib
import hashlib
import marshal
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import __version__
from .core import crosscheck, records, rules, schema, values
from .core.records import FOLDERS, Label, Loaded
from .core.schema import Problem, ValidationReport
from .errors import InvalidRecordError, RecordError
from .store import StatKey, Store, blob_id, write_atomically


def owner_region(store: Store) -> str:
    """The owner's default region for phone numbers (jobshare.yaml's `region`), or
    phonenumbers' unknown region when none is set."""
    region = store.config().get("region")
    return region if isinstance(region, str) and region else values.DEFAULT_REGION


def check_bytes(label: Label, raw: bytes) -> tuple[Loaded | None, list[Problem]]:
    """Parse and check one record file's bytes: the data (if it parses) and its problems."""
    try:
        loaded = records.load_yaml(raw, label.path)
    except RecordError as e:
        return None, [Problem(label.path, e.line, "", e.reason)]
    problems = schema.record_problems(label, loaded)
    if label.folder == "referrals" and not problems:  # what `validate` checks of it too
        problems = rules.history_problems(label, records.load_yaml(raw, label.path, lines=True))
    return loaded, problems


@dataclass(frozen=True)
class FileCheck:
    """One record file's own problems and the facts the checks across records need."""

    problems: tuple[Problem, ...]
    facts: crosscheck.Facts | None  # None when the file does not parse


def check_file(label: Label, raw: bytes, region: str = values.DEFAULT_REGION) -> FileCheck:
    """Check one record file, its lines mapped: a referral's client, from and to and a
    contact's values that a likely duplicate shares are placed by the checks across
    records. `region` reads phone numbers without a country code, for the likely
    duplicates."""

    def problems_of(loaded: Loaded) -> list[Problem]:
        found = schema.record_problems(label, loaded)
        if label.folder == "referrals":
            found += rules.history_problems(label, loaded)
        return found

    try:
        loaded = records.load_yaml(raw, label.path, lines=True)
    except RecordError as e:
        return FileCheck((Problem(label.path, e.line, "", e.reason),), None)
    problems = problems_of(loaded)
    return FileCheck(tuple(problems), crosscheck.facts_of(label, loaded, region))


CACHE_FORMAT = 2  # the shape of the cached facts (2: with duplicate matching and aliases)


class ValidationCache:
    """Results of checking record files, kept in .git/jobshare between runs.

    Per file: its size, mtime and inode (so an unchanged file is not even read), its
    blob id (so a file whose stat changed but not its bytes is not checked again),
    its problems and the facts the checks across records need; all under one version
    of jobshare and its schemas. And the last whole report with the stats and friends
    it was made from: a validate where nothing changed only stats the files.
    """

    RACY_NS = 2_000_000_000  # a file changed this close to the save may change again unseen

    def __init__(self, store: Store, region: str = values.DEFAULT_REGION) -> None:
        self.summary_path = store.state_dir / "validated.marshal"
        self.files_path = store.state_dir / "validated-files.marshal"
        self.region = region  # the facts' phone keys depend on it
        self.version = (
            f"{__version__}:{schema.schema_version()}:{region}:{CACHE_FORMAT}:stat{STAT_FIELDS}"
        )
        self._files: dict[str, tuple[Any, ...]] | None = None
        self.changed = False

    def _load(self, path: Path) -> Any:
        try:
            version, payload = marshal.loads(path.read_bytes())
        except (OSError, ValueError, EOFError, TypeError):
            return None  # no cache, or an unreadable one: check everything
        return payload if version == self.version else None

    def whole_report(
        self, stats: Mapping[str, StatKey], handles: list[str]
    ) -> ValidationReport | None:
        """The last report, if no record file, friend or schema changed since."""
        saved = self._load(self.summary_path)
        if not isinstance(saved, tuple) or len(saved) != 4:
            return None
        digest, saved_handles, checked, problems = saved
        if saved_handles != handles or digest != _digest(stats):
            return None
        return ValidationReport(checked, [Problem(*p) for p in problems])

    @property
    def files(self) -> dict[str, tuple[Any, ...]]:
        if self._files is None:
            loaded = self._load(self.files_path)
            self._files = loaded if isinstance(loaded, dict) else {}
        return self._files

    def check(self, label: Label, path: str, stat: StatKey) -> FileCheck:
        cached = self.files.get(label.path)
        if cached is not None and tuple(cached[:STAT_FIELDS]) == stat:
            return _from_cache(cached)
        with open(path, "rb") as f:
            raw = f.read()
        oid = blob_id(raw)
        result = (
            _from_cache(cached)
            if cached is not None and cached[STAT_FIELDS] == oid
            else check_file(label, raw, self.region)
        )
        self.files[label.path] = (*stat, oid, *_to_cache(result))
        self.changed = True
        return result

    def save(
        self, stats: Mapping[str, StatKey], handles: list[str], report: ValidationReport
    ) -> None:
        """Keep what was found. A record written a moment ago may change again within
        the same mtime tick: its entry is not kept, nor is the whole report."""
        fresh = time.time_ns() - self.RACY_NS
        racy = {path for path, stat in stats.items() if stat[0] >= fresh and path.endswith(".yaml")}
        problems = tuple((p.path, p.line, p.field, p.message, p.severity) for p in report.problems)
        with contextlib.suppress(OSError):
            self.summary_path.parent.mkdir(parents=True, exist_ok=True)
            if self.changed:
                kept = {path: entry for path, entry in self.files.items() if path not in racy}
                write_atomically(
                    self.files_path, marshal.dumps((self.version, kept)), durable=False
                )
            if racy:
                self.summary_path.unlink(missing_ok=True)
                return
            summary = (_digest(stats), handles, report.checked, problems)
            write_atomically(
                self.summary_path, marshal.dumps((self.version, summary)), durable=False
            )


STAT_FIELDS = 4  # the length of a StatKey, at the start of each cached file's entry


def _digest(stats: Mapping[str, StatKey]) -> bytes:
    """One fingerprint of every name in the record folders and its stat (in the order
    the folders list them: a new order only costs a full check)."""
    # marshal version 2: before version 3, no back-references, whose flags depend on
    # reference counts, so the same stats always give the same bytes
    return hashlib.sha1(marshal.dumps(dict(stats), 2)).digest()


def _to_cache(result: FileCheck) -> tuple[Any, ...]:
    problems = tuple((p.path, p.line, p.field, p.message, p.severity) for p in result.problems)
    found = result.facts
    facts = (found.keys, found.refs, found.matched, found.alias_of) if found is not None else None
    return problems, facts


def _from_cache(entry: tuple[Any, ...]) -> FileCheck:
    problems, facts = entry[STAT_FIELDS + 1], entry[STAT_FIELDS + 2]
    return FileCheck(
        tuple(Problem(*p) for p in problems),
        crosscheck.Facts(tuple(map(tuple, facts[0])), tuple(map(tuple, facts[1])), *facts[2:4])
        if facts is not None
        else None,
    )


def validate(store: Store | None, paths: Iterable[str] = ()) -> ValidationReport:
    """Check records (all of the working tree, or the given files) and report every problem."""
    wanted = [Path(p) for p in paths]
    if store is None:
        return _validate_files(wanted)
    stats = store.worktree_stats()  # every name in the record folders, records or not
    handles = sorted(known_handles(store))
    region = owner_region(store)
    cache = ValidationCache(store, region)
    if not wanted:
        cached = cache.whole_report(stats, handles)
        if cached is not None:
            return cached
    entries, skipped = store.worktree_entries()
    report = ValidationReport()
    if not wanted:
        report.problems.extend(Problem(s.path, None, "", s.reason) for s in skipped)
    chosen = _chosen_files(wanted, report)
    facts: dict[Label, crosscheck.Facts] = {}
    for label in sorted(chosen or entries):
        try:
            if label in chosen and label not in entries:
                result = check_file(label, chosen[label].read_bytes(), region)
            else:
                result = cache.check(label, entries[label].path, stats[label.path])
        except OSError as e:
            report.problems.append(Problem(label.path, None, "", f"cannot read: {e.strerror}"))
            continue
        report.checked += 1
        report.problems.extend(result.problems)
        if result.facts is not None:
            facts[label] = result.facts
    for label, entry in entries.items():  # the others, for the checks across records
        if label not in facts:
            with contextlib.suppress(OSError):
                found = cache.check(label, entry.path, stats[label.path]).facts
                if found is not None:
                    facts[label] = found
    unreadable = {label.id for label in entries if label.folder == "contacts"} - {
        label.id for label in facts
    }
    cross = crosscheck.cross_record_problems(facts, handles, region, unreadable=unreadable)
    if chosen:
        cross = [p for p in cross if p.path in {label.path for label in chosen}]
    report.problems.extend(cross)
    if not wanted:
        cache.save(stats, handles, report)
    return report


def _chosen_files(wanted: list[Path], report: ValidationReport) -> dict[Label, Path]:
    chosen: dict[Label, Path] = {}
    for path in wanted:
        label = _label_for_file(path, report)
        if label is not None:
            chosen[label] = path
    return chosen


def _validate_files(wanted: list[Path]) -> ValidationReport:
    """Files outside any repository: each checked on its own."""
    report = ValidationReport()
    for label, path in sorted(_chosen_files(wanted, report).items()):
        try:
            result = check_file(label, path.read_bytes())
        except OSError as e:
            report.problems.append(Problem(label.path, None, "", f"cannot read: {e.strerror}"))
            continue
        report.checked += 1
        report.problems.extend(result.problems)
    return report


def _label_for_file(path: Path, report: ValidationReport) -> Label | None:
    rel = f"{path.parent.name}/{path.name}"
    label = records.label_of_path(rel)
    if not path.exists():
        report.problems.append(Problem(str(path), None, "", "no such file"))
        return None
    if path.parent.name not in FOLDERS:
        report.problems.append(
            Problem(str(path), None, "", "not a record: records live in contacts/ or referrals/")
        )
        return None
    if label is None:
        report.problems.append(
            Problem(
                rel,
                None,
                "",
                "file name is not a valid record id: use lower-case letters, digits and dashes",
            )
        )
        return None
    return label


def known_handles(store: Store) -> set[str]:
    """The owner's handle and every friend's pinned handle."""
    handles = {store.handle}
    for name, value in store.git_config_names("jobshare-friend.").items():
        if name.endswith(".handle") and value:
            handles.add(value)
    return handles


def require_valid(label: Label, raw: bytes) -> dict[str, Any]:
    """The record's data, or InvalidRecordError listing every problem."""
    loaded, problems = check_bytes(label, raw)
    if problems or loaded is None:
        found = "; ".join(str(p) for p in problems)  # one line, as every error is
        raise InvalidRecordError(f"{label} is not valid: {found}")
    data: dict[str, Any] = loaded.data
    return data
