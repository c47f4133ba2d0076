"""Kemendagri region codes (kode wilayah), shipped in `console/data/` (see its README for the licence).

Codes down to kecamatan level, current and historical: a NIK issued under a code that a later edition split or
renumbered stays valid for life, so both editions are known. Also the desa/kelurahan of Lombok Timur (52.03), by
kecamatan, for addresses and demo data. The tables are read once, on first use.

Codes are accepted dotted (`52.03.07`) or as plain digits (`520307`); they are returned as plain digits.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from functools import cache
from importlib import resources

LOMBOK_TIMUR = "5203"

_CURRENT = "kode-wilayah-kecamatan.csv"
_HISTORICAL = "kode-wilayah-historis.csv"
_VILLAGES_5203 = "kode-wilayah-desa-5203.csv"


@dataclass(frozen=True)
class District:
    """A kecamatan: the six digits `PPKKCC` that open a NIK, with the names of its three levels."""

    code: str
    name: str
    regency_code: str
    regency: str
    province_code: str
    province: str
    historical: bool  # no longer in the current edition; NIKs issued under it stay valid


@dataclass(frozen=True)
class Village:
    code: str  # ten digits PPKKCCNNNN; NNNN starting with 1 is a kelurahan, 2 a desa
    name: str
    district_code: str

    @property
    def is_kelurahan(self) -> bool:
        return self.code[6] == "1"


@dataclass(frozen=True)
class _Tables:
    provinces: dict[str, str]
    regencies: dict[str, str]
    districts: dict[str, District]


def plain_code(code: str) -> str:
    """`52.03.07` → `520307`; a code already in digits is returned as it is."""
    return code.replace(".", "")


def _rows(name: str) -> list[dict[str, str]]:
    text = resources.files("console").joinpath("data", name).read_text(encoding="utf-8")
    return list(csv.DictReader(io.StringIO(text)))


@cache
def _tables() -> _Tables:
    provinces: dict[str, str] = {}
    regencies: dict[str, str] = {}
    district_names: dict[str, tuple[str, bool]] = {}
    for name, historical in ((_CURRENT, False), (_HISTORICAL, True)):
        for row in _rows(name):
            code = plain_code(row["kode"])
            if len(code) == 2:
                provinces.setdefault(code, row["nama"])
            elif len(code) == 4:
                regencies.setdefault(code, row["nama"])
            elif len(code) == 6:
                district_names.setdefault(code, (row["nama"], historical))
    districts = {
        code: District(
            code=code,
            name=name,
            regency_code=code[:4],
            regency=regencies.get(code[:4], ""),
            province_code=code[:2],
            province=provinces.get(code[:2], ""),
            historical=historical,
        )
        for code, (name, historical) in district_names.items()
    }
    return _Tables(provinces, regencies, districts)


def district(code: str) -> District | None:
    """The kecamatan of a six-digit code, current or historical; None when no edition knows it."""
    return _tables().districts.get(plain_code(code))


def province_name(code: str) -> str | None:
    return _tables().provinces.get(plain_code(code)[:2])


def regency_name(code: str) -> str | None:
    return _tables().regencies.get(plain_code(code)[:4])


def districts_of(regency_code: str) -> list[District]:
    """The current kecamatan of a kabupaten/kota, in code order."""
    prefix = plain_code(regency_code)
    return sorted(
        (d for d in _tables().districts.values() if d.regency_code == prefix and not d.historical), key=lambda d: d.code
    )


@cache
def _villages_5203() -> dict[str, tuple[Village, ...]]:
    by_district: dict[str, list[Village]] = {}
    for row in _rows(_VILLAGES_5203):
        code = plain_code(row["kode"])
        by_district.setdefault(code[:6], []).append(Village(code, row["nama"], code[:6]))
    return {d: tuple(sorted(vs, key=lambda v: v.code)) for d, vs in sorted(by_district.items())}


def villages_of(district_code: str) -> tuple[Village, ...]:
    """The desa and kelurahan of one kecamatan of Lombok Timur (52.03); empty for any other kecamatan."""
    return _villages_5203().get(plain_code(district_code), ())


def lombok_timur_villages() -> dict[str, tuple[Village, ...]]:
    """Every desa and kelurahan of Lombok Timur, by kecamatan code."""
    return dict(_villages_5203())
