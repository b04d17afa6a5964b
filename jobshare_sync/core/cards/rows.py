"""One CSV row as cells by column name, and the helpers every CSV format's reader uses."""

from __future__ import annotations

import re
from collections.abc import Iterator

from .model import ContactBuilder

MULTI = " ::: "  # Google's separator of several values in one cell


class Row:
    """One row's cells by column name (case-insensitive), remembering which were used."""

    def __init__(self, header: list[str], cells: list[str]) -> None:
        self.header = header
        self.cells = cells
        self.columns: dict[str, list[int]] = {}
        for i, name in enumerate(header):
            self.columns.setdefault(name.strip().lower(), []).append(i)
        self.used: set[int] = set()

    def values(self, name: str) -> list[str]:
        """Every non-empty cell of the columns called `name`; marks them used."""
        found = []
        for i in self.columns.get(name.lower(), []):
            self.used.add(i)
            if i < len(self.cells) and self.cells[i].strip():
                found.append(self.cells[i].strip())
        return found

    def mark(self, *names: str) -> None:
        """Count the columns `names` as used (labels and other cells that only qualify)."""
        for name in names:
            self.used.update(self.columns.get(name.lower(), []))

    def release(self, *names: str) -> None:
        """Count the columns `names` as ignored after all (a second address, say)."""
        for name in names:
            self.used.difference_update(self.columns.get(name.lower(), []))

    def get(self, *names: str) -> str:
        """The first non-empty cell among the columns `names` (all are marked used)."""
        found = [v for name in names for v in self.values(name)]
        return found[0] if found else ""

    def numbered(self, pattern: str) -> list[tuple[int, str]]:
        """(number, column) for columns like `E-mail 2 - Value`, `pattern` with one group."""
        regex = re.compile(pattern, re.IGNORECASE)
        found: dict[int, str] = {}
        for name in self.header:
            if m := regex.fullmatch(name.strip()):
                found.setdefault(int(m[1]), name.strip())
        return sorted(found.items())

    def unused(self) -> Iterator[str]:
        for i, cell in enumerate(self.cells):
            if i not in self.used and cell.strip():
                yield self.header[i].strip() if i < len(self.header) else f"column {i + 1}"


def split_cell(text: str, separator: str = MULTI) -> list[str]:
    return [part.strip() for part in text.split(separator) if part.strip()]


def name_by_organisation(row: Row, b: ContactBuilder, *columns: str) -> bool:
    """Name a row without a person's name by its organisation; True when it did."""
    if "name" in b.values:
        return False
    return b.set_line("name", row.get(*columns), columns[0])
