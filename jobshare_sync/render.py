"""Text and JSON renderings of results. Pure: strings in, strings out.

JSON is always a versioned envelope, `{"jobshare.<what>/v1": payload}`, with sorted
keys, so that scripts can rely on its shape.

Records, commits and messages may come from friends: every text that reaches a
terminal passes through `safe`, which shows control characters (ESC, BEL, ...) and
bidirectional overrides as escapes, so that no value can set a window title, clear
the screen or reorder what is shown. Tables are laid out by display width, so wide
(CJK) characters and emoji line up.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .core.records import Label
from .core.schema import ValidationReport

if TYPE_CHECKING:
    from .referrals import InboxItem, LedgerRow


# C0 and C1 controls, DEL, and the bidirectional embeddings, overrides and isolates
_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_UNSAFE_IN_LINES = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_ESCAPES = {"\t": "\\t", "\n": "\\n", "\r": "\\r", "\x1b": "\\e"}


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    code = ord(char)
    return _ESCAPES.get(char) or (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")


def safe(text: str, *, lines: bool = True) -> str:
    """`text` as it may reach a terminal: control characters and bidirectional
    overrides shown as escapes (`\\e`, `\\x07`, `\\u202e`). With `lines`, line feeds
    stay line feeds (a block of text, a message over several lines); without, they are
    escaped too (a table cell, a value on one line)."""
    pattern = _UNSAFE_IN_LINES if lines else _UNSAFE
    return pattern.sub(_escape, text) if pattern.search(text) else text


def width(text: str) -> int:
    """How many terminal columns `text` takes: East Asian wide and full-width characters
    (CJK, most emoji) two, combining marks and zero-width characters none, a character
    followed by the emoji presentation selector two, one joined by ZWJ none."""
    if text.isascii():
        return len(text)
    total = 0
    joined = False
    for i, char in enumerate(text):
        if joined:
            joined = False
            continue
        if char == "\u200d":  # zero-width joiner: the next character is part of this one
            joined = True
            continue
        if unicodedata.combining(char) or unicodedata.category(char) in ("Mn", "Me", "Cf"):
            continue
        if char == "\ufe0f":
            continue
        wide = unicodedata.east_asian_width(char) in ("W", "F")
        emoji = i + 1 < len(text) and text[i + 1] == "\ufe0f"
        total += 2 if wide or emoji else 1
    return total


def pad(text: str, columns: int, right: bool = False) -> str:
    """`text` padded with spaces to `columns` terminal columns (on the left if `right`)."""
    fill = " " * max(0, columns - width(text))
    return fill + text if right else text + fill


def envelope(what: str, payload: Any) -> str:
    """The JSON form of a result: a versioned envelope, keys sorted, one trailing newline.

    Strings keep their characters, except the C1 controls and bidirectional overrides,
    which JSON would leave raw and a terminal may obey: those are `\\u` escapes."""
    text = json.dumps(
        {f"jobshare.{what}/v1": payload}, sort_keys=True, indent=2, ensure_ascii=False
    )
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


_JSON_UNSAFE = re.compile(r"[\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def to_json(items: Iterable[Any]) -> list[Any]:
    return [item.to_json() if hasattr(item, "to_json") else item for item in items]


def table(rows: Sequence[Sequence[str]], headers: Sequence[str] | None = None) -> str:
    """Columns padded to their widest cell (by display width); the last column is never
    padded. Cells are shown `safe`, on one line each."""
    all_rows = [list(headers)] + [list(r) for r in rows] if headers else [list(r) for r in rows]
    if not all_rows:
        return ""
    all_rows = [[safe(cell, lines=False) for cell in row] for row in all_rows]
    widths = [max(width(r[i]) for r in all_rows) for i in range(len(all_rows[0]) - 1)]
    lines = []
    for row in all_rows:
        cells = [pad(cell, w) for cell, w in zip(row, widths, strict=False)] + [row[-1]]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def validation(report: ValidationReport) -> str:
    lines = [safe(str(p), lines=False) for p in report.sorted()]
    lines.append(("OK: " if report.ok else "") + report.summary())
    return "\n".join(lines)


def value(v: Any, indent: str = "") -> str:
    """A field value on one line, or an indented block for multi-line text."""
    if v is None:
        return "(absent)"
    if isinstance(v, str):
        if "\n" in v.rstrip("\n"):
            block = v.rstrip("\n").split("\n")
            return "\n" + "\n".join(f"{indent}| {safe(line, lines=False)}" for line in block)
        return safe(v, lines=False)
    return safe(json.dumps(v, ensure_ascii=False, sort_keys=True), lines=False)


def conflicts(views: Sequence[Any]) -> str:
    """Each conflicted record with, per field, base, ours and theirs."""
    if not views:
        return "no conflicts"
    lines = []
    for view in views:
        state = "resolved" if view.resolved else "unresolved"
        label = safe(view.label, lines=False)
        lines.append(f"{label}  {view.reason}  ({state})")
        for f in view.fields:
            done = " (resolved)" if f["field"] in view.done else ""
            lines.append(f"  {label}:{safe(str(f['field']), lines=False)}{done}")
            for side in ("base", "ours", "theirs"):
                lines.append(f"    {side + ':':8}{value(f[side], ' ' * 6)}")
        lines.extend(f"  {safe(m, lines=False)}" for m in view.messages)
        if view.reason in ("modify-delete", "delete-modify"):
            gone = "ours" if view.reason == "delete-modify" else "theirs"
            lines.append(f"  deleted on {gone}'s side, changed on the other")
    return "\n".join(lines)


def _notice_word(kind: str) -> str:
    """How a pull's notice reads: a change of theirs refused (a fixed field), a record
    of ours kept (a deletion not applied), or a note on what was done (an alias came,
    edits were carried into a survivor)."""
    if kind.startswith("refused-"):
        return "refused"
    return "kept" if kind.startswith("kept-") else "note"


def pulled(outcome: Any) -> str:
    """What one friend's pull did, for people."""
    if outcome.up_to_date:
        return outcome.summary()
    lines = []
    result = outcome.result
    if outcome.commit:
        lines.append(f"{result.summary(outcome.friend)} (commit {outcome.commit[:10]})")
    else:
        lines.append(f"{result.summary(outcome.friend)}; nothing committed")
    for record in result.records:
        if record.outcome in ("added", "updated", "removed"):
            title = safe(record_title(record.result or {}), lines=False)
            lines.append(f"  {record.outcome:8} {safe(record.label)}  {title}".rstrip())
    lines.extend(safe(f"  {_notice_word(n.kind):8} {n.message}") for n in result.notices)
    lines.extend(safe(f"  skipped  {s.path}: {s.reason}", lines=False) for s in outcome.skipped)
    for c in result.conflicts:
        fields = ", ".join(f.field for f in c.fields)
        line = f"  CONFLICT {c.label} ({c.reason}){': ' + fields if fields else ''}"
        lines.append(safe(line, lines=False))
    if not outcome.commit and result.conflicts:
        lines.append(
            "Resolve with 'jobshare resolve LABEL --ours|--theirs|--base|--delete|--file F|--field NAME=VALUE',\n"
            "then 'jobshare merge --continue' (or 'jobshare merge --abort' to undo the pull)."
        )
    return "\n".join(lines)


def status(report: Mapping[str, Any]) -> str:
    branch = safe(str(report["branch"]), lines=False)
    lines = [f"On branch {branch}" if report["branch"] else "HEAD is detached"]
    changes = report["changes"]
    if changes:
        lines.append("Uncommitted record changes (commit them with 'jobshare commit'):")
        lines.extend(
            f"  {state:9}{safe(path, lines=False)}" for path, state in sorted(changes.items())
        )
    else:
        lines.append("No uncommitted record changes.")
    git_merge = report.get("git_merge")
    if git_merge is not None:
        lines.append(
            "git is in the middle of a merge: finish or abort git's merge first "
            "('git merge --continue' or 'git merge --abort')"
        )
        lines.extend(f"  unmerged {safe(path, lines=False)}" for path in git_merge)
    merging = report["merge"]
    if merging:
        left = [c for c in merging["conflicts"] if not c["resolved"]]
        lines.append(
            f"Merge of {safe(merging['friend'], lines=False)} in progress: "
            f"{len(merging['conflicts'])} conflict(s), "
            f"{len(left)} unresolved (see 'jobshare conflicts')"
        )
        lines.extend(safe(f"  {c['label']}  {c['reason']}", lines=False) for c in left)
    friends = report["friends"]
    if friends:
        lines.append("Friends:")
        rows = []
        for f in friends:
            if f["fetched"] is None:
                news = "never fetched"
            else:
                n = f["incoming"]
                news = "up to date" if n == 0 else f"{n} commit{'s' if n != 1 else ''} to pull"
            rows.append(["  " + f["name"], f"({f['handle'] or 'handle not pinned'})", news])
        lines.append(table(rows))
    return "\n".join(lines)


def inbox(items: Sequence[InboxItem], include_all: bool = False) -> str:
    """Referrals as a table, newest first: who offers what, for which client, by when."""
    if not items:
        if include_all:
            return "no referrals yet: 'jobshare refer CONTACT --to FRIEND --title TITLE' makes one"
        return "no open referrals for you ('jobshare inbox --all' lists every referral)"
    headers = ["referral", "title", "client", "from", "to"]
    headers += ["status", "deadline"] if include_all else ["deadline"]
    rows = []
    for item in items:
        row = [str(item.label), item.title, item.client_name, item.sender, item.to]
        row += [item.status] if include_all else []
        rows.append([*row, item.deadline or "-"])
    return table(rows, headers)


LEDGER_LEGEND = (
    "accepted: the referrals the other side took on (even if later withdrawn);\n"
    "balance: referrals you gave them that they accepted, minus referrals they gave you\n"
    "that you accepted. A referral to anyone counts for whoever accepted it."
)


def ledger(rows: Sequence[LedgerRow], total: LedgerRow | None = None) -> str:
    """The give and take per friend: right-aligned counts under two group headings."""
    if not rows:
        return "no referrals with friends yet: 'jobshare refer CONTACT --to FRIEND --title TITLE'"
    headers = ["friend", *["referred", "accepted", "completed"] * 2, "balance"]
    body = [_ledger_cells(row) for row in rows]
    if total is not None and len(rows) > 1:
        body.append(_ledger_cells(total))
    body = [[safe(cell, lines=False) for cell in cells] for cells in body]
    widths = [max(width(r[i]) for r in [headers, *body]) for i in range(len(headers))]

    def line(cells: Sequence[str]) -> str:
        first = pad(cells[0], widths[0])
        rest = [pad(cell, w, right=True) for cell, w in zip(cells[1:], widths[1:], strict=True)]
        groups = [first, "  ".join(rest[:3]), "  ".join(rest[3:6]), rest[6]]
        return "    ".join(groups).rstrip()

    spans = [widths[0], sum(widths[1:4]) + 4, sum(widths[4:7]) + 4]
    group = (
        " " * spans[0]
        + "    "
        + "you gave them".center(spans[1])
        + "    "
        + "they gave you".center(spans[2])
    )
    lines = [group.rstrip(), line(headers)]
    lines += [line(cells) for cells in body[: len(rows)]]
    if len(body) > len(rows):
        lines.append("-" * width(line(headers)))
        lines.append(line(body[-1]))
    return "\n".join([*lines, "", LEDGER_LEGEND])


def _ledger_cells(row: LedgerRow) -> list[str]:
    gave, got = row.gave, row.got
    counts = [gave.referred, gave.accepted, gave.completed, got.referred, got.accepted]
    balance = f"{row.balance:+d}" if row.balance else "0"
    return [row.friend, *map(str, counts), str(got.completed), balance]


def record_title(data: Mapping[str, Any]) -> str:
    return str(data.get("name") or data.get("title") or "")


def listing(items: Sequence[Any]) -> str:
    """A table of records: label, title, and the fields that tell them apart."""
    if not items:
        return "no records match"
    rows = []
    for item in items:
        data = item.data
        if item.label.folder == "contacts":
            what = data.get("kind", "")
            extra = ", ".join(data.get("tags") or [])
        else:
            what = data.get("status", "")
            extra = f"{data.get('from', '?')} -> {data.get('to', '?')}"
        rows.append([str(item.label), record_title(data), str(what), extra])
    return table(rows)


def record(label: Label, data: Mapping[str, Any], raw: bytes) -> str:
    """A record as a person reads it: its label and title, then its canonical YAML."""
    body = raw.decode("utf-8", errors="replace").removeprefix("\ufeff")
    body = "\n".join(
        safe(line.removesuffix("\r"), lines=False)
        for line in body.split("\n")
        if not line.startswith("# yaml-language-server")
    ).rstrip("\n")
    return f"{label}  {safe(record_title(data), lines=False)}\n{body}"
