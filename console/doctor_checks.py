"""Checks of `station doctor`: the printer, the centre's keys, and the database's schema against the migrations."""

from __future__ import annotations

import sqlite3

from console.config import Settings
from console.errors import StationError
from console.hints import CLI, advised
from console.i18n import t
from console.owner import PrinterHeldError, PrinterOwnership
from console.schema import MIGRATIONS
from console.store import Store
from drivers.faults import PrinterFault


async def check_printer(settings: Settings) -> str:
    """Open the printer and ask who it is; if another process holds it, say which (never disturb it)."""
    from console.printing import builtin_emulator  # the printer stack loads only when a check needs it
    from drivers.printer import Printer

    owner = PrinterOwnership(settings.database.path, settings.printer.port)
    try:
        owner.acquire()
    except PrinterHeldError as exc:
        return advised(exc, CLI)
    try:
        emulator = None
        port = settings.printer.port
        if port == "emulator":
            emulator = builtin_emulator(settings)
            await emulator.__aenter__()
            port = emulator.port
        try:
            async with await Printer.open(port, baudrate=settings.printer.baudrate, reply_timeout=5) as printer:
                info = await printer.identify()
                status = await printer.status()
        finally:
            if emulator is not None:
                await emulator.__aexit__(None, None, None)
    except PrinterFault as fault:
        raise StationError(t("doctor.printer_fault", port=settings.printer.port, fault=fault)) from None
    finally:
        owner.release()
    return t(
        "doctor.printer_ok",
        port=settings.printer.port,
        model=info.model,
        serial=info.serial,
        firmware=info.firmware,
        counter=status.cards_counter,
        feeder=t("doctor.feeder_empty" if status.feeder_empty else "doctor.feeder_loaded"),
    )


async def check_keys(settings: Settings) -> str:
    keys = settings.central.public_keys
    if not keys:
        raise StationError(t("doctor.no_keys"))
    from console.unlock import load_central_keys

    loaded = load_central_keys(keys)
    return t("doctor.keys_ok", count=len(loaded), ids=", ".join(sorted(loaded)))


async def missing_schema_objects(store: Store) -> list[str]:
    """Tables, indexes, views and triggers the migrations make that the database lacks (one dropped by hand)."""
    present = {(row[0], row[1]) for row in await store.fetchall("SELECT type, name FROM sqlite_master")}
    return [f"{kind} {name}" for kind, name in _expected_schema() if (kind, name) not in present]


def _expected_schema() -> list[tuple[str, str]]:
    scratch = sqlite3.connect(":memory:")
    try:
        for script in MIGRATIONS:
            scratch.executescript(script)
        rows = scratch.execute("SELECT type, name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY 1, 2")
        return [(kind, name) for kind, name in rows]
    finally:
        scratch.close()
