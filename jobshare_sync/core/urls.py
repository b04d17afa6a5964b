"""URLs of remotes and friends, with their secrets kept out of sight.

A password or token in a URL's user information (`https://user:secret@host/...`,
RFC 3986 section 3.2.1, which deprecates it) is shown as `***`, as git itself does,
and never written to a file that is shared.
"""

from __future__ import annotations

import re

# scheme://user:password@host...; the user information ends at the last '@' before the path
_USERINFO = re.compile(
    r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)(?P<user>[^/@:]*):(?P<secret>[^/]*)@"
)
# https://TOKEN@host...: a token given as the user name (GitHub, GitLab accept it), told
# from a user name by its length or a known prefix; only over http(s), where ssh's
# `git@host` and a short user name stay as they are
_TOKEN_USER = re.compile(
    r"^(?P<scheme>https?://)(?P<token>(?:ghp_|gho_|ghs_|github_pat_|glpat-)[^/@:]*"
    r"|[A-Za-z0-9_.~-]{20,})(?::[^/]*)?@",
    re.IGNORECASE,
)


def redacted(url: str) -> str:
    """`url` with the password or token of its user information as `***`
    (`https://bob:tok@host/x` -> `https://bob:***@host/x`, a token given as the user
    name `https://ghp_x@host/x` -> `https://***@host/x`); any other URL unchanged."""
    url = _TOKEN_USER.sub(lambda m: f"{m['scheme']}***@", url, count=1)
    return _USERINFO.sub(lambda m: f"{m['scheme']}{m['user']}:***@", url, count=1)


def without_secret(url: str) -> str:
    """`url` with the password or token of its user information left out
    (`https://bob:tok@host/x` -> `https://bob@host/x`; a token given as the user name
    is left out whole): what may be shared."""
    url = _TOKEN_USER.sub(lambda m: m["scheme"], url, count=1)
    return _USERINFO.sub(
        lambda m: f"{m['scheme']}{m['user']}@" if m["user"] else m["scheme"], url, count=1
    )


def redact_text(text: str) -> str:
    """Every URL in `text` (a message of git's, say) with its secret as `***`."""
    return re.sub(
        r"[A-Za-z][A-Za-z0-9+.-]*://[^\s/@:]*(?::[^\s/]*)?@",
        lambda m: redacted(m.group(0)),
        text,
    )
