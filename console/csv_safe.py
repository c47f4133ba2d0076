"""Every CSV the station writes goes through here, so that a spreadsheet never runs a cell as a formula.

OWASP's rule for CSV injection: a cell that begins with `=`, `+`, `-`, `@`, a tab or a carriage return is
prefixed with a single quote, which spreadsheets show as text. Nothing legitimate changes: a NIK, a card counter,
a date or an allocation id never begins with one of them, and the station writes no negative numbers (numbers are
written as numbers, never touched). The one exception is a cell that is exactly `-`, the register's mark for
"unknown" (a blood type): no spreadsheet reads it as a formula. Only a free-text field (an operator's note, a
name) can begin so, and there the quote is the point.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping
from typing import Any, TextIO

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
UNKNOWN = "-"


def safe_cell(value: Any) -> Any:
    """The cell as written: a text that a spreadsheet would take for a formula gets a leading `'`."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS) and value != UNKNOWN:
        return "'" + value
    return value


def safe_row(row: Iterable[Any]) -> list[Any]:
    return [safe_cell(value) for value in row]


class SafeWriter:
    """csv.writer with every cell made safe."""

    def __init__(self, stream: TextIO, **options: Any) -> None:
        self._writer = csv.writer(stream, **options)

    def writerow(self, row: Iterable[Any]) -> Any:
        return self._writer.writerow(safe_row(row))

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


class SafeDictWriter(csv.DictWriter):
    """csv.DictWriter with every cell made safe."""

    def writerow(self, rowdict: Mapping[str, Any]) -> Any:
        return super().writerow({name: safe_cell(value) for name, value in rowdict.items()})

    def writerows(self, rowdicts: Iterable[Mapping[str, Any]]) -> None:
        for rowdict in rowdicts:
            self.writerow(rowdict)
