"""Noticing that another process changed the database, cheaply: `PRAGMA data_version` changes when another
connection commits. A supervisor refreshes only then, never by re-reading whole tables on a timer; and when
something outside the database it shows changes (`also`: the process that holds the printer started or died)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

from console.store import Store


async def changes(store: Store, interval: float = 0.25, also: Callable[[], object] = lambda: None,
                  version: Callable[[], Awaitable[object]] | None = None) -> AsyncIterator[object]:  # fmt: skip
    """Yield the data version each time another connection has committed since the last look, or `also()`
    (a cheap look outside the database) says something else than it did. `version`: a look of the caller's in
    place of the store's data version (one cheap query)."""
    look = version or store.data_version
    seen = (await look(), also())
    while True:
        await asyncio.sleep(interval)
        now = (await look(), also())
        if now != seen:
            seen = now
            yield now[0]
