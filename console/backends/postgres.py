"""The regency ledger: the store's API over one PostgreSQL database that every station of a regency shares.

Same shape as console/store.py's SQLite store: one writer connection whose transactions are serialised in the
process, plus a reader connection. Across stations, every write transaction first takes one advisory lock of
the ledger (`pg_advisory_xact_lock`), so writes are serialised as SQLite's writer serialises them: the lock
rule's read-then-write (console/locks.py) and the audit chain's head stay atomic for the whole regency, and
the ledger's constraints (the partial unique index on open jobs, the lock table's key) hold besides.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
from psycopg import errors as pg_errors

from console import audit
from console.backends.pg_schema import postgres_migrations, split
from console.backends.pg_sql import translate
from console.clock import now_iso
from console.config import StationSettings
from console.errors import DatabaseError, LedgerUnreachable
from console.i18n import t
from console.schema import APPLICATION_ID, CLAIMS_LOCK, MIGRATIONS
from console.store_frame import BaseStore, BaseTransaction, open_pair

Params = Sequence[Any] | Mapping[str, Any]
LOCK_TIMEOUT = "10s"  # a station never hangs on another's stuck transaction (SQLite's busy_timeout)
# A link cut without a word (a cable pulled, a router down) otherwise leaves a query waiting for its answer for a
# quarter of an hour: data unacknowledged for 10 s, an idle connection unanswered for 11 s, or a connection not
# made in 5 s count as the ledger lost (LedgerUnreachable), and the station retries.
LINK_WATCH: dict[str, Any] = {"connect_timeout": 5, "keepalives": 1, "keepalives_idle": 5, "keepalives_interval": 2,
              "keepalives_count": 3, "tcp_user_timeout": 10_000}  # fmt: skip
# The same watch on the server's end of the station's connection: a station cut off would otherwise keep its
# backend, its session lock (printing here, its claims) and any open transaction's hold on the ledger's write lock
# (every station waits on it) until the server's own keepalive gives up, two hours by default. A station that
# hangs inside a transaction (a stopped process) is cut after IDLE_IN_TRANSACTION: its transactions never wait on a
# person or the printer, but a hand-over's or destruction record's paper is typeset inside its transaction, and a
# whole sub-district's cards may take tens of seconds on a slow terminal; five minutes leaves that room.
IDLE_IN_TRANSACTION = "300s"
SERVER_LINK_WATCH = ("-c tcp_keepalives_idle=5 -c tcp_keepalives_interval=2 -c tcp_keepalives_count=3 "
                     "-c tcp_user_timeout=10000")  # fmt: skip


class Row(tuple):
    """A row by index and by name, like sqlite3.Row (`row[0]`, `row["nik"]`, `row.keys()`, `dict(row)`)."""

    _names: dict[str, int]

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            return tuple.__getitem__(self, self._names[key])
        return tuple.__getitem__(self, key)

    def keys(self) -> list[str]:
        return list(self._names)


def _row_factory(cursor: Any) -> Any:
    names = {column.name: i for i, column in enumerate(cursor.description or ())}

    def make(values: Sequence[Any]) -> Row:
        row = Row(values)
        row._names = names
        return row

    return make


def _sql(sql: str, params: Params) -> str:
    return translate(sql, isinstance(params, Mapping))


def one_line(exc: BaseException) -> str:
    """libpq's message on one line (it adds hints on lines of their own, indented by a tab)."""
    return " ".join(str(exc).split())


_GONE_STATES = ("57P01", "57P02", "57P03")  # the server shutting down, crashed, or not yet accepting connections


def lost(conn: psycopg.AsyncConnection[Any] | None, exc: BaseException) -> bool:
    """Whether a failure is the ledger gone away (its connection lost, or the server stopping), not an answer."""
    if not isinstance(exc, psycopg.OperationalError):
        return False
    state = exc.sqlstate or ""
    return conn is None or conn.broken or conn.closed or state.startswith("08") or state in _GONE_STATES


@contextmanager
def answered(url: str, conn: psycopg.AsyncConnection[Any] | None) -> Iterator[None]:
    """A lost ledger raised as LedgerUnreachable (the station waits for it); any other failure as it is."""
    try:
        yield
    except psycopg.OperationalError as exc:
        if lost(conn, exc):
            raise LedgerUnreachable(t("db.ledger_unreachable", url=url, why=one_line(exc))) from exc
        raise


class Transaction(BaseTransaction["psycopg.AsyncConnection[Any]"]):
    """Statements of one write transaction; `audit()` appends to the hash chain inside it."""

    dialect = "postgresql"

    url = ""  # set by the store: named when the ledger is lost
    ledger_locked = False  # set by the store: begun with the ledger-wide lock, which serialises audit appends too

    async def execute(self, sql: str, params: Params = ()) -> psycopg.AsyncCursor[Any]:
        with answered(self.url, self._conn):
            return await self._conn.execute(_sql(sql, params), params)

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        with answered(self.url, self._conn):
            async with self._conn.cursor() as cur:
                await cur.executemany(translate(sql, False), rows)

    async def copy_text(self, table: str, columns: Sequence[str], text: str) -> None:
        """Stream rows already written in COPY's text format (a line a row) into a table (the import's batches)."""
        with answered(self.url, self._conn):
            async with self._conn.cursor() as cur, cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                await copy.write(text)

    async def fetchall(self, sql: str, params: Params = ()) -> list[Any]:
        return await (await self.execute(sql, params)).fetchall()

    async def fetchone(self, sql: str, params: Params = ()) -> Any:
        return await (await self.execute(sql, params)).fetchone()

    async def insert(self, sql: str, params: Params = ()) -> int:
        row = await self.fetchone(sql + " RETURNING id", params)
        return int(row[0])


class LedgerStore(BaseStore["psycopg.AsyncConnection[Any]"]):
    """The store on a PostgreSQL ledger (`[database] url`)."""

    dialect = "postgresql"
    path: str

    def __init__(self, url: str, writer: psycopg.AsyncConnection[Any] | None, reader: psycopg.AsyncConnection[Any],
                 station_id: str = StationSettings.id, password: str | None = None) -> None:  # fmt: skip
        super().__init__(url, writer, reader, station_id)
        self._password = password
        self._reconnecting = asyncio.Lock()
        self._holds_claims = False
        self._ledger_locked = False  # the transaction begun last holds the ledger-wide lock

    @property
    def url(self) -> str:
        return self.path

    @classmethod
    async def open(cls, url: str, *, create: bool = True, readonly: bool = False,
                   password_file: Path | None = None, station_id: str = StationSettings.id,
                   head_file: Path | None = None, accepting_restore: bool = False) -> LedgerStore:  # fmt: skip
        """Connect to the ledger; migrate it first when `create` is set (an older schema is upgraded). The
        password is `password_file`'s first line, else libpq's own (PGPASSWORD, ~/.pgpass). With `head_file` (the
        station's `ledger.head`), a writer is refused when the ledger does not reach the head this station last
        saw there, as an SQLite file is against its head (console/audit.py)."""
        password = read_password(url, password_file)
        writer, reader = await open_pair(
            None if readonly else lambda: connect(url, password),
            lambda conn: migrate(conn, url, upgrade=create),
            lambda: connect(url, password, readonly=True),
            cls._close_conn,
        )
        store = cls(url, writer, reader, station_id, password)
        store.head_file = head_file
        if writer is not None:
            await audit.check_head_at_open(store, accepting_restore)
        await store._take_its_place()
        return store

    async def _connect_again(self, conn: psycopg.AsyncConnection[Any], readonly: bool) -> psycopg.AsyncConnection[Any]:
        """A lost connection replaced by a new one (LedgerUnreachable while the ledger does not answer)."""
        if not (conn.broken or conn.closed):
            return conn
        async with self._reconnecting:
            await conn.close()
            try:
                return await connect(self.url, self._password, readonly=readonly)
            except DatabaseError as exc:
                raise LedgerUnreachable(str(exc)) from None

    def _committed(self, tx: BaseTransaction[psycopg.AsyncConnection[Any]]) -> None:
        if tx._audit_head is not None and self.head_file is not None and not self.head_on_hold:
            audit.write_head(self.head_file, tx._audit_head)

    async def execute_alone(self, sql: str, params: Params = ()) -> int:
        async with self._write_lock:
            if self._writer is None:
                raise DatabaseError(t("db.read_only", file=self.path))
            writer = await self._writer_ready(self._writer)
            with answered(self.url, writer):  # autocommit: committed when it answers
                return int((await writer.execute(_sql(sql, params), params)).rowcount)

    async def hold_claims(self) -> None:
        """A session lock keyed by the station on the writer connection, for as long as it lives (taken again on a
        new connection): a station killed loses it with its connection, and its queued claims become orphans that
        other stations take over (console/jobs.py)."""
        self._holds_claims = True
        async with self._write_lock:
            if self._writer is not None:
                await self._hold_claims_on(await self._writer_ready(self._writer))

    async def _hold_claims_on(self, conn: psycopg.AsyncConnection[Any]) -> None:
        with answered(self.url, conn):
            await conn.execute("SELECT pg_try_advisory_lock(%s, hashtext(%s))", (CLAIMS_LOCK, self.station_id))

    async def _writer_ready(self, writer: psycopg.AsyncConnection[Any]) -> psycopg.AsyncConnection[Any]:
        ready = await self._connect_again(writer, readonly=False)
        if ready is not writer and self._holds_claims:
            await self._hold_claims_on(ready)
        self._writer = ready
        return ready

    async def _reader_ready(self) -> psycopg.AsyncConnection[Any]:
        self._reader = await self._connect_again(self._reader, readonly=True)
        return self._reader

    async def _begin(self, conn: psycopg.AsyncConnection[Any]) -> None:
        with answered(self.url, conn):  # one round trip: no parameters, so both go as one simple query
            await conn.execute(f"BEGIN; SELECT pg_advisory_xact_lock({APPLICATION_ID:d})")
        self._ledger_locked = True

    async def _begin_claim(self, conn: psycopg.AsyncConnection[Any]) -> None:
        with answered(self.url, conn):  # no ledger-wide lock: a claim locks its rows alone, appends no audit entry
            await conn.execute("BEGIN")
        self._ledger_locked = False

    async def _commit(self, conn: psycopg.AsyncConnection[Any]) -> None:
        with answered(self.url, conn):  # lost here: the commit is in doubt, and the station acts as if it was not
            await conn.execute("COMMIT")

    async def _rollback(self, conn: psycopg.AsyncConnection[Any]) -> None:
        if conn.broken or conn.closed:
            return  # the server ended the transaction with the connection
        with answered(self.url, conn):
            await conn.execute("ROLLBACK")

    @staticmethod
    async def _close_conn(conn: psycopg.AsyncConnection[Any]) -> None:
        await conn.close()

    def _transaction(self, conn: psycopg.AsyncConnection[Any], actor: str) -> Transaction:
        tx = Transaction(conn, actor, self.station_id)
        tx.url = self.url
        tx.ledger_locked = self._ledger_locked
        return tx

    async def fetchall(self, sql: str, params: Params = ()) -> list[Any]:
        reader = await self._reader_ready()
        with answered(self.url, reader):
            return await (await reader.execute(_sql(sql, params), params)).fetchall()

    async def fetchone(self, sql: str, params: Params = ()) -> Any:
        reader = await self._reader_ready()
        with answered(self.url, reader):
            return await (await reader.execute(_sql(sql, params), params)).fetchone()

    async def data_version(self) -> int:
        """Changes when a transaction commits anywhere in the ledger: the audit log's newest entry."""
        return int(await self.scalar("SELECT coalesce(max(seq), 0) FROM audit"))


def read_password(url: str, password_file: Path | None) -> str | None:
    if password_file is None:
        return None
    try:
        return password_file.read_text(encoding="utf-8").splitlines()[0] if password_file.stat().st_size else ""
    except (OSError, UnicodeDecodeError) as exc:
        raise DatabaseError(t("db.password_unreadable", file=password_file, why=getattr(exc, "strerror", exc)
                              or exc)) from None  # fmt: skip


async def connect(url: str, password: str | None, readonly: bool = False) -> psycopg.AsyncConnection[Any]:
    """A connection in autocommit (the store says BEGIN); the reader's refuses any write."""
    options = (f"-c lock_timeout={LOCK_TIMEOUT} -c idle_in_transaction_session_timeout={IDLE_IN_TRANSACTION} "
               f"{SERVER_LINK_WATCH}" + (" -c default_transaction_read_only=on" if readonly else ""))  # fmt: skip
    try:
        conn = await psycopg.AsyncConnection.connect(url, autocommit=True, row_factory=_row_factory,
                                                     options=options, password=password, **LINK_WATCH)  # fmt: skip
    except psycopg.Error as exc:
        if not_answering(exc):
            raise LedgerUnreachable(t("db.ledger_unreachable", url=url, why=one_line(exc))) from None
        raise DatabaseError(t("db.cannot_open", file=url, why=one_line(exc))) from None
    return conn


# What the server says while it stops, starts or is full: it will answer again. Any other FATAL reply (no such role
# or database, a wrong password, pg_hba.conf) is an answer: the configuration is wrong, and waiting cannot help.
_PASSING = ("shutting down", "starting up", "recovery mode", "not yet accepting connections", "too many clients",
            "remaining connection slots")  # fmt: skip


def not_answering(exc: psycopg.Error) -> bool:
    """Whether a connection that failed met no server (refused, unresolved, timed out, closed) or one on its way
    down or up: the ledger is away, not refusing. libpq gives no SQLSTATE for these, so its message is read."""
    if not isinstance(exc, psycopg.OperationalError):
        return False
    message = str(exc)
    return "FATAL" not in message or any(phrase in message for phrase in _PASSING)


async def schema_version(conn: psycopg.AsyncConnection[Any]) -> int:
    found = await (await conn.execute("SELECT to_regclass('schema_version') IS NOT NULL")).fetchone()
    if not (found and found[0]):  # asked first: a station's role may not create tables, even one that exists
        await conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL PRIMARY KEY, "
                           "applied_at TEXT NOT NULL)")  # fmt: skip
    cursor = await conn.execute("SELECT coalesce(max(version), 0) FROM schema_version")
    return int((await cursor.fetchall())[0][0])


async def migrate(conn: psycopg.AsyncConnection[Any], url: str, *, upgrade: bool = True) -> int:
    """Bring the ledger's schema to the newest step, one transaction a step; two stations starting together
    wait for each other (an advisory lock), and the second finds nothing left to do. Returns the steps run."""
    steps = postgres_migrations()
    await conn.execute("SELECT pg_advisory_lock(%s)", (APPLICATION_ID,))
    try:
        version = await schema_version(conn)
        if version > len(MIGRATIONS):
            raise DatabaseError(t("db.newer", file=url, version=version, known=len(MIGRATIONS)))
        if not upgrade and version < len(MIGRATIONS):
            raise DatabaseError(t("db.missing", file=url))
        for number in range(version, len(steps)):
            async with conn.transaction():
                for statement in split(steps[number]):
                    try:
                        await conn.execute(statement)
                    except pg_errors.IntegrityError as exc:
                        raise DatabaseError(t("db.migration_refused", file=url, step=number + 1, why=exc)) from None
                await conn.execute("INSERT INTO schema_version (version, applied_at) VALUES (%s, %s)",
                                   (number + 1, now_iso()))  # fmt: skip
                if number == 0:
                    await conn.execute("INSERT INTO meta (key, value) VALUES ('created_at', %s), "
                                       "('application', 'ktpel-station')", (now_iso(),))  # fmt: skip
        return len(steps) - version
    finally:
        await conn.execute("SELECT pg_advisory_unlock(%s)", (APPLICATION_ID,))


_FAILURE_KEYS = {
    "53100": "db.full", "XX001": "db.damaged", "XX002": "db.damaged", "55P03": "db.busy", "40P01": "db.busy",
    "58030": "db.io_error", "42P01": "db.schema_broken", "42703": "db.schema_broken", "42501": "db.not_allowed",
}  # fmt: skip


def ledger_failure(exc: psycopg.Error, url: str | None) -> DatabaseError | None:
    """The operator's sentence for a ledger failure (full disk, damage, a lock held too long, a lost link, a
    dropped table), or None for what is a bug of ours."""
    key = _FAILURE_KEYS.get(exc.sqlstate or "")
    if key is None and isinstance(exc, psycopg.OperationalError):
        key = "db.io_error"  # the server went away or the link broke
    return None if key is None else DatabaseError(t(key, file=url or "?", why=one_line(exc)))
