"""Applying the centre's grant through the Python API: each NIK unlocked for exactly one reprint, keys in rotation,
a grant on a report that a later card made stale, the clock's tolerance, the size limit, the keys' config."""

from __future__ import annotations

import json
import os
import threading
from datetime import timedelta

import pytest

from console import jobs, locks, unlock
from console.central import simulator
from console.clock import now
from console.errors import ConfigError, UsageError
from tests.station import check_books_against_output_log, emulated_printer, make_engine
from tests.test_report_kit import STATION_ID, centre_keys, print_cards, reported, station, tag, write_config


async def reprint(folder, store, niks):
    result = await jobs.enqueue(store, niks, "test")
    assert result.refused == [], result.refused
    async with emulated_printer(folder) as (emu, printer):
        engine = make_engine(store, printer)
        await engine.start()
        await engine.run()


async def apply(store, document, keys, **kw):
    data = json.dumps(document).encode()
    return await unlock.apply_grant(store, data, station_id=STATION_ID, keys=keys, actor="test", **kw)


@pytest.fixture
async def bad_two(tmp_path, database):
    """Four cards printed: two good, two bad, reported; the centre's key configured (on each backend)."""
    printed = await print_cards(tmp_path, residents=5, blanks=20, printing=4, database=database)
    store, niks = printed.store, printed.niks
    try:
        await tag(store, niks[:2], {niks[2]: "gagal_cetak", niks[3]: "rusak_fisik"})
        report = await reported(store, tmp_path / "laporan")
        centre = centre_keys(tmp_path / "centre")
        keys = unlock.load_central_keys([centre.public])
        yield tmp_path, store, niks, report, centre, keys
    finally:
        await store.close()


async def test_each_nik_is_unlocked_for_exactly_one_reprint(bad_two):
    folder, store, niks, report, centre, keys = bad_two
    bad = niks[2:4]
    document = simulator.grant_for_report(report, centre.key)
    assert document["grant"]["niks"] == bad
    applied = await apply(store, document, keys)
    assert (applied.niks, applied.report_id, applied.key_id) == (tuple(bad), report["report_id"], centre.key_id)
    grant_row = await store.fetchone("SELECT * FROM grants")
    assert grant_row["nonce"] == document["grant"]["nonce"] and json.loads(grant_row["body"]) == document
    unlocks = await store.fetchall("SELECT * FROM unlocks ORDER BY id")
    assert [(u["nik"], u["used_by_job"]) for u in unlocks] == [(bad[0], None), (bad[1], None)]
    for nik in bad:
        assert await locks.refusal(store, nik) is None
        assert (await locks.lock_info(store, nik)).locked is False
    actions = [row["action"] for row in await store.fetchall("SELECT action FROM audit ORDER BY seq DESC LIMIT 3")]
    assert actions == ["nik.unlocked", "nik.unlocked", "grant.applied"]

    await reprint(folder, store, bad)
    for nik, unlock_row in zip(bad, unlocks):
        info = await locks.lock_info(store, nik)
        assert info.locked, f"{nik} must be locked again by its reprint"
        job = await store.fetchone("SELECT * FROM jobs WHERE id = ?", (info.job_id,))
        assert job["unlock_id"] == unlock_row["id"] and job["state"] == "printed"
        used = await store.scalar("SELECT used_by_job FROM unlocks WHERE id = ?", (unlock_row["id"],))
        assert used == job["id"]
    again = await jobs.enqueue(store, bad, "test")
    assert again.queued == [] and {r.code for r in again.refused} == {"locked"}
    await check_books_against_output_log(store, folder / "output.jsonl", unlocked=set(bad))


async def test_either_of_the_configured_keys_verifies(bad_two):
    folder, store, niks, report, centre, _ = bad_two
    rotated = centre_keys(folder / "centre-2027")
    keys = unlock.load_central_keys([centre.public, rotated.public])
    applied = await apply(store, simulator.grant_for_report(report, rotated.key, [niks[2]]), keys)
    assert applied.key_id == rotated.key_id and applied.niks == (niks[2],)


async def test_a_grant_on_the_report_before_a_reprint_is_stale(bad_two):
    folder, store, niks, first_report, centre, keys = bad_two
    nik = niks[2]
    await apply(store, simulator.grant_for_report(first_report, centre.key, [nik]), keys)
    await reprint(folder, store, [nik])
    await tag(store, [], {nik: "salah_data"})
    with pytest.raises(unlock.GrantRejected) as rejected:  # the centre has not seen the second bad card yet
        await apply(store, simulator.grant_for_report(first_report, centre.key, [nik]), keys)
    assert rejected.value.check == "nik_printed_since" and "#5" in str(rejected.value)
    second_report = await reported(store, folder / "laporan-2")
    assert simulator.unlockable_niks(second_report) == sorted([nik, niks[3]])
    applied = await apply(store, simulator.grant_for_report(second_report, centre.key, [nik]), keys)
    assert applied.niks == (nik,) and await locks.refusal(store, nik) is None


async def test_the_clock_may_differ_a_little(bad_two):
    folder, store, niks, report, centre, keys = bad_two
    ahead = simulator.make_grant(centre.key, station_id=STATION_ID, report_id=report["report_id"], niks=[niks[2]],
                                 issued_at=now() + timedelta(minutes=2))  # fmt: skip
    assert (await apply(store, ahead, keys)).niks == (niks[2],)
    later = simulator.make_grant(centre.key, station_id=STATION_ID, report_id=report["report_id"], niks=[niks[3]],
                                 issued_at=now() - timedelta(days=1), expires_in=timedelta(days=2))  # fmt: skip
    with pytest.raises(unlock.GrantRejected) as rejected:  # the station's clock says it has expired
        await apply(store, later, keys, now=now() + timedelta(days=1, minutes=1))
    assert rejected.value.check == "expired"


def test_a_huge_file_is_refused_without_reading_it(tmp_path):
    huge = tmp_path / "grant.json"
    with open(huge, "wb") as f:
        f.truncate(8 * 1024**3)  # 8 GiB, sparse: reading it whole would exhaust the memory
    with pytest.raises(unlock.GrantRejected) as rejected:
        unlock.read_grant_file(huge)
    assert rejected.value.check == "too_large" and rejected.value.exit_code == 6


def test_configured_keys_must_be_ed25519_public_keys(tmp_path):
    centre = centre_keys(tmp_path)
    private = tmp_path / "central-private.pem"
    for wrong in (private, tmp_path / "missing.pem"):
        with pytest.raises(ConfigError, match=wrong.name):
            unlock.load_central_keys([centre.public, wrong])
    assert list(unlock.load_central_keys([centre.public])) == [centre.key_id]


def test_a_pipe_is_read_no_further_than_the_limit(tmp_path):
    fifo = tmp_path / "grant.fifo"
    os.mkfifo(fifo)
    writer = threading.Thread(target=_flood, args=(fifo,))
    writer.start()
    try:
        with pytest.raises(unlock.GrantRejected) as rejected:
            unlock.read_grant_file(fifo)
        assert rejected.value.check == "too_large"
    finally:
        writer.join(timeout=10)


def _flood(fifo):
    """Write more than the limit into a pipe, until the reader stops reading."""
    chunk = b" " * 65536
    try:
        with open(fifo, "wb") as f:
            for _ in range(unlock.MAX_GRANT_BYTES // len(chunk) + 4):
                f.write(chunk)
    except BrokenPipeError:
        pass


async def reprint_on(printer_folder, store, niks):
    """Print `niks` (in this order) on the printer whose state lives in `printer_folder`."""
    printer_folder.mkdir(exist_ok=True)
    for nik in niks:
        result = await jobs.enqueue(store, [nik], "test")
        assert result.refused == [], result.refused
    async with emulated_printer(printer_folder) as (emu, printer):
        engine = make_engine(store, printer)
        await engine.start()
        await engine.run()


async def test_a_grant_on_an_old_report_does_not_unlock_a_card_of_another_printer_with_the_same_counter(bad_two):
    """Counters repeat across printers: the reprint on printer 2 gets the counter the reported card had on
    printer 1. A second grant signed on the same old report must not unlock it: it is not the card listed."""
    folder, store, niks, report, centre, keys = bad_two
    target = niks[2]
    reported_card = next(card for card in report["bad"] if card["nik"] == target)
    serials = {card["printer_serial"] for card in report["good"] + report["bad"]}
    assert len(serials) == 1 and None not in serials  # every card names the printer that took its blank
    await apply(store, simulator.grant_for_report(report, centre.key, niks[2:4]), keys)
    await reprint_on(folder / "printer-2", store, [niks[3], niks[4], target])
    lock = await locks.lock_info(store, target)
    job = await store.fetchone("SELECT * FROM jobs WHERE id = ?", (lock.job_id,))
    assert job["card_counter"] == reported_card["card_counter"]  # the same counter...
    assert job["printer_serial"] != reported_card["printer_serial"]  # ...on another printer
    await tag(store, [niks[3], niks[4]], {target: "gagal_cetak"})
    with pytest.raises(unlock.GrantRejected) as rejected:
        await apply(store, simulator.grant_for_report(report, centre.key, [target]), keys)
    assert rejected.value.check == "nik_printed_since" and job["printer_serial"] in str(rejected.value)
    assert (await locks.lock_info(store, target)).locked
    assert (await jobs.enqueue(store, [target], "test")).queued == []


async def test_a_refused_grant_names_every_nik_that_cannot_be_unlocked_and_why(bad_two):
    folder, store, niks, report, centre, keys = bad_two
    await apply(store, simulator.grant_for_report(report, centre.key, [niks[2]]), keys)
    with pytest.raises(unlock.GrantRejected) as rejected:  # niks[2] waits for its reprint; niks[0] was good
        await apply(store, simulator.make_grant(centre.key, station_id=STATION_ID, report_id=report["report_id"],
                                                niks=[niks[2], niks[3], niks[0]]), keys)  # fmt: skip
    message = str(rejected.value)
    assert niks[2] in message and niks[0] in message and niks[3] not in message
    assert rejected.value.detail == {"nik_not_locked": niks[2], "nik_not_bad": niks[0]}
    assert (await locks.lock_info(store, niks[3])).locked  # all or nothing


async def test_a_report_freezes_its_tags_even_when_they_were_made_with_the_clock_ahead(tmp_path, monkeypatch):
    """The tag's time says nothing about whether a report carried it: the clock may have been 30 days ahead."""
    from console import clock

    printed = await print_cards(tmp_path, residents=3, blanks=20, printing=3)
    store, niks = printed.store, printed.niks
    try:
        real_now = clock.now
        monkeypatch.setattr(clock, "now", lambda: real_now() + timedelta(days=30))
        await tag(store, niks[:2], {niks[2]: "gagal_cetak"})
        monkeypatch.setattr(clock, "now", real_now)
        report = await reported(store, tmp_path / "laporan")
        centre = centre_keys(tmp_path / "centre")
        await apply(store, simulator.grant_for_report(report, centre.key), unlock.load_central_keys([centre.public]))
        for nik, good in ((niks[2], True), (niks[0], False)):
            with pytest.raises(jobs.RefusedError) as refused:
                await jobs.tag(store, nik, good, "test", None if good else "gagal_cetak")
            assert report["report_id"][:12] in str(refused.value)
        states = [row["state"] for row in await store.fetchall("SELECT state FROM jobs ORDER BY card_counter")]
        assert states == ["done_good", "done_good", "done_bad"]
    finally:
        await store.close()


async def test_a_missing_central_key_stops_only_the_unlock_and_speaks_the_configured_language(bad_two):
    """Only `unlock` (and `doctor`) need the centre's keys: `status` and the rest work without them."""
    folder, store, niks, report, centre, keys = bad_two
    config = write_config(folder, public_keys=("centre/no-such-key.pem",), language="en")
    grant_file = folder / "grant.json"
    simulator.write_grant(simulator.grant_for_report(report, centre.key), grant_file)
    status = station(config, "status")
    assert status.returncode == 0, status.stderr
    unlocked = station(config, "unlock", str(grant_file))
    assert unlocked.returncode == 2
    assert "no-such-key.pem" in unlocked.stderr and "central public key" in unlocked.stderr
    assert "cannot be read" in unlocked.stderr and "Traceback" not in unlocked.stderr
    assert (await locks.lock_info(store, niks[2])).locked


async def test_the_centre_grants_on_a_newer_report_only_the_cards_it_has_not_unlocked_yet(bad_two):
    """Two NIKs unlocked; one reprinted and bad again, the other still waiting for its reprint when the next
    report is made. The centre's default grant on that report names only the new bad card, and it applies."""
    folder, store, niks, first_report, centre, keys = bad_two
    ledger = simulator.ledger_beside(folder / "centre" / "central-private.pem")
    issued = simulator.issue_grant(first_report, centre.key, folder / "grant-1.json", ledger)
    assert issued.document["grant"]["niks"] == niks[2:4] and issued.already_granted == []
    await apply(store, issued.document, keys)
    await reprint(folder, store, [niks[2]])
    await tag(store, [], {niks[2]: "salah_data"})
    second_report = await reported(store, folder / "laporan-2")
    assert simulator.unlockable_niks(second_report) == niks[2:4]  # niks[3]'s old bad card is listed again
    issued = simulator.issue_grant(second_report, centre.key, folder / "grant-2.json", ledger)
    assert issued.document["grant"]["niks"] == [niks[2]] and issued.already_granted == [niks[3]]
    assert (await apply(store, issued.document, keys)).niks == (niks[2],)
    with pytest.raises(UsageError) as nothing_left:
        simulator.issue_grant(second_report, centre.key, folder / "grant-3.json", ledger)
    assert niks[2] in str(nothing_left.value) and not (folder / "grant-3.json").exists()


async def test_reports_made_before_the_record_of_their_cards_find_their_cards_again(tmp_path):
    """A station's database from before `report_cards`: its report's cards found by NIK, counter and instant,
    so their tags stay frozen and a grant on that report applies to exactly them."""
    import sqlite3

    from console.schema import APPLICATION_ID, MIGRATIONS
    from console.store import Store

    db = tmp_path / "station.db"
    conn = sqlite3.connect(db)
    conn.executescript(MIGRATIONS[0])
    conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    conn.execute("PRAGMA user_version = 1")
    at = "2026-11-28T09:00:00.000+08:00"
    nik = "5203070101900001"
    conn.execute(
        "INSERT INTO residents (nik, nama, tempat_lahir, tanggal_lahir, jenis_kelamin, alamat, rt, rw, kel_desa, "
        "kecamatan, agama, status_perkawinan, pekerjaan, imported_at, updated_at) VALUES "
        "(?, 'A', 'X', '1990-01-01', 'LAKI-LAKI', 'J', '001', '002', 'D', 'K', 'ISLAM', 'KAWIN', 'P', ?, ?)",
        (nik, at, at),
    )
    conn.execute("INSERT INTO allocations VALUES ('A', 1, 3, 1, NULL, ?)", (at,))
    for job_id, counter, printed in ((1, 7, at), (2, 7, "2026-11-29T09:00:00.000+08:00")):  # same counter
        conn.execute(
            "INSERT INTO jobs (id, nik, state, allocation_id, card_counter, printed_at, queued_at, tag_reason) "
            "VALUES (?, ?, 'done_bad', 'A', ?, ?, ?, 'gagal_cetak')",
            (job_id, nik, counter, printed, at),
        )
    body = {"bad": [{"nik": nik, "card_counter": 7, "printed_at": at}], "good": []}
    conn.execute("INSERT INTO reports VALUES ('r1', 'A', ?, ?)", (at, json.dumps(body)))
    conn.commit()
    conn.close()
    store = await Store.open(db, create=False)
    try:
        listed = await store.fetchall("SELECT report_id, job_id FROM report_cards")
        assert [tuple(row) for row in listed] == [("r1", 1)]
        assert await jobs.report_listing(store, 1) == "r1" and await jobs.report_listing(store, 2) is None
    finally:
        await store.close()
