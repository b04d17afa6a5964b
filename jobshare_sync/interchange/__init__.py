"""Contacts in and out (DESIGN section 7b): import, export, and a vdir kept in step.

    importer.py   `import`: contacts files into the repository as one commit
    matching.py   which contact a card is, and what it changes there (pure)
    exporter.py   `export`: contacts as vCard 4.0 or 3.0, Google's CSV, or JSON
    vdir.py       `vdir sync`: a folder of .vcf files and the repository, both ways
    vdirread.py   the two sides of a vdir sync, read and paired
    vdirstate.py  what the last vdir sync saw, kept under .git/jobshare/vdir/

Reading and writing the formats is core/cards' (pure); these modules match, merge,
and write through the store.
"""

from __future__ import annotations

from .exporter import EXPORT_FORMATS, Exported, export_contacts, render, select_contacts
from .importer import (
    FileImport,
    ImportItem,
    ImportResult,
    Kept,
    Progress,
    import_files,
    no_progress,
)
from .matching import ContactIndex, Match, fold_card
from .vdir import VdirSync, sync_vdir

__all__ = [
    "EXPORT_FORMATS",
    "ContactIndex",
    "Exported",
    "VdirSync",
    "export_contacts",
    "render",
    "select_contacts",
    "sync_vdir",
    "FileImport",
    "ImportItem",
    "ImportResult",
    "Kept",
    "Match",
    "Progress",
    "fold_card",
    "import_files",
    "no_progress",
]
