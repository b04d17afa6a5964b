"""What the last `vdir sync` saw: per card file, the record both sides held then.

Kept beside the repository, in `.git/jobshare/vdir/<key>.json` (one file per folder,
`key` a hash of the folder's absolute path), never in a commit. Per file of the
folder: the record id it holds, the UID it carries, its bytes' SHA-256 and its
(mtime, size, inode) when last seen, and the record as it was synced: the base of
the next sync's three-way merge.

A file whose stat is unchanged is not read; one whose stat changed is hashed, and
parsed only when its bytes changed. The state is a cache of that and of the base: a
state file that is missing, damaged or from another version is ignored, and the next
sync reads every file and finds each base in the repository's history instead
(slower, never wrong). A stat taken within `RACY_NS` of the sync is not kept, since
a file changed again within the same clock tick would keep it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..store import Store, write_atomically

VERSION = 1
FOLDER = "vdir"  # under .git/jobshare/
RACY_NS = 2_000_000_000
Stat = tuple[int, int, int]  # st_mtime_ns, st_size, st_ino


@dataclass
class Entry:
    """One card file as last synced. `sha` and `stat` are None when the file is gone
    (a card deleted in the folder whose record the repository keeps); `base` is the
    record both sides held (None: none yet)."""

    file: str
    id: str
    uid: str
    sha: str | None = None
    stat: Stat | None = None
    base: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "uid": self.uid,
            "sha": self.sha,
            "stat": list(self.stat) if self.stat is not None else None,
            "base": self.base,
        }

    @classmethod
    def from_json(cls, file: str, item: Any) -> Entry:
        stat = item.get("stat")
        return cls(
            file,
            str(item["id"]),
            str(item["uid"]),
            item.get("sha"),
            (int(stat[0]), int(stat[1]), int(stat[2])) if stat else None,
            item.get("base") if isinstance(item.get("base"), dict) else None,
        )


def state_name(folder: Path) -> str:
    """The state file's name under `.git/jobshare/` for a folder (an absolute path)."""
    key = hashlib.sha256(str(folder).encode("utf-8", "surrogateescape")).hexdigest()[:24]
    return f"{FOLDER}/{key}.json"


def load(store: Store, folder: Path) -> dict[str, Entry]:
    """The entries of the last sync of `folder`, by file name; {} when there is no state
    or one that cannot be used (the sync then starts from the files and history)."""
    path = store.state_dir / state_name(folder)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("version") != VERSION or data.get("folder") != str(folder):
            return {}
        return {name: Entry.from_json(name, item) for name, item in data["files"].items()}
    except (OSError, ValueError, KeyError, TypeError, IndexError, AttributeError):
        return {}


def dumps(folder: Path, entries: dict[str, Entry]) -> str:
    """The state file's text: the folder and every entry, keys sorted."""
    files = {name: entries[name].to_json() for name in sorted(entries)}
    payload = {"version": VERSION, "folder": str(folder), "files": files}
    return json.dumps(payload, sort_keys=True, ensure_ascii=False)


def save(store: Store, folder: Path, entries: dict[str, Entry]) -> None:
    """Write the state at once (a sibling file, then a rename). Not being able to write
    it costs the next sync time, not correctness."""
    with contextlib.suppress(OSError):
        write_atomically(store.state_dir / state_name(folder), dumps(folder, entries).encode())


def stat_of(path: Path) -> Stat | None:
    """A file's (mtime, size, inode) to trust next time, or None when it changed too
    recently to be trusted (or is gone)."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    if st.st_mtime_ns >= time.time_ns() - RACY_NS:
        return None
    return st.st_mtime_ns, st.st_size, st.st_ino


def current_stat(path: Path) -> Stat | None:
    """A file's (mtime, size, inode) now, to compare with an entry's; None when gone."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_mtime_ns, st.st_size, st.st_ino


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
