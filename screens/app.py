"""The operator console: a thin Textual app that holds the printer session and routes what happens to screens.

The printer session (store, printer, engine) lives on the app's loop: the engine runs in an async worker, engine
events arrive synchronously and ask for a refresh, and refreshes are coalesced so that a fast queue costs one
read of the books every REFRESH_DELAY_S, not one per event.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from datetime import datetime

from textual import events
from textual.worker import Worker

from console import operators
from console.clock import now
from console.config import Settings
from console.engine import PRINTING, STOPPED, EngineEvent
from console.errors import LedgerUnreachable
from console.i18n import t
from console.live import Live
from console.logs import get_logger
from console.operator import act_as, signed_in
from console.operators import SignedIn
from console.printing import PrinterSession
from console.station import STATUS_CHECK_EVERY_S, Station
from console.store import Store
from screens.allocations import AllocationsScreen
from screens.chart import ChartScreen
from screens.commands import StationCommands
from screens.console_app import ConsoleApp
from screens.dashboard import DashboardScreen
from screens.fault import FaultScreen
from screens.handover import HandoverScreen
from screens.help import HelpScreen
from screens.keys import key
from screens.messages import PrinterUpdated
from screens.report import ReportScreen
from screens.residents import ResidentsScreen
from screens.rounds import RoundsScreen
from screens.signin import LockScreen, Sleep
from screens.tagging import TaggingScreen
from screens.widgets.dialogs import MessageDialog

log = get_logger("console")

DATA_VERSION_EVERY_S = 3.0  # how often to look whether another process (a CLI, a supervisor) changed the database
IDLE_CHECK_EVERY_S = 1.0  # how often to look whether the console has been idle long enough to lock

SessionOpener = Callable[[], AbstractAsyncContextManager[PrinterSession]]


class StationApp(ConsoleApp):
    COMMANDS = {StationCommands}
    MODES = {
        "dashboard": DashboardScreen,
        "residents": ResidentsScreen,
        "tagging": TaggingScreen,
        "allocations": AllocationsScreen,
        "rounds": RoundsScreen,  # from the command palette (no function key left to spare)
        "chart": ChartScreen,  # likewise
    }
    DEFAULT_MODE = "dashboard"
    HELP_SCREEN = HelpScreen
    BINDINGS = [
        key("f1", "help", "ui.key.help"),
        key("f2", "open('dashboard')", "ui.key.dashboard", show=False),
        key("f3", "open('residents')", "ui.key.residents", show=False),
        key("f4", "open('tagging')", "ui.key.tagging", show=False),
        key("f5", "open('allocations')", "ui.key.allocations", show=False),
        key("f6", "report", "ui.key.report", show=False),
        key("f7", "pause", "ui.key.pause_resume", show=False),
        key("f8", "sign_out", "ui.key.sign_out", show=False),
        key("f9", "handover", "ui.key.handover", show=False),
        key("ctrl+p", "command_palette", "ui.key.commands", show=False),
        key("ctrl+q", "quit", "ui.key.quit", priority=True),
        key("ctrl+c", "help_quit", "ui.key.quit_how", show=False),
    ]

    def __init__(
        self, settings: Settings, open_session: SessionOpener, *, clock: Callable[[], datetime] = now,
        idle_clock: Callable[[], float] = time.monotonic, sign_in_sleep: Sleep = asyncio.sleep,
    ) -> None:  # fmt: skip
        super().__init__(settings, clock)
        self.title = t("ui.app_title")
        self.station: Station | None = None
        self._open_session = open_session
        self._session: AbstractAsyncContextManager[PrinterSession] | None = None
        self._data_version: int | None = None
        # Signing in (docs/operators.md): required once an operator is registered; idle is measured from the last
        # key or mouse event, on `idle_clock` (seconds).
        self.sign_in_required = False
        self.locked = False
        self.idle_clock = idle_clock
        self.sign_in_sleep = sign_in_sleep
        self._last_input = idle_clock()
        self._last_operator = ""
        self._first_sign_in = asyncio.Event()

    # ------------------------------------------------------------------------------------------ start, stop

    def on_mount(self) -> None:
        super().on_mount()
        self.run_worker(self._run_station, name="station", group="station", exit_on_error=False)  # type: ignore[arg-type]  # Textual's WorkType
        self.set_interval(STATUS_CHECK_EVERY_S, self._status_tick)
        self.set_interval(DATA_VERSION_EVERY_S, self._data_version_tick)
        self.set_interval(IDLE_CHECK_EVERY_S, self._idle_tick)

    async def _run_station(self) -> None:
        opening = self._open_session()
        session = await opening.__aenter__()
        self._session = opening  # closed by on_unmount, once entered
        self.sign_in_required = await operators.any_registered(session.store)
        station = Station(self.settings, session, self.clock, self._engine_event)
        checked = signed_in()  # `station run --operator NAME` checked the PIN already: one ask is enough
        if self.sign_in_required and checked is None:
            self._lock(session.store, t("ui.signin.start", station=self.settings.station.name))
        elif not self.sign_in_required:
            self.who_line = t("operator.title.no_sign_in")
            self._first_sign_in.set()
        self.station = station
        if self.sign_in_required and checked is not None:
            self._signed_in(checked)
        await self.station.open_search()
        self.request_refresh()
        self.call_after_refresh(self._build_screens)
        await self._first_sign_in.wait()  # the queue starts once someone is at the console
        await self.station.run()

    def _build_screens(self) -> None:
        """Build the other main screens once, behind the dashboard: a screen's first showing costs Textual a
        parse of every style sheet, which would otherwise fall on the operator's first F3, F4 or F5."""
        if self.current_mode != "dashboard" or len(self.screen_stack) > 1:
            return  # the operator is already elsewhere
        with self.batch_update():
            for mode in self.MODES:
                self.switch_mode(mode)
            self.switch_mode("dashboard")

    async def on_unmount(self) -> None:
        """Close what the session opened (an open aiosqlite connection would keep the process alive)."""
        workers = list(self.workers)
        for worker in workers:
            worker.cancel()
        for worker in workers:
            try:
                await worker.wait()
            except Exception:
                pass
        if self.station is not None:
            await self.station.close()
        if self._session is not None:
            session, self._session = self._session, None
            await session.__aexit__(None, None, None)
        act_as(None)  # the console's sign-in ends with it

    async def action_quit(self) -> None:
        station = self.station
        if station is not None and station.state == PRINTING:
            self.notify(t("ui.quit.waiting"), timeout=10)
            self.run_worker(self._quit_after_card, group="quit", exclusive=True)  # type: ignore[arg-type]  # Textual's WorkType
            return
        await self._sign_out_to_quit()
        self.exit(0)

    async def _quit_after_card(self) -> None:
        assert self.station is not None
        await self.station.stop_printing()
        await self._sign_out_to_quit()
        self.exit(0)

    async def _sign_out_to_quit(self) -> None:
        who = signed_in()
        if who is not None and self.station is not None:
            await operators.sign_out(self.station.store, who, "signed_out")
            act_as(None)

    def action_help_quit(self) -> None:
        self.notify(t("ui.quit.how"))

    # ------------------------------------------------------------------------------------------ signing in

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, (events.Key, events.MouseEvent)) and not event.is_forwarded:
            self._last_input = self.idle_clock()
        await super().on_event(event)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "sign_out":
            return self.sign_in_required and not self.locked and self.station is not None
        if action == "quit" and self.locked:
            return not self._first_sign_in.is_set()  # at the start nothing runs yet; later, sign in to quit
        return True

    def _idle_tick(self) -> None:
        minutes = self.settings.console.lock_after_min
        if not self.sign_in_required or self.locked or minutes <= 0 or self.station is None:
            return
        if self.idle_clock() - self._last_input >= minutes * 60:
            self._sign_out("idle", t("operator.locked", minutes=minutes))

    def action_sign_out(self) -> None:
        self._sign_out("signed_out", t("ui.signin.signed_out"))

    def _sign_out(self, why: str, lead: str) -> None:
        assert self.station is not None
        who = signed_in()
        self._lock(self.station.store, lead)
        if who is not None:
            self.run_worker(operators.sign_out(self.station.store, who, why), group="sign-out",
                            exit_on_error=False)  # fmt: skip

    def _lock(self, store: Store, lead: str) -> None:
        """Cover every screen until someone signs in; the engine prints on, in the station's name."""
        who = signed_in()
        if who is not None:
            self._last_operator = who.name
        self.locked = True
        act_as(None)
        if self.station is not None:
            self.station.follow_operator(None)
        self.who_line = ""
        self.push_screen(LockScreen(store, lead, name=self._last_operator, sleep=self.sign_in_sleep),
                         self._signed_in)  # fmt: skip

    def _signed_in(self, who: SignedIn | None) -> None:
        assert who is not None  # the lock screen cannot be dismissed otherwise
        act_as(who)
        if self.station is not None:
            self.station.follow_operator(who)
        self.locked = False
        self._last_input = self.idle_clock()
        self.who_line = t("operator.title.signed_in", name=who.name, role=t(f"operator.role.{who.role}"))
        self._first_sign_in.set()
        self.show_fault()  # a fault met while the console was locked

    # ------------------------------------------------------------------------------------------ engine → screens

    def _engine_event(self, event: EngineEvent) -> None:
        """Called by the engine, on this loop, for every event: ask for one coalesced refresh."""
        if event.kind == "fault":
            self.call_later(self.show_fault)
        station = self.station
        if station is not None and event.kind == "state" and event.state not in (PRINTING, STOPPED):
            station.status_due = True  # the queue came to rest: the feeder and ribbon as they are now
        if station is not None and event.kind in ("card_printed", "state") and station.status_wanted():
            self.run_worker(self._read_status, group="status", exclusive=True)  # type: ignore[arg-type]  # Textual's WorkType
        if event.kind in ("ledger_away", "ledger_back"):  # the printer panel says it without reading the ledger
            for screen in self.screen_stack:
                screen.post_message(PrinterUpdated())
        self.request_refresh()

    async def read_live(self) -> Live | None:
        return None if self.station is None else await self.station.load_live()

    async def _read_status(self) -> None:
        if self.station is None:
            return
        await self.station.read_status()
        for screen in self.screen_stack:
            screen.post_message(PrinterUpdated())

    def _status_tick(self) -> None:
        # A read due while a card prints waits for the card: its time is still past after it (`status_wanted`).
        if self.station is not None and self.station.status_wanted():
            self.run_worker(self._read_status, group="status", exclusive=True)  # type: ignore[arg-type]  # Textual's WorkType

    async def _data_version_tick(self) -> None:
        if self.station is None:
            return
        try:
            version = await self.station.store.data_version()
        except LedgerUnreachable:  # the engine waits for the ledger and says so; the next tick asks again
            return
        if version != self._data_version:
            self._data_version = version
            self.request_refresh()

    def show_fault(self) -> None:
        """The fault dialog over whatever screen is showing; with one already open, it takes the new words."""
        if self.station is None or self.station.engine.fault is None or self.locked:
            return  # while locked, the dialog waits for the next sign-in
        for screen in self.screen_stack:
            if isinstance(screen, FaultScreen):
                screen.show_current()
                return
        self.push_screen(FaultScreen(self.station))

    def worker_failed(self, worker: Worker, error: BaseException) -> None:
        if worker.group == "station":
            self.push_screen(
                MessageDialog(
                    t("ui.error.engine_title"), t("ui.error.engine", error=error, log=self.settings.logging.file)
                )
            )
        else:
            super().worker_failed(worker, error)

    # ------------------------------------------------------------------------------------------ actions

    def ready(self) -> bool:
        if self.station is None:
            self.notify(t("ui.not_ready"))
            return False
        return True

    def action_open(self, mode: str) -> None:
        if mode == "dashboard" or self.ready():
            self.switch_mode(mode)

    def action_open_and_run(self, mode: str, action: str) -> None:
        """Open a screen and run one of its actions there (the command palette's way to a form)."""
        if self.ready():
            self.switch_mode(mode)
            self.call_after_refresh(self.screen.run_action, action)

    def action_report(self) -> None:
        if self.ready():
            assert self.station is not None
            self.push_screen(ReportScreen(self.station.store, self.settings, on_change=self.request_refresh))

    def action_handover(self) -> None:
        if self.ready() and not isinstance(self.screen, HandoverScreen):
            assert self.station is not None
            self.push_screen(HandoverScreen(self.station.store, self.settings, on_change=self.request_refresh))

    def action_pause(self) -> None:
        if not self.ready():
            return
        assert self.station is not None
        if self.station.state == STOPPED:
            self.show_fault()
            return
        paused = self.station.toggle_pause()
        self.notify(t("ui.paused" if paused else "ui.resumed"))
        self.request_refresh()
