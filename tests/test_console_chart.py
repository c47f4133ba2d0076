"""The console's printing chart: cards printed a day over the last two weeks, with the stock and the backlog, at
80x24, 120x40 and on the Linux console (stored SVG snapshots), opened from the command palette."""

from __future__ import annotations

import pytest
from textual.command import CommandList, CommandPalette
from textual_plotext import PlotextPlot

from screens.chart import ChartScreen
from tests.test_console_kit import screen_text, until
from tests.test_console_snapshots import PRINTED, _dashboard_ready, app_on, drawn, made_station, station  # noqa: F401

SIZES = {"80x24": (80, 24), "120x40": (120, 40)}


async def chart_shown(pilot) -> None:
    await _dashboard_ready(pilot)
    app = pilot.app
    await pilot.press("ctrl+p")
    await until(pilot, lambda: isinstance(app.screen, CommandPalette), "the command palette")
    await pilot.press(*"Grafik")
    await until(pilot, lambda: app.screen.query_one(CommandList).option_count == 1, "the one command found")
    await pilot.press("down", "enter")
    await until(pilot, lambda: isinstance(app.screen, ChartScreen) and app.screen.pace is not None
                and "15.11-28.11.2026" in drawn(app.screen.query_one(PlotextPlot)), "the chart drawn")  # fmt: skip
    await pilot.pause()


@pytest.mark.parametrize("size", SIZES)
def test_the_chart_screen(size, station, snap_compare):
    assert snap_compare(app_on(station), terminal_size=SIZES[size], run_before=chart_shown)


def test_the_chart_screen_on_the_linux_console(station, snap_compare, monkeypatch):
    monkeypatch.setenv("TERM", "linux")
    assert snap_compare(app_on(station), terminal_size=(80, 24), run_before=chart_shown)


async def test_the_chart_counts_the_cards_of_each_day_the_stock_and_the_backlog(station):
    app = app_on(station)
    async with app.run_test(size=(120, 40)) as pilot:
        await chart_shown(pilot)
        pace = app.screen.pace
        assert len(pace.days) == 14 and pace.days[-1][0].isoformat() == "2026-11-28"
        assert [n for _, n in pace.days] == [0] * 13 + [PRINTED]  # the station's six cards, all printed today
        # 100 blanks less the six; 40 residents less the six printed; six cards over 20 working days
        assert (pace.in_stock, pace.queued, pace.print_ready, pace.per_working_day) == (94, 0, 34, 0.3)
        assert "Stok blangko 94" in screen_text(app) and "stok cukup untuk 313 hari kerja" in screen_text(app)
        assert "15.11-28.11.2026" in drawn(app.screen.query_one(PlotextPlot))


async def test_on_the_linux_console_the_chart_draws_in_ascii_alone(station, monkeypatch):
    """The Linux console's font has no braille nor block glyphs, and the console draws its frames in ASCII there:
    the chart's bars, axes and labels are ASCII too; elsewhere the bars are solid blocks in a frame."""
    monkeypatch.setenv("TERM", "linux")
    app = app_on(station)
    async with app.run_test(size=(80, 24)) as pilot:
        await chart_shown(pilot)
        plotted = drawn(app.screen.query_one(PlotextPlot))
        assert plotted.isascii(), sorted({c for c in plotted if not c.isascii()})
        assert "#" in plotted and "15.11-28.11.2026" in plotted
    monkeypatch.setenv("TERM", "xterm-256color")
    app = app_on(station)
    async with app.run_test(size=(80, 24)) as pilot:
        await chart_shown(pilot)
        plotted = drawn(app.screen.query_one(PlotextPlot))
        assert "█" in plotted and "┌" in plotted
