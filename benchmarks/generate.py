"""Realistic repositories for the benchmarks: N contacts and referrals, two friends' edits.

Writes record files in canonical form straight into git with `git fast-import`, which is
how a benchmark can build 100,000 records in seconds; everything measured afterwards goes
through the normal commands.
"""

from __future__ import annotations

import os
import random
import subprocess
from pathlib import Path
from typing import Any

from jobshare_sync.core import schema

KINDS = ["recruiter", "client", "agency", "service-business", "freelancer", "other"]
INDUSTRIES = [
    "fintech",
    "health",
    "logistics",
    "e-commerce",
    "energy",
    "media",
    "public-sector",
    "retail",
]
TAGS = [
    "remote",
    "contract",
    "python",
    "go",
    "data",
    "frontend",
    "hiring-now",
    "long-term",
    "onsite",
]
WORDS = [
    "data",
    "pipeline",
    "backend",
    "team",
    "contract",
    "rate",
    "weekly",
    "invoice",
    "remote",
    "hybrid",
    "interview",
    "client",
]


def phone(prefix: str, i: int) -> str:
    """A phone number of its own for record i: no two records look like duplicates."""
    return f"{prefix} {1000 + i // 10000} {i % 10000:04d}"


def contact(i: int, rng: random.Random, handle: str = "alice") -> dict[str, Any]:
    name = f"{rng.choice(['Acme', 'Nordlicht', 'Brightlane', 'Hanse', 'Fjord', 'Vistula'])} {i}"
    return {
        "id": f"c{i:06d}-{rng.choice('abcdefghk')}{rng.randrange(100):02d}",
        "kind": rng.choice(KINDS),
        "name": name,
        "organization": f"Org {i % 997}",
        "emails": [f"jobs{i}@org{i % 997}.example"],
        "phones": [phone("+44 20", i)],
        "website": f"https://org{i}.example",
        "location": rng.choice(["London, UK", "Berlin, DE", "remote (EU)", "Hamburg, DE"]),
        "industries": rng.sample(INDUSTRIES, 2),
        "tags": rng.sample(TAGS, 3),
        "notes": "\n".join(" ".join(rng.choices(WORDS, k=8)) for _ in range(3)) + "\n",
        "added_by": handle,
        "updated": f"2026-{1 + i % 9:02d}-{1 + i % 28:02d}T09:00:00Z",
    }


def referral(i: int, client_id: str, rng: random.Random) -> dict[str, Any]:
    at = f"2026-{1 + i % 9:02d}-{1 + i % 28:02d}T10:00:00Z"
    return {
        "id": f"r{i:06d}-x{rng.randrange(100):02d}",
        "title": f"Job {i}: {' '.join(rng.choices(WORDS, k=3))}",
        "client": client_id,
        "from": "alice",
        "to": rng.choice(["bob", "anyone"]),
        "status": "open",
        "details": " ".join(rng.choices(WORDS, k=20)) + "\n",
        "budget": "EUR 600/day",
        "created": at,
        "updated": at,
        "history": [{"at": at, "by": "alice", "status": "open"}],
    }


def fast_import(
    repo: Path, branch: str, files: dict[str, bytes | None], message: str, parent: str | None
) -> None:
    """Commit `files` (path -> bytes, None deletes) on `branch`, on top of `parent`.

    The blobs go in through `git fast-import` (one pack, no process per file); the trees
    are written by `git mktree`, which sorts its entries once. fast-import's own tree
    commands search a folder's entries one by one, which a folder of 1,000,000 records
    makes quadratic."""
    blobs: list[bytes] = []
    paths = [path for path, data in files.items() if data is not None]
    for mark, path in enumerate(paths, 1):
        data = files[path]
        assert data is not None
        blobs.append(f"blob\nmark :{mark}\ndata {len(data)}\n".encode() + data + b"\n")
    marks = repo / "jobshare-bench-marks"
    subprocess.run(
        ["git", "fast-import", "--quiet", f"--export-marks={marks}"],
        cwd=repo,
        input=b"".join(blobs),
        check=True,
    )
    oid = {}
    for line in marks.read_text().splitlines():
        mark, _, sha = line.partition(" ")
        oid[paths[int(mark[1:]) - 1]] = sha
    marks.unlink()
    entries: dict[str, str] = {}  # path -> blob id, the whole tree
    if parent:
        listed = _git(repo, "ls-tree", "-r", "-z", "--full-tree", parent)
        for item in listed.split("\0"):
            if item:
                meta, _, path = item.partition("\t")
                entries[path] = meta.split()[2]
    for path, data in files.items():
        if data is None:
            entries.pop(path, None)
        else:
            entries[path] = oid[path]
    tree = _write_tree(repo, entries)
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "Bench",
        "GIT_AUTHOR_EMAIL": "bench@example.com",
        "GIT_AUTHOR_DATE": "1767225600 +0000",
        "GIT_COMMITTER_NAME": "Bench",
        "GIT_COMMITTER_EMAIL": "bench@example.com",
        "GIT_COMMITTER_DATE": "1767225600 +0000",
    }
    args = ["git", "commit-tree", tree, *(["-p", parent] if parent else [])]
    commit = subprocess.run(
        args, cwd=repo, input=message, env=env, capture_output=True, text=True, check=True
    ).stdout.strip()
    _git(repo, "update-ref", f"refs/heads/{branch}", commit)


def _write_tree(repo: Path, entries: dict[str, str]) -> str:
    """The tree of `entries` (path -> blob id, files of mode 100644), folders within
    folders, each written by `git mktree`: its id."""
    folders: dict[str, dict[str, tuple[str, str]]] = {"": {}}
    for path, blob in entries.items():
        folder, _, name = path.rpartition("/")
        folders.setdefault(folder, {})[name] = ("100644 blob", blob)
        while folder:  # every folder on the way up, so that each gets written
            up, _, _ = folder.rpartition("/")
            folders.setdefault(up, {})
            folder = up
    ids: dict[str, str] = {}
    for folder in sorted(folders, key=lambda f: f.count("/") + 1 if f else 0, reverse=True):
        listed = dict(folders[folder])
        for sub, sub_id in ids.items():
            up, _, name = sub.rpartition("/")
            if up == folder and sub:
                listed[name] = ("040000 tree", sub_id)
        text = "".join(f"{kind} {oid}\t{name}\0" for name, (kind, oid) in listed.items())
        ids[folder] = (
            subprocess.run(
                ["git", "mktree", "-z"],
                cwd=repo,
                input=text.encode(),
                capture_output=True,
                check=True,
            )
            .stdout.decode()
            .strip()
        )
    return ids[""]


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=repo, capture_output=True, text=True, check=True
    ).stdout


def build(root: Path, n: int, k: int, both: int = 50, seed: int = 7) -> dict[str, Any]:
    """A repository with a base of n records and two branches, 'ours' and 'theirs'.

    Each branch changes k records; `both` of them (at most half of k) are edited on both
    sides in different fields (ours: tags, theirs: phones), which merge cleanly field by
    field. Both sides also set `updated`, so a line-based `git merge` conflicts on those.
    """
    both = min(both, k // 2)
    rng = random.Random(seed)
    repo = root / "repo"
    subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True)
    referrals = max(1, n // 20)
    contacts = [contact(i, rng) for i in range(n - referrals)]
    files: dict[str, bytes | None] = {
        "jobshare.yaml": schema.dump_config(
            {"owner": {"handle": "alice", "name": "Alice"}, "format": 1}
        )
    }
    for c in contacts:
        files[f"contacts/{c['id']}.yaml"] = schema.dump_record("contacts", c)
    for i in range(referrals):
        r = referral(i, contacts[i % len(contacts)]["id"], rng)
        files[f"referrals/{r['id']}.yaml"] = schema.dump_record("referrals", r)
    fast_import(repo, "main", files, "base", None)
    base = _rev(repo, "main")
    picked = rng.sample(range(len(contacts)), 2 * k - both)
    shared, ours_only, theirs_only = picked[:both], picked[both:k], picked[k:]
    ours_files, theirs_files = {}, {}
    for i in shared + ours_only:
        c = dict(
            contacts[i], tags=contacts[i]["tags"] + ["ours-tag"], updated="2026-11-01T10:00:00Z"
        )
        ours_files[f"contacts/{c['id']}.yaml"] = schema.dump_record("contacts", c)
    for i in shared + theirs_only:
        c = dict(contacts[i], phones=[phone("+49 30", i)], updated="2026-11-02T10:00:00Z")
        theirs_files[f"contacts/{c['id']}.yaml"] = schema.dump_record("contacts", c)
    theirs_files["jobshare.yaml"] = schema.dump_config(
        {"owner": {"handle": "bob", "name": "Bob"}, "format": 1}
    )
    fast_import(repo, "ours", ours_files, "ours edits", base)
    fast_import(repo, "theirs", theirs_files, "theirs edits", base)
    return {"repo": repo, "base": base, "ours": _rev(repo, "ours"), "theirs": _rev(repo, "theirs")}


def _rev(repo: Path, name: str) -> str:
    return subprocess.run(
        ["git", "rev-parse", name], cwd=repo, capture_output=True, text=True, check=True
    ).stdout.strip()
