"""One source, one record: duplicates, combine, rename."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from collections.abc import Set as AbstractSet
from typing import Any

import click

from .. import identity, render
from ..core.identity import DuplicateGroup
from .base import json_option, open_store


@click.command()
@click.argument("labels", nargs=-1)
@click.option(
    "--min-score",
    type=click.FloatRange(0, 1),
    default=None,
    metavar="S",
    help="Only matches scoring at least S (0..1, default 0.5).",
)
@json_option
@click.pass_context
def duplicates(
    ctx: click.Context, labels: tuple[str, ...], min_score: float | None, as_json: bool
) -> None:
    """List contacts that are likely the same source, best first, with the reasons.

    Same email, same phone number, same web site, similar names or organisations
    (case, accents and legal forms such as Ltd or GmbH ignored). With LABELs, only
    the groups that hold one of them. Nothing is changed: combine them with
    'jobshare combine'.

    \b
    Examples:
      jobshare duplicates
      jobshare duplicates acme-recruiting-7k2q --json
    """
    store = open_store(ctx)
    groups = identity.duplicates(store, labels, min_score=min_score)
    shared = {label.id for label in store.worktree_files()[0] if label.folder == "contacts"}
    private = set(identity.private_contacts(store)) - shared
    if as_json:
        payload = [g.to_json() | _private_ids(g, private) for g in groups]
        click.echo(render.envelope("duplicates", payload))
        return
    if not groups:
        click.echo("no likely duplicates")
        return
    click.echo("\n".join(_group_text(g, private) for g in groups))


def _private_ids(group: DuplicateGroup, private: set[str]) -> dict[str, list[str]]:
    """The group's private contacts, for --json (absent when there are none)."""
    found = [i for i in group.ids if i in private]
    return {"private": found} if found else {}


def _group_text(group: DuplicateGroup, private: AbstractSet[str] = frozenset()) -> str:
    shown = [f"contacts/{i}" + (" [private]" if i in private else "") for i in group.ids]
    lines = [f"{group.score:.2f}  " + "  ".join(shown)]
    for match in group.matches:
        for reason in match.reasons:
            same = (
                repr(reason.left)
                if reason.left == reason.right
                else f"{reason.left!r} / {reason.right!r}"
            )
            lines.append(f"      {reason.field}: {same} ({match.left}, {match.right})")
    return render.safe("\n".join(lines) + "\n", lines=True)


@click.command()
@click.argument("keep")
@click.argument("others", nargs=-1, required=True, metavar="OTHER...")
@click.option(
    "--field",
    "fields",
    multiple=True,
    metavar="NAME=VALUE",
    help="The value of a single-valued field where the records differ (repeatable).",
)
@click.option("--dry-run", is_flag=True, help="Show the result; write nothing.")
@json_option
@click.pass_context
def combine(
    ctx: click.Context,
    keep: str,
    others: tuple[str, ...],
    fields: tuple[str, ...],
    dry_run: bool,
    as_json: bool,
) -> None:
    """Combine contacts that are one source into KEEP, in one commit.

    Nothing is lost: every email, phone, industry and tag of each record is kept,
    and each one's notes under a line naming it. Where single values (name, kind,
    role, website, ...) differ, a terminal asks; otherwise --field chooses, or KEEP's
    value stands and the commit message lists the values not taken. Each OTHER
    becomes an alias of KEEP: its label, referrals naming it and friends who hold it
    all lead to KEEP.

    \b
    Examples:
      jobshare combine acme-recruiting-7k2q acme-ltd-x9z3
      jobshare combine acme-recruiting-7k2q acme-ltd-x9z3 --field name="Acme Recruiting Ltd"
      jobshare combine acme-recruiting-7k2q acme-ltd-x9z3 --dry-run
    """
    store = open_store(ctx)
    chosen = identity.parse_fields(fields)
    interactive = not as_json and not dry_run and sys.stdin.isatty() and sys.stdout.isatty()
    done = identity.combine_contacts(
        store, keep, others, fields=chosen, ask=_ask if interactive else None, dry_run=dry_run
    )
    if as_json:
        click.echo(render.envelope("combine", done.to_json() | {"dry_run": dry_run}))
        return
    if dry_run:
        click.echo(render.record(done.label, done.record, done.raw))
        click.echo(render.safe("\n(dry run) " + done.message, lines=True), nl=False)
        return
    assert done.commit is not None
    click.echo(render.safe(done.message.splitlines()[0] + f" in commit {done.commit[:10]}"))
    for line in done.message.splitlines()[2:]:
        click.echo(render.safe("  " + line))


def _ask(name: str, values: Sequence[tuple[str, Any]]) -> Any:
    """Which value of `name` to keep, asked on the terminal (the first is the default)."""
    click.echo(f"The records differ in {name}:", err=True)
    for n, (record_id, value) in enumerate(values, 1):
        click.echo(render.safe(f"  {n}. {value!r} (contacts/{record_id})"), err=True)
    pick = click.prompt("Keep which", type=click.IntRange(1, len(values)), default=1, err=True)
    return values[pick - 1][1]


@click.command()
@click.argument("label")
@click.argument("new_id", metavar="NEW-ID")
@json_option
@click.pass_context
def rename(ctx: click.Context, label: str, new_id: str, as_json: bool) -> None:
    """Give a contact a better id; the old id stays as an alias leading to it.

    Friends who hold the old id follow it when they pull, and referrals naming it
    still find the contact.

    \b
    Example:
      jobshare rename acme-recruiting-7k2q acme-recruiting
    """
    done = identity.rename_contact(open_store(ctx), label, new_id)
    if as_json:
        click.echo(render.envelope("rename", done.to_json()))
        return
    commit = f" in commit {done.commit[:10]}" if done.commit else ""
    click.echo(f"Renamed {done.old} to {done.new}{commit}")


COMMANDS = (duplicates, combine, rename)
