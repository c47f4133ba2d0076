"""The time left is the pace of this run of printing: a stop (here a pause of half an hour) is no card's time."""

from __future__ import annotations

from datetime import timedelta

from console.config import load_settings
from console.engine import PAUSED, PRINTING
from console.logs import configure_logging
from tests.station import seeded_store
from tests.test_console_kit import FIXED_NOW, console_app, station_ready, station_settings, until


async def test_a_pause_is_left_out_of_the_time_left(tmp_path):
    settings = station_settings(tmp_path)
    config = tmp_path / "config.toml"
    config.write_text(config.read_text().replace("time_scale = 0", "time_scale = 0.02"))  # a card takes ~0.3 s
    settings = load_settings(config)
    configure_logging(settings.logging.file)
    async with await seeded_store(tmp_path, residents=12, blanks=20):
        pass
    moment = [FIXED_NOW]  # the station's clock: it moves only when the test moves it
    app = console_app(settings, clock=lambda: moment[0])
    async with app.run_test(size=(80, 24)) as pilot:
        station = (await station_ready(pilot)).station
        await until(pilot, lambda: station.engine.cards_printed >= 2, "two cards printed")
        await pilot.press("p")
        await until(pilot, lambda: station.engine.state == PAUSED, "the queue paused")
        moment[0] += timedelta(minutes=30)  # the operator's lunch
        await pilot.press("p")
        resumed_at = station.engine.cards_printed
        await until(pilot, lambda: station.engine.state == PRINTING and station.engine.cards_printed >= resumed_at + 2,
                    "two more cards printed, the queue still printing")  # fmt: skip
        left = station.seconds_left(10)
        assert left is not None and left < 60, f"{left} s: the pause counted as printing time"
