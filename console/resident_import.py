"""The streamed import of a residents CSV file (files.md), staged then written in NIK order.

The import works in two steps and never holds more than one batch of rows in memory:
1. staging (`console/resident_staging.py`): the file is read once, as a stream; the header is checked, then
   every row, and the valid rows are kept in a private temporary SQLite file, with the rejections. A file that
   cannot be imported at all (not UTF-8, a bad header, no rows) is refused here, before anything is written. A
   NIK written on two rows is found here too, and both rows are rejected.
2. writing: the staged rows are written in NIK order (so that each page of the table is visited about once), in
   batches of one transaction each, so that the printing process never waits long for the database. A NIK that
   has been printed, or is in the queue (its card may be laid out already), is refused by the lock rule
   (`locks.settled_among`) inside the batch's transaction. The audit entry is written in the last batch's
   transaction.
A batch is written whole or not at all, and a row whose data equal what is stored is left untouched: after a
crash the database holds whole, valid rows, and importing the same file again finishes the job and changes
nothing twice.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, ClassVar

from console import resident_copy
from console.clock import now_iso
from console.clock import today as station_today
from console.formats import count
from console.i18n import t
from console.locks import settled_among
from console.logs import get_logger
from console.resident_staging import RowRejection, Staging
from console.residents import COLUMNS, stored_data
from console.store import Store

BATCH_ROWS = 20_000
IMPORT_CACHE_KIB = 65_536  # SQLite's page cache while importing (default 2 MiB): a million rows touch many pages

log = get_logger("residents")


@dataclass(frozen=True)
class ImportResult:
    SUMMARY: ClassVar[str] = "residents.import_summary"  # the catalogue's sentence for this kind of file

    file: Path
    sha256: str
    rows: int
    added: int
    updated: int
    unchanged: int
    rejected: int

    def summary(self) -> str:
        return t(
            self.SUMMARY, file=self.file.name, rows=count(self.rows), added=count(self.added),
            updated=count(self.updated), unchanged=count(self.unchanged), rejected=count(self.rejected),
        )  # fmt: skip


_INSERT = (
    f"INSERT INTO residents ({', '.join(COLUMNS)}, source, imported_at, updated_at) "
    f"VALUES ({', '.join('?' * (len(COLUMNS) + 3))})"
)
_UPDATE = f"UPDATE residents SET {', '.join(f'{c} = ?' for c in COLUMNS[1:])}, source = ?, updated_at = ? WHERE nik = ?"


PROGRESS_EVERY_S = 0.25  # how often the reading's progress is looked at


def _data_lines(path: Path) -> int:
    """The file's lines after the header: the rows, as far as can be told before reading them (0 if it cannot be
    opened: the reading then says why)."""
    lines, last = 0, b"\n"
    try:
        with open(path, "rb") as f:
            while chunk := f.read(1 << 20):
                lines, last = lines + chunk.count(b"\n"), chunk
    except OSError:
        return 0
    return max(0, lines - 1 + (not last.endswith(b"\n")))


class _Progress:
    """Tells `on_progress` how many rows are done, a row being half done once read and whole once written."""

    def __init__(self, on_progress: Callable[[int, int], None] | None, staging: Staging) -> None:
        self.on_progress = on_progress
        self.staging = staging
        self.total = 0
        self.rows_written = 0

    def _tell(self, read: int) -> None:
        if self.on_progress is not None:
            total = max(self.total, read)
            self.on_progress(min(total, (read + self.rows_written) // 2), total)

    async def while_reading(self, reading: Any) -> None:
        task = asyncio.ensure_future(reading)
        while not task.done():
            await asyncio.wait([task], timeout=PROGRESS_EVERY_S)
            self._tell(self.staging.rows)
        await task

    def written(self, rows: int) -> None:
        self.rows_written += rows
        self._tell(self.staging.rows)


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
    on_progress: Callable[[int, int], None] | None = None,
) -> ImportResult:
    """Import a residents CSV file (files.md); see the module's docstring for how it stays consistent.

    Each rejected row is passed to `on_reject`, in row order, once the import is done. A file that cannot be
    imported at all raises ImportRefused before anything is written. `on_progress(done, total)` hears, now and
    then, how many of the file's rows are done: reading and checking a row is half of its work, writing it the
    other half (the total is the file's line count until the reading has counted the rows).
    """
    path = Path(path)
    staging = Staging(
        path, today or station_today(), as_line=resident_copy.copy_line if store.dialect == "postgresql" else None
    )
    progress = _Progress(on_progress, staging)
    try:
        if on_progress is not None:
            progress.total = await asyncio.to_thread(_data_lines, path)
        await progress.while_reading(asyncio.to_thread(staging.read))
        progress.total = staging.rows
        counts = await _write(store, staging, source, actor, batch_rows, progress)
        if store.dialect == "postgresql":
            await resident_copy.refresh_statistics(store)
        rejected = await asyncio.to_thread(lambda: staging.rejected_rows)
        if on_reject is not None:
            await staging.tell_rejections(on_reject)
    finally:
        staging.close()
    result = ImportResult(path, staging.sha256, staging.rows, counts.added, counts.updated, counts.unchanged, rejected)
    log.info("residents_imported", file=str(path), rows=result.rows, added=result.added, updated=result.updated,
             unchanged=result.unchanged, rejected=result.rejected)  # fmt: skip
    return result


async def _write(
    store: Store, staging: Staging, source: str | None, actor: str, batch_rows: int, progress: _Progress
) -> _Counts:
    """Write the staged rows in NIK order, a batch a transaction; the audit entry goes with the last batch (known
    to be the last once the next read comes back empty, inside its transaction)."""
    counts = _Counts()
    at = now_iso()
    read: Callable[[Staging, int], Any] = (
        resident_copy.read_batch if store.dialect == "postgresql" else Staging.next_batch
    )
    cache_size = await _set_cache_size(store, -IMPORT_CACHE_KIB)
    try:
        current = await asyncio.to_thread(read, staging, batch_rows)
        while True:
            async with store.transaction(actor=actor) as tx:
                # the next batch is read while this one is written (on a ledger the server does the writing)
                reading = asyncio.ensure_future(asyncio.to_thread(read, staging, batch_rows)) if current else None
                try:
                    refused = await _write_batch(tx, current, counts, source, at)
                finally:
                    following = await reading if reading is not None else []
                if not following:
                    rejected = await asyncio.to_thread(lambda: staging.rejected_rows) + len(refused)
                    await tx.audit(
                        "residents.imported", staging.path.name, path=str(staging.path.resolve()), source=source,
                        rows=staging.rows, added=counts.added, updated=counts.updated, unchanged=counts.unchanged,
                        rejected=rejected, sha256=staging.sha256,
                    )  # fmt: skip
            if refused:
                await asyncio.to_thread(staging.reject, [(row, "nik", t(f"residents.{why}")) for row, why in refused])
            progress.written(len(current))
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
    """Set the writer's `PRAGMA cache_size` (negative: KiB, positive: pages); return the one it had. A ledger's
    memory is its server's: nothing to set there."""
    if store.dialect != "sqlite":
        return size
    async with store.transaction() as tx:
        previous = (await tx.fetchall("PRAGMA cache_size"))[0][0]
        await tx.execute(f"PRAGMA cache_size = {int(size)}")
    return previous


async def _write_batch(tx: Any, batch: Any, counts: _Counts, source: str | None, at: str) -> list[tuple[int, str]]:
    """Insert the new rows, update the changed ones the lock rule leaves free (never printed, not in the queue);
    return the rows refused, each with why ('printed' or 'queued'). On a ledger, by COPY (resident_copy.py): the
    batch is then a CopyBatch, else a list of (row, fields)."""
    if not batch:
        return []
    write = resident_copy.write_batch if tx.dialect == "postgresql" else _write_rows
    added, updated, refused = await write(tx, batch, source, at)
    counts.added += added
    counts.updated += updated
    counts.unchanged += len(batch) - added - updated - len(refused)
    return refused


async def _write_rows(
    tx: Any, batch: list[tuple[int, tuple]], source: str | None, at: str
) -> tuple[int, int, list[tuple[int, str]]]:
    """SQLite's way: the stored records read, compared here, and the inserts and updates sent as batches."""
    by_nik = {data[0]: data for _, data in batch}
    stored = await stored_data(tx, list(by_nik))
    changed = [nik for nik, data in stored.items() if data != by_nik[nik]]
    settled = await settled_among(tx, changed) if changed else {}
    inserts, updates, refused = [], [], []
    for row, data in batch:
        nik = data[0]
        if nik not in stored:
            inserts.append((*data, source, at, at))
        elif nik in settled:
            refused.append((row, settled[nik]))
        elif stored[nik] != data:
            updates.append((*data[1:], source, at, nik))
    if inserts:
        await tx.executemany(_INSERT, inserts)
    if updates:
        await tx.executemany(_UPDATE, updates)
    return len(inserts), len(updates), refused
