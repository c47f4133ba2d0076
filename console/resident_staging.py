"""The import's first step (see `console/resident_import.py`): the file read, checked and staged; its rejections."""

from __future__ import annotations

import asyncio
import itertools
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Protocol

from console.i18n import t
from console.resident_csv import ImportRefused, Lines, header_map, is_blank, numbered_records, open_file
from console.resident_rows import REQUIRED, Problem, RecordChecker
from console.residents import COLUMNS

STAGING_BUFFER_ROWS = 5_000
STAGING_CACHE_KIB = 16_384


class RowChecker(Protocol):
    def check(self, raw: Sequence[str]) -> tuple[tuple | None, list[Problem]]: ...


@dataclass(frozen=True)
class FileKind:
    """What a file holds: its columns (the NIK first) and those required."""

    columns: tuple[str, ...]
    required: frozenset[str]


RESIDENTS = FileKind(COLUMNS, REQUIRED)


@dataclass(frozen=True)
class RowRejection:
    row: int  # as a spreadsheet numbers it: the header is row 1
    problems: tuple[Problem, ...]

    def line(self, file_name: str) -> str:
        return t("residents.rejected_row", file=file_name, row=self.row, problems="; ".join(map(str, self.problems)))


class Staging:
    """The first step: the file read once, each row checked, the valid rows kept in NIK order in a private
    temporary SQLite database, with every rejection; the NIKs written twice are found before anything is written.

    Nothing of it stays in memory but one small buffer, whatever the file's size.
    """

    def __init__(
        self,
        path: Path,
        today: date,
        kind: FileKind = RESIDENTS,
        checker: RowChecker | None = None,
        as_line: Callable[[int, tuple], str] | None = None,
    ) -> None:
        """`as_line(row, fields)`: keep each valid row as that one text (with its NIK), not as its fields; the
        rows are then read back by `next_values("line", …)` (a ledger's COPY text, console/resident_copy.py)."""
        self.path = path
        self.columns = kind.columns
        self.kind = kind
        self._as_line = as_line
        self._staged_width = 3 if as_line else len(self.columns) + 1
        self.rows = 0
        self.sha256 = ""
        self._db = sqlite3.connect("", check_same_thread=False)  # "" = private, on disk, removed when closed
        self._db.create_function("doubled_reason", 1, lambda rows: t("residents.doubled_nik", rows=rows))
        # A scratch copy, rebuilt by importing again: it needs no journal and no syncing.
        for pragma in ("journal_mode = OFF", "synchronous = OFF", f"cache_size = {-STAGING_CACHE_KIB}"):
            self._db.execute(f"PRAGMA {pragma}")
        kept = "nik, line" if as_line else ", ".join(self.columns)
        self._db.execute(f"CREATE TABLE staged (row INTEGER NOT NULL, {kept})")
        self._db.execute("CREATE TABLE other_niks (nik TEXT NOT NULL, row INTEGER NOT NULL)")
        self._db.execute("CREATE TABLE rejected (row INTEGER NOT NULL, column TEXT, reason TEXT NOT NULL)")
        self._checker: RowChecker = checker or RecordChecker(path.resolve().parent, today)
        self._cursor: sqlite3.Cursor | None = None

    def close(self) -> None:
        self._db.close()

    def read(self) -> None:
        """Read and check the whole file (refusing it, with ImportRefused, if it cannot be imported at all)."""
        staged: list[tuple] = []
        others: list[tuple[str, int]] = []
        rejected: list[tuple[int, str | None, str]] = []
        with open_file(self.path) as f:
            lines = Lines(f)
            records = numbered_records(lines, self.path)
            first = next(records, None)
            header = header_map(None if first is None else first[1], self.path, self.columns, self.kind.required)
            positions = [header.get(column) for column in self.columns]
            width = len(header)
            as_line = self._as_line
            for row, record in records:
                if isinstance(record, Problem):
                    problems = [record]
                elif is_blank(record):
                    continue
                elif len(record) != width:
                    problems = [Problem(None, t("residents.field_count", count=len(record), columns=width))]
                else:
                    raw = [record[i] if i is not None else "" for i in positions]
                    data, problems = self._checker.check(raw)
                    if data is not None:
                        staged.append((row, *data) if as_line is None else (row, data[0], as_line(row, data)))
                    elif nik := raw[0].strip(" "):
                        others.append((nik, row))
                self.rows += 1
                if problems:
                    rejected.extend((row, p.column, p.reason) for p in problems)
                if len(staged) >= STAGING_BUFFER_ROWS or len(rejected) >= STAGING_BUFFER_ROWS:
                    self._flush(staged, others, rejected)
            self._flush(staged, others, rejected)
            self.sha256 = lines.digest.hexdigest()
        if self.rows == 0:
            raise ImportRefused(t("residents.no_rows", file=self.path))
        self._reject_doubled()

    def _flush(self, staged: list[tuple], others: list[tuple[str, int]], rejected: list[tuple]) -> None:
        self._db.executemany(f"INSERT INTO staged VALUES ({', '.join('?' * self._staged_width)})", staged)
        self._db.executemany("INSERT INTO other_niks VALUES (?, ?)", others)
        self._db.executemany("INSERT INTO rejected VALUES (?, ?, ?)", rejected)
        staged.clear()
        others.clear()
        rejected.clear()

    def _reject_doubled(self) -> None:
        """A NIK on two rows rejects both, whatever else is wrong with either."""
        db = self._db
        db.execute("CREATE INDEX staged_by_nik ON staged (nik)")
        db.execute(
            "CREATE TABLE doubled AS SELECT nik, group_concat(row, ', ') AS rows FROM ("
            "  SELECT nik, row FROM staged WHERE nik IN ("
            "    SELECT nik FROM staged GROUP BY nik HAVING count(*) > 1 UNION SELECT nik FROM other_niks)"
            "  UNION ALL SELECT nik, row FROM other_niks ORDER BY nik, row"
            ") GROUP BY nik HAVING count(*) > 1"
        )
        db.execute(
            "INSERT INTO rejected SELECT row, 'nik', doubled_reason(doubled.rows) FROM "
            "(SELECT nik, row FROM staged UNION ALL SELECT nik, row FROM other_niks) AS any_row "
            "JOIN doubled USING (nik)"
        )
        db.execute("DELETE FROM staged WHERE nik IN (SELECT nik FROM doubled)")

    @property
    def rejected_rows(self) -> int:
        return self._db.execute("SELECT count(DISTINCT row) FROM rejected").fetchone()[0]

    def next_batch(self, size: int) -> list[tuple[int, tuple]]:
        """The next `size` valid rows in NIK order, as (row number, fields in COLUMNS order); empty at the end."""
        return [(r[0], r[1:]) for r in self._ordered(f"row, {', '.join(self.columns)}").fetchmany(size)]

    def next_values(self, expression: str, size: int) -> list[tuple]:
        """The next `size` valid rows in NIK order, each as the values of `expression` (SQL over the staged
        columns and `row`); empty at the end. A reading is either this or `next_batch`, not both."""
        return self._ordered(expression).fetchmany(size)

    def _ordered(self, select: str) -> sqlite3.Cursor:
        if self._cursor is None:
            self._cursor = self._db.execute(f"SELECT {select} FROM staged ORDER BY nik")
        return self._cursor

    def reject(self, rejections: list[tuple[int, str | None, str]]) -> None:
        self._db.executemany("INSERT INTO rejected VALUES (?, ?, ?)", rejections)

    async def tell_rejections(self, on_reject: Callable[[RowRejection], None]) -> None:
        """Every rejected row to `on_reject`, in row order, read a thousand at a time off the event loop: a file of
        bad rows is never held in memory whole."""
        rejections = self.rejections()
        while chunk := await asyncio.to_thread(lambda: list(itertools.islice(rejections, 1000))):
            for rejection in chunk:
                on_reject(rejection)

    def rejections(self) -> Iterator[RowRejection]:
        """Every rejected row, in row order, with its problems in the order they were found."""
        row = 0  # no row before the first: problems is empty until one is read
        problems: list[Problem] = []
        ordered = self._db.execute("SELECT row, column, reason FROM rejected ORDER BY row, rowid")
        for number, column, reason in ordered:
            if number != row and problems:
                yield RowRejection(row, tuple(problems))
                problems = []
            row = number
            problems.append(Problem(column, reason))
        if problems:
            yield RowRejection(row, tuple(problems))
