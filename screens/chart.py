"""Grafik cetak: cards printed each day over the last two weeks, and where the stock and the backlog stand, so that
the operator sees at a glance whether the blanks last until the next allocation."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual_plotext import PlotextPlot

from console.blank_requests import Pace, pace
from console.i18n import t
from console.text import number
from screens.base import ReloadingScreen
from screens.keys import key
from screens.widgets.words import Words

DAYS = 14
BAR = "█"  # a solid block, in plotext's frame of box-drawing lines
ASCII_BAR = "#"  # the Linux console's font has neither blocks nor braille, and its frames are ASCII (station.tcss)


def summary(p: Pace) -> str:
    per_day = f"{p.per_working_day:.1f}".replace(".", t("request.decimal_mark"))
    days_left = "-" if p.per_working_day == 0 else number(int(p.in_stock / p.per_working_day))
    said = t("ui.chart.summary", stock=number(p.in_stock), queued=number(p.queued), ready=number(p.print_ready),
             per_day=per_day, days_left=days_left)  # fmt: skip
    if p.regency:  # docs/planning.md: on a ledger, the regency's figures, and this station's own stock
        return t("ui.chart.regency", station_stock=number(p.station_stock)) + " " + said
    return said


class ChartScreen(ReloadingScreen):
    TITLE_KEY = "ui.screen.chart"
    BINDINGS = [key("escape", "app.open('dashboard')", "ui.key.back", id="back")]

    def __init__(self) -> None:
        super().__init__()
        self.pace: Pace | None = None

    def compose(self) -> ComposeResult:
        yield self.title_bar()
        yield PlotextPlot(id="chart-plot")
        yield Words("", id="chart-summary", classes="panel")
        yield self.footer()

    def on_mount(self) -> None:
        self.query_one("#chart-summary").border_title = t("ui.panel.chart_summary")

    async def _load(self) -> None:
        assert self.station is not None
        self.pace = await pace(self.station.store, self.station_app.settings.planning, DAYS)
        plot = self.query_one(PlotextPlot)
        plt = plot.plt
        plt.clear_data()
        plt.clear_figure()
        # Two-character labels: plotext places longer ones that overlap in an order of its own, not the same twice
        labels = [day.strftime("%d") for day, _ in self.pace.days]
        linux = self.station_app.linux_console
        plt.bar(labels, [n for _, n in self.pace.days], marker=ASCII_BAR if linux else BAR)
        plt.frame(not linux)  # plotext draws its frame and ticks in box-drawing lines: without it, ASCII alone
        first, last = self.pace.days[0][0], self.pace.days[-1][0]
        plt.title(t("ui.chart.title", first=first.strftime("%d.%m"), last=last.strftime("%d.%m.%Y")))
        plot.refresh()
        self.query_one("#chart-summary", Words).update(Text(summary(self.pace)))
