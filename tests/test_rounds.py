"""Recording rounds through the real command line: villages in the order a kit-day records the most residents not
yet recorded, a kit in one village a day, a round closed once, and the round's residents (batch `round:ID`)."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

from console import rounds
from console.clock import fix_today
from console.store import Store
from tests.command import station, write_config
from tests.test_population import villager, write_population
from tests.test_wajib import person, write_residents

TODAY = date(2026, 12, 1)
ADULT = date(1980, 5, 5)


def village(name: str, not_recorded: int, recorded: int, first_serial: int) -> list[dict]:
    """`not_recorded` wajib adults not recorded and `recorded` recorded, each born on another day."""
    rows = []
    for i in range(not_recorded + recorded):
        born = ADULT + timedelta(days=i)
        rows.append(villager(first_serial, born, "BELUM_REKAM" if i < not_recorded else "SUDAH_REKAM", desa=name))
    return rows


def regency(tmp_path: Path) -> Path:
    fix_today(TODAY)
    config = write_config(tmp_path, planning={"recordings_per_kit_day": 50, "max_round_days": 3})
    rows = (
        village("ALPHA", 200, 10, 1)  # 3 days (capped), 150 reached: 50 a kit-day
        + village("BRAVO", 40, 0, 2)  # 1 day: 40 a kit-day
        + village("CHARLIE", 130, 5, 3)  # 3 days: 130 / 3 = 43.3 a kit-day
        + village("DELTA", 90, 0, 4)  # 2 days: 45 a kit-day
        + village("ECHO", 0, 20, 5)  # all recorded: no round
    )
    result = station(config, "population", "import", str(write_population(tmp_path / "desa.csv", rows)))
    assert result.returncode == 0, result.stderr
    return config


def test_villages_in_order_of_residents_recorded_a_kit_day_and_rounds_planned_back_to_back(tmp_path):
    config = regency(tmp_path)
    suggested = json.loads(station(config, "rounds", "plan", "--suggest", "--json").stdout)
    assert [(v["kel_desa"], v["not_recorded"], v["days"]) for v in suggested] == [
        ("ALPHA", 200, 3),
        ("DELTA", 90, 2),
        ("CHARLIE", 130, 3),
        ("BRAVO", 40, 1),
    ]
    planned = station(config, "rounds", "plan", "--kit", "KIT-1", "--team", "TIM A", "--from", "2026-12-07",
                      "--count", "2", "--json")  # fmt: skip
    assert planned.returncode == 0, planned.stderr
    listed = json.loads(station(config, "rounds", "list", "--json").stdout)
    assert [(r["kel_desa"], r["starts_on"], r["ends_on"], r["kit"], r["state"]) for r in listed] == [
        ("ALPHA", "2026-12-07", "2026-12-09", "KIT-1", "planned"),
        ("DELTA", "2026-12-10", "2026-12-11", "KIT-1", "planned"),
    ]
    # The villages with an open round step aside: the next kit goes on down the list.
    again = json.loads(station(config, "rounds", "plan", "--suggest", "--json").stdout)
    assert [v["kel_desa"] for v in again] == ["CHARLIE", "BRAVO"]


def test_a_kit_is_in_one_village_a_day(tmp_path):
    config = regency(tmp_path)
    first = station(config, "rounds", "plan", "--kit", "KIT-1", "--team", "TIM A", "--from", "2026-12-07",
                    "--desa", "ALPHA")  # fmt: skip
    assert first.returncode == 0, first.stderr
    clash = station(config, "rounds", "plan", "--kit", "KIT-1", "--team", "TIM B", "--from", "2026-12-09",
                    "--desa", "BRAVO")  # fmt: skip
    assert clash.returncode == 4 and "KIT-1" in clash.stderr and "ALPHA" in clash.stderr
    other_kit = station(config, "rounds", "plan", "--kit", "KIT-2", "--team", "TIM B", "--from", "2026-12-09",
                        "--desa", "BRAVO")  # fmt: skip
    assert other_kit.returncode == 0, other_kit.stderr
    unknown = station(config, "rounds", "plan", "--kit", "KIT-3", "--team", "TIM C", "--from", "2026-12-09",
                      "--desa", "NOWHERE")  # fmt: skip
    assert unknown.returncode == 2 and "NOWHERE" in unknown.stderr
    bad_day = station(config, "rounds", "plan", "--kit", "KIT-3", "--team", "T", "--from", "2026-02-30")
    assert bad_day.returncode == 2 and "2026-02-30" in bad_day.stderr
    assert len(json.loads(station(config, "rounds", "list", "--json").stdout)) == 2


def test_a_round_is_closed_once_after_it_started(tmp_path):
    config = regency(tmp_path)
    station(config, "rounds", "plan", "--kit", "KIT-1", "--team", "TIM A", "--from", "2026-12-07", "--desa", "ALPHA")
    early = station(config, "rounds", "close", "1", "--recorded", "140")
    assert early.returncode == 4 and "2026-12-07" in early.stderr
    fix_today(date(2026, 12, 9))
    closed = station(config, "rounds", "close", "1", "--recorded", "140")
    assert closed.returncode == 0, closed.stderr
    twice = station(config, "rounds", "close", "1", "--recorded", "141")
    assert twice.returncode == 4
    assert station(config, "rounds", "close", "9", "--recorded", "1").returncode == 2
    [listed] = json.loads(station(config, "rounds", "list", "--json").stdout)
    assert (listed["state"], listed["recorded"]) == ("closed", 140)
    audit = station(config, "audit", "verify")
    assert audit.returncode == 0, audit.stderr


async def test_a_rounds_residents_are_those_recorded_in_its_village_on_its_days(tmp_path):
    config = regency(tmp_path)
    station(config, "rounds", "plan", "--kit", "KIT-1", "--team", "TIM A", "--from", "2026-12-07", "--desa", "ALPHA")
    fix_today(date(2026, 12, 10))
    in_round = [person(40 + i, ADULT + timedelta(days=i), marital="KAWIN", kel_desa="ALPHA",
                       lokasi_perekaman="ALPHA", tanggal_perekaman=f"2026-12-0{7 + i}") for i in range(3)]  # fmt: skip
    at_office = person(50, ADULT, marital="KAWIN", kel_desa="ALPHA", lokasi_perekaman="DUKCAPIL",
                       tanggal_perekaman="2026-12-08")  # fmt: skip
    day_after = person(51, ADULT, marital="KAWIN", kel_desa="ALPHA", lokasi_perekaman="ALPHA",
                       tanggal_perekaman="2026-12-10")  # fmt: skip
    write_residents(tmp_path / "rekam.csv", [*in_round, at_office, day_after])
    imported = station(config, "import", str(tmp_path / "rekam.csv"))
    assert imported.returncode == 0, imported.stderr
    async with await Store.open(tmp_path / "station.db") as store:
        assert await rounds.round_niks(store, 1) == sorted(p["nik"] for p in in_round)
        assert [await rounds.rounds_of(store, p["nik"]) for p in (*in_round, at_office, day_after)] == [
            [1],
            [1],
            [1],
            [],
            [],
        ]
    [listed] = json.loads(station(config, "rounds", "list", "--json").stdout)
    assert listed["residents"] == 3

    # the round is a distribution batch: released once its recorded residents' cards are all good
    for args in (("allocation", "add", "JATAH-2026-12", "10", "--period", "2026-12"), ("enqueue", "--all"), ("print",)):
        done = station(config, *args)
        assert done.returncode == 0, done.stderr
    held = station(config, "handover", "release", "round:1")
    assert held.returncode == 4 and "3" in held.stderr  # three residents' cards still wait for their tag
    for p in (*in_round, at_office, day_after):
        assert station(config, "tag", p["nik"], "good").returncode == 0
    [batch] = [
        b for b in json.loads(station(config, "handover", "batches", "--json").stdout) if b["batch"] == "round:1"
    ]
    assert (batch["residents"], batch["printed_good"], batch["released"]) == (3, 3, False)
    released = station(config, "handover", "release", "round:1")
    assert released.returncode == 0, released.stderr
    unknown = station(config, "handover", "release", "round:9")
    assert unknown.returncode == 2 and "9" in unknown.stderr
