"""The pull: a friend's changes merged record by record, as a pipeline of named steps.

`merge_friend` runs the steps with plain data between them (see core/policy.py):

    gather   base, ours and theirs of each record the friend changed     gather.gather
    drop     what must not be merged                                      policy.drop_unmergeable
    merge    combines and renames, then field by field (x-merge rules)    policy.merge_step
    policy   strategy, relayed and late deletions, referral clients       policy.apply_policy
    write    one merge commit, or the conflicts in .git/jobshare/merge.json  write

Only `contacts/` and `referrals/` are merged. A pull with conflicts touches neither
HEAD nor the working tree. The gather step is in gather.py; the evidence for
deletions relayed by friends is in deletions.py; friends, fetch and push are in
friends.py (their names are importable from here too).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from .conflicts import merge_in_progress, merge_status, save_merge_state
from .core import merge, policy, schema, values
from .core.merge import MergeResult
from .core.policy import Facts
from .core.records import Skipped
from .core.values import shorten
from .deletions import OwnerBranches, kept_state, late_deletions
from .errors import (
    DirtyWorkTreeError,
    FriendError,
    JobshareError,
    MergeStateError,
    RepositoryStateError,
)
from .friends import (
    FRIEND_SECTION,
    Fetched,
    Friend,
    Progress,
    add_friend,
    fetch,
    friend_claim,
    get_friend,
    list_friends,
    no_progress,
    peek,
    pin_handle,
    push,
    remove_friend,
    shown_url,
)
from .gather import _unchanged_versions, gather, gather_facts
from .store import CONFIG_FILE, Commit, FileContent, Store
from .workspace import now

__all__ = [
    "FRIEND_SECTION",
    "Fetched",
    "Friend",
    "Pulled",
    "add_friend",
    "check_can_merge",
    "fetch",
    "friend_claim",
    "get_friend",
    "list_friends",
    "merge_friend",
    "peek",
    "pin_handle",
    "pull",
    "push",
    "remove_friend",
    "status",
]

OWNER_HISTORY_LIMIT = 2000  # commits of the owner's own line searched for a deletion


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


def check_not_shallow(store: Store) -> None:
    """Refuse a shallow clone, where merge bases cannot be found (pull, incoming, sync).
    Raises RepositoryStateError."""
    if store.is_shallow():
        raise RepositoryStateError(
            "this repository is a shallow clone, where merge bases cannot be found: "
            "run 'git fetch --unshallow' first"
        )


def check_can_merge(store: Store, *, worktree: bool = True) -> None:
    """Refuse to start a pull when it could lose work or mix two merges."""
    if merge_in_progress(store):
        raise MergeStateError(
            "a merge is in progress: see 'jobshare conflicts', then 'jobshare merge --continue' "
            "or 'jobshare merge --abort'"
        )
    store.branch_ref()
    check_not_shallow(store)
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
    progress: Progress = no_progress,
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
    progress: Progress = no_progress,
    dry_run: bool = False,
    own: bool = False,
) -> Pulled:
    """Merge a fetched friend into HEAD (the caller holds the lock), step by step; with
    `dry_run`, work out what the pull would do and write nothing.

    Raises MergeStateError, RepositoryStateError or DirtyWorkTreeError when a pull
    cannot start (check_can_merge), FriendError for a friend not fetched, without a
    pinned handle, or claiming the user's own handle (DESIGN section 4). With `own`,
    `friend` is the user's own remote: the user's handle applies, and its branch must
    claim it.
    """
    if not dry_run:
        check_can_merge(store)
    theirs, outcome = _their_side(store, friend, own)
    ours = store.head_commit()
    owners = OwnerBranches(store, OWNER_HISTORY_LIMIT)
    late = late_deletions(store, friend.handle, ours, owners)
    if ours is not None and (ours.id == theirs.id or store.descendant_of(ours.id, theirs.id)):
        outcome.up_to_date = not late
        if late and not dry_run:
            _remove_late_deletions(store, outcome, late)
        return outcome
    bases = store.merge_bases(ours.id, theirs.id) if ours is not None else []
    progress(f"Merging {friend.name} ({len(bases)} merge base{'s' if len(bases) != 1 else ''})")
    candidates, not_records = gather(store, bases, ours, theirs, owners)
    items, outcome.skipped = policy.drop_unmergeable(
        candidates,
        not_records,
        own_handle=None if own else store.handle,  # one's own machines add in one's name
        now=_clock(),
        theirs_handle=outcome.handle,
    )
    result = policy.merge_step(
        items,
        theirs_handle=outcome.handle,
        lookup=partial(_unchanged_versions, store, bases, ours, theirs),
        whole_record=whole_record,
        region=store.config().get("region") or merge.DEFAULT_REGION,
    )
    facts = gather_facts(store, ours, result, dict(items), owners, late)
    decided = policy.apply_policy(result, facts, strategy=strategy)
    outcome.result, outcome.resolved_by_strategy = decided.result, decided.resolved_by_strategy
    outcome.skipped += decided.skipped
    if ours is not None and store.descendant_of(theirs.id, ours.id) and _brings_nothing(outcome):
        # Their branch only adds our own work back (they merged us): a merge commit would
        # bring nothing, and they would merge it in turn, and so on, one empty merge per
        # pull on each side for ever. Where git would fast-forward, we stay put.
        outcome.up_to_date = True
        return outcome
    if not dry_run:
        write(store, outcome, ours, theirs)
    return outcome


def _clock() -> dt.datetime:
    """What this machine takes for now, to judge a friend's times by: the later of its
    clock and a clock pinned by JOBSHARE_NOW (a pinned clock never makes a plausible
    time look implausible)."""
    real = dt.datetime.now(dt.UTC)
    pinned = values.parse_instant(now())
    return max(real, pinned) if pinned is not None else real


def _their_side(store: Store, friend: Friend, own: bool = False) -> tuple[Commit, Pulled]:
    """The friend's fetched commit, and the pull's outcome so far (warnings), once the
    friend is known to be someone else than the user, by a pinned handle (or, `own`,
    once the user's own remote is known to be the user's)."""
    if friend.fetched is None:
        raise FriendError(
            f"nothing fetched from '{friend.name}' yet: run 'jobshare fetch {friend.name}'"
        )
    theirs = store.commit(friend.fetched)
    claim = friend_claim(store, theirs)
    if own:
        if claim != store.handle:
            raise FriendError(
                f"your remote '{friend.name}' ({shown_url(friend.url)}) has a {CONFIG_FILE} "
                f"owned by '{claim}', not by you ('{store.handle}'): sync refused; check "
                f"'git remote get-url {friend.name}'"
            )
        return theirs, Pulled(friend.name, store.handle)
    if claim == store.handle:
        raise FriendError(
            f"friend '{friend.name}' ({shown_url(friend.url)}) claims your own handle '{claim}': pull refused"
        )
    if friend.handle is None:
        raise FriendError(
            f"'{friend.name}' has no pinned handle yet: run 'jobshare fetch {friend.name}'"
        )
    outcome = Pulled(friend.name, friend.handle)
    if claim is not None and claim != friend.handle:
        outcome.warnings.append(
            f"{friend.name}'s branch claims the handle '{claim}'; '{friend.handle}' applies"
        )
    return theirs, outcome


def _brings_nothing(outcome: Pulled) -> bool:
    result = outcome.result
    return not (result.changes or result.conflicts or result.notices or outcome.skipped)


# --- write: the merge commit, or the merge state --------------------------------------


def write(store: Store, outcome: Pulled, ours: Commit | None, theirs: Commit) -> None:
    """One merge commit whose parents are HEAD and the friend's commit; or, with
    conflicts, the merge state and nothing else. The kept deletions change with the
    commit, never before it, so a pull killed or aborted leaves them as they were."""
    result = outcome.result
    message = _merge_message(outcome)
    removed = [label for label, data in result.changes.items() if data is None]
    kept = kept_state(store, result, removed)
    if result.conflicts:
        ours_id = ours.id if ours is not None else None
        save_merge_state(
            store, outcome.friend, outcome.handle, ours_id, theirs.id, result, message, kept
        )
        return
    # always the canonical form, even where a friend's hand-written file came in unchanged
    files = {f"{label}.yaml": _serialise(label, data) for label, data in result.changes.items()}
    parents = [ours.id, theirs.id] if ours is not None else [theirs.id]
    outcome.commit = store.commit_files(files, message, parents=parents, state=kept)


def _remove_late_deletions(store: Store, outcome: Pulled, late: list[str]) -> None:
    """The late deletions alone, as one commit, when the friend has nothing new."""
    n = len(late)
    message = f"Remove {n} record{'s' if n != 1 else ''} {outcome.friend} deleted\n\n"
    message += "".join(
        f"- {label}: its owner deleted it; a friend's copy of that deletion was kept earlier\n"
        for label in late
    )
    outcome.result = policy.apply_policy(MergeResult(), Facts(late_deletions=tuple(late))).result
    removals: dict[str, FileContent] = {f"{label}.yaml": None for label in late}
    kept = kept_state(store, None, late)
    outcome.commit = store.commit_files(removals, message, state=kept)


def _brings_records(store: Store, fetched: str, head: Commit) -> bool:
    """Whether the friend's records differ between your common history and their tip
    (what `incoming` lists as their changes): their commits since may all have come
    back to what you share (a merge of your own work, an edit undone)."""
    base = store.merge_base(head.id, fetched)
    skipped: list[Skipped] = []
    base_tree = store.commit(base).tree if base is not None else None
    return bool(store.changed_entries(base_tree, store.commit(fetched).tree, skipped) or skipped)


def _pull_stays_put(store: Store, friend: Friend, head: Commit) -> bool:
    """Whether a pull of the fetched friend would bring nothing although their branch
    has commits HEAD lacks: they merged us and added nothing (see merge_friend)."""
    if friend.fetched is None or not store.descendant_of(friend.fetched, head.id):
        return False
    try:
        return merge_friend(store, friend, dry_run=True).up_to_date
    except JobshareError:
        return False


def _serialise(label: str, data: dict[str, Any] | None) -> bytes | None:
    if data is None:
        return None
    return schema.dump_record(label.split("/", 1)[0], data)


MESSAGE_LIST_LIMIT = 50  # notices and skipped paths a merge commit message lists
REASON_LIMIT = 200  # characters of a reason or notice quoted in a merge commit message


def _merge_message(outcome: Pulled) -> str:
    """The merge commit's message: the summary, then at most MESSAGE_LIST_LIMIT notices
    and skipped paths (each cut to REASON_LIMIT characters), and a count of the rest."""
    lines = [outcome.result.summary(outcome.friend)]
    extra = [f"- {shorten(n.message, REASON_LIMIT)}" for n in outcome.result.notices]
    extra += [
        f"- skipped {shorten(s.path, REASON_LIMIT)}: {shorten(s.reason, REASON_LIMIT)}"
        for s in outcome.skipped
    ]
    if len(extra) > MESSAGE_LIST_LIMIT:
        rest = len(extra) - MESSAGE_LIST_LIMIT
        extra = extra[:MESSAGE_LIST_LIMIT] + [f"- and {rest} more (see 'jobshare pull --json')"]
    if outcome.resolved_by_strategy:
        extra.append(f"- {outcome.resolved_by_strategy} conflict(s) resolved by strategy")
    if extra:
        lines += [""] + extra
    return "\n".join(lines) + "\n"


# --- status ----------------------------------------------------------------------------


def status(store: Store) -> dict[str, Any]:
    """Uncommitted record changes, a merge in progress, and what each friend has new.

    Per friend, without fetching: `unmerged` counts the commits of their last fetched
    ref that HEAD lacks (git rev-list --count HEAD..ref), and `incoming` the commits
    `incoming` would bring: of those, the ones that change records (a commit that
    touches only their jobshare.yaml or `.jobshare/` brings none), and none when
    their records are as in your common history (their merge of your own work) or a
    pull would stay put (they merged us and added nothing). Both None when never
    fetched."""
    current = store.current_branch()
    branch = current.removeprefix("refs/heads/") if current is not None else None
    merging = merge_status(store)
    head = store.head_commit()
    friends = []
    for friend in list_friends(store):
        unmerged = incoming = None
        if friend.fetched is not None:
            unmerged = store.count_commits(friend.fetched, head.id if head is not None else None)
            incoming = unmerged
            if unmerged:
                head_id = head.id if head is not None else None
                incoming = store.count_record_commits(friend.fetched, head_id)
            if (
                incoming
                and head is not None
                and (
                    not _brings_records(store, friend.fetched, head)
                    or _pull_stays_put(store, friend, head)
                )
            ):
                incoming = 0
        friends.append({**friend.to_json(), "unmerged": unmerged, "incoming": incoming})
    return {
        "branch": branch,
        "changes": store.worktree_changes(),
        "merge": (
            {"friend": merging.friend, "conflicts": [c.to_json() for c in merging.conflicts]}
            if merging is not None
            else None
        ),
        "friends": friends,
        "git_merge": store.git_merge_paths(),
    }
