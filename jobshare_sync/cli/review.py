"""Reading changes: diff, log, incoming (show REV lives with show, in records.py)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import click

from .. import history, render, review, reviewtext

if TYPE_CHECKING:
    from ..store import Store

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
@click.option(
    "--private", is_flag=True, help="The private side: its last change, or private revisions."
)
@click.pass_context
def diff(
    ctx: click.Context,
    arguments: tuple[str, ...],
    stat: bool,
    as_json: bool,
    color: str,
    exit_code: bool,
    private: bool,
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
      jobshare diff --private            # the last change to the private side
    """
    store = open_store(ctx)
    if private:
        _private_diff(store, arguments, stat, as_json, color, exit_code)
        return
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


def _private_diff(
    store: Store,
    arguments: tuple[str, ...],
    stat: bool,
    as_json: bool,
    color: str,
    exit_code: bool,
) -> None:
    from ..core.diff import diff_stat
    from ..private.history import private_diff

    revisions = tuple(a for a in arguments if a != review.SEPARATOR)
    old, new, changes = private_diff(store, revisions)
    counts = diff_stat(c.diff for c in changes)
    if as_json:
        payload: Any = counts if stat else [c.to_json() for c in changes]
        click.echo(render.envelope("diffstat" if stat else "diff", payload))
    elif stat:
        page(reviewtext.change_stat(counts, old, new, use_color(color)), use_color(color))
    elif changes:
        painted = use_color(color)
        page(reviewtext.record_changes(changes, painted), painted)
    else:
        click.echo(f"no private changes ({old} → {new})", err=True)
    finish(1 if exit_code and changes else 0)


@click.command()
@click.argument("label", required=False)
@click.option(
    "-n", "--max-count", "limit", type=click.IntRange(min=0), help="Show at most N commits."
)
@click.option("--private", is_flag=True, help="The private side's commits instead.")
@output_options
@click.pass_context
def log(
    ctx: click.Context,
    label: str | None,
    limit: int | None,
    private: bool,
    as_json: bool,
    color: str,
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
      jobshare log --private -n 3
    """
    store = open_store(ctx)
    if private:
        from ..private.history import private_log

        entries = private_log(store, limit)
        if label is not None:
            folder, _, wanted = label.strip("/").removesuffix(".yaml").rpartition("/")
            kept = []
            for entry in entries:
                entry.records = [
                    r
                    for r in entry.records
                    if r.label.rsplit("/", 1)[-1].startswith(wanted) and folder in r.label
                ]
                if entry.records:
                    kept.append(entry)
            entries = kept
        _show_log(entries, as_json, color, "no private commits")
        return
    followed = history.parse_log_label(store, label) if label is not None else None
    entries = history.log(store, followed, limit)
    if limit != 0:
        _show_log(
            entries,
            as_json,
            color,
            f"no commit changed {followed}" if followed else "no commits yet",
        )
    else:
        _show_log(entries, as_json, color, None)


def _show_log(entries: Sequence[Any], as_json: bool, color: str, none: str | None) -> None:
    if as_json:
        click.echo(render.envelope("log", [entry.to_json() for entry in entries]))
    elif entries:
        painted = use_color(color)
        page(reviewtext.history(entries, painted), painted)
    elif none is not None:
        click.echo(none, err=True)


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
