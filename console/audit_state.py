"""The state against the audit log: the locks, jobs, books (and custody, console/custody_replay.py) that the audit entries say there are.

The hash chain (`console/audit.py`) proves the log was not edited; this proves the tables were not edited behind
it. Every change of a lock, a job's state or a blank is committed with its entry in one transaction, so replaying
the entries gives the tables exactly; any difference is an edit made outside the station, and is named.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from console import audit, custody_replay
from console.blank_loans import INTO_STOCK
from console.errors import AuditBrokenError
from console.i18n import t

_BATCH = 5000
_LOANS = ("blanks.borrowed", "blanks.lent", "blanks.loan_returned")
_JOB_STATES = ("queued", "held", "printing", "printed", "done_good", "done_bad", "cancelled")


@dataclass
class _Replay:
    locks: dict[Any, tuple[str, int | None, int | None]] = field(default_factory=dict)  # nik → (state, job, unlock)
    before_lock: dict[Any, list[tuple[str, int | None, int | None] | None]] = field(default_factory=dict)
    job_states: dict[int, str] = field(default_factory=dict)
    bulk_queued: int = 0
    single_queued: int = 0
    received: dict[Any, int] = field(default_factory=dict)
    spent: Counter = field(default_factory=Counter)  # blanks out of stock, by allocation
    spoiled: Counter = field(default_factory=Counter)
    loaned: Counter = field(default_factory=Counter)  # blanks in (borrowed, lent ones back) less out, by allocation
    job_allocation: dict[int, str | None] = field(default_factory=dict)

    def entry(self, action: str, subject: str | None, data: dict[str, Any]) -> None:
        if action == "nik.locked":
            self.before_lock.setdefault(subject, []).append(self.locks.get(subject))
            self.locks[subject] = ("locked", data.get("job"), None)
        elif action == "nik.unlocked":
            job = self.locks.get(subject, (None, None, None))[1]
            self.locks[subject] = ("unlocked", job, data.get("unlock"))
        elif action == "nik.lock_released":
            previous = (self.before_lock.get(subject) or [None]).pop()
            if previous is None:
                self.locks.pop(subject, None)
            else:
                self.locks[subject] = previous
        elif action == "job.queued" and "was" not in data:
            self.single_queued += 1
            self.job_states[data["job"]] = "queued"
        elif action == "jobs.queued_bulk":
            self.bulk_queued += data.get("count") or 0
        elif action.startswith("job.") and action[4:] in _JOB_STATES:
            self.job_states[data["job"]] = action[4:]
            if action == "job.printing":  # the transaction that spends the blank records its allocation here
                self.spent[data.get("allocation_id")] += 1
                self.job_allocation[data["job"]] = data.get("allocation_id")
            elif action == "job.queued" and data.get("was") == "printing":  # no blank left the feeder: it is back
                allocation = self.job_allocation.pop(data["job"], None)
                if allocation is not None:
                    self.spent[allocation] -= 1
        elif action == "allocation.received":
            self.received[subject] = data["received"]
        elif action in _LOANS:
            self.loaned[subject] += data["count"] if data.get("kind") in INTO_STOCK else -data["count"]
        elif action == "blank.spoiled":
            self.spent[subject] += 1
            self.spoiled[subject] += 1


async def _replay(db: Any) -> tuple[_Replay, custody_replay.CustodyReplay]:
    replay, custody, after = _Replay(), custody_replay.CustodyReplay(), 0
    while rows := await db.fetchall(
        "SELECT seq, actor, action, subject, data FROM audit WHERE seq > ? ORDER BY seq LIMIT ?", (after, _BATCH)
    ):
        for row in rows:
            data = json.loads(row["data"])
            replay.entry(row["action"], row["subject"], data)
            custody.entry(row["action"], row["subject"], row["actor"], data)
        after = rows[-1]["seq"]
    return replay, custody


def _lock_words(lock: tuple[str, int | None, int | None] | None) -> str:
    if lock is None:
        return t("audit_state.no_lock")
    state, job, unlock = lock
    return t("audit_state.locked", job=job) if state == "locked" else t("audit_state.unlocked", unlock=unlock)


async def differences(db: Any) -> list[str]:
    """Each place where the locks, jobs, books or custody differ from what the audit log says, in words; [] if
    none."""
    replay, custody = await _replay(db)
    found: list[str] = []
    rows = await db.fetchall("SELECT nik, job_id, unlocked_at, unlock_id FROM nik_locks ORDER BY nik")
    stored = {
        r["nik"]: ("locked", r["job_id"], None)
        if r["unlocked_at"] is None
        else ("unlocked", r["job_id"], r["unlock_id"])
        for r in rows
    }
    for nik in sorted(set(stored) | set(replay.locks)):
        have, said = stored.get(nik), replay.locks.get(nik)
        same = (have is None) == (said is None) and (
            have is None
            or said is None
            or (have[0] == said[0] and (have[1] == said[1] if have[0] == "locked" else have[2] == said[2]))
        )
        if not same:
            found.append(t("audit_state.lock_differs", nik=nik, table=_lock_words(have), audit=_lock_words(said)))
    jobs = {r["id"]: r["state"] for r in await db.fetchall("SELECT id, state FROM jobs ORDER BY id")}
    for job_id in sorted(set(jobs) | set(replay.job_states)):
        in_table = jobs.get(job_id)
        in_audit = replay.job_states.get(job_id, "queued" if job_id in jobs else None)
        if in_table is None:
            found.append(t("audit_state.job_missing", job=job_id, audit=in_audit))
        elif in_table != in_audit:
            found.append(t("audit_state.job_differs", job=job_id, table=in_table, audit=in_audit))
    if len(jobs) != replay.single_queued + replay.bulk_queued:
        found.append(t("audit_state.job_count", table=len(jobs), audit=replay.single_queued + replay.bulk_queued))
    allocations = await db.fetchall(  # the stock of the regency and of its stations together
        "SELECT a.id, a.received, a.in_stock + coalesce((SELECT sum(s.in_stock) FROM station_stock s "
        "WHERE s.allocation_id = a.id), 0) AS in_stock FROM allocations a ORDER BY a.id"
    )
    spoiled = Counter({r["allocation_id"]: r["n"] for r in await db.fetchall(
        "SELECT allocation_id, count(*) AS n FROM spoiled GROUP BY allocation_id")})  # fmt: skip
    for a in allocations:
        received = replay.received.get(a["id"])
        if received is None:
            found.append(t("audit_state.allocation_unknown", allocation=a["id"]))
            continue
        in_stock = received + replay.loaned[a["id"]] - replay.spent[a["id"]]
        if (a["received"], a["in_stock"]) != (received, in_stock):
            found.append(t("audit_state.stock_differs", allocation=a["id"], received=a["received"],
                           in_stock=a["in_stock"], audit_received=received, audit_in_stock=in_stock))  # fmt: skip
        if spoiled[a["id"]] != replay.spoiled[a["id"]]:
            found.append(t("audit_state.spoiled_differs", allocation=a["id"], table=spoiled[a["id"]],
                           audit=replay.spoiled[a["id"]]))  # fmt: skip
    for missing in sorted(set(replay.received) - {a["id"] for a in allocations}):
        found.append(t("audit_state.allocation_missing", allocation=missing))
    return found + await custody_replay.differences(db, custody)


async def check(db: Any) -> None:
    """AuditBrokenError (exit 7) naming every place where the tables differ from the audit log."""
    places = await differences(db)
    if places:
        raise AuditBrokenError(
            t("audit.state_differs", count=len(places), places="\n".join(f"  - {place}" for place in places))
        )


async def verify_all(store: Any, on_progress: audit.Progress | None = None) -> int:
    """All that `station audit verify` and `doctor` check: the hash chain, the head file beside the database, the
    tables against the log. The number of sound entries, or AuditBrokenError (exit 7) saying the first failure."""
    count, broken = await audit.verify(store, on_progress)
    behind = await audit.head_behind(store)
    if broken is not None and broken.station is not None:  # entries that name the station that wrote them
        raise AuditBrokenError(t("audit.broken_by", seq=broken.seq, station=broken.station, why=broken.why,
                                 count=count))  # fmt: skip
    if broken is not None:
        raise AuditBrokenError(t("audit.broken", seq=broken.seq, why=broken.why, count=count))
    if behind is not None:
        raise AuditBrokenError(behind)
    await check(store)
    return count
