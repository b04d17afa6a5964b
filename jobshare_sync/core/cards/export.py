"""Contacts to vCard 4.0 (RFC 6350) or 3.0 (RFC 2426), and to Google's CSV.

Values are escaped here, as RFC 6350 section 3.4 says (backslash, comma, semicolon,
newline as `\\n`), and handed to vobject as encoded content lines, which it folds at
75 octets and writes with CRLF, VERSION first. Its own text behaviour is vCard 3.0's
and is not used. Everything a contact holds goes out, so that reading the file back
gives the same contact (tests/test_cards.py): fields vCard has no property for travel
as X-JOBSHARE- properties (RFC 6350 section 6.10), which other programs keep and
ignore; in the CSV, as Google's custom fields.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from typing import Any

from vobject.base import Component, ContentLine
from vobject.vcard import VCard3_0

from ..values import parse_instant
from .model import ADDRESS_PARTS, ORGANISATION_KINDS
from .rows import MULTI

VERSIONS = ("4.0", "3.0")
PRODID = "-//jobshare-sync//jobshare//EN"


def escape(text: str) -> str:
    """A text value escaped for vCard (RFC 6350 section 3.4): `\\`, `,`, `;`, newlines."""
    return (
        text.replace("\\", "\\\\")
        .replace(",", "\\,")
        .replace(";", "\\;")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
    )


def _line(name: str, value: str, **params: str) -> ContentLine:
    """An encoded content line: vobject writes it as it is (no escaping of its own)."""
    return ContentLine(name, [[k, v] for k, v in params.items()], value, encoded=True)


def is_organisation(record: Mapping[str, Any]) -> bool:
    """Whether a contact's kind names an organisation (a vCard KIND:org)."""
    return record.get("kind") in ORGANISATION_KINDS


def split_name(name: str) -> tuple[str, str]:
    """(given, family) such that `join_name` gives `name` back: the last word is the family
    name; a name that would not come back exactly is all given name."""
    head, _, tail = name.rpartition(" ")
    if head and tail and head == head.strip() and tail == tail.strip() and "  " not in name:
        return head, tail
    return name, ""


def _rev(updated: str, version: str) -> str | None:
    instant = parse_instant(updated)
    if instant is None:
        return None
    return instant.strftime("%Y%m%dT%H%M%SZ" if version == "4.0" else "%Y-%m-%dT%H:%M:%SZ")


def to_vcard(record: Mapping[str, Any], version: str = "4.0") -> str:
    """One contact record as one vCard, CRLF line ends, lines folded at 75 octets.

    `version` is "4.0" (RFC 6350) or "3.0" (RFC 2426); ValueError otherwise. UID is the
    record id, REV `updated` (whole seconds, UTC), KIND:org (3.0: X-ABShowAs:COMPANY)
    for organisations, CATEGORIES the tags; the website is the URL with PREF=1 (3.0:
    TYPE=pref), links are URLs with TYPE=x-profile; kind, location, industries,
    connected and added_by are X-JOBSHARE- properties.
    """
    if version not in VERSIONS:
        raise ValueError(f"vCard version {version!r}: use 4.0 or 3.0")
    card = Component("VCARD")
    lines = [_line("VERSION", version), _line("PRODID", PRODID)]
    if "id" in record:
        lines.append(
            _line("UID", escape(record["id"]), **({"VALUE": "text"} if version == "4.0" else {}))
        )
    name = str(record.get("name", ""))
    lines.append(_line("FN", escape(name)))
    organisation = is_organisation(record)
    if organisation:
        lines.append(_line("KIND", "org") if version == "4.0" else _line("X-ABSHOWAS", "COMPANY"))
        if version == "3.0":
            lines.append(_line("N", ";;;;"))  # required in 3.0; empty for an organisation
    else:
        given, family = split_name(name)
        lines.append(_line("N", f"{escape(family)};{escape(given)};;;"))
    if "organization" in record:
        lines.append(_line("ORG", escape(record["organization"])))
    if "role" in record:
        lines.append(_line("TITLE", escape(record["role"])))
    for email in record.get("emails", []):
        lines.append(_line("EMAIL", escape(email), TYPE="work"))
    for phone in record.get("phones", []):
        lines.append(_line("TEL", escape(phone), TYPE="work"))
    if "website" in record:
        pref = {"PREF": "1"} if version == "4.0" else {"TYPE": "pref"}
        lines.append(_line("URL", escape(record["website"]), **pref))
    for link in record.get("links", []):
        lines.append(_line("URL", escape(link), TYPE="x-profile"))
    if "address" in record:
        parts = ";".join(escape(record["address"].get(part, "")) for part in ADDRESS_PARTS)
        lines.append(_line("ADR", parts, TYPE="work"))
    if "notes" in record:
        lines.append(_line("NOTE", escape(record["notes"])))
    if record.get("tags"):
        lines.append(_line("CATEGORIES", ",".join(escape(t) for t in record["tags"])))
    if "updated" in record and (rev := _rev(record["updated"], version)) is not None:
        lines.append(_line("REV", rev))
    if "kind" in record:
        lines.append(_line("X-JOBSHARE-KIND", escape(record["kind"])))
    if "location" in record:
        lines.append(_line("X-JOBSHARE-LOCATION", escape(record["location"])))
    if record.get("industries"):
        lines.append(
            _line("X-JOBSHARE-INDUSTRIES", ",".join(escape(i) for i in record["industries"]))
        )
    if "connected" in record:
        lines.append(_line("X-JOBSHARE-CONNECTED", escape(record["connected"])))
    if "added_by" in record:
        lines.append(_line("X-JOBSHARE-ADDED-BY", escape(record["added_by"])))
    if record.get("private") is True:  # `export --private`: see ImportedContact.private
        lines.append(_line("X-JOBSHARE-PRIVATE", "TRUE"))
    for line in lines:
        card.add(line)
    card.behavior = VCard3_0  # only for its property order: VERSION first (RFC 6350 6.7.9)
    return str(card.serialize(validate=False))


def to_vcards(records: Iterable[Mapping[str, Any]], version: str = "4.0") -> str:
    """Many contacts as one vCard file (the cards one after the other)."""
    return "".join(to_vcard(record, version) for record in records)


# --- Google's CSV ---------------------------------------------------------------------

_CUSTOM_FIELDS = (
    ("Kind", "kind"),
    ("Location", "location"),
    ("Industries", "industries"),
    ("Connected", "connected"),
    ("jobshare id", "id"),
    ("Updated", "updated"),
    ("Added by", "added_by"),
    ("Private", "private"),
)
_ADDRESS_COLUMNS = (
    ("Street", "street"),
    ("City", "locality"),
    ("PO Box", "post_office_box"),
    ("Region", "region"),
    ("Postal Code", "postal_code"),
    ("Country", "country"),
    ("Extended Address", "extended"),
)


def google_header(emails: int, phones: int, websites: int) -> list[str]:
    """Google Contacts' current CSV header, with room for that many of each."""
    header = [
        "First Name",
        "Middle Name",
        "Last Name",
        "Organization Name",
        "Organization Title",
        "Notes",
        "Labels",
    ]
    for what, count in (("E-mail", emails), ("Phone", phones)):
        for n in range(1, count + 1):
            header += [f"{what} {n} - Label", f"{what} {n} - Value"]
    header += ["Address 1 - Label"] + [f"Address 1 - {name}" for name, _ in _ADDRESS_COLUMNS]
    for n in range(1, websites + 1):
        header += [f"Website {n} - Label", f"Website {n} - Value"]
    for n in range(1, len(_CUSTOM_FIELDS) + 1):
        header += [f"Custom Field {n} - Label", f"Custom Field {n} - Value"]
    return header


def _google_row(record: Mapping[str, Any]) -> dict[str, str]:
    given, family = split_name(str(record.get("name", "")))
    row = {
        "First Name": given,
        "Last Name": family,
        "Organization Name": record.get("organization", ""),
        "Organization Title": record.get("role", ""),
        "Notes": record.get("notes", ""),
        "Labels": MULTI.join(["* myContacts", *record.get("tags", [])]),
    }
    for what, values in (("E-mail", record.get("emails", [])), ("Phone", record.get("phones", []))):
        for n, value in enumerate(values, 1):
            row[f"{what} {n} - Label"] = "* Work" if n == 1 else "Work"
            row[f"{what} {n} - Value"] = value
    if "address" in record:
        row["Address 1 - Label"] = "Work"
        for name, part in _ADDRESS_COLUMNS:
            row[f"Address 1 - {name}"] = record["address"].get(part, "")
    sites = [("* Work", record["website"])] if "website" in record else []
    sites += [("Profile", link) for link in record.get("links", [])]
    for n, (label, url) in enumerate(sites, 1):
        row[f"Website {n} - Label"], row[f"Website {n} - Value"] = label, url
    for n, (label, key) in enumerate(_CUSTOM_FIELDS, 1):
        value = record.get(key)
        if value:
            row[f"Custom Field {n} - Label"] = label
            row[f"Custom Field {n} - Value"] = (
                MULTI.join(value) if isinstance(value, list) else str(value)
            )
    return row


def to_google_csv(records: Iterable[Mapping[str, Any]]) -> str:
    """Contacts as Google Contacts' CSV (its current header), which Google Contacts and
    Outlook import as it is. Fields Google has no column for are custom fields
    ("Kind", "Location", "Industries", "Connected", "jobshare id", "Updated", "Added by").
    Text with CRLF row ends; the caller writes it as UTF-8."""
    rows = [_google_row(record) for record in records]
    items = [list(r) for r in rows]

    def most(prefix: str) -> int:
        return max([1] + [sum(k.startswith(prefix) for k in keys) // 2 for keys in items])

    header = google_header(most("E-mail "), most("Phone "), most("Website "))
    out = io.StringIO(newline="")
    writer = csv.DictWriter(out, header, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()
