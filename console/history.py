"""A NIK's history, for the resident view: queued, printed, tagged, reported, unlocked, reprinted, in order.

Built from the records (jobs, reports, grants and unlocks) and, for what the records keep only as their last
state, from the audit log (each tag and correction, holds, cancels, released locks).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from console.i18n import t
from console.reports import reason_text
from console.store import Store

# Within one instant, events happen in this order.
_ORDER = (
    "queued",
    "held",
    "cancelled",
    "lock_released",
    "printed",
    "reprinted",
    "tagged_good",
    "tagged_bad",
    "retagged_good",
    "retagged_bad",
    "reported_good",
    "reported_bad",
    "unlocked",
)


@dataclass(frozen=True)
class HistoryEntry:
    at: str
    kind: str  # one of _ORDER
    job_id: int | None = None
    card_counter: int | None = None
    actor: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)

    def text(self) -> str:
        """The entry in the operator's words (the current language)."""
        values = {
            "counter": self.card_counter if self.card_counter is not None else "?",
            "job": self.job_id,
            "actor": self.actor or "-",
            **self.detail,
        }
        if self.kind.startswith(("tagged_", "retagged_")):
            values["reason"] = reason_text(values.get("reason"), values.get("note"))
        return t(f"history.{self.kind}", **values)

    def _sort_key(self) -> tuple[datetime, int, int]:
        return datetime.fromisoformat(self.at), _ORDER.index(self.kind), self.job_id or 0


async def nik_history(store: Store, nik: str) -> list[HistoryEntry]:
    """Everything that happened to `nik`'s cards, oldest first."""
    jobs = await store.fetchall("SELECT * FROM jobs WHERE nik = ? ORDER BY id", (nik,))
    audit = await store.fetchall("SELECT * FROM audit WHERE subject = ? ORDER BY seq", (nik,))
    entries = _from_jobs(jobs) + _from_audit(audit, jobs)
    entries += await _from_reports(store, nik)
    entries += await _from_unlocks(store, nik)
    return sorted(entries, key=HistoryEntry._sort_key)


def _from_jobs(jobs: list[Any]) -> list[HistoryEntry]:
    entries = []
    for job in jobs:
        entries.append(HistoryEntry(job["queued_at"], "queued", job["id"]))
        if job["card_counter"] is not None:
            kind = "reprinted" if job["unlock_id"] is not None else "printed"
            entries.append(
                HistoryEntry(
                    job["printed_at"] or job["started_at"] or job["queued_at"],
                    kind,
                    job["id"],
                    job["card_counter"],
                    detail={"allocation": job["allocation_id"], "dest": job["card_dest"], "unlock": job["unlock_id"]},
                )
            )
    return entries


def _from_audit(audit: list[Any], jobs: list[Any]) -> list[HistoryEntry]:
    counters = {job["id"]: job["card_counter"] for job in jobs}
    entries, tagged_jobs = [], set()
    for row in audit:
        data = json.loads(row["data"])
        job_id = data.get("job")
        if row["action"] in ("card.tagged", "card.retagged"):
            tagged_jobs.add(job_id)
            verdict = "good" if data.get("good") else "bad"
            kind = ("tagged_" if row["action"] == "card.tagged" else "retagged_") + verdict
            entries.append(
                HistoryEntry(
                    row["at"],
                    kind,
                    job_id,
                    counters.get(job_id),
                    row["actor"],
                    {"reason": data.get("reason"), "note": data.get("note")},
                )
            )
        elif row["action"] in ("job.held", "job.cancelled"):
            entries.append(
                HistoryEntry(
                    row["at"],
                    row["action"].removeprefix("job."),
                    job_id,
                    None,
                    row["actor"],
                    {"reason": data.get("reason")},
                )
            )
        elif row["action"] == "nik.lock_released":
            entries.append(HistoryEntry(row["at"], "lock_released", job_id, None, row["actor"]))
    for job in jobs:  # a verdict the audit does not hold as a tag: the engine's own, after a fault
        if job["tagged_at"] is not None and job["id"] not in tagged_jobs and job["state"] in ("done_good", "done_bad"):
            kind = "tagged_good" if job["state"] == "done_good" else "tagged_bad"
            entries.append(
                HistoryEntry(
                    job["tagged_at"],
                    kind,
                    job["id"],
                    job["card_counter"],
                    job["tagged_by"],
                    {"reason": job["tag_reason"], "note": job["tag_note"]},
                )
            )
    return entries


async def _from_reports(store: Store, nik: str) -> list[HistoryEntry]:
    """Each card in the first report that listed it (a report made again lists the same cards again)."""
    rows = await store.fetchall(
        "SELECT body FROM reports WHERE body LIKE ? ORDER BY generated_at", (f'%"nik":"{nik}"%',)
    )
    entries, seen = [], set()
    for row in rows:
        body = json.loads(row["body"])
        for verdict in ("good", "bad"):
            for card in body[verdict]:
                if card["nik"] != nik or (card["card_counter"], verdict) in seen:
                    continue
                seen.add((card["card_counter"], verdict))
                entries.append(
                    HistoryEntry(
                        body["generated_at"],
                        f"reported_{verdict}",
                        None,
                        card["card_counter"],
                        detail={"report": body["report_id"][:12], "allocation": body["allocation"]["id"]},
                    )
                )
    return entries


async def _from_unlocks(store: Store, nik: str) -> list[HistoryEntry]:
    rows = await store.fetchall(
        "SELECT u.id, u.unlocked_at, u.used_by_job, g.nonce, g.report_id, g.key_id FROM unlocks u "
        "JOIN grants g ON g.nonce = u.grant_nonce WHERE u.nik = ? ORDER BY u.id",
        (nik,),
    )
    return [
        HistoryEntry(
            row["unlocked_at"],
            "unlocked",
            row["used_by_job"],
            None,
            None,
            {"report": row["report_id"][:12], "nonce": row["nonce"][:12], "key_id": row["key_id"], "unlock": row["id"]},
        )
        for row in rows
    ]
