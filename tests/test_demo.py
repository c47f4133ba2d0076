import csv
import subprocess
import sys
from collections import Counter
from datetime import date
from pathlib import Path

from console import regions
from console.demo import DEMO_COLUMNS, DEMO_TODAY, generate_residents, write_demo_csv
from console.nik import check_record_against_nik, parse_nik
from console.resident_import import import_residents
from console.resident_rows import validate_record
from console.residents import count_residents
from console.store import Store

STATION = Path(sys.executable).parent / "station"


def test_the_same_seed_gives_the_same_residents_and_another_seed_others():
    assert list(generate_residents(300, seed=7)) == list(generate_residents(300, seed=7))
    assert list(generate_residents(300, seed=7)) != list(generate_residents(300, seed=8))
    assert list(generate_residents(50, seed=7)) == list(generate_residents(300, seed=7))[:50]


def test_every_resident_is_valid_and_agrees_with_its_nik():
    villages = {code: {v.name.upper() for v in vs} for code, vs in regions.lombok_timur_villages().items()}
    residents = list(generate_residents(3000, seed=11))
    assert len({r["nik"] for r in residents}) == 3000
    for record in residents:
        assert tuple(record) == DEMO_COLUMNS
        resident = validate_record(record, today=date.today())
        nik = parse_nik(resident.nik, DEMO_TODAY)
        assert nik.region.regency_code == "5203" and not nik.region.historical
        assert check_record_against_nik(
            nik, birth_date=date.fromisoformat(record["tanggal_lahir"]), sex=record["jenis_kelamin"],
            kecamatan=record["kecamatan"],
        ) == []  # fmt: skip
        assert record["kel_desa"] in villages[nik.region.code]
        assert 17 <= (DEMO_TODAY - nik.birth_date).days // 365 <= 90
        assert len(record["nama"]) <= 60


def test_the_population_looks_like_east_lombok():
    residents = list(generate_residents(5000, seed=3))
    religions = Counter(r["agama"] for r in residents)
    assert religions["ISLAM"] / len(residents) > 0.95 and len(religions) >= 3
    first_words = Counter(r["nama"].split()[0] for r in residents)
    assert first_words["LALU"] > 50 and first_words["BAIQ"] > 50  # the Sasak nobility
    assert {"MUHAMMAD", "AHMAD", "SITI", "NURUL"} <= {w for r in residents for w in r["nama"].split()}
    assert len({r["kecamatan"] for r in residents}) == 21
    assert Counter(r["jenis_kelamin"] for r in residents).most_common(1)[0][1] < 0.55 * len(residents)
    assert all(r["alamat"].startswith(("DUSUN ", "JL. ")) for r in residents)
    assert all(len(r["rt"]) == 3 and len(r["rw"]) == 3 for r in residents)


async def test_the_demo_file_imports_cleanly(tmp_path):
    path = write_demo_csv(tmp_path / "demo.csv", 2000, seed=5)
    with open(path, encoding="utf-8", newline="") as f:
        assert next(csv.reader(f)) == list(DEMO_COLUMNS)
    rejected = []
    async with await Store.open(tmp_path / "station.db") as store:
        result = await import_residents(store, path, on_reject=rejected.append)
        assert (result.rows, result.added, result.rejected, rejected) == (2000, 2000, 0, [])
        assert await count_residents(store) == 2000
    assert not (tmp_path / "demo.csv.tmp").exists()


def test_cli_demo_data_then_import(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text('[station]\nlanguage = "en"\n[database]\npath = "st.db"\n[logging]\nfile = "st.log"\n')
    out = tmp_path / "demo.csv"
    done = subprocess.run(
        [str(STATION), "demo-data", "--count", "40", "--seed", "9", "--out", str(out), "--config", str(config)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"40 demo residents of East Lombok written to {out} (seed 9)"
    assert len(out.read_text(encoding="utf-8").splitlines()) == 41
    done = subprocess.run([str(STATION), "import", str(out), "--config", str(config)], capture_output=True, text=True,
                          timeout=60)  # fmt: skip
    assert (done.returncode, done.stderr) == (0, "")


def test_cli_demo_data_needs_no_config_and_refuses_a_bad_count(tmp_path):
    done = subprocess.run([str(STATION), "demo-data", "--count", "3", "--out", "d.csv"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=60)  # fmt: skip
    assert done.returncode == 0 and (tmp_path / "d.csv").is_file()
    done = subprocess.run([str(STATION), "demo-data", "--count", "0", "--out", "d.csv"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=60)  # fmt: skip
    assert done.returncode == 2 and "--count" in done.stderr
    done = subprocess.run([str(STATION), "demo-data", "--count", "3", "--out", "no/such/dir/d.csv"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=60)  # fmt: skip
    assert done.returncode == 2 and "no/such/dir/d.csv" in done.stderr
