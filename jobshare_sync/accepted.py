"""The version of a record a pull accepted: what a three-way merge may take as base.

A pull skips a friend's version of a record that does not pass its checks, and the
merge commit still has the friend's commit as a parent, so the next merge base holds
that skipped version. Taken as the base, the friend's changes made in it would count
as already merged, and when the friend fixes the record ours would win against them
(an email they replaced would come back, on either side). `accepted_base` finds the
version to merge against instead, from history alone.
"""

from __future__ import annotations

from typing import Any

from .core.records import Label
from .store import Store

BASE_HISTORY_LIMIT = 1000  # commits looked through for the version a skipped one replaced


def accepted_base(
    store: Store,
    base: str | None,
    tree: str | None,
    label: Label,
    our_oid: str | None,
    data: dict[str, Any] | None,
) -> dict[str, Any] | None:
    """The base version of a record at merge base `base` (`data`, read from its tree),
    unless that version is invalid: a version a pull skipped (a friend's that did not
    pass its checks) was never accepted, so it must not be the base, or the friend's
    changes made in it would count as already merged and ours would win against them
    when they fix it. Then the base is the newest valid version (or absence) in the
    history of `base`: the last version accepted. Where ours holds the base's very
    blob nothing was skipped, and the base stands as it is."""
    oid = store.blob_id_at(tree, label.path)
    if base is None or oid is None or oid == our_oid or store.load_valid(label, oid)[0]:
        return data
    seen = {oid}
    for n, commit in enumerate(store.walk_commits(base)):
        older = store.blob_id_at(commit.tree, label.path)
        if older is None:
            return None
        if older not in seen:
            seen.add(older)
            found, _ = store.load_valid(label, older)
            if found is not None:
                return found
        if n >= BASE_HISTORY_LIMIT:
            break
    return data
