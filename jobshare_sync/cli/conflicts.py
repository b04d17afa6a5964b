"""A pull that stopped at conflicts: conflicts, resolve, merge --continue|--abort."""

from __future__ import annotations

import click

from .. import conflicts as conflicts_module
from .. import daily, finishing, render
from .base import finish, json_option, open_store, progress
from .sync import show_synced, sync_private


@click.command()
@json_option
@click.pass_context
def conflicts(ctx: click.Context, as_json: bool) -> None:
    """List the conflicts of the merge in progress: per field, base, ours and theirs.

    \b
    Example:
      jobshare conflicts --json
    """
    store = open_store(ctx)
    current = conflicts_module.merge_status(store)
    views = current.conflicts if current is not None else []
    git_merge = store.git_merge_paths()
    if as_json:
        click.echo(render.envelope("conflicts", render.to_json(views)))
    elif git_merge is not None and current is None:
        click.echo("git is in the middle of a merge: finish or abort git's merge first")
        for path in git_merge:
            click.echo(render.safe(f"  unmerged {path}", lines=False))
    elif current is None:
        click.echo("no merge in progress")
    else:
        click.echo(
            f"Merging {current.friend}: {len(current.unresolved)} of {len(views)} unresolved"
        )
        click.echo(render.conflicts(views))


@click.command()
@click.argument("labels", nargs=-1, required=True)
@click.option("--ours", is_flag=True, help="Take your version.")
@click.option("--theirs", is_flag=True, help="Take the friend's version.")
@click.option("--base", is_flag=True, help="Take the version from before both edits.")
@click.option("--delete", is_flag=True, help="Delete the record.")
@click.option(
    "--file", "file", type=click.Path(dir_okay=False), help="Take the record from this YAML file."
)
@click.option(
    "--field",
    "field_value",
    metavar="NAME=VALUE",
    help="Set one field (VALUE is YAML: text, [a, b], ...).",
)
@click.pass_context
def resolve(
    ctx: click.Context,
    labels: tuple[str, ...],
    ours: bool,
    theirs: bool,
    base: bool,
    delete: bool,
    file: str | None,
    field_value: str | None,
) -> None:
    """Resolve conflicts: whole records (contacts/<id>), single fields (contacts/<id>:phones) or globs.

    The resolved record is validated before it is accepted.

    \b
    Examples:
      jobshare resolve contacts/acme-7k2q --theirs
      jobshare resolve contacts/acme-7k2q:phones --ours
      jobshare resolve 'contacts/*' --ours
      jobshare resolve contacts/acme-7k2q --field 'name=Acme Recruiting Ltd'
    """
    flags = (ours, theirs, base, delete)
    sides = [name for name, flag in zip(conflicts_module.SIDES, flags, strict=True) if flag]
    side = sides[0] if sides else None
    chosen = sides + [x for x in (file, field_value) if x is not None]
    if len(chosen) != 1:
        raise click.UsageError(
            "give exactly one of --ours, --theirs, --base, --delete, --file, --field"
        )
    if field_value is not None and any(":" in label for label in labels):
        raise click.UsageError(
            "--field names the field itself: give the record label without ':field'"
        )
    done = conflicts_module.resolve(
        open_store(ctx), labels, side=side, file=file, field_value=field_value
    )
    for item in done:
        click.echo(f"resolved {render.safe(item, lines=False)}")


@click.command("merge")
@click.option(
    "--continue", "cont", is_flag=True, help="Commit the merge once every conflict is resolved."
)
@click.option("--abort", is_flag=True, help="Forget the merge: everything is as before the pull.")
@click.pass_context
def merge_(ctx: click.Context, cont: bool, abort: bool) -> None:
    """Finish (--continue) or undo (--abort) a pull that stopped at conflicts.

    \b
    Examples:
      jobshare merge --continue
      jobshare merge --abort
    """
    if cont == abort:
        raise click.UsageError("give one of --continue or --abort")
    store = open_store(ctx)
    if abort:
        click.echo(finishing.abort(store))
        return
    rest = daily.pending(store)
    commit, left = finishing.finish(store)
    if left:
        click.echo(f"{len(left)} conflict(s) still unresolved:", err=True)
        for label in left:
            click.echo(f"  {label}")
        click.echo(
            "resolve them with 'jobshare resolve', then run 'jobshare merge --continue' again",
            err=True,
        )
        finish(1)
    click.echo(f"Merge committed: {(commit or '')[:10]}")
    if rest is not None:
        click.echo("Carrying on with the sync")
        push = bool(rest.get("push", True))
        show_synced(
            daily.carry_on(store, rest, progress=progress),
            False,
            lambda: sync_private(store, push=push, as_json=False),  # the sync's last part
        )


COMMANDS = (conflicts, resolve, merge_)
