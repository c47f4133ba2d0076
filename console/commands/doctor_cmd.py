"""`station doctor`: the configuration, the database, the audit chain, the printer link and the keys, a line each;
on a regency ledger also whether it answers and the role the station connects as."""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable

from console import audit_state
from console.config import Settings
from console.doctor_checks import (
    DoctorWarning,
    check_keys,
    check_ledger,
    check_ledger_schema,
    check_printer,
    check_role,
    missing_schema_objects,
)
from console.errors import EXIT_USAGE, StationError
from console.hints import CLI, advised
from console.i18n import t
from console.store import Store, database_failure

Check = Callable[[Settings], Awaitable[str]]


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("doctor", parents=[common], help=t("help.doctor"))
    p.set_defaults(handler=doctor)


async def check_config(settings: Settings) -> str:
    return t("doctor.config_ok", file=settings.source, station=settings.station.id)


async def check_database(settings: Settings) -> str:
    if settings.database.url:
        async with await Store.open(settings.database, readonly=True) as ledger:
            return await check_ledger_schema(ledger)
    path = settings.database.path
    async with await Store.open(path, create=False, station_id=settings.station.id) as store:
        problems = [row[0] for row in await store.fetchall("PRAGMA integrity_check(10)")]
        if problems != ["ok"]:  # every page read: a damaged one anywhere is found, not only where a query goes
            raise StationError(t("doctor.db_damaged", file=path, why="; ".join(problems)))
        missing = await missing_schema_objects(store)
        if missing:
            raise StationError(t("doctor.db_incomplete", file=path, missing=", ".join(missing)))
        residents = await store.scalar("SELECT count(*) FROM residents")
        return t("doctor.db_ok", file=path, residents=residents)


async def check_audit(settings: Settings) -> str:
    async with await Store.open(settings.database, readonly=True) as store:
        count = await audit_state.verify_all(store)
    return t("audit.sound", count=count)


CHECKS: list[tuple[str, Check]] = [
    ("config", check_config),
    ("database", check_database),
    ("audit", check_audit),
    ("printer", check_printer),
    ("keys", check_keys),
]
LEDGER_CHECKS: list[tuple[str, Check]] = [
    ("config", check_config),
    ("ledger", check_ledger),
    ("database", check_database),
    ("audit", check_audit),
    ("role", check_role),
    ("printer", check_printer),
    ("keys", check_keys),
]


async def doctor(args: argparse.Namespace, settings: Settings) -> int:
    failed = 0
    for name, check in LEDGER_CHECKS if settings.database.url else CHECKS:
        try:
            line = await check(settings)
            print(f"{name:<9} {t('doctor.ok'):<7} {line}")
        except DoctorWarning as exc:
            print(f"{name:<9} {t('doctor.warn'):<7} {exc}")
        except StationError as exc:
            failed += 1
            print(f"{name:<9} {t('doctor.fail'):<7} {advised(exc, CLI)}")
        except Exception as exc:
            failure = database_failure(exc, settings.database.location)
            if failure is None:
                raise
            failed += 1
            print(f"{name:<9} {t('doctor.fail'):<7} {failure}")
    return EXIT_USAGE if failed else 0
