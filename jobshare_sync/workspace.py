"""Local work on one's own records: init, add, edit, remove, commit, list, validate.

Each function takes a Store, does one piece of work and returns a result; none of
them prints. Writes happen under the repository lock and through
`Store.commit_files`, so an interrupted command never leaves half a change.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pygit2

from . import records, schema
from .errors import (
    InvalidRecordError,
    LabelError,
    NotARepositoryError,
    RecordError,
)
from .records import FOLDERS, Label, Loaded
from .schema import Problem, ValidationReport
from .store import CONFIG_FILE, GITKEEP, Store, write_atomically


def now() -> str:
    """The current time as the records store it (UTC, seconds)."""
    fixed = os.environ.get("JOBSHARE_NOW")  # lets tests and the demo pin the clock
    if fixed:
        return fixed
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


# --- init ----------------------------------------------------------------------------


@dataclass
class InitResult:
    root: Path
    handle: str
    created_repo: bool
    created_config: bool
    commit: str | None


HANDLE_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,38}$")


def init_repository(
    path: str | os.PathLike[str],
    handle: str | None = None,
    name: str | None = None,
    email: str | None = None,
) -> InitResult:
    """Create or adopt a git repository as a jobshare repository; safe to run twice."""
    root = Path(path).resolve()
    found = pygit2.discover_repository(str(root)) if root.exists() else None
    created_repo = found is None or Path(found).resolve().parent != root
    if created_repo:
        root.mkdir(parents=True, exist_ok=True)
        repo = pygit2.init_repository(str(root), initial_head="main")
    else:
        repo = pygit2.Repository(found)
    store = Store(repo)
    config_path = store.root / CONFIG_FILE
    created_config = not config_path.exists()
    with store.locked():
        files: dict[str, bytes | None] = {}
        if created_config:
            git_name, git_email = _git_identity(repo)
            name = name or git_name
            email = email or git_email
            if not name:
                raise NotARepositoryError(
                    "no name given and none in git's config: run "
                    "'jobshare init --name \"Your Name\" --email you@example.com'"
                )
            handle = handle or _derive_handle(name, email)
            if not HANDLE_RE.match(handle):
                raise InvalidRecordError(
                    f"'{handle}' is not a valid handle: use lower-case letters, digits, '-' and '_'"
                )
            owner: dict[str, Any] = {"handle": handle, "name": name}
            if email:
                owner["email"] = email
            config: dict[str, Any] = {"owner": owner, "format": 1}
            problems = schema.schema_problems("jobshare", Loaded(config, {}), CONFIG_FILE)
            if problems:
                raise InvalidRecordError(
                    f"{CONFIG_FILE}: {problems[0].field.lstrip('/')}: {problems[0].message}"
                )
            files[CONFIG_FILE] = schema.dump_config(config)
        else:
            config = store.config()
            handle = config["owner"]["handle"]
        head_tree = store.head_tree()
        for kind in schema.KINDS:
            rel = f"{schema.SCHEMA_DIR_IN_REPO}/{kind}.schema.json"
            text = schema.schema_text(kind).encode()
            if not (store.root / rel).is_file() or (store.root / rel).read_bytes() != text:
                files[rel] = text
        for folder in FOLDERS:
            if not (store.root / folder).is_dir():
                files[f"{folder}/{GITKEEP}"] = b""
        # files already in the working tree but never committed (adopting a folder)
        for rel in (CONFIG_FILE,):
            if rel not in files and _blob(head_tree, rel) is None:
                files[rel] = (store.root / rel).read_bytes()
        commit = None
        if files:
            message = "Start a jobshare repository" if created_config else "Update jobshare files"
            commit = str(store.commit_files(files, message, owner=config["owner"]))
    return InitResult(store.root, handle, created_repo, created_config, commit)


def _blob(tree: pygit2.Tree | None, path: str) -> pygit2.Oid | None:
    try:
        return tree[path].id if tree is not None else None
    except KeyError:
        return None


def _git_identity(repo: pygit2.Repository) -> tuple[str | None, str | None]:
    config = repo.config
    name, email = (config[key] if key in config else None for key in ("user.name", "user.email"))
    return name, email


def _derive_handle(name: str, email: str | None) -> str:
    base = email.split("@")[0] if email else name.split()[0]
    return records.slugify(base)[:39] or "me"


# --- labels and reading ------------------------------------------------------------


def known_labels(store: Store) -> list[Label]:
    found, _ = store.worktree_files()
    return sorted(found)


def find_label(store: Store, text: str) -> Label:
    """A label from what the user typed; it must name a record in the working tree."""
    try:
        label = records.parse_label(text, known_labels(store))
    except LabelError as e:
        if "no record" not in str(e):
            raise
        label = None
    if label is None or not (store.root / label.path).is_file():
        wanted = label.id if label else text.strip()
        hint = _close_matches(store, wanted)
        raise LabelError(f"no record '{text}'{hint}: run 'jobshare list' to see the records")
    return label


def _close_matches(store: Store, wanted: str) -> str:
    import difflib

    ids = [label.id for label in known_labels(store)]
    close = difflib.get_close_matches(wanted, ids, n=3, cutoff=0.5)
    return f" (did you mean {', '.join(close)}?)" if close else ""


def read_worktree_record(store: Store, label: Label) -> dict[str, Any]:
    raw = (store.root / label.path).read_bytes()
    loaded = records.load_yaml(raw, label.path)
    if not isinstance(loaded.data, dict):
        raise RecordError(label.path, "not a mapping of fields", 1)
    return loaded.data


@dataclass(frozen=True)
class Listed:
    label: Label
    data: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {"label": str(self.label), "record": self.data}


def list_records(
    store: Store,
    folder: str | None = None,
    kind: str | None = None,
    tag: str | None = None,
    search: str | None = None,
) -> list[Listed]:
    """Records of the working tree that match every filter given; unreadable ones are left out."""
    found, _ = store.worktree_files()
    needle = search.lower() if search else None
    out = []
    for label in sorted(found):
        if folder and label.folder != folder:
            continue
        try:
            data = read_worktree_record(store, label)
        except RecordError:
            continue
        if kind and data.get("kind") != kind:
            continue
        if tag and tag not in (data.get("tags") or []):
            continue
        if needle and needle not in _searchable(label, data):
            continue
        out.append(Listed(label, data))
    return out


def _searchable(label: Label, data: Mapping[str, Any]) -> str:
    import json

    return (label.id + " " + json.dumps(data, ensure_ascii=False)).lower()


# --- validation ---------------------------------------------------------------------


def check_bytes(label: Label, raw: bytes) -> tuple[Loaded | None, list[Problem]]:
    """Parse and check one record file's bytes: the data (if it parses) and its problems."""
    try:
        loaded = records.load_yaml(raw, label.path)
    except RecordError as e:
        return None, [Problem(label.path, e.line, "", e.reason)]
    return loaded, schema.record_problems(label, loaded)


def validate(store: Store | None, paths: Iterable[str] = ()) -> ValidationReport:
    """Check records (all of the working tree, or the given files) and report every problem."""
    from . import referrals  # the referral lifecycle builds on this module: import it late

    report = ValidationReport()
    wanted = [Path(p) for p in paths]
    found: dict[Label, Loaded] = {}
    if store is not None:
        files, skipped = store.worktree_files()
        report.problems.extend(Problem(s.path, None, "", s.reason) for s in skipped)
    else:
        files = {}
    chosen: dict[Label, Path] = {}
    for path in wanted:
        label = _label_for_file(path, report)
        if label is not None:
            chosen[label] = path
    targets = chosen or files
    for label, path in sorted(targets.items()):
        try:
            raw = path.read_bytes()
        except OSError as e:
            report.problems.append(Problem(label.path, None, "", f"cannot read: {e.strerror}"))
            continue
        report.checked += 1
        loaded, problems = check_bytes(label, raw)
        report.problems.extend(problems)
        if loaded is not None:
            found[label] = loaded
            if label.folder == "referrals":
                report.problems.extend(referrals.history_problems(label, loaded))
    if store is not None:
        for label, path in files.items():
            if label not in found:
                try:
                    loaded, _ = check_bytes(label, path.read_bytes())
                except OSError:
                    continue
                if loaded is not None:
                    found[label] = loaded
        cross = schema.cross_record_problems(found, known_handles(store))
        if chosen:
            chosen_paths = {label.path for label in chosen}
            cross = [p for p in cross if p.path in chosen_paths]
        report.problems.extend(cross)
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
    config = store.repo.config
    for entry in config:
        if (
            entry.name.startswith("jobshare-friend.")
            and entry.name.endswith(".handle")
            and entry.value
        ):
            handles.add(entry.value)
    return handles


def require_valid(label: Label, raw: bytes) -> dict[str, Any]:
    """The record's data, or InvalidRecordError listing every problem."""
    loaded, problems = check_bytes(label, raw)
    if problems or loaded is None:
        lines = "\n".join(str(p) for p in problems)
        raise InvalidRecordError(f"{label} is not valid:\n{lines}")
    data: dict[str, Any] = loaded.data
    return data


# --- writing records -----------------------------------------------------------------


@dataclass
class Saved:
    label: Label
    commit: str | None
    changed: bool = True
    data: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"label": str(self.label), "commit": self.commit, "changed": self.changed}


def new_contact(
    store: Store, fields: Mapping[str, Any], record_id: str | None = None
) -> tuple[Label, dict[str, Any]]:
    """A contact with id, added_by and updated filled in; not yet written."""
    taken = {label.id for label in known_labels(store)}
    name = str(fields.get("name") or "contact")
    if record_id is not None:
        if not records.ID_RE.match(record_id):
            raise InvalidRecordError(
                f"'{record_id}' is not a valid id: use lower-case letters, digits and dashes (at most 64)"
            )
        if record_id in taken:
            raise InvalidRecordError(
                f"id '{record_id}' is already used: pick another or leave --id out"
            )
    else:
        record_id = records.new_id(name, taken)
    data = {"id": record_id, **{k: v for k, v in fields.items() if v not in (None, [], "")}}
    data.setdefault("added_by", store.handle)
    data["updated"] = now()
    return Label("contacts", record_id), data


def save_record(
    store: Store,
    label: Label,
    data: Mapping[str, Any],
    *,
    message: str,
    commit: bool = True,
) -> Saved:
    """Validate and write one record in canonical form, and commit it unless told not to."""
    raw = schema.dump_record(label.folder, data)
    require_valid(label, raw)
    if label.folder == "referrals":
        client = data.get("client")
        if not (store.root / "contacts" / f"{client}.yaml").is_file():
            raise InvalidRecordError(
                f"client '{client}' names no contact: run 'jobshare list contacts'"
            )
    path = store.root / label.path
    if path.is_file() and path.read_bytes() == raw:
        return Saved(label, None, changed=False, data=dict(data))
    with store.locked():
        if commit:
            oid = store.commit_files({label.path: raw}, message)
            return Saved(label, str(oid), data=dict(data))
        write_atomically(path, raw)
    return Saved(label, None, data=dict(data))


def remove_record(store: Store, label: Label, *, commit: bool = True) -> Saved:
    with store.locked():
        name = _display_name(store, label)
        if commit:
            oid = store.commit_files({label.path: None}, f"Remove {label.kind} {name}")
            return Saved(label, str(oid))
        (store.root / label.path).unlink()
    return Saved(label, None)


def _display_name(store: Store, label: Label) -> str:
    try:
        data = read_worktree_record(store, label)
    except (RecordError, OSError):
        return str(label)
    title = data.get("name") or data.get("title")
    return f'"{title}" ({label})' if title else str(label)


@dataclass
class CommitResult:
    commit: str | None
    files: dict[str, str]  # path -> added/modified/removed

    def to_json(self) -> dict[str, Any]:
        return {"commit": self.commit, "files": self.files}


def commit_worktree(store: Store, message: str | None = None) -> CommitResult:
    """Validate and commit every record file changed by hand; nothing if one is invalid."""
    with store.locked():
        changes = store.worktree_changes()
        if not changes:
            return CommitResult(None, {})
        files: dict[str, bytes | None] = {}
        problems: list[str] = []
        for path, state in sorted(changes.items()):
            label = records.label_of_path(path)
            if state == "removed":
                files[path] = None
                continue
            full = store.root / path
            if label is None:
                problems.append(
                    f"{path}: file name is not a valid record id: use lower-case letters, digits and dashes"
                )
                continue
            if full.is_symlink() or not full.is_file():
                problems.append(f"{path}: not a regular file")
                continue
            raw = full.read_bytes()
            _, found = check_bytes(label, raw)
            problems.extend(str(p) for p in found)
            files[path] = raw
        if problems:
            raise InvalidRecordError(
                "nothing committed; fix these first ('jobshare validate' shows them all):\n"
                + "\n".join(problems)
            )
        if message is None:
            message = _describe_changes(changes)
        oid = store.commit_files(files, message)
    return CommitResult(str(oid), changes)


def _describe_changes(changes: Mapping[str, str]) -> str:
    counts: dict[str, int] = {}
    for state in changes.values():
        counts[state] = counts.get(state, 0) + 1
    if len(changes) == 1:
        ((path, state),) = changes.items()
        verb = {"added": "Add", "removed": "Remove", "modified": "Edit"}[state]
        return f"{verb} {path.removesuffix('.yaml')}"
    parts = [f"{n} {state}" for state, n in sorted(counts.items())]
    return "Edit records: " + ", ".join(parts)
