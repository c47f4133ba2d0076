"""The print engine: takes queued jobs one at a time, spends a blank, drives the printer, records the outcome.

The order of every card is the guarantee: the blank, the NIK's lock and the job's state are committed in one
transaction before `Ss` is sent; the card is recorded as printed only after the printer says so. Whatever
happens in between is settled from the printer's own card counter (`Rco;c`) and card position (`Rlr;p`), never
guessed.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol, TypeVar

from console import books, jobs, live_state, locks, pause, printer_record, requests, restore
from console.books import NoStockError
from console.clock import now_iso
from console.errors import LedgerUnreachable
from console.jobs import Job, TransitionError
from console.ledger_wait import LEDGER_NOTICE_S, LEDGER_RETRY_S
from console.logs import get_logger
from console.settling import Decision, Facts, FaultKind, JobOutcome, Stop, decide
from console.store import Store
from drivers.faults import CardJam, GarbledReply, LinkLost, LinkUnavailable, PrinterFault, ReplyTimeout
from drivers.printer import PrinterInfo

log = get_logger("engine")


class EngineState(StrEnum):
    """The engine's states, as the operator sees them."""

    IDLE = "idle"
    PRINTING = "printing"
    PAUSED = "paused"
    STOPPED = "stopped"
    WAITING_TAGS = "waiting_tags"
    EMPTY = "empty"
    NO_STOCK = "no_stock"
    LEDGER_AWAY = "ledger_away"


IDLE, PRINTING, PAUSED, STOPPED, WAITING_TAGS, EMPTY, NO_STOCK, LEDGER_AWAY = EngineState
T = TypeVar("T")
IN_DOUBT_FAULTS = (LinkLost, LinkUnavailable, ReplyTimeout, GarbledReply)


class CardPrinter(Protocol):
    """What the engine asks of the printer (`drivers.printer.Printer`)."""

    async def setup(self, ribbon: str) -> None: ...
    async def identify(self) -> PrinterInfo: ...
    async def card_counter(self) -> int: ...
    async def card_position(self) -> str | None: ...
    async def take_blank(self) -> None: ...
    async def print_front(self, frames: Sequence[bytes]) -> None: ...
    async def reject(self) -> None: ...
    async def reset(self) -> None: ...
    async def reconnect(self) -> None: ...


CardBuilder = Callable[[Job], Coroutine[Any, Any, Sequence[bytes]]]


@dataclass(frozen=True)
class EngineEvent:
    kind: str  # state | card_started | card_printed | card_spoiled | settled | fault | refused
    # | ledger_away | ledger_back
    state: str
    job_id: int | None = None
    nik: str | None = None
    counter: int | None = None
    fault: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass
class Reserved:
    """A job whose blank and lock were committed while the card before it printed, with its card laid out;
    `started` once its counter is committed with the card before's booking (its `Ss` may be sent)."""

    job: Job
    frames: Sequence[bytes]
    started: bool = False


class PrinterMismatch(PrinterFault):
    """Jobs in doubt were printing on another printer: only that printer's counter can settle them."""

    code = "printer_mismatch"


class CardNotLaidOut(PrinterFault):
    """A card started (its counter committed) whose blank never left the feeder cannot be laid out again (its photo
    gone, say): it keeps its blank and lock and nothing prints before it. The reply is its NIK and why."""

    code = "card_not_laid_out"


class CounterMismatch(PrinterFault):
    """The printer's counter is below a job's counter before: it cannot be the counter that job was read from."""

    code = "counter_mismatch"


class CounterAhead(PrinterFault):
    """The printer's counter is ahead of the books by cards they cannot account for: taken outside the station,
    or the database is behind the printer (restored from an old copy). Only a supervisor's reconciliation goes on."""

    code = "counter_ahead"


class PrinterUnknown(PrinterFault):
    """A printer the books never met has printed cards before (its counter above 0): it may be new to the station,
    or the database may be a copy older than its first use here. Only a supervisor's acceptance goes on. The reply
    is the printer's serial and its counter."""

    code = "printer_unknown"


class RestoreUnwitnessed(PrinterFault):
    """A database put back from a backup was accepted (`station audit accept-restore`) and printers the books know
    have not yet been connected and matched their counters: one of them may have printed after the copy. The reply
    is their serials. Lifted by itself once each has witnessed."""

    code = "restore_unwitnessed"


STOPS_FOR_A_SUPERVISOR = (CounterAhead, PrinterUnknown, RestoreUnwitnessed)


async def _record(db: Any, nik: str) -> tuple | None:
    """The resident's record as it is now: a card laid out from another version of it must be laid out again."""
    row = await db.fetchone("SELECT * FROM residents WHERE nik = ?", (nik,))
    return None if row is None else tuple(row)


class PrintEngine:
    def __init__(
        self,
        store: Store,
        printer: CardPrinter,
        build_card: CardBuilder,
        *,
        hopper_capacity: int,
        ribbon: str,
        actor: str = "station",
        first_cards_first: bool = False,
    ) -> None:
        self.store = store
        self.printer = printer
        self.build_card = build_card
        self.hopper_capacity = hopper_capacity
        self.ribbon = ribbon
        self.actor = actor
        self.first_cards_first = first_cards_first  # blanks short: first cards before reprints ([queue])
        self.state: EngineState = IDLE
        self.fault: PrinterFault | None = None
        self.current: Job | None = None
        self.cards_printed = 0
        self._listeners: list[Callable[[EngineEvent], None]] = []
        self._wake = asyncio.Event()
        self._paused = False
        self.paused_by: pause.Pause | None = None  # the lasting pause in force (`console/pause.py`)
        self._asks: list[tuple[str, str]] = []  # pause/resume asked in this process, carried out by the loop
        # The next card laid out while one prints: its job, the record it was laid out from, the layout.
        self._prefetch: tuple[int, tuple | None, asyncio.Task[Sequence[bytes]]] | None = None
        # The next card's blank taken while one prints (`_reserve_after`), and the reservation made: its job is
        # printing with no counter yet (no `Ss` sent) until the card before is booked, then started.
        self._reserving: asyncio.Task[Reserved | None] | None = None
        self._reserved: Reserved | None = None
        self._booking: asyncio.Task[None] | None = None  # the card before's booking, made while this one prints
        # The last card counter the books account for on this printer, as committed (this process alone writes it
        # while it holds the printer; a supervisor's reconciliation is read again at every settling).
        self._counter_booked: int | None = None
        self._serial = ""

    # ------------------------------------------------------------------------------------------ events

    def subscribe(self, listener: Callable[[EngineEvent], None]) -> None:
        self._listeners.append(listener)

    def _emit(self, kind: str, job: Job | None = None, **detail: Any) -> None:
        event = EngineEvent(
            kind,
            self.state,
            job.id if job else None,
            job.nik if job else None,
            detail.pop("counter", None),
            self.fault.code if self.fault else None,
            detail,
        )
        for listener in list(self._listeners):
            listener(event)

    async def _set_state(self, state: EngineState, job: Job | None = None, **detail: Any) -> None:
        changed = state != self.state
        self.state = state
        if changed:  # the card being printed is in the jobs table; only the engine's state needs publishing
            await self._publish()
        self._emit("state", job, **detail)

    async def _publish(self) -> None:
        """What a supervisor in another process reads: the engine's state, in the database."""
        value = {
            "state": self.state,
            "fault": self.fault.code if self.fault else None,
            "fault_reply": getattr(self.fault, "reply", None),
            "job": self.current.id if self.current else None,
            "nik": self.current.nik if self.current else None,
        }
        async with self.store.transaction(self.actor) as tx:
            await live_state.publish(tx, live_state.ENGINE, value)

    def wake(self) -> None:
        """Something changed (a tag, a new job, a resume): let a waiting engine look again."""
        self._wake.set()

    # ------------------------------------------------------------------------------------------ start-up

    async def start(self, reset: bool = False) -> None:
        """Set the printer up and bring the books and the printer in step (`_settle_printer`). With `reset` (the
        headless `station print`, which has no resume key) the printer is also reset (`Srs`) and set up again,
        as a resume does, so that a fault latched in it (`ERROR HEAD`, `ERROR TIME OUT`) is cleared."""
        await self.printer.setup(self.ribbon)
        await self.when_ledger_answers(self.store.hold_claims)
        await self.when_ledger_answers(self._settle_printer)
        if reset:
            await self.printer.reset()
            await self.printer.setup(self.ribbon)

    async def _settle_printer(self) -> list[Job]:
        """Settle every job left in doubt, check the counter against the books (cards they cannot account for stop
        here, `CounterAhead`, and so does a used printer they never met, `PrinterUnknown`), then send a card still
        inside (by now in the books) to the reject box. The jobs settled."""
        settled = await self.settle()
        await self._check_counter(await self.printer.card_counter())
        await self._clear_card_inside()
        return settled

    async def settle(self) -> list[Job]:
        """Settle jobs in doubt with the printer's counter and card position (guarantee 5)."""
        in_doubt = await jobs.jobs_in_doubt(self.store)
        never_sent = [job for job in in_doubt if job.counter_before is None]  # reserved: given back quietly
        settled = [await self._requeue(job, "settled_never_started") for job in never_sent]
        chain = sorted(
            (job for job in in_doubt if job.counter_before is not None), key=lambda job: job.counter_before or 0
        )
        await self._check_printer(bool(chain))  # no `Ss` went out for the others, given back above
        for job, following in zip(chain, [*chain[1:], None], strict=False):
            settled.append(await self._settle_job(job, None if following is None else following.counter_before))
        return settled

    async def _check_printer(self, jobs_in_doubt: bool) -> None:
        """The counter settles a job only on the printer it was read from: a swap is allowed with nothing in doubt."""
        info = await self.printer.identify()
        await self.printer.card_counter()
        async with self.store.transaction(self.actor) as tx:
            booked_serial = await printer_record.booked_serial(tx)
            if jobs_in_doubt and booked_serial is not None and booked_serial != info.serial:
                raise PrinterMismatch(reply=f"{info.serial} / {booked_serial}")  # rolls back: nothing recorded
            await printer_record.record_printer(tx, info.serial, info.model, info.firmware)
            self._counter_booked = await printer_record.booked_counter(tx, info.serial)
        self._serial = info.serial

    async def _settle_job(self, job: Job, next_before: int | None = None) -> Job:
        """`next_before`: the counter of the next job in doubt (started once this one's card was out)."""
        counter = await self.printer.card_counter()
        inside = await self.printer.card_position()
        facts = Facts(counter, inside is not None, self._counter_booked, job.counter_before, next_before=next_before)
        decision = decide(facts)
        if decision.stop is Stop.COUNTER_MISMATCH:
            raise CounterMismatch(reply=f"{counter} < {job.counter_before}")
        if decision.job is JobOutcome.REQUEUE:
            result = await self._send_again(job)
        else:
            reason = "settled_among_others" if decision.unaccounted else "settled_card_taken"
            result = await self._book_card(job, jobs.PRINTED, reason, decision, counter)
        if decision.eject:
            await self._eject_to_reject()
        log.info("job_settled", job=job.id, nik=job.nik, counter=counter, state=result.state)
        self._emit("settled", result, counter=counter, outcome=result.state)
        if decision.stop is Stop.COUNTER_AHEAD:
            raise CounterAhead(reply=str(decision.unaccounted))
        return result

    async def _book_card(self, job: Job, state: str, reason: str, decision: Decision, counter: int | None,
                         **tag: Any) -> Job:  # fmt: skip
        """The job's card as `decision` says (`tag`: a card spoiled is tagged bad at once), and the counter the
        books account for, in one transaction."""
        async with self.store.transaction(self.actor) as tx:
            job = await jobs.set_state(tx, job.id, state, reason, card_counter=decision.job_counter,
                                       card_dest=decision.card_dest, printed_at=now_iso(), **tag)  # fmt: skip
            booked = await self._book(tx, decision, counter)
        self._counter_booked = booked
        return job

    async def _book(self, tx: Any, decision: Decision, counter: int | None) -> int | None:
        """The counter part of a decision, inside the transaction that carries its job part out; the counter the
        books account for once it commits."""
        booked = self._counter_booked
        if decision.book_counter is not None:
            if decision.follow and booked is not None:
                await printer_record.rebase_counter(tx, decision.book_counter, booked)
            else:
                await printer_record.book_counter(tx, decision.book_counter)
            booked = decision.book_counter
        if decision.stop is Stop.COUNTER_AHEAD:
            assert booked is not None and counter is not None  # the counter was read ahead of the books
            await printer_record.record_counter_ahead(tx, printer_record.CounterAhead(self._serial, booked, counter))
        if decision.stop is Stop.PRINTER_UNKNOWN:
            assert counter is not None  # the counter was read: a used printer the books never met
            await printer_record.record_unknown_printer(tx, printer_record.UnknownPrinter(self._serial, counter))
        return booked

    async def _requeue(self, job: Job, reason: str) -> Job:
        """A reservation given back: the job back in the queue, its blank in stock and its lock released (its counter
        was never committed, so no `Ss` can have taken the blank). Nobody saw its card start: nothing is told."""
        async with self.store.transaction(self.actor) as tx:
            await locks.release_for_job(tx, job.nik, job.id)
            await books.return_blank(tx, job.allocation_id)
            return await jobs.set_state(
                tx, job.id, jobs.QUEUED, reason, allocation_id=None, counter_before=None, started_at=None
            )

    async def _send_again(self, job: Job) -> Job:
        """A card started (its counter committed before its `Ss`) whose blank never left the feeder keeps its blank
        and its NIK's lock, and is the next card sent, after the same counter. It is never queued again: once its
        `Ss` may have gone out, only the printer's counter says where the card went (on a ledger, a station's role
        may not give such a lock back: docs/multi-station.md)."""
        try:
            frames = await self.build_card(job)
        except ValueError as exc:
            raise CardNotLaidOut(reply=f"{job.nik}: {exc}") from None
        self._reserved = Reserved(job, frames, started=True)
        return job

    async def _clear_card_inside(self) -> None:
        """A card inside once every job is settled is already in the books: it goes to the reject box."""
        if await self.printer.card_position() is not None:
            await self._eject_to_reject()

    async def _eject_to_reject(self) -> None:
        try:
            await self.printer.reject()
        except PrinterFault:
            await self.printer.reset()  # Srs also sends a card inside to the reject box

    # ------------------------------------------------------------------------------------------ the loop

    @property
    def paused(self) -> bool:
        """The operator (or a supervisor) asked the queue to pause; it stops at the next card boundary."""
        return self._paused

    def pause(self, by: str | None = None) -> None:
        """Stop at the next card boundary. With `by` the pause lasts (recorded and audited in `by`'s name, kept
        across restarts) until someone resumes; without, it is this process's alone (quitting). A lasting pause
        takes effect once recorded: at the loop's next turn, or `take_asks()`."""
        if by is None:
            self._paused = True
        else:
            self._asks.append(("pause", by))
        self.wake()

    async def take_asks(self) -> None:
        """Record and carry out now what was asked in this process (the loop does it at its next turn; a console
        that quits cannot wait for that turn)."""
        await self._take_requests(remote=False)

    def resume(self, by: str | None = None) -> None:
        """Lift the pause (a lasting one too), recorded in `by`'s name, at the loop's next turn."""
        self._asks.append(("resume", by or self.actor))
        self.wake()

    async def recover(self) -> bool:
        """The operator says the fault is fixed: settle, clear the printer, and see whether it is ready."""
        try:
            if isinstance(self.fault, IN_DOUBT_FAULTS):
                await self.printer.reconnect()
            await self._settle_printer()
            await self.printer.reset()
            await self.printer.setup(self.ribbon)
        except PrinterFault as fault:
            self.fault = fault
            await self._set_state(STOPPED)
            self._emit("fault", self.current)
            return False
        self.fault = None
        await self._set_state(IDLE)
        self.wake()
        return True

    async def run(self, max_cards: int | None = None, stop_when_idle: bool = True) -> EngineState:
        """Print until the queue is empty (or `max_cards`), a fault stops it, or it must wait.

        With `stop_when_idle` (the headless `station print`) the loop returns the state it stopped in, except
        that a supervisor's pause waits for the resume; otherwise (the console) it waits for work, tags and
        resumes until cancelled.
        """
        printed_here = 0
        standing = await self.when_ledger_answers(lambda: pause.standing(self.store))
        if standing is not None:  # paused before this process started: it stays paused until someone resumes
            self._paused, self.paused_by = True, standing
        try:
            while True:
                try:
                    turn = await self._turn(max_cards, printed_here, stop_when_idle)
                except LedgerUnreachable as lost:
                    try:
                        printed_here += await self._wait_for_ledger(lost)
                    except LedgerUnreachable:  # lost again as it came back (a fault being recorded): wait again
                        pass
                    continue
                if isinstance(turn, EngineState):
                    return turn
                printed_here += turn
        finally:  # cancelled (the console quits): a reservation left is settled at the next start
            await self._forget_reserved()

    async def _turn(self, max_cards: int | None, printed_here: int, stop_when_idle: bool) -> EngineState | int:
        """One turn of the loop: the cards it printed (0 or 1), or the state the headless run stops in."""
        more = max_cards is None or printed_here + 1 < max_cards  # a card may follow the one printed now
        reserved = self._reserved
        if reserved is not None and reserved.started and self._may_go_on() and printed_here != max_cards:
            return 1 if await self.print_job(reserved.job, reserve_next=more) else 0
        await self._booked_before()
        await self._release_reserved()
        await self._take_requests()
        started = self._reserved  # kept by `_release_reserved`: its card goes before any other
        if started is not None and self._may_go_on() and printed_here != max_cards:
            return 1 if await self.print_job(started.job, reserve_next=more) else 0
        reason = await self._why_not_print()
        if reason is None and max_cards is not None and printed_here >= max_cards:
            reason = IDLE
        job = None if reason is not None else await jobs.claim(self.store, first_cards_first=self.first_cards_first)
        if reason is not None or job is None:  # no job to claim: the queue is empty for this station
            reason = reason or EMPTY
            if self.state != reason:
                self._cancel_prefetch()
                await self._set_state(reason)
                if reason != EMPTY:  # queued jobs it claimed and will not print now: free for any station
                    await jobs.release_claims(self.store)
            if stop_when_idle and reason != PAUSED:  # paused headless: wait for the resume request
                self._cancel_prefetch()
                await jobs.release_claims(self.store)  # a stop with its state unchanged (a fault) too
                return reason
            self._wake.clear()
            await self._wait()
            return 0
        return 1 if await self.print_job(job, reserve_next=more) else 0

    def _may_go_on(self) -> bool:
        """Nothing known in this process stops the next card: no fault, no pause, nothing asked."""
        return self.fault is None and not self._paused and not self._asks

    async def when_ledger_answers(self, attempt: Callable[[], Awaitable[T]]) -> T:
        """`attempt`'s result, waiting for the ledger as long as it does not answer (started while it is away)."""
        try:
            return await attempt()
        except LedgerUnreachable as lost:
            return await self._until_the_ledger_answers(lost, attempt)

    async def _wait_for_ledger(self, lost: LedgerUnreachable) -> int:
        """The ledger went away: no blank is taken until it answers (a blank needs its lock committed there). The
        card in the printer has finished; once the ledger answers, what it did not hear (the card's outcome, a
        commit in doubt) is settled from the printer's counter as at start, and the loop goes on. The cards
        settled as printed."""

        async def settle_or_stop() -> list[Job]:
            try:
                return await self._settle_printer()
            except PrinterFault as fault:
                await self._stop(fault)
                return []

        settled = await self._until_the_ledger_answers(lost, settle_or_stop)
        printed = sum(job.state == jobs.PRINTED for job in settled)
        self.cards_printed += printed
        return printed

    async def _until_the_ledger_answers(self, lost: LedgerUnreachable, attempt: Callable[[], Awaitable[T]]) -> T:
        """Ask again every LEDGER_RETRY_S, saying so every LEDGER_NOTICE_S, until `attempt` reaches the ledger."""
        self._cancel_prefetch()
        await self._forget_reserved()
        before, self.state = self.state, LEDGER_AWAY  # not published: the ledger cannot hear it
        since = time.monotonic()
        told = -LEDGER_NOTICE_S
        log.warning("ledger_unreachable", why=str(lost))
        while True:
            waited = time.monotonic() - since
            if waited - told >= LEDGER_NOTICE_S:
                told = waited
                self._emit("ledger_away", self.current, seconds=waited, why=str(lost))
            await asyncio.sleep(LEDGER_RETRY_S)
            try:
                result = await attempt()
                break
            except LedgerUnreachable as again:
                lost = again
        self.current = None
        if self.state is LEDGER_AWAY:  # a fault met on the way back stays shown
            self.state = before
        log.info("ledger_back", waited_s=round(time.monotonic() - since, 1))
        self._emit("ledger_back", None, seconds=time.monotonic() - since)
        return result

    async def _wait(self) -> None:
        try:
            await asyncio.wait_for(self._wake.wait(), timeout=1.0)  # a supervisor's request arrives by database
        except TimeoutError:
            pass

    async def _why_not_print(self) -> EngineState | None:
        if self.fault is not None:
            return STOPPED
        if self._paused:
            return PAUSED
        if await jobs.count_here(self.store, jobs.PRINTED) >= self.hopper_capacity:
            return WAITING_TAGS
        if await books.stock_total(self.store) == 0:  # no blank of its own: it claims nothing another could print
            return NO_STOCK if await jobs.any_claimable(self.store) else EMPTY
        return None

    async def _take_requests(self, remote: bool = True) -> None:
        """Pause/resume asked here (the operator) or by a supervisor through the database: recorded as the lasting
        pause (or its end), audited in the asker's name, a supervisor's request marked done, then carried out."""
        asks: list[tuple[str, str, int | None]] = [(kind, who, None) for kind, who in self._asks]
        self._asks.clear()
        if remote:
            asks += [(asked.kind, asked.requester, asked.id) for asked in await requests.pending(self.store)]
        for kind, who, request_id in asks:
            async with self.store.transaction(who) as tx:
                if request_id is not None:
                    await requests.mark_done(tx, request_id)
                if kind == "pause":
                    standing: pause.Pause | None = await pause.record(tx, who, request_id)
                else:
                    await pause.clear(tx, who, request_id)
                    standing = None
            self._paused, self.paused_by = standing is not None, standing
            self._emit("paused" if self._paused else "resumed", None, requester=who)

    # ------------------------------------------------------------------------------------------ one card

    async def _frames_for(self, job: Job) -> tuple[tuple | None, Sequence[bytes]]:
        """The job's card frames and the resident's record as it was read before they were laid out."""
        if self._prefetch is not None and self._prefetch[0] == job.id:
            _, record, task = self._prefetch
            self._prefetch = None
            return record, await task
        self._cancel_prefetch()
        record = await _record(self.store, job.nik)
        return record, await self.build_card(job)

    async def _prefetch_next(self, after: Job) -> None:
        """Lay out the next card while this one prints, so that the printer never waits for the station."""
        self._cancel_prefetch()
        following = await jobs.claim(self.store, after=after.id, first_cards_first=self.first_cards_first)
        if following is not None:
            record = await _record(self.store, following.nik)
            self._prefetch = (following.id, record, asyncio.create_task(self.build_card(following)))

    def _cancel_prefetch(self) -> None:
        if self._prefetch is not None:
            self._prefetch[2].cancel()
            self._prefetch = None

    async def print_job(self, job: Job, reserve_next: bool = False) -> bool:
        """Print one queued job (or the started reservation). True if a card reached the output hopper. With
        `reserve_next` the next card's blank is taken while this one prints (`_reserve_after`)."""
        reserved, self._reserved = self._reserved, None
        if reserved is not None and reserved.started and reserved.job.id == job.id:
            job, frames = reserved.job, reserved.frames
            assert job.counter_before is not None  # started: committed with the card before's booking
            return await self._print_taken(job, frames, job.counter_before, reserve_next)
        self._reserved = reserved
        await self._booked_before()  # the books' counter must be this printer's before it is read again
        await self._release_reserved()
        assert self._reserved is None, "a started card goes before any other (`_turn`)"
        try:
            record, frames = await self._frames_for(job)
        except ValueError as exc:  # the card cannot be laid out (text not encodable, bad photo): hold the job
            await self._hold_unprintable(job, exc)
            return False
        counter_before = await self._guarded(self.printer.card_counter())
        if counter_before is None:
            return False
        try:
            await self._check_counter(counter_before)
        except STOPS_FOR_A_SUPERVISOR as fault:
            await self._stop(fault)
            return False
        taken = await self._take_blank(job, record, counter_before)
        if taken is None:
            return False
        return await self._print_taken(taken, frames, counter_before, reserve_next)

    async def _hold_unprintable(self, job: Job, exc: ValueError) -> None:
        async with self.store.transaction(self.actor) as tx:
            await jobs.set_state(tx, job.id, jobs.HELD, f"layout: {exc}")
        self._emit("refused", job, why=str(exc))

    async def _take_blank(self, job: Job, record: tuple | None, counter_before: int | None) -> Job | None:
        """The lock rule's transaction: the blank, the NIK's lock and the job printing, committed together before
        any `Ss`. `counter_before` None: a reservation (the card before still prints). The job, or None when
        it may not take a blank now (refused and held, its record changed, no longer its station's, no stock)."""
        at = now_iso()
        try:
            async with self.store.transaction(self.actor) as tx:
                await jobs.check_claim(tx, job.id)
                refusal = await locks.refusal(tx, job.nik, for_job=job.id)
                stale = refusal is None and await _record(tx, job.nik) != record
                if refusal is not None:
                    await jobs.set_state(tx, job.id, jobs.HELD, f"refused: {refusal.code}")
                elif not stale:
                    allocation = await books.take_blank(tx)
                    await locks.lock_for_job(tx, job.nik, job.id, at)
                    job = await jobs.set_state(
                        tx,
                        job.id,
                        jobs.PRINTING,
                        None,
                        allocation_id=allocation,
                        counter_before=counter_before,
                        started_at=None if counter_before is None else at,
                        printer_serial=await printer_record.booked_serial(tx),
                    )
                    await tx.audit("blank.taken", allocation, job=job.id, nik=job.nik, counter_before=counter_before)
        except TransitionError:  # the operator held or cancelled the job since it was picked: take the next one
            return None
        except NoStockError:  # another process took the last blank since the check: the loop stops with no stock
            return None
        if refusal is not None:
            self._emit("refused", job, why=refusal.code)
            return None
        if stale:  # the record changed since its card was laid out: nothing taken, the loop lays it out again
            log.info("card_laid_out_again", job=job.id, nik=job.nik)
            return None
        return job

    async def _print_taken(self, job: Job, frames: Sequence[bytes], counter_before: int, reserve_next: bool) -> bool:
        """Send the card whose blank is committed. Once it is out, the reservation made meanwhile is started and
        its `Ss` sent at once; this card is then booked while the next one prints (else booked here)."""
        self.current = job
        await self._set_state(PRINTING, job)
        self._emit("card_started", job, counter=counter_before + 1)
        try:
            await self.printer.take_blank()
            if reserve_next:
                self._reserving = asyncio.create_task(self._reserve_after(job))
            else:
                try:
                    await self._prefetch_next(job)
                except LedgerUnreachable:  # the card in the printer is finished first; the loss shows at its record
                    pass
            await self.printer.print_front(frames)
        except PrinterFault as fault:
            await self._booked_before()
            await self._after_fault(job, fault)
            return False
        await self._booked_before()
        following = await self._reservation_made()
        if following is not None and await self._counter_is(counter_before + 1):
            started = await jobs.mark_started(self.store, following.job, counter_before + 1, now_iso())
            if started is not None:  # else a pause was asked meanwhile: the reservation is given back below
                following.job, following.started = started, True
                self._reserved = following
                self._booking = asyncio.create_task(self._book_printed(job, counter_before, following.job))
                return True
        await self._book_printed(job, counter_before, None)
        self._reserved = following
        await self._release_reserved()
        return True

    async def _book_printed(self, job: Job, counter_before: int, started: Job | None) -> None:
        """The card out in the hopper, booked with the printer's counter (and the audit entry of the job started
        after it, whose counter was committed alone)."""
        async with self.store.transaction(self.actor) as tx:
            job = await jobs.set_state(
                tx,
                job.id,
                jobs.PRINTED,
                None,
                card_counter=counter_before + 1,
                card_dest="hopper",
                printed_at=now_iso(),
            )
            await printer_record.book_counter(tx, counter_before + 1, self._serial)
            if started is not None:
                await jobs.audit_started(tx, started)
        self._counter_booked = counter_before + 1
        if self.current is not None and self.current.id == job.id:
            self.current = None
        self.cards_printed += 1
        log.info("card_printed", job=job.id, nik=job.nik, counter=job.card_counter)
        self._emit("card_printed", job, counter=job.card_counter)

    async def _booked_before(self) -> None:
        """The card before's booking, finished (its failure, a ledger gone away, shows here)."""
        task, self._booking = self._booking, None
        if task is not None:
            await task

    async def _counter_is(self, expected: int) -> bool:
        """The printer's counter is the one the next card follows (nothing else took a card, nothing new to
        witness): a reservation may start without the checks `print_job` makes (which stop on anything else)."""
        if not self._may_go_on():
            return False
        try:
            return await self.printer.card_counter() == expected
        except PrinterFault:
            return False

    async def _reserve_after(self, current: Job) -> Reserved | None:
        """While `current` prints: the checks of a turn, the next job claimed and laid out, and its blank taken
        with no counter yet (`_take_blank`), so that between two cards only the booking remains. None when no
        card should follow now; the loop then takes its turn as usual and says why."""
        if self._booking is not None:  # the card before this one, booked first: the limits count it
            await asyncio.wait([self._booking])
        try:
            await self._take_requests()
            if await self._why_not_print() is not None:
                return None
            if await jobs.count_here(self.store, jobs.PRINTED) + 1 >= self.hopper_capacity:
                return None
            following = await jobs.claim(self.store, after=current.id, first_cards_first=self.first_cards_first)
            if following is None:
                return None
            record = await _record(self.store, following.nik)
            frames = await self.build_card(following)
            job = await self._take_blank(following, record, None)
        except (LedgerUnreachable, ValueError):  # the loop meets these again in its own turn
            return None
        return None if job is None else Reserved(job, frames)

    async def _reservation_made(self) -> Reserved | None:
        """The reservation made while the card printed (waited for: it may be committing)."""
        task, self._reserving = self._reserving, None
        return None if task is None else await task

    async def _release_reserved(self) -> None:
        """A reservation that will not print now: its blank back, its NIK's lock released, its job queued again
        (its `Ss` was never sent). A reservation still being made is waited for first. A started one (its counter
        committed) is kept: it is the next card sent (`_send_again`)."""
        made = await self._reservation_made()
        reserved, self._reserved = self._reserved or made, None
        if reserved is not None and reserved.started:
            self._reserved = reserved
        elif reserved is not None:
            await self._requeue(reserved.job, "reservation_released")

    async def _forget_reserved(self) -> None:
        """The ledger went away (or the loop ends): the reservation being made is dropped and the booking being made
        finishes or fails; what they left in the ledger is settled from it and the printer's counter (jobs in
        doubt, in a chain) at the next settling."""
        reserving, booking = self._reserving, self._booking
        self._reserving, self._booking, self._reserved = None, None, None
        if reserving is not None:
            reserving.cancel()
        await asyncio.gather(*(task for task in (reserving, booking) if task is not None), return_exceptions=True)

    async def _check_counter(self, counter: int) -> None:
        """The printer's counter between cards against the books': followed when the printer never printed or its
        counter went back; cards they cannot account for raise CounterAhead (recorded for the reconciliation), a
        used printer they never met PrinterUnknown (recorded for the supervisor's acceptance); after an accepted
        restore, printers the books know that have not matched yet RestoreUnwitnessed."""
        decision = decide(Facts(counter, False, self._counter_booked))
        if decision.book_counter is not None or decision.stop is not None:
            async with self.store.transaction(self.actor) as tx:
                booked = await self._book(tx, decision, counter)
            self._counter_booked = booked
        if decision.stop is Stop.COUNTER_AHEAD:
            log.warning("counter_ahead", counter=counter, booked=self._counter_booked)
            raise CounterAhead(reply=str(decision.unaccounted))
        if decision.stop is Stop.PRINTER_UNKNOWN:
            log.warning("printer_unknown", serial=self._serial, counter=counter)
            raise PrinterUnknown(reply=f"{self._serial} {counter}")
        await self._check_witnesses(matched=decision.book_counter is None)

    async def _check_witnesses(self, matched: bool) -> None:
        """After a restore was accepted, nothing prints until every printer the books know has been connected and
        matched their counter (`matched`: this one does now, with nothing followed): RestoreUnwitnessed."""
        waiting = await restore.unwitnessed(self.store)
        if not waiting:
            return
        async with self.store.transaction(self.actor) as tx:
            if matched:
                waiting = await restore.witness(tx, self._serial)
            if waiting:
                await restore.record_stop(tx, self._serial, waiting)
        if waiting:
            log.warning("restore_unwitnessed", serial=self._serial, waiting=waiting)
            raise RestoreUnwitnessed(reply=" ".join(waiting))

    async def _guarded(self, call: Awaitable[Any]) -> Any:
        try:
            return await call
        except PrinterFault as fault:
            await self._stop(fault)
            return None

    async def _stop(self, fault: PrinterFault, job: Job | None = None) -> None:
        self.fault = fault
        self._cancel_prefetch()
        log.warning("printer_fault", code=fault.code, reply=getattr(fault, "reply", None))
        await self._set_state(STOPPED, job)
        self._emit("fault", job)

    async def _after_fault(self, job: Job, fault: PrinterFault) -> None:
        """A fault met the card: find out from the printer whether a blank was taken, and book it so."""
        await self._release_reserved()
        kind = (
            FaultKind.LINK
            if isinstance(fault, IN_DOUBT_FAULTS)
            else (FaultKind.JAM if isinstance(fault, CardJam) else FaultKind.OTHER)
        )
        counter, inside = None, None
        if kind is not FaultKind.LINK:
            try:
                counter = await self.printer.card_counter()
                inside = await self.printer.card_position()
            except PrinterFault:
                counter = None
        decision = decide(Facts(counter, inside is not None, self._counter_booked, job.counter_before, kind))
        if decision.job in (JobOutcome.KEEP, JobOutcome.REQUEUE):
            # nothing known, or nothing the fault explains: the job stays in doubt; or its blank never left the
            # feeder: `recover` settles it and sends its card again (`_send_again`)
            await self._stop(fault, job)
            return
        job = await self._book_card(
            job, jobs.DONE_BAD, f"fault: {fault.code}", decision, counter, tag_reason=decision.bad_reason,
            tag_note=getattr(fault, "reply", fault.code), tagged_by=self.actor, tagged_at=now_iso(),
        )  # fmt: skip
        self._emit("card_spoiled", job, counter=counter, reason=decision.bad_reason)
        if decision.eject:
            try:
                await self.printer.reject()
            except PrinterFault:
                pass  # the fault still holds; `recover` ejects the card once the operator has fixed it
        self.current = None
        await self._stop(fault, job)
