"""Finding and reading one's own records in the working tree: labels, aliases, listing.

A label is found from what the user typed (DESIGN section 3: label, id, unique id
prefix, then name); aliases lead to their survivor. Listing reads the SQLite index
when it is fresh and scans the files otherwise. Nothing here writes a record.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from .core import identity, labels, records
from .core.records import FOLDERS, Label
from .errors import LabelError, RecordError
from .store import Store


def known_labels(store: Store) -> list[Label]:
    found, _ = store.worktree_files()
    return sorted(found)


def id_in_use(store: Store) -> Callable[[str], bool]:
    """Whether an id names a record in either folder (ids are unique across both),
    shared or private (a new id never takes a private record's, which would put the
    two sides at odds)."""
    private: set[str] | None = None

    def taken(record_id: str) -> bool:
        nonlocal private
        if any((store.root / folder / f"{record_id}.yaml").exists() for folder in FOLDERS):
            return True
        if private is None:
            found = (records.label_of_path(p) for p in store.private.files())
            private = {label.id for label in found if label is not None}
        return record_id in private

    return taken


def find_label(store: Store, text: str) -> Label:
    """A label from what the user typed; it must name a record in the working tree.

    Found as `labels.match_label` finds it: the label, the id, a unique id prefix,
    then the name (or a referral's title) without regard to case or accents.
    """
    exact = text.strip().removesuffix(".yaml").strip("/")
    if "/" in exact or records.ID_RE.match(exact):
        # the common cases, a full label or an exact id, need no listing of every record
        folder, _, record_id = exact.rpartition("/")
        hits = [Label(f, record_id) for f in ([folder] if folder else FOLDERS) if f in FOLDERS]
        hits = [h for h in hits if (store.root / h.path).is_file()]
        if len(hits) == 1:
            return hits[0]
    try:
        label = labels.match_label(text, known_labels(store), lambda: record_titles(store))
    except LabelError as e:
        if "no record" not in str(e):
            raise
        label = None
    if label is None or not (store.root / label.path).is_file():
        wanted = label.id if label else text.strip()
        hint = _close_matches(store, wanted)
        raise LabelError(f"no record '{text}'{hint}: run 'jobshare list' to see the records")
    return label


def follow_alias(store: Store, label: Label) -> Label:
    """The survivor a contact leads to through aliases (`alias_of`, core/identity): the
    label itself when it is no alias or no contact. What `show`, `edit`, `refer` and a
    referral's client work on. Raises LabelError when the chain ends at no record."""
    if label.folder != "contacts":
        return label

    def lookup(record_id: str) -> dict[str, Any] | None:
        try:
            return read_worktree_record(store, Label("contacts", record_id))
        except (RecordError, OSError):
            return None

    survivor = Label("contacts", identity.resolve(label.id, lookup))
    if survivor != label and not (store.root / survivor.path).is_file():
        raise LabelError(
            f"{label} leads to {survivor}, which is missing: "
            "run 'jobshare validate' to see the aliases that lead nowhere"
        )
    return survivor


def aliases_of(store: Store, label: Label) -> list[Label]:
    """The contacts whose aliases lead to `label` (directly or along a chain). Only
    files that name `alias_of` at all are parsed."""
    if label.folder != "contacts":
        return []
    found = []
    for other in known_labels(store):
        if other.folder != "contacts" or other == label:
            continue
        try:
            if b"alias_of" not in (store.root / other.path).read_bytes():
                continue
            data = read_worktree_record(store, other)
        except (RecordError, OSError):
            continue
        if identity.is_alias(data) and follow_alias(store, other) == label:
            found.append(other)
    return found


def naming_clients(store: Store, contact_ids: Iterable[str]) -> dict[str, list[Label]]:
    """The referrals of the working tree whose `client` is one of `contact_ids`,
    whatever their status: contact id -> the referrals naming it, in label order. A
    closed referral names its client as much as an open one (DESIGN section 2:
    `validate` checks every referral's client). A referral file that cannot be read
    names nothing (validate reports it)."""
    return references_to(store, contact_ids, aliases=False)


def references_to(
    store: Store, contact_ids: Iterable[str], *, aliases: bool = True
) -> dict[str, list[Label]]:
    """The records of the working tree that name one of `contact_ids`: referrals as
    their `client`, and (with `aliases`) contacts as their `alias_of`; contact id ->
    those records, in label order. What `validate` would report as naming no contact
    once those contacts are gone (DESIGN section 2). Only files that mention the key
    at all are parsed; one that cannot be read names nothing (validate reports it)."""
    wanted = set(contact_ids)
    named: dict[str, list[Label]] = {}
    if not wanted:
        return named
    for label in sorted(known_labels(store), key=str):
        key = "client" if label.folder == "referrals" else "alias_of" if aliases else None
        if key is None:
            continue
        try:
            if key.encode() not in (store.root / label.path).read_bytes():
                continue
            data = read_worktree_record(store, label)
        except (RecordError, OSError):
            continue
        value = data.get(key)
        if value in wanted and label.id not in wanted:
            named.setdefault(str(value), []).append(label)
    return named


def _close_matches(store: Store, wanted: str) -> str:
    import difflib

    ids = [label.id for label in known_labels(store)]
    close = difflib.get_close_matches(wanted, ids, n=3, cutoff=0.5)
    return f" (did you mean {', '.join(close)}?)" if close else ""


def record_titles(store: Store, folder: str | None = None) -> dict[Label, str]:
    """Each readable record's name (a referral's title), for finding records by name;
    from the index, so no record is parsed that did not change."""
    from .index import Index

    with Index.open(store) as index:
        return index.titles(folder)


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
    *,
    industry: str | None = None,
    added_by: str | None = None,
    updated_since: str | None = None,
    fields: tuple[str, ...] | None = None,
) -> list[Listed]:
    """Records of the working tree that match every filter given, from the index
    (DESIGN section 7a); unreadable ones are left out.

    `tag`, `industry` and `added_by` compare without case; `updated_since` is an RFC
    3339 date-time or a date (midnight UTC), compared as an instant; `search` holds
    words, each of which must begin a word of the record's id or of any of its text
    values, compared without case or accents (`values.fold`), so that "Muller",
    "müller" and a decomposed "Müller" all find "Müller". Sorted by label, or with a
    search best match first. An `updated_since` that is no date matches nothing. With
    `fields`, each Listed's data holds only those fields of the record (those it has).
    """
    from .index import Index, Query

    query = Query(folder, kind, tag, industry, added_by, updated_since, search)
    wanted = (*fields, "alias_of") if fields is not None else None
    with Index.open(store) as index:
        return [  # an alias is left out: its survivor is listed (core/identity)
            Listed(e.label, e.data)
            for e in index.entries(query, wanted)
            if e.data is not None and not identity.is_alias(e.data)
        ]


def scan_records(store: Store, query: Any) -> list[Listed]:
    """`list_records` without the index: every file of the working tree read and
    matched by `core.search.matches`, sorted by label. The answer the index must give."""
    from .core.search import entry_of, matches

    found, _ = store.worktree_files()
    out = []
    for label in sorted(found):
        try:
            data: Any = records.load_yaml(found[label].read_bytes(), label.path).data
        except (RecordError, OSError):
            continue
        entry = entry_of(label, None, data)
        if entry.data is None or identity.is_alias(entry.data):  # its survivor is listed
            continue
        if matches(entry, query):
            out.append(Listed(label, entry.data))
    return out
