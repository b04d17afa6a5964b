"""Finding contacts that are likely one source: reasons, scores, groups.

Two contacts are compared only when they share a blocking key (an email, a phone
number, a web site, a distinctive word of the name or its first four letters), so
the work grows with the records that share something, not with the square of the
repository: a key more than `max_block` records share (a switchboard number, a
word as common as a surname) identifies nobody and blocks nothing.

Each pair gets its reasons (`Reason`: field, compared key, the value in each
record, with its JSON pointer for `validate`'s line numbers) and a score: the
chance that at least one reason is right, `1 - prod(1 - weight)`. Strong reasons
(email, phone, web site, name) can make a match alone; weak ones (a similar
organisation, a common email or web domain) only add to a strong one. A web host
many people share (`values.SHARED_HOSTS`) counts only with its path, and a name
made only of common words (`COMMON_WORDS`: "IT-Support", "Sales") or sharing only
those with another name counts not at all.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .. import values
from .aliases import is_alias

COMMON_WORDS: frozenset[str] = frozenset(
    # Folded words so many organisations and teams use that sharing one says nothing.
    """
    a an the and or of for in on at to by with de del der die das den und fur la le les et
    el los y van von du da di do e
    it hr ict sales support service services solution solutions consulting consultancy
    consultant consultants advisory recruiting recruitment recruiter recruiters staffing
    talent talents search executive headhunting hiring jobs job careers career work people
    personal personnel team teams group gruppe groep partners partner associates agency
    agentur company companies firm office info contact hello admin desk helpdesk
    management manager human resources global international worldwide europe european
    digital tech technology technologies technik technical systems system software hardware
    data cloud web online net network networks media marketing design creative studio labs
    lab solutions ventures capital holding holdings industries industry trading
    engineering research analytics finance financial fintech bank banking insurance
    health healthcare medical pharma energy logistics mobility security legal law
    education academy institute university school foundation association society club
    meetup community center centre hub new first best smart open one pro plus
    """.split()  # noqa: SIM905 (a list of words reads best as text)
)

WEIGHTS: Mapping[str, float] = {
    "emails": 0.9,
    "phones": 0.85,
    "website": 0.6,
    "name": 0.8,  # for identical names; similar ones weigh their similarity
    "organization": 0.3,
    "domain": 0.3,
}
STRONG = frozenset({"emails", "phones", "website", "name"})
NAME_SIMILARITY = 0.85  # of the distinctive words (rapidfuzz token sort ratio, 0..1)
OTHER_ORGANISATION = 0.6  # a name match between people of two different organisations
MIN_PHONE_DIGITS = 7
DEFAULT_MIN_SCORE = 0.5
DEFAULT_MAX_BLOCK = 100


@dataclass(frozen=True)
class Reason:
    """One thing two records share: the field, the key compared, each record's value."""

    field: str  # emails | phones | website | name | organization | domain
    key: str  # what was compared: "jobs@acme.example", "+442079460000", "acme recruiting"
    left: str  # the value in the first record, as written
    right: str  # the value in the second record
    left_pointer: str  # JSON pointer of that value in the first record: "/emails/0"
    right_pointer: str
    weight: float

    def to_json(self) -> dict[str, Any]:
        return {
            "field": self.field,
            "key": self.key,
            "left": {"value": self.left, "pointer": self.left_pointer},
            "right": {"value": self.right, "pointer": self.right_pointer},
            "weight": self.weight,
        }


@dataclass(frozen=True)
class Match:
    """Two records (ids, `left` < `right`) that are likely one source."""

    left: str
    right: str
    score: float  # 0..1, rounded to three places
    reasons: tuple[Reason, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "left": self.left,
            "right": self.right,
            "score": self.score,
            "reasons": [r.to_json() for r in self.reasons],
        }


@dataclass(frozen=True)
class DuplicateGroup:
    """Records linked by matches: likely one source. Score: their best match's."""

    ids: tuple[str, ...]
    score: float
    matches: tuple[Match, ...]  # best first

    def to_json(self) -> dict[str, Any]:
        return {
            "ids": list(self.ids),
            "score": self.score,
            "matches": [m.to_json() for m in self.matches],
        }


@dataclass(frozen=True)
class _Name:
    value: str
    pointer: str
    text: str  # the folded words
    distinct: str  # the words that are not common, sorted


@dataclass
class _Features:
    id: str
    emails: dict[str, tuple[str, str]] = field(default_factory=dict)  # key -> value, pointer
    phones: dict[str, tuple[str, str]] = field(default_factory=dict)
    websites: dict[str, tuple[str, str]] = field(default_factory=dict)
    domains: dict[str, tuple[str, str]] = field(default_factory=dict)
    name: _Name | None = None
    organization: _Name | None = None


def _name(value: Any, pointer: str) -> _Name | None:
    if not isinstance(value, str):
        return None
    words = values.name_tokens(value)
    distinct = sorted(w for w in words if len(w) > 1 and w not in COMMON_WORDS)
    return _Name(value, pointer, " ".join(words), " ".join(distinct)) if words else None


def _features(record: Mapping[str, Any], region: str = values.DEFAULT_REGION) -> _Features:
    """What matching compares of one contact (its keys, with each value's pointer)."""
    found = _Features(str(record.get("id")))
    for i, email in enumerate(_strings(record.get("emails"))):
        found.emails.setdefault(values.email_key(email), (email, f"/emails/{i}"))
        if (domain := values.email_domain(email)) and not values.is_shared_host(domain):
            found.domains.setdefault(domain, (email, f"/emails/{i}"))
    for i, phone in enumerate(_strings(record.get("phones"))):
        key = values.phone_compare_key(phone, region)
        if sum(c.isdigit() for c in key.split(";")[0]) >= MIN_PHONE_DIGITS:
            found.phones.setdefault(key, (phone, f"/phones/{i}"))
    for website in _strings([record.get("website")]):
        if (site := values.website_key(website)) is not None:
            found.websites[site] = (website, "/website")
        host = values.website_host(website)
        if host and not values.is_shared_host(host):
            found.domains.setdefault(host, (website, "/website"))
    found.name = _name(record.get("name"), "/name")
    found.organization = _name(record.get("organization"), "/organization")
    return found


def _strings(items: Any) -> list[str]:
    return [x for x in items if isinstance(x, str)] if isinstance(items, list) else []


def _blocking_keys(f: _Features) -> set[str]:
    keys = {f"e:{k}" for k in f.emails} | {f"p:{k}" for k in f.phones}
    keys |= {f"w:{k}" for k in f.websites}
    if f.name is not None:
        for word in f.name.distinct.split():
            keys.add(f"n:{word}")
            if len(word) > 4:
                keys.add(f"q:{word[:4]}")
    return keys


def name_similarity(a: str, b: str) -> float:
    """How alike two names are, 0..1, after folding and dropping legal forms; 0 when
    their distinctive words (not in COMMON_WORDS) are not alike (below
    NAME_SIMILARITY) or one has none."""
    x, y = _name(a, ""), _name(b, "")
    return _similarity(x, y) if x and y else 0.0


def _similarity(a: _Name, b: _Name) -> float:
    from rapidfuzz import fuzz  # imported late: only matching needs it

    if not a.distinct or not b.distinct:
        return 0.0
    distinct = fuzz.token_sort_ratio(a.distinct, b.distinct) / 100
    if distinct < NAME_SIMILARITY:
        return 0.0
    return 0.75 * distinct + 0.25 * fuzz.token_sort_ratio(a.text, b.text) / 100


def _same_keys(
    name: str, a: dict[str, tuple[str, str]], b: dict[str, tuple[str, str]]
) -> list[Reason]:
    return [
        Reason(name, key, a[key][0], b[key][0], a[key][1], b[key][1], WEIGHTS[name])
        for key in sorted(a.keys() & b.keys())
    ]


def _reasons(a: _Features, b: _Features) -> list[Reason]:
    reasons = _same_keys("emails", a.emails, b.emails) + _same_keys("phones", a.phones, b.phones)
    reasons += _same_keys("website", a.websites, b.websites)
    for which, x, y in (("name", a.name, b.name), ("organization", a.organization, b.organization)):
        if x is None or y is None or not (similarity := _similarity(x, y)):
            continue
        weight = similarity * WEIGHTS[which]
        if (
            which == "name"
            and a.organization
            and b.organization
            and not _similarity(a.organization, b.organization)
        ):
            weight *= OTHER_ORGANISATION
        key = x.text if x.text == y.text else f"{x.text} ~ {y.text}"
        reasons.append(Reason(which, key, x.value, y.value, x.pointer, y.pointer, round(weight, 3)))
    # a domain says something only where no shared email or web site said it already
    used = {r.key for r in reasons if r.field == "website"}
    used |= {d for r in reasons if r.field == "emails" and (d := values.email_domain(r.key))}
    shared = sorted((a.domains.keys() & b.domains.keys()) - used)
    if shared:
        reasons += _same_keys("domain", {shared[0]: a.domains[shared[0]]}, b.domains)
    return reasons


def _score(reasons: Iterable[Reason]) -> float:
    return round(1 - math.prod(1 - r.weight for r in reasons), 3)


def match_pair(
    a: Mapping[str, Any], b: Mapping[str, Any], *, region: str = values.DEFAULT_REGION
) -> Match | None:
    """Compare two contacts directly: their match (ids ordered), or None when nothing
    strong links them."""
    return _match(_features(a, region), _features(b, region))


def _match(a: _Features, b: _Features) -> Match | None:
    if a.id > b.id:
        a, b = b, a
    reasons = _reasons(a, b)
    if not any(r.field in STRONG for r in reasons):
        return None
    reasons.sort(key=lambda r: (-r.weight, r.field, r.key))
    return Match(a.id, b.id, _score(reasons), tuple(reasons))


def candidate_pairs(
    records: Iterable[Mapping[str, Any]],
    *,
    region: str = values.DEFAULT_REGION,
    max_block: int = DEFAULT_MAX_BLOCK,
    only: Iterable[str] | None = None,
) -> set[tuple[str, str]]:
    """The pairs of ids (smaller first) `find_duplicates` compares: records that share
    a blocking key held by at most `max_block` records (one of them in `only`)."""
    found = _usable(records, region)
    wanted = set(only) if only is not None else None
    pairs = _candidate_pairs(found, max_block=max_block, only=wanted)
    return {(found[i].id, found[j].id) for i, j in pairs}


def _usable(records: Iterable[Mapping[str, Any]], region: str) -> list[_Features]:
    found = [
        _features(r, region)
        for r in records
        if isinstance(r, Mapping) and isinstance(r.get("id"), str) and not is_alias(r)
    ]
    return sorted(found, key=lambda f: f.id)


def _candidate_pairs(
    found: list[_Features], *, max_block: int, only: set[str] | None
) -> set[tuple[int, int]]:
    blocks: dict[str, list[int]] = defaultdict(list)
    for i, f in enumerate(found):
        for key in _blocking_keys(f):
            blocks[key].append(i)
    pairs: set[tuple[int, int]] = set()
    for members in blocks.values():
        if len(members) < 2 or len(members) > max_block:
            continue
        if only is not None and not any(found[i].id in only for i in members):
            continue
        for x, i in enumerate(members):
            for j in members[x + 1 :]:
                if only is None or found[i].id in only or found[j].id in only:
                    pairs.add((i, j))
    return pairs


def find_duplicates(
    records: Iterable[Mapping[str, Any]],
    *,
    region: str = values.DEFAULT_REGION,
    min_score: float = DEFAULT_MIN_SCORE,
    only: Iterable[str] | None = None,
    max_block: int = DEFAULT_MAX_BLOCK,
) -> list[DuplicateGroup]:
    """Groups of contacts that are likely one source, best first.

    `records` are parsed contacts (aliases and records without an id are skipped);
    `region` is the owner's default region for phone numbers without a country
    code; matches scoring below `min_score` (0..1) are left out; with `only` (ids),
    just the groups that hold one of them. Records linked by matches form one
    group (a group of three may hold two matches); its score is its best match's.
    Ties keep id order, so the result is the same for any order of `records`.
    """
    found = _usable(records, region)
    wanted = set(only) if only is not None else None
    matches = []
    for i, j in _candidate_pairs(found, max_block=max_block, only=wanted):
        match = _match(found[i], found[j])
        if match is not None and match.score >= min_score:
            matches.append(match)
    return _groups(matches)


def _groups(matches: list[Match]) -> list[DuplicateGroup]:
    parent: dict[str, str] = {}

    def root(x: str) -> str:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for m in matches:
        a, b = root(m.left), root(m.right)
        if a != b:
            parent[max(a, b)] = min(a, b)
    members: dict[str, list[Match]] = defaultdict(list)
    for m in matches:
        members[root(m.left)].append(m)
    groups = []
    for group in members.values():
        group.sort(key=lambda m: (-m.score, m.left, m.right))
        ids = tuple(sorted({i for m in group for i in (m.left, m.right)}))
        groups.append(DuplicateGroup(ids, group[0].score, tuple(group)))
    return sorted(groups, key=lambda g: (-g.score, g.ids))
