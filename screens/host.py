"""What screens ask of the app that shows them, as protocols: a screen names what it needs, never the app's
class (which imports the screens: that would be a circle)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol

from console.config import Settings
from console.live import Live
from console.regency import Regency
from console.station import Station
from console.station_view import StationView
from console.watched_station import WatchedStation


class ConsoleHost(Protocol):
    """Every console's app: its settings, clock, the live data last read, and how to ask for more."""

    settings: Settings
    clock: Callable[[], datetime]
    live: Live | None
    linux_console: bool
    MODES: Any

    @property
    def station(self) -> StationView | None: ...

    def request_refresh(self) -> None: ...

    def run_action_later(self, action: str) -> None: ...


class OperatorHost(ConsoleHost, Protocol):
    """The operator's app: it holds the printer."""

    @property
    def station(self) -> Station | None: ...

    def action_pause(self) -> None: ...

    def action_open(self, mode: str) -> None: ...


class SupervisorHost(ConsoleHost, Protocol):
    """The supervisor's app: it watches the database, in someone's name, and may ask for a pause or a resume."""

    who: str
    requests_allowed: bool
    station_name: str  # the watched station's
    regency: Regency | None  # on a ledger: every station, as last read

    @property
    def station(self) -> WatchedStation: ...

    def watch_station(self, station_id: str) -> None: ...

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None: ...
