"""Search and filters over records: what a query asks (`Query`), what of a record it
looks at (`Entry`, made by `entry_of`), and whether a record answers (`matches`).

The read index (index.py) keeps entries in SQLite and answers the same rules in SQL;
reading every file and calling `matches` gives the answer it must give (DESIGN
section 7a)."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from . import values
from .records import Label


@dataclass(frozen=True)
class Query:
    """What `list` asks for; every filter given must hold. Keys compare as the record
    keys do: tags, industries and added_by by `values.word_key`, updated as an instant."""

    folder: str | None = None
    kind: str | None = None
    tag: str | None = None
    industry: str | None = None
    added_by: str | None = None
    updated_since: str | None = None  # an RFC 3339 date-time or a date (midnight UTC)
    search: str | None = None  # words, each a prefix of a word of the record


@dataclass(frozen=True)
class Entry:
    """What the index keeps of one record. `data` is None when the file does not parse
    as a mapping: such a record has a label but is in no listing."""

    label: Label
    blob: str | None
    data: dict[str, Any] | None
    name: str = ""
    kind: str | None = None
    added_by: str | None = None
    updated: str | None = None  # values.instant_key
    organization: str | None = None
    keys: tuple[tuple[str, str], ...] = ()  # (field, key): tag, industry, email
    text: str = ""  # the folded words, space-separated


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def entry_of(label: Label, blob: str | None, data: Any) -> Entry:
    """The index's view of a record parsed as `data` (anything a YAML file may hold)."""
    if not isinstance(data, dict):
        return Entry(label, blob, None)
    keys: list[tuple[str, str]] = []
    for field, name, key in (
        ("tag", "tags", values.word_key),
        ("industry", "industries", values.word_key),
        ("email", "emails", values.email_key),
    ):
        items = data.get(name)
        if isinstance(items, list):
            keys += sorted({(field, key(t)) for t in items if isinstance(t, str)})
    added_by = _text(data.get("added_by"))
    words = _words(" ".join([label.id, *_strings(data)]))
    return Entry(
        label,
        blob,
        data,
        name=str(data.get("name") or data.get("title") or ""),
        kind=_text(data.get("kind")),
        added_by=values.word_key(added_by) if added_by is not None else None,
        updated=values.instant_key(data.get("updated")),
        organization=_text(data.get("organization")),
        keys=tuple(keys),
        text=" ".join(words),
    )


def _words(text: str) -> list[str]:
    """`values.words`, quicker for ASCII text (most of a record), where folding is
    lower-casing."""
    if text.isascii():
        return [w for w in _WORD_BREAK.split(text.lower()) if w]
    return values.words(text)


_WORD_BREAK = re.compile(r"[\W_]+")


def since_key(text: str) -> str | None:
    """The instant key of `--updated-since`: an RFC 3339 date-time, or a date read as
    its midnight UTC; None when it is neither."""
    text = text.strip()
    return values.instant_key(text) or values.instant_key(f"{text}T00:00:00Z")


def matches(entry: Entry, query: Query) -> bool:
    """Whether a record answers `query`: the rule the SQL in `Index.entries` follows."""
    if entry.data is None:
        return False
    if query.folder and entry.label.folder != query.folder:
        return False
    if query.kind and entry.kind != query.kind:
        return False
    for field, wanted in (("tag", query.tag), ("industry", query.industry)):
        if wanted is not None and (field, values.word_key(wanted)) not in entry.keys:
            return False
    if query.added_by is not None and entry.added_by != values.word_key(query.added_by):
        return False
    if query.updated_since is not None:
        since = since_key(query.updated_since)
        if since is None or entry.updated is None or entry.updated < since:
            return False
    if query.search is not None:
        typed = values.words(query.search)
        own = entry.text.split()
        if not typed or not all(any(w.startswith(t) for w in own) for t in typed):
            return False
    return True


def select(
    db: str, query: Query, fields: tuple[str, ...] | None = None
) -> tuple[str | None, list[Any]]:
    """The SELECT of the index's rows (database `db`: main, or temp for the working
    tree's) that answer `query`, the rule of `matches` in SQL: None when nothing can.
    Columns: label, blob, data, name, kind, rank, and with `fields` those fields of
    the record as a JSON object (the ones it has; NULL when one holds a real number,
    which SQLite would round, and always NULL without `fields`)."""
    where = ["r.data IS NOT NULL"]
    args: list[Any] = []
    if db == "main":
        where.append("r.label NOT IN (SELECT label FROM temp.hidden)")
    if query.folder:
        where.append("r.folder = ?")
        args.append(query.folder)
    if query.kind:
        where.append("r.kind = ?")
        args.append(query.kind)
    for field, wanted in (("tag", query.tag), ("industry", query.industry)):
        if wanted is not None:
            where.append(f"r.rowid IN (SELECT record FROM {db}.keys WHERE field = ? AND key = ?)")
            args += [field, values.word_key(wanted)]
    if query.added_by is not None:
        where.append("r.added_by = ?")
        args.append(values.word_key(query.added_by))
    if query.updated_since is not None:
        since = since_key(query.updated_since)
        if since is None:
            return None, []
        where.append("r.updated >= ?")
        args.append(since)
    join, rank = "", "0"
    if query.search is not None:
        typed = values.words(query.search)
        if not typed:
            return None, []
        join = f"JOIN {db}.words w ON w.rowid = r.rowid AND w.words MATCH ?"
        rank = "bm25(w.words)"
        args.insert(0, " ".join(f'"{t}"*' for t in typed))
    part = "NULL"
    if fields:
        wanted = ", ".join(f"'{f}'" for f in fields if re.fullmatch(r"[a-z_]+", f))
        # true and false as JSON, not 1 and 0; a real number (or an integer too large
        # for 64 bits) would come back with 15 digits: NULL, the record is decoded whole
        value = "CASE WHEN type IN ('true', 'false') THEN json(type) ELSE value END"
        part = (
            "(SELECT CASE WHEN max(type = 'real' OR typeof(value) = 'real') THEN NULL"
            f" ELSE json_group_object(key, {value}) END FROM json_each(r.data)"
            f" WHERE key IN ({wanted}))"
        )
    sql = (
        f"SELECT r.label, r.blob, r.data, r.name, r.kind, {rank} AS rank, {part} AS part"
        f" FROM {db}.records r {join} WHERE {' AND '.join(where)}"
    )
    return sql, args
