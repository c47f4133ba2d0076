"""While the printer owes a reply longer than a card's motions ordinarily take, the dashboard counts the seconds
against the time-out ("Menunggu printer: 6/12 dtk"), so that a silent printer is never mistaken for a hung console;
and a re-check that gets no reply says the printer does not answer, not that it still reports a fault."""

from __future__ import annotations

import asyncio
import re
import time

from console.config import load_settings
from console.logs import configure_logging
from console.station import PRINTER_WAIT_SHOWN_AFTER_S, STATUS_CHECK_EVERY_S, STATUS_EVERY_S
from drivers.printer import QUERY_TIMEOUT_S
from screens.dashboard import DashboardScreen
from screens.fault import FaultScreen
from tests.station import seeded_store
from tests.test_console_kit import console_app, screen_text, station_ready, station_settings, until

REPLY_TIMEOUT_S = 12  # [printer] reply_timeout_s: a card's motion may take this long before the printer is silent
WAITING = re.compile(r"Menunggu printer: (\d+)/(\d+) dtk")


def settings_with(tmp_path, faults: str = "", time_scale: float = 0):
    """`time_scale`: the emulator's pace against a real printer's (a KO card's motions take about 12 s)."""
    config = station_settings(tmp_path, faults=faults).source
    text = config.read_text().replace("time_scale = 0\n", f"time_scale = {time_scale}\n")
    config.write_text(text + f"[printer]\nreply_timeout_s = {REPLY_TIMEOUT_S}\n")
    return load_settings(config)


def waiting_shown(app) -> tuple[int, int] | None:
    found = WAITING.search(screen_text(app))
    return None if found is None else (int(found[1]), int(found[2]))


async def test_the_dashboard_counts_the_seconds_of_a_reply_awaited(tmp_path):
    settings = settings_with(tmp_path, time_scale=3)  # printing the card outlasts the time-out: no reply
    configure_logging(settings.logging.file)
    async with await seeded_store(tmp_path, residents=1, blanks=5):
        pass
    app = console_app(settings)
    async with app.run_test(size=(80, 24)) as pilot:
        await station_ready(pilot)
        assert isinstance(app.screen, DashboardScreen)
        await until(pilot, lambda: waiting_shown(app) is not None, "the wait counted", timeout=40)
        first = waiting_shown(app)
        assert (
            first is not None
            and first[1] == REPLY_TIMEOUT_S
            and PRINTER_WAIT_SHOWN_AFTER_S <= first[0] < REPLY_TIMEOUT_S
        )
        await until(pilot, lambda: (waiting_shown(app) or (0, 0))[0] > first[0], "the seconds going on")
        await until(pilot, lambda: isinstance(app.screen, FaultScreen), "the fault once it times out")
        await until(pilot, lambda: waiting_shown(app) is None, "no more counting once the wait is over")


async def test_an_ordinary_card_shows_no_wait(tmp_path):
    settings = settings_with(tmp_path, time_scale=0.3)  # a printer a little faster than a real one
    configure_logging(settings.logging.file)
    async with await seeded_store(tmp_path, residents=2, blanks=5):
        pass
    app = console_app(settings)
    seen: list[tuple[int, int]] = []
    async with app.run_test(size=(80, 24)) as pilot:
        await station_ready(pilot)

        def all_printed() -> bool:
            if (shown := waiting_shown(app)) is not None:
                seen.append(shown)
            return app.live is not None and app.live.today.printed == 2

        await until(pilot, all_printed, "the cards printed", timeout=60)
    assert seen == []


async def test_a_recheck_that_gets_no_reply_says_the_printer_does_not_answer(tmp_path):
    settings = settings_with(tmp_path, "jam@1")
    configure_logging(settings.logging.file)
    async with await seeded_store(tmp_path, residents=2, blanks=5):
        pass
    app = console_app(settings)
    async with app.run_test(size=(80, 24)) as pilot:
        station = (await station_ready(pilot)).station
        await until(pilot, lambda: isinstance(app.screen, FaultScreen), "the jam's dialog")
        station.emulator.clear()  # the operator takes the jammed card out
        station.emulator.unplug()  # and the cable comes loose
        await pilot.press("enter")
        await until(pilot, lambda: "Printer tidak menjawab" in screen_text(app), "no answer said", timeout=20)
        assert "masih melaporkan" not in screen_text(app)
        station.emulator.plug()
        await pilot.press("enter")
        await until(pilot, lambda: not isinstance(app.screen, FaultScreen) and app.live.queued == 0,
                    "the queue done once plugged back", 30)  # fmt: skip


async def test_a_printer_gone_in_the_middle_of_a_card_is_told_at_once(tmp_path):
    """The printer's device goes away (a USB cable pulled, the printer switched off) while `Se` runs: the port's
    error ends the wait at once, not the motion's time-out; the card is left in doubt, for the counter to settle."""
    settings = settings_with(tmp_path, time_scale=1)  # a real printer's pace: the card's Se runs about 10 s
    configure_logging(settings.logging.file)
    async with await seeded_store(tmp_path, residents=1, blanks=5):
        pass
    app = console_app(settings)
    async with app.run_test(size=(80, 24)) as pilot:
        station = (await station_ready(pilot)).station

        def printing_the_front() -> bool:
            awaited = station.printer.awaiting
            return awaited is not None and awaited.command == "Se"

        await until(pilot, printing_the_front, "the card printing", 60)
        started = time.monotonic()
        await asyncio.to_thread(station.emulator.close)  # the device is gone: its pseudo-terminal closed
        await until(pilot, lambda: isinstance(app.screen, FaultScreen), "the fault dialog", timeout=5)
        assert time.monotonic() - started < 5
        assert station.engine.fault is not None and station.engine.fault.code == "link_lost"
        await until(pilot, lambda: "SAMBUNGAN KE PRINTER PUTUS" in screen_text(app), "the link lost said")


async def test_a_printer_unplugged_between_cards_is_said_within_seconds(tmp_path):
    """Nothing to print, the cable pulled: the status read between cards gets no answer to its question within
    seconds, and the dashboard says so; plugged back, it no longer does."""
    settings = settings_with(tmp_path)
    configure_logging(settings.logging.file)
    async with await seeded_store(tmp_path, residents=1, blanks=5, queue=False):
        pass
    app = console_app(settings)
    async with app.run_test(size=(80, 24)) as pilot:
        station = (await station_ready(pilot)).station
        await until(pilot, lambda: station.printer_status is not None, "the first status read")
        station.emulator.unplug()
        started = time.monotonic()
        await until(pilot, lambda: "PRINTER TIDAK MENJAWAB" in screen_text(app), "the silence said", timeout=15)
        assert time.monotonic() - started < STATUS_EVERY_S + STATUS_CHECK_EVERY_S + QUERY_TIMEOUT_S + 1
        station.emulator.plug()
        await until(pilot, lambda: "PRINTER TIDAK MENJAWAB" not in screen_text(app), "the printer back", timeout=20)
