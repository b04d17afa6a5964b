"""`jobshare edit`: a record edited in the user's editor until it is valid, then saved.

The record is edited in a copy under `.git/jobshare/edit/`, its schema comment
rewritten to resolve from there; problems come back as `# ! ` lines at the end.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .core import records, schema
from .core.records import SCHEMA_COMMENT_PREFIX, Label, Loaded
from .reading import find_label, follow_alias
from .store import Store
from .validation import check_bytes
from .workspace import Saved, now, save_record

PROBLEM_PREFIX = "# ! "  # a problem shown at the top of a record being edited


@dataclass
class Edited:
    """What an edit came to: `saved` when the record was written (and committed, if
    asked), None when nothing was written: unchanged, or `gave_up`."""

    label: Label
    saved: Saved | None
    gave_up: bool = False


def edit_record(
    store: Store, text: str, edit: Callable[[Path, str], str], *, commit: bool = True
) -> Edited:
    """Edit the record `text` names through `edit` (a file to edit at and its text in,
    the edited text out: the user's editor) until it is valid, then save it with a new
    `updated`.

    The file to edit is `.git/jobshare/edit/<folder>/<id>.yaml` (see `edit_path`), its
    schema comment rewritten to resolve from there, so an editor's completion works as
    in the record file; the comment is put back before saving. An invalid result goes
    back to `edit` with its problems as `# ! ` lines at the end, so that the line
    numbers they give are the lines of the buffer above them; the same invalid text
    handed back again gives up. Text unchanged, or the same data in other bytes,
    writes nothing. Raises LabelError for an unknown record and RecordError if the
    record on disk does not parse once the edit is valid."""
    found = follow_alias(store, find_label(store, text))
    original = (store.root / found.path).read_bytes()
    path = edit_path(store, found)
    comments = (
        SCHEMA_COMMENT_PREFIX + schema.schema_comment(found.kind),
        SCHEMA_COMMENT_PREFIX + _schema_path_from(store, found.kind, path.parent),
    )
    shown = _swap_first_line(original.decode("utf-8", errors="replace"), *comments)
    tried: str | None = None  # the last invalid attempt: handing it back unchanged gives up
    try:
        while True:
            edited = edit(path, shown)
            body = "".join(
                line
                for line in edited.splitlines(keepends=True)
                if not line.startswith(PROBLEM_PREFIX)
            )
            body = _swap_first_line(body, comments[1], comments[0])
            if tried is None and body.encode() == original:
                return Edited(found, None)
            if body == tried:
                return Edited(found, None, gave_up=True)
            loaded, problems = check_bytes(found, body.encode())
            if loaded is not None and not problems:
                return Edited(found, _save_edit(store, found, original, loaded, commit))
            tried = body
            shown = (
                _swap_first_line(body, *comments)
                + ("" if not body or body.endswith("\n") else "\n")
                + f"{PROBLEM_PREFIX}Fix these problems and save, or save unchanged to give up:\n"
                + "".join(f"{PROBLEM_PREFIX}{p}\n" for p in problems)
            )
    finally:
        with contextlib.suppress(OSError):
            path.unlink()


def edit_path(store: Store, label: Label) -> Path:
    """Where `edit` has the user edit a record: .git/jobshare/edit/<folder>/<id>.yaml,
    inside the repository (the schema comment can resolve) but not in the working tree."""
    return store.git_dir / "jobshare" / "edit" / label.folder / f"{label.id}.yaml"


def _schema_path_from(store: Store, kind: str, folder: Path) -> str:
    """The schema copy's path relative to `folder` (with `/`), as a `$schema` comment
    gives it; absolute when there is no relative path (another drive)."""
    target = store.root / schema.SCHEMA_DIR_IN_REPO / f"{kind}.schema.json"
    try:
        return Path(os.path.relpath(target, folder)).as_posix()
    except ValueError:
        return target.as_uri()


def _swap_first_line(text: str, old: str, new: str) -> str:
    """`text` with its first line `new` when it is `old` (its line ending kept)."""
    first, sep, rest = text.partition("\n")
    if first.rstrip("\r") != old:
        return text
    return new + first[len(first.rstrip("\r")) :] + sep + rest


def _save_edit(
    store: Store, label: Label, original: bytes, loaded: Loaded, commit: bool
) -> Saved | None:
    data = dict(loaded.data)
    before = records.load_yaml(original, label.path).data
    if data == before:
        return None
    if data.get("updated") == (before or {}).get("updated"):
        data["updated"] = now()
    title = data.get("name") or data.get("title") or ""
    message = f'Edit {label.kind} "{title}" ({label})'
    return save_record(store, label, data, message=message, commit=commit)
