"""The frame both stores share (console/store.py on SQLite, console/backends/postgres.py on the ledger): a writer
connection whose transactions are serialised in the process, a reader connection for queries that must not wait
behind a long write, and the transaction's audit appends. Each engine says how it begins, commits and rolls back,
and how it runs one statement; the frame around them is written once here."""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Generic, TypeVar

from console import audit, stations
from console.errors import DatabaseError
from console.i18n import t

Conn = TypeVar("Conn")


class BaseTransaction(ABC, Generic[Conn]):
    """Statements of one write transaction; `audit()` appends to the hash chain inside it."""

    dialect = ""

    def __init__(self, conn: Conn, actor: str, station_id: str) -> None:
        self._conn = conn
        self.actor = actor
        self.station_id = station_id  # the station this transaction's rows and audit entries belong to
        self._audit_head: tuple[int, str] | None = None  # the chain's head once this transaction appended to it

    @abstractmethod
    async def execute(self, sql: str, params: Any = ()) -> Any: ...

    @abstractmethod
    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None: ...

    @abstractmethod
    async def fetchall(self, sql: str, params: Any = ()) -> list[Any]: ...

    @abstractmethod
    async def fetchone(self, sql: str, params: Any = ()) -> Any: ...

    async def audit(self, action: str, subject: str | None = None, actor: str | None = None, **data: Any) -> int:
        self._audit_head = await audit.append(
            self, action, subject, actor or self.actor, data, self._audit_head, self.station_id
        )
        return self._audit_head[0]


class BaseStore(ABC, Generic[Conn]):
    """The store's frame; subclasses give the engine's steps (`_begin`, `_begin_claim`, `_commit`, `_rollback`,
    `_close_conn`, `_transaction`, `fetchall`, `fetchone`)."""

    dialect = ""

    def __init__(self, location: Any, writer: Conn | None, reader: Conn, station_id: str) -> None:
        self.path = location  # where messages say which database: a file, or the ledger's URL (never a password)
        self.station_id = station_id  # the configuration's `[station] id`: the store writes and reads as it
        self._writer = writer
        self._reader = reader
        self._write_lock = asyncio.Lock()
        # True while a database without its head file is open for a supervisor to accept it as restored: nothing
        # committed meanwhile (a sign-in) writes a head for it; console/restore.py writes it and lifts this.
        self.head_on_hold = False
        # The witness of the audit log's head kept on this machine (console/audit.py): beside the SQLite file, or the
        # station's `ledger.head` on a ledger; None where none is kept (a ledger opened by its bare URL).
        self.head_file: Path | None = None

    @abstractmethod
    async def _begin(self, conn: Conn) -> None: ...

    async def _begin_claim(self, conn: Conn) -> None:
        """The beginning of a claim's transaction (`claiming`); the ledger's takes no regency-wide lock."""
        await self._begin(conn)

    @abstractmethod
    async def _commit(self, conn: Conn) -> None: ...

    @abstractmethod
    async def _rollback(self, conn: Conn) -> None: ...

    @staticmethod
    @abstractmethod
    async def _close_conn(conn: Conn) -> None: ...

    @abstractmethod
    def _transaction(self, conn: Conn, actor: str) -> BaseTransaction[Conn]: ...

    async def _take_its_place(self) -> None:
        """Once opened for writing: the configured station's own rows (console/stations.py); closes on failure."""
        if self._writer is None:
            return
        try:
            await stations.take_its_place(self)
        except BaseException:
            await self.close()
            raise

    async def execute_alone(self, sql: str, params: Any = ()) -> int:
        """One statement committed on its own, with no audit entry (a marker the engine needs durable before it
        acts, whose audit entry follows in its next transaction); the rows it changed. On the ledger one round
        trip (the ledger's store overrides this)."""
        async with self.transaction("station") as tx:
            return int((await tx.execute(sql, params)).rowcount)

    async def hold_claims(self) -> None:
        """This process prints for its station: its claims are not to be taken over while it lives (on the ledger;
        one SQLite file is one station, whose claims no other takes)."""

    async def _writer_ready(self, writer: Conn) -> Conn:
        """The writer to begin on (the ledger's store connects again where the last one was lost)."""
        return writer

    def _committed(self, tx: BaseTransaction[Conn]) -> None:
        """After a commit, still under the write lock (SQLite writes the audit head beside its file)."""

    async def close(self) -> None:
        await self._close_conn(self._reader)
        if self._writer is not None:
            async with self._write_lock:
                await self._close_conn(self._writer)
            self._writer = None

    async def __aenter__(self) -> Any:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @asynccontextmanager
    async def transaction(self, actor: str = "station") -> AsyncIterator[Any]:
        """BEGIN … COMMIT, one at a time in this process; any exception rolls the whole transaction back."""
        async with self._transaction_begun(actor, self._begin) as tx:
            yield tx

    @asynccontextmanager
    async def claiming(self) -> AsyncIterator[Any]:
        """A short transaction that claims queued jobs for the station (console/jobs.py `claim`): on one SQLite
        file, a transaction like any other; the ledger's skips the regency-wide lock, so that claims of several
        stations run at once, each row they pick locked `FOR UPDATE SKIP LOCKED`. It appends nothing to the
        audit log."""
        async with self._transaction_begun("station", self._begin_claim) as tx:
            yield tx

    @asynccontextmanager
    async def _transaction_begun(self, actor: str, begin: Callable[[Conn], Awaitable[None]]) -> AsyncIterator[Any]:
        if self._writer is None:
            raise DatabaseError(t("db.read_only", file=self.path))
        async with self._write_lock:
            assert self._writer is not None  # closed while waiting: a bug of the caller
            writer = await self._writer_ready(self._writer)
            try:
                await begin(writer)  # its BEGIN may have gone through before its lock timed out: rolled back too
                tx = self._transaction(writer, actor)
                yield tx
            except BaseException:
                await self._rollback(writer)
                raise
            await self._commit(writer)
            self._committed(tx)

    @abstractmethod
    async def fetchall(self, sql: str, params: Any = ()) -> list[Any]: ...

    @abstractmethod
    async def fetchone(self, sql: str, params: Any = ()) -> Any: ...

    async def scalar(self, sql: str, params: Any = ()) -> Any:
        row = await self.fetchone(sql, params)
        return None if row is None else row[0]

    async def get_meta(self, key: str) -> str | None:
        return await self.scalar("SELECT value FROM meta WHERE key = ?", (key,))


async def open_pair(
    connect_writer: Callable[[], Awaitable[Conn]] | None,
    prepare_writer: Callable[[Conn], Awaitable[Any]],
    connect_reader: Callable[[], Awaitable[Conn]],
    close: Callable[[Conn], Awaitable[Any]],
) -> tuple[Conn | None, Conn]:
    """The writer (none when read-only), made ready (migrated), then the reader; what was opened is closed again
    when a later step fails."""
    writer = None
    if connect_writer is not None:
        writer = await connect_writer()
        try:
            await prepare_writer(writer)
        except BaseException:
            await close(writer)
            raise
    try:
        reader = await connect_reader()
    except BaseException:
        if writer is not None:
            await close(writer)
        raise
    return writer, reader
