"""Shared set-up of the hand-over tests (no tests here): residents of two villages of Selong in the import format,
the station's config with its [handover] section, the command in this process, and PDFs read back."""

from __future__ import annotations

import csv
import io
import sqlite3
import subprocess
from datetime import date
from pathlib import Path
from typing import Any

from pypdf import PdfReader

from console import regions
from console.nik import make_nik
from tests import command

ALLOCATION = "JATAH-2026-12"
SELONG = "520307"
COLUMNS = ("nik", "nama", "tempat_lahir", "tanggal_lahir", "jenis_kelamin", "alamat", "rt", "rw", "kel_desa",
           "kecamatan", "agama", "status_perkawinan", "pekerjaan")  # fmt: skip


def two_villages() -> tuple[regions.Village, regions.Village]:
    first, second = regions.villages_of(SELONG)[:2]
    return first, second


def batch_of(village: regions.Village) -> str:
    code = village.code
    return f"desa:{code[0:2]}.{code[2:4]}.{code[4:6]}.{code[6:10]}"


def write_residents(
    path: Path, per_village: tuple[int, int], names: dict[int, str] | None = None
) -> dict[str, list[str]]:
    """`per_village` residents in each of two villages of Selong; returns their NIKs by village code."""
    names = names or {}
    by_village: dict[str, list[str]] = {}
    rows, serial = [], 0
    for village, count in zip(two_villages(), per_village, strict=True):
        for _ in range(count):
            serial += 1
            nik = make_nik(SELONG, date(1990, 1, 1), "LAKI-LAKI", serial)
            by_village.setdefault(village.code, []).append(nik)
            rows.append((nik, names.get(serial, f"LALU AHMAD {serial}"), "SELONG", "1990-01-01", "LAKI-LAKI",
                         "JL. PAHLAWAN NO. 7", "002", "001", village.name.upper(), "SELONG", "ISLAM", "KAWIN",
                         "PETANI"))  # fmt: skip
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(COLUMNS)
        writer.writerows(rows)
    return by_village


def write_config(folder: Path, public_keys: tuple[str, ...] = (), language: str = "en", **handover: Any) -> Path:
    return command.write_config(
        folder,
        station={"language": language},
        central={"public_keys": list(public_keys)},
        printer={"port": "emulator", "reply_timeout_s": 5},
        emulator={"time_scale": 0, "feeder": 100, "state": "emulator-state.json", "log": "output.jsonl"},
        handover={"slips": "slips", **handover},
    )


def station(config: Path | None, *args: str, stdin: str = "") -> subprocess.CompletedProcess:
    return command.station(config, *args, stdin=stdin)


def ok(result: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    assert result.returncode == 0, result.stderr
    return result


def refused(result: subprocess.CompletedProcess, *words: str) -> str:
    assert result.returncode == 4, (result.returncode, result.stdout, result.stderr)
    for word in words:
        assert word in result.stderr, (word, result.stderr)
    return result.stderr


def pdf_text(path: Path) -> str:
    reader = PdfReader(io.BytesIO(path.read_bytes()))
    return "\n".join(page.extract_text() for page in reader.pages)


def query(db: Path, sql: str, *params: Any) -> list[tuple]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def csv_rows(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))


def printed_station(folder: Path, per_village: tuple[int, int] = (2, 1), bad: int = 0, blanks: int = 10,
                    language: str = "en", **handover: Any) -> tuple[Path, dict[str, list[str]]]:  # fmt: skip
    """Two villages imported, queued, printed on the emulator and tagged: all good but the last `bad` residents."""
    config = write_config(folder, language=language, **handover)
    niks = write_residents(folder / "residents.csv", per_village)
    ok(station(config, "import", str(folder / "residents.csv")))
    ok(station(config, "allocation", "add", ALLOCATION, str(blanks), "--period", "2026-12"))
    ok(station(config, "enqueue", "--all"))
    ok(station(config, "print"))
    everyone = [nik for village in niks.values() for nik in village]
    for i, nik in enumerate(everyone):
        if i >= len(everyone) - bad:
            ok(station(config, "tag", nik, "bad", "--reason", "rusak_fisik"))
        else:
            ok(station(config, "tag", nik, "good"))
    return config, niks
