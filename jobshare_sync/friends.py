"""Friends: each a git remote with the handle pinned at the first fetch; fetch and push.

Fetch and push run the system `git` (see store/transport.py). A friend's branch that
claims the user's own handle, or a handle pinned for another friend, is not pinned
(the second only by `friend pin`), and one that later claims another handle than the
pinned one gets a warning, never a new identity (DESIGN section 4).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import yaml

from .core import records, schema
from .core.urls import redact_text, redacted, without_secret
from .errors import FriendError, GitCommandError, RecordError, RepositoryStateError
from .store import CONFIG_FILE, Commit, Store

FRIEND_SECTION = "jobshare-friend"
# the friends (name, URL without secrets, branch, pinned handle), committed by `jobshare
# sync` before it pushes, so that the user's other clones learn them from their own
# remote; never merged from a friend's
FRIENDS_FILE = ".jobshare/friends.yaml"
# the commit whose FRIENDS_FILE this clone's friends were last in step with: the base of
# the three-way merge of the list (learn_friends); this clone's own, never shared
FRIENDS_BASE_KEY = "jobshare.friendsbase"
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}\Z")
Progress = Callable[[str], None]


def no_progress(message: str) -> None:
    pass


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
            "url": redacted(self.url),
            "branch": self.branch,
            "handle": self.handle,
            "fetched": self.fetched,
        }


def list_friends(store: Store) -> list[Friend]:
    # jobshare-friend.<name>.branch: the name is everything between the section and the
    # key, dots included (git's subsection), never only its first part
    names = sorted(
        {
            key[len(FRIEND_SECTION) + 1 :].rpartition(".")[0]
            for key in store.git_config_names(f"{FRIEND_SECTION}.")
            if key.count(".") >= 2
        }
    )
    return [get_friend(store, name) for name in names]


def get_friend(store: Store, name: str) -> Friend:
    branch = store.git_config(f"{FRIEND_SECTION}.{name}.branch")
    url = store.git_config(f"remote.{name}.url")
    if branch is None or url is None:
        raise FriendError(
            f"unknown friend '{name}': run 'jobshare friend list' to see your friends"
        )
    handle = store.git_config(f"{FRIEND_SECTION}.{name}.handle")
    friend = Friend(name, url, branch, handle, None)
    friend.fetched = store.ref_target(friend.ref)
    return friend


def add_friend(store: Store, name: str, url: str, branch: str = "main") -> Friend:
    if not NAME_RE.match(name) or name == "origin":
        raise FriendError(
            f"'{name}' cannot name a friend: use letters, digits, '.', '_' or '-' (and not 'origin')"
        )
    if not re.match(r"^[A-Za-z0-9._/-]+\Z", branch) or ".." in branch:
        raise FriendError(f"'{branch}' is not a branch name")
    if name in store.remote_urls():
        raise FriendError(f"a remote named '{name}' exists already: pick another name")
    if not url.strip() or url.startswith("-") or any(c in url for c in "\n\r\0"):
        raise FriendError(
            f"{shown_url(url)!r} is not a URL git can fetch from: give a path or a git://, ssh:// "
            "or https:// URL"
        )
    with store.locked():
        try:
            store.add_remote(name, url, f"+refs/heads/{branch}:refs/remotes/{name}/{branch}")
        except GitCommandError as e:
            raise FriendError(
                f"cannot add friend '{name}' ({shown_url(url)}): {redact_text(str(e))}"
            ) from None
        store.set_git_config(f"remote.{name}.tagopt", "--no-tags")
        store.set_git_config(f"{FRIEND_SECTION}.{name}.branch", branch)
    return get_friend(store, name)


def remove_friend(store: Store, name: str) -> Friend:
    friend = get_friend(store, name)
    with store.locked():
        if name in store.remote_urls():
            store.remove_remote(name)  # also drops refs/remotes/<name>/*
        for key in ("branch", "handle"):
            store.unset_git_config(f"{FRIEND_SECTION}.{name}.{key}")
    return friend


def friend_claim(store: Store, commit: Commit) -> str | None:
    """The handle that a friend's branch claims in its jobshare.yaml, if readable."""
    blob = store.blob_id_at(commit.tree, CONFIG_FILE)
    if blob is None:
        return None
    try:
        loaded = records.load_yaml(store.read_blob(blob), CONFIG_FILE)
    except RecordError:
        return None
    if schema.schema_problems("jobshare", loaded, CONFIG_FILE):
        return None
    return str(loaded.data["owner"]["handle"])


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
            "url": redacted(self.url),
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
    progress: Progress = no_progress,
) -> list[Fetched]:
    """Fetch friends (all when none named): one Fetched per friend, in the order named
    (once each; else by name); each failure is reported, the others go on.

    The git fetches run at once, at most transport.FETCH_JOBS of them; what follows
    each (checking the branch names a commit, pinning the handle, DESIGN section 4)
    runs friend by friend, in order, so a handle is pinned for the first friend that
    claims it, as when they are fetched one by one.
    """
    friends = [get_friend(store, n) for n in dict.fromkeys(names)] or list_friends(store)
    if not friends:
        raise FriendError("no friends yet: add one with 'jobshare friend add NAME URL'")
    for friend in friends:
        progress(f"Fetching {friend.name} ({shown_url(friend.url)})")
    failures = store.fetch_many(
        [(f.name, f.branch, f.ref) for f in friends], show_progress=show_progress
    )
    return [
        _fetched(store, friend, failed) for friend, failed in zip(friends, failures, strict=True)
    ]


def _fetched(store: Store, friend: Friend, failed: str | None) -> Fetched:
    """What a friend's fetch came to, given git's failure (None: it worked)."""
    if failed is not None:
        if failed == f"it has no branch '{friend.branch}'":
            failed += (
                f" (if theirs has another name: 'jobshare friend remove {friend.name}', then "
                f"'jobshare friend add {friend.name} URL --branch NAME')"
            )
        return Fetched(
            friend.name,
            shown_url(friend.url),
            False,
            message=f"cannot fetch friend '{friend.name}' ({shown_url(friend.url)}): "
            + redact_text(failed),
        )
    try:
        commit = store.commit_of(friend.ref)
    except RepositoryStateError:  # their branch names a blob, a tree or a tag of one
        store.delete_ref(friend.ref)
        return Fetched(
            friend.name,
            shown_url(friend.url),
            False,
            message=f"cannot fetch friend '{friend.name}' ({shown_url(friend.url)}): their branch "
            f"'{friend.branch}' names no commit",
        )
    result = Fetched(friend.name, shown_url(friend.url), True, commit.id)
    claim = friend_claim(store, commit)
    if friend.handle is None:
        if claim is None:
            result.ok = False
            result.message = (
                f"friend '{friend.name}' ({shown_url(friend.url)}) has no valid {CONFIG_FILE} on '{friend.branch}': "
                "ask them to run 'jobshare init'"
            )
        elif claim == store.handle:
            result.ok = False
            result.message = (
                f"friend '{friend.name}' ({shown_url(friend.url)}) claims your own handle '{claim}': refused; "
                "check the URL"
            )
        elif holders := _pinned_to(store, claim, friend.name):
            result.ok = False
            result.message = (
                f"friend '{friend.name}' ({shown_url(friend.url)}) claims the handle '{claim}', pinned for "
                f"'{holders[0]}': not pinned; if both are the same person, run "
                f"'jobshare friend pin {friend.name} {claim}'"
            )
        else:
            store.set_git_config(f"{FRIEND_SECTION}.{friend.name}.handle", claim)
            result.message = f"pinned {friend.name}'s handle as '{claim}'"
    elif claim is not None and claim != friend.handle:
        result.warnings.append(
            f"friend '{friend.name}' now claims the handle '{claim}'; '{friend.handle}' still applies "
            f"(to change it: jobshare friend pin {friend.name} {claim})"
        )
    return result


def _pinned_to(store: Store, handle: str, but: str) -> list[str]:
    """The friends other than `but` whose pinned handle is `handle` (DESIGN section 4:
    a handle belongs to one friend; a second one gets it only by `friend pin`)."""
    return [f.name for f in list_friends(store) if f.name != but and f.handle == handle]


def peek(store: Store, name: str, *, progress: Progress = no_progress) -> Friend:
    """Fetch a friend's branch without changing any ref or config: a Friend whose
    `fetched` is their latest commit and whose `handle` is the pinned one (or, before
    the first fetch, the one they claim, not pinned). Objects are added, nothing else."""
    friend = get_friend(store, name)
    progress(f"Fetching {friend.name} ({shown_url(friend.url)})")
    temp = f"refs/jobshare/peek/{friend.name}"
    # by URL, not by remote name: git would also update the remote's tracking branch
    failed = store.fetch(friend.url, friend.branch, temp)
    try:
        if failed is not None:
            if failed == f"it has no branch '{friend.branch}'":
                failed += " (a friend on another branch is added with --branch NAME)"
            raise GitCommandError(
                f"cannot fetch friend '{friend.name}' ({shown_url(friend.url)}): "
                + redact_text(failed)
            )
        try:
            commit = store.commit_of(temp)
        except RepositoryStateError:
            raise GitCommandError(
                f"cannot fetch friend '{friend.name}' ({shown_url(friend.url)}): their branch "
                f"'{friend.branch}' names no commit"
            ) from None
    finally:
        store.delete_ref(temp)
    friend.fetched = commit.id
    if friend.handle is None:
        friend.handle = friend_claim(store, commit)
    return friend


def pin_handle(store: Store, name: str, handle: str) -> Friend:
    """Re-pin a friend's handle explicitly."""
    get_friend(store, name)
    if handle == store.handle:
        raise FriendError(f"'{handle}' is your own handle: a friend cannot have it")
    if not re.match(r"^[a-z0-9][a-z0-9_-]{0,38}\Z", handle):
        raise FriendError(f"'{handle}' is not a valid handle")
    store.set_git_config(f"{FRIEND_SECTION}.{name}.handle", handle)
    return get_friend(store, name)


def push(store: Store, remote: str = "origin", *, show_progress: bool = False) -> str:
    """Push the current branch, and nothing else, to the user's own remote."""
    ref = store.branch_ref()
    urls = store.remote_urls()
    if remote not in urls:
        raise GitCommandError(
            f"no remote '{remote}': add yours with 'git remote add {remote} URL' "
            "(the place your friends pull from)"
        )
    url = urls[remote] or remote
    _refuse_private_place(store, remote)
    store.push(remote, url, show_progress=show_progress)
    return f"pushed {ref.removeprefix('refs/heads/')} to {remote} ({shown_url(url)})"


def _refuse_private_place(store: Store, remote: str) -> None:
    """Refuse to push to a remote whose place is the private remote's (it would hold the
    private branch where friends read): GitCommandError, with what to do."""
    from .private import travel

    private = travel.remote(store)
    if private is None:
        return
    mine = travel.place_keys(store, private)
    places = store.remote_places().get(remote, [])
    if any(travel.place_keys(store, url) & mine for url in places):
        raise GitCommandError(
            f"'{remote}' is the place of your private side (jobshare private remote): "
            "nothing pushed, since friends read it; point one of them somewhere else"
        )


# --- the friends file: what the user's other clones learn through their own remote ------


def friends_file(store: Store) -> bytes:
    """The friends as the text of FRIENDS_FILE: each one's URL (without a password or
    token), branch and pinned handle."""
    listed: dict[str, Any] = {}
    for friend in list_friends(store):
        entry = {"url": without_secret(friend.url), "branch": friend.branch}
        if friend.handle is not None:
            entry["handle"] = friend.handle
        listed[friend.name] = entry
    header = (
        "# Your friends, written by 'jobshare sync': your other clones learn them with\n"
        "# 'jobshare sync'. No password or token is ever written here.\n"
    )
    body = yaml.safe_dump({"friends": listed}, sort_keys=True, allow_unicode=True)
    return (header + body).encode()


def save_friends_file(store: Store) -> None:
    """Commit FRIENDS_FILE when it differs from HEAD's (the caller holds the lock); not
    while a pull waits at conflicts."""
    head = store.head_commit()
    if head is None or store.merge_in_progress():
        return
    data = friends_file(store)
    oid = store.blob_id_at(head.tree, FRIENDS_FILE)
    if (oid is None and not list_friends(store)) or (
        oid is not None and store.read_blob(oid) == data
    ):  # no friends and none listed yet (no file), or listed as they are
        store.set_git_config(FRIENDS_BASE_KEY, head.id)
        return
    new = store.commit_files({FRIENDS_FILE: data}, "Update the list of friends\n")
    store.set_git_config(FRIENDS_BASE_KEY, new)


def friends_at(store: Store, commit: Commit) -> dict[str, dict[str, str]]:
    """The friends FRIENDS_FILE lists in `commit` (one of the user's own): name ->
    {url, branch, handle?}; entries that are not well formed are left out."""
    oid = store.blob_id_at(commit.tree, FRIENDS_FILE)
    if oid is None:
        return {}
    try:
        data = yaml.safe_load(store.read_blob(oid))
    except yaml.YAMLError:
        return {}
    listed = data.get("friends") if isinstance(data, dict) else None
    found: dict[str, dict[str, str]] = {}
    for name, entry in (listed if isinstance(listed, dict) else {}).items():
        if not isinstance(name, str) or not isinstance(entry, dict):
            continue
        if not all(isinstance(entry.get(k), str) for k in ("url", "branch")):
            continue
        found[name] = {k: v for k, v in entry.items() if k in ("url", "branch", "handle")}
    return found


def learn_friends(store: Store, commit: Commit) -> tuple[list[str], list[str], list[str]]:
    """Bring this clone's friends in step with FRIENDS_FILE of `commit` (the user's own
    remote), merged three-way by name (README, "jobshare sync"): the base is the list
    at the merge base of `commit` and the commit this clone was last in step with
    (FRIENDS_BASE_KEY; an empty list when none is recorded, as in a new clone), ours
    are this clone's friends, theirs the list in `commit`. A friend theirs added is
    added (with the pinned handle) unless this clone has that name; a friend theirs
    removed is removed here unless this clone changed its URL or branch since; what
    this clone added or removed stays so, and reaches the list at the next push. A
    friend whose URL, branch or pinned handle theirs changed follows it, unless this
    clone changed it too. Returns the names (added, removed, updated)."""
    base_commit = _friends_base(store, commit)
    base = friends_at(store, store.commit(base_commit)) if base_commit is not None else {}
    theirs = friends_at(store, commit)
    ours = {f.name: f for f in list_friends(store)}
    added, removed, updated = [], [], []
    for name in sorted(theirs.keys() - base.keys()):
        entry = theirs[name]
        if name in ours or name in store.remote_urls():
            continue
        try:
            add_friend(store, name, entry["url"], entry["branch"])
            handle = entry.get("handle")
            if isinstance(handle, str) and handle != store.handle:
                pin_handle(store, name, handle)
        except FriendError:
            continue  # a name or handle this clone cannot take: the others still come
        added.append(name)
    for name in sorted(base.keys() - theirs.keys()):
        friend = ours.get(name)
        if friend is None:
            continue
        was = base[name]
        if (without_secret(friend.url), friend.branch) != (was["url"], was["branch"]):
            continue  # changed here since: kept, as a merge keeps a modify/delete's edit
        remove_friend(store, name)
        removed.append(name)
    for name in sorted(base.keys() & theirs.keys() & ours.keys()):
        if _follow_change(store, ours[name], base[name], theirs[name]):
            updated.append(name)
    store.set_git_config(FRIENDS_BASE_KEY, commit.id)
    return added, removed, updated


def _follow_change(store: Store, friend: Friend, was: dict[str, str], now: dict[str, str]) -> bool:
    """Take another clone's change of a friend's URL, branch or pinned handle (`was` ->
    `now`) where this clone still has `was`: whether anything changed."""
    mine = (without_secret(friend.url), friend.branch)
    where = (now["url"], now["branch"])
    changed = False
    if where != (was["url"], was["branch"]) and mine == (was["url"], was["branch"]):
        try:
            remove_friend(store, friend.name)
            add_friend(store, friend.name, now["url"], now["branch"])
        except FriendError:  # a URL or branch this clone cannot take: the old one back
            add_friend(store, friend.name, friend.url, friend.branch)
            if friend.handle is not None:
                pin_handle(store, friend.name, friend.handle)
            return False
        if friend.handle is not None:
            store.set_git_config(f"{FRIEND_SECTION}.{friend.name}.handle", friend.handle)
        changed = True
    handle = now.get("handle")
    if (
        isinstance(handle, str)
        and handle != was.get("handle")
        and friend.handle == was.get("handle")
        and handle != store.handle
    ):
        try:
            pin_handle(store, friend.name, handle)
            changed = True
        except FriendError:
            pass
    return changed


def _friends_base(store: Store, commit: Commit) -> str | None:
    """The commit whose FRIENDS_FILE is the base of `learn_friends`: the merge base of
    `commit` and the one this clone was last in step with (None: none recorded, or
    gone)."""
    recorded = store.git_config(FRIENDS_BASE_KEY)
    if not recorded or store.resolve_commit(recorded) is None:
        return None
    return store.merge_base(recorded, commit.id)


def shown_url(url: str) -> str:
    """A URL as it may be printed: its password or token as `***`."""
    return redacted(url)
