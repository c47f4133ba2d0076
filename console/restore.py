"""A database put back from a backup, accepted on the centre's word, and the printers that must witness it.

A database whose head file is missing while its audit log is not empty is refused by every writer (exit 7,
`audit.head_behind`): it is a copy put back, or its head was removed; likewise a station on a ledger whose witness
of the ledger's head is missing while the ledger holds its entries (reinstalled). A supervisor accepts it (`station audit
accept-restore`): the head is written for the database as it is, and every printer the books know must then be
connected and show the counter the books hold for it (or be reconciled as today) before anything prints, because a
printer that printed after the copy is the only witness of those cards, and it may be off the cable.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from console import audit, printer_record
from console.errors import RefusedError, UsageError
from console.i18n import t
from console.operators import SUPERVISOR, require_role
from console.store import Store

UNWITNESSED = "restore.unwitnessed"  # station state: the serials still to witness, as a JSON list
STOPPED = "restore.stopped"  # station state and audit: the stop, kept so that it is audited once


@dataclass(frozen=True)
class Accepted:
    seq: int  # the newest audit entry: the head written for the database
    printers: list[str]  # the printers that must witness it


async def accept_restore(store: Store, reason: str, actor: str) -> Accepted:
    """A supervisor accepts the database as it is, on the centre's word: its head is written, and the queue waits
    until every printer the books know has been connected and matched its counter (`witness`). Refused unless the
    head file is missing and the log is not empty, so that it cannot be made ahead of time."""
    if not reason.strip():
        raise UsageError(t("restore.no_reason"))
    head = store.head_file
    if head is None:  # a ledger opened by its bare URL: there is no station's witness to write
        raise UsageError(t("restore.ledger"))
    try:
        present = audit.read_head(head) is not None
    except ValueError:
        present = True
    if present:
        raise RefusedError(t("restore.head_present", head=head))
    async with store.transaction(actor) as tx:
        await require_role(tx, actor, SUPERVISOR, "accept_restore")
        newest = await tx.fetchone("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1")
        if newest is None:
            raise RefusedError(t("restore.nothing", file=store.path))
        printers = await known_printers(tx)
        await printer_record.set_meta(tx, UNWITNESSED, json.dumps(printers) if printers else None)
        await printer_record.set_meta(tx, STOPPED, None)
        seq = await tx.audit("restore.accepted", None, reason=reason, printers=printers, head=newest["seq"])
        digest = await tx.fetchone("SELECT hash FROM audit WHERE seq = ?", (seq,))
        assert digest is not None  # appended just above, in this transaction
    try:
        audit.write_head(head, (seq, digest["hash"]), strict=True)
    except OSError as exc:
        raise UsageError(t("restore.head_not_written", head=head, why=exc)) from None
    store.head_on_hold = False
    return Accepted(seq, printers)


async def known_printers(db: Any) -> list[str]:
    """Every printer the books hold a counter for."""
    rows = await db.fetchall(
        "SELECT key FROM station_state WHERE station_id = ? AND key LIKE ?",
        (db.station_id, printer_record.COUNTER_OF + "%"),
    )
    return sorted(row["key"].removeprefix(printer_record.COUNTER_OF) for row in rows)


async def unwitnessed(db: Any) -> list[str]:
    """The printers still to be connected and matched since a restore was accepted (empty: none)."""
    value = await printer_record.get_meta(db, UNWITNESSED)
    return [] if value is None else list(json.loads(value))


async def witness(tx: Any, serial: str) -> list[str]:
    """The printer `serial`, on the cable, shows the counter the books hold for it: it witnessed the restore.
    Audited; when it was the last, the stop is lifted (audited too). The printers still to witness."""
    waiting = await unwitnessed(tx)
    if serial not in waiting:
        return waiting
    waiting.remove(serial)
    await printer_record.set_meta(tx, UNWITNESSED, json.dumps(waiting) if waiting else None)
    await tx.audit("restore.witnessed", serial, waiting=waiting)
    if not waiting:
        await printer_record.set_meta(tx, STOPPED, None)
        await tx.audit("restore.all_witnessed", None)
    return waiting


async def record_stop(tx: Any, serial: str, waiting: list[str]) -> None:
    """The queue stopped on printers still to witness (with `serial` on the cable): audited once while it stands."""
    value = json.dumps({"serial": serial, "waiting": waiting})
    if await printer_record.get_meta(tx, STOPPED) == value:
        return
    await printer_record.set_meta(tx, STOPPED, value)
    await tx.audit(STOPPED, serial, waiting=waiting)
