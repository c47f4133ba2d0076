"""PostgreSQL driver benchmark: asyncpg against psycopg 3 (binary wheels, async API) on a throwaway server.

    .venv/bin/python bench/pg_drivers.py [--transactions N] [--copy-rows N] [--tcp]

Each driver, on a fresh database of the same server (tests/pgserver.py: Unix socket, `--tcp` for 127.0.0.1):
N small transactions, each an INSERT of a job-sized row then a SELECT of it back (the shape of the station's
claims), then a `COPY` of a resident-sized table. Both drivers are installed in the project's venv only while
comparing (`.venv/bin/pip install asyncpg==0.32.0`); psycopg 3, the chosen one, is pinned in pyproject.toml. A
driver that is not installed is left out of the table and named.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from importlib.metadata import version
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.pgserver import PgServer  # noqa: E402

TABLE = """CREATE TABLE job (id bigserial PRIMARY KEY, nik text NOT NULL, station text NOT NULL,
                             state text NOT NULL, created_at timestamptz NOT NULL DEFAULT now())"""
RESIDENTS = "CREATE TABLE resident (nik text PRIMARY KEY, name text NOT NULL, birth_date date, village text)"


def residents(count: int) -> list[tuple[str, str, object, str]]:
    import datetime

    day = datetime.date(1990, 1, 1)
    return [(f"{5203070000000000 + n:016d}", f"RESIDENT NUMBER {n}", day, "KELURAHAN TEST") for n in range(count)]


async def bench_asyncpg(kwargs: dict, transactions: int, rows: list) -> tuple[float, float]:
    import asyncpg

    conn = await asyncpg.connect(host=kwargs["host"], port=kwargs["port"], user=kwargs["user"],
                                 database=kwargs["dbname"])  # fmt: skip
    try:
        await conn.execute(TABLE)
        await conn.execute(RESIDENTS)
        started = time.perf_counter()
        for n in range(transactions):
            async with conn.transaction():
                job = await conn.fetchval("INSERT INTO job (nik, station, state) VALUES ($1, $2, 'queued') "
                                          "RETURNING id", f"{n:016d}", "st-1")  # fmt: skip
                row = await conn.fetchrow("SELECT id, nik, state FROM job WHERE id = $1", job)
                assert row["id"] == job
        small = time.perf_counter() - started
        started = time.perf_counter()
        await conn.copy_records_to_table("resident", records=rows, columns=["nik", "name", "birth_date", "village"])
        copy = time.perf_counter() - started
        assert await conn.fetchval("SELECT count(*) FROM resident") == len(rows)
        return small, copy
    finally:
        await conn.close()


async def bench_psycopg(kwargs: dict, transactions: int, rows: list) -> tuple[float, float]:
    import psycopg

    conn = await psycopg.AsyncConnection.connect(**kwargs, autocommit=True)
    try:
        await conn.execute(TABLE)
        await conn.execute(RESIDENTS)
        started = time.perf_counter()
        for n in range(transactions):
            async with conn.transaction():
                cur = await conn.execute("INSERT INTO job (nik, station, state) VALUES (%s, %s, 'queued') "
                                         "RETURNING id", (f"{n:016d}", "st-1"))  # fmt: skip
                job = (await cur.fetchone())[0]
                cur = await conn.execute("SELECT id, nik, state FROM job WHERE id = %s", (job,))
                assert (await cur.fetchone())[0] == job
        small = time.perf_counter() - started
        started = time.perf_counter()
        async with conn.cursor() as cur:
            async with cur.copy("COPY resident (nik, name, birth_date, village) FROM STDIN (FORMAT BINARY)") as copy:
                copy.set_types(["text", "text", "date", "text"])
                for row in rows:
                    await copy.write_row(row)
        copy_time = time.perf_counter() - started
        cur = await conn.execute("SELECT count(*) FROM resident")
        assert (await cur.fetchone())[0] == len(rows)
        return small, copy_time
    finally:
        await conn.close()


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transactions", type=int, default=10_000)
    parser.add_argument("--copy-rows", type=int, default=100_000)
    parser.add_argument("--tcp", action="store_true", help="connect over 127.0.0.1 rather than the Unix socket")
    args = parser.parse_args()
    import importlib.util

    import psycopg

    rows = residents(args.copy_rows)
    server = PgServer.create()
    try:
        server.start()
        asyncpg = "asyncpg " + version("asyncpg") if importlib.util.find_spec("asyncpg") else "no asyncpg"
        print(
            f"PostgreSQL {server.psql('SHOW server_version')}, {asyncpg}, "
            f"psycopg {psycopg.__version__} ({psycopg.pq.__impl__}), {'TCP' if args.tcp else 'Unix socket'}"
        )
        print(
            f"| driver     | {args.transactions:,} INSERT+SELECT transactions |      tx/s | COPY {args.copy_rows:,} rows |"
            "    rows/s"
        )
        for name, run in (("asyncpg", bench_asyncpg), ("psycopg 3", bench_psycopg)):
            if name == "asyncpg" and not importlib.util.find_spec("asyncpg"):
                print("| asyncpg    | not installed: .venv/bin/pip install asyncpg==0.32.0")
                continue
            kwargs = server.connect_kwargs(server.database())
            if args.tcp:
                kwargs["host"] = "127.0.0.1"
            small, copy = await run(kwargs, args.transactions, rows)
            print(
                f"| {name:10} | {small:31.2f} s | {args.transactions / small:9,.0f} | {copy:14.2f} s |"
                f" {args.copy_rows / copy:9,.0f}"
            )
    finally:
        server.destroy()
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
