"""Any CSV with a header row: columns mapped to contact fields (`--map COLUMN=FIELD`),
and common column names understood without a map."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from ...errors import InterchangeError
from .model import ADDRESS_PARTS, ContactBuilder, ImportedContact, join_name
from .rows import Row, name_by_organisation

# Fields a column can be mapped to with --map COLUMN=FIELD.
TARGETS = (
    "name",
    "kind",
    "organization",
    "role",
    "emails",
    "phones",
    "website",
    "links",
    "location",
    "industries",
    "tags",
    "connected",
    "notes",
    *(f"address.{part}" for part in ADDRESS_PARTS),
)
# Column names a generic CSV is understood by without --map (lower case).
GUESSES = {
    "name": "name",
    "full name": "name",
    "display name": "name",
    "first name": "name",
    "given name": "name",
    "last name": "name",
    "family name": "name",
    "surname": "name",
    "email": "emails",
    "e-mail": "emails",
    "email address": "emails",
    "emails": "emails",
    "mail": "emails",
    "phone": "phones",
    "phone number": "phones",
    "phones": "phones",
    "telephone": "phones",
    "mobile": "phones",
    "company": "organization",
    "organization": "organization",
    "organisation": "organization",
    "agency": "organization",
    "title": "role",
    "job title": "role",
    "position": "role",
    "role": "role",
    "website": "website",
    "web site": "website",
    "homepage": "website",
    "url": "website",
    "linkedin": "links",
    "profile": "links",
    "links": "links",
    "location": "location",
    "city": "location",
    "industry": "industries",
    "industries": "industries",
    "tags": "tags",
    "labels": "tags",
    "categories": "tags",
    "kind": "kind",
    "notes": "notes",
    "note": "notes",
    "comments": "notes",
    "connected on": "connected",
}


def mapped_columns(header: list[str], mapping: Mapping[str, str]) -> dict[str, str]:
    """Column (lower case) to field for a generic CSV: --map first, then GUESSES."""
    present = {c.strip().lower(): c.strip() for c in header}
    columns: dict[str, str] = {}
    for column, target in mapping.items():
        if column.strip().lower() not in present:
            raise InterchangeError(
                f"--map names column {column!r}, which the file does not have: "
                f"its columns are {', '.join(present.values())}"
            )
        columns[column.strip().lower()] = target
    for column in present:
        if column not in columns and column in GUESSES:
            columns[column] = GUESSES[column]
    if not any(t in ("name", "emails") for t in columns.values()):
        raise InterchangeError(
            "no column gives a name or an email: say which with --map, "
            f"e.g. --map '{next(iter(present.values()), 'Name')}=name' "
            f"(its columns are {', '.join(present.values())})"
        )
    return columns


_SPLIT = {
    "emails": r"[;,\s]+",
    "phones": r"\s*[;,]\s*",
    "links": r"[\s;]+|,\s+",
    "tags": r"\s*[;,]\s*",
    "industries": r"\s*[;,]\s*",
}


def read_generic(
    row: Row, b: ContactBuilder, contact: ImportedContact, columns: Mapping[str, str]
) -> bool:
    names: list[str] = []
    address: dict[str, str] = {}
    for column, target in columns.items():
        for cell in row.values(column):
            if target == "name":
                names.append(cell)
            elif target.startswith("address."):
                address.setdefault(target.removeprefix("address."), cell)
            elif target in _SPLIT:
                for value in (v for v in re.split(_SPLIT[target], cell) if v.strip()):
                    if target == "emails":
                        b.add_email(value, column)
                    elif target == "phones":
                        b.add_phone(value, column)
                    elif target == "links":
                        b.add_url(value, column, profile=True)
                    else:
                        b.add_word(target, value, column)
            elif target == "website":
                b.add_url(cell, column, preferred=True)
            elif target == "notes":
                b.add_note(cell)
            elif target == "kind":
                b.set_kind(cell, column)
            elif target == "connected":
                b.set_connected(cell, column)
            else:
                b.set_line(target, cell, column)
    b.set_line("name", join_name(names), "name")
    b.set_address(address, "address")
    organisations = [c for c, t in columns.items() if t == "organization"]
    return bool(organisations) and name_by_organisation(row, b, *organisations)


def parse_mapping(specs: Iterable[str]) -> dict[str, str]:
    """`--map COLUMN=FIELD` options as {column: field}; InterchangeError for a bad one.

    FIELD is one of TARGETS (`address.locality` for a part of the address). Several
    columns may name one field: names are joined, sets collect, the first scalar wins.
    """
    mapping: dict[str, str] = {}
    for spec in specs:
        column, sep, target = spec.rpartition("=")
        column, target = column.strip(), target.strip().lower()
        if not sep or not column:
            raise InterchangeError(
                f"--map {spec!r} is not COLUMN=FIELD, e.g. --map 'Agency=organization'"
            )
        if target not in TARGETS:
            raise InterchangeError(
                f"--map {spec!r}: {target!r} is not a contact field; use one of {', '.join(TARGETS)}"
            )
        mapping[column] = target
    return mapping
