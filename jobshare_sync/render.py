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
