"""One source, one record: find duplicates, combine them by hand, rename (DESIGN section 3).

The service around core/identity: it reads the contacts of the working tree, calls the
pure functions, and writes one commit. Nothing here prints; the command line renders
the results. A combined or renamed record stays as an alias (`alias_of`) so that
labels, referrals and friends who hold the old id all lead to the survivor.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .core import identity, records, schema
from .core.identity import Combination, DuplicateGroup, FieldChoice
from .core.records import Label
from .errors import InvalidRecordError, LabelError, RecordError
from .reading import find_label, follow_alias, read_worktree_record
from .store import Store
from .validation import owner_region, require_valid
from .workspace import now

Record = dict[str, Any]
# asks the user which value of a field to keep: (field, [(record id, value), ...]) -> value
Ask = Callable[[str, Sequence[tuple[str, Any]]], Any]


def contacts(store: Store) -> dict[str, Record]:
    """Every readable contact of the working tree (aliases included), by id."""
    found, _ = store.worktree_files()
    out: dict[str, Record] = {}
    for label in sorted(found):
        if label.folder != "contacts":
            continue
        try:
            out[label.id] = read_worktree_record(store, label)
        except (RecordError, OSError):
            continue
    return out


def find_record(store: Store, text: str) -> Label:
    """The record `text` names (as `reading.find_label`), aliases followed to their
    survivor: what `show`, `edit` and `refer` work on."""
    return follow_alias(store, find_label(store, text))


# --- duplicates ------------------------------------------------------------------------


def duplicates(
    store: Store, texts: Sequence[str] = (), *, min_score: float | None = None
) -> list[DuplicateGroup]:
    """Groups of the working tree's contacts that are likely one source, best first;
    with `texts` (labels as the user types them), only the groups that hold one of
    them. `min_score` is 0..1 (default: core/identity's). Raises LabelError for a
    label that names no record."""
    wanted = [find_record(store, t).id for t in texts] or None
    kwargs: dict[str, Any] = {} if min_score is None else {"min_score": min_score}
    pool = {**private_contacts(store), **contacts(store)}  # a shared record wins its id
    return identity.find_duplicates(
        pool.values(), region=owner_region(store), only=wanted, **kwargs
    )


def private_contacts(store: Store) -> dict[str, Record]:
    """The private side's readable contacts, by id (see private/): `duplicates` pairs
    them with shared ones too, so a private client a friend also shares is found."""
    out: dict[str, Record] = {}
    for path, raw in store.private.files().items():
        label = records.label_of_path(path)
        if label is None or label.folder != "contacts":
            continue
        try:
            data = records.load_yaml(raw, path, lines=False).data
        except RecordError:
            continue
        if isinstance(data, dict):
            out[label.id] = data
    return out


# --- combine ---------------------------------------------------------------------------


@dataclass
class Combined:
    """What a combine did (or, with `dry_run`, would do)."""

    label: Label  # the survivor
    record: Record
    combination: Combination
    aliases: list[Record] = field(default_factory=list)
    message: str = ""
    commit: str | None = None
    raw: bytes = b""  # the survivor's file as written

    def to_json(self) -> dict[str, Any]:
        return {
            "label": str(self.label),
            "record": self.record,
            "aliases": self.aliases,
            "choices": [c.to_json() for c in self.combination.choices],
            "message": self.message,
            "commit": self.commit,
        }


def parse_fields(pairs: Sequence[str]) -> dict[str, str]:
    """`--field NAME=VALUE` options as a mapping. Raises InvalidRecordError for one
    without `=`."""
    out: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise InvalidRecordError(f"--field {pair!r}: write it as NAME=VALUE, e.g. name=Acme")
        out[name.strip()] = value
    return out


def combine_contacts(
    store: Store,
    keep: str,
    others: Sequence[str],
    *,
    fields: Mapping[str, Any] | None = None,
    ask: Ask | None = None,
    dry_run: bool = False,
) -> Combined:
    """`jobshare combine KEEP OTHER...`: one record of several, in one commit.

    KEEP and each OTHER are labels as the user types them (aliases followed). Every set
    value and note of each is kept (`identity.combine`); where single values differ
    and `fields` does not choose, `ask(field, values)` chooses (a terminal), else
    KEEP's value stands. Each OTHER becomes an alias of KEEP. Raises LabelError for an
    unknown or repeated record, InvalidRecordError for a result the schema refuses.
    """
    keep_label = find_record(store, keep)
    other_labels = [find_record(store, t) for t in others]
    for label in (keep_label, *other_labels):
        if label.folder != "contacts":
            raise LabelError(f"{label} is not a contact: only contacts are combined")
    if keep_label in other_labels:
        raise LabelError(f"{keep_label} is both kept and combined: name it once")
    region = owner_region(store)
    keep_data = read_worktree_record(store, keep_label)
    other_data = [read_worktree_record(store, label) for label in other_labels]
    at = now()
    chosen = dict(fields or {})
    result = identity.combine(keep_data, other_data, chosen, region=region, updated=at)
    if ask is not None:
        for choice in result.choices:
            if choice.field not in chosen:
                chosen[choice.field] = ask(choice.field, choice.values)
        result = identity.combine(keep_data, other_data, chosen, region=region, updated=at)
    aliases = [identity.make_alias(o, keep_label.id, by=store.handle, at=at) for o in other_data]
    files = {keep_label.path: _checked(keep_label, result.record)}
    files |= {f"contacts/{a['id']}.yaml": _checked(Label("contacts", a["id"]), a) for a in aliases}
    message = combine_message(keep_label, result, aliases)
    done = Combined(keep_label, result.record, result, aliases, message, raw=files[keep_label.path])
    if not dry_run:
        with store.locked():
            done.commit = str(store.commit_files(files, message))
    return done


def combine_message(keep: Label, result: Combination, aliases: Sequence[Record]) -> str:
    """ "Combine 2 contacts into contacts/<keep>", then one line per record combined and
    per value not taken (so that `show` of an older version recovers it)."""
    lines = [f"Combine {len(aliases) + 1} contacts into {keep}", ""]
    lines += [f"- contacts/{a['id']}: combined into {keep}" for a in aliases]
    lines += [f"- {line}" for line in result.message_lines()]
    return "\n".join(lines) + "\n"


def _checked(label: Label, data: Record) -> bytes:
    raw = schema.dump_record(label.folder, data)
    require_valid(label, raw)
    return raw


# --- rename ----------------------------------------------------------------------------


@dataclass
class Renamed:
    old: Label
    new: Label
    commit: str | None

    def to_json(self) -> dict[str, Any]:
        return {"old": str(self.old), "new": str(self.new), "commit": self.commit}


def rename_contact(store: Store, text: str, new_id: str) -> Renamed:
    """`jobshare rename LABEL NEW-ID`: the contact under its new id, and its old id an
    alias (`alias_reason: renamed`) so that friends who hold it follow. Raises
    InvalidRecordError for an id that is not valid or already used, LabelError for an
    unknown record or one that is not a contact."""
    old = find_record(store, text)
    if old.folder != "contacts":
        raise LabelError(f"{old} is not a contact: only contacts are renamed")
    if not records.ID_RE.match(new_id):
        raise InvalidRecordError(
            f"'{new_id}' is not a valid id: use lower-case letters, digits and dashes (at most 64)"
        )
    new = Label("contacts", new_id)
    if any((store.root / folder / f"{new_id}.yaml").exists() for folder in records.FOLDERS):
        raise InvalidRecordError(f"id '{new_id}' is already used: pick another")
    data = read_worktree_record(store, old)
    renamed, alias = identity.rename(data, new_id, by=store.handle, at=now())
    files = {new.path: _checked(new, renamed), old.path: _checked(old, alias)}
    with store.locked():
        commit = str(store.commit_files(files, f"Rename {old} to {new}"))
    return Renamed(old, new, commit)


def describe_choice(choice: FieldChoice) -> str:
    """One line for a field whose values differ: `name: 'Acme' (contacts/a), ...`."""
    return f"{choice.field}: " + "; ".join(f"{v!r} (contacts/{i})" for i, v in choice.values)
