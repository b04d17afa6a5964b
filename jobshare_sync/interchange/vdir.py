"""`jobshare vdir sync DIR`: a folder of .vcf files and the repository kept in step.

A vdir (khard's and vdirsyncer's format) holds one card per file. Each file is one
contact; the pair is synced like a friend's copy, three-way, the record as it was at
the last sync (vdirstate.py) being the base:

    base  repository  folder   what happens
    B     B           B        nothing
    B     O           B        the file is written from O (removed when O is gone)
    B     B           T        the contact becomes T (one commit for all such cards)
    B     B           gone     reported, kept; deleted with --propagate-deletes
    B     O           gone     the file is written again from O (with
                               --propagate-deletes: a modify/delete conflict)
    B     O           T        merged field by field (core/merge.py, as a pull does);
                               a real conflict stops the sync like a pull's: see below
    none  O           none     the file `<id>.vcf` is written
    none  none        T        a new contact (its UID as id when it is a free one)

Conflicts use the pull's workflow: the sync stores them as a merge in progress
(`jobshare conflicts`, `resolve`, `merge --continue` or `--abort`), "ours" being the
repository and "theirs" the folder, and commits nothing until they are resolved;
the next sync then writes the resolved contacts to the folder. Files the repository
did not change are never rewritten, so vdirsyncer sees no change in them.

A card's fields that only X-JOBSHARE- properties carry (kind, location, industries,
connected, added_by) keep the record's values when a card comes back without any
X-JOBSHARE- property: the program that rewrote it dropped the properties it did not
know, which is no edit.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import reading, validation, workspace
from ..conflicts import save_merge_state
from ..core import cards, merge, policy, schema
from ..core.fieldmerge import AncestorOursTheirs
from ..core.merge import MergeResult, RecordMerge
from ..errors import InterchangeError
from ..store import Store, write_atomically
from ..sync import check_can_merge
from . import vdirstate
from .importer import current_contacts
from .vdirread import FolderReader, Item, same
from .vdirstate import Entry

Record = dict[str, Any]
VDIR_HANDLE = "vdir"  # the "friend" a vdir's merge names in its notices


@dataclass
class VdirSync:
    """What a sync did. Labels are `contacts/<id>`, files names in the folder.

    `written` and `deleted` are files of the folder; `added`, `updated` and `removed`
    contacts of the repository (one commit, `commit`); `kept` contacts whose card was
    deleted in the folder and which the repository keeps; `conflicts` contacts changed
    on both sides that wait in a merge in progress; `skipped` cards that could not be
    read, with the reason; `created` whether the folder was made.
    """

    folder: Path
    written: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    commit: str | None = None
    message: str | None = None
    created: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "folder": str(self.folder),
            "written": self.written,
            "deleted": self.deleted,
            "added": self.added,
            "updated": self.updated,
            "removed": self.removed,
            "kept": self.kept,
            "conflicts": self.conflicts,
            "skipped": self.skipped,
            "commit": self.commit,
            "message": self.message,
            "created": self.created,
        }


@dataclass
class _Write:
    """A file to write from a contact (None: to delete), now or once the commit is in."""

    entry: Entry
    record: Record | None
    after_commit: bool = False


def sync_vdir(
    store: Store,
    directory: str | os.PathLike[str],
    *,
    tag: str | None = None,
    propagate_deletes: bool = False,
    version: str = "3.0",
) -> VdirSync:
    """Keep a vdir and the repository's contacts (those tagged `tag`, when given) in step,
    both ways (see the module's docstring). Files are written as vCard `version`.

    Raises InterchangeError when the folder cannot be used, MergeStateError while a
    merge waits, DirtyWorkTreeError when record files have uncommitted changes (as a
    pull does: the sync may commit).
    """
    if version not in cards.VERSIONS:
        raise ValueError(f"vCard version {version!r}: use 4.0 or 3.0")
    folder = Path(os.path.abspath(Path(directory).expanduser()))
    outcome = VdirSync(folder)
    with store.locked():
        check_can_merge(store)
        if not folder.is_dir():
            if folder.exists() or not folder.parent.is_dir():
                raise InterchangeError(
                    f"{folder} is no folder: give the vdir's path (khard's 'path')"
                )
            folder.mkdir()
            outcome.created = True
        plan = _Planner(store, folder, tag, propagate_deletes, version, outcome)
        plan.run()
    return outcome


class _Planner:
    """One sync: read both sides, decide, then commit, write and save the state."""

    def __init__(
        self,
        store: Store,
        folder: Path,
        tag: str | None,
        propagate: bool,
        version: str,
        outcome: VdirSync,
    ) -> None:
        self.store, self.folder, self.tag = store, folder, tag
        self.propagate, self.version, self.outcome = propagate, version, outcome
        self.old = vdirstate.load(store, folder)
        self.now = workspace.now()
        self.reader = FolderReader(
            store,
            folder,
            tag,
            self.old,
            current_contacts(store),
            validation.owner_region(store),
            self.now,
        )
        # the new state, entry by entry as the folder holds it now
        self.entries: dict[str, Entry] = {}
        self.to_folder: list[_Write] = []
        self.merges: list[RecordMerge] = []
        self.pending: dict[str, Entry | None] = {}  # entries that change with the commit

    def run(self) -> None:
        items = self.reader.items()
        self.outcome.skipped = self.reader.skipped
        self.entries.update(self.reader.kept)
        for item in items:
            self._decide(item)
        result = MergeResult(self.merges)
        self._count(result)
        name = vdirstate.state_name(self.folder)
        self.outcome.message = self._message(result) if result.records else None
        if result.conflicts:
            # as a pull: nothing is committed; the changes and the conflicts wait in the
            # merge state, and the state of the folder changes with their commit. The
            # folder has no commit of its own, so `merge --continue` makes a commit with
            # HEAD as its only parent (and a commit made by plain git on top of HEAD in
            # the meantime would look like it: the state is then dropped, and the next
            # sync finds the folder's changes again)
            self._write_folder(after_commit=False)
            head = self.store.head_commit()
            save_merge_state(
                self.store,
                f"vdir {self.folder}",
                VDIR_HANDLE,
                head.id if head is not None else None,
                None,
                result,
                self.outcome.message or "",
                {name: vdirstate.dumps(self.folder, self._apply_pending())},
            )
            self.outcome.conflicts = [c.label for c in result.conflicts]
            vdirstate.save(self.store, self.folder, self.entries)
            return
        self.entries = self._apply_pending()
        changes = result.changes
        if changes:
            files = {
                f"{label}.yaml": schema.dump_record("contacts", data) if data is not None else None
                for label, data in sorted(changes.items())
            }
            state = {name: vdirstate.dumps(self.folder, self.entries)}
            self.outcome.commit = self.store.commit_files(
                files, self.outcome.message or "", state=state
            )
        else:
            self.outcome.message = None
        self._write_folder(after_commit=False)
        self._write_folder(after_commit=True)
        vdirstate.save(self.store, self.folder, self.entries)

    # --- deciding ----------------------------------------------------------------------

    def _decide(self, item: Item) -> None:
        """What to do with one contact, by the table of the module's docstring."""
        entry = item.entry
        label = f"contacts/{entry.id}"
        base, ours, theirs = item.base, item.ours, item.theirs
        current = Entry(entry.file, entry.id, entry.uid, None, None, base)
        if item.present:
            current.sha, current.stat = item.sha, item.stat
        if same(ours, theirs):  # in step (or gone from both sides: the entry goes)
            if ours is not None or theirs is not None:
                current.base = ours if ours is not None else theirs
                self.entries[entry.file] = current
            return
        if same(theirs, base):  # only the repository changed, or the contact is new to it
            if item.present or base is not None:
                self.entries[entry.file] = current
            self.to_folder.append(_Write(current, ours))
            return
        if theirs is None:
            self._deleted(item, current, label)
            return
        if item.unselected:
            self.outcome.skipped.append(
                f"{entry.file}: changed in the folder, but contacts/{entry.id} is not "
                f"tagged {self.tag!r}: left alone"
            )
            self.entries[entry.file] = entry
            return
        merged = merge.merge_record(
            label,
            AncestorOursTheirs(base, ours, theirs),
            policy.rules_for(label),
            theirs_handle=VDIR_HANDLE,
            validate=policy.validate,
        )
        if merged.result is not None and merged.outcome in ("added", "updated"):
            merged.result["updated"] = self.now
        self.merges.append(merged)
        # until the change is in, the state stays as it was: an aborted merge or a killed
        # sync finds the card changed again next time
        if entry.file in self.old:
            self.entries[entry.file] = self.old[entry.file]
        after = Entry(entry.file, entry.id, entry.uid, item.sha, item.stat, theirs)
        self.pending[entry.file] = after
        if merged.outcome != "conflict":
            result = ours if merged.outcome == "unchanged" else merged.result
            if result is not None and not same(result, theirs):
                self.to_folder.append(_Write(after, result, after_commit=True))

    def _deleted(self, item: Item, current: Entry, label: str) -> None:
        """A card deleted in the folder, whose contact the repository holds."""
        base, ours = item.base, item.ours
        file = item.entry.file
        propagate = self.propagate
        named = reading.references_to(self.store, [item.entry.id]) if propagate else {}
        if named:  # removing it would leave them naming no contact (DESIGN section 2)
            propagate = False
            self.outcome.skipped.append(
                f"{file}: deleted in the folder, but {label} is named by "
                f"{', '.join(str(r) for r in named[item.entry.id])}: kept"
            )
        if same(ours, base):
            if propagate:
                self.merges.append(RecordMerge(label, "removed", None))
                self.entries[file] = current
                self.pending[file] = None
            else:
                if not named:  # (a named one is reported among the skipped)
                    self.outcome.kept.append(label)
                self.entries[file] = current
            return
        self.entries[file] = current
        if not propagate:  # changed since: the card comes back with the change
            self.to_folder.append(_Write(current, ours))
            return
        self.merges.append(  # a modify/delete conflict, as a pull would have it
            merge.merge_record(
                label,
                AncestorOursTheirs(base, ours, None),
                policy.rules_for(label),
                theirs_handle=VDIR_HANDLE,
            )
        )
        self.pending[file] = None

    # --- writing -----------------------------------------------------------------------

    def _write_folder(self, *, after_commit: bool) -> None:
        """Write (or delete) the files whose contact changed in the repository, each at
        once; a file that already holds those bytes is left as it is. `after_commit`:
        those that wait for the repository's change to be committed."""
        for write in self.to_folder:
            if write.after_commit != after_commit:
                continue
            entry, record = write.entry, write.record
            path = self.folder / entry.file
            if record is None:
                if path.exists():
                    path.unlink()
                    self.outcome.deleted.append(entry.file)
                self.entries.pop(entry.file, None)
                continue
            data = cards.to_vcard({**record, "id": entry.uid}, self.version).encode("utf-8")
            try:
                current = path.read_bytes()
            except OSError:
                current = None
            if current != data:
                write_atomically(path, data)
                self.outcome.written.append(entry.file)
            self.entries[entry.file] = Entry(
                entry.file,
                entry.id,
                entry.uid,
                vdirstate.sha(data),
                vdirstate.stat_of(path),
                record,
            )

    def _apply_pending(self) -> dict[str, Entry]:
        """The state as it will be once the repository's change is committed."""
        final = dict(self.entries)
        for file, entry in self.pending.items():
            if entry is None:
                final.pop(file, None)
            else:
                final[file] = entry
        return final

    def _count(self, result: MergeResult) -> None:
        for record in result.records:
            if record.outcome in ("added", "updated", "removed"):
                getattr(self.outcome, record.outcome).append(record.label)

    def _message(self, result: MergeResult) -> str:
        counts = result.counts()
        n = counts["added"] + counts["updated"] + counts["removed"] + counts["conflicts"]
        parts = [f"{counts[k]} {k}" for k in ("added", "updated", "removed") if counts[k]]
        if counts["conflicts"]:
            parts.append(f"{counts['conflicts']} in conflict")
        head = f"Sync {n} contact{'s' if n != 1 else ''} from {self.folder}"
        return f"{head} ({', '.join(parts)})\n" if parts else head + "\n"
