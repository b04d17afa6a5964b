"""`log --private` and `diff --private`: the private branch read as record changes.

The private side holds one person's records and notes, so each version is read
whole and compared with `core/diff.py`, by the `x-merge` rules of the records'
schemas and of `note.schema.json`. A note's label is `notes/<folder>/<id>`.
"""

from __future__ import annotations

from typing import Any

from ..core import notes, records, schema
from ..core.diff import diff_record
from ..errors import LabelError, RecordError
from ..history import CommitChanges, CommitInfo
from ..review import Change
from ..store import Store


def _parse(raw: bytes | None, path: str) -> dict[str, Any] | None:
    if raw is None:
        return None
    try:
        data = records.load_yaml(raw, path, lines=False).data
    except RecordError:
        return None
    return dict(data) if isinstance(data, dict) else None


def changes_between(store: Store, old: str | None, new: str | None) -> list[Change]:
    """The records and notes that differ between two private commits (None: empty)."""
    before = store.private.files(old) if old is not None else {}
    after = store.private.files(new) if new is not None else {}
    found = []
    for path in sorted(set(before) | set(after)):
        if before.get(path) == after.get(path):
            continue
        label = records.label_of_path(path)
        if notes.label_of_note(path) is not None:
            rules = notes.note_rules()
        elif label is not None:
            rules = schema.merge_rules(label.folder)
        else:
            continue
        diff = diff_record(
            path.removesuffix(".yaml"),
            _parse(before.get(path), path),
            _parse(after.get(path), path),
            rules,
        )
        if diff is not None:
            found.append(Change(diff))
    return found


def private_log(store: Store, limit: int | None = None) -> list[CommitChanges]:
    """Commits of the private branch, newest first, each with what it changed against
    its first parent."""
    out: list[CommitChanges] = []
    for commit in store.private.walk():
        if limit is not None and len(out) >= limit:
            break
        parent = commit.parents[0] if commit.parents else None
        out.append(
            CommitChanges(CommitInfo.of(commit), list(changes_between(store, parent, commit.id)))
        )
    return out


def private_diff(store: Store, revisions: tuple[str, ...]) -> tuple[str, str, list[Change]]:
    """`diff --private [REV [REV2]]`: REV against REV2 (default: the private branch),
    without REV the last private commit against its parent. Returns (old, new,
    changes); raises LabelError for a revision the private branch does not have."""
    if len(revisions) > 2:
        raise LabelError("diff --private takes at most two revisions")
    resolved = []
    for rev in revisions:
        found = store.private.resolve(rev)
        if found is None:
            raise LabelError(f"no private revision '{rev}': run 'jobshare log --private'")
        resolved.append(found)
    tip = store.private.tip()
    old: str | None
    new: str | None
    if not resolved:
        if tip is None:
            return "(none)", "(none)", []
        parents = store.private.commit_info(tip).parents
        old, new = (parents[0] if parents else None), tip
    elif len(resolved) == 1:
        old, new = resolved[0], tip
    else:
        old, new = resolved
    return (old or "(empty)")[:10], (new or "(empty)")[:10], changes_between(store, old, new)
