"""What reading a contacts file gives: contacts as record fields, problems, ignored counts.

`ContactBuilder` is where every card and row becomes record fields: it puts each
value in normal form (core/values.py), checks it against the contact schema's
patterns and limits, merges repeats (emails by `email_key`, phones by
`phone_compare_key`, tags by `word_key`, links by `link_key`), and words a warning
for each value it has to leave out. Both the vCard and the CSV readers use it, so a
value means the same whichever file it came from.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from .. import schema
from ..records import ID_RE, Loaded
from ..values import (
    DEFAULT_REGION,
    clean_line,
    clean_text,
    email_key,
    link_key,
    phone_compare_key,
    phone_key,
    website_host,
    word_key,
)

FORMATS = ("vcard", "google-csv", "outlook-csv", "linkedin-csv", "csv")
KINDS = ("recruiter", "client", "agency", "service-business", "freelancer", "other")
ORGANISATION_KINDS = ("client", "agency", "service-business")
ORGANISATION_KIND = "client"  # the kind of a card that says it is an organisation (KIND:org)
ADDRESS_PARTS = (
    "post_office_box",
    "extended",
    "street",
    "locality",
    "region",
    "postal_code",
    "country",
)  # the seven components of a vCard ADR, in its order (RFC 6350 section 6.3.1)
HANDLE_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,38}\Z")
# Hosts whose pages are someone's profile: a link, never the website.
PROFILE_HOSTS = (
    "linkedin.com",
    "xing.com",
    "github.com",
    "gitlab.com",
    "twitter.com",
    "x.com",
    "mastodon.social",
    "facebook.com",
    "instagram.com",
    "stackoverflow.com",
    "behance.net",
    "dribbble.com",
    "malt.com",
    "malt.fr",
    "upwork.com",
    "freelancermap.de",
)


@dataclass(frozen=True)
class ReadProblem:
    """A card or row that was skipped ("error") or a value left out of it ("warning").

    `number` is the card's or row's place in the file (1-based), `line` the file's line
    where it starts (1-based; None when unknown), `what` "card" or "row".
    """

    source: str
    number: int | None
    line: int | None
    message: str
    severity: str = "error"
    what: str = "card"

    def __str__(self) -> str:
        where = f"{self.source}:{self.line}" if self.line else self.source
        item = f" {self.what} {self.number}:" if self.number else ""
        tag = " warning:" if self.severity == "warning" else ""
        return f"{where}:{item}{tag} {self.message}"

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "number": self.number,
            "line": self.line,
            "message": self.message,
            "severity": self.severity,
            "what": self.what,
        }


@dataclass
class ImportedContact:
    """One card or row as contact record fields, before it is matched or written.

    `fields` holds record fields in the schema's order: `name` always, `kind` only when
    the card or the caller stated one (the importer's default for a new contact is
    `other`), the rest when the file had them. No `id`, `added_by`, `updated` or
    `format`: those are `uid`, `added_by` and `updated` here, since a file's word on them
    is for the importer to weigh (a UID is a record id only if it is one, see
    `record_id`).
    """

    fields: dict[str, Any]
    number: int
    line: int | None
    uid: str | None = None
    updated: str | None = None  # REV, as jobshare writes date-times (UTC, Z)
    added_by: str | None = None
    private: bool = False  # written by `jobshare export --private`: never imported as shared

    @property
    def record_id(self) -> str | None:
        """The UID when it is a valid record id (as `export` writes it), else None."""
        return self.uid if self.uid is not None and ID_RE.match(self.uid) else None

    def to_json(self) -> dict[str, Any]:
        return {
            "fields": self.fields,
            "number": self.number,
            "line": self.line,
            "uid": self.uid,
            "updated": self.updated,
            "added_by": self.added_by,
        }


@dataclass
class ReadResult:
    """Everything read from one file: the contacts, what was skipped, what was ignored.

    `format` is one of FORMATS, `encoding` the text encoding the file was read in
    (`utf-8`, `utf-8-sig`, `utf-16`, `cp1252`, ...). `ignored` counts, per vCard
    property or CSV column name, the values that have no place in a contact.
    """

    source: str
    format: str
    encoding: str
    contacts: list[ImportedContact] = field(default_factory=list)
    problems: list[ReadProblem] = field(default_factory=list)
    ignored: Counter[str] = field(default_factory=Counter)

    @property
    def errors(self) -> list[ReadProblem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[ReadProblem]:
        return [p for p in self.problems if p.severity == "warning"]

    def ignored_summary(self) -> str:
        """`ignored: 40 PHOTO, 12 BDAY` (most first, then by name), or "" when nothing was."""
        if not self.ignored:
            return ""
        ranked = sorted(self.ignored.items(), key=lambda item: (-item[1], item[0]))
        return "ignored: " + ", ".join(f"{n} {name}" for name, n in ranked)

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "format": self.format,
            "encoding": self.encoding,
            "contacts": [c.to_json() for c in self.contacts],
            "problems": [p.to_json() for p in self.problems],
            "ignored": dict(sorted(self.ignored.items())),
        }


# --- building one contact ---------------------------------------------------------------

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+\Z")
PHONE_RE = re.compile(r"^\+?[0-9][0-9 ()./-]{3,30}\Z")
URL_RE = re.compile(r"^https?://[^\s]+\Z")
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}\Z")


@cache
def _limits() -> dict[str, int]:
    """maxLength of each string field and of each address part, from the contact schema."""
    props = schema.load_schema("contact")["properties"]
    found = {name: spec["maxLength"] for name, spec in props.items() if "maxLength" in spec}
    for name in ("emails", "phones", "links", "tags", "industries"):
        if "maxLength" in props[name]["items"]:
            found[name] = props[name]["items"]["maxLength"]
    for name, spec in props["address"]["properties"].items():
        found[f"address.{name}"] = spec["maxLength"]
    return found


class ContactBuilder:
    """Collects one card's or row's values as record fields, in normal form.

    Scalars keep the first value given; sets collect values without repeats; notes
    collect paragraphs. Values the schema would refuse are left out with a warning in
    `warnings` (plain messages; the reader adds the file and card).
    """

    def __init__(self, region: str = DEFAULT_REGION) -> None:
        self.region = region
        self.values: dict[str, Any] = {}
        self.warnings: list[str] = []
        self._keys: dict[str, set[str]] = {}
        self._notes: list[str] = []
        self._urls: list[tuple[str, bool, bool]] = []  # address, marked a profile, preferred

    # scalars

    def set_line(self, name: str, value: str | None, what: str) -> bool:
        """Set a single-line field unless it has a value; False when nothing was set."""
        text = clean_line(value or "")
        if not text or name in self.values:
            return False
        limit = _limits().get(name)
        if limit is not None and len(text) > limit:
            self.warnings.append(f"{what} is longer than {limit} characters: cut")
            text = text[:limit].rstrip()
        self.values[name] = text
        return True

    def set_kind(self, value: str | None, what: str) -> None:
        text = clean_line(value or "").lower()
        if not text or "kind" in self.values:
            return
        if text in KINDS:
            self.values["kind"] = text
        else:
            self.warnings.append(f"{what} {value!r} is not a kind ({', '.join(KINDS)}): left out")

    def set_connected(self, value: str | None, what: str) -> None:
        text = clean_line(value or "")
        if not text or "connected" in self.values:
            return
        day = parse_day(text)
        if day is None:
            self.warnings.append(f"{what} {text!r} is not a date: left out")
        else:
            self.values["connected"] = day

    def set_address(self, parts: Mapping[str, str], what: str) -> bool:
        """Set the address from its parts (ADDRESS_PARTS names; a street of several lines
        becomes one, its lines joined by commas) unless it has one; False if not set."""
        if "address" in self.values:
            return False
        address: dict[str, str] = {}
        for name in ADDRESS_PARTS:
            lines = (clean_line(line) for line in (parts.get(name) or "").splitlines())
            text = ", ".join(line for line in lines if line)
            if not text:
                continue
            limit = _limits()[f"address.{name}"]
            if len(text) > limit:
                self.warnings.append(
                    f"{what} {name.replace('_', ' ')} is longer than {limit} characters: cut"
                )
                text = text[:limit].rstrip()
            address[name] = text
        if not address:
            return False
        self.values["address"] = address
        return True

    # sets

    def _add(self, name: str, value: str, key: str | None) -> None:
        seen = self._keys.setdefault(name, set())
        if key is None or key in seen:
            return
        seen.add(key)
        self.values.setdefault(name, []).append(value)

    def add_email(self, value: str, what: str) -> None:
        text = clean_line(value).removeprefix("mailto:").removeprefix("MAILTO:").strip()
        if not text:
            return
        if not EMAIL_RE.match(text) or len(text) > _limits()["emails"]:
            self.warnings.append(f"{what} {text!r} is not an email address: left out")
            return
        self._add("emails", text, email_key(text))

    def add_phone(self, value: str, what: str) -> None:
        text = clean_line(value)
        if text.lower().startswith("tel:"):
            text = text[4:]
        text, _, extension = text.partition(";ext=")
        text = text.strip()
        if not text:
            return
        if not PHONE_RE.match(text):
            text = _phone_in_our_form(text, self.region) or text
        if not PHONE_RE.match(text):
            self.warnings.append(f"{what} {value.strip()!r} is not a phone number: left out")
            return
        if extension:
            self.warnings.append(f"{what} {value.strip()!r}: extension {extension} left out")
        self._add("phones", text, phone_compare_key(text, self.region))

    def add_url(
        self, value: str, what: str, *, profile: bool = False, preferred: bool = False
    ) -> None:
        """A web address: the website (the preferred one, else the first that is no
        profile page), or else a link. Decided in `fields`, once all are in."""
        text = web_address(value)
        if text == "":
            return
        if text is None or not URL_RE.match(text) or len(text) > _limits()["links"]:
            self.warnings.append(f"{what} {value.strip()!r} is not a web address: left out")
            return
        self._urls.append((text, profile, preferred))

    def add_word(self, name: str, value: str, what: str) -> None:
        """A tag or an industry."""
        text = clean_line(value)
        if not text:
            return
        limit = _limits()[name]
        if len(text) > limit:
            self.warnings.append(f"{what} {text!r} is longer than {limit} characters: left out")
            return
        self._add(name, text, word_key(text))

    def add_note(self, value: str) -> None:
        text = clean_text(value)
        if text and text not in self._notes:
            self._notes.append(text)

    # the result

    def fields(self) -> dict[str, Any]:
        """The record fields gathered, in the schema's order (no id, added_by, updated)."""
        values = dict(self.values)
        website = _choose_website(self._urls)
        if website is not None and "website" not in values:
            values["website"] = website
        for url, _, _ in self._urls:
            if url != values.get("website"):
                self._add("links", url, link_key(url) or url)
        if "links" in self.values:
            values["links"] = self.values["links"]
        if self._notes:
            notes = "".join(self._notes)
            limit = _limits()["notes"]
            if len(notes) > limit:
                self.warnings.append(f"notes are longer than {limit} characters: cut")
                notes = clean_text(notes[: limit - 1])  # and its final newline
            values["notes"] = notes
        order = schema.field_order("contact")[0]
        return {name: values[name] for name in order if name in values}


def _choose_website(urls: list[tuple[str, bool, bool]]) -> str | None:
    """The preferred address that is not marked a profile, else the first that is neither
    marked one nor on a profile host."""
    candidates = [(url, preferred) for url, profile, preferred in urls if not profile]
    for url, preferred in candidates:
        if preferred:
            return url
    for url, _ in candidates:
        if not is_profile_host(url):
            return url
    return None


def is_profile_host(url: str) -> bool:
    host = website_host(url) or ""
    return any(host == h or host.endswith("." + h) for h in PROFILE_HOSTS)


def web_address(value: str) -> str | None:
    """A web address with its scheme: `www.acme.example` -> `https://www.acme.example`.
    "" for an empty value, None for one that cannot be a web address."""
    text = clean_line(value).replace("\\:", ":")
    if not text:
        return ""
    if re.match(r"^https?://", text, re.IGNORECASE):
        return text[: text.index(":")].lower() + text[text.index(":") :]
    if re.match(r"^[a-z][a-z0-9+.-]*:", text, re.IGNORECASE) and not re.match(r"^[^:/]+:\d", text):
        return None  # another scheme (mailto:, x-apple:): not a page
    host = website_host(text)
    return f"https://{text}" if host and "." in host and " " not in text else None


def _phone_in_our_form(text: str, region: str) -> str | None:
    """A number the schema's pattern refuses (`+1 (415) 555-0100 ext. 12`, `0800 FLOWERS`),
    in phonenumbers' international form when it can read it."""
    import phonenumbers

    if phone_key(text, region) is None:
        return None
    try:
        number = phonenumbers.parse(text, None if region == DEFAULT_REGION else region)
    except phonenumbers.NumberParseException:  # pragma: no cover - phone_key parsed it
        return None
    number.extension = None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


_MONTHS = {
    m: i
    for i, m in enumerate(
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], 1
    )
}


def parse_day(text: str) -> str | None:
    """A day as YYYY-MM-DD from the forms contact files write it in: `2024-03-05`,
    `20240305`, `05 Mar 2024` (LinkedIn), `Mar 5, 2024`, `5 March 2024`. None otherwise."""
    import datetime as dt

    text = text.strip()
    found: tuple[int, int, int] | None = None
    if m := re.fullmatch(r"(\d{4})-?(\d{2})-?(\d{2})(?:T.*)?", text):
        found = int(m[1]), int(m[2]), int(m[3])
    elif m := re.fullmatch(r"(\d{1,2})[ -]([A-Za-z]{3,9})\.?[ -,]+(\d{4})", text):
        month = _MONTHS.get(m[2][:3].lower())
        found = (int(m[3]), month, int(m[1])) if month else None
    elif m := re.fullmatch(r"([A-Za-z]{3,9})\.? (\d{1,2}),? (\d{4})", text):
        month = _MONTHS.get(m[1][:3].lower())
        found = (int(m[3]), month, int(m[2])) if month else None
    if found is None:
        return None
    try:
        return dt.date(*found).isoformat()
    except ValueError:
        return None


def valid_handle(value: str | None) -> str | None:
    text = clean_line(value or "")
    return text if HANDLE_RE.match(text) else None


def contact_problem(fields: Mapping[str, Any]) -> str | None:
    """Why `fields` (with a placeholder id, owner and time) would not be a valid contact,
    or None. The builder keeps values valid one by one; this is the last word."""
    record: dict[str, Any] = {"id": "x", "kind": "other", "added_by": "x"}
    record["updated"] = "2000-01-01T00:00:00Z"
    record.update(fields)
    if "format" not in record and schema.needed_format("contact", record) > 1:
        record["format"] = schema.needed_format("contact", record)
    found = schema.schema_problems("contact", Loaded(record, {}), "")
    if not found:
        return None
    first = found[0]
    name = first.field.lstrip("/").replace("/", ".")
    return f"{name}: {first.message}" if name else first.message


def join_name(parts: Iterable[str | None]) -> str:
    """Name parts (prefix, given, middle, family, suffix) as one name, single spaces."""
    return " ".join(p for p in (clean_line(x or "") for x in parts) if p)
