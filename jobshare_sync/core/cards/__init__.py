"""Contacts to and from vCard and CSV (DESIGN section 7b): pure, no files, no git.

Reading: `read_contacts(data, source)` turns the bytes of one file (vCard 2.1, 3.0 or
4.0; Google, Outlook or LinkedIn CSV; any CSV with a header) into a `ReadResult`:
contacts as record fields (`ImportedContact`), problems with the card or row and line
(`ReadProblem`: a skipped card is an error, a value left out a warning), and a count
of ignored properties and columns by name. Nothing is raised for a bad card or row;
`InterchangeError` only when the file as a whole cannot be read (no format found, a
CSV header that names no name or email column, a --map that names no column).

Writing: `to_vcard` / `to_vcards` (4.0 or 3.0) and `to_google_csv`. Exported then read,
a contact comes back as it was.

Matching an imported contact to an existing one, merging and writing are the
importer's (interchange.py); the keys to match by are in core/values.py.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from ...errors import InterchangeError
from ..values import DEFAULT_REGION
from .export import VERSIONS, escape, google_header, split_name, to_google_csv, to_vcard, to_vcards
from .generic import TARGETS, parse_mapping
from .model import FORMATS, KINDS, ImportedContact, ReadProblem, ReadResult, parse_day
from .tables import header_format, locate_header, read_table
from .text import decode_text
from .vcard import parse_rev, read_vcards

_VCARD = re.compile(r"^\s*BEGIN:VCARD\s*$", re.IGNORECASE | re.MULTILINE)


def detect_format(data: bytes) -> str:
    """The format of a contacts file, from its content: one of FORMATS.

    `vcard` when a line is BEGIN:VCARD; otherwise the CSV format its header row names
    (`csv` for any other header). InterchangeError when it is neither.
    """
    text, _ = decode_text(data[:262144])
    if _VCARD.search(text[:65536]):
        return "vcard"
    return locate_header(text, "auto")[3]


def read_contacts(
    data: bytes,
    source: str,
    *,
    format: str = "auto",
    kind: str | None = None,
    mapping: Mapping[str, str] | None = None,
    region: str = DEFAULT_REGION,
) -> ReadResult:
    """Read every contact in one file.

    `data` is the file's bytes; `source` its name for messages (`contacts.vcf`);
    `format` "auto" or one of FORMATS; `kind` the kind for cards that do not say theirs
    (a vCard X-JOBSHARE-KIND says it; without either, a KIND:org card or an
    organisation-only row is `client`, and any other has no kind in its fields);
    `mapping` column -> field for a generic CSV (see `parse_mapping`; TARGETS are the
    fields); `region` the ISO 3166 country for phone numbers without a country code.

    Raises InterchangeError when the file as a whole cannot be read, ValueError for a
    `format` or `kind` that is not one.
    """
    if format != "auto" and format not in FORMATS:
        raise ValueError(f"unknown format {format!r}: use auto or one of {', '.join(FORMATS)}")
    if kind is not None and kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}: use one of {', '.join(KINDS)}")
    if not data.strip():
        raise InterchangeError(f"{source} is empty: there are no contacts in it")
    found = detect_format(data) if format == "auto" else format
    if found == "vcard":
        return read_vcards(data, source, kind=kind, region=region)
    return read_table(data, source, format=found, kind=kind, mapping=mapping, region=region)


__all__ = [
    "FORMATS",
    "KINDS",
    "TARGETS",
    "VERSIONS",
    "ImportedContact",
    "ReadProblem",
    "ReadResult",
    "decode_text",
    "detect_format",
    "escape",
    "google_header",
    "header_format",
    "parse_day",
    "parse_mapping",
    "parse_rev",
    "read_contacts",
    "split_name",
    "to_google_csv",
    "to_vcard",
    "to_vcards",
]
