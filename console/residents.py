"""Recorded residents: the checks on one record, the streamed CSV import (files.md), and the queries.

The import works in two steps and never holds more than one batch of rows in memory:
1. staging: the file is read once, as a stream; the header is checked, then every row, and the valid rows are
   kept in a private temporary SQLite file, with the rejections. A file that cannot be imported at all (not
   UTF-8, a bad header, no rows) is refused here, before anything is written. A NIK written on two rows is found
   here too, and both rows are rejected.
2. writing: the staged rows are written in NIK order (so that each page of the table is visited about once), in
   batches of one transaction each, so that the printing process never waits long for the database. A NIK that
   has been printed is checked inside the batch's transaction. The audit entry is written in the last batch's
   transaction.
A batch is written whole or not at all, and a row whose data equal what is stored is left untouched: after a
crash the database holds whole, valid rows, and importing the same file again finishes the job and changes
nothing twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import hashlib
import itertools
import re
import sqlite3
import unicodedata
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import date
from pathlib import Path
from typing import IO, Any

from console.clock import now_iso
from console.errors import UsageError
from console.i18n import t
from console.logs import get_logger
from console.nik import SEXES, NikError, check_record_against_nik, parse_nik
from console.store import Store

COLUMNS = (
    "nik", "nama", "tempat_lahir", "tanggal_lahir", "jenis_kelamin", "gol_darah", "alamat", "rt", "rw",
    "kel_desa", "kecamatan", "agama", "status_perkawinan", "pekerjaan", "kewarganegaraan", "berlaku_hingga",
    "lokasi_perekaman", "tanggal_perekaman", "foto",
)  # fmt: skip
REQUIRED = frozenset({
    "nik", "nama", "tempat_lahir", "tanggal_lahir", "jenis_kelamin", "alamat", "rt", "rw", "kel_desa",
    "kecamatan", "agama", "status_perkawinan", "pekerjaan",
})  # fmt: skip
AGAMA = ("ISLAM", "KRISTEN", "KATOLIK", "HINDU", "BUDDHA", "KHONGHUCU", "KEPERCAYAAN TERHADAP TUHAN YME")
STATUS_PERKAWINAN = ("BELUM KAWIN", "KAWIN", "CERAI HIDUP", "CERAI MATI")
KEWARGANEGARAAN = ("WNI", "WNA")
SEUMUR_HIDUP = "SEUMUR HIDUP"
NAMA_MAX = 60
TEXT_MAX = 100  # any other free text: a card has room for no more
FOTO_MAX = 1000

BATCH_ROWS = 20_000
STAGING_BUFFER_ROWS = 5_000
STAGING_CACHE_KIB = 16_384
IMPORT_CACHE_KIB = 65_536  # SQLite's page cache while importing (default 2 MiB): a million rows touch many pages
MAX_LINE_BYTES = 1 << 20  # a longer line is refused without being held in memory
MAX_FIELD_CHARS = 1 << 16  # csv's own limit, for a field spanning lines (an unclosed quote)
_BOM = b"\xef\xbb\xbf"
_JPEG = b"\xff\xd8\xff"
_PNG = b"\x89PNG\r\n\x1a\n"
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}\Z")
_RT_RW = re.compile(r"[0-9]{1,3}\Z")
_GOL_DARAH = re.compile(r"(?:(?:A|B|AB|O)[+-]?|-)\Z")
_ASCII_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_CONTROL_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})  # controls, invisible format marks, separators
_SQL_IN_CHUNK = 5_000  # host parameters a statement (SQLite allows 32,766)

log = get_logger("residents")


@dataclass(frozen=True)
class Resident:
    nik: str
    nama: str
    tempat_lahir: str
    tanggal_lahir: str
    jenis_kelamin: str
    gol_darah: str
    alamat: str
    rt: str
    rw: str
    kel_desa: str
    kecamatan: str
    agama: str
    status_perkawinan: str
    pekerjaan: str
    kewarganegaraan: str
    berlaku_hingga: str
    lokasi_perekaman: str | None
    tanggal_perekaman: str | None
    foto: str | None
    source: str | None = None
    imported_at: str | None = None
    updated_at: str | None = None

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> "Resident":
        return cls(**{f.name: row[f.name] for f in fields(cls)})

    def data(self) -> tuple[Any, ...]:
        """The recorded fields, in COLUMNS order (what an import compares and writes)."""
        return tuple(getattr(self, column) for column in COLUMNS)


@dataclass(frozen=True)
class Problem:
    """Why a row is rejected: the column at fault (None for the row as a whole) and the reason."""

    column: str | None
    reason: str

    def __str__(self) -> str:
        if self.column is None:
            return self.reason
        return t("residents.problem", column=self.column, reason=self.reason)


class RecordRejected(ValueError):
    def __init__(self, problems: Sequence[Problem]) -> None:
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = tuple(problems)


class ImportRefused(UsageError):
    """The file as a whole cannot be imported (not found, not UTF-8, bad header, no rows); nothing was changed."""


@dataclass(frozen=True)
class RowRejection:
    row: int  # as a spreadsheet numbers it: the header is row 1
    problems: tuple[Problem, ...]

    def line(self, file_name: str) -> str:
        return t("residents.rejected_row", file=file_name, row=self.row, problems="; ".join(map(str, self.problems)))


@dataclass(frozen=True)
class ImportResult:
    file: Path
    sha256: str
    rows: int
    added: int
    updated: int
    unchanged: int
    rejected: int

    def summary(self) -> str:
        return t(
            "residents.import_summary", file=self.file.name, rows=self.rows, added=self.added,
            updated=self.updated, unchanged=self.unchanged, rejected=self.rejected,
        )  # fmt: skip


# ---------------------------------------------------------------------------------------------------------------
# One record


def validate_record(
    raw: Mapping[str, str | None], *, base_dir: Path | None = None, today: date | None = None
) -> Resident:
    """Check one record (column → text, as in the import file); return it normalised or raise RecordRejected.

    `base_dir` is where a relative `foto` path starts (the CSV file's folder).
    """
    checker = _RecordChecker(base_dir or Path.cwd(), today or date.today())
    data, problems = checker.check([raw.get(column) or "" for column in COLUMNS])
    if data is None:
        raise RecordRejected(problems)
    return Resident(*data)


class _RecordChecker:
    """The checks of one record, set up once for a whole file (the import runs them a million times)."""

    def __init__(self, base_dir: Path, today: date) -> None:
        self.base_dir = base_dir
        self.today = today
        self._required = [(i, c) for i, c in enumerate(COLUMNS) if c in REQUIRED]

    def check(self, raw: Sequence[str]) -> tuple[tuple | None, list[Problem]]:
        """`raw`: the record's texts in COLUMNS order. Returns its fields normalised, or None and every problem."""
        values = [value.strip(" ") for value in raw]
        problems: list[Problem] = []
        joined = "".join(values)
        if not joined.isascii() or _ASCII_CONTROL.search(joined):
            for column, value in zip(COLUMNS, values):
                if _has_control(value):
                    problems.append(Problem(column, _control_reason(value)))
        for index, column in self._required:
            if not values[index]:
                problems.append(Problem(column, t("residents.required")))
        if problems:
            return None, problems
        (nik_text, nama, tempat_lahir, tanggal_lahir, jenis_kelamin, gol_darah, alamat, rt, rw, kel_desa, kecamatan,
         agama, status, pekerjaan, warga, berlaku, lokasi, tanggal_perekaman, foto) = values  # fmt: skip
        today = self.today

        nik = None
        try:
            nik = parse_nik(nik_text, today)
        except NikError as exc:
            problems.append(Problem("nik", str(exc)))
        _limit(problems, "nama", nama, NAMA_MAX)
        born = _date(problems, "tanggal_lahir", tanggal_lahir)
        if born is not None and born > today:
            problems.append(Problem("tanggal_lahir", t("residents.future", value=tanggal_lahir)))
        sex = _choice(problems, "jenis_kelamin", jenis_kelamin, SEXES)
        gol_darah = gol_darah.upper() or "-"
        if not _GOL_DARAH.match(gol_darah):
            problems.append(Problem("gol_darah", t("residents.gol_darah", value=values[5])))
        for column, value in (("tempat_lahir", tempat_lahir), ("alamat", alamat), ("kel_desa", kel_desa),
                              ("kecamatan", kecamatan), ("pekerjaan", pekerjaan), ("lokasi_perekaman", lokasi)):
            _limit(problems, column, value, TEXT_MAX)
        rt, rw = _rt_rw(problems, "rt", rt), _rt_rw(problems, "rw", rw)
        agama = _choice(problems, "agama", agama, AGAMA)
        status = _choice(problems, "status_perkawinan", status, STATUS_PERKAWINAN)
        warga = _choice(problems, "kewarganegaraan", warga or "WNI", KEWARGANEGARAAN)
        if not berlaku or berlaku == SEUMUR_HIDUP or _canonical(berlaku) == SEUMUR_HIDUP:
            berlaku = SEUMUR_HIDUP
        else:
            until = _date(problems, "berlaku_hingga", berlaku)
            if until is not None and until <= today:
                problems.append(Problem("berlaku_hingga", t("residents.expired", value=berlaku)))
        recorded = _date(problems, "tanggal_perekaman", tanggal_perekaman)
        if recorded is not None and recorded > today:
            problems.append(Problem("tanggal_perekaman", t("residents.future", value=tanggal_perekaman)))
        elif recorded is not None and born is not None and recorded < born:
            problems.append(Problem("tanggal_perekaman", t("residents.before_birth", value=tanggal_perekaman)))
        if foto:
            foto = _photo(foto, self.base_dir, problems)
        if nik is not None:
            sex_known = sex if sex in SEXES else None
            for mismatch in check_record_against_nik(nik, birth_date=born, sex=sex_known, kecamatan=kecamatan):
                problems.append(Problem(mismatch.column, mismatch.reason))
        if problems:
            return None, problems
        data = (nik_text, nama, tempat_lahir, tanggal_lahir, sex, gol_darah, alamat, rt, rw, kel_desa, kecamatan,
                agama, status, pekerjaan, warga, berlaku, lokasi or None, tanggal_perekaman or None, foto or None)
        return data, problems  # fmt: skip


def _canonical(value: str) -> str:
    return " ".join(value.split()).upper()


def _limit(problems: list[Problem], column: str, value: str, limit: int) -> None:
    if len(value) > limit:
        problems.append(Problem(column, t("residents.too_long", count=len(value), limit=limit)))


def _choice(problems: list[Problem], column: str, value: str, allowed: Sequence[str]) -> str:
    if value in allowed:
        return value
    canonical = _canonical(value)
    if canonical not in allowed:
        problems.append(Problem(column, t("residents.not_one_of", value=value, allowed=", ".join(allowed))))
    return canonical


def _date(problems: list[Problem], column: str, value: str) -> date | None:
    if not value:
        return None
    if not _DATE.match(value):
        problems.append(Problem(column, t("residents.date_format", value=value)))
        return None
    try:
        return date(int(value[:4]), int(value[5:7]), int(value[8:]))
    except ValueError:
        problems.append(Problem(column, t("residents.date_impossible", value=value)))
        return None


def _rt_rw(problems: list[Problem], column: str, value: str) -> str:
    if not _RT_RW.match(value):
        problems.append(Problem(column, t("residents.rt_rw", value=value)))
        return value
    return value.zfill(3)


def _has_control(value: str) -> bool:
    if value.isascii():
        return _ASCII_CONTROL.search(value) is not None
    return any(unicodedata.category(c) in _CONTROL_CATEGORIES for c in value)


def _control_reason(value: str) -> str:
    for position, char in enumerate(value, start=1):
        if _has_control(char):
            return t("residents.control_char", code=f"U+{ord(char):04X}", position=position)
    raise AssertionError("no control character found")  # only called after _has_control said yes


def _photo(value: str, base_dir: Path, problems: list[Problem]) -> str | None:
    if len(value) > FOTO_MAX:
        problems.append(Problem("foto", t("residents.too_long", count=len(value), limit=FOTO_MAX)))
        return None
    path = base_dir / value
    try:
        if not path.is_file():
            key = "residents.photo_missing" if not path.exists() else "residents.photo_not_file"
            problems.append(Problem("foto", t(key, path=path)))
            return None
        with open(path, "rb") as f:
            head = f.read(len(_PNG))
    except OSError as exc:
        problems.append(Problem("foto", t("residents.photo_unreadable", path=path, error=exc.strerror or exc)))
        return None
    if not (head.startswith(_JPEG) or head == _PNG):
        problems.append(Problem("foto", t("residents.photo_format", path=path)))
        return None
    return str(path.resolve())


# ---------------------------------------------------------------------------------------------------------------
# Reading the file: lines checked for UTF-8 and length, then csv records numbered as a spreadsheet shows them


class _LineTooLong(Exception):
    pass


class _NotUtf8(Exception):
    def __init__(self, line: int, offset: int, byte: int) -> None:
        super().__init__(line, offset, byte)
        self.line, self.offset, self.byte = line, offset, byte


class _Lines:
    """The file's lines as text, for csv.reader: each checked to be UTF-8 and at most MAX_LINE_BYTES long.

    A class, not a generator, because it raises for a bad line and must go on afterwards.
    """

    def __init__(self, f: IO[bytes]) -> None:
        self._f = f
        self.digest = hashlib.sha256()
        self.line = 0
        self._offset = 0

    def __iter__(self) -> "_Lines":
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
            raw, start = raw[len(_BOM):], len(_BOM)
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


def _records(lines: _Lines, path: Path) -> Iterator[tuple[int, list[str] | Problem]]:
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
                t("residents.not_utf8", file=path, row=row + 1, line=exc.line, offset=exc.offset,
                  byte=f"0x{exc.byte:02X}")  # fmt: skip
            ) from None
        row += 1
        yield row, record


def _open(path: Path) -> IO[bytes]:
    try:
        return open(path, "rb")
    except FileNotFoundError:
        raise ImportRefused(t("residents.file_missing", file=path)) from None
    except IsADirectoryError:
        raise ImportRefused(t("residents.file_is_dir", file=path)) from None
    except OSError as exc:
        raise ImportRefused(t("residents.file_unreadable", file=path, error=exc.strerror or exc)) from None


def _header_map(record: list[str] | Problem | None, path: Path) -> dict[str, int]:
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
    unknown = [name for name in record if name not in COLUMNS]
    if unknown:
        known = ", ".join(COLUMNS)
        raise ImportRefused(t("residents.unknown_columns", file=path, columns=_names(unknown), known=known))
    missing = [name for name in COLUMNS if name in REQUIRED and name not in seen]
    if missing:
        raise ImportRefused(t("residents.missing_columns", file=path, columns=_names(missing)))
    return seen


def _names(names: Sequence[str]) -> str:
    return ", ".join(f'"{name}"' for name in names)


def _is_blank(record: list[str]) -> bool:
    return not "".join(record).strip(" ")


class _Staging:
    """The first step: the file read once, each row checked, the valid rows kept in NIK order in a private
    temporary SQLite database, with every rejection; the NIKs written twice are found before anything is written.

    Nothing of it stays in memory but one small buffer, whatever the file's size.
    """

    def __init__(self, path: Path, today: date) -> None:
        self.path = path
        self.rows = 0
        self.sha256 = ""
        self._db = sqlite3.connect("", check_same_thread=False)  # "" = private, on disk, removed when closed
        self._db.create_function("doubled_reason", 1, lambda rows: t("residents.doubled_nik", rows=rows))
        # A scratch copy, rebuilt by importing again: it needs no journal and no syncing.
        for pragma in ("journal_mode = OFF", "synchronous = OFF", f"cache_size = {-STAGING_CACHE_KIB}"):
            self._db.execute(f"PRAGMA {pragma}")
        self._db.execute(f"CREATE TABLE staged (row INTEGER NOT NULL, {', '.join(COLUMNS)})")
        self._db.execute("CREATE TABLE other_niks (nik TEXT NOT NULL, row INTEGER NOT NULL)")
        self._db.execute("CREATE TABLE rejected (row INTEGER NOT NULL, column TEXT, reason TEXT NOT NULL)")
        self._checker = _RecordChecker(path.resolve().parent, today)
        self._cursor: sqlite3.Cursor | None = None

    def close(self) -> None:
        self._db.close()

    def read(self) -> None:
        """Read and check the whole file (refusing it, with ImportRefused, if it cannot be imported at all)."""
        staged: list[tuple] = []
        others: list[tuple[str, int]] = []
        rejected: list[tuple[int, str | None, str]] = []
        with _open(self.path) as f:
            lines = _Lines(f)
            records = _records(lines, self.path)
            first = next(records, None)
            header = _header_map(None if first is None else first[1], self.path)
            positions = [header.get(column) for column in COLUMNS]
            width = len(header)
            for row, record in records:
                if isinstance(record, Problem):
                    problems = [record]
                elif _is_blank(record):
                    continue
                elif len(record) != width:
                    problems = [Problem(None, t("residents.field_count", count=len(record), columns=width))]
                else:
                    raw = [record[i] if i is not None else "" for i in positions]
                    data, problems = self._checker.check(raw)
                    if data is not None:
                        staged.append((row, *data))
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
        self._db.executemany(f"INSERT INTO staged VALUES ({', '.join('?' * (len(COLUMNS) + 1))})", staged)
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
        if self._cursor is None:
            self._cursor = self._db.execute(f"SELECT row, {', '.join(COLUMNS)} FROM staged ORDER BY nik")
        return [(r[0], r[1:]) for r in self._cursor.fetchmany(size)]

    def reject(self, rejections: list[tuple[int, str | None, str]]) -> None:
        self._db.executemany("INSERT INTO rejected VALUES (?, ?, ?)", rejections)

    def rejections(self) -> Iterator[RowRejection]:
        """Every rejected row, in row order, with its problems in the order they were found."""
        row, problems = None, []
        ordered = self._db.execute("SELECT row, column, reason FROM rejected ORDER BY row, rowid")
        for number, column, reason in ordered:
            if number != row and problems:
                yield RowRejection(row, tuple(problems))
                problems = []
            row = number
            problems.append(Problem(column, reason))
        if problems:
            yield RowRejection(row, tuple(problems))


# ---------------------------------------------------------------------------------------------------------------
# The import

_INSERT = (
    f"INSERT INTO residents ({', '.join(COLUMNS)}, source, imported_at, updated_at) "
    f"VALUES ({', '.join('?' * (len(COLUMNS) + 3))})"
)
_UPDATE = (
    f"UPDATE residents SET {', '.join(f'{c} = ?' for c in COLUMNS[1:])}, source = ?, updated_at = ? WHERE nik = ?"
)


@dataclass
class _Counts:
    added: int = 0
    updated: int = 0
    unchanged: int = 0


async def import_residents(
    store: Store,
    path: Path | str,
    *,
    source: str | None = None,
    actor: str = "station",
    on_reject: Callable[[RowRejection], None] | None = None,
    today: date | None = None,
    batch_rows: int = BATCH_ROWS,
) -> ImportResult:
    """Import a residents CSV file (files.md); see the module's docstring for how it stays consistent.

    Each rejected row is passed to `on_reject`, in row order, once the import is done. A file that cannot be
    imported at all raises ImportRefused before anything is written.
    """
    path = Path(path)
    staging = _Staging(path, today or date.today())
    try:
        await asyncio.to_thread(staging.read)
        counts = await _write(store, staging, source, actor, batch_rows)
        rejected = await asyncio.to_thread(lambda: staging.rejected_rows)
        if on_reject is not None:
            rejections = staging.rejections()
            while chunk := await asyncio.to_thread(lambda: list(itertools.islice(rejections, 1000))):
                for rejection in chunk:
                    on_reject(rejection)
    finally:
        staging.close()
    result = ImportResult(path, staging.sha256, staging.rows, counts.added, counts.updated, counts.unchanged, rejected)
    log.info("residents_imported", file=str(path), rows=result.rows, added=result.added, updated=result.updated,
             unchanged=result.unchanged, rejected=result.rejected)  # fmt: skip
    return result


async def _write(store: Store, staging: _Staging, source: str | None, actor: str, batch_rows: int) -> _Counts:
    """Write the staged rows in NIK order, a batch a transaction; the audit entry goes with the last batch."""
    counts = _Counts()
    at = now_iso()
    cache_size = await _set_cache_size(store, -IMPORT_CACHE_KIB)
    try:
        current = await asyncio.to_thread(staging.next_batch, batch_rows)
        while True:
            following = await asyncio.to_thread(staging.next_batch, batch_rows) if current else []
            async with store.transaction(actor=actor) as tx:
                printed = await _write_batch(tx, current, counts, source, at)
                if not following:
                    rejected = await asyncio.to_thread(lambda: staging.rejected_rows) + len(printed)
                    await tx.audit(
                        "residents.imported", staging.path.name, path=str(staging.path.resolve()), source=source,
                        rows=staging.rows, added=counts.added, updated=counts.updated, unchanged=counts.unchanged,
                        rejected=rejected, sha256=staging.sha256,
                    )  # fmt: skip
            if printed:
                await asyncio.to_thread(staging.reject, [(row, "nik", t("residents.printed")) for row in printed])
            if not following:
                break
            current = following
    except BaseException:
        with contextlib.suppress(Exception):  # the first error is the one to report
            await _set_cache_size(store, cache_size)
        raise
    await _set_cache_size(store, cache_size)
    return counts


async def _set_cache_size(store: Store, size: int) -> int:
    """Set the writer's `PRAGMA cache_size` (negative: KiB, positive: pages); return the one it had."""
    async with store.transaction() as tx:
        previous = (await tx.fetchone("PRAGMA cache_size"))[0]
        await tx.execute(f"PRAGMA cache_size = {int(size)}")
    return previous


async def _write_batch(
    tx: Any, batch: list[tuple[int, tuple]], counts: _Counts, source: str | None, at: str
) -> list[int]:
    """Insert the new rows, update the changed ones that were never printed; return the rows refused as printed."""
    by_nik = {data[0]: data for _, data in batch}
    stored = await _stored_data(tx, list(by_nik)) if batch else {}
    changed = [nik for nik, data in stored.items() if data != by_nik[nik]]
    printed = await _printed(tx, changed) if changed else set()
    inserts, updates, refused = [], [], []
    for row, data in batch:
        nik = data[0]
        if nik not in stored:
            inserts.append((*data, source, at, at))
        elif nik in printed:
            refused.append(row)
        elif stored[nik] != data:
            updates.append((*data[1:], source, at, nik))
    if inserts:
        await tx.executemany(_INSERT, inserts)
    if updates:
        await tx.executemany(_UPDATE, updates)
    counts.added += len(inserts)
    counts.updated += len(updates)
    counts.unchanged += len(batch) - len(inserts) - len(updates) - len(refused)
    return refused


async def _stored_data(db: Any, niks: list[str]) -> dict[str, tuple[Any, ...]]:
    stored: dict[str, tuple[Any, ...]] = {}
    for start in range(0, len(niks), _SQL_IN_CHUNK):
        chunk = niks[start : start + _SQL_IN_CHUNK]
        marks = ",".join("?" * len(chunk))
        for row in await db.fetchall(f"SELECT {', '.join(COLUMNS)} FROM residents WHERE nik IN ({marks})", chunk):
            stored[row["nik"]] = tuple(row)
    return stored


async def _printed(db: Any, niks: list[str]) -> set[str]:
    """Which of these NIKs have had a blank spent on them, or are under the central lock."""
    found: set[str] = set()
    for start in range(0, len(niks), _SQL_IN_CHUNK):
        chunk = niks[start : start + _SQL_IN_CHUNK]
        marks = ",".join("?" * len(chunk))
        rows = await db.fetchall(
            f"SELECT nik FROM jobs WHERE nik IN ({marks}) AND allocation_id IS NOT NULL "
            f"UNION SELECT nik FROM nik_locks WHERE nik IN ({marks})",
            chunk + chunk,
        )
        found.update(row["nik"] for row in rows)
    return found


async def is_printed(db: Any, nik: str) -> bool:
    """A NIK counts as printed once a blank was spent on it or it is in the central lock table."""
    return bool(await _printed(db, [nik]))


# ---------------------------------------------------------------------------------------------------------------
# Queries


@dataclass(frozen=True)
class VillageCount:
    kecamatan: str
    kel_desa: str
    residents: int


_SELECT = f"SELECT {', '.join(f.name for f in fields(Resident))} FROM residents"
_LAST_CHAR = "\U0010ffff"  # sorts after any character: prefix P covers [P, P + _LAST_CHAR)


async def get_resident(store: Store, nik: str) -> Resident | None:
    row = await store.fetchone(f"{_SELECT} WHERE nik = ?", (nik,))
    return None if row is None else Resident.from_row(row)


async def search_residents(store: Store, text: str, limit: int = 50, offset: int = 0) -> list[Resident]:
    """Residents matching `text`: digits are a NIK prefix (in NIK order); anything else matches names, those that
    start with it first, then those that contain it (each in name order, case not minded). Empty text: everyone,
    by name. Prefixes use the indexes; "contains" walks the name index alone, in order, and stops once the page is
    full (a whole walk of a million names takes well under a second: see bench/README.md).
    """
    text = text.strip()
    if not text or text.isdigit() and text.isascii():
        where, params = _nik_prefix(text)
        rows = await store.fetchall(
            f"{_SELECT} WHERE {where} ORDER BY {'nik' if text else 'nama COLLATE NOCASE, nik'} LIMIT ? OFFSET ?",
            (*params, limit, offset),
        )
        return [Resident.from_row(r) for r in rows]
    prefix_where, prefix_params = _name_prefix(text)
    prefixed = await store.scalar(f"SELECT count(*) FROM residents WHERE {prefix_where}", prefix_params)
    found: list[Resident] = []
    if offset < prefixed:
        rows = await store.fetchall(
            f"{_SELECT} WHERE {prefix_where} ORDER BY nama COLLATE NOCASE, nik LIMIT ? OFFSET ?",
            (*prefix_params, limit, offset),
        )
        found = [Resident.from_row(r) for r in rows]
    if len(found) < limit:
        contains_where, contains_params = _name_contains(text)
        # Only the name index is walked (it holds nama and nik): reading each row as well is forty times slower.
        rows = await store.fetchall(
            f"{_SELECT} WHERE nik IN (SELECT nik FROM residents WHERE {contains_where} "
            "ORDER BY nama COLLATE NOCASE, nik LIMIT ? OFFSET ?) ORDER BY nama COLLATE NOCASE, nik",
            (*contains_params, limit - len(found), max(0, offset - prefixed)),
        )
        found += [Resident.from_row(r) for r in rows]
    return found


async def count_residents(store: Store, text: str | None = None) -> int:
    """How many residents there are, or how many `search_residents(text)` would find in all."""
    text = (text or "").strip()
    if not text:
        return await store.scalar("SELECT count(*) FROM residents")
    if text.isdigit() and text.isascii():
        where, params = _nik_prefix(text)
        return await store.scalar(f"SELECT count(*) FROM residents WHERE {where}", params)
    prefix_where, prefix_params = _name_prefix(text)
    contains_where, contains_params = _name_contains(text)
    prefixed = await store.scalar(f"SELECT count(*) FROM residents WHERE {prefix_where}", prefix_params)
    containing = await store.scalar(f"SELECT count(*) FROM residents WHERE {contains_where}", contains_params)
    return prefixed + containing


def _nik_prefix(digits: str) -> tuple[str, tuple[str, ...]]:
    if not digits:
        return "1", ()
    return "nik >= ? AND nik < ?", (digits, digits + ":")  # ':' follows '9'


def _name_prefix(text: str) -> tuple[str, tuple[str, ...]]:
    return "nama >= ? COLLATE NOCASE AND nama < ? COLLATE NOCASE", (text, text + _LAST_CHAR)


def _name_contains(text: str) -> tuple[str, tuple[str, ...]]:
    pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    prefix_where, prefix_params = _name_prefix(text)
    return f"nama LIKE ? ESCAPE '\\' AND NOT ({prefix_where})", (pattern, *prefix_params)


async def list_villages(store: Store, kecamatan: str | None = None) -> list[VillageCount]:
    """Every (kecamatan, kel_desa) that has residents, with how many, in order; optionally of one kecamatan."""
    if kecamatan is None:
        rows = await store.fetchall(
            "SELECT kecamatan, kel_desa, count(*) AS n FROM residents GROUP BY kecamatan, kel_desa "
            "ORDER BY kecamatan, kel_desa"
        )
    else:
        rows = await store.fetchall(
            "SELECT kecamatan, kel_desa, count(*) AS n FROM residents WHERE kecamatan = ? GROUP BY kel_desa "
            "ORDER BY kel_desa",
            (kecamatan,),
        )
    return [VillageCount(r["kecamatan"], r["kel_desa"], r["n"]) for r in rows]


async def residents_of_village(
    store: Store, kecamatan: str, kel_desa: str, limit: int = 50, offset: int = 0
) -> list[Resident]:
    rows = await store.fetchall(
        f"{_SELECT} WHERE kecamatan = ? AND kel_desa = ? ORDER BY nik LIMIT ? OFFSET ?",
        (kecamatan, kel_desa, limit, offset),
    )
    return [Resident.from_row(r) for r in rows]
