"""The queue's bookkeeping without a printer: allocations, the lock rule, job states, tags."""

import pytest

from console import books, jobs, locks, reports
from console.errors import RefusedError, UsageError
from console.store import Store
from tests.factory import add_residents, receive_blanks


@pytest.fixture
async def store(database):
    async with await Store.open(database) as store:
        yield store


async def take_card(store, job_id, counter):
    """Book a blank for a job as the engine does, then record its card as printed."""
    job = await jobs.get_job(store, job_id)
    async with store.transaction() as tx:
        allocation = await books.take_blank(tx)
        await locks.lock_for_job(tx, job.nik, job.id, "2026-11-28T09:00:00.000+08:00")
        await jobs.set_state(tx, job.id, jobs.PRINTING, allocation_id=allocation, counter_before=counter - 1)
        await jobs.set_state(tx, job.id, jobs.PRINTED, card_counter=counter, card_dest="hopper")


async def test_allocation_rules(store):
    await receive_blanks(store, "JATAH-2026-11", 10, "2026-11", "op")
    with pytest.raises(RefusedError):
        await receive_blanks(store, "JATAH-2026-11", 5, None, "op")
    for bad in [("x y", 5, None), ("J2", 0, None), ("J3", 5, "2026-13")]:
        with pytest.raises(UsageError):
            await receive_blanks(store, *bad, "op")
    [b] = await books.all_books(store)
    assert (b.received, b.in_stock, b.balanced) == (10, 10, True)


async def test_blanks_come_from_the_oldest_allocation_and_books_balance(store):
    niks = await add_residents(store, 4)
    await receive_blanks(store, "A", 2, None, "op")
    await receive_blanks(store, "B", 5, None, "op")
    await jobs.enqueue(store, niks, "op")
    for counter, job in enumerate(await store.fetchall("SELECT id FROM jobs ORDER BY id"), start=101):
        await take_card(store, job["id"], counter)
    a, b = await books.all_books(store)
    assert (a.in_stock, a.untagged, b.in_stock, b.untagged) == (0, 2, 3, 2)
    await jobs.tag(store, niks[0], True, "op")
    await jobs.tag(store, niks[1], False, "op", "gagal_cetak")
    a = await books.allocation_books(store, "A")
    assert (a.good, a.bad, a.untagged, a.balanced) == (1, 1, 0, True)


async def test_locked_nik_is_refused_by_every_path(store):
    [nik] = await add_residents(store, 1)
    await receive_blanks(store, "A", 5, None, "op")
    await jobs.enqueue(store, [nik], "op")
    job = await jobs.next_queued(store)
    await take_card(store, job.id, 7)
    refusal = await locks.refusal(store, nik)
    assert refusal.code == "locked" and refusal.card_counter == 7
    result = await jobs.enqueue(store, [nik], "op")
    assert result.queued == [] and result.refused[0].code == "locked"
    assert await jobs.enqueue_ready(store, "op") == 0


async def test_queue_refuses_unknown_and_duplicate(store):
    [nik] = await add_residents(store, 1)
    first = await jobs.enqueue(store, [nik, "5203070101900999"], "op")
    assert first.queued == [nik] and first.refused[0].code == "unknown_nik"
    again = await jobs.enqueue(store, [nik], "op")
    assert again.refused[0].code == "already_queued"


async def test_tag_rules_and_correction_before_report(store):
    [nik] = await add_residents(store, 1)
    await receive_blanks(store, "A", 5, None, "op")
    await jobs.enqueue(store, [nik], "op")
    with pytest.raises(RefusedError):
        await jobs.tag(store, nik, True, "op")  # nothing printed yet
    await take_card(store, (await jobs.next_queued(store)).id, 1)
    with pytest.raises(UsageError):
        await jobs.tag(store, nik, False, "op", "lainnya")  # note required
    with pytest.raises(UsageError):
        await jobs.tag(store, nik, False, "op", "kusut")
    await jobs.tag(store, nik, True, "op")
    job = await jobs.tag(store, nik, False, "op", "salah_data")  # corrected
    assert job.state == "done_bad" and job.tag_reason == "salah_data"
    # A report lists the card: its tag stands, whatever the times say (a report's own record, not a clock).
    async with store.transaction() as tx:
        await tx.execute("UPDATE jobs SET tagged_at = '2099-11-29T10:00:00.000+08:00' WHERE nik = ?", (nik,))
    made = await reports.make_report(store, "A", "5203-01", "op")
    with pytest.raises(RefusedError, match=made.report_id[:12]):
        await jobs.tag(store, nik, True, "op")
    actions = [r["action"] for r in await store.fetchall("SELECT action FROM audit WHERE subject = ?", (nik,))]
    assert "card.tagged" in actions and "card.retagged" in actions


async def test_state_machine_refuses_illegal_moves(store):
    [nik] = await add_residents(store, 1)
    await jobs.enqueue(store, [nik], "op")
    job = await jobs.next_queued(store)
    await jobs.hold(store, job.id, "op")
    with pytest.raises(jobs.TransitionError):
        async with store.transaction() as tx:
            await jobs.set_state(tx, job.id, jobs.PRINTED)
    await jobs.release(store, job.id, "op")
    await jobs.cancel(store, job.id, "op")
    assert (await jobs.get_job(store, job.id)).state == "cancelled"
    assert (await jobs.enqueue(store, [nik], "op")).queued == [nik]  # a cancelled job does not block the NIK


async def test_release_lock_when_no_card_was_taken(store):
    [nik] = await add_residents(store, 1)
    await receive_blanks(store, "A", 5, None, "op")
    await jobs.enqueue(store, [nik], "op")
    job = await jobs.next_queued(store)
    async with store.transaction() as tx:
        allocation = await books.take_blank(tx)
        await locks.lock_for_job(tx, nik, job.id, "t")
        await jobs.set_state(tx, job.id, jobs.PRINTING, allocation_id=allocation, counter_before=3)
    assert (await locks.refusal(store, nik, for_job=job.id)).code == "locked"
    async with store.transaction() as tx:
        await locks.release_for_job(tx, nik, job.id)
        await books.return_blank(tx, allocation)
        await jobs.set_state(tx, job.id, jobs.QUEUED, allocation_id=None)
    assert await locks.refusal(store, nik, for_job=job.id) is None
    assert (await books.allocation_books(store, "A")).in_stock == 5


async def test_physical_count_difference_is_kept(store):
    await receive_blanks(store, "A", 10, None, "op")
    assert await books.enter_count(store, "A", 9, "one missing", "op") == -1
    b = await books.allocation_books(store, "A")
    assert (b.last_count, b.count_difference, b.balanced) == (9, -1, True)
