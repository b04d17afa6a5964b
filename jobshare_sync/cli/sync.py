"""Friends and sync: friend add|list|remove|pin, fetch, pull, push, status."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

import click

from .. import daily, render, sync
from ..core import merge
from ..errors import GitCommandError, JobshareError

if TYPE_CHECKING:
    from ..store import Store

from .base import error_line, finish, json_option, open_store, progress, quiet, warning_line


@click.group()
def friend() -> None:
    """Manage friends: the git remotes you pull job sources from.

    \b
    Example:
      jobshare friend add bob git@github.com:bob/jobs.git
    """


@friend.command("add")
@click.argument("name")
@click.argument("url")
@click.option("--branch", default="main", show_default=True, help="The friend's branch to pull.")
@click.pass_context
def friend_add(ctx: click.Context, name: str, url: str, branch: str) -> None:
    """Add a friend: any URL git accepts (a path, file://, git://, ssh://, https://).

    Their handle is read from their jobshare.yaml at the first fetch and pinned.

    \b
    Example:
      jobshare friend add bob git@github.com:bob/jobs.git
    """
    added = sync.add_friend(open_store(ctx), name, url, branch)
    click.echo(
        f"Added friend '{added.name}' ({sync.shown_url(added.url)}); 'jobshare sync' merges their sources (or 'jobshare pull {added.name}', them alone)"
    )


@friend.command("list")
@json_option
@click.pass_context
def friend_list(ctx: click.Context, as_json: bool) -> None:
    """List friends: name, URL, pinned handle and last fetched commit.

    \b
    Example:
      jobshare friend list --json
    """
    friends = sync.list_friends(open_store(ctx))
    if as_json:
        click.echo(render.envelope("friends", render.to_json(friends)))
    elif not friends:
        click.echo("no friends yet: add one with 'jobshare friend add NAME URL'")
    else:
        rows = [
            [f.name, sync.shown_url(f.url), f.handle or "(not fetched)", (f.fetched or "-")[:10]]
            for f in friends
        ]
        click.echo(render.table(rows, ["name", "url", "handle", "fetched"]))


@friend.command("remove")
@click.argument("name")
@click.pass_context
def friend_remove(ctx: click.Context, name: str) -> None:
    """Remove a friend (their remote and fetched branch; your records stay).

    \b
    Example:
      jobshare friend remove bob
    """
    sync.remove_friend(open_store(ctx), name)
    click.echo(f"Removed friend '{name}'")


@friend.command("pin")
@click.argument("name")
@click.argument("handle")
@click.pass_context
def friend_pin(ctx: click.Context, name: str, handle: str) -> None:
    """Re-pin a friend's handle, after they really changed it.

    \b
    Example:
      jobshare friend pin bob bob-builder
    """
    sync.pin_handle(open_store(ctx), name, handle)
    click.echo(f"'{name}' is now pinned to the handle '{handle}'")


@click.command()
@click.argument("friends", nargs=-1)
@json_option
@click.pass_context
def fetch(ctx: click.Context, friends: tuple[str, ...], as_json: bool) -> None:
    """Fetch friends (all of them when none is named) through git, changing no record.

    \b
    Example:
      jobshare fetch bob carol
    """
    store = open_store(ctx)
    show = sys.stderr.isatty() and not as_json
    results = sync.fetch(store, friends, show_progress=show, progress=progress)
    if as_json:
        click.echo(render.envelope("fetch", render.to_json(results)))
    for r in results:
        for w in r.warnings:
            warning_line(w)
        if not r.ok:
            error_line(r.message)
        elif not as_json:
            click.echo(
                f"{r.friend}: fetched {(r.commit or '')[:10]}"
                + (f" ({r.message})" if r.message else "")
            )
    if any(not r.ok for r in results):
        finish(GitCommandError.exit_code)


@click.command()
@click.argument("friends", nargs=-1)
@click.option(
    "--strategy",
    type=click.Choice(merge.STRATEGIES),
    help="Resolve every conflict up front: ours, theirs, or newest (by 'updated').",
)
@click.option(
    "--whole-record",
    is_flag=True,
    help="No field merging: any concurrent edit of a record is a conflict.",
)
@click.option("--no-fetch", is_flag=True, help="Merge what was fetched last, without fetching.")
@json_option
@click.pass_context
def pull(
    ctx: click.Context,
    friends: tuple[str, ...],
    strategy: str | None,
    whole_record: bool,
    no_fetch: bool,
    as_json: bool,
) -> None:
    """Fetch friends and merge their records into yours, field by field.

    Without conflicts: one merge commit per friend. With conflicts: nothing is
    committed, the conflicts are listed, and the exit code is 1; resolve them
    with 'jobshare resolve', then 'jobshare merge --continue'.

    \b
    Examples:
      jobshare pull bob
      jobshare pull --strategy newest
    """
    store = open_store(ctx)
    show = sys.stderr.isatty() and not as_json
    fetched, pulled = sync.pull(
        store,
        friends,
        strategy=strategy,
        whole_record=whole_record,
        do_fetch=not no_fetch,
        show_progress=show,
        progress=quiet if as_json else progress,
    )
    for r in fetched:
        if not r.ok:
            error_line(r.message)
    if as_json:
        click.echo(render.envelope("pull", render.to_json(pulled)))
    else:
        for outcome in pulled:
            for w in outcome.warnings:
                warning_line(w)
            click.echo(render.pulled(outcome))
    if any(p.conflicted for p in pulled):
        finish(1)
    if any(not r.ok for r in fetched):
        finish(GitCommandError.exit_code)


@click.command()
@click.argument("remote", default="origin")
@click.pass_context
def push(ctx: click.Context, remote: str) -> None:
    """Push the current branch (and nothing else) to your own remote; friends pull from there.

    \b
    Example:
      jobshare push            # to origin
    """
    click.echo(sync.push(open_store(ctx), remote, show_progress=sys.stderr.isatty()))


@click.command("sync")
@click.argument("friends", nargs=-1)
@click.option("--no-push", is_flag=True, help="Merge, but do not push to origin.")
@json_option
@click.pass_context
def sync_(ctx: click.Context, friends: tuple[str, ...], no_push: bool, as_json: bool) -> None:
    """The everyday command: merge your own remote (origin: your other machines), pull
    every friend (or those named), then push to origin.

    Your own remote is merged record by record, like a friend, under your own handle;
    the friends your other clones added are learned from it. At the first conflict it
    stops: resolve with 'jobshare resolve', then 'jobshare merge --continue' finishes
    the merge and carries on with the rest of the sync.

    \b
    Examples:
      jobshare sync
      jobshare sync bob --no-push
    """
    store = open_store(ctx)
    done = daily.sync(store, friends, push=not no_push, progress=quiet if as_json else progress)
    show_synced(done, as_json, lambda: sync_private(store, push=not no_push, as_json=as_json))
    if not as_json:  # what a sync without a remote or a friend could not do, and why
        if done.origin is None:
            click.echo(
                "no remote 'origin' (your own, where friends pull from): nothing merged "
                "from your other machines or pushed; add it with 'git remote add origin URL'"
            )
        if not friends and not done.fetched and not done.stopped:
            click.echo("no friends yet: add one with 'jobshare friend add NAME URL'")


def sync_private(store: Store, *, push: bool, as_json: bool) -> bool:
    """The private side's part of sync (when a private remote is named): one line on
    stderr, so that --json's output stays one envelope. Whether it failed."""
    from ..private import travel

    try:
        done = travel.sync_private(store, push=push)
    except JobshareError as e:
        error_line(str(e))
        return True
    if done is not None:
        for message in done.messages:
            warning_line(message)
        click.echo(render.safe(done.summary()), err=as_json)
    return False


def show_synced(done: daily.Synced, as_json: bool, then: Callable[[], bool] | None = None) -> None:
    """Print what a sync did (one summary), run `then` (the private side's part, which
    says whether it failed), and exit 1 at conflicts, 11 when a fetch failed."""
    for r in done.failed_fetches:
        error_line(r.message)
    if as_json:
        click.echo(render.envelope("sync", done.to_json()))
    else:
        if done.origin_pull is not None and not done.origin_pull.up_to_date:
            click.echo(render.pulled(done.origin_pull))
        elif done.origin is not None:
            click.echo(render.safe(done.origin))
        for name in done.learned:
            click.echo(f"learned friend '{name}' from your remote")
        for name in done.forgotten:
            click.echo(f"removed friend '{name}': removed on another of your clones")
        for name in done.followed:
            click.echo(f"updated friend '{name}' (URL, branch or handle) from your remote")
        for outcome in done.pulled:
            for w in outcome.warnings:
                warning_line(w)
            click.echo(render.pulled(outcome))
        if done.pushed is not None:
            click.echo(render.safe(done.pushed))
        if done.stopped:
            click.echo(
                "sync stopped at conflicts: 'jobshare merge --continue' carries on with the rest",
                err=True,
            )
    failed = then() if then is not None else False
    if done.stopped:
        finish(1)
    if done.failed_fetches or failed:
        finish(GitCommandError.exit_code)


@click.command()
@json_option
@click.pass_context
def status(ctx: click.Context, as_json: bool) -> None:
    """Show uncommitted record changes, a merge in progress, and what friends have new.

    \b
    Example:
      jobshare status
    """
    report = sync.status(open_store(ctx))
    click.echo(render.envelope("status", report) if as_json else render.status(report))


COMMANDS = (friend, fetch, pull, push, sync_, status)
