"""Recorded residents: the record (`Resident`) and the queries the console asks of the residents table.

Checking one record is in `console/resident_rows.py`; the streamed CSV import in `console/resident_import.py`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any

from console.store import Store

COLUMNS = (
    "nik", "nama", "tempat_lahir", "tanggal_lahir", "jenis_kelamin", "gol_darah", "alamat", "rt", "rw",
    "kel_desa", "kecamatan", "agama", "status_perkawinan", "pekerjaan", "kewarganegaraan", "berlaku_hingga",
    "lokasi_perekaman", "tanggal_perekaman", "foto",
)  # fmt: skip
_SQL_IN_CHUNK = 5_000  # host parameters a statement (SQLite allows 32,766)


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
    def from_row(cls, row: Mapping[str, Any] | sqlite3.Row) -> Resident:
        return cls(**{f.name: row[f.name] for f in fields(cls)})

    def data(self) -> tuple[Any, ...]:
        """The recorded fields, in COLUMNS order (what an import compares and writes)."""
        return tuple(getattr(self, column) for column in COLUMNS)


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


async def names_of(store: Store, niks: Sequence[str]) -> dict[str, str]:
    """The name of each NIK found among `niks`."""
    if not niks:
        return {}
    rows = await store.fetchall(f"SELECT nik, nama FROM residents WHERE nik IN ({','.join('?' * len(niks))})", niks)
    return {row["nik"]: row["nama"] for row in rows}


async def search_residents(store: Store, text: str, limit: int = 50, offset: int = 0) -> list[Resident]:
    """Residents matching `text`: digits are a NIK prefix (in NIK order); anything else matches names, those that
    start with it first, then those that contain it (each in name order, case not minded). Empty text: everyone,
    by name. Prefixes use the indexes; "contains" walks the name index alone, in order, and stops once the page is
    full (a whole walk of a million names takes well under a second: see bench/README.md).
    """
    text = text.strip()
    if not text or (text.isdigit() and text.isascii()):
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


async def stored_data(db: Any, niks: list[str]) -> dict[str, tuple[Any, ...]]:
    """The recorded fields (as `Resident.data()` gives them) of each of these NIKs that is stored."""
    stored: dict[str, tuple[Any, ...]] = {}
    for start in range(0, len(niks), _SQL_IN_CHUNK):
        chunk = niks[start : start + _SQL_IN_CHUNK]
        marks = ",".join("?" * len(chunk))
        for row in await db.fetchall(f"SELECT {', '.join(COLUMNS)} FROM residents WHERE nik IN ({marks})", chunk):
            stored[row["nik"]] = tuple(row)
    return stored
