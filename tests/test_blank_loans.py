"""Blanks borrowed from another regency and lent to one, in the books: received + borrowed − lent = good + bad +
untagged + spoiled + in stock (at the regency's level: = issued + the regency's stock), on an SQLite station and
on the regency's ledger; audited, replayed from the audit log, counted in the request's stock and shown there."""

from __future__ import annotations

import json

import pytest

from console import audit, audit_state, blank_loans, blank_requests, books
from console.config import PlanningSettings
from console.errors import RefusedError, UsageError
from console.store import Store
from tests.command import station, write_config

LETTER = "470/123/DUKCAPIL/2026"


@pytest.fixture
async def store(database):
    async with await Store.open(database) as store:
        yield store


async def _regency_level_balances(store: Store, allocation_id: str) -> books.Books:
    b = await books.allocation_books(store, allocation_id)
    assert b is not None and b.balanced, b
    issued = sum(s.issued for s in await books.station_books(store, allocation_id))
    assert b.received + b.borrowed - b.lent == issued + b.regency_stock, b
    assert all(s.balanced for s in await books.station_books(store, allocation_id))
    return b


async def test_blanks_borrowed_lent_and_returned_keep_the_books_balanced(store):
    await books.add_allocation(store, "A", 10, None, "admin")
    await blank_loans.borrow(store, "A", 5, "5202", LETTER, "admin")
    b = await _regency_level_balances(store, "A")
    assert (b.received, b.borrowed, b.lent, b.in_stock) == (10, 5, 0, 15)

    with pytest.raises(RefusedError) as refused:  # more than the regency holds: nothing changes
        await blank_loans.lend(store, "A", 16, "5204", LETTER, "admin")
    assert "16" in str(refused.value) and "15" in str(refused.value) and "A" in str(refused.value)
    assert (await books.allocation_books(store, "A")) == b

    await blank_loans.lend(store, "A", 4, "5204", LETTER, "admin")
    b = await _regency_level_balances(store, "A")
    assert (b.borrowed, b.lent, b.in_stock) == (5, 4, 11)
    assert b.as_dict()["borrowed"] == 5 and b.as_dict()["lent"] == 4

    terms, _ = await blank_requests.compute(store, "2031-01", PlanningSettings())
    assert (terms.in_stock, terms.borrowed, terms.lent) == (11, 5, 4)
    assert {"borrowed": 5, "lent": 4}.items() <= terms.as_dict().items()

    with pytest.raises(RefusedError):  # 5204 owes no more than the four it was lent
        await blank_loans.loan_returned(store, "A", 5, "5204", LETTER, "admin", to_us=True)
    with pytest.raises(RefusedError):  # nothing was borrowed from 5204
        await blank_loans.loan_returned(store, "A", 1, "5204", LETTER, "admin", to_us=False)
    await blank_loans.loan_returned(store, "A", 4, "5204", LETTER, "admin", to_us=True)
    await blank_loans.loan_returned(store, "A", 5, "5202", LETTER, "admin", to_us=False)
    b = await _regency_level_balances(store, "A")
    assert (b.borrowed, b.lent, b.in_stock) == (0, 0, 10)

    for bad in ((0, "5202", LETTER), (3, " ", LETTER), (3, "5202", ""), (3, "5202\x1b[2J", LETTER)):
        with pytest.raises(UsageError):
            await blank_loans.borrow(store, "A", *bad, "admin")
    with pytest.raises(UsageError):
        await blank_loans.borrow(store, "NONE", 3, "5202", LETTER, "admin")
    assert (await audit.verify(store))[1] is None and await audit_state.differences(store) == []
    actions = [r["action"] for r in await store.fetchall("SELECT action FROM audit WHERE action LIKE 'blanks.%'")]
    assert actions.count("blanks.borrowed") == 1 and actions.count("blanks.lent") == 1
    assert actions.count("blanks.loan_returned") == 2


def ok(result):
    assert result.returncode == 0, result.stderr
    return result


def test_loans_from_the_command_line_in_the_list_the_request_and_the_report(tmp_path):
    config = write_config(tmp_path)
    ok(station(config, "allocation", "add", "JATAH-A", "10"))
    ok(station(config, "allocation", "borrow", "JATAH-A", "6", "--from", "5202", "--letter", LETTER))
    too_many = station(config, "allocation", "lend", "JATAH-A", "17", "--to", "5204", "--letter", LETTER)
    assert too_many.returncode == 4 and "16" in too_many.stderr and "JATAH-A" in too_many.stderr
    no_letter = station(config, "allocation", "lend", "JATAH-A", "2", "--to", "5204")
    assert no_letter.returncode == 2
    ok(station(config, "allocation", "lend", "JATAH-A", "2", "--to", "5204", "--letter", LETTER))
    [listed] = json.loads(ok(station(config, "allocation", "list", "--json")).stdout)
    assert (listed["received"], listed["borrowed"], listed["lent"], listed["in_stock"], listed["balanced"]) == (
        10, 6, 2, 14, True)  # fmt: skip
    text = ok(station(config, "allocation", "list")).stdout
    assert "borrowed 6" in text and "lent 2" in text
    drafted = json.loads(
        ok(station(config, "request", "draft", "2031-01", "--out", str(tmp_path / "u"), "--json")).stdout
    )
    assert (drafted["terms"]["in_stock"], drafted["terms"]["borrowed"], drafted["terms"]["lent"]) == (14, 6, 2)
    ok(station(config, "allocation", "return-loan", "JATAH-A", "2", "--from", "5204", "--letter", LETTER))
    owed = station(config, "allocation", "return-loan", "JATAH-A", "7", "--to", "5202", "--letter", LETTER)
    assert owed.returncode == 4 and "5202" in owed.stderr and "6" in owed.stderr
    ok(station(config, "report", "JATAH-A", "--out", str(tmp_path / "laporan")))  # the books balance: reportable
    [report] = (tmp_path / "laporan").glob("laporan-*.json")
    body = json.loads(report.read_text(encoding="utf-8"))
    assert body["allocation"]["borrowed"] == 6 and body["allocation"]["lent"] == 0
    assert sum(body["counts"].values()) == 10 + 6
    ok(station(config, "audit", "verify"))
