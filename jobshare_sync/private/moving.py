"""Moving a record between the sides: `share` (private to shared) and `unshare`.

Each is two commits, one per side, in the order that loses nothing if the command is
killed between them: the side the record goes to is written first. Killed in
between, the record is on both sides with the same content; `views` shows the shared
copy, `private status` names it, and running the same command again finishes it.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..core.records import Label
from ..errors import InvalidRecordError, LabelError
from ..reading import find_label, naming_clients, read_worktree_record
from ..store import Store
from ..workspace import check_removable, save_record
from .side import commit_private, find_private, read_side


@dataclass
class Moved:
    label: Label
    shared_commit: str | None
    private_commit: str | None


def share(store: Store, text: str) -> Moved:
    """`share LABEL`: a private record becomes shared, as one commit on the branch
    ('Share contact "NAME" (contacts/<id>)'), then leaves the private side.

    Refused (InvalidRecordError) when a different shared record already has its id
    (a friend's: both are kept as they are), or for a referral whose client is private
    (sharing it would give the client's id away)."""
    store.branch_ref()  # a detached HEAD is said first: nothing could be committed
    side = read_side(store)
    label = find_private(side, text)
    if label is None:
        raise LabelError(f"no private record '{text}': run 'jobshare list' to see them")
    raw = side.raw[label]
    data = side.records[label]
    path = store.root / label.path
    if path.is_file() and path.read_bytes() != raw:
        raise InvalidRecordError(
            f"{label} exists on the shared side too, with other content (a friend's record "
            "with the same id): both are kept; nothing shared"
        )
    if label.folder == "referrals":
        client = Label("contacts", str(data.get("client")))
        if client in side.records and not (store.root / client.path).is_file():
            raise InvalidRecordError(
                f"{label} names a private client ({client}): share the client first"
            )
    shared = None
    if not path.is_file():
        name = data.get("name") or data.get("title") or label.id
        saved = save_record(store, label, data, message=f'Share {label.kind} "{name}" ({label})')
        shared = saved.commit
    with store.locked():
        tip = store.private.tip()
        private = commit_private(store, {label.path: None}, f"Shared {label}", tip)
    return Moved(label, shared, private)


def unshare(store: Store, text: str) -> Moved:
    """`unshare LABEL`: a shared record becomes private: kept on the private side
    (first), then removed from the shared branch ('Remove contact "NAME"'), as `rm`
    removes it. Friends who pulled it keep their copy; a friend who changes it later
    brings it back at a pull as a delete/modify conflict, as for any removal.

    Refused for an alias, a contact aliases lead to, and a contact a shared referral
    names as its client (that referral would name a record friends cannot see)."""
    store.branch_ref()  # a detached HEAD is said first: the record would be on both sides
    side = read_side(store)
    try:
        label = find_label(store, text)
    except LabelError:
        already = find_private(side, text)
        if already is not None:  # run twice, or again after a kill: nothing left to do
            return Moved(already, None, None)
        raise
    check_removable(store, label)
    if label.folder == "contacts":
        named = [str(r) for refs in naming_clients(store, {label.id}).values() for r in refs]
        if named:
            raise InvalidRecordError(
                f"shared referrals name {label} as their client ({', '.join(named)}): "
                "it stays shared"
            )
    raw = (store.root / label.path).read_bytes()
    data = read_worktree_record(store, label)
    if label in side.records and side.raw[label] != raw:
        raise InvalidRecordError(
            f"a different private record already has the id of {label}: nothing changed"
        )
    private = None
    with store.locked():
        if label not in side.records:
            tip = store.private.tip()
            private = commit_private(store, {label.path: raw}, f"Unshared {label}", tip)
        name = data.get("name") or data.get("title") or label.id
        shared = store.commit_files({label.path: None}, f'Remove {label.kind} "{name}"')
    return Moved(label, shared, private)
