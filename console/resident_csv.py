"""Reading a residents CSV file: its lines checked for UTF-8 and length, then csv records numbered as a
spreadsheet shows them, and the header checked against files.md."""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO

from console.errors import UsageError
from console.formats import os_error
from console.i18n import t
from console.resident_rows import REQUIRED, Problem
from console.residents import COLUMNS

MAX_LINE_BYTES = 1 << 20  # a longer line is refused without being held in memory
MAX_FIELD_CHARS = 1 << 16  # csv's own limit, for a field spanning lines (an unclosed quote)
_BOM = b"\xef\xbb\xbf"


class ImportRefused(UsageError):
    """The file as a whole cannot be imported (not found, not UTF-8, bad header, no rows); nothing was changed."""


class _LineTooLong(Exception):
    pass


class _NotUtf8(Exception):
    def __init__(self, line: int, offset: int, byte: int) -> None:
        super().__init__(line, offset, byte)
        self.line, self.offset, self.byte = line, offset, byte


class Lines:
    """The file's lines as text, for csv.reader: each checked to be UTF-8 and at most MAX_LINE_BYTES long.

    A class, not a generator, because it raises for a bad line and must go on afterwards.
    """

    def __init__(self, f: IO[bytes]) -> None:
        self._f = f
        self.digest = hashlib.sha256()
        self.line = 0
        self._offset = 0

    def __iter__(self) -> Lines:
        return self

    def __next__(self) -> str:
        raw = self._f.readline(MAX_LINE_BYTES + 1)
        if not raw:
            raise StopIteration
        start = self._offset
        self._offset += len(raw)
        self.line += 1
        self.digest.update(raw)
        if len(raw) > MAX_LINE_BYTES and not raw.endswith(b"\n"):
            del raw
            self._skip_rest_of_line()
            raise _LineTooLong
        if start == 0 and raw.startswith(_BOM):
            raw, start = raw[len(_BOM) :], len(_BOM)
            if not raw:  # a file of a byte-order mark alone is empty
                raise StopIteration
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise _NotUtf8(self.line, start + exc.start, raw[exc.start]) from None

    def _skip_rest_of_line(self) -> None:
        while True:
            chunk = self._f.readline(1 << 16)
            self._offset += len(chunk)
            self.digest.update(chunk)
            if not chunk or chunk.endswith(b"\n"):
                return


def numbered_records(lines: Lines, path: Path) -> Iterator[tuple[int, list[str] | Problem]]:
    """(row number, fields) for each csv record, or (row number, Problem) for a record that cannot be read."""
    csv.field_size_limit(MAX_FIELD_CHARS)
    reader = csv.reader(lines, strict=True)
    row = 0
    while True:
        try:
            record: list[str] | Problem = next(reader)
        except StopIteration:
            return
        except _LineTooLong:
            record = Problem(None, t("residents.line_too_long", limit=MAX_LINE_BYTES))
        except csv.Error as exc:
            record = Problem(None, t("residents.csv_error", error=exc))
        except _NotUtf8 as exc:
            raise ImportRefused(
                t(
                    "residents.not_utf8",
                    file=path,
                    row=row + 1,
                    line=exc.line,
                    offset=exc.offset,
                    byte=f"0x{exc.byte:02X}",
                )
            ) from None
        row += 1
        yield row, record


def open_file(path: Path) -> IO[bytes]:
    try:
        return open(path, "rb")
    except FileNotFoundError:
        raise ImportRefused(t("residents.file_missing", file=path)) from None
    except IsADirectoryError:
        raise ImportRefused(t("residents.file_is_dir", file=path)) from None
    except OSError as exc:
        raise ImportRefused(t("residents.file_unreadable", file=path, error=os_error(exc))) from None


def header_map(
    record: list[str] | Problem | None,
    path: Path,
    columns: Sequence[str] = COLUMNS,
    required: frozenset[str] = REQUIRED,
) -> dict[str, int]:
    """Each column's position in the header; the file is refused for a doubled, unknown or missing column."""
    if record is None:
        raise ImportRefused(t("residents.empty_file", file=path))
    if isinstance(record, Problem):
        raise ImportRefused(t("residents.bad_header", file=path, why=record.reason))
    if not record or not any(name.strip() for name in record):
        raise ImportRefused(t("residents.blank_header", file=path))
    seen: dict[str, int] = {}
    doubled = []
    for index, name in enumerate(record):
        if name in seen:
            doubled.append(name)
        seen.setdefault(name, index)
    if doubled:
        raise ImportRefused(t("residents.doubled_columns", file=path, columns=_names(doubled)))
    unknown = [name for name in record if name not in columns]
    if unknown:
        known = ", ".join(columns)
        raise ImportRefused(t("residents.unknown_columns", file=path, columns=_names(unknown), known=known))
    missing = [name for name in columns if name in required and name not in seen]
    if missing:
        raise ImportRefused(t("residents.missing_columns", file=path, columns=_names(missing)))
    return seen


def _names(names: Sequence[str]) -> str:
    return ", ".join(f'"{name}"' for name in names)


def is_blank(record: list[str]) -> bool:
    return not "".join(record).strip(" ")
