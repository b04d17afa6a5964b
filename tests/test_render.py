"""render.py: no value reaches a terminal raw, and tables line up by display width."""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jobshare_sync import render

RAW = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("\x1b]0;pwned\x07", "\\e]0;pwned\\x07"),  # sets the window title
        ("\x1b[2J\x1b[H", "\\e[2J\\e[H"),  # clears the screen
        ("\x9b2J", "\\x9b2J"),  # the same, as one C1 control
        ("a\x00b\x7f", "a\\x00b\\x7f"),
        ("tab\there", "tab\\there"),
        ("\u202egnp.exe", "\\u202egnp.exe"),  # a right-to-left override
        ("Zoë 山田 😀", "Zoë 山田 😀"),
    ],
)
def test_safe_shows_control_characters_as_escapes(text: str, shown: str) -> None:
    assert render.safe(text) == shown
    assert render.safe("one\ntwo") == "one\ntwo"
    assert render.safe("one\ntwo", lines=False) == "one\\ntwo"


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=40))
def test_safe_output_holds_no_control_character(text: str) -> None:
    shown = render.safe(text)
    assert not RAW.search(shown)
    assert "\n" not in render.safe(text, lines=False)
    assert render.safe(shown) == shown  # escaping twice changes nothing


@pytest.mark.parametrize(
    ("text", "columns"),
    [
        ("Acme", 4),
        ("Zoë", 3),
        ("Zo\u0308e", 3),  # a combining mark takes no column
        ("山田太郎", 8),
        ("ｶﾀｶﾅ", 4),  # half-width katakana: one column each
        ("😀", 2),
        ("👩\u200d💻", 2),  # a ZWJ sequence shows as one emoji
        ("❤\ufe0f", 2),  # emoji presentation
        ("🇬🇧", 2),
    ],
)
def test_width(text: str, columns: int) -> None:
    assert render.width(text) == columns


def test_tables_line_up_with_wide_characters() -> None:
    rows = [
        ["contacts/a", "山田太郎", "recruiter"],
        ["contacts/b", "Zoë 😀", "agency"],
        ["contacts/c", "Zo\u0308e", "client"],
        ["contacts/d", "\x1b[2JEve", "other"],
    ]
    lines = render.table(rows).splitlines()
    starts = {
        render.width(line[: line.index(word)])
        for line, word in zip(lines, ["recruiter", "agency", "client", "other"], strict=True)
    }
    assert len(starts) == 1
    assert "\x1b" not in "".join(lines) and "\\e[2JEve" in lines[3]


def test_json_envelopes_escape_what_json_leaves_raw() -> None:
    text = render.envelope("x", {"name": "\x1b]0;t\x07 \x9b \u202e Zoë"})
    assert not RAW.search(text)
    assert json.loads(text) == {"jobshare.x/v1": {"name": "\x1b]0;t\x07 \x9b \u202e Zoë"}}
