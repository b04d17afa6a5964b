"""`jobshare help [COMMAND]`, and the closest command named for an unknown one."""

from __future__ import annotations

import pytest
from conftest import jobshare


def test_help_of_jobshare_and_of_a_command() -> None:
    whole = jobshare("help")
    assert whole.exit_code == 0 and "COMMAND [ARGS]" in whole.stdout and "sync" in whole.stdout
    one = jobshare("help", "friend", "add")
    assert one.exit_code == 0 and "friend add [OPTIONS] NAME URL" in one.stdout
    assert one.stdout == jobshare("friend", "add", "--help").stdout
    wrong = jobshare("help", "frend")
    assert wrong.exit_code == 2 and "did you mean 'jobshare friend'?" in wrong.stderr


@pytest.mark.parametrize(
    ("typed", "meant"),
    [("search", "list --search"), ("stauts", "status"), ("pul", "pull"), ("delete", "rm")],
)
def test_an_unknown_command_names_the_closest(typed: str, meant: str) -> None:
    result = jobshare(typed, "x")
    assert result.exit_code == 2
    assert f"no command '{typed}': did you mean 'jobshare {meant}'?" in result.stderr
