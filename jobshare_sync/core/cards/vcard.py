"""Contacts from vCard files (2.1, 3.0 and RFC 6350's 4.0), parsed with vobject.

vobject parses each property (name, group, parameters, value, quoted-printable and
CHARSET decoding). What it cannot read as phones write it is prepared here first:
lines are unfolded, and vCard 2.1's quoted-printable soft line breaks (a value ending
in `=` goes on on the next line) joined. Values are unescaped here, per version, and
not by vobject's vCard 3.0 behaviours, which cut a 2.1 NOTE at its first comma and
take only the first of several CATEGORIES. Each card is read on its own: a bad card
or line is reported with its line and the others are read.
"""

from __future__ import annotations

import binascii
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

from vobject.base import ContentLine, VObjectError, textLineToContentLine
from vobject.icalendar import stringToTextValues

from ..values import DEFAULT_REGION, clean_line, format_instant
from .model import (
    ADDRESS_PARTS,
    KINDS,
    ORGANISATION_KIND,
    ContactBuilder,
    ImportedContact,
    ReadProblem,
    ReadResult,
    contact_problem,
    join_name,
    valid_handle,
)
from .text import decode_lines

X_PREFIX = "X-JOBSHARE-"
# Properties that say nothing about the contact: never counted as ignored.
_META = {"VERSION", "PRODID", "X-ABLABEL", "CLIENTPIDMAP", "X-ABSHOWAS"}
_ESCAPABLE = '\\;,Nn":'  # vobject's, and `\:` that Google writes in URLs
_QP = re.compile(r"QUOTED-PRINTABLE", re.IGNORECASE)
_PROFILE_TYPES = {"x-profile", "profile", "social", "x-social", "linkedin", "xing", "github"}
_PROFILE_LABELS = {"profile", "linkedin", "xing", "github", "gitlab", "twitter", "mastodon"}


@dataclass
class _Line:
    text: str
    number: int  # the file line it starts on


def read_vcards(
    data: bytes, source: str, *, kind: str | None = None, region: str = DEFAULT_REGION
) -> ReadResult:
    """Every card of a vCard file as an `ImportedContact`; see `cards.read_contacts`."""
    lines, encoding = decode_lines(data)
    result = ReadResult(source, "vcard", encoding)
    for number, (start, card, closed) in enumerate(_cards(_logical_lines(lines)), 1):
        if not closed:
            result.problems.append(
                ReadProblem(source, number, start, "BEGIN:VCARD without END:VCARD: skipped")
            )
            continue
        reader = _CardReader(source, number, start, region, result)
        contact = reader.read(card, kind)
        if contact is not None:
            result.contacts.append(contact)
    return result


def _logical_lines(lines: list[str]) -> Iterator[_Line]:
    """Unfold (RFC 6350 section 3.2) and join quoted-printable soft line breaks."""
    current: _Line | None = None
    soft_break = False
    for number, text in enumerate(lines, 1):
        if number == 1:
            text = text.removeprefix("\ufeff")
        if current is not None and soft_break:
            current.text = current.text[:-1] + text  # quoted-printable: the next line as it is
        elif current is not None and text[:1] in (" ", "\t"):
            current.text += text[1:]
        else:
            if current is not None:
                yield current
            current = _Line(text, number) if text.strip() else None
        soft_break = (
            current is not None
            and current.text.endswith("=")
            and bool(_QP.search(current.text.split(":", 1)[0]))
        )
    if current is not None:
        yield current


def _cards(lines: Iterator[_Line]) -> Iterator[tuple[int, list[_Line], bool]]:
    """(first line, lines between BEGIN and END, closed) for each top-level card.

    A BEGIN:VCARD inside a card right after an empty AGENT property is vCard 2.1's
    card inside a card and stays one of its lines; any other means that the card
    before never ended.
    """
    card: list[_Line] | None = None
    start = 0
    depth = 0
    for line in lines:
        word = line.text.strip().upper()
        if word == "BEGIN:VCARD":
            if card is not None and depth == 1 and not _opens_agent(card):
                yield start, card, False
                card = None
            if card is None:
                card, start, depth = [], line.number, 1
                continue
            depth += 1
        elif word == "END:VCARD" and card is not None:
            depth -= 1
            if depth == 0:
                yield start, card, True
                card = None
                continue
        if card is not None:
            card.append(line)
    if card is not None:
        yield start, card, False


def _opens_agent(card: list[_Line]) -> bool:
    """Whether the card's last line is an AGENT property whose value is the card to come."""
    if not card:
        return False
    name, _, value = card[-1].text.partition(":")
    return name.split(";")[0].split(".")[-1].strip().upper() == "AGENT" and not value.strip()


class _CardReader:
    """One card's properties into a ContactBuilder."""

    def __init__(
        self, source: str, number: int, start: int, region: str, result: ReadResult
    ) -> None:
        self.source = source
        self.number = number
        self.start = start
        self.result = result
        self.builder = ContactBuilder(region)
        self.ignored: Counter[str] = Counter()
        self.version = "3.0"
        self.organisation = False  # KIND:org, or Apple's X-ABShowAs:COMPANY
        self.names: list[ContentLine] = []  # FN
        self.structured: list[ContentLine] = []  # N
        self.addresses: list[ContentLine] = []  # ADR

    def warn(self, message: str, line: int | None = None) -> None:
        self.result.problems.append(
            ReadProblem(self.source, self.number, line or self.start, message, "warning")
        )

    def _parse(self, card: list[_Line]) -> list[ContentLine]:
        parsed: list[ContentLine] = []
        depth = 0
        for line in card:
            word = line.text.strip().upper()
            if depth or word == "BEGIN:VCARD":  # a card inside: its lines are one AGENT
                depth += {"BEGIN:VCARD": 1, "END:VCARD": -1}.get(word, 0)
                if word == "BEGIN:VCARD" and depth == 1:
                    self.ignored["AGENT"] += 1
                continue
            try:
                content = textLineToContentLine(line.text, line.number)
            except VObjectError:
                shown = clean_line(line.text)[:40]
                self.warn(
                    f"line {line.number} is not a vCard property ({shown!r}): left out", line.number
                )
                continue
            except (LookupError, UnicodeError, ValueError, binascii.Error) as e:
                name = line.text.split(":", 1)[0].split(";", 1)[0]
                self.warn(f"{name} could not be decoded ({e}): left out", line.number)
                continue
            if content.name == "VERSION":
                self.version = content.value.strip()
            parsed.append(content)
        return parsed

    def read(self, card: list[_Line], kind: str | None) -> ImportedContact | None:
        properties = self._parse(card)
        labels = {
            p.group.lower(): _label(p.value)
            for p in properties
            if p.group and p.name == "X-ABLABEL"
        }
        b = self.builder
        contact = ImportedContact({}, self.number, self.start)
        for p in properties:
            before = len(b.warnings)
            self._property(p, labels, contact)
            for message in b.warnings[before:]:  # worded by the builder; the line is ours
                self.warn(message, p.lineNumber)
            del b.warnings[before:]
        self._address()
        self._name()
        if self.organisation and "name" not in b.values:
            b.set_line("name", b.values.get("organization"), "ORG")
        if kind is not None:
            b.set_kind(kind, "--kind")
        if self.organisation:
            b.values.setdefault("kind", ORGANISATION_KIND)
        return self._finish(contact)

    def _property(self, p: ContentLine, labels: dict[str, str], contact: ImportedContact) -> None:
        """Take one property into the builder, or count it as ignored."""
        b = self.builder
        name, value = p.name, p.value if isinstance(p.value, str) else ""
        if name in _META:
            if name == "X-ABSHOWAS" and value.strip().upper() == "COMPANY":
                self.organisation = True
        elif name == "FN":
            self.names.append(p)
        elif name == "N":
            self.structured.append(p)
        elif name == "KIND":
            if self._text(value).strip().lower() in ("org", "organization"):
                self.organisation = True
        elif name == "ORG":
            parts = self._components(value, ", ")
            if not b.set_line("organization", parts[0] if parts else "", name):
                self.ignored[name] += 1
        elif name in ("TITLE", "ROLE"):
            if not b.set_line("role", self._text(value), name):
                self.ignored[name] += 1
        elif name == "EMAIL":
            b.add_email(self._text(value), name)
        elif name == "TEL":
            b.add_phone(self._text(value), name)
        elif name in ("URL", "SOCIALPROFILE", "X-SOCIALPROFILE"):
            label = labels.get((p.group or "").lower(), "")
            marked = bool(_types(p) & _PROFILE_TYPES) or label in _PROFILE_LABELS
            b.add_url(
                self._text(value), name, profile=name != "URL" or marked, preferred=_preferred(p)
            )
        elif name == "ADR":
            self.addresses.append(p)
        elif name == "NOTE":
            b.add_note(self._text(value))
        elif name == "CATEGORIES":
            for tag in self._list(value):
                b.add_word("tags", tag, name)
        elif name == "UID":
            contact.uid = clean_line(self._text(value)) or None
        elif name == "REV":
            contact.updated = parse_rev(value)
            if contact.updated is None:
                b.warnings.append(f"REV {value.strip()!r} is not a date-time: left out")
        elif not (
            name.startswith(X_PREFIX) and self._jobshare(name[len(X_PREFIX) :], value, contact)
        ):
            self.ignored[name] += 1

    def _finish(self, contact: ImportedContact) -> ImportedContact | None:
        b = self.builder
        if "name" not in b.values and b.values.get("emails"):
            b.values["name"] = b.values["emails"][0]
        for message in b.warnings:
            self.warn(message)
        contact.fields = b.fields()
        if "name" not in contact.fields:
            self.result.problems.append(
                ReadProblem(self.source, self.number, self.start, "no name and no email: skipped")
            )
            return None
        problem = contact_problem(contact.fields)
        if problem is not None:
            self.result.problems.append(
                ReadProblem(self.source, self.number, self.start, f"{problem}: skipped")
            )
            return None
        self.result.ignored.update(self.ignored)
        return contact

    def _jobshare(self, name: str, value: str, contact: ImportedContact) -> bool:
        """An X-JOBSHARE- property, as `to_vcard` writes them; False if unknown."""
        b = self.builder
        text = self._text(value)
        if name == "KIND":
            b.set_kind(text, "X-JOBSHARE-KIND")
        elif name == "LOCATION":
            b.set_line("location", text, "X-JOBSHARE-LOCATION")
        elif name == "INDUSTRIES":
            for item in self._list(value):
                b.add_word("industries", item, "X-JOBSHARE-INDUSTRIES")
        elif name == "CONNECTED":
            b.set_connected(text, "X-JOBSHARE-CONNECTED")
        elif name == "ADDED-BY":
            contact.added_by = valid_handle(text)
        elif name == "PRIVATE":
            contact.private = text.strip().upper() == "TRUE"
        else:
            return False
        return True

    def _name(self) -> None:
        b = self.builder
        for p in self.names:
            text = self._text(p.value)
            if not b.set_line("name", text, "FN") and clean_line(text):
                self.ignored["FN"] += 1  # a second name
        if self.structured and "name" not in b.values:
            parts = self._components(self.structured[0].value, " ")
            family, given, additional, prefix, suffix = (parts + [""] * 5)[:5]
            b.set_line("name", join_name([prefix, given, additional, family, suffix]), "N")

    def _address(self) -> None:
        addresses = self.addresses
        if not addresses:
            return
        chosen = next((a for a in addresses if _preferred(a)), None)
        chosen = chosen or next((a for a in addresses if "work" in _types(a)), addresses[0])
        parts = self._components(chosen.value, ", ")
        self.builder.set_address(dict(zip(ADDRESS_PARTS, parts, strict=False)), "ADR")
        if len(addresses) > 1:
            self.ignored["ADR"] += len(addresses) - 1

    # values, unescaped by version (RFC 6350 section 3.4; vCard 2.1 escapes only `;`)

    def _text(self, value: str) -> str:
        if self.version == "2.1":
            return str(stringToTextValues(value, listSeparator=None, charList=";")[0])
        return str(stringToTextValues(value, listSeparator=None, charList=_ESCAPABLE)[0])

    def _list(self, value: str) -> list[str]:
        chars = ";" if self.version == "2.1" else _ESCAPABLE
        return [str(v) for v in stringToTextValues(value, listSeparator=",", charList=chars)]

    def _components(self, value: str, joiner: str) -> list[str]:
        """A structured value's fields (N, ADR, ORG), each field's list joined."""
        fields = stringToTextValues(value, listSeparator=";", charList=";")
        return [joiner.join(v for v in self._list(str(f)) if v.strip()) for f in fields]


def _types(p: ContentLine) -> set[str]:
    """TYPE parameter values and vCard 2.1's bare ones (`TEL;CELL;PREF`), lower case."""
    found = {t.lower() for value in p.params.get("TYPE", []) for t in value.split(",")}
    return found | {t.lower() for t in p.singletonparams}


def _preferred(p: ContentLine) -> bool:
    return "pref" in _types(p) or any(v.strip() == "1" for v in p.params.get("PREF", []))


def _label(value: object) -> str:
    """An Apple X-ABLabel (`_$!<HomePage>!$_`, `LinkedIn`) in lower case."""
    text = str(value).strip()
    if text.startswith("_$!<") and text.endswith(">!$_"):
        text = text[4:-4]
    return text.lower()


_REV = re.compile(
    r"^(\d{4})-?(\d{2})-?(\d{2})(?:T(\d{2}):?(\d{2}):?(\d{2})(?:[.,]\d+)?(Z|[+-]\d{2}:?\d{2})?)?$"
)


def parse_rev(text: str) -> str | None:
    """A REV (`19951031T222710Z`, `1995-10-31T22:27:10Z`, a date) as jobshare writes
    date-times, UTC with Z; a time without an offset is read as UTC. None otherwise."""
    import datetime as dt

    m = _REV.match(text.strip())
    if m is None:
        return None
    year, month, day, hour, minute, second, offset = m.groups()
    zone = dt.UTC
    if offset and offset != "Z":
        sign = -1 if offset[0] == "-" else 1
        digits = offset[1:].replace(":", "")
        zone = dt.timezone(sign * dt.timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))
    try:
        value = dt.datetime(
            int(year),
            int(month),
            int(day),
            int(hour or 0),
            int(minute or 0),
            int(second or 0),
            tzinfo=zone,
        )
    except ValueError:
        return None
    return format_instant(value)


__all__ = ["KINDS", "parse_rev", "read_vcards"]
