"""History: `log` and `show REV`, commit by commit, record by record.

A commit's changes are the records it touched against its first parent, computed
by the pure `diff` module from blobs read through the Store. The log of one record
follows it through aliases (a combined record's history includes the records
combined into it). Every function returns a result object; nothing here prints.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from .core import labels
from .core.diff import RecordDiff
from .core.records import Label
from .errors import LabelError
from .review import Change, _blob_version, _exact_label, _survivor, _titles, _tree_changes, compare
from .store import Commit, Store


def _commit_date(seconds: int, offset: int) -> str:
    """A commit's date, ISO 8601 with the author's UTC offset; a date a datetime cannot
    hold (a friend's commit in the year 10000, an offset beyond a day) is shown as git's
    raw seconds and offset instead of failing."""
    try:
        zone = dt.timezone(dt.timedelta(minutes=offset))
        return dt.datetime.fromtimestamp(seconds, zone).isoformat()
    except (ValueError, OverflowError, OSError):
        sign = "-" if offset < 0 else "+"
        return f"@{seconds} {sign}{abs(offset) // 60:02}{abs(offset) % 60:02}"


@dataclass(frozen=True)
class CommitInfo:
    """Who made a commit, when, and why."""

    id: str
    parents: tuple[str, ...]
    author: str
    email: str
    date: str  # ISO 8601 with the author's UTC offset
    message: str

    @classmethod
    def of(cls, commit: Commit) -> CommitInfo:
        author = commit.author
        return cls(
            id=commit.id,
            parents=commit.parents,
            author=author.name,
            email=author.email,
            date=_commit_date(author.time, author.offset),
            message=commit.message.rstrip("\n"),
        )

    @property
    def is_merge(self) -> bool:
        return len(self.parents) > 1

    def to_json(self) -> dict[str, Any]:
        return {
            "commit": self.id,
            "parents": list(self.parents),
            "author": self.author,
            "email": self.email,
            "date": self.date,
            "message": self.message,
        }


@dataclass(frozen=True)
class Touched:
    """A record a commit added, modified or removed (no field details)."""

    label: str
    change: str

    def to_json(self) -> dict[str, Any]:
        return {"label": self.label, "change": self.change}


@dataclass
class CommitChanges:
    """One commit and the records it changed against its first parent."""

    commit: CommitInfo
    records: list[Touched | Change] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return self.commit.to_json() | {"records": [r.to_json() for r in self.records]}


def _first_parent_tree(store: Store, commit: Commit) -> str | None:
    return store.commit(commit.parents[0]).tree if commit.parents else None


def show_commit(store: Store, commit: Commit) -> CommitChanges:
    """A commit with its record-level diff against its first parent (for a merge: what
    the merge brought in)."""
    changes = _tree_changes(store, _first_parent_tree(store, commit), commit.tree)
    return CommitChanges(CommitInfo.of(commit), list(changes))


def show_target(store: Store, text: str) -> Label | Commit:
    """What `show TEXT` names: a record (an exact label or id) first, then a revision,
    then a unique prefix of a record id."""
    exact = _exact_label(store, text)
    if exact is not None:  # the common case, without listing every record
        return exact
    known, _ = store.worktree_files()
    bare = text.strip().removesuffix(".yaml")
    try:
        label: Label | None = labels.parse_label(text, known)
    except LabelError:
        label = None
    if label is not None and label in known and ("/" in bare or label.id == bare):
        return label
    commit = store.resolve_commit(text)
    if commit is not None:
        return commit
    if label is not None and label in known:
        return label
    from .reading import find_label  # for its "did you mean" hint

    try:
        return find_label(store, text)
    except LabelError as e:
        message = str(e).replace(" to see the records", " or 'jobshare log' to find one")
        raise LabelError(message.replace("no record '", "no record or revision '", 1)) from None


def log(store: Store, label: Label | None = None, limit: int | None = None) -> list[CommitChanges]:
    """Commits from HEAD, newest first, each with the records it changed.

    With a label: only the commits that changed that record, i.e. whose version of it
    differs from the version in every parent, so a friend's edit is credited to the
    friend's commit and not to the merge that brought it in, while a merge that made
    a new combined version is listed too. Each carries the record's field changes.
    Raises LabelError when the label names no record, now or in the history.
    """
    head = store.head_commit()
    if head is None:
        return _followed(store, label, limit, [])
    entries: list[CommitChanges] = []
    commits: Iterable[Commit] = store.walk_commits(head.id)
    survivor = _survivor(store, label) if label else None
    if label and survivor:
        found: Iterable[CommitChanges] = _alias_history(store, list(commits), label, survivor)
    else:
        found = _label_history(store, commits, label) if label else _all_changes(store, commits)
    for entry in found:
        if limit is not None and len(entries) >= limit:
            break
        entries.append(entry)
    return _followed(store, label, limit, entries)


def _alias_history(
    store: Store, commits: list[Commit], label: Label, survivor: Label
) -> Iterator[CommitChanges]:
    """`log OTHER` of an alias: the record's own history up to its combine (or rename),
    then its survivor's since then, newest first."""
    own = list(_label_history(store, commits, label))
    if not own:
        return iter(())
    turned = own[0].commit.id  # the newest change of the alias's file: it became the alias
    since = [
        entry
        for entry in _label_history(store, commits, survivor)
        if entry.commit.id == turned or store.descendant_of(entry.commit.id, turned)
    ]
    by_commit = {entry.commit.id: entry for entry in own}
    merged = list(own)
    for entry in since:
        if entry.commit.id in by_commit:  # the combine itself: both records' changes
            by_commit[entry.commit.id].records.extend(entry.records)
        else:
            merged.append(entry)
    order = {commit.id: i for i, commit in enumerate(commits)}
    return iter(sorted(merged, key=lambda entry: order[entry.commit.id]))


def _followed(
    store: Store, label: Label | None, limit: int | None, entries: list[CommitChanges]
) -> list[CommitChanges]:
    """`entries`, unless they are none because the label names no record at all."""
    if label and not entries and limit != 0 and not (store.root / label.path).exists():
        raise LabelError(
            f"no record '{label}', now or in the history: run 'jobshare list' to see the records"
        )
    return entries


def _all_changes(store: Store, commits: Iterable[Commit]) -> Iterator[CommitChanges]:
    for commit in commits:
        changed = store.changed_entries(_first_parent_tree(store, commit), commit.tree)
        touched: list[Touched | Change] = [
            Touched(str(label), _change_kind(old, new))
            for label, (old, new) in sorted(changed.items())
        ]
        yield CommitChanges(CommitInfo.of(commit), touched)


def _change_kind(old: object | None, new: object | None) -> str:
    return "added" if old is None else "removed" if new is None else "modified"


def _label_history(
    store: Store, commits: Iterable[Commit], label: Label
) -> Iterator[CommitChanges]:
    blobs: dict[str, str | None] = {}  # each commit's blob, looked up once

    def blob(commit_id: str, tree: str | None = None) -> str | None:
        if commit_id not in blobs:
            tree = tree if tree is not None else store.commit(commit_id).tree
            blobs[commit_id] = store.blob_id_at(tree, label.path)
        return blobs[commit_id]

    for commit in commits:
        mine = blob(commit.id, commit.tree)
        parents = commit.parents
        if not parents:
            if mine is None:
                continue
        elif any(blob(parent) == mine for parent in parents):
            continue
        old = blob(parents[0]) if parents else None
        found = compare(label, _blob_version(store, label, old), _blob_version(store, label, mine))
        if found is None:  # same data in other bytes: still a change to the file
            kind = _change_kind(old, mine)
            found = Change(RecordDiff(str(label), kind, None, None, ()))
        yield CommitChanges(CommitInfo.of(commit), [found])


def parse_log_label(store: Store, text: str) -> Label:
    """The label `log LABEL` follows: a full label (the record may be gone), a known id,
    a unique id prefix or a record's name (see `labels.match_label`)."""
    known, _ = store.worktree_files()
    return labels.match_label(text, known, _titles(store))
