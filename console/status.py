"""The station at a glance: queue, printer, stock, locks and untagged cards, from the database alone."""

from __future__ import annotations

from typing import Any

from console import books, jobs, live_state, printer_record
from console.store import Store


async def snapshot(store: Store) -> dict[str, Any]:
    counts = await jobs.count_by_state(store)
    live = await live_state.read_all(store)
    printer = live.get("printer")
    if printer is not None:  # the printer last connected, and the last card counter the books account for
        printer["counter_booked"] = await printer_record.booked_counter(store)
    locked = await store.scalar("SELECT count(*) FROM nik_locks WHERE unlocked_at IS NULL")
    unlocked = await store.scalar("SELECT count(*) FROM nik_locks WHERE unlocked_at IS NOT NULL")
    return {
        "station": {"id": await store.get_meta("station_id"), "database": str(store.path)},
        "queue": {state: counts[state] for state in jobs.TRANSITIONS},
        "untagged": counts[jobs.PRINTED],
        "engine": live.get("engine"),
        "printer": printer,
        "stock": await books.stock_total(store),
        "allocations": [b.as_dict() for b in await books.all_books(store)],
        "locks": {"locked": locked, "unlocked_for_reprint": unlocked},
        "residents": await store.scalar("SELECT count(*) FROM residents"),
    }
