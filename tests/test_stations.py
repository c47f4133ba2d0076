"""Several stations on one regency ledger: each claims its own jobs, prints only what it claimed (or what was
queued for it), spends only the blanks issued to it; a single station's SQLite file is a regency of one."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections import Counter
from pathlib import Path

import pytest

from console import audit, audit_state, books, jobs, live_state, printer_record, reports, stations
from console.books import NoStockError
from console.engine import EMPTY, NO_STOCK
from console.errors import RefusedError, UsageError
from console.schema import MIGRATIONS
from console.store import Store
from drivers.emulator import read_output_log
from tests.factory import add_residents
from tests.station import emulated_printer, make_engine


async def _two_stations(url: str) -> tuple[Store, Store]:
    return await Store.open(url, station_id="east"), await Store.open(url, station_id="west")


async def test_two_stations_print_a_shared_queue_each_nik_once_each_only_its_own_claims(ledger, tmp_path):
    east, west = await _two_stations(ledger.url)
    try:
        niks = await add_residents(east, 100)
        await books.add_allocation(east, "A", 200, None, "admin")
        for store in (east, west):
            await books.issue(east, "A", store.station_id, 100, "admin")
        assert await jobs.enqueue_ready(east, "admin") == 100  # queued for any station
        (tmp_path / "east").mkdir()
        (tmp_path / "west").mkdir()
        async with (
            emulated_printer(tmp_path / "east", feeder=150) as (_, east_printer),
            emulated_printer(tmp_path / "west", feeder=150) as (_, west_printer),
        ):
            engines = [make_engine(east, east_printer, 200), make_engine(west, west_printer, 200)]
            for engine in engines:
                await engine.start()
            assert await asyncio.gather(*(engine.run() for engine in engines)) == [EMPTY, EMPTY]
        printed = {
            name: [c["nik"] for c in read_output_log(tmp_path / name / "output.jsonl")] for name in ("east", "west")
        }
        both = Counter(printed["east"] + printed["west"])
        assert sorted(both) == sorted(niks) and set(both.values()) == {1}  # every NIK on exactly one card
        for store in (east, west):
            booked = await east.fetchall("SELECT nik FROM jobs WHERE station_id = ? AND state = 'printed'",
                                         (store.station_id,))  # fmt: skip
            assert sorted(printed[store.station_id]) == sorted(row["nik"] for row in booked)
            assert printed[store.station_id], f"{store.station_id} printed nothing: the claims did not share"
        [b] = await books.all_books(east)
        assert b.balanced and b.untagged == 100 and b.regency_stock == 0
        assert all(s.balanced for s in await books.station_books(east, "A"))
        assert (await audit.verify(east))[1] is None and await audit_state.differences(east) == []
    finally:
        await east.close()
        await west.close()


async def test_a_job_queued_for_one_station_is_never_printed_by_another(ledger, tmp_path):
    east, west = await _two_stations(ledger.url)
    try:
        [nik] = await add_residents(east, 1)
        await books.add_allocation(east, "A", 10, None, "admin")
        for store in (east, west):
            await books.issue(east, "A", store.station_id, 5, "admin")
        assert (await jobs.enqueue(east, [nik], "admin", for_station="west")).queued == [nik]
        async with emulated_printer(tmp_path) as (_, printer):
            engine = make_engine(east, printer)
            await engine.start()
            assert await engine.run() == EMPTY  # nothing east may claim
            [job] = await east.fetchall("SELECT * FROM jobs")
            assert job["state"] == "queued" and job["station_id"] is None
            # east trying the job anyway (as a station that skipped the claim would): refused, nothing taken
            assert not await engine.print_job(jobs.Job.from_row(job))
            assert await east.scalar("SELECT count(*) FROM nik_locks") == 0
            assert (await books.station_books(east, "A"))[0].in_stock == 5
        assert read_output_log(tmp_path / "output.jsonl") == []
        assert (await jobs.claim(west)).nik == nik
    finally:
        await east.close()
        await west.close()


async def test_claims_of_two_stations_at_once_take_different_jobs(ledger):
    east, west = await _two_stations(ledger.url)
    try:
        await add_residents(east, 40)
        await jobs.enqueue_ready(east, "admin")
        first = await asyncio.gather(jobs.claim(east), jobs.claim(west))
        assert first[0].id != first[1].id
        assert (await jobs.claim(east)).id == first[0].id  # a station's claim stays its own until printed
        # east in the middle of claiming the oldest free job: west does not wait for it, it skips to the next
        async with east.claiming() as tx:
            row = await tx.fetchone(
                "SELECT id FROM jobs WHERE state = 'queued' AND station_id IS NULL ORDER BY id LIMIT 1 FOR UPDATE"
            )
            later = await asyncio.wait_for(jobs.claim(west, after=first[1].id), timeout=5)
            assert later.id != row["id"]
        rows = await east.fetchall("SELECT station_id, count(*) AS n FROM jobs WHERE station_id IS NOT NULL "
                                   "GROUP BY station_id ORDER BY station_id")  # fmt: skip
        assert [(row["station_id"], row["n"]) for row in rows] == [("east", 1), ("west", 2)]
        await jobs.release_claims(west)
        assert await east.scalar("SELECT count(*) FROM jobs WHERE station_id = 'west'") == 0
    finally:
        await east.close()
        await west.close()


async def test_a_killed_stations_queued_claims_are_taken_over_once_no_job_is_free(ledger):
    east, west = await _two_stations(ledger.url)
    try:
        niks = await add_residents(east, 4)
        await jobs.enqueue(east, niks[:3], "admin")
        await jobs.enqueue(east, niks[3:], "admin", for_station="east")  # for east alone: never taken over
        await east.hold_claims()  # east's printing process is alive
        first = await jobs.claim(east)
        second = await jobs.claim(east, after=first.id)
        third = await jobs.claim(west)
        assert third.id not in (first.id, second.id)
        assert await jobs.claim(west, after=third.id) is None  # east lives: its claims stay its own
        await east.close()  # east killed: its connection, and the lock it held, are gone
        assert await jobs.any_claimable(west)
        taken = [await jobs.claim(west, after=third.id), await jobs.claim(west, after=third.id)]
        assert [job.id for job in taken] == [first.id, second.id]
        assert await jobs.claim(west, after=third.id) is None  # the job queued for east alone waits for east
        east = await Store.open(ledger.url, station_id="east")  # east comes back: what it had claimed is west's
        with pytest.raises(jobs.TransitionError):
            async with east.transaction("east") as tx:
                await jobs.check_claim(tx, first.id)
        mine = await jobs.claim(east)
        assert mine is not None and mine.nik == niks[3]
    finally:
        await east.close()
        await west.close()


async def test_a_started_engine_keeps_its_stations_claims_from_the_others(ledger, tmp_path):
    east, west = await _two_stations(ledger.url)
    try:
        await add_residents(east, 2)
        await jobs.enqueue_ready(east, "admin")
        async with emulated_printer(tmp_path) as (_, printer):
            await make_engine(east, printer).start()  # east's printing process: it holds its claims
            claimed = await jobs.claim(east)
            free = await jobs.claim(west)
            assert free.id != claimed.id
            assert await jobs.claim(west, after=free.id) is None
    finally:
        await east.close()
        await west.close()


async def test_a_station_keeps_its_own_printer_record_live_state_and_requests(ledger):
    east, west = await _two_stations(ledger.url)
    try:
        async with east.transaction() as tx:
            await printer_record.record_printer(tx, "EAST-1", "m", "f")
            await printer_record.book_counter(tx, 7)
        async with west.transaction() as tx:
            await printer_record.record_printer(tx, "WEST-1", "m", "f")
        assert (await printer_record.booked_serial(east), await printer_record.booked_counter(east)) == ("EAST-1", 7)
        assert (await printer_record.booked_serial(west), await printer_record.booked_counter(west)) == ("WEST-1", None)
        assert (await live_state.read(west, live_state.PRINTER))[0]["serial"] == "WEST-1"
        from console import requests

        await requests.request(west, "pause", "sup")
        assert await requests.pending(east) == [] and len(await requests.pending(west)) == 1
        [entry] = await east.fetchall("SELECT station_id FROM audit WHERE action = 'queue.pause_requested'")
        assert entry["station_id"] == "west"
        assert (await audit.verify(east))[1] is None
    finally:
        await east.close()
        await west.close()


async def test_blanks_flow_from_the_regency_to_stations_and_back(ledger):
    east, west = await _two_stations(ledger.url)
    try:
        await books.add_allocation(east, "A", 100, None, "admin")
        with pytest.raises(NoStockError, match="east"):  # a station without issued blanks prints nothing
            async with east.transaction() as tx:
                await books.take_blank(tx)
        held = await books.issue(east, "A", "west", 30, "admin")
        assert (held.issued, held.in_stock) == (30, 30)
        refusals = [
            (books.issue(east, "A", "west", 71, "admin"), RefusedError, "70"),  # more than the regency's stock
            (books.return_unused(east, "A", "west", 31, "admin"), RefusedError, "30"),  # more than it holds
            (books.return_unused(east, "A", "east", 1, "admin"), RefusedError, "0"),
            (books.issue(east, "A", "south", 1, "admin"), UsageError, "south"),  # unknown station
            (books.issue(east, "B", "west", 1, "admin"), UsageError, "B"),  # unknown allocation
        ]
        before = await east.scalar("SELECT max(seq) FROM audit")
        for call, error, said in refusals:
            with pytest.raises(error, match=said):
                await call
        assert await east.scalar("SELECT max(seq) FROM audit") == before  # nothing changed, nothing audited
        async with west.transaction() as tx:
            await books.take_blank(tx)
        await books.return_unused(east, "A", "west", 29, "admin")
        [b] = await books.all_books(east)
        assert (b.received, b.regency_stock, b.in_stock, b.spoiled) == (100, 99, 99, 0)
        [w] = await books.station_books(east, "A")
        assert (w.station_id, w.issued, w.in_stock, w.untagged, w.balanced) == ("west", 1, 0, 0, False)
        actions = [r["action"] for r in await east.fetchall("SELECT action FROM audit WHERE subject = 'A'")]
        assert actions == ["allocation.received", "blanks.issued", "blanks.returned"]
    finally:
        await east.close()
        await west.close()


async def test_a_station_with_no_blank_issued_stops_with_no_stock_while_others_wait(ledger, tmp_path):
    async with await Store.open(ledger.url, station_id="east") as east:
        await add_residents(east, 2)
        await books.add_allocation(east, "A", 10, None, "admin")  # in the regency's stock, none issued
        await jobs.enqueue_ready(east, "admin")
        async with emulated_printer(tmp_path) as (_, printer):
            engine = make_engine(east, printer)
            await engine.start()
            assert await engine.run() == NO_STOCK
        assert await east.scalar("SELECT count(*) FROM jobs WHERE station_id IS NOT NULL") == 0  # no claim kept


async def test_a_single_stations_file_is_a_regency_of_one(tmp_path):
    path = tmp_path / "station.db"
    async with await Store.open(path, station_id="5203-07") as store:
        assert [s.id for s in await stations.all_stations(store)] == ["5203-07"]
        await books.add_allocation(store, "A", 5, None, "op")  # issued to the station at once
        assert await books.stock_total(store) == 5
        [s] = await books.station_books(store, "A")
        assert (s.station_id, s.issued, s.in_stock) == ("5203-07", 5, 5)
        with pytest.raises(UsageError):
            await books.issue(store, "A", "5203-08", 1, "op")


async def test_an_older_file_migrates_its_rows_to_the_configured_station(tmp_path):
    """A station's file of the schema before stations: its jobs, stock, printer record and pause become the
    configured station's, and the books and the audit chain stay whole."""
    niks = ["5203070101900001", "5203070101900002"]
    old = _older_file(tmp_path, niks)
    async with await Store.open(old, station_id="5203-09") as store:
        assert [s.id for s in await stations.all_stations(store)] == ["5203-09"]
        assert (await printer_record.booked_serial(store), await printer_record.booked_counter(store)) == ("S1", 3)
        [b] = await books.all_books(store)
        assert b.balanced and (b.received, b.good, b.in_stock, b.regency_stock) == (5, 1, 4, 0)
        assert await books.stock_total(store) == 4
        assert (await jobs.claim(store)).nik == niks[1]
        [took] = await store.fetchall("SELECT actor, subject, data FROM audit WHERE action = 'station.took_over'")
        assert (took["subject"], json.loads(took["data"])) == ("5203-09", {"from": "-"})
        assert (await audit.verify(store))[1] is None


async def test_a_file_opened_for_another_station_id_takes_its_rows_over_audited(tmp_path):
    path = tmp_path / "station.db"
    async with await Store.open(path, station_id="5203-07") as store:
        await books.add_allocation(store, "A", 5, None, "op")
    async with await Store.open(path, station_id="5203-08") as store:  # the configuration's id was changed
        [s] = await books.station_books(store, "A")
        assert (s.station_id, s.in_stock) == ("5203-08", 5)
        took = await store.fetchall("SELECT subject, data FROM audit WHERE action = 'station.took_over'")
        assert [(row["subject"], json.loads(row["data"])) for row in took] == [("5203-08", {"from": "5203-07"})]
    async with await Store.open(path, station_id="5203-08") as store:  # once: nothing left to take over
        assert await store.scalar("SELECT count(*) FROM audit WHERE action = 'station.took_over'") == 1


def _older_file(tmp_path: Path, niks: list[str]) -> Path:
    """An SQLite file migrated to the step before stations, with a printed card, a queued job and a printer."""
    from console.store import _statements

    path = tmp_path / "older.db"
    conn = sqlite3.connect(path, isolation_level=None)
    before = next(i for i, step in enumerate(MIGRATIONS) if "CREATE TABLE stations" in step)  # found, not counted
    for step in MIGRATIONS[:before]:
        for statement in _statements(step):
            conn.execute(statement)
    conn.execute("PRAGMA application_id = 1263816780")
    conn.execute(f"PRAGMA user_version = {before}")
    at = "2026-11-02T08:00:00.000+08:00"
    conn.execute("INSERT INTO meta VALUES ('created_at', ?)", (at,))
    for nik in niks:
        conn.execute(
            "INSERT INTO residents (nik, nama, tempat_lahir, tanggal_lahir, jenis_kelamin, alamat, rt, rw, kel_desa, "
            "kecamatan, agama, status_perkawinan, pekerjaan, imported_at, updated_at) VALUES (?, 'A', 'B', "
            "'1990-01-01', 'LAKI-LAKI', 'C', '1', '1', 'D', 'E', 'ISLAM', 'KAWIN', 'F', ?, ?)",
            (nik, at, at),
        )
    conn.execute("INSERT INTO allocations VALUES ('A', 1, 5, 4, NULL, ?)", (at,))
    conn.execute("INSERT INTO jobs (nik, state, allocation_id, card_counter, queued_at) "
                 "VALUES (?, 'done_good', 'A', 3, ?)", (niks[0], at))  # fmt: skip
    conn.execute("INSERT INTO jobs (nik, state, queued_at) VALUES (?, 'queued', ?)", (niks[1], at))
    conn.execute("INSERT INTO nik_locks VALUES (?, 1, ?, NULL, NULL)", (niks[0], at))
    conn.executemany("INSERT INTO meta VALUES (?, ?)", [("printer.serial", "S1"), ("printer.counter:S1", "3")])
    conn.close()
    return path


async def test_the_regency_report_counts_every_station_and_each_apart(ledger, tmp_path):
    east, west = await _two_stations(ledger.url)
    try:
        niks = await add_residents(east, 6)
        await books.add_allocation(east, "A", 20, "2026-11", "admin")
        await books.issue(east, "A", "east", 8, "admin")
        await books.issue(east, "A", "west", 4, "admin")
        await jobs.enqueue(east, niks[:4], "admin", for_station="east")
        await jobs.enqueue(east, niks[4:], "admin", for_station="west")
        for store, folder in ((east, "east"), (west, "west")):
            (tmp_path / folder).mkdir()
            async with emulated_printer(tmp_path / folder) as (_, printer):
                engine = make_engine(store, printer)
                await engine.start()
                assert await engine.run() == EMPTY
        with pytest.raises(RefusedError, match="west"):  # west's card is tagged at west, where it lies
            await jobs.tag(east, niks[5], True, "op")
        for nik in niks[:4]:
            await jobs.tag(east, nik, True, "op")
        await jobs.tag(west, niks[4], True, "op")
        await jobs.tag(west, niks[5], False, "op", reason="gagal_cetak")
        body = (await reports.make_report(east, "A", "5203", "admin")).body
        assert body["station_id"] == body["regency_id"] == "5203"
        assert body["counts"] == {"good": 5, "bad": 1, "spoiled_no_nik": 0, "in_stock": 14}
        assert body["regency_stock"] == 8
        assert body["by_station"] == {
            "east": {"issued": 8, "good": 4, "bad": 0, "spoiled_no_nik": 0, "in_stock": 4},
            "west": {"issued": 4, "good": 1, "bad": 1, "spoiled_no_nik": 0, "in_stock": 2},
        }
        assert body["report_id"] == reports.report_id_of(body)
        text = reports.render_text(body, "Dukcapil Lombok Timur")
        assert "Stasiun east: diserahkan 8 = baik 4 + rusak 0 + rusak tanpa NIK 0 + sisa 4" in text
        assert "Stasiun west: diserahkan 4 = baik 1 + rusak 1 + rusak tanpa NIK 0 + sisa 2" in text
        assert "Stok kabupaten (belum diserahkan ke stasiun): 8" in text and len(text.splitlines()) <= 64
    finally:
        await east.close()
        await west.close()


def test_reports_name_the_station_on_its_file_and_the_regency_on_a_ledger(tmp_path):
    from console.config import settings_from_dict

    def reporting(raw: dict) -> str:
        return stations.reporting_id(settings_from_dict(raw, tmp_path / "config.toml"))

    assert reporting({"station": {"id": "5203-01"}}) == "5203-01"
    ledger = {"url": "postgresql://station_5203_01@ledger:5432/ktpel"}
    assert reporting({"station": {"id": "5203-01"}, "database": ledger}) == "5203"
    assert reporting({"station": {"id": "5203-01", "regency_id": "52.03"}, "database": ledger}) == "52.03"


def test_blanks_and_the_queue_for_one_station_through_the_command_line_of_a_single_station(tmp_path):
    from tests.command import station
    from tests.test_cli_queue import make_station

    config = make_station(tmp_path, residents=3)
    assert station(config, "allocation", "add", "A", "5").returncode == 0
    unknown = station(config, "allocation", "issue", "A", "5203-99", "1")
    assert unknown.returncode == 2 and "5203-99" in unknown.stderr and "5203-01" in unknown.stderr
    too_many = station(config, "allocation", "return", "A", "5203-01", "6")
    assert too_many.returncode == 4 and "nothing changed" in too_many.stderr
    assert station(config, "allocation", "return", "A", "5203-01", "5").returncode == 0
    listed = json.loads(station(config, "allocation", "list", "--json").stdout)
    assert listed[0]["regency_stock"] == 5 and listed[0]["stations"][0]["in_stock"] == 0
    unknown_station = station(config, "enqueue", "--all", "--station", "5203-99")
    assert unknown_station.returncode == 2 and "5203-99" in unknown_station.stderr
    assert json.loads(station(config, "status", "--json").stdout)["queue"]["queued"] == 0
    assert station(config, "enqueue", "--all", "--station", "5203-01").returncode == 0
    refused = station(config, "print")
    assert refused.returncode == 4 and refused.stderr.strip()
    assert station(config, "allocation", "issue", "A", "5203-01", "5").returncode == 0
    assert station(config, "print").returncode == 0
    text = station(config, "allocation", "list").stdout
    assert "issued to stations 5 + regency stock 0" in text and "station 5203-01: issued 5" in text


async def test_the_report_is_refused_while_a_stations_books_do_not_balance_though_the_regencys_do(ledger):
    async with await Store.open(ledger.url, station_id="east") as east:
        await books.add_allocation(east, "A", 10, None, "admin")
        await books.issue(east, "A", "east", 4, "admin")
        async with east.transaction("test") as tx:  # a blank moved by hand, past the books of issue
            await tx.execute("UPDATE allocations SET in_stock = in_stock - 1")
            await tx.execute("UPDATE station_stock SET in_stock = in_stock + 1")
        [b] = await books.all_books(east)
        assert b.balanced
        with pytest.raises(RefusedError, match="stasiun east") as refused:
            await reports.make_report(east, "A", "5203", "admin")
        assert "diserahkan 4" in str(refused.value) and "sisa 5" in str(refused.value)
        assert await east.scalar("SELECT count(*) FROM reports") == 0
