"""A station's own role on the regency ledger, with the least privilege it needs to print.

Grants say which tables a station may read and write, and how: it never updates nor deletes an audit entry, it
never touches the allocations the regency received (only the blanks issued to it, `station_stock.in_stock`), it
never writes the centre's grants nor unlocks (the ledger's owner applies a grant; a station only marks an unlock
used by its reprint), nor the regency's own records: residents, reports, operators (but a sign-in's wrong PINs). Row-level security, keyed on the station of the role logged in (`ktpel_station()`), keeps each
station to its own rows: its jobs (or free ones), its printer record and live state, its requests, spoiled blanks
and stock, and audit entries written in its name. Guards (`pg_guards.py`) hold a station's writes to the lock,
the jobs, the unlocks and the audit log to the steps printing takes. The regency's administrator, who owns the
tables, is bound by none of these.
"""

from __future__ import annotations

import re
import secrets
from typing import Any

from console.backends import pg_guards

ROLE_PREFIX = "station_"

# table: what a station may do with it (anything not named here: SELECT only)
_WRITES = {
    "jobs": "INSERT, UPDATE",
    "nik_locks": "INSERT, UPDATE, DELETE",  # each step held by its guard: lock, relock, give back a blank unused
    "unlocks": "UPDATE (used_by_job)",  # its reprint uses the unlock (or gives it back): never a new one
    "spoiled": "INSERT",
    "stock_counts": "INSERT",
    "requests": "INSERT, UPDATE",
    "live_state": "INSERT, UPDATE",
    "station_state": "INSERT, UPDATE, DELETE",
    "station_stock": "UPDATE (in_stock)",  # a blank taken or given back: never more than issued (pg_guards.py)
    "audit": "INSERT",
    "operators": "UPDATE (failed_attempts, locked_until)",  # a sign-in's wrong PINs and their wait
    "receipts": "INSERT",  # a resident's collection receipt is numbered as they are queued
}
# planning's tables (population, rounds, requests for blanks, loans of blanks) are the regency's to write; a
# station reads them and the centre's grants are the ledger owner's to apply (console/unlock.py); a card's custody
# is read when its tag is corrected (a card handed over keeps its tag). The regency's office (the ledger's owner)
# also imports the residents, makes the regency's report and registers operators and their PINs
# (docs/multi-station.md).
_READS = (
    "allocations", "meta", "stations", "schema_version", "population", "rounds", "blank_requests", "blank_loans",
    "grants", "card_custody", "batch_releases", "handovers", "destructions", "destroyed", "residents", "reports",
    "report_cards",
)  # fmt: skip
_OWN_ROWS = ("live_state", "station_state", "requests", "spoiled", "station_stock")
_MINE = "ktpel_station()"

_POLICIES = {
    **{table: [f"FOR ALL USING (station_id = {_MINE}) WITH CHECK (station_id = {_MINE})"] for table in _OWN_ROWS},
    # a job is the station's once it claimed it; a free one any station may claim, unless queued for another
    # (or a queued one another station claimed for any station: taken over once that station is gone, console/jobs.py;
    # a claim spends nothing, and the guards of pg_guards.py hold every other step)
    "jobs": [
        f"FOR ALL USING (station_id IS NULL OR station_id = {_MINE} OR (state = 'queued' AND queued_for IS NULL)) "
        f"WITH CHECK ((station_id IS NULL OR station_id = {_MINE}) "
        f"AND (station_id IS NULL OR queued_for IS NULL OR queued_for = {_MINE}))"
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
    """The role, its grants, and (once per ledger) the row-level security and guards every station role is held
    to."""
    assert re.fullmatch(r"[A-Za-z0-9_-]+", password)
    await tx.execute(f"CREATE ROLE {_checked(role)} LOGIN PASSWORD '{password}'")
    await grant_rights(tx, role)
    await ensure_policies(tx)


async def grant_rights(tx: Any, role: str) -> None:
    """Today's rights of a station's role, whatever it held before (a role made by an older program loses what
    it may no longer do)."""
    role = _checked(role)
    database = (await tx.fetchone("SELECT current_database() AS name"))["name"]
    await tx.execute(f'GRANT CONNECT ON DATABASE "{database}" TO {role}')
    await tx.execute(f"GRANT USAGE ON SCHEMA public TO {role}")
    await tx.execute(f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {role}")
    for table in (*_WRITES, *_READS):
        await tx.execute(f"GRANT SELECT ON {table} TO {role}")
    for table, rights in _WRITES.items():
        await tx.execute(f"GRANT {rights} ON {table} TO {role}")
    await tx.execute(f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {role}")


async def refresh_station_roles(tx: Any) -> list[str]:
    """Give every registered station's role today's rights, row security and guards (`station ledger migrate`,
    run by the ledger's owner after a new program): the roles brought up to date."""
    rows = await tx.fetchall(
        "SELECT s.role FROM stations s JOIN pg_roles r ON r.rolname = s.role WHERE s.role IS NOT NULL ORDER BY s.role"
    )
    for row in rows:
        await grant_rights(tx, row["role"])
    if rows:
        await ensure_policies(tx)
    return [row["role"] for row in rows]


def _checked(role: str) -> str:
    assert re.fullmatch(r"[a-z0-9_]+", role), role  # made by role_name(): safe to name in a statement
    return role


async def ensure_policies(tx: Any) -> None:
    # a function or operator of a station's own in `public` could stand in for one the guards call (before
    # PostgreSQL 15 anyone may create there)
    await tx.execute("REVOKE CREATE ON SCHEMA public FROM PUBLIC")
    await tx.execute(_FUNCTION)
    await pg_guards.ensure_guards(tx)
    for table, policies in _POLICIES.items():
        await tx.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        names = {
            row["policyname"]
            for row in await tx.fetchall("SELECT policyname FROM pg_policies WHERE tablename = ?", (table,))
        }
        if "ktpel_read" not in names:
            await tx.execute(f"CREATE POLICY ktpel_read ON {table} FOR SELECT USING (true)")
        for number, policy in enumerate(policies):  # replaced: an older program's may differ
            await tx.execute(f"DROP POLICY IF EXISTS ktpel_own_{number} ON {table}")
            await tx.execute(f"CREATE POLICY ktpel_own_{number} ON {table} {policy}")
