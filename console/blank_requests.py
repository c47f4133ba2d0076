"""The request for more blanks (*usulan penambahan blangko*): computed with every term shown, and its life.

    cards_needed     = print_ready + becoming_wajib + reprints
    blanks_for_cards = ⌈cards_needed × blanks_used ÷ (blanks_used − bad_used)⌉   (the bad-card rate of the latest
                       allocations: each good card costs on average that many blanks; no rate without a good card)
    safety_stock     = ⌈cards_printed_recent × lead_time_days ÷ working_days⌉     (what printing uses meanwhile)
    requested        = max(0, blanks_for_cards + safety_stock − in_stock)
    (in_stock holds the blanks borrowed from other regencies, not those lent to them: both shown as terms)

print_ready: recorded residents who never had a card and are wajib KTP-el before the period starts (queued or
not); becoming_wajib: people (recorded or not) who turn 17 unmarried during the period, or marry in it under 17
(the wedding day known), and have no card;
reprints: NIKs the centre unlocked whose reprint has not taken its blank. One request a period, named by it:
drafted (again, while still a draft) → sent → approved (the count granted) → received (the allocation that
brought the blanks, `station allocation add`). Every step is audited; any other step is refused (exit 4).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from console import books, locks
from console.clock import instant, now_iso, today
from console.config import PlanningSettings
from console.errors import RefusedError, UsageError
from console.formats import station_zone
from console.i18n import t
from console.population import BECOMING_SQL, ISSUED, PRINTED, month_bounds, people_sql
from console.store import Store

FORMAT = "ktpel-station/usulan/1"
DRAFTED, SENT, APPROVED, RECEIVED = "drafted", "sent", "approved", "received"
NEXT = {DRAFTED: SENT, SENT: APPROVED, APPROVED: RECEIVED}


@dataclass(frozen=True)
class Terms:
    print_ready: int
    becoming_wajib: int
    reprints: int
    blanks_used: int  # blanks of the latest allocations that gave a card or were spoiled
    bad_used: int  # of those, bad cards and spoiled blanks
    in_stock: int
    cards_printed_recent: int  # cards printed over the last working days (weekends among them included)
    working_days: int
    lead_time_days: int
    borrowed: int = 0  # blanks borrowed from other regencies, not returned yet (in in_stock while unspent)
    lent: int = 0  # blanks lent to other regencies, not back yet: out of in_stock until they are

    @property
    def cards_needed(self) -> int:
        return self.print_ready + self.becoming_wajib + self.reprints

    @property
    def blanks_for_cards(self) -> int:
        good = self.blanks_used - self.bad_used
        if good <= 0:
            return self.cards_needed
        return -(-self.cards_needed * self.blanks_used // good)

    @property
    def safety_stock(self) -> int:
        return -(-self.cards_printed_recent * self.lead_time_days // self.working_days)

    @property
    def requested(self) -> int:
        return max(0, self.blanks_for_cards + self.safety_stock - self.in_stock)

    def as_dict(self) -> dict[str, int | float]:
        """Every term, by name: the counts, then what is derived from them (rates for people, rounded)."""
        return {
            "print_ready": self.print_ready,
            "becoming_wajib": self.becoming_wajib,
            "reprints": self.reprints,
            "cards_needed": self.cards_needed,
            "blanks_used": self.blanks_used,
            "bad_used": self.bad_used,
            "bad_rate": round(self.bad_used / self.blanks_used, 4) if self.blanks_used else 0.0,
            "blanks_for_cards": self.blanks_for_cards,
            "cards_printed_recent": self.cards_printed_recent,
            "working_days": self.working_days,
            "cards_per_working_day": round(self.cards_printed_recent / self.working_days, 2),
            "lead_time_days": self.lead_time_days,
            "safety_stock": self.safety_stock,
            "in_stock": self.in_stock,
            "borrowed": self.borrowed,
            "lent": self.lent,
        }


def working_days_back(end: date, count: int) -> date:
    """The first of the `count` working days (Monday to Friday) that end on `end` (or the Friday before it)."""
    day, found = end, 0
    while True:
        if day.weekday() < 5:
            found += 1
            if found == count:
                return day
        day -= timedelta(days=1)


async def cards_printed_by_day(db: Any, first: date, last: date) -> dict[date, int]:
    """Cards printed each day from `first` to `last` (every day there, 0 for none), by the station's calendar
    (times are stored with their offset)."""
    coarse = (first - timedelta(days=2)).isoformat()  # a stored offset never moves a day further
    rows = await db.fetchall("SELECT printed_at FROM jobs WHERE printed_at IS NOT NULL AND printed_at >= ?", (coarse,))
    days = {first + timedelta(days=n): 0 for n in range((last - first).days + 1)}
    zone = station_zone()
    for row in rows:
        day = instant(row["printed_at"]).astimezone(zone).date()
        if day in days:
            days[day] += 1
    return days


async def _print_ready_by_village(db: Any, before: str) -> list[dict[str, Any]]:
    rows = await db.fetchall(
        "SELECT r.kecamatan, r.kel_desa, count(*) AS n FROM residents r "
        f"WHERE {locks.never_printed_sql('r.nik')} AND {locks.wajib_from_sql('r')} < ? "
        "GROUP BY r.kecamatan, r.kel_desa ORDER BY r.kecamatan, r.kel_desa",
        (before,),
    )
    return [{"kecamatan": r["kecamatan"], "kel_desa": r["kel_desa"], "print_ready": r["n"]} for r in rows]


async def _blanks_unspent(db: Any) -> int:
    """The blanks in hand at both levels: the regency's stock and every station's (the books' `in_stock`, blanks
    borrowed from other regencies among them, blanks lent to them not)."""
    return sum(b.in_stock for b in await books.all_books(db))


async def compute(db: Any, period: str, settings: PlanningSettings) -> tuple[Terms, list[dict[str, Any]]]:
    """The terms of the request for `period` (`YYYY-MM`), as the station stands today; and print-ready by village."""
    first, last = month_bounds(period)
    villages = await _print_ready_by_village(db, first)
    becoming = await db.fetchone(
        f"SELECT count(*) AS n FROM ({people_sql()}) AS people WHERE {BECOMING_SQL} "
        f"AND status NOT IN ('{PRINTED}', '{ISSUED}')",
        (first, last),
    )
    reprints = await db.fetchone(
        "SELECT count(*) AS n FROM nik_locks l JOIN unlocks u ON u.id = l.unlock_id "
        "WHERE l.unlocked_at IS NOT NULL AND u.used_by_job IS NULL"
    )
    every = await books.all_books(db)
    latest = every[-settings.bad_rate_allocations :]
    end = today()
    recent = sum((await cards_printed_by_day(db, working_days_back(end, settings.average_working_days), end)).values())
    terms = Terms(
        print_ready=sum(v["print_ready"] for v in villages),
        becoming_wajib=int(becoming["n"]),
        reprints=int(reprints["n"]),
        blanks_used=sum(b.good + b.bad + b.spoiled for b in latest),
        bad_used=sum(b.bad + b.spoiled for b in latest),
        in_stock=sum(b.in_stock for b in every),
        cards_printed_recent=recent,
        working_days=settings.average_working_days,
        lead_time_days=settings.lead_time_days,
        borrowed=sum(b.borrowed for b in every),
        lent=sum(b.lent for b in every),
    )
    return terms, villages


def check_period(period: str) -> str:
    if not books.PERIOD.match(period):
        raise UsageError(t("books.bad_period", period=period))
    return period


async def draft(
    store: Store,
    period: str,
    settings: PlanningSettings,
    station_id: str,
    actor: str,
    write: Callable[[dict[str, Any]], Any] | None = None,
) -> dict[str, Any]:
    """Compute the request for `period` and keep it as a draft (a draft is computed again; a request sent is
    not). Returns the request's JSON body.

    `write` (the body → its files) runs inside the transaction, after the draft and its audit entry are in it and
    before they are committed: files that cannot be written roll the draft back, so a draft is never kept
    without its files."""
    check_period(period)
    async with store.transaction(actor) as tx:
        current = await tx.fetchone("SELECT state FROM blank_requests WHERE period = ?", (period,))
        if current is not None and current["state"] != DRAFTED:
            raise RefusedError(t("request.not_a_draft", period=period, state=t(f"request.state.{current['state']}")))
        terms, villages = await compute(tx, period, settings)
        at = now_iso()
        body = {
            "format": FORMAT,
            "station_id": station_id,
            "period": period,
            "requested": terms.requested,
            "terms": terms.as_dict(),
            "print_ready_by_village": villages,
            "as_of": today().isoformat(),
            "drafted_at": at,
        }
        text = json.dumps(body, ensure_ascii=False, sort_keys=True)
        if current is None:
            await tx.execute(
                "INSERT INTO blank_requests (period, state, requested, body, drafted_at) VALUES (?, ?, ?, ?, ?)",
                (period, DRAFTED, terms.requested, text, at),
            )
        else:
            await tx.execute(
                "UPDATE blank_requests SET requested = ?, body = ?, drafted_at = ? WHERE period = ?",
                (terms.requested, text, at, period),
            )
        await tx.audit("request.drafted", period, requested=terms.requested, terms=terms.as_dict(), again=bool(current))
        if write is not None:
            await asyncio.to_thread(write, body)
    return body


@dataclass(frozen=True)
class BlankRequest:
    period: str
    state: str
    requested: int
    drafted_at: str
    sent_at: str | None
    approved_at: str | None
    granted: int | None
    received_at: str | None
    allocation_id: str | None

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _request(row: Any) -> BlankRequest:
    return BlankRequest(*(row[k] for k in BlankRequest.__dataclass_fields__))


async def get(db: Any, period: str) -> BlankRequest:
    row = await db.fetchone("SELECT * FROM blank_requests WHERE period = ?", (period,))
    if row is None:
        raise UsageError(t("request.unknown", period=period))
    return _request(row)


async def list_requests(db: Any) -> list[BlankRequest]:
    return [_request(row) for row in await db.fetchall("SELECT * FROM blank_requests ORDER BY period")]


async def _step(tx: Any, period: str, new: str) -> BlankRequest:
    current = await get(tx, period)
    if NEXT.get(current.state) != new:
        raise RefusedError(t("request.bad_step", period=period, state=t(f"request.state.{current.state}"),
                             new=t(f"request.state.{new}")))  # fmt: skip
    return current


async def mark_sent(store: Store, period: str, actor: str) -> BlankRequest:
    async with store.transaction(actor) as tx:
        await _step(tx, period, SENT)
        await tx.execute("UPDATE blank_requests SET state = ?, sent_at = ? WHERE period = ?", (SENT, now_iso(), period))
        await tx.audit("request.sent", period)
        return await get(tx, period)


async def mark_approved(store: Store, period: str, granted: int, actor: str) -> BlankRequest:
    if not 0 <= granted <= books.MAX_BLANKS:
        raise UsageError(t("books.bad_counted", count=granted, most=books.MAX_BLANKS))
    async with store.transaction(actor) as tx:
        current = await _step(tx, period, APPROVED)
        await tx.execute(
            "UPDATE blank_requests SET state = ?, approved_at = ?, granted = ? WHERE period = ?",
            (APPROVED, now_iso(), granted, period),
        )
        await tx.audit("request.approved", period, granted=granted, requested=current.requested)
        return await get(tx, period)


async def mark_received(store: Store, period: str, allocation_id: str, actor: str) -> BlankRequest:
    """The blanks granted arrived as the allocation `allocation_id` (recorded first with `allocation add`)."""
    async with store.transaction(actor) as tx:
        current = await _step(tx, period, RECEIVED)
        if current.granted == 0:
            raise RefusedError(t("request.nothing_granted", period=period))
        allocation = await books.allocation_books(tx, allocation_id)
        if allocation is None:
            raise UsageError(t("books.unknown", id=allocation_id))
        other = await tx.fetchone("SELECT period FROM blank_requests WHERE allocation_id = ?", (allocation_id,))
        if other is not None:
            raise RefusedError(t("request.allocation_taken", id=allocation_id, period=other["period"]))
        await tx.execute(
            "UPDATE blank_requests SET state = ?, received_at = ?, allocation_id = ? WHERE period = ?",
            (RECEIVED, now_iso(), allocation_id, period),
        )
        await tx.audit("request.received", period, allocation=allocation_id, granted=current.granted,
                       received=allocation.received)  # fmt: skip
        return await get(tx, period)


@dataclass(frozen=True)
class Pace:
    """What the chart of the console shows: cards printed each day, and where the stock and the backlog stand.

    The regency's, as the request counts them: on a ledger, every station's cards, queue and stock with the
    regency's own (a station's role reads them all), the same on every station's console; `station_stock` is the
    blanks the station reading holds, what its dashboard shows. On a station's own file the two are one."""

    days: list[tuple[date, int]]  # the last days, oldest first, with the cards printed on each
    in_stock: int
    queued: int
    print_ready: int  # recorded, wajib today, never printed (queued or not)
    per_working_day: float  # as the request counts it
    regency: bool = False  # on a regency ledger: the figures are the regency's, all its stations
    station_stock: int = 0  # of in_stock, the blanks the station reading holds


async def pace(db: Any, settings: PlanningSettings, days: int = 14) -> Pace:
    end = today()
    printed = await cards_printed_by_day(db, end - timedelta(days=days - 1), end)
    window = working_days_back(end, settings.average_working_days)
    recent = sum((await cards_printed_by_day(db, window, end)).values())
    ready = await _print_ready_by_village(db, (end + timedelta(days=1)).isoformat())
    queued = await db.fetchone("SELECT count(*) AS n FROM jobs WHERE state = 'queued'")
    return Pace(
        days=sorted(printed.items()),
        in_stock=await _blanks_unspent(db),
        queued=int(queued["n"]),
        print_ready=sum(v["print_ready"] for v in ready),
        per_working_day=recent / settings.average_working_days,
        regency=db.dialect == "postgresql",
        station_stock=await books.stock_total(db),
    )
