"""Which contact an imported card is, and what it changes there: pure, no files, no git.

Matching (DESIGN section 7b), first rule that finds a contact wins:

1. the card's UID, when it is a record id (as `export` writes it) of a contact;
2. one of its emails (compared whole, without case: `values.email_key`);
3. one of its phone numbers, compared as numbers with the owner's default region
   (`values.phone_compare_key`);
4. its website's host (`values.website_host`), when the card and the contact are both
   organisations or have the same name: two recruiters of one agency share a host
   but are two people;
5. one of its profile links (`values.link_key`), which is how most rows of LinkedIn's
   Connections.csv, which have no email, find their contact;
6. for a card with none of these (a name and perhaps a role), the same name (compared
   folded: case and accents aside), so that importing it twice makes one contact.

A matched card updates its contact through the contacts' `x-merge` rules
(`core.merge.merge_record`), so that importing follows the same rules as a pull: new
emails, phones, tags and links join their sets, a field the contact lacks is filled
in, notes the contact does not have yet are appended, and a scalar the two disagree
on keeps the contact's value and is reported. Importing the same card twice changes
nothing the second time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..core import merge, policy, records, schema
from ..core.cards.model import ORGANISATION_KINDS
from ..core.fieldmerge import AncestorOursTheirs, FieldConflict
from ..core.values import (
    DEFAULT_REGION,
    email_key,
    fold,
    link_key,
    phone_compare_key,
    website_host,
    word_key,
)

Record = dict[str, Any]
IMPORT_HANDLE = "import"  # the "friend" an import's merge names in its notices
# fields of a set, and the key two spellings of one value share
SET_KEYS: dict[str, Callable[[str, str], str | None]] = {
    "emails": lambda value, region: email_key(value),
    "phones": phone_compare_key,
    "links": lambda value, region: link_key(value) or value,
    "tags": lambda value, region: word_key(value),
    "industries": lambda value, region: word_key(value),
}
# Fields of the record that an imported card has no say on: set once, or the importer's.
NOT_FROM_CARDS = ("id", "added_by", "updated", "format")


@dataclass(frozen=True)
class Match:
    """The contact a card matched (its id) and by what (`uid`, `email`, `phone`,
    `website`, `link`) with the value that matched, as the card has it."""

    record_id: str
    rule: str
    value: str

    def __str__(self) -> str:
        return f"{self.rule} {self.value}" if self.rule != "uid" else "UID"


class ContactIndex:
    """The contacts an import can match, by every key a card can match them by.

    Built from the repository's contacts (id -> record); `add` keeps it up to date as
    the import adds and updates contacts, so that two cards of one file for the same
    person make one contact.
    """

    def __init__(self, contacts: Mapping[str, Mapping[str, Any]], region: str = DEFAULT_REGION):
        self.region = region
        self.records: dict[str, Mapping[str, Any]] = {}
        self._keys: dict[str, dict[str, list[str]]] = {
            rule: {} for rule in ("email", "phone", "link", "name")
        }
        # a website's host with the folded name, or with "" for an organisation: what a
        # website match needs (see `_site_keys`), without looking at every contact there
        self._sites: dict[tuple[str, str], list[str]] = {}
        for record_id in sorted(contacts):
            self.add(record_id, contacts[record_id])

    def _keys_of(self, record: Mapping[str, Any]) -> Iterable[tuple[str, str]]:
        for email in _strings(record.get("emails")):
            yield "email", email_key(email)
        for phone in _strings(record.get("phones")):
            yield "phone", phone_compare_key(phone, self.region)
        for link in _strings(record.get("links")):
            if key := link_key(link):
                yield "link", key
        name = record.get("name")
        if isinstance(name, str):
            yield "name", fold(name)

    def add(self, record_id: str, record: Mapping[str, Any]) -> None:
        """Index a contact (again, after a change: keys it no longer has stay, which can
        only make a later card of the same file match it)."""
        self.records[record_id] = record
        for rule, key in self._keys_of(record):
            holders = self._keys[rule].setdefault(key, [])
            if record_id not in holders:
                holders.append(record_id)
        for site in _site_keys(record):
            holders = self._sites.setdefault(site, [])
            if record_id not in holders:
                holders.append(record_id)

    def match(self, fields: Mapping[str, Any], record_id: str | None = None) -> Match | None:
        """The contact a card is, by the rules of this module's docstring, or None.

        `fields` are the card's record fields; `record_id` its UID when that is a
        record id. Of several contacts with one key, the first indexed (by id) wins.
        """
        if record_id is not None and record_id in self.records:
            return Match(record_id, "uid", record_id)
        for email in _strings(fields.get("emails")):
            if found := self._keys["email"].get(email_key(email)):
                return Match(found[0], "email", email)
        for phone in _strings(fields.get("phones")):
            if found := self._keys["phone"].get(phone_compare_key(phone, self.region)):
                return Match(found[0], "phone", phone)
        for site in _site_keys(fields):
            if found := self._sites.get(site):
                return Match(found[0], "website", site[0])
        for link in _strings(fields.get("links")):
            if (key := link_key(link)) and (found := self._keys["link"].get(key)):
                return Match(found[0], "link", link)
        name = fields.get("name")
        if isinstance(name, str) and not any(_keys_of_card(fields)):
            found = self._keys["name"].get(fold(name))
            if found:
                return Match(found[0], "name", name)
        return None


def _site_keys(record: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The keys a website match goes by: (host, folded name), and (host, "") for an
    organisation. A card and a contact sharing a host are one when both are
    organisations (by their kind) or have the same name (folded: case and accents aside);
    two people of one agency are two."""
    website, name = record.get("website"), record.get("name")
    host = website_host(website) if isinstance(website, str) else None
    if not host:
        return []
    keys = [(host, fold(name))] if isinstance(name, str) and name.strip() else []
    if record.get("kind") in ORGANISATION_KINDS:
        keys.append((host, ""))
    return keys


def _keys_of_card(fields: Mapping[str, Any]) -> Iterable[Any]:
    """The values of a card that matching looks at before its name."""
    yield from (fields.get(name) for name in ("emails", "phones", "website", "links"))


def _strings(value: Any) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


# --- what a card changes in its contact ---------------------------------------------------


@dataclass
class Folded:
    """A card folded into its contact: the record as it is now (`merged`), the fields
    that changed, and the scalars the two disagree on, kept as the contact has them
    (base: None, ours: the contact's value, theirs: the card's). `problem` says why the
    result would not be a valid contact (then nothing changes)."""

    merged: Record
    changed: list[str] = field(default_factory=list)
    kept: list[FieldConflict] = field(default_factory=list)
    problem: str | None = None


def card_side(ours: Mapping[str, Any], fields: Mapping[str, Any], region: str) -> Record:
    """The card as the contact's "theirs" for the merge: each set value that is one of the
    contact's (by its key) spelt as the contact spells it, the same website host as the
    contact's website, and the card's notes appended to the contact's (unless the
    contact has them already), so that the x-merge rules give an import's result."""
    theirs: Record = {k: v for k, v in fields.items() if k not in NOT_FROM_CARDS}
    for name, key_of in SET_KEYS.items():
        if name not in theirs:
            continue
        known = {key_of(v, region): v for v in _strings(ours.get(name))}
        spelt = [known.get(key_of(v, region), v) for v in _strings(theirs[name])]
        theirs[name] = list(dict.fromkeys(spelt))
    website, mine = theirs.get("website"), ours.get("website")
    same_host = isinstance(website, str) and isinstance(mine, str)
    if same_host and website_host(str(website)) == website_host(str(mine)):
        theirs["website"] = mine
    notes, my_notes = theirs.get("notes"), ours.get("notes")
    if isinstance(notes, str) and isinstance(my_notes, str):
        theirs["notes"] = my_notes if has_text(my_notes, notes) else append_text(my_notes, notes)
    return theirs


def has_text(notes: str, text: str) -> bool:
    """Whether `text` (whole lines) is already part of `notes`."""
    wanted = text.strip("\n")
    return not wanted or f"\n{wanted}\n" in f"\n{notes.rstrip(chr(10))}\n"


def append_text(notes: str, text: str) -> str:
    """`text` after `notes`, each ending in a newline."""
    return notes.rstrip("\n") + "\n" + text.rstrip("\n") + "\n"


def fold_card(
    ours: Mapping[str, Any], fields: Mapping[str, Any], region: str = DEFAULT_REGION
) -> Folded:
    """The contact `ours` with a matching card's `fields` folded in by the x-merge rules
    (see the module's docstring). `ours` keeps its id, added_by and updated; the caller
    sets `updated` when something `changed`."""
    mine = dict(ours)
    theirs = {**card_side(mine, fields, region), **_fixed(mine)}
    needed = schema.needed_format("contact", theirs)
    if needed > 1:
        theirs["format"] = max(needed, records.record_format(mine))
    # The base names what the card's side only carries along: the contact's own notes,
    # which `card_side` appended to. Any other field missing from the base makes the
    # two sides' values either join (sets) or, when they differ, a reported conflict.
    base: Record = {"notes": mine["notes"]} if "notes" in mine and "notes" in theirs else {}
    label = f"contacts/{mine.get('id', '')}"
    result = merge.merge_record(
        label,
        AncestorOursTheirs(base, mine, theirs),
        policy.rules_for(label),
        theirs_handle=IMPORT_HANDLE,
        validate=policy.validate,
    )
    conflict = result.conflict
    if conflict is not None and conflict.reason == "invalid-after-merge":
        return Folded(mine, problem="; ".join(conflict.messages))
    if conflict is not None and conflict.merged is not None:
        merged, kept = dict(conflict.merged), list(conflict.fields)
    else:
        merged, kept = dict(result.result or mine), []
    changed = [k for k in merged if k not in IGNORED and merged.get(k) != mine.get(k)]
    changed += [k for k in mine if k not in merged and k not in IGNORED]
    if not changed:
        return Folded(mine, [], kept)
    if kept and (problems := policy.validate(label, merged)):
        return Folded(mine, problem="; ".join(problems))
    return Folded(merged, changed, kept)


IGNORED = ("updated", "format")  # not a change of their own: they follow the others


def _fixed(ours: Mapping[str, Any]) -> Record:
    """The contact's fields a card does not speak for, given to the card's side as they
    are: so that the merge sees no change to them."""
    return {k: ours[k] for k in NOT_FROM_CARDS if k in ours}
