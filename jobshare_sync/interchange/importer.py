"""`jobshare import`: contacts files into the repository, as one commit, without duplicates.

Every file is read first (core/cards); a file that cannot be read as a whole stops the
import before anything is written. Each card then either updates the contact it
matches (see matching.py) or becomes a new contact; bad cards and rows are reported
with their file and line and skipped. All changes go in one commit.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import validation, workspace
from ..core import cards, labels, policy, records, schema
from ..core.cards import ImportedContact, ReadProblem, ReadResult
from ..core.values import DEFAULT_REGION, clean_line, word_key
from ..errors import DirtyWorkTreeError, InterchangeError, MergeStateError, RecordError
from ..store import Store
from .matching import ContactIndex, fold_card

Progress = Callable[[int, int], None]  # (cards done, cards in all)
PROGRESS_EVERY = 250  # cards between two calls of a progress function


def no_progress(done: int, total: int) -> None:
    """A progress function that shows nothing."""


# --- results ------------------------------------------------------------------------------


@dataclass
class Kept:
    """A scalar a card disagrees on, left as the contact has it."""

    field: str
    contact: Any
    card: Any

    def to_json(self) -> dict[str, Any]:
        return {"field": self.field, "contact": self.contact, "card": self.card}


@dataclass
class ImportItem:
    """What became of one card or row.

    `action` is `added` (a new contact), `updated` (fields of the matched contact
    changed), `unchanged` (it matched and brought nothing new) or `skipped` (`reason`
    says why). `label` is the contact's (None when skipped; for a contact a dry run
    would add, the id is not chosen yet and `label` is None). `match` says how it
    matched (`email jobs@acme.example`).
    """

    source: str
    number: int | None
    line: int | None
    name: str
    action: str
    label: str | None = None
    match: str | None = None
    changed: list[str] = field(default_factory=list)
    kept: list[Kept] = field(default_factory=list)
    reason: str | None = None
    record: dict[str, Any] | None = field(default=None, repr=False)  # the contact as imported

    @property
    def where(self) -> str:
        """`contacts.vcf:12 card 3`: the file, its line and the card's or row's number."""
        at = f"{self.source}:{self.line}" if self.line else self.source
        return f"{at} #{self.number}" if self.number else at

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "number": self.number,
            "line": self.line,
            "name": self.name,
            "action": self.action,
            "label": self.label,
            "match": self.match,
            "changed": self.changed,
            "kept": [k.to_json() for k in self.kept],
            "reason": self.reason,
        }


@dataclass
class FileImport:
    """One file's part of an import: its format and encoding, each card's fate, the values
    left out of cards (`warnings`), and the ignored properties or columns by name."""

    source: str
    format: str
    encoding: str
    items: list[ImportItem] = field(default_factory=list)
    warnings: list[ReadProblem] = field(default_factory=list)
    ignored: Counter[str] = field(default_factory=Counter)

    def ignored_summary(self) -> str:
        return ReadResult(
            self.source, self.format, self.encoding, ignored=self.ignored
        ).ignored_summary()

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "format": self.format,
            "encoding": self.encoding,
            "items": [i.to_json() for i in self.items],
            "warnings": [w.to_json() for w in self.warnings],
            "ignored": dict(sorted(self.ignored.items())),
        }


@dataclass
class ImportResult:
    """An import: per file what happened, the counts of contacts added and updated, and
    the commit (None for a dry run, or when nothing changed)."""

    files: list[FileImport]
    added: int = 0
    updated: int = 0
    dry_run: bool = False
    commit: str | None = None
    message: str | None = None

    @property
    def items(self) -> list[ImportItem]:
        return [item for f in self.files for item in f.items]

    def counts(self) -> dict[str, int]:
        """Contacts added and updated (each counted once, however many cards it took),
        cards that brought nothing new, and cards skipped."""
        actions = Counter(item.action for item in self.items)
        return {
            "added": self.added,
            "updated": self.updated,
            "unchanged": actions["unchanged"],
            "skipped": actions["skipped"],
        }

    def to_json(self) -> dict[str, Any]:
        return {
            "files": [f.to_json() for f in self.files],
            "counts": self.counts(),
            "dry_run": self.dry_run,
            "commit": self.commit,
            "message": self.message,
        }


# --- the import -----------------------------------------------------------------------------


def read_files(
    paths: Sequence[str | Path],
    *,
    format: str = "auto",
    kind: str | None = None,
    mapping: Mapping[str, str] | None = None,
    region: str = DEFAULT_REGION,
) -> list[ReadResult]:
    """Read every file (see core/cards `read_contacts` for the arguments).

    Raises InterchangeError for a file that cannot be read at all (missing, not a
    contacts file, a CSV whose header names neither name nor email)."""
    results = []
    for path in map(Path, paths):
        try:
            data = path.read_bytes()
        except OSError as e:
            reason = e.strerror or str(e)
            raise InterchangeError(f"cannot read {path}: {reason}") from None
        try:
            read = cards.read_contacts(
                data, path.name, format=format, kind=kind, mapping=mapping, region=region
            )
        except InterchangeError as e:
            message = str(e)
            if not message.startswith(path.name):  # with several files, say which one
                raise InterchangeError(f"{path}: {message}") from None
            raise
        results.append(read)
    return results


def import_files(
    store: Store,
    paths: Sequence[str | Path],
    *,
    format: str = "auto",
    kind: str | None = None,
    tags: Iterable[str] = (),
    mapping: Mapping[str, str] | None = None,
    dry_run: bool = False,
    progress: Progress = no_progress,
) -> ImportResult:
    """Import contacts files into the repository as one commit (DESIGN section 7b).

    `format` is "auto" or one of core/cards FORMATS; `kind` the kind of a card that
    states none (a new contact without one is `other`); `tags` are added to every
    imported contact; `mapping` is column -> field for a generic CSV (`--map`).
    With `dry_run`, works out the same result and writes nothing.

    Raises InterchangeError for a file that cannot be read as a whole (nothing is
    written then), MergeStateError while a pull waits for conflicts to be resolved,
    DirtyWorkTreeError when a contact the import would change has uncommitted changes.
    """
    region = validation.owner_region(store)
    read = read_files(paths, format=format, kind=kind, mapping=mapping, region=region)
    extra_tags = [t for t in (clean_line(t) for t in tags) if t]
    if dry_run:
        return _plan(store, read, kind, extra_tags, region, progress, dry_run=True)[0]
    with store.locked():
        if store.merge_in_progress():
            raise MergeStateError(
                "a pull stopped at conflicts: finish it first ('jobshare conflicts', then "
                "'jobshare merge --continue') or undo it with 'jobshare merge --abort'"
            )
        result, changes = _plan(store, read, kind, extra_tags, region, progress, dry_run=False)
        if not changes:
            return result
        dirty = sorted(set(store.worktree_changes()) & set(changes))
        if dirty:
            raise DirtyWorkTreeError(
                f"contacts the import would change have uncommitted changes ({', '.join(dirty[:5])}): "
                "commit them with 'jobshare commit' (or undo them) first"
            )
        result.message = commit_message(result)
        result.commit = store.commit_files(changes, result.message)
    return result


def _plan(
    store: Store,
    read: list[ReadResult],
    kind: str | None,
    extra_tags: list[str],
    region: str,
    progress: Progress,
    *,
    dry_run: bool,
) -> tuple[ImportResult, dict[str, bytes | None]]:
    """What importing `read` does to the repository's contacts, and the files to write."""
    contacts = current_contacts(store)
    index = ContactIndex(contacts, region)
    own = private_index(store, region)
    taken = set(contacts) | _referral_ids(store)
    handles = validation.known_handles(store)
    owner = store.handle
    now = workspace.now()
    added: set[str] = set()
    updated: set[str] = set()
    written: dict[str, dict[str, Any]] = {}
    total = sum(len(r.contacts) for r in read)
    done = 0
    files = []
    for result in read:
        out = FileImport(result.source, result.format, result.encoding, ignored=result.ignored)
        out.warnings = result.warnings
        out.items = [_skipped_item(p) for p in result.errors]
        for card in result.contacts:
            reason = private_reason(card, own)
            if reason is not None:
                name = str(card.fields.get("name", ""))
                out.items.append(
                    ImportItem(
                        result.source, card.number, card.line, name, "skipped", reason=reason
                    )
                )
                done += 1
                continue
            fields = _with_tags(card.fields, extra_tags)
            item = _import_one(card, fields, result.source, index, region)
            if item.action == "added":
                record = _new_record(card, fields, kind, taken, handles, owner, now)
                problems = policy.validate(f"contacts/{record['id']}", record)
                if problems:
                    item.action, item.reason = "skipped", "; ".join(problems)
                else:
                    taken.add(record["id"])
                    added.add(record["id"])
                    written[record["id"]] = record
                    index.add(record["id"], record)
                    item.label = None if dry_run else f"contacts/{record['id']}"
                    item.record = record
            elif item.action == "updated":
                record_id = (item.label or "").removeprefix("contacts/")
                record = item.record or {}
                record["updated"] = now
                written[record_id] = record
                index.add(record_id, record)
                if record_id not in added:
                    updated.add(record_id)
                elif dry_run:
                    item.label = None
            out.items.append(item)
            done += 1
            if done % PROGRESS_EVERY == 0 or done == total:
                progress(done, total)
        out.items.sort(key=lambda i: i.number or 0)
        files.append(out)
    changes: dict[str, bytes | None] = {
        f"contacts/{record_id}.yaml": schema.dump_record("contacts", record)
        for record_id, record in sorted(written.items())
    }
    return ImportResult(files, len(added), len(updated), dry_run), changes


def _import_one(
    card: ImportedContact,
    fields: dict[str, Any],
    source: str,
    index: ContactIndex,
    region: str,
) -> ImportItem:
    """Match one card: `added` (to be made), `updated` (the new record on `record`),
    `unchanged` or `skipped`."""
    name = str(fields.get("name", ""))
    item = ImportItem(source, card.number, card.line, name, "added")
    found = index.match(fields, card.record_id)
    if found is None:
        return item
    item.label, item.match = f"contacts/{found.record_id}", str(found)
    existing = index.records[found.record_id]
    if records.is_newer(existing):
        item.action, item.reason = "skipped", f"{item.label} {newer(existing)}"
        return item
    folded = fold_card(existing, fields, region)
    if folded.problem is not None:
        item.action, item.reason = "skipped", f"would make {item.label} invalid: {folded.problem}"
        return item
    item.kept = [Kept(k.field, k.ours, k.theirs) for k in folded.kept]
    if not folded.changed:
        item.action = "unchanged"
        return item
    item.action, item.changed, item.record = "updated", folded.changed, folded.merged
    return item


def newer(record: Mapping[str, Any]) -> str:
    """Why a record of a newer format is left alone, after its label."""
    return (
        f"is written by a newer jobshare (record format {records.record_format(record)}; "
        f"this jobshare knows formats up to {records.FORMAT}): upgrade jobshare to change it"
    )


def _skipped_item(problem: ReadProblem) -> ImportItem:
    reason = problem.message.removesuffix(": skipped")
    return ImportItem(problem.source, problem.number, problem.line, "", "skipped", reason=reason)


def _with_tags(fields: Mapping[str, Any], extra: list[str]) -> dict[str, Any]:
    out = dict(fields)
    if extra:
        tags = {word_key(t): t for t in reversed([*out.get("tags", []), *extra])}
        out["tags"] = list(reversed(tags.values()))
    return out


def _new_record(
    card: ImportedContact,
    fields: Mapping[str, Any],
    kind: str | None,
    taken: set[str],
    handles: set[str],
    owner: str,
    now: str,
) -> dict[str, Any]:
    """A new contact from a card: its UID as the id when that is a free record id (a
    card `export` wrote), else a new id; `added_by` the card's when it names the owner
    or a friend, else the owner."""
    record_id = card.record_id
    if record_id is None or record_id in taken:
        record_id = labels.new_id(str(fields.get("name", "contact")), taken.__contains__)
    record = {"id": record_id, "kind": fields.get("kind") or kind or "other", **fields}
    record["added_by"] = card.added_by if card.added_by in handles else owner
    record["updated"] = now
    if (needed := schema.needed_format("contact", record)) > 1:
        record["format"] = needed
    return record


def private_reason(card: ImportedContact, index: ContactIndex | None) -> str | None:
    """Why a card must not become a shared contact, or None: it was marked private by
    `export --private`, or it is one of your private contacts (by the import's matching
    rules against `index`, from `private_index`). Private and shared never fight: the
    card is skipped, the private contact stays as it is."""
    if card.private:
        return "marked private by 'jobshare export --private': not imported as shared"
    found = index.match(card.fields, card.record_id) if index is not None else None
    if found is None:
        return None
    return f"is your private contact contacts/{found.record_id} ({found}): not imported as shared"


def private_index(store: Store, region: str) -> ContactIndex | None:
    """Your private contacts, indexed for matching; None without a private side."""
    if not store.private.exists():
        return None
    from ..private.side import read_side

    held = {k.id: v for k, v in read_side(store).records.items() if k.folder == "contacts"}
    return ContactIndex(held, region) if held else None


def current_contacts(store: Store) -> dict[str, dict[str, Any]]:
    """The contacts of the working tree by id; files that do not parse are left out
    (validate reports them). Records of a newer format are in: a card may match them,
    but nothing changes them (see `newer`)."""
    entries, _ = store.worktree_entries()
    found: dict[str, dict[str, Any]] = {}
    for label, entry in entries.items():
        if label.folder != "contacts":
            continue
        try:
            with open(entry.path, "rb") as f:
                data = records.load_yaml(f.read(), label.path, lines=False).data
        except (OSError, RecordError):
            continue
        if isinstance(data, dict):
            found[label.id] = data
    return found


def _referral_ids(store: Store) -> set[str]:
    files, _ = store.worktree_files()
    return {label.id for label in files if label.folder == "referrals"}


def commit_message(result: ImportResult) -> str:
    """`Import 212 contacts from contacts.vcf (180 added, 32 updated)`, then a line per
    card skipped."""
    sources = [f.source for f in result.files]
    named = sources[0] if len(sources) == 1 else f"{len(sources)} files"
    if len(sources) in (2, 3):
        named = ", ".join(sources[:-1]) + " and " + sources[-1]
    n = result.added + result.updated
    head = (
        f"Import {n} contact{'s' if n != 1 else ''} from {named} "
        f"({result.added} added, {result.updated} updated)"
    )
    skipped = [i for i in result.items if i.action == "skipped"]
    body = [f"- skipped {i.where}: {i.reason}" for i in skipped[:50]]
    if len(skipped) > 50:
        body.append(f"- and {len(skipped) - 50} more skipped")
    return head + ("\n\n" + "\n".join(body) if body else "") + "\n"
