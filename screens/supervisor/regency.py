"""Kabupaten: every station of the regency on the ledger, one row each, and the regency's books; Enter opens the
chosen station's own supervisor view (Esc comes back here)."""

from __future__ import annotations

from datetime import datetime
from typing import cast

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import DataTable, Static

from console.engine import PAUSED
from console.i18n import t
from console.live import Live
from console.regency import Regency, StationLine
from console.text import number, time_or_day
from screens.base import StationScreen
from screens.dashboard import ATTENTION
from screens.host import SupervisorHost
from screens.keys import key
from screens.supervisor.supervised import Supervised
from screens.widgets.columns import fit_columns
from screens.widgets.words import PlainTable, Words

COLUMNS = (("id", 8), ("name", 0), ("state", 22), ("queued", 7), ("today", 10), ("blanks", 12))
NAME_MIN = 8  # the name takes the width left over, at least this


class RegencyScreen(Supervised, StationScreen, inherit_bindings=False):
    """The regency's stations as a table fed by one read of the ledger per change."""

    TITLE_KEY = "ui.sup.screen.regency"
    DEFAULT_CSS = "#regency-table { height: 1fr; }"
    BINDINGS = [key("enter", "drill", "ui.sup.key.drill", priority=True)]  # before the table's own Enter

    def __init__(self) -> None:
        super().__init__()
        self._name_width = 0
        self.shown: Regency | None = None

    def compose(self) -> ComposeResult:
        yield self.title_bar()
        yield PlainTable(id="regency-table", cursor_type="row")
        yield Words("", id="regency-books", classes="panel")
        yield self.footer()

    def watched_name(self) -> str:
        return self.station_app.settings.station.regency

    def on_mount(self) -> None:
        self.query_one("#regency-books").border_title = t("ui.sup.regency.books_title")

    def on_resize(self) -> None:
        self.call_after_refresh(self._show)

    def on_screen_resume(self) -> None:
        self.query_one(DataTable).focus()
        self._show()

    def show_live(self, live: Live) -> None:
        self._show()

    def _show(self) -> None:
        regency = cast(SupervisorHost, self.app).regency
        if regency is None:
            return
        self.shown = regency
        table = self.query_one(DataTable)
        row = table.cursor_row
        self._name_width = fit_columns(
            table, COLUMNS, lambda name: t(f"ui.sup.regency.col.{name}"), NAME_MIN, self._name_width
        )
        table.clear()
        now = self.station_app.clock()
        for station in regency.stations:
            table.add_row(
                station.id, station.name, state_text(station, now), number(station.queued),
                f"{number(station.good_today)}/{number(station.bad_today)}",
                f"{number(station.in_stock)}/{number(station.issued)}", key=station.id,
            )  # fmt: skip
        if regency.stations:
            table.move_cursor(row=min(max(row, 0), len(regency.stations) - 1))
        books = self.query_one("#regency-books", Static)
        books.update(Text(t("ui.sup.regency.books", received=number(regency.received), issued=number(regency.issued),
                            stock=number(regency.regency_stock), any=number(regency.queued_any),
                            stations=number(len(regency.stations)))))  # fmt: skip
        if not regency.stations:
            books.update(Text(t("ui.sup.regency.none")))

    def highlighted(self) -> StationLine | None:
        row = self.query_one(DataTable).cursor_row
        stations = self.shown.stations if self.shown else ()
        return stations[row] if 0 <= row < len(stations) else None

    def action_drill(self) -> None:
        station = self.highlighted()
        if station is not None:
            cast(SupervisorHost, self.app).watch_station(station.id)


def state_text(station: StationLine, now: datetime) -> Text:
    """What the station's process last said, and what stands out: a silence, a pause, requests waiting."""
    if station.state is None:
        text = Text(t("ui.sup.regency.never"))
    else:
        text = Text(t(f"ui.state.{station.state}"), style="bold reverse" if station.state in ATTENTION else "bold")
    silent = station.silent_since(now)
    if silent is not None:
        text = Text(t("ui.sup.regency.silent", at=time_or_day(silent, now)), style="bold reverse")
    elif station.paused_by is not None and station.state != PAUSED:
        text.append(" " + t("ui.sup.regency.paused"), style="bold")
    if station.pending:
        text.append(" " + t("ui.sup.regency.pending", count=number(station.pending)))
    return text
