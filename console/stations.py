"""The stations of a regency: the rows each one writes name it (`station_id`), and each spends only the blanks
issued to it. A station's SQLite file is a regency of one; on the regency ledger the stations are registered
(`station ledger add-station`, console/backends/pg_roles.py), and one opened by its owner's role registers itself.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from console.clock import now_iso
from console.config import Settings
from console.errors import RefusedError, UsageError
from console.i18n import t

BEFORE_STATIONS = "-"  # the station of the rows written before rows named theirs (schema.py)
STATION_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,31}\Z")  # \Z: `$` lets a final newline in
# the tables whose rows a station on its own SQLite file takes over from BEFORE_STATIONS
_OWNED = (("jobs", "station_id"), ("spoiled", "station_id"), ("requests", "station_id"),
          ("live_state", "station_id"), ("station_state", "station_id"), ("station_stock", "station_id"))  # fmt: skip


@dataclass(frozen=True)
class Station:
    id: str
    name: str
    created: str
    role: str | None

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "created": self.created, "role": self.role}


def reporting_id(settings: Settings) -> str:
    """The id the centre knows the reports and grants by: the station's own on its SQLite file, the regency's
    on a ledger (its reports are the regency's, over all its stations: files.md)."""
    return settings.station.regency if settings.database.url else settings.station.id


def own_rows(store: Any) -> str | None:
    """The station a view of one station filters rows by: the store's on a ledger (the regency's rows are all
    there); None on a station's own SQLite file, whose rows are all its own (audit entries may name an id it had
    before)."""
    return None if store.dialect == "sqlite" else store.station_id


def check_id(station_id: str) -> None:
    if not STATION_ID.match(station_id):
        raise UsageError(t("stations.bad_id", id=station_id))


async def take_its_place(store: Any) -> None:
    """Make sure the store's station has its row. On SQLite (one station) it also takes over what the file holds
    of the station before stations, or of the station the file was configured for before: it is the only one."""
    me = store.station_id
    rows = await store.fetchall("SELECT id FROM stations")
    known = {row["id"] for row in rows}
    if store.dialect == "sqlite":
        others = known - {me}
        if not others and me in known:
            return
        async with store.transaction("station") as tx:
            if me not in known:
                await _insert(tx, me, me)
            for other in sorted(others):
                moved = 0
                for table, column in _OWNED:
                    moved += (
                        await tx.execute(f"UPDATE {table} SET {column} = ? WHERE {column} = ?", (me, other))
                    ).rowcount
                moved += (await tx.execute("UPDATE jobs SET queued_for = ? WHERE queued_for = ?", (me, other))).rowcount
                await tx.execute("DELETE FROM stations WHERE id = ?", (other,))
                if moved:  # the file's rows are now `me`'s (a new file's placeholder station had none)
                    await tx.audit("station.took_over", me, **{"from": other})
        return
    if me not in known:
        async with store.transaction("station") as tx:
            await _insert(tx, me, me)


async def _insert(tx: Any, station_id: str, name: str, role: str | None = None) -> None:
    await tx.execute(
        "INSERT INTO stations (id, name, created, role) VALUES (?, ?, ?, ?) ON CONFLICT (id) DO NOTHING",
        (station_id, name, now_iso(), role),
    )


async def add(tx: Any, station_id: str, name: str, role: str | None) -> None:
    """Register a station (audited); refused if it exists."""
    check_id(station_id)
    if await tx.fetchone("SELECT 1 FROM stations WHERE id = ?", (station_id,)):
        raise RefusedError(t("stations.exists", id=station_id))
    await _insert(tx, station_id, name, role)
    await tx.audit("station.added", station_id, name=name, role=role)


async def get(db: Any, station_id: str) -> Station | None:
    row = await db.fetchone("SELECT id, name, created, role FROM stations WHERE id = ?", (station_id,))
    return None if row is None else Station(row["id"], row["name"], row["created"], row["role"])


async def require(db: Any, station_id: str) -> Station:
    """The station, or a usage error naming the stations there are."""
    station = await get(db, station_id)
    if station is None:
        known = ", ".join(s.id for s in await all_stations(db)) or "-"
        raise UsageError(t("stations.unknown", id=station_id, known=known), hint="stations.unknown")
    return station


async def all_stations(db: Any) -> list[Station]:
    rows = await db.fetchall("SELECT id, name, created, role FROM stations WHERE id <> ? ORDER BY id",
                             (BEFORE_STATIONS,))  # fmt: skip
    return [Station(row["id"], row["name"], row["created"], row["role"]) for row in rows]
