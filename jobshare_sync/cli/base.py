"""What every area of the command line shares: the group that turns errors into exit
codes, the option bundles (--json, --color), opening the Store, and choosing how to
print (colour, pager).

Exit codes: 0 success; 1 the command ran and found something for the user to handle
(invalid records, conflicts); 2 bad usage; 3 and up, one per error class (see
errors.py). `JobshareGroup.invoke` is the one place that turns a raised error into
its line on stderr and its exit code.
"""

from __future__ import annotations

import difflib
import importlib
import os
import shutil
import sys
from collections.abc import Callable, Iterator, Mapping, MutableMapping, Sequence
from typing import TYPE_CHECKING, Any, NoReturn

import click

from ..core.urls import redact_text
from ..errors import JobshareError

if TYPE_CHECKING:
    from ..store import Store


class JobshareGroup(click.Group):
    """Turns the library's errors into one line on stderr and the error's exit code, and
    lists its commands in the order given (`order`), then any others as registered."""

    def __init__(self, *args: Any, order: Sequence[str] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.order = tuple(order)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except JobshareError as e:
            error_line(str(e))
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
            error_line(f"{what}{hint}")
            ctx.exit(JobshareError.exit_code)
        except KeyboardInterrupt:
            error_line("interrupted")
            ctx.exit(130)

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        """An unknown command names the closest known one (`search` -> `list --search`)."""
        name = args[0] if args else ""
        if args and self.get_command(ctx, name) is None and not name.startswith("-"):
            ctx.fail(f"no command '{name}': {closest_command(name, self.list_commands(ctx))}")
        return super().resolve_command(ctx, args)

    def list_commands(self, ctx: click.Context) -> list[str]:
        unlisted = len(self.order)
        return sorted(  # stable: commands not in `order` keep the order they were added in
            self.commands,
            key=lambda name: self.order.index(name) if name in self.order else unlisted,
        )


class AreaCommands(MutableMapping[str, click.Command]):
    """A group's commands, each area's module imported only when one of its commands is
    wanted: a command then pays for the imports of its own area (pygit2, the services it
    calls), and `jobshare --version` for none.

    `areas` maps each module of `package` (holding `COMMANDS`) to the names of its
    commands; a name found in no area's list loads them all, so a list that fell behind
    costs time, never a command. Iterating loads every area, in the order given.
    """

    def __init__(self, package: str, areas: Mapping[str, Sequence[str]]) -> None:
        self.package = package
        self.pending = {area: tuple(names) for area, names in areas.items()}
        self.areas = tuple(areas)
        self.by_area: dict[str, list[str]] = {}
        self.loaded: dict[str, click.Command] = {}

    def _load(self, area: str) -> None:
        if self.pending.pop(area, None) is None:
            return
        module = importlib.import_module(f"{self.package}.{area}")
        names = self.by_area.setdefault(area, [])
        for command in module.COMMANDS:
            if command.name is not None:
                self.loaded.setdefault(command.name, command)
                names.append(command.name)

    def load_all(self) -> None:
        for area in self.areas:
            self._load(area)

    def __getitem__(self, name: str) -> click.Command:
        if name not in self.loaded:
            area = next((a for a, names in self.pending.items() if name in names), None)
            if area is not None:
                self._load(area)
            if name not in self.loaded:
                self.load_all()
        return self.loaded[name]

    def __setitem__(self, name: str, command: click.Command) -> None:
        self.loaded[name] = command

    def __delitem__(self, name: str) -> None:
        del self.loaded[name]

    def __iter__(self) -> Iterator[str]:
        self.load_all()
        listed = [name for area in self.areas for name in self.by_area.get(area, [])]
        yield from dict.fromkeys([*listed, *self.loaded])

    def __len__(self) -> int:
        self.load_all()
        return len(self.loaded)


# what people type for a command that has another name here
ALIASES = {
    "search": "list --search",
    "find": "list --search",
    "grep": "list --search",
    "ls": "list",
    "remove": "rm",
    "delete": "rm",
    "new": "add contact",
    "create": "add contact",
    "check": "validate",
    "lint": "validate",
    "update": "sync",
    "clone": "init",
}


def closest_command(name: str, known: Sequence[str]) -> str:
    """Advice for an unknown command: the command it most likely meant, in words."""
    if name in ALIASES:
        return f"did you mean 'jobshare {ALIASES[name]}'?"
    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
    if close:
        return f"did you mean 'jobshare {close[0]}'?"
    return "see 'jobshare help' for the commands"


def error_line(message: str) -> None:
    """One line for the user on stderr, `jobshare: MESSAGE`: every error, and the notes
    the merge driver leaves for git to show."""
    from .. import render

    click.echo(f"jobshare: {render.safe(redact_text(message))}", err=True)


def warning_line(message: str) -> None:
    """A warning that does not change the exit code: `warning: MESSAGE` on stderr."""
    from .. import render

    click.echo(f"warning: {render.safe(redact_text(message))}", err=True)


def progress(message: str) -> None:
    """Progress of a long step (fetching), on stderr so that stdout stays data."""
    click.echo(redact_text(message), err=True)


def quiet(message: str) -> None:
    """Progress swallowed: under --json, stderr keeps only warnings and errors."""


def finish(code: int) -> NoReturn:
    sys.exit(code)


# --- option bundles ---------------------------------------------------------------------


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


def output_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """--json and --color: for the commands that print for people in colour, or for scripts."""
    return json_option(color_option(f))


# --- the repository -----------------------------------------------------------------------


# commands that only read: they work whoever jobshare.yaml names, and during git's merge
READ_ONLY = {
    "list",
    "show",
    "diff",
    "log",
    "schema",
    "validate",
    "inbox",
    "ledger",
    "incoming",
    "conflicts",
    "owner",
    "friend list",
    "textconv",
    "merge-driver",
}
# commands that write records or commits: refused while git is merging (README, "Beside
# plain git")
WRITING = {"add", "edit", "rm", "commit", "refer", "referral", "pull", "sync", "merge", "resolve"}


def command_name(ctx: click.Context) -> str:
    """The command as typed after `jobshare` ("friend add"), without options."""
    names: list[str] = []
    at: click.Context | None = ctx
    while at is not None and at.parent is not None:
        names.insert(0, at.info_name or "")
        at = at.parent
    return " ".join(names)


def open_store(ctx: click.Context) -> Store:
    """The repository of `jobshare -C PATH` (default: found from the current folder up),
    checked for the command at hand: its owner is still the one this clone was set up
    for (owner.check_owner), and, for a writing command, git is not merging.

    Raises NotARepositoryError (exit 4) when there is none, RepositoryStateError or
    MergeStateError when a check fails."""
    from .. import owner
    from ..store import Store

    store = Store.open(ctx.obj["dir"])
    name = command_name(ctx)
    if name.split(" ")[0] in WRITING:
        owner.check_no_git_merge(store)
    checked = name not in READ_ONLY and name.split(" ")[0] not in READ_ONLY
    if checked and store.git_merge_paths() is None:  # while git merges, status says so first
        owner.check_owner(store)
    return store


# --- how to print ----------------------------------------------------------------------


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
