"""The people the station knows of: a village's population (`station population import`) and the recorded
residents, with each one's card status as the station sees it, per village; who becomes wajib KTP-el in a month.

The file's status (OpenSID's) is the village's view; the station knows better what it holds and printed: a NIK
among the recorded residents is print-ready, or printed once a good card (or one waiting for its tag) exists.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

from console.clock import today
from console.locks import day_sql, wajib_from_sql

BELUM_WAJIB, BELUM_REKAM, SUDAH_REKAM, PRINT_READY, PRINTED, ISSUED = (
    "BELUM_WAJIB",
    "BELUM_REKAM",
    "SUDAH_REKAM",
    "PRINT_READY_RECORD",
    "CARD_PRINTED",
    "CARD_ISSUED",
)
STATUSES = (BELUM_WAJIB, BELUM_REKAM, SUDAH_REKAM, PRINT_READY, PRINTED, ISSUED)

# Everyone once: the population file's rows, and the recorded residents it does not list.
_PEOPLE = """
SELECT p.nik, p.nama, p.tanggal_lahir, p.status_perkawinan, p.tanggal_perkawinan, p.kel_desa, p.kecamatan,
       p.status_ktp AS file_status
  FROM population p
UNION ALL
SELECT r.nik, r.nama, r.tanggal_lahir, r.status_perkawinan, r.tanggal_perkawinan, r.kel_desa, r.kecamatan, NULL
  FROM residents r WHERE NOT EXISTS (SELECT 1 FROM population q WHERE q.nik = r.nik)
"""

# A card printed and not found bad: good, or still waiting for its tag.
_HAS_CARD = "EXISTS (SELECT 1 FROM jobs j WHERE j.nik = k.nik AND j.state IN ('printed', 'done_good'))"
_IS_RECORDED = "EXISTS (SELECT 1 FROM residents r WHERE r.nik = k.nik)"

# The station's status of each person: its own records first, then the file's word.
_STATUS = f"""(CASE
    WHEN {_HAS_CARD} THEN (CASE WHEN k.file_status = '{ISSUED}' THEN '{ISSUED}' ELSE '{PRINTED}' END)
    WHEN {_IS_RECORDED} THEN '{PRINT_READY}'
    ELSE k.file_status END)"""


def people_sql() -> str:
    """Everyone the station knows of, with columns nik, nama, tanggal_lahir, status_perkawinan, tanggal_perkawinan,
    kel_desa, kecamatan, status (the station's), wajib_from (the day the wajib rule gives)."""
    return (
        f"SELECT k.nik, k.nama, k.tanggal_lahir, k.status_perkawinan, k.tanggal_perkawinan, k.kel_desa, k.kecamatan, "
        f"{_STATUS} AS status, "
        f"{wajib_from_sql('k')} AS wajib_from FROM ({_PEOPLE}) AS k"
    )


@dataclass(frozen=True)
class VillageStatus:
    """One village's people by card status, on a day (wajib counted by the station's rule, not the file's)."""

    kecamatan: str
    kel_desa: str
    people: int
    wajib: int
    not_recorded: int  # wajib, not recorded yet: what the recording rounds are for
    recorded: int  # recorded, whatever happened since (print-ready, printed, handed over)
    print_ready: int  # recorded and cleared, no card yet
    printed: int  # a card printed, not handed over
    handed_over: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


async def village_status(db: Any, on: date | None = None, kel_desa: str | None = None) -> list[VillageStatus]:
    """Every village's counts on the day `on` (the station's today), by district and village."""
    day = day_sql(on or today())
    recorded = f"status IN ('{SUDAH_REKAM}', '{PRINT_READY}', '{PRINTED}', '{ISSUED}')"
    where, params = ("WHERE kel_desa = ?", [kel_desa]) if kel_desa is not None else ("", [])
    rows = await db.fetchall(
        "SELECT kecamatan, kel_desa, count(*) AS people, "
        f"count(*) FILTER (WHERE wajib_from <= {day}) AS wajib, "
        f"count(*) FILTER (WHERE wajib_from <= {day} AND status IN ('{BELUM_REKAM}', '{BELUM_WAJIB}')) "
        "AS not_recorded, "
        f"count(*) FILTER (WHERE {recorded}) AS recorded, "
        f"count(*) FILTER (WHERE status = '{PRINT_READY}') AS print_ready, "
        f"count(*) FILTER (WHERE status = '{PRINTED}') AS printed, "
        f"count(*) FILTER (WHERE status = '{ISSUED}') AS handed_over "
        f"FROM ({people_sql()}) AS people {where} GROUP BY kecamatan, kel_desa ORDER BY kecamatan, kel_desa",
        params,
    )
    return [VillageStatus(*(row[i] for i in range(9))) for row in rows]


@dataclass(frozen=True)
class BecomingWajib:
    nik: str
    nama: str
    kel_desa: str
    kecamatan: str
    wajib_from: str
    status: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def month_bounds(month: str) -> tuple[str, str]:
    """The first and last day of a month `YYYY-MM` (checked by the caller), as `YYYY-MM-DD` texts."""
    return f"{month}-01", f"{month}-31"  # text order: every day of the month lies between


# Of people_sql's rows: those whose wajib day is a day that comes (the 17th birthday, or a wedding day known), and
# lies between two days. One married with no day said was wajib since birth: never "becoming".
BECOMING_SQL = "(status_perkawinan = 'BELUM KAWIN' OR tanggal_perkawinan IS NOT NULL) AND wajib_from BETWEEN ? AND ?"


async def becoming_wajib(db: Any, month: str) -> list[BecomingWajib]:
    """People who turn 17 unmarried in `month` (`YYYY-MM`), or marry in it under 17 (the wedding day known): they
    become wajib KTP-el that month. By day, then NIK."""
    first, last = month_bounds(month)
    rows = await db.fetchall(
        f"SELECT nik, nama, kel_desa, kecamatan, wajib_from, status FROM ({people_sql()}) AS people "
        f"WHERE {BECOMING_SQL} ORDER BY wajib_from, nik",
        (first, last),
    )
    return [BecomingWajib(*(row[i] for i in range(6))) for row in rows]
