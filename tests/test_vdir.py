"""interchange/vdir: `jobshare vdir sync`, a folder of .vcf files kept in step both ways.

The folder and the repository are real; the end-to-end test runs the real tools a
khard and vdirsyncer user has: a Radicale CardDAV server on 127.0.0.1, vdirsyncer
syncing the folder with it, a card changed on the server by an HTTP PUT (as a phone
would), and khard reading the folder.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import EXAMPLES, free_port, git, jobshare

IMPORT = EXAMPLES / "import"


def sync(repo: Path, folder: Path, *options: str, code: int = 0) -> str:
    result = jobshare("vdir", "sync", str(folder), *options, cwd=repo)
    assert result.exit_code == code, result.output
    return result.output


def record(repo: Path, record_id: str) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((repo / "contacts" / f"{record_id}.yaml").read_text())
    return data


def commits(repo: Path) -> int:
    return int(git("rev-list", "--count", "HEAD", cwd=repo))


def snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    """Every file's bytes and mtime (ns): what vdirsyncer notices."""
    return {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(folder.iterdir())}


def edit_card(path: Path, old: str, new: str) -> None:
    text = path.read_bytes().decode()
    assert old in text, text
    time.sleep(0.01)
    path.write_bytes(text.replace(old, new).encode())


@pytest.fixture
def alice(repo: Path) -> Path:
    """Alice's repository with the example contacts of alice/ and a few imported ones."""
    for path in sorted((EXAMPLES / "alice" / "contacts").glob("*.yaml")):
        shutil.copyfile(path, repo / "contacts" / path.name)
    assert jobshare("commit", "-m", "Alice's contacts", cwd=repo).exit_code == 0
    return repo


def test_the_first_sync_writes_every_contact_and_the_next_touches_nothing(
    alice: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "jobs"
    out = sync(alice, folder)
    assert out.startswith(f"Created {folder}\n")
    names = sorted(p.name for p in folder.iterdir())
    assert names == sorted(f"{p.stem}.vcf" for p in (alice / "contacts").glob("*.yaml"))
    card = (folder / "fjord-logistics-9pha.vcf").read_bytes().decode()
    assert card.startswith("BEGIN:VCARD\r\nVERSION:3.0\r\n")
    assert "UID:fjord-logistics-9pha\r\n" in card and "FN:Fjord Logistics AB\r\n" in card
    before, head = snapshot(folder), commits(alice)
    again = sync(alice, folder)
    assert again.strip() == f"{folder} and the repository are in step"
    assert snapshot(folder) == before and commits(alice) == head
    assert (alice / ".git" / "jobshare" / "vdir").is_dir()


def test_a_card_changed_in_the_folder_comes_back_as_one_commit(alice: Path, tmp_path: Path) -> None:
    folder = tmp_path / "jobs"
    sync(alice, folder)
    edit_card(folder / "fjord-logistics-9pha.vcf", "FN:Fjord Logistics AB", "FN:Fjord Logistics AS")
    edit_card(
        folder / "northbridge-talent-7k2q.vcf",
        "EMAIL;TYPE=work:priya.raman@northbridge-talent.example",
        "EMAIL;TYPE=work:priya.raman@northbridge-talent.example\r\nEMAIL:priya@home.example",
    )
    before = snapshot(folder)
    head = commits(alice)
    out = sync(alice, folder)
    assert "updated   contacts/fjord-logistics-9pha" in out
    assert commits(alice) == head + 1
    assert git("log", "-1", "--format=%s", cwd=alice).strip() == (
        f"Sync 2 contacts from {folder} (2 updated)"
    )
    assert record(alice, "fjord-logistics-9pha")["name"] == "Fjord Logistics AS"
    assert record(alice, "northbridge-talent-7k2q")["emails"] == [
        "priya.raman@northbridge-talent.example",
        "priya@home.example",
    ]
    assert snapshot(folder) == before  # what the folder holds is not written back
    assert "in step" in sync(alice, folder) and commits(alice) == head + 1
    assert git("status", "--porcelain", cwd=alice) == ""


def test_a_contact_changed_in_the_repository_rewrites_its_file_only(
    alice: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "jobs"
    sync(alice, folder)
    before = snapshot(folder)
    path = alice / "contacts" / "fjord-logistics-9pha.yaml"
    path.write_text(path.read_text().replace("Gothenburg, SE", "Göteborg, SE"))
    jobshare("commit", "-m", "Göteborg", cwd=alice)
    out = sync(alice, folder)
    assert "wrote     fjord-logistics-9pha.vcf" in out
    after = snapshot(folder)
    changed = [name for name in after if after[name] != before[name]]
    assert changed == ["fjord-logistics-9pha.vcf"]
    assert "X-JOBSHARE-LOCATION:Göteborg\\, SE / remote" in after[changed[0]][0].decode()
    jobshare("rm", "fjord-logistics-9pha", cwd=alice)
    assert "deleted   fjord-logistics-9pha.vcf" in sync(alice, folder)
    assert not (folder / "fjord-logistics-9pha.vcf").exists()


def test_a_new_card_in_the_folder_becomes_a_contact_and_keeps_its_file(
    alice: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "jobs"
    sync(alice, folder, "--tag", "remote")
    assert len(list(folder.iterdir())) == 7  # the contacts tagged remote
    new = folder / "5AD380FD-B2DE.vcf"
    new.write_bytes(
        b"BEGIN:VCARD\r\nVERSION:3.0\r\nUID:5AD380FD-B2DE\r\nFN:Kai Lund\r\n"
        b"EMAIL:kai@lund.example\r\nEND:VCARD\r\n"
    )
    out = sync(alice, folder, "--tag", "remote")
    [added] = [line.split()[1] for line in out.splitlines() if line.startswith("  added")]
    kai = record(alice, added.split("/")[1])
    assert kai["name"] == "Kai Lund" and kai["tags"] == ["remote"] and kai["kind"] == "other"
    assert new.read_bytes().startswith(b"BEGIN:VCARD\r\nVERSION:3.0\r\nUID:5AD380FD-B2DE")
    assert "in step" in sync(alice, folder, "--tag", "remote")
    path = alice / "contacts" / f"{kai['id']}.yaml"
    path.write_text(path.read_text().replace("name: Kai Lund", "name: Kai Lund-Berg"))
    jobshare("commit", "-m", "Kai's name", cwd=alice)
    sync(alice, folder, "--tag", "remote")
    text = new.read_bytes().decode()  # written back to its own file, with its own UID
    assert "UID:5AD380FD-B2DE\r\n" in text and "FN:Kai Lund-Berg\r\n" in text


def test_a_contact_no_longer_tagged_leaves_the_folder(alice: Path, tmp_path: Path) -> None:
    folder = tmp_path / "jobs"
    sync(alice, folder, "--tag", "remote")
    for record_id in ("fjord-logistics-9pha", "celik-fintech-h3ke"):
        path = alice / "contacts" / f"{record_id}.yaml"
        path.write_text(path.read_text().replace("- remote\n", ""))
    jobshare("commit", "-m", "Not remote any more", cwd=alice)
    edit_card(folder / "celik-fintech-h3ke.vcf", "END:VCARD", "NOTE:Changed here\r\nEND:VCARD")
    before = record(alice, "celik-fintech-h3ke")
    out = sync(alice, folder, "--tag", "remote")
    assert "deleted   fjord-logistics-9pha.vcf" in out
    assert (
        "skipped   celik-fintech-h3ke.vcf: changed in the folder, but "
        "contacts/celik-fintech-h3ke is not tagged 'remote': left alone"
    ) in out
    assert record(alice, "celik-fintech-h3ke") == before
    assert (folder / "celik-fintech-h3ke.vcf").exists()


def test_a_card_deleted_in_the_folder_is_kept_unless_told(alice: Path, tmp_path: Path) -> None:
    folder = tmp_path / "jobs"
    sync(alice, folder)
    (folder / "celik-fintech-h3ke.vcf").unlink()
    head = commits(alice)
    out = sync(alice, folder)
    assert "kept      contacts/celik-fintech-h3ke" in out
    assert "sync with --propagate-deletes to delete them" in out
    assert commits(alice) == head and (alice / "contacts" / "celik-fintech-h3ke.yaml").exists()
    assert "kept" in sync(alice, folder)  # reported again, and nothing written
    assert not (folder / "celik-fintech-h3ke.vcf").exists()
    out = sync(alice, folder, "--propagate-deletes")
    assert "removed   contacts/celik-fintech-h3ke" in out
    assert not (alice / "contacts" / "celik-fintech-h3ke.yaml").exists()
    assert commits(alice) == head + 1


def test_changes_on_both_sides_merge_field_by_field(alice: Path, tmp_path: Path) -> None:
    folder = tmp_path / "jobs"
    sync(alice, folder)
    edit_card(folder / "fjord-logistics-9pha.vcf", "FN:Fjord Logistics AB", "FN:Fjord Logistics AS")
    path = alice / "contacts" / "fjord-logistics-9pha.yaml"
    path.write_text(path.read_text().replace("- golang\n", "- golang\n- airflow\n"))
    jobshare("commit", "-m", "Airflow", cwd=alice)
    sync(alice, folder)
    merged = record(alice, "fjord-logistics-9pha")
    assert merged["name"] == "Fjord Logistics AS" and "airflow" in merged["tags"]
    text = (folder / "fjord-logistics-9pha.vcf").read_bytes().decode()
    assert "FN:Fjord Logistics AS" in text and "airflow" in text


def test_a_real_conflict_is_resolved_the_usual_way(alice: Path, tmp_path: Path) -> None:
    folder = tmp_path / "jobs"
    sync(alice, folder)
    edit_card(folder / "fjord-logistics-9pha.vcf", "FN:Fjord Logistics AB", "FN:Fjord Logistics AS")
    edit_card(folder / "celik-fintech-h3ke.vcf", "END:VCARD", "NOTE:A note\r\nEND:VCARD")
    path = alice / "contacts" / "fjord-logistics-9pha.yaml"
    path.write_text(path.read_text().replace("name: Fjord Logistics AB", "name: Fjord Logistik"))
    jobshare("commit", "-m", "Rename", cwd=alice)
    head = commits(alice)
    out = sync(alice, folder, code=1)
    assert "CONFLICT  contacts/fjord-logistics-9pha" in out
    assert commits(alice) == head  # nothing committed, as a pull with conflicts
    shown = jobshare("conflicts", cwd=alice).output
    assert "contacts/fjord-logistics-9pha:name" in shown
    assert "ours:   Fjord Logistik" in shown and "theirs: Fjord Logistics AS" in shown
    refused = jobshare("vdir", "sync", str(folder), cwd=alice)
    assert refused.exit_code == 8
    # an abort forgets it; the next sync finds the same changes
    jobshare("merge", "--abort", cwd=alice)
    assert "CONFLICT  contacts/fjord-logistics-9pha" in sync(alice, folder, code=1)
    jobshare("resolve", "contacts/fjord-logistics-9pha:name", "--ours", cwd=alice)
    done = jobshare("merge", "--continue", cwd=alice)
    assert done.exit_code == 0, done.output
    assert commits(alice) == head + 1
    assert record(alice, "fjord-logistics-9pha")["name"] == "Fjord Logistik"
    assert record(alice, "celik-fintech-h3ke")["notes"].endswith("A note\n")
    out = sync(alice, folder)  # the resolved contact goes to the folder
    assert "wrote     fjord-logistics-9pha.vcf" in out
    assert "FN:Fjord Logistik\r\n" in (folder / "fjord-logistics-9pha.vcf").read_bytes().decode()
    assert "in step" in sync(alice, folder)


def test_a_lost_state_file_means_a_slower_sync_never_a_wrong_one(
    alice: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "jobs"
    sync(alice, folder)
    new = folder / "phone-made.vcf"
    new.write_bytes(
        b"BEGIN:VCARD\r\nVERSION:3.0\r\nUID:phone-made-UID\r\nFN:Kai Lund\r\n"
        b"EMAIL:kai@lund.example\r\nEND:VCARD\r\n"
    )
    sync(alice, folder)
    state = alice / ".git" / "jobshare" / "vdir"
    contacts = sorted(p.name for p in (alice / "contacts").iterdir())
    shutil.rmtree(state)
    before, head = snapshot(folder), commits(alice)
    assert "in step" in sync(alice, folder)
    assert snapshot(folder) == before and commits(alice) == head
    # both sides change while the state is lost: each change lands where it should
    edit_card(folder / "fjord-logistics-9pha.vcf", "FN:Fjord Logistics AB", "FN:Fjord Logistics AS")
    path = alice / "contacts" / "northbridge-talent-7k2q.yaml"
    path.write_text(path.read_text().replace("name: Priya Raman", "name: Priya Raman-Shah"))
    jobshare("commit", "-m", "Priya's name", cwd=alice)
    shutil.rmtree(state)
    sync(alice, folder)
    assert record(alice, "fjord-logistics-9pha")["name"] == "Fjord Logistics AS"
    text = (folder / "northbridge-talent-7k2q.vcf").read_bytes().decode()
    assert "FN:Priya Raman-Shah\r\n" in text
    assert sorted(p.name for p in (alice / "contacts").iterdir()) == contacts  # no duplicates
    assert sorted(p.name for p in folder.iterdir()) == sorted(before)


def test_a_card_rewritten_without_jobshare_properties_keeps_those_fields(
    alice: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "jobs"
    sync(alice, folder)
    path = folder / "spreewald-energie-x2kf.vcf"
    lines = path.read_bytes().decode().split("\r\n")
    kept = [line for line in lines if not line.startswith(("X-JOBSHARE-", " "))]
    time.sleep(0.01)
    path.write_bytes("\r\n".join(kept).replace("TITLE:IT", "TITLE:IT-").encode())
    before = record(alice, "spreewald-energie-x2kf")
    sync(alice, folder)
    after = record(alice, "spreewald-energie-x2kf")
    assert after["role"].startswith("IT-")
    for name in ("kind", "location", "industries", "added_by"):
        assert after[name] == before[name]


def test_what_stops_a_sync_and_what_it_skips(alice: Path, tmp_path: Path) -> None:
    folder = tmp_path / "jobs"
    path = alice / "contacts" / "fjord-logistics-9pha.yaml"
    path.write_text(path.read_text() + "\n")
    assert jobshare("vdir", "sync", str(folder), cwd=alice).exit_code == 9
    git("checkout", "--", "contacts", cwd=alice)
    nowhere = jobshare("vdir", "sync", str(tmp_path / "no" / "such"), cwd=alice)
    assert nowhere.exit_code == 15 and "is no folder" in nowhere.output
    sync(alice, folder)
    (folder / "broken.vcf").write_bytes(b"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Half\r\n")
    (folder / "\x1b[31mred.vcf").write_bytes(
        b"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Red\r\nEND:VCARD\r\n"
    )
    (folder / "elsewhere.vcf").symlink_to(folder / "fjord-logistics-9pha.vcf")
    out = sync(alice, folder)
    assert "skipped   broken.vcf: BEGIN:VCARD without END:VCARD" in out
    assert "skipped   '\\x1b[31mred.vcf': a file name with control characters" in out
    assert "\x1b" not in out
    assert "skipped   elsewhere.vcf: not a regular file" in out
    names = [yaml.safe_load(p.read_text())["name"] for p in (alice / "contacts").glob("*.yaml")]
    assert "Red" not in names and len(names) == 21


def test_a_contact_of_a_newer_format_is_left_alone(alice: Path, tmp_path: Path) -> None:
    folder = tmp_path / "jobs"
    sync(alice, folder)
    path = alice / "contacts" / "fjord-logistics-9pha.yaml"
    path.write_text(path.read_text() + "format: 3\npronouns: they/them\n")
    git("commit", "-q", "-am", "From a newer jobshare", cwd=alice)
    out = sync(alice, folder)
    assert "fjord-logistics-9pha.vcf: contacts/fjord-logistics-9pha is written by a newer" in out
    assert (folder / "fjord-logistics-9pha.vcf").exists()  # neither deleted nor rewritten


def test_json(alice: Path, tmp_path: Path) -> None:
    result = jobshare("vdir", "sync", str(tmp_path / "jobs"), "--json", cwd=alice)
    payload = json.loads(result.output)["jobshare.vdir-sync/v1"]
    assert payload["created"] is True and len(payload["written"]) == 21
    assert payload["commit"] is None and payload["conflicts"] == []


# --- end to end: Radicale, vdirsyncer, khard ---------------------------------------------------


def tool(name: str) -> str:
    """A program installed next to this Python (the test extra installs them)."""
    path = Path(sys.executable).parent / name
    return str(path) if path.exists() else name


@pytest.fixture
def radicale(tmp_path: Path) -> Iterator[str]:
    """A Radicale CardDAV server on 127.0.0.1 with its own config and storage, no
    authentication; yields its URL and stops it at the end."""
    port = free_port()
    config = tmp_path / "radicale.conf"
    config.write_text(
        f"[server]\nhosts = 127.0.0.1:{port}\n"
        "[auth]\ntype = none\n"
        "[rights]\ntype = owner_only\n"
        f"[storage]\nfilesystem_folder = {tmp_path / 'radicale-storage'}\n"
        "[logging]\nlevel = warning\n"
    )
    log = (tmp_path / "radicale.log").open("wb")
    server = subprocess.Popen(
        [sys.executable, "-m", "radicale", "--config", str(config)],
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"Radicale did not start on port {port}") from None
                time.sleep(0.05)
        yield f"http://127.0.0.1:{port}/"
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


def vdirsyncer(config: Path, *args: str, input: str | None = None) -> str:
    env = {**os.environ, "VDIRSYNCER_CONFIG": str(config)}
    proc = subprocess.run(
        [tool("vdirsyncer"), *args],
        input=input,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout + proc.stderr


def khard(config: Path, *args: str) -> str:
    proc = subprocess.run(
        [tool("khard"), "-c", str(config), *args], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


AUTH = {"Authorization": "Basic " + base64.b64encode(b"alice:secret").decode()}


def test_end_to_end_with_radicale_vdirsyncer_and_khard(
    repo: Path, tmp_path: Path, radicale: str
) -> None:
    assert jobshare("import", str(IMPORT / "iphone-3.0.vcf"), cwd=repo).exit_code == 0
    dana = next(p.stem for p in (repo / "contacts").glob("dana-okafor-*.yaml"))
    local = tmp_path / "contacts"  # vdirsyncer's folder of collections; "jobs" is one
    (local / "jobs").mkdir(parents=True)
    assert "3 written" in sync(repo, local / "jobs")
    config = tmp_path / "vdirsyncer.conf"
    config.write_text(
        "[general]\n"
        f'status_path = "{tmp_path / "vdirsyncer-status"}/"\n'
        "[pair jobs]\n"
        'a = "jobs_local"\nb = "jobs_remote"\ncollections = ["from a", "from b"]\n'
        "[storage jobs_local]\n"
        f'type = "filesystem"\npath = "{local}/"\nfileext = ".vcf"\n'
        "[storage jobs_remote]\n"
        f'type = "carddav"\nurl = "{radicale}"\nusername = "alice"\npassword = "secret"\n'
    )
    vdirsyncer(config, "discover", input="y\n")  # creates the address book on the server
    out = vdirsyncer(config, "sync")
    assert f"Copying (uploading) item {dana}" in out

    # a phone edits the card on the server: GET it, change the title, PUT it back
    url = f"{radicale}alice/jobs/{dana}.vcf"
    with urllib.request.urlopen(urllib.request.Request(url, headers=AUTH)) as response:
        etag, card = response.headers["ETag"], response.read().decode()
    assert "TITLE:Senior tech recruiter" in card
    edited = card.replace("TITLE:Senior tech recruiter", "TITLE:Head of talent")
    put = urllib.request.Request(
        url,
        data=edited.encode(),
        method="PUT",
        headers={**AUTH, "Content-Type": "text/vcard; charset=utf-8", "If-Match": etag},
    )
    with urllib.request.urlopen(put) as response:
        assert response.status in (200, 201, 204)

    assert f"Copying (updating) item {dana} to jobs_local" in vdirsyncer(config, "sync")
    head = commits(repo)
    out = sync(repo, local / "jobs")
    assert f"updated   contacts/{dana}" in out
    assert commits(repo) == head + 1  # the change, as one commit
    assert git("log", "-1", "--format=%s", cwd=repo).strip() == (
        f"Sync 1 contact from {local / 'jobs'} (1 updated)"
    )
    assert record(repo, dana)["role"] == "Head of talent"
    assert "in step" in sync(repo, local / "jobs")
    assert "Copying" not in vdirsyncer(config, "sync")  # nothing new either way

    khard_config = tmp_path / "khard.conf"
    khard_config.write_text(
        f"[addressbooks]\n[[jobs]]\npath = {local / 'jobs'}/\n"
        "[general]\ndefault_action = list\neditor = true\nmerge_editor = true\n"
    )
    listed = khard(khard_config, "list")
    for name in ("Dana Okafor", "Spreewald Energie GmbH", "山田 花子"):
        assert name in listed
    shown = khard(khard_config, "show", "Dana Okafor")
    assert "Title: Head of talent" in shown
    assert "dana@northbridge-talent.example" in shown and f"UID: {dana}" in shown
