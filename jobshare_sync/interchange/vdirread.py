"""The two sides of a vdir sync, read: each contact with its base, ours and theirs.

`FolderReader.items` pairs every card file of the folder with the contact it holds
(by the state of the last sync; for a file the state does not know, by its UID as
a record id, else by the import's matching rules) and every contact of the
repository with its file, and reads each changed card as a contact record. See
vdir.py for what is done with them and vdirstate.py for the state.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..core import cards, labels, policy, records, schema
from ..core.values import parse_instant, word_key
from ..errors import InterchangeError
from ..store import Store
from . import vdirstate
from .importer import newer, private_index, private_reason
from .matching import ContactIndex
from .vdirstate import Entry

Record = dict[str, Any]
X_ONLY = ("kind", "location", "industries", "connected", "added_by")  # X-JOBSHARE- only
HISTORY_LIMIT = 2000  # commits searched for the base of a card the state does not know
IGNORED = ("updated", "format")


@dataclass
class Item:
    """One contact of the sync: its file and entry, and base, ours, theirs."""

    entry: Entry
    base: Record | None
    ours: Record | None
    theirs: Record | None
    present: bool  # the file is in the folder
    sha: str | None = None
    stat: vdirstate.Stat | None = None
    unselected: bool = False  # the record exists but not with the --tag
    rev: str | None = None  # the card's REV, for a card the state does not know


def same(a: Mapping[str, Any] | None, b: Mapping[str, Any] | None) -> bool:
    """Whether two versions of a contact hold the same fields (`updated` and `format`
    aside: they follow the others)."""
    if a is None or b is None:
        return a is None and b is None
    return {k: v for k, v in a.items() if k not in IGNORED} == {
        k: v for k, v in b.items() if k not in IGNORED
    }


def has_tag(record: Mapping[str, Any], tag: str | None) -> bool:
    tags = record.get("tags")
    return tag is None or (isinstance(tags, list) and word_key(tag) in map(word_key, tags))


class FolderReader:
    """Reads a vdir and the repository's contacts into `Item`s.

    `skipped` collects why cards were left alone (one line each); `kept` the entries of
    files that could not be read this time, which the state keeps as they were.
    """

    def __init__(
        self,
        store: Store,
        folder: Path,
        tag: str | None,
        old: Mapping[str, Entry],
        contacts: Mapping[str, Record],
        region: str,
        now: str,
    ) -> None:
        self.store, self.folder, self.tag, self.old = store, folder, tag, old
        self.contacts, self.region, self.now = contacts, region, now
        selected = {k: v for k, v in contacts.items() if has_tag(v, tag)}
        self.index = ContactIndex(selected, region)
        self.private = private_index(store, region)
        self.taken = set(contacts) | referral_ids(store)
        self.skipped: list[str] = []
        self.kept: dict[str, Entry] = {}
        self.owner = store.handle

    def items(self) -> list[Item]:
        """Every contact of the sync: the files the state knows, the other files, and the
        selected contacts no file holds yet."""
        items: list[Item] = []
        files = card_files(self.folder, self.skipped)
        bound: set[str] = set()
        for name, entry in sorted(self.old.items()):
            if entry.id in bound:
                continue
            bound.add(entry.id)  # handled here, even when its card cannot be read now
            item = self._known(entry, files.get(name))
            if item is not None:
                items.append(item)
        lost: list[Item] = []
        for name, path in sorted(files.items()):
            if name in self.old and self.old[name].id in bound:
                continue
            item = self._unknown(name, path, bound)
            if item is not None:
                bound.add(item.entry.id)
                items.append(item)
                if item.base is None and item.ours is not None:
                    lost.append(item)
        self._find_bases(lost)
        for record_id, record in sorted(self.contacts.items()):
            if record_id in bound or not has_tag(record, self.tag) or records.is_newer(record):
                continue
            name = f"{record_id}.vcf"
            if name in files:
                self.skipped.append(f"{name}: holds another card than {record_id}")
                continue
            items.append(Item(Entry(name, record_id, record_id), None, record, None, False))
        return items

    def _ours(self, record_id: str) -> tuple[Record | None, bool]:
        """The repository's contact and whether it exists without the tag."""
        record = self.contacts.get(record_id)
        if record is not None and not has_tag(record, self.tag):
            return None, True
        return record, False

    def _newer(self, record_id: str, file: str) -> bool:
        """Whether the contact is of a newer format, which this sync leaves alone (reported)."""
        record = self.contacts.get(record_id)
        if record is None or not records.is_newer(record):
            return False
        self.skipped.append(f"{file}: contacts/{record_id} {newer(record)}")
        return True

    def _known(self, entry: Entry, path: Path | None) -> Item | None:
        if self._newer(entry.id, entry.file):
            self.kept[entry.file] = entry
            return None
        ours, unselected = self._ours(entry.id)
        if path is None:
            return Item(entry, entry.base, ours, None, False, unselected=unselected)
        stat = vdirstate.current_stat(path)
        if entry.stat is not None and stat == entry.stat:
            return Item(
                entry, entry.base, ours, entry.base, True, entry.sha, entry.stat, unselected
            )
        try:
            raw = path.read_bytes()
        except OSError as e:
            self.skipped.append(f"{entry.file}: cannot read it: {e.strerror}")
            self.kept[entry.file] = entry
            return None
        digest = vdirstate.sha(raw)
        fresh = vdirstate.stat_of(path)
        if digest == entry.sha:
            return Item(entry, entry.base, ours, entry.base, True, digest, fresh, unselected)
        theirs = self._card(entry.file, raw, entry.id, entry.base or ours)
        if theirs is None:
            self.kept[entry.file] = entry  # read again next time, and reported again
            return None
        if same(theirs, entry.base):
            theirs = entry.base
        return Item(entry, entry.base, ours, theirs, True, digest, fresh, unselected)

    def _unknown(self, name: str, path: Path, bound: set[str]) -> Item | None:
        """A file the state does not know: a new card, or (with a lost state) one that a
        sync wrote, whose UID is its contact's id."""
        try:
            raw = path.read_bytes()
        except OSError as e:
            self.skipped.append(f"{name}: cannot read it: {e.strerror}")
            return None
        card = self._read(name, raw)
        if card is None:
            return None
        uid = card.uid or ""
        digest, stat = vdirstate.sha(raw), vdirstate.stat_of(path)
        record_id = card.record_id
        if record_id is None or record_id not in self.contacts:
            reason = private_reason(card, self.private)
            if reason is not None:  # read again next time, and reported again
                self.skipped.append(f"{name}: {reason}")
                return None
        if record_id is not None and record_id in self.contacts:
            if self._newer(record_id, name):
                return None
            if record_id in bound:
                self.skipped.append(f"{name}: a second card of {record_id}: left alone")
                return None
            ours, unselected = self._ours(record_id)
            if unselected:
                self.skipped.append(
                    f"{name}: contacts/{record_id} is not tagged {self.tag!r}: left alone"
                )
                return None
        else:
            # a card of the user's own (or one whose state is lost): the import's rules find
            # the contact it is, if the repository has it and no other file holds it yet
            found = self.index.match(card.fields)
            ours = None
            if found is not None and self._newer(found.record_id, name):
                return None
            if found is not None and found.record_id not in bound:
                record_id, ours = found.record_id, self.contacts[found.record_id]
            elif record_id is None or record_id in self.taken:
                name_of = str(card.fields.get("name", "contact"))
                record_id = labels.new_id(name_of, self.taken.__contains__)
            self.taken.add(record_id)
        theirs = self._theirs(card, raw, record_id, ours)
        if theirs is None:
            return None
        item = Item(
            Entry(name, record_id, uid or record_id), None, ours, theirs, True, digest, stat
        )
        item.rev = card.updated
        return item

    def _read(self, name: str, raw: bytes) -> cards.ImportedContact | None:
        try:
            result = cards.read_contacts(raw, name, format="vcard", region=self.region)
        except InterchangeError as e:
            self.skipped.append(str(e))
            return None
        if not result.contacts:
            reason = "; ".join(p.message for p in result.errors) or "no card in it"
            self.skipped.append(f"{name}: {reason}")
            return None
        if len(result.contacts) > 1:
            self.skipped.append(f"{name}: holds {len(result.contacts)} cards; the first is synced")
        return result.contacts[0]

    def _card(self, name: str, raw: bytes, record_id: str, ref: Record | None) -> Record | None:
        card = self._read(name, raw)
        return None if card is None else self._theirs(card, raw, record_id, ref)

    def _theirs(
        self, card: cards.ImportedContact, raw: bytes, record_id: str, ref: Record | None
    ) -> Record | None:
        """The card as a contact record: its fields, with what a card does not decide
        (id, added_by, updated; the X-JOBSHARE- fields when the card lost them all)
        from `ref`, the base or the repository's contact."""
        ref = ref or {}
        record: Record = {"id": record_id, **card.fields}
        if b"X-JOBSHARE-" not in raw.upper():
            for name in X_ONLY:
                if name in ref:
                    record[name] = ref[name]
        record.setdefault("kind", ref.get("kind", "other"))
        record["added_by"] = ref.get("added_by", self.owner)
        record["updated"] = ref.get("updated", self.now)
        if self.tag is not None and not has_tag(record, self.tag):
            record["tags"] = [*record.get("tags", []), self.tag]
        if (needed := schema.needed_format("contact", record)) > 1:
            record["format"] = needed
        problems = policy.validate(f"contacts/{record_id}", record)
        if problems:
            self.skipped.append(
                f"contacts/{record_id}: the card is no valid contact: {'; '.join(problems)}"
            )
            return None
        return record

    def _find_bases(self, items: list[Item]) -> None:
        """The base of cards paired with their contact by UID, the state not knowing
        them: a version of the contact in the history that equals the card (the folder
        only lags behind), else the one whose `updated` is the card's REV."""
        wanted = {f"contacts/{i.entry.id}.yaml": i for i in items if not same(i.ours, i.theirs)}
        for item in items:
            if same(item.ours, item.theirs):
                item.base = item.ours
        if not wanted:
            return
        head = self.store.head_commit()
        seen: dict[str, set[str]] = {path: set() for path in wanted}
        if head is not None:
            for n, commit in enumerate(self.store.walk_commits(head.id)):
                if n >= HISTORY_LIMIT:
                    break
                for path in wanted:
                    oid = self.store.blob_id_at(commit.tree, path)
                    if oid is not None:
                        seen[path].add(oid)
        for path, item in wanted.items():
            label = records.label_of_path(path)
            versions = []
            for oid in sorted(seen[path]):
                data, _ = self.store.load_valid(label, oid) if label else (None, None)
                if data is not None:
                    versions.append(data)
            item.base = _base_among(versions, item.theirs, item.rev)


def _base_among(versions: list[Record], card: Record | None, rev: str | None) -> Record | None:
    """Of a contact's versions in the history, the one a card was written from: equal to
    it, else with `updated` at the card's REV (to the second); None when none is."""
    for version in versions:
        if same(version, card):
            return version
    at = parse_instant(rev or "")
    if at is None:
        return None
    for version in versions:
        when = parse_instant(str(version.get("updated", "")))
        if when is not None and when.replace(microsecond=0) == at.replace(microsecond=0):
            return version
    return None


def card_files(folder: Path, skipped: list[str] | None = None) -> dict[str, Path]:
    """The folder's card files by name: `*.vcf`, not hidden, regular files (a link is
    not followed). A name with characters that are not printable is left out and
    reported in `skipped` (as `ascii()` shows it: never raw to a terminal)."""
    found = {}
    with os.scandir(folder) as items:
        for item in items:
            if not item.name.endswith(".vcf") or item.name.startswith("."):
                continue
            if not item.name.isprintable():
                if skipped is not None:
                    skipped.append(f"{ascii(item.name)}: a file name with control characters")
                continue
            if item.is_file(follow_symlinks=False):
                found[item.name] = Path(item.path)
            elif skipped is not None:
                skipped.append(f"{item.name}: not a regular file")
    return found


def referral_ids(store: Store) -> set[str]:
    files, _ = store.worktree_files()
    return {label.id for label in files if label.folder == "referrals"}
