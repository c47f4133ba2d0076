"""`station population import`: a village's population with its card status (files.md), streamed and checked
row by row as the residents import is (the same staging, the same NIK checks), then written in NIK order.

A person's record here is the village's word; the station's own records (a recorded resident, a printed card)
win over its `status_ktp` when the station counts (`console/population.py`), so an import never undoes them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import Any

from console.clock import now_iso, today
from console.i18n import t
from console.nik import SEXES
from console.population import STATUSES
from console.resident_import import ImportResult
from console.resident_rows import (
    NAMA_MAX,
    STATUS_PERKAWINAN,
    TEXT_MAX,
    Problem,
    check_against_nik,
    check_marriage_date,
    choice_of,
    control_problem,
    limit_length,
    nik_of,
    past_date_of,
)
from console.resident_staging import FileKind, RowRejection, Staging
from console.store import Store

COLUMNS = (
    "nik", "nama", "tanggal_lahir", "jenis_kelamin", "kel_desa", "kecamatan", "status_perkawinan", "status_ktp",
    "tanggal_perkawinan",
)  # fmt: skip
OPTIONAL = frozenset({"tanggal_perkawinan"})  # docs/planning.md: the wedding day, when the village knows it
POPULATION = FileKind(COLUMNS, frozenset(COLUMNS) - OPTIONAL)
BATCH_ROWS = 20_000


class PopulationChecker:
    """The checks of one population row: the residents import's own checks of the columns both files have."""

    def __init__(self, on: date) -> None:
        self.today = on

    def check(self, raw: Sequence[str]) -> tuple[tuple | None, list[Problem]]:
        values = [value.strip(" ") for value in raw]
        problems = [Problem(c, why) for c, v in zip(COLUMNS, values) if (why := control_problem(v)) is not None]
        problems += [
            Problem(c, t("residents.required")) for c, v in zip(COLUMNS, values) if not v and c not in OPTIONAL
        ]
        if problems:
            return None, problems
        nik_text, nama, tanggal_lahir, sex, kel_desa, kecamatan, marital, status, married = values
        nik = nik_of(problems, nik_text, self.today)
        limit_length(problems, "nama", nama, NAMA_MAX)
        limit_length(problems, "kel_desa", kel_desa, TEXT_MAX)
        limit_length(problems, "kecamatan", kecamatan, TEXT_MAX)
        born = past_date_of(problems, "tanggal_lahir", tanggal_lahir, self.today)
        sex = choice_of(problems, "jenis_kelamin", sex, SEXES)
        marital = choice_of(problems, "status_perkawinan", marital, STATUS_PERKAWINAN)
        check_marriage_date(problems, married, born, marital, self.today)
        status = choice_of(problems, "status_ktp", status.upper(), STATUSES)
        check_against_nik(problems, nik, born, sex, kecamatan)
        if problems:
            return None, problems
        data = (
            nik_text,
            nama,
            tanggal_lahir,
            sex,
            kel_desa.upper(),
            kecamatan.upper(),
            marital,
            status,
            married or None,
        )
        return data, problems


class PopulationResult(ImportResult):
    SUMMARY = "population.import_summary"


_UPSERT = (
    f"INSERT INTO population ({', '.join(COLUMNS)}, source, imported_at, updated_at) "
    f"VALUES ({', '.join('?' * (len(COLUMNS) + 3))}) ON CONFLICT (nik) DO UPDATE SET "
    + ", ".join(f"{c} = excluded.{c}" for c in (*COLUMNS[1:], "source", "updated_at"))
)


async def import_population(
    store: Store,
    path: Path | str,
    *,
    source: str | None = None,
    actor: str = "station",
    on_reject: Callable[[RowRejection], None] | None = None,
    batch_rows: int = BATCH_ROWS,
) -> PopulationResult:
    """Import a population file; rejected rows go to `on_reject` in row order. A file that cannot be imported
    at all raises ImportRefused before anything is written; a batch is written whole or not at all, and the
    same file imported again changes nothing."""
    path = Path(path)
    staging = Staging(path, today(), POPULATION, PopulationChecker(today()))
    added = updated = unchanged = 0
    try:
        await asyncio.to_thread(staging.read)
        batch = await asyncio.to_thread(staging.next_batch, batch_rows)
        at = now_iso()
        while True:
            following = await asyncio.to_thread(staging.next_batch, batch_rows) if batch else []
            async with store.transaction(actor=actor) as tx:
                stored = await _stored(tx, [data[0] for _, data in batch])
                fresh = [(*data, source, at, at) for _, data in batch if stored.get(data[0]) != data]
                if fresh:
                    await tx.executemany(_UPSERT, fresh)
                added += sum(1 for _, data in batch if data[0] not in stored)
                updated += len(fresh) - sum(1 for _, data in batch if data[0] not in stored)
                unchanged += len(batch) - len(fresh)
                if not following:
                    rejected = await asyncio.to_thread(lambda: staging.rejected_rows)
                    await tx.audit(
                        "population.imported", path.name, path=str(path.resolve()), source=source, rows=staging.rows,
                        added=added, updated=updated, unchanged=unchanged, rejected=rejected, sha256=staging.sha256,
                    )  # fmt: skip
            if not following:
                break
            batch = following
        if on_reject is not None:
            await staging.tell_rejections(on_reject)
    finally:
        staging.close()
    return PopulationResult(path, staging.sha256, staging.rows, added, updated, unchanged, rejected)


async def _stored(tx: Any, niks: list[str]) -> dict[str, tuple]:
    if not niks:
        return {}
    stored: dict[str, tuple] = {}
    for start in range(0, len(niks), 5_000):
        chunk = niks[start : start + 5_000]
        rows = await tx.fetchall(
            f"SELECT {', '.join(COLUMNS)} FROM population WHERE nik IN ({','.join('?' * len(chunk))})", chunk
        )
        stored.update((row["nik"], tuple(row[c] for c in COLUMNS)) for row in rows)
    return stored
