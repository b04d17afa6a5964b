"""Private records and notes beside the shared ones, for `list` and `show`.

A listing is the shared answer (from the index) with each record's private note
attached, the shared records whose note alone matches a `--tag` or `--search`, and
the private records that match, each marked `private`. The private side is one
person's data, so it is matched in Python with `core.search.matches`, the rule the
index answers in SQL.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..core import identity
from ..core.records import Label
from ..core.search import Query, entry_of, matches
from ..errors import LabelError, RecordError
from ..reading import Listed, follow_alias, read_worktree_record
from ..store import Store
from .side import PrivateSide, notes_for, read_side


@dataclass(frozen=True)
class Shown:
    """A record in a listing or `show`, with what the private side adds."""

    label: Label
    data: dict[str, Any]
    private: bool = False
    note: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"label": str(self.label), "record": self.data}
        if self.private:  # shared records keep the shape they always had
            out["private"] = True
        if self.note:
            out["note"] = self.note
        return out


def _with_note(data: dict[str, Any], note: dict[str, Any]) -> dict[str, Any]:
    """What a query sees of a record with a note: note tags among its tags, note
    text among its words."""
    seen = dict(data)
    if note.get("tags"):
        seen["tags"] = [*(data.get("tags") or []), *note["tags"]]
    seen["private note"] = {k: v for k, v in note.items() if k != "updated"}
    return seen


def listing(store: Store, found: Sequence[Listed], query: Query) -> list[Shown]:
    """`found` (the shared answer) with notes and private records laid over it."""
    side = read_side(store)
    if not side.records and not side.notes:
        return [Shown(item.label, item.data) for item in found]
    shown = [Shown(i.label, i.data, note=notes_for(store, side, i.label) or None) for i in found]
    listed = {item.label for item in found}
    for label in sorted(_noted_survivors(store, side)):
        if (
            label in listed
            or label in side.records
            or (query.folder is not None and label.folder != query.folder)
        ):
            continue
        try:
            data = read_worktree_record(store, label)
        except (RecordError, OSError):
            continue
        if identity.is_alias(data):
            continue
        note = notes_for(store, side, label)
        if matches(entry_of(label, None, _with_note(data, note)), query):
            shown.append(Shown(label, data, note=note))
    for label, data in sorted(side.records.items()):
        own = side.notes.get(label)
        seen = _with_note(data, own) if own else data
        if matches(entry_of(label, None, seen), query):
            shown.append(Shown(label, data, private=True, note=own))
    if not query.search:
        shown.sort(key=lambda s: (s.label, s.private))
    return shown


def _noted_survivors(store: Store, side: PrivateSide) -> set[Label]:
    """The shared records notes are shown on: each noted record, or the survivor its
    aliases lead to."""
    found = set()
    for label in side.notes:
        if not (store.root / label.path).is_file():
            continue
        try:
            found.add(follow_alias(store, label))
        except LabelError:
            continue
    return found


def private_record(store: Store, text: str) -> Shown | None:
    """The private record `show TEXT` means when no shared record is meant."""
    from .side import find_private

    side = read_side(store)
    label = find_private(side, text)
    if label is None:
        return None
    return Shown(label, side.records[label], True, side.notes.get(label))


def shown_shared(store: Store, label: Label, data: dict[str, Any]) -> tuple[Shown, Shown | None]:
    """A shared record as `show` gives it, with its note; and a private record with the
    same label, if one is kept (a friend's record took its id), shown after it."""
    side: PrivateSide = read_side(store)
    twin = side.records.get(label)
    same = twin is not None and side.raw[label] == (store.root / label.path).read_bytes()
    other = None if twin is None or same else Shown(label, twin, True, side.notes.get(label))
    return Shown(label, data, note=notes_for(store, side, label) or None), other
