"""The checks of one recorded resident against files.md and the NIK rules (`validate_record`), and why a row fails.

`RecordChecker` is set up once and run on every row of an import file; `validate_record` checks a single record.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from console.i18n import t
from console.nik import SEXES, Nik, NikError, check_record_against_nik, parse_nik
from console.photo_file import PhotoError, check_photo
from console.residents import COLUMNS, Resident

REQUIRED = frozenset({
    "nik", "nama", "tempat_lahir", "tanggal_lahir", "jenis_kelamin", "alamat", "rt", "rw", "kel_desa",
    "kecamatan", "agama", "status_perkawinan", "pekerjaan",
})  # fmt: skip
AGAMA = ("ISLAM", "KRISTEN", "KATOLIK", "HINDU", "BUDDHA", "KHONGHUCU", "KEPERCAYAAN TERHADAP TUHAN YME")
STATUS_PERKAWINAN = ("BELUM KAWIN", "KAWIN", "CERAI HIDUP", "CERAI MATI")
UNMARRIED = STATUS_PERKAWINAN[0]
KEWARGANEGARAAN = ("WNI", "WNA")
SEUMUR_HIDUP = "SEUMUR HIDUP"
NAMA_MAX = 60
TEXT_MAX = 100  # any other free text: a card has room for no more
FOTO_MAX = 1000
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}\Z")
_RT_RW = re.compile(r"[0-9]{1,3}\Z")
_GOL_DARAH = re.compile(r"(?:(?:A|B|AB|O)[+-]?|-)\Z")
_ASCII_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_CONTROL_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})  # controls, invisible format marks, separators


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


def validate_record(
    raw: Mapping[str, str | None], *, base_dir: Path | None = None, today: date | None = None
) -> Resident:
    """Check one record (column → text, as in the import file); return it normalised or raise RecordRejected.

    `base_dir` is where a relative `foto` path starts (the CSV file's folder).
    """
    checker = RecordChecker(base_dir or Path.cwd(), today or date.today())
    data, problems = checker.check([raw.get(column) or "" for column in COLUMNS])
    if data is None:
        raise RecordRejected(problems)
    return Resident(*data)


class RecordChecker:
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
         agama, status, pekerjaan, warga, berlaku, lokasi, tanggal_perekaman, foto, married) = values  # fmt: skip
        today = self.today

        nik = nik_of(problems, nik_text, today)
        limit_length(problems, "nama", nama, NAMA_MAX)
        born = past_date_of(problems, "tanggal_lahir", tanggal_lahir, today)
        sex = choice_of(problems, "jenis_kelamin", jenis_kelamin, SEXES)
        gol_darah = gol_darah.upper() or "-"
        if not _GOL_DARAH.match(gol_darah):
            problems.append(Problem("gol_darah", t("residents.gol_darah", value=values[5])))
        for column, value in (
            ("tempat_lahir", tempat_lahir),
            ("alamat", alamat),
            ("kel_desa", kel_desa),
            ("kecamatan", kecamatan),
            ("pekerjaan", pekerjaan),
            ("lokasi_perekaman", lokasi),
        ):
            if len(value) > TEXT_MAX:  # asked here first: a million rows, six texts each
                limit_length(problems, column, value, TEXT_MAX)
        rt, rw = _rt_rw(problems, "rt", rt), _rt_rw(problems, "rw", rw)
        agama = choice_of(problems, "agama", agama, AGAMA)
        status = choice_of(problems, "status_perkawinan", status, STATUS_PERKAWINAN)
        check_marriage_date(problems, married, born, status, today)
        warga = choice_of(problems, "kewarganegaraan", warga or "WNI", KEWARGANEGARAAN)
        if not berlaku or berlaku == SEUMUR_HIDUP or _canonical(berlaku) == SEUMUR_HIDUP:
            berlaku = SEUMUR_HIDUP
        else:
            until = date_of(problems, "berlaku_hingga", berlaku)
            if until is not None and until <= today:
                problems.append(Problem("berlaku_hingga", t("residents.expired", value=berlaku)))
        recorded = date_of(problems, "tanggal_perekaman", tanggal_perekaman)
        if recorded is not None and recorded > today:
            problems.append(Problem("tanggal_perekaman", t("residents.future", value=tanggal_perekaman)))
        elif recorded is not None and born is not None and recorded < born:
            problems.append(Problem("tanggal_perekaman", t("residents.before_birth", value=tanggal_perekaman)))
        photo = _photo(foto, self.base_dir, problems) if foto else foto
        check_against_nik(problems, nik, born, sex, kecamatan)
        if problems:
            return None, problems
        data = (
            nik_text,
            nama,
            tempat_lahir,
            tanggal_lahir,
            sex,
            gol_darah,
            alamat,
            rt,
            rw,
            kel_desa,
            kecamatan,
            agama,
            status,
            pekerjaan,
            warga,
            berlaku,
            lokasi or None,
            tanggal_perekaman or None,
            photo or None,
            married or None,
        )
        return data, problems  # fmt: skip


def check_marriage_date(problems: list[Problem], value: str, born: date | None, status: str, today: date) -> None:
    """`tanggal_perkawinan` (optional): a day, not before the birth; on or before today only for one whose status
    says married (or once married). A day still to come is a wedding planned: the status may not say it yet."""
    married = date_of(problems, "tanggal_perkawinan", value)
    if married is None:
        return
    if born is not None and married < born:
        problems.append(Problem("tanggal_perkawinan", t("residents.married_before_birth", value=value)))
    elif married <= today and status == UNMARRIED:
        problems.append(Problem("tanggal_perkawinan", t("residents.married_yet_unmarried", value=value)))


def _canonical(value: str) -> str:
    return " ".join(value.split()).upper()


def limit_length(problems: list[Problem], column: str, value: str, limit: int) -> None:
    if len(value) > limit:
        problems.append(Problem(column, t("residents.too_long", count=len(value), limit=limit)))


def choice_of(problems: list[Problem], column: str, value: str, allowed: Sequence[str]) -> str:
    if value in allowed:
        return value
    canonical = _canonical(value)
    if canonical not in allowed:
        problems.append(Problem(column, t("residents.not_one_of", value=value, allowed=", ".join(allowed))))
    return canonical


def date_of(problems: list[Problem], column: str, value: str) -> date | None:
    if not value:
        return None
    if not _DATE.match(value):
        problems.append(Problem(column, t("residents.date_format", value=value)))
        return None
    try:
        return date.fromisoformat(value)  # the pattern above leaves it no other form than YYYY-MM-DD
    except ValueError:
        problems.append(Problem(column, t("residents.date_impossible", value=value)))
        return None


def past_date_of(problems: list[Problem], column: str, value: str, today: date) -> date | None:
    """A date that must not lie after `today` (a birth): one in the future is a problem, and still returned."""
    found = date_of(problems, column, value)
    if found is not None and found > today:
        problems.append(Problem(column, t("residents.future", value=value)))
    return found


def _rt_rw(problems: list[Problem], column: str, value: str) -> str:
    if not _RT_RW.match(value):
        problems.append(Problem(column, t("residents.rt_rw", value=value)))
        return value
    return value.zfill(3)


def control_problem(value: str) -> str | None:
    """Why `value` cannot be taken as plain text (the first control, format mark or separator in it), or None.

    The import's check of every field, and the check of every other text an operator types (a tag's note)."""
    return _control_reason(value) if _has_control(value) else None


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
        check_photo(path)
    except PhotoError as exc:
        problems.append(Problem("foto", str(exc)))
        return None
    return str(path.resolve())


def nik_of(problems: list[Problem], text: str, today: date) -> Nik | None:
    """The row's NIK, parsed; None (and the reason among the problems) when it is not a valid one."""
    try:
        return parse_nik(text, today)
    except NikError as exc:
        problems.append(Problem("nik", str(exc)))
        return None


def check_against_nik(problems: list[Problem], nik: Nik | None, born: Any, sex: str, kecamatan: str) -> None:
    """The record's birth date, sex and kecamatan against what its NIK encodes (a sex not known is not compared;
    nothing is, without a valid NIK)."""
    if nik is None:
        return
    known_sex = sex if sex in SEXES else None
    for mismatch in check_record_against_nik(nik, birth_date=born, sex=known_sex, kecamatan=kecamatan):
        problems.append(Problem(mismatch.column, mismatch.reason))
