"""What every main screen has: the title line, the footer of the keys that matter now, words in the operator's
language, and the live data when it changes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import cast

from textual import on
from textual.screen import Screen
from textual.widgets import DataTable, Footer

from console.i18n import t
from console.live import Live
from console.station import Station
from screens.host import OperatorHost
from screens.keys import translate_bindings
from screens.messages import LiveUpdated, PrinterUpdated
from screens.widgets.titlebar import TitleBar


class StationScreen(Screen[None]):
    TITLE_KEY = ""  # the catalogue entry of the screen's name

    def __init__(self) -> None:
        super().__init__()
        translate_bindings(self)

    @property
    def station_app(self) -> OperatorHost:
        return cast(OperatorHost, self.app)

    @property
    def station(self) -> Station | None:
        return self.station_app.station

    def title_text(self) -> str:
        return t("ui.title", screen=t(self.TITLE_KEY), station=self.station_app.settings.station.name)

    def title_bar(self) -> TitleBar:
        return TitleBar(self.title_text())

    def footer(self) -> Footer:
        return Footer(show_command_palette=False, compact=True)

    def on_screen_resume(self) -> None:
        live = self.station_app.live
        if live is not None:
            self.show_live(live)
        self.show_printer()

    @on(LiveUpdated)
    def _live_updated(self, message: LiveUpdated) -> None:
        self.show_live(message.live)

    @on(PrinterUpdated)
    def _printer_updated(self) -> None:
        self.show_printer()

    def show_live(self, live: Live) -> None:
        """Show the data just read; screens that show it override this."""

    def show_printer(self) -> None:
        """Show the printer's identity and status; screens that show it override this."""


class ReloadingScreen(StationScreen):
    """A screen that reads its data from the core again each time it is shown and each time the live data
    changes while it is the current one; `_load` reads and shows it, in a worker."""

    _load: Callable[[], Awaitable[None]]  # each screen's own

    def on_screen_resume(self) -> None:
        super().on_screen_resume()
        tables = self.query(DataTable)
        if tables:
            tables.first().focus()
        self.reload()

    def show_live(self, live: Live) -> None:
        if self.is_current:
            self.reload()

    def reload(self) -> None:
        if self.station is not None:
            self.run_worker(self._load, group="load", exclusive=True)
