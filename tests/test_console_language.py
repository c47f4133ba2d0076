"""The console in English with `language = "en"`: every word from the catalogue, none left in Indonesian."""

from __future__ import annotations

import re

import pytest

from console import books, jobs
from console.i18n import current_language, set_language
from console.logs import configure_logging
from console.store import Store
from screens.fault import FaultScreen
from screens.help import HelpScreen
from tests.factory import add_residents
from tests.test_console_kit import console_app, screen_text, station_ready, station_settings, until

INDONESIAN = ("Antrian", "Beranda", "Kejadian", "Bantuan", "Keluar", "Printer berhenti", "Lanjutkan", "kartu #")


@pytest.fixture(autouse=True)
def language_restored():
    before = current_language()
    yield
    set_language(before)


async def test_the_console_speaks_english(tmp_path):
    settings = station_settings(tmp_path, language="en", faults="jam@1")
    configure_logging(settings.logging.file)
    async with await Store.open(settings.database.path) as store:
        niks = await add_residents(store, 1)
        await books.add_allocation(store, "ALLOC-1", 10, None, "test")
        await jobs.enqueue(store, niks, "test")

    app = console_app(settings)
    async with app.run_test(size=(80, 24)) as pilot:
        await station_ready(pilot)
        await until(pilot, lambda: isinstance(app.screen, FaultScreen) and "Card #1" in screen_text(app),
                    "the fault dialog, in English")  # fmt: skip
        text = screen_text(app)
        assert "Printer stopped: CARD JAM: a card is stuck inside the printer" in text
        assert "booked BAD (rusak_fisik)" in text and "[Enter] Resume" in text
        await pilot.press("escape")
        bad_line = "card #1  " + niks[0] + "  BAD through a fault (rusak_fisik)"
        await until(pilot, lambda: "STOPPED" in screen_text(app) and bad_line in screen_text(app), "the dashboard")
        text = screen_text(app)
        for words in ("Home · ", "Printer", "Queue", "Events", "Allocation ALLOC-1 (10)", "Books BALANCE"):
            assert words in text, words
        for words in INDONESIAN:
            assert words not in text, words

        await pilot.press("f1")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen), "the help")
        help_text = screen_text(app)
        assert "Help: keys" in help_text and "On every screen" in help_text and "Check cards" in help_text
        assert re.search(r"Ctrl\+Q +Quit", help_text) and re.search(
            r"Ctrl\+C +\(a reminder: quit with Ctrl\+Q\)", help_text
        )
