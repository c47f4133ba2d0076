"""What the consoles' screens ask of the station they show, whether the process holds the printer (`Station`)
or watches the database alone (`WatchedStation`), and the two sums both make the same way."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from console.config import Settings
from console.formats import local
from console.store import Store
from drivers.printer import PrinterInfo, PrinterStatus


class StationView(Protocol):
    settings: Settings
    store: Store
    printer_info: PrinterInfo | None
    printer_status: PrinterStatus | None
    printer_silent: bool  # the last status read got no answer

    @property
    def state(self) -> str: ...

    @property
    def paused(self) -> bool: ...

    def seconds_left(self, cards: int) -> float | None:
        """The time the `cards` still queued will take, at the pace of the last cards printed."""

    def today_start(self) -> str:
        """Midnight of today, as the database writes times: today's counts start there."""


def midnight(moment: datetime) -> str:
    """The start of the station's day (`[station] timezone`) holding `moment`, written in `moment`'s offset as the
    database's times are, so that they compare as text."""
    start = local(moment).replace(hour=0, minute=0, second=0, microsecond=0)
    return start.astimezone(moment.tzinfo).isoformat(timespec="milliseconds")


def time_left(span_s: float, cards_in_span: int, cards: int) -> float | None:
    """`cards` more at the pace of the `cards_in_span` printed in `span_s` seconds (from the first to the last
    card's end); None while there is no pace yet or nothing left."""
    if cards <= 0 or cards_in_span < 2:
        return None
    return span_s / (cards_in_span - 1) * cards
