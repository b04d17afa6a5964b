"""Contacts in and out: import, export, vdir sync."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

import click

from .. import interchange, render
from ..core import cards
from ..interchange import ImportItem, ImportResult, VdirSync
from .base import finish, json_option, open_store

CONTACT_KINDS = cards.KINDS
ACTIONS = ("added", "updated", "unchanged", "skipped")


def from_start(ctx: click.Context, path: str) -> Path:
    """A path as the user gave it, read from the folder `jobshare -C PATH` starts in (the
    current one without -C), as git -C reads its paths."""
    given = Path(path).expanduser()
    return given if given.is_absolute() else Path(ctx.obj["dir"]) / given


@click.command("import")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option(
    "--format",
    "format_",
    type=click.Choice(["auto", *cards.FORMATS]),
    default="auto",
    show_default=True,
    help="The files' format; auto tells vCard and each CSV by their content.",
)
@click.option(
    "--kind",
    type=click.Choice(CONTACT_KINDS),
    help="Kind of the cards that do not state theirs (a new contact without one: other).",
)
@click.option("--tag", "tags", multiple=True, help="Tag every imported contact (repeat for more).")
@click.option(
    "--map",
    "maps",
    multiple=True,
    metavar="COLUMN=FIELD",
    help="For a CSV: the contact field a column holds (repeat for more).",
)
@click.option("--dry-run", is_flag=True, help="Show what would be added, updated and skipped.")
@json_option
@click.pass_context
def import_(
    ctx: click.Context,
    files: tuple[str, ...],
    format_: str,
    kind: str | None,
    tags: tuple[str, ...],
    maps: tuple[str, ...],
    dry_run: bool,
    as_json: bool,
) -> None:
    """Import contacts from vCard or CSV files as one commit, without duplicates.

    Reads vCard 2.1, 3.0 and 4.0 (phones, Apple, Google, Outlook, Nextcloud,
    Thunderbird), Google's and Outlook's CSV, LinkedIn's Connections.csv, and any CSV
    with a header (--map). A card that matches a contact (its UID as the id, an
    email, a phone number, the website's host, a profile link) updates it field by
    field; the others are added. Bad cards are reported with file and line and
    skipped; importing a file twice changes nothing the second time.

    \b
    Examples:
      jobshare import ~/Downloads/contacts.vcf
      jobshare import Connections.csv --tag linkedin --dry-run
      jobshare import agencies.csv --map "Agency=organization" --map "Mail=emails"
    """
    store = open_store(ctx)
    mapping = cards.parse_mapping(maps) if maps else None
    files = tuple(str(from_start(ctx, f)) for f in files)
    shown = sys.stderr.isatty() and not as_json
    result = interchange.import_files(
        store,
        files,
        format=format_,
        kind=kind,
        tags=tags,
        mapping=mapping,
        dry_run=dry_run,
        progress=_progress if shown else interchange.no_progress,
    )
    for f in result.files:
        for problem in f.warnings:
            click.echo(str(problem), err=True)  # `file:line: card 3: warning: ...`
    if as_json:
        click.echo(render.envelope("import", result.to_json()))
    else:
        click.echo(import_text(result))


def _progress(done: int, total: int) -> None:
    if total >= 500:
        click.echo(f"\rImporting: {done}/{total} cards", err=True, nl=done == total)


def import_text(result: ImportResult) -> str:
    """An import for people: per file what was added, updated and skipped, and the
    fields kept as they were; then the commit (or, in a dry run, that none was made)."""
    verbs = {"added": "add", "updated": "update", "skipped": "skip"} if result.dry_run else {}
    lines = []
    for f in result.files:
        counts = {a: sum(i.action == a for i in f.items) for a in ACTIONS}
        lines.append(f"{f.source} ({f.format}, {f.encoding}): {_summary(counts, result.dry_run)}")
        for item in f.items:
            if item.action == "unchanged" and not item.kept:
                continue
            action = verbs.get(item.action, item.action)
            lines.append(f"  {action:9} {_item_text(item)}")
            for kept in item.kept:
                lines.append(
                    f"  {'kept':9} {item.label}:{kept.field} {render.value(kept.contact)!s} "
                    f"(the file has {render.value(kept.card)})"
                )
        if f.ignored:
            lines.append(f"  {f.ignored_summary()}")
    counts = result.counts()
    if result.dry_run:
        lines.append(
            f"Dry run: would add {counts['added']} and update {counts['updated']} contacts; "
            "nothing written"
        )
    elif result.commit is not None:
        lines.append(f"Committed {result.commit[:10]}: {(result.message or '').splitlines()[0]}")
    else:
        lines.append("Nothing new: every contact is already as the files have it")
    return "\n".join(lines)


def _summary(counts: dict[str, int], dry_run: bool) -> str:
    """`3 added, 1 skipped`; in a dry run `would add 3, skip 1; 2 unchanged`."""
    if not dry_run:
        return ", ".join(f"{n} {a}" for a, n in counts.items() if n) or "no contacts"
    verbs = {"added": "add", "updated": "update", "skipped": "skip"}
    would = ", ".join(f"{verbs[a]} {n}" for a, n in counts.items() if n and a in verbs)
    text = f"would {would}" if would else "nothing to do"
    return text + (f"; {counts['unchanged']} unchanged" if counts["unchanged"] else "")


def _item_text(item: ImportItem) -> str:
    if item.action == "skipped":
        return f"{item.where}: {item.reason}"
    label = item.label or "contacts/(new)"
    text = f"{label}  {item.name}"
    if item.changed:
        text += f": {', '.join(item.changed)}"
    if item.match:
        text += f" (matched by {item.match})"
    return text


@click.command()
@click.argument("labels", nargs=-1, metavar="[LABEL]...")
@click.option(
    "--format",
    "format_",
    type=click.Choice(interchange.EXPORT_FORMATS),
    default="vcard",
    show_default=True,
    help="vcard (one card per contact), csv (Google's, which Outlook imports too) or json.",
)
@click.option(
    "--vcard-version",
    type=click.Choice(cards.VERSIONS),
    default="4.0",
    show_default=True,
    help="vCard version: 3.0 for older phones.",
)
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="Write to FILE (at once).")
@click.option("--kind", type=click.Choice(CONTACT_KINDS), help="Only contacts of this kind.")
@click.option("--tag", help="Only contacts with this tag.")
@click.option("--search", help="Only contacts containing this text (any field, any case).")
@click.option(
    "--private",
    is_flag=True,
    help="Your private contacts too, each marked private (importing the file skips them).",
)
@click.pass_context
def export(
    ctx: click.Context,
    labels: tuple[str, ...],
    format_: str,
    vcard_version: str,
    output: str | None,
    kind: str | None,
    tag: str | None,
    search: str | None,
    private: bool,
) -> None:
    """Export contacts as vCard, Google CSV or JSON (all, or the LABELs and filters given).

    Each vCard's UID is the contact's id and REV its `updated`, so importing the
    export again changes nothing. Private contacts are left out unless --private;
    then each is marked (X-JOBSHARE-PRIVATE, a "Private" custom field, "private": true
    in JSON) and `jobshare import` skips it, so it never becomes shared.

    \b
    Examples:
      jobshare export --output contacts.vcf
      jobshare export --tag remote --format csv -o remote.csv
      jobshare export acme-recruiting-7k2q --vcard-version 3.0
      jobshare export --private -o everything.vcf
    """
    exported = interchange.export_contacts(
        open_store(ctx),
        labels,
        format=format_,
        version=vcard_version,
        kind=kind,
        tag=tag,
        search=search,
        private=private,
        output=from_start(ctx, output) if output is not None else None,
    )
    if exported.output is None:  # bytes as they are: vCard's CRLF, UTF-8 whatever the locale
        sys.stdout.flush()
        sys.stdout.buffer.write(exported.text.encode("utf-8"))
        sys.stdout.buffer.flush()
    else:
        n = exported.count
        click.echo(f"Exported {n} contact{'s' if n != 1 else ''} to {exported.output}")


@click.group()
def vdir() -> None:
    """Keep a vdir (khard's and vdirsyncer's folder of .vcf files) in step.

    \b
    Example:
      jobshare vdir sync ~/.contacts/jobs
    """


@vdir.command("sync")
@click.argument("directory", metavar="DIR", type=click.Path(file_okay=False))
@click.option("--tag", help="Only contacts with this tag; cards new in the folder get it.")
@click.option(
    "--propagate-deletes",
    is_flag=True,
    help="Delete from the repository the contacts whose card was deleted in the folder.",
)
@click.option(
    "--vcard-version",
    type=click.Choice(cards.VERSIONS),
    default="3.0",
    show_default=True,
    help="vCard version of the files written (3.0: what phones and khard expect).",
)
@json_option
@click.pass_context
def vdir_sync(
    ctx: click.Context,
    directory: str,
    tag: str | None,
    propagate_deletes: bool,
    vcard_version: str,
    as_json: bool,
) -> None:
    """Sync DIR and the repository's contacts both ways, one file `<id>.vcf` each.

    Contacts new or changed in the repository are written to DIR (files of unchanged
    ones are not touched); cards new or changed in DIR since the last sync come back
    as one commit; a contact changed on both sides is merged field by field, and a
    real conflict stops the sync like a pull's ('jobshare conflicts'). A card deleted
    in DIR is reported and kept unless --propagate-deletes.

    \b
    Example:
      jobshare vdir sync ~/.contacts/jobs --tag phone && vdirsyncer sync
    """
    result = interchange.sync_vdir(
        open_store(ctx),
        from_start(ctx, directory),
        tag=tag,
        propagate_deletes=propagate_deletes,
        version=vcard_version,
    )
    if as_json:
        click.echo(render.envelope("vdir-sync", result.to_json()))
    else:
        click.echo(vdir_text(result))
    finish(1 if result.conflicts else 0)


def vdir_text(result: VdirSync) -> str:
    """A vdir sync for people: files written and deleted, contacts changed, conflicts."""
    lines = [f"Created {result.folder}"] if result.created else []
    groups: Sequence[tuple[str, list[str]]] = (
        ("wrote", result.written),
        ("deleted", result.deleted),
        ("added", result.added),
        ("updated", result.updated),
        ("removed", result.removed),
        ("kept", result.kept),
        ("skipped", result.skipped),
        ("CONFLICT", result.conflicts),
    )
    for word, names in groups:
        lines += [f"  {word:9} {name}" for name in names]
    if result.kept:
        lines.append(
            f"{len(result.kept)} card(s) deleted in the folder are kept in the repository: "
            "sync with --propagate-deletes to delete them"
        )
    if result.conflicts:
        lines.append(
            "Nothing committed: resolve the conflicts ('jobshare conflicts', 'jobshare resolve "
            "LABEL --ours|--theirs'), then 'jobshare merge --continue' and sync again"
        )
    elif result.commit is not None:
        lines.append(f"Committed {result.commit[:10]}: {(result.message or '').splitlines()[0]}")
    n = len(result.written) + len(result.deleted)
    if not result.conflicts:
        lines.append(
            f"{result.folder}: {len(result.written)} written, {len(result.deleted)} deleted"
            if n
            else f"{result.folder} and the repository are in step"
        )
    return "\n".join(lines)


COMMANDS = (import_, export, vdir)
