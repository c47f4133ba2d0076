"""The operator console: a thin Textual app that holds the printer session and routes what happens to screens.

The printer session (store, printer, engine) lives on the app's loop: the engine runs in an async worker, engine
events arrive synchronously and ask for a refresh, and refreshes are coalesced so that a fast queue costs one
read of the books every REFRESH_DELAY_S, not one per event.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from datetime import datetime

from textual.app import App
from textual.binding import Binding
from textual.command import CommandPalette
from textual.timer import Timer
from textual.worker import Worker, WorkerState

from console.clock import now
from console.config import Settings
from console.engine import PRINTING, STOPPED, EngineEvent
from console.i18n import set_language, t
from console.logs import get_logger
from console.printing import PrinterSession
from screens.allocations import AllocationsScreen
from screens.commands import StationCommands, StationPalette
from screens.dashboard import DashboardScreen
from screens.fault import FaultScreen
from screens.help import HelpScreen
from screens.keys import key, key_label, translate_bindings
from screens.live import Live
from screens.messages import LiveUpdated, PrinterUpdated
from screens.residents import ResidentsScreen
from screens.station import STATUS_EVERY_S, Station
from screens.tagging import TaggingScreen
from screens.widgets.dialogs import MessageDialog

log = get_logger("console")

REFRESH_DELAY_S = 0.25  # events within this time make one refresh
DATA_VERSION_EVERY_S = 3.0  # how often to look whether another process (a CLI, a supervisor) changed the database
SWITCH_MASK_S = 0.01  # Textual holds the screen back 50 ms when switching screens; this is enough to mask it
REPORT_MODULE = "screens.report"  # the report screen, when it is installed: `ReportScreen`

SessionOpener = Callable[[], AbstractAsyncContextManager[PrinterSession]]


class StationApp(App[int], inherit_bindings=False):
    CSS_PATH = "station.tcss"
    COMMANDS = {StationCommands}
    MODES = {
        "dashboard": DashboardScreen,
        "residents": ResidentsScreen,
        "tagging": TaggingScreen,
        "allocations": AllocationsScreen,
    }
    DEFAULT_MODE = "dashboard"
    BINDINGS = [
        key("f1", "help", "ui.key.help"),
        key("f2", "open('dashboard')", "ui.key.dashboard", show=False),
        key("f3", "open('residents')", "ui.key.residents", show=False),
        key("f4", "open('tagging')", "ui.key.tagging", show=False),
        key("f5", "open('allocations')", "ui.key.allocations", show=False),
        key("f6", "report", "ui.key.report", show=False),
        key("f7", "pause", "ui.key.pause_resume", show=False),
        key("ctrl+p", "command_palette", "ui.key.commands", show=False),
        key("ctrl+q", "quit", "ui.key.quit", priority=True),
        key("ctrl+c", "help_quit", "ui.key.quit_how", show=False),
    ]

    def __init__(self, settings: Settings, open_session: SessionOpener, *,
                 clock: Callable[[], datetime] = now) -> None:  # fmt: skip
        set_language(settings.station.language)
        super().__init__()
        translate_bindings(self)
        self.title = t("ui.app_title")
        self.settings = settings
        self.clock = clock
        self.animation_level = "none"
        self.linux_console = os.environ.get("TERM") == "linux"
        self.station: Station | None = None
        self.live: Live | None = None
        self._open_session = open_session
        self._session: AbstractAsyncContextManager[PrinterSession] | None = None
        self._refresh_timer: Timer | None = None
        self._loading = False
        self._load_again = False
        self._data_version: int | None = None

    # ------------------------------------------------------------------------------------------ start, stop

    def on_mount(self) -> None:
        if self.linux_console:
            self.theme = "ansi-dark"
            self.add_class("-linux")
        self.run_worker(self._run_station, name="station", group="station", exit_on_error=False)
        self.set_interval(STATUS_EVERY_S, self._status_tick)
        self.set_interval(DATA_VERSION_EVERY_S, self._data_version_tick)

    async def _run_station(self) -> None:
        opening = self._open_session()
        session = await opening.__aenter__()
        self._session = opening  # closed by on_unmount, once entered
        self.station = Station(self.settings, session, self.clock, self._engine_event)
        await self.station.open_search()
        self.request_refresh()
        self.call_after_refresh(self._build_screens)
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
            except Exception:  # noqa: BLE001 - cancelled, failed or never started: either way it is over
                pass
        if self.station is not None:
            await self.station.close()
        if self._session is not None:
            session, self._session = self._session, None
            await session.__aexit__(None, None, None)

    async def action_quit(self) -> None:
        station = self.station
        if station is not None and station.state == PRINTING:
            self.notify(t("ui.quit.waiting"), timeout=10)
            self.run_worker(self._quit_after_card, group="quit", exclusive=True)
            return
        self.exit(0)

    async def _quit_after_card(self) -> None:
        assert self.station is not None
        await self.station.stop_printing()
        self.exit(0)

    def action_help_quit(self) -> None:
        self.notify(t("ui.quit.how"))

    # ------------------------------------------------------------------------------------------ engine → screens

    def _engine_event(self, event: EngineEvent) -> None:
        """Called by the engine, on this loop, for every event: ask for one coalesced refresh."""
        if event.kind == "fault":
            self.call_later(self.show_fault)
        station = self.station
        if station is not None and event.kind == "state" and event.state not in (PRINTING, STOPPED):
            station.status_due = True  # the queue came to rest: the feeder and ribbon as they are now
        if station is not None and event.kind in ("card_printed", "state") and station.status_wanted():
            self.run_worker(self._read_status, group="status", exclusive=True)
        self.request_refresh()

    def request_refresh(self) -> None:
        if self._refresh_timer is None:
            self._refresh_timer = self.set_timer(REFRESH_DELAY_S, self._start_refresh)

    def _start_refresh(self) -> None:
        self._refresh_timer = None
        if self._loading:
            self._load_again = True
            return
        self.run_worker(self._load_live, group="live", exit_on_error=False)

    async def _load_live(self) -> None:
        if self.station is None:
            return
        self._loading = True
        try:
            live = await self.station.load_live()
        finally:
            self._loading = False
        self.live = live
        for screen in self.screen_stack:
            screen.post_message(LiveUpdated(live))
        if self._load_again:
            self._load_again = False
            self.request_refresh()

    async def _read_status(self) -> None:
        if self.station is None:
            return
        await self.station.read_status()
        for screen in self.screen_stack:
            screen.post_message(PrinterUpdated())

    def _status_tick(self) -> None:
        if self.station is not None and self.station.status_wanted():
            self.run_worker(self._read_status, group="status", exclusive=True)
        elif self.station is not None:
            self.station.status_due = True  # read after the card being printed

    async def _data_version_tick(self) -> None:
        if self.station is None:
            return
        version = await self.station.store.data_version()
        if version != self._data_version:
            self._data_version = version
            self.request_refresh()

    def show_fault(self) -> None:
        """The fault dialog over whatever screen is showing; with one already open, it takes the new words."""
        if self.station is None or self.station.engine.fault is None:
            return
        for screen in self.screen_stack:
            if isinstance(screen, FaultScreen):
                screen.show_current()
                return
        self.push_screen(FaultScreen(self.station))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state != WorkerState.ERROR:
            return
        error = event.worker.error
        log.error("console_worker_failed", worker=event.worker.name, group=event.worker.group,
                  error=f"{type(error).__name__}: {error}")  # fmt: skip
        if event.worker.group == "station":
            self.push_screen(MessageDialog(t("ui.error.engine_title"),
                                           t("ui.error.engine", error=error, log=self.settings.logging.file)))
        else:
            self.notify(t("ui.error.action", error=error), severity="error", timeout=15)

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

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def action_report(self) -> None:
        if importlib.util.find_spec(REPORT_MODULE) is None:
            self.notify(t("ui.report.missing"))
            return
        if self.ready():
            assert self.station is not None
            module = importlib.import_module(REPORT_MODULE)
            self.push_screen(module.ReportScreen(self.station.store, self.settings, on_change=self.request_refresh))

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

    def delay_update(self, delay: float = 0.05) -> None:
        super().delay_update(min(delay, SWITCH_MASK_S))  # a key answers within a frame or two, not 50 ms later

    def get_key_display(self, binding: Binding) -> str:
        return binding.key_display or key_label(binding.key, short=True)

    def action_command_palette(self) -> None:
        if self.use_command_palette and not CommandPalette.is_open(self):
            self.push_screen(StationPalette(placeholder=t("ui.palette.placeholder"), id="--command-palette"))

    def run_action_later(self, action: str) -> None:
        """For the command palette: run an app action once the palette has closed."""
        self.call_later(self.run_action, action)
