"""Whose repository this is, whatever plain git does beside jobshare (README, "Beside
plain git").

`init` records the owner's handle in the clone's own git config (`jobshare.owner`,
never shared or merged); a clone made by `git clone` records it at its first checked
command. Every writing command, `status` and `doctor` then compare it with
`jobshare.yaml`, which a plain `git merge`, `git pull` or `git checkout` of a friend's
branch may replace (git asks no merge driver when only one side changed a file), and
stop with one line saying how to repair it. A merge by git in progress stops the
writing commands too.
"""

from __future__ import annotations

from .core import records, schema
from .errors import MergeStateError, RecordError, RepositoryStateError
from .store import CONFIG_FILE, Store

OWNER_KEY = "jobshare.owner"


def recorded_owner(store: Store) -> str | None:
    """The handle this clone was set up for (None: not recorded yet)."""
    return store.git_config(OWNER_KEY)


def remember_owner(store: Store, handle: str) -> None:
    """Record `handle` as this clone's owner (init, adopt, `owner --accept`)."""
    store.set_git_config(OWNER_KEY, handle)


def check_owner(store: Store) -> None:
    """Stop when jobshare.yaml names another owner than the one recorded for this clone.

    Raises RepositoryStateError (exit 14) naming both handles and the repair; records
    the owner when none is recorded yet (a clone made with `git clone`).
    """
    try:
        current = store.handle
    except (KeyError, TypeError, RecordError):
        return  # an unreadable jobshare.yaml is reported by the command itself
    recorded = recorded_owner(store)
    if recorded is None:
        remember_owner(store, current)
        return
    if current != recorded:
        raise RepositoryStateError(
            f"{CONFIG_FILE} names the owner '{current}', but this clone is '{recorded}''s "
            "(a plain git merge, pull or checkout brought in someone else's): run "
            "'jobshare owner --restore' to bring yours back (or 'jobshare owner --accept' "
            "if you changed your handle on purpose)"
        )


def check_no_git_merge(store: Store) -> None:
    """Stop a writing command while a merge by git is in progress (MERGE_HEAD, or
    unmerged index entries). Raises MergeStateError (exit 8)."""
    paths = store.git_merge_paths()
    if paths is None:
        return
    listed = f" (unmerged: {', '.join(paths[:5])}{' ...' if len(paths) > 5 else ''})"
    raise MergeStateError(
        f"git is in the middle of a merge{listed if paths else ''}: finish or abort git's "
        "merge first ('git merge --continue' after fixing the files, or 'git merge --abort')"
    )


def restore(store: Store) -> str:
    """Bring back the recorded owner's jobshare.yaml: the newest along HEAD's
    first-parent line (the user's own side of every merge) that names them, committed.
    Raises RepositoryStateError when none is found or nothing is recorded."""
    recorded = recorded_owner(store)
    if recorded is None:
        raise RepositoryStateError(
            f"no owner is recorded for this clone: run 'jobshare owner --accept' to take "
            f"the one {CONFIG_FILE} names"
        )
    head = store.head_commit()
    data = None
    while head is not None:
        oid = store.blob_id_at(head.tree, CONFIG_FILE)
        if oid is not None and _owner_of(store.read_blob(oid)) == recorded:
            data = store.read_blob(oid)
            break
        head = store.commit(head.parents[0]) if head.parents else None
    if data is None:
        raise RepositoryStateError(
            f"no {CONFIG_FILE} of '{recorded}' in this branch's history: write yours "
            "with 'jobshare init --handle ...' in a new folder, or 'jobshare owner --accept'"
        )
    with store.locked():
        if (store.root / CONFIG_FILE).read_bytes() == data and _committed(store, data):
            return f"{CONFIG_FILE} already names '{recorded}'"
        owner = records.load_yaml(data, CONFIG_FILE).data["owner"]
        store.commit_files(
            {CONFIG_FILE: data}, f"Restore {CONFIG_FILE}: the owner is {recorded}\n", owner=owner
        )
    return f"restored {CONFIG_FILE}: the owner is '{recorded}' again"


def accept(store: Store) -> str:
    """Record the owner jobshare.yaml names as this clone's (a deliberate change)."""
    handle = store.handle
    remember_owner(store, handle)
    return f"this clone's owner is now '{handle}'"


def _owner_of(raw: bytes) -> str | None:
    try:
        loaded = records.load_yaml(raw, CONFIG_FILE)
    except RecordError:
        return None
    if schema.schema_problems("jobshare", loaded, CONFIG_FILE):
        return None
    return str(loaded.data["owner"]["handle"])


def _committed(store: Store, data: bytes) -> bool:
    head = store.head_commit()
    oid = store.blob_id_at(head.tree if head else None, CONFIG_FILE)
    return oid is not None and store.read_blob(oid) == data
