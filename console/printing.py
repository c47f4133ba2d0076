"""The station's printer session: the ownership lock, the port (or the built-in emulator), the engine.

Used by `station print` (headless) and `station run` (the console).
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass

from console import formats, pause
from console.broken_pipe import silence_stdout, stdout_is_broken, stdout_silenced
from console.cards import CardBuilder
from console.config import Settings
from console.engine import EMPTY, IDLE, NO_STOCK, STOPPED, WAITING_TAGS, EngineEvent, PrintEngine, RestoreUnwitnessed
from console.errors import EXIT_PRINTER_FAULT, EXIT_REFUSED, ConfigError, PrinterStoppedError, RefusedError
from console.faults_text import fault_advice, fault_title
from console.hints import CLI, with_hint
from console.i18n import t
from console.ledger_wait import open_waiting
from console.logs import get_logger
from console.operator import operator_name
from console.owner import PrinterOwnership
from console.store import Store
from drivers.emulator import EmulatorServer, EmulatorStateError, FaultSpecError, OutputLogError
from drivers.faults import LinkUnavailable, PortBusy, PrinterFault
from drivers.printer import Printer

log = get_logger("printing")


@dataclass
class PrinterSession:
    store: Store
    printer: Printer
    engine: PrintEngine
    emulator: EmulatorServer | None  # the built-in printer, when printer.port = "emulator"


def builtin_emulator(settings: Settings) -> EmulatorServer:
    """The demo's printer. Its serial line is paced like its motions: time_scale 0.05 makes both 20 times faster."""
    e = settings.emulator
    try:
        return EmulatorServer.pty(
            feeder=e.feeder,
            time_scale=e.time_scale,
            faults=e.faults,
            state=e.state,
            log=e.log,
            cards=e.cards,
            ribbon_prints=e.ribbon_prints,
            baud=None if e.time_scale == 0 else int(settings.printer.baudrate / e.time_scale),
        )
    except (FaultSpecError, ValueError) as exc:
        raise ConfigError(t("printing.bad_emulator", file=settings.source, why=exc)) from None


@asynccontextmanager
async def printer_session(settings: Settings, store: Store | None = None) -> AsyncIterator[PrinterSession]:
    """Hold the printer for this process, open it, and set up the engine (settling what a crash left)."""
    async with AsyncExitStack() as stack:
        stack.enter_context(PrinterOwnership(settings.database.path, settings.printer.port))
        if store is None:
            store = await open_waiting(settings.database)
            stack.push_async_callback(store.close)
        emulator = None
        port = settings.printer.port
        if port == "emulator":
            emulator = builtin_emulator(settings)
            try:
                await stack.enter_async_context(emulator)
            except (EmulatorStateError, OutputLogError) as exc:
                raise ConfigError(t("printing.bad_emulator", file=settings.source, why=exc)) from None
            port = emulator.port
        try:
            printer = await Printer.open(
                port, baudrate=settings.printer.baudrate, reply_timeout=settings.printer.reply_timeout_s
            )
        except LinkUnavailable as fault:
            error = RefusedError if isinstance(fault, PortBusy) else PrinterStoppedError
            raise error(
                t("printing.cannot_open", port=port, title=fault_title(fault), advice=fault_advice(fault), why=fault)
            ) from None
        stack.push_async_callback(printer.close)
        engine = PrintEngine(
            store,
            printer,
            CardBuilder(store, settings.station.id, settings.printer.ribbon),
            hopper_capacity=settings.queue.hopper_capacity,
            first_cards_first=settings.queue.first_cards_first,
            ribbon=settings.printer.ribbon,
            actor=operator_name(),
        )
        yield PrinterSession(store, printer, engine, emulator)


def _progress_line(event: EngineEvent) -> str | None:
    if event.kind == "card_printed":
        return t("print.card_printed", counter=event.counter, nik=event.nik)
    if event.kind == "card_spoiled":
        return t("print.card_spoiled", counter=event.counter, nik=event.nik, reason=event.detail.get("reason"))
    if event.kind == "settled":
        return t("print.settled", nik=event.nik, outcome=event.detail.get("outcome"), counter=event.counter)
    if event.kind in ("paused", "resumed"):
        return t(f"print.{event.kind}", requester=event.detail.get("requester"))
    if event.kind in ("ledger_away", "ledger_back"):
        return t(f"print.{event.kind}", since=formats.duration(event.detail["seconds"]))
    if event.kind == "refused":
        return t("print.refused", nik=event.nik, why=event.detail.get("why"))
    return None


def show(event: EngineEvent) -> None:
    """`station print`'s line for an engine event, on standard output."""
    line = _progress_line(event)
    if line and not stdout_silenced():
        try:
            print(line, flush=True)
        except BrokenPipeError:  # `station print | head`: the run goes on, its lines go nowhere
            if not stdout_is_broken():
                raise
            silence_stdout()


async def run_headless(settings: Settings, count: int | None, resume: bool = False) -> int:
    """`station print`: one line a card; stops at a fault (exit 5), untagged cards at the limit (exit 4). A pause in
    force (someone paused the queue) refuses to print (exit 4) unless `resume` lifts it, in the operator's name."""
    async with printer_session(settings) as session:
        session.engine.subscribe(show)
        standing = await session.engine.when_ledger_answers(lambda: pause.standing(session.store))
        if standing is not None and not resume:
            print(t("print.paused_standing", who=standing.by, at=formats.moment(standing.at)), file=sys.stderr)
            return EXIT_REFUSED
        if standing is not None:
            session.engine.resume(operator_name())

        try:
            await session.engine.start(reset=True)  # no resume key headless: a latched fault is cleared here
        except PrinterFault as fault:
            print(f"station: {fault_title(fault)}: {fault_advice(fault)}", file=sys.stderr)
            return _exit_for(fault)
        state = await session.engine.run(max_cards=count, stop_when_idle=True)
        engine = session.engine
    print(t("print.done", cards=engine.cards_printed, state=t(f"engine.state.{state}")))
    if state == STOPPED:
        print(f"station: {fault_title(engine.fault)}: {fault_advice(engine.fault)}", file=sys.stderr)
        return _exit_for(engine.fault)
    if state == WAITING_TAGS:
        waiting = t("print.waiting_tags", limit=settings.queue.hopper_capacity)
        print(with_hint(waiting, "print.waiting_tags", CLI), file=sys.stderr)
        return EXIT_REFUSED
    if state == NO_STOCK:  # on a ledger the regency may hold blanks this station was not issued
        here = engine.store.dialect != "sqlite"
        key = "books.no_stock_here" if here else "books.no_stock"
        print(with_hint(t(key, station=engine.store.station_id), key, CLI), file=sys.stderr)
        return EXIT_REFUSED
    assert state in (EMPTY, IDLE), state
    return 0


def _exit_for(fault: PrinterFault | None) -> int:
    """A restore waiting for its printers is a rule's refusal (exit 4), not a fault of the printer (exit 5)."""
    return EXIT_REFUSED if isinstance(fault, RestoreUnwitnessed) else EXIT_PRINTER_FAULT
