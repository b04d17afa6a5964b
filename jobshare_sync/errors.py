"""Errors of jobshare-sync, each with its own exit code.

The library raises these; only the command line turns them into exit codes.
Exit codes 0, 1 and 2 are reserved (success, findings for the user, bad usage);
every error class here has a distinct code of 3 or more. An exception that is
not a JobshareError is a bug and keeps its traceback.
"""

from __future__ import annotations


class JobshareError(Exception):
    """Base class: a problem the user can act on, with a message naming the next step.

    Its code, 3, is also the command line's for a file or folder the system would not
    let jobshare read or write (an OSError: permissions, a full disk)."""

    exit_code = 3


class NotARepositoryError(JobshareError):
    """No jobshare repository here (or git repository without jobshare.yaml)."""

    exit_code = 4


class RecordError(JobshareError):
    """A record file that cannot be read: broken YAML, aliases, tags, size, encoding."""

    exit_code = 5

    def __init__(self, path: str, message: str, line: int | None = None) -> None:
        self.path = path
        self.line = line
        self.reason = message
        where = f"{path}:{line}" if line else path
        super().__init__(f"{where}: {message}")


class InvalidRecordError(JobshareError):
    """A record that parses but breaks the schema or the cross-record rules."""

    exit_code = 6


class LabelError(JobshareError):
    """A label that names no record, or several."""

    exit_code = 7


class MergeStateError(JobshareError):
    """A merge is (or is not) in progress when the command needs the opposite."""

    exit_code = 8


class DirtyWorkTreeError(JobshareError):
    """Record files have uncommitted changes and the command needs a clean tree."""

    exit_code = 9


class FriendError(JobshareError):
    """An unknown friend, a friend claiming the wrong handle, a missing branch."""

    exit_code = 10


class GitCommandError(JobshareError):
    """The system git failed (fetch, push): the message carries git's own reason."""

    exit_code = 11


class LockError(JobshareError):
    """Another jobshare command holds the repository's lock."""

    exit_code = 12


class ReferralError(JobshareError):
    """A referral transition that is not allowed for this user or state."""

    exit_code = 13


class RepositoryStateError(JobshareError):
    """A repository jobshare cannot work on as it is: detached HEAD, shallow, bare."""

    exit_code = 14


class InterchangeError(JobshareError):
    """A contacts file that cannot be read as a whole (an unknown format, a CSV without a
    header jobshare understands, a --map naming no column or no field). Single bad cards
    and rows are not errors: they are reported and skipped."""

    exit_code = 15
