"""What the books know of the printer: which one prints (its serial) and the last card counter they account for.

The printer's card counter (`Rco;c`) is how the station settles a job left in doubt and notices blanks taken
outside it; both mean something only for the printer whose counter it is, so the serial is kept beside it.
"""

from __future__ import annotations

from typing import Any

from console import live_state

SERIAL, COUNTER = "printer.serial", "printer.counter"


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


async def booked_counter(db: Any) -> int | None:
    """The highest card counter the books account for on the booked printer (None before its first card)."""
    value = await _get(db, COUNTER)
    return None if value is None else int(value)


async def book_counter(tx: Any, counter: int) -> None:
    await _set(tx, COUNTER, str(counter))


async def record_printer(tx: Any, serial: str, model: str, firmware: str) -> None:
    """The printer connected now is the one the books follow; a new one starts a new count."""
    was = await _get(tx, SERIAL)
    if was != serial:
        await _set(tx, SERIAL, serial)
        await _set(tx, COUNTER, None)
        await tx.audit("printer.changed" if was else "printer.first_seen", serial, was=was, model=model)
    await live_state.publish(tx, live_state.PRINTER, {"model": model, "serial": serial, "firmware": firmware})


async def rebase_counter(tx: Any, counter: int, was: int) -> None:
    """The same printer shows a counter below the books' with nothing in doubt (a service reset): follow it."""
    await _set(tx, COUNTER, str(counter))
    await tx.audit("printer.counter_went_back", await _get(tx, SERIAL), counter=counter, was=was)
