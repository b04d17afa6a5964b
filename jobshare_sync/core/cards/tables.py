"""Contacts from CSV files: Google Contacts (current and older header), Outlook,
LinkedIn's Connections.csv, and any CSV with a header row (columns mapped to fields).

The delimiter (comma, semicolon, tab, bar), the header row (LinkedIn writes free text
before it) and the format are found from the content; the encoding by `text.py`.
Each row goes through a `ContactBuilder`; a cell that has no place in a contact is
counted under its column's name.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping

from ...errors import InterchangeError
from ..values import DEFAULT_REGION, normal_line
from .model import (
    ADDRESS_PARTS,
    ORGANISATION_KIND,
    ContactBuilder,
    ImportedContact,
    ReadProblem,
    ReadResult,
    contact_problem,
    join_name,
    valid_handle,
)
from .text import decode_text
from .vcard import parse_rev

DELIMITERS = (",", ";", "\t", "|")
MULTI = " ::: "  # Google's separator of several values in one cell
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
_PROFILE_LABELS = {"profile", "linkedin", "xing", "github", "gitlab", "twitter", "mastodon"}


class _Row:
    """One row's cells by column name (case-insensitive), remembering which were used."""

    def __init__(self, header: list[str], cells: list[str]) -> None:
        self.header = header
        self.cells = cells
        self.columns: dict[str, list[int]] = {}
        for i, name in enumerate(header):
            self.columns.setdefault(name.strip().lower(), []).append(i)
        self.used: set[int] = set()

    def values(self, name: str) -> list[str]:
        """Every non-empty cell of the columns called `name`; marks them used."""
        found = []
        for i in self.columns.get(name.lower(), []):
            self.used.add(i)
            if i < len(self.cells) and self.cells[i].strip():
                found.append(self.cells[i].strip())
        return found

    def mark(self, *names: str) -> None:
        """Count the columns `names` as used (labels and other cells that only qualify)."""
        for name in names:
            self.used.update(self.columns.get(name.lower(), []))

    def release(self, *names: str) -> None:
        """Count the columns `names` as ignored after all (a second address, say)."""
        for name in names:
            self.used.difference_update(self.columns.get(name.lower(), []))

    def get(self, *names: str) -> str:
        """The first non-empty cell among the columns `names` (all are marked used)."""
        found = [v for name in names for v in self.values(name)]
        return found[0] if found else ""

    def numbered(self, pattern: str) -> list[tuple[int, str]]:
        """(number, column) for columns like `E-mail 2 - Value`, `pattern` with one group."""
        regex = re.compile(pattern, re.IGNORECASE)
        found: dict[int, str] = {}
        for name in self.header:
            if m := regex.fullmatch(name.strip()):
                found.setdefault(int(m[1]), name.strip())
        return sorted(found.items())

    def unused(self) -> Iterator[str]:
        for i, cell in enumerate(self.cells):
            if i not in self.used and cell.strip():
                yield self.header[i].strip() if i < len(self.header) else f"column {i + 1}"


def header_format(header: Iterable[str]) -> str | None:
    """The format a header row names: google-csv, outlook-csv, linkedin-csv, or None."""
    columns = {c.strip().lower() for c in header}
    if "connected on" in columns and {"first name", "last name"} <= columns:
        return "linkedin-csv"
    numbered = re.compile(r"(e-mail|phone|website|address|custom field) \d+ - (value|label|type)")
    if (
        any(numbered.fullmatch(c) for c in columns)
        or "group membership" in columns
        or {"given name", "family name"} <= columns
        or {"labels", "organization name"} <= columns
    ):
        return "google-csv"
    if {"e-mail address", "business phone", "web page"} & columns or {
        "job title",
        "company",
    } <= columns:
        return "outlook-csv"
    return None


def _rows(text: str, delimiter: str, quotechar: str = '"') -> Iterator[tuple[int, list[str]]]:
    """(first line, cells) of each row; a malformed row ends the file with csv.Error."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, quotechar=quotechar)
    line = 1
    for cells in reader:
        yield line, cells
        line = reader.line_num + 1


def locate_header(text: str, wanted: str) -> tuple[str, str, int, str]:
    """(delimiter, quote character, line of the header row, format) of a CSV text.

    A known header anywhere in the first 60 rows decides, whatever the delimiter;
    otherwise csv.Sniffer's guess and the first row that is not empty.
    """
    for delimiter in DELIMITERS:
        try:
            for count, (line, cells) in enumerate(_rows(text, delimiter)):
                found = header_format(cells) if len(cells) > 1 else None
                if found is not None and wanted in ("auto", found):
                    return delimiter, '"', line, found
                if count > 60:
                    break
        except csv.Error:
            continue
    try:
        dialect = csv.Sniffer().sniff(text[:65536], delimiters="".join(DELIMITERS))
        delimiter, quotechar = dialect.delimiter, dialect.quotechar or '"'
    except csv.Error:
        delimiter, quotechar = ",", '"'
    try:
        for line, cells in _rows(text, delimiter, quotechar):
            if any(c.strip() for c in cells):
                return delimiter, quotechar, line, "csv" if wanted == "auto" else wanted
    except csv.Error:
        pass
    raise InterchangeError("no header row found: a CSV file starts with the names of its columns")


def read_table(
    data: bytes,
    source: str,
    *,
    format: str = "auto",
    kind: str | None = None,
    mapping: Mapping[str, str] | None = None,
    region: str = DEFAULT_REGION,
) -> ReadResult:
    """Every row of a CSV file as an `ImportedContact`; see `cards.read_contacts`."""
    text, encoding = decode_text(data)
    delimiter, quotechar, header_line, found = locate_header(text, format)
    result = ReadResult(source, found, encoding)
    rows = _rows(text, delimiter, quotechar)
    header: list[str] = []
    for line, cells in rows:
        if line == header_line:
            header = [normal_line(c) for c in cells]
            break
    reader = _READERS[found]
    columns = _mapped_columns(header, mapping or {}) if found == "csv" else {}
    number = 0
    try:
        for line, cells in rows:
            if not any(c.strip() for c in cells):
                continue
            number += 1
            row = _Row(header, cells)
            contact = _read_row(row, reader, columns, kind, region, source, number, line, result)
            if contact is not None:
                result.contacts.append(contact)
    except csv.Error as e:
        result.problems.append(
            ReadProblem(
                source, number + 1, None, f"not CSV from here on ({e}): rest skipped", what="row"
            )
        )
    return result


Reader = Callable[[_Row, ContactBuilder, ImportedContact, Mapping[str, str]], bool]


def _read_row(
    row: _Row,
    reader: Reader,
    columns: Mapping[str, str],
    kind: str | None,
    region: str,
    source: str,
    number: int,
    line: int,
    result: ReadResult,
) -> ImportedContact | None:
    b = ContactBuilder(region)
    contact = ImportedContact({}, number, line)
    organisation = reader(row, b, contact, columns)
    if kind is not None:
        b.set_kind(kind, "--kind")
    if organisation:
        b.values.setdefault("kind", ORGANISATION_KIND)
    if "name" not in b.values and b.values.get("emails"):
        b.values["name"] = b.values["emails"][0]
    contact.fields = b.fields()
    for message in b.warnings:
        result.problems.append(ReadProblem(source, number, line, message, "warning", "row"))
    if "name" not in contact.fields:
        result.problems.append(
            ReadProblem(source, number, line, "no name and no email: skipped", what="row")
        )
        return None
    problem = contact_problem(contact.fields)
    if problem is not None:
        result.problems.append(ReadProblem(source, number, line, f"{problem}: skipped", what="row"))
        return None
    result.ignored.update(Counter(row.unused()))
    return contact


def _split(text: str, separator: str = MULTI) -> list[str]:
    return [part.strip() for part in text.split(separator) if part.strip()]


def _organisation(row: _Row, b: ContactBuilder, *columns: str) -> bool:
    """Name a row without a person's name by its organisation; True when it did."""
    if "name" in b.values:
        return False
    return b.set_line("name", row.get(*columns), columns[0])


def _google(
    row: _Row, b: ContactBuilder, contact: ImportedContact, _columns: Mapping[str, str]
) -> bool:
    b.set_line("name", row.get("Name"), "Name")
    parts = [
        row.get("Name Prefix"),
        row.get("First Name", "Given Name"),
        row.get("Middle Name", "Additional Name"),
        row.get("Last Name", "Family Name"),
        row.get("Name Suffix"),
    ]
    b.set_line("name", join_name(parts), "First Name")
    b.set_line(
        "organization", row.get("Organization Name", "Organization 1 - Name"), "Organization Name"
    )
    b.set_line(
        "role", row.get("Organization Title", "Organization 1 - Title"), "Organization Title"
    )
    row.mark("Organization 1 - Type")
    for what, pattern, add in (
        ("E-mail", r"E-mail (\d+) - Value", b.add_email),
        ("Phone", r"Phone (\d+) - Value", b.add_phone),
    ):
        for n, column in row.numbered(pattern):
            row.mark(f"{what} {n} - Label", f"{what} {n} - Type")
            for cell in row.values(column):
                for value in _split(cell):
                    add(value, column)
    for n, column in row.numbered(r"Website (\d+) - Value"):
        label = row.get(f"Website {n} - Label", f"Website {n} - Type")
        profile = label.removeprefix("* ").strip().lower() in _PROFILE_LABELS
        for cell in row.values(column):
            for value in _split(cell):
                b.add_url(value, column, profile=profile, preferred=label.startswith("* "))
    for n, _ in row.numbered(r"Address (\d+) - .+"):
        prefix = f"Address {n} - "
        cells = {
            part: row.get(prefix + name)
            for part, name in zip(ADDRESS_PARTS, _GOOGLE_ADDRESS, strict=True)
        }
        formatted = row.get(prefix + "Formatted")
        row.mark(prefix + "Label", prefix + "Type")
        if not any(cells.values()):
            cells["street"] = formatted
        if any(cells.values()) and not b.set_address(cells, f"Address {n}"):
            row.release(*(prefix + name for name in (*_GOOGLE_ADDRESS, "Formatted")))
    for cell in row.values("Labels") + row.values("Group Membership"):
        for tag in _split(cell):
            if not tag.startswith("* "):  # "* myContacts", "* starred": Google's own
                b.add_word("tags", tag, "Labels")
    for note in row.values("Notes"):
        b.add_note(note)
    b.set_line("location", row.get("Location"), "Location")
    for n, column in row.numbered(r"Custom Field (\d+) - Value"):
        label = row.get(f"Custom Field {n} - Label", f"Custom Field {n} - Type").strip().lower()
        if label in _CUSTOM:
            _CUSTOM[label](b, contact, row.get(column), column)
    return _organisation(row, b, "Organization Name", "Organization 1 - Name")


_GOOGLE_ADDRESS = (
    "PO Box",
    "Extended Address",
    "Street",
    "City",
    "Region",
    "Postal Code",
    "Country",
)


def _custom_industries(b: ContactBuilder, _: ImportedContact, value: str, what: str) -> None:
    for item in _split(value):
        b.add_word("industries", item, what)


# Google's custom fields that to_google_csv writes for what Google has no column for.
_CUSTOM: dict[str, Callable[[ContactBuilder, ImportedContact, str, str], object]] = {
    "kind": lambda b, _, value, what: b.set_kind(value, what),
    "location": lambda b, _, value, what: b.set_line("location", value, what),
    "industries": _custom_industries,
    "connected": lambda b, _, value, what: b.set_connected(value, what),
    "jobshare id": lambda _, c, value, what: setattr(c, "uid", normal_line(value) or None),
    "updated": lambda _, c, value, what: setattr(c, "updated", parse_rev(value)),
    "added by": lambda _, c, value, what: setattr(c, "added_by", valid_handle(value)),
}
_OUTLOOK_PHONES = (
    "Primary Phone",
    "Business Phone",
    "Business Phone 2",
    "Mobile Phone",
    "Company Main Phone",
    "Home Phone",
    "Home Phone 2",
    "Other Phone",
)


# Outlook fills these columns in for every contact; such a value says nothing.
_OUTLOOK_DEFAULTS = {
    "birthday": "0/0/00",
    "anniversary": "0/0/00",
    "gender": "unspecified",
    "sensitivity": "normal",
    "priority": "normal",
    "private": "false",
}


def _outlook(
    row: _Row, b: ContactBuilder, contact: ImportedContact, _columns: Mapping[str, str]
) -> bool:
    for column, default in _OUTLOOK_DEFAULTS.items():
        if row.get(column).lower() not in ("", default):
            row.release(column)
    parts = [row.get(c) for c in ("Title", "First Name", "Middle Name", "Last Name", "Suffix")]
    b.set_line("name", join_name(parts) or row.get("Name", "Display Name"), "First Name")
    b.set_line("organization", row.get("Company"), "Company")
    b.set_line("role", row.get("Job Title"), "Job Title")
    for column in ("E-mail Address", "E-mail 2 Address", "E-mail 3 Address"):
        for value in row.values(column):
            b.add_email(value, column)
    for n in ("", " 2", " 3"):
        row.mark(f"E-mail{n} Type", f"E-mail{n} Display Name")
    for column in _OUTLOOK_PHONES:
        for value in row.values(column):
            b.add_phone(value, column)
    for value in row.values("Web Page"):
        b.add_url(value, "Web Page", preferred=True)
    for value in row.values("Personal Web Page"):
        b.add_url(value, "Personal Web Page")
    for place in ("Business", "Home", "Other"):
        streets = [*row.values(f"{place} Street"), *row.values(f"{place} Street 2")]
        streets += row.values(f"{place} Street 3")
        names = ("Address PO Box", "City", "State", "Postal Code", "Country", "Country/Region")
        got = {name: row.get(f"{place} {name}") for name in names}
        cells = {
            "post_office_box": got["Address PO Box"],
            "street": ", ".join(streets),
            "locality": got["City"],
            "region": got["State"],
            "postal_code": got["Postal Code"],
            "country": got["Country"] or got["Country/Region"],
        }
        row.mark(f"{place} Address")  # Outlook's formatted copy of the same parts
        if any(cells.values()) and not b.set_address(cells, f"{place} address"):
            row.release(*(f"{place} {name}" for name in (*names, "Street", "Street 2", "Street 3")))
    for cell in row.values("Categories"):
        for tag in re.split(r"[;,]", cell):
            b.add_word("tags", tag, "Categories")
    for note in row.values("Notes"):
        b.add_note(note)
    b.set_line("location", row.get("Location"), "Location")
    return _organisation(row, b, "Company")


def _linkedin(
    row: _Row, b: ContactBuilder, contact: ImportedContact, _columns: Mapping[str, str]
) -> bool:
    b.set_line("name", join_name([row.get("First Name"), row.get("Last Name")]), "First Name")
    for value in row.values("URL"):
        b.add_url(value, "URL", profile=True)
    for value in row.values("Email Address"):
        b.add_email(value, "Email Address")
    b.set_line("organization", row.get("Company"), "Company")
    b.set_line("role", row.get("Position"), "Position")
    b.set_connected(row.get("Connected On"), "Connected On")
    return False


def _mapped_columns(header: list[str], mapping: Mapping[str, str]) -> dict[str, str]:
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


def _generic(
    row: _Row, b: ContactBuilder, contact: ImportedContact, columns: Mapping[str, str]
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
    return bool(organisations) and _organisation(row, b, *organisations)


_READERS: dict[str, Reader] = {
    "google-csv": _google,
    "outlook-csv": _outlook,
    "linkedin-csv": _linkedin,
    "csv": _generic,
}


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
