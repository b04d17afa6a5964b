"""The daily sync and jobshare beside plain git, end to end: the installed `jobshare`
command, run as a user runs it, over real repositories reached by a file path and by
`git daemon`. Two machines and three friends reach the same records with `jobshare
sync` alone; plain git's merges, a merge left half done, CR LF line ends, hand
commits and shallow clones never make jobshare act as someone else or lose a record;
a friend's mistakes, secrets in URLs and the smaller things a new user meets."""

from __future__ import annotations

import json
import os
import pwd
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from conftest import git, publish
from test_sync import Serve, assert_clean, installed, records_bytes

pytestmark = pytest.mark.slow

OVER = pytest.mark.parametrize("over", ["path", "daemon"])


def served(over: str, git_daemon: Serve) -> Callable[[Path], str]:
    """How a bare repository is reached: its path, or its git:// URL."""
    return git_daemon if over == "daemon" else str


def new_repo(where: Path, handle: str) -> Path:
    installed("init", str(where), "--handle", handle, "--name", handle.title(), cwd=where.parent)
    return where


def add(repo: Path, record_id: str, *options: str) -> None:
    name = record_id.replace("-", " ").title()
    installed("add", "contact", "--name", name, "--id", record_id, *options, cwd=repo)


def set_field(repo: Path, label: str, key: str, value: str) -> None:
    """A hand edit of one field, committed with `jobshare commit`."""
    path = repo / f"{label}.yaml"
    data = yaml.safe_load(path.read_text())
    data[key] = value
    head = path.read_text().splitlines()[0]
    path.write_text(head + "\n" + yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
    installed("commit", "-m", f"{key} of {label}", cwd=repo)


def record_ids(repo: Path) -> set[str]:
    return {
        f"{p.parent.name}/{p.stem}"
        for p in repo.glob("*/*.yaml")
        if p.parent.name
        in (
            "contacts",
            "referrals",
        )
    }


def friends_of(repo: Path) -> set[str]:
    listed = json.loads(installed("friend", "list", "--json", cwd=repo).stdout)
    return {f["name"] for f in listed["jobshare.friends/v1"]}


def tip(repo: Path, rev: str = "HEAD") -> str:
    return git("rev-parse", rev, cwd=repo).strip()


# --- jobshare sync: the whole daily job in one command -----------------------------------


@OVER
def test_two_machines_three_friends_reach_the_same_records_with_sync_alone(
    tmp_path: Path, git_daemon: Serve, over: str
) -> None:
    url = served(over, git_daemon)
    pub = tmp_path / "pub"
    pub.mkdir()
    desk = new_repo(tmp_path / "desk", "alice")
    add(desk, "acme", "--kind", "agency", "--email", "jobs@acme.example")
    origin = publish(desk, pub / "alice.git")
    git("remote", "add", "origin", url(origin), cwd=desk)
    friends: dict[str, Path] = {}
    for name in ("bob", "carol", "dave"):
        repo = new_repo(tmp_path / name, name)
        add(repo, f"{name}-agency", "--kind", "agency")
        git("remote", "add", "origin", url(publish(repo, pub / f"{name}.git")), cwd=repo)
        installed("friend", "add", "alice", url(origin), cwd=repo)
        friends[name] = repo
    for name in ("bob", "carol"):
        installed("friend", "add", name, url(pub / f"{name}.git"), cwd=desk)
    first = installed("sync", cwd=desk).stdout
    assert "pushed main to origin" in first and tip(desk) == tip(origin, "main")

    # a new laptop: a clone of her own repository and `jobshare sync`
    laptop = tmp_path / "laptop"
    git("clone", "-q", url(origin), str(laptop), cwd=tmp_path)
    learned = installed("sync", cwd=laptop).stdout
    assert "learned friend 'bob'" in learned and "learned friend 'carol'" in learned
    assert friends_of(laptop) == {"bob", "carol"}
    assert git("config", "jobshare-friend.bob.handle", cwd=laptop).strip() == "bob"
    installed("friend", "add", "dave", url(pub / "dave.git"), cwd=laptop)

    # a day's work everywhere; the laptop syncs first
    add(laptop, "laptop-lead")
    set_field(laptop, "contacts/acme", "location", "Leeds")
    installed("sync", cwd=laptop)
    add(desk, "desk-lead")
    set_field(desk, "contacts/acme", "website", "https://acme.example")
    rejected = installed("push", cwd=desk, code=11)
    assert "rejected" in rejected.stderr and "'jobshare sync'" in rejected.stderr
    merged = installed("sync", cwd=desk).stdout  # the laptop's work, merged field by field
    assert "learned friend 'dave'" in merged and "pushed main to origin" in merged
    acme = yaml.safe_load((desk / "contacts/acme.yaml").read_text())
    assert (acme["location"], acme["website"]) == ("Leeds", "https://acme.example")
    assert acme["added_by"] == "alice"

    # both machines rename acme: the sync stops, and merge --continue carries on
    set_field(desk, "contacts/acme", "name", "Acme Desk")
    installed("sync", cwd=desk)
    set_field(laptop, "contacts/acme", "name", "Acme Laptop")
    stopped = installed("sync", cwd=laptop, code=1)
    assert "CONFLICT contacts/acme" in stopped.stdout and "merge --continue" in stopped.stderr
    installed("resolve", "contacts/acme:name", "--ours", cwd=laptop)
    carried = installed("merge", "--continue", cwd=laptop).stdout
    assert "Merge committed" in carried and "pushed main to origin" in carried

    # the friends take part with `jobshare sync` too, until nothing moves
    set_field(friends["bob"], "contacts/bob-agency", "location", "York")
    for _ in range(3):
        for repo in (desk, laptop, *friends.values()):
            installed("sync", cwd=repo)
    everyone = (desk, laptop, *friends.values())
    expected = {
        "contacts/acme",
        "contacts/bob-agency",
        "contacts/carol-agency",
        "contacts/dave-agency",
        "contacts/desk-lead",
        "contacts/laptop-lead",
    }
    for repo in everyone:
        assert record_ids(repo) == expected, repo
        assert records_bytes(repo) == records_bytes(desk), repo
        installed("validate", cwd=repo)
        assert_clean(repo)
    assert tip(desk) == tip(laptop) == tip(origin, "main")
    assert yaml.safe_load((desk / "contacts/acme.yaml").read_text())["name"] == "Acme Laptop"
    before = tip(desk)
    installed("sync", cwd=desk)  # nothing new: no commit
    assert tip(desk) == before

    # a friend removed on one machine is removed on the other, and stays removed
    installed("friend", "remove", "dave", cwd=desk)
    installed("sync", cwd=desk)
    assert "removed friend 'dave'" in installed("sync", cwd=laptop).stdout
    for _ in range(2):
        installed("sync", cwd=desk)
        installed("sync", cwd=laptop)
    assert friends_of(desk) == friends_of(laptop) == {"bob", "carol"}
    assert "dave" not in (laptop / ".jobshare/friends.yaml").read_text()


@OVER
def test_the_friends_list_never_carries_a_secret_and_a_friends_is_never_merged(
    tmp_path: Path, git_daemon: Serve, over: str
) -> None:
    url = served(over, git_daemon)
    desk = new_repo(tmp_path / "desk", "alice")
    origin = publish(desk, tmp_path / "alice.git")
    git("remote", "add", "origin", url(origin), cwd=desk)
    bob = new_repo(tmp_path / "bob", "bob")
    (bob / ".jobshare/friends.yaml").write_text(
        "friends:\n  mallory: {url: /nowhere, branch: main, handle: mallory}\n"
    )
    git("add", ".jobshare/friends.yaml", cwd=bob)
    git("commit", "-qm", "my friends", cwd=bob)
    installed("friend", "add", "bob", url(publish(bob)), cwd=desk)
    secret = "https://eve:s3cret-token@127.0.0.1:9/eve.git"
    installed("friend", "add", "eve", secret, cwd=desk)
    outputs = [
        installed("sync", cwd=desk, code=11),  # eve cannot be fetched; the rest is done
        installed("sync", "--json", cwd=desk, code=11),
        installed("friend", "list", cwd=desk),
        installed("friend", "list", "--json", cwd=desk),
        installed("status", "--json", cwd=desk),
        installed("doctor", cwd=desk),
        installed("fetch", "eve", cwd=desk, code=11),
        installed("incoming", "eve", cwd=desk, code=11),
    ]
    for done in outputs:
        assert "s3cret" not in done.stdout + done.stderr, done.args
    for shown in (outputs[2], outputs[5]):  # friend list, doctor: as git shows it
        assert "https://eve:***@127.0.0.1:9/eve.git" in shown.stdout
    assert "s3cret" not in git("log", "-p", "--all", cwd=desk)
    assert "s3cret" not in git("log", "-p", "--all", cwd=origin)
    assert "mallory" not in git("config", "--list", cwd=desk)
    listed = (desk / ".jobshare/friends.yaml").read_text()
    assert "https://eve@127.0.0.1:9/eve.git" in listed and "mallory" not in listed


# --- plain git beside jobshare ---------------------------------------------------------


@OVER
def test_plain_git_never_makes_jobshare_act_as_someone_else(
    tmp_path: Path, git_daemon: Serve, over: str
) -> None:
    url = served(over, git_daemon)
    alice = new_repo(tmp_path / "alice", "alice")
    add(alice, "acme")
    bob = tmp_path / "bob"
    git("clone", "-q", str(alice), str(bob), cwd=tmp_path)
    (bob / "jobshare.yaml").write_text(
        (bob / "jobshare.yaml").read_text().replace("alice", "bob").replace("Alice", "Bob")
    )
    git("commit", "-qam", "I am bob", cwd=bob)
    git("config", "jobshare.owner", "bob", cwd=bob)
    add(bob, "bobs-lead")
    # alice merges bob with plain git (a fast-forward): his jobshare.yaml is hers now
    git("pull", "-q", "--no-rebase", "--no-edit", url(publish(bob)), "main", cwd=alice)
    before = tip(alice)
    for command in (["add", "contact", "--name", "X"], ["status"], ["doctor"], ["sync"]):
        stopped = installed(*command, cwd=alice, code=14)
        assert stopped.stderr.count("\n") == 1
        assert "names the owner 'bob', but this clone is 'alice''s" in stopped.stderr
        assert "jobshare owner --restore" in stopped.stderr
    assert tip(alice) == before
    installed("owner", "--restore", cwd=alice)
    add(alice, "alices-lead")
    lead = yaml.safe_load((alice / "contacts/alices-lead.yaml").read_text())
    assert lead["added_by"] == "alice"
    installed("validate", cwd=alice)
    # git-setup keeps the owner's file in a merge where both sides changed it
    installed("git-setup", cwd=alice)
    assert "jobshare.yaml" in (alice / ".gitattributes").read_text()


def test_a_merge_by_git_in_progress_blocks_writes_and_shows_its_files(tmp_path: Path) -> None:
    alice = new_repo(tmp_path / "alice", "alice")
    add(alice, "acme", "--location", "Leeds")
    bob = tmp_path / "bob"
    git("clone", "-q", str(alice), str(bob), cwd=tmp_path)
    set_field(bob, "contacts/acme", "location", "York")
    set_field(alice, "contacts/acme", "location", "Hull")
    git("fetch", "-q", str(bob), "main", cwd=alice)
    merged = subprocess.run(
        ["git", "merge", "--no-edit", "FETCH_HEAD"], cwd=alice, capture_output=True
    )
    assert merged.returncode != 0
    for command in (["add", "contact", "--name", "X"], ["commit"], ["rm", "acme"], ["sync"]):
        stopped = installed(*command, cwd=alice, code=8)
        assert "finish or abort git's merge first" in stopped.stderr
    assert "unmerged contacts/acme.yaml" in installed("status", cwd=alice).stdout
    assert "unmerged contacts/acme.yaml" in installed("conflicts", cwd=alice).stdout
    report = installed("validate", cwd=alice, code=1).stdout
    assert "unresolved merge conflict markers at line" in report
    assert "syntax" not in report.lower()
    git("merge", "--abort", cwd=alice)
    installed("validate", cwd=alice)


@OVER
def test_crlf_files_under_autocrlf_commit_and_pull_cleanly(
    tmp_path: Path, git_daemon: Serve, over: str
) -> None:
    url = served(over, git_daemon)
    alice = new_repo(tmp_path / "alice", "alice")
    git("config", "core.autocrlf", "true", cwd=alice)
    add(alice, "acme")
    path = alice / "contacts/acme.yaml"
    path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n").replace(b"Acme", b"Acme Ltd"))
    commits = git("rev-list", "--count", "HEAD", cwd=alice)
    installed("commit", cwd=alice)
    assert int(git("rev-list", "--count", "HEAD", cwd=alice)) == int(commits) + 1
    assert git("status", "--porcelain", cwd=alice) == ""
    assert "No uncommitted record changes." in installed("status", cwd=alice).stdout
    assert installed("diff", cwd=alice).stdout.strip() in ("", "no record changes")
    assert "nothing to commit" in installed("commit", cwd=alice).stdout  # no empty commit
    bob = new_repo(tmp_path / "bob", "bob")
    add(bob, "bobs-lead")
    installed("friend", "add", "bob", url(publish(bob)), cwd=alice)
    installed("pull", cwd=alice)
    assert git("status", "--porcelain", cwd=alice) == ""


def test_an_invalid_record_committed_with_plain_git_is_stopped_by_the_hook(
    tmp_path: Path,
) -> None:
    alice = new_repo(tmp_path / "alice", "alice")
    installed("git-setup", "--pre-commit-hook", cwd=alice)
    add(alice, "good")
    text = (alice / "contacts/good.yaml").read_text()
    (alice / "contacts/bad.yaml").write_text(text.replace("id: good", "id: bad") + "colour: x\n")
    git("add", "contacts/bad.yaml", cwd=alice)
    done = subprocess.run(
        ["git", "commit", "-qm", "bad"], cwd=alice, capture_output=True, text=True
    )
    assert done.returncode != 0
    assert "contacts/bad.yaml:" in done.stdout + done.stderr


@OVER
def test_incoming_says_what_pull_says_in_a_shallow_clone(
    tmp_path: Path, git_daemon: Serve, over: str
) -> None:
    url = served(over, git_daemon)
    alice = new_repo(tmp_path / "alice", "alice")
    add(alice, "acme")
    bob = new_repo(tmp_path / "bob", "bob")
    shallow = tmp_path / "shallow"
    git("clone", "-q", "--depth", "1", f"file://{alice}", str(shallow), cwd=tmp_path)
    installed("friend", "add", "bob", url(publish(bob)), cwd=shallow)
    pulled = installed("pull", cwd=shallow, code=14)
    for command in (["incoming", "bob"], ["sync", "--no-push"]):
        refused = installed(*command, cwd=shallow, code=14)
        assert refused.stderr == pulled.stderr and "git fetch --unshallow" in refused.stderr


# --- a friend's mistakes and your own ------------------------------------------------------


@OVER
def test_a_skipped_version_never_becomes_the_base(
    tmp_path: Path, git_daemon: Serve, over: str
) -> None:
    url = served(over, git_daemon)
    alice = new_repo(tmp_path / "alice", "alice")
    add(alice, "acme", "--email", "old@acme.example", "--location", "Leeds")
    bob = tmp_path / "bob"
    git("clone", "-q", str(alice), str(bob), cwd=tmp_path)
    git("remote", "remove", "origin", cwd=bob)
    (bob / "jobshare.yaml").write_text(
        (bob / "jobshare.yaml").read_text().replace("alice", "bob").replace("Alice", "Bob")
    )
    git("commit", "-qam", "I am bob", cwd=bob)
    git("config", "jobshare.owner", "bob", cwd=bob)
    bare = publish(bob)
    installed("friend", "add", "bob", url(bare), cwd=alice)
    installed("friend", "add", "alice", str(alice), cwd=bob)
    # bob replaces the email in a version alice's pull skips (a kind jobshare lacks)
    path = bob / "contacts/acme.yaml"
    text = path.read_text()
    text = text.replace("old@acme.example", "new@acme.example")
    path.write_text(text.replace("kind: other", "kind: headhunter"))
    git("commit", "-qam", "new email, unknown kind", cwd=bob)
    publish(bob)
    set_field(alice, "contacts/acme", "location", "Hull")
    pulled = installed("pull", "bob", cwd=alice).stdout
    assert "skipped  contacts/acme.yaml: " in pulled and "headhunter" in pulled
    assert "old@acme.example" in (alice / "contacts/acme.yaml").read_text()
    path.write_text(path.read_text().replace("kind: headhunter", "kind: agency"))
    git("commit", "-qam", "kind fixed", cwd=bob)
    publish(bob)
    installed("pull", "bob", cwd=alice)
    acme = yaml.safe_load((alice / "contacts/acme.yaml").read_text())
    assert acme["emails"] == ["new@acme.example"] and acme["location"] == "Hull"
    installed("pull", "alice", cwd=bob)
    assert "old@acme.example" not in path.read_text()
    assert records_bytes(alice) == records_bytes(bob)


def test_rm_keeps_a_contact_a_referral_names_and_validate_passes(tmp_path: Path) -> None:
    alice = new_repo(tmp_path / "alice", "alice")
    add(alice, "acme")
    bob = new_repo(tmp_path / "bob", "bob")
    installed("friend", "add", "bob", str(bob), cwd=alice)
    installed("fetch", cwd=alice)
    installed("refer", "acme", "--to", "bob", "--title", "Data pipeline", cwd=alice)
    [referral] = [p.stem for p in (alice / "referrals").glob("*.yaml")]
    installed("referral", "withdraw", referral, cwd=alice)
    refused = installed("rm", "acme", cwd=alice, code=13)
    assert f"referrals/{referral}" in refused.stderr and "--force" in refused.stderr
    installed("validate", cwd=alice)
    forced = installed("rm", "acme", "--force", cwd=alice)
    assert f"now name a client that is gone: contacts/acme by referrals/{referral}" in (
        forced.stderr
    )


def test_advice_names_the_real_fix(tmp_path: Path) -> None:
    alice = new_repo(tmp_path / "alice", "alice")
    bob = new_repo(tmp_path / "bob", "bob")
    git("branch", "-m", "main", "trunk", cwd=bob)
    installed("friend", "add", "bob", str(bob), cwd=alice)
    for command in (["fetch"], ["pull"], ["sync"], ["incoming", "bob"]):
        failed = subprocess.run(
            [str(Path(sys.executable).with_name("jobshare")), "-C", str(alice), *command],
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            timeout=60,
        )
        assert failed.returncode != 0
        [error] = [x for x in failed.stderr.splitlines() if x.startswith("jobshare: ")]
        assert "it has no branch 'main'" in error and "--branch" in error, command


def test_a_repository_owned_by_another_user_says_so_with_gits_remedy(tmp_path: Path) -> None:
    """(The tests run as root: chown to `nobody` makes the repository another user's.)"""
    repo = new_repo(tmp_path / "theirs", "alice")
    nobody = pwd.getpwnam("nobody").pw_uid
    assert os.geteuid() != nobody
    for folder, dirs, files in os.walk(repo):
        for name in [folder, *(os.path.join(folder, n) for n in dirs + files)]:
            os.lchown(name, nobody, -1)
    refused = installed("status", cwd=repo, code=4)
    assert "not a jobshare repository" not in refused.stderr
    assert "is owned by another user" in refused.stderr
    assert f"git config --global --add safe.directory {repo}" in refused.stderr
    git("config", "--global", "--add", "safe.directory", str(repo), cwd=tmp_path)
    installed("status", cwd=repo)


# --- smaller things a new user met -----------------------------------------------------------


def test_a_new_users_first_steps(tmp_path: Path) -> None:
    alice = new_repo(tmp_path / "alice", "alice")
    doctor = installed("doctor", cwd=alice).stdout  # fresh from init: passes
    assert "not set up (optional)" in doctor
    assert "jobshare sync" in installed("help", "sync", cwd=alice).stdout
    unknown = installed("search", "acme", cwd=alice, code=2)
    assert "list --search" in unknown.stderr
    # a failed init leaves nothing behind; init never changes the owner
    target = tmp_path / "nobody"
    installed("init", str(target), "--handle", "Not Valid!", "--name", "N", cwd=tmp_path, code=6)
    assert not target.exists()
    other = installed("init", str(alice), "--handle", "bob", cwd=tmp_path, code=14)
    assert "will not change the owner" in other.stderr
    # edit opens the record where its schema comment resolves; notes point at lines
    add(alice, "acme")
    editor = tmp_path / "editor.py"
    seen = tmp_path / "seen.txt"
    editor.write_text(
        "import sys, pathlib\n"
        "p = pathlib.Path(sys.argv[1])\n"
        "first = p.read_text().splitlines()[0]\n"
        "schema = (p.parent / first.split('$schema=')[1]).resolve()\n"
        f"pathlib.Path({str(seen)!r}).write_text(str(schema.is_file()))\n"
        "p.write_text(p.read_text().replace('name: Acme', 'name: Acme Ltd'))\n"
    )
    os.environ["EDITOR"] = f"{sys.executable} {editor}"
    try:
        installed("edit", "acme", cwd=alice)
    finally:
        del os.environ["EDITOR"]
    assert seen.read_text() == "True"
    assert "Acme Ltd" in (alice / "contacts/acme.yaml").read_text()
    # validate checks a file restored with an old mtime again
    installed("validate", cwd=alice)
    saved = tmp_path / "acme.yaml"
    shutil.copy2(alice / "contacts/acme.yaml", saved)
    (alice / "contacts/acme.yaml").write_text(
        (alice / "contacts/acme.yaml").read_text() + "colour: blue\n"
    )
    stat = saved.stat()
    os.utime(alice / "contacts/acme.yaml", ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert "colour" in installed("validate", cwd=alice, code=1).stdout


def test_incoming_and_status_agree(tmp_path: Path, git_daemon: Serve) -> None:
    alice = new_repo(tmp_path / "alice", "alice")
    add(alice, "acme")
    bob = tmp_path / "bob"
    git("clone", "-q", str(alice), str(bob), cwd=tmp_path)
    git("remote", "remove", "origin", cwd=bob)
    (bob / "jobshare.yaml").write_text(
        (bob / "jobshare.yaml").read_text().replace("alice", "bob").replace("Alice", "Bob")
    )
    git("commit", "-qam", "I am bob", cwd=bob)
    git("config", "jobshare.owner", "bob", cwd=bob)
    bare = publish(bob)
    installed("friend", "add", "bob", git_daemon(bare), cwd=alice)
    installed("fetch", cwd=alice)

    def counted() -> int:
        data = json.loads(installed("status", "--json", cwd=alice).stdout)
        return int(data["jobshare.status/v1"]["friends"][0]["incoming"])

    assert "bob has nothing new for you" in installed("incoming", "bob", cwd=alice).stdout
    assert counted() == 0
    add(bob, "bobs-lead")
    publish(bob)
    installed("fetch", cwd=alice)
    text = installed("incoming", "bob", cwd=alice).stdout
    assert "your common history" in text and "bobs-lead" in text
    assert counted() == 1 and "1 commit to pull" in installed("status", cwd=alice).stdout
