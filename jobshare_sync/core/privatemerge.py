"""The merge of the private side between one's own machines: pure, file by file.

The private branch of one machine and the one fetched from the private remote are
merged as a pull merges a friend (DESIGN section 3, field by field by `x-merge`,
`core/merge.py`), with the differences that suit one person's own data: a deletion
on one machine applies when the other did not change the file, a file changed on one
machine and deleted on the other is kept (nothing is lost), and a field changed to
two values keeps this machine's value (the other machine's stays in the private
history, the merge's second parent) and is reported.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..errors import InvalidRecordError, RecordError
from . import notes, records, schema
from .fieldmerge import AncestorOursTheirs
from .merge import merge_record

Files = Mapping[str, bytes]


@dataclass
class PrivateMerge:
    changes: dict[str, bytes | None] = field(default_factory=dict)  # path -> new bytes
    messages: list[str] = field(default_factory=list)


def _parse(raw: bytes | None, path: str) -> dict[str, Any] | None:
    if raw is None:
        return None
    try:
        data = records.load_yaml(raw, path, lines=False).data
    except (RecordError, InvalidRecordError):  # an unreadable file: this machine's stays
        return None
    return dict(data) if isinstance(data, dict) else None


def _dump(path: str, data: Mapping[str, Any]) -> bytes:
    if notes.label_of_note(path) is not None:
        return notes.dump_note(data)
    label = records.label_of_path(path)
    assert label is not None
    return schema.dump_record(label.folder, data)


def _rules(path: str) -> Mapping[str, str] | None:
    if notes.label_of_note(path) is not None:
        return notes.note_rules()
    label = records.label_of_path(path)
    return schema.merge_rules(label.folder) if label is not None else None


def merge_private(base: Files, ours: Files, theirs: Files, handle: str) -> PrivateMerge:
    """The changes to make to `ours` (path -> bytes, None to delete) to merge `theirs`,
    with `base` their merge base (each path -> bytes of one private tree)."""
    out = PrivateMerge()
    for path in sorted(set(base) | set(ours) | set(theirs)):
        b, o, t = base.get(path), ours.get(path), theirs.get(path)
        if o == t or t == b:
            continue
        if o == b:
            out.changes[path] = t
            continue
        if o is None or t is None:  # changed on one machine, deleted on the other: kept
            if o is None:
                out.changes[path] = t
            out.messages.append(f"{path}: changed on one machine and deleted on the other: kept")
            continue
        rules = _rules(path)
        versions = AncestorOursTheirs(_parse(b, path), _parse(o, path), _parse(t, path))
        if rules is None or versions.ours is None or versions.theirs is None:
            out.messages.append(f"{path}: changed on both machines: kept this machine's")
            continue
        merged = merge_record(path, versions, rules, theirs_handle=handle)
        result: dict[str, Any] | None
        if merged.conflict is not None:
            result = merged.conflict.merged or versions.ours
            names = ", ".join(f.field for f in merged.conflict.fields) or "the record"
            out.messages.append(
                f"{path}: {names} changed differently on both machines: kept this machine's "
                "(the other is in 'jobshare log --private')"
            )
        else:
            result = merged.result
        if result is not None:
            raw = _dump(path, result)
            if raw != o:
                out.changes[path] = raw
    return out
