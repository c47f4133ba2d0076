"""The console's allocations screen with blanks lent between regencies: its equation says the loans."""

from __future__ import annotations

from console import blank_loans
from console.config import load_settings
from console.store import Store
from screens.allocations import AllocationsScreen
from tests.test_console_kit import screen_text, until
from tests.test_console_snapshots import _dashboard_ready, app_on, made_station, station  # noqa: F401


async def test_the_allocations_screen_shows_the_loans_in_its_equation(station):
    async with await Store.open(load_settings(station / "config.toml").database) as store:
        [allocation] = [r["id"] for r in await store.fetchall("SELECT id FROM allocations ORDER BY seq")][-1:]
        await blank_loans.borrow(store, allocation, 5, "5202", "470/1/2026", "t")
        await blank_loans.lend(store, allocation, 2, "5204", "470/2/2026", "t")
    app = app_on(station)
    async with app.run_test(size=(120, 40)) as pilot:
        await _dashboard_ready(pilot)
        await pilot.press("f5")
        await until(pilot, lambda: isinstance(app.screen, AllocationsScreen) and app.screen.books, "the books")
        await until(pilot, lambda: "dipinjam dari kabupaten lain 5" in screen_text(app), "the loans said")
        assert "dipinjamkan 2" in screen_text(app) and "Diterima 100 + 5 − 2 = baik" in screen_text(app)
