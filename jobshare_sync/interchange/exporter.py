"""`jobshare export`: contacts as vCard 4.0 or 3.0, Google's CSV, or the JSON envelope.

What is written comes from core/cards (`to_vcards`, `to_google_csv`); importing what
was exported changes nothing (see matching.py: the UID is the record id).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import reading
from ..core import cards
from ..core.records import Label
from ..core.search import Query
from ..errors import InterchangeError, LabelError
from ..store import Store, write_atomically

EXPORT_FORMATS = ("vcard", "csv", "json")


@dataclass
class Exported:
    """An export: the text written (UTF-8 when written to a file), how many contacts it
    holds, and the file it went to (None: for the caller to print)."""

    text: str
    count: int
    format: str
    output: Path | None = None


def select_contacts(
    store: Store,
    labels: Iterable[str] = (),
    *,
    kind: str | None = None,
    tag: str | None = None,
    search: str | None = None,
    private: bool = False,
) -> list[dict[str, Any]]:
    """The contacts to export, sorted by id: those `labels` name (contacts/<id>, an id or
    a unique prefix; all contacts when none), that also match every filter given (as in
    `jobshare list`). With `private`, your private contacts too, each with
    `"private": True` (which the card writers mark, and import skips: see
    `ImportedContact.private`). Raises LabelError for a label that names no contact."""
    side = None
    if private:
        from ..private import side as private_side

        side = private_side.read_side(store)
    wanted: set[Label] = set()
    for text in labels:
        try:
            label = reading.find_label(store, text)
        except LabelError:
            own = private_side.find_private(side, text) if side is not None else None
            if own is None:
                raise
            label = own
        if label.folder != "contacts":
            raise LabelError(f"{label} is not a contact: export writes contacts only")
        wanted.add(label)
    found = reading.list_records(store, "contacts", kind, tag, search)
    if side is None:
        return [item.data for item in found if not wanted or item.label in wanted]
    from ..private import views

    query = Query("contacts", kind, tag, None, None, None, search)
    shown = views.listing(store, found, query)
    return [
        {**s.data, "private": True} if s.private else s.data
        for s in sorted(shown, key=lambda s: (s.label, s.private))
        if s.label.folder == "contacts" and (not wanted or s.label in wanted)
    ]


def render(contacts: list[dict[str, Any]], format: str = "vcard", version: str = "4.0") -> str:
    """The contacts as text: `vcard` (one card per contact, `version` 4.0 or 3.0), `csv`
    (Google Contacts' header), or `json` (`{"jobshare.export/v1": [records]}`).
    ValueError for another format or version."""
    if format == "vcard":
        return cards.to_vcards(contacts, version)
    if format == "csv":
        return cards.to_google_csv(contacts)
    if format == "json":
        payload = {"jobshare.export/v1": contacts}
        return json.dumps(payload, sort_keys=True, indent=2, ensure_ascii=False) + "\n"
    raise ValueError(f"unknown export format {format!r}: use one of {', '.join(EXPORT_FORMATS)}")


def export_contacts(
    store: Store,
    labels: Iterable[str] = (),
    *,
    format: str = "vcard",
    version: str = "4.0",
    kind: str | None = None,
    tag: str | None = None,
    search: str | None = None,
    private: bool = False,
    output: str | Path | None = None,
) -> Exported:
    """Export the contacts `select_contacts` picks, in `format` (see `render`).

    With `output`, the file is replaced all at once (written beside it, then renamed),
    so that a program reading it never sees half an export. Raises LabelError for a
    label naming no contact, InterchangeError when `output` cannot be written.
    """
    contacts = select_contacts(store, labels, kind=kind, tag=tag, search=search, private=private)
    text = render(contacts, format, version)
    exported = Exported(text, len(contacts), format)
    if output is not None:
        path = Path(output)
        if path.is_dir():
            raise InterchangeError(f"{path} is a folder: give a file name for --output")
        if not path.parent.is_dir():
            raise InterchangeError(f"no folder {path.parent} for {path.name}: create it first")
        try:
            write_atomically(path, text.encode("utf-8"))
        except OSError as e:
            raise InterchangeError(f"cannot write {path}: {e.strerror or e}") from None
        exported.output = path
    return exported
