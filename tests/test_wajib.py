"""Wajib KTP-el: a card is queued only for a resident who must hold one on the day (17 years old, or married or
once married), by the one lock rule on every path; on a fixed station day, through the real command line."""

from __future__ import annotations

import csv
import json
from datetime import date
from pathlib import Path

from console import jobs, locks
from console.clock import fix_today
from console.nik import FEMALE, MALE, make_nik
from console.store import Store
from tests.command import station, write_config

COLUMNS = [
    "nik", "nama", "tempat_lahir", "tanggal_lahir", "jenis_kelamin", "alamat", "rt", "rw", "kel_desa", "kecamatan",
    "agama", "status_perkawinan", "pekerjaan",
]  # fmt: skip


def person(serial: int, born: date, sex: str = MALE, marital: str = "BELUM KAWIN", **overrides: str) -> dict:
    record = {
        "nik": make_nik("520307", born, sex, serial),
        "nama": f"LALU WAJIB {serial}",
        "tempat_lahir": "SELONG",
        "tanggal_lahir": born.isoformat(),
        "jenis_kelamin": sex,
        "alamat": "JL. PAHLAWAN NO. 7",
        "rt": "1",
        "rw": "2",
        "kel_desa": "PANCOR",
        "kecamatan": "SELONG",
        "agama": "ISLAM",
        "status_perkawinan": marital,
        "pekerjaan": "PELAJAR",
    }
    record.update(overrides)
    return record


def write_residents(path: Path, rows: list[dict]) -> Path:
    """The residents file (files.md) of these rows: the required columns, and any other column the rows have."""
    columns = [*COLUMNS, *(c for c in rows[0] if c not in COLUMNS)]
    with open(path, "w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    return path


def station_with(tmp_path: Path, rows: list[dict], on: date) -> Path:
    fix_today(on)
    config = write_config(tmp_path)
    imported = station(config, "import", str(write_residents(tmp_path / "rekam.csv", rows)))
    assert imported.returncode == 0, imported.stderr
    return config


def test_a_resident_straddling_the_17th_birthday_is_refused_the_day_before_and_queued_on_the_day(tmp_path):
    teen = person(1, date(2009, 12, 2))
    config = station_with(tmp_path, [teen], date(2026, 12, 1))
    refused = station(config, "enqueue", teen["nik"])
    assert refused.returncode == 4
    assert teen["nik"] in refused.stderr and "not yet obliged" in refused.stderr and "2 Dec 2026" in refused.stderr
    fix_today(date(2026, 12, 2))
    queued = station(config, "enqueue", teen["nik"])
    assert queued.returncode == 0, queued.stderr


def test_born_on_29_february_turns_17_on_1_march(tmp_path):
    leap = person(2, date(2008, 2, 29))
    config = station_with(tmp_path, [leap], date(2025, 2, 28))
    refused = station(config, "enqueue", leap["nik"])
    assert refused.returncode == 4 and "1 Mar 2025" in refused.stderr
    fix_today(date(2025, 3, 1))
    assert station(config, "enqueue", leap["nik"]).returncode == 0
    listed = json.loads(station(config, "population", "wajib", "2025-03", "--json").stdout)
    assert [(p["nik"], p["wajib_from"]) for p in listed] == [(leap["nik"], "2025-03-01")]
    assert json.loads(station(config, "population", "wajib", "2025-02", "--json").stdout) == []


def test_married_or_once_married_at_16_is_wajib_and_unmarried_at_16_is_not(tmp_path):
    born = date(2010, 6, 1)  # 16 on the day
    married, divorced, widowed, single = (
        person(3, born, marital="KAWIN"),
        person(4, born, FEMALE, marital="CERAI HIDUP"),
        person(5, born, marital="CERAI MATI"),
        person(6, born, FEMALE),
    )
    config = station_with(tmp_path, [married, divorced, widowed, single], date(2026, 12, 1))
    assert station(config, "enqueue", married["nik"], divorced["nik"], widowed["nik"]).returncode == 0
    refused = station(config, "enqueue", single["nik"])
    assert refused.returncode == 4 and "1 Jun 2027" in refused.stderr


def test_the_day_is_the_files_full_birth_date_the_nik_agreeing_on_day_month_and_two_year_digits(tmp_path):
    # A woman's NIK adds 40 to the day: born on the 7th, her NIK says 47. And a NIK's two year digits cannot say
    # the century: a woman of 117 born in 1909 has the same digits as a girl born in 2009.
    girl = person(7, date(2009, 12, 7), FEMALE)
    elder = person(8, date(1909, 12, 7), FEMALE, marital="CERAI MATI")
    elder_single = person(9, date(1909, 12, 7), FEMALE)
    assert girl["nik"][6:12] == "471209" == elder["nik"][6:12]
    config = station_with(tmp_path, [girl, elder, elder_single], date(2026, 12, 6))
    refused = station(config, "enqueue", girl["nik"])
    assert refused.returncode == 4 and "7 Dec 2026" in refused.stderr
    assert station(config, "enqueue", elder["nik"], elder_single["nik"]).returncode == 0
    fix_today(date(2026, 12, 7))
    assert station(config, "enqueue", girl["nik"]).returncode == 0


def test_the_bulk_queue_leaves_out_who_is_not_yet_wajib_and_says_how_many(tmp_path):
    adult, teen, married_teen = (
        person(10, date(1990, 1, 1)),
        person(11, date(2010, 1, 1)),
        person(12, date(2010, 1, 1), marital="KAWIN"),
    )
    config = station_with(tmp_path, [adult, teen, married_teen], date(2026, 12, 1))
    result = station(config, "enqueue", "--all")
    assert result.returncode == 0
    assert "2" in result.stdout and "1 residents not yet obliged" in result.stderr
    status = json.loads(station(config, "status", "--json").stdout)
    assert status["queue"]["queued"] == 2
    fix_today(date(2027, 1, 1))
    again = station(config, "enqueue", "--all")
    assert again.returncode == 0 and "not yet obliged" not in again.stderr
    assert json.loads(station(config, "status", "--json").stdout)["queue"]["queued"] == 3


async def test_every_path_asks_the_same_rule_one_nik_the_bulk_count_and_the_refusal(tmp_path):
    teen = person(13, date(2009, 12, 2))
    config = station_with(tmp_path, [teen], date(2026, 12, 1))
    async with await Store.open(tmp_path / "station.db") as store:
        refusal = await locks.refusal(store, teen["nik"])
        assert refusal is not None and (refusal.code, refusal.since) == ("not_wajib", "2026-12-02")
        assert await jobs.count_ready(store) == 0
        assert await jobs.enqueue_ready(store, "test") == 0
        result = await jobs.enqueue(store, [teen["nik"]], "test")
        assert result.queued == [] and [r.code for r in result.refused] == ["not_wajib"]
        assert await locks.refusal(store, teen["nik"], on=date(2026, 12, 2)) is None
        fix_today(date(2026, 12, 2))
        assert await jobs.count_ready(store) == 1
    assert config.exists()


def test_residents_becoming_wajib_in_a_month_by_day(tmp_path):
    rows = [
        person(20, date(2009, 12, 31)),
        person(21, date(2009, 12, 1), FEMALE),
        person(22, date(2009, 11, 30)),
        person(23, date(2010, 1, 1)),
        person(24, date(2009, 12, 15), marital="KAWIN"),  # wajib already, by marriage
    ]
    config = station_with(tmp_path, rows, date(2026, 11, 1))
    listed = json.loads(station(config, "population", "wajib", "2026-12", "--json").stdout)
    assert [(p["nik"], p["wajib_from"]) for p in listed] == [
        (rows[1]["nik"], "2026-12-01"),
        (rows[0]["nik"], "2026-12-31"),
    ]
    text = station(config, "population", "wajib", "2026-12")
    assert text.returncode == 0 and "2 residents become wajib KTP-el in 2026-12" in text.stdout
    bad = station(config, "population", "wajib", "2026-13")
    assert bad.returncode == 2 and "2026-13" in bad.stderr


def test_the_engine_asks_the_rule_again_as_it_takes_the_blank_a_clock_set_back_spends_none(tmp_path):
    teen = person(14, date(2009, 12, 2))
    config = station_with(tmp_path, [teen], date(2026, 12, 2))
    config.write_text(config.read_text() + '[emulator]\ntime_scale = 0\nfeeder = 5\nstate = "emu.json"\n')
    assert station(config, "allocation", "add", "A", "5").returncode == 0
    assert station(config, "enqueue", teen["nik"]).returncode == 0  # wajib on the day it was queued
    fix_today(date(2026, 12, 1))  # the station's calendar set back a day before it prints
    station(config, "print")
    status = json.loads(station(config, "status", "--json").stdout)
    assert status["queue"]["held"] == 1 and status["stock"] == 5  # held by the rule: no blank spent, no lock
    assert json.loads(station(config, "allocation", "list", "--json").stdout)[0]["in_stock"] == 5
