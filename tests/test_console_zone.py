"""The consoles show times in the station's zone (`[station] timezone`), not in the zone of the machine they run
on: the title bar's clock, the events panel, the supervisor's screens, and where "today" starts."""

from __future__ import annotations

import time
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from console import books, jobs
from console.formats import set_zone
from console.logs import configure_logging
from console.store import Store
from screens.supervisor import SupervisorApp
from tests.factory import add_residents
from tests.test_console_kit import console_app, screen_text, station_ready, station_settings, until

MACHINE_ZONE = "America/Lima"  # UTC-5 all year: thirteen hours behind the station
STATION_ZONE = ZoneInfo("Asia/Makassar")


@pytest.fixture
def machine_in_lima(monkeypatch):
    monkeypatch.setenv("TZ", MACHINE_ZONE)
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


async def queued_at(settings) -> tuple[str, str]:
    """A job queued now (by the machine's clock): its NIK and the time its audit entry was written."""
    async with await Store.open(settings.database.path) as store:
        [nik] = await add_residents(store, 1)
        await books.add_allocation(store, "JATAH-2026-11", 10, "2026-11", "test")
        await jobs.enqueue(store, [nik], "test")
        [row] = await store.fetchall("SELECT at FROM audit WHERE action = 'job.queued' AND subject = ?", (nik,))
    return nik, row["at"]


def station_time(iso: str) -> str:
    return f"{datetime.fromisoformat(iso).astimezone(STATION_ZONE):%H:%M:%S}"


async def test_the_operator_console_shows_the_stations_time(tmp_path, machine_in_lima):
    settings = station_settings(tmp_path)
    set_zone(settings.station.timezone)  # as `station run` does at start
    configure_logging(settings.logging.file)
    nik, at = await queued_at(settings)
    assert station_time(at) != at[11:19]  # the machine wrote its own zone's time
    # 20:14 in Lima on Saturday is 09:14 on Sunday in Lombok.
    evening_in_lima = datetime(2026, 11, 28, 20, 14).astimezone()
    app = console_app(settings, clock=lambda: evening_in_lima)
    async with app.run_test(size=(120, 40)) as pilot:
        await station_ready(pilot)
        await until(pilot, lambda: f"{station_time(at)}  {nik}  diantrikan" in screen_text(app), "the queued event")
        text = screen_text(app)
        assert "Minggu 29-11-2026 09:14" in text and "28-11-2026" not in text
        assert f"{at[11:19]}  {nik}  diantrikan" not in text
        # "Today" is the station's day: it started at 00:00 WITA, 11:00 of the day before in Lima.
        assert app.station.today_start() == "2026-11-28T11:00:00.000-05:00"


async def test_the_supervisor_shows_the_stations_time(tmp_path, machine_in_lima):
    settings = station_settings(tmp_path)
    set_zone(settings.station.timezone)
    configure_logging(settings.logging.file)
    nik, at = await queued_at(settings)
    evening_in_lima = datetime(2026, 11, 28, 20, 14).astimezone()
    async with await Store.open(settings.database.path, readonly=True) as watched:
        app = SupervisorApp(settings, watched, "budi", clock=lambda: evening_in_lima)
        async with app.run_test(size=(120, 40)) as pilot:
            await until(pilot, lambda: f"{station_time(at)}  {nik}  diantrikan" in screen_text(app), "the queued event")
            assert "Minggu 29-11-2026 09:14" in screen_text(app)
