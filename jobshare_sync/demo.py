"""`jobshare demo`: a guided run of the real commands on the bundled examples.

Each step runs the installed command line in a subprocess, exactly as a user would
type it, and prints the command and what it printed. Nothing here has logic of its
own beyond copying the example files into place.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from importlib import resources
from pathlib import Path

from .records import FOLDERS


def examples_dir() -> Path:
    """The bundled examples (installed with the package)."""
    return Path(str(resources.files("jobshare_sync.examples")))


class Runner:
    """Runs `jobshare` steps in a folder and prints them like a terminal session."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.failed = False
        self.env = dict(os.environ)
        self.env.pop("JOBSHARE_KILL_AT", None)
        self.env.setdefault("EDITOR", "true")

    def say(self, text: str) -> None:
        print(f"\n# {text}", flush=True)

    def run(self, who: str, *args: str, expect: int = 0) -> str:
        shown = "jobshare " + " ".join(shlex.quote(a) for a in args)
        print(f"{who}$ {shown}", flush=True)
        proc = subprocess.run(
            [sys.executable, "-m", "jobshare_sync", "-C", str(self.workdir / who), *args],
            capture_output=True,
            text=True,
            env=self.env,
        )
        out = (proc.stdout + proc.stderr).rstrip()
        if out:
            print("\n".join(f"  {line}" for line in out.splitlines()), flush=True)
        if proc.returncode != expect:
            print(f"  (exit code {proc.returncode}, expected {expect})", flush=True)
            self.failed = True
        return proc.stdout

    def copy_example(self, name: str, who: str) -> None:
        source = examples_dir() / name
        for folder in FOLDERS:
            for path in sorted((source / folder).glob("*.yaml")):
                shutil.copyfile(path, self.workdir / who / folder / path.name)


def run(directory: str | None) -> int:
    """Run the demo in `directory` (new or empty) or a temporary folder; return an exit code."""
    if directory is None:
        workdir = Path(tempfile.mkdtemp(prefix="jobshare-demo-"))
    else:
        workdir = Path(directory).resolve()
        if workdir.exists() and any(workdir.iterdir()):
            print(f"jobshare: {workdir} is not empty: give a new or empty folder", file=sys.stderr)
            return 3
        workdir.mkdir(parents=True, exist_ok=True)
    r = Runner(workdir)
    print(f"jobshare demo in {workdir}")

    r.say("Alice starts a repository for her job sources.")
    (workdir / "alice").mkdir()
    r.run(
        "alice",
        "init",
        "--handle",
        "alice",
        "--name",
        "Alice Example",
        "--email",
        "alice@example.com",
    )

    r.say("She already keeps contacts as YAML files; copy them in and commit them.")
    r.copy_example("alice", "alice")
    r.run("alice", "commit", "-m", "Import my job sources")

    r.say("She meets a recruiter and adds them: one command, one commit.")
    r.run(
        "alice",
        "add",
        "contact",
        "--id",
        "northwind-talent-demo",
        "--name",
        "Northwind Talent",
        "--kind",
        "recruiter",
        "--email",
        "hello@northwind-talent.example",
        "--website",
        "https://northwind-talent.example",
        "--industry",
        "logistics",
        "--tag",
        "remote",
        "--tag",
        "contract",
        "--notes",
        "Met at the Data Engineering meetup.\nPrefers email; answers within a day.",
    )

    r.say("Which sources offer remote work?")
    r.run("alice", "list", "contacts", "--tag", "remote")

    r.say("Everything is checked against the schema and across records.")
    r.run("alice", "validate")

    r.say("A record, as stored (canonical YAML, one file per record).")
    r.run("alice", "show", "northwind-talent-demo")

    r.say("A hand edit that breaks the schema is caught before it is committed.")
    broken = workdir / "alice" / "contacts" / "northwind-talent-demo.yaml"
    broken.write_text(broken.read_text().replace("kind: recruiter", "kind: headhunter"))
    r.run("alice", "validate", expect=1)
    r.run("alice", "commit", expect=6)
    broken.write_text(broken.read_text().replace("kind: headhunter", "kind: recruiter"))

    print(
        f"\nDone. The repository is in {workdir / 'alice'}; try 'jobshare -C {workdir / 'alice'} list'."
    )
    return 1 if r.failed else 0
