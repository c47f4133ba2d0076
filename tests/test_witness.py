"""The printer and the audit head as witnesses the database cannot roll back: a database put back from an old copy,
a printer swapped out and back, a used printer the books never met, a reconciliation by a supervisor, the headless
queue after a latched fault."""

from __future__ import annotations

import json
import shutil
import sqlite3

import pytest

from console import audit, books, jobs, operators, printer_record, restore
from console.engine import EMPTY, IDLE, STOPPED, CounterAhead, PrinterUnknown
from console.errors import AuditBrokenError, RefusedError, UsageError
from console.store import Store
from drivers.emulator import read_output_log
from tests.station import check_books_against_output_log, emulated_printer, make_engine, seeded_store
from tests.test_cli_queue import make_station, station


def backup(db: str, copy: str) -> None:
    """SQLite's online backup (the `.backup` of the sqlite3 shell), taken while the station has it open."""
    source, target = sqlite3.connect(db), sqlite3.connect(copy)
    try:
        source.backup(target)
    finally:
        source.close()
        target.close()


async def print_then_restore(tmp_path, before: int, after: int) -> list[str]:
    """Print `before` cards, copy the database, print `after` more, put the copy back; the NIKs printed after the
    copy was taken."""
    store = await seeded_store(tmp_path, residents=before + after + 2, blanks=50)
    db = str(tmp_path / "station.db")
    async with emulated_printer(tmp_path) as (emu, printer):
        engine = make_engine(store, printer)
        await engine.start()
        assert await engine.run(max_cards=before) == IDLE
        backup(db, str(tmp_path / "copy.db"))
        assert await engine.run(max_cards=after) == IDLE
    await store.close()
    later = [card["nik"] for card in read_output_log(tmp_path / "output.jsonl")][before:]
    shutil.copyfile(tmp_path / "copy.db", db)
    return later


async def test_a_database_restored_from_an_old_copy_refuses_every_write(tmp_path):
    await print_then_restore(tmp_path, before=2, after=3)
    with pytest.raises(AuditBrokenError) as refused:
        await Store.open(tmp_path / "station.db")
    assert "station.db.head" in str(refused.value)
    assert refused.value.exit_code == 7
    async with await Store.open(tmp_path / "station.db", readonly=True) as store:  # readers may still look
        assert "station.db.head" in await audit.head_behind(store)


async def test_the_printer_stops_a_restored_database_even_without_its_head_file(tmp_path):
    later = await print_then_restore(tmp_path, before=2, after=3)
    (tmp_path / "station.db.head").unlink()  # the attacker puts back the copy and removes the sidecar too
    with pytest.raises(AuditBrokenError, match="accept-restore"):
        await Store.open(tmp_path / "station.db")
    async with await Store.open(tmp_path / "station.db", accepting_restore=True) as accepting:
        await restore.accept_restore(accepting, "the centre's word", "supervisor")  # the attacker talked one round
    store = await Store.open(tmp_path / "station.db")
    try:
        queued = {r["nik"] for r in await store.fetchall("SELECT nik FROM jobs WHERE state = 'queued'")}
        assert queued >= set(later)  # in the copy, the NIKs printed after it are still waiting for a card
        async with emulated_printer(tmp_path) as (emu, printer):
            engine = make_engine(store, printer)
            with pytest.raises(CounterAhead) as stopped:
                await engine.start()
            assert stopped.value.reply == "3"
            assert await engine.run() == STOPPED and engine.fault.code == "counter_ahead"
        niks = [card["nik"] for card in read_output_log(tmp_path / "output.jsonl")]
        assert len(niks) == 5 and len(set(niks)) == 5  # no second card
        assert await store.scalar("SELECT count(*) FROM spoiled") == 0  # nothing booked behind anyone's back
        found = await printer_record.counter_ahead(store)
        assert (found.booked, found.counter) == (2, 5)
        assert await store.scalar("SELECT count(*) FROM audit WHERE action = 'printer.counter_ahead'") == 1
    finally:
        await store.close()


async def test_blanks_taken_outside_stop_the_queue_until_a_supervisor_reconciles_them(tmp_path):
    store = await seeded_store(tmp_path, residents=3, blanks=10)
    try:
        async with emulated_printer(tmp_path) as (emu, printer):
            engine = make_engine(store, printer)
            await engine.start()
            assert await engine.run(max_cards=1) == IDLE
            counter = await printer.card_counter()
            for _ in range(2):  # test prints from the printer's panel
                await printer.take_blank()
                await printer.reject()
            assert await engine.run() == STOPPED and (engine.fault.code, engine.fault.reply) == ("counter_ahead", "2")
            with pytest.raises(RefusedError, match=r"\b2\b.*\b3\b"):
                await books.reconcile_outside(store, 3, "panel test", "supervisor-ana")
            assert not await engine.recover()  # resuming alone does not go on
            await operators.add_operator(store, "supervisor-ana", "supervisor", "735192468", "supervisor-ana")
            await operators.add_operator(store, "budi", "operator", "486219375", "supervisor-ana")
            with pytest.raises(RefusedError):  # an operator may not account for cards: a supervisor's step
                await books.reconcile_outside(store, 2, "panel test prints", "budi")
            await books.reconcile_outside(store, 2, "panel test prints", "supervisor-ana")
            with pytest.raises(RefusedError):  # done once: nothing left to reconcile
                await books.reconcile_outside(store, 2, "again", "supervisor-ana")
            assert await engine.recover()
            assert await engine.run() == EMPTY
        spoiled = await store.fetchall("SELECT card_counter, reason, note FROM spoiled ORDER BY card_counter")
        assert [tuple(r) for r in spoiled] == [
            (counter + 1, "taken_outside_station", "panel test prints"),
            (counter + 2, "taken_outside_station", "panel test prints"),
        ]
        [entry] = await store.fetchall("SELECT actor, data FROM audit WHERE action = 'books.reconciled'")
        assert entry["actor"] == "supervisor-ana" and json.loads(entry["data"])["cards"] == 2
        b = await books.allocation_books(store, "JATAH-2026-11")
        assert (b.untagged, b.spoiled, b.in_stock, b.balanced) == (3, 2, 5, True)
        await check_books_against_output_log(store, tmp_path / "output.jsonl")
    finally:
        await store.close()


async def test_a_printer_swapped_out_and_back_is_followed_where_the_books_left_it(tmp_path):
    store = await seeded_store(tmp_path, residents=6, blanks=20)
    (tmp_path / "other").mkdir()
    try:
        async with emulated_printer(tmp_path) as (emu, printer):
            engine = make_engine(store, printer)
            await engine.start()
            assert await engine.run(max_cards=2) == IDLE
        async with emulated_printer(tmp_path / "other", serial="EMU7777777") as (other, printer):
            engine = make_engine(store, printer)
            await engine.start()
            assert await engine.run(max_cards=1) == IDLE
        async with emulated_printer(tmp_path) as (emu, printer):  # the first printer, used elsewhere meanwhile
            for _ in range(3):
                await printer.take_blank()
                await printer.reject()
        async with emulated_printer(tmp_path) as (emu, printer):  # and back at the station
            engine = make_engine(store, printer)
            with pytest.raises(CounterAhead) as stopped:
                await engine.start()
            assert stopped.value.reply == "3"
            await books.reconcile_outside(store, 3, "lent to the other office", "supervisor-ana")
            await engine.start()
            assert await engine.run() == EMPTY
        b = await books.allocation_books(store, "JATAH-2026-11")
        assert (b.untagged, b.spoiled, b.in_stock, b.balanced) == (6, 3, 11, True)
        first = read_output_log(tmp_path / "output.jsonl")  # the first printer's cards: 2, the 3 outside, then 3
        spoiled = [r["card_counter"] for r in await store.fetchall("SELECT card_counter FROM spoiled")]
        assert sorted(spoiled) == [c["counter"] for c in first if c["nik"] is None]
    finally:
        await store.close()


async def test_a_new_database_on_a_used_printer_stops_until_a_supervisor_accepts_it(tmp_path):
    async with emulated_printer(tmp_path) as (emu, printer):
        for _ in range(4):  # the printer's life before this station
            await printer.take_blank()
            await printer.reject()
        serial = emu.status()["serial"]
    store = await seeded_store(tmp_path, residents=2, blanks=5)
    try:
        async with emulated_printer(tmp_path) as (emu, printer):
            engine = make_engine(store, printer)
            with pytest.raises(PrinterUnknown) as stopped:
                await engine.start()
            assert stopped.value.reply == f"{serial} 4"
            engine.fault = stopped.value
            assert await engine.run() == STOPPED and not await engine.recover()  # resuming alone does not go on
            assert await printer_record.booked_counter(store, serial) is None  # nothing followed, nothing booked
            await operators.add_operator(store, "supervisor-ana", "supervisor", "735192468", "supervisor-ana")
            await operators.add_operator(store, "budi", "operator", "486219375", "supervisor-ana")
            with pytest.raises(RefusedError):  # an operator may not accept a printer: a supervisor's step
                await printer_record.accept_printer(store, serial, "new from the regency office", "budi")
            with pytest.raises(RefusedError, match=serial):  # another serial than the one the queue stopped on
                await printer_record.accept_printer(store, "EMU0000000", "typed blind", "supervisor-ana")
            with pytest.raises(UsageError):
                await printer_record.accept_printer(store, serial, "  ", "supervisor-ana")
            assert await printer_record.booked_counter(store, serial) is None
            accepted = await printer_record.accept_printer(
                store, serial, "new from the regency office", "supervisor-ana"
            )
            assert (accepted.serial, accepted.counter) == (serial, 4)
            with pytest.raises(RefusedError):  # done once: nothing left to accept
                await printer_record.accept_printer(store, serial, "again", "supervisor-ana")
            assert await engine.recover()
            assert await engine.run() == EMPTY
        assert [j.card_counter for j in await jobs.untagged(store)] == [5, 6]
        assert await store.scalar("SELECT count(*) FROM spoiled") == 0  # its earlier cards were never ours
        assert await store.scalar("SELECT count(*) FROM audit WHERE action = 'printer.unknown'") == 1
        [entry] = await store.fetchall("SELECT actor, data FROM audit WHERE action = 'printer.accepted'")
        assert entry["actor"] == "supervisor-ana"
        assert json.loads(entry["data"]) == {"counter": 4, "reason": "new from the regency office"}
    finally:
        await store.close()


async def test_a_printer_that_never_printed_is_followed_without_a_stop(tmp_path):
    store = await seeded_store(tmp_path, residents=2, blanks=5)
    try:
        async with emulated_printer(tmp_path) as (emu, printer):
            engine = make_engine(store, printer)
            await engine.start()
            assert await engine.run() == EMPTY
        assert [j.card_counter for j in await jobs.untagged(store)] == [1, 2]
        assert await store.scalar("SELECT count(*) FROM audit WHERE action = 'printer.first_seen'") == 1
        assert await store.scalar("SELECT count(*) FROM audit WHERE action = 'printer.unknown'") == 0
    finally:
        await store.close()


def test_headless_print_recovers_from_a_latched_head_or_time_out_fault(tmp_path):
    for kind in ("head", "timeout"):
        folder = tmp_path / kind
        folder.mkdir()
        config = make_station(folder, residents=3, faults=f"{kind}@2")
        assert station(config, "allocation", "add", "JATAH-2026-11", "10").returncode == 0
        assert station(config, "enqueue", "--all").returncode == 0
        first = station(config, "print")
        assert first.returncode == 5, first.stderr
        config.write_text(config.read_text().replace(f'faults = "{kind}@2"', 'faults = ""'))
        again = station(config, "print")  # what docs/queue.md tells the operator: run it again
        assert again.returncode == 0, again.stderr
        log = read_output_log(folder / "output.jsonl")
        assert [c["dest"] for c in log] == ["hopper", "reject", "hopper"]  # the spoiled card's NIK stays locked


def test_headless_commands_refuse_a_restored_database_and_doctor_and_verify_say_why(tmp_path):
    config = make_station(tmp_path, residents=2)
    assert station(config, "allocation", "add", "JATAH-2026-11", "10").returncode == 0
    backup(str(tmp_path / "station.db"), str(tmp_path / "copy.db"))
    assert station(config, "enqueue", "--all").returncode == 0
    assert station(config, "print").returncode == 0
    shutil.copyfile(tmp_path / "copy.db", tmp_path / "station.db")
    for args in (("enqueue", "--all"), ("print",), ("audit", "verify")):
        refused = station(config, *args)
        assert refused.returncode == 7, (args, refused.stdout, refused.stderr)
        assert "behind" in refused.stderr
    doctor = station(config, "doctor")
    assert doctor.returncode == 2 and "behind" in doctor.stdout + doctor.stderr


async def test_headless_print_stops_on_cards_taken_outside_and_goes_on_after_the_reconciliation(tmp_path):
    config = make_station(tmp_path, residents=3)
    assert station(config, "allocation", "add", "JATAH-2026-11", "10").returncode == 0
    assert station(config, "enqueue", "--all").returncode == 0
    assert station(config, "print", "--count", "1").returncode == 0
    async with emulated_printer(tmp_path) as (emu, printer):  # the same printer, used from its panel meanwhile
        for _ in range(2):
            await printer.take_blank()
            await printer.reject()
    stopped = station(config, "print")
    assert stopped.returncode == 5 and "reconcile --outside 2" in stopped.stderr, stopped.stderr
    wrong = station(config, "allocation", "reconcile", "--outside", "1", "--reason", "panel")
    assert wrong.returncode == 4 and "not 1" in wrong.stderr, wrong.stderr
    assert station(config, "allocation", "reconcile", "--outside", "2", "--reason", "panel").returncode == 0
    assert station(config, "print").returncode == 0
    async with await Store.open(tmp_path / "station.db", readonly=True) as store:
        assert await store.scalar("SELECT count(*) FROM spoiled WHERE reason = 'taken_outside_station'") == 2
        await check_books_against_output_log(store, tmp_path / "output.jsonl")


async def test_headless_print_stops_a_backup_from_before_the_first_print_put_back_without_its_head(tmp_path):
    """The residents imported and queued, a backup, two cards printed, the backup put back and its head file
    removed: the copy never met the printer, whose two cards' NIKs are queued again in it."""
    config = make_station(tmp_path, residents=3)
    assert station(config, "allocation", "add", "JATAH-2026-11", "10").returncode == 0
    assert station(config, "enqueue", "--all").returncode == 0
    backup(str(tmp_path / "station.db"), str(tmp_path / "copy.db"))
    assert station(config, "print", "--count", "2").returncode == 0
    shutil.copyfile(tmp_path / "copy.db", tmp_path / "station.db")
    (tmp_path / "station.db.head").unlink()
    refused = station(config, "print")
    assert refused.returncode == 7 and "accept-restore" in refused.stderr, refused.stderr
    assert station(config, "audit", "accept-restore", "--reason", "centre letter 12").returncode == 0
    stopped = station(config, "print")  # the copy's books knew no printer: none to witness, and this one is unknown
    assert stopped.returncode == 5 and "--accept-printer EMU" in stopped.stderr, stopped.stderr
    niks = [card["nik"] for card in read_output_log(tmp_path / "output.jsonl")]
    assert len(niks) == 2 and len(set(niks)) == 2  # no second card
    wrong = station(config, "allocation", "reconcile", "--accept-printer", "EMU0000000", "--reason", "new")
    assert wrong.returncode == 4 and "EMU0000000" in wrong.stderr, wrong.stderr
    assert station(config, "print").returncode == 5


async def test_headless_print_on_a_used_printer_goes_on_once_a_supervisor_accepts_it(tmp_path):
    async with emulated_printer(tmp_path) as (emu, printer):  # the printer printed elsewhere before
        for _ in range(3):
            await printer.take_blank()
            await printer.reject()
        serial = emu.status()["serial"]
    config = make_station(tmp_path, residents=2)
    assert station(config, "allocation", "add", "JATAH-2026-11", "10").returncode == 0
    assert station(config, "enqueue", "--all").returncode == 0
    stopped = station(config, "print")
    assert stopped.returncode == 5 and f"--accept-printer {serial}" in stopped.stderr, stopped.stderr
    accepted = station(config, "allocation", "reconcile", "--accept-printer", serial, "--reason", "new printer")
    assert accepted.returncode == 0 and serial in accepted.stdout, accepted.stderr
    assert station(config, "print").returncode == 0
    async with await Store.open(tmp_path / "station.db", readonly=True) as store:
        assert [j.card_counter for j in await jobs.untagged(store)] == [4, 5]
        assert await store.scalar("SELECT count(*) FROM spoiled") == 0
