"""What the books know of the printer: which one prints (its serial) and the last card counter they account for.

Kept per station (`station_state`): each station of a regency follows the printer it holds. The printer's card
counter (`Rco;c`) is how the station settles a job left in doubt and notices blanks taken
outside it; both mean something only for the printer whose counter it is, so the serial is kept beside it.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

from console import live_state, station_state
from console.errors import RefusedError, UsageError
from console.i18n import t
from console.operators import SUPERVISOR, require_role
from console.store import Store

SERIAL, COUNTER_OF, AHEAD = "printer.serial", "printer.counter:", "printer.counter_ahead"
UNKNOWN = "printer.unknown"


get_meta, set_meta = station_state.get, station_state.put  # each station follows its own printer


async def booked_serial(db: Any) -> str | None:
    return await get_meta(db, SERIAL)


async def booked_counter(db: Any, serial: str | None = None) -> int | None:
    """The highest card counter the books account for on a printer (the booked one when `serial` is None), kept
    per serial so that a printer swapped out and back is followed from where the books left it."""
    serial = serial if serial is not None else await booked_serial(db)
    value = None if serial is None else await get_meta(db, COUNTER_OF + serial)
    return None if value is None else int(value)


async def book_counter(tx: Any, counter: int, serial: str | None = None) -> None:
    """The counter the books account for on the printer (`serial`, read from the books when not given)."""
    serial = serial or await booked_serial(tx)
    if serial is None:
        raise RuntimeError("a card counter booked before the printer was recorded")
    await set_meta(tx, COUNTER_OF + serial, str(counter))


async def record_printer(tx: Any, serial: str, model: str, firmware: str) -> None:
    """The printer connected now is the one the books follow; its counter is followed from where they left it."""
    was = await get_meta(tx, SERIAL)
    if was != serial:
        await set_meta(tx, SERIAL, serial)
        await tx.audit("printer.changed" if was else "printer.first_seen", serial, was=was, model=model)
    await live_state.publish(tx, live_state.PRINTER, {"model": model, "serial": serial, "firmware": firmware})


async def rebase_counter(tx: Any, counter: int, was: int) -> None:
    """The same printer shows a counter below the books' with nothing in doubt (a service reset): follow it."""
    await book_counter(tx, counter)
    await tx.audit("printer.counter_went_back", await get_meta(tx, SERIAL), counter=counter, was=was)


@dataclass(frozen=True)
class CounterAhead:
    """The printer's counter was found ahead of the books by cards they cannot account for (the queue stopped)."""

    serial: str
    booked: int
    counter: int

    @property
    def cards(self) -> int:
        return self.counter - self.booked


async def counter_ahead(db: Any) -> CounterAhead | None:
    value = await get_meta(db, AHEAD)
    return None if value is None else CounterAhead(**json.loads(value))


async def record_counter_ahead(tx: Any, found: CounterAhead) -> None:
    """Kept for the supervisor's reconciliation (which must name the same number of cards); audited once."""
    await _record_once(tx, AHEAD, found)


async def clear_counter_ahead(tx: Any) -> None:
    await set_meta(tx, AHEAD, None)


@dataclass(frozen=True)
class UnknownPrinter:
    """A printer the books never met was found with cards printed before (its counter above 0): the queue stopped."""

    serial: str
    counter: int


async def unknown_printer(db: Any) -> UnknownPrinter | None:
    value = await get_meta(db, UNKNOWN)
    return None if value is None else UnknownPrinter(**json.loads(value))


async def record_unknown_printer(tx: Any, found: UnknownPrinter) -> None:
    """Kept for the supervisor's acceptance (which must name the same serial); audited once."""
    await _record_once(tx, UNKNOWN, found)


async def _record_once(tx: Any, key: str, found: CounterAhead | UnknownPrinter) -> None:
    """What the queue stopped on, kept in `meta` under `key` (its fields as JSON) and audited under the same name,
    with the printer's serial as the subject; nothing again while the same is kept."""
    fields = asdict(found)
    if await get_meta(tx, key) == json.dumps(fields):
        return
    await set_meta(tx, key, json.dumps(fields))
    await tx.audit(key, fields.pop("serial"), **fields)


async def accept_printer(store: Store, serial: str, reason: str, actor: str) -> UnknownPrinter:
    """A supervisor says the used printer the queue stopped on is new to this station: the books follow it from
    the counter it was found at. No blank is booked: its earlier cards were never this station's.

    Refused unless the queue stopped on that very printer and the books still have no counter for it, so that an
    acceptance typed in advance, or for another printer, cannot open the way for a database put back from a copy.
    """
    if not reason.strip():
        raise UsageError(t("printer.accept_no_reason"))
    async with store.transaction(actor) as tx:
        await require_role(tx, actor, SUPERVISOR, "accept_printer")
        found = await unknown_printer(tx)
        if found is None:
            raise RefusedError(t("printer.accept_nothing", serial=serial))
        if found.serial != serial:
            raise RefusedError(t("printer.accept_other", serial=serial, found=found.serial))
        if await booked_serial(tx) != serial or await booked_counter(tx, serial) is not None:
            raise RefusedError(t("printer.accept_stale", serial=serial))
        await book_counter(tx, found.counter)
        await set_meta(tx, UNKNOWN, None)
        await tx.audit("printer.accepted", serial, counter=found.counter, reason=reason)
    return found
