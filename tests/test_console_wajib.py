"""The console asks the same wajib rule: a 16-year-old found on the residents screen is refused in words, with the
day the card may be printed, and nothing is queued."""

from __future__ import annotations

from datetime import date

from console import jobs
from console.clock import fix_today
from console.logs import configure_logging
from console.resident_import import import_residents
from console.store import Store
from screens.residents import ResidentsScreen
from tests.test_console_kit import console_app, screen_text, station_ready, station_settings, until
from tests.test_console_residents import type_text
from tests.test_wajib import person, write_residents


async def test_the_residents_screen_refuses_a_resident_not_yet_wajib_saying_the_day(tmp_path):
    fix_today(date(2026, 12, 1))
    settings = station_settings(tmp_path)
    configure_logging(settings.logging.file)
    teen = person(1, date(2009, 12, 2))
    async with await Store.open(settings.database.path) as store:
        await import_residents(store, write_residents(tmp_path / "r.csv", [teen]))

    app = console_app(settings)
    async with app.run_test(size=(80, 24)) as pilot:
        await station_ready(pilot)
        await pilot.press("f3")
        await until(pilot, lambda: isinstance(app.screen, ResidentsScreen), "the residents screen")
        screen = app.screen
        await type_text(pilot, teen["nik"])
        await pilot.press("enter")
        await until(pilot, lambda: screen.found and screen.found[0].nik == teen["nik"], "the teen found")
        await pilot.press("enter")
        await until(pilot, lambda: "belum wajib KTP-el" in screen_text(app), "the refusal in words")
        assert "2 Des 2026" in screen_text(app)
        assert await jobs.history(app.station.store, teen["nik"]) == []
