"""Review: record-level diffs of the working tree and of history; incoming.

The orchestration behind `diff` and `incoming` (`history.py` holds `log` and
`show REV`, built on the record changes here). Git objects are read through
the Store and differences computed by the pure `diff` module. Only records that
changed are read, so the cost follows the change, not the repository. Every function
returns a result object; nothing here prints. (`drivers.py` holds what plain git runs:
textconv and the merge driver, with git-setup and doctor.)
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .core import labels, records, schema
from .core.diff import RecordDiff, diff_record, diff_stat
from .core.identity import is_alias
from .core.records import FOLDERS, Label
from .core.urls import redacted
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

    @property
    def became_alias(self) -> dict[str, Any] | None:
        """The alias record a contact became here (combined or renamed, core/identity),
        or None: a change to read as one line, not as every field removed."""
        old, new = self.diff.old, self.diff.new
        if self.diff.folder == "contacts" and is_alias(new) and old and not is_alias(old):
            return new
        return None

    def to_json(self) -> dict[str, Any]:
        """RecordDiff's JSON, plus `unreadable: {old, new}` when a side did not parse, and
        `alias: {of, reason, by}` (`of` a label) when the record became an alias."""
        out = self.diff.to_json()
        if self.old_error or self.new_error:
            out["unreadable"] = {"old": self.old_error, "new": self.new_error}
        if (alias := self.became_alias) is not None:
            out["alias"] = {
                "of": f"contacts/{alias['alias_of']}",
                "reason": alias.get("alias_reason"),
                "by": alias.get("alias_by"),
            }
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
    aliases: dict[str, str] = field(default_factory=dict)  # alias label asked -> survivor's

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
    patterns: Sequence[str], known: Iterable[Label], titles: labels.Titles | None = None
) -> Callable[[Label], bool] | None:
    """A predicate for the records `patterns` name; None when there are no patterns.

    A pattern is a label (`contacts/acme-7k2q`, `.yaml` allowed), a bare id or a
    unique prefix of one, a record's name (see `labels.match_label`; `titles` gives
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
                exact.add(labels.match_label(bare, known, titles))
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
    A label naming an alias in the working tree brings its survivor's changes too
    (core/identity); `aliases` of the result says which.
    """
    labels, followed = _with_survivors(store, labels)
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
        return DiffResult(old_name, WORKTREE, _worktree_changes(store, old_tree, labels), followed)
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
    changes = _tree_changes(store, old_tree, b.tree, labels)
    return DiffResult(old_name, _short(b), changes, followed)


def _with_survivors(store: Store, labels: Sequence[str]) -> tuple[list[str], dict[str, str]]:
    """`labels` plus the survivor of each that names an alias (an exact label or id) in
    the working tree, and which alias led to which survivor."""
    followed: dict[str, str] = {}
    for text in labels:
        label = _exact_label(store, text)
        survivor = _survivor(store, label) if label is not None else None
        if label is not None and survivor is not None:
            followed[str(label)] = str(survivor)
    return [*labels, *followed.values()], followed


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


def _survivor(store: Store, label: Label) -> Label | None:
    """The record an alias in the working tree leads to (core/identity), or None."""
    from .reading import follow_alias

    if label.folder != "contacts" or not (store.root / label.path).is_file():
        return None
    try:
        found = follow_alias(store, label)
    except (LabelError, RecordError):
        return None
    return found if found != label else None


def _known_labels(store: Store, extra: Iterable[Label]) -> set[Label]:
    found, _ = store.worktree_files()
    return set(found) | set(extra)


def _titles(store: Store) -> labels.Titles:
    """The names of the working tree's records, read only when asked for."""

    def titles() -> dict[Label, str]:
        from .reading import record_titles

        return record_titles(store)

    return titles


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
        raise FriendError(
            f"friend '{name}' ({redacted(friend.url)}) has no valid jobshare.yaml: ask them "
            "to run 'jobshare init'"
        )
    preview = sync.merge_friend(store, friend, dry_run=True)
    theirs = store.commit(friend.fetched or "")
    head = store.head_commit()
    base = store.merge_base(head.id, theirs.id) if head is not None else None
    base_tree = store.commit(base).tree if base is not None else None
    changes = [] if preview.up_to_date else _tree_changes(store, base_tree, theirs.tree)
    return Incoming(friend.name, theirs.id, changes, preview)
