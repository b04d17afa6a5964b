"""Nothing private leaves (README "What is private"): a freelancer with private records
and notes syncs with her own remote, a friend and her private remote over `git daemon`,
through the installed `jobshare` command; then every bare repository that received a
push, and the friend's clone, is read object by object and holds nothing private. A
second machine gets the private side from the private remote alone."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from conftest import clone_friend, git, make_repo, publish
from test_sync import Serve

JOBSHARE = Path(sys.executable).parent / "jobshare"
SECRET_NAME = "Qzv Direct Client"
SECRET_EMAIL = "boss@qzv-direct.example"
NOTE_TEXT = "pays 60 days late, asked me to undercut bob"
DAY_RATE = "EUR 777 per day qzv"


def run(*args: str, cwd: Path) -> str:
    """The installed command, as a user runs it."""
    done = subprocess.run(
        [str(JOBSHARE), *args],
        cwd=cwd,
        env=os.environ.copy(),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, (args, done.stdout, done.stderr)
    return done.stdout + done.stderr


def everything_in(git_dir: Path) -> bytes:
    """Every ref and every object of a repository, as bytes."""
    refs = subprocess.run(
        ["git", "--git-dir", str(git_dir), "for-each-ref"], capture_output=True, check=True
    ).stdout
    objects = subprocess.run(
        ["git", "--git-dir", str(git_dir), "cat-file", "--batch-all-objects", "--batch"],
        capture_output=True,
        check=True,
    ).stdout
    return refs + objects


def test_nothing_private_reaches_origin_a_friend_or_a_push_by_hand(
    tmp_path: Path, git_daemon: Serve
) -> None:
    desk = make_repo(tmp_path / "desk")
    run("add", "contact", "--name", "Acme Recruiting", "--id", "acme", "--tag", "remote", cwd=desk)
    origin = publish(desk, tmp_path / "alice.git")
    git("remote", "add", "origin", git_daemon(origin), cwd=desk)
    bob = clone_friend(desk, tmp_path / "bob", "bob")
    run("add", "contact", "--name", "Bobs Agency", "--id", "bobs-agency", cwd=bob)
    bob_bare = publish(bob, tmp_path / "bob.git")
    git("remote", "add", "origin", git_daemon(bob_bare), cwd=bob)
    mine = tmp_path / "mine.git"
    git("init", "-q", "--bare", str(mine), cwd=tmp_path)

    # alice's private side: a private client, notes on her record and on bob's
    added = json.loads(
        run(
            "add", "contact", "--name", SECRET_NAME, "--kind", "client", "--email", SECRET_EMAIL,
            "--private", "--json", cwd=desk,
        ).split("\n}\n")[0] + "\n}"
    )  # fmt: skip
    secret_id = added["jobshare.add/v1"]["label"].split("/")[1]
    run("note", "acme", "--set", f"notes={NOTE_TEXT}", "--set", f"day_rate={DAY_RATE}", cwd=desk)
    run("friend", "add", "bob", git_daemon(bob_bare), cwd=desk)
    run("private", "remote", git_daemon(mine), cwd=desk)
    out = run("sync", cwd=desk)
    assert "private side with" in out and "pushed" in out
    run("note", "bobs-agency", "--set", "rating=1", "--set", "tags=qzv-avoid", cwd=desk)
    run("refer", "acme", "--to", "bob", "--title", "Data job", "--push", cwd=desk)
    run("sync", cwd=desk)
    run("push", cwd=desk)

    # bob pulls alice and publishes; a second machine of alice's gets the private side
    run("friend", "add", "alice", git_daemon(origin), cwd=bob)
    run("sync", cwd=bob)
    laptop = tmp_path / "laptop"
    git("clone", "-q", git_daemon(origin), str(laptop), cwd=tmp_path)
    run("sync", cwd=laptop)
    assert SECRET_NAME not in run("list", cwd=laptop)
    run("private", "remote", git_daemon(mine), cwd=laptop)
    run("sync", cwd=laptop)
    listed = run("list", cwd=laptop)
    assert f"contacts/{secret_id} [private]" in listed and "(qzv-avoid)" in listed
    assert DAY_RATE in run("show", "acme", cwd=laptop)
    run("note", secret_id, "--set", "rating=5", cwd=laptop)
    run("sync", cwd=laptop)
    run("sync", cwd=desk)
    assert "rating: 5" in run("show", secret_id, cwd=desk)

    # plain git by hand: a mirror push and a push of every branch
    mirror = tmp_path / "mirror.git"
    every = tmp_path / "all.git"
    for bare in (mirror, every):
        git("init", "-q", "--bare", str(bare), cwd=tmp_path)
    git("push", "-q", "--mirror", str(mirror), cwd=desk)
    git("push", "-q", "--all", str(every), cwd=desk)
    git("push", "-q", "--tags", str(every), cwd=desk)

    secrets = [SECRET_NAME, SECRET_EMAIL, NOTE_TEXT, DAY_RATE, "qzv-avoid", secret_id]
    for place in (origin, bob_bare, mirror, every, bob / ".git", laptop / ".git", desk / ".git"):
        found = everything_in(place)
        assert found, place
        for secret in secrets:
            assert secret.encode() not in found, (place, secret)
        assert b"refs/heads/private" not in found
    # the shared side of every repository says nothing of it either, messages included
    for repo in (desk, bob, laptop):
        log = git("log", "--all", "-p", "--format=%B", cwd=repo)
        assert all(secret not in log for secret in secrets)
    # while the private remote has it all
    private = everything_in(mine)
    assert all(secret.encode() in private for secret in secrets if secret != "qzv-avoid")
    assert b"qzv-avoid" in private
    assert run("doctor", cwd=desk)
