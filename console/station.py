"""The console's hold on the station: the printer session, the engine, and every action the operator takes.

Free of Textual on purpose: the app schedules (workers, timers), this says what happens. Every change goes
through the core (`console/`), which audits it; after a change that may let the queue go on, the engine is woken.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable
from datetime import datetime

from console import books, formats, jobs
from console.config import Settings
from console.engine import PAUSED, PRINTING, STOPPED, EngineEvent
from console.faults_text import fault_title
from console.i18n import t
from console.jobs import EnqueueResult, Job
from console.live import EventLine, Live, load_live
from console.operator import operator_name
from console.operators import SignedIn
from console.printing import PrinterSession
from console.station_view import midnight, time_left
from console.store import Store
from drivers.faults import PrinterFault
from drivers.printer import PrinterInfo, PrinterStatus

STATUS_EVERY_S = 5.0  # the printer's status (feeder, ribbon, counter) is read this often, between cards
# How often the console looks whether a read is due: a tick as long as the period would miss the read by a hair
# every other time (a 10 s period), and a printer unplugged between cards would be said that much later.
STATUS_CHECK_EVERY_S = 1.0
RATE_WINDOW = 10  # cards whose pace predicts the time left
LOCAL_EVENTS = 20
# A reply awaited longer than this (and than this share of its time-out) is counted on the dashboard: a card's
# motions at the KO ribbon's pace answer within about a quarter of the 45 s time-out, so an ordinary card shows none.
PRINTER_WAIT_SHOWN_AFTER_S = 5.0
PRINTER_WAIT_SHOWN_SHARE = 0.25
UNATTENDED = "station"  # the engine's name in the log while the console is locked (a reserved operator name)


class Station:
    """The station as this process holds it (a `StationView` for the screens, and the operator's actions)."""

    def __init__(
        self, settings: Settings, session: PrinterSession, clock: Callable[[], datetime],
        on_event: Callable[[EngineEvent], None],
    ) -> None:  # fmt: skip
        self.settings = settings
        self.session = session
        self.store = session.store
        self.engine = session.engine
        self.printer = session.printer
        self.emulator = session.emulator
        self.clock = clock
        self.printer_info: PrinterInfo | None = None
        self.printer_status: PrinterStatus | None = None
        self.printer_silent = False  # the last status read got no answer
        self.last_counter: int | None = None
        self.fault_job_id: int | None = None  # the card the standing fault met, if any
        self.status_due = True
        self._status_read_at = 0.0
        self._pause_asked: bool | None = None  # what the operator asked, until the engine has acted on it
        self._card_times: deque[float] = deque(maxlen=RATE_WINDOW + 1)
        self.local_events: deque[EventLine] = deque(maxlen=LOCAL_EVENTS)
        self._printer_calls = asyncio.Lock()  # the console's own printer calls (status, recover) never overlap
        self._on_event = on_event
        self.engine.subscribe(self._engine_event)
        self.search_store: Store | None = None

    async def open_search(self) -> Store:
        """A reader of its own for the residents search: a search over a million names may take seconds, and
        the engine's reads must never wait behind it (SQLite in WAL mode lets both read at once)."""
        if self.search_store is None:
            self.search_store = await Store.open(self.store.path, readonly=True, station_id=self.store.station_id)
        return self.search_store

    async def close(self) -> None:
        await self.engine.take_asks()  # a pause asked just before quitting lasts
        if self.search_store is not None:
            store, self.search_store = self.search_store, None
            await store.close()

    # ------------------------------------------------------------------------------------------ the engine

    async def run(self) -> None:
        """Start the printer and run the queue until cancelled. A fault at start stops it like any other."""
        try:
            await self.engine.start()
        except PrinterFault as fault:
            self.engine.fault = fault  # the engine then stands STOPPED; `recover` starts the printer afresh
            self._note(t("ui.event.fault", title=fault_title(fault)))
            self._on_event(EngineEvent("fault", STOPPED, fault=fault.code))
        else:
            await self.identify()
            await self.read_status()
        await self.engine.run(stop_when_idle=False)

    async def identify(self) -> None:
        async with self._printer_calls:
            try:
                self.printer_info = await self.printer.identify()
            except PrinterFault:
                self.printer_info = None

    def _engine_event(self, event: EngineEvent) -> None:
        if event.kind == "card_printed":
            self._card_times.append(self.clock().timestamp())
        elif event.kind == "state" and event.state != PRINTING:
            self._card_times.clear()  # the pace is this run's: a stop (a pause, a fault, tags) is no card's time
        if event.counter is not None:
            self.last_counter = event.counter
        if event.kind == "state" and self._pause_asked is not None and self._pause_asked == (event.state == PAUSED):
            self._pause_asked = None  # the engine has done what was asked; from now on its state says it
        if event.kind == "fault" and event.job_id is not None:
            self.fault_job_id = event.job_id
        if event.kind == "fault" and self.engine.fault is not None:
            self._note(t("ui.event.fault", title=fault_title(self.engine.fault)))
        if event.kind in ("ledger_away", "ledger_back"):
            self._note(t(f"print.{event.kind}", since=formats.duration(event.detail["seconds"])))
        self._on_event(event)

    @property
    def state(self) -> str:
        return self.engine.state

    @property
    def paused(self) -> bool:
        return self._pause_asked if self._pause_asked is not None else self.engine.state == PAUSED

    def toggle_pause(self) -> bool:
        """Pause, or resume a paused queue; returns whether it is now paused."""
        if self.paused:
            self._pause_asked = False
            self.engine.resume(self.actor)
        else:
            self._pause_asked = True
            self.engine.pause(self.actor)  # it lasts until resumed, across restarts; the audit log says who
        return self._pause_asked

    async def recover(self) -> bool:
        """The operator fixed the fault: settle the card, clear and set up the printer. False if it still stands."""
        async with self._printer_calls:
            recovered = await self.engine.recover()
        if recovered:
            self.fault_job_id = None
            self._note(t("ui.event.recovered"))
            self.status_due = True
            if self.printer_info is None:
                await self.identify()
        return recovered

    async def stop_printing(self, deadline_s: float = 60.0) -> None:
        """Before quitting: let the card in the printer finish, and take no other."""
        await self.engine.take_asks()  # a pause asked just before quitting lasts
        self.engine.pause()
        end = time.monotonic() + deadline_s
        while self.engine.state == PRINTING and time.monotonic() < end:  # noqa: ASYNC110  no event for a card done
            await asyncio.sleep(0.05)

    # ------------------------------------------------------------------------------------------ the printer

    def status_wanted(self) -> bool:
        """Time for a status read, and the printer between cards (never in the middle of one, never in a fault)."""
        due = self.status_due or time.monotonic() - self._status_read_at >= STATUS_EVERY_S
        return due and self.engine.state != STOPPED and self.engine.current is None

    async def read_status(self) -> None:
        if self._printer_calls.locked():
            return
        async with self._printer_calls:
            self.status_due = False
            self._status_read_at = time.monotonic()
            try:
                self.printer_status = await self.printer.status()
                self.printer_silent = False
                self.last_counter = self.printer_status.cards_counter
            except PrinterFault:
                self.printer_silent = True

    def seconds_left(self, cards: int) -> float | None:
        times = self._card_times
        if self.engine.state != PRINTING or not times:
            return None
        return time_left(times[-1] - times[0], len(times), cards)

    def printer_wait(self) -> tuple[int, int] | None:
        """The reply the printer owes, once it is longer in coming than a card's motions ordinarily take: the
        seconds waited so far and the time-out, for the screen to count; None otherwise."""
        awaited = self.printer.awaiting
        if awaited is None:
            return None
        waited = awaited.waited()
        if waited < max(PRINTER_WAIT_SHOWN_AFTER_S, awaited.timeout * PRINTER_WAIT_SHOWN_SHARE):
            return None
        return int(waited), round(awaited.timeout)

    # ------------------------------------------------------------------------------------------ live data

    def today_start(self) -> str:
        return midnight(self.clock())

    async def load_live(self) -> Live:
        return await load_live(self.store, self.today_start(), self.engine.current, list(self.local_events))

    def _note(self, text: str) -> None:
        self.local_events.append(EventLine(self.clock().isoformat(timespec="milliseconds"), text))

    # ------------------------------------------------------------------------------------------ actions

    @property
    def actor(self) -> str:
        """Who acts, as the audit log names them: the operator signed in now (`operator.act_as`)."""
        return operator_name()

    def follow_operator(self, who: SignedIn | None) -> None:
        """The engine's entries name the operator signed in; while the console is locked, the station itself."""
        self.engine.actor = who.name if who is not None else UNATTENDED

    async def enqueue_nik(self, nik: str) -> EnqueueResult:
        result = await jobs.enqueue(self.store, [nik], self.actor)
        self.engine.wake()
        return result

    async def enqueue_ready(self, kecamatan: str | None = None, kel_desa: str | None = None) -> int:
        count = await jobs.enqueue_ready(self.store, self.actor, kecamatan, kel_desa)
        self.engine.wake()
        return count

    async def hold(self, job: Job) -> Job:
        return await jobs.hold(self.store, job.id, self.actor)

    async def release(self, job: Job) -> Job:
        released = await jobs.release(self.store, job.id, self.actor)
        self.engine.wake()
        return released

    async def cancel(self, job: Job) -> Job:
        return await jobs.cancel(self.store, job.id, self.actor)

    async def tag(self, job: Job, good: bool, reason: str | None = None, note: str | None = None,
                  actor: str | None = None) -> Job:  # fmt: skip
        """`actor`: a supervisor signed in for a correction, when the operator signed in is not one."""
        tagged = await jobs.tag(self.store, job.nik, good, actor or self.actor, reason, note, job_id=job.id)
        self.engine.wake()  # a queue waiting for tags may go on
        return tagged

    async def add_allocation(self, allocation_id: str, count: int, period: str | None) -> None:
        await books.add_allocation(self.store, allocation_id, count, period, self.actor)
        self.engine.wake()  # a queue out of blanks may go on

    async def enter_count(self, allocation_id: str, counted: int, note: str | None) -> int:
        return await books.enter_count(self.store, allocation_id, counted, note, self.actor)
