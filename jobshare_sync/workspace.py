"""Local work on one's own records: init, add, edit, remove, commit.

Each function takes a Store, does one piece of work and returns a result; none of
them prints. Writes happen under the repository lock and through
`Store.commit_files`, so an interrupted command never leaves half a change.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import owner as ownership
from .core import identity, labels, normal, records, schema, values
from .core.records import FOLDERS, Label, Loaded
from .errors import InvalidRecordError, NotARepositoryError, RecordError, RepositoryStateError
from .reading import aliases_of, id_in_use, read_worktree_record, references_to
from .store import CONFIG_FILE, GITKEEP, Store, write_atomically
from .validation import check_bytes, owner_region, require_valid, validate


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
    region: str | None = None  # the owner's default region for phone numbers


HANDLE_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,38}\Z")


def init_repository(
    path: str | os.PathLike[str],
    handle: str | None = None,
    name: str | None = None,
    email: str | None = None,
    region: str | None = None,
) -> InitResult:
    """Create or adopt a git repository as a jobshare repository; safe to run twice.

    `region` (ISO 3166 alpha-2, e.g. GB) is the country that phone numbers written
    without a country code belong to; a new repository takes it from the locale
    (LC_ALL, LC_TELEPHONE, LANG) when not given, and running init again with a
    region changes it.
    """
    if region is not None:
        region = region.strip().upper()
        if not values.is_region(region):
            raise InvalidRecordError(
                f"'{region}' is not a country code for phone numbers: "
                "use an ISO 3166 code such as GB, DE or US"
            )
    root = Path(path).resolve()
    existed = root.exists()
    store, created_repo = Store.init_or_adopt(root)
    try:
        config_path = store.root / CONFIG_FILE
        created_config = not config_path.exists()
        with store.locked():
            files: dict[str, bytes | None] = {}
            if created_config:
                git_name, git_email = store.git_config("user.name"), store.git_config("user.email")
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
                config: dict[str, Any] = {"owner": owner, "format": records.FORMAT}
                region = region or values.region_from_locale(os.environ)
                if region:
                    config["region"] = region
                problems = schema.schema_problems("jobshare", Loaded(config, {}), CONFIG_FILE)
                if problems:
                    raise InvalidRecordError(
                        f"{CONFIG_FILE}: {problems[0].field.lstrip('/')}: {problems[0].message}"
                    )
                files[CONFIG_FILE] = schema.dump_config(config)
            else:
                config = store.config()
                if handle is not None and handle != config["owner"]["handle"]:
                    raise RepositoryStateError(
                        f"{store.root} is already the jobshare repository of "
                        f"'{config['owner']['handle']}': init will not change the owner; to share "
                        f"as '{handle}', run 'jobshare init NEW-FOLDER --handle {handle}'"
                    )
                ownership.check_owner(store)
                handle = config["owner"]["handle"]
                wanted = dict(config)
                if config["format"] < records.FORMAT:  # this jobshare's format; never a step back
                    wanted["format"] = records.FORMAT
                if region is not None:
                    wanted["region"] = region
                if wanted != config:
                    config = wanted
                    files[CONFIG_FILE] = schema.dump_config(config)
            head_tree = store.head_tree()
            for kind in schema.KINDS if config["format"] <= records.FORMAT else ():
                rel = f"{schema.SCHEMA_DIR_IN_REPO}/{kind}.schema.json"
                text = schema.schema_text(kind).encode()
                if not (store.root / rel).is_file() or (store.root / rel).read_bytes() != text:
                    files[rel] = text
            for folder in FOLDERS:
                if not (store.root / folder).is_dir():
                    files[f"{folder}/{GITKEEP}"] = b""
            # files already in the working tree but never committed (adopting a folder)
            for rel in (CONFIG_FILE,):
                if rel not in files and store.blob_id_at(head_tree, rel) is None:
                    files[rel] = (store.root / rel).read_bytes()
            commit = None
            if files:
                message = (
                    "Start a jobshare repository" if created_config else "Update jobshare files"
                )
                commit = str(store.commit_files(files, message, owner=config["owner"]))
            if ownership.recorded_owner(store) is None:
                ownership.remember_owner(store, handle)
    except BaseException:
        if created_repo:  # a failed init leaves nothing behind: no empty repository
            shutil.rmtree(store.git_dir, ignore_errors=True)
            if not existed:
                with contextlib.suppress(OSError):
                    root.rmdir()
        raise
    return InitResult(
        store.root, handle, created_repo, created_config, commit, config.get("region")
    )


def _derive_handle(name: str, email: str | None) -> str:
    base = email.split("@")[0] if email else name.split()[0]
    return labels.slugify(base)[:39] or "me"


# --- writing records -----------------------------------------------------------------


@dataclass
class Saved:
    label: Label
    commit: str | None
    changed: bool = True
    data: dict[str, Any] = field(default_factory=dict)
    notices: list[str] = field(default_factory=list)  # what was made of the input, for people

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "label": str(self.label),
            "commit": self.commit,
            "changed": self.changed,
        }
        if self.notices:
            out["notices"] = list(self.notices)
        return out


def add_contact(
    store: Store,
    fields: Mapping[str, Any],
    record_id: str | None = None,
    *,
    commit: bool = True,
) -> Saved:
    """A new contact from `add contact`'s options (see `normal.contact_options`),
    written as contacts/<id>.yaml and committed as 'Add contact "NAME" (contacts/<id>)'
    unless `commit` is false; `Saved.notices` says what was made of the options.

    Raises InvalidRecordError for a bad or taken id or an invalid value, before writing."""
    options, notices = normal.contact_options(fields, owner_region(store))
    label, data = new_contact(store, options, record_id)
    saved = save_record(
        store,
        label,
        data,
        message=f'Add contact "{data.get("name", "")}" ({label})',
        commit=commit,
    )
    saved.notices = notices
    return saved


def new_contact(
    store: Store, fields: Mapping[str, Any], record_id: str | None = None
) -> tuple[Label, dict[str, Any]]:
    """A contact with id, added_by and updated filled in; not yet written."""
    taken = id_in_use(store)
    name = str(fields.get("name") or "contact")
    if record_id is not None:
        if not records.ID_RE.match(record_id):
            raise InvalidRecordError(
                f"'{record_id}' is not a valid id: use lower-case letters, digits and dashes (at most 64)"
            )
        if taken(record_id):
            raise InvalidRecordError(
                f"id '{record_id}' is already used: pick another or leave --id out"
            )
    else:
        record_id = labels.new_id(name, taken)
    # an empty name stays, to be refused as empty ("   " is trimmed to nothing)
    kept = {k: v for k, v in fields.items() if v not in (None, [], "") or k == "name"}
    data = {"id": record_id, **kept}
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
    """Validate and write one record in canonical form (its text in the normal form),
    and commit it unless told not to. `Saved.data` is the record as written."""
    data = normal.normal_form(label.kind, dict(data))
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
    """Remove one record (and commit the removal unless told not to).

    Raises InvalidRecordError for an alias or a survivor (see `check_removable`)."""
    check_removable(store, label)
    with store.locked():
        name = _display_name(store, label)
        if commit:
            oid = store.commit_files({label.path: None}, f"Remove {label.kind} {name}")
            return Saved(label, str(oid))
        (store.root / label.path).unlink()
    return Saved(label, None)


def check_removable(store: Store, label: Label) -> None:
    """Refuse to remove what must stay: aliases stay (core/identity), since removing
    one, or a survivor aliases lead to, would leave friends' labels and referrals
    leading nowhere; a survivor's content is edited instead.

    Raises InvalidRecordError naming the alias or the records the survivor holds."""
    if label.folder == "contacts" and (store.root / label.path).is_file():
        with contextlib.suppress(RecordError):
            data = read_worktree_record(store, label)
            if identity.is_alias(data):
                raise InvalidRecordError(
                    f"{label} is an alias of contacts/{data['alias_of']}: aliases stay so "
                    "that friends holding the old id follow it; nothing to remove"
                )
        held = aliases_of(store, label)
        if held:
            raise InvalidRecordError(
                f"{label} holds {', '.join(map(str, held))} (combined or renamed into it): "
                "removing it would leave them leading nowhere; edit it instead"
            )


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
    stamped: dict[str, str] = field(default_factory=dict)  # path -> the `updated` set
    rewritten: list[str] = field(default_factory=list)  # written anew in the normal form

    def to_json(self) -> dict[str, Any]:
        return {
            "commit": self.commit,
            "files": self.files,
            "stamped": self.stamped,
            "rewritten": self.rewritten,
        }


def commit_worktree(store: Store, message: str | None = None) -> CommitResult:
    """Validate and commit every record file changed by hand; nothing if one is invalid.

    A file not in the normal form (a byte-order mark, CR LF line ends, decomposed
    accents, spaces around a value, a date-time with an offset) is written anew in
    canonical form before it is committed. A record whose content changed while its
    `updated` did not gets `updated` set to now (listed in `stamped`; never earlier than
    it was), so that the merge's `max` rule and `--strategy newest` see the hand edit as
    the later one.
    """
    with store.locked():
        changes = store.worktree_changes()
        if not changes:
            return CommitResult(None, {})
        files: dict[str, bytes | None] = {}
        problems: list[str] = []
        stamped: dict[str, str] = {}
        rewrite: dict[str, bytes] = {}
        head = store.head_tree()
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
            loaded, found = check_bytes(label, raw)
            problems.extend(str(p) for p in found)
            files[path] = raw
            if loaded is None or found:
                continue
            data = dict(loaded.data)
            if state == "modified" and _needs_stamp(store, head, label, data):
                stamp = now()
                # never back in time: with a clock behind the record's, it stays as it was
                if (values.instant_key(stamp) or "") > (values.instant_key(data["updated"]) or ""):
                    data["updated"] = stamped[path] = stamp
            # always the canonical bytes (key order, quoting, flow lists too), so that
            # friends who pull the same record hold the same bytes
            canonical = schema.dump_record(label.folder, data)
            if path in stamped or canonical != raw:
                rewrite[path] = files[path] = canonical
        if not problems:
            problems = _private_ids(store, changes) or _references_broken(store, changes)
        if problems:
            raise InvalidRecordError(
                "nothing committed; fix these first ('jobshare validate' shows them all):\n"
                + "\n".join(problems)
            )
        same = {p for p in rewrite if store.blob_id_at(head, p) == store.hash_bytes(rewrite[p])}
        if same and same == set(files):
            # in the normal form, every file is as committed: no commit, only the files
            for path in sorted(same):
                write_atomically(store.root / path, rewrite[path])
            return CommitResult(None, {}, stamped, sorted(rewrite))
        for path in same:  # written with the commit (its journal), but no change to list
            del changes[path]
        if message is None:
            message = _describe_changes(changes)
        oid = store.commit_files(files, message)
    return CommitResult(str(oid), changes, stamped, sorted(rewrite))


def _private_ids(store: Store, changes: Mapping[str, str]) -> list[str]:
    """New record files whose id is a private record's (a copy of it, or a file brought
    back after `unshare`): committing one would share it (DESIGN: nothing private
    leaves by accident); `jobshare share` is the way."""
    added = [p for p, state in changes.items() if state == "added"]
    if not added or not store.private.exists():
        return []
    from .private.side import read_side

    private = {str(label) for label in read_side(store).records}
    return [
        f"{path}: a private record has this id: 'jobshare share {label}' shares it on "
        "purpose; or remove the file"
        for path in sorted(added)
        if (label := path.removesuffix(".yaml")) in private
    ]


def _references_broken(store: Store, changes: Mapping[str, str]) -> list[str]:
    """What committing `changes` (path -> added/modified/removed) would break across
    records (DESIGN section 2), so that `validate` passes after `commit` if it passed
    before: a removed contact that a referral names as its client or an alias leads to,
    and a changed record whose client or alias_of names no contact or whose id another
    record uses."""
    changed = [str(store.root / p) for p, state in changes.items() if state != "removed"]
    found = [str(p) for p in validate(store, changed).errors] if changed else []
    removed = {
        label.id: label
        for path, state in changes.items()
        if state == "removed"
        and (label := records.label_of_path(path)) is not None
        and label.folder == "contacts"
    }
    for record_id, named in sorted(references_to(store, removed).items()):
        found.append(
            f"{removed[record_id].path}: removed, but {', '.join(map(str, named))} still "
            "name its id: remove or change them too, or restore it with "
            f"'git checkout -- {removed[record_id].path}'"
        )
    return found


def _needs_stamp(store: Store, head: str | None, label: Label, data: Mapping[str, Any]) -> bool:
    """Whether a hand edit changed the record's content but not its `updated`."""
    try:
        before = store.read_record(head, label)
    except RecordError:
        return False
    if before is None or "updated" not in data or data.get("updated") != before.get("updated"):
        return False
    return {k: v for k, v in data.items() if k != "updated"} != {
        k: v for k, v in before.items() if k != "updated"
    }


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
