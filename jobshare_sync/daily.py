"""`jobshare sync`: the day's whole exchange in one command (README, "Every day").

    own remote   fetch `origin` (the user's other machines), then fast-forward to it,
                 or merge it record by record as a friend's pull does, under the user's
                 own handle; learn the friends its FRIENDS_FILE lists
    friends      pull every friend (or those named), as `jobshare pull`
    push         push the branch to `origin`

It stops at the first conflict, like `pull`; what is left to do is kept with the merge
state, and `jobshare merge --continue` carries on with it (see `carry_on`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from .conflicts import save_sync_rest, sync_rest
from .errors import GitCommandError
from .friends import (
    Fetched,
    Friend,
    Progress,
    learn_friends,
    list_friends,
    no_progress,
    save_friends_file,
    shown_url,
)
from .friends import push as push_branch
from .store import Store
from .sync import Pulled, check_can_merge, friend_claim, merge_friend, pull

ORIGIN = "origin"


@dataclass
class Synced:
    """What one `jobshare sync` did, step by step."""

    origin: str | None = None  # what the own-remote step did, in words; None: no origin
    origin_pull: Pulled | None = None
    learned: list[str] = field(default_factory=list)
    forgotten: list[str] = field(default_factory=list)  # removed on another clone
    followed: list[str] = field(default_factory=list)  # URL, branch or handle changed there
    fetched: list[Fetched] = field(default_factory=list)
    pulled: list[Pulled] = field(default_factory=list)
    pushed: str | None = None
    stopped: bool = False  # at conflicts: see 'jobshare conflicts'

    @property
    def failed_fetches(self) -> list[Fetched]:
        return [f for f in self.fetched if not f.ok]

    def to_json(self) -> dict[str, Any]:
        return {
            "origin": self.origin,
            "origin_merge": self.origin_pull.to_json() if self.origin_pull else None,
            "learned_friends": self.learned,
            "removed_friends": self.forgotten,
            "updated_friends": self.followed,
            "fetched": [f.to_json() for f in self.fetched],
            "pulled": [p.to_json() for p in self.pulled],
            "pushed": self.pushed,
            "stopped_at_conflicts": self.stopped,
        }


def sync(
    store: Store,
    names: Iterable[str] = (),
    *,
    push: bool = True,
    own_remote: bool = True,
    progress: Progress = no_progress,
) -> Synced:
    """Merge the own remote, pull the friends (`names`, or all), push; see the module.

    Raises MergeStateError or RepositoryStateError when a pull could not start
    (sync.check_can_merge), FriendError for an unknown friend or an own remote owned by
    someone else, GitCommandError when the own remote cannot be fetched or pushed to.
    """
    names = list(names)
    check_can_merge(store, worktree=False)
    done = Synced()
    urls = store.remote_urls()
    has_origin = ORIGIN in urls
    if own_remote and has_origin:
        _own_remote(store, urls[ORIGIN] or ORIGIN, done, progress)
        if done.stopped:
            with store.locked():
                save_sync_rest(store, {"friends": names, "push": push, "own_remote": False})
            return done
    if names or list_friends(store):
        done.fetched, done.pulled = pull(store, names, progress=progress)
        if any(p.conflicted for p in done.pulled):
            done.stopped = True
            order = names or [f.name for f in list_friends(store)]
            stopped_at = done.pulled[-1].friend
            rest = order[order.index(stopped_at) + 1 :] if stopped_at in order else []
            with store.locked():
                save_sync_rest(
                    store, {"friends": rest, "push": push, "own_remote": False, "none": not rest}
                )
            return done
    if push and has_origin:
        with store.locked():
            save_friends_file(store)
        progress(f"Pushing to {ORIGIN}")
        done.pushed = push_branch(store, ORIGIN)
    return done


def carry_on(store: Store, rest: dict[str, Any], *, progress: Progress = no_progress) -> Synced:
    """The rest of a sync that stopped at conflicts, once `merge --continue` committed."""
    friends = [str(n) for n in rest.get("friends", [])]
    if rest.get("none") and not friends:
        done = Synced()
        if rest.get("push", True) and ORIGIN in store.remote_urls():
            with store.locked():
                save_friends_file(store)
            done.pushed = push_branch(store, ORIGIN)
        return done
    return sync(
        store,
        friends,
        push=bool(rest.get("push", True)),
        own_remote=bool(rest.get("own_remote", False)),
        progress=progress,
    )


def pending(store: Store) -> dict[str, Any] | None:
    """What a sync stopped at the merge in progress has still to do (None: no such sync)."""
    return sync_rest(store)


def _own_remote(store: Store, url: str, done: Synced, progress: Progress) -> None:
    """Bring the own remote's branch in: fast-forward, or a record-level merge."""
    branch = store.branch_ref().removeprefix("refs/heads/")
    ref = f"refs/remotes/{ORIGIN}/{branch}"
    progress(f"Fetching {ORIGIN} ({shown_url(url)})")
    failed = store.fetch(ORIGIN, branch, ref)
    if failed is not None:
        if failed == f"it has no branch '{branch}'":
            done.origin = f"{ORIGIN} has no branch '{branch}' yet"
            return
        raise GitCommandError(f"cannot fetch your remote '{ORIGIN}' ({shown_url(url)}): {failed}")
    theirs = store.commit_of(ref)
    ours = store.head_commit()
    if ours is not None and (ours.id == theirs.id or store.descendant_of(ours.id, theirs.id)):
        done.origin = f"{ORIGIN}: nothing new"
    elif ours is None or store.descendant_of(theirs.id, ours.id):
        claim = friend_claim(store, theirs)
        own = Friend(ORIGIN, url, branch, store.handle, theirs.id)
        with store.locked():
            check_can_merge(store)
            if claim != store.handle:  # refused, with the reason, by the merge's check
                merge_friend(store, own, own=True)
            n = store.count_commits(theirs.id, ours.id if ours is not None else None)
            store.fast_forward(theirs.id)
        done.origin = f"{ORIGIN}: fast-forwarded {n} commit{'s' if n != 1 else ''}"
    else:
        own = Friend(ORIGIN, url, branch, store.handle, theirs.id)
        with store.locked():
            outcome = merge_friend(store, own, own=True, progress=progress)
        done.origin_pull = outcome
        if outcome.conflicted:
            done.stopped = True
            done.origin = f"{ORIGIN}: stopped at conflicts"
            return
        done.origin = f"{ORIGIN}: {outcome.summary()}"
    done.learned, done.forgotten, done.followed = learn_friends(store, theirs)
