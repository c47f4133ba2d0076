"""Noticing that another process changed the database, cheaply: `PRAGMA data_version` changes when another
connection commits. A supervisor refreshes only then, never by re-reading whole tables on a timer."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from console.store import Store


async def changes(store: Store, interval: float = 0.25) -> AsyncIterator[int]:
    """Yield the new data version each time another connection has committed since the last look."""
    seen = await store.data_version()
    while True:
        await asyncio.sleep(interval)
        version = await store.data_version()
        if version != seen:
            seen = version
            yield version
