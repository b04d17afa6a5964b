"""Text renderings of the review area: record diffs, incoming, log, show, textconv,
git-setup and doctor. Pure: strings in, strings out.

Every text from a record or a commit passes through `render.safe` (see render.py);
colour is ANSI SGR, only when asked for.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, cast

from .render import pulled, safe

if TYPE_CHECKING:
    from .checkup import DoctorReport
    from .core.diff import FieldChange
    from .drivers import SetupResult
    from .history import CommitChanges, CommitInfo
    from .review import Change, Incoming, Version


def incoming(found: Incoming, color: bool = False) -> str:
    """What `incoming FRIEND` found: the friend's record changes since the common
    history, then what a pull would do (`pulled`, without its how-to-resolve lines)."""
    if found.preview.up_to_date:
        return f"{found.friend} has nothing new for you ({found.commit[:10]})"
    text = record_changes(found.changes, color) if found.changes else "(no record changes)"
    summary = pulled(found.preview).splitlines()
    lines = [
        f"{found.friend}'s changes since your common history, up to their {found.commit[:10]}:",
        text,
        "",
    ]
    lines.append("A pull would do this: " + summary[0].replace("; nothing committed", ""))
    lines += [
        line for line in summary[1:] if not line.startswith(("Resolve with", "then 'jobshare"))
    ]
    return "\n".join(lines)


_ANSI = {"bold": "1", "dim": "2", "red": "31", "green": "32", "yellow": "33", "cyan": "36"}


CHANGE_STYLE = {"added": "green", "removed": "red", "modified": "yellow"}


def paint(text: str, style: str, color: bool) -> str:
    """`text` in an ANSI style ("bold", "green", "bold+red") when `color`, else as it is."""
    if not color or not text:
        return text
    codes = ";".join(_ANSI[name] for name in style.split("+"))
    return f"\x1b[{codes}m{text}\x1b[0m"


def inline(value: Any) -> str:
    """A value on one line: plain text as it is, a mapping as `key: value, ...`, else JSON."""
    if isinstance(value, str):
        if value and value == value.strip() and "\n" not in value:
            return safe(value, lines=False)
        return safe(json.dumps(value, ensure_ascii=False), lines=False)
    if isinstance(value, dict) and value:
        return ", ".join(f"{safe(str(k), lines=False)}: {inline(v)}" for k, v in value.items())
    return safe(json.dumps(value, ensure_ascii=False, sort_keys=True), lines=False)


def _old_new(value: Any, is_null: bool) -> str:
    return "(none)" if value is None and not is_null else inline(value)


def field_change(change: FieldChange, record_change: str, color: bool = False) -> list[str]:
    """The lines of one changed field, indented under its record."""
    name = safe(change.field, lines=False)
    items = change.rule in ("set", "append") and all(
        isinstance(v, list) or v is None for v in (change.old, change.new)
    )
    if items:
        if not change.added and not change.removed:
            return [f"  {name}: (same items, new order)"]
        return [
            f"  {name}:",
            *(paint(f"    + {inline(item)}", "green", color) for item in change.added),
            *(paint(f"    - {inline(item)}", "red", color) for item in change.removed),
        ]
    if change.rule == "text" and change.lines:
        styles = {"+": "green", "-": "red"}
        return [f"  {name}:"] + [
            paint(f"    {safe(line, lines=False)}", styles.get(line[:1], ""), color)
            if line[:1] in styles
            else f"    {safe(line, lines=False)}"
            for line in change.lines
        ]
    new = _old_new(change.new, change.new_null)
    if record_change == "added":
        return [f"  {name}: {new}"]
    old = _old_new(change.old, change.old_null)
    return [f"  {name}: {paint(old, 'red', color)} → {paint(new, 'green', color)}"]


def record_change(change: Change, color: bool = False) -> str:
    """One changed record: `modified  contacts/acme-7k2q  Acme Recruiting`, then its fields
    (an added record lists what it holds; a removed one only its name)."""
    kind = change.change
    label = paint(safe(change.label, lines=False), "bold", color)
    head = f"{paint(kind.ljust(8), CHANGE_STYLE.get(kind, 'bold'), color)}  {label}"
    lines = [f"{head}  {safe(change.name, lines=False)}".rstrip()]
    if (alias := change.became_alias) is not None:  # not every field removed (core/identity)
        name = safe(str((change.diff.old or {}).get("name") or ""), lines=False)
        how = "renamed to" if alias.get("alias_reason") == "renamed" else "combined into"
        by = f" (by {alias['alias_by']})" if alias.get("alias_by") else ""
        target = safe(f"contacts/{alias['alias_of']}{by}", lines=False)
        return f"{head}  {name}".rstrip() + f"\n  {how} {target}"
    if change.new_error:
        lines.append(f"  (unreadable: {safe(change.new_error, lines=False)})")
    if change.old_error:
        lines.append(f"  (was unreadable: {safe(change.old_error, lines=False)})")
    if kind != "removed":
        for field in change.diff.fields:
            lines.extend(field_change(field, kind, color))
    return "\n".join(lines)


def record_changes(changes: Sequence[Change], color: bool = False) -> str:
    """Every changed record, a blank line between them."""
    return "\n\n".join(record_change(change, color) for change in changes)


def change_stat(
    stat: Mapping[str, Mapping[str, int]], old: str, new: str, color: bool = False
) -> str:
    """Counts per folder, then the total: what `diff --stat` prints."""
    lines = []
    total = 0
    for folder, counts in stat.items():
        parts = []
        for kind in ("added", "removed", "modified"):
            n = counts.get(kind, 0)
            parts.append(paint(f"{n} {kind}", CHANGE_STYLE[kind], color and n > 0))
            total += n
        lines.append(f"{folder:<10} " + ", ".join(parts))
    noun = "record" if total == 1 else "records"
    lines.append(f"{total} {noun} changed ({old} → {new})")
    return "\n".join(lines)


def _date(iso: str) -> str:
    import datetime as dt

    try:
        return dt.datetime.fromisoformat(iso).strftime("%Y-%m-%d %H:%M:%S %z")
    except ValueError:  # a date no datetime holds, given as git's raw seconds
        return iso


def commit_header(info: CommitInfo, color: bool = False) -> list[str]:
    """git log's header: commit, merge parents, author, date, then the indented message."""
    lines = [paint(f"commit {info.id}", "yellow", color)]
    if info.is_merge:
        lines.append("Merge:  " + " ".join(parent[:10] for parent in info.parents))
    lines.append(safe(f"Author: {info.author} <{info.email}>", lines=False))
    lines.append(f"Date:   {_date(info.date)}")
    lines.append("")
    message = info.message.split("\n") if info.message else [""]
    lines.extend(f"    {safe(line, lines=False)}".rstrip() for line in message)
    return lines


def commit_changes(entry: CommitChanges, color: bool = False) -> str:
    """One commit and its records: a line each, or a full record change when it has one."""
    blocks = ["\n".join(commit_header(entry.commit, color))]
    lines = []
    for item in entry.records:
        kind = item.change
        if hasattr(item, "diff"):  # a Change, with its fields (show REV, log LABEL)
            blocks.append(record_change(cast("Change", item), color))
        else:
            style = CHANGE_STYLE.get(kind, "bold")
            lines.append(
                f"    {paint(kind.ljust(8), style, color)}  {safe(item.label, lines=False)}"
            )
    if lines or not entry.records:
        blocks.append("\n".join(lines) or "    (no record changes)")
    return "\n\n".join(blocks)


def history(entries: Sequence[CommitChanges], color: bool = False) -> str:
    """What `log` prints: commits newest first, a blank line between them."""
    return "\n\n".join(commit_changes(entry, color) for entry in entries)


def textconv(version: Version, raw: str) -> str:
    """A record as git's textconv shows it, stable and line-oriented so that git's line
    diff of two renderings reads like a record diff: one `field: value` line per field,
    one `field: item` line per item of a list, nested fields as `field.key: value`,
    multi-line text under `field:` with each line as `  | line`."""
    if version.data is None:
        return f"(unreadable: {safe(str(version.error), lines=False)})\n{safe(raw)}"
    lines: list[str] = []
    for key, value in version.data.items():
        lines.extend(_textconv_field(str(key), value))
    return "".join(f"{line}\n" for line in lines)


def _textconv_field(name: str, value: Any) -> list[str]:
    name = safe(name, lines=False)
    if isinstance(value, list):
        return [f"{name}: {inline(item)}" for item in value] or [f"{name}: []"]
    if isinstance(value, dict):
        out = [line for k, v in value.items() for line in _textconv_field(f"{name}.{k}", v)]
        return out or [f"{name}: {{}}"]
    if isinstance(value, str) and "\n" in value:
        body = value[:-1] if value.endswith("\n") else value
        return [f"{name}:"] + [
            f"  | {safe(line, lines=False)}".rstrip() for line in body.split("\n")
        ]
    return [f"{name}: {inline(value)}"]


def git_setup(result: SetupResult) -> str:
    """What `git-setup` did."""
    lines = []
    if result.commit:
        lines.append(f".gitattributes: {result.attributes}, committed in {result.commit[:10]}")
    else:
        lines.append(".gitattributes: already routes record files to jobshare")
    if result.config_changed:
        lines.append("git config (.git/config): set " + ", ".join(result.config_changed))
    else:
        lines.append("git config (.git/config): drivers already registered")
    lines.append(
        "Plain 'git diff', 'git log -p', 'git show', 'git merge' and 'git pull' now use "
        "jobshare's record rules in this clone."
    )
    return "\n".join(lines)


def doctor(report: DoctorReport, color: bool = False) -> str:
    """Each check as OK, FAIL with what to run, or `--` for optional set-up that is
    absent (not a failure), then a summary line."""
    lines = []
    for check in report.checks:
        if check.ok:
            mark = paint("OK  ", "green", color)
        elif check.optional:
            mark = paint("--  ", "yellow", color)
        else:
            mark = paint("FAIL", "bold+red", color)
        lines.append(f"{mark}  {check.name}: {safe(check.detail, lines=False)}")
        if not check.ok and check.fix:
            how = "to set up" if check.optional else "fix"
            lines.append(f"      {how}: {safe(check.fix, lines=False)}")
    failed = sum(1 for check in report.checks if not check.ok and not check.optional)
    optional = sum(1 for check in report.checks if not check.ok and check.optional)
    if failed:
        lines.append(f"{failed} problem(s) found")
    elif optional:
        lines.append(f"{optional} optional item(s) not set up; otherwise everything is set up")
    else:
        lines.append("everything is set up")
    return "\n".join(lines)
