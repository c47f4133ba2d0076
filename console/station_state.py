"""What the books keep for one station alone (its printer's serial and counter, its lasting pause): the
`station_state` table, keyed by the station and a name. Read and written as the store's (or transaction's)
station."""

from __future__ import annotations

from typing import Any

from console.clock import now_iso


async def get(db: Any, key: str) -> str | None:
    row = await db.fetchone("SELECT value FROM station_state WHERE station_id = ? AND key = ?", (db.station_id, key))
    return None if row is None else row["value"]


async def put(tx: Any, key: str, value: str | None) -> None:
    """Set (or, with None, forget) `key` of the transaction's station."""
    if value is None:
        await tx.execute("DELETE FROM station_state WHERE station_id = ? AND key = ?", (tx.station_id, key))
        return
    await tx.execute(
        "INSERT INTO station_state (station_id, key, value, at) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (station_id, key) DO UPDATE SET value = excluded.value, at = excluded.at",
        (tx.station_id, key, value, now_iso()),
    )
