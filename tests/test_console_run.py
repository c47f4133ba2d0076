"""`station run [--demo]` as a person starts it: a real process on a real pseudo-terminal."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from console import jobs
from console.config import load_settings
from console.demo_setup import DEMO_BLANKS, DEMO_RESIDENTS, prepare_demo
from console.errors import EXIT_REFUSED, EXIT_USAGE, UsageError
from console.owner import PrinterOwnership
from console.store import Store
from tests.terminal import Terminal
from tests.test_console_kit import station_settings
from tests.test_console_signin import OPERATOR_PIN, make_station

STATION = [sys.executable, "-m", "console.cli"]
ROOT = Path(__file__).resolve().parent.parent


def test_run_demo_opens_a_console_ready_to_print_and_quits_cleanly(tmp_path):
    station_settings(tmp_path)  # writes config.toml
    terminal = Terminal([*STATION, "run", "--demo", "--config", "config.toml"], cwd=tmp_path)
    try:
        terminal.read_until(b"Beranda")
        terminal.read_until(b"MENCETAK")  # the demo queue prints at once
        terminal.type(b"\x11")  # Ctrl+Q
        assert terminal.wait() == 0
    finally:
        terminal.close()
    with PrinterOwnership(tmp_path / "station.db"):  # the printer was let go
        pass
    settings = load_settings(tmp_path / "config.toml")
    assert settings.database.path.exists()


def test_a_second_console_is_refused_naming_the_holder(tmp_path):
    station_settings(tmp_path)
    with PrinterOwnership(tmp_path / "station.db"):
        terminal = Terminal([*STATION, "run", "--config", "config.toml"], cwd=tmp_path)
        code = terminal.wait()
    assert code == EXIT_REFUSED
    assert f"pid {os.getpid()}".encode() in terminal.output


def test_run_needs_a_terminal(tmp_path):
    station_settings(tmp_path)
    done = subprocess.run([*STATION, "run", "--config", "config.toml"], cwd=tmp_path, capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, env=dict(os.environ, PYTHONPATH=str(ROOT)), timeout=60)  # fmt: skip
    assert not (tmp_path / "station.db").exists()  # refused before anything was opened
    assert done.returncode == EXIT_USAGE
    assert "terminal" in done.stderr


async def test_demo_fills_an_empty_database_once_and_only_on_the_emulator(tmp_path):
    settings = station_settings(tmp_path)
    async with await Store.open(settings.database.path) as store:
        setup = await prepare_demo(store, settings, "test")
        assert (setup.residents, setup.blanks, setup.queued) == (DEMO_RESIDENTS, DEMO_BLANKS, DEMO_RESIDENTS)
        assert (await jobs.count_by_state(store))[jobs.QUEUED] == DEMO_RESIDENTS
        assert await prepare_demo(store, settings, "test") is None  # not empty any more: left as it is
        config = settings.source.read_text().replace("[database]", '[printer]\nport = "/dev/ttyUSB0"\n[database]')
        settings.source.write_text(config)
        with pytest.raises(UsageError, match="emulator"):
            await prepare_demo(store, load_settings(settings.source), "test")


def test_run_with_an_operator_asks_the_pin_once(tmp_path):
    """`station run --operator NAME` checks the PIN on the command line; the console then opens signed in as that
    operator, without asking it again at its own sign-in screen."""
    settings = asyncio.run(make_station(tmp_path))
    terminal = Terminal([*STATION, "run", "--operator", "Siti", "--config", "config.toml"], cwd=tmp_path)
    try:
        terminal.read_until(b"PIN Siti: ")
        terminal.type(OPERATOR_PIN.encode() + b"\r")
        # the dashboard's title, not its printer state: under load the six cards may be printed before a frame shows it
        shown = terminal.until(lambda text: "Siti (operator)" in text and "Beranda" in text, "the console signed in")
        assert "PIN" not in shown  # no second ask
        terminal.type(b"\x11")  # Ctrl+Q
        assert terminal.wait() == 0
    finally:
        terminal.close()

    async def sign_ins() -> list[str]:
        async with await Store.open(settings.database.path) as store:
            rows = await store.fetchall("SELECT action FROM audit WHERE action LIKE 'operator.sign%' ORDER BY seq")
        return [row["action"] for row in rows]

    assert asyncio.run(sign_ins()) == ["operator.signed_in", "operator.signed_out"]


def clock_shown(zone: ZoneInfo) -> set[str]:
    """The title bar's clock at 80 columns in `zone`, this minute or the one before (it is redrawn every 15 s)."""
    return {f"{datetime.now(zone) + timedelta(minutes=m):%d-%m %H:%M}" for m in (-1, 0)}


def test_run_shows_the_stations_time_on_a_machine_in_another_zone(tmp_path):
    """`station run` applies `[station] timezone`: the title bar's clock is the station's, twenty-six hours from
    the machine's, so that even the day differs."""
    config = station_settings(tmp_path).source
    config.write_text(
        config.read_text().replace('language = "id"\n', 'language = "id"\ntimezone = "Pacific/Kiritimati"\n')
    )
    terminal = Terminal([*STATION, "run", "--demo", "--config", "config.toml"], cwd=tmp_path, TZ="Etc/GMT+12")
    kiritimati, far_west = ZoneInfo("Pacific/Kiritimati"), ZoneInfo("Etc/GMT+12")
    try:
        terminal.read_until(b"Beranda")
        terminal.until(lambda text: any(moment in text for moment in clock_shown(kiritimati)), "the station's time")
        assert not any(moment in terminal.text() for moment in clock_shown(far_west))
        terminal.type(b"\x11")  # Ctrl+Q
        assert terminal.wait() == 0
    finally:
        terminal.close()
