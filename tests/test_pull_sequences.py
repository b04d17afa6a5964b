"""After any pull, `validate` passes if it passed before, and nothing raises: hypothesis
draws sequences of small repositories' adds, edits, deletions, referrals and combines,
with pulls of each other in any order (sync.py, core/policy.py), all through the
command line over real repositories. Ids come from a small pool shared by both folders,
so that records meet under one id, in one folder or across the two."""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path
from typing import Any

from conftest import clone_friend, git, jobshare, make_repo
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_sync import T0, T1, T2, contact, read, write

PEOPLE = ("alice", "bob", "carol")
IDS = ("acme", "beta", "gamma")
TIMES = (T0, T1, T2)

Step = tuple[Any, ...]
steps = st.one_of(
    st.tuples(st.just("add"), st.sampled_from(PEOPLE), st.sampled_from(IDS)),
    st.tuples(st.just("edit"), st.sampled_from(PEOPLE), st.sampled_from(IDS), st.integers(0, 2)),
    st.tuples(st.just("delete"), st.sampled_from(PEOPLE), st.sampled_from(IDS)),
    st.tuples(st.just("refer"), st.sampled_from(PEOPLE), st.sampled_from(IDS)),
    st.tuples(st.just("combine"), st.sampled_from(PEOPLE), st.permutations(IDS)),
    st.tuples(st.just("rename"), st.sampled_from(PEOPLE), st.sampled_from(IDS)),
    st.tuples(
        st.just("pull"),
        st.sampled_from(PEOPLE),
        st.sampled_from(PEOPLE),
        st.sampled_from([None, "newest", "theirs"]),
    ),
)


def _run(*args: str, cwd: Path) -> Any:
    """The command, in-process: an exception (a traceback for a user) fails the test."""
    result = jobshare(*args, cwd=cwd)
    assert "Traceback" not in result.output, (args, result.output)
    return result


def _valid(repo: Path) -> bool:
    return bool(_run("validate", cwd=repo).exit_code == 0)


def _record(repo: Path, label: str) -> dict[str, Any] | None:
    return read(repo, label) if (repo / f"{label}.yaml").exists() else None


def _commit_or_undo(repo: Path) -> None:
    """Commit the hand edits, or put them back when `jobshare commit` refuses them."""
    if _run("commit", "-m", "edit", cwd=repo).exit_code != 0:
        git("checkout", "-q", "HEAD", "--", ".", cwd=repo)
        git("clean", "-qfd", "contacts", "referrals", cwd=repo)


def _act(repos: dict[str, Path], step: Step) -> None:
    kind, who = step[0], step[1]
    repo = repos[who]
    if kind == "add":
        if not any((repo / f / f"{step[2]}.yaml").exists() for f in ("contacts", "referrals")):
            write(repo, f"contacts/{step[2]}", contact(step[2], who))
            _commit_or_undo(repo)
    elif kind == "edit":
        held = _record(repo, f"contacts/{step[2]}")
        if held is not None and "alias_of" not in held:
            held |= {"location": f"Town {step[3]}", "updated": TIMES[step[3]]}
            write(repo, f"contacts/{step[2]}", held)
            _commit_or_undo(repo)
    elif kind == "delete":
        for folder in ("referrals", "contacts"):
            path = repo / folder / f"{step[2]}.yaml"
            if path.exists():
                path.unlink()
                _commit_or_undo(repo)
                break
    elif kind == "refer":
        clients = sorted(
            p.stem
            for p in (repo / "contacts").glob("*.yaml")
            if "alias_of" not in (_record(repo, f"contacts/{p.stem}") or {})
        )
        record_id = step[2]
        taken = any((repo / f / f"{record_id}.yaml").exists() for f in ("contacts", "referrals"))
        if clients and not taken:
            data = {
                "id": record_id,
                "title": "A job",
                "client": clients[0],
                "from": who,
                "to": "anyone",
                "status": "open",
                "created": T1,
                "updated": T1,
                "history": [{"at": T1, "by": who, "status": "open"}],
            }
            write(repo, f"referrals/{record_id}", data)
            _commit_or_undo(repo)
    elif kind == "rename":
        held = _record(repo, f"contacts/{step[2]}")
        new_id = f"{step[2]}-{who}"
        if held is not None and "alias_of" not in held and not _record(repo, f"contacts/{new_id}"):
            _run("rename", step[2], new_id, cwd=repo)
    elif kind == "combine":
        live = [
            i
            for i in step[2]
            if "alias_of" not in (_record(repo, f"contacts/{i}") or {"alias_of": None})
        ]
        if len(live) >= 2:
            _run("combine", live[0], live[1], cwd=repo)
    elif kind == "pull" and step[2] != who:
        valid_before = _valid(repo)
        args = ["pull", step[2]] + (["--strategy", step[3]] if step[3] else [])
        result = _run(*args, cwd=repo)
        assert result.exit_code in (0, 1), (step, result.output)
        if result.exit_code == 1:  # conflicts: nothing applied; leave it as it was
            _run("merge", "--abort", cwd=repo)
        if valid_before:
            assert _valid(repo), (step, result.output, _run("validate", cwd=repo).output)


@settings(
    max_examples=12,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(st.lists(steps, min_size=4, max_size=14))
def test_validate_passes_after_any_pull_if_it_passed_before(sequence: list[Step]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        alice = make_repo(root / "alice")
        write(alice, "contacts/seed", contact("seed"))
        _run("commit", "-m", "seed", cwd=alice)
        repos = {"alice": alice}
        for name in PEOPLE[1:]:
            repos[name] = clone_friend(alice, root / name, name)
        for name, repo in repos.items():
            for friend in PEOPLE:
                if friend != name:
                    _run("friend", "add", friend, str(root / friend), cwd=repo)
        for step in sequence:
            _act(repos, step)
        for repo in repos.values():
            status = subprocess.run(
                ["git", "status", "--porcelain"], cwd=repo, capture_output=True, text=True
            )
            assert status.stdout == "", status.stdout
