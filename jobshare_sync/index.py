"""The read index: a SQLite cache of the records at HEAD (DESIGN section 7a).

One row per record file at HEAD, keyed by label and blob id, holding what `list`,
search, `show` and label lookup need: the record as JSON, its name or title, kind,
tags, industries, emails, organization, added_by, updated, and its folded words in an
FTS5 table for search. The rows describe one tree, HEAD's; when HEAD moves, only the
records whose blob changed between the two trees are read again (`changed_entries`),
so the cost follows the change. Files in the working tree that differ from HEAD are
laid over the rows for each query: a file whose stat matches the one kept beside its
blob id is not read, so a query reads only what changed since.

It is a cache: missing, from another version (`PRAGMA user_version`) or corrupt, it
is rebuilt, and its answers never differ from reading every file (`entry_of` and
`matches` are the same rules in Python, for a test to compare). Every change is one
SQLite transaction in WAL mode, so readers never see half of one.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import marshal
import os
import sqlite3
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .core import records
from .core.records import Label
from .core.search import Entry, Query, entry_of, matches, select, since_key
from .errors import RecordError
from .store import Store

VERSION = 1  # PRAGMA user_version of the layout below: another value means rebuild
FILE_NAME = "index.sqlite"
RACY_NS = 2_000_000_000  # a file changed this recently is read again next time (git's racy-clean)
PROGRESS_FROM = 5000  # records: a build this large shows progress on a terminal

_TABLES = """
CREATE TABLE IF NOT EXISTS {db}.meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS {db}.records (
    rowid INTEGER PRIMARY KEY, label TEXT UNIQUE NOT NULL, folder TEXT NOT NULL,
    blob TEXT, name TEXT, kind TEXT, added_by TEXT, updated TEXT, organization TEXT,
    data TEXT);
CREATE TABLE IF NOT EXISTS {db}.keys (record INTEGER NOT NULL, field TEXT NOT NULL, key TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS {db}.keys_by_key ON keys (field, key);
CREATE INDEX IF NOT EXISTS {db}.keys_by_record ON keys (record);
CREATE VIRTUAL TABLE IF NOT EXISTS {db}.words USING fts5(text, tokenize='unicode61 remove_diacritics 0');
"""
_STATS = "CREATE TABLE IF NOT EXISTS main.stats (path TEXT PRIMARY KEY, mtime INTEGER, size INTEGER, ino INTEGER, blob TEXT)"


class Index:
    """The index of one repository, brought up to HEAD and the working tree on open.

    `Index.open(store)` is the way in; a database that cannot be read is replaced.
    """

    def __init__(self, store: Store, connection: sqlite3.Connection) -> None:
        self.store = store
        self.db = connection
        self.tree = ""  # the tree the rows describe, in the snapshot read
        self.learned: tuple[list[tuple[str, int, int, int, str]], set[str] | None, str | None]
        self.learned = ([], None, None)  # stats read, the paths on disk, the overlay kept

    # --- opening and keeping up --------------------------------------------------------

    @classmethod
    def open(cls, store: Store, *, progress: bool | None = None) -> Index:
        """The index of `store`, describing HEAD and, laid over it, the working tree.

        Rebuilt (with progress on a terminal when large) when missing, of another VERSION
        or corrupt; in memory when not writable or busy. Raises nothing of SQLite's.
        """
        path = store.state_dir / FILE_NAME
        for attempt in range(2):
            try:
                connection = _connect(path)
            except OSError:  # no folder or file of its own to write: a cache in memory
                break
            except sqlite3.DatabaseError as e:
                if not _damaged(e):  # busy, or held by another command: read in memory
                    break
                _remove(path)
                continue
            index = cls(store, connection)
            try:
                index._update(progress)
                index._overlay()
                return index
            except sqlite3.DatabaseError as e:
                with contextlib.suppress(sqlite3.Error):
                    connection.close()
                if not _damaged(e):
                    break
                if attempt == 0:
                    _remove(path)
        index = cls(store, _connect(None))
        index._update(progress)
        index._overlay()
        return index

    def close(self) -> None:
        """End the snapshot the queries read, keep what was learned about the working
        tree (when the rows still describe the same tree), and close."""
        try:
            if self.db.in_transaction:
                self.db.execute("COMMIT")
            self._remember()
        except sqlite3.Error:
            pass
        finally:
            self.db.close()

    def __enter__(self) -> Index:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _update(self, progress: bool | None) -> None:
        """Bring the rows from the tree they describe to HEAD's, in one transaction."""
        head = self.store.head_tree()
        if self._meta("tree") == (head or ""):
            return
        self.db.execute("BEGIN IMMEDIATE")  # one writer at a time; readers see the old rows
        try:
            old = self._meta("tree")  # again: another command may have done it meanwhile
            if old != (head or ""):
                self._apply(old or None, head, progress)
                self.db.execute("REPLACE INTO main.meta VALUES ('tree', ?)", (head or "",))
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise

    def _apply(self, old: str | None, head: str | None, progress: bool | None) -> None:
        try:
            changed = self.store.changed_entries(old, head)
        except (KeyError, ValueError):  # the tree described is gone (history rewritten)
            for table in ("records", "keys", "words"):
                self.db.execute(f"DELETE FROM main.{table}")
            old, changed = None, self.store.changed_entries(None, head)
        show = _progress(len(changed), progress)
        if old is not None:
            for label in changed:
                self._delete("main", str(label))
        batch: list[Entry] = []
        for count, (label, (_, blob)) in enumerate(sorted(changed.items()), 1):
            if blob is not None:
                batch.append(self._read_blob(label, blob))
            if count % 1000 == 0 or count == len(changed):
                self._insert_many("main", batch)
                batch = []
                if show is not None:
                    show(count)

    def _read_blob(self, label: Label, blob: str) -> Entry:
        try:
            data = self.store.load(label, blob).data
        except RecordError:
            data = None
        return entry_of(label, blob, data)

    def _meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM main.meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def _delete(self, db: str, label: str) -> None:
        row = self.db.execute(
            f"SELECT rowid FROM {db}.records WHERE label = ?", (label,)
        ).fetchone()
        if row is not None:
            self.db.execute(f"DELETE FROM {db}.records WHERE rowid = ?", row)
            self.db.execute(f"DELETE FROM {db}.keys WHERE record = ?", row)
            self.db.execute(f"DELETE FROM {db}.words WHERE rowid = ?", row)

    def _insert_many(self, db: str, entries: list[Entry]) -> None:
        """Add rows for `entries` (whose labels have none), in three statements."""
        if not entries:
            return
        top = self.db.execute(f"SELECT max(rowid) FROM {db}.records").fetchone()[0] or 0
        rows, keys, words = [], [], []
        for rowid, entry in enumerate(entries, top + 1):
            data = json.dumps(entry.data, ensure_ascii=False) if entry.data is not None else None
            label = entry.label
            rows.append(
                (rowid, str(label), label.folder, entry.blob, entry.name, entry.kind)
                + (entry.added_by, entry.updated, entry.organization, data)
            )
            keys += [(rowid, field, key) for field, key in entry.keys]
            if entry.text:
                words.append((rowid, entry.text))
        self.db.executemany(
            f"INSERT INTO {db}.records (rowid, label, folder, blob, name, kind, added_by,"
            " updated, organization, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
        self.db.executemany(f"INSERT INTO {db}.keys VALUES (?, ?, ?)", keys)
        self.db.executemany(f"INSERT INTO {db}.words (rowid, text) VALUES (?, ?)", words)

    # --- the working tree ---------------------------------------------------------------

    def _overlay(self) -> None:
        """Lay the working tree's differences from HEAD over the rows, for this connection
        only: records changed or added on disk go to temporary tables, and every label
        that differs (removed ones too) to `temp.hidden`.

        The record folders' names and stats (one scandir and one lstat per file) are
        hashed with HEAD's tree: when that fingerprint is the one kept from last time, the
        differences are the ones kept, and only the changed files are read again."""
        self.db.execute("BEGIN")  # one snapshot for the rows, the overlay and the queries
        self.tree = self._meta("tree") or ""
        scan, newest = _scan(self.store.root)
        fingerprint = hashlib.blake2b(marshal.dumps((self.tree, scan)), digest_size=16)
        kept = self._meta("overlay")
        if kept is not None and kept.startswith(fingerprint.hexdigest() + " "):
            listed = json.loads(kept.partition(" ")[2])
            changed = [self._read_file(label) for label in _labels(listed["changed"])]
            gone = listed["gone"]
        else:
            changed, gone = self._differences()
            if time.time_ns() - newest > RACY_NS:  # git's racy-clean rule: see RACY_NS
                listed = {"changed": [str(e.label) for e in changed], "gone": sorted(gone)}
                value = f"{fingerprint.hexdigest()} {json.dumps(listed)}"
                self.learned = (self.learned[0], self.learned[1], value)
        for statement in _TABLES.format(db="temp").split(";"):  # executescript would COMMIT
            if statement.strip():
                self.db.execute(statement)
        self.db.execute("CREATE TEMP TABLE IF NOT EXISTS hidden (label TEXT PRIMARY KEY)")
        self.db.executemany(
            "INSERT OR IGNORE INTO temp.hidden VALUES (?)",
            [(label,) for label in gone] + [(str(e.label),) for e in changed],
        )
        # blob None: gone since the fingerprint was taken
        self._insert_many("temp", [e for e in changed if e.blob is not None])

    def _read_file(self, label: Label) -> Entry:
        """A record file of the working tree, parsed (blob None when it cannot be read)."""
        try:
            raw = (self.store.root / label.path).read_bytes()
        except OSError:
            return Entry(label, None, None)
        return self._parse(label, self.store.hash_bytes(raw), raw)

    def _parse(self, label: Label, blob: str, raw: bytes) -> Entry:
        self.store.loads += 1
        try:
            data = records.load_yaml(raw, label.path, lines=False).data
        except RecordError:
            data = None
        return entry_of(label, blob, data)

    def _differences(self) -> tuple[list[Entry], set[str]]:
        """Record files that differ from HEAD's (parsed), and labels at HEAD not on disk.

        A file whose stat is the one kept beside its blob id is not read. When few stats
        are kept (the first command after a build), git's status names the files that
        may differ, and the others are taken as HEAD's (when HEAD is the tree the rows
        describe): their stats are taken before the status, so a file changed meanwhile
        has another stat next time."""
        heads = dict(self.db.execute("SELECT label, blob FROM main.records"))
        kept = {row[0]: row[1:] for row in self.db.execute("SELECT * FROM main.stats")}
        on_disk, _ = self.store.worktree_entries()
        stats: dict[Label, tuple[int, int, int]] = {}
        for label, item in on_disk.items():
            with contextlib.suppress(OSError):
                st = item.stat(follow_symlinks=False)
                stats[label] = (st.st_mtime_ns, st.st_size, st.st_ino)
        suspects = None
        if len(kept) < len(stats) // 2 and self.store.head_tree() == (self.tree or None):
            suspects = set(self.store.worktree_changes())
            if self.store.head_tree() != (self.tree or None):  # status spoke of another HEAD
                suspects = None
        fresh: list[tuple[str, int, int, int, str]] = []
        changed: list[Entry] = []
        now = time.time_ns()
        for label, stat in stats.items():
            path, text = label.path, str(label)
            known = kept.get(path)
            raw = None
            if known is not None and tuple(known[:3]) == stat:
                blob = known[3]
            elif suspects is not None and path not in suspects and heads.get(text):
                blob = heads[text]
            else:
                try:
                    raw = (self.store.root / path).read_bytes()
                except OSError:
                    continue
                blob = self.store.hash_bytes(raw)
            changed_stat = known is None or tuple(known[:3]) != stat
            if changed_stat and now - stat[0] > RACY_NS:  # git's racy-clean rule: RACY_NS
                fresh.append((path, *stat, blob))
            if heads.pop(text, None) == blob:
                continue
            changed.append(self._read_file(label) if raw is None else self._parse(label, blob, raw))
        paths = {label.path for label in on_disk}
        if fresh or any(path not in paths for path in kept):
            self.learned = (fresh, paths, None)
        return [e for e in changed if e.blob is not None], set(heads)

    def _remember(self) -> None:
        """Keep the blob ids of files read (so that the next query need not read them),
        forget files that are gone, and keep the overlay with its fingerprint. A cache: a
        busy database, or rows that moved to another tree meanwhile, skip it."""
        fresh, paths, overlay = self.learned
        if paths is None and overlay is None:
            return
        try:
            self.db.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError:
            return
        try:
            if self._meta("tree") == self.tree:
                if paths is not None:
                    self.db.executemany("REPLACE INTO main.stats VALUES (?, ?, ?, ?, ?)", fresh)
                    gone = [
                        (p,)
                        for (p,) in self.db.execute("SELECT path FROM main.stats")
                        if p not in paths
                    ]
                    self.db.executemany("DELETE FROM main.stats WHERE path = ?", gone)
                if overlay is not None:
                    self.db.execute("REPLACE INTO main.meta VALUES ('overlay', ?)", (overlay,))
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise

    # --- queries ------------------------------------------------------------------------

    def entries(
        self, query: Query | None = None, fields: tuple[str, ...] | None = None
    ) -> list[Entry]:
        """Records of the working tree that answer `query` (see `matches`): by label, or,
        with a search, best match first (FTS5's bm25), then by label. With `fields`,
        each entry's data holds only those of its fields (as the record has them): a
        listing that shows a few fields need not decode every record whole."""
        query = query if query is not None else Query()
        parts, args = [], []
        for db in ("main", "temp"):
            sql, more = select(db, query, fields)
            if sql is None:
                return []
            parts.append(sql)
            args += more
        rows = self.db.execute(
            "SELECT label, blob, CASE WHEN part IS NULL THEN data END, name, kind, rank, part"
            f" FROM ({' UNION ALL '.join(parts)}) ORDER BY rank, label",
            args,
        ).fetchall()
        out = []
        for label, blob, data, name, kind, _, part in rows:
            folder, _, record_id = label.partition("/")  # a label as Label wrote it
            shown = json.loads(part) if part is not None else json.loads(data)
            if part is None and fields:  # a real number among them: decoded whole
                shown = {k: v for k, v in shown.items() if k in fields}
            out.append(Entry(Label(folder, record_id), blob, shown, name=name or "", kind=kind))
        return out

    def labels(self) -> list[Label]:
        """Every record file's label in the working tree, readable or not, sorted."""
        rows = self.db.execute(
            "SELECT label FROM main.records WHERE label NOT IN (SELECT label FROM temp.hidden)"
            " UNION ALL SELECT label FROM temp.records ORDER BY label"
        )
        return [label for (text,) in rows if (label := records.label_of_path(f"{text}.yaml"))]

    def titles(self, folder: str | None = None) -> dict[Label, str]:
        """Each readable record's name (a referral's title), by label."""
        return {e.label: e.name for e in self.entries(Query(folder=folder))}


def _scan(root: Path) -> tuple[list[Any], int]:
    """Every name in the record folders with its lstat (mtime, size, inode), folder by
    folder in the order the directory lists them (an order that changes only costs a
    slower command), and the newest mtime among them (ns). One lstat per file is the
    floor of knowing what changed; the loop around it is kept lean."""
    scan: list[Any] = []
    newest = 0
    for folder in records.FOLDERS:
        try:
            with os.scandir(root / folder) as items:
                entries = list(items)
        except OSError:
            continue
        try:
            stats = [(e.name, e.stat(follow_symlinks=False)) for e in entries]
        except OSError:  # a file went away meanwhile
            stats = []
            for e in entries:
                with contextlib.suppress(OSError):
                    stats.append((e.name, e.stat(follow_symlinks=False)))
        rows = [(name, st.st_mtime_ns, st.st_size, st.st_ino) for name, st in stats]
        scan.append((folder, rows))
        newest = max(newest, max((row[1] for row in rows), default=0))
    return scan, newest


def _labels(texts: list[str]) -> list[Label]:
    return [label for text in texts if (label := records.label_of_path(f"{text}.yaml"))]


def _connect(path: Path | None) -> sqlite3.Connection:
    """A connection in autocommit mode (transactions are explicit), WAL journal, and the
    layout of VERSION; sqlite3.DatabaseError when the file is not such a database."""
    if path is None:
        db = sqlite3.connect(":memory:", isolation_level=None)
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(path, isolation_level=None, timeout=60)
    try:
        version = db.execute("PRAGMA user_version").fetchone()[0]
        if version not in (0, VERSION):
            raise sqlite3.DatabaseError(f"index version {version}, not {VERSION}")
        if path is not None:
            db.execute("PRAGMA journal_mode = WAL")
        db.execute("PRAGMA synchronous = NORMAL")
        if version == 0:
            db.executescript(
                f"BEGIN IMMEDIATE; {_TABLES.format(db='main')} {_STATS};"
                f" PRAGMA user_version = {VERSION}; COMMIT;"
            )
        db.execute("SELECT count(*) FROM main.meta").fetchone()
    except BaseException:
        db.close()
        raise
    return db


def _damaged(error: sqlite3.DatabaseError) -> bool:
    """Whether the file is bad (CORRUPT, NOTADB, another VERSION): only then removed.
    Busy, locked, locking-protocol or I/O errors may come from another command's use."""
    code = getattr(error, "sqlite_errorcode", None)
    return code is None or code & 0xFF in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB)


def _remove(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        with contextlib.suppress(OSError):
            os.unlink(f"{path}{suffix}")


def _progress(total: int, wanted: bool | None) -> Callable[[int], None] | None:
    """A progress line on stderr for a large build, on a terminal (or when asked)."""
    if wanted is False or total < PROGRESS_FROM:
        return None
    if wanted is None and not sys.stderr.isatty():
        return None

    def show(count: int) -> None:
        end = "\n" if count == total else ""
        print(f"\rindexing records: {count:,}/{total:,}", end=end, file=sys.stderr, flush=True)

    return show


def rebuild_all(store: Store) -> None:
    """Forget the index (the next open rebuilds it): `jobshare doctor`'s remedy."""
    _remove(store.state_dir / FILE_NAME)


__all__ = ["FILE_NAME", "VERSION", "Entry", "Index", "Query", "entry_of", "matches", "since_key"]
