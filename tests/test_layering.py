"""The layers of DESIGN section 9, kept by reading every module's imports.

Imports flow downward: cli, then the services, then index, store, core and errors.
Only the git layer (store/) imports pygit2 or runs programs; only the command line
imports click; the store keeps its pygit2 repository to itself. Every import counts,
also one inside a function or under TYPE_CHECKING, and `importlib.import_module("x")`.

The tables below are the rules: a new module gets a line in LAYERS, an exception a
line in RESTRICTED with its reason.
"""

from __future__ import annotations

import ast
import fnmatch
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGE = "jobshare_sync"
ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / PACKAGE

SERVICES = [
    "workspace",
    "editing",
    "reading",
    "validation",
    "sync",
    "gather",
    "daily",
    "owner",
    "friends",
    "deletions",
    "accepted",
    "conflicts",
    "finishing",
    "referrals",
    "review",
    "history",
    "identity",
    "drivers",
    "checkup",
    "demo",
    "render",
    "reviewtext",
    "interchange",
    "private",
]

# From the top down; a module may import its own layer and those below it. Module names
# are relative to the package ("" is the package itself, which holds only __version__)
# and may be globs: "cli" and "cli.*" cover a cli.py file and a cli/ package alike.
LAYERS: list[tuple[str, list[str]]] = [
    ("cli", ["cli", "cli.*", "__main__"]),
    ("services", [p for name in SERVICES for p in (name, f"{name}.*")]),
    ("index", ["index", "index.*"]),
    ("store", ["store", "store.*"]),
    ("core", ["core", "core.*"]),
    ("errors", ["errors", ""]),
]

# Outside modules that only some may import: name -> (who may, and why).
RESTRICTED: dict[str, tuple[list[str], str]] = {
    "pygit2": (["store", "store.*"], "only the git layer touches git objects"),
    "subprocess": (
        ["store", "store.*", "demo"],
        "only the git layer runs git; the demo runs `jobshare` and `git` as a user "
        "would type them, to show them, and reads nothing of git itself",
    ),
    "click": (["cli", "cli.*"], "only the command line knows click"),
}
# Ways to run a program without subprocess: held to the same rule.
RUNS_PROGRAMS = {"system", "popen", "execv", "execve", "execvp", "execl", "spawnv", "posix_spawn"}
# The store's pygit2 repository, which nothing outside store/ may reach.
PRIVATE_TO_STORE = {"repo", "_repo"}


@dataclass(frozen=True)
class Module:
    name: str  # relative to the package: "store.read", "cli", "" for the package
    path: Path
    is_package: bool


def modules(root: Path = SOURCE) -> list[Module]:
    found = []
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        if is_package:
            parts.pop()
        found.append(Module(".".join(parts), path, is_package))
    return found


PACKAGES = {m.name for m in modules() if m.is_package}


def layer_of(name: str) -> str | None:
    for layer, patterns in LAYERS:
        if any(fnmatch.fnmatchcase(name, p) for p in patterns):
            return layer
    return None


def allowed(name: str, patterns: list[str]) -> bool:
    return any(fnmatch.fnmatchcase(name, p) for p in patterns)


@dataclass(frozen=True)
class Import:
    target: str  # absolute dotted name
    line: int


def imports(module: Module, tree: ast.AST, known: set[str]) -> Iterator[Import]:
    """Every import in a module, as absolute names; `from . import x` names the
    submodule x when there is one (`known` holds the package's module names)."""
    package = module.name if module.is_package else module.name.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(alias.name, node.lineno)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = [PACKAGE, *filter(None, package.split("."))]
                base_parts = parts[: len(parts) - (node.level - 1)]
                base = ".".join([*base_parts, *filter(None, [node.module])])
            else:
                base = node.module or ""
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                inside = sub.removeprefix(f"{PACKAGE}.")
                yield Import(sub if inside in known else base, node.lineno)
        elif isinstance(node, ast.Call) and node.args:
            func, first = node.func, node.args[0]
            dynamic = (isinstance(func, ast.Name) and func.id == "__import__") or (
                isinstance(func, ast.Attribute) and func.attr == "import_module"
            )
            if dynamic and isinstance(first, ast.Constant) and isinstance(first.value, str):
                yield Import(first.value, node.lineno)


def violations(sources: Mapping[str, str], known: set[str] | None = None) -> list[str]:
    """Every break of the rules in `sources` (module name -> its text)."""
    known = set(sources) if known is None else known
    order = [layer for layer, _ in LAYERS]
    found = []
    for name, text in sorted(sources.items()):
        shown = f"{PACKAGE}.{name}" if name else PACKAGE
        layer = layer_of(name)
        if layer is None:
            found.append(f"{shown}: in no layer: give it a line in LAYERS")
            continue
        module = Module(name, Path(name), name in {"", *PACKAGES})
        tree = ast.parse(text)
        for imported in imports(module, tree, known):
            top = imported.target.split(".")[0]
            where = f"{shown}:{imported.line}"
            if top == PACKAGE:
                inside = imported.target.removeprefix(PACKAGE).lstrip(".")
                target = layer_of(inside)
                if target is not None and order.index(target) < order.index(layer):
                    found.append(f"{where}: {layer} imports {imported.target} ({target}), above it")
            elif top in RESTRICTED and not allowed(name, RESTRICTED[top][0]):
                found.append(f"{where}: imports {top}, but {RESTRICTED[top][1]}")
        for node in ast.walk(tree):
            if not isinstance(node, ast.Attribute) or allowed(name, ["store", "store.*"]):
                continue
            value = node.value
            if isinstance(value, ast.Name) and value.id == "os" and node.attr in RUNS_PROGRAMS:
                if not allowed(name, RESTRICTED["subprocess"][0]):
                    found.append(f"{shown}:{node.lineno}: runs a program (os.{node.attr})")
            elif node.attr in PRIVATE_TO_STORE:
                found.append(
                    f"{shown}:{node.lineno}: reaches the store's repository (.{node.attr}): "
                    "ask the Store for plain values instead"
                )
    return found


def test_the_package_keeps_its_layers() -> None:
    sources = {m.name: m.path.read_text(encoding="utf-8") for m in modules()}
    assert len(sources) > 20  # the walk found the package
    found = violations(sources)
    assert not found, "\n".join(found)


# Each rule must catch a module that breaks it: the tables above are not just read.
BREAKS = [
    ("review", "import pygit2\n", "imports pygit2"),
    ("review", "def f():\n    import pygit2\n", "imports pygit2"),
    ("review", "import importlib\nimportlib.import_module('pygit2')\n", "imports pygit2"),
    ("sync", "from subprocess import run\n", "imports subprocess"),
    ("workspace", "import os\nos.system('git gc')\n", "runs a program"),
    ("core.merge", "import click\n", "imports click"),
    ("drivers", "import click\n", "imports click"),
    ("core.merge", "from ..store import Store\n", "core imports jobshare_sync.store"),
    ("core.merge", "from .. import sync\n", "core imports jobshare_sync.sync"),
    ("core.rules", "from ..workspace import now\n", "core imports jobshare_sync.workspace"),
    ("store.read", "from ..review import diff\n", "store imports jobshare_sync.review"),
    ("store.read", "from .. import cli\n", "store imports jobshare_sync.cli (cli)"),
    ("errors", "from .core import records\n", "errors imports jobshare_sync.core"),
    ("workspace", "from .cli import main\n", "services imports jobshare_sync.cli"),
    ("index", "from . import sync\n", "index imports jobshare_sync.sync"),
    ("review", "def f(store):\n    return store.repo.head\n", "reaches the store's repository"),
    ("sync", "def f(store):\n    return store._repo\n", "reaches the store's repository"),
    ("interchange", "", ""),
    ("newthing", "", "in no layer"),
]


@pytest.mark.parametrize(
    "name, text, message", BREAKS, ids=[f"{b[0]}-{i}" for i, b in enumerate(BREAKS)]
)
def test_each_rule_catches_a_module_that_breaks_it(name: str, text: str, message: str) -> None:
    known = {m.name for m in modules()} | {name}
    found = violations({name: text}, known)
    if message:
        assert len(found) == 1 and message in found[0], found
    else:
        assert found == []


ALLOWED = [
    ("store.transport", "import subprocess\n"),
    ("store.read", "import pygit2\nfrom ..core import records\nfrom ..errors import RecordError\n"),
    ("demo", "import subprocess\n"),
    ("cli", "import click\nfrom . import sync\nfrom .store import Store\n"),
    ("cli.friends", "import click\nfrom .. import sync\n"),
    ("sync", "from . import conflicts\nfrom .core import policy\nfrom .store import Store\n"),
    ("core.policy", "from . import merge\nfrom .records import Skipped\nfrom ..errors import X\n"),
    ("index", "from .store import Store\nfrom .core import records\n"),
    ("workspace", "from . import __version__\n"),
]


@pytest.mark.parametrize("name, text", ALLOWED, ids=[a[0] for a in ALLOWED])
def test_imports_down_the_layers_are_fine(name: str, text: str) -> None:
    known = {m.name for m in modules()} | {name}
    assert violations({name: text}, known) == []


def test_every_package_is_installed() -> None:
    """setup.cfg lists packages one by one (two come from other folders): a package
    folder missing from that list would be missing from a wheel."""
    import configparser

    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg")
    listed = set(config["options"]["packages"].split())
    found = {
        ".".join(path.parent.relative_to(ROOT).parts)
        for path in (ROOT / "jobshare_sync").rglob("__init__.py")
    }
    assert found <= listed, sorted(found - listed)


# DESIGN section 9 and STYLE.md "Small modules": no module passes about 500 lines.
MAX_LINES = 500


def too_long(root: Path = SOURCE) -> list[str]:
    """Every module under `root` longer than MAX_LINES, as "name: N lines"."""
    found = []
    for module in modules(root):
        count = len(module.path.read_text(encoding="utf-8").splitlines())
        if count > MAX_LINES:
            found.append(f"{module.name or PACKAGE}: {count} lines")
    return found


def test_every_module_is_small() -> None:
    assert too_long() == []


def test_a_long_module_is_caught(tmp_path: Path) -> None:
    (tmp_path / "short.py").write_text("x = 1\n" * MAX_LINES)
    (tmp_path / "long.py").write_text("x = 1\n" * (MAX_LINES + 1))
    assert too_long(tmp_path) == [f"long: {MAX_LINES + 1} lines"]
