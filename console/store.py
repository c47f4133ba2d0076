"""The one SQLite database, through aiosqlite.

One writer connection whose transactions are serialised by a lock (coroutines sharing a connection would
otherwise mix their statements into one transaction), and one reader connection for queries that must not wait
behind a long write. WAL, synchronous=FULL (a print record must survive a power cut), foreign keys on.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiosqlite

from console import audit
from console.clock import now_iso
from console.config import DatabaseSettings, StationSettings
from console.errors import DatabaseError
from console.i18n import t
from console.schema import APPLICATION_ID, MIGRATIONS
from console.store_frame import BaseStore, BaseTransaction, open_pair

BUSY_TIMEOUT_MS = 10_000
DEFAULT_STATION = StationSettings.id
SQLITE_HEADER = b"SQLite format 3\x00"
# The database files this process has open through SQLite, by (device, inode), with how many stores hold each.
# POSIX drops every lock a process holds on a file when it closes any descriptor of that file: reading the
# header again while a store is open would drop the SHARED lock that SQLite's WAL mode keeps, and the next
# process to close its own connection would take the file for the last one, checkpoint, and delete the -wal and
# -shm files under this process's connections (which then never see another commit).
_OPEN_FILES: dict[tuple[int, int], int] = {}


def _first_row(db: sqlite3.Connection, sql: str, params: Sequence[Any] | dict[str, Any]) -> sqlite3.Row | None:
    cursor = db.execute(sql, params)
    try:
        return cursor.fetchone()
    finally:
        cursor.close()


async def fetch_first(
    conn: aiosqlite.Connection, sql: str, params: Sequence[Any] | dict[str, Any]
) -> sqlite3.Row | None:
    """The first row of a query in one trip to the connection's thread.

    aiosqlite's cursor makes execute, fetchone and close three trips, each a hand-over between threads; a card
    costs dozens of single-row queries, and the trips were a third of the station's time a card at full speed.
    `_execute` is how aiosqlite itself runs a call on its thread (the version is pinned in pyproject.toml).
    """
    return await conn._execute(_first_row, conn._conn, sql, params)


class Transaction(BaseTransaction[aiosqlite.Connection]):
    """Statements of one write transaction; `audit()` appends to the hash chain inside it (the writer holds the
    lock: no one else appends meanwhile)."""

    dialect = "sqlite"

    async def execute(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> aiosqlite.Cursor:
        return await self._conn.execute(sql, params)

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        await self._conn.executemany(sql, rows)

    async def fetchall(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> list[sqlite3.Row]:
        return list(await self._conn.execute_fetchall(sql, params))

    async def fetchone(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> sqlite3.Row | None:
        return await fetch_first(self._conn, sql, params)

    async def insert(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> int:
        cur = await self._conn.execute(sql, params)
        assert cur.lastrowid is not None  # set by every INSERT
        return cur.lastrowid


class Store(BaseStore[aiosqlite.Connection]):
    dialect = "sqlite"  # the ledger's store says "postgresql": the few things only one engine has ask this
    path: Path

    def __init__(self, path: Path, writer: aiosqlite.Connection | None, reader: aiosqlite.Connection,
                 station_id: str = DEFAULT_STATION) -> None:  # fmt: skip
        super().__init__(path, writer, reader, station_id)
        self._file: tuple[int, int] | None = _file_identity(path)
        _OPEN_FILES[self._file] = _OPEN_FILES.get(self._file, 0) + 1

    @classmethod
    async def open(
        cls,
        path: Path | str | DatabaseSettings,
        *,
        create: bool = True,
        readonly: bool = False,
        station_id: str | None = None,
        accepting_restore: bool = False,
    ) -> Store:
        """Open the station's database, creating it (mode 0600) if it does not exist and `create` is set.

        Opened for writing, a database whose audit log does not reach its head file, or whose head file is missing
        while its log is not empty, is refused (exit 7); `accepting_restore` lets the missing head through, held
        (`head_on_hold`), for `station audit accept-restore` alone. A new database gets its head (entry 0) at once,
        so that no crash before its first head leaves a log without one.

        A file that is not this station's database is refused, never overwritten. A `postgresql://` URL opens
        the regency ledger instead (console/backends/postgres.py), behind the same API. The store writes as
        `station_id` (the configuration's `[station] id`; `DEFAULT_STATION` when opened by a bare path).
        """
        password_file = ledger_head = None
        if isinstance(path, DatabaseSettings):  # the configuration's [database]: a ledger's url, else the path
            password_file, ledger_head = path.password_file, path.ledger_head
            station_id = station_id or path.station_id
            path = path.location
        station_id = station_id or DEFAULT_STATION
        if is_ledger(path):
            from console.backends.postgres import LedgerStore  # psycopg loads only for a ledger

            return await LedgerStore.open(str(path), create=create, readonly=readonly,  # type: ignore[return-value]
                                          password_file=password_file, station_id=station_id,
                                          head_file=ledger_head, accepting_restore=accepting_restore)  # fmt: skip
        path = Path(path)
        try:
            if path.is_dir():
                raise DatabaseError(t("db.cannot_open", file=path, why=t("db.is_directory")))
            fresh = not path.exists() or path.stat().st_size == 0
            if fresh and (readonly or not create):
                raise DatabaseError(t("db.missing", file=path))
            if not fresh:
                if _file_identity(path) not in _OPEN_FILES:  # an open store checked it already
                    _check_header(path)
            elif create:
                path.parent.mkdir(parents=True, exist_ok=True)
                os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
        except OSError as exc:
            raise DatabaseError(t("db.cannot_open", file=path, why=exc.strerror or exc)) from None
        writer, reader = await open_pair(
            None if readonly else lambda: _connect(path),
            lambda conn: _migrate(conn, path, fresh),
            lambda: _connect(path, readonly=True),
            cls._close_conn,
        )
        store = cls(path, writer, reader, station_id)
        store.head_file = audit.head_path(path)
        if writer is not None:  # readers open anyway: `audit verify` and `doctor` say what is wrong
            await audit.check_head_at_open(store, accepting_restore)
        await store._take_its_place()
        return store

    async def close(self) -> None:
        # the reader first (the frame does): the last connection to close checkpoints the WAL, removes -wal, -shm
        if self._file is not None:
            _OPEN_FILES[self._file] -= 1
            if not _OPEN_FILES[self._file]:
                del _OPEN_FILES[self._file]
            self._file = None
        await super().close()

    async def _begin(self, conn: aiosqlite.Connection) -> None:
        await conn.execute("BEGIN IMMEDIATE")

    async def _commit(self, conn: aiosqlite.Connection) -> None:
        await conn.commit()

    async def _rollback(self, conn: aiosqlite.Connection) -> None:
        await conn.rollback()

    @staticmethod
    async def _close_conn(conn: aiosqlite.Connection) -> None:
        await conn.close()

    def _transaction(self, conn: aiosqlite.Connection, actor: str) -> Transaction:
        return Transaction(conn, actor, self.station_id)

    def _committed(self, tx: BaseTransaction[aiosqlite.Connection]) -> None:
        if tx._audit_head is not None and not self.head_on_hold:  # under the lock: the sidecar follows in order
            audit.write_head(audit.head_path(self.path), tx._audit_head)

    async def fetchall(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> list[sqlite3.Row]:
        return list(await self._reader.execute_fetchall(sql, params))

    async def fetchone(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> sqlite3.Row | None:
        return await fetch_first(self._reader, sql, params)

    async def data_version(self) -> int:
        """Changes when another connection commits: a cheap way to notice the database changed."""
        return await self.scalar("PRAGMA data_version")


async def _connect(path: Path, readonly: bool = False) -> aiosqlite.Connection:
    # In a URI, %XX, # and ? mean something: quoted, the reader opens the very file the writer opened
    target = f"file:{quote(str(path.absolute()))}?mode=ro" if readonly else str(path)  # noqa: ASYNC240  no I/O
    try:
        conn = await aiosqlite.connect(target, uri=readonly, isolation_level=None)
    except sqlite3.Error as exc:
        raise DatabaseError(t("db.cannot_open", file=path, why=exc)) from None
    conn.row_factory = sqlite3.Row
    try:
        await conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        await _check_identity(conn, path)  # before any pragma that writes: a foreign file stays untouched
        await conn.execute("PRAGMA foreign_keys = ON")
        if not readonly:
            await conn.execute("PRAGMA journal_mode = WAL")
        await conn.execute("PRAGMA synchronous = FULL")
    except sqlite3.DatabaseError as exc:
        await conn.close()
        raise DatabaseError(t("db.not_usable", file=path, why=exc)) from None
    except BaseException:
        await conn.close()
        raise
    return conn


_FAILURE_KEYS = {
    sqlite3.SQLITE_FULL: "db.full",
    sqlite3.SQLITE_CORRUPT: "db.damaged",
    sqlite3.SQLITE_NOTADB: "db.damaged",
    sqlite3.SQLITE_BUSY: "db.busy",
    sqlite3.SQLITE_LOCKED: "db.busy",
    sqlite3.SQLITE_IOERR: "db.io_error",
    sqlite3.SQLITE_READONLY: "db.io_error",
    sqlite3.SQLITE_CANTOPEN: "db.io_error",
    sqlite3.SQLITE_PERM: "db.io_error",
}
_SCHEMA_WORDS = ("no such table", "no such column", "no such index", "no such view", "no such trigger")


def is_ledger(location: Path | str) -> bool:
    """A `postgresql://` URL (the regency ledger) rather than an SQLite file's path."""
    return isinstance(location, str) and location.startswith(("postgresql://", "postgres://"))


def database_failure(exc: Exception, path: Path | str | None) -> DatabaseError | None:
    """The operator's sentence for an SQLite failure under the station (a full disk, a damaged page, a dropped
    table, a lock held elsewhere), or None for what is a bug of ours and stays an unexpected error. The
    ledger's failures (PostgreSQL) get the same sentences."""
    if not isinstance(exc, sqlite3.Error):
        if not type(exc).__module__.startswith("psycopg"):
            return None  # neither engine's: a bug of ours
        from console.backends.postgres import ledger_failure  # psycopg loads only for a ledger

        return ledger_failure(exc, str(path) if path else None)  # type: ignore[arg-type]
    code = getattr(exc, "sqlite_errorcode", None)
    key = _FAILURE_KEYS.get(code & 0xFF) if code is not None else None  # extended codes carry the primary low
    if key is None and any(words in str(exc) for words in _SCHEMA_WORDS):
        key = "db.schema_broken"
    if key is None:
        return None
    return DatabaseError(t(key, file=path or "?", why=exc))


def _file_identity(path: Path) -> tuple[int, int]:
    status = path.stat()
    return status.st_dev, status.st_ino


def _check_header(path: Path) -> None:
    with open(path, "rb") as f:
        head = f.read(len(SQLITE_HEADER))
    if head != SQLITE_HEADER:
        raise DatabaseError(t("db.not_sqlite", file=path))


async def _check_identity(conn: aiosqlite.Connection, path: Path) -> tuple[int, int]:
    try:
        [(app_id,)] = await conn.execute_fetchall("PRAGMA application_id")
        [(version,)] = await conn.execute_fetchall("PRAGMA user_version")
        [(tables,)] = await conn.execute_fetchall("SELECT count(*) FROM sqlite_master")
    except sqlite3.DatabaseError as exc:
        raise DatabaseError(t("db.damaged", file=path, why=exc)) from None
    if app_id != APPLICATION_ID and (app_id != 0 or tables):
        raise DatabaseError(t("db.foreign", file=path))
    if version > len(MIGRATIONS):
        raise DatabaseError(t("db.newer", file=path, version=version, known=len(MIGRATIONS)))
    return app_id, version


async def _migrate(conn: aiosqlite.Connection, path: Path, fresh: bool) -> None:
    _, version = await _check_identity(conn, path)
    if version == len(MIGRATIONS):
        return
    for number in range(version, len(MIGRATIONS)):
        await conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in _statements(MIGRATIONS[number]):
                try:
                    await conn.execute(statement)
                except sqlite3.IntegrityError as exc:  # the data break a rule this step adds: say so, change nothing
                    raise DatabaseError(t("db.migration_refused", file=path, step=number + 1, why=exc)) from None
            await conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            await conn.execute(f"PRAGMA user_version = {number + 1}")
            if number == 0:
                await conn.execute("INSERT INTO meta (key, value) VALUES ('created_at', ?)", (now_iso(),))
        except BaseException:
            await conn.rollback()
            raise
        await conn.commit()


def _statements(script: str) -> list[str]:
    """Split a migration into statements, so that it runs inside one transaction (executescript would commit)."""
    statements, current = [], ""
    for line in script.splitlines(keepends=True):
        current += line
        if sqlite3.complete_statement(current):
            if current.strip():
                statements.append(current.strip())
            current = ""
    if current.strip():
        raise ValueError(f"incomplete statement in migration: {current.strip()[:60]}")
    return statements
