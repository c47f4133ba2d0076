"""The print engine against the real emulator over a real pseudo-terminal: cards, faults, settling."""

import asyncio
import json

import pytest
from PIL import Image

from console import books, jobs, locks
from console.engine import EMPTY, IDLE, STOPPED, WAITING_TAGS, CardNotLaidOut, CounterAhead, PrinterMismatch
from drivers.emulator import read_output_log
from tests.conftest import wait_for
from tests.factory import receive_blanks
from tests.station import check_books_against_output_log, emulated_printer, make_engine, seeded_store


async def tag_all_good(store):
    for job in await jobs.untagged(store):
        await jobs.tag(store, job.nik, True, "test")


async def test_prints_the_queue_and_locks_every_nik(bench):
    rig = await bench(6, 20)
    store, engine = rig.store, rig.engine
    events = rig.events
    await engine.start()
    assert await engine.run() == EMPTY
    printed = [e for e in events if e.kind == "card_printed"]
    assert len(printed) == 6
    for event in printed:
        assert (await locks.refusal(store, event.nik)).code == "locked"
    b = await books.allocation_books(store, "JATAH-2026-11")
    assert (b.untagged, b.in_stock, b.balanced) == (6, 14, True)
    assert [c["dest"] for c in read_output_log(rig.output_log)] == ["hopper"] * 6
    await check_books_against_output_log(store, rig.output_log)


async def test_printing_pauses_at_the_hopper_limit_until_cards_are_tagged(bench):
    rig = await bench(5, 20, hopper_capacity=2)
    store, engine = rig.store, rig.engine
    await engine.start()
    assert await engine.run() == WAITING_TAGS
    assert len(await jobs.untagged(store)) == 2
    await tag_all_good(store)
    assert await engine.run(max_cards=1) == IDLE
    assert len(await jobs.untagged(store)) == 1


# kind → what the operator does at the printer before pressing "resume"


OPERATOR_FIX = {
    "jam": lambda emu: emu.clear(),
    "ribbon_end": lambda emu: emu.new_ribbon(),
    "feeder_empty": lambda emu: emu.load(20),
    "cover_open": lambda emu: emu.close_cover(),
    "hopper_full": lambda emu: emu.empty_hopper(),
    "head": lambda emu: None,
    "timeout": lambda emu: None,
    "garble": lambda emu: None,
    "drop": lambda emu: None,
}


@pytest.mark.parametrize("kind", sorted(OPERATOR_FIX))
async def test_fault_matrix_ends_in_balanced_books_that_agree_with_the_printer(bench, kind):
    rig = await bench(6, 20, reply_timeout=1.0, faults=f"{kind}@3", drop_s=0.2)
    store, emu, engine = rig.store, rig.emu, rig.engine
    await engine.start()
    assert await engine.run() == STOPPED
    assert engine.fault is not None
    OPERATOR_FIX[kind](emu)
    for _ in range(3):  # the operator presses resume until the printer is ready
        if await engine.recover():
            break
    assert engine.fault is None, f"still stopped: {engine.fault!r}"
    assert await engine.run() == EMPTY
    await tag_all_good(store)
    counts = await jobs.count_by_state(store)
    assert counts["queued"] == counts["printing"] == counts["printed"] == 0
    # every resident has a card: good, or bad by the fault (its NIK stays locked: no second card)
    assert counts["done_good"] + counts["done_bad"] == 6
    await check_books_against_output_log(store, rig.output_log)


async def test_the_next_blank_is_taken_while_a_card_prints_and_given_back_when_a_fault_stops_the_card(bench):
    rig = await bench(4, 10, faults="jam@2")
    store, engine = rig.store, rig.engine
    await engine.start()
    assert await engine.run() == STOPPED and engine.fault.code == "jam"
    [third] = await store.fetchall("SELECT * FROM jobs WHERE id = 3")
    assert (third["state"], third["allocation_id"], third["counter_before"]) == ("queued", None, None)
    entries = [(row["action"], json.loads(row["data"])) for row in await store.fetchall(
        "SELECT action, data FROM audit ORDER BY seq")]  # fmt: skip
    actions = [(action, data.get("reason")) for action, data in entries if data.get("job") == 3]
    assert ("blank.taken", None) in actions  # taken while the second card printed, then given back
    assert actions[-1] == ("job.queued", "reservation_released")
    assert await locks.refusal(store, third["nik"], for_job=3) is None  # its lock released: free to print
    [b] = await books.all_books(store)
    assert b.balanced and b.in_stock == 8  # two blanks spent (a good card, the jammed one)


RESERVED = "SELECT id, nik FROM jobs WHERE state = 'printing' AND counter_before IS NULL"


async def running_with_a_reservation(rig) -> tuple[asyncio.Task, dict]:
    """The engine running (as in the console) until the next card's blank is taken while one prints: the task and
    the reserved job's row."""
    await rig.engine.start()
    running = asyncio.create_task(rig.engine.run(stop_when_idle=False))
    await wait_for(
        lambda: rig.store.fetchone(RESERVED), timeout=60, what="the next card's blank taken while one prints"
    )
    [row] = await rig.store.fetchall(RESERVED)
    return running, row


async def test_a_reservation_left_by_a_stopped_engine_is_given_back_at_the_next_start(bench):
    rig = await bench(3, 10, time_scale=0.05)
    store = rig.store
    running, row = await running_with_a_reservation(rig)
    running.cancel()  # the console quits with a card in the printer and the next one reserved
    await asyncio.gather(running, return_exceptions=True)
    assert await store.fetchone(RESERVED) is not None  # left as it was: no time to give it back
    again = make_engine(store, rig.printer)
    settled = await again.settle()
    assert any(job.id == row["id"] and job.state == "queued" for job in settled)
    assert await locks.refusal(store, row["nik"], for_job=row["id"]) is None
    assert await again.run() == EMPTY
    await check_books_against_output_log(store, rig.output_log)
    booked = await store.fetchall("SELECT nik FROM jobs WHERE card_counter IS NOT NULL")
    assert sorted(r["nik"] for r in booked) == sorted(
        r["nik"] for r in await store.fetchall("SELECT nik FROM residents")
    )


async def test_a_card_spoiled_by_a_jam_is_booked_bad_and_its_nik_stays_locked(bench):
    rig = await bench(3, 10, faults="jam@2")
    store, emu, engine = rig.store, rig.emu, rig.engine
    await engine.start()
    assert await engine.run() == STOPPED and engine.fault.code == "jam"
    assert not await engine.recover()  # the card is still stuck: the printer says so
    assert engine.fault.code == "jam"
    emu.clear()
    assert await engine.recover()
    assert await engine.run() == EMPTY
    [bad] = await store.fetchall("SELECT * FROM jobs WHERE state = 'done_bad'")
    assert (bad["tag_reason"], bad["card_dest"]) == ("rusak_fisik", "removed")
    assert (await locks.refusal(store, bad["nik"])).code == "locked"
    log = read_output_log(rig.output_log)
    assert [c["dest"] for c in log] == ["hopper", "removed", "hopper"]
    assert log[1]["nik"] == bad["nik"]


async def leave_a_job_in_doubt(store, printer) -> tuple[jobs.Job, int]:
    """The state a crash leaves between the commit of the blank and `Ss`: blank spent, NIK locked, job printing.
    Returns the job and the printer's card counter before it."""
    await printer.setup("ko")
    job = await jobs.next_queued(store)
    counter = await printer.card_counter()
    async with store.transaction() as tx:
        allocation = await books.take_blank(tx)
        await locks.lock_for_job(tx, job.nik, job.id, "t")
        await jobs.set_state(tx, job.id, jobs.PRINTING, allocation_id=allocation, counter_before=counter)
    return job, counter


async def leave_two_jobs_in_doubt(store, printer, second_started: bool = True) -> tuple[jobs.Job, jobs.Job, int]:
    """A crash while the second card printed and the first was not yet booked: the first job printing with its
    counter, the second taken while the first printed and started (its counter the first's + 1) or not (none)."""
    first, counter = await leave_a_job_in_doubt(store, printer)
    second = await jobs.claim(store, after=first.id)
    async with store.transaction() as tx:
        allocation = await books.take_blank(tx)
        await locks.lock_for_job(tx, second.nik, second.id, "t")
        await jobs.set_state(tx, second.id, jobs.PRINTING, allocation_id=allocation,
                             counter_before=counter + 1 if second_started else None)  # fmt: skip
    return first, second, counter


async def test_settle_two_jobs_in_doubt_in_a_chain_books_each_its_own_card(bench):
    rig = await bench(3, 10)
    store, printer, engine = rig.store, rig.printer, rig.engine
    first, second, counter = await leave_two_jobs_in_doubt(store, printer)
    await printer.take_blank()  # the first card: out (here to the reject box)
    await printer.reject()
    await printer.take_blank()  # the second: inside when the station died
    settled = {job.id: job for job in await engine.settle()}  # no counter_ahead: the second explains its card
    assert (settled[first.id].state, settled[first.id].card_counter) == ("printed", counter + 1)
    assert (settled[second.id].state, settled[second.id].card_counter) == ("printed", counter + 2)
    assert settled[second.id].card_dest == "reject" and await printer.card_position() is None
    await check_books_against_output_log(store, rig.output_log)


async def test_settle_gives_back_the_second_job_of_a_chain_whose_card_never_started(bench):
    """Its counter not committed: given back. Committed (its `Ss` about to be sent, or sent): only the printer may say
    where its card went, so it keeps its blank and lock and its card is the next one sent."""
    rig = await bench(4, 10)
    store, printer, engine = rig.store, rig.printer, rig.engine
    for started in (True, False):
        first, second, counter = await leave_two_jobs_in_doubt(store, printer, second_started=started)
        await printer.take_blank()
        await printer.reject()
        settled = {job.id: job for job in await engine.settle()}
        assert (settled[first.id].state, settled[first.id].card_counter) == ("printed", counter + 1)
        await jobs.tag(store, first.nik, True, "test", None)
        if started:
            assert settled[second.id].state == "printing"
            assert (await locks.lock_info(store, second.nik)).job_id == second.id
            await engine.run(max_cards=1)
            assert (await jobs.get_job(store, second.id)).card_counter == counter + 2
            await jobs.tag(store, second.nik, True, "test", None)
        else:
            assert settled[second.id].state == "queued"
            assert await locks.refusal(store, second.nik, for_job=second.id) is None
    await check_books_against_output_log(store, rig.output_log)


async def test_a_card_after_a_chains_first_with_no_second_started_stops_the_queue(bench):
    """Cards after the first job's with the second never started are nobody's: counter_ahead, as for one job."""
    rig = await bench(3, 10)
    store, printer, engine = rig.store, rig.printer, rig.engine
    first, second, counter = await leave_two_jobs_in_doubt(store, printer, second_started=False)
    for _ in range(2):
        await printer.take_blank()
        await printer.reject()
    with pytest.raises(CounterAhead):
        await engine.settle()
    assert (await jobs.get_job(store, second.id)).state == "queued"
    assert (await jobs.get_job(store, first.id)).card_counter == counter + 1


async def test_settle_sends_again_a_started_card_whose_blank_never_left_the_feeder(bench):
    """The job keeps its blank and its NIK's lock (it is never queued again once its counter is committed) and its
    card is the next one sent, after the same counter."""
    rig = await bench(2, 10)
    store, printer, engine = rig.store, rig.printer, rig.engine
    job, counter = await leave_a_job_in_doubt(store, printer)
    [settled] = await engine.settle()
    assert (settled.id, settled.state, settled.counter_before) == (job.id, "printing", counter)
    assert (await locks.refusal(store, job.nik)).code == "locked"
    assert (await books.allocation_books(store, "JATAH-2026-11")).in_stock == 9
    await engine.run(max_cards=1)
    sent = await jobs.get_job(store, job.id)
    assert (sent.state, sent.card_counter) == ("printed", counter + 1)
    assert [card["nik"] for card in read_output_log(rig.output_log)] == [job.nik]
    await check_books_against_output_log(store, rig.output_log)


async def test_a_started_card_that_cannot_be_laid_out_again_stops_the_queue_and_keeps_its_lock(bench):
    """Its photo went away after its card was started and its blank never left the feeder: nothing else prints
    before it (its counter is committed), its NIK stays locked for it, and once the photo is back it is sent."""
    rig = await bench(3, 10)
    store, printer, engine = rig.store, rig.printer, rig.engine
    job = await jobs.next_queued(store)
    photo = rig.path / "foto.png"
    Image.new("RGB", (30, 40), "white").save(photo)
    async with store.transaction() as tx:  # the record as imported, with its photo
        await tx.execute("UPDATE residents SET foto = ? WHERE nik = ?", (str(photo), job.nik))
    job, counter = await leave_a_job_in_doubt(store, printer)
    moved = photo.rename(rig.path / "elsewhere.png")
    with pytest.raises(CardNotLaidOut) as stopped:
        await engine.start()
    assert job.nik in stopped.value.reply
    assert (await jobs.get_job(store, job.id)).state == "printing"
    assert (await locks.lock_info(store, job.nik)).job_id == job.id
    moved.rename(photo)
    await engine.start()
    assert await engine.run() == EMPTY
    sent = await jobs.get_job(store, job.id)
    assert (sent.state, sent.card_counter) == ("printed", counter + 1)
    assert read_output_log(rig.output_log)[0]["nik"] == job.nik
    await check_books_against_output_log(store, rig.output_log)


async def test_settle_books_a_card_taken_before_the_crash_and_rejects_one_still_inside(bench):
    rig = await bench(2, 10)
    store, printer, engine = rig.store, rig.printer, rig.engine
    job, counter = await leave_a_job_in_doubt(store, printer)
    await printer.take_blank()  # the printer took the card; then the station died
    [settled] = await engine.settle()
    assert (settled.state, settled.card_dest, settled.card_counter) == ("printed", "reject", counter + 1)
    assert await printer.card_position() is None
    assert read_output_log(rig.output_log)[-1]["dest"] == "reject"
    await check_books_against_output_log(store, rig.output_log)


async def test_a_supervisors_pause_and_resume_are_carried_out_and_audited(bench):
    from console.engine import PAUSED
    from console.requests import request

    rig = await bench(2, 5)
    store, engine = rig.store, rig.engine
    await engine.start()
    await request(store, "pause", "supervisor-ana")
    # Even the headless run (stop_when_idle) waits while paused: it is the supervisor who resumes.
    run = asyncio.create_task(engine.run(stop_when_idle=True))
    await wait_for(lambda: engine.state == PAUSED, what="the engine paused by the request")
    assert not run.done()
    assert await jobs.count_in_state(store, "printed") == 0
    await request(store, "resume", "supervisor-ana")
    assert await asyncio.wait_for(run, timeout=30) == EMPTY
    assert await jobs.count_in_state(store, "printed") == 2
    actions = [r["action"] for r in await store.fetchall("SELECT action FROM audit WHERE actor = 'supervisor-ana'")]
    assert actions == ["queue.pause_requested", "queue.paused", "queue.resume_requested", "queue.resumed"]


async def test_a_pause_asked_while_a_card_prints_stops_before_the_reserved_card(bench):
    """The next card's blank is taken while a card prints; a supervisor's pause asked after that must still stop
    the queue before the reserved card's `Ss`: the reservation is given back, not printed."""
    from console.engine import PAUSED
    from console.requests import request

    rig = await bench(3, 10, time_scale=0.05)
    store, engine = rig.store, rig.engine
    running, row = await running_with_a_reservation(rig)
    await request(store, "pause", "supervisor-ana")
    await wait_for(lambda: engine.state == PAUSED, timeout=60, what="the engine paused by the request")
    running.cancel()
    await asyncio.gather(running, return_exceptions=True)
    assert len(read_output_log(rig.output_log)) == 1  # the card that was printing, and not the reserved one
    [job] = await store.fetchall("SELECT state, counter_before, allocation_id FROM jobs WHERE id = ?", (row["id"],))
    assert (job["state"], job["counter_before"], job["allocation_id"]) == ("queued", None, None)
    assert await locks.refusal(store, row["nik"], for_job=row["id"]) is None  # its lock given back with its blank
    await check_books_against_output_log(store, rig.output_log)


async def take_cards_outside(printer, count: int) -> None:
    """Test prints from the printer's panel: each card goes out with no job of the station."""
    for _ in range(count):
        await printer.take_blank()
        await printer.reject()


async def test_blanks_taken_outside_with_no_stock_left_are_reconciled_once_an_allocation_is_entered(bench):
    rig = await bench(2, 2)
    store, printer, engine = rig.store, rig.printer, rig.engine
    await engine.start()
    assert await engine.run(max_cards=1) == IDLE
    await take_cards_outside(printer, 2)
    assert await engine.run() == STOPPED and engine.fault.code == "counter_ahead"
    assert engine.fault.reply == "2"
    with pytest.raises(books.NoStockError):
        await books.reconcile_outside(store, 2, "panel test prints", "supervisor")
    assert await store.scalar("SELECT count(*) FROM spoiled") == 0  # nothing booked by halves
    await receive_blanks(store, "JATAH-2026-12", 5, "2026-12", "test")
    await books.reconcile_outside(store, 2, "panel test prints", "supervisor")
    assert await engine.recover()
    assert await engine.run() == EMPTY
    assert await store.scalar("SELECT count(*) FROM spoiled") == 2
    await check_books_against_output_log(store, rig.output_log)


async def test_a_job_in_doubt_is_settled_only_on_the_printer_it_was_printing_on(tmp_path):
    store = await seeded_store(tmp_path, residents=2, blanks=10)
    try:
        async with emulated_printer(tmp_path) as (emu, printer):
            await make_engine(store, printer).start()  # the books meet this printer
            job, counter = await leave_a_job_in_doubt(store, printer)
            await printer.take_blank()
        audit_before = await store.scalar("SELECT max(seq) FROM audit")
        (tmp_path / "other").mkdir()
        async with emulated_printer(tmp_path / "other", serial="EMU7777777") as (other, printer):
            engine = make_engine(store, printer)
            with pytest.raises(PrinterMismatch) as refused:
                await engine.start()
            assert "EMU7777777" in refused.value.reply
        assert (await jobs.get_job(store, job.id)).state == "printing"  # nothing booked, nothing guessed
        assert await store.scalar("SELECT max(seq) FROM audit") == audit_before
        async with emulated_printer(tmp_path) as (emu, printer):  # the right printer back
            [settled] = await make_engine(store, printer).settle()
            assert (settled.state, settled.card_counter) == ("printed", counter + 1)
    finally:
        await store.close()


async def test_a_new_printer_with_nothing_in_doubt_is_recorded_and_counted_afresh(tmp_path):
    store = await seeded_store(tmp_path, residents=4, blanks=10)
    try:
        async with emulated_printer(tmp_path) as (emu, printer):
            engine = make_engine(store, printer)
            await engine.start()
            assert await engine.run(max_cards=2) == IDLE
        (tmp_path / "other").mkdir()
        async with emulated_printer(tmp_path / "other", serial="EMU7777777") as (other, printer):
            engine = make_engine(store, printer)
            await engine.start()
            assert await engine.run() == EMPTY
        changes = await store.fetchall("SELECT subject, data FROM audit WHERE action = 'printer.changed'")
        assert [r["subject"] for r in changes] == ["EMU7777777"]
        assert await store.scalar("SELECT count(*) FROM spoiled") == 0  # the new counter is no gap
        b = await books.allocation_books(store, "JATAH-2026-11")
        assert (b.untagged, b.in_stock, b.balanced) == (4, 6, True)
    finally:
        await store.close()


async def test_settling_when_others_took_cards_after_the_crash_books_ours_first_and_theirs_spoiled(bench):
    rig = await bench(2, 10)
    store, printer, engine = rig.store, rig.printer, rig.engine
    await engine.start()
    job, counter = await leave_a_job_in_doubt(store, printer)
    await printer.take_blank()  # ours, then the station died; the card left the printer
    await printer.reject()
    await printer.take_blank()  # another program's card, still inside when the station starts again
    with pytest.raises(CounterAhead) as stopped:  # the card after ours is not the station's to explain
        await engine.start()
    assert stopped.value.reply == "1"
    settled = await jobs.get_job(store, job.id)
    assert (settled.state, settled.card_counter, settled.card_dest) == ("printed", counter + 1, "hopper")
    assert settled.state_reason == "settled_among_others"
    assert await store.scalar("SELECT count(*) FROM spoiled") == 0
    assert await printer.card_position() is not None  # left where it is until the books account for it
    await books.reconcile_outside(store, 1, "another program", "supervisor")
    await engine.start()
    [spoiled] = await store.fetchall("SELECT * FROM spoiled")
    assert (spoiled["card_counter"], spoiled["reason"]) == (counter + 2, "taken_outside_station")
    assert await printer.card_position() is None
    assert read_output_log(rig.output_log)[-1]["dest"] == "reject"
    await check_books_against_output_log(store, rig.output_log)


async def test_a_card_left_inside_is_sent_to_the_reject_box_at_start(bench):
    rig = await bench(2, 10)
    store, printer, engine = rig.store, rig.printer, rig.engine
    await engine.start()
    counter = await printer.card_counter()
    await printer.take_blank()  # a card fed by hand and left inside
    with pytest.raises(CounterAhead):
        await engine.start()
    await books.reconcile_outside(store, 1, "fed by hand", "supervisor")
    await engine.start()  # `station print` again: it must not stop on the card inside
    assert await printer.card_position() is None
    assert await engine.run() == EMPTY
    [spoiled] = await store.fetchall("SELECT card_counter FROM spoiled")
    assert spoiled["card_counter"] == counter + 1
    await check_books_against_output_log(store, rig.output_log)


async def test_a_job_held_after_it_was_picked_is_skipped_and_the_queue_goes_on(bench):
    rig = await bench(3, 10)
    store, engine = rig.store, rig.engine
    await engine.start()
    picked = await jobs.next_queued(store)
    await jobs.hold(store, picked.id, "op")  # the operator's key, between the pick and the blank
    assert await engine.print_job(picked) is False
    assert (await jobs.get_job(store, picked.id)).state == "held"
    assert await store.scalar("SELECT count(*) FROM nik_locks WHERE nik = ?", (picked.nik,)) == 0
    assert await engine.run() == EMPTY
    b = await books.allocation_books(store, "JATAH-2026-11")
    assert (b.untagged, b.in_stock, b.balanced) == (2, 8, True)


async def test_a_card_taken_outside_is_reconciled_before_it_is_ejected_even_with_nothing_to_print(bench):
    rig = await bench(1, 5)
    store, printer, engine = rig.store, rig.printer, rig.engine
    await engine.start()
    assert await engine.run() == EMPTY
    counter = await printer.card_counter()
    await printer.take_blank()  # fed from the panel and left inside; the queue is empty
    with pytest.raises(CounterAhead):
        await make_engine(store, printer).start()
    assert await printer.card_position() is not None
    await books.reconcile_outside(store, 1, "panel", "supervisor")
    await make_engine(store, printer).start()
    assert await printer.card_position() is None
    [spoiled] = await store.fetchall("SELECT card_counter, reason FROM spoiled")
    assert (spoiled["card_counter"], spoiled["reason"]) == (counter + 1, "taken_outside_station")
    await check_books_against_output_log(store, rig.output_log)
