"""A pause that lasts: the queue paused by an operator or at a supervisor's request stays paused, across restarts
of the process that prints, until someone resumes it. Kept per station (`station_state`, key `queue.paused`), written in the
transaction that audits the pause; whichever process holds the printer reads it at start."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from console import station_state
from console.clock import now_iso
from console.store import Store

KEY = "queue.paused"


@dataclass(frozen=True)
class Pause:
    by: str  # the operator or the supervisor who paused
    at: str  # ISO time, as the database writes times


def _parse(value: str | None) -> Pause | None:
    if value is None:
        return None
    data = json.loads(value)
    return Pause(str(data.get("by", "?")), str(data.get("at", "")))


async def standing(store: Store | Any) -> Pause | None:
    """The pause in force, or None. Takes a store or a transaction (anything with `fetchone`)."""
    return _parse(await station_state.get(store, KEY))


async def record(tx: Any, by: str, request: int | None = None) -> Pause:
    """The queue paused by `by`, audited, inside the caller's transaction."""
    paused = Pause(by, now_iso())
    await station_state.put(tx, KEY, json.dumps({"by": paused.by, "at": paused.at}))
    await tx.audit("queue.paused", None, request=request, requester=by)
    return paused


async def clear(tx: Any, by: str, request: int | None = None) -> Pause | None:
    """The pause lifted by `by`, audited, inside the caller's transaction; the pause it lifted, if any."""
    lifted = await standing(tx)
    await station_state.put(tx, KEY, None)
    await tx.audit("queue.resumed", None, request=request, requester=by,
                   paused_by=lifted.by if lifted else None)  # fmt: skip
    return lifted
