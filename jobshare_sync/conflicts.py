"""A merge in progress: its state under `.git/jobshare/`, and resolving it.

A pull with conflicts writes `merge.json` (atomically) and nothing else: HEAD, the
index and the working tree stay as they were, so `merge --abort` only has to
delete the state. `resolve` edits the state one record or one field at a time;
`merge --continue` writes the merge commit through the store's journal.
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Iterable, Mapping
from copy import deepcopy
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .core import merge, normal, records, schema
from .core.merge import AncestorOursTheirs, MergeResult, RecordConflict
from .core.records import Label
from .errors import InvalidRecordError, LabelError, MergeStateError, RecordError
from .store import MERGE_STATE, Store, checkpoint, write_atomically

SIDES = ("ours", "theirs", "base", "delete")


def merge_state_path(store: Store) -> Path:
    return store.state_dir / MERGE_STATE


def save_merge_state(
    store: Store,
    friend: str,
    handle: str,
    ours: str | None,
    theirs: str | None,
    result: MergeResult,
    message: str,
    state_files: Mapping[str, str | None] | None = None,
) -> None:
    """Store a conflicted merge so that resolve and continue can finish it later.

    `theirs` is the friend's commit; None for a side that is no branch (a vdir: see
    interchange/vdir.py), whose merge commit then has HEAD as its only parent.
    `state_files` are written with the merge commit (see Store.commit_files)."""
    state = {
        "friend": friend,
        "handle": handle,
        "ref": store.branch_ref(),
        "ours": ours,
        "theirs": theirs,
        "message": message,
        "changes": result.changes,
        "conflicts": [_conflict_to_state(c) for c in result.conflicts],
        "state_files": dict(state_files or {}),
    }
    _save(store, state)


def save_sync_rest(store: Store, rest: Mapping[str, Any]) -> None:
    """Keep, with the merge in progress, what a `jobshare sync` stopped by its conflicts
    has still to do (`merge --continue` carries on with it). The caller holds the lock."""
    state = load_merge_state(store)
    state["sync"] = dict(rest)
    _save(store, state)


def sync_rest(store: Store) -> dict[str, Any] | None:
    """What the sync that stopped at the merge in progress has still to do, if any."""
    if not merge_in_progress(store):
        return None
    rest = load_merge_state(store).get("sync")
    return dict(rest) if isinstance(rest, dict) else None


def _conflict_to_state(conflict: RecordConflict) -> dict[str, Any]:
    base, ours, theirs = conflict.versions
    return {
        **conflict.to_json(),
        "versions": {"base": base, "ours": ours, "theirs": theirs},
        "merged": conflict.merged,
        "merged_theirs": conflict.merged_theirs,
        "working": conflict.merged if conflict.merged is not None else ours,
        "done": [],  # conflicting fields resolved so far
        "resolved": False,
    }


def _conflict_from_state(item: Mapping[str, Any]) -> RecordConflict:
    v = item["versions"]
    return RecordConflict(
        item["label"],
        item["reason"],
        [
            merge.FieldConflict(f["field"], f["base"], f["ours"], f["theirs"])
            for f in item["fields"]
        ],
        AncestorOursTheirs(v["base"], v["ours"], v["theirs"]),
        item.get("working"),
        list(item.get("messages", [])),
        item.get("merged_theirs"),
    )


def merge_in_progress(store: Store) -> bool:
    """Whether a merge waits for resolution (see Store.merge_in_progress)."""
    return store.merge_in_progress()


def _record_or_none(value: Any) -> bool:
    return value is None or isinstance(value, dict)


def _conflict_well_formed(item: Any) -> bool:
    """Whether a conflict of the merge state has the shape `_conflict_to_state` writes."""
    if not isinstance(item, dict):
        return False
    versions = item.get("versions")
    fields = item.get("fields")
    return (
        isinstance(item.get("label"), str)
        and isinstance(item.get("reason"), str)
        and isinstance(fields, list)
        and all(isinstance(f, dict) and isinstance(f.get("field"), str) for f in fields)
        and isinstance(versions, dict)
        and all(_record_or_none(versions.get(k)) for k in ("base", "ours", "theirs"))
        and all(_record_or_none(item.get(k)) for k in ("merged", "merged_theirs", "working"))
        and isinstance(item.get("messages", []), list)
        and isinstance(item.get("done"), list)
        and isinstance(item.get("resolved"), bool)
    )


def well_formed(state: Any) -> bool:
    """Whether a merge state (valid JSON) has the shape `save_merge_state` writes."""
    if not isinstance(state, dict):
        return False
    changes, files = state.get("changes"), state.get("state_files", {})
    return (
        all(isinstance(state.get(k), str) for k in ("friend", "handle", "ref", "message"))
        and all(state.get(k) is None or isinstance(state.get(k), str) for k in ("ours", "theirs"))
        and isinstance(changes, dict)
        and all(_record_or_none(v) for v in changes.values())
        and isinstance(files, dict)
        and all(v is None or isinstance(v, str) for v in files.values())
        and isinstance(state.get("conflicts"), list)
        and all(_conflict_well_formed(c) for c in state["conflicts"])
    )


def load_merge_state(store: Store, *, any_shape: bool = False) -> dict[str, Any]:
    """The merge state; MergeStateError when there is none, or it is damaged (not JSON,
    or JSON of another shape), unless `any_shape` (for `merge --abort`, which only
    removes it)."""
    path = merge_state_path(store)
    if not merge_in_progress(store):
        raise MergeStateError("no merge in progress: 'jobshare pull' starts one")
    try:
        state: dict[str, Any] = json.loads(path.read_text())
    except FileNotFoundError:
        raise MergeStateError("no merge in progress: 'jobshare pull' starts one") from None
    except ValueError:
        raise MergeStateError(
            f"the merge state {path} is damaged: run 'jobshare merge --abort' and pull again"
        ) from None
    if not any_shape and not well_formed(state):
        raise MergeStateError(
            f"the merge state {path} is damaged: run 'jobshare merge --abort' and pull again"
        )
    return state


def _save(store: Store, state: Mapping[str, Any]) -> None:
    store.state_dir.mkdir(parents=True, exist_ok=True)
    checkpoint("merge-state")
    write_atomically(merge_state_path(store), json.dumps(state, indent=1, sort_keys=True).encode())
    checkpoint("merge-state")


# --- listing ----------------------------------------------------------------------------


@dataclass
class ConflictView:
    """One conflicted record as `jobshare conflicts` shows it."""

    label: str
    reason: str
    fields: list[dict[str, Any]]
    messages: list[str]
    resolved: bool
    done: list[str]

    def to_json(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "reason": self.reason,
            "fields": self.fields,
            "messages": self.messages,
            "resolved": self.resolved,
        }


@dataclass
class MergeStatus:
    friend: str
    conflicts: list[ConflictView]

    @property
    def unresolved(self) -> list[ConflictView]:
        return [c for c in self.conflicts if not c.resolved]


def merge_status(store: Store) -> MergeStatus | None:
    """The merge in progress, or None."""
    if not merge_in_progress(store):
        return None
    state = load_merge_state(store)
    views = [
        ConflictView(
            c["label"], c["reason"], c["fields"], c.get("messages", []), c["resolved"], c["done"]
        )
        for c in state["conflicts"]
    ]
    return MergeStatus(state["friend"], views)


# --- resolving --------------------------------------------------------------------------


def _matches(state: Mapping[str, Any], pattern: str) -> list[tuple[dict[str, Any], str | None]]:
    """(conflict, field or None) pairs named by a label, a label:field, or a glob of either.

    A record part that is no glob is found among the conflicts as every label is
    (`records.match_label`): label, id, unique id prefix, then name or title."""
    record_part, _, field_part = pattern.removesuffix(".yaml").partition(":")
    record_glob = _is_glob(record_part)
    if not record_glob:
        record_part = _conflict_label(state, record_part)
    found: list[tuple[dict[str, Any], str | None]] = []
    for item in state["conflicts"]:
        label = item["label"]
        if not (fnmatch.fnmatchcase(label, record_part) or label.split("/", 1)[1] == record_part):
            continue
        if not field_part:
            found.append((item, None))
            continue
        conflicting = [f["field"] for f in item["fields"]]
        # A glob of records names their conflicting fields only: it passes over records in
        # a whole-record conflict (modify-delete, ...) instead of failing on them.
        names = conflicting if record_glob else conflicting or list(item.get("working") or {})
        fields = [n for n in names if fnmatch.fnmatchcase(n, field_part)]
        if not fields and not record_glob and not _is_glob(field_part):
            known = schema.field_names(label.split("/", 1)[0])
            if field_part not in known:
                raise LabelError(
                    f"{label} has no field '{field_part}': its fields are {', '.join(known)}"
                )
            fields = [field_part]  # setting a field that was not in conflict is allowed
        found.extend((item, f) for f in fields)
    return found


def _is_glob(text: str) -> bool:
    return any(ch in text for ch in "*?[")


def _conflict_label(state: Mapping[str, Any], text: str) -> str:
    """The conflicted record's label that `text` names, or `text` itself if none does."""
    labels = {}
    for item in state["conflicts"]:
        folder, _, record_id = str(item["label"]).partition("/")
        labels[Label(folder, record_id)] = item
    if not text or any(text in (str(label), label.id) for label in labels):
        return text

    def titles() -> dict[Label, str]:
        """Every name the record has on either side (a name may be what conflicts)."""
        out = {}
        for label, item in labels.items():
            sides = [item.get("working"), *item["versions"].values()]
            names = [d.get("name") or d.get("title") for d in sides if isinstance(d, dict)]
            out[label] = " / ".join(dict.fromkeys(str(n) for n in names if n))
        return out

    try:
        return str(records.match_label(text, labels, titles))
    except LabelError as e:
        if "ambiguous" in str(e):
            raise LabelError(f"{e} (among the conflicts)") from None
        return text


def resolve(
    store: Store,
    patterns: Iterable[str],
    *,
    side: str | None = None,
    file: str | None = None,
    field_value: str | None = None,
) -> list[str]:
    """Resolve records or fields; returns what was resolved, e.g. 'contacts/x:phones'."""
    with store.locked():
        state = load_merge_state(store)
        targets: list[tuple[dict[str, Any], str | None]] = []
        for pattern in patterns:
            matched = _matches(state, pattern)
            if not matched:
                raise LabelError(
                    f"'{pattern}' names no conflict: run 'jobshare conflicts' to see them"
                )
            targets.extend(m for m in matched if m not in targets)
        done = []
        for item, field_name in targets:
            if field_value is not None:
                field_name, value = _parse_field_value(field_value, item["label"])
                _set_field(item, field_name, value)
            elif file is not None:
                _set_record(item, _read_file(file, item["label"]))
            elif field_name is not None:
                _take_field(item, field_name, side or "ours")
            else:
                conflict = _conflict_from_state(item)
                _set_record(
                    item, merge.resolve_conflict(conflict, side or "ours", None, _rules(item))
                )
            done.append(item["label"] + (f":{field_name}" if field_name else ""))
        _save(store, state)
    return done


def _parse_field_value(text: str, label: str) -> tuple[str, Any]:
    """NAME and VALUE of `--field NAME=VALUE`, VALUE read as YAML and brought to the
    normal form of that field of `label`'s kind. A plain VALUE that YAML reads as no
    text (`yes`, `~`, `0123`) where text is meant is refused: quote it."""
    name, eq, raw = text.partition("=")
    if not eq or not name:
        raise InvalidRecordError(
            f"'{text}' is not NAME=VALUE: e.g. --field 'phones=[+44 20 7946 0000]'"
        )
    name = name.strip()
    if raw == "":
        return name, None
    try:
        # undecodable bytes on the command line arrive as lone surrogates: give them back
        loaded = records.load_yaml(raw.encode("utf-8", "surrogateescape"), f"--field {name}")
    except RecordError as e:
        raise InvalidRecordError(f"--field {name}: {e.reason}") from None
    kind = records.KIND_OF_FOLDER.get(label.partition("/")[0], "contact")
    pointer = "/" + name.replace("~", "~0").replace("/", "~1")
    specials = {pointer + inner: plain for inner, plain in loaded.specials.items()}
    for where, message in normal.text_problems(kind, {}, specials):
        shown = where.lstrip("/").replace("/", ".")
        if "(null)" in message:
            message += f" (or give '{name}=' to remove the field)"
        raise InvalidRecordError(f"--field {shown}: {message}")
    return name, normal.normal_value(kind, pointer, loaded.data)


def _read_file(path: str, label: str) -> dict[str, Any] | None:
    try:
        raw = Path(path).read_bytes()
    except OSError as e:
        raise InvalidRecordError(f"cannot read {path}: {e.strerror}") from None
    data = records.load_yaml(raw, path).data
    if data is None:
        raise InvalidRecordError(f"{path} holds no record: to delete the record, use --delete")
    if not isinstance(data, dict):
        raise InvalidRecordError(f"{path}: a record must be a mapping of fields")
    kind = records.KIND_OF_FOLDER.get(label.partition("/")[0], "contact")
    normal_data: dict[str, Any] = normal.normal_form(kind, data)  # from any path: a record's form
    return normal_data


def _check(label: str, data: dict[str, Any] | None, field_name: str | None = None) -> None:
    """Refuse an invalid record; with `field_name`, only problems of that field."""
    if data is None:
        return
    folder, _, record_id = label.partition("/")
    errors = schema.record_errors(Label(folder, record_id), data)
    if field_name is not None:
        errors = [e for e in errors if e.partition(":")[0].split("/")[0] == field_name]
    if errors:
        raise InvalidRecordError(f"{label} would not be valid: " + "; ".join(errors))


def _set_record(item: dict[str, Any], data: dict[str, Any] | None) -> None:
    _check(item["label"], data)
    item["working"] = data
    item["done"] = [f["field"] for f in item["fields"]]
    item["resolved"] = True


def _set_field(item: dict[str, Any], name: str, value: Any) -> None:
    working = deepcopy(item["working"])
    if working is None:
        raise InvalidRecordError(
            f"{item['label']} is deleted on one side: resolve the whole record with --ours, --theirs or --delete"
        )
    if value is None:
        working.pop(name, None)
    else:
        working[name] = value
    _mark_field(item, name, working)


def _take_field(item: dict[str, Any], name: str, side: str) -> None:
    if item["working"] is None or not item["fields"]:
        raise InvalidRecordError(
            f"{item['label']} has no field conflicts ({item['reason']}): resolve the whole record"
        )
    conflict = _conflict_from_state(item)
    _mark_field(item, name, merge.resolve_conflict(conflict, side, [name], _rules(item)))


def _rules(item: dict[str, Any]) -> dict[str, str]:
    """The x-merge rules of a conflict's record: its fixed fields stay ours whichever
    side a resolution takes (DESIGN section 3)."""
    return schema.merge_rules(str(item["label"]).split("/", 1)[0])


def _mark_field(item: dict[str, Any], name: str, working: dict[str, Any] | None) -> None:
    conflicting = [f["field"] for f in item["fields"]]
    done = sorted(set(item["done"]) | {name})
    complete = all(f in done for f in conflicting)
    # a field set to an invalid value is refused at once, not when the last field is resolved
    _check(item["label"], working, None if complete else name)
    item["working"] = working
    item["done"] = done
    item["resolved"] = complete


# --- finishing -------------------------------------------------------------------------


def abort(store: Store) -> str:
    """Forget the merge in progress; nothing else was touched by the pull."""
    with store.locked():
        try:
            state = load_merge_state(store, any_shape=True)
        except MergeStateError:
            if not merge_state_path(store).exists():
                raise
            state = {}  # damaged beyond reading: removing it is all there is to do
        checkpoint("abort")
        merge_state_path(store).unlink(missing_ok=True)
        checkpoint("abort")
    friend = state.get("friend") if isinstance(state, dict) else None
    name = f"merge of {friend}" if isinstance(friend, str) else "the merge"
    return f"{name} aborted; your repository is as it was before the pull"


def finish(store: Store) -> tuple[str | None, list[str]]:
    """Commit the merge once every conflict is resolved: (commit, unresolved labels)."""
    with store.locked():
        state = load_merge_state(store)
        left = [c["label"] for c in state["conflicts"] if not c["resolved"]]
        if left:
            return None, left
        head = store.head_commit()
        current = head.id if head is not None else None
        if current != state["ours"] or store.branch_ref() != state["ref"]:
            raise MergeStateError(
                "HEAD moved since the pull started: run 'jobshare merge --abort' and pull again"
            )
        dirty = store.worktree_changes()
        touched = set(state["changes"]) | {c["label"] for c in state["conflicts"]}
        clash = sorted(p for p in dirty if p.removesuffix(".yaml") in touched)
        if clash:
            raise MergeStateError(
                f"record files the merge writes have uncommitted changes ({', '.join(clash)}): "
                "undo them, or resolve with --file"
            )
        files: dict[str, bytes | None] = {}
        for label, data in state["changes"].items():
            files[f"{label}.yaml"] = _dump(label, data)
        for c in state["conflicts"]:
            files[f"{c['label']}.yaml"] = _dump(c["label"], c["working"])
        parents = [h for h in (state["ours"], state["theirs"]) if h]
        n = len(state["conflicts"])
        message = (
            state["message"].rstrip("\n")
            + f"\n\n{n} conflict{'s' if n != 1 else ''} resolved by hand\n"
        )
        # the merge state goes with the commit: both or neither, whenever it is killed
        done = {**state.get("state_files", {}), MERGE_STATE: None}
        commit = store.commit_files(files, message, parents=parents, state=done)
    return commit, []


def _dump(label: str, data: dict[str, Any] | None) -> bytes | None:
    return None if data is None else schema.dump_record(label.split("/", 1)[0], data)
