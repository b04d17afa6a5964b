"""Bad input from the user: every command, given a wrong label, a missing file,
an invalid value, a folder that is no repository, another tool's repository, an unknown
friend, a detached HEAD, an empty repository or a file it may not read, answers with one
line on stderr and a documented exit code, never a traceback.

The CLI runs in-process with catch_exceptions=False, so an exception that escapes fails
the test with its traceback.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import pwd
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from click.testing import Result
from conftest import EXAMPLES, git, jobshare, make_repo
from test_sync import T0, commit, contact, edit, ok, write

from jobshare_sync.cli import cli

DOCUMENTED = set(range(1, 16))  # 1 findings, 2 bad usage, 3 and up one code per error
PROGRESS = ("Fetching ", "Merging ", "warning: ")  # stderr lines that are not the error

# Every command, with arguments of the right shape: the walk below checks that none is
# missing, so a new command must say here how it is called.
ORDINARY: dict[str, list[str]] = {
    "init": [],
    "add contact": ["--name", "Zeta"],
    "edit": ["acme"],
    "rm": ["acme"],
    "commit": [],
    "list": [],
    "show": ["acme"],
    "validate": [],
    "note": ["acme", "--set", "rating=2"],
    "share": ["acme"],
    "unshare": ["acme", "--yes"],
    "private remote": ["/nowhere/mine.git"],
    "private status": [],
    "import": [str(EXAMPLES / "import" / "iphone-3.0.vcf")],
    "export": [],
    "vdir sync": ["../vdir"],  # beside the repository: relative paths follow -C
    "duplicates": [],
    "combine": ["acme", "acme"],  # one record only here: refused as named twice
    "rename": ["acme", "acme-recruiting"],
    "friend add": ["carol", "/nowhere/carol"],
    "friend list": [],
    "friend remove": ["bob"],
    "friend pin": ["bob", "bobby"],
    "fetch": ["bob"],
    "pull": ["bob"],
    "push": [],
    "sync": ["bob", "--no-push"],
    "status": [],
    "conflicts": [],
    "resolve": ["contacts/acme", "--ours"],
    "merge": ["--continue"],
    "refer": ["acme", "--to", "bob", "--title", "Data pipeline"],
    "referral accept": ["offer"],
    "referral decline": ["offer"],
    "referral complete": ["offer"],
    "referral withdraw": ["offer"],
    "inbox": [],
    "ledger": [],
    "incoming": ["bob"],
    "schema": [],
    "demo": [],
    "diff": ["HEAD~1"],
    "log": ["contacts/acme"],
    "git-setup": [],
    "doctor": [],
    "owner": [],
    "help": ["friend", "add"],
    "textconv": ["contacts/acme.yaml"],
    "merge-driver": ["base.yaml", "ours.yaml", "theirs.yaml", "contacts/acme.yaml"],
}
# Commands that use no repository: they are given bad input of their own below.
NO_REPOSITORY = {"init", "schema", "demo", "help", "textconv", "merge-driver"}
# Commands that write a commit (or need a branch to push): refused on a detached HEAD.
WRITES = {
    "add contact",
    "import",
    "vdir sync",
    "edit",
    "rm",
    "rename",
    "commit",
    "pull",
    "push",
    "sync",
    "refer",
    "referral accept",
    "referral decline",
    "git-setup",
    "share",
    "unshare",
}


def leaf_commands(group: click.Group = cli, prefix: str = "") -> Iterator[str]:
    for name, command in group.commands.items():
        full = f"{prefix} {name}".strip()
        if isinstance(command, click.Group):
            yield from leaf_commands(command, full)
        else:
            yield full


def test_the_table_names_every_command() -> None:
    assert set(leaf_commands()) == set(ORDINARY)


def one_line_error(result: Result, *codes: int) -> str:
    """The one error line of a failed command, checked: a documented non-zero exit code
    (one of `codes` when given), exactly one error line on stderr (progress aside), no
    traceback. Returns the line."""
    assert "Traceback" not in result.output
    assert result.exit_code in (set(codes) or DOCUMENTED), (result.exit_code, result.output)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    if result.exit_code == 2:  # click's usage error: "Usage: ...", a hint, then "Error: ..."
        errors = [line for line in lines if line.startswith("Error: ")]
    else:
        errors = [line for line in lines if not line.startswith(PROGRESS)]
        assert all(line.startswith("jobshare: ") for line in errors), result.stderr
    assert len(errors) == 1, result.stderr
    return errors[0]


def answered(result: Result) -> None:
    """A command that may work or fail here: success; exit 1 with its findings reported on
    stdout (validate, doctor); or one error line and a documented code."""
    if result.exit_code == 1 and not result.stderr.strip():
        assert result.stdout.strip() and "Traceback" not in result.output
    elif result.exit_code != 0:
        one_line_error(result)


def run(*args: str, cwd: Path | None = None) -> Result:
    return jobshare(*args, cwd=cwd)


def call(command: str, cwd: Path, *extra: str) -> Result:
    return run(*command.split(), *(extra or ORDINARY[command]), cwd=cwd)


# --- a repository with a bit of everything, copied for each case ---------------------------


OFFER = {
    "id": "offer",
    "title": "Data pipeline",
    "client": "acme",
    "from": "bob",
    "to": "alice",
    "status": "open",
    "created": T0,
    "updated": T0,
    "history": [{"at": T0, "by": "bob", "status": "open"}],
}


@pytest.fixture
def template(tmp_path: Path) -> Path:
    """alice: a contact `acme`, a referral `offer` from bob, friend bob (fetched)."""
    alice = make_repo(tmp_path / "template")
    write(alice, "contacts/acme", contact("acme", name="Acme"))
    write(alice, "referrals/offer", OFFER)
    commit(alice, "seed")
    bob = tmp_path / "bob"
    git("clone", "-q", str(alice), str(bob), cwd=tmp_path)
    (bob / "jobshare.yaml").write_text((bob / "jobshare.yaml").read_text().replace("alice", "bob"))
    git("commit", "-qam", "I am bob", cwd=bob)
    ok("friend", "add", "bob", str(bob), cwd=alice)
    ok("fetch", cwd=alice)
    return alice


class Copies:
    def __init__(self, template: Path) -> None:
        self.template = template
        self.count = 0

    def __call__(self) -> Path:
        self.count += 1
        copy = self.template.with_name(f"case-{self.count}")
        shutil.copytree(self.template, copy, symlinks=True)
        return copy


@pytest.fixture
def fresh(template: Path) -> Copies:
    return Copies(template)


# --- places that are not a jobshare repository ---------------------------------------------


def places(tmp_path: Path) -> dict[str, tuple[Path, int, str]]:
    """Each place: the folder, the exit code expected there, and words of the message."""
    nothing = tmp_path / "nothing"
    nothing.mkdir()
    plain = tmp_path / "plain"
    plain.mkdir()
    git("init", "-q", cwd=plain)
    (plain / "README").write_text("another tool's repository\n")
    git("add", "README", cwd=plain)
    git("commit", "-qm", "first", cwd=plain)
    empty = tmp_path / "empty"
    empty.mkdir()
    git("init", "-q", cwd=empty)
    bare = tmp_path / "bare.git"
    git("init", "-q", "--bare", str(bare), cwd=tmp_path)
    a_file = tmp_path / "a-file"
    a_file.write_text("not a folder\n")
    return {
        "a folder that is no repository": (nothing, 4, "not inside a jobshare repository"),
        "a folder that does not exist": (tmp_path / "missing", 4, "no such folder"),
        "another tool's repository": (plain, 4, "not a jobshare one"),
        "an empty repository": (empty, 4, "not a jobshare one"),
        "a bare repository": (bare, 14, "bare repository"),
        "a file": (a_file, 4, "a-file"),
    }


def test_every_command_outside_a_jobshare_repository(tmp_path: Path) -> None:
    for place, (path, code, words) in places(tmp_path).items():
        for command in sorted(set(ORDINARY) - NO_REPOSITORY):
            result = call(command, path)
            line = one_line_error(result, code)
            assert words in line, (place, command, line)


def test_init_refuses_a_bare_repository_a_git_folder_and_a_place_it_cannot_create(
    tmp_path: Path,
) -> None:
    bare = tmp_path / "bare.git"
    git("init", "-q", "--bare", str(bare), cwd=tmp_path)
    listing = sorted(p.name for p in bare.iterdir())
    line = one_line_error(run("init", str(bare)), 14)
    assert "clone a bare repository first" in line
    assert sorted(p.name for p in bare.iterdir()) == listing  # no repository nested inside
    repo = make_repo(tmp_path / "repo")
    one_line_error(run("init", str(repo / ".git")), 14)
    one_line_error(run("init", str(repo / ".git/refs")), 14)
    assert not (repo / ".git/refs/.git").exists()
    line = one_line_error(run("init", "/proc/jobshare-cannot-be-here"), 4)
    assert "cannot create a repository in /proc/jobshare-cannot-be-here" in line
    one_line_error(run("init", str(repo / "jobshare.yaml")), 2)  # a file


# --- a detached HEAD, an unborn branch --------------------------------------------------------


def test_every_command_on_a_detached_head(fresh: Copies, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EDITOR", "sed -i -e 's/^name: .*/name: Edited/'")
    for command in sorted(set(ORDINARY) - NO_REPOSITORY):
        repo = fresh()
        git("checkout", "-q", "--detach", cwd=repo)
        if command == "commit":
            edit(repo, "contacts/acme", name="Edited by hand")
        result = call(command, repo)
        if command in WRITES:
            line = one_line_error(result, 14)
            assert "HEAD is detached: check out a branch first" in line, command
        else:
            answered(result)
        assert git("rev-parse", "--abbrev-ref", "HEAD", cwd=repo) == "HEAD\n"


def test_every_command_in_a_repository_with_a_jobshare_yaml_and_no_commit(tmp_path: Path) -> None:
    """An unborn branch: reading commands work on nothing, the first write makes the
    first commit, and a revision that cannot exist is an unknown label."""
    template = tmp_path / "unborn"
    template.mkdir()
    git("init", "-q", cwd=template)
    (template / "jobshare.yaml").write_text("owner:\n  handle: alice\n  name: Alice\nformat: 1\n")
    copies = Copies(template)
    expected = {"show": 7, "diff": 7, "edit": 7, "rm": 7, "refer": 7, "push": 11}
    expected |= {f"referral {a}": 7 for a in ("accept", "decline", "complete", "withdraw")}
    expected |= {"friend remove": 10, "friend pin": 10, "fetch": 10, "pull": 10, "incoming": 10}
    expected |= {"sync": 10}
    expected |= {"resolve": 8, "merge": 8, "doctor": 1, "log": 7, "combine": 7, "rename": 7}
    expected |= {"note": 7, "share": 7, "unshare": 7}
    for command in sorted(set(ORDINARY) - NO_REPOSITORY):
        repo = copies()
        result = call(command, repo)
        code = expected.get(command, 0)
        if code > 1:
            one_line_error(result, code)
        assert result.exit_code == code, (command, result.output)
    repo = copies()
    ok("add", "contact", "--name", "First", "--id", "first", cwd=repo)
    assert git("log", "--format=%s", cwd=repo) == 'Add contact "First" (contacts/first)\n'
    assert "no commits yet" not in run("log", cwd=repo).stderr


# --- wrong labels, missing files, invalid values ----------------------------------------------

WRONG_LABELS = ["nope", "contacts/nope", "Contacts/acme", "contacts/../jobshare", "", "acme:x"]


def test_a_wrong_label_is_an_unknown_label_everywhere(fresh: Copies) -> None:
    repo = fresh()
    before = git("rev-parse", "HEAD", cwd=repo)
    for label in WRONG_LABELS:
        for command in ("show", "edit", "rm", "log", "referral accept", "referral withdraw"):
            line = one_line_error(call(command, repo, label), 7)
            assert "run 'jobshare list" in line or "not a label" in line or "not a valid" in line
        one_line_error(call("refer", repo, label, "--to", "bob", "--title", "T"), 7)
        if label != "contacts/nope":  # as with git's paths, a full label only filters the diff
            one_line_error(call("diff", repo, "--", label), 7)
    # a wrong label among right ones removes nothing
    one_line_error(run("rm", "acme", "nope", cwd=repo), 7)
    assert (repo / "contacts/acme.yaml").is_file()
    assert git("rev-parse", "HEAD", cwd=repo) == before


def conflicted(repo: Path) -> Path:
    """The friend changed acme's name, and so did we: a pull stops at a conflict."""
    bob = Path(git("config", "remote.bob.url", cwd=repo).strip())
    edit(bob, "contacts/acme", name="Acme (bob)")
    git("commit", "-qam", "bob's name", cwd=bob)
    edit(repo, "contacts/acme", name="Acme (alice)")
    commit(repo, "our name")
    assert run("pull", "bob", cwd=repo).exit_code == 1
    return repo


@pytest.mark.parametrize(
    ("args", "code", "words"),
    [
        (["contacts/nope", "--ours"], 7, "names no conflict"),
        (["contacts/acme:nofield", "--ours"], 7, "has no field 'nofield'"),
        (["contacts/acme", "--field", "name"], 6, "is not NAME=VALUE"),
        (["contacts/acme", "--field", "=x"], 6, "is not NAME=VALUE"),
        (["contacts/acme", "--field", "name=[unclosed"], 6, "YAML syntax error"),
        (["contacts/acme", "--field", "name=!!python/object/apply:os.system [id]"], 6, "tag"),
        (["contacts/acme", "--field", "name=*alias"], 6, "alias"),
        (["contacts/acme", "--field", "kind=robot"], 6, "'robot' is not one of"),
        (["contacts/acme", "--field", "emails=not-a-list"], 6, "should be a list"),
        (["contacts/acme", "--field", "id=other"], 6, "differs from the file name"),
        (["contacts/acme", "--field", "nofield=1"], 6, "unknown field 'nofield'"),
        (["contacts/acme", "--field", "name=\udcff"], 6, "not valid UTF-8"),
        (["contacts/acme", "--field", "name=a\0b"], 6, "NUL"),
        (["contacts/acme", "--field", "name=" + "x" * 1_100_000], 6, "limit"),
        (["contacts/acme", "--file", "missing.yaml"], 6, "cannot read missing.yaml"),
        (["contacts/acme", "--file", "/dev/null"], 6, "use --delete"),
        (["contacts/acme", "--file", "/etc/passwd"], 6, "mapping"),
        (["contacts/acme", "--file", "/etc"], 2, "is a directory"),
        (["contacts/acme", "--ours", "--theirs"], 2, "exactly one"),
        (["contacts/acme:name", "--field", "name=x"], 2, "--field names the field"),
    ],
)
def test_an_invalid_resolution_is_refused_in_one_line(
    fresh: Copies, args: list[str], code: int, words: str
) -> None:
    repo = conflicted(fresh())
    state = (repo / ".git/jobshare/merge.json").read_bytes()
    line = one_line_error(run("resolve", *args, cwd=repo), code)
    assert words in line
    assert (repo / ".git/jobshare/merge.json").read_bytes() == state


@pytest.mark.parametrize(
    ("args", "code", "words"),
    [
        (["add", "contact", "--name", "X", "--email", "not-an-email"], 6, "valid email"),
        (["add", "contact", "--name", "X", "--website", "ftp://x"], 6, "valid website"),
        (["add", "contact", "--name", ""], 6, "name"),
        (["add", "contact", "--name", "X", "--notes", "caf\udce9"], 6, "not a character"),
        (["add", "contact", "--name", "X", "--id", "../x"], 6, "not a valid id"),
        (["add", "contact", "--name", "X", "--id", "acme"], 6, "already used"),
        (["add", "contact", "--name", "X", "--kind", "robot"], 2, "robot"),
        (
            ["refer", "acme", "--to", "anyone", "--title", "T", "--deadline", "2026-13-45"],
            6,
            "date",
        ),
        (["refer", "acme", "--to", "anyone", "--title", ""], 6, "title"),
        (["refer", "acme", "--to", "alice", "--title", "T"], 13, "yourself"),
        (["refer", "acme", "--to", "nobody", "--title", "T"], 10, "not a friend's handle"),
        (["referral", "withdraw", "offer"], 13, "only bob"),
        (["referral", "complete", "offer"], 13, "open"),
        (["fetch", "nobody"], 10, "unknown friend 'nobody'"),
        (["pull", "nobody"], 10, "unknown friend 'nobody'"),
        (["incoming", "nobody"], 10, "unknown friend 'nobody'"),
        (["friend", "remove", "nobody"], 10, "unknown friend 'nobody'"),
        (["friend", "pin", "nobody", "x"], 10, "unknown friend 'nobody'"),
        (["friend", "pin", "bob", "alice"], 10, "your own handle"),
        (["friend", "pin", "bob", "Not A Handle"], 10, "not a valid handle"),
        (["friend", "add", "bob", "/x"], 10, "exists already"),
        (["friend", "add", "origin", "/x"], 10, "cannot name a friend"),
        (["friend", "add", "carol", ""], 10, "not a URL"),
        (["friend", "add", "carol", " "], 10, "not a URL"),
        (["friend", "add", "carol", "a\nb"], 10, "not a URL"),
        (["friend", "add", "carol", "--", "--upload-pack=touch /tmp/x"], 10, "not a URL"),
        (["friend", "add", "carol", "/x", "--branch", "a..b"], 10, "not a branch name"),
        (["push", "nowhere"], 11, "no remote 'nowhere'"),
        (["push"], 11, "no remote 'origin'"),
        (["merge"], 2, "--continue or --abort"),
        (["merge", "--continue"], 8, "no merge in progress"),
        (["conflicts", "--json", "--nope"], 2, "No such option"),
        (["diff", "HEAD~9"], 7, "names no revision"),
        (["diff", "HEAD~1", "HEAD", "HEAD~2"], 7, "names no revision"),
        (["show", "HEAD~9"], 7, "no record or revision"),
        (["log", "-n", "-1"], 2, "-1"),
        (["list", "nope"], 2, "nope"),
        (["schema", "nope"], 2, "nope"),
        (["validate", "--nope"], 2, "No such option"),
        (["textconv", "missing.yaml"], 2, "does not exist"),
        (["merge-driver", "a", "b", "c", "d"], 2, "does not exist"),
    ],
)
def test_a_wrong_value_is_refused_in_one_line(
    fresh: Copies, args: list[str], code: int, words: str
) -> None:
    repo = fresh()
    before = git("rev-parse", "HEAD", cwd=repo), git("config", "--local", "--list", cwd=repo)
    line = one_line_error(run(*args, cwd=repo), code)
    assert words in line, line
    assert (
        git("rev-parse", "HEAD", cwd=repo),
        git("config", "--local", "--list", cwd=repo),
    ) == before


def test_a_missing_file_is_named(fresh: Copies, tmp_path: Path) -> None:
    repo = fresh()
    result = run("validate", str(tmp_path / "missing.yaml"), cwd=repo)
    assert result.exit_code == 1 and "no such file" in result.stdout  # a finding, as designed
    line = one_line_error(run("demo", str(repo / "jobshare.yaml")), 2)
    assert "is a file" in line
    line = one_line_error(run("demo", str(repo)))  # not empty
    assert "is not empty" in line
    (repo / "contacts/acme.yaml").unlink()
    one_line_error(run("show", "acme", cwd=repo), 7)
    line = one_line_error(run("edit", "acme", cwd=repo), 7)
    assert "no record 'acme'" in line


# --- files jobshare may not read ----------------------------------------------------------------


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [
        ("effective", ctypes.c_uint32),
        ("permitted", ctypes.c_uint32),
        ("inheritable", ctypes.c_uint32),
    ]


DAC_OVERRIDE = (1 << 1) | (1 << 2)  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH


@contextlib.contextmanager
def permissions_bite() -> Iterator[None]:
    """Make file permissions apply to this thread, even as root: drop the two
    capabilities that let root ignore them from the effective set (they stay permitted,
    and come back afterwards). Skips the test where that cannot be done."""
    if os.geteuid() != 0:
        yield
        return
    libc = ctypes.CDLL(None, use_errno=True)
    header = _CapHeader(0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3, this thread
    data = (_CapData * 2)()
    if libc.capget(ctypes.byref(header), data) != 0:
        pytest.skip("running as root, and capget failed: permissions cannot be made to bite")
    saved = data[0].effective
    data[0].effective = saved & ~DAC_OVERRIDE
    if libc.capset(ctypes.byref(header), data) != 0:
        pytest.skip("running as root without CAP_SETPCAP: permissions cannot be made to bite")
    try:
        yield
    finally:
        data[0].effective = saved
        assert libc.capset(ctypes.byref(header), data) == 0


@pytest.mark.parametrize(
    "locked", ["contacts/acme.yaml", "contacts", "referrals", "jobshare.yaml", ".git/jobshare"]
)
def test_every_command_with_a_file_it_may_not_read(
    fresh: Copies, locked: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EDITOR", "true")
    for command in sorted(set(ORDINARY) - {"demo", "init", "schema"}):
        repo = fresh()
        (repo / ".git/jobshare").mkdir(exist_ok=True)
        target = repo / locked
        mode = target.stat().st_mode
        target.chmod(0)
        try:
            with permissions_bite():
                if command == "textconv":
                    result = run("textconv", str(repo / "contacts/acme.yaml"))
                else:
                    result = call(command, repo)
        finally:
            if target.exists():
                target.chmod(mode)
        answered(result)
    # what it says, once
    repo = fresh()
    (repo / "contacts/acme.yaml").chmod(0)
    with permissions_bite():
        probe = Path(repo / "contacts/acme.yaml")
        try:
            probe.read_bytes()
        except PermissionError:
            pass
        else:
            pytest.skip("file permissions do not apply here")
        line = one_line_error(run("show", "acme", cwd=repo), 3)
    assert "Permission denied (check the permissions of the repository's files" in line


def test_a_repository_owned_by_another_user_gives_gits_remedy(tmp_path: Path) -> None:
    """git's safe.directory refusal (the test runs as root: chown to `nobody` makes the
    repository another user's)."""
    repo = make_repo(tmp_path / "theirs")
    nobody = pwd.getpwnam("nobody").pw_uid
    assert os.geteuid() != nobody
    for folder, dirs, files in os.walk(repo):
        for name in [folder, *(os.path.join(folder, n) for n in dirs + files)]:
            os.lchown(name, nobody, -1)
    for args, cwd in ((["status"], repo), (["list"], repo / "contacts"), (["init"], None)):
        argv = [*args, str(repo)] if cwd is None else args
        result = jobshare(*argv, cwd=cwd)
        assert result.exit_code == 4, result.output
        line = result.stderr.strip()
        assert line.count("\n") == 0
        assert "not a jobshare repository" not in line and "is owned by another user" in line
        assert f"git config --global --add safe.directory {repo}" in line
    remedy = line.split("run '", 1)[1].rstrip("'").split()
    subprocess.run(remedy, check=True)  # as told: the repository opens
    assert jobshare("status", cwd=repo).exit_code == 0
