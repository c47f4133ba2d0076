"""The dashboard follows the printer without a key press, and P pauses and resumes the queue."""

from __future__ import annotations

from console import books, jobs
from console.logs import configure_logging
from console.store import Store
from tests.factory import add_residents
from tests.test_console_kit import console_app, screen_text, station_ready, station_settings, until


async def test_dashboard_follows_the_printer_and_p_pauses_it(tmp_path):
    settings = station_settings(tmp_path)
    configure_logging(settings.logging.file)
    async with await Store.open(settings.database.path) as store:
        niks = await add_residents(store, 8)
        await books.add_allocation(store, "JATAH-2026-11", 10, "2026-11", "test")
        await jobs.enqueue(store, niks[:5], "test")

    app = console_app(settings)
    async with app.run_test(size=(80, 24)) as pilot:
        await station_ready(pilot)
        # No key pressed: the cards printed show up, in the books, the queue and the events.
        await until(pilot, lambda: f"kartu #5  {niks[4]}  dicetak" in screen_text(app), "the fifth card's event")
        await until(pilot, lambda: "Menunggu tag: 5 kartu di hopper (batas 50)" in screen_text(app), "the hopper")
        text = screen_text(app)
        assert "ANTRIAN KOSONG" in text and "Jatah JATAH-2026-11 (10)" in text and "Buku SEIMBANG" in text
        await until(pilot, lambda: "Pita ±595 kartu lagi" in screen_text(app), "the ribbon, read once at rest")

        # P pauses: new jobs wait, and the footer offers to resume.
        await pilot.press("p")
        await until(pilot, lambda: app.station.state == "paused" and "DIJEDA" in screen_text(app), "paused")
        assert app.screen.active_bindings["p"].binding.description == "Lanjut"
        await app.station.enqueue_ready()
        await until(pilot, lambda: app.live.queued == 3 and "3 kartu menunggu" in screen_text(app), "the new jobs")
        assert (await jobs.count_by_state(app.station.store))[jobs.PRINTED] == 5

        # P again: printing goes on by itself.
        await pilot.press("p")
        await until(pilot, lambda: app.live.untagged == 8 and app.live.queued == 0, "the rest printed")
        assert app.screen.active_bindings["p"].binding.description == "Jeda"
