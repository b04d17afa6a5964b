"""Finishing a merge in progress: `merge --continue` and `merge --abort`.

`finish` commits the resolved records as the merge commit (every conflict must be
resolved and valid); `abort` removes the merge state, which is all a conflicted
pull wrote. See conflicts.py for the state and `resolve`.
"""

from __future__ import annotations

from typing import Any

from .conflicts import load_merge_state, merge_state_path
from .core import records, schema
from .errors import MergeStateError
from .reading import references_to
from .store import MERGE_STATE, Store, checkpoint


def abort(store: Store) -> str:
    """Forget the merge in progress; nothing else was touched by the pull."""
    with store.locked():
        try:
            state = load_merge_state(store, any_shape=True)
        except MergeStateError:
            if not merge_state_path(store).exists():
                raise
            state = {}  # damaged beyond reading: removing it is all there is to do
        checkpoint("abort")
        merge_state_path(store).unlink(missing_ok=True)
        checkpoint("abort")
    friend = state.get("friend") if isinstance(state, dict) else None
    name = f"merge of {friend}" if isinstance(friend, str) else "the merge"
    return f"{name} aborted; your repository is as it was before the pull"


def finish(store: Store) -> tuple[str | None, list[str]]:
    """Commit the merge once every conflict is resolved: (commit, unresolved labels)."""
    with store.locked():
        state = load_merge_state(store)
        left = [c["label"] for c in state["conflicts"] if not c["resolved"]]
        if left:
            return None, left
        head = store.head_commit()
        current = head.id if head is not None else None
        if current != state["ours"] or store.branch_ref() != state["ref"]:
            raise MergeStateError(
                "HEAD moved since the pull started: run 'jobshare merge --abort' and pull again"
            )
        dirty = store.worktree_changes()
        touched = set(state["changes"]) | {c["label"] for c in state["conflicts"]}
        clash = sorted(p for p in dirty if p.removesuffix(".yaml") in touched)
        if clash:
            raise MergeStateError(
                f"record files the merge writes have uncommitted changes ({', '.join(clash)}): "
                "undo them, or resolve with --file"
            )
        files: dict[str, bytes | None] = {}
        for label, data in state["changes"].items():
            files[f"{label}.yaml"] = _dump(label, data)
        for c in state["conflicts"]:
            files[f"{c['label']}.yaml"] = _dump(c["label"], c["working"])
        _check_references(store, files)
        parents = [h for h in (state["ours"], state["theirs"]) if h]
        n = len(state["conflicts"])
        message = (
            state["message"].rstrip("\n")
            + f"\n\n{n} conflict{'s' if n != 1 else ''} resolved by hand\n"
        )
        # the merge state goes with the commit: both or neither, whenever it is killed
        done = {**state.get("state_files", {}), MERGE_STATE: None}
        commit = store.commit_files(files, message, parents=parents, state=done)
    return commit, []


def _dump(label: str, data: dict[str, Any] | None) -> bytes | None:
    return None if data is None else schema.dump_record(label.split("/", 1)[0], data)


def _check_references(store: Store, files: dict[str, bytes | None]) -> None:
    """Refuse a merge commit that removes a contact a referral (or an alias) of the
    result still names, as `rm` does (DESIGN section 2: `validate` passes after the
    merge if it passed before). Raises MergeStateError naming them and the way out."""
    removed = {
        label.id: label
        for path, data in files.items()
        if data is None
        and (label := records.label_of_path(path)) is not None
        and label.folder == "contacts"
    }
    for path, data in files.items():  # a referral written by the merge names a contact
        if data is None or not path.startswith("referrals/"):
            continue
        client = records.load_yaml(data, path, lines=False).data.get("client")
        target = f"contacts/{client}.yaml"
        kept = files[target] is not None if target in files else (store.root / target).is_file()
        if isinstance(client, str) and client not in removed and not kept:
            where = path.removesuffix(".yaml")
            raise MergeStateError(
                f"{where}: its client {client!r} names no contact in the result: nothing "
                f"committed; resolve it so that it does ('jobshare resolve {where} --field "
                "client=CONTACT-ID'), then 'jobshare merge --continue'"
            )
    if not removed:
        return
    named = {
        record_id: [r for r in refs if r.path not in files]
        for record_id, refs in references_to(store, removed).items()
    }
    for path, data in files.items():  # what the merge writes names them too
        label = records.label_of_path(path)
        if data is None or label is None:
            continue
        loaded = records.load_yaml(data, path, lines=False).data
        value = loaded.get("client" if label.folder == "referrals" else "alias_of")
        if value in removed and label.id not in removed:
            named.setdefault(str(value), []).append(label)
    found = [(record_id, refs) for record_id, refs in sorted(named.items()) if refs]
    if found:
        listed = "; ".join(
            f"{removed[i]} by {', '.join(str(r) for r in sorted(refs, key=str))}"
            for i, refs in found
        )
        first = removed[found[0][0]]
        raise MergeStateError(
            f"the merge would remove contacts that records still name ({listed}): nothing "
            f"committed; keep them, e.g. 'jobshare resolve {first} --ours', then "
            "'jobshare merge --continue'"
        )
