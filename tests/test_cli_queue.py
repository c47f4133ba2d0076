"""The queue's command line end to end: allocation, enqueue, print, tag, status, doctor, one printer owner."""

from __future__ import annotations

import asyncio
import json
import subprocess
from pathlib import Path

import pytest

from console.demo import write_demo_csv
from tests.command import STATION, station, write_config


def make_station(folder: Path, residents: int = 6, faults: str = "", hopper: int = 50, feeder: int = 100,
                 database: Path | str | None = None) -> Path:  # fmt: skip
    """`database`: the `database` fixture's SQLite file or ledger URL (default: station.db beside the config)."""
    where = {"path": None, "url": database} if isinstance(database, str) else {"path": str(database or "station.db")}
    config = write_config(folder, emulator={"time_scale": 0, "feeder": feeder, "faults": faults,
                                            "state": "emulator-state.json", "log": "output.jsonl"},
                          queue={"hopper_capacity": hopper}, database=where)  # fmt: skip
    write_demo_csv(folder / "residents.csv", residents, seed=11)
    assert station(config, "import", str(folder / "residents.csv")).returncode == 0
    return config


def status(config: Path) -> dict:
    result = station(config, "status", "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_a_day_headless(tmp_path):
    config = make_station(tmp_path)
    assert station(config, "allocation", "add", "JATAH-2026-11", "10", "--period", "2026-11").returncode == 0
    assert station(config, "enqueue", "--all").returncode == 0
    printed = station(config, "print", "--count", "4")
    assert printed.returncode == 0, printed.stderr
    assert [line.startswith("card #") for line in printed.stdout.splitlines()] == [True] * 4 + [False]
    snap = status(config)
    assert (snap["queue"]["queued"], snap["untagged"], snap["stock"]) == (2, 4, 6)
    emulator_state = json.loads((tmp_path / "emulator-state.json").read_text())
    assert snap["printer"]["serial"] == emulator_state["serial"]
    assert snap["printer"]["counter_booked"] == emulator_state["cards"]
    niks = [json.loads(line)["nik"] for line in (tmp_path / "output.jsonl").read_text().splitlines()]
    assert station(config, "tag", niks[0], "good").returncode == 0
    bad = station(config, "tag", niks[1], "bad", "--reason", "salah_data")
    assert bad.returncode == 0 and "BAD" in bad.stdout
    assert station(config, "tag", niks[2], "bad").returncode == 2  # a reason is required
    again = station(config, "enqueue", niks[0])
    assert again.returncode == 4 and "locked" in again.stderr and niks[0] in again.stderr
    [books] = status(config)["allocations"]
    assert (books["good"], books["bad"], books["untagged"], books["in_stock"], books["balanced"]) == (1, 1, 2, 6, True)


def test_print_stops_at_a_fault_with_exit_5_and_says_what_to_do(tmp_path):
    config = make_station(tmp_path, faults="jam@2")
    station(config, "allocation", "add", "A", "10")
    station(config, "enqueue", "--all")
    result = station(config, "print")
    assert result.returncode == 5
    assert "CARD JAM" in result.stderr
    assert status(config)["engine"]["fault"] == "jam"


def test_print_waits_for_tags_at_the_hopper_limit_with_exit_4(tmp_path):
    config = make_station(tmp_path, hopper=2)
    station(config, "allocation", "add", "A", "10")
    station(config, "enqueue", "--all")
    result = station(config, "print")
    assert result.returncode == 4 and "tag" in result.stderr
    assert status(config)["untagged"] == 2


def test_print_without_stock_refuses_with_exit_4(tmp_path):
    config = make_station(tmp_path)
    station(config, "allocation", "add", "A", "2")
    station(config, "enqueue", "--all")
    result = station(config, "print")
    assert result.returncode == 4 and "no blank left" in result.stderr
    assert status(config)["stock"] == 0


def test_physical_count_shows_the_difference(tmp_path):
    config = make_station(tmp_path)
    station(config, "allocation", "add", "A", "10")
    result = station(config, "allocation", "count", "A", "8", "--note", "two missing")
    assert result.returncode == 0 and "-2" in result.stdout
    listing = json.loads(station(config, "allocation", "list", "--json").stdout)
    assert listing[0]["count_difference"] == -2 and listing[0]["balanced"]


def test_second_printer_owner_is_refused_with_exit_4(tmp_path):
    from console.owner import PrinterOwnership

    config = make_station(tmp_path)
    station(config, "allocation", "add", "A", "10")
    station(config, "enqueue", "--all")
    with PrinterOwnership(tmp_path / "station.db"):  # the lock is between processes
        result = station(config, "print", process=True)
    assert result.returncode == 4
    assert "held by another process" in result.stderr and "supervise" in result.stderr


def test_doctor_reports_each_part(tmp_path):
    config = make_station(tmp_path)
    result = station(config, "doctor")
    lines = result.stdout.splitlines()
    assert [line.split()[0] for line in lines] == ["config", "database", "audit", "printer", "keys"]
    assert "[ OK ]" in lines[3] and "Evolis" in lines[3]
    assert "[FAIL]" in lines[4]  # no central key configured
    assert result.returncode == 2


@pytest.mark.parametrize("args", [["enqueue"], ["enqueue", "--all", "5203010101900001"]])
def test_enqueue_usage_errors(tmp_path, args):
    config = make_station(tmp_path, residents=1)
    result = station(config, *args)
    assert result.returncode == 2 and "NIK" in result.stderr


def test_doctor_lists_the_centres_keys_when_configured(tmp_path):
    config = make_station(tmp_path, residents=1)
    keygen = station(None, "central", "keygen", "--out", str(tmp_path / "keys"))
    assert keygen.returncode == 0, keygen.stderr
    [public] = [p for p in (tmp_path / "keys").iterdir() if "pub" in p.name]
    config.write_text(config.read_text() + f'\n[central]\npublic_keys = ["{public}"]\n')
    result = station(config, "doctor")
    assert result.returncode == 0, result.stdout
    keys_line = result.stdout.splitlines()[-1]
    assert keys_line.startswith("keys") and "[ OK ]" in keys_line and "1 central public keys" in keys_line


def record_request(database: Path, kind: str, requester: str) -> None:
    from console.requests import request
    from console.store import Store

    async def record() -> None:
        store = await Store.open(database, create=False)
        try:
            await request(store, kind, requester)
        finally:
            await store.close()

    asyncio.run(record())


def test_a_supervisors_pause_holds_headless_printing_until_the_resume(tmp_path):
    config = make_station(tmp_path, residents=3)
    assert station(config, "allocation", "add", "JATAH-2026-11", "10", "--period", "2026-11").returncode == 0
    assert station(config, "enqueue", "--all").returncode == 0
    record_request(tmp_path / "station.db", "pause", "ana")
    with subprocess.Popen([STATION, "print", "--config", str(config)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True) as proc:  # fmt: skip
        try:
            first = proc.stdout.readline()  # blocks until the run says it is paused (or ends, and the test fails)
            assert "PAUSED at ana's request" in first, (first, proc.poll())
            assert proc.poll() is None and status(config)["untagged"] == 0
            record_request(tmp_path / "station.db", "resume", "ana")
            out, err = proc.communicate(timeout=120)
        finally:
            proc.kill()
    assert proc.returncode == 0, err
    lines = out.splitlines()
    assert lines[0] == "printing resumed at ana's request"
    assert [line.startswith("card #") for line in lines[1:]] == [True] * 3 + [False]
    assert status(config)["untagged"] == 3
