"""How fast does `jobshare import` take in a phone's address book? 10,000 generated cards.

    python benchmarks/import_cards.py                 # 10,000 cards, median of 3 runs
    python benchmarks/import_cards.py --cards 2000 --runs 1

Writes one vCard 3.0 file of N generated cards (invented people and agencies, as a phone
exports them: folded lines, escaped commas and semicolons, a PHOTO on some, a few
non-Latin names), then times, each on a fresh repository:

    jobshare import FILE           the installed command, as a subprocess: read, match,
                                   write N records, one commit
    jobshare import FILE (again)   the same file into the repository it made: every card
                                   matches its contact and nothing changes
    vobject, plain parse           the reference: `vobject.readComponents` over the same
                                   file, every card's properties visited (no matching,
                                   no records, no git)

and prints a Markdown table. The target: 10,000 cards well under a minute on the
project's machine. A benchmark, not a test: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

FIRST = ["Dana", "Priya", "Jörg", "Zoë", "Ahmed", "Mehmet", "Siobhan", "Łukasz", "Inês", "Kai"]
LAST = ["Okafor", "Raman", "Weiß", "Łukasiewicz", "Al-Farsi", "Yılmaz", "Kelly", "Nowak"]
NON_LATIN = ["山田 花子", "Νίκος Παπαδόπουλος", "Мария Соколова", "أحمد الفارسي"]
AGENCIES = ["Northbridge Talent", "Harbour Street Recruitment", "Spree Talent", "Fjord Staffing"]
PHOTO = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGM4k2YMAANnAWbIgiL+AAAAAElFTkSuQmCC"
)


def fold(line: str) -> str:
    """A content line folded at 75 octets, as RFC 6350 section 3.2 says (ASCII here)."""
    parts = [line[:75]] + [" " + line[i : i + 74] for i in range(75, len(line), 74)]
    return "\r\n".join(parts)


def card(n: int, rng: random.Random) -> str:
    if n % 25 == 0:
        name = f"{rng.choice(NON_LATIN)} {n}"
        given, family = name, ""
    else:
        given, family = rng.choice(FIRST), f"{rng.choice(LAST)}-{n}"
        name = f"{given} {family}"
    agency = rng.choice(AGENCIES)
    host = agency.lower().replace(" ", "-") + ".example"
    lines = [
        "BEGIN:VCARD",
        "VERSION:3.0",
        f"N:{family};{given};;;",
        f"FN:{name}",
        f"ORG:{agency};Tech desk",
        "TITLE:Senior recruiter\\, data & platform",
        f"EMAIL;type=INTERNET;type=WORK;type=pref:person{n}@{host}",
        f"TEL;type=CELL:+44 7700 {n // 1000 % 1000:03d} {n % 1000:03d}",
        f"item1.URL;type=pref:https://{host}",
        "item1.X-ABLabel:_$!<HomePage>!$_",
        fold(
            "NOTE:Met at the Leeds fintech fair\\, 2025. Pays £550/day\\; net 30.\\n"
            "Prefers calls before 10am\\, never on Fridays."
        ),
        "CATEGORIES:Recruiters,fintech",
    ]
    if n % 10 == 0:
        lines.append(fold(f"PHOTO;ENCODING=b;TYPE=PNG:{PHOTO * 4}"))
    lines.append("END:VCARD")
    return "\r\n".join(lines) + "\r\n"


def write_cards(path: Path, count: int, seed: int = 1) -> None:
    rng = random.Random(seed)
    path.write_text("".join(card(n, rng) for n in range(count)), encoding="utf-8", newline="")


def jobshare_command() -> list[str]:
    installed = Path(sys.executable).parent / "jobshare"
    return [str(installed)] if installed.exists() else [sys.executable, "-P", "-m", "jobshare_sync"]


def run(args: list[str], env: dict[str, str]) -> str:
    proc = subprocess.run(args, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed ({proc.returncode}): {proc.stderr.strip()}")
    return proc.stdout


def timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def vobject_parse(path: Path) -> int:
    """The reference: vobject reads every card and we visit each property once."""
    import vobject

    count = 0
    with open(path, encoding="utf-8") as f:
        for component in vobject.readComponents(f, ignoreUnreadable=True):
            for _ in component.getChildren():
                pass
            count += 1
    return count


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python benchmarks/import_cards.py", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--cards", type=int, default=10_000, help="cards (default 10,000)")
    parser.add_argument("--runs", type=int, default=3, help="runs, median taken (default 3)")
    options = parser.parse_args(argv)
    jobshare = jobshare_command()
    rows: dict[str, list[float]] = {"import": [], "again": [], "vobject": []}
    with tempfile.TemporaryDirectory(prefix="jobshare-import-bench-") as tmp:
        work = Path(tmp)
        home = work / "home"
        home.mkdir()
        (home / ".gitconfig").write_text("[user]\n\tname = Bench\n\temail = bench@example.com\n")
        env = {**os.environ, "HOME": str(home), "GIT_CONFIG_GLOBAL": str(home / ".gitconfig")}
        env["GIT_CONFIG_NOSYSTEM"] = "1"
        cards = work / "contacts.vcf"
        write_cards(cards, options.cards)
        size = cards.stat().st_size / 1024 / 1024
        print(f"{options.cards} cards, {size:.1f} MiB; {options.runs} run(s)", file=sys.stderr)
        for n in range(options.runs):
            repo = work / f"repo{n}"
            run([*jobshare, "init", str(repo), "--handle", "bench", "--name", "Bench"], env)
            rows["import"].append(
                timed(
                    lambda repo=repo: run([*jobshare, "-C", str(repo), "import", str(cards)], env)
                )
            )
            rows["again"].append(
                timed(
                    lambda repo=repo: run([*jobshare, "-C", str(repo), "import", str(cards)], env)
                )
            )
            rows["vobject"].append(timed(lambda: vobject_parse(cards)))
            print(
                f"run {n + 1}: " + ", ".join(f"{k} {v[-1]:.2f} s" for k, v in rows.items()),
                file=sys.stderr,
            )
    median = {k: statistics.median(v) for k, v in rows.items()}
    reference = median["vobject"]
    print(f"| {options.cards:,} cards | seconds | cards/s | × vobject's plain parse |")
    print("|---|---|---|---|")
    for key, label in (
        ("import", "`jobshare import` into an empty repository"),
        ("again", "`jobshare import` of the same file again (nothing changes)"),
        ("vobject", "vobject, plain parse (reference)"),
    ):
        seconds = median[key]
        print(
            f"| {label} | {seconds:.2f} | {options.cards / seconds:,.0f} | "
            f"{seconds / reference:.1f}× |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
