"""Friends, fetch and push through the system git, and the pull that merges them.

Fetch and push run `git` (it honours ~/.ssh/config, credential helpers and agents)
with prompts off, ssh in batch mode and LC_ALL=C. Everything local goes through
the Store. A pull merges only `contacts/` and `referrals/`, record by record, and
either writes one merge commit or stores the conflicts in `.git/jobshare/merge.json`
without touching HEAD or the working tree.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import pygit2

from .conflicts import merge_in_progress, merge_status, save_merge_state
from .core import merge, records, schema
from .core.merge import AncestorOursTheirs, MergeResult
from .core.records import Label
from .errors import (
    DirtyWorkTreeError,
    FriendError,
    GitCommandError,
    MergeStateError,
    RecordError,
    RepositoryStateError,
)
from .store import CONFIG_FILE, KEPT_DELETIONS, FileContent, Skipped, Store

FRIEND_SECTION = "jobshare-friend"
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
Progress = Callable[[str], None]


def _quiet(message: str) -> None:
    pass


# --- friends -------------------------------------------------------------------------


@dataclass
class Friend:
    """A friend: a git remote plus the handle pinned at the first fetch."""

    name: str
    url: str
    branch: str
    handle: str | None
    fetched: str | None  # the last fetched commit

    @property
    def ref(self) -> str:
        return f"refs/remotes/{self.name}/{self.branch}"

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "url": self.url,
            "branch": self.branch,
            "handle": self.handle,
            "fetched": self.fetched,
        }


def _config_get(store: Store, key: str) -> str | None:
    config = store.repo.config
    return str(config[key]) if key in config else None


def list_friends(store: Store) -> list[Friend]:
    names = sorted(
        {
            entry.name.split(".")[1]
            for entry in store.repo.config
            if entry.name.startswith(f"{FRIEND_SECTION}.") and entry.name.count(".") >= 2
        }
    )
    return [get_friend(store, name) for name in names]


def get_friend(store: Store, name: str) -> Friend:
    branch = _config_get(store, f"{FRIEND_SECTION}.{name}.branch")
    url = _config_get(store, f"remote.{name}.url")
    if branch is None or url is None:
        raise FriendError(
            f"unknown friend '{name}': run 'jobshare friend list' to see your friends"
        )
    friend = Friend(name, url, branch, _config_get(store, f"{FRIEND_SECTION}.{name}.handle"), None)
    ref = store.repo.references.get(friend.ref)
    friend.fetched = str(ref.target) if ref is not None else None
    return friend


def add_friend(store: Store, name: str, url: str, branch: str = "main") -> Friend:
    if not NAME_RE.match(name) or name == "origin":
        raise FriendError(
            f"'{name}' cannot name a friend: use letters, digits, '.', '_' or '-' (and not 'origin')"
        )
    if not re.match(r"^[A-Za-z0-9._/-]+$", branch) or ".." in branch:
        raise FriendError(f"'{branch}' is not a branch name")
    if name in store.repo.remotes.names():
        raise FriendError(f"a remote named '{name}' exists already: pick another name")
    if not url.strip() or url.startswith("-") or any(c in url for c in "\n\r\0"):
        raise FriendError(
            f"{url!r} is not a URL git can fetch from: give a path or a git://, ssh:// "
            "or https:// URL"
        )
    with store.locked():
        try:
            store.repo.remotes.create(
                name, url, f"+refs/heads/{branch}:refs/remotes/{name}/{branch}"
            )
        except pygit2.GitError as e:
            raise FriendError(f"cannot add friend '{name}' ({url}): {e}") from None
        config = store.repo.config
        config[f"remote.{name}.tagopt"] = "--no-tags"
        config[f"{FRIEND_SECTION}.{name}.branch"] = branch
    return get_friend(store, name)


def remove_friend(store: Store, name: str) -> Friend:
    friend = get_friend(store, name)
    with store.locked():
        if name in store.repo.remotes.names():
            store.repo.remotes.delete(name)  # also drops refs/remotes/<name>/*
        config = store.repo.config
        for key in ("branch", "handle"):
            full = f"{FRIEND_SECTION}.{name}.{key}"
            if full in config:
                del config[full]
    return friend


def friend_claim(store: Store, commit: pygit2.Commit) -> str | None:
    """The handle that a friend's branch claims in its jobshare.yaml, if readable."""
    try:
        entry = commit.tree[CONFIG_FILE]
        loaded = records.load_yaml(store.read_blob(entry.id), CONFIG_FILE)
    except (KeyError, RecordError):
        return None
    if schema.schema_problems("jobshare", loaded, CONFIG_FILE):
        return None
    return str(loaded.data["owner"]["handle"])


# --- running git ---------------------------------------------------------------------


def git_env() -> dict[str, str]:
    """git's environment for network work: never a prompt, always plain English."""
    env = dict(os.environ)
    env["GIT_TERMINAL_PROMPT"] = "0"
    env["LC_ALL"] = "C"
    env["LANGUAGE"] = "C"
    env.setdefault("GIT_SSH_COMMAND", "ssh -o BatchMode=yes")
    env.pop("GIT_DIR", None)
    env.pop("GIT_WORK_TREE", None)
    return env


def run_git(
    store: Store, args: Sequence[str], *, show_progress: bool = False
) -> subprocess.CompletedProcess[str]:
    """Run git in the repository; stderr is passed through when showing progress."""
    try:
        return subprocess.run(
            ["git", *args],
            cwd=store.root,
            env=git_env(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=None if show_progress else subprocess.PIPE,
            text=True,
            check=False,
        )
    except FileNotFoundError:
        raise GitCommandError("git is not installed or not on PATH: install git first") from None


# git's generic trailer after the real reason ("'x' does not appear to be a git repository")
_GIT_BOILERPLATE = (
    "Could not read from remote repository.",
    "Please make sure you have the correct access rights",
    "and the repository exists.",
)


def _git_reason(proc: subprocess.CompletedProcess[str]) -> str:
    """git's own reason on one line: its messages without the generic trailer, a line
    ending in ':' joined with the next ("unable to connect to host: errno=...")."""
    reasons: list[str] = []
    for raw in (proc.stderr or "").splitlines():
        line = raw.strip().removeprefix("fatal: ").removeprefix("error: ")
        if not line or line in _GIT_BOILERPLATE or line.startswith("hint:"):
            continue
        if reasons and reasons[-1].endswith(":"):
            reasons[-1] += " " + line
        else:
            reasons.append(line)
    return "; ".join(reasons) or f"git exited with {proc.returncode}"


# git checks every object a friend sends, as with `fetch.fsckObjects`: a tree naming `..`,
# `.git` or a path with `/` never enters, so no merge can make it part of our history (where
# `git fsck` and hosts that check pushes would refuse it for good). `fetch.fsck.<msg-id>`
# settings still apply, for a friend whose history has an old and harmless quirk.
FETCH = ["-c", "fetch.fsckObjects=true", "fetch", "--no-tags", "--no-recurse-submodules"]
FETCH += ["--no-write-fetch-head"]


def _fetch_reason(reason: str, friend: Friend) -> str:
    if "couldn't find remote ref" in reason:
        return f"it has no branch '{friend.branch}'"
    if "fsck error" in reason:
        return (
            f"git refused their branch, it holds malformed or unsafe objects ({reason}): "
            "nothing was fetched; ask them to repair their branch"
        )
    return reason


@dataclass
class Fetched:
    friend: str
    url: str
    ok: bool
    commit: str | None = None
    message: str = ""
    warnings: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "friend": self.friend,
            "url": self.url,
            "ok": self.ok,
            "commit": self.commit,
            "message": self.message,
            "warnings": self.warnings,
        }


def fetch(
    store: Store,
    names: Iterable[str] = (),
    *,
    show_progress: bool = False,
    progress: Progress = _quiet,
) -> list[Fetched]:
    """Fetch friends (all when none named); each failure is reported, the others go on."""
    friends = [get_friend(store, n) for n in names] or list_friends(store)
    if not friends:
        raise FriendError("no friends yet: add one with 'jobshare friend add NAME URL'")
    return [_fetch_one(store, friend, show_progress, progress) for friend in friends]


def _fetch_one(store: Store, friend: Friend, show_progress: bool, progress: Progress) -> Fetched:
    progress(f"Fetching {friend.name} ({friend.url})")
    refspec = f"+refs/heads/{friend.branch}:{friend.ref}"
    args = [*FETCH, "--progress" if show_progress else "--quiet", friend.name, refspec]
    proc = run_git(store, args, show_progress=show_progress)
    if proc.returncode != 0:
        reason = (
            _git_reason(proc) if proc.stderr is not None else f"git exited with {proc.returncode}"
        )
        reason = _fetch_reason(reason, friend)
        return Fetched(
            friend.name,
            friend.url,
            False,
            message=f"cannot fetch friend '{friend.name}' ({friend.url}): {reason}",
        )
    commit = store.repo.references[friend.ref].peel(pygit2.Commit)
    result = Fetched(friend.name, friend.url, True, str(commit.id))
    claim = friend_claim(store, commit)
    if friend.handle is None:
        if claim is None:
            result.ok = False
            result.message = (
                f"friend '{friend.name}' ({friend.url}) has no valid {CONFIG_FILE} on '{friend.branch}': "
                "ask them to run 'jobshare init'"
            )
        elif claim == store.handle:
            result.ok = False
            result.message = (
                f"friend '{friend.name}' ({friend.url}) claims your own handle '{claim}': refused; "
                "check the URL"
            )
        else:
            store.repo.config[f"{FRIEND_SECTION}.{friend.name}.handle"] = claim
            result.message = f"pinned {friend.name}'s handle as '{claim}'"
    elif claim is not None and claim != friend.handle:
        result.warnings.append(
            f"friend '{friend.name}' now claims the handle '{claim}'; '{friend.handle}' still applies "
            f"(to change it: jobshare friend pin {friend.name} {claim})"
        )
    return result


def peek(store: Store, name: str, *, progress: Progress = _quiet) -> Friend:
    """Fetch a friend's branch without changing any ref or config: a Friend whose
    `fetched` is their latest commit and whose `handle` is the pinned one (or, before
    the first fetch, the one they claim, not pinned). Objects are added, nothing else."""
    friend = get_friend(store, name)
    progress(f"Fetching {friend.name} ({friend.url})")
    temp = f"refs/jobshare/peek/{friend.name}"
    # by URL, not by remote name: git would also update the remote's tracking branch
    refspec = f"+refs/heads/{friend.branch}:{temp}"
    proc = run_git(store, [*FETCH, "--quiet", "--", friend.url, refspec])
    try:
        if proc.returncode != 0:
            reason = _fetch_reason(_git_reason(proc), friend)
            raise GitCommandError(f"cannot fetch friend '{friend.name}' ({friend.url}): {reason}")
        commit = store.repo.references[temp].peel(pygit2.Commit)
    finally:
        ref = store.repo.references.get(temp)
        if ref is not None:
            ref.delete()
    friend.fetched = str(commit.id)
    if friend.handle is None:
        friend.handle = friend_claim(store, commit)
    return friend


def pin_handle(store: Store, name: str, handle: str) -> Friend:
    """Re-pin a friend's handle explicitly."""
    get_friend(store, name)
    if handle == store.handle:
        raise FriendError(f"'{handle}' is your own handle: a friend cannot have it")
    if not re.match(r"^[a-z0-9][a-z0-9_-]{0,38}$", handle):
        raise FriendError(f"'{handle}' is not a valid handle")
    store.repo.config[f"{FRIEND_SECTION}.{name}.handle"] = handle
    return get_friend(store, name)


def push(store: Store, remote: str = "origin", *, show_progress: bool = False) -> str:
    """Push the current branch, and nothing else, to the user's own remote."""
    ref = store.branch_ref()
    if remote not in store.repo.remotes.names():
        raise GitCommandError(
            f"no remote '{remote}': add yours with 'git remote add {remote} URL' "
            "(the place your friends pull from)"
        )
    url = store.repo.remotes[remote].url or remote
    args = ["push", "--no-follow-tags", "--no-recurse-submodules", "--porcelain"]
    args += ["--progress" if show_progress else "--quiet", remote, f"{ref}:{ref}"]
    proc = run_git(store, args, show_progress=False)
    if proc.returncode != 0:
        text = (proc.stdout or "") + (proc.stderr or "")
        if "[rejected]" in text or "non-fast-forward" in text or "fetch first" in text:
            raise GitCommandError(
                f"push to '{remote}' ({url}) was rejected: it has commits you do not have. "
                f"Pull them first ('git pull {remote} {ref.removeprefix('refs/heads/')}'), then push again"
            )
        raise GitCommandError(f"cannot push to '{remote}' ({url}): {_git_reason(proc)}")
    return f"pushed {ref.removeprefix('refs/heads/')} to {remote} ({url})"


# --- pull ----------------------------------------------------------------------------


@dataclass
class Pulled:
    """What pulling one friend did."""

    friend: str
    handle: str
    result: MergeResult = field(default_factory=MergeResult)
    skipped: list[Skipped] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    commit: str | None = None
    up_to_date: bool = False
    resolved_by_strategy: int = 0

    @property
    def conflicted(self) -> bool:
        return bool(self.result.conflicts) and self.commit is None

    def summary(self) -> str:
        if self.up_to_date:
            return f"{self.friend}: already up to date"
        return self.result.summary(self.friend)

    def to_json(self) -> dict[str, Any]:
        return {
            "friend": self.friend,
            "handle": self.handle,
            "commit": self.commit,
            "up_to_date": self.up_to_date,
            "counts": self.result.counts(),
            "conflicts": [c.to_json() for c in self.result.conflicts],
            "notices": [n.message for n in self.result.notices],
            "skipped": [{"path": s.path, "reason": s.reason} for s in self.skipped],
            "warnings": self.warnings,
        }


def _rules_for(label: str) -> Mapping[str, str]:
    return schema.merge_rules(label.split("/", 1)[0])


def _validate(label: str, data: dict[str, Any]) -> list[str]:
    folder, _, record_id = label.partition("/")
    return schema.record_errors(Label(folder, record_id), data)


def check_can_merge(store: Store, *, worktree: bool = True) -> None:
    """Refuse to start a pull when it could lose work or mix two merges."""
    if merge_in_progress(store):
        raise MergeStateError(
            "a merge is in progress: see 'jobshare conflicts', then 'jobshare merge --continue' "
            "or 'jobshare merge --abort'"
        )
    store.branch_ref()
    if store.repo.is_shallow:
        raise RepositoryStateError(
            "this repository is a shallow clone, where merge bases cannot be found: "
            "run 'git fetch --unshallow' first"
        )
    dirty = store.worktree_changes() if worktree else {}
    if dirty:
        listed = ", ".join(sorted(dirty)[:5]) + (" ..." if len(dirty) > 5 else "")
        raise DirtyWorkTreeError(
            f"record files have uncommitted changes ({listed}): "
            "commit them with 'jobshare commit' (or undo them) before pulling"
        )


def pull(
    store: Store,
    names: Iterable[str] = (),
    *,
    strategy: str | None = None,
    whole_record: bool = False,
    do_fetch: bool = True,
    show_progress: bool = False,
    progress: Progress = _quiet,
) -> tuple[list[Fetched], list[Pulled]]:
    """Fetch, then merge each friend in turn; stop at the first that leaves conflicts."""
    names = list(names)
    friends = [get_friend(store, n) for n in names] or list_friends(store)
    if not friends:
        raise FriendError("no friends yet: add one with 'jobshare friend add NAME URL'")
    check_can_merge(store, worktree=False)  # the rest is checked under the lock, per friend
    fetched = (
        fetch(store, [f.name for f in friends], show_progress=show_progress, progress=progress)
        if do_fetch
        else []
    )
    failed = {f.friend for f in fetched if not f.ok}
    pulled: list[Pulled] = []
    for friend in friends:
        if friend.name in failed:
            continue
        friend = get_friend(store, friend.name)
        with store.locked():
            outcome = merge_friend(
                store, friend, strategy=strategy, whole_record=whole_record, progress=progress
            )
        outcome.warnings[:0] = [w for f in fetched if f.friend == friend.name for w in f.warnings]
        pulled.append(outcome)
        if outcome.conflicted:
            break
    return fetched, pulled


def merge_friend(
    store: Store,
    friend: Friend,
    *,
    strategy: str | None = None,
    whole_record: bool = False,
    progress: Progress = _quiet,
    dry_run: bool = False,
) -> Pulled:
    """Merge a fetched friend into HEAD (the caller holds the lock)."""
    if not dry_run:
        check_can_merge(store)
    if friend.fetched is None:
        raise FriendError(
            f"nothing fetched from '{friend.name}' yet: run 'jobshare fetch {friend.name}'"
        )
    theirs = store.repo[pygit2.Oid(hex=friend.fetched)].peel(pygit2.Commit)
    claim = friend_claim(store, theirs)
    if claim == store.handle:
        raise FriendError(
            f"friend '{friend.name}' ({friend.url}) claims your own handle '{claim}': pull refused"
        )
    if friend.handle is None:
        raise FriendError(
            f"'{friend.name}' has no pinned handle yet: run 'jobshare fetch {friend.name}'"
        )
    handle = friend.handle
    outcome = Pulled(friend.name, handle)
    if claim is not None and claim != handle:
        outcome.warnings.append(
            f"{friend.name}'s branch claims the handle '{claim}'; '{handle}' applies"
        )
    ours = store.head_commit()
    owners = _OwnerBranches(store)
    late = _late_deletions(store, friend, ours, owners)
    if ours is not None and (ours.id == theirs.id or store.repo.descendant_of(ours.id, theirs.id)):
        outcome.up_to_date = not late
        if late and not dry_run:
            n = len(late)
            message = f"Remove {n} record{'s' if n != 1 else ''} {friend.name} deleted\n\n"
            message += "".join(
                f"- {label}: its owner deleted it; a friend's copy of that deletion was kept earlier\n"
                for label in late
            )
            outcome.result = merge.MergeResult(
                [merge.RecordMerge(label, "removed", None) for label in late]
            )
            removals: dict[str, FileContent] = {f"{label}.yaml": None for label in late}
            kept = _kept_state(store, None, late)
            outcome.commit = str(store.commit_files(removals, message, state=kept))
        return outcome
    bases = store.merge_bases(ours.id, theirs.id) if ours is not None else []
    progress(f"Merging {friend.name} ({len(bases)} merge base{'s' if len(bases) != 1 else ''})")
    items = _three_way_items(store, bases, ours, theirs, outcome.skipped)
    items = _without_stale_copies(store, owners, ours, theirs, items)
    outcome.result = merge.merge_records(
        items,
        _rules_for,
        theirs_handle=handle,
        whole_record=whole_record,
        validate=_validate,
        owner_deleted=owners.deleted,
        region=store.config().get("region") or merge.DEFAULT_REGION,
    )
    merged = {r.label for r in outcome.result.records}
    outcome.result.records.extend(
        merge.RecordMerge(label, "removed", None) for label in late if label not in merged
    )
    outcome.result.records.sort(key=lambda r: r.label)
    if strategy is not None:
        outcome.resolved_by_strategy = _apply_strategy(outcome.result, strategy)
    _skip_referrals_without_client(store, ours, outcome)
    result = outcome.result
    if (
        ours is not None
        and store.repo.descendant_of(theirs.id, ours.id)
        and not (result.changes or result.conflicts or result.notices or outcome.skipped)
    ):
        # Their branch only adds our own work back (they merged us): a merge commit would
        # bring nothing, and they would merge it in turn, and so on, one empty merge per
        # pull on each side for ever. Where git would fast-forward, we stay put.
        outcome.up_to_date = True
        return outcome
    if dry_run:
        return outcome
    message = _merge_message(outcome)
    removed = [label for label, data in outcome.result.changes.items() if data is None]
    kept = _kept_state(store, outcome.result, removed)
    if outcome.result.conflicts:
        ours_id = ours.id if ours is not None else None
        save_merge_state(
            store, friend.name, handle, ours_id, theirs.id, outcome.result, message, kept
        )
        return outcome
    # always the canonical form, even where a friend's hand-written file came in unchanged
    files = {
        f"{label}.yaml": _serialise(label, data) for label, data in outcome.result.changes.items()
    }
    parents = [ours.id, theirs.id] if ours is not None else [theirs.id]
    outcome.commit = str(store.commit_files(files, message, parents=parents, state=kept))
    return outcome


# --- deletions relayed by friends -----------------------------------------------------
#
# A friend may delete only the records they added. When Carol deletes her record and Bob
# pulls her, Bob's deletion reaches Alice as Bob's, and is kept. So that the network still
# converges, Alice accepts it when Carol's own branch shows that Carol deleted it: not in
# her latest commit, but in one before. Deletions kept for want of that proof are
# remembered, and checked again whenever Carol is pulled.

KEPT_FILE = KEPT_DELETIONS
OWNER_HISTORY_LIMIT = 2000  # commits of the owner's own line searched for the record


class _OwnerBranches:
    """What the owner's own branch shows of a record: a friend's branch as last fetched,
    our own for the records we added. Nobody else's word counts."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.tips = {
            f.handle: pygit2.Oid(hex=f.fetched)
            for f in list_friends(store)
            if f.handle and f.fetched
        }
        head = store.head_commit()
        if head is not None:
            self.tips[store.handle] = head.id

    def _versions(self, label: str, added_by: Any) -> Iterator[pygit2.Oid | None]:
        """The record's blob along its owner's branch, newest first: in each commit of the
        branch's own line (first parents, at most OWNER_HISTORY_LIMIT of them) and in what
        each of its merges took in; nothing when the branch still holds it, or is unknown.

        Not the whole history: in a network of many friends it holds every friend's
        commits, thousands of them, and a deletion made long ago fell out of reach (so
        the deletion was never proved, and a stale copy came back to its owner).
        """
        tip = self.tips.get(added_by) if isinstance(added_by, str) else None
        path = f"{label}.yaml"
        if tip is None:
            return
        commit = self.store.repo[tip].peel(pygit2.Commit)
        if self.store.blob_id_at(commit.tree, path):
            return
        for _ in range(OWNER_HISTORY_LIMIT):
            parents = commit.parents
            for merged in parents[1:]:
                yield self.store.blob_id_at(merged.tree, path)
            if not parents:
                return
            commit = parents[0]
            yield self.store.blob_id_at(commit.tree, path)

    def deleted(self, label: str, added_by: Any) -> bool:
        """Whether the owner had the record, and no longer has it."""
        return any(oid is not None for oid in self._versions(label, added_by))

    def held(self, label: str, added_by: Any, oid: pygit2.Oid | None) -> bool:
        """Whether the owner deleted the record after holding exactly this version of it:
        a copy of it is then stale, not a change anyone made since."""
        return oid is not None and any(found == oid for found in self._versions(label, added_by))


def _without_stale_copies(
    store: Store,
    owners: _OwnerBranches,
    ours: pygit2.Commit | None,
    theirs: pygit2.Commit,
    items: list[tuple[str, AncestorOursTheirs[dict[str, Any] | None]]],
) -> list[tuple[str, AncestorOursTheirs[dict[str, Any] | None]]]:
    """Stale copies out of the way: a record one side lacks and the other holds as its
    owner had it before deleting it (a friend kept it for want of proof of the deletion).

    Taken for an addition, or for a change since the merge base (the base may hold a
    later version), such a copy brought the record back for good: to its owner too, and
    then no proof of the deletion was left anywhere. So their stale copy is dropped, and
    ours counts as untouched, so that their deletion applies.
    """

    def stale(commit: pygit2.Commit | None, label: str, data: dict[str, Any] | None) -> bool:
        if commit is None or data is None:
            return False
        oid = store.blob_id_at(commit.tree, f"{label}.yaml")
        return owners.held(label, data.get("added_by"), oid)

    kept = []
    for label, (base, mine, yours) in items:
        if mine is None and stale(theirs, label, yours):
            continue
        if yours is None and stale(ours, label, mine):
            base = mine
        kept.append((label, AncestorOursTheirs(base, mine, yours)))
    return kept


def _kept_path(store: Store) -> Any:
    return store.state_dir / KEPT_FILE


def _load_kept(store: Store) -> dict[str, str]:
    try:
        kept = json.loads(_kept_path(store).read_text())
    except (OSError, ValueError):
        return {}
    return {str(k): str(v) for k, v in kept.items()} if isinstance(kept, dict) else {}


def _kept_state(
    store: Store, result: MergeResult | None, removed: Iterable[str]
) -> dict[str, str | None]:
    """The kept deletions once a merge is committed, as a state file for `commit_files`
    ({} when unchanged): the ones `result` kept are added, the `removed` records dropped.
    Written with the commit, never before it, so a pull killed or aborted leaves none."""
    kept = _load_kept(store)
    new = dict(kept)
    for record in result.records if result is not None else []:
        for notice in record.notices:
            if notice.kind == "kept-deleted" and record.result is not None:
                new[record.label] = str(record.result.get("added_by"))
    for label in removed:
        new.pop(label, None)
    if new == kept:
        return {}
    return {KEPT_FILE: json.dumps(new, sort_keys=True) if new else None}


def _late_deletions(
    store: Store,
    friend: Friend,
    ours: pygit2.Commit | None,
    owners: _OwnerBranches,
) -> list[str]:
    """Kept records of this friend's that their own branch shows they deleted, as we hold
    them still (one changed here since is a change made without seeing the deletion: it
    stays, as it would in a conflict resolved by newest)."""
    if ours is None:
        return []
    late = []
    for label, added_by in sorted(_load_kept(store).items()):
        oid = store.blob_id_at(ours.tree, f"{label}.yaml")
        if added_by == friend.handle and owners.held(label, added_by, oid):
            late.append(label)
    return late


def _three_way_items(
    store: Store,
    bases: list[pygit2.Oid],
    ours: pygit2.Commit | None,
    theirs: pygit2.Commit,
    skipped: list[Skipped],
) -> list[tuple[str, AncestorOursTheirs[dict[str, Any] | None]]]:
    """Load base, ours and theirs of every record the friend changed since a merge base.

    A record only we changed needs no merge (ours stands), so only the friend's changes
    are looked at, and a blob met twice (ours unchanged = base) is parsed once.
    """
    base_trees: list[pygit2.Tree | None] = [store.repo[b].peel(pygit2.Commit).tree for b in bases]
    base_trees = base_trees or [None]
    ours_tree = ours.tree if ours is not None else None
    labels: set[Label] = set()
    for base_tree in base_trees:
        labels |= set(store.changed_entries(base_tree, theirs.tree, skipped))
    parsed: dict[pygit2.Oid, dict[str, Any] | None] = {}
    between: dict[tuple[int, int], list[pygit2.Tree]] = {}

    def ancestor_versions(label: Label, i: int, j: int) -> list[dict[str, Any] | None]:
        """The record in the common ancestors of merge bases i and j (looked for once)."""
        if (i, j) not in between:
            found = store.merge_bases(bases[i], bases[j])
            between[i, j] = [store.repo[c].peel(pygit2.Commit).tree for c in found]
        return [read(tree, label) for tree in between[i, j]]

    def read(tree: pygit2.Tree | None, label: Label) -> dict[str, Any] | None:
        oid = store.blob_id_at(tree, label.path)
        if oid is None:
            return None
        if oid not in parsed:
            try:
                data = store.load(label, oid).data
            except RecordError:
                data = None
            parsed[oid] = data if isinstance(data, dict) else None
        return parsed[oid]

    items = []
    for label in sorted(labels):
        their_oid = store.blob_id_at(theirs.tree, label.path)
        if their_oid is not None and their_oid == store.blob_id_at(ours_tree, label.path):
            continue  # both sides hold the same file: nothing to merge
        their_data: dict[str, Any] | None = None
        if their_oid is not None:
            their_data, reason = store.load_valid(label, their_oid)
            if their_data is None:
                skipped.append(Skipped(label.path, reason or "invalid"))
                continue  # nothing of it enters: as if they had not touched it
            parsed[their_oid] = their_data
        base_versions = [read(t, label) for t in base_trees]
        if len(base_versions) == 1:
            base = base_versions[0]
        elif merge.deleted_in_bases(base_versions, partial(ancestor_versions, label)):
            base = None
        else:
            base = merge.virtual_base(str(label), base_versions, _rules_for(str(label)))
        items.append((str(label), AncestorOursTheirs(base, read(ours_tree, label), their_data)))
    return items


def _skip_referrals_without_client(
    store: Store, ours: pygit2.Commit | None, outcome: Pulled
) -> None:
    """A friend's referral whose client is a contact neither side has (theirs skipped as
    invalid, say) would leave the repository failing `validate`: skip it too, as if they
    had not touched it."""
    changes = outcome.result.changes
    for record in list(outcome.result.records):
        data = record.result
        if not record.label.startswith("referrals/") or record.outcome not in ("added", "updated"):
            continue
        client = data.get("client") if data is not None else None
        if not isinstance(client, str):
            continue
        contact = f"contacts/{client}"
        if contact in changes:
            present = changes[contact] is not None
        else:
            present = store.blob_id_at(ours.tree if ours else None, f"{contact}.yaml") is not None
        if not present:
            outcome.result.records.remove(record)
            reason = f"client: {client!r} names no contact, in your repository or theirs"
            outcome.skipped.append(Skipped(f"{record.label}.yaml", reason))


def _apply_strategy(result: MergeResult, strategy: str) -> int:
    """Resolve every conflict up front; a resolution that fails validation stays a conflict."""
    resolved = 0
    for record in result.records:
        conflict = record.conflict
        if conflict is None:
            continue
        data = merge.resolve_by_strategy(conflict, strategy)
        if data is not None and _validate(record.label, data):
            continue
        ours = conflict.versions.ours
        record.result = data
        record.conflict = None
        record.outcome = "unchanged" if data == ours else ("removed" if data is None else "updated")
        resolved += 1
    return resolved


def _serialise(label: str, data: dict[str, Any] | None) -> bytes | None:
    if data is None:
        return None
    return schema.dump_record(label.split("/", 1)[0], data)


def _merge_message(outcome: Pulled) -> str:
    lines = [outcome.result.summary(outcome.friend)]
    extra = [f"- {n.message}" for n in outcome.result.notices]
    extra += [f"- skipped {s.path}: {s.reason}" for s in outcome.skipped]
    if outcome.resolved_by_strategy:
        extra.append(f"- {outcome.resolved_by_strategy} conflict(s) resolved by strategy")
    if extra:
        lines += [""] + extra
    return "\n".join(lines) + "\n"


# --- status ----------------------------------------------------------------------------


def status(store: Store) -> dict[str, Any]:
    """Uncommitted record changes, a merge in progress, and what each friend has new."""
    head_ref = store.repo.lookup_reference("HEAD")
    branch = (
        None if store.repo.head_is_detached else str(head_ref.target).removeprefix("refs/heads/")
    )
    merging = merge_status(store)
    head = store.head_commit()
    friends = []
    for friend in list_friends(store):
        unmerged = None
        if friend.fetched is not None:
            # a walk, as `git rev-list --count HEAD..theirs`: libgit2's ahead_behind
            # miscounts some histories with several merges
            walker = store.repo.walk(pygit2.Oid(hex=friend.fetched))
            if head is not None:
                walker.hide(head.id)
            unmerged = sum(1 for _ in walker)
        friends.append({**friend.to_json(), "unmerged": unmerged})
    return {
        "branch": branch,
        "changes": store.worktree_changes(),
        "merge": (
            {"friend": merging.friend, "conflicts": [c.to_json() for c in merging.conflicts]}
            if merging is not None
            else None
        ),
        "friends": friends,
    }
