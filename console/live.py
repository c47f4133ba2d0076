"""What the dashboard shows, read from the database in one go: the queue, the books, today's work, recent events.

Read after something happened (coalesced by the app), never on a per-second timer. Every query is indexed or
bounded, except today's counts, which read the jobs printed since midnight.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from console import audit, books, jobs, residents, stations
from console.books import Books
from console.i18n import t
from console.store import Store
from console.text import number

EVENT_LINES = 40  # kept for the events panel; it shows as many as fit
_AUDIT_LOOKBACK = 200  # audit entries read to find them (a card writes several that are not shown)


@dataclass(frozen=True)
class Today:
    printed: int  # cards that took a blank today
    good: int
    bad: int
    spoiled: int  # blanks consumed today without a NIK


@dataclass(frozen=True)
class EventLine:
    at: str  # ISO timestamp, as stored
    text: str


@dataclass(frozen=True)
class CurrentCard:
    nik: str
    nama: str
    kecamatan: str
    counter: int | None


@dataclass(frozen=True)
class Live:
    counts: dict[str, int]
    allocation: Books | None
    allocations: int
    stock: int
    today: Today
    events: tuple[EventLine, ...]
    current: CurrentCard | None = None

    @property
    def untagged(self) -> int:
        return self.counts.get(jobs.PRINTED, 0)

    @property
    def queued(self) -> int:
        return self.counts.get(jobs.QUEUED, 0) + self.counts.get(jobs.PRINTING, 0)


async def load_live(store: Store, today_start: str, current: jobs.Job | None, local: list[EventLine]) -> Live:
    counts = await jobs.count_by_state(store)
    allocation = await books.current_allocation(store)
    allocations = await books.allocation_count(store)
    stock = await books.stock_total(store)
    today = await _today(store, today_start)
    events = await recent_events(store, local)
    return Live(counts, allocation, allocations, stock, today, events, await _current(store, current))


async def _today(store: Store, start: str) -> Today:
    printed = await jobs.printed_since(store, start, stations.own_rows(store))
    return Today(
        printed.printed, printed.good, printed.bad, await books.spoiled_since(store, start, stations.own_rows(store))
    )


async def _current(store: Store, job: jobs.Job | None) -> CurrentCard | None:
    if job is None:
        return None
    resident = await residents.get_resident(store, job.nik)
    if resident is None:
        return None
    counter = job.counter_before + 1 if job.counter_before is not None else None
    return CurrentCard(job.nik, resident.nama, resident.kecamatan, counter)


async def recent_events(store: Store, local: list[EventLine]) -> tuple[EventLine, ...]:
    """The audit log's entries that matter to the operator, in words, merged with the console's own (faults)."""
    lines = [
        line
        for entry in await audit.recent(store, _AUDIT_LOOKBACK, station=stations.own_rows(store))
        if (line := event_line(entry))
    ]
    lines += local
    lines.sort(key=lambda line: line.at, reverse=True)
    return tuple(lines[:EVENT_LINES])


def event_line(entry: dict[str, Any]) -> EventLine | None:
    text = describe_entry(entry["action"], entry["subject"], entry["data"])
    return None if text is None else EventLine(entry["at"], text)


def _reason(data: dict[str, Any]) -> str:
    return data.get("reason") or data.get("tag_reason") or "-"


def describe_entry(action: str, subject: str | None, data: dict[str, Any]) -> str | None:
    """One audit entry in the operator's words; None for the bookkeeping behind it (locks, blanks taken)."""
    was = data.get("was")
    if action == "job.printed":
        return t("ui.event.printed", counter=number(data.get("card_counter")), nik=subject)
    if action == "job.done_bad" and was == jobs.PRINTING:
        reason = data.get("tag_reason") or _reason(data)
        return t("ui.event.spoiled", counter=number(data.get("card_counter")), nik=subject, reason=reason)
    if action == "job.queued":
        return t("ui.event.requeued" if was == jobs.PRINTING else "ui.event.queued", nik=subject)
    if action in ("job.held", "job.cancelled"):
        return t(f"ui.event.{action.split('.')[1]}", nik=subject, reason=data.get("reason") or "-")
    if action in ("card.tagged", "card.retagged"):
        verdict = t("ui.verdict.good") if data.get("good") else t("ui.verdict.bad_reason", reason=_reason(data))
        return t(f"ui.event.{action.split('.')[1]}", nik=subject, verdict=verdict)
    if action == "allocation.received":
        return t("ui.event.allocation", id=subject, count=number(data.get("received")))
    if action == "stock.counted":
        return t("ui.event.counted", id=subject, counted=number(data.get("counted")),
                 expected=number(data.get("expected")))  # fmt: skip
    if action == "jobs.queued_bulk":
        return t("ui.event.queued_bulk", count=number(data.get("count")))
    if action == "residents.imported":
        return t("ui.event.imported", file=subject, added=number(data.get("added")), rows=number(data.get("rows")))
    if action == "blank.spoiled":
        return t("ui.event.blank_spoiled", counter=number(data.get("card_counter")), reason=_reason(data))
    if action in ("queue.paused", "queue.resumed"):
        return t(f"ui.event.{action.split('.')[1]}", who=data.get("requester") or "-")
    if action == "nik.unlocked":
        return t("ui.event.unlocked", nik=subject)
    if action == "report.made":
        return t(
            "ui.event.report_again" if data.get("again") else "ui.event.report",
            id=subject,
            report=str(data.get("report") or "-")[:12],
            good=number(data.get("good")),
            bad=number(data.get("bad")),
        )
    if action == "grant.applied":
        return t("ui.event.grant_applied", count=number(len(data.get("niks") or [])), report=(subject or "-")[:12])
    if action == "grant.rejected":
        return t("ui.event.grant_rejected", check=data.get("check") or "-", file=data.get("file") or "-")
    return None
