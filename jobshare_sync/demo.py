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

from .core.records import FOLDERS


def examples_dir() -> Path:
    """The bundled examples (installed with the package)."""
    return Path(str(resources.files("jobshare_sync.examples")))


class DemoFailed(Exception):
    """A demo step did not do what the demo expects: a bug worth reporting."""


class Runner:
    """Runs `jobshare` steps in a folder and prints them like a terminal session."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.env = dict(os.environ)
        self.env.pop("JOBSHARE_KILL_AT", None)
        self.env.setdefault("EDITOR", "true")

    def say(self, text: str) -> None:
        print(f"\n# {text}", flush=True)

    def run(self, who: str, *args: str, expect: int = 0) -> str:
        shown = "jobshare " + " ".join(shlex.quote(a) for a in args)
        print(f"{who}$ {shown}", flush=True)
        proc = subprocess.run(
            # -P: never import a jobshare_sync source folder from the current directory
            [sys.executable, "-P", "-m", "jobshare_sync", "-C", str(self.workdir / who), *args],
            cwd=self.workdir,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,  # progress and results in the order they happened
            text=True,
            env=self.env,
        )
        out = proc.stdout.rstrip()
        if out:
            print("\n".join(f"  {line}" for line in out.splitlines()), flush=True)
        if proc.returncode != expect:
            raise DemoFailed(f"'{shown}' exited with {proc.returncode}, expected {expect}")
        return proc.stdout

    def shell(self, who: str, *args: str) -> None:
        """A plain git step, shown as the user would type it."""
        print(f"{who}$ {' '.join(shlex.quote(a) for a in args)}", flush=True)
        proc = subprocess.run(
            args, cwd=self.workdir / who, capture_output=True, text=True, env=self.env
        )
        out = (proc.stdout + proc.stderr).rstrip()
        if out:
            print("\n".join(f"  {line}" for line in out.splitlines()), flush=True)
        if proc.returncode != 0:
            raise DemoFailed(f"'{' '.join(args)}' exited with {proc.returncode}")

    def edit(self, who: str, path: str, old: str, new: str) -> None:
        """A hand edit of a record file, shown as what changed."""
        target = self.workdir / who / path
        text = target.read_text()
        if old not in text:
            raise DemoFailed(f"{old!r} not found in {path}")
        target.write_text(text.replace(old, new, 1))
        print(f"{who}$ # edit {path}: {old.strip()!r} -> {new.strip()!r}", flush=True)

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
    try:
        tour(r)
    except DemoFailed as e:
        print(f"\njobshare demo stopped: {e}", file=sys.stderr)
        return 1
    print(
        f"\nDone. Alice's and Bob's repositories are in {workdir}; "
        f"try 'jobshare -C {workdir / 'alice'} log' or 'jobshare -C {workdir / 'bob'} status'."
    )
    return 0


def tour(r: Runner) -> None:
    """Alice alone: init, commit, add, list, validate, show, a caught mistake, and her
    phone's contacts imported from a vCard file."""
    workdir = r.workdir

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

    r.say(
        "Her phone's address book, exported as a vCard file, comes in as one commit. A card\n"
        "# that is a contact she has (the same email, phone, website or profile link) updates\n"
        "# it instead of making a second one; --dry-run shows what would happen first."
    )
    downloads = workdir / "Downloads"
    downloads.mkdir()
    shutil.copyfile(examples_dir() / "import" / "iphone-3.0.vcf", downloads / "contacts.vcf")
    r.run("alice", "import", "../Downloads/contacts.vcf", "--dry-run")
    r.run("alice", "import", "../Downloads/contacts.vcf")
    r.say("Importing the same file again changes nothing.")
    r.run("alice", "import", "../Downloads/contacts.vcf")

    sync_with_friends(r)


SHARED = "contacts/hanse-tech-recruiting-m4xt.yaml"
REFERRAL_TITLE = "Data pipeline, 3 months"


def sync_with_friends(r: Runner) -> None:
    """Bob joins; both share through a bare 'server'; one clean merge, one real conflict;
    then Alice refers a job to Bob, who accepts it."""
    r.say("A bare repository on a shared drive (or any git host) is the network.")
    (r.workdir / "server").mkdir()
    r.shell("server", "git", "init", "--quiet", "--bare", "alice.git")
    r.shell("server", "git", "init", "--quiet", "--bare", "bob.git")
    r.shell("alice", "git", "remote", "add", "origin", "../server/alice.git")
    r.run("alice", "push")

    r.say("Bob keeps his own sources; some contacts he already shares with Alice.")
    (r.workdir / "bob").mkdir()
    r.run("bob", "init", "--handle", "bob", "--name", "Bob Builder", "--email", "bob@example.com")
    r.copy_example("bob", "bob")
    r.run("bob", "commit", "-m", "Import my job sources")
    r.shell("bob", "git", "remote", "add", "origin", "../server/bob.git")
    r.run("bob", "push")

    r.say(
        "Alice adds Bob as a friend and pulls. Their histories never met, so records both\n"
        "# have are compared without a common base; '--strategy newest' settles any field\n"
        "# they disagree on with the more recently updated record. From now on they share history."
    )
    r.run("alice", "friend", "add", "bob", "../server/bob.git")
    r.run("alice", "pull", "bob", "--strategy", "newest")
    r.run("alice", "push")
    r.run("bob", "friend", "add", "alice", "../server/alice.git")
    r.run("bob", "pull", "alice")
    r.run("bob", "push")

    r.say("Both edit the same contact: Alice adds a tag, Bob a phone number. A clean merge.")
    r.edit("alice", SHARED, "tags:\n", "tags:\n- hiring-now\n")
    r.run("alice", "commit", "-m", "Hanse Tech is hiring now")
    r.run("alice", "push")
    r.edit("bob", SHARED, "phones:\n", "phones:\n- +49 40 3003 1000\n")
    r.run("bob", "commit", "-m", "New phone number for Hanse Tech")
    r.run("bob", "pull", "alice")
    r.run("bob", "show", SHARED.removesuffix(".yaml"))
    r.run("bob", "push")

    r.say("Now both change the contact's name, differently: a real conflict; nothing is committed.")
    r.edit("alice", SHARED, "name: Zoë Müller", "name: Dr. Zoë Müller")
    r.run("alice", "commit", "-m", "Add Dr. title for Zoë")
    r.run("alice", "push")
    r.edit("bob", SHARED, "name: Zoë Müller", "name: Zoe Mueller")
    r.run("bob", "commit", "-m", "Plain spelling")
    r.run("bob", "pull", "alice", expect=1)
    r.run("bob", "status")
    r.run("bob", "conflicts")

    r.say("Bob takes Alice's version of that one field and finishes the merge.")
    r.run("bob", "resolve", SHARED.removesuffix(".yaml") + ":name", "--theirs")
    r.run("bob", "merge", "--continue")
    r.run("bob", "push")
    r.run("alice", "pull", "bob")
    r.run("alice", "status")

    r.say("Alice is offered a job she cannot take. She refers it to Bob and pushes: one commit.")
    r.run(
        "alice",
        "refer",
        "fjord-logistics-9pha",
        "--to",
        "bob",
        "--title",
        REFERRAL_TITLE,
        "--details",
        "Airflow and dbt for their shipment data.\nTalk to Nils; mention my name.",
        "--budget",
        "EUR 600/day",
        "--deadline",
        "2026-12-15",
        "--push",
    )

    r.say("Bob pulls; the referral waits in his inbox. He accepts it and pushes.")
    r.run("bob", "pull", "alice")
    r.run("bob", "inbox")
    r.run(
        "bob",
        "referral",
        "accept",
        "data-pipeline-3-months",  # a unique prefix of the id is enough
        "--note",
        "Talked to Nils, starting Monday",
        "--push",
    )

    r.say("Alice pulls: the referral is accepted, and the ledger shows the give and take.")
    r.run("alice", "pull", "bob")
    r.run("alice", "ledger")

    one_source_one_record(r)


def one_source_one_record(r: Runner) -> None:
    """Bob adds a recruiter Alice already has, under his own id; Alice finds the pair,
    combines it, and Bob's old id leads to the one record."""
    r.say("Bob meets Northwind Talent too and adds them, under an id of his own.")
    r.run(
        "bob",
        "add",
        "contact",
        "--id",
        "northwind-talent-bob",
        "--name",
        "Northwind Talent GmbH",
        "--kind",
        "agency",
        "--email",
        "Hello@Northwind-Talent.example",
        "--phone",
        "+49 40 1234 5678",
        "--notes",
        "Ask for Jana in the Hamburg office.",
    )
    r.run("bob", "push")

    r.say("Alice pulls, and jobshare finds the two records of one source.")
    r.run("alice", "pull", "bob")
    r.run("alice", "duplicates")

    r.say("She combines them by hand: nothing is lost, and Bob's id becomes an alias.")
    r.run("alice", "combine", "northwind-talent-demo", "northwind-talent-bob")
    r.run("alice", "push")

    r.say("Bob pulls the combine; his old id leads to the one record.")
    r.run("bob", "pull", "alice")
    r.run("bob", "show", "northwind-talent-bob")
    r.run("bob", "push")
