"""Text and JSON renderings of results. Pure: strings in, strings out.

JSON is always a versioned envelope, `{"jobshare.<what>/v1": payload}`, with sorted
keys, so that scripts can rely on its shape.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from .records import Label
from .schema import ValidationReport


def envelope(what: str, payload: Any) -> str:
    """The JSON form of a result: a versioned envelope, keys sorted, one trailing newline."""
    return json.dumps(
        {f"jobshare.{what}/v1": payload}, sort_keys=True, indent=2, ensure_ascii=False
    )


def to_json(items: Iterable[Any]) -> list[Any]:
    return [item.to_json() if hasattr(item, "to_json") else item for item in items]


def table(rows: Sequence[Sequence[str]], headers: Sequence[str] | None = None) -> str:
    """Columns padded to their widest cell; the last column is never padded."""
    all_rows = [list(headers)] + [list(r) for r in rows] if headers else [list(r) for r in rows]
    if not all_rows:
        return ""
    widths = [max(len(r[i]) for r in all_rows) for i in range(len(all_rows[0]) - 1)]
    lines = []
    for row in all_rows:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)] + [row[-1]]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def validation(report: ValidationReport) -> str:
    lines = [str(p) for p in report.sorted()]
    lines.append(("OK: " if report.ok else "") + report.summary())
    return "\n".join(lines)


def value(v: Any, indent: str = "") -> str:
    """A field value on one line, or an indented block for multi-line text."""
    if v is None:
        return "(absent)"
    if isinstance(v, str):
        if "\n" in v.rstrip("\n"):
            return "\n" + "\n".join(f"{indent}| {line}" for line in v.rstrip("\n").split("\n"))
        return v
    return json.dumps(v, ensure_ascii=False, sort_keys=True)


def conflicts(views: Sequence[Any]) -> str:
    """Each conflicted record with, per field, base, ours and theirs."""
    if not views:
        return "no conflicts"
    lines = []
    for view in views:
        state = "resolved" if view.resolved else "unresolved"
        lines.append(f"{view.label}  {view.reason}  ({state})")
        for f in view.fields:
            done = " (resolved)" if f["field"] in view.done else ""
            lines.append(f"  {view.label}:{f['field']}{done}")
            for side in ("base", "ours", "theirs"):
                lines.append(f"    {side + ':':8}{value(f[side], ' ' * 6)}")
        lines.extend(f"  {m}" for m in view.messages)
        if view.reason in ("modify-delete", "delete-modify"):
            gone = "ours" if view.reason == "delete-modify" else "theirs"
            lines.append(f"  deleted on {gone}'s side, changed on the other")
    return "\n".join(lines)


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
            lines.append(
                f"  {record.outcome:8} {record.label}  {record_title(record.result or {})}".rstrip()
            )
    lines.extend(
        f"  kept     {n.message}" if n.kind == "kept-deleted" else f"  refused  {n.message}"
        for n in result.notices
    )
    lines.extend(f"  skipped  {s.path}: {s.reason}" for s in outcome.skipped)
    for c in result.conflicts:
        fields = ", ".join(f.field for f in c.fields)
        lines.append(f"  CONFLICT {c.label} ({c.reason}){': ' + fields if fields else ''}")
    if not outcome.commit and result.conflicts:
        lines.append(
            "Resolve with 'jobshare resolve LABEL --ours|--theirs|--base|--delete|--file F|--field NAME=VALUE',\n"
            "then 'jobshare merge --continue' (or 'jobshare merge --abort' to undo the pull)."
        )
    return "\n".join(lines)


def status(report: Mapping[str, Any]) -> str:
    lines = [f"On branch {report['branch']}" if report["branch"] else "HEAD is detached"]
    changes = report["changes"]
    if changes:
        lines.append("Uncommitted record changes (commit them with 'jobshare commit'):")
        lines.extend(f"  {state:9}{path}" for path, state in sorted(changes.items()))
    else:
        lines.append("No uncommitted record changes.")
    merging = report["merge"]
    if merging:
        left = [c for c in merging["conflicts"] if not c["resolved"]]
        lines.append(
            f"Merge of {merging['friend']} in progress: {len(merging['conflicts'])} conflict(s), "
            f"{len(left)} unresolved (see 'jobshare conflicts')"
        )
        lines.extend(f"  {c['label']}  {c['reason']}" for c in left)
    friends = report["friends"]
    if friends:
        lines.append("Friends:")
        rows = []
        for f in friends:
            if f["fetched"] is None:
                news = "never fetched"
            else:
                n = f["unmerged"]
                news = "up to date" if n == 0 else f"{n} commit{'s' if n != 1 else ''} to pull"
            rows.append(["  " + f["name"], f"({f['handle'] or 'handle not pinned'})", news])
        lines.append(table(rows))
    return "\n".join(lines)


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
    body = raw.decode("utf-8")
    body = "\n".join(
        line for line in body.splitlines() if not line.startswith("# yaml-language-server")
    )
    return f"{label}  {record_title(data)}\n{body}"
