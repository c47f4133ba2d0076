"""A station's own role on the regency ledger, with the least privilege it needs to print.

Grants say which tables a station may read and write, and how: it never updates nor deletes an audit entry, it
never touches the allocations the regency received (only the blanks issued to it, `station_stock`). Row-level
security, keyed on the station of the role logged in (`ktpel_station()`), keeps each station to its own rows:
its jobs (or free ones), its printer record and live state, its requests, spoiled blanks and stock, and audit
entries written in its name. The regency's administrator, who owns the tables, is not bound by these policies.
"""

from __future__ import annotations

import re
import secrets
from typing import Any

ROLE_PREFIX = "station_"

# table: what a station may do with it (anything not named here: SELECT only)
_WRITES = {
    "residents": "INSERT, UPDATE",
    "jobs": "INSERT, UPDATE",
    "nik_locks": "INSERT, UPDATE",
    "unlocks": "INSERT, UPDATE",
    "grants": "INSERT",
    "reports": "INSERT",
    "report_cards": "INSERT",
    "spoiled": "INSERT",
    "stock_counts": "INSERT",
    "requests": "INSERT, UPDATE",
    "live_state": "INSERT, UPDATE",
    "station_state": "INSERT, UPDATE, DELETE",
    "station_stock": "UPDATE",
    "audit": "INSERT",
    "operators": "INSERT, UPDATE",
}
# planning's tables (population, rounds, requests for blanks, loans of blanks) are the regency's to write; a station
# reads them
_READS = ("allocations", "meta", "stations", "schema_version", "population", "rounds", "blank_requests", "blank_loans")
_OWN_ROWS = ("live_state", "station_state", "requests", "spoiled", "station_stock")
_MINE = "ktpel_station()"

_POLICIES = {
    **{table: [f"FOR ALL USING (station_id = {_MINE}) WITH CHECK (station_id = {_MINE})"] for table in _OWN_ROWS},
    # a job is the station's once it claimed it; a free one any station may claim, unless queued for another
    "jobs": [
        f"FOR ALL USING (station_id IS NULL OR station_id = {_MINE}) WITH CHECK ((station_id IS NULL OR station_id = "
        f"{_MINE}) AND (station_id IS NULL OR queued_for IS NULL OR queued_for = {_MINE}))"
    ],
    "audit": [f"FOR INSERT WITH CHECK (station_id = {_MINE})"],
}

# The table named with its schema and the search path fixed: a role's own temporary `stations` (pg_temp comes
# first in a search path) must not decide which station it is.
_FUNCTION = """
CREATE OR REPLACE FUNCTION public.ktpel_station() RETURNS text LANGUAGE sql STABLE
SET search_path = pg_catalog, public
AS 'SELECT id FROM public.stations WHERE role = current_user'
"""


def role_name(station_id: str) -> str:
    """`station_` and the station's id in lower case, any other character than a letter or digit as `_`."""
    return ROLE_PREFIX + re.sub(r"[^a-z0-9]", "_", station_id.lower())


def new_password() -> str:
    return secrets.token_urlsafe(24)  # letters, digits, '-' and '_' only: safe inside a quoted literal


async def role_exists(tx: Any, role: str) -> bool:
    return await tx.fetchone("SELECT 1 FROM pg_roles WHERE rolname = ?", (role,)) is not None


async def create_station_role(tx: Any, role: str, password: str) -> None:
    """The role, its grants, and (once per ledger) the row-level security every station role is held to."""
    assert re.fullmatch(r"[a-z0-9_]+", role) and re.fullmatch(r"[A-Za-z0-9_-]+", password)
    await tx.execute(f"CREATE ROLE {role} LOGIN PASSWORD '{password}'")
    database = (await tx.fetchone("SELECT current_database() AS name"))["name"]
    await tx.execute(f'GRANT CONNECT ON DATABASE "{database}" TO {role}')
    await tx.execute(f"GRANT USAGE ON SCHEMA public TO {role}")
    await grant_tables(tx, role)
    await ensure_policies(tx)


async def grant_tables(tx: Any, role: str) -> None:
    """The role's rights on every table (granting again what it holds changes nothing)."""
    assert re.fullmatch(r"[a-z0-9_]+", role)
    for table in (*_WRITES, *_READS):
        await tx.execute(f"GRANT SELECT ON {table} TO {role}")
    for table, rights in _WRITES.items():
        await tx.execute(f"GRANT {rights} ON {table} TO {role}")
    await tx.execute(f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {role}")


async def grant_stations_tables(tx: Any) -> None:
    """Every registered station's role its rights again, after a migration added tables it must read."""
    for row in await tx.fetchall("SELECT role FROM stations WHERE role IS NOT NULL ORDER BY role"):
        if await role_exists(tx, row["role"]):
            await grant_tables(tx, row["role"])


async def ensure_policies(tx: Any) -> None:
    await tx.execute(_FUNCTION)
    for table, policies in _POLICIES.items():
        await tx.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        names = {
            row["policyname"]
            for row in await tx.fetchall("SELECT policyname FROM pg_policies WHERE tablename = ?", (table,))
        }
        if "ktpel_read" not in names:
            await tx.execute(f"CREATE POLICY ktpel_read ON {table} FOR SELECT USING (true)")
        for number, policy in enumerate(policies):
            if f"ktpel_own_{number}" not in names:
                await tx.execute(f"CREATE POLICY ktpel_own_{number} ON {table} {policy}")
