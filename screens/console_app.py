"""What both consoles' apps share: the Linux-console theme, keys written for people, the command palette,
refreshes coalesced into one read of the live data, plain-text notifications, and crashes written to the log.

Each app says how it reads the live data (`read_live`); the batching around it is here once. So are the station's
language set before the first word, the help screen on F1, and a failed worker written to the log and said."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from textual.app import App
from textual.binding import Binding
from textual.command import CommandPalette
from textual.notifications import SeverityLevel
from textual.reactive import reactive
from textual.screen import Screen
from textual.timer import Timer
from textual.worker import Worker, WorkerState

from console.clock import now
from console.config import Settings
from console.i18n import set_language, t
from console.live import Live
from console.logs import get_logger
from screens.commands import StationPalette
from screens.keys import key_label, translate_bindings
from screens.messages import LiveUpdated

log = get_logger("console")

REFRESH_DELAY_S = 0.25  # events within this time make one refresh
SWITCH_MASK_S = 0.01  # Textual holds the screen back 50 ms when switching screens; this is enough to mask it


class ConsoleApp(App[int], inherit_bindings=False):
    CSS_PATH = Path(__file__).parent / "station.tcss"  # absolute: the apps that extend this live elsewhere
    who_line: reactive[str] = reactive("")  # who is signed in, for the title bar ("" when no one)
    HELP_SCREEN: type[Screen] = Screen  # what F1 shows: each app's own

    def __init__(self, settings: Settings, clock: Callable[[], datetime] = now) -> None:
        set_language(settings.station.language)  # the bindings are put into words as the app is made
        super().__init__()
        self.settings = settings
        self.clock = clock
        translate_bindings(self)
        self.animation_level = "none"
        self.linux_console = os.environ.get("TERM") == "linux"
        self.live: Live | None = None
        self._refresh_timer: Timer | None = None
        self._loading = False
        self._load_again = False

    def on_mount(self) -> None:
        if self.linux_console:
            self.theme = "ansi-dark"
            self.add_class("-linux")

    # ------------------------------------------------------------------------------------------ live data

    async def read_live(self) -> Live | None:
        """The live data as this console reads it; None while there is nothing to read from yet."""
        raise NotImplementedError

    def live_read(self, live: Live) -> None:
        """After a read, before the screens are told (the supervisor's keys depend on what was read)."""

    def request_refresh(self) -> None:
        if self._refresh_timer is None:
            self._refresh_timer = self.set_timer(REFRESH_DELAY_S, self._start_refresh)

    def _start_refresh(self) -> None:
        self._refresh_timer = None
        if self._loading:
            self._load_again = True
            return
        self.run_worker(self._load_live, group="live", exit_on_error=False)  # type: ignore[arg-type]  # Textual's WorkType

    async def _load_live(self) -> None:
        self._loading = True
        try:
            live = await self.read_live()
        finally:
            self._loading = False
        if live is not None:
            self.live = live
            self.live_read(live)
            for screen in self.screen_stack:
                screen.post_message(LiveUpdated(live))
        if self._load_again:
            self._load_again = False
            self.request_refresh()

    # ------------------------------------------------------------------------------------------ the terminal

    def notify(self, message: str, *, title: str = "", severity: SeverityLevel = "information",
               timeout: float | None = None, markup: bool = False) -> None:  # fmt: skip
        """Always plain text: a notification carries data (a NIK, an error, an allocation's id)."""
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=False)

    def _handle_exception(self, error: Exception) -> None:
        # Textual draws the traceback on the terminal it then gives back; the log keeps it.
        log.error("console_crashed", app=type(self).__name__, exc_info=error)
        super()._handle_exception(error)

    def delay_update(self, delay: float = 0.05) -> None:
        super().delay_update(min(delay, SWITCH_MASK_S))  # a key answers within a frame or two, not 50 ms later

    def get_key_display(self, binding: Binding) -> str:
        return binding.key_display or key_label(binding.key, short=True)

    def action_command_palette(self) -> None:
        if self.use_command_palette and not CommandPalette.is_open(self):  # type: ignore[arg-type]  # App[T] is invariant
            self.push_screen(StationPalette(placeholder=t("ui.palette.placeholder"), id="--command-palette"))

    def action_help(self) -> None:
        if not isinstance(self.screen, self.HELP_SCREEN):
            self.push_screen(self.HELP_SCREEN())

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state != WorkerState.ERROR:
            return
        error = event.worker.error
        assert error is not None  # a worker in ERROR has one
        log.error("worker_failed", app=type(self).__name__, worker=event.worker.name, group=event.worker.group,
                  error=f"{type(error).__name__}: {error}")  # fmt: skip
        self.worker_failed(event.worker, error)

    def worker_failed(self, worker: Worker, error: BaseException) -> None:
        """Say what failed, once it is in the log."""
        self.notify(t("ui.error.action", error=error), severity="error", timeout=15)

    def run_action_later(self, action: str) -> None:
        """For the command palette: run an app action once the palette has closed."""
        self.call_later(self.run_action, action)
