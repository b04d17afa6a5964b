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
from ..values import DEFAULT_REGION, clean_line
from .generic import mapped_columns, read_generic
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
from .rows import Row, name_by_organisation, split_cell
from .text import decode_text
from .vcard import parse_rev

DELIMITERS = (",", ";", "\t", "|")
_PROFILE_LABELS = {"profile", "linkedin", "xing", "github", "gitlab", "twitter", "mastodon"}


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
            header = [clean_line(c) for c in cells]
            break
    reader = _READERS[found]
    columns = mapped_columns(header, mapping or {}) if found == "csv" else {}
    number = 0
    try:
        for line, cells in rows:
            if not any(c.strip() for c in cells):
                continue
            number += 1
            row = Row(header, cells)
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


Reader = Callable[[Row, ContactBuilder, ImportedContact, Mapping[str, str]], bool]


def _read_row(
    row: Row,
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


def _google(
    row: Row, b: ContactBuilder, contact: ImportedContact, _columns: Mapping[str, str]
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
                for value in split_cell(cell):
                    add(value, column)
    for n, column in row.numbered(r"Website (\d+) - Value"):
        label = row.get(f"Website {n} - Label", f"Website {n} - Type")
        profile = label.removeprefix("* ").strip().lower() in _PROFILE_LABELS
        for cell in row.values(column):
            for value in split_cell(cell):
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
        for tag in split_cell(cell):
            if not tag.startswith("* "):  # "* myContacts", "* starred": Google's own
                b.add_word("tags", tag, "Labels")
    for note in row.values("Notes"):
        b.add_note(note)
    b.set_line("location", row.get("Location"), "Location")
    for n, column in row.numbered(r"Custom Field (\d+) - Value"):
        label = row.get(f"Custom Field {n} - Label", f"Custom Field {n} - Type").strip().lower()
        if label in _CUSTOM:
            _CUSTOM[label](b, contact, row.get(column), column)
    return name_by_organisation(row, b, "Organization Name", "Organization 1 - Name")


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
    for item in split_cell(value):
        b.add_word("industries", item, what)


# Google's custom fields that to_google_csv writes for what Google has no column for.
_CUSTOM: dict[str, Callable[[ContactBuilder, ImportedContact, str, str], object]] = {
    "kind": lambda b, _, value, what: b.set_kind(value, what),
    "location": lambda b, _, value, what: b.set_line("location", value, what),
    "industries": _custom_industries,
    "connected": lambda b, _, value, what: b.set_connected(value, what),
    "jobshare id": lambda _, c, value, what: setattr(c, "uid", clean_line(value) or None),
    "updated": lambda _, c, value, what: setattr(c, "updated", parse_rev(value)),
    "added by": lambda _, c, value, what: setattr(c, "added_by", valid_handle(value)),
    "private": lambda _, c, value, what: setattr(c, "private", value.strip().lower() == "true"),
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
    row: Row, b: ContactBuilder, contact: ImportedContact, _columns: Mapping[str, str]
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
    return name_by_organisation(row, b, "Company")


def _linkedin(
    row: Row, b: ContactBuilder, contact: ImportedContact, _columns: Mapping[str, str]
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


_READERS: dict[str, Reader] = {
    "google-csv": _google,
    "outlook-csv": _outlook,
    "linkedin-csv": _linkedin,
    "csv": read_generic,
}
