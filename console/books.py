"""The blank books: allocations received, blanks issued to stations, spent oldest allocation first, counted.

For each allocation, at every moment: received + borrowed − lent = good + bad + untagged + spoiled + in_stock,
where in_stock is the regency's stock (`allocations.in_stock`, not issued yet) plus every station's
(`station_stock.in_stock`), and borrowed and lent are the blanks borrowed from other regencies and lent to them,
not returned yet (`console/blank_loans.py`). At the two levels: the regency's received + borrowed − lent = issued
to stations + in the regency's stock; each station's issued
= good + bad + untagged + spoiled + in its stock (its own jobs and spoiled blanks). The stocks are kept as their
own columns (changed in the same transaction as the blank they count), so the equations are real checks.

A station spends only the blanks issued to it. A station's own SQLite file is a regency of one: an allocation
received there is issued to the station whole, at once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from console import formats, printer_record, stations
from console.clock import now_iso
from console.errors import RefusedError, UsageError
from console.i18n import t
from console.operators import SUPERVISOR, require_role
from console.store import Store

ALLOCATION_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}\Z")  # \Z: `$` lets a final newline in
PERIOD = re.compile(r"[0-9]{4}-(0[1-9]|1[0-2])\Z")  # [0-9]: `\d` takes any script's digits
MAX_BLANKS = 10_000_000  # far above a regency's monthly allocation; a bigger number is a typing mistake


class NoStockError(RefusedError):
    """No allocation has a blank left."""


@dataclass(frozen=True)
class Books:
    allocation_id: str
    period: str | None
    received: int
    good: int
    bad: int
    untagged: int  # blanks spent on cards that wait for their tag (in the printer or the hopper)
    spoiled: int  # blanks consumed without a NIK
    in_stock: int
    received_at: str
    last_count: int | None = None
    last_count_at: str | None = None
    count_expected: int | None = None
    regency_stock: int = 0  # blanks not issued to any station yet (part of in_stock)
    borrowed: int = 0  # blanks borrowed from other regencies into this allocation, not returned yet
    lent: int = 0  # blanks of this allocation lent to other regencies, not returned yet

    @property
    def held(self) -> int:
        """The blanks the regency answers for: received from the centre, with the loans in and out."""
        return self.received + self.borrowed - self.lent

    @property
    def balanced(self) -> bool:
        return self.held == self.good + self.bad + self.untagged + self.spoiled + self.in_stock

    @property
    def difference(self) -> int:
        """received + borrowed - lent - (good + bad + untagged + spoiled + in_stock): zero when the books balance."""
        return self.held - (self.good + self.bad + self.untagged + self.spoiled + self.in_stock)

    @property
    def count_difference(self) -> int | None:
        """The last physical count minus what the books expected at that moment."""
        if self.last_count is None or self.count_expected is None:
            return None
        return self.last_count - self.count_expected

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.allocation_id,
            "period": self.period,
            "received": self.received,
            "good": self.good,
            "bad": self.bad,
            "untagged": self.untagged,
            "spoiled_no_nik": self.spoiled,
            "in_stock": self.in_stock,
            "balanced": self.balanced,
            "last_count": self.last_count,
            "count_difference": self.count_difference,
            "regency_stock": self.regency_stock,
            "issued": self.held - self.regency_stock,
            "borrowed": self.borrowed,
            "lent": self.lent,
        }


async def add_allocation(store: Store, allocation_id: str, count: int, period: str | None, actor: str) -> None:
    if not ALLOCATION_ID.match(allocation_id):
        raise UsageError(t("books.bad_id", id=allocation_id))
    if not 0 < count <= MAX_BLANKS:
        raise UsageError(t("books.bad_count", count=count, most=formats.count(MAX_BLANKS)))
    if period is not None and not PERIOD.match(period):
        raise UsageError(t("books.bad_period", period=period))
    async with store.transaction(actor) as tx:
        if await tx.fetchone("SELECT 1 FROM allocations WHERE id = ?", (allocation_id,)):
            raise RefusedError(t("books.duplicate", id=allocation_id))
        seq = (await tx.fetchall("SELECT coalesce(max(seq), 0) + 1 AS seq FROM allocations"))[0]["seq"]
        await tx.execute(
            "INSERT INTO allocations (id, seq, received, in_stock, period, received_at) VALUES (?, ?, ?, ?, ?, ?)",
            (allocation_id, seq, count, count, period, now_iso()),
        )
        await tx.audit("allocation.received", allocation_id, received=count, period=period)
        if tx.dialect == "sqlite":  # a regency of one: the station holds every blank the regency receives
            await move(tx, allocation_id, tx.station_id, count, audited=False)  # said by allocation.received


async def move(tx: Any, allocation_id: str, station_id: str, count: int, audited: bool = True) -> None:
    """`count` blanks from the regency's stock to the station's (a negative count: back); audited."""
    await tx.execute("UPDATE allocations SET in_stock = in_stock - ? WHERE id = ?", (count, allocation_id))
    key = (allocation_id, station_id)
    if await tx.fetchone("SELECT 1 FROM station_stock WHERE allocation_id = ? AND station_id = ?", key):
        await tx.execute("UPDATE station_stock SET issued = issued + ?, in_stock = in_stock + ? "
                         "WHERE allocation_id = ? AND station_id = ?", (count, count, *key))  # fmt: skip
    else:
        await tx.execute("INSERT INTO station_stock (allocation_id, station_id, issued, in_stock) VALUES (?, ?, ?, ?)",
                         (*key, count, count))  # fmt: skip
    if audited:
        action = "blanks.issued" if count > 0 else "blanks.returned"
        await tx.audit(action, allocation_id, station=station_id, count=abs(count))


async def issue(store: Store, allocation_id: str, station_id: str, count: int, actor: str) -> StationBooks:
    """Blanks of an allocation from the regency's stock to a station. Refused (nothing changed) for an unknown
    allocation or station, or more blanks than the regency's stock holds."""
    return await _issue_or_return(store, allocation_id, station_id, count, actor, back=False)


async def return_unused(store: Store, allocation_id: str, station_id: str, count: int, actor: str) -> StationBooks:
    """Unused blanks back from a station to the regency's stock. Refused (nothing changed) for more than the
    station holds unused."""
    return await _issue_or_return(store, allocation_id, station_id, count, actor, back=True)


async def _issue_or_return(store: Store, allocation_id: str, station_id: str, count: int, actor: str,
                           back: bool) -> StationBooks:  # fmt: skip
    if not 0 < count <= MAX_BLANKS:
        raise UsageError(t("books.bad_count", count=count, most=formats.count(MAX_BLANKS)))
    async with store.transaction(actor) as tx:
        row = await tx.fetchone("SELECT in_stock FROM allocations WHERE id = ?", (allocation_id,))
        if row is None:
            raise UsageError(t("books.unknown", id=allocation_id), hint="books.unknown")
        await stations.require(tx, station_id)
        held = await tx.fetchone(
            "SELECT in_stock FROM station_stock WHERE allocation_id = ? AND station_id = ?", (allocation_id, station_id)
        )
        unused = 0 if held is None else held["in_stock"]
        if back and count > unused:
            raise RefusedError(t("books.return_too_many", id=allocation_id, station=station_id, count=count,
                                 unused=unused))  # fmt: skip
        if not back and count > row["in_stock"]:
            raise RefusedError(t("books.issue_too_many", id=allocation_id, station=station_id, count=count,
                                 stock=row["in_stock"]))  # fmt: skip
        await move(tx, allocation_id, station_id, -count if back else count)
    [result] = [b for b in await station_books(store, allocation_id) if b.station_id == station_id]
    return result


async def take_blank(tx: Any) -> str:
    """Spend one blank of the transaction's station, from the oldest allocation it holds stock of; its id."""
    row = await tx.fetchone(
        "SELECT s.allocation_id FROM station_stock s JOIN allocations a ON a.id = s.allocation_id "
        "WHERE s.station_id = ? AND s.in_stock > 0 ORDER BY a.seq LIMIT 1",
        (tx.station_id,),
    )
    if row is None:
        raise NoStockError(t("books.no_stock_here", station=tx.station_id), hint="books.no_stock_here")
    await tx.execute(
        "UPDATE station_stock SET in_stock = in_stock - 1 WHERE allocation_id = ? AND station_id = ?",
        (row["allocation_id"], tx.station_id),
    )
    return row["allocation_id"]


async def return_blank(tx: Any, allocation_id: str | None) -> None:
    """A blank booked as spent never left the feeder: it is back in the transaction's station's stock."""
    await tx.execute(
        "UPDATE station_stock SET in_stock = in_stock + 1 WHERE allocation_id = ? AND station_id = ?",
        (allocation_id, tx.station_id),
    )


async def record_spoiled(tx: Any, card_counter: int | None, reason: str, note: str | None = None) -> str:
    """A blank consumed without a NIK (taken by the printer with no job of ours, damaged in stock)."""
    allocation_id = await take_blank(tx)
    await tx.execute(
        "INSERT INTO spoiled (allocation_id, card_counter, reason, note, at, station_id) VALUES (?, ?, ?, ?, ?, ?)",
        (allocation_id, card_counter, reason, note, now_iso(), tx.station_id),
    )
    await tx.audit("blank.spoiled", allocation_id, card_counter=card_counter, reason=reason, note=note)
    return allocation_id


async def reconcile_outside(store: Store, cards: int, reason: str, actor: str) -> printer_record.CounterAhead:
    """A supervisor accounts for the cards the printer's counter is ahead of the books by: each booked as a blank
    spoiled without a NIK (`taken_outside_station`, the reason as its note), and the queue may go on.

    Refused unless the queue stopped on exactly that many cards (`printer.counter_ahead`), so that a number typed
    blind cannot book cards the printer never took, nor hide ones it did.
    """
    if cards < 1:
        raise UsageError(t("books.reconcile_bad_count", cards=cards))
    if not reason.strip():
        raise UsageError(t("books.reconcile_no_reason"))
    async with store.transaction(actor) as tx:
        await require_role(tx, actor, SUPERVISOR, "reconcile")
        found = await printer_record.counter_ahead(tx)
        if found is None:
            raise RefusedError(t("books.reconcile_nothing"))
        if (
            await printer_record.booked_serial(tx) != found.serial
            or await printer_record.booked_counter(tx, found.serial) != found.booked
        ):
            raise RefusedError(t("books.reconcile_stale", serial=found.serial))
        if cards != found.cards:
            raise RefusedError(
                t(
                    "books.reconcile_wrong",
                    serial=found.serial,
                    found=found.cards,
                    booked=found.booked,
                    counter=found.counter,
                    cards=cards,
                )
            )
        for counter in range(found.booked + 1, found.counter + 1):
            await record_spoiled(tx, counter, "taken_outside_station", reason)
        await printer_record.book_counter(tx, found.counter)
        await printer_record.clear_counter_ahead(tx)
        await tx.audit(
            "books.reconciled", found.serial, cards=cards, booked=found.booked, counter=found.counter, reason=reason
        )
    return found


async def enter_count(store: Store, allocation_id: str, counted: int, note: str | None, actor: str) -> int:
    """Record a physical count of the allocation's blanks in stock; return counted - expected."""
    if not 0 <= counted <= MAX_BLANKS:
        raise UsageError(t("books.bad_counted", count=counted, most=formats.count(MAX_BLANKS)))
    async with store.transaction(actor) as tx:
        if await tx.fetchone("SELECT 1 FROM allocations WHERE id = ?", (allocation_id,)) is None:
            raise UsageError(t("books.unknown", id=allocation_id), hint="books.unknown")
        row = await tx.fetchone(  # the blanks counted are the station's own
            "SELECT in_stock FROM station_stock WHERE allocation_id = ? AND station_id = ?",
            (allocation_id, tx.station_id),
        )
        expected = 0 if row is None else row["in_stock"]
        await tx.execute(
            "INSERT INTO stock_counts (allocation_id, counted, expected, note, counted_by, at) VALUES (?, ?, ?, ?, ?, ?)",
            (allocation_id, counted, expected, note, actor, now_iso()),
        )
        await tx.audit("stock.counted", allocation_id, counted=counted, expected=expected, note=note)
    return counted - expected


_BOOKS_SQL = """
SELECT a.id, a.period, a.received, a.received_at, a.in_stock AS regency_stock,
  a.in_stock + coalesce((SELECT sum(s.in_stock) FROM station_stock s WHERE s.allocation_id = a.id), 0) AS in_stock,
  (SELECT count(*) FROM jobs j WHERE j.allocation_id = a.id AND j.state = 'done_good') AS good,
  (SELECT count(*) FROM jobs j WHERE j.allocation_id = a.id AND j.state = 'done_bad') AS bad,
  (SELECT count(*) FROM jobs j WHERE j.allocation_id = a.id AND j.state IN ('printing', 'printed')) AS untagged,
  (SELECT count(*) FROM spoiled s WHERE s.allocation_id = a.id) AS spoiled,
  c.counted AS last_count, c.at AS last_count_at, c.expected AS count_expected,
  coalesce((SELECT sum(CASE l.kind WHEN 'borrowed' THEN l.blanks WHEN 'borrowed_returned' THEN -l.blanks ELSE 0 END)
            FROM blank_loans l WHERE l.allocation_id = a.id), 0) AS borrowed,
  coalesce((SELECT sum(CASE l.kind WHEN 'lent' THEN l.blanks WHEN 'lent_returned' THEN -l.blanks ELSE 0 END)
            FROM blank_loans l WHERE l.allocation_id = a.id), 0) AS lent
FROM allocations a
LEFT JOIN stock_counts c ON c.id = (SELECT max(id) FROM stock_counts WHERE allocation_id = a.id)
"""


def _books(row: Any) -> Books:
    return Books(
        row["id"],
        row["period"],
        row["received"],
        row["good"],
        row["bad"],
        row["untagged"],
        row["spoiled"],
        row["in_stock"],
        row["received_at"],
        row["last_count"],
        row["last_count_at"],
        row["count_expected"],
        row["regency_stock"],
        int(row["borrowed"]),
        int(row["lent"]),
    )


async def allocation_books(db: Any, allocation_id: str) -> Books | None:
    row = await db.fetchone(_BOOKS_SQL + " WHERE a.id = ?", (allocation_id,))
    return None if row is None else _books(row)


async def all_books(db: Any) -> list[Books]:
    return [_books(row) for row in await db.fetchall(_BOOKS_SQL + " ORDER BY a.seq")]


async def current_allocation(db: Any) -> Books | None:
    """The allocation the store's station spends blanks from now (else the newest one)."""
    row = await db.fetchone(
        "SELECT a.id, coalesce(s.in_stock, 0) AS here FROM allocations a LEFT JOIN station_stock s "
        "ON s.allocation_id = a.id AND s.station_id = ? "
        "ORDER BY (coalesce(s.in_stock, 0) = 0), CASE WHEN coalesce(s.in_stock, 0) > 0 THEN a.seq ELSE -a.seq END "
        "LIMIT 1",
        (db.station_id,),
    )
    return None if row is None else await allocation_books(db, row["id"])


async def allocation_count(db: Any) -> int:
    return await db.scalar("SELECT count(*) FROM allocations")


async def spoiled_since(db: Any, start: str, station: str | None = None) -> int:
    """Blanks consumed without a NIK since `start` (ISO time), by every station or by `station` alone."""
    return await db.scalar("SELECT count(*) FROM spoiled WHERE at >= ? AND (CAST(? AS TEXT) IS NULL OR station_id = ?)",
                           (start, station, station))  # fmt: skip


async def stock_total(db: Any) -> int:
    """The blanks the store's station holds (issued to it, not spent), all allocations together."""
    row = await db.fetchone("SELECT coalesce(sum(in_stock), 0) AS n FROM station_stock WHERE station_id = ?",
                            (db.station_id,))  # fmt: skip
    return int(row["n"])


@dataclass(frozen=True)
class StationBooks:
    """One station's books of one allocation: issued = good + bad + untagged + spoiled + in_stock."""

    allocation_id: str
    station_id: str
    issued: int
    good: int
    bad: int
    untagged: int
    spoiled: int
    in_stock: int

    @property
    def balanced(self) -> bool:
        return self.issued == self.good + self.bad + self.untagged + self.spoiled + self.in_stock

    def as_dict(self) -> dict[str, Any]:
        return {"station": self.station_id, "issued": self.issued, "good": self.good, "bad": self.bad,
                "untagged": self.untagged, "spoiled_no_nik": self.spoiled, "in_stock": self.in_stock,
                "balanced": self.balanced}  # fmt: skip


_STATION_BOOKS_SQL = """
SELECT s.allocation_id, s.station_id, s.issued, s.in_stock,
  (SELECT count(*) FROM jobs j WHERE j.allocation_id = s.allocation_id AND j.station_id = s.station_id
     AND j.state = 'done_good') AS good,
  (SELECT count(*) FROM jobs j WHERE j.allocation_id = s.allocation_id AND j.station_id = s.station_id
     AND j.state = 'done_bad') AS bad,
  (SELECT count(*) FROM jobs j WHERE j.allocation_id = s.allocation_id AND j.station_id = s.station_id
     AND j.state IN ('printing', 'printed')) AS untagged,
  (SELECT count(*) FROM spoiled p WHERE p.allocation_id = s.allocation_id AND p.station_id = s.station_id) AS spoiled
FROM station_stock s WHERE s.allocation_id = ? ORDER BY s.station_id
"""


async def station_books(db: Any, allocation_id: str) -> list[StationBooks]:
    """Each station's books of the allocation (the stations it was issued to)."""
    return [StationBooks(r["allocation_id"], r["station_id"], r["issued"], r["good"], r["bad"], r["untagged"],
                         r["spoiled"], r["in_stock"]) for r in await db.fetchall(_STATION_BOOKS_SQL, (allocation_id,))]  # fmt: skip
