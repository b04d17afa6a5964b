"""Review: record-level diffs of the working tree and of history; log and show.

The orchestration behind `diff`, `log` and `show REV`. Git objects are read through
the Store and differences computed by the pure `diff` module. Only records that
changed are read, so the cost follows the change, not the repository. Every function
returns a result object; nothing here prints. (`drivers.py` holds what plain git runs:
textconv and the merge driver, with git-setup and doctor.)
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .core import records, schema
from .core.diff import RecordDiff, diff_record, diff_stat
from .core.records import FOLDERS, Label
from .errors import FriendError, JobshareError, LabelError, RecordError
from .store import Commit, Store

WORKTREE = "working tree"
SEPARATOR = "--"

# --- reading one version of a record -------------------------------------------------


@dataclass(frozen=True)
class Version:
    """One side of a record in a diff: its data, or why it could not be read."""

    data: dict[str, Any] | None = None
    error: str | None = None

    @property
    def present(self) -> bool:
        return self.data is not None or self.error is not None


ABSENT = Version()


def _version_of(label: Label, read: Callable[[], Any]) -> Version:
    try:
        data = read()
    except RecordError as e:
        return Version(error=f"line {e.line}: {e.reason}" if e.line else e.reason)
    if not isinstance(data, dict):
        return Version(error="not a mapping of fields")
    return Version(data=data)


def _blob_version(store: Store, label: Label, oid: str | None) -> Version:
    if oid is None:
        return ABSENT
    return _version_of(label, lambda: store.load(label, oid).data)


def _file_version(label: Label, path: Path, raw: bytes | None) -> Version:
    if raw is None:
        if path.is_symlink() or path.exists():
            return Version(error="not a regular file")
        return ABSENT
    return _version_of(label, lambda: records.load_yaml(raw, label.path).data)


def read_file(path: Path) -> bytes | None:
    """A regular file's bytes; None when it is absent, a symlink or a folder."""
    if path.is_symlink() or not path.is_file():
        return None
    try:
        return path.read_bytes()
    except OSError:
        return None


# --- record changes ------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    """One record that differs between two versions; a side may be unreadable."""

    diff: RecordDiff
    old_error: str | None = None
    new_error: str | None = None

    @property
    def label(self) -> str:
        return self.diff.label

    @property
    def change(self) -> str:
        return self.diff.change

    @property
    def name(self) -> str:
        return self.diff.name

    def to_json(self) -> dict[str, Any]:
        """RecordDiff's JSON, plus `unreadable: {old, new}` when a side did not parse."""
        out = self.diff.to_json()
        if self.old_error or self.new_error:
            out["unreadable"] = {"old": self.old_error, "new": self.new_error}
        return out


def compare(label: Label, old: Version, new: Version) -> Change | None:
    """The change between two versions of a record, or None when they hold the same data."""
    if not old.present and not new.present:
        return None
    if old.error is None and new.error is None:
        rules = schema.merge_rules(label.folder)
        found = diff_record(str(label), old.data, new.data, rules)
        return Change(found) if found is not None else None
    change = "added" if not old.present else "removed" if not new.present else "modified"
    return Change(
        RecordDiff(str(label), change, old.data, new.data, ()),
        old_error=old.error,
        new_error=new.error,
    )


@dataclass
class DiffResult:
    """The record-level differences between two states of the repository."""

    old: str  # what was compared, for people: "HEAD", "a1b2c3d4e5", ...
    new: str
    changes: list[Change] = field(default_factory=list)

    def stat(self) -> dict[str, dict[str, int]]:
        return diff_stat(change.diff for change in self.changes)

    def to_json(self) -> list[dict[str, Any]]:
        return [change.to_json() for change in self.changes]


# --- arguments: revisions and labels -------------------------------------------------


def looks_like_label(text: str) -> bool:
    """Arguments naming a folder are labels even if a branch of that name exists."""
    return "contacts/" in text or "referrals/" in text


def is_revision(store: Store, text: str) -> bool:
    """Whether git resolves `text` as a commit, or as a range `A..B` / `A...B` of two."""
    if text in ("", SEPARATOR):
        return False
    for dots in ("...", ".."):
        if dots in text:
            left, _, right = text.partition(dots)
            return all(store.resolve_commit(side or "HEAD") is not None for side in (left, right))
    return store.resolve_commit(text) is not None


def split_arguments(
    store: Store, before: Sequence[str], after: Sequence[str] = ()
) -> tuple[list[str], list[str]]:
    """Tell revisions from labels: `diff [REV [REV2]] [LABEL...] [-- LABEL...]`.

    Up to two leading arguments that git resolves as revisions are revisions, unless
    they look like labels (contain `contacts/` or `referrals/`); everything from the
    first other argument on, and everything after `--`, is a label.
    """
    revisions: list[str] = []
    labels: list[str] = []
    for text in before:
        if (
            not labels
            and len(revisions) < 2
            and not looks_like_label(text)
            and is_revision(store, text)
        ):
            revisions.append(text)
        else:
            labels.append(text)
    return revisions, [*labels, *after]


def label_filter(
    patterns: Sequence[str], known: Iterable[Label], titles: records.Titles | None = None
) -> Callable[[Label], bool] | None:
    """A predicate for the records `patterns` name; None when there are no patterns.

    A pattern is a label (`contacts/acme-7k2q`, `.yaml` allowed), a bare id or a
    unique prefix of one, a record's name (see `records.match_label`; `titles` gives
    the names), a folder (`contacts`), or a glob (`contacts/acme*`). A pattern that
    names no known record is an error.
    """
    if not patterns:
        return None
    known = list(known)
    folders: set[str] = set()
    globs: list[str] = []
    exact: set[Label] = set()
    for text in patterns:
        bare = text.strip().removesuffix(".yaml").strip("/")
        if bare in FOLDERS:
            folders.add(bare)
        elif any(c in bare for c in "*?["):
            globs.append(bare)
        else:
            try:
                exact.add(records.match_label(bare, known, titles))
            except LabelError as e:
                if "ambiguous" in str(e):
                    raise
                raise LabelError(
                    f"'{text}' names no revision and no record: "
                    "run 'jobshare log' or 'jobshare list' (or put labels after '--')"
                ) from None

    def wanted(label: Label) -> bool:
        return (
            label in exact
            or label.folder in folders
            or any(fnmatch.fnmatchcase(str(label), g) for g in globs)
        )

    return wanted


# --- diffs ---------------------------------------------------------------------------


def _short(commit: Commit) -> str:
    return commit.id[:10]


def _tree_changes(
    store: Store, old: str | None, new: str | None, labels: Sequence[str] = ()
) -> list[Change]:
    """Records that differ between two trees (by id), with their field changes."""
    changed = store.changed_entries(old, new)
    wanted = label_filter(labels, _known_labels(store, changed), _titles(store)) if labels else None
    changes = []
    for label, (old_oid, new_oid) in sorted(changed.items()):
        if wanted is not None and not wanted(label):
            continue
        found = compare(
            label, _blob_version(store, label, old_oid), _blob_version(store, label, new_oid)
        )
        if found is not None:
            changes.append(found)
    return changes


def _worktree_changes(store: Store, old: str | None, labels: Sequence[str] = ()) -> list[Change]:
    """Records that differ between `old` and the working tree. Only candidates are read:
    what differs between `old` and HEAD, plus what git status reports as changed."""
    candidates = set(store.changed_entries(old, store.head_tree()))
    for changed_path in store.worktree_changes():
        changed_label = records.label_of_path(changed_path)
        if changed_label is not None:
            candidates.add(changed_label)
    wanted = (
        label_filter(labels, _known_labels(store, candidates), _titles(store)) if labels else None
    )
    changes = []
    for label in sorted(candidates):
        if wanted is not None and not wanted(label):
            continue
        old_oid = store.blob_id_at(old, label.path)
        path = store.root / label.path
        raw = read_file(path)
        if raw is not None and old_oid is not None and store.hash_bytes(raw) == old_oid:
            continue
        found = compare(
            label, _blob_version(store, label, old_oid), _file_version(label, path, raw)
        )
        if found is not None:
            changes.append(found)
    return changes


def _commit(store: Store, rev: str) -> Commit:
    return store.commit_of(rev or "HEAD")


def diff(store: Store, revisions: Sequence[str] = (), labels: Sequence[str] = ()) -> DiffResult:
    """Record changes: HEAD -> working tree; REV -> working tree; REV -> REV2; or a range.

    `A..B` is the same as `A B`; `A...B` is what B changed since it forked from A.
    """
    if len(revisions) > 2 or (len(revisions) == 2 and any(".." in r for r in revisions)):
        raise JobshareError(
            "give at most two revisions, or one range: 'jobshare diff [REV [REV2]]', "
            "'jobshare diff A..B' or 'jobshare diff A...B'"
        )
    old_tree: str | None
    if not revisions or (len(revisions) == 1 and ".." not in revisions[0]):
        if revisions:
            commit = _commit(store, revisions[0])
            old_tree, old_name = commit.tree, _short(commit)
        else:
            old_tree, old_name = store.head_tree(), "HEAD"
        return DiffResult(old_name, WORKTREE, _worktree_changes(store, old_tree, labels))
    if len(revisions) == 2:
        a, b = _commit(store, revisions[0]), _commit(store, revisions[1])
        old_name, old_tree = _short(a), a.tree
    else:
        three = "..." in revisions[0]
        left, _, right = revisions[0].partition("..." if three else "..")
        a, b = _commit(store, left), _commit(store, right)
        old_name, old_tree = _short(a), a.tree
        if three:
            base = store.merge_base(a.id, b.id)
            if base is None:
                raise JobshareError(
                    f"'{left or 'HEAD'}' and '{right or 'HEAD'}' have no common history: "
                    f"use 'jobshare diff {left or 'HEAD'} {right or 'HEAD'}'"
                )
            old_name = f"merge base {str(base)[:10]}"
            old_tree = store.commit(base).tree
    return DiffResult(old_name, _short(b), _tree_changes(store, old_tree, b.tree, labels))


def _known_labels(store: Store, extra: Iterable[Label]) -> set[Label]:
    found, _ = store.worktree_files()
    return set(found) | set(extra)


def _titles(store: Store) -> records.Titles:
    """The names of the working tree's records, read only when asked for."""

    def titles() -> dict[Label, str]:
        from .workspace import record_titles

        return record_titles(store)

    return titles


# --- commits: show and log -----------------------------------------------------------


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
        label: Label | None = records.parse_label(text, known)
    except LabelError:
        label = None
    if label is not None and label in known and ("/" in bare or label.id == bare):
        return label
    commit = store.resolve_commit(text)
    if commit is not None:
        return commit
    if label is not None and label in known:
        return label
    from .workspace import find_label  # for its "did you mean" hint

    try:
        return find_label(store, text)
    except LabelError as e:
        message = str(e).replace(" to see the records", " or 'jobshare log' to find one")
        raise LabelError(message.replace("no record '", "no record or revision '", 1)) from None


def _exact_label(store: Store, text: str) -> Label | None:
    """The one record file a full label or an exact id names, or None."""
    bare = text.strip().removesuffix(".yaml").strip("/")
    folder, _, record_id = bare.rpartition("/")
    if not records.ID_RE.match(record_id) or (folder and folder not in records.FOLDERS):
        return None
    hits = [
        Label(f, record_id)
        for f in ([folder] if folder else records.FOLDERS)
        if os.path.isfile(path := store.root / f / f"{record_id}.yaml") and not path.is_symlink()
    ]
    return hits[0] if len(hits) == 1 else None


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


def _survivor(store: Store, label: Label) -> Label | None:
    """The record an alias in the working tree leads to (core/identity), or None."""
    from .workspace import follow_alias

    if label.folder != "contacts" or not (store.root / label.path).is_file():
        return None
    try:
        found = follow_alias(store, label)
    except (LabelError, RecordError):
        return None
    return found if found != label else None


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
    a unique id prefix or a record's name (see `records.match_label`)."""
    known, _ = store.worktree_files()
    return records.match_label(text, known, _titles(store))


# --- incoming: what a pull would bring -------------------------------------------------


@dataclass
class Incoming:
    """A friend's record changes since the merge base, and what a pull would do with them."""

    friend: str
    commit: str
    changes: list[Change]
    preview: Any  # sync.Pulled, from a merge that was computed but not written

    def to_json(self) -> dict[str, Any]:
        result = self.preview.result
        return {
            "friend": self.friend,
            "commit": self.commit,
            "up_to_date": self.preview.up_to_date,
            "changes": [change.to_json() for change in self.changes],
            "pull": result.counts(),
            "conflicts": [c.to_json() for c in result.conflicts],
            "notices": [n.message for n in result.notices],
            "skipped": [{"path": s.path, "reason": s.reason} for s in self.preview.skipped],
            "warnings": self.preview.warnings,
        }


def incoming(store: Store, name: str, progress: Callable[[str], None] = lambda m: None) -> Incoming:
    """Fetch a friend into no ref at all and preview the pull: nothing in the repository
    (refs, config, index, working tree) changes."""
    from . import sync

    sync.check_not_shallow(store)  # as pull does: no merge to predict
    friend = sync.peek(store, name, progress=progress)
    if friend.handle is None:
        raise FriendError(f"friend '{name}' ({friend.url}) has no valid jobshare.yaml")
    preview = sync.merge_friend(store, friend, dry_run=True)
    theirs = store.commit(friend.fetched or "")
    head = store.head_commit()
    base = store.merge_base(head.id, theirs.id) if head is not None else None
    base_tree = store.commit(base).tree if base is not None else None
    changes = [] if preview.up_to_date else _tree_changes(store, base_tree, theirs.tree)
    return Incoming(friend.name, theirs.id, changes, preview)
