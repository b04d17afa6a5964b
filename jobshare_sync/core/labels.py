"""Labels from what a user typed, and new ids (DESIGN.md section 3).

A label is taken as the full label, the id, a unique id prefix, then the name (or a
referral's title) without regard to case or accents. A new id is the name's slug with
a short random suffix, checked against the ids in use.
"""

from __future__ import annotations

import re
import secrets
import unicodedata
from collections.abc import Callable, Iterable, Mapping

from ..errors import LabelError
from .records import FOLDERS, ID_RE, Label
from .values import words


def parse_label(text: str, known: Iterable[Label] = ()) -> Label:
    """Parse `contacts/<id>`, `contacts/<id>.yaml` or a bare `<id>` (unambiguous among known)."""
    text = text.strip().removesuffix(".yaml").strip("/")
    if not text:
        raise LabelError("an empty label names no record: run 'jobshare list' to see the records")
    if "/" in text:
        folder, _, record_id = text.partition("/")
        if folder not in FOLDERS:
            raise LabelError(f"'{text}' is not a label: use contacts/<id> or referrals/<id>")
        if not ID_RE.match(record_id):
            raise LabelError(f"'{record_id}' is not a valid record id")
        return Label(folder, record_id)
    known = list(known)
    matches = [label for label in known if label.id == text]
    if not matches:  # a unique prefix is enough, as with git's short hashes
        matches = [label for label in known if label.id.startswith(text)]
    if len(matches) == 1:
        return matches[0]
    if len(matches) > 1:
        options = " or ".join(str(m) for m in sorted(matches))
        raise LabelError(f"'{text}' is ambiguous: say {options}")
    raise LabelError(f"no record '{text}': run 'jobshare list' to see the records")


Titles = Callable[[], Mapping[Label, str]]


def match_label(text: str, known: Iterable[Label], titles: Titles | None = None) -> Label:
    """The record a user means by `text`, found the same way by every command.

    In this order: an exact label (`contacts/<id>`, `.yaml` allowed), an exact id, a
    unique prefix of an id (as with git's short hashes), then the record's name (a
    contact's `name`, a referral's `title`) compared after NFC, case folding and accent
    folding: first the whole name (`"zoe lukasiewicz"` finds "Zoë Łukasiewicz"), then
    names whose words start with the words typed (`lukas`). `titles()` gives each known
    record's name; it is called only when no id matches. Raises LabelError for no
    match or several (naming them).
    """
    known = list(known)
    try:
        return parse_label(text, known)
    except LabelError as e:
        # a name may hold a slash ("Acme / Partners"): that is no label either
        if titles is None or not ("no record" in str(e) or "is not a label" in str(e)):
            raise
        missing = e
    wanted = words(text)
    if not wanted:
        raise missing
    among = set(known)
    names = {label: words(title) for label, title in titles().items() if label in among}
    found = [label for label, name in names.items() if name == wanted]
    if not found:
        found = [
            label
            for label, name in names.items()
            if all(any(w.startswith(typed) for w in name) for typed in wanted)
        ]
    if len(found) == 1:
        return found[0]
    if len(found) > 1:
        options = " or ".join(str(label) for label in sorted(found)[:5])
        more = f" (and {len(found) - 5} more)" if len(found) > 5 else ""
        raise LabelError(f"'{text}' is ambiguous: say {options}{more}")
    raise missing


def slugify(name: str) -> str:
    """A lower-case ASCII slug of a name, at most 40 characters, in any script:
    `Zoë Łukasiewicz` -> `zoe-lukasiewicz`, `Ωmega` -> `omega`, `Дмитрий` -> `dmitriy`,
    `山田太郎` -> `shan-tian-tai-lang` (transliterated by `anyascii`; each ideograph
    becomes a syllable of its own)."""
    from anyascii import anyascii  # its tables load on first use: only new ids need it

    parts = []
    for char in unicodedata.normalize("NFC", name):
        if char.isascii():
            parts.append(char)
            continue
        latin = anyascii(char)
        wide = unicodedata.east_asian_width(char) in ("W", "F")
        parts.append(f" {latin} " if wide and latin[:1].isupper() else latin)
    slug = re.sub(r"[^a-z0-9]+", "-", "".join(parts).lower()).strip("-")
    return slug[:40].rstrip("-") or "record"


def new_id(name: str, taken: Iterable[str] | Callable[[str], bool] = ()) -> str:
    """A fresh id: slug of the name plus a random suffix, so friends never mint the same one.

    `taken` is the ids in use, or a test of whether one is (cheaper than listing them all).
    """
    alphabet = "abcdefghijkmnpqrstuvwxyz23456789"
    is_taken = taken if callable(taken) else set(taken).__contains__
    while True:
        suffix = "".join(secrets.choice(alphabet) for _ in range(4))
        candidate = f"{slugify(name)}-{suffix}"
        if not is_taken(candidate):
            return candidate
