"""The station as the supervisor sees it: what the process that holds the printer publishes, read from the
database alone (there is no printer here)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from console import regency
from console.config import Settings
from console.engine import IDLE, PAUSED, PRINTING
from console.live import Live, load_live
from console.station_view import midnight, time_left
from console.store import Store
from console.supervision import Holder, Published, printer_holder, printing_job, read_published

if TYPE_CHECKING:  # the watcher never loads the printer's driver
    from drivers.printer import PrinterInfo, PrinterStatus


class WatchedStation:
    """The station as the dashboard's panels ask for it (a `StationView`), from the database alone: there is no
    printer here."""

    printer_info: PrinterInfo | None = None
    printer_status: PrinterStatus | None = None
    printer_silent = False

    def __init__(self, settings: Settings, store: Store, clock: Callable[[], datetime]) -> None:
        self.settings = settings
        self.store = store
        self.clock = clock
        self.published = Published()
        self.holder: Holder | None = None
        self.printing_here = False  # on a ledger: the station's printing process is connected to it now

    @property
    def state(self) -> str:
        return self.published.state or IDLE

    @property
    def paused(self) -> bool:
        return self.state == PAUSED

    @property
    def on_ledger(self) -> bool:
        return self.store.dialect != "sqlite"

    @property
    def stale_since(self) -> str | None:
        """When the station last said anything, while no process answers for it (the process that held the
        printer is gone): what is shown is as of then. None while a process holds it, or none ever did. On a
        ledger the printer's lock file is the remote station's: a station printing yet silent too long is."""
        if self.on_ledger:
            heard = max(filter(None, (self.published.since, *self.published.card_times[:1])), default=None)
            return regency.silent_since(self.published.state, heard, self.printing_here, self.clock())
        holder = self.holder
        if self.published.state is None or holder is None or holder.running:  # None: its lock file unreadable
            return None
        return max(self.published.since or "", *self.published.card_times[:1])

    def next_request(self) -> str:
        """What P asks now: the opposite of what the printer will be doing once the pending requests are done."""
        pending = self.published.pending
        will_pause = pending[-1].kind == "pause" if pending else self.state == PAUSED
        return "resume" if will_pause else "pause"

    def seconds_left(self, cards: int) -> float | None:
        since = self.published.since or ""
        times = [datetime.fromisoformat(at) for at in self.published.card_times if at >= since]  # this run's
        if self.state != PRINTING or not times:
            return None
        return time_left((times[0] - times[-1]).total_seconds(), len(times), cards)

    def today_start(self) -> str:
        return midnight(self.clock())

    async def load(self) -> Live:
        self.published = await read_published(self.store)
        self.holder = None if self.on_ledger else printer_holder(self.store.path)
        if self.on_ledger:
            self.printing_here = await regency.printing_here(self.store, self.store.station_id)
        return await load_live(self.store, self.today_start(), await printing_job(self.store), [])
