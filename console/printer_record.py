"""What the books know of the printer: which one prints (its serial) and the last card counter they account for.

The printer's card counter (`Rco;c`) is how the station settles a job left in doubt and notices blanks taken
outside it; both mean something only for the printer whose counter it is, so the serial is kept beside it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from console import live_state

SERIAL, COUNTER_OF, AHEAD = "printer.serial", "printer.counter:", "printer.counter_ahead"


async def _get(db: Any, key: str) -> str | None:
    row = await db.fetchone("SELECT value FROM meta WHERE key = ?", (key,))
    return None if row is None else row["value"]


async def _set(tx: Any, key: str, value: str | None) -> None:
    if value is None:
        await tx.execute("DELETE FROM meta WHERE key = ?", (key,))
    else:
        await tx.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value),
        )


async def booked_serial(db: Any) -> str | None:
    return await _get(db, SERIAL)


async def booked_counter(db: Any, serial: str | None = None) -> int | None:
    """The highest card counter the books account for on a printer (the booked one when `serial` is None), kept
    per serial so that a printer swapped out and back is followed from where the books left it."""
    serial = serial if serial is not None else await booked_serial(db)
    value = None if serial is None else await _get(db, COUNTER_OF + serial)
    return None if value is None else int(value)


async def book_counter(tx: Any, counter: int) -> None:
    serial = await booked_serial(tx)
    if serial is None:
        raise RuntimeError("a card counter booked before the printer was recorded")
    await _set(tx, COUNTER_OF + serial, str(counter))


async def record_printer(tx: Any, serial: str, model: str, firmware: str) -> None:
    """The printer connected now is the one the books follow; its counter is followed from where they left it."""
    was = await _get(tx, SERIAL)
    if was != serial:
        await _set(tx, SERIAL, serial)
        await tx.audit("printer.changed" if was else "printer.first_seen", serial, was=was, model=model)
    await live_state.publish(tx, live_state.PRINTER, {"model": model, "serial": serial, "firmware": firmware})


async def rebase_counter(tx: Any, counter: int, was: int) -> None:
    """The same printer shows a counter below the books' with nothing in doubt (a service reset): follow it."""
    await book_counter(tx, counter)
    await tx.audit("printer.counter_went_back", await _get(tx, SERIAL), counter=counter, was=was)


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
    value = await _get(db, AHEAD)
    return None if value is None else CounterAhead(**json.loads(value))


async def record_counter_ahead(tx: Any, found: CounterAhead) -> None:
    """Kept for the supervisor's reconciliation (which must name the same number of cards); audited once."""
    if await counter_ahead(tx) == found:
        return
    await _set(tx, AHEAD, json.dumps({"serial": found.serial, "booked": found.booked, "counter": found.counter}))
    await tx.audit("printer.counter_ahead", found.serial, booked=found.booked, counter=found.counter)


async def clear_counter_ahead(tx: Any) -> None:
    await _set(tx, AHEAD, None)
