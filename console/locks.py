"""The central lock on printed NIKs: the one place that decides whether a NIK may get a card.

Every path asks the one rule written here (`bars_sql`): one NIK (`refusal()`: the queue, the engine as it takes
the blank, the centre's unlock), the bulk queue (`ready_sql`) and the import (`settled_among`). The queue's paths
also ask whether the resident must hold a card yet on the day (`wajib_from_sql`, wajib KTP-el): a card is printed
from the 17th birthday, or earlier once married or previously married. A NIK is locked
from the moment a blank is taken for it until the centre unlocks it; an unlock allows exactly one more card, whose
blank locks it again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol

from console.clock import today


class _Reader(Protocol):
    async def fetchone(self, sql: str, params: Any = ()) -> Any: ...

    async def fetchall(self, sql: str, params: Any = ()) -> Any: ...


@dataclass(frozen=True)
class Refusal:
    """Why a NIK may not get a card now: `code` names the rule, the rest says where to look."""

    code: str  # unknown_nik | locked | audit_locked | already_queued | not_wajib (since: the day it becomes wajib)
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


# THE rule, written once. A NIK may not get a card while any of these holds; each branch names why, for the
# operator. `{nik}` is the NIK being asked about: a parameter for one NIK, a column for the bulk queue and the
# import, so that every path runs the same SQL (plain SQL: PostgreSQL runs it as well).
#   locked        the central lock is closed (nik_locks), with the card that closed it;
#   audit_locked  the audit log's last lock entry for the NIK is `nik.locked`: a card exists even if the lock
#                 table lost its row (the partial index audit_lock_events keeps this a short index walk);
#   already_queued an open job (queued, held, printing): one card at a time.
_BARS = """
SELECT 1 AS rank, l.nik AS nik, 'locked' AS code, l.locked_at AS since, l.job_id AS job_id,
       j.card_counter AS card_counter, j.state AS state
  FROM nik_locks l LEFT JOIN jobs j ON j.id = l.job_id
 WHERE l.nik = {nik} AND l.unlocked_at IS NULL
UNION ALL
SELECT 2, a.subject, 'audit_locked', a.at, NULL, NULL, NULL
  FROM audit a
 WHERE a.seq = (SELECT max(e.seq) FROM audit e
                 WHERE e.subject = {nik} AND e.action IN ('nik.locked', 'nik.unlocked', 'nik.lock_released'))
   AND a.action = 'nik.locked'
UNION ALL
SELECT 3, o.nik, 'already_queued', o.queued_at, o.id, NULL, o.state
  FROM jobs o
 WHERE o.nik = {nik} AND o.state IN ('queued', 'held', 'printing') AND ({for_job} IS NULL OR o.id <> {for_job})
"""

# A NIK that ever had a blank spent on it: locked, or unlocked by the centre for one reprint (the lock table
# keeps its row either way), or a blank booked to one of its jobs. (A blank that never left the feeder is
# released: its job and the lock table forget it, and the audit log's `nik.lock_released` says so.)
_PRINTED = """
SELECT 1 FROM nik_locks l WHERE l.nik = {nik}
UNION ALL SELECT 1 FROM jobs j WHERE j.nik = {nik} AND j.allocation_id IS NOT NULL
"""


# Wajib KTP-el: the day a resident must hold a card. The 17th birthday; one born on 29 February turns 17 on 1 March
# (year + 17 is never a leap year), never a day early. Earlier once married: from the wedding day when the record
# says it (`tanggal_perkawinan`, a day still to come included), else, married, divorced or widowed (any status but
# BELUM KAWIN) with no day said, already (since birth). Plain text arithmetic on the stored `YYYY-MM-DD` (checked
# at import), so that SQLite and PostgreSQL agree to the day.
_SEVENTEEN = """(CASE WHEN substr({person}.tanggal_lahir, 6, 5) = '02-29'
      THEN CAST(CAST(substr({person}.tanggal_lahir, 1, 4) AS INTEGER) + 17 AS TEXT) || '-03-01'
      ELSE CAST(CAST(substr({person}.tanggal_lahir, 1, 4) AS INTEGER) + 17 AS TEXT)
           || substr({person}.tanggal_lahir, 5, 6) END)"""
_WAJIB_FROM = """(CASE
      WHEN {person}.tanggal_perkawinan IS NOT NULL AND {person}.tanggal_perkawinan < {seventeen}
      THEN {person}.tanggal_perkawinan
      WHEN {person}.tanggal_perkawinan IS NULL AND {person}.status_perkawinan <> 'BELUM KAWIN'
      THEN {person}.tanggal_lahir
      ELSE {seventeen} END)"""
WAJIB_AGE = 17

# Not wajib on the day `{on}`: the branch the queue's paths add to the rule (never the import's: a resident not
# yet wajib keeps a record the import may correct).
_NOT_WAJIB = """
UNION ALL
SELECT 4, w.nik, 'not_wajib', {wajib_from}, NULL, NULL, NULL
  FROM residents w
 WHERE w.nik = {nik} AND {wajib_from} > {on}
"""


def wajib_from_sql(person: str) -> str:
    """An SQL expression: the day (`YYYY-MM-DD`) the person of table alias `person` must hold a card (columns
    `tanggal_lahir`, `status_perkawinan`, `tanggal_perkawinan`, as residents and population have them)."""
    return _WAJIB_FROM.format(person=person, seventeen=_SEVENTEEN.format(person=person))


def day_sql(day: date) -> str:
    """A day as an SQL literal (from a `date`, never from text: nothing else can reach the SQL)."""
    return f"'{date.isoformat(day)}'"


def bars_sql(nik: str, for_job: str = "NULL", on: date | None = None) -> str:
    """The rule as SQL: one row (rank, nik, code, since, job_id, card_counter, state) per reason `nik` (an SQL
    expression) may not get a card now; `for_job`, the job about to take a blank, is not held against it. With
    `on` (the day of the queue), a resident not yet wajib KTP-el that day is refused too."""
    bars = _BARS.format(nik=nik, for_job=for_job)
    if on is not None:
        bars += _NOT_WAJIB.format(nik=nik, wajib_from=wajib_from_sql("w"), on=day_sql(on))
    return bars


def ready_sql(nik: str, on: date | None = None) -> str:
    """An SQL condition: `nik` may get a card on the day `on` (the station's today) and never had one (what the
    bulk queue takes)."""
    bars = bars_sql(nik, on=on or today())
    return f"NOT EXISTS ({bars}) AND NOT EXISTS ({_PRINTED.format(nik=nik)})"


def never_printed_sql(nik: str) -> str:
    """An SQL condition: no blank was ever spent on `nik` (its first card is still to print, queued or not)."""
    return f"NOT EXISTS ({_PRINTED.format(nik=nik)})"


def settled_sql(nik: str) -> str:
    """An SQL condition: `nik` may not get a card now, or had one (the import must not change its record)."""
    return f"(EXISTS ({bars_sql(nik)}) OR EXISTS ({_PRINTED.format(nik=nik)}))"


async def refusal(db: _Reader, nik: str, *, for_job: int | None = None, on: date | None = None) -> Refusal | None:
    """None if `nik` may get a card on the day `on` (the station's today); else the rule that refuses it (the
    first reason, by rank).

    `for_job` is the job about to take a blank: its own open state does not count against it.
    """
    if await db.fetchone("SELECT 1 FROM residents WHERE nik = ?", (nik,)) is None:
        return Refusal("unknown_nik", nik)
    bar = await db.fetchone(
        f"SELECT * FROM ({bars_sql(':nik', 'CAST(:for_job AS INTEGER)', on or today())}) AS bars ORDER BY rank LIMIT 1",
        {"nik": nik, "for_job": for_job},
    )
    if bar is None:
        return None
    return Refusal(bar["code"], nik, bar["since"], bar["job_id"], bar["card_counter"], bar["state"])


_SQL_IN_CHUNK = 5_000  # NIKs a statement (SQLite allows 32,766 parameters)


async def settled_among(db: _Reader, niks: list[str]) -> dict[str, str]:
    """Which of these NIKs may not get a card now or had one: the import leaves their records as they are.

    Each is mapped to why: 'queued' (an open job: its card may be laid out already) or 'printed'.
    """
    found: dict[str, str] = {}
    for start in range(0, len(niks), _SQL_IN_CHUNK):
        chunk = niks[start : start + _SQL_IN_CHUNK]
        asked = ", ".join("(?)" for _ in chunk)
        rows = await db.fetchall(
            f"WITH asked (nik) AS (VALUES {asked}) "
            f"SELECT asked.nik, (SELECT bars.code FROM ({bars_sql('asked.nik')}) AS bars ORDER BY bars.rank LIMIT 1) "
            f"AS code FROM asked WHERE {settled_sql('asked.nik')}",
            chunk,
        )
        found.update((row["nik"], "queued" if row["code"] == "already_queued" else "printed") for row in rows)
    return found


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
    rows = await db.fetchall(f"SELECT nik, unlocked_at FROM nik_locks WHERE nik IN ({','.join('?' * len(niks))})", niks)
    return {row["nik"]: "locked" if row["unlocked_at"] is None else "unlocked" for row in rows}


async def awaiting_reprint(db: _Reader) -> list[str]:
    """NIKs the centre unlocked whose reprint is not queued yet (its unlock unused, no job waiting), oldest
    unlock first: the console offers to queue them."""
    rows = await db.fetchall(
        "SELECT l.nik FROM nik_locks l JOIN unlocks u ON u.id = l.unlock_id "
        "WHERE l.unlocked_at IS NOT NULL AND u.used_by_job IS NULL AND NOT EXISTS "
        "(SELECT 1 FROM jobs j WHERE j.nik = l.nik AND j.state IN ('queued', 'held', 'printing')) ORDER BY u.id"
    )
    return [row["nik"] for row in rows]
