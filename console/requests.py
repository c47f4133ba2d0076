"""Requests to the process that holds the printer, from a supervisor in another process: pause and resume.

The request is recorded with who made it (audited); the engine carries it out at the next card boundary."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from console.clock import now_iso
from console.errors import UsageError
from console.i18n import t
from console.store import Store

KINDS = ("pause", "resume")


async def request(store: Store, kind: str, requester: str) -> int:
    if kind not in KINDS:
        raise UsageError(t("requests.unknown", kind=kind))
    async with store.transaction(requester) as tx:
        request_id = await tx.insert(
            "INSERT INTO requests (kind, requester, at, station_id) VALUES (?, ?, ?, ?)",
            (kind, requester, now_iso(), tx.station_id),
        )
        await tx.audit(f"queue.{kind}_requested", None, request=request_id, requester=requester)
    return request_id


@dataclass(frozen=True)
class Request:
    id: int
    kind: str  # pause | resume
    requester: str
    at: str


async def pending(store: Store) -> list[Request]:
    """The requests to the store's station not yet carried out, oldest first."""
    rows = await store.fetchall(
        "SELECT id, kind, requester, at FROM requests WHERE done_at IS NULL AND station_id = ? ORDER BY id",
        (store.station_id,),
    )
    return [Request(row["id"], row["kind"], row["requester"], row["at"]) for row in rows]


async def mark_done(tx: Any, request_id: int) -> None:
    """Carried out, inside the transaction that audits it (the engine's)."""
    await tx.execute(
        "UPDATE requests SET done_at = ? WHERE id = ? AND station_id = ?", (now_iso(), request_id, tx.station_id)
    )
