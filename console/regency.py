"""The regency as its supervisor sees it on the ledger: every registered station's live state, queue, today's
cards and blanks, and the regency's own books, read in two queries whatever the number of stations.

Read only, and on the ledger alone (PostgreSQL). A station publishes its state (`live_state`) when it changes, not
on a timer, and cannot publish while it cannot reach the ledger. What shows it is gone: its printing process holds
a session lock on the ledger while it lives (`CLAIMS_LOCK`, keyed by the station: console/jobs.py), lost with its
connection; and a station that says it is printing yet has written nothing (no state, no card) for
`SILENT_AFTER_S` has lost its link before the ledger noticed. Either way it is shown as silent since it was last
heard: what is shown is as of then."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from console import stations
from console.engine import PRINTING
from console.schema import CLAIMS_LOCK

SILENT_AFTER_S = 120.0  # a printing station writes at every card; a card takes seconds, not minutes

# The station's printing process holds its session lock now (two-key advisory locks show as classid, objid, 2).
_PRINTING_HERE = (f"EXISTS (SELECT 1 FROM pg_locks l WHERE l.locktype = 'advisory' AND l.classid = {CLAIMS_LOCK}::oid "
                  "AND l.objid = hashtext(s.id)::oid AND l.objsubid = 2 AND l.granted)")  # fmt: skip

_STATIONS_SQL = f"""
WITH open_jobs AS (
  SELECT coalesce(station_id, queued_for) AS station_id, count(*) AS queued
  FROM jobs WHERE state IN ('queued', 'printing') GROUP BY coalesce(station_id, queued_for)),
today AS (
  SELECT station_id, count(*) FILTER (WHERE state = 'done_good') AS good,
    count(*) FILTER (WHERE state = 'done_bad') AS bad, max(printed_at) AS last_card
  FROM jobs WHERE printed_at >= ? GROUP BY station_id),
stock AS (SELECT station_id, sum(issued) AS issued, sum(in_stock) AS in_stock FROM station_stock GROUP BY station_id),
asked AS (SELECT station_id, count(*) AS pending FROM requests WHERE done_at IS NULL GROUP BY station_id)
SELECT s.id, s.name, e.value AS engine, e.at AS engine_at, p.value AS paused, {_PRINTING_HERE} AS printing_here,
  coalesce(o.queued, 0) AS queued,
  coalesce(d.good, 0) AS good, coalesce(d.bad, 0) AS bad, d.last_card,
  coalesce(k.issued, 0) AS issued, coalesce(k.in_stock, 0) AS in_stock, coalesce(r.pending, 0) AS pending
FROM stations s
LEFT JOIN live_state e ON e.station_id = s.id AND e.key = 'engine'
LEFT JOIN station_state p ON p.station_id = s.id AND p.key = 'queue.paused'
LEFT JOIN open_jobs o ON o.station_id = s.id
LEFT JOIN today d ON d.station_id = s.id
LEFT JOIN stock k ON k.station_id = s.id
LEFT JOIN asked r ON r.station_id = s.id
WHERE s.id <> ? ORDER BY s.id
"""

_REGENCY_SQL = """
SELECT (SELECT coalesce(sum(received), 0) FROM allocations) AS received,
  (SELECT coalesce(sum(in_stock), 0) FROM allocations) AS regency_stock,
  (SELECT count(*) FROM jobs WHERE state = 'queued' AND station_id IS NULL AND queued_for IS NULL) AS queued_any
"""


@dataclass(frozen=True)
class StationLine:
    """One station as the regency's table shows it."""

    id: str
    name: str
    state: str | None  # what its process last published (None: no process has printed there yet)
    since: str | None  # when it published that
    fault: str | None  # the fault's code, when stopped on one
    paused_by: str | None  # who paused its queue, while the pause stands
    pending: int  # pause/resume requests it has not carried out yet
    queued: int  # jobs queued for it alone or claimed by it (the card printing included)
    good_today: int
    bad_today: int
    issued: int  # blanks issued to it, all allocations
    in_stock: int  # of those, not spent
    last_card: str | None  # when it last printed a card today
    printing_here: bool  # its printing process is connected to the ledger now

    @property
    def last_heard(self) -> str | None:
        """The newest thing it wrote that shows: its state, or a card printed today."""
        return max(filter(None, (self.since, self.last_card)), default=None)

    def silent_since(self, now: datetime) -> str | None:
        """When it was last heard, if its process is gone or it says it is printing but has been silent too long;
        else None."""
        return silent_since(self.state, self.last_heard, self.printing_here, now)


@dataclass(frozen=True)
class Regency:
    stations: tuple[StationLine, ...]
    queued_any: int  # jobs queued for any station, not claimed yet
    received: int  # blanks the regency received, all allocations
    regency_stock: int  # of those, not issued to a station

    @property
    def issued(self) -> int:
        return self.received - self.regency_stock


def silent_since(state: str | None, last_heard: str | None, printing_here: bool, now: datetime) -> str | None:
    """`last_heard`, when a station that published `state` has no printing process on the ledger any more, or
    says it prints and has written nothing for too long (see the module's doc); None while it answers, or when no
    process ever printed there."""
    if state is None or last_heard is None:
        return None
    if not printing_here:
        return last_heard
    quiet = (now - datetime.fromisoformat(last_heard)).total_seconds()
    return last_heard if state == PRINTING and quiet > SILENT_AFTER_S else None


async def printing_here(db: Any, station_id: str) -> bool:
    """Whether the station's printing process is connected to the ledger now (it holds its session lock)."""
    return bool(await db.scalar(f"SELECT {_PRINTING_HERE.replace('s.id', 'CAST(? AS TEXT)')}", (station_id,)))


async def version(db: Any) -> tuple[int, str | None, str | None]:
    """What changes when a station writes something the table shows, or its printing process comes or goes: the
    audit log's newest entry, the newest live state (a state is published without an audit entry), and the
    stations whose printing process holds its session lock. One cheap query."""
    row = await db.fetchone(
        "SELECT (SELECT coalesce(max(seq), 0) FROM audit) AS seq, (SELECT max(at) FROM live_state) AS at, "
        "(SELECT string_agg(objid::text, ',' ORDER BY objid) FROM pg_locks WHERE locktype = 'advisory' "
        f"AND classid = {CLAIMS_LOCK}::oid AND objsubid = 2 AND granted) AS printing"
    )
    return int(row["seq"]), row["at"], row["printing"]


async def read(db: Any, today_start: str) -> Regency:
    """Every registered station and the regency's books, as of now (`today_start`: midnight, as times are written)."""
    rows = await db.fetchall(_STATIONS_SQL, (today_start, stations.BEFORE_STATIONS))
    totals = await db.fetchone(_REGENCY_SQL)
    return Regency(tuple(_line(row) for row in rows), int(totals["queued_any"]), int(totals["received"]),
                   int(totals["regency_stock"]))  # fmt: skip


def _line(row: Any) -> StationLine:
    engine = json.loads(row["engine"]) if row["engine"] else {}
    paused = json.loads(row["paused"]) if row["paused"] else None
    return StationLine(
        id=row["id"],
        name=row["name"],
        state=engine.get("state"),
        since=row["engine_at"],
        fault=engine.get("fault"),
        paused_by=None if paused is None else str(paused.get("by", "?")),
        pending=int(row["pending"]),
        queued=int(row["queued"]),
        good_today=int(row["good"]),
        bad_today=int(row["bad"]),
        issued=int(row["issued"]),
        in_stock=int(row["in_stock"]),
        last_card=row["last_card"],
        printing_here=bool(row["printing_here"]),
    )
