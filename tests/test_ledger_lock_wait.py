"""A station whose write waits too long for the ledger's lock (another station's stuck transaction holds it) gets
the lock's timeout as an error, and its next write works: the failed beginning is rolled back, not left open on
the connection to fail every later statement."""

from __future__ import annotations

import psycopg
import pytest

from console.schema import APPLICATION_ID
from console.store import Store


async def test_a_write_that_timed_out_on_the_ledger_lock_leaves_the_next_one_working(ledger):
    async with await Store.open(ledger.url) as store:
        with psycopg.connect(**ledger.connect_kwargs(), autocommit=True) as stuck:
            stuck.execute("SELECT pg_advisory_lock(%s)", (APPLICATION_ID,))  # held as by a hung station
            with pytest.raises(psycopg.errors.LockNotAvailable):
                async with store.transaction("tester") as tx:
                    await tx.audit("test.written", "first")
            stuck.execute("SELECT pg_advisory_unlock(%s)", (APPLICATION_ID,))
        async with store.transaction("tester") as tx:
            await tx.audit("test.written", "second")
        assert await store.scalar("SELECT count(*) FROM audit WHERE action = 'test.written'") == 1
