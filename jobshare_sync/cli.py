"""The `jobshare` command: parse options, call one function, render its result, exit.

Exit codes: 0 success; 1 the command ran and found something for the user to handle
(invalid records, conflicts); 2 bad usage; 3 and up, one per error class (see errors.py).
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

import click

from . import (
    __version__,
    drivers,
    referrals,
    render,
    review,
    sync,
    workspace,
)
from . import conflicts as conflicts_module
from .core import merge, records, schema
from .core.records import Label
from .errors import GitCommandError, InvalidRecordError, JobshareError, LabelError, RecordError
from .store import Store

SIDES = ("ours", "theirs", "base", "delete")
CONTACT_KINDS = ("recruiter", "client", "agency", "service-business", "freelancer", "other")


class JobshareGroup(click.Group):
    """Turns the library's errors into one line on stderr and the error's exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except JobshareError as e:
            click.echo(f"jobshare: {render.safe(str(e))}", err=True)
            ctx.exit(e.exit_code)
        except OSError as e:
            if isinstance(e, BrokenPipeError):
                raise
            # the file system refused (a record or folder without permission, a full disk):
            # the user's to fix, not a bug, so one line rather than a traceback
            what = f"{e.filename}: {e.strerror}" if e.filename and e.strerror else str(e)
            denied = isinstance(e, PermissionError) or "Permission denied" in what
            hint = (
                " (check the permissions of the repository's files and folders)" if denied else ""
            )
            click.echo(f"jobshare: {render.safe(what)}{hint}", err=True)
            ctx.exit(JobshareError.exit_code)
        except KeyboardInterrupt:
            click.echo("jobshare: interrupted", err=True)
            ctx.exit(130)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(self.commands)  # in the order they are defined: the tour's order


def json_option(f: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--json", "as_json", is_flag=True, help="Print JSON (a versioned envelope) for scripts."
    )(f)


def color_option(f: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--color",
        type=click.Choice(["auto", "always", "never"]),
        default="auto",
        show_default=True,
        help="Colour: auto (on a terminal, unless NO_COLOR is set), always or never.",
    )(f)


def open_store(ctx: click.Context) -> Store:
    return Store.open(ctx.obj["dir"])


def finish(code: int) -> NoReturn:
    sys.exit(code)


@click.group(cls=JobshareGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "-C",
    "directory",
    default=".",
    metavar="PATH",
    help="Run as if started in PATH (like git -C).",
)
@click.version_option(__version__, prog_name="jobshare")
@click.pass_context
def cli(ctx: click.Context, directory: str) -> None:
    """Share job sources with friends over git, merged record by record.

    Contacts (recruiters, clients, agencies, service businesses) and referrals are
    YAML files in your own git repository. jobshare checks them against a schema,
    merges friends' repositories field by field, and shows every change as a
    record-level diff.

    \b
    Start here:
      jobshare init --handle alice
      jobshare add contact --name "Acme Recruiting" --kind agency
      jobshare list
    """
    ctx.ensure_object(dict)
    ctx.obj["dir"] = directory


# --- init -----------------------------------------------------------------------------


@cli.command()
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


@cli.group()
def add() -> None:
    """Add a record (a contact) and commit it."""


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
@json_option
@click.pass_context
def add_contact(
    ctx: click.Context, record_id: str | None, no_commit: bool, as_json: bool, **fields: Any
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
    """
    store = open_store(ctx)
    values = {k: list(v) if isinstance(v, tuple) else v for k, v in fields.items()}
    saved = workspace.add_contact(store, values, record_id, commit=not no_commit)
    label, data = saved.label, saved.data
    for notice in saved.notices:
        click.echo(f"note: {render.safe(notice)}", err=True)
    if as_json:
        click.echo(render.envelope("add", saved.to_json()))
    elif saved.commit:
        name = render.safe(data["name"], lines=False)
        click.echo(f"Added {label} ({name}) in commit {saved.commit[:10]}")
    else:
        click.echo(f"Wrote {label.path} (not committed: run 'jobshare commit')")


@cli.command()
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
    store = open_store(ctx)
    found = workspace.find_label(store, label)
    original = (store.root / found.path).read_bytes()
    text = original.decode("utf-8", errors="replace")
    tried: str | None = None  # the last invalid attempt: saving it unchanged gives up
    while True:
        edited = _run_editor(text)
        body = "".join(
            line for line in edited.splitlines(keepends=True) if not line.startswith("# ! ")
        )
        if tried is None and body.encode() == original:
            click.echo(f"{found} unchanged; nothing committed")
            return
        if body == tried:
            click.echo(f"gave up: {found} left as it was", err=True)
            finish(1)
        loaded, problems = workspace.check_bytes(found, body.encode())
        if loaded is not None and not problems:
            break
        tried = body
        header = "".join(f"# ! {p}\n" for p in problems)
        text = (
            header + "# ! Fix the problems above and save, or save unchanged to give up.\n" + body
        )
    data = dict(loaded.data)
    before = records.load_yaml(original, found.path).data
    if data == before:
        click.echo(f"{found} unchanged; nothing committed")
        return
    if data.get("updated") == (before or {}).get("updated"):
        data["updated"] = workspace.now()
    title = render.record_title(data)
    saved = workspace.save_record(
        store, found, data, message=f'Edit {found.kind} "{title}" ({found})', commit=not no_commit
    )
    click.echo(
        f"Saved {found}"
        + (f" in commit {saved.commit[:10]}" if saved.commit else " (not committed)")
    )


def _run_editor(text: str) -> str:
    editor = os.environ.get("VISUAL") or os.environ.get("EDITOR")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "record.yaml"
        path.write_text(text, encoding="utf-8")
        try:
            click.edit(filename=str(path), editor=editor)
        except click.ClickException as e:
            raise JobshareError(
                f"could not run the editor: {e.format_message()}; set $EDITOR"
            ) from None
        return path.read_text(encoding="utf-8")


@cli.command()
@click.argument("labels", nargs=-1, required=True)
@click.option("--no-commit", is_flag=True, help="Delete the file but do not commit.")
@click.pass_context
def rm(ctx: click.Context, labels: tuple[str, ...], no_commit: bool) -> None:
    """Remove records and commit the removal.

    \b
    Example:
      jobshare rm contacts/acme-recruiting-7k2q
    """
    store = open_store(ctx)
    found_all = [workspace.find_label(store, text) for text in labels]  # all exist, or none goes
    for found in dict.fromkeys(found_all):
        saved = workspace.remove_record(store, found, commit=not no_commit)
        click.echo(
            f"Removed {found}"
            + (f" in commit {saved.commit[:10]}" if saved.commit else " (not committed)")
        )


@cli.command()
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
    store = open_store(ctx)
    result = workspace.commit_worktree(store, message)
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


@cli.command("list")
@click.argument("folder", required=False, type=click.Choice(records.FOLDERS))
@click.option("--kind", type=click.Choice(CONTACT_KINDS), help="Only contacts of this kind.")
@click.option("--tag", help="Only records with this tag.")
@click.option("--search", help="Only records containing this text (any field, any case).")
@json_option
@click.pass_context
def list_(
    ctx: click.Context,
    folder: str | None,
    kind: str | None,
    tag: str | None,
    search: str | None,
    as_json: bool,
) -> None:
    """List records, optionally filtered.

    \b
    Examples:
      jobshare list contacts --kind recruiter --tag remote
      jobshare list --search fintech --json
    """
    store = open_store(ctx)
    found = workspace.list_records(store, folder, kind, tag, search)
    if as_json:
        click.echo(render.envelope("list", render.to_json(found)))
    else:
        click.echo(render.listing(found))


@cli.command()
@click.argument("label", metavar="LABEL|REV")
@json_option
@color_option
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
    store = open_store(ctx)
    target = review.show_target(store, label)
    if not isinstance(target, Label):
        shown = review.show_commit(store, target)
        if as_json:
            click.echo(render.envelope("show", shown.to_json()))
        else:
            painted = use_color(color)
            page(render.commit_changes(shown, painted), painted)
        return
    found = target
    raw = (store.root / found.path).read_bytes()
    data = workspace.read_worktree_record(store, found)
    if as_json:
        click.echo(render.envelope("show", {"label": str(found), "record": data}))
    else:
        click.echo(render.record(found, data, raw))


@cli.command()
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
    report = workspace.validate(store, paths)
    if as_json:
        click.echo(render.envelope("validate", report.to_json()))
    else:
        click.echo(render.validation(report))
    finish(0 if report.ok else 1)


# --- friends and sync -------------------------------------------------------------------


def _progress(message: str) -> None:
    click.echo(message, err=True)


@cli.group()
def friend() -> None:
    """Manage friends: the git remotes you pull job sources from."""


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
        f"Added friend '{added.name}' ({added.url}); run 'jobshare pull {added.name}' to merge their sources"
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
            [f.name, f.url, f.handle or "(not fetched)", (f.fetched or "-")[:10]] for f in friends
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


@cli.command()
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
    results = sync.fetch(store, friends, show_progress=show, progress=_progress)
    if as_json:
        click.echo(render.envelope("fetch", render.to_json(results)))
    for r in results:
        for w in r.warnings:
            click.echo(f"warning: {render.safe(w)}", err=True)
        if not r.ok:
            click.echo(f"jobshare: {render.safe(r.message)}", err=True)
        elif not as_json:
            click.echo(
                f"{r.friend}: fetched {(r.commit or '')[:10]}"
                + (f" ({r.message})" if r.message else "")
            )
    if any(not r.ok for r in results):
        finish(GitCommandError.exit_code)


@cli.command()
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
        progress=_progress if not as_json else lambda m: None,
    )
    for r in fetched:
        if not r.ok:
            click.echo(f"jobshare: {render.safe(r.message)}", err=True)
    if as_json:
        click.echo(render.envelope("pull", render.to_json(pulled)))
    else:
        for outcome in pulled:
            for w in outcome.warnings:
                click.echo(f"warning: {render.safe(w)}", err=True)
            click.echo(render.pulled(outcome))
    if any(p.conflicted for p in pulled):
        finish(1)
    if any(not r.ok for r in fetched):
        finish(GitCommandError.exit_code)


@cli.command()
@click.argument("remote", default="origin")
@click.pass_context
def push(ctx: click.Context, remote: str) -> None:
    """Push the current branch (and nothing else) to your own remote; friends pull from there.

    \b
    Example:
      jobshare push            # to origin
    """
    click.echo(sync.push(open_store(ctx), remote, show_progress=sys.stderr.isatty()))


@cli.command()
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


@cli.command()
@json_option
@click.pass_context
def conflicts(ctx: click.Context, as_json: bool) -> None:
    """List the conflicts of the merge in progress: per field, base, ours and theirs.

    \b
    Example:
      jobshare conflicts --json
    """
    current = conflicts_module.merge_status(open_store(ctx))
    views = current.conflicts if current is not None else []
    if as_json:
        click.echo(render.envelope("conflicts", render.to_json(views)))
    elif current is None:
        click.echo("no merge in progress")
    else:
        click.echo(
            f"Merging {current.friend}: {len(current.unresolved)} of {len(views)} unresolved"
        )
        click.echo(render.conflicts(views))


@cli.command()
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
    sides = [name for name, flag in zip(SIDES, (ours, theirs, base, delete), strict=True) if flag]
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


@cli.command("merge")
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
        click.echo(conflicts_module.abort(store))
        return
    commit, left = conflicts_module.finish(store)
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


# --- referrals: refer, referral accept|decline|complete|withdraw, inbox, ledger --------


def push_option(f: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--push",
        is_flag=True,
        help="Then push to your own remote (origin), where your friends pull from.",
    )(f)


def _push_referral(store: Store, change: referrals.ReferralChange) -> str:
    """Push after a referral commit; a failed push keeps the commit and says so."""
    try:
        return sync.push(store, show_progress=sys.stderr.isatty())
    except GitCommandError as e:
        raise GitCommandError(f"{change.label} is committed but not pushed: {e}") from None


def _report_referral(
    store: Store, change: referrals.ReferralChange, push: bool, as_json: bool, done: str
) -> None:
    pushed = _push_referral(store, change) if push else None
    if as_json:
        click.echo(render.envelope("referral", {**change.to_json(), "pushed": pushed}))
        return
    click.echo(f"{render.safe(done, lines=False)} in commit {(change.commit or '')[:10]}")
    if pushed:
        click.echo(pushed)


@cli.command()
@click.argument("contact")
@click.option(
    "--to", "to", required=True, metavar="HANDLE|anyone", help="A friend's handle, or anyone."
)
@click.option(
    "--title", required=True, help="The job in a few words, e.g. 'Data pipeline, 3 months'."
)
@click.option("--details", help="What the job is, what it needs, whom to talk to.")
@click.option("--budget", help="Rate or budget as text, e.g. 'EUR 600/day'.")
@click.option("--deadline", metavar="YYYY-MM-DD", help="When to answer or start by.")
@push_option
@json_option
@click.pass_context
def refer(
    ctx: click.Context,
    contact: str,
    to: str,
    title: str,
    details: str | None,
    budget: str | None,
    deadline: str | None,
    push: bool,
    as_json: bool,
) -> None:
    """Offer a job you cannot take to a friend, or to anyone, as one commit.

    Writes referrals/<id>.yaml (status open, from you) and commits it as
    'Refer "TITLE" (CLIENT) to FRIEND'. CONTACT is the client: a contact's label,
    id, unique id prefix or name. --to is a friend's pinned handle (see 'jobshare
    friend list') or 'anyone', for whoever accepts first.

    \b
    Example:
      jobshare refer acme-recruiting-7k2q --to bob --title "Data pipeline, 3 months" \\
        --budget "EUR 600/day" --deadline 2026-12-15 --push
    """
    store = open_store(ctx)
    change = referrals.refer(
        store, contact, to, title, details=details, budget=budget, deadline=deadline
    )
    _report_referral(store, change, push, as_json, f"Referred {change.label} to {to}")


@cli.group()
def referral() -> None:
    """Answer or close a referral: accept, decline, complete, withdraw (each a commit)."""


REFERRAL_HELP = {
    "accept": (
        "Take on a referral offered to you, or to anyone (first come, first served).",
        "Only the recipient may accept; a referral to anyone goes to whoever accepts first\n"
        "and was not its sender. Two friends who accept it at once each get a commit; the\n"
        "pull that brings both together stops at a conflict on its status, naming both.",
        'jobshare referral accept data-pipeline-3-months-7k2q --note "Starting Monday" --push',
    ),
    "decline": (
        "Say no to a referral offered to you.",
        "Only the recipient may decline, while it is open. A referral to anyone cannot be\n"
        "declined: leave it open for others.",
        'jobshare referral decline data-pipeline-3-months-7k2q --note "Booked until March"',
    ),
    "complete": (
        "Mark an accepted referral as done.",
        "The friend who accepted it, or its sender, may complete it.",
        "jobshare referral complete data-pipeline-3-months-7k2q --push",
    ),
    "withdraw": (
        "Take back a referral you made, while it is open or accepted.",
        "Only its sender may withdraw it (the client changed their mind, say).",
        'jobshare referral withdraw data-pipeline-3-months-7k2q --note "Project postponed"',
    ),
}


def _referral_command(action: str) -> None:
    summary, rules, example = REFERRAL_HELP[action]
    status = referrals.ACTIONS[action]
    help_text = (
        f"{summary}\n\n{rules}\n\nLABEL is referrals/<id>, an id, a unique id prefix or the title.\n"
        f"The commit sets status '{status}', updates 'updated' and adds a history entry\n"
        f"(when, by you, from which status, --note). Declined, completed and withdrawn\n"
        f"are final; a change the rules do not allow is refused with the reason (exit 13).\n\n"
        f"\b\nExample:\n  {example}"
    )

    @referral.command(action, help=help_text, short_help=summary)
    @click.argument("label")
    @click.option("--note", help="Why, in a few words (kept in the history and the commit).")
    @push_option
    @json_option
    @click.pass_context
    def command(
        ctx: click.Context, label: str, note: str | None, push: bool, as_json: bool
    ) -> None:
        store = open_store(ctx)
        change = referrals.transition(store, label, action, note)
        done = f"{change.label}: {change.previous} -> {change.data['status']} ({change.message})"
        _report_referral(store, change, push, as_json, done)


for _action in referrals.ACTIONS:
    _referral_command(_action)


@cli.command()
@click.option(
    "--all", "include_all", is_flag=True, help="Every referral: yours and closed ones too."
)
@json_option
@click.pass_context
def inbox(ctx: click.Context, include_all: bool, as_json: bool) -> None:
    """List open referrals offered to you or to anyone, newest first.

    Shows each one's title, client, sender and deadline; your own referrals and
    closed ones only with --all.

    \b
    Examples:
      jobshare inbox
      jobshare inbox --all --json
    """
    items = referrals.inbox(open_store(ctx), include_all=include_all)
    if as_json:
        click.echo(render.envelope("inbox", render.to_json(items)))
    else:
        click.echo(render.inbox(items, include_all))


@cli.command()
@json_option
@click.pass_context
def ledger(ctx: click.Context, as_json: bool) -> None:
    """Per friend: referrals you gave and got, accepted and completed, and the balance.

    A referral to a friend counts for that friend; one to anyone for whoever
    accepted it. Accepted counts those the other side took on (even if later
    withdrawn). The balance is the referrals you gave a friend that they accepted,
    minus the referrals they gave you that you accepted: positive when you have
    sent more work their way than you took.

    \b
    Examples:
      jobshare ledger
      jobshare ledger --json
    """
    store = open_store(ctx)
    rows = referrals.ledger(store)
    if as_json:
        click.echo(render.envelope("ledger", render.to_json(rows)))
    else:
        click.echo(render.ledger(rows, referrals.totals(rows)))


@cli.command()
@click.argument("friend_name", metavar="FRIEND")
@json_option
@color_option
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
    found = review.incoming(
        store, friend_name, progress=_progress if not as_json else lambda m: None
    )
    if as_json:
        click.echo(render.envelope("incoming", found.to_json()))
        return
    painted = use_color(color)
    preview = found.preview
    if preview.up_to_date:
        click.echo(f"{friend_name} has nothing new for you ({found.commit[:10]})")
        return
    text = render.record_changes(found.changes, painted) if found.changes else "(no record changes)"
    summary = render.pulled(preview).splitlines()
    lines = [f"{friend_name}'s changes since your common history ({found.commit[:10]}):", text, ""]
    lines.append("A pull would do this: " + summary[0].replace("; nothing committed", ""))
    lines += [
        line for line in summary[1:] if not line.startswith(("Resolve with", "then 'jobshare"))
    ]
    page("\n".join(lines), painted)


@cli.command("schema")
@click.argument("kind", required=False, default="contact", type=click.Choice(schema.KINDS))
def schema_(kind: str) -> None:
    """Print a bundled JSON Schema (contact, referral or jobshare).

    \b
    Example:
      jobshare schema referral > referral.schema.json
    """
    click.echo(schema.schema_text(kind), nl=False)


@cli.command()
@click.argument("directory", required=False, type=click.Path(file_okay=False))
def demo(directory: str | None) -> None:
    """Build a repository from the bundled examples and walk through the main commands.

    Works in a new temporary folder unless DIRECTORY is given (it must be empty or new).

    \b
    Example:
      jobshare demo /tmp/jobshare-demo
    """
    from . import demo as demo_module

    finish(demo_module.run(directory))


# --- review: diff, log, git-setup, doctor, and the drivers git runs -------------------


def use_color(choice: str) -> bool:
    """--color: always, never, or auto (a terminal, unless NO_COLOR is set or TERM=dumb)."""
    if choice in ("always", "never"):
        return choice == "always"
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    return sys.stdout.isatty()


def page(text: str, color: bool) -> None:
    """Print `text`; on a terminal, through $PAGER (less) when it is longer than the screen."""
    terminal = sys.stdin.isatty() and sys.stdout.isatty()
    if terminal and text.count("\n") + 1 >= shutil.get_terminal_size().lines:
        os.environ.setdefault("LESS", "FRX")  # as git does: colours, quit at the end
        click.echo_via_pager(text, color=color)
        return
    click.echo(text, color=color)


class SeparatedArguments(click.Command):
    """Keeps the place of `--` among the arguments, so `diff REV -- LABEL` is unambiguous.

    click drops the `--` itself; a second one right after it survives as an argument.
    """

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if review.SEPARATOR in args:
            at = args.index(review.SEPARATOR)
            args = [*args[: at + 1], review.SEPARATOR, *args[at + 1 :]]
        return super().parse_args(ctx, args)


@cli.command(cls=SeparatedArguments)
@click.argument("arguments", nargs=-1, metavar="[REV [REV2]] [LABEL...] [-- LABEL...]")
@click.option("--stat", is_flag=True, help="Only count added, removed and modified records.")
@json_option
@color_option
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
    painted = use_color(color)
    if as_json:
        payload = result.stat() if stat else result.to_json()
        click.echo(render.envelope("diffstat" if stat else "diff", payload))
    elif stat:
        page(render.change_stat(result.stat(), result.old, result.new, painted), painted)
    elif result.changes:
        page(render.record_changes(result.changes, painted), painted)
    else:
        click.echo(f"no record changes ({result.old} → {result.new})", err=True)
    finish(1 if exit_code and result.changes else 0)


@cli.command()
@click.argument("label", required=False)
@click.option(
    "-n", "--max-count", "limit", type=click.IntRange(min=0), help="Show at most N commits."
)
@json_option
@color_option
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
    followed = review.parse_log_label(store, label) if label is not None else None
    entries = review.log(store, followed, limit)
    if followed and not entries and limit != 0 and not (store.root / followed.path).exists():
        raise LabelError(
            f"no record '{followed}', now or in the history: run 'jobshare list' to see the records"
        )
    if as_json:
        click.echo(render.envelope("log", [entry.to_json() for entry in entries]))
    elif entries:
        painted = use_color(color)
        page(render.history(entries, painted), painted)
    elif limit != 0:
        click.echo(f"no commit changed {followed}" if followed else "no commits yet", err=True)


@cli.command("git-setup", short_help="Register git's textconv and merge-driver for record files.")
@json_option
@click.pass_context
def git_setup(ctx: click.Context, as_json: bool) -> None:
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
    if as_json:
        click.echo(render.envelope("git-setup", result.to_json()))
    else:
        click.echo(render.git_setup(result))


@cli.command()
@json_option
@color_option
@click.pass_context
def doctor(ctx: click.Context, as_json: bool, color: str) -> None:
    """Check what is set up: git, the drivers, schema comments and copy, friends.

    Each item is OK or says what to run to fix it. Exit 0 if all are OK, else 1.

    \b
    Example:
      jobshare doctor
    """
    store = open_store(ctx)
    report = drivers.doctor(store)
    if as_json:
        click.echo(render.envelope("doctor", report.to_json()))
    else:
        painted = use_color(color)
        click.echo(render.doctor(report, painted), color=painted)
    finish(0 if report.ok else 1)


@cli.command(hidden=True)
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
    click.echo(render.textconv(version, raw).encode("utf-8"), nl=False)


@cli.command("merge-driver", hidden=True)
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
        click.echo(f"jobshare: {render.safe(message)}", err=True)
    if not result.clean:
        where = render.safe(f"{path}: {', '.join(result.conflicts)}", lines=False)
        click.echo(f"jobshare: conflict in {where}", err=True)
    finish(0 if result.clean else 1)


def main() -> None:
    cli(prog_name="jobshare")


__all__ = ["cli", "main", "Label", "InvalidRecordError", "RecordError"]
