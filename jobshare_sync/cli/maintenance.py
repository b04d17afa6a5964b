"""Setting up and checking: demo, git-setup, doctor, and the hidden commands git runs
(textconv, merge-driver)."""

from __future__ import annotations

import click

from .. import checkup, drivers, owner, render, reviewtext
from ..store import CONFIG_FILE
from .base import (
    closest_command,
    error_line,
    finish,
    json_option,
    open_store,
    output_options,
    use_color,
)


@click.command()
@click.argument("directory", required=False, type=click.Path(file_okay=False))
def demo(directory: str | None) -> None:
    """Build a repository from the bundled examples and walk through the main commands.

    Works in a new temporary folder unless DIRECTORY is given (it must be empty or new).

    \b
    Example:
      jobshare demo /tmp/jobshare-demo
    """
    from .. import demo as demo_module

    finish(demo_module.run(directory))


@click.command("git-setup", short_help="Register git's textconv and merge-driver for record files.")
@click.option(
    "--pre-commit-hook",
    "hook",
    is_flag=True,
    help="Also install a pre-commit hook that validates the record files being committed.",
)
@json_option
@click.pass_context
def git_setup(ctx: click.Context, hook: bool, as_json: bool) -> None:
    """Make plain git diff, log -p, show, merge and pull use record semantics.

    Writes .gitattributes (contacts/*.yaml and referrals/*.yaml use the 'jobshare'
    diff and merge drivers; other lines are kept) and commits it, and registers in
    .git/config a textconv ('jobshare textconv') that renders a record as one
    'field: value' line per field, and a merge driver ('jobshare merge-driver')
    that merges record files field by field, leaving conflict markers around the
    fields both sides changed. Both run this Python, by its absolute path. Running
    it again is harmless; run it in every clone (git config is not shared).

    \b
    Example:
      jobshare git-setup && git diff HEAD~1
    """
    store = open_store(ctx)
    result = drivers.git_setup(store)
    installed = drivers.install_hook(store) if hook else None
    if as_json:
        extra = {"hook": installed} if hook else {}
        click.echo(render.envelope("git-setup", {**result.to_json(), **extra}))
    else:
        click.echo(reviewtext.git_setup(result))
        if installed is not None:
            click.echo(installed)


@click.command()
@output_options
@click.pass_context
def doctor(ctx: click.Context, as_json: bool, color: str) -> None:
    """Check what is set up: git, the drivers, schema comments and copy, friends.

    Each item is OK or says what to run to fix it. Exit 0 if all are OK, else 1.

    \b
    Example:
      jobshare doctor
    """
    report = checkup.doctor(open_store(ctx))
    if as_json:
        click.echo(render.envelope("doctor", report.to_json()))
    else:
        painted = use_color(color)
        click.echo(reviewtext.doctor(report, painted), color=painted)
    finish(0 if report.ok else 1)


@click.command(hidden=True)
@click.argument("path", type=click.Path(dir_okay=False, exists=True))
def textconv(path: str) -> None:
    """Print a record file as plain lines for git's diff (set up by git-setup).

    One 'field: value' line per field, one 'field: item' line per list item,
    multi-line text under its field, so that git's line diff reads as a record diff.

    \b
    Example:
      git config diff.jobshare.textconv "jobshare textconv"
    """
    version, raw = drivers.textconv_version(path)
    click.echo(reviewtext.textconv(version, raw).encode("utf-8"), nl=False)


@click.command("help")
@click.argument("command", nargs=-1)
@click.pass_context
def help_(ctx: click.Context, command: tuple[str, ...]) -> None:
    """Show the help of jobshare, or of one command (as COMMAND --help does).

    \b
    Examples:
      jobshare help
      jobshare help friend add
    """
    root = ctx.find_root()
    group = root.command
    at: click.Context = root
    for name in command:
        if not isinstance(group, click.Group):
            break
        found = group.get_command(at, name)
        if found is None:
            raise click.UsageError(
                f"no command '{' '.join(command)}': "
                + closest_command(name, group.list_commands(at))
            )
        at = click.Context(found, info_name=name, parent=at)
        group = found
    click.echo(at.get_help(), color=ctx.color)


@click.command("owner")
@click.option("--restore", is_flag=True, help="Bring back your jobshare.yaml from history.")
@click.option("--accept", is_flag=True, help="Take the owner jobshare.yaml names as yours.")
@click.pass_context
def owner_(ctx: click.Context, restore: bool, accept: bool) -> None:
    """Show this clone's owner, or repair a jobshare.yaml that plain git replaced.

    \b
    Examples:
      jobshare owner
      jobshare owner --restore   # after a plain 'git merge' of a friend's branch
    """
    store = open_store(ctx)
    if restore and accept:
        raise click.UsageError("give one of --restore or --accept")
    if restore:
        click.echo(owner.restore(store))
    elif accept:
        click.echo(owner.accept(store))
    else:
        recorded = owner.recorded_owner(store) or "(not recorded yet)"
        click.echo(f"this clone's owner: {recorded}; {CONFIG_FILE} names: {store.handle}")


@click.command("merge-driver", hidden=True)
@click.argument("base", type=click.Path(exists=True, dir_okay=False))
@click.argument("ours", type=click.Path(exists=True, dir_okay=False))
@click.argument("theirs", type=click.Path(exists=True, dir_okay=False))
@click.argument("path")
def merge_driver(base: str, ours: str, theirs: str, path: str) -> None:
    """git's merge driver for record files (set up by git-setup): %O %A %B %P.

    Merges the three versions field by field with the record rules and writes the
    result to OURS (exit 0), or writes conflict markers around the fields both
    sides changed differently (exit 1, and git reports a conflict).

    \b
    Example:
      git config merge.jobshare.driver "jobshare merge-driver %O %A %B %P"
    """
    result = drivers.merge_driver(base, ours, theirs, path)
    for message in result.messages:
        error_line(message)
    if not result.clean:
        error_line(f"conflict in {path}: {', '.join(result.conflicts)}")
    finish(0 if result.clean else 1)


COMMANDS = (demo, git_setup, doctor, owner_, help_, textconv, merge_driver)
