"""One's own records: init, add, edit, rm, commit, list, show, validate, schema."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import click

from .. import editing, history, reading, render, reviewtext, validation, workspace
from ..core import records, schema
from ..core.records import Label
from ..errors import InvalidRecordError, JobshareError, LabelError, ReferralError
from ..store import Store
from .base import (
    finish,
    json_option,
    open_store,
    output_options,
    page,
    use_color,
    warning_line,
)

CONTACT_KINDS = ("recruiter", "client", "agency", "service-business", "freelancer", "other")


@click.command()
@click.argument("path", required=False, type=click.Path(file_okay=False))
@click.option("--handle", help="Short name friends know you by (default: from your email).")
@click.option("--name", help="Your full name (default: git's user.name).")
@click.option("--email", help="Your email (default: git's user.email).")
@click.option(
    "--region",
    metavar="CC",
    help="Your country (GB, DE, US...) for phone numbers without a country code "
    "(default: from your locale). Run init again with --region to change it.",
)
@json_option
@click.pass_context
def init(
    ctx: click.Context,
    path: str | None,
    handle: str | None,
    name: str | None,
    email: str | None,
    region: str | None,
    as_json: bool,
) -> None:
    """Create (or adopt) a jobshare repository; running it twice is harmless.

    \b
    Examples:
      jobshare init ~/jobshare --handle alice --name "Alice Example" --email alice@example.com
      jobshare init --region DE     # phone numbers without +CC are German ones
    """
    target = path if path is not None else ctx.obj["dir"]
    result = workspace.init_repository(target, handle, name, email, region)
    if as_json:
        click.echo(
            render.envelope(
                "init",
                {
                    "root": str(result.root),
                    "handle": result.handle,
                    "created_repo": result.created_repo,
                    "created_config": result.created_config,
                    "commit": result.commit,
                    "region": result.region,
                },
            )
        )
        return
    if result.created_config:
        click.echo(f"Created a jobshare repository for '{result.handle}' in {result.root}")
    elif result.commit:
        click.echo(f"Updated the jobshare files in {result.root}")
    else:
        click.echo(
            f"{result.root} is already a jobshare repository (owner '{result.handle}'); nothing to do"
        )


# --- adding, editing, removing -------------------------------------------------------


@click.group()
def add() -> None:
    """Add a record (a contact) and commit it.

    \b
    Example:
      jobshare add contact --name "Acme Recruiting" --kind agency
    """


@add.command("contact")
@click.option("--name", required=True, help="The person's or organisation's name.")
@click.option(
    "--kind",
    type=click.Choice(CONTACT_KINDS),
    default="other",
    show_default=True,
    help="What sort of job source.",
)
@click.option(
    "--organization", "--org", "organization", help="The organisation a person works for."
)
@click.option("--role", help="The person's role, e.g. 'Tech recruiter'.")
@click.option("--email", "emails", multiple=True, help="An email address (repeat for more).")
@click.option(
    "--phone",
    "phones",
    multiple=True,
    help="A phone number, e.g. '+44 20 7946 0000' or '(415) 555-0100 ext. 12' (repeat for more).",
)
@click.option("--website", help="Web site: https://acme.example (acme.example gets https://).")
@click.option("--location", help="Where they are or hire, e.g. 'London, UK'.")
@click.option("--industry", "industries", multiple=True, help="An industry (repeat for more).")
@click.option("--tag", "tags", multiple=True, help="A tag such as remote (repeat for more).")
@click.option("--notes", help="Free text notes.")
@click.option("--id", "record_id", help="Choose the id instead of slug-plus-random-suffix.")
@click.option("--no-commit", is_flag=True, help="Write the file but do not commit it.")
@click.option(
    "--private", is_flag=True, help="Keep it to yourself: on the private side, never pushed."
)
@json_option
@click.pass_context
def add_contact(
    ctx: click.Context,
    record_id: str | None,
    no_commit: bool,
    private: bool,
    as_json: bool,
    **fields: Any,
) -> None:
    """Write contacts/<id>.yaml in canonical form, validate it and commit it.

    Values are trimmed and kept in Unicode NFC; emails, tags and industries count once
    whatever their case, phone numbers once however they are written. Phones may be
    written as people do: +44 20 7946 0000, (415) 555-0100, +1 (415) 555-0100 ext. 12,
    +49 (0)40 123456; one without a country code is read with your region (see
    'jobshare init --region'). A web site without https:// gets it (and you are told).

    \b
    Examples:
      jobshare add contact --name "Acme Recruiting" --kind agency \\
        --email jobs@acme.example --phone "+44 20 7946 0000" \\
        --website https://acme.example --industry fintech --tag remote
      jobshare add contact --name "Zoë Łukasiewicz" --kind recruiter \\
        --phone "(415) 555-0100 ext. 12" --website acme.example \\
        --notes $'Ask for Dana.\\nPays on time.'
      jobshare add contact --name "My Direct Client Ltd" --kind client --private
    """
    values = {k: list(v) if isinstance(v, tuple) else v for k, v in fields.items()}
    if private:
        from ..private import side

        saved = side.add_private_contact(open_store(ctx), values, record_id)
    else:
        saved = workspace.add_contact(open_store(ctx), values, record_id, commit=not no_commit)
    for notice in saved.notices:
        click.echo(f"note: {render.safe(notice)}", err=True)
    if as_json:
        click.echo(render.envelope("add", saved.to_json()))
    elif saved.commit:
        name = render.safe(saved.data["name"], lines=False)
        where = "private " if private else ""
        click.echo(f"Added {where}{saved.label} ({name}) in commit {saved.commit[:10]}")
    else:
        click.echo(f"Wrote {saved.label.path} (not committed: run 'jobshare commit')")


@click.command()
@click.argument("label")
@click.option("--no-commit", is_flag=True, help="Save the file but do not commit it.")
@click.pass_context
def edit(ctx: click.Context, label: str, no_commit: bool) -> None:
    """Open a record in $EDITOR; commit it once it is valid.

    An invalid result is re-opened with the problems shown as comments at the top;
    saving it unchanged gives up. Leaving the record unchanged commits nothing.

    \b
    Example:
      EDITOR=nano jobshare edit acme-recruiting-7k2q
    """
    edited = editing.edit_record(open_store(ctx), label, _run_editor, commit=not no_commit)
    if edited.gave_up:
        click.echo(f"gave up: {edited.label} left as it was", err=True)
        finish(1)
    if edited.saved is None:
        click.echo(f"{edited.label} unchanged; nothing committed")
    else:
        click.echo(f"Saved {edited.label}{_committed(edited.saved)}")


def _run_editor(path: Path, text: str) -> str:
    """`text` written at `path`, as the user left it in $VISUAL or $EDITOR (click's
    choice when neither is set)."""
    editor = os.environ.get("VISUAL") or os.environ.get("EDITOR")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    try:
        click.edit(filename=str(path), editor=editor)
    except click.ClickException as e:
        raise JobshareError(
            f"could not run the editor: {e.format_message()}; set $EDITOR"
        ) from None
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise InvalidRecordError(
            f"the editor saved bytes that are not UTF-8 (at byte {e.start}): nothing saved; "
            "save the file as UTF-8 and edit again"
        ) from None


def _committed(saved: workspace.Saved) -> str:
    return f" in commit {saved.commit[:10]}" if saved.commit else " (not committed)"


@click.command()
@click.argument("labels", nargs=-1, required=True)
@click.option("--no-commit", is_flag=True, help="Delete the file but do not commit.")
@click.option("--force", is_flag=True, help="Remove a contact even if referrals name it.")
@click.pass_context
def rm(ctx: click.Context, labels: tuple[str, ...], no_commit: bool, force: bool) -> None:
    """Remove records and commit the removal.

    A contact that a referral names as its client (whatever the referral's status) is
    kept, and the referrals are listed, unless --force (or unless they are removed in
    the same command); with --force, the referrals that then name a contact that is
    gone are named. Private records are removed from the private side (with their notes).

    \b
    Example:
      jobshare rm contacts/acme-recruiting-7k2q
    """
    store = open_store(ctx)
    try:
        found_all = [reading.find_label(store, text) for text in labels]  # all, or none goes
    except LabelError:
        from ..private import side

        own = side.remove_private(store, labels)  # private records: from the private side
        if own is None:
            raise
        for label in own:
            click.echo(f"Removed private {label} (never shared)")
        return
    if not no_commit:
        store.branch_ref()  # a detached HEAD is said first: nothing could be committed
    for found in found_all:  # what must stay is refused before what --force may override
        workspace.check_removable(store, found)
    removing = set(found_all)
    contacts = {label.id for label in found_all if label.folder == "contacts"}
    named = reading.naming_clients(store, contacts)
    kept = {c: [r for r in refs if r not in removing] for c, refs in named.items()}
    left = "; ".join(
        f"contacts/{c} by {', '.join(str(r) for r in refs)}"
        for c, refs in sorted(kept.items())
        if refs
    )
    if left and not force:
        raise ReferralError(
            f"referrals name the contact as their client ({left}): nothing removed; "
            "remove or change those referrals first, or use --force"
        )
    for found in dict.fromkeys(found_all):
        saved = workspace.remove_record(store, found, commit=not no_commit)
        click.echo(f"Removed {found}{_committed(saved)}")
    if left:
        warning_line(f"these referrals now name a client that is gone: {left}")


@click.command()
@click.option("-m", "--message", help="Commit message (default: a summary of the changed records).")
@json_option
@click.pass_context
def commit(ctx: click.Context, message: str | None, as_json: bool) -> None:
    """Validate and commit every record file you changed by hand.

    Nothing is committed if any changed file is invalid.

    \b
    Example:
      $EDITOR contacts/acme-recruiting-7k2q.yaml && jobshare commit -m "New phone for Acme"
    """
    result = workspace.commit_worktree(open_store(ctx), message)
    if as_json:
        click.echo(render.envelope("commit", result.to_json()))
    elif result.commit is None:
        click.echo("nothing to commit: no record file changed")
    else:
        click.echo(f"Committed {len(result.files)} record file(s) in {result.commit[:10]}")
        for path, state in sorted(result.files.items()):
            click.echo(render.safe(f"  {state:8}  {path}", lines=False))
        for path, when in sorted(result.stamped.items()):
            click.echo(f"{path}: content changed but 'updated' did not: set 'updated' to {when}")


# --- reading ---------------------------------------------------------------------------


def _instant_option(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    from ..index import since_key

    if value is not None and since_key(value) is None:
        raise click.BadParameter("use a date (2026-12-01) or a date-time (2026-12-01T09:00:00Z)")
    return value


@click.command("list")
@click.argument("folder", required=False, type=click.Choice(records.FOLDERS))
@click.option("--kind", type=click.Choice(CONTACT_KINDS), help="Only contacts of this kind.")
@click.option("--tag", help="Only records with this tag (any case).")
@click.option("--industry", help="Only records in this industry (any case).")
@click.option("--added-by", help="Only records added by this handle.")
@click.option(
    "--updated-since",
    metavar="DATE",
    callback=_instant_option,
    help="Only records updated at or after DATE (2026-12-01, or a UTC date-time).",
)
@click.option(
    "--search",
    help="Only records with every word typed starting a word of any field (any case, "
    "any accents); best match first.",
)
@json_option
@click.pass_context
def list_(
    ctx: click.Context,
    folder: str | None,
    kind: str | None,
    tag: str | None,
    industry: str | None,
    added_by: str | None,
    updated_since: str | None,
    search: str | None,
    as_json: bool,
) -> None:
    """List records, optionally filtered. The answers come from an index kept in
    .git/jobshare/ (a cache: deleting it loses nothing; the next command rebuilds it).

    \b
    Examples:
      jobshare list contacts --kind recruiter --tag remote
      jobshare list --search fintech --json
      jobshare list --industry health --updated-since 2026-11-01
    """
    from ..core.search import Query
    from ..private import views

    store = open_store(ctx)
    found = reading.list_records(
        store,
        folder,
        kind,
        tag,
        search,
        industry=industry,
        added_by=added_by,
        updated_since=updated_since,
        fields=None if as_json else render.LISTING_FIELDS,
    )
    query = Query(folder, kind, tag, industry, added_by, updated_since, search)
    shown = views.listing(store, found, query)
    if as_json:
        click.echo(render.envelope("list", render.to_json(shown)))
    else:
        click.echo(render.listing(shown))


@click.command()
@click.argument("label", metavar="LABEL|REV")
@output_options
@click.pass_context
def show(ctx: click.Context, label: str, as_json: bool, color: str) -> None:
    """Show one record, or a commit with its record-level changes.

    LABEL is contacts/<id>, referrals/<id> or a bare id. Anything else is read as a
    revision (a commit hash, HEAD~1, a branch, bob/main): the commit is shown with its
    author, date and message, and what it changed against its first parent (for a
    merge: what the merge brought in). An exact label or id wins over a revision of
    the same name, a revision over a prefix of an id.

    \b
    Examples:
      jobshare show acme-recruiting-7k2q
      jobshare show HEAD~1
    """
    from ..private import views

    store = open_store(ctx)
    try:
        target = history.show_target(store, label)
    except JobshareError:
        own = views.private_record(store, label)
        if own is None:
            raise
        _show(own, as_json)
        return
    if not isinstance(target, Label):
        shown = history.show_commit(store, target)
        if as_json:
            click.echo(render.envelope("show", shown.to_json()))
        else:
            painted = use_color(color)
            page(reviewtext.commit_changes(shown, painted), painted)
        return
    asked, target = target, reading.follow_alias(store, target)
    if target != asked and not as_json:
        click.echo(f"{asked} is an alias of {target}: showing {target}", err=True)
    data = reading.read_worktree_record(store, target)
    shared, twin = views.shown_shared(store, target, data)
    _show(shared, as_json, (store.root / target.path).read_bytes())
    if twin is not None and not as_json:
        click.echo(f"a private record has the same label: {twin.label}", err=True)
        _show(twin, as_json)


def _show(shown: Any, as_json: bool, raw: bytes | None = None) -> None:
    """One record, with its private note, marked private when it is."""
    if as_json:
        click.echo(render.envelope("show", shown.to_json()))
        return
    if raw is None:
        raw = schema.dump_record(shown.label.folder, shown.data)
    text = render.record(shown.label, shown.data, raw)
    if shown.private:
        text = text.replace("\n", "  [private: never shared]\n", 1)
    click.echo(text)
    if shown.note:
        click.echo(render.private_note(shown.note))


@click.command()
@click.argument("paths", nargs=-1, type=click.Path())
@json_option
@click.pass_context
def validate(ctx: click.Context, paths: tuple[str, ...], as_json: bool) -> None:
    """Check every record (or the given files) against the schema and each other.

    Reports each problem as path:line: field: message, all in one run, then exits 1
    if any is an error. Likely duplicates are warnings and do not fail.

    \b
    Examples:
      jobshare validate
      jobshare validate contacts/acme-recruiting-7k2q.yaml --json
    """
    try:
        store: Store | None = open_store(ctx)
    except JobshareError:
        if not paths:
            raise
        store = None  # files outside any repository are checked on their own
    report = validation.validate(store, paths)
    if as_json:
        click.echo(render.envelope("validate", report.to_json()))
    else:
        click.echo(render.validation(report))
    finish(0 if report.ok else 1)


@click.command("schema")
@click.argument("kind", required=False, default="contact", type=click.Choice(schema.KINDS))
def schema_(kind: str) -> None:
    """Print a bundled JSON Schema (contact, referral or jobshare).

    \b
    Example:
      jobshare schema referral > referral.schema.json
    """
    click.echo(schema.schema_text(kind), nl=False)


COMMANDS = (init, add, edit, rm, commit, list_, show, validate, schema_)
