"""The record repository through the command line (click's CliRunner, real git)."""

from __future__ import annotations

import importlib
import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from conftest import ROOT, git, jobshare, make_repo

import jobshare_sync.cli as cli_package
from jobshare_sync.cli import cli
from jobshare_sync.cli.base import JobshareGroup
from jobshare_sync.core import schema


def add_acme(repo: Path, *extra: str) -> str:
    result = jobshare(
        "add",
        "contact",
        "--name",
        "Acme Recruiting",
        "--kind",
        "agency",
        "--email",
        "jobs@acme.example",
        "--phone",
        "+44 20 7946 0000",
        "--website",
        "https://acme.example",
        "--industry",
        "fintech",
        "--tag",
        "remote",
        "--notes",
        "Ask for Dana.\nPays on time.",
        *extra,
        cwd=repo,
    )
    assert result.exit_code == 0, result.output
    return result.output


def commits(repo: Path) -> list[str]:
    return git("log", "--format=%s", cwd=repo).splitlines()


def every_command(
    group: click.Group = cli, prefix: str = ""
) -> Iterator[tuple[str, click.Command]]:
    """Every command and subcommand, groups and hidden ones too, by its full name."""
    for name, command in group.commands.items():
        full = f"{prefix} {name}".strip()
        yield full, command
        if isinstance(command, click.Group):
            yield from every_command(command, full)


def command_reference() -> str:
    """README.md's section 'Command reference', up to the next section."""
    readme = (ROOT / "README.md").read_text()
    section = readme.split("\n## Command reference\n", 1)[1]
    return section.split("\n## ", 1)[0]


def test_every_command_has_help_with_an_example_and_is_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text()
    reference = command_reference()
    top = jobshare("--help")
    assert top.exit_code == 0

    names = []
    for name, command in every_command():
        names.append(name)
        assert command.help and "Example" in command.help, f"{name} needs help with an example"
        example = command.help.split("Example", 1)[1]
        assert f"jobshare {name}" in example, f"the example of {name} does not run it"
        assert f"jobshare {name}" in readme, f"README lacks 'jobshare {name}'"
        assert f"jobshare {name}" in reference, f"README's command reference lacks {name}"
        assert name.split()[0] in top.output
        shown = jobshare(*name.split(), "--help")
        assert shown.exit_code == 0
        assert "Example" in shown.output and f"jobshare {name}" in shown.output
    # the walk reaches groups, their subcommands and the hidden commands git runs
    assert {"add", "add contact", "friend pin", "referral withdraw", "merge-driver"} <= set(names)


def test_every_module_of_the_command_line_is_an_area_and_registered() -> None:
    package = Path(cli_package.__file__).parent
    modules = {path.stem for path in package.glob("*.py")} - {"__init__", "base"}
    assert modules == set(cli_package.AREAS)
    registered = set(cli.commands.values())
    for area in cli_package.AREAS:
        commands = importlib.import_module(f"jobshare_sync.cli.{area}").COMMANDS
        assert commands and set(commands) <= registered, area
    assert len(cli.commands) == sum(
        len(importlib.import_module(f"jobshare_sync.cli.{area}").COMMANDS)
        for area in cli_package.AREAS
    )


def test_only_the_command_line_imports_click_and_its_modules_stay_small() -> None:
    package = ROOT / "jobshare_sync"
    for path in package.rglob("*.py"):
        text = path.read_text()
        if path.parent.name == "cli":
            assert text.count("\n") < 500, f"{path.name} has grown past 500 lines: split it"
        else:
            imports_click = re.search(r"^\s*(import click|from click\b)", text, re.M)
            assert not imports_click, f"{path.relative_to(ROOT)} imports click"


def test_help_lists_the_commands_in_the_order_given_then_the_others() -> None:
    group = JobshareGroup(order=("pull", "init", "gone"))
    for name in ("zeta", "init", "alpha", "pull"):
        group.add_command(click.Command(name))
    assert group.list_commands(click.Context(group)) == ["pull", "init", "zeta", "alpha"]

    listed = [
        line.split()[0]
        for line in jobshare("--help").output.split("Commands:\n", 1)[1].splitlines()
        if line.strip()
    ]
    assert listed[:8] == ["init", "add", "edit", "rm", "commit", "list", "show", "validate"]
    assert sorted(listed) == sorted(n for n, c in cli.commands.items() if not c.hidden)


def test_init_creates_commits_and_is_harmless_twice(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "r")
    assert (repo / "jobshare.yaml").read_text().startswith("owner:\n  handle: alice\n")
    for kind in schema.KINDS:
        assert (
            repo / ".jobshare/schema" / f"{kind}.schema.json"
        ).read_text() == schema.schema_text(kind)
    assert (repo / "contacts").is_dir() and (repo / "referrals").is_dir()
    assert commits(repo) == ["Start a jobshare repository"]
    again = jobshare("init", str(repo))
    assert again.exit_code == 0 and "nothing to do" in again.output
    assert commits(repo) == ["Start a jobshare repository"]
    assert git("status", "--porcelain", cwd=repo) == ""
    assert git("fsck", "--strict", cwd=repo) == ""


def test_init_takes_name_and_email_from_git_and_adopts_a_repository(tmp_path: Path) -> None:
    existing = tmp_path / "existing"
    existing.mkdir()
    git("init", "-q", cwd=existing)
    (existing / "README").write_text("mine\n")
    git("add", "README", cwd=existing)
    git("commit", "-qm", "first", cwd=existing)
    result = jobshare("init", cwd=existing)
    assert result.exit_code == 0, result.output
    assert "for 'test'" in result.output  # handle derived from test@example.com
    config = (existing / "jobshare.yaml").read_text()
    assert "name: Test Person" in config and "email: test@example.com" in config
    assert commits(existing) == ["Start a jobshare repository", "first"]
    assert (existing / "README").read_text() == "mine\n"


def test_add_contact_writes_canonical_file_and_one_commit(repo: Path) -> None:
    output = add_acme(repo)
    [path] = list((repo / "contacts").glob("acme-recruiting-*.yaml"))
    text = path.read_text()
    assert text.startswith(
        "# yaml-language-server: $schema=../.jobshare/schema/contact.schema.json\n"
    )
    assert "added_by: alice\n" in text and "updated: '20" in text
    assert "notes: |-\n  Ask for Dana.\n  Pays on time.\n" in text
    assert path.stem in output
    assert commits(repo)[0] == f'Add contact "Acme Recruiting" (contacts/{path.stem})'
    assert git("status", "--porcelain", cwd=repo) == ""
    assert jobshare("validate", cwd=repo).exit_code == 0


def test_add_with_id_no_commit_and_refusals(repo: Path) -> None:
    result = jobshare("add", "contact", "--name", "Beta", "--id", "beta", "--no-commit", cwd=repo)
    assert result.exit_code == 0, result.output
    assert (repo / "contacts/beta.yaml").is_file()
    assert len(commits(repo)) == 1
    dup = jobshare("add", "contact", "--name", "Beta again", "--id", "beta", cwd=repo)
    assert dup.exit_code == 6 and "already used" in dup.output
    bad = jobshare("add", "contact", "--name", "Gamma", "--email", "not-an-email", cwd=repo)
    assert bad.exit_code == 6
    assert "emails.0" in bad.output and "not a valid email address" in bad.output
    assert not list((repo / "contacts").glob("gamma-*.yaml"))
    assert jobshare("add", "contact", "--name", "G", "--id", "Bad Id", cwd=repo).exit_code == 6


def write_editor(tmp_path: Path, body: str) -> str:
    script = tmp_path / "editor.py"
    script.write_text(f"import sys, pathlib\np = pathlib.Path(sys.argv[1])\n{body}\n")
    return f"{sys.executable} {script}"


def test_edit_commits_valid_result(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_acme(repo, "--id", "acme")
    editor = write_editor(
        tmp_path, "p.write_text(p.read_text().replace('kind: agency', 'kind: recruiter'))"
    )
    monkeypatch.setenv("EDITOR", editor)
    result = jobshare("edit", "acme", cwd=repo)
    assert result.exit_code == 0, result.output
    assert "kind: recruiter" in (repo / "contacts/acme.yaml").read_text()
    assert commits(repo)[0] == 'Edit contact "Acme Recruiting" (contacts/acme)'


def test_edit_unchanged_commits_nothing(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_acme(repo, "--id", "acme")
    monkeypatch.setenv("EDITOR", write_editor(tmp_path, "pass"))
    before = commits(repo)
    result = jobshare("edit", "contacts/acme", cwd=repo)
    assert result.exit_code == 0 and "unchanged" in result.output
    assert commits(repo) == before


def test_edit_reopens_invalid_result_with_problems_as_comments(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_acme(repo, "--id", "acme")
    seen = tmp_path / "seen.txt"
    body = (
        f"seen = pathlib.Path({str(seen)!r})\n"
        "n = len(seen.read_text().split('---')) if seen.exists() else 0\n"
        "text = p.read_text()\n"
        "seen.write_text((seen.read_text() if seen.exists() else '') + text + '---')\n"
        "if n == 0:\n    p.write_text(text.replace('kind: agency', 'kind: headhunter'))\n"
        "else:\n    p.write_text(text.replace('kind: headhunter', 'kind: client'))\n"
    )
    monkeypatch.setenv("EDITOR", write_editor(tmp_path, body))
    result = jobshare("edit", "acme", cwd=repo)
    assert result.exit_code == 0, result.output
    second_view = seen.read_text().split("---")[1]
    assert "# ! contacts/acme.yaml:3: kind: 'headhunter' is not one of" in second_view
    text = (repo / "contacts/acme.yaml").read_text()
    assert "kind: client" in text and "# !" not in text


def test_edit_opens_the_record_where_its_schema_resolves_and_notes_point_at_lines(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_acme(repo, "--id", "acme")
    seen = tmp_path / "seen"
    seen.mkdir()
    body = (
        f"seen = pathlib.Path({str(seen)!r})\n"
        "n = len(list(seen.iterdir())) // 2\n"
        "text = p.read_text()\n"
        "(seen / f'{n}.path').write_text(str(p))\n"
        "(seen / f'{n}.text').write_text(text)\n"
        "if n == 0:\n    p.write_text(text.replace('kind: agency', 'kind: headhunter'))\n"
        "else:\n    p.write_text(text.replace('kind: headhunter', 'kind: client'))\n"
    )
    monkeypatch.setenv("EDITOR", write_editor(tmp_path, body))
    result = jobshare("edit", "acme", cwd=repo)
    assert result.exit_code == 0, result.output
    opened = Path((seen / "0.path").read_text())
    assert opened == repo / ".git/jobshare/edit/contacts/acme.yaml"
    for n in (0, 1):
        first = (seen / f"{n}.text").read_text().splitlines()[0]
        prefix = "# yaml-language-server: $schema="
        assert first.startswith(prefix)
        schema_file = (opened.parent / first.removeprefix(prefix)).resolve()
        assert schema_file == (repo / ".jobshare/schema/contact.schema.json").resolve()
        assert schema_file.is_file()
    lines = (seen / "1.text").read_text().splitlines()
    notes = [line for line in lines if line.startswith("# ! contacts/acme.yaml:")]
    assert len(notes) == 1 and "kind: 'headhunter' is not one of" in notes[0]
    line = int(notes[0].split(":")[1])
    assert lines[line - 1] == "kind: headhunter"
    text = (repo / "contacts/acme.yaml").read_text()
    assert text.startswith(
        "# yaml-language-server: $schema=../.jobshare/schema/contact.schema.json\n"
    )
    assert "kind: client" in text and "# !" not in text
    assert not opened.exists()
    assert git("status", "--porcelain", cwd=repo) == ""


def test_edit_gives_up_when_invalid_result_is_saved_unchanged(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_acme(repo, "--id", "acme")
    before = (repo / "contacts/acme.yaml").read_bytes()
    monkeypatch.setenv(
        "EDITOR",
        write_editor(tmp_path, "p.write_text(p.read_text().replace('kind: agency', 'kind: x'))"),
    )
    result = jobshare("edit", "acme", cwd=repo)
    assert result.exit_code == 1 and "gave up" in result.output
    assert (repo / "contacts/acme.yaml").read_bytes() == before


def test_rm_and_hand_edits_through_commit(repo: Path) -> None:
    add_acme(repo, "--id", "acme")
    jobshare("add", "contact", "--name", "Beta", "--id", "beta", cwd=repo)
    assert jobshare("rm", "beta", cwd=repo).exit_code == 0
    assert not (repo / "contacts/beta.yaml").exists()
    assert commits(repo)[0] == 'Remove contact "Beta" (contacts/beta)'
    assert jobshare("commit", cwd=repo).output.startswith("nothing to commit")

    path = repo / "contacts/acme.yaml"
    path.write_text(path.read_text().replace("kind: agency", "kind: nonsense"))
    refused = jobshare("commit", cwd=repo)
    assert refused.exit_code == 6 and "contacts/acme.yaml:3: kind:" in refused.output
    assert commits(repo)[0].startswith("Remove")
    path.write_text(path.read_text().replace("kind: nonsense", "kind: client"))
    (repo / "contacts/gamma.yaml").write_text(
        "id: gamma\nkind: other\nname: Gamma\nadded_by: alice\nupdated: '2026-01-01T00:00:00Z'\n"
    )
    done = jobshare("commit", "-m", "Hand edits", cwd=repo)
    assert done.exit_code == 0, done.output
    assert commits(repo)[0] == "Hand edits"
    assert git("status", "--porcelain", cwd=repo) == ""


def test_list_filters_and_json(repo: Path) -> None:
    add_acme(repo, "--id", "acme")
    jobshare(
        "add",
        "contact",
        "--name",
        "Beta Clinic",
        "--kind",
        "client",
        "--tag",
        "health",
        "--id",
        "beta",
        cwd=repo,
    )
    assert jobshare("list", cwd=repo).output.count("\n") == 2
    assert "beta" not in jobshare("list", "--kind", "agency", cwd=repo).output
    assert "acme" not in jobshare("list", "--tag", "health", cwd=repo).output
    assert "beta" not in jobshare("list", "contacts", "--search", "DANA", cwd=repo).output
    data = json.loads(jobshare("list", "--json", cwd=repo).output)
    items = data["jobshare.list/v1"]
    assert [i["label"] for i in items] == ["contacts/acme", "contacts/beta"]
    assert items[0]["record"]["emails"] == ["jobs@acme.example"]
    assert jobshare("list", "referrals", cwd=repo).output.strip() == "no records match"


def test_show_by_label_bare_id_and_json(repo: Path) -> None:
    add_acme(repo, "--id", "acme")
    text = jobshare("show", "acme", cwd=repo).output
    assert (
        text.startswith("contacts/acme  Acme Recruiting\n") and "yaml-language-server" not in text
    )
    data = json.loads(jobshare("show", "contacts/acme", "--json", cwd=repo).output)
    assert data["jobshare.show/v1"]["record"]["name"] == "Acme Recruiting"
    missing = jobshare("show", "acmx", cwd=repo)
    assert missing.exit_code == 7 and "did you mean acme" in missing.output


def test_commands_find_the_repository_upwards_and_accept_C(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_acme(repo, "--id", "acme")
    monkeypatch.chdir(repo / "contacts")
    assert "contacts/acme" in jobshare("list").output
    monkeypatch.chdir(repo.parent)
    assert "contacts/acme" in jobshare("-C", str(repo / "referrals"), "list").output


def test_validate_reports_every_problem_with_lines(repo: Path) -> None:
    add_acme(repo, "--id", "acme")
    (repo / "contacts/bad.yaml").write_text(
        "id: bad\nkind: agent\nname: Bad\nemails:\n- nope\nadded_by: alice\nupdated: '2026-01-01T00:00:00Z'\ncolour: red\n"
    )
    (repo / "contacts/broken.yaml").write_text("id: broken\nname: [\n")
    (repo / "contacts/Wrong_Name.yaml").write_text("id: x\n")
    (repo / "referrals/r-1.yaml").write_text(
        "id: r-1\ntitle: Job\nclient: nobody\nfrom: alice\nto: bob\nstatus: open\n"
        "created: '2026-01-01T00:00:00Z'\nupdated: '2026-01-01T00:00:00Z'\n"
        "history:\n- at: '2026-01-01T00:00:00Z'\n  by: alice\n  status: open\n"
    )
    result = jobshare("validate", cwd=repo)
    assert result.exit_code == 1
    out = result.output
    assert "contacts/bad.yaml:2: kind: 'agent' is not one of" in out
    assert "contacts/bad.yaml:5: emails.0: 'nope' is not a valid email address" in out
    assert "contacts/bad.yaml:8: colour: unknown field 'colour'" in out
    assert "contacts/broken.yaml:3: YAML syntax error" in out
    assert "contacts/Wrong_Name.yaml: file name is not a valid record id" in out
    assert "referrals/r-1.yaml:3: client: client 'nobody' names no contact" in out
    data = json.loads(jobshare("validate", "--json", cwd=repo).output)["jobshare.validate/v1"]
    assert data["ok"] is False and data["errors"] >= 6
    first = [p for p in data["problems"] if p["path"] == "contacts/bad.yaml"][0]
    assert set(first) == {"path", "line", "field", "message", "severity"}
    assert first["field"].startswith("/")


def test_validate_warns_on_likely_duplicates_but_passes(repo: Path) -> None:
    add_acme(repo, "--id", "acme")
    jobshare(
        "add",
        "contact",
        "--name",
        "Acme again",
        "--email",
        "JOBS@acme.example",
        "--id",
        "acme-2",
        cwd=repo,
    )
    result = jobshare("validate", cwd=repo)
    assert result.exit_code == 0
    assert (
        "warning: likely duplicate of contacts/acme: same email 'jobs@acme.example'"
        in result.output
    )
    assert result.output.strip().splitlines()[-1] == "OK: 2 records checked, 0 errors, 1 warning"


def test_validate_given_files_inside_and_outside_a_repository(repo: Path, tmp_path: Path) -> None:
    add_acme(repo, "--id", "acme")
    ok = jobshare("validate", str(repo / "contacts/acme.yaml"), cwd=repo)
    assert ok.exit_code == 0 and "1 record checked" in ok.output
    outside = tmp_path / "loose" / "contacts"
    outside.mkdir(parents=True)
    (outside / "x.yaml").write_text("id: y\n")
    result = jobshare("validate", str(outside / "x.yaml"), cwd=tmp_path / "loose")
    assert result.exit_code == 1
    assert "contacts/x.yaml:1: id: id 'y' differs from the file name" in result.output


def test_validate_invalid_examples_from_the_command_line() -> None:
    expected = json.loads((ROOT / "examples/invalid/expected.json").read_text())
    for rel, message in expected.items():
        result = jobshare("validate", str(ROOT / "examples/invalid" / rel))
        assert result.exit_code == 1, rel
        assert message in result.output, (rel, result.output)


def test_validate_a_ten_megabyte_file_and_a_binary_file(repo: Path) -> None:
    (repo / "contacts/huge.yaml").write_bytes(b"notes: " + b"x" * (10 * 1024 * 1024))
    (repo / "contacts/blob.yaml").write_bytes(bytes(range(256)))
    result = jobshare("validate", cwd=repo)
    assert result.exit_code == 1
    assert (
        "contacts/huge.yaml: file is 10,485,767 bytes, over the 1,048,576-byte limit"
        in result.output
    )
    assert "contacts/blob.yaml: binary file" in result.output


def test_schema_command_prints_the_bundled_schema() -> None:
    result = jobshare("schema", "referral")
    assert json.loads(result.output)["title"] == "Referral"
    assert json.loads(jobshare("schema").output)["properties"]["emails"]["x-merge"] == "set"


def test_bad_places_give_one_line_and_distinct_codes(tmp_path: Path) -> None:
    result = jobshare("list", cwd=tmp_path)
    assert result.exit_code == 4
    assert result.output.count("\n") == 1 and "not inside a jobshare repository" in result.output
    plain = tmp_path / "plain"
    plain.mkdir()
    git("init", "-q", cwd=plain)
    other = jobshare("list", cwd=plain)
    assert other.exit_code == 4 and "not a jobshare one" in other.output
    assert jobshare("list", cwd=tmp_path / "missing").exit_code == 4
