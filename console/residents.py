"""Recorded residents: the record (`Resident`) and the queries the console asks of the residents table.

Checking one record is in `console/resident_rows.py`; the streamed CSV import in `console/resident_import.py`.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any

from console import regions
from console.sql_words import nocase_sql
from console.store import Store

COLUMNS = (
    "nik", "nama", "tempat_lahir", "tanggal_lahir", "jenis_kelamin", "gol_darah", "alamat", "rt", "rw",
    "kel_desa", "kecamatan", "agama", "status_perkawinan", "pekerjaan", "kewarganegaraan", "berlaku_hingga",
    "lokasi_perekaman", "tanggal_perekaman", "foto", "tanggal_perkawinan",
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
    tanggal_perkawinan: str | None = None  # the wedding day, when the file says it (wajib KTP-el from then)
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
    """Residents matching `text`, a page of `limit` from `offset`:

    - digits, also in groups split by spaces, dots or dashes (`5203 0101 …`, `5203.0101.…`): a NIK prefix, in
      NIK order;
    - a Kemendagri code written with its dots, `52.03.01` (a kecamatan) or `52.03.01.2001` (a desa/kelurahan of
      Lombok Timur): the residents recorded there, by village and name;
    - anything else: names that start with it, then names that contain it, then residents of the villages and
      then of the kecamatan whose names start with it (each in that order, case not minded, nobody twice);
    - nothing: everyone, by name.

    Each part is walked on an index that holds what it filters on (the residents' rows are read for the page
    alone), and stops once the page is full; the parts before the page are counted to skip them, not read
    (a whole walk of a million names takes well under a second: see bench/README.md).
    """
    parts = _parts(text)
    found: list[Resident] = []
    skip = offset
    for number, part in enumerate(parts):
        if skip and number < len(parts) - 1:
            before = await store.scalar(nocase_sql(store, f"SELECT count(*) FROM residents WHERE {part.where}"),
                                        part.params)  # fmt: skip
            if skip >= before:
                skip -= before
                continue
        rows = await store.fetchall(
            nocase_sql(
                store,
                f"{_SELECT} WHERE nik IN (SELECT nik FROM residents WHERE {part.where} "
                f"ORDER BY {part.order} LIMIT ? OFFSET ?) ORDER BY {part.order}",
            ),
            (*part.params, limit - len(found), skip),
        )
        found += [Resident.from_row(r) for r in rows]
        skip = 0
        if len(found) >= limit:
            break
    return found


async def count_residents(store: Store, text: str | None = None) -> int:
    """How many residents there are, or how many `search_residents(text)` would find in all."""
    total = 0
    for part in _parts(text or ""):
        total += await store.scalar(nocase_sql(store, f"SELECT count(*) FROM residents WHERE {part.where}"),
                                    part.params)  # fmt: skip
    return total


def nik_typed(text: str) -> str | None:
    """The digits of a NIK (or of its start) as people type it, in groups split by spaces, dots or dashes."""
    digits = "".join(char for char in text if char not in _NIK_SEPARATORS)
    return digits if digits.isdigit() and digits.isascii() else None


@dataclass(frozen=True)
class _Part:
    """One part of a search: which residents (an indexed condition), in which order."""

    where: str
    params: tuple[str, ...]
    order: str


_NIK_SEPARATORS = frozenset(" .-")
_REGION_CODE = re.compile(r"[0-9]{2}\.[0-9]{2}\.[0-9]{2}(\.[0-9]{4})?")
_BY_NIK = "nik"
_BY_NAME = "nama COLLATE NOCASE, nik"
_BY_VILLAGE = "kel_desa COLLATE NOCASE, nama COLLATE NOCASE, nik"
_BY_DISTRICT = "kecamatan COLLATE NOCASE, kel_desa COLLATE NOCASE, nama COLLATE NOCASE, nik"


def _parts(text: str) -> list[_Part]:
    text = text.strip()
    if not text:
        return [_Part("TRUE", (), _BY_NAME)]
    if _REGION_CODE.fullmatch(text):
        return _region(regions.plain_code(text))
    digits = nik_typed(text)
    if digits is not None:
        return [_Part("nik >= ? AND nik < ?", (digits, digits + ":"), _BY_NIK)]  # ':' follows '9'
    name_starts, name_params = _starts("nama", text)
    village_starts, village_params = _starts("kel_desa", text)
    district_starts, district_params = _starts("kecamatan", text)
    pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    name_contains = "nama LIKE ? ESCAPE '\\'"
    return [
        _Part(name_starts, name_params, _BY_NAME),
        _Part(f"{name_contains} AND NOT ({name_starts})", (pattern, *name_params), _BY_NAME),
        _Part(f"{village_starts} AND NOT ({name_contains})", (*village_params, pattern), _BY_VILLAGE),
        _Part(
            f"{district_starts} AND NOT ({village_starts}) AND NOT ({name_contains})",
            (*district_params, *village_params, pattern),
            _BY_DISTRICT,
        ),
    ]


def _starts(column: str, text: str) -> tuple[str, tuple[str, str]]:
    """`column` starts with `text`, case not minded: a range of its NOCASE index."""
    return f"{column} >= ? COLLATE NOCASE AND {column} < ? COLLATE NOCASE", (text, text + _LAST_CHAR)


def _region(code: str) -> list[_Part]:
    """The residents of a kecamatan (six digits) or of a desa/kelurahan (ten); none for a code no edition knows."""
    district = regions.district(code[:6])
    if district is None:
        return []
    if len(code) == 6:
        return [_Part("kecamatan = ? COLLATE NOCASE", (district.name,), _BY_DISTRICT)]
    village = next((v for v in regions.villages_of(code[:6]) if v.code == code), None)
    if village is None:
        return []
    where = "kecamatan = ? COLLATE NOCASE AND kel_desa = ? COLLATE NOCASE"
    return [_Part(where, (district.name, village.name), _BY_DISTRICT)]


async def list_villages(store: Store, kecamatan: str | None = None) -> list[VillageCount]:
    """Every (kecamatan, kel_desa) that has residents, with how many, in order; optionally of one kecamatan."""
    if kecamatan is None:
        rows = await store.fetchall(
            "SELECT kecamatan, kel_desa, count(*) AS n FROM residents GROUP BY kecamatan, kel_desa "
            "ORDER BY kecamatan, kel_desa"
        )
    else:
        rows = await store.fetchall(
            "SELECT kecamatan, kel_desa, count(*) AS n FROM residents WHERE kecamatan = ? GROUP BY kecamatan, kel_desa "
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
