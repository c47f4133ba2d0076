"""Checks of `station doctor`: the printer, the centre's keys, the database's schema against the migrations, and on
a regency ledger its answer, its schema step and the rights of the role the station connects as."""

from __future__ import annotations

import sqlite3
import time

from console.backends.pg_guards import GUARDED_TABLES
from console.backends.pg_schema import TRIGRAM_INDEX
from console.config import Settings
from console.errors import StationError
from console.hints import CLI, advised
from console.i18n import t
from console.owner import PrinterHeldError, PrinterOwnership
from console.schema import MIGRATIONS
from console.store import Store
from drivers.faults import PrinterFault


async def check_printer(settings: Settings) -> str:
    """Open the printer and ask who it is; if another process holds it, say which (never disturb it)."""
    from console.printing import builtin_emulator  # the printer stack loads only when a check needs it
    from drivers.printer import Printer

    owner = PrinterOwnership(settings.database.path, settings.printer.port)
    try:
        owner.acquire()
    except PrinterHeldError as exc:
        return advised(exc, CLI)
    try:
        emulator = None
        port = settings.printer.port
        if port == "emulator":
            emulator = builtin_emulator(settings)
            await emulator.__aenter__()
            port = emulator.port
        try:
            async with await Printer.open(port, baudrate=settings.printer.baudrate, reply_timeout=5) as printer:
                info = await printer.identify()
                status = await printer.status()
        finally:
            if emulator is not None:
                await emulator.__aexit__(None, None, None)
    except PrinterFault as fault:
        raise StationError(t("doctor.printer_fault", port=settings.printer.port, fault=fault)) from None
    finally:
        owner.release()
    return t(
        "doctor.printer_ok",
        port=settings.printer.port,
        model=info.model,
        serial=info.serial,
        firmware=info.firmware,
        counter=status.cards_counter,
        feeder=t("doctor.feeder_empty" if status.feeder_empty else "doctor.feeder_loaded"),
    )


async def check_keys(settings: Settings) -> str:
    keys = settings.central.public_keys
    if not keys:
        raise StationError(t("doctor.no_keys"))
    from console.unlock import load_central_keys

    loaded = load_central_keys(keys)
    return t("doctor.keys_ok", count=len(loaded), ids=", ".join(sorted(loaded)))


class DoctorWarning(StationError):
    """Works, but not as it should be run: said, and `doctor` still succeeds."""


_PG_OBJECTS = (
    "SELECT CASE c.relkind WHEN 'r' THEN 'table' WHEN 'i' THEN 'index' ELSE 'view' END, c.relname "
    "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
    "WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'i', 'v') "
    "UNION ALL SELECT 'trigger', tgname FROM pg_trigger WHERE NOT tgisinternal"
)


async def missing_schema_objects(store: Store) -> list[str]:
    """Tables, indexes, views and triggers the migrations make that the database lacks (one dropped by hand). A
    ledger has the same names (its own spelling of the steps keeps them)."""
    sql = "SELECT type, name FROM sqlite_master" if store.dialect == "sqlite" else _PG_OBJECTS
    present = {(row[0], row[1]) for row in await store.fetchall(sql)}
    return [f"{kind} {name}" for kind, name in _expected_schema() if (kind, name) not in present]


async def check_ledger(settings: Settings) -> str:
    """The ledger answers: how fast, and which server."""
    started = time.monotonic()
    async with await Store.open(settings.database, readonly=True) as store:
        version = await store.scalar("SHOW server_version")
    return t("doctor.ledger_ok", url=settings.database.url, ms=round((time.monotonic() - started) * 1000),
             version=version.split()[0])  # fmt: skip


async def check_ledger_schema(store: Store) -> str:
    """The ledger's schema step against the program's (a ledger is migrated by `station ledger migrate`, never by
    doctor), and every object of the schema there."""
    url = store.path
    known = len(MIGRATIONS)
    step = 0
    if await store.scalar("SELECT to_regclass('schema_version') IS NOT NULL"):
        step = await store.scalar("SELECT coalesce(max(version), 0) FROM schema_version")
    if step < known:
        raise StationError(t("doctor.ledger_behind", url=url, step=step, known=known))
    if step > known:
        raise StationError(t("db.newer", file=url, version=step, known=known))
    missing = await missing_schema_objects(store)
    if missing:
        raise StationError(t("doctor.db_incomplete", file=url, missing=", ".join(missing)))
    residents = await store.scalar("SELECT count(*) FROM residents")
    if not await store.scalar("SELECT to_regclass(?) IS NOT NULL", (TRIGRAM_INDEX,)):  # pg_trgm was refused
        raise DoctorWarning(t("doctor.ledger_no_trigram", url=url, step=step, residents=residents))
    return t("doctor.ledger_schema_ok", url=url, step=step, residents=residents)


_ROLE = (
    "SELECT current_user AS role, r.rolsuper AS superuser, has_table_privilege('audit', 'UPDATE') AS can_update, "
    "has_table_privilege('audit', 'DELETE') AS can_delete, has_table_privilege('audit', 'TRUNCATE') AS can_truncate, "
    "EXISTS (SELECT 1 FROM stations s WHERE s.role = current_user) AS station, "
    "has_table_privilege('grants', 'INSERT') OR has_table_privilege('unlocks', 'INSERT') "
    "OR has_table_privilege('residents', 'INSERT') OR has_table_privilege('reports', 'INSERT') "
    "OR has_column_privilege('operators', 'role', 'UPDATE') "
    "OR has_column_privilege('station_stock', 'issued', 'UPDATE') AS older_rights, "
    "(SELECT count(DISTINCT tgrelid) FROM pg_trigger WHERE tgname = 'ktpel_guard') AS guarded "
    "FROM pg_roles r WHERE r.rolname = current_user"
)


async def check_role(settings: Settings) -> str:
    """The role the station connects as: one that may rewrite the audit log (a superuser, the tables' owner) is
    said, as the chain then proves less; least-privilege roles for stations are the administrator's."""
    async with await Store.open(settings.database, readonly=True) as store:
        row = await store.fetchone(_ROLE)
    if row["superuser"]:
        raise DoctorWarning(t("doctor.role_superuser", role=row["role"]))
    rights = [word for word, held in (("UPDATE", row["can_update"]), ("DELETE", row["can_delete"]),
                                      ("TRUNCATE", row["can_truncate"])) if held]  # fmt: skip
    if rights:
        raise DoctorWarning(t("doctor.role_rewrites", role=row["role"], rights=", ".join(rights)))
    if row["station"] and (row["older_rights"] or row["guarded"] < len(GUARDED_TABLES)):
        raise DoctorWarning(t("doctor.role_outdated", role=row["role"]))  # an older program's rights
    return t("doctor.role_ok", role=row["role"])


def _expected_schema() -> list[tuple[str, str]]:
    scratch = sqlite3.connect(":memory:")
    try:
        for script in MIGRATIONS:
            scratch.executescript(script)
        rows = scratch.execute("SELECT type, name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY 1, 2")
        return [(kind, name) for kind, name in rows]
    finally:
        scratch.close()
