"""Checks of `station doctor` that touch the printer and the centre's keys."""

from __future__ import annotations

from console.config import Settings
from console.errors import StationError
from console.i18n import t
from console.owner import PrinterHeldError, PrinterOwnership
from drivers.faults import PrinterFault


async def check_printer(settings: Settings) -> str:
    """Open the printer and ask who it is; if another process holds it, say which (never disturb it)."""
    from console.printing import builtin_emulator  # the printer stack loads only when a check needs it
    from drivers.printer import Printer

    owner = PrinterOwnership(settings.database.path, settings.printer.port)
    try:
        owner.acquire()
    except PrinterHeldError as exc:
        return str(exc)
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
    return t("doctor.printer_ok", port=settings.printer.port, model=info.model, serial=info.serial,
             firmware=info.firmware, counter=status.cards_counter,
             feeder=t("doctor.feeder_empty" if status.feeder_empty else "doctor.feeder_loaded"))


async def check_keys(settings: Settings) -> str:
    keys = settings.central.public_keys
    if not keys:
        raise StationError(t("doctor.no_keys"))
    from console.unlock import load_central_keys

    loaded = load_central_keys(keys)
    return t("doctor.keys_ok", count=len(loaded), ids=", ".join(sorted(loaded)))
