"""Reading changes: diff, log, incoming (show REV lives with show, in records.py)."""

from __future__ import annotations

import click

from .. import history, render, review, reviewtext
from .base import finish, open_store, output_options, page, progress, quiet, use_color


class SeparatedArguments(click.Command):
    """Keeps the place of `--` among the arguments, so `diff REV -- LABEL` is unambiguous.

    click drops the `--` itself; a second one right after it survives as an argument.
    """

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if review.SEPARATOR in args:
            at = args.index(review.SEPARATOR)
            args = [*args[: at + 1], review.SEPARATOR, *args[at + 1 :]]
        return super().parse_args(ctx, args)


@click.command(cls=SeparatedArguments)
@click.argument("arguments", nargs=-1, metavar="[REV [REV2]] [LABEL...] [-- LABEL...]")
@click.option("--stat", is_flag=True, help="Only count added, removed and modified records.")
@output_options
@click.option("--exit-code", is_flag=True, help="Exit 1 if anything differs, 0 if not.")
@click.pass_context
def diff(
    ctx: click.Context,
    arguments: tuple[str, ...],
    stat: bool,
    as_json: bool,
    color: str,
    exit_code: bool,
) -> None:
    """Show what changed, record by record and field by field.

    With no revision: your uncommitted record files (new, changed, deleted) against
    HEAD. With REV: that revision against the working tree. With REV REV2: one
    against the other (A..B is the same). A...B: what B changed since it forked from
    A. Changed fields show old and new values, list fields the items added (+) and
    removed (-), notes a line diff.

    An argument is a revision if git can resolve it, unless it contains contacts/ or
    referrals/; the rest are labels (contacts/<id>, a bare id, a folder or a glob)
    that limit the diff. Put labels after -- to be sure.

    \b
    Examples:
      jobshare diff
      jobshare diff HEAD~3 contacts/acme-recruiting-7k2q
      jobshare diff main...bob/main --stat
      jobshare diff HEAD~1 HEAD --json
    """
    store = open_store(ctx)
    if review.SEPARATOR in arguments:
        at = arguments.index(review.SEPARATOR)
        before, after = arguments[:at], arguments[at + 1 :]
    else:
        before, after = arguments, ()
    revisions, labels = review.split_arguments(store, before, after)
    result = review.diff(store, revisions, labels)
    for alias, survivor in result.aliases.items():
        click.echo(f"{alias} is an alias of {survivor}: showing both", err=True)
    painted = use_color(color)
    if as_json:
        payload = result.stat() if stat else result.to_json()
        click.echo(render.envelope("diffstat" if stat else "diff", payload))
    elif stat:
        page(reviewtext.change_stat(result.stat(), result.old, result.new, painted), painted)
    elif result.changes:
        page(reviewtext.record_changes(result.changes, painted), painted)
    else:
        click.echo(f"no record changes ({result.old} → {result.new})", err=True)
    finish(1 if exit_code and result.changes else 0)


@click.command()
@click.argument("label", required=False)
@click.option(
    "-n", "--max-count", "limit", type=click.IntRange(min=0), help="Show at most N commits."
)
@output_options
@click.pass_context
def log(
    ctx: click.Context, label: str | None, limit: int | None, as_json: bool, color: str
) -> None:
    """List commits, newest first, with the records each added, modified or removed.

    A merge lists what it brought in (against its first parent). With LABEL, only
    the commits that changed that record, following it through merges from every
    friend: each change is credited to the commit (and author) that made it, and a
    merge is listed only when it made a new combined version. Each shows the fields
    that changed.

    \b
    Examples:
      jobshare log -n 5
      jobshare log contacts/acme-recruiting-7k2q --json
    """
    store = open_store(ctx)
    followed = history.parse_log_label(store, label) if label is not None else None
    entries = history.log(store, followed, limit)
    if as_json:
        click.echo(render.envelope("log", [entry.to_json() for entry in entries]))
    elif entries:
        painted = use_color(color)
        page(reviewtext.history(entries, painted), painted)
    elif limit != 0:
        click.echo(f"no commit changed {followed}" if followed else "no commits yet", err=True)


@click.command()
@click.argument("friend_name", metavar="FRIEND")
@output_options
@click.pass_context
def incoming(ctx: click.Context, friend_name: str, as_json: bool, color: str) -> None:
    """Show what 'jobshare pull FRIEND' would bring, and what would conflict; change nothing.

    Fetches the friend's branch without updating any ref, lists their record
    changes since your common history, then what a pull would add, update and
    remove, and which records would conflict and why.

    \b
    Example:
      jobshare incoming bob
    """
    store = open_store(ctx)
    found = review.incoming(store, friend_name, progress=quiet if as_json else progress)
    if as_json:
        click.echo(render.envelope("incoming", found.to_json()))
    else:
        painted = use_color(color)
        page(reviewtext.incoming(found, painted), painted)


COMMANDS = (incoming, diff, log)
