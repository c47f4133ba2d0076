"""The fault dialog: over any screen, what happened to the printer and to the card, and what to do now.

Enter asks the engine to recover (settle the card, clear and set up the printer); if the printer still reports a
fault, the dialog stays and says the new one. Esc leaves the queue stopped; P on the dashboard brings this back.
"""

from __future__ import annotations

import re
import time

from rich.console import Group
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.timer import Timer
from textual.widgets import Footer, Static

from console import jobs, residents
from console.faults_text import fault_advice, fault_title
from console.hints import CONSOLE, advised
from console.i18n import t
from console.station import Station
from console.text import number
from drivers.faults import LinkLost, LinkUnavailable, ReplyTimeout
from screens.keys import key, translate_bindings
from screens.widgets.words import Words, plain

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\[])")
NO_ANSWER = (ReplyTimeout, LinkLost, LinkUnavailable)  # silence is not a fault the printer reports


class FaultScreen(ModalScreen[bool]):
    BINDINGS = [key("enter", "recover", "ui.key.recover"), key("escape", "leave", "ui.key.leave_stopped")]

    def __init__(self, station: Station) -> None:
        super().__init__(classes="dialog-screen")
        translate_bindings(self)
        self.station = station
        self.recovering = False
        self._still = False
        self._waiting: Timer | None = None  # counts the seconds while the printer is asked

    def compose(self) -> ComposeResult:
        with Vertical(id="fault-dialog", classes="dialog"):
            yield Words(id="fault-card")
            yield Words(id="fault-advice")
            yield Words(id="fault-status")
            yield Words(t("ui.fault.keys"), id="fault-keys", classes="dialog-keys")
        yield Footer(show_command_palette=False, compact=True)

    def on_mount(self) -> None:
        self.show_current()

    def show_current(self) -> None:
        """Show the engine's fault as it stands now (called again when a recovery met a new one)."""
        fault = self.station.engine.fault
        if fault is None:
            return
        self.query_one("#fault-dialog").border_title = plain(t("ui.fault.title", title=fault_title(fault)))
        steps = [s for s in _SENTENCE_END.split(fault_advice(fault)) if s.strip()]
        self.query_one("#fault-advice", Static).update(
            Group(*(Text(f"{n}. {step}") for n, step in enumerate(steps, start=1)))
        )
        still = "ui.fault.no_answer" if isinstance(fault, NO_ANSWER) else "ui.fault.still"
        self.query_one("#fault-status", Static).update(t(still) if self._still else "")
        self.run_worker(self._show_card, group="fault-card", exclusive=True)  # type: ignore[arg-type]  # Textual's WorkType

    async def _show_card(self) -> None:
        job_id = self.station.fault_job_id
        job = await jobs.get_job(self.station.store, job_id) if job_id is not None else None
        card = self.query_one("#fault-card", Static)
        if job is None:
            card.update(t("ui.fault.no_card"))
            return
        resident = await residents.get_resident(self.station.store, job.nik)
        nama = resident.nama if resident is not None else None
        counter = number(job.card_counter) if job.card_counter is not None else "?"
        fate = t(f"ui.fault.fate.{job.state}", reason=job.tag_reason or "-")
        card.update(t("ui.fault.card", counter=counter, nik=job.nik, nama=nama or "", fate=fate))

    def action_recover(self) -> None:
        if self.recovering:
            return
        self.recovering = True
        started = time.monotonic()

        def show_waiting() -> None:
            if self.recovering:
                seconds = int(time.monotonic() - started)
                self.query_one("#fault-status", Static).update(t("ui.fault.checking", seconds=seconds))

        show_waiting()
        self._waiting = self.set_interval(1.0, show_waiting)
        self.run_worker(self._recover, group="recover", exclusive=True, exit_on_error=False)  # type: ignore[arg-type]  # Textual's WorkType

    async def _recover(self) -> None:
        try:
            recovered = await self.station.recover()
        except Exception as exc:  # a fault of the books, not of the printer: say it, stay stopped
            self.query_one("#fault-status", Static).update(t("ui.fault.error", error=advised(exc, CONSOLE)))
            return
        finally:
            self.recovering = False
            if self._waiting is not None:
                self._waiting.stop()
        if recovered:
            self.app.notify(t("ui.fault.recovered"))
            self.dismiss(True)
            return
        self._still = True
        self.show_current()

    def action_leave(self) -> None:
        if not self.recovering:
            self.dismiss(False)
