"""Secrets in URLs: a password, or a token given as the user name, never shown or shared."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import jobshare, make_repo

from jobshare_sync.core.urls import redact_text, redacted, without_secret

TOKEN = "ghp_" + "x7" * 18


@pytest.mark.parametrize(
    ("url", "shown", "shared"),
    [
        ("https://bob:tok@host/x", "https://bob:***@host/x", "https://bob@host/x"),
        (f"https://{TOKEN}@github.com/a/b", "https://***@github.com/a/b", "https://github.com/a/b"),
        ("https://glpat-abc:x-oauth-basic@gl/x", "https://***@gl/x", "https://gl/x"),
        ("https://A1b2C3d4E5f6G7h8I9j0K@h/x", "https://***@h/x", "https://h/x"),
        ("https://alice@host/x", "https://alice@host/x", "https://alice@host/x"),
        ("ssh://git@host/x", "ssh://git@host/x", "ssh://git@host/x"),
        ("git@host:alice/jobs.git", "git@host:alice/jobs.git", "git@host:alice/jobs.git"),
        ("/srv/jobs.git", "/srv/jobs.git", "/srv/jobs.git"),
    ],
)
def test_secrets_in_urls(url: str, shown: str, shared: str) -> None:
    assert redacted(url) == shown
    assert without_secret(url) == shared
    assert redact_text(f"cannot reach {url}: timed out") == f"cannot reach {shown}: timed out"


def test_a_token_as_user_name_is_never_printed(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "alice")
    for args in (
        ("private", "remote", f"https://{TOKEN}@example.net/private.git"),
        ("private", "remote"),
        ("private", "status"),
        ("friend", "add", "bob", f"https://{TOKEN}@example.org/bob/jobs.git"),
        ("friend", "list"),
        ("doctor",),
    ):
        result = jobshare(*args, cwd=repo)
        assert TOKEN not in result.output, args
