"""`station ledger migrate`: create or upgrade the regency ledger's schema (`[database] url`)."""

from __future__ import annotations

import argparse

from console.commands._verbs import Verbs
from console.config import Settings
from console.errors import UsageError
from console.i18n import t


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    verbs = Verbs(sub, common, "ledger", t("help.ledger"))
    verbs.add("migrate", t("help.ledger.migrate"), migrate_ledger)


async def migrate_ledger(args: argparse.Namespace, settings: Settings) -> int:
    if not settings.database.url:
        raise UsageError(t("ledger.for_a_ledger", file=settings.database.path))
    from console.backends import postgres  # psycopg loads only for a ledger

    url = settings.database.url
    conn = await postgres.connect(url, postgres.read_password(url, settings.database.password_file))
    try:
        steps = await postgres.migrate(conn, url)
        version = await postgres.schema_version(conn)
    finally:
        await conn.close()
    print(t("ledger.migrated", url=url, version=version, steps=steps))
    return 0
