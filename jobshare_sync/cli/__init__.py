"""The `jobshare` command: parse options, call one function, render its result, exit.

Each area's commands live in a module of this package that lists them in `COMMANDS`;
the area joins the command line by its line in `AREA_COMMANDS`. What the areas share (errors
to exit codes, --json, --color, opening the Store, colour and pager) is in `base`.
"""

from __future__ import annotations

import click

from .. import __version__
from .base import AreaCommands, JobshareGroup

# modules of this package, each with its COMMANDS, and their names: a command imports
# only its own area (a name missing here still works, after importing every area)
AREA_COMMANDS: dict[str, tuple[str, ...]] = {
    "records": ("init", "add", "edit", "rm", "commit", "list", "show", "validate", "schema"),
    "identity": ("duplicates", "combine", "rename"),
    "sync": ("friend", "fetch", "pull", "push", "sync", "status"),
    "conflicts": ("conflicts", "resolve", "merge"),
    "referrals": ("refer", "referral", "inbox", "ledger"),
    "review": ("incoming", "diff", "log"),
    "maintenance": ("demo", "git-setup", "doctor", "owner", "help", "textconv", "merge-driver"),
    "interchange": ("import", "export", "vdir"),
    "private": ("note", "share", "unshare", "private"),
}
AREAS = tuple(AREA_COMMANDS)

# the order `jobshare --help` lists the commands in; commands of an area not named here
# follow, in their area's order
HELP_ORDER = (
    "init",
    "add",
    "edit",
    "rm",
    "commit",
    "list",
    "show",
    "validate",
    "note",
    "share",
    "unshare",
    "private",
    "import",
    "export",
    "vdir",
    "duplicates",
    "combine",
    "rename",
    "friend",
    "fetch",
    "pull",
    "push",
    "sync",
    "status",
    "conflicts",
    "resolve",
    "merge",
    "refer",
    "referral",
    "inbox",
    "ledger",
    "incoming",
    "schema",
    "demo",
    "diff",
    "log",
    "git-setup",
    "doctor",
    "owner",
    "help",
    "textconv",
    "merge-driver",
)


@click.group(
    cls=JobshareGroup,
    order=HELP_ORDER,
    context_settings={"help_option_names": ["-h", "--help"]},
)
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


cli.commands = AreaCommands(__name__, AREA_COMMANDS)


def main() -> None:
    cli(prog_name="jobshare")


__all__ = ["cli", "main"]
