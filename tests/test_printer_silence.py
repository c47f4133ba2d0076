"""A printer that does not answer is told within seconds; a printer busy with a slow motion is still waited for.

The printer answers one command at a time, and a question (a counter, the card's position, a setting) at once; only
a motion (`Ss`, `Sr`, `Se`, `Ser`, `Srs`) takes seconds. So silence after a question, or after the probes of a
resynchronisation with no motion outstanding, is a dead link (a pulled cable, a printer switched off)."""

from __future__ import annotations

import time

import pytest

from drivers.emulator import EmulatorServer
from drivers.faults import ReplyTimeout
from drivers.printer import QUERY_TIMEOUT_S, Printer

STATION_REPLY_TIMEOUT = 45.0  # what the station passes (config.toml)
# A few questions' time-outs (a status read between cards may stand before the engine's question; a busy machine
# adds its own delay), still far below a card's time.
TOLD_WITHIN_S = STATION_REPLY_TIMEOUT / 3


async def test_a_pulled_link_is_told_in_seconds_not_in_a_cards_time():
    async with EmulatorServer.pty(time_scale=0, feeder=5) as emu, \
            await Printer.open(emu.port, reply_timeout=STATION_REPLY_TIMEOUT) as printer:  # fmt: skip
        await printer.setup("ko")
        emu.unplug()
        started = time.monotonic()
        with pytest.raises(ReplyTimeout) as silent:
            await printer.card_counter()
        assert silent.value.sent and time.monotonic() - started < QUERY_TIMEOUT_S + 1
        started = time.monotonic()
        with pytest.raises(ReplyTimeout) as resync:  # out of step now: the probes get no answer either
            await printer.card_position()
        assert not resync.value.sent and time.monotonic() - started < QUERY_TIMEOUT_S + 1
        emu.plug()
        await printer.reconnect()
        assert await printer.card_counter() == 0


async def test_a_motion_slower_than_a_question_is_still_waited_for():
    # Feeding a blank takes 1.5 s at a real printer's pace; at 2.5 times that it outlasts a question's time-out.
    async with EmulatorServer.pty(time_scale=2.5, feeder=5) as emu, \
            await Printer.open(emu.port, reply_timeout=STATION_REPLY_TIMEOUT) as printer:  # fmt: skip
        await printer.setup("ko")
        started = time.monotonic()
        await printer.take_blank()
        assert time.monotonic() - started > QUERY_TIMEOUT_S
        assert await printer.card_position() == "CARD"


async def test_the_console_says_the_printer_does_not_answer_within_seconds(tmp_path):
    from console.logs import configure_logging
    from screens.fault import FaultScreen
    from tests.station import seeded_store
    from tests.test_console_kit import console_app, screen_text, station_ready, station_settings, until

    settings = station_settings(tmp_path)  # the printer's reply time-out is the station's default, 45 s
    assert settings.printer.reply_timeout_s == STATION_REPLY_TIMEOUT
    configure_logging(settings.logging.file)
    async with await seeded_store(tmp_path, residents=2, blanks=5, queue=False):
        pass
    app = console_app(settings)
    async with app.run_test(size=(80, 24)) as pilot:
        station = (await station_ready(pilot)).station
        station.emulator.unplug()  # the cable pulled while the queue is empty
        started = time.monotonic()
        assert await station.enqueue_ready() == 2
        await until(pilot, lambda: isinstance(app.screen, FaultScreen), "the fault dialog", timeout=TOLD_WITHIN_S)
        assert time.monotonic() - started < TOLD_WITHIN_S
        assert station.engine.fault.code == "reply_timeout"

        started = time.monotonic()
        await pilot.press("enter")
        await until(pilot, lambda: "Memeriksa printer…" in screen_text(app), "the seconds counted while it asks")
        await until(
            pilot,
            lambda: "Printer tidak menjawab" in screen_text(app),
            "the printer said not to answer",
            timeout=TOLD_WITHIN_S,
        )
        assert time.monotonic() - started < TOLD_WITHIN_S
        assert "masih melaporkan" not in screen_text(app)

        station.emulator.plug()
        await pilot.press("enter")
        await until(pilot, lambda: station.engine.cards_printed == 2, "both cards printed once plugged back")
