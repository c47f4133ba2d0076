"""Stations sharing one ledger: the lock rule is the ledger's, so what one station did refuses the other, and
their write transactions never interleave (one advisory lock of the ledger, as SQLite's writer is one)."""

from __future__ import annotations

import asyncio

import psycopg
import pytest

from console import audit, audit_state, jobs
from console.store import Store
from tests.conftest import wait_for
from tests.factory import add_residents, receive_blanks
from tests.test_books_jobs import take_card


async def test_a_nik_one_station_queued_or_printed_is_refused_at_the_other(ledger):
    async with await Store.open(ledger.url) as east, await Store.open(ledger.url) as west:
        [nik] = await add_residents(east, 1)
        await receive_blanks(east, "A", 5, None, "op")
        assert (await jobs.enqueue(east, [nik], "op")).queued == [nik]
        [refusal] = (await jobs.enqueue(west, [nik], "op")).refused
        assert refusal.code == "already_queued"
        [job] = await west.fetchall("SELECT id FROM jobs")
        await take_card(east, job["id"], 1)
        [refusal] = (await jobs.enqueue(west, [nik], "op")).refused
        assert refusal.code == "locked"


async def test_two_stations_queueing_one_nik_at_once_make_one_job_and_one_chain(ledger):
    async with await Store.open(ledger.url) as east, await Store.open(ledger.url) as west:
        niks = await add_residents(east, 20)
        results = await asyncio.gather(*(jobs.enqueue(store, niks, "op") for store in (east, west, east, west)))
        assert sorted(nik for result in results for nik in result.queued) == sorted(niks)
        assert await east.scalar("SELECT count(*) FROM jobs") == 20
        checked, broken = await audit.verify(west)
        assert broken is None and checked == await audit.newest_seq(east)


async def test_a_write_waits_for_another_stations_open_transaction(ledger):
    async with await Store.open(ledger.url) as east, await Store.open(ledger.url) as west:
        holding, release = asyncio.Event(), asyncio.Event()

        async def hold() -> None:
            async with east.transaction("east") as tx:
                await tx.audit("test.first")
                holding.set()
                await release.wait()

        holder = asyncio.create_task(hold())
        await holding.wait()
        second = asyncio.create_task(_audit(west, "test.second"))
        waiting = "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
        await wait_for(lambda: _is_one(east.scalar(waiting)), what="the second station waiting for the ledger")
        assert not second.done()
        release.set()
        await holder
        assert await second == 2  # after the first, on the chain it left


async def _is_one(value) -> bool:
    return await value == 1


async def _audit(store: Store, action: str) -> int:
    async with store.transaction("west") as tx:
        return await tx.audit(action)


async def test_the_ledger_refuses_a_second_open_job_even_past_the_rule(ledger):
    async with await Store.open(ledger.url) as store:
        [nik] = await add_residents(store, 1)
        await jobs.enqueue(store, [nik], "op")
        with pytest.raises(psycopg.errors.UniqueViolation):
            async with store.transaction() as tx:
                await tx.execute("INSERT INTO jobs (nik, state, queued_at) VALUES (?, 'held', 'now')", (nik,))
        assert await store.scalar("SELECT count(*) FROM jobs") == 1


async def test_a_lock_deleted_by_hand_on_the_ledger_still_refuses_and_is_named(ledger):
    """An administrator's (or an attacker's) edit of the ledger's tables: the audit log still closes the NIK,
    and the replay of the log names the difference."""
    async with await Store.open(ledger.url) as store:
        [nik] = await add_residents(store, 1)
        await receive_blanks(store, "A", 5, None, "op")
        await jobs.enqueue(store, [nik], "op")
        await take_card(store, 1, 1)
        await jobs.tag(store, nik, True, "op")
    with psycopg.connect(ledger.url, autocommit=True) as admin:
        admin.execute("DELETE FROM nik_locks WHERE nik = %s", (nik,))
        admin.execute("UPDATE jobs SET state = 'cancelled' WHERE nik = %s", (nik,))
    async with await Store.open(ledger.url) as store:
        [refusal] = (await jobs.enqueue(store, [nik], "op")).refused
        assert refusal.code == "audit_locked"
        found = " ".join(await audit_state.differences(store))
        assert f"NIK {nik}" in found and "nik_locks" in found and "cancelled" in found


async def test_the_reader_connection_refuses_a_write(ledger):
    async with await Store.open(ledger.url) as store:
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            await store.fetchall("INSERT INTO meta (key, value) VALUES ('x', 'y') RETURNING key")
        assert await store.get_meta("x") is None
