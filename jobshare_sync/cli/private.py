"""The private side: note, share, unshare, private remote / status."""

from __future__ import annotations

import click

from .. import render
from ..private import moving, side, travel
from .base import finish, json_option, open_store


@click.command()
@click.argument("label")
@click.option("--set", "sets", multiple=True, metavar="FIELD=VALUE", help="Set a field.")
@click.option("--unset", "unsets", multiple=True, metavar="FIELD", help="Remove a field.")
@click.option("--edit", is_flag=True, help="Edit the note in $EDITOR, as YAML.")
@json_option
@click.pass_context
def note(
    ctx: click.Context,
    label: str,
    sets: tuple[str, ...],
    unsets: tuple[str, ...],
    edit: bool,
    as_json: bool,
) -> None:
    """Show or change your private note on any record, a friend's included.

    Fields: notes, tags, rating (1 to 5), day_rate, do_not_refer_to (handles).
    List fields take comma-separated items. The note lives on the private side:
    never pushed, never merged into the shared record. Without --set or --unset
    the note is shown.

    \b
    Examples:
      jobshare note acme --set rating=2 --set "notes=Pays 60 days late"
      jobshare note acme --set tags=slow-payer,agency --set do_not_refer_to=bob
      jobshare note acme --unset day_rate
      EDITOR=nano jobshare note acme --edit
    """
    store = open_store(ctx)
    if edit:
        if sets or unsets:
            raise click.UsageError("--edit goes without --set and --unset")

        def in_editor(name: str, text: str) -> str:
            from .records import _run_editor

            return _run_editor(store.state_dir / "edit" / name, text)

        target, kept, commit = side.edit_note(store, label, in_editor)
    else:
        target, kept, commit = side.save_note(store, label, sets, unsets)
    if as_json:
        payload = {"label": str(target.label), "note": kept, "commit": commit}
        payload["record"] = target.exists
        click.echo(render.envelope("note", payload))
        return
    if target.asked != target.label:
        click.echo(
            f"{target.asked} is an alias of {target.label}: the note is kept there", err=True
        )
    if target.exists == "gone":
        click.echo(f"{target.label} is gone (removed or combined away): its note is kept", err=True)
    if commit is not None:
        click.echo(f"Saved the private note on {target.label} in private commit {commit[:10]}")
    elif sets or unsets or edit:
        click.echo(f"private note on {target.label} unchanged")
    elif kept:
        click.echo(render.private_note(kept))
    else:
        click.echo(f"no private note on {target.label}")


@click.command()
@click.argument("label")
@click.pass_context
def share(ctx: click.Context, label: str) -> None:
    """Share a private record: one commit on your branch, then it leaves the private side.

    Friends see it at their next pull, as any record you add.

    \b
    Example:
      jobshare share my-direct-client-4k2p
    """
    moved = moving.share(open_store(ctx), label)
    commit = f" in commit {moved.shared_commit[:10]}" if moved.shared_commit else ""
    click.echo(f"Shared {moved.label}{commit}; it is no longer private")


@click.command()
@click.argument("label")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.pass_context
def unshare(ctx: click.Context, label: str, yes: bool) -> None:
    """Stop sharing a record from now on: keep it private, remove it from your branch.

    Friends who already pulled it keep their copy: nothing can take it back from
    them. Removing it from your branch follows the usual deletion rules.

    \b
    Example:
      jobshare unshare acme-recruiting-7k2q --yes
    """
    store = open_store(ctx)
    if not yes:
        click.echo(
            "Friends who already pulled this record keep their copy; jobshare cannot take it "
            "back. From now on it is private: removed from your shared branch (friends see "
            "a removal at their next pull) and kept on your private side.",
            err=True,
        )
        if not click.confirm("Stop sharing it?", default=False, err=True):
            click.echo("nothing changed", err=True)
            finish(1)
    moved = moving.unshare(store, label)
    if moved.shared_commit is None:
        click.echo(f"{moved.label} is already private; nothing changed")
        return
    click.echo(
        f"{moved.label} is private now (removed from your branch in {(moved.shared_commit or '')[:10]})"
    )


@click.group("private")
def private_() -> None:
    """The private side: its remote, and what it holds.

    \b
    Examples:
      jobshare private remote ssh://me@myserver/~/jobshare-private.git
      jobshare private status
    """


@private_.command("remote")
@click.argument("url", required=False)
@click.pass_context
def private_remote(ctx: click.Context, url: str | None) -> None:
    """Name (or show) the remote your private side syncs with: never origin or a friend's.

    \b
    Example:
      jobshare private remote ssh://me@myserver/~/jobshare-private.git
    """
    store = open_store(ctx)
    if url is None:
        found = travel.remote(store)
        click.echo(render.safe(travel.redacted(found)) if found else "no private remote")
        return
    shown = travel.set_remote(store, url)
    click.echo(f"The private side syncs with {render.safe(shown)} ('jobshare sync' carries it)")


@private_.command("status")
@json_option
@click.pass_context
def private_status(ctx: click.Context, as_json: bool) -> None:
    """What the private side holds: records, notes, notes on records that are gone.

    \b
    Example:
      jobshare private status --json
    """
    store = open_store(ctx)
    held = side.read_side(store)
    orphans = side.orphaned_notes(store, held)
    both = [str(label) for label in held.records if (store.root / label.path).is_file()]
    found = travel.remote(store)
    shown_remote = travel.redacted(found) if found else None
    payload = {
        "records": [str(label) for label in held.labels()],
        "notes": [str(label) for label in sorted(held.notes)],
        "orphaned_notes": [str(label) for label in orphans],
        "also_shared": both,
        "remote": shown_remote,
        "commit": held.tip,
    }
    if as_json:
        click.echo(render.envelope("private", payload))
        return
    click.echo(f"{len(held.records)} private record(s), {len(held.notes)} private note(s)")
    for label in orphans:
        click.echo(
            f"note on {label}: the record is gone; the note is kept ('jobshare note {label}')"
        )
    for twin in both:
        click.echo(f"{twin} is both shared and private: run 'jobshare share' or 'unshare' on it")
    click.echo(f"private remote: {render.safe(shown_remote or 'none')}")


COMMANDS = (note, share, unshare, private_)
