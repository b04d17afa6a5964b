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


def redacted(url: str) -> str:
    """`url` with the password or token of its user information as `***`
    (`https://bob:tok@host/x` -> `https://bob:***@host/x`); any other URL unchanged."""
    return _USERINFO.sub(lambda m: f"{m['scheme']}{m['user']}:***@", url, count=1)


def without_secret(url: str) -> str:
    """`url` with the password or token of its user information left out
    (`https://bob:tok@host/x` -> `https://bob@host/x`): what may be shared."""
    return _USERINFO.sub(
        lambda m: f"{m['scheme']}{m['user']}@" if m["user"] else m["scheme"], url, count=1
    )


def redact_text(text: str) -> str:
    """Every URL in `text` (a message of git's, say) with its secret as `***`."""
    return re.sub(
        r"[A-Za-z][A-Za-z0-9+.-]*://[^\s/@:]*:[^\s/]*@",
        lambda m: redacted(m.group(0)),
        text,
    )
