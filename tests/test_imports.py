"""What importing the command line costs: each command imports its own area only."""

from __future__ import annotations

import importlib
import subprocess
import sys

import jobshare_sync.cli as cli_package

HEAVY = ("pygit2", "yaml", "jsonschema", "phonenumbers", "vobject", "rapidfuzz", "anyascii")


def imported_by(code: str) -> set[str]:
    shown = "import sys\n" + code + "\nprint(' '.join(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", shown], capture_output=True, text=True, check=True)
    return set(out.stdout.split())


def test_the_command_line_imports_no_area_and_no_heavy_library_until_a_command_runs() -> None:
    loaded = imported_by("import jobshare_sync.cli")
    assert not {m.split(".")[0] for m in loaded} & set(HEAVY)
    assert not any(
        m.startswith("jobshare_sync.cli.") and m != "jobshare_sync.cli.base" for m in loaded
    )
    version = imported_by(
        "from jobshare_sync.cli import cli\n"
        "try:\n    cli(['--version'])\nexcept SystemExit:\n    pass"
    )
    assert "pygit2" not in version and "jobshare_sync.store" not in version


def test_each_area_lists_the_names_of_its_commands() -> None:
    for area, names in cli_package.AREA_COMMANDS.items():
        commands = importlib.import_module(f"jobshare_sync.cli.{area}").COMMANDS
        assert tuple(c.name for c in commands) == names, area


def test_a_command_imports_its_area_alone() -> None:
    loaded = imported_by(
        "from jobshare_sync.cli import cli\n"
        "try:\n    cli(['list', '--help'])\nexcept SystemExit:\n    pass"
    )
    assert "jobshare_sync.cli.records" in loaded
    assert "jobshare_sync.cli.sync" not in loaded and "jobshare_sync.cli.conflicts" not in loaded
