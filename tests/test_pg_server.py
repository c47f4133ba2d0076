"""The throwaway PostgreSQL server (tests/pgserver.py) and the guarantees the regency ledger will stand on:
a unique partial index lets only one of two concurrent transactions open a lock for a NIK, `FOR UPDATE SKIP
LOCKED` hands two concurrent claimers two different jobs, and a committed row survives a crash of the server."""

from __future__ import annotations

import asyncio
from pathlib import Path

import psycopg
import pytest

from tests import conftest_pg, pgserver
from tests.conftest import wait_for
from tests.conftest_pg import PgDatabase
from tests.pgserver import PgServer, PgUnavailable

NIK = "5203071201900001"


async def connect(db: PgDatabase) -> psycopg.AsyncConnection:
    return await psycopg.AsyncConnection.connect(**db.connect_kwargs(), autocommit=True)


async def waiting_on_a_lock(observer: psycopg.AsyncConnection, pid: int) -> bool:
    cur = await observer.execute("SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", (pid,))
    row = await cur.fetchone()
    return row is not None and row[0] == "Lock"


async def test_the_server_listens_on_its_socket_and_on_loopback(pg_database: PgDatabase):
    over_socket = await connect(pg_database)
    over_tcp = await psycopg.AsyncConnection.connect(pg_database.url)
    try:
        for conn in (over_socket, over_tcp):
            cur = await conn.execute("SELECT current_database(), current_setting('fsync')")
            assert await cur.fetchone() == (pg_database.name, "off")
        cur = await over_tcp.execute("SELECT inet_server_addr()::text")
        assert (await cur.fetchone())[0].startswith("127.0.0.1")
    finally:
        await over_socket.close()
        await over_tcp.close()


async def test_two_concurrent_transactions_cannot_both_open_a_lock_for_one_nik(pg_database: PgDatabase):
    setup, first, second = [await connect(pg_database) for _ in range(3)]
    try:
        await setup.execute("CREATE TABLE nik_lock (id bigserial PRIMARY KEY, nik text NOT NULL, station text NOT NULL,"
                            " released_at timestamptz)")  # fmt: skip
        await setup.execute("CREATE UNIQUE INDEX one_open_lock_per_nik ON nik_lock (nik) WHERE released_at IS NULL")
        await setup.execute("INSERT INTO nik_lock (nik, station, released_at) VALUES (%s, 'st-0', now())", (NIK,))

        async with first.transaction():
            await first.execute("INSERT INTO nik_lock (nik, station) VALUES (%s, 'st-1')", (NIK,))

            async def second_station() -> None:
                async with second.transaction():
                    await second.execute("INSERT INTO nik_lock (nik, station) VALUES (%s, 'st-2')", (NIK,))

            racing = asyncio.create_task(second_station())
            # The second insert really runs concurrently: it waits on the first's uncommitted index entry.
            await wait_for(lambda: waiting_on_a_lock(setup, second.info.backend_pid), what="the second to wait")
        with pytest.raises(psycopg.errors.UniqueViolation):
            await racing

        cur = await setup.execute("SELECT station FROM nik_lock WHERE nik = %s AND released_at IS NULL", (NIK,))
        assert await cur.fetchall() == [("st-1",)]
        cur = await setup.execute("SELECT count(*) FROM nik_lock WHERE nik = %s", (NIK,))
        assert await cur.fetchone() == (2,)  # the released lock of before, and the winner's
    finally:
        for conn in (setup, first, second):
            await conn.close()


async def test_two_concurrent_claimers_skip_each_others_locked_job(pg_database: PgDatabase):
    setup, first, second = [await connect(pg_database) for _ in range(3)]
    claim = "SELECT id FROM job WHERE state = 'queued' ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED"
    try:
        await setup.execute("CREATE TABLE job (id bigserial PRIMARY KEY, state text NOT NULL, station text)")
        await setup.execute("INSERT INTO job (state) SELECT 'queued' FROM generate_series(1, 3)")

        async with first.transaction(), second.transaction():
            first_job = (await (await first.execute(claim)).fetchone())[0]
            # The first claimer still holds its row: without SKIP LOCKED the second would block here.
            second_job = (await (await asyncio.wait_for(second.execute(claim), 10)).fetchone())[0]
            await first.execute("UPDATE job SET state = 'printing', station = 'st-1' WHERE id = %s", (first_job,))
            await second.execute("UPDATE job SET state = 'printing', station = 'st-2' WHERE id = %s", (second_job,))

        assert first_job != second_job
        cur = await setup.execute("SELECT id, station FROM job WHERE state = 'printing' ORDER BY id")
        assert await cur.fetchall() == sorted([(first_job, "st-1"), (second_job, "st-2")])
    finally:
        for conn in (setup, first, second):
            await conn.close()


async def test_a_committed_row_survives_an_immediate_stop(pg_server: PgServer, pg_database: PgDatabase):
    conn = await connect(pg_database)
    await conn.execute("CREATE TABLE allocation (nik text PRIMARY KEY, blank text NOT NULL)")
    await conn.execute("INSERT INTO allocation VALUES (%s, 'B-000123')", (NIK,))
    logged_before = len(pg_server.log.read_text())
    pg_server.restart(mode="immediate")  # the server crashes: no checkpoint, recovery replays the WAL
    with pytest.raises(psycopg.OperationalError):
        await conn.execute("SELECT 1")
    await conn.close()

    conn = await connect(pg_database)
    try:
        cur = await conn.execute("SELECT blank FROM allocation WHERE nik = %s", (NIK,))
        assert await cur.fetchall() == [("B-000123",)]
    finally:
        await conn.close()
    since = pg_server.log.read_text()[logged_before:]
    assert "database system was interrupted" in since and "redo done" in since  # a crash, and a recovery


def alive(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "\nState:\tZ" not in status  # a zombie has exited: only its parent has not looked yet


async def test_a_server_once_destroyed_leaves_no_process_and_no_folder():
    server = conftest_pg.new_server()
    try:
        server.start()
        pid = int((server.data / "postmaster.pid").read_text().split()[0])
        assert alive(pid)
    finally:
        server.destroy()
    await wait_for(lambda: not alive(pid), timeout=10, what="the postmaster to exit")
    assert not server.root.exists()


def test_without_postgresql_a_test_is_skipped_saying_why_but_under_ci_it_fails(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("PG_BINDIR", raising=False)
    monkeypatch.setattr(pgserver.glob, "glob", lambda pattern: [])
    monkeypatch.setattr(pgserver.shutil, "which", lambda name: None)
    with pytest.raises(PgUnavailable, match="install Debian's `postgresql`") as missing:
        pgserver.find_bindir()

    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="PostgreSQL not available: no PostgreSQL server found"):
        conftest_pg.unavailable(str(missing.value))
    monkeypatch.setenv("CI", "1")
    with pytest.raises(pytest.fail.Exception, match="PostgreSQL is required under CI: no PostgreSQL server found"):
        conftest_pg.unavailable(str(missing.value))
