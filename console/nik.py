"""The NIK (Nomor Induk Kependudukan): `PPKKCC DDMMYY SSSS` (domain.md).

There is no check digit, so validation is structural: 16 ASCII digits, a region code that some edition of the
Kemendagri codes knows, a real birth date (women have 40 added to the day), a serial from 0001. The two-digit
year is read as the latest year that does not put the birth date in the future.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from console import regions
from console.i18n import t

MALE = "LAKI-LAKI"
FEMALE = "PEREMPUAN"
SEXES = (MALE, FEMALE)
FEMALE_DAY_OFFSET = 40
NIK_LENGTH = 16
_DIGITS = frozenset("0123456789")


class NikError(ValueError):
    """A NIK that cannot be one. `kind` names the rule (for programs), the message says why (for people)."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


@dataclass(frozen=True)
class Nik:
    text: str
    region: regions.District  # the kecamatan of PPKKCC, with its regency and province
    birth_date: date
    sex: str  # LAKI-LAKI or PEREMPUAN
    serial: int

    @property
    def birth_digits(self) -> str:
        """DDMMYY as written in the NIK (the day with 40 added for a woman)."""
        return self.text[6:12]


@dataclass(frozen=True)
class Mismatch:
    """A field of a record that disagrees with its NIK."""

    column: str
    reason: str


def parse_nik(text: str, today: date | None = None) -> Nik:
    """Read a NIK into its parts, or raise NikError saying precisely which rule it breaks."""
    today = today or date.today()
    if not isinstance(text, str) or not text:
        raise NikError("empty", t("nik.empty"))
    if not (text.isascii() and text.isdigit()):
        position, char = next((i, c) for i, c in enumerate(text, start=1) if c not in _DIGITS)
        raise NikError("digits", t("nik.not_digit", char=_shown(char), position=position))
    if len(text) != NIK_LENGTH:
        raise NikError("length", t("nik.length", count=len(text)))
    region = regions.district(text[:6])
    if region is None:
        raise NikError("region", t("nik.unknown_region", code=text[:6]))
    day_field, month, yy, serial = int(text[6:8]), int(text[8:10]), int(text[10:12]), int(text[12:16])
    if not 1 <= month <= 12:
        raise NikError("month", t("nik.month", month=text[8:10]))
    if 1 <= day_field <= 31:
        sex, day = MALE, day_field
    elif 1 + FEMALE_DAY_OFFSET <= day_field <= 31 + FEMALE_DAY_OFFSET:
        sex, day = FEMALE, day_field - FEMALE_DAY_OFFSET
    else:
        raise NikError("day", t("nik.day", day=text[6:8]))
    year = resolve_year(yy, month, day, today)
    try:
        birth = date(year, month, day)
    except ValueError:
        key = "nik.not_leap_year" if (month, day) == (2, 29) else "nik.impossible_date"
        raise NikError("date", t(key, day=f"{day:02d}", month=f"{month:02d}", year=year)) from None
    if serial == 0:
        raise NikError("serial", t("nik.serial_zero"))
    return Nik(text=text, region=region, birth_date=birth, sex=sex, serial=serial)


def resolve_year(yy: int, month: int, day: int, today: date) -> int:
    """The latest year ending in `yy` whose (month, day) is not after `today`."""
    year = today.year - (today.year - yy) % 100
    if year == today.year and (month, day) > (today.month, today.day):
        year -= 100
    return year


def check_record_against_nik(
    nik: Nik, *, birth_date: date | None, sex: str | None, kecamatan: str | None
) -> list[Mismatch]:
    """What in a record disagrees with its NIK: birth date, sex and, for a NIK of Lombok Timur, the kecamatan.

    The birth date is compared on day, month and the year's last two digits: the record's full year settles the
    century, which the NIK cannot (a resident of over a hundred years is not refused).
    """
    mismatches = []
    if birth_date is not None:
        day, month, yy = nik.birth_date.day, nik.birth_date.month, nik.birth_date.year % 100
        if (birth_date.day, birth_date.month, birth_date.year % 100) != (day, month, yy):
            reason = t("nik.birth_mismatch", value=birth_date.isoformat(), digits=nik.birth_digits)
            mismatches.append(Mismatch("tanggal_lahir", reason))
    if sex is not None and sex != nik.sex:
        mismatches.append(Mismatch("jenis_kelamin", t("nik.sex_mismatch", value=sex, sex=nik.sex)))
    if (
        kecamatan is not None
        and nik.region.regency_code == regions.LOMBOK_TIMUR
        and _name_key(kecamatan) != _name_key(nik.region.name)
    ):
        reason = t("nik.district_mismatch", value=kecamatan, code=nik.region.code, name=nik.region.name)
        mismatches.append(Mismatch("kecamatan", reason))
    return mismatches


def make_nik(region: str, birth_date: date, sex: str, serial: int) -> str:
    """Compose a NIK; `region` is a kecamatan code (`520307` or `52.03.07`), `sex` LAKI-LAKI or PEREMPUAN."""
    code = regions.plain_code(region)
    if len(code) != 6 or not set(code) <= _DIGITS:
        raise ValueError(f"region must be six digits PPKKCC, not {region!r}")
    if sex not in SEXES:
        raise ValueError(f"sex must be {MALE} or {FEMALE}, not {sex!r}")
    if not 1 <= serial <= 9999:
        raise ValueError(f"serial must be 1..9999, not {serial}")
    day = birth_date.day + (FEMALE_DAY_OFFSET if sex == FEMALE else 0)
    return f"{code}{day:02d}{birth_date.month:02d}{birth_date.year % 100:02d}{serial:04d}"


def _name_key(name: str) -> str:
    return " ".join(name.split()).casefold()


def _shown(char: str) -> str:
    return repr(char) if char.isprintable() else f"U+{ord(char):04X}"
