"""The supervisor's app: its screens and keys, the reads that follow the database, and the one write (a
pause/resume request)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import datetime

from textual.worker import Worker

from console import regency, requests, stations
from console.clock import now
from console.config import Settings
from console.errors import LedgerUnreachable, StationError
from console.hints import CONSOLE, advised
from console.i18n import t
from console.live import Live
from console.logs import get_logger
from console.regency import Regency
from console.store import Store
from console.supervision import printer_holder
from console.watch import changes
from console.watched_station import WatchedStation
from screens.console_app import ConsoleApp
from screens.handover import HandoverScreen
from screens.keys import key
from screens.supervisor.books import WatchBooks
from screens.supervisor.commands import SupervisorCommands
from screens.supervisor.dashboard import WatchDashboard
from screens.supervisor.help import SupervisorHelp
from screens.supervisor.lists import WatchAudit, WatchQueue, WatchUntagged
from screens.supervisor.regency import RegencyScreen

log = get_logger("supervise")

LEDGER_RETRY_S = 1.0  # how often to ask a ledger that stopped answering again
DATA_VERSION_EVERY_S = 0.5  # how often to ask SQLite whether another connection committed (one cheap pragma)


class SupervisorApp(ConsoleApp):
    COMMANDS = {SupervisorCommands}
    MODES = {
        "dashboard": WatchDashboard,
        "queue": WatchQueue,
        "untagged": WatchUntagged,
        "books": WatchBooks,
        "audit": WatchAudit,
    }
    DEFAULT_MODE = "dashboard"
    HELP_SCREEN = SupervisorHelp
    BINDINGS = [
        key("f1", "help", "ui.key.help"),
        key("f2,1", "open('dashboard')", "ui.key.dashboard", show=False),
        key("f3,2", "open('queue')", "ui.sup.key.queue", show=False),
        key("f4,3", "open('untagged')", "ui.sup.key.untagged", show=False),
        key("f5,4", "open('books')", "ui.sup.key.books", show=False),
        key("f6,5", "open('audit')", "ui.sup.key.audit", show=False),
        key("f9,6", "handover", "ui.key.handover", show=False),
        key("p,f7", "ask('pause')", "ui.sup.key.ask_pause"),
        key("p,f7", "ask('resume')", "ui.sup.key.ask_resume"),
        key("escape", "open('regency')", "ui.sup.key.regency", id="regency"),  # on a ledger, from a station's view
        key("ctrl+p", "command_palette", "ui.key.commands", show=False),
        key("ctrl+q,ctrl+c", "quit", "ui.key.quit", priority=True),
        key("q", "quit", "ui.key.quit", show=False),
    ]

    def __init__(self, settings: Settings, store: Store, who: str, *, requests_allowed: bool = True,
                 clock: Callable[[], datetime] = now, regency_first: bool = True,
                 station_name: str | None = None) -> None:  # fmt: skip
        """`store` reads as the station to watch. On a ledger the regency's table comes first (`regency_first`),
        else that station's own view; Enter on a row watches another station, Esc comes back."""
        super().__init__(settings, clock)
        self.on_ledger = store.dialect != "sqlite"
        self.regency_first = self.on_ledger and regency_first
        if self.on_ledger:  # the regency's table, on a ledger alone (a station's own file is a regency of one)
            self.add_mode("regency", RegencyScreen)
        self.title = (t("ui.sup.title", who=who, screen=t("ui.sup.screen.regency"), station=settings.station.regency)
                      if self.regency_first else t("ui.sup.title", who=who, screen=t("ui.screen.dashboard"),
                                                   station=station_name or settings.station.name))  # fmt: skip
        self.store = self.opened = store  # `opened`: the command's, which it closes; others are this app's
        self.who = who
        self.requests_allowed = requests_allowed
        self.station = WatchedStation(settings, store, clock)
        self.station_name = station_name or settings.station.name
        self.regency: Regency | None = None
        self._asking = False

    def on_mount(self) -> None:
        super().on_mount()
        if self.regency_first:
            self.switch_mode("regency")
        self.run_worker(self._watch, name="watch", group="watch", exit_on_error=False)  # type: ignore[arg-type]  # Textual's WorkType

    async def _watch(self) -> None:
        """Read once, then again each time another connection (the printing process, a CLI) has committed, or
        the process that holds the printer started or ended (on a ledger: the minute turned, for the silences).
        A ledger that stops answering is said once, and watched again until it answers."""
        away = False
        while True:
            try:
                if self.on_ledger:
                    await regency.version(self.opened)  # answers, or raises while the ledger is away
                if away:
                    self.notify(t("ui.sup.ledger_back"))
                    away = False
                self.request_refresh()
                async for _version in self._changes():
                    self.request_refresh()
            except LedgerUnreachable as lost:
                if not away:
                    self.notify(t("ui.sup.ledger_away", why=str(lost)), severity="error", timeout=30)
                    away = True
                await asyncio.sleep(LEDGER_RETRY_S)

    def _changes(self) -> AsyncIterator[object]:
        if self.on_ledger:
            return changes(self.opened, DATA_VERSION_EVERY_S, lambda: self.clock().minute,
                           lambda: regency.version(self.opened))  # fmt: skip
        return changes(self.opened, DATA_VERSION_EVERY_S, lambda: printer_holder(self.opened.path))

    async def read_live(self) -> Live:
        if self.on_ledger:
            self.regency = await regency.read(self.opened, self.station.today_start())
        return await self.station.load()

    def watch_station(self, station_id: str) -> None:
        """The chosen station's own view, read as that station (on a ledger)."""
        if self.on_ledger:
            self.run_worker(self._watch_station(station_id), group="choose", exclusive=True, exit_on_error=False)

    async def _watch_station(self, station_id: str) -> None:
        chosen = await stations.require(self.opened, station_id)
        if chosen.id == self.opened.station_id:
            store = self.opened
        else:
            store = await Store.open(self.settings.database, create=False, readonly=True, station_id=chosen.id)
        previous, self.store = self.store, store
        self.station = WatchedStation(self.settings, store, self.clock)
        self.station_name = chosen.name
        self.live = None
        if previous is not self.opened:
            await previous.close()
        self.request_refresh()
        self.switch_mode("dashboard")

    async def on_unmount(self) -> None:
        if self.store is not self.opened:
            await self.store.close()

    def live_read(self, live: Live) -> None:
        self.refresh_bindings()  # P asks the opposite of what the printer will be doing

    # ------------------------------------------------------------------------------------------ actions

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if self.on_ledger and self.current_mode == "regency" and action in ("ask", "open", "handover"):
            return False  # no station is chosen yet: Enter chooses one
        if action == "open" and parameters[0] == "regency":
            return self.on_ledger
        if action == "ask":
            return self.requests_allowed and parameters[0] == self.station.next_request()
        return True

    def action_open(self, mode: str) -> None:
        self.switch_mode(mode)

    def action_handover(self) -> None:
        if not isinstance(self.screen, HandoverScreen):
            self.push_screen(HandoverScreen(self.store, self.settings, read_only=True))

    def action_ask(self, kind: str) -> None:
        if not self.requests_allowed:
            self.notify(t("ui.sup.ask.not_allowed"))
        elif self._asking:
            self.notify(t("ui.sup.ask.busy"))
        else:
            self._asking = True
            self.run_worker(self._ask(kind), group="ask", exit_on_error=False)  # a refusal is said, never fatal

    def worker_failed(self, worker: Worker, error: BaseException) -> None:
        """A request the ledger refused (a station's own role asking another station: row security) is said as
        such; the viewer goes on."""
        if worker.group == "ask":
            self.notify(t("ui.sup.ask.failed", error=error), severity="error", timeout=15)
        else:
            super().worker_failed(worker, error)

    async def _ask(self, kind: str) -> None:
        """The one write: a short-lived writable store, one audited request, closed at once."""
        try:
            where = self.settings.database if self.on_ledger else self.store.path  # a ledger's password file too
            async with await Store.open(where, create=False, station_id=self.store.station_id) as store:
                await requests.request(store, kind, self.who)
        except StationError as exc:
            self.notify(t("ui.sup.ask.failed", error=advised(exc, CONSOLE)), severity="error", timeout=15)
        else:
            log.info("supervise_request", kind=kind, supervisor=self.who)
            self.notify(t(f"ui.sup.ask.{kind}_sent", who=self.who))
        finally:
            self._asking = False
        self.request_refresh()
