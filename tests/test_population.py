"""A village's population with its KTP-el status (`station population import`, files.md) and the per-village
counts the station shows (`station population status`), through the real command line on a real SQLite file."""

from __future__ import annotations

import csv
import json
from datetime import date, timedelta
from pathlib import Path

from console.clock import fix_today
from console.nik import FEMALE, MALE, make_nik
from tests.command import station, write_config
from tests.test_wajib import person, write_residents

POPULATION_COLUMNS = [
    "nik", "nama", "tanggal_lahir", "jenis_kelamin", "kel_desa", "kecamatan", "status_perkawinan", "status_ktp",
]  # fmt: skip
TODAY = date(2026, 12, 1)


def villager(serial: int, born: date, status: str, sex: str = MALE, desa: str = "PANCOR", **over: str) -> dict:
    row = {
        "nik": make_nik("520307", born, sex, serial),
        "nama": f"WARGA {serial}",
        "tanggal_lahir": born.isoformat(),
        "jenis_kelamin": sex,
        "kel_desa": desa,
        "kecamatan": "SELONG",
        "status_perkawinan": "BELUM KAWIN" if born.year > 2005 else "KAWIN",
        "status_ktp": status,
    }
    row.update(over)
    return row


def write_population(path: Path, rows: list[dict], columns: list[str] = POPULATION_COLUMNS) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return path


ADULT = date(1980, 5, 5)
PANCOR = [
    villager(1, ADULT, "BELUM_REKAM"),
    villager(2, ADULT, "BELUM_REKAM", FEMALE),
    villager(3, ADULT, "SUDAH_REKAM"),
    villager(4, ADULT, "PRINT_READY_RECORD"),
    villager(5, ADULT, "CARD_PRINTED"),
    villager(6, ADULT, "CARD_ISSUED", FEMALE),
    villager(7, date(2012, 3, 3), "BELUM_WAJIB"),  # 14
]
SUKARAJA = [villager(8, ADULT, "BELUM_REKAM", desa="SUKARAJA"), villager(9, ADULT, "CARD_ISSUED", desa="SUKARAJA")]


def counts(config: Path) -> dict[str, dict]:
    result = station(config, "population", "status", "--json")
    assert result.returncode == 0, result.stderr
    return {
        v["kel_desa"]: {k: v[k] for k in v if k not in ("kecamatan", "kel_desa")} for v in json.loads(result.stdout)
    }


def test_the_population_counted_per_village_by_card_status(tmp_path):
    fix_today(TODAY)
    config = write_config(tmp_path)
    result = station(config, "population", "import", str(write_population(tmp_path / "desa.csv", PANCOR + SUKARAJA)))
    assert result.returncode == 0, result.stderr
    assert "9 rows, 9 added" in result.stdout
    assert counts(config) == {
        "PANCOR": {"people": 7, "wajib": 6, "not_recorded": 2, "recorded": 4, "print_ready": 1, "printed": 1,
                   "handed_over": 1},
        "SUKARAJA": {"people": 2, "wajib": 2, "not_recorded": 1, "recorded": 1, "print_ready": 0, "printed": 0,
                     "handed_over": 1},
    }  # fmt: skip
    table = station(config, "population", "status")
    assert table.returncode == 0 and "PANCOR" in table.stdout and "SUKARAJA" in table.stdout
    again = station(config, "population", "import", str(tmp_path / "desa.csv"), "--json")
    assert json.loads(again.stdout)["unchanged"] == 9


def test_bad_rows_are_named_by_row_and_field_exit_3_and_the_good_rows_are_imported(tmp_path):
    fix_today(TODAY)
    config = write_config(tmp_path)
    rows = [
        villager(1, ADULT, "BELUM_REKAM"),
        villager(2, ADULT, "SOMETHING"),  # row 3: status_ktp
        villager(3, ADULT, "BELUM_REKAM", tanggal_lahir="1980-05-06"),  # row 4: disagrees with the NIK
        villager(4, ADULT, "BELUM_REKAM", jenis_kelamin="PEREMPUAN"),  # row 5: sex disagrees with the NIK
        villager(5, ADULT, "BELUM_REKAM", nama=""),  # row 6: required
        villager(1, ADULT, "SUDAH_REKAM"),  # row 7: the NIK of row 2 again: both rejected
    ]
    result = station(config, "population", "import", str(write_population(tmp_path / "desa.csv", rows)))
    assert result.returncode == 3
    lines = result.stderr.splitlines()
    assert any("row 3" in line and "status_ktp" in line and "SOMETHING" in line for line in lines), lines
    assert any("row 4" in line and "tanggal_lahir" in line for line in lines), lines
    assert any("row 5" in line and "jenis_kelamin" in line for line in lines), lines
    assert any("row 6" in line and "nama" in line for line in lines), lines
    assert any("row 2" in line and "nik" in line for line in lines) and any("row 7" in line for line in lines)
    assert counts(config) == {}  # no row was good: nothing counted


def test_a_file_with_a_missing_column_is_refused_whole(tmp_path):
    fix_today(TODAY)
    config = write_config(tmp_path)
    path = write_population(tmp_path / "desa.csv", PANCOR, POPULATION_COLUMNS[:-1])
    result = station(config, "population", "import", str(path))
    assert result.returncode == 2 and "status_ktp" in result.stderr
    assert counts(config) == {}


def test_the_stations_own_records_win_over_the_files_status(tmp_path):
    fix_today(TODAY)
    config = write_config(tmp_path, emulator={"time_scale": 0, "feeder": 10})
    recorded = person(30, ADULT, marital="KAWIN")  # recorded at the station: print-ready here
    printed = person(31, ADULT, marital="KAWIN")  # and one printed, good
    write_residents(tmp_path / "rekam.csv", [recorded, printed])
    assert station(config, "import", str(tmp_path / "rekam.csv")).returncode == 0
    assert station(config, "allocation", "add", "A", "5").returncode == 0
    # The file says neither was recorded: the village's system has not heard yet.
    village = [
        villager(30, ADULT, "BELUM_REKAM", nama=recorded["nama"], status_perkawinan="KAWIN"),
        villager(31, ADULT, "BELUM_REKAM", nama=printed["nama"], status_perkawinan="KAWIN"),
        villager(32, ADULT, "BELUM_REKAM"),
    ]
    assert station(config, "population", "import", str(write_population(tmp_path / "d.csv", village))).returncode == 0
    assert counts(config)["PANCOR"] == {
        "people": 3, "wajib": 3, "not_recorded": 1, "recorded": 2, "print_ready": 2, "printed": 0, "handed_over": 0,
    }  # fmt: skip
    assert station(config, "enqueue", printed["nik"]).returncode == 0
    assert station(config, "print").returncode == 0
    assert counts(config)["PANCOR"]["printed"] == 1  # waiting for its tag: a card exists
    assert station(config, "tag", printed["nik"], "bad", "--reason", "gagal_cetak").returncode == 0
    assert counts(config)["PANCOR"]["print_ready"] == 2  # a bad card: it waits for its reprint


async def test_a_big_file_is_written_in_batches_and_its_one_bad_row_named(tmp_path):
    from console.population_import import import_population
    from console.store import Store

    fix_today(TODAY)
    rows = [villager(1 + i // 3000, ADULT + timedelta(days=i % 3000), "BELUM_REKAM") for i in range(5000)]
    rows[3999]["status_ktp"] = "RUSAK"  # row 4001 of the file
    path = write_population(tmp_path / "besar.csv", rows)
    rejected = []
    async with await Store.open(tmp_path / "station.db") as store:
        result = await import_population(store, path, on_reject=rejected.append, batch_rows=700)
        assert (result.rows, result.added, result.rejected) == (5000, 4999, 1)
        assert [(r.row, [p.column for p in r.problems]) for r in rejected] == [(4001, ["status_ktp"])]
        again = await import_population(store, path, batch_rows=700)
        assert (again.added, again.updated, again.unchanged) == (0, 0, 4999)
        [entry] = await store.fetchall("SELECT count(*) AS n FROM audit WHERE action = 'population.imported'")
        assert entry["n"] == 2
