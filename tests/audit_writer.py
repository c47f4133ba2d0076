"""One writer of the many-writers test (tests/test_ledger_audit_writers.py), run as its own process:
`python -m tests.audit_writer URL STATION COUNT MODE`. It appends COUNT entries to the ledger's audit log as station
STATION (its actor and subject too), one transaction each, and prints how many it appended.

MODE `store`: through the ledger's store, as a station does. MODE `bare`: through the store's transactions on a
connection of their own without the store's lock of the whole ledger (what a station does once its writes take
row locks in place of that one lock): the audit chain must hold by itself."""

from __future__ import annotations

import asyncio
import sys

from console.backends.postgres import Transaction, connect
from console.store import Store


async def through_store(url: str, name: str, count: int) -> int:
    async with await Store.open(url, station_id=name) as store:
        for n in range(count):
            async with store.transaction(name) as tx:
                await tx.audit("test.written", name, n=n)
    return count


async def bare(url: str, name: str, count: int) -> int:
    conn = await connect(url, None)
    try:
        for n in range(count):
            async with conn.transaction():
                await Transaction(conn, name, name).audit("test.written", name, n=n)
    finally:
        await conn.close()
    return count


async def main(url: str, name: str, count: int, mode: str) -> None:
    writer = through_store if mode == "store" else bare
    print(await writer(url, name, count), flush=True)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]))
