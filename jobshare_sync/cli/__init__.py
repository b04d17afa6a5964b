"""The `jobshare` command: parse options, call one function, render its result, exit.

Each area's commands live in a module of this package that lists them in `COMMANDS`;
the area joins the command line by its line in `AREAS`. What the areas share (errors
to exit codes, --json, --color, opening the Store, colour and pager) is in `base`.
"""

from __future__ import annotations

import importlib

import click

from .. import __version__
from .base import JobshareGroup

AREAS = (  # modules of this package, each with its COMMANDS
    "records",
    "sync",
    "conflicts",
    "referrals",
    "review",
    "maintenance",
)

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


def _register(group: click.Group, areas: tuple[str, ...]) -> None:
    for area in areas:
        for command in importlib.import_module(f"{__name__}.{area}").COMMANDS:
            group.add_command(command)


_register(cli, AREAS)


def main() -> None:
    cli(prog_name="jobshare")


__all__ = ["cli", "main"]
