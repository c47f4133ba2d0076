"""What the core's functions need of a database, as protocols: the SQLite store, the ledger's store and their
transactions all fit, so that modules such as `audit` take a database without importing the stores that use
them (no import circle, not even one of types)."""

from __future__ import annotations

from typing import Any, Protocol


class Reader(Protocol):
    async def fetchone(self, sql: str, params: Any = ()) -> Any: ...

    async def fetchall(self, sql: str, params: Any = ()) -> Any: ...


class Writer(Reader, Protocol):
    """A write transaction."""

    @property
    def dialect(self) -> str: ...

    async def execute(self, sql: str, params: Any = ()) -> Any: ...


class Database(Reader, Protocol):
    """An open store: which engine it is and where it lives (a file, or the ledger's URL)."""

    @property
    def dialect(self) -> str: ...

    @property
    def path(self) -> Any: ...

    @property
    def station_id(self) -> str: ...

    @property
    def head_file(self) -> Any: ...  # the audit head's witness (a Path), or None where none is kept

    async def scalar(self, sql: str, params: Any = ()) -> Any: ...
