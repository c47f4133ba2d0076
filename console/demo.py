"""Demo residents of East Lombok (Kabupaten Lombok Timur, 52.03), in the import format of files.md.

Every record is one the import accepts: a NIK of a real kecamatan of 52.03 that agrees with the birth date, the
sex and the kecamatan, unique within the output; a desa of that kecamatan; Sasak and Indonesian names (the Sasak
nobility's Lalu and Baiq, the teknonyms Amaq and Inaq of older villagers, the Haji titles), Balinese names for
the Hindu minority. The same seed gives the same residents, whatever the day: dates are counted from DEMO_TODAY.
"""

from __future__ import annotations

import itertools
import random
from array import array
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path

from console import regions
from console.csv_safe import SafeDictWriter
from console.nik import FEMALE, MALE, make_nik
from drivers.atomic_file import atomic_writer

DEMO_TODAY = date(2026, 1, 1)
DEMO_COLUMNS = (
    "nik", "nama", "tempat_lahir", "tanggal_lahir", "jenis_kelamin", "gol_darah", "alamat", "rt", "rw",
    "kel_desa", "kecamatan", "agama", "status_perkawinan", "pekerjaan", "kewarganegaraan", "berlaku_hingga",
    "lokasi_perekaman", "tanggal_perekaman",
)  # fmt: skip
MIN_AGE, MAX_AGE = 17, 90  # wajib KTP from 17; well short of 100, so that the NIK's two-digit year is never doubtful
FIRST_RECORDING = date(2011, 8, 1)  # KTP-el recording began in 2011

MALE_NAMES = (
    "MUHAMMAD", "AHMAD", "ZAINUDDIN", "ABDUL HAMID", "SAPARUDIN", "MAHSUN", "SAHNUN", "HAERUDIN", "JUNAIDI",
    "RUSLAN", "SUPRIADI", "HASAN", "HUSNUL", "MUHLIS", "SAMSUL", "ABDULLAH", "ISMAIL", "SAHRUL", "FATHURRAHMAN",
    "ZULKARNAIN", "AMRULLAH", "SUKARDI", "MAHRUP", "SUDIRMAN", "JUNAIDIN", "SAIFUL", "HAMDI", "ROSIDI",
    "KHAIRUL", "AZHAR", "MUSTAKIM", "LUKMAN", "RIDWAN", "SUHAIMI", "MASRUN", "SARAPUDDIN", "HULAIMI", "NASRUDIN",
    "IRWAN", "BAYU", "RIZKI", "ANDI", "HENDRA", "FAUZAN", "ILHAM", "WAHYU",
)  # fmt: skip
FEMALE_NAMES = (
    "SITI", "NURUL", "HADIJAH", "AMINAH", "FATIMAH", "RAHMAWATI", "SRI", "NURHASANAH", "ZAENAB", "MAESARAH",
    "HAERANI", "RUKIAH", "SAHRIAH", "MARIATUN", "JUMAENI", "HUSNIATI", "HIDAYATI", "SAPIAH",
    "JUMANIAH", "RAUDATUL JANNAH", "ROHANI", "MAHNUN", "SUNARTI", "NURHAYATI", "ULFA", "KHAIRUNNISA", "LAILI", "YUNITA",
    "MULIANA", "HERLINA", "ROSMIATI", "SAMSIAH", "NURJANNAH", "SUHARNI", "AISYAH", "WARDIAH",
)  # fmt: skip
MALE_SECOND = (
    "HIDAYAT", "RAHMAN", "FAUZI", "HAMDI", "SALEH", "ISMAIL", "ZULKIFLI", "AZHARI", "WARDANA", "HAKIM",
    "ANSORI", "MAULANA", "SYAHRONI", "ARIFIN", "EFENDI", "HAMZANWADI", "MUKHTAR", "RIFAI", "SAPUTRA",
)  # fmt: skip
FEMALE_SECOND = (
    "HIDAYATI", "KHAIRUNNISA", "JANNAH", "AINI", "SOLEHAH", "WAHYUNI", "RAHMAH", "FITRIANI", "HASANAH",
    "MARDIAH", "ZAKIAH", "ANGGRAENI", "HANDAYANI", "SAFITRI", "PUSPITASARI",
)  # fmt: skip
BALINESE_MALE = ("I WAYAN", "I MADE", "I NYOMAN", "I KETUT", "I GEDE", "I PUTU")
BALINESE_FEMALE = ("NI WAYAN", "NI MADE", "NI NYOMAN", "NI KETUT", "NI LUH", "NI PUTU")
BALINESE_MALE_NAMES = ("SUDARMA", "WIRAWAN", "SUARTANA", "ADNYANA", "SUASTIKA", "MERTA")
BALINESE_FEMALE_NAMES = ("ARTINI", "ASTITI", "PARWATI", "SUARNI", "WIDIANI", "ARIASIH")
CHRISTIAN_MALE = ("YOHANES", "STEFANUS", "PAULUS", "MARKUS", "ANDREAS", "YOSEF")
CHRISTIAN_FEMALE = ("MARIA", "ELISABET", "MAGDALENA", "YOHANA", "KRISTINA", "MARTA")
CHINESE_NAMES = ("TAN", "LIE", "GO", "ONG", "LIM")

DUSUN_FIRST = (
    "DASAN", "GUBUK", "LENDANG", "KARANG", "TIBU", "MONTONG", "BAGEK", "ORONG", "REPOK", "PEMONGKONG", "TELAGA",
    "BUNUT", "KOKOK", "BATU", "PAOK", "SEKAR", "AIK", "LOCO",
)  # fmt: skip
DUSUN_SECOND = (
    "BARU", "LAUK", "DAYA", "TIMUK", "BAT", "TENGAK", "BORENG", "ASRI", "INDAH", "JAYA", "BELEQ", "MENCAK",
    "BIRA", "SELATAN", "UTARA",
)  # fmt: skip
STREETS = (
    "TGH. ZAINUDDIN ABDUL MADJID", "PAHLAWAN", "PROF. M. YAMIN", "HOS COKROAMINOTO", "JENDERAL SUDIRMAN",
    "AHMAD YANI", "DIPONEGORO", "SUPRAPTO", "RINJANI", "CEMPAKA", "ANGGREK", "SAYANG-SAYANG",
)  # fmt: skip
OTHER_BIRTHPLACES = ("MATARAM", "LOMBOK TENGAH", "LOMBOK BARAT", "SUMBAWA", "BIMA", "DENPASAR", "KUALA LUMPUR")
COASTAL = {"520301", "520308", "520310", "520317", "520320"}  # Keruak, Pringgabaya, Sambelia, Labuhan Haji, Jerowaru

RELIGIONS = (
    ("ISLAM", 975), ("HINDU", 12), ("BUDDHA", 5), ("KRISTEN", 5), ("KATOLIK", 2), ("KHONGHUCU", 1),
)  # fmt: skip
BLOOD = (("-", 60), ("O", 15), ("A", 10), ("B", 10), ("AB", 5))
AGE_BANDS = ((17, 25, 22), (25, 35, 24), (35, 45, 20), (45, 55, 15), (55, 65, 10), (65, 75, 6), (75, MAX_AGE, 3))


class _Draw:
    """Weighted choices made cheap: cumulative weights computed once."""

    def __init__(self, rng: random.Random, pairs: tuple[tuple, ...]) -> None:
        self._rng = rng
        self._values = [p[:-1] if len(p) > 2 else p[0] for p in pairs]
        total, self._cumulative = 0, []
        for p in pairs:
            total += p[-1]
            self._cumulative.append(total)

    def __call__(self):
        return self._rng.choices(self._values, cum_weights=self._cumulative)[0]


def generate_residents(count: int, seed: int = 1, *, today: date = DEMO_TODAY) -> Iterator[dict[str, str]]:
    """`count` residents as import rows (column → text), the same for the same seed and `today`."""
    rng = random.Random(seed)
    districts = [d for d in regions.districts_of(regions.LOMBOK_TIMUR) if regions.villages_of(d.code)]
    villages = [regions.villages_of(d.code) for d in districts]
    pick_district = _Draw(rng, tuple((i, len(v)) for i, v in enumerate(villages)))
    pick_religion, pick_blood, pick_band = _Draw(rng, RELIGIONS), _Draw(rng, BLOOD), _Draw(rng, AGE_BANDS)
    earliest = today - timedelta(days=366 * (MAX_AGE + 1))
    span = (today - earliest).days + 1
    serials = array("H", bytes(2 * span * len(districts)))  # last serial used per (kecamatan, birth date)
    for _ in range(count):
        while True:
            index = pick_district()
            low, high = pick_band()
            born = today - timedelta(days=rng.randrange(366 * low, 365 * high))
            slot = index * span + (born - earliest).days
            if serials[slot] < 9999:
                break
        serials[slot] += 1
        yield _resident(rng, districts[index], rng.choice(villages[index]), born, serials[slot], today,
                        pick_religion(), pick_blood())  # fmt: skip


def _resident(
    rng: random.Random,
    district: regions.District,
    village: regions.Village,
    born: date,
    serial: int,
    today: date,
    agama: str,
    blood: str,
) -> dict[str, str]:
    sex = MALE if rng.random() < 0.5 else FEMALE
    age = (today - born).days // 365
    desa = village.name.upper()
    recorded = _recorded_on(rng, born, today)
    return {
        "nik": make_nik(district.code, born, sex, serial),
        "nama": _name(rng, sex, age, agama),
        "tempat_lahir": _birthplace(rng, desa, district.name.upper()),
        "tanggal_lahir": born.isoformat(),
        "jenis_kelamin": sex,
        "gol_darah": blood if blood == "-" else blood + rng.choice(("", "", "", "+")),
        "alamat": _address(rng, village),
        "rt": f"{rng.randint(1, 12):03d}",
        "rw": f"{rng.randint(1, 6):03d}",
        "kel_desa": desa,
        "kecamatan": district.name.upper(),
        "agama": agama,
        "status_perkawinan": _marital_status(rng, age),
        "pekerjaan": _occupation(rng, sex, age, district.code),
        "kewarganegaraan": "WNI",
        "berlaku_hingga": "SEUMUR HIDUP",
        "lokasi_perekaman": "DUKCAPIL" if rng.random() < 0.6 else desa,
        "tanggal_perekaman": recorded.isoformat(),
    }


def _name(rng: random.Random, sex: str, age: int, agama: str) -> str:
    male = sex == MALE
    if agama == "HINDU":
        if male:
            return f"{rng.choice(BALINESE_MALE)} {rng.choice(BALINESE_MALE_NAMES)}"
        return f"{rng.choice(BALINESE_FEMALE)} {rng.choice(BALINESE_FEMALE_NAMES)}"
    if agama in ("KRISTEN", "KATOLIK"):
        given = rng.choice(CHRISTIAN_MALE if male else CHRISTIAN_FEMALE)
        return f"{given} {rng.choice(MALE_SECOND if male else FEMALE_SECOND)}"
    if agama in ("BUDDHA", "KHONGHUCU"):
        return f"{rng.choice(CHINESE_NAMES)} {rng.choice(MALE_NAMES if male else FEMALE_NAMES)}"
    given = rng.choice(MALE_NAMES if male else FEMALE_NAMES)
    roll = rng.random()
    if age >= 55 and roll < 0.12:  # an older villager known by a child's name: Amaq (father of), Inaq (mother of)
        return f"{'AMAQ' if male else 'INAQ'} {rng.choice(FEMALE_NAMES + MALE_NAMES)}"
    parts = [given]
    if rng.random() < 0.7:
        parts.append(rng.choice(MALE_SECOND if male else FEMALE_SECOND))
    if roll > 0.92:  # the Sasak nobility
        parts.insert(0, "LALU" if male else "BAIQ")
    if age >= 45 and rng.random() < 0.12:  # back from the pilgrimage
        parts.insert(0, "H." if male else "HJ.")
    return " ".join(parts)


def _birthplace(rng: random.Random, desa: str, kecamatan: str) -> str:
    roll = rng.random()
    if roll < 0.45:
        return desa
    if roll < 0.7:
        return kecamatan
    if roll < 0.92:
        return "LOMBOK TIMUR"
    return rng.choice(OTHER_BIRTHPLACES)


def _address(rng: random.Random, village: regions.Village) -> str:
    if village.is_kelurahan:
        return f"JL. {rng.choice(STREETS)} NO. {rng.randint(1, 120)}"
    return f"DUSUN {rng.choice(DUSUN_FIRST)} {rng.choice(DUSUN_SECOND)}"


MARITAL_BY_AGE = (  # (below this age, ((status, cumulative share), ...))
    (20, (("BELUM KAWIN", 0.8), ("KAWIN", 1.0))),
    (30, (("BELUM KAWIN", 0.35), ("KAWIN", 0.95), ("CERAI HIDUP", 1.0))),
    (60, (("KAWIN", 0.85), ("CERAI HIDUP", 0.93), ("CERAI MATI", 0.98), ("BELUM KAWIN", 1.0))),
    (MAX_AGE + 2, (("KAWIN", 0.6), ("CERAI MATI", 0.92), ("CERAI HIDUP", 1.0))),
)


def _marital_status(rng: random.Random, age: int) -> str:
    roll = rng.random()
    shares = next(shares for below, shares in MARITAL_BY_AGE if age < below)
    return next(status for status, share in shares if roll < share)


def _occupation(rng: random.Random, sex: str, age: int, district_code: str) -> str:
    if age < 23 and rng.random() < 0.6:
        return "PELAJAR/MAHASISWA"
    if age >= 65:
        return rng.choice(("PETANI/PEKEBUN", "BELUM/TIDAK BEKERJA", "PENSIUNAN", "PEDAGANG"))
    if sex == FEMALE:
        return rng.choice((
            "MENGURUS RUMAH TANGGA", "MENGURUS RUMAH TANGGA", "MENGURUS RUMAH TANGGA", "PETANI/PEKEBUN",
            "PEDAGANG", "WIRASWASTA", "GURU", "PERAWAT", "BIDAN", "KARYAWAN SWASTA", "BURUH HARIAN LEPAS",
        ))  # fmt: skip
    if district_code in COASTAL and rng.random() < 0.3:
        return "NELAYAN/PERIKANAN"
    return rng.choice((
        "PETANI/PEKEBUN", "PETANI/PEKEBUN", "PETANI/PEKEBUN", "BURUH TANI/PERKEBUNAN", "WIRASWASTA", "PEDAGANG",
        "BURUH HARIAN LEPAS", "KARYAWAN SWASTA", "SOPIR", "TUKANG BATU", "GURU", "PEGAWAI NEGERI SIPIL (PNS)",
        "PERANGKAT DESA",
    ))  # fmt: skip


def _recorded_on(rng: random.Random, born: date, today: date) -> date:
    eligible = date(born.year + MIN_AGE, born.month, 28 if (born.month, born.day) == (2, 29) else born.day)
    start = max(eligible, FIRST_RECORDING)
    return start + timedelta(days=rng.randrange(max(1, (today - start).days)))


PROGRESS_ROWS = 5_000


def write_demo_csv(
    path: Path | str,
    count: int,
    seed: int = 1,
    *,
    today: date = DEMO_TODAY,
    on_progress: Callable[[int, int], None] | None = None,
) -> Path:
    """Write `count` demo residents to `path` (UTF-8 CSV, the import format); the file appears whole or not at all.

    `on_progress(done, count)` hears every PROGRESS_ROWS rows, and at the end, how many are written."""
    path = Path(path)
    with atomic_writer(path, encoding="utf-8", newline="") as f:
        writer = SafeDictWriter(f, fieldnames=DEMO_COLUMNS, lineterminator="\n")
        writer.writeheader()
        residents = generate_residents(count, seed, today=today)
        for done in range(0, count, PROGRESS_ROWS):
            writer.writerows(itertools.islice(residents, PROGRESS_ROWS))
            if on_progress is not None:
                on_progress(min(count, done + PROGRESS_ROWS), count)
    return path
