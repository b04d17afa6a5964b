"""`jobshare doctor`: each piece of set-up checked, with what to run to fix it.

git on the PATH, the attributes and driver config that `git-setup` writes (see
drivers.py), the hook, the schema comments and copies, and the friends' remotes.
Optional set-up that is absent is shown as such, not as a failure.
"""

from __future__ import annotations

import os
import shlex
from dataclasses import dataclass
from typing import Any

from .core import records, schema
from .core.records import SCHEMA_COMMENT_PREFIX
from .core.urls import redacted
from .drivers import ATTRIBUTES_FILE, DRIVER, HOOK_MARK, PATTERNS, _hook_path, driver_config
from .review import read_file
from .store import Store


@dataclass(frozen=True)
class Check:
    """One thing `doctor` looked at: fine, or what to run to fix it. `optional` marks
    set-up that is welcome but not needed (the git drivers, the hook) and is absent:
    not a failure."""

    name: str
    ok: bool
    detail: str
    fix: str | None = None
    optional: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "ok": self.ok,
            "optional": self.optional,
            "detail": self.detail,
            "fix": self.fix,
        }


NOT_SET_UP = "not set up (optional)"


@dataclass
class DoctorReport:
    checks: list[Check]

    @property
    def ok(self) -> bool:
        return all(check.ok or check.optional for check in self.checks)

    def to_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "checks": [check.to_json() for check in self.checks]}


def doctor(store: Store) -> DoctorReport:
    """Check git, the drivers, the records' schema comments, the schema copy and friends."""
    return DoctorReport(
        [
            _check_git(),
            _check_attributes(store),
            _check_driver_config(store),
            _check_hook(store),
            _check_schema_comments(store),
            _check_schema_copy(store),
            _check_friends(store),
            *_check_private(store),
        ]
    )


def _check_private(store: Store) -> list[Check]:
    """Once there is a private side: that none of it sits in the main repository's
    objects, where a push (`git push --all`, `--mirror`) could publish it."""
    if not store.private.exists():
        return []
    exposed = store.private_exposure()
    if exposed:
        return [
            Check(
                "private side",
                False,
                f"{len(exposed)} private object(s) are in this repository, where a push can "
                f"take them (first: {exposed[0][:10]}); a private ref was fetched into it",
                "delete the ref holding them ('git for-each-ref --contains "
                f"{exposed[0][:10]}'), then 'git gc --prune=now', before any push",
            )
        ]
    return [Check("private side", True, "kept in .git/jobshare/private.git, apart from pushes")]


def _check_git() -> Check:
    version = Store.git_version()
    if version is None:
        return Check("git", False, "git is not on PATH", "install git (https://git-scm.com)")
    return Check("git", True, f"git {version}")


def _check_attributes(store: Store) -> Check:
    wrong = []
    unset = 0
    for pattern in PATTERNS:
        sample = pattern.replace("*", "example")
        values = {name: store.attribute(sample, name) for name in ("diff", "merge")}
        unset += sum(value is None for value in values.values())
        if any(value != DRIVER for value in values.values()):
            shown = ", ".join(f"{k}={'unset' if v is None else v}" for k, v in values.items())
            wrong.append(f"{pattern} has {shown}")
    if unset == 2 * len(PATTERNS):
        return Check(
            "attributes",
            False,
            f"{NOT_SET_UP}: {ATTRIBUTES_FILE} routes no record file to the jobshare drivers",
            "jobshare git-setup",
            optional=True,
        )
    if wrong:
        return Check(
            "attributes",
            False,
            f"{ATTRIBUTES_FILE} does not route record files to the jobshare drivers: "
            + "; ".join(wrong),
            "jobshare git-setup",
        )
    return Check("attributes", True, f"{ATTRIBUTES_FILE} routes record files to the drivers")


def _check_driver_config(store: Store) -> Check:
    if all(store.git_config(name) is None for name in driver_config()):
        return Check(
            "drivers",
            False,
            f"{NOT_SET_UP}: git's textconv and merge driver for records are not registered",
            "jobshare git-setup",
            optional=True,
        )
    problems = []
    for name in driver_config():
        value = store.git_config(name)
        if value is None:
            problems.append(f"{name} is not set")
        elif name.endswith((".textconv", ".driver")):
            try:
                program = shlex.split(value)[0]
            except (ValueError, IndexError):
                program = ""
            if not (os.path.isfile(program) and os.access(program, os.X_OK)):
                problems.append(f"{name} runs '{program}', which is not there any more")
    if problems:
        return Check("drivers", False, "; ".join(problems), "jobshare git-setup")
    program = shlex.split(store.git_config(f"merge.{DRIVER}.driver") or "")[0]
    return Check("drivers", True, f"textconv and merge driver run {program}")


def _check_hook(store: Store) -> Check:
    path = _hook_path(store)
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return Check(
            "pre-commit hook",
            False,
            f"{NOT_SET_UP}: plain 'git commit' does not validate record files",
            "jobshare git-setup --pre-commit-hook",
            optional=True,
        )
    if HOOK_MARK in text:
        return Check("pre-commit hook", True, f"{path} validates staged record files")
    return Check(
        "pre-commit hook",
        True,
        f"{path} is another program's hook (it may call 'jobshare validate')",
    )


def _check_schema_comments(store: Store) -> Check:
    found, _ = store.worktree_files()
    missing = []
    for label, path in sorted(found.items()):
        wanted = SCHEMA_COMMENT_PREFIX + schema.schema_comment(label.kind)
        try:
            # utf-8-sig: a file an editor saved "with BOM" names its schema all the same
            with open(path, encoding="utf-8-sig", errors="replace") as f:
                first = f.readline().rstrip("\r\n")
        except OSError:
            first = ""
        if first.strip() != wanted:
            missing.append(label.path)
    if missing:
        shown = ", ".join(missing[:5]) + (
            f" and {len(missing) - 5} more" if len(missing) > 5 else ""
        )
        return Check(
            "schema comments",
            False,
            f"{len(missing)} record file(s) lack the '{SCHEMA_COMMENT_PREFIX}...' first line: {shown}",
            "add it as the first line ("
            + " or ".join(
                f"'{SCHEMA_COMMENT_PREFIX}{schema.schema_comment(kind)}' in {folder}/"
                for folder, kind in records.KIND_OF_FOLDER.items()
                if any(path.startswith(folder + "/") for path in missing)
            )
            + "), then 'jobshare commit'",
        )
    return Check("schema comments", True, f"all {len(found)} record file(s) name their schema")


def _check_schema_copy(store: Store) -> Check:
    stale = []
    for kind in schema.KINDS:
        rel = f"{schema.SCHEMA_DIR_IN_REPO}/{kind}.schema.json"
        raw = read_file(store.root / rel)
        if raw is None or raw.decode("utf-8", errors="replace") != schema.schema_text(kind):
            stale.append(rel + (" is missing" if raw is None else " differs"))
    if stale:
        return Check(
            "schema copy",
            False,
            "; ".join(stale),
            "jobshare init (it refreshes the copy and commits it)",
        )
    return Check("schema copy", True, f"{schema.SCHEMA_DIR_IN_REPO} matches the installed schemas")


def _check_friends(store: Store) -> Check:
    names = sorted(
        {
            # the name is everything between the section and the key, dots included
            name.removeprefix("jobshare-friend.").rpartition(".")[0]
            for name in store.git_config_names("jobshare-friend.")
            if name.count(".") >= 2
        }
    )
    if not names:
        return Check("friends", True, "no friends yet ('jobshare friend add NAME URL' adds one)")
    remotes = store.remote_urls()
    missing = [name for name in names if name not in remotes]
    # a password or token in a URL is never shown (as git shows it: `user:***@`)
    listed = ", ".join(f"{n} ({redacted(remotes[n] or n)})" for n in names if n in remotes)
    if missing:
        return Check(
            "friends",
            False,
            f"no git remote for friend(s) {', '.join(missing)}"
            + (f"; fine: {listed}" if listed else ""),
            " and ".join(f"git remote add {n} URL" for n in missing),
        )
    return Check("friends", True, f"{len(names)} friend(s), each a git remote: {listed}")
