"""What a supervisor's console reads of the station, from the database alone (it has no printer): what the process
that holds the printer publishes, the requests waiting for it, and who holds the printer."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from console import jobs, live_state, pause, requests, stations
from console.owner import PrinterOwnership
from console.requests import Request
from console.store import Store
from drivers.faults import PrinterFault

PACE_CARDS = 10  # cards whose pace predicts the time left
_PACE_LOOKBACK = 400  # audit entries searched for the latest cards printed (a card writes several)


@dataclass(frozen=True)
class Published:
    """What the process that holds the printer wrote for others to read, and the requests waiting for it."""

    state: str | None = None  # None: no process has held the printer on this database yet
    since: str | None = None
    fault: PrinterFault | None = None
    pending: tuple[Request, ...] = ()
    card_times: tuple[str, ...] = ()  # when the latest cards were printed, newest first
    last_counter: int | None = None
    paused: pause.Pause | None = None  # the lasting pause in force, and who paused


async def read_published(store: Store) -> Published:
    published = await live_state.read(store, live_state.ENGINE)
    pending = tuple(await requests.pending(store))
    paused = await pause.standing(store)
    printed = await store.fetchall(
        "SELECT at, data FROM audit WHERE seq > (SELECT coalesce(max(seq), 0) FROM audit) - ? "
        "AND action = 'job.printed' AND (CAST(? AS TEXT) IS NULL OR station_id = ?) ORDER BY seq DESC LIMIT ?",
        (_PACE_LOOKBACK * await _stations(store), stations.own_rows(store), stations.own_rows(store), PACE_CARDS + 1),
    )
    times = tuple(r["at"] for r in printed)
    counter = json.loads(printed[0]["data"]).get("card_counter") if printed else None
    if published is None:
        return Published(pending=pending, card_times=times, last_counter=counter, paused=paused)
    value, at = published
    return Published(value.get("state"), at, _fault(value.get("fault"), value.get("fault_reply")), pending,
                     times, counter, paused)  # fmt: skip


# On a ledger the audit log is the regency's: the store's station's own cards, among a lookback as long for each
# station as a station's own file has. A station's SQLite file is its own: read as it always was.
async def _stations(store: Store) -> int:
    return 1 if store.dialect == "sqlite" else max(int(await store.scalar("SELECT count(*) FROM stations")), 1)


def _fault(code: str | None, reply: str | None) -> PrinterFault | None:
    """The published fault, as the fault's words need it (its code and the printer's reply)."""
    if code is None:
        return None
    fault = PrinterFault(reply=reply)
    fault.code = code
    return fault


async def printing_job(store: Store) -> jobs.Job | None:
    row = await store.fetchone(
        "SELECT * FROM jobs WHERE state = 'printing' AND (CAST(? AS TEXT) IS NULL OR station_id = ?) ORDER BY id LIMIT 1",
        (stations.own_rows(store), stations.own_rows(store)),
    )
    return None if row is None else jobs.Job.from_row(row)


@dataclass(frozen=True)
class Holder:
    pid: int
    command: str
    running: bool


def printer_holder(database: Path) -> Holder | None:
    """Who holds the printer, as its lock file names it (read, never locked: that would stand in the way of a
    `station run` starting). None when the file cannot be read, as from another account without the right."""
    named = PrinterOwnership(database).holder()
    pid = named.get("pid")
    if not isinstance(pid, int):
        return None
    program, _, rest = str(named.get("command", "?")).partition(" ")
    command = f"{Path(program).name} {rest}".strip()  # `station print`, not the path of the program
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return Holder(pid, command, False)
    except PermissionError:
        pass  # alive, under another account
    return Holder(pid, command, True)
