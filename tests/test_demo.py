"""End to end: the installed `jobshare` command, run as a user would, on the demo."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import git


def jobshare_command() -> list[str]:
    installed = shutil.which("jobshare", path=str(Path(sys.executable).parent))
    return [installed] if installed else [sys.executable, "-P", "-m", "jobshare_sync"]


@pytest.mark.slow
def test_demo_runs_every_step_and_leaves_converged_repositories(tmp_path: Path) -> None:
    target = tmp_path / "demo"
    proc = subprocess.run(
        [*jobshare_command(), "demo", str(target)], capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
    assert "alice$ jobshare add contact" in out
    assert "OK: 26 records checked, 0 errors" in out
    assert "alice$ jobshare import ../Downloads/contacts.vcf --dry-run" in out
    assert "contacts.vcf (vcard, utf-8): would add 2, update 1" in out
    assert "Import 3 contacts from contacts.vcf (2 added, 1 updated)" in out
    assert "Nothing new: every contact is already as the files have it" in out
    assert "CONFLICT contacts/hanse-tech-recruiting-m4xt (both-modified): name" in out
    assert "Merge committed" in out
    assert "alice$ jobshare refer fjord-logistics-9pha --to bob --title 'Data pipeline" in out
    inbox = out[out.index("bob$ jobshare inbox") :].splitlines()[2]
    assert "Data pipeline, 3 months" in inbox and "Fjord Logistics AB" in inbox
    assert 'open -> accepted (Accept "Data pipeline, 3 months" from alice)' in out
    ledger = out[out.index("alice$ jobshare ledger") :].splitlines()
    assert ledger[3].split() == ["bob", "2", "2", "1", "2", "1", "1", "+1"]
    assert "Traceback" not in out + proc.stderr
    found = out[out.index("alice$ jobshare duplicates") :].splitlines()[1]
    assert "contacts/northwind-talent-bob  contacts/northwind-talent-demo" in found
    assert "Combine 2 contacts into contacts/northwind-talent-demo in commit" in out
    assert "combined contacts/northwind-talent-bob into contacts/northwind-talent-demo" in out
    shown = out[out.index("bob$ jobshare show northwind-talent-bob") :]
    assert shown.splitlines()[2].startswith("  contacts/northwind-talent-demo  Northwind Talent")
    alice, bob = target / "alice", target / "bob"
    for folder in ("contacts", "referrals"):  # the same records; each keeps its own jobshare.yaml
        assert git("rev-parse", f"HEAD:{folder}", cwd=alice) == git(
            "rev-parse", f"HEAD:{folder}", cwd=bob
        )
    assert git("log", "--format=%s", "--grep", "^Import [0-9]", cwd=alice).splitlines() == [
        "Import 3 contacts from contacts.vcf (2 added, 1 updated)"
    ]
    spreewald = (alice / "contacts/spreewald-energie-x2kf.yaml").read_text()
    assert "einkauf@spreewald-energie.example" in spreewald  # the import updated it
    # 21 of Alice's and 20 of Bob's, 7 of them the same, the one Alice adds, the two her
    # import adds, and the alias Bob's duplicate of hers became
    assert len(list((alice / "contacts").glob("*.yaml"))) == 21 + 20 - 7 + 1 + 2 + 1
    record = (alice / "contacts/hanse-tech-recruiting-m4xt.yaml").read_text()
    assert (
        "name: Dr. Zoë Müller" in record
        and "- hiring-now" in record
        and "+49 40 3003 1000" in record
    )
    [referral] = (alice / "referrals").glob("data-pipeline-3-months-*.yaml")
    text = referral.read_text()
    assert "status: accepted" in text and "note: Talked to Nils, starting Monday" in text
    for repo in (alice, bob):
        assert git("status", "--porcelain", cwd=repo) == ""
        git("fsck", "--strict", cwd=repo)


def test_demo_refuses_a_folder_that_is_not_empty(tmp_path: Path) -> None:
    (tmp_path / "something").write_text("x")
    proc = subprocess.run(
        [*jobshare_command(), "demo", str(tmp_path)], capture_output=True, text=True
    )
    assert proc.returncode == 3
    assert "is not empty" in proc.stderr


def test_installed_command_reports_errors_in_one_line(tmp_path: Path) -> None:
    proc = subprocess.run(
        [*jobshare_command(), "-C", str(tmp_path), "list"], capture_output=True, text=True
    )
    assert proc.returncode == 4
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
