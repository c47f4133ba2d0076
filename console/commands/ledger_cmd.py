"""`station ledger migrate`: create or upgrade the regency ledger's schema (`[database] url`);
`station ledger add-station ID --name NAME`: register a station with its own database role;
`station ledger stations [--json]`: the stations registered."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from console import stations
from console.commands._verbs import Verbs
from console.config import Settings
from console.errors import RefusedError, UsageError
from console.i18n import t
from console.operator import operator_name
from console.store import Store


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    verbs = Verbs(sub, common, "ledger", t("help.ledger"))
    verbs.add("migrate", t("help.ledger.migrate"), migrate_ledger)
    add = verbs.add("add-station", t("help.ledger.add_station"), add_station)
    add.add_argument("id", metavar="ID")
    add.add_argument("--name", required=True, metavar="NAME")
    add.add_argument("--password-file", type=Path, metavar="PATH", help=t("help.ledger.password_file"))
    listed = verbs.add("stations", t("help.ledger.stations"), list_stations)
    listed.add_argument("--json", action="store_true")


async def migrate_ledger(args: argparse.Namespace, settings: Settings) -> int:
    if not settings.database.url:
        raise UsageError(t("ledger.for_a_ledger", file=settings.database.path))
    from console.backends import pg_roles, postgres  # psycopg loads only for a ledger

    url = settings.database.url
    conn = await postgres.connect(url, postgres.read_password(url, settings.database.password_file))
    try:
        steps = await postgres.migrate(conn, url)
        version = await postgres.schema_version(conn)
    finally:
        await conn.close()
    async with await Store.open(settings.database) as store:  # a table a step added: the stations read it too
        async with store.transaction(operator_name()) as tx:
            await pg_roles.grant_stations_tables(tx)
    print(t("ledger.migrated", url=url, version=version, steps=steps))
    return 0


async def add_station(args: argparse.Namespace, settings: Settings) -> int:
    """The station's row and its role, in one transaction; the role's password goes to `--password-file` (made
    0600, never overwritten) or is printed once."""
    if not settings.database.url:
        raise UsageError(t("ledger.for_a_ledger", file=settings.database.path))
    from console.backends import pg_roles  # psycopg loads only for a ledger

    stations.check_id(args.id)
    if not args.name.strip():
        raise UsageError(t("stations.no_name"))
    if args.password_file is not None and args.password_file.exists():
        raise UsageError(t("ledger.password_file_exists", file=args.password_file))
    role, password = pg_roles.role_name(args.id), pg_roles.new_password()
    async with await Store.open(settings.database) as store:
        async with store.transaction(operator_name()) as tx:
            await stations.add(tx, args.id, args.name.strip(), role)
            if await pg_roles.role_exists(tx, role):
                raise RefusedError(t("ledger.role_exists", role=role))
            await pg_roles.create_station_role(tx, role, password)
            if args.password_file is not None:  # inside the transaction: no role without its password kept
                _write_private(args.password_file, password)
    url = _url_as(settings.database.url, role)
    print(t("ledger.station_added", id=args.id, role=role))
    if args.password_file is None:
        print(t("ledger.password_once", password=password))
    print(f'\n[station]\nid = "{args.id}"\n\n[database]\nurl = "{url}"')
    if args.password_file is not None:
        print(f'password_file = "{args.password_file.resolve()}"')
    return 0


def _write_private(path: Path, text: str) -> None:
    descriptor = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as f:
        f.write(text + "\n")


def _url_as(url: str, role: str) -> str:
    """The ledger's URL with the station's role as its user."""
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{role}@{host}"))


async def list_stations(args: argparse.Namespace, settings: Settings) -> int:
    async with await Store.open(settings.database, readonly=True) as store:
        found = await stations.all_stations(store)
    if args.json:
        print(json.dumps([s.as_dict() for s in found], ensure_ascii=False))
        return 0
    for s in found:
        print(f"{s.id:<16} {s.role or '-':<24} {s.created[:10]}  {s.name}")
    return 0
