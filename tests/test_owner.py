"""One printer owner: of two `station print` started together, exactly one holds the printer; the other exits 4."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from console.owner import LOCK_DIR_ENV, PrinterHeldError, PrinterOwnership
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
        [STATION, "print", "--count", "1", "--config", str(config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
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
        [
            sys.executable,
            "-c",
            "import sys, time; from console.owner import PrinterOwnership;"
            f"o = PrinterOwnership(__import__('pathlib').Path({str(database)!r})); o.acquire();"
            "print('held', flush=True); sys.stdin.read()",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout.readline().strip() == "held"
    with pytest.raises(PrinterHeldError):
        PrinterOwnership(database).acquire()
    holder.kill()
    holder.wait()
    with PrinterOwnership(database):
        pass


# --------------------------------------------------------------------------------------------------------------
# The lock is keyed on what is locked, not on how its path is spelled


def test_a_symlink_to_the_database_finds_the_same_lock(tmp_path):
    database = tmp_path / "station.db"
    database.write_bytes(b"")
    (tmp_path / "elsewhere").mkdir()
    link = tmp_path / "elsewhere" / "another-name.db"
    link.symlink_to(database)
    with PrinterOwnership(database):
        with pytest.raises(PrinterHeldError):
            PrinterOwnership(link).acquire()
        with pytest.raises(PrinterHeldError):
            PrinterOwnership(tmp_path / "elsewhere" / ".." / "station.db").acquire()
    assert PrinterOwnership(link).path == PrinterOwnership(database).path


def test_a_hard_link_to_the_database_finds_the_same_lock(tmp_path, lock_dir):
    database = tmp_path / "station.db"
    database.write_bytes(b"SQLite format 3\x00")
    (tmp_path / "elsewhere").mkdir()
    linked = tmp_path / "elsewhere" / "station.db"
    os.link(database, linked)
    with PrinterOwnership(database), pytest.raises(PrinterHeldError):
        PrinterOwnership(linked).acquire()
    with PrinterOwnership(linked):  # released with its holder
        pass


@pytest.fixture
def lock_dir(tmp_path, monkeypatch):
    folder = tmp_path / "locks"
    monkeypatch.setenv(LOCK_DIR_ENV, str(folder))
    return folder


@pytest.mark.parametrize(("first", "second"), [
    ("socket://localhost:9100", "socket://127.0.0.1:9100/"),
    ("socket://127.0.0.1:9100", "SOCKET://LocalHost:9100?logging=debug"),
    ("rfc2217://printer.invalid:2217", "rfc2217://PRINTER.INVALID:2217"),
])  # fmt: skip
def test_two_databases_on_one_printer_url_are_refused(tmp_path, lock_dir, first, second):
    with PrinterOwnership(tmp_path / "a.db", first):
        with pytest.raises(PrinterHeldError, match=r"another station|stasiun lain") as refused:
            PrinterOwnership(tmp_path / "b.db", second).acquire()
        assert str(tmp_path / "a.db") in str(refused.value)
        with PrinterOwnership(tmp_path / "b.db", "socket://127.0.0.1:9101"):  # another printer is free
            pass
    with PrinterOwnership(tmp_path / "b.db", second):  # the first station let it go
        pass


def test_two_databases_on_one_device_are_refused_whatever_its_path(tmp_path, lock_dir):
    device = tmp_path / "ttyUSB0"
    device.write_bytes(b"")
    alias = tmp_path / "evolis-primacy"
    alias.symlink_to(device)
    with PrinterOwnership(tmp_path / "a.db", str(device)):
        with pytest.raises(PrinterHeldError):
            PrinterOwnership(tmp_path / "b.db", str(alias)).acquire()
        with PrinterOwnership(tmp_path / "b.db"):  # its own database alone is free: the port is what is held
            pass


def test_a_second_station_on_the_same_tcp_printer_is_refused(tmp_path, lock_dir):
    """Two stations, two databases, one printer: the second must not settle the first's card in flight."""
    from drivers.emulator import EmulatorServer

    with EmulatorServer.tcp(feeder=20, time_scale=0.1, log=tmp_path / "output.jsonl") as emu:
        configs = []
        for name in ("one", "two"):
            folder = tmp_path / name
            folder.mkdir()
            config = slow_station(folder)
            config.write_text(config.read_text().replace("[emulator]", f'[printer]\nport = "{emu.port}"\n[emulator]'))
            configs.append(config)
        env = os.environ | {LOCK_DIR_ENV: str(lock_dir)}
        first = subprocess.Popen([STATION, "print", "--count", "2", "--config", str(configs[0])],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)  # fmt: skip
        try:
            assert first.stdout.readline().startswith("card #")  # it holds the printer: one more card to go
            second = subprocess.run([STATION, "print", "--config", str(configs[1])], capture_output=True,
                                    text=True, timeout=120, env=env)  # fmt: skip
            assert second.returncode == 4, second.stdout + second.stderr
            assert "another station" in second.stderr and f"pid {first.pid}" in second.stderr
        finally:
            assert first.wait(timeout=120) == 0, first.stderr.read()
