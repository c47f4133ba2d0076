"""Blanks lent between regencies: borrowed from another regency into an allocation's stock, lent to one out of it,
and each loan returned, every move with the letter that made it, audited.

The books (`console/books.py`) count what is not returned yet: received + borrowed − lent = good + bad + untagged +
spoiled + in stock. Loans move the regency's stock (`allocations.in_stock`); a station's own SQLite file is a
regency of one whose station holds every blank, so there a loan moves the station's stock with it.
"""

from __future__ import annotations

from typing import Any

from console import books, formats
from console.clock import now_iso
from console.errors import RefusedError, UsageError
from console.i18n import t
from console.resident_rows import TEXT_MAX, control_problem
from console.store import Store

BORROWED, LENT, BORROWED_RETURNED, LENT_RETURNED = "borrowed", "lent", "borrowed_returned", "lent_returned"
INTO_STOCK = (BORROWED, LENT_RETURNED)  # the other two take blanks out of the stock
# A return answers the loan it repays, and cannot return more than that loan still owes.
_RETURNS = {BORROWED_RETURNED: BORROWED, LENT_RETURNED: LENT}
_ACTIONS = {BORROWED: "blanks.borrowed", LENT: "blanks.lent", BORROWED_RETURNED: "blanks.loan_returned",
            LENT_RETURNED: "blanks.loan_returned"}  # fmt: skip


async def borrow(store: Store, allocation_id: str, count: int, regency: str, letter: str, actor: str) -> books.Books:
    """`count` blanks borrowed from `regency` (under its letter `letter`) into the allocation's stock."""
    return await _loan(store, allocation_id, BORROWED, count, regency, letter, actor)


async def lend(store: Store, allocation_id: str, count: int, regency: str, letter: str, actor: str) -> books.Books:
    """`count` blanks of the allocation's regency stock lent to `regency`; refused beyond that stock."""
    return await _loan(store, allocation_id, LENT, count, regency, letter, actor)


async def loan_returned(store: Store, allocation_id: str, count: int, regency: str, letter: str, actor: str,
                        *, to_us: bool) -> books.Books:  # fmt: skip
    """A loan returned: `to_us`, `regency` gives back blanks it was lent; else we give back blanks borrowed from it.
    Refused beyond what the loan still owes."""
    return await _loan(store, allocation_id, LENT_RETURNED if to_us else BORROWED_RETURNED, count, regency, letter,
                       actor)  # fmt: skip


def _text(field: str, value: str) -> str:
    value = value.strip()
    if not value:
        raise UsageError(t("loan.empty", field=field))
    if len(value) > TEXT_MAX:
        raise UsageError(t("loan.too_long", field=field, count=len(value), limit=TEXT_MAX))
    if (why := control_problem(value)) is not None:
        raise UsageError(t("loan.bad_text", field=field, why=why))
    return value


async def _loan(store: Store, allocation_id: str, kind: str, count: int, regency: str, letter: str,
                actor: str) -> books.Books:  # fmt: skip
    if not 0 < count <= books.MAX_BLANKS:
        raise UsageError(t("books.bad_count", count=count, most=formats.count(books.MAX_BLANKS)))
    regency, letter = _text("regency", regency), _text("letter", letter)
    async with store.transaction(actor) as tx:
        before = await books.allocation_books(tx, allocation_id)
        if before is None:
            raise UsageError(t("books.unknown", id=allocation_id), hint="books.unknown")
        if kind in _RETURNS:
            owed = await _owed(tx, allocation_id, _RETURNS[kind], regency)
            if count > owed:
                raise RefusedError(t(f"loan.{kind}_too_many", id=allocation_id, regency=regency, count=count,
                                     owed=owed))  # fmt: skip
        if kind in INTO_STOCK:
            await tx.execute("UPDATE allocations SET in_stock = in_stock + ? WHERE id = ?", (count, allocation_id))
            if tx.dialect == "sqlite":  # a regency of one: its station holds the blanks (said by the loan's entry)
                await books.move(tx, allocation_id, tx.station_id, count, audited=False)
        else:
            stock = await _regency_stock(tx, allocation_id)
            if count > stock:
                raise RefusedError(t("loan.out_too_many", id=allocation_id, regency=regency, count=count,
                                     stock=stock))  # fmt: skip
            if tx.dialect == "sqlite":
                await books.move(tx, allocation_id, tx.station_id, -count, audited=False)
            await tx.execute("UPDATE allocations SET in_stock = in_stock - ? WHERE id = ?", (count, allocation_id))
        await tx.execute(
            "INSERT INTO blank_loans (allocation_id, kind, regency, blanks, letter, at, actor) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (allocation_id, kind, regency, count, letter, now_iso(), actor),
        )
        await tx.audit(_ACTIONS[kind], allocation_id, kind=kind, regency=regency, count=count, letter=letter)
        after = await books.allocation_books(tx, allocation_id)
    assert after is not None
    return after


async def _owed(tx: Any, allocation_id: str, loan: str, regency: str) -> int:
    """What the loans of one kind between the allocation and `regency` still owe: lent (or borrowed), less returned."""
    returned = BORROWED_RETURNED if loan == BORROWED else LENT_RETURNED
    row = await tx.fetchone(
        "SELECT coalesce(sum(CASE WHEN kind = ? THEN blanks ELSE -blanks END), 0) AS n FROM blank_loans "
        "WHERE allocation_id = ? AND regency = ? AND kind IN (?, ?)",
        (loan, allocation_id, regency, loan, returned),
    )
    return int(row["n"])


async def _regency_stock(tx: Any, allocation_id: str) -> int:
    """The blanks a loan may take: the regency's stock (on a station's own file, its station's unused blanks)."""
    if tx.dialect == "sqlite":
        row = await tx.fetchone(
            "SELECT coalesce(sum(in_stock), 0) AS n FROM station_stock WHERE allocation_id = ? AND station_id = ?",
            (allocation_id, tx.station_id),
        )
    else:
        row = await tx.fetchone("SELECT in_stock AS n FROM allocations WHERE id = ?", (allocation_id,))
    return int(row["n"])
