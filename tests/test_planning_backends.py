"""Planning's SQL on both stores (an SQLite file and the regency ledger's PostgreSQL): the wajib branch of the lock
rule, the population and its counts, rounds, and the request's terms and life agree on both."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from console import blank_requests, books, jobs, locks, population, rounds
from console.central import simulator
from console.clock import fix_today
from console.config import PlanningSettings
from console.errors import RefusedError
from console.population_import import import_population
from console.resident_import import import_residents
from console.store import Store
from tests.test_population import villager, write_population
from tests.test_unlock import apply, bad_two  # noqa: F401 (bad_two: the fixture of four cards, two reported bad)
from tests.test_wajib import person, write_residents

TODAY = date(2026, 12, 1)
ADULT = date(1980, 5, 5)


@pytest.fixture
async def store(database):
    async with await Store.open(database) as store:
        yield store


async def test_wajib_population_rounds_and_request_on_both_stores(store, tmp_path):
    fix_today(TODAY)
    teen, leap = person(1, date(2009, 12, 2)), person(2, date(2008, 2, 29))
    adults = [person(3 + i, ADULT + timedelta(days=i), marital="KAWIN", lokasi_perekaman="PANCOR",
                     tanggal_perekaman="2026-11-24") for i in range(3)]  # fmt: skip
    await import_residents(store, write_residents(tmp_path / "r.csv", [*adults, teen, leap]))
    refusal = await locks.refusal(store, teen["nik"])
    assert refusal is not None and (refusal.code, refusal.since) == ("not_wajib", "2026-12-02")
    leap_refusal = await locks.refusal(store, leap["nik"], on=date(2025, 2, 28))
    assert leap_refusal is not None and leap_refusal.since == "2025-03-01"
    assert await locks.refusal(store, teen["nik"], on=date(2026, 12, 2)) is None
    assert await jobs.count_ready(store) == 4 and await jobs.count_not_wajib(store) == 1

    village = [villager(20 + i, ADULT + timedelta(days=i), "BELUM_REKAM") for i in range(5)]
    village.append(villager(30, date(2010, 1, 9), "BELUM_WAJIB"))
    result = await import_population(store, write_population(tmp_path / "p.csv", village))
    assert (result.added, result.rejected) == (6, 0)
    [pancor] = await population.village_status(store)
    assert (pancor.people, pancor.wajib, pancor.not_recorded, pancor.print_ready) == (11, 9, 5, 5)
    assert [p.nik for p in await population.becoming_wajib(store, "2027-01")] == [village[-1]["nik"]]

    planning = PlanningSettings(recordings_per_kit_day=2)
    [planned] = await rounds.plan(store, planning, kit="KIT-1", team="TIM", start=date(2026, 11, 23), actor="t")
    assert (planned.kel_desa, planned.starts_on, planned.ends_on, planned.not_recorded) == (
        "PANCOR", "2026-11-23", "2026-11-25", 5)  # fmt: skip
    with pytest.raises(RefusedError):
        await rounds.plan(store, planning, kit="KIT-1", team="TIM", start=date(2026, 11, 25), actor="t",
                          kel_desa="PANCOR")  # fmt: skip
    assert await rounds.round_niks(store, planned.id) == sorted(a["nik"] for a in adults)
    assert await rounds.rounds_of(store, adults[0]["nik"]) == [planned.id]
    assert await rounds.rounds_of(store, teen["nik"]) == []
    await rounds.close(store, planned.id, 3, "t")

    await books.add_allocation(store, "A", 7, None, "t")
    body = await blank_requests.draft(store, "2027-01", PlanningSettings(), "5203-01", "t")
    # 5 print-ready (3 adults, the leap-day 18-year-old, the teen who turns 17 before January), 1 turning 17 in
    # January: 6 cards, no rate nor pace yet, 7 blanks in stock: nothing to ask
    assert (body["terms"]["print_ready"], body["terms"]["becoming_wajib"], body["requested"]) == (5, 1, 0)
    await blank_requests.mark_sent(store, "2027-01", "t")
    await blank_requests.mark_approved(store, "2027-01", 5, "t")
    with pytest.raises(RefusedError):
        await blank_requests.mark_sent(store, "2027-01", "t")
    await books.add_allocation(store, "B", 5, "2027-01", "t")
    received = await blank_requests.mark_received(store, "2027-01", "B", "t")
    assert (received.state, received.allocation_id) == ("received", "B")


async def test_blanks_short_the_claim_takes_first_cards_before_reprints_on_both_stores(bad_two):
    """Two reprints queued before a first card, one blank left: the claim (SQLite's, the ledger's SKIP LOCKED)
    takes the first card, then the reprints in queue order; with blanks enough, or the option off, queue order."""
    _, store, niks, report, centre, keys = bad_two
    await apply(store, simulator.grant_for_report(report, centre.key), keys)  # unlocks niks[2] and niks[3]
    [allocation] = await books.all_books(store)
    # 1 blank left here, 15 in the regency's stock
    await books.return_unused(store, allocation.allocation_id, store.station_id, 15, "t")
    assert (await jobs.enqueue(store, [niks[2], niks[3], niks[4]], "t")).refused == []
    first = await jobs.claim(store, first_cards_first=True)
    assert first is not None and first.nik == niks[4]
    following = await jobs.claim(store, after=first.id, first_cards_first=True)
    assert following is not None and following.nik == niks[2]
    await jobs.release_claims(store)
    plain = await jobs.claim(store)
    assert plain is not None and plain.nik == niks[2]
    await jobs.release_claims(store)
    await books.issue(store, allocation.allocation_id, store.station_id, 2, "t")  # 3 blanks for 3 jobs: not short
    enough = await jobs.claim(store, first_cards_first=True)
    assert enough is not None and enough.nik == niks[2]
