"""The private side on one's own machines: its remote, and its part of `sync`.

The private remote is a URL the user names (`jobshare private remote URL`), kept in
the clone's git config (`jobshare.privateRemote`, never in a commit). It may be
neither `origin` nor any friend's URL, compared after normalising (scheme and host
without case, no credentials, no trailing `/` or `.git`, local paths resolved).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from ..core.privatemerge import merge_private
from ..core.urls import redacted, without_secret

__all__ = ["redacted", "remote", "set_remote", "sync_private", "url_key"]
from ..errors import FriendError, GitCommandError
from ..store import Store
from ..store.private import FETCHED_REF

CONFIG_KEY = "jobshare.privateRemote"
DEFAULT_PORTS = {"ssh": "22", "git": "9418", "http": "80", "https": "443"}


def _is_local(url: str) -> bool:
    """Whether git reads `url` as a path (not scheme://, not scp-like host:path)."""
    return not (
        re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", url)
        or re.match(r"^[^/:]+@[^/:]+:", url)
        or re.match(r"^[a-zA-Z0-9.-]+:[^/]", url)
    )


def url_key(url: str, root: Path) -> str:
    """A URL in the form two spellings of one place share: git's URL forms (git-clone(1)
    "GIT URLS") with scheme and host lower case and user and password left out, local
    paths and file:// URLs as real absolute paths, no trailing '/' or '.git'."""
    text = without_secret(url.strip())
    text = re.sub(r"^file://(localhost)?(?=/)", "", text, flags=re.IGNORECASE)
    match = re.match(r"^([a-zA-Z][a-zA-Z0-9+.-]*)://([^/]*)(.*)$", text)
    if match:
        scheme, host, rest = match.groups()
        scheme, host = scheme.lower(), host.lower().rsplit("@", 1)[-1]
        if scheme in ("ssh", "git+ssh", "ssh+git"):
            scheme, rest = "ssh", re.sub(r"^/~/", "/", rest)  # home or root: same (stricter)
        port = DEFAULT_PORTS.get(scheme)
        host = host.removesuffix(f":{port}") if port else host
        text = f"{scheme}://{host}{rest}"
    elif not _is_local(text):
        user_host, _, rest = text.partition(":")  # scp-like: host:path
        rest = rest.removeprefix("~/").lstrip("/")
        text = f"ssh://{user_host.lower().rsplit('@', 1)[-1]}/{rest}"
    else:
        text = os.path.realpath(root / os.path.expanduser(text))
    text = text.rstrip("/")
    return text.removesuffix(".git").rstrip("/")


def place_keys(store: Store, url: str) -> set[str]:
    """The `url_key`s of `url` as typed and as git uses it (insteadOf applied)."""
    return {url_key(url, store.root), url_key(store.expanded_url(url), store.root)}


def shared_place(store: Store, url: str) -> str | None:
    """Which git remote (origin, a friend) reads from or pushes to the place `url` names,
    by its `url` or `pushurl`, any spelling (`url_key`, insteadOf): its name, or None."""
    wanted = place_keys(store, url)
    for name, urls in sorted(store.remote_places().items()):
        if any(place_keys(store, other) & wanted for other in urls):
            return name
    return None


def check_place(store: Store, url: str) -> None:
    """Refuse `url` as the private remote (FriendError, with the reason) when it is
    origin's or a friend's place, or this repository: checked when it is named and
    again at every sync, since remotes change."""
    if not url.strip() or any(ord(c) < 32 for c in url):
        raise FriendError("the private remote must be one URL or path on one line")
    name = shared_place(store, url)
    if name is not None:
        whose = "your own remote 'origin'" if name == "origin" else f"the remote '{name}'"
        raise FriendError(
            f"{redacted(url)} is {whose}, which friends can read: the private side "
            "needs a place of its own (a repository only you can read)"
        )
    here = {url_key(str(store.root), store.root), url_key(str(store.git_dir), store.root)}
    if place_keys(store, url) & here:
        raise FriendError(f"{redacted(url)} is this repository: name another place")


def set_remote(store: Store, url: str) -> str:
    """Name the private remote. Raises FriendError when `url` is origin's, a friend's
    (any git remote of the repository, by url or pushurl, any spelling) or the
    repository itself, with the reason (`check_place`)."""
    check_place(store, url)
    if _is_local(url):  # git runs in the private repository: a relative path would move
        url = os.path.abspath(store.root / os.path.expanduser(url))
    store.set_git_config(CONFIG_KEY, url)
    return redacted(url)


def remote(store: Store) -> str | None:
    return store.git_config(CONFIG_KEY)


@dataclass
class PrivateSync:
    url: str  # redacted
    fetched: bool = False
    merged: str | None = None  # fast-forward | merge | up to date
    pushed: bool = False
    messages: list[str] = field(default_factory=list)

    def summary(self) -> str:
        parts = [f"private side with {self.url}:"]
        parts.append(self.merged or "nothing to merge")
        parts.append("pushed" if self.pushed else "not pushed")
        return " ".join(parts[:1]) + " " + ", ".join(parts[1:])


def sync_private(store: Store, *, push: bool = True) -> PrivateSync | None:
    """`sync`'s private part: fetch the private remote's branch, fast-forward to it or
    merge it (`core/privatemerge.py`), and push the private branch back. None when
    no private remote is named. Raises GitCommandError when the remote cannot be
    reached; the private side is then as it was."""
    url = remote(store)
    if url is None:
        return None
    check_place(store, url)  # remotes may have changed since it was named
    private = store.private
    done = PrivateSync(redacted(url))
    reason = private.fetch(url)
    if reason is not None and "has no branch" not in reason:
        raise GitCommandError(f"cannot fetch the private side from {redacted(url)}: {reason}")
    theirs = private.tip(FETCHED_REF) if reason is None else None
    with store.locked():
        ours = private.tip()
        if (
            theirs is None
            or theirs == ours
            or (ours is not None and private.descendant_of(ours, theirs))
        ):
            done.merged = "up to date"
        elif ours is None or private.descendant_of(theirs, ours):
            private.move_to(ours, theirs)
            done.merged = "fast-forward"
        else:
            base = private.merge_base(ours, theirs)
            merged = merge_private(
                private.files(base) if base else {},
                private.files(ours),
                private.files(theirs),
                store.handle,
            )
            done.messages += merged.messages
            private.commit(
                merged.changes,
                "Merge the private side of another machine",
                expected=ours,
                parents=[ours, theirs],
            )
            done.merged = "merged"
    if push and private.tip() is not None:
        foreign = private.foreign_refs(url)
        if foreign:  # a place that holds other branches is shared, whatever its URL says
            raise FriendError(
                f"{redacted(url)} holds other branches ({', '.join(sorted(foreign)[:3])}): "
                "it looks like a shared repository, so the private side was not pushed; "
                "name a repository of its own with 'jobshare private remote URL'"
            )
        private.push(url)
        done.pushed = True
    private.collect_garbage()
    return done
