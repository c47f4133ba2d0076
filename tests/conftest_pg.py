"""The throwaway PostgreSQL server (tests/pgserver.py) as pytest fixtures: one server for the whole session,
started on first use, a fresh database per test.

Without PostgreSQL on the machine, a test that needs it is skipped and says why; under CI (`CI` set) that is
a failure instead, since `.ci/run` installs the server."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from tests.pgserver import PgServer, PgUnavailable


def unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"PostgreSQL is required under CI: {reason}", pytrace=False)
    pytest.skip(f"PostgreSQL not available: {reason}")


def new_server() -> PgServer:
    """A server made (not started) for this test or session; skips (or fails under CI) without PostgreSQL."""
    try:
        return PgServer.create()
    except PgUnavailable as reason:
        unavailable(str(reason))
        raise  # unreachable: unavailable() raises


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    server = new_server()
    try:
        server.start()
        yield server
    finally:
        server.destroy()


@dataclass(frozen=True)
class PgDatabase:
    """A database of its own for one test, on the session's server."""

    server: PgServer
    name: str

    @property
    def url(self) -> str:
        return self.server.url(self.name)

    def connect_kwargs(self) -> dict[str, object]:
        return self.server.connect_kwargs(self.name)


@pytest.fixture
def pg_database(pg_server: PgServer) -> Iterator[PgDatabase]:
    if not pg_server.running:  # a crash test that failed half-way leaves it stopped: the next test needs it up
        pg_server.start()
    name = pg_server.database()
    try:
        yield PgDatabase(pg_server, name)
    finally:
        if not pg_server.running:
            pg_server.start()
        pg_server.drop(name)


LEDGER_TEMPLATE = "ktpel_ledger_template"


@pytest.fixture(scope="session")
def ledger_template(pg_server: PgServer) -> str:
    """A database migrated once per session to the newest schema, cloned by each test that wants a ledger."""
    import asyncio

    from console.backends.postgres import connect, migrate

    if pg_server.psql(f"SELECT count(*) FROM pg_database WHERE datname = '{LEDGER_TEMPLATE}'") != "1":
        pg_server.psql(f"CREATE DATABASE {LEDGER_TEMPLATE}")

        async def migrated() -> None:
            conn = await connect(pg_server.url(LEDGER_TEMPLATE), None)
            try:
                await migrate(conn, pg_server.url(LEDGER_TEMPLATE))
            finally:
                await conn.close()

        asyncio.run(migrated())
    return LEDGER_TEMPLATE


@pytest.fixture
def ledger(pg_server: PgServer, ledger_template: str) -> Iterator[PgDatabase]:
    """A migrated ledger of its own for one test (a clone of the session's template)."""
    if not pg_server.running:
        pg_server.start()
    name = pg_server.database(ledger_template)
    try:
        yield PgDatabase(pg_server, name)
    finally:
        if not pg_server.running:
            pg_server.start()
        pg_server.drop(name)


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: object) -> object:
    """Where the store lives, once per backend: an SQLite file (the default) or a ledger's URL. A test that
    opens `Store.open(database)` runs on both."""
    if request.param == "sqlite":
        return tmp_path / "station.db"  # type: ignore[operator]
    return request.getfixturevalue("ledger").url
