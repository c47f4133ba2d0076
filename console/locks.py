"""The central lock on printed NIKs: the one place that decides whether a NIK may get a card.

Every path (queue, CLI, console, import, unlock) asks `refusal()`. A NIK is locked from the moment a blank is
taken for it until the centre unlocks it; an unlock allows exactly one more card, whose blank locks it again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol


class _Reader(Protocol):
    async def fetchone(self, sql: str, params: Any = ()) -> Any: ...

    async def fetchall(self, sql: str, params: Any = ()) -> Any: ...


@dataclass(frozen=True)
class Refusal:
    """Why a NIK may not get a card now: `code` names the rule, the rest says where to look."""

    code: str  # unknown_nik | locked | already_queued
    nik: str
    since: str | None = None
    job_id: int | None = None
    card_counter: int | None = None
    state: str | None = None


@dataclass(frozen=True)
class LockInfo:
    nik: str
    locked: bool
    job_id: int
    locked_at: str
    unlocked_at: str | None
    unlock_id: int | None


async def lock_info(db: _Reader, nik: str) -> LockInfo | None:
    row = await db.fetchone("SELECT * FROM nik_locks WHERE nik = ?", (nik,))
    if row is None:
        return None
    return LockInfo(
        nik, row["unlocked_at"] is None, row["job_id"], row["locked_at"], row["unlocked_at"], row["unlock_id"]
    )


async def refusal(db: _Reader, nik: str, *, for_job: int | None = None) -> Refusal | None:
    """None if `nik` may get a card; else the rule that refuses it.

    `for_job` is the job about to take a blank: its own open state does not count against it.
    """
    if await db.fetchone("SELECT 1 FROM residents WHERE nik = ?", (nik,)) is None:
        return Refusal("unknown_nik", nik)
    lock = await db.fetchone(
        "SELECT l.locked_at, l.job_id, j.card_counter, j.state FROM nik_locks l JOIN jobs j ON j.id = l.job_id "
        "WHERE l.nik = ? AND l.unlocked_at IS NULL",
        (nik,),
    )
    if lock is not None:
        return Refusal("locked", nik, lock["locked_at"], lock["job_id"], lock["card_counter"], lock["state"])
    open_job = await db.fetchone(
        "SELECT id, state, queued_at FROM jobs WHERE nik = ? AND state IN ('queued', 'held', 'printing') AND id IS NOT ?",
        (nik, for_job),
    )
    if open_job is not None:
        return Refusal("already_queued", nik, open_job["queued_at"], open_job["id"], state=open_job["state"])
    return None


async def lock_for_job(tx: Any, nik: str, job_id: int, at: str) -> int | None:
    """Lock `nik` for the blank `job_id` takes; consume the centre's unlock if this is a reprint.

    Returns the unlock consumed, if any. Call only after `refusal()` said yes, in the same transaction.
    """
    unlock = await tx.fetchone(
        "SELECT u.id FROM nik_locks l JOIN unlocks u ON u.id = l.unlock_id "
        "WHERE l.nik = ? AND l.unlocked_at IS NOT NULL AND u.used_by_job IS NULL",
        (nik,),
    )
    unlock_id = unlock["id"] if unlock else None
    if unlock_id is not None:
        await tx.execute("UPDATE unlocks SET used_by_job = ? WHERE id = ?", (job_id, unlock_id))
        await tx.execute("UPDATE jobs SET unlock_id = ? WHERE id = ?", (unlock_id, job_id))
    await tx.execute(
        "INSERT INTO nik_locks (nik, job_id, locked_at, unlocked_at, unlock_id) VALUES (?, ?, ?, NULL, NULL) "
        "ON CONFLICT (nik) DO UPDATE SET job_id = excluded.job_id, locked_at = excluded.locked_at, "
        "unlocked_at = NULL, unlock_id = NULL",
        (nik, job_id, at),
    )
    await tx.audit("nik.locked", nik, job=job_id, unlock=unlock_id)
    return unlock_id


async def release_for_job(tx: Any, nik: str, job_id: int) -> None:
    """Undo `lock_for_job` for a job whose blank never left the feeder: the NIK is as it was before."""
    job = await tx.fetchone("SELECT unlock_id FROM jobs WHERE id = ?", (job_id,))
    if job is not None and job["unlock_id"] is not None:
        unlock = await tx.fetchone("SELECT unlocked_at FROM unlocks WHERE id = ?", (job["unlock_id"],))
        previous = await tx.fetchone(
            "SELECT id FROM jobs WHERE nik = ? AND id != ? AND card_counter IS NOT NULL ORDER BY id DESC LIMIT 1",
            (nik, job_id),
        )
        await tx.execute("UPDATE unlocks SET used_by_job = NULL WHERE id = ?", (job["unlock_id"],))
        await tx.execute("UPDATE jobs SET unlock_id = NULL WHERE id = ?", (job_id,))
        await tx.execute(
            "UPDATE nik_locks SET job_id = ?, unlocked_at = ?, unlock_id = ? WHERE nik = ?",
            (previous["id"], unlock["unlocked_at"], job["unlock_id"], nik),
        )
    else:
        await tx.execute("DELETE FROM nik_locks WHERE nik = ? AND job_id = ?", (nik, job_id))
    await tx.audit("nik.lock_released", nik, job=job_id, why="no blank left the feeder")


async def unlock(tx: Any, nik: str, unlock_id: int, at: str) -> None:
    """Open the lock for one reprint (the centre's grant, checked by the caller)."""
    await tx.execute(
        "UPDATE nik_locks SET unlocked_at = ?, unlock_id = ? WHERE nik = ? AND unlocked_at IS NULL",
        (at, unlock_id, nik),
    )
    await tx.audit("nik.unlocked", nik, unlock=unlock_id)


async def lock_states(db: _Reader, niks: list[str]) -> dict[str, str]:
    """'locked' or 'unlocked' (by the centre, for a reprint) for each NIK that ever took a blank."""
    if not niks:
        return {}
    rows = await db.fetchall(
        f"SELECT nik, unlocked_at FROM nik_locks WHERE nik IN ({','.join('?' * len(niks))})", niks
    )
    return {row["nik"]: "locked" if row["unlocked_at"] is None else "unlocked" for row in rows}
