"""One printer owner: of two `station print` started together, exactly one holds the printer; the other exits 4."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from console.owner import PrinterHeldError, PrinterOwnership
from tests.test_cli_queue import make_station, station

STATION = str(Path(sys.executable).with_name("station"))


def slow_station(folder: Path) -> Path:
    config = make_station(folder, residents=4)
    text = config.read_text().replace("time_scale = 0", "time_scale = 0.1")
    config.write_text(text)
    assert station(config, "allocation", "add", "A", "10").returncode == 0
    assert station(config, "enqueue", "--all").returncode == 0
    return config


def start_print(config: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [STATION, "print", "--count", "1", "--config", str(config)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.parametrize("round_number", range(3))
def test_two_owners_started_together_exactly_one_wins(tmp_path, round_number):
    config = slow_station(tmp_path)
    first, second = start_print(config), start_print(config)
    results = [(p.wait(timeout=120), p.stderr.read()) for p in (first, second)]
    codes = sorted(code for code, _ in results)
    assert codes == [0, 4], results
    loser = next(err for code, err in results if code == 4)
    assert "held by another process" in loser and "pid" in loser


def test_a_second_owner_while_the_first_prints_is_refused_naming_it(tmp_path):
    config = slow_station(tmp_path)
    first = subprocess.Popen(
        [STATION, "print", "--count", "3", "--config", str(config)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert first.stdout.readline().startswith("card #")  # a card is out: it holds the printer, two more to go
        second = station(config, "print")
        assert second.returncode == 4
        assert f"pid {first.pid}" in second.stderr
    finally:
        assert first.wait(timeout=120) == 0


def test_the_lock_is_released_when_its_holder_dies(tmp_path):
    database = tmp_path / "station.db"
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time; from console.owner import PrinterOwnership;"
         f"o = PrinterOwnership(__import__('pathlib').Path({str(database)!r})); o.acquire();"
         "print('held', flush=True); sys.stdin.read()"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    assert holder.stdout.readline().strip() == "held"
    with pytest.raises(PrinterHeldError):
        PrinterOwnership(database).acquire()
    holder.kill()
    holder.wait()
    with PrinterOwnership(database):
        pass
