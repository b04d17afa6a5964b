"""Plain git, speaking records: the textconv and merge drivers, and git-setup.

`git-setup` registers two hidden commands with git: `jobshare textconv FILE`, which
renders a record as stable `field: value` lines so that `git diff` and `git log -p`
read like record diffs, and `jobshare merge-driver %O %A %B %P`, which merges a record
file field by field with the pure `merge` module so that `git merge` and `git pull`
follow the same rules as `jobshare pull`. (`checkup.py` is `doctor`.) Every
function returns a result object; nothing here prints.
"""

from __future__ import annotations

import os
import shlex
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .core import fieldmerge, merge, records, schema, values
from .core.records import FOLDERS, Label
from .errors import RecordError, RepositoryStateError
from .review import Version, read_file
from .store import Store, write_atomically

# --- textconv and the merge driver (run by git) --------------------------------------


def textconv_version(path: str | os.PathLike[str]) -> tuple[Version, str]:
    """One record file as git hands it to a textconv: its data (or why not) and its text."""
    raw = Path(path).read_bytes()
    text = raw.decode("utf-8", errors="replace")
    name = f"contacts/{Path(path).name}"  # only for messages; git's temporary names vary
    try:
        data = records.load_yaml(raw, name).data
    except RecordError as e:
        return Version(error=f"line {e.line}: {e.reason}" if e.line else e.reason), text
    if data is None:
        return Version(data={}), text
    if not isinstance(data, dict):
        return Version(error="not a mapping of fields"), text
    return Version(data=data), text


MARKER_SIZE = 7


@dataclass
class DriverResult:
    """What the merge driver wrote into ours' file: a clean merge or conflict markers."""

    clean: bool
    content: bytes
    conflicts: list[str] = field(default_factory=list)  # the conflicting fields, or why
    messages: list[str] = field(default_factory=list)  # notices for stderr


def merge_driver(
    base_path: str | os.PathLike[str],
    ours_path: str | os.PathLike[str],
    theirs_path: str | os.PathLike[str],
    path: str,
) -> DriverResult:
    """git's merge driver for one record file (`%O %A %B %P`): merge field by field with
    the record rules and write the result (or conflict markers) into ours' file."""
    raws = fieldmerge.AncestorOursTheirs(
        Path(base_path).read_bytes(), Path(ours_path).read_bytes(), Path(theirs_path).read_bytes()
    )
    label = records.label_of_path(path)
    result = _merge_record_bytes(label, raws) if label is not None else None
    if result is None:
        result = _merge_lines(raws, f"{path} is not a record file that jobshare can read")
    Path(ours_path).write_bytes(result.content)
    return result


def _parse_side(label: Label, raw: bytes, *, empty_is_absent: bool) -> dict[str, Any] | None:
    if empty_is_absent and not raw.strip():
        return None
    data = records.load_yaml(raw, label.path).data
    if not isinstance(data, dict):
        raise RecordError(label.path, "not a mapping of fields")
    return data


def _merge_record_bytes(
    label: Label, raws: fieldmerge.AncestorOursTheirs[bytes]
) -> DriverResult | None:
    try:
        versions = fieldmerge.AncestorOursTheirs(
            _parse_side(label, raws.base, empty_is_absent=True),  # add/add: git gives an empty base
            _parse_side(label, raws.ours, empty_is_absent=False),
            _parse_side(label, raws.theirs, empty_is_absent=False),
        )
    except RecordError as e:
        return _merge_lines(raws, f"{e}: merged line by line")
    rules = schema.merge_rules(label.folder)
    merged = merge.merge_record(
        str(label),
        versions,
        rules,
        theirs_handle="the other branch",
        validate=lambda _name, record: schema.record_errors(label, record),
        region=_region_here(),
    )
    messages = [notice.message for notice in merged.notices]
    conflict = merged.conflict
    if conflict is None:
        assert merged.result is not None  # both sides exist, so nothing was removed
        return DriverResult(True, schema.dump_record(label.folder, merged.result), [], messages)
    if conflict.fields and conflict.merged is not None:
        theirs = conflict.merged_theirs if conflict.merged_theirs is not None else conflict.merged
        content = _field_markers(label, conflict.merged, theirs, [f.field for f in conflict.fields])
        return DriverResult(False, content, [f.field for f in conflict.fields], messages)
    why = "; ".join(conflict.messages) or conflict.reason
    return DriverResult(
        False, _whole_markers(raws.ours, raws.theirs), [why], messages + [f"{label}: {why}"]
    )


def _region_here() -> str:
    """The owner's region from the jobshare.yaml where git runs the driver (the top of
    the working tree), for comparing phone numbers; the unknown region if unreadable."""
    try:
        config = records.load_yaml(Path("jobshare.yaml").read_bytes(), "jobshare.yaml").data
    except (OSError, RecordError):
        return values.DEFAULT_REGION
    region = config.get("region") if isinstance(config, dict) else None
    return region if isinstance(region, str) and values.is_region(region) else values.DEFAULT_REGION


def _field_blocks(raw: bytes) -> tuple[list[str], dict[str, str]]:
    """Split canonical YAML into its comment lines and one block of lines per top-level key."""
    head: list[str] = []
    blocks: dict[str, str] = {}
    key: str | None = None
    for line in raw.decode("utf-8").splitlines(keepends=True):
        starts = not line.startswith((" ", "-", "#", "\n")) and ":" in line
        if starts:
            key = line.split(":", 1)[0].strip("'\"")
            blocks[key] = line
        elif key is None:
            head.append(line)
        else:
            blocks[key] += line
    return head, blocks


def _field_markers(
    label: Label, ours: Mapping[str, Any], theirs: Mapping[str, Any], fields: Sequence[str]
) -> bytes:
    """Canonical YAML of ours' best effort with each conflicting field's lines between
    git-style markers: ours' value, then theirs'."""
    head, our_blocks = _field_blocks(schema.dump_record(label.folder, ours))
    _, their_blocks = _field_blocks(schema.dump_record(label.folder, theirs))
    order = list(schema.field_names(label.folder))
    order += sorted(k for k in {*our_blocks, *their_blocks, *fields} if k not in order)
    out = list(head)
    for key in order:
        if key in fields:
            out.append("<" * MARKER_SIZE + " ours\n")
            out.append(our_blocks.get(key, ""))
            out.append("=" * MARKER_SIZE + "\n")
            out.append(their_blocks.get(key, ""))
            out.append(">" * MARKER_SIZE + " theirs\n")
        elif key in our_blocks:
            out.append(our_blocks[key])
    return "".join(out).encode("utf-8")


def _whole_markers(ours: bytes, theirs: bytes) -> bytes:
    def ended(raw: bytes) -> bytes:
        return raw if raw.endswith(b"\n") or not raw else raw + b"\n"

    return (
        b"<" * MARKER_SIZE
        + b" ours\n"
        + ended(ours)
        + b"=" * MARKER_SIZE
        + b"\n"
        + ended(theirs)
        + b">" * MARKER_SIZE
        + b" theirs\n"
    )


def _merge_lines(raws: fieldmerge.AncestorOursTheirs[bytes], why: str) -> DriverResult:
    """The fallback for files that are not readable records: a plain line merge."""
    try:
        texts = raws.map(lambda raw: raw.decode("utf-8"))
    except UnicodeDecodeError:
        return DriverResult(False, _whole_markers(raws.ours, raws.theirs), [why], [why])
    merged = fieldmerge.merge_text(*texts)
    if merged is None:
        return DriverResult(False, _whole_markers(raws.ours, raws.theirs), [why], [why])
    return DriverResult(True, merged.encode("utf-8"), [], [why])


# --- git-setup ------------------------------------------------------------------------

ATTRIBUTES_FILE = ".gitattributes"
DRIVER = "jobshare"
PATTERNS = tuple(f"{folder}/*.yaml" for folder in FOLDERS)
SETUP_MESSAGE = "Set up jobshare's git drivers"


def driver_config() -> dict[str, str]:
    """The git config that registers the drivers: this Python runs this package.

    `-P` keeps Python from importing modules from the repository folder git runs it in.
    """
    program = f"{shlex.quote(sys.executable)} -P -m jobshare_sync"
    return {
        f"diff.{DRIVER}.textconv": f"{program} textconv",
        # git keeps each blob's rendering in refs/notes/textconv/jobshare: log -p stays fast
        f"diff.{DRIVER}.cachetextconv": "true",
        f"merge.{DRIVER}.name": "jobshare: merge records field by field",
        f"merge.{DRIVER}.driver": f"{program} merge-driver %O %A %B %P",
    }


# jobshare.yaml names the owner of this clone: a merge by git in which both sides
# changed it keeps ours (a merge driver `true` leaves ours as it is, the way
# gitattributes(5) shows for `merge=ours`). When only the other side changed it,
# git asks no driver and takes theirs: this is a belt beside the owner check
# (owner.py), which is what guarantees it.
OWNER_FILE = "jobshare.yaml"
OWNER_ATTRIBUTE = "merge=jobshare-owner"
OWNER_CONFIG = {
    "merge.jobshare-owner.name": "keep this clone's owner",
    "merge.jobshare-owner.driver": "true",
}

HOOK_MARK = "# jobshare: validate the record files being committed"


def hook_text() -> str:
    """The pre-commit hook: `jobshare validate` (this Python, this package) on the record
    files staged for the commit; no record file staged, nothing to check."""
    program = f"{shlex.quote(sys.executable)} -P -m jobshare_sync"
    return (
        "#!/bin/sh\n"
        f"{HOOK_MARK} (written by 'jobshare git-setup --pre-commit-hook')\n"
        "files=$(git diff --cached --name-only --diff-filter=ACMR -- "
        "'contacts/*.yaml' 'referrals/*.yaml')\n"
        '[ -z "$files" ] && exit 0\n'
        f"exec {program} validate $files\n"
    )


def _hook_path(store: Store) -> Path:
    """The pre-commit hook's path: in `core.hooksPath` when set, else .git/hooks."""
    configured = store.git_config("core.hooksPath")
    folder = Path(configured).expanduser() if configured else store.git_dir / "hooks"
    if not folder.is_absolute():
        folder = store.root / folder
    return folder / "pre-commit"


def install_hook(store: Store) -> str:
    """Write the pre-commit hook into the repository's hooks folder (`core.hooksPath`
    when set): what was done, in words. An existing hook of another program is kept,
    and RepositoryStateError says how to call jobshare from it."""
    path = _hook_path(store)
    wanted = hook_text()
    try:
        existing = path.read_text(errors="replace")
    except FileNotFoundError:
        existing = None
    if existing is not None and HOOK_MARK not in existing:
        raise RepositoryStateError(
            f"{path} is another program's hook, kept as it is: add to it the line "
            "'jobshare validate $(git diff --cached --name-only -- contacts referrals)'"
        )
    if existing == wanted:
        return f"the pre-commit hook {path} is in place"
    write_atomically(path, wanted.encode(), durable=False)
    path.chmod(0o755)
    return f"installed the pre-commit hook {path}: 'git commit' validates staged record files"


def attributes_text(existing: str) -> str:
    """`existing` .gitattributes with the record patterns set to the jobshare drivers
    and jobshare.yaml to `merge=ours`; every other line, and other attributes on those
    lines, are kept."""
    lines = existing.splitlines()
    done: set[str] = set()
    out = []
    for line in lines:
        tokens = line.split()
        if tokens and tokens[0] == OWNER_FILE:
            kept = [t for t in tokens[1:] if t.lstrip("-!").split("=")[0] != "merge"]
            line = " ".join([tokens[0], *kept, OWNER_ATTRIBUTE])
            done.add(OWNER_FILE)
        elif tokens and tokens[0] in PATTERNS:
            kept = [t for t in tokens[1:] if t.lstrip("-!").split("=")[0] not in ("diff", "merge")]
            line = " ".join([tokens[0], *kept, f"diff={DRIVER}", f"merge={DRIVER}"])
            done.add(tokens[0])
        out.append(line)
    out += [f"{p} diff={DRIVER} merge={DRIVER}" for p in PATTERNS if p not in done]
    if OWNER_FILE not in done:
        out.append(f"{OWNER_FILE} {OWNER_ATTRIBUTE}")
    return "\n".join(out) + "\n"


@dataclass
class SetupResult:
    attributes: str  # added | updated | unchanged
    commit: str | None
    config: dict[str, str]
    config_changed: list[str]

    def to_json(self) -> dict[str, Any]:
        return {
            "attributes": self.attributes,
            "commit": self.commit,
            "config": self.config,
            "config_changed": self.config_changed,
        }


def git_setup(store: Store) -> SetupResult:
    """Register the textconv and merge drivers in .git/config and commit .gitattributes;
    protect jobshare.yaml with `merge=ours` (see OWNER_CONFIG)."""
    with store.locked():
        path = store.root / ATTRIBUTES_FILE
        existing = read_file(path)
        text = attributes_text(existing.decode("utf-8") if existing is not None else "")
        wanted = text.encode("utf-8")
        committed = store.blob_id_at(store.head_tree(), ATTRIBUTES_FILE)
        commit = None
        if committed is None or committed != store.hash_bytes(wanted):
            commit = str(store.commit_files({ATTRIBUTES_FILE: wanted}, SETUP_MESSAGE))
        state = "added" if existing is None else "unchanged" if existing == wanted else "updated"
        config = {**driver_config(), **OWNER_CONFIG}
        changed = [name for name, value in config.items() if store.git_config(name) != value]
        for name in changed:
            store.set_git_config(name, config[name])
    return SetupResult(state, commit, config, changed)
