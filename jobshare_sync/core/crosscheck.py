"""Pure checks across records (DESIGN.md section 4): references and likely duplicates.

Each record is first reduced to its Facts (normalised emails, phones and website;
a referral's client, from and to), which are small and cached; the checks then look
at all the facts together: a reference to no record, a contact that is likely a
duplicate of another (a warning).
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .records import Label, Loaded
from .schema import Problem
from .values import DEFAULT_REGION, email_key, phone_compare_key, website_key


@dataclass(frozen=True)
class Facts:
    """What the checks across records need from one record: small, and cacheable.

    `keys` are its normalised emails, phones and website (for likely duplicates);
    `refs` its client, from and to, each with its line (for referrals).
    """

    keys: tuple[tuple[str, str], ...] = ()
    refs: tuple[tuple[str, str, int | None], ...] = ()
    # a contact's fields that duplicate matching compares (core/identity), as JSON
    matched: str = ""
    alias_of: str | None = None  # an alias's survivor (core/identity)


def facts_of(label: Label, loaded: Loaded, region: str = DEFAULT_REGION) -> Facts:
    """The facts of one record; `region` reads phone numbers without a country code."""
    data = loaded.data
    if not isinstance(data, dict):
        return Facts()
    if label.folder == "contacts":
        if "alias_of" in data:  # an alias holds no values of its own (core/identity)
            target = data["alias_of"]
            return Facts(alias_of=target if isinstance(target, str) else None)
        matched: dict[str, Any] = {k: data[k] for k in MATCHED_FIELDS if k in data}
        if loaded.lines:  # where each value stands, for the warnings' lines
            matched["lines"] = {
                pointer: line
                for pointer, line in loaded.lines.items()
                if pointer.split("/")[1:2] and pointer.split("/")[1] in MATCHED_FIELDS
            }
        return Facts(
            keys=tuple(sorted(set(_normal_keys(data, region)))),
            matched=json.dumps(matched, ensure_ascii=False, sort_keys=True, default=str),
        )
    refs = tuple(
        (key, data[key], loaded.line_of(f"/{key}") if loaded.lines else None)
        for key in ("client", "from", "to")
        if isinstance(data.get(key), str)
    )
    return Facts(refs=refs)


def cross_record_problems(
    found: Mapping[Label, Loaded | Facts],
    handles: Iterable[str] | None = None,
    region: str = DEFAULT_REGION,
    unreadable: Iterable[str] = (),
) -> list[Problem]:
    """Checks across records: shared ids, referral clients, likely duplicates (emails
    without case, phones as numbers with `region` for those without a country code, web
    sites by host). `unreadable` are ids of contact files that exist but could not be
    read: their own problem is reported, and a client naming one is no second problem."""
    facts = {
        label: item if isinstance(item, Facts) else facts_of(label, item, region)
        for label, item in found.items()
    }
    problems: list[Problem] = []
    by_id: dict[str, list[Label]] = defaultdict(list)
    for label in facts:
        by_id[label.id].append(label)
    for record_id, labels in by_id.items():
        if len(labels) > 1:
            for label in labels:
                others = ", ".join(str(o) for o in labels if o != label)
                problems.append(
                    Problem(label.path, 1, "/id", f"id {record_id!r} is also used by {others}")
                )
    contact_ids = {label.id for label in facts if label.folder == "contacts"} | set(unreadable)
    known_handles = set(handles) | {"anyone"} if handles is not None else None
    for label, fact in facts.items():
        for key, value, line in fact.refs:
            if key == "client" and value not in contact_ids:
                problems.append(
                    Problem(
                        label.path,
                        line,
                        "/client",
                        f"client {value!r} names no contact: add contacts/{value}.yaml or fix the id",
                    )
                )
            elif key != "client" and known_handles is not None and value not in known_handles:
                problems.append(
                    Problem(
                        label.path,
                        line,
                        f"/{key}",
                        f"{value!r} is neither you nor a friend yet: "
                        f"add them with 'jobshare friend add {value} URL'",
                        severity="warning",
                    )
                )
    for label, fact in facts.items():
        if fact.alias_of is not None and fact.alias_of not in contact_ids:
            problems.append(
                Problem(
                    label.path,
                    None,
                    "/alias_of",
                    f"alias_of {fact.alias_of!r} names no contact: "
                    f"restore contacts/{fact.alias_of}.yaml or fix the id",
                )
            )
    problems.extend(_likely_duplicates(facts, region))
    return problems


def _normal_keys(data: Mapping[str, Any], region: str) -> Iterable[tuple[str, str]]:
    for email in data.get("emails") or []:
        if isinstance(email, str):
            yield "email", email_key(email)
    for phone in data.get("phones") or []:
        if isinstance(phone, str) and len(re.sub(r"\D", "", phone)) >= 6:
            yield "phone", phone_compare_key(phone, region)
    website = data.get("website")
    if isinstance(website, str):
        site = website_key(website)
        if site:
            yield "website", site


def _likely_duplicates(facts: Mapping[Label, Facts], region: str) -> list[Problem]:
    """One warning per likely duplicate pair, from the matcher of `jobshare duplicates`
    (core/identity), on the later record, with the JSON pointer of its matching value
    (the caller places its line): the strongest reason, emails, phones and web sites
    first."""
    from .identity import find_duplicates  # imported late: identity reads this module

    contacts = {
        label.id: label
        for label, fact in facts.items()
        if label.folder == "contacts" and fact.matched
    }
    found = [
        {**json.loads(facts[label].matched), "id": record_id}
        for record_id, label in sorted(contacts.items())
    ]
    lines = {str(record["id"]): record.pop("lines", {}) for record in found}
    problems = []
    for group in find_duplicates(found, region=region):
        for match in group.matches:
            reason = min(match.reasons, key=lambda r: (_REASON_ORDER.get(r.field, 9), -r.weight))
            what = _REASON_WORD.get(reason.field, reason.field)
            said = (
                f"same {what} {reason.key!r}"
                if reason.field in ("emails", "phones", "website")
                else f"similar {what} {reason.left!r}"
            )
            problems.append(
                Problem(
                    contacts[match.right].path,
                    lines[match.right].get(reason.right_pointer),
                    reason.right_pointer,
                    f"likely duplicate of {contacts[match.left]}: {said}",
                    severity="warning",
                )
            )
    return sorted(problems, key=lambda p: (p.path, p.message))


MATCHED_FIELDS = ("name", "organization", "emails", "phones", "website")


_REASON_ORDER = {"emails": 0, "phones": 1, "website": 2, "name": 3, "organization": 4}


_REASON_WORD = {"emails": "email", "phones": "phone"}
