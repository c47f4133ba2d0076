"""The `live_state` table: what the process that holds the printer publishes for other processes to read
(`station status`, `station supervise`), per station: the engine's state (`engine`) and the printer connected (`printer`).

Each key has one writer, which replaces its value inside a transaction of its own choosing."""

from __future__ import annotations

import json
from typing import Any

from console.clock import now_iso
from console.store import Store

ENGINE = "engine"
PRINTER = "printer"


async def publish(tx: Any, key: str, value: dict[str, Any]) -> None:
    """Replace `key`'s value, stamped with the time, inside the caller's transaction."""
    await tx.execute(
        "INSERT INTO live_state (station_id, key, value, at) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (station_id, key) DO UPDATE SET value = excluded.value, at = excluded.at",
        (tx.station_id, key, json.dumps(value), now_iso()),
    )


async def read(store: Store, key: str) -> tuple[dict[str, Any], str] | None:
    """`key`'s value and when it was written; None if it never was."""
    row = await store.fetchone(
        "SELECT value, at FROM live_state WHERE station_id = ? AND key = ?", (store.station_id, key)
    )
    return None if row is None else (json.loads(row["value"]), row["at"])


async def read_all(store: Store) -> dict[str, dict[str, Any]]:
    """Every key's value, with when it was written as `at`."""
    rows = await store.fetchall("SELECT key, value, at FROM live_state WHERE station_id = ?", (store.station_id,))
    return {row["key"]: json.loads(row["value"]) | {"at": row["at"]} for row in rows}
