"""An attacker holding a station role's password, with psql (or this very program), tries every way to free a
printed NIK on the regency ledger without the centre's unlock: open, delete or move its lock, forge a grant and an
unlock, rewrite the printed job, append lock entries to the audit log, reach another station's rows, or make the
honest engine settle a printed card again. The ledger refuses each, and the honest paths (`jobs.enqueue`, the
lock rule, the engine printing on the real emulator) then refuse the second card. What the station must do
(print, requeue a blank that never left the feeder, reprint once the owner applied the centre's grant) still
works as its role."""

from __future__ import annotations

import asyncio
import json
import re
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from console import books, jobs, locks, operators, pins, printer_record, reports, stations, unlock
from console.backends import pg_roles
from console.central import simulator
from console.config import DatabaseSettings
from console.demo import write_demo_csv
from console.errors import RefusedError
from console.regency import printing_here
from console.resident_import import import_residents
from console.store import Store
from drivers.emulator import read_output_log
from tests.conftest import wait_for
from tests.station import emulated_printer, make_engine
from tests.test_ledger_cli import config_with
from tests.test_ledger_roles import _station_config
from tests.test_report_kit import centre_keys, station
from tests.test_stations_race import STATIONS, run_race

ALLOCATION = "JATAH-2026-11"
REGENCY = "5203"
ANOTHER_DAY = "2026-12-01T09:00:00.000+08:00"


@dataclass
class Regency:
    """The ledger's owner (the administrator's desk) and two stations, east and west, each on its own role."""

    folder: Path
    owner: Store
    stores: dict[str, Store]
    ids: dict[str, str]
    urls: dict[str, str]
    passwords: dict[str, str]
    niks: list[str]

    def psql(self, side: str) -> psycopg.Connection:
        """A connection as the station's role, as psql would open it with the station's password."""
        return psycopg.connect(self.urls[side], password=self.passwords[side], autocommit=True)

    async def print_at(self, side: str, niks: list[str], **emulator: object) -> None:
        """The owner queues `niks` for the station; the station's engine prints them, as its role."""
        await jobs.enqueue(self.owner, niks, "admin", for_station=self.ids[side])
        await self.run_engine(side, **emulator)

    async def run_engine(self, side: str, **emulator: object) -> None:
        async with emulated_printer(self.folder, **emulator) as (_, printer):
            engine = make_engine(self.stores[side], printer)
            await engine.start()
            await engine.run()

    def cards_of(self, nik: str) -> int:
        """Cards that physically came out of the printer with this NIK on them."""
        return Counter(card["nik"] for card in read_output_log(self.folder / "output.jsonl"))[nik]

    async def job_of(self, nik: str) -> dict:
        return await self.owner.fetchone("SELECT * FROM jobs WHERE nik = ? ORDER BY id DESC LIMIT 1", (nik,))


def _as_role(url: str, role: str) -> str:
    return re.sub(r"//[^@/]*@", f"//{role}@", url, count=1)


@pytest.fixture
async def regency(tmp_path: Path, ledger) -> AsyncIterator[Regency]:
    owner = await Store.open(ledger.url, station_id=f"{REGENCY}-00")
    opened = [owner]
    try:
        await import_residents(owner, write_demo_csv(tmp_path / "residents.csv", 6, seed=7))
        niks = [row["nik"] for row in await owner.fetchall("SELECT nik FROM residents ORDER BY nik")]
        await books.add_allocation(owner, ALLOCATION, 30, "2026-11", "admin")
        ids, urls, passwords, stores = {}, {}, {}, {}
        for side in ("east", "west"):
            ids[side] = f"{ledger.name[-12:]}-{side}".replace("_", "-").strip("-")
            role, passwords[side] = pg_roles.role_name(ids[side]), pg_roles.new_password()
            async with owner.transaction("admin") as tx:
                await stations.add(tx, ids[side], f"Loket {side}", role)
                await pg_roles.create_station_role(tx, role, passwords[side])
            await books.issue(owner, ALLOCATION, ids[side], 10, "admin")
            urls[side] = _as_role(ledger.url, role)
            password_file = tmp_path / f"{side}.pass"
            password_file.write_text(passwords[side] + "\n")
            password_file.chmod(0o600)
            settings = DatabaseSettings(path=tmp_path / side / "station.db", url=urls[side],  # its witness's folder
                                        password_file=password_file, station_id=ids[side])  # fmt: skip
            stores[side] = await Store.open(settings)
            opened.append(stores[side])
        yield Regency(tmp_path, owner, stores, ids, urls, passwords, niks)
    finally:
        for store in opened:
            await store.close()


def went_through(conn: psycopg.Connection, sql: str, params: tuple = ()) -> bool:
    """True if the ledger took the statement and it changed a row (the forgery went through); False if it was
    refused or found nothing it may change."""
    try:
        return conn.execute(sql, params).rowcount > 0
    except psycopg.Error:
        return False


async def assert_no_second_card(rig: Regency, nik: str, cards: int = 1) -> None:
    """The honest paths refuse the NIK a card more: the queue at either station, the lock rule, and the engine
    (anything the attack left queued is printed if it may be; the printer shows how many cards the NIK has)."""
    for side in ("east", "west"):
        result = await jobs.enqueue(rig.stores[side], [nik], "op")
        assert result.queued == [] and [r.code for r in result.refused] in (["locked"], ["already_queued"]), result
        assert await locks.refusal(rig.stores[side], nik) is not None
    await rig.run_engine("east")
    assert rig.cards_of(nik) == cards
    assert (await locks.lock_info(rig.owner, nik)).locked


async def test_a_station_role_can_neither_open_nor_delete_nor_move_a_printed_niks_lock(regency):
    rig = regency
    printed, other = rig.niks[:2]
    await rig.print_at("east", [printed])
    job = (await rig.job_of(printed))["id"]
    with rig.psql("east") as conn:
        for sql, params in (
            ("UPDATE nik_locks SET unlocked_at = %s WHERE nik = %s", (ANOTHER_DAY, printed)),
            ("DELETE FROM nik_locks WHERE nik = %s", (printed,)),
            ("UPDATE nik_locks SET nik = %s WHERE nik = %s", (other, printed)),
            ("UPDATE nik_locks SET job_id = job_id, locked_at = %s WHERE nik = %s", (ANOTHER_DAY, printed)),
            ("INSERT INTO nik_locks VALUES (%s, %s, %s, %s, NULL)", (other, job, ANOTHER_DAY, ANOTHER_DAY)),
        ):
            assert not went_through(conn, sql, params), sql
    with pytest.raises(psycopg.Error):  # the program's own unlock, run with the station's credentials
        async with rig.stores["east"].transaction("attacker") as tx:
            await locks.unlock(tx, printed, None, ANOTHER_DAY)
    await assert_no_second_card(rig, printed)


async def test_a_station_role_cannot_forge_the_centres_grant_nor_an_unlock(regency):
    rig = regency
    [printed] = rig.niks[:1]
    await rig.print_at("east", [printed])
    nonce = "ab" * 16
    with rig.psql("east") as conn:
        for sql, params in (
            ("INSERT INTO reports (report_id, allocation_id, generated_at, body, made_seq) "
             "VALUES (%s, %s, %s, '{}', 99)", ("f" * 64, ALLOCATION, ANOTHER_DAY)),
            ("INSERT INTO grants VALUES (%s, %s, 'x', %s, '{}')", (nonce, "f" * 64, ANOTHER_DAY)),
            ("INSERT INTO unlocks (nik, grant_nonce, unlocked_at) VALUES (%s, %s, %s)", (printed, nonce, ANOTHER_DAY)),
            ("UPDATE nik_locks SET unlocked_at = %s, unlock_id = (SELECT max(id) FROM unlocks) WHERE nik = %s",
             (ANOTHER_DAY, printed)),
        ):  # fmt: skip
            went_through(conn, sql, params)
        assert conn.execute("SELECT count(*) FROM grants").fetchone()[0] == 0
        assert conn.execute("SELECT count(*) FROM unlocks").fetchone()[0] == 0
    await assert_no_second_card(rig, printed)


async def test_a_station_role_cannot_rewrite_a_printed_job_to_free_its_nik(regency):
    rig = regency
    printed, other = rig.niks[:2]
    await rig.print_at("east", [printed])
    await jobs.tag(rig.stores["east"], printed, True, "op")
    job = await rig.job_of(printed)
    with rig.psql("east") as conn:
        for sql, params in (
            ("UPDATE jobs SET state = 'queued' WHERE id = %s", (job["id"],)),
            ("UPDATE jobs SET state = 'cancelled' WHERE id = %s", (job["id"],)),
            ("UPDATE jobs SET state = 'printing', card_counter = NULL WHERE id = %s", (job["id"],)),
            ("UPDATE jobs SET nik = %s WHERE id = %s", (other, job["id"])),
            ("UPDATE jobs SET card_counter = NULL, allocation_id = NULL, unlock_id = NULL WHERE id = %s",
             (job["id"],)),
            ("DELETE FROM jobs WHERE id = %s", (job["id"],)),
            ("INSERT INTO jobs (nik, state, queued_at, station_id) VALUES (%s, 'printing', %s, %s)",
             (printed, ANOTHER_DAY, rig.ids["east"])),
        ):  # fmt: skip
            assert not went_through(conn, sql, params), sql
    after = await rig.job_of(printed)
    assert (after["id"], after["state"], after["card_counter"]) == (job["id"], "done_good", job["card_counter"])
    await assert_no_second_card(rig, printed)


async def test_a_station_role_cannot_rewrite_the_audit_log_nor_append_lock_entries_that_free_a_nik(regency):
    rig = regency
    [printed] = rig.niks[:1]
    await rig.print_at("east", [printed])
    with rig.psql("east") as conn:
        for sql in (
            "UPDATE audit SET action = 'nik.lock_released' WHERE subject = %s",
            "DELETE FROM audit WHERE subject = %s",
        ):
            assert not went_through(conn, sql, (printed,)), sql
    for action in ("nik.lock_released", "nik.unlocked", "grant.applied"):  # hashed and chained as the program does
        with pytest.raises(psycopg.Error):
            async with rig.stores["east"].transaction("attacker") as tx:
                await tx.audit(action, printed, job=0)
    last = await rig.owner.fetchone("SELECT action FROM audit WHERE subject = ? ORDER BY seq DESC LIMIT 1", (printed,))
    assert last["action"] != "nik.lock_released"
    await assert_no_second_card(rig, printed)


async def test_another_stations_role_cannot_reach_east_s_locks_jobs_and_unlocks(regency):
    rig = regency
    [printed] = rig.niks[:1]
    await rig.print_at("east", [printed])
    job = await rig.job_of(printed)
    with rig.psql("west") as conn:
        for sql, params in (
            ("UPDATE nik_locks SET unlocked_at = %s WHERE nik = %s", (ANOTHER_DAY, printed)),
            ("DELETE FROM nik_locks WHERE nik = %s", (printed,)),
            ("UPDATE jobs SET state = 'queued' WHERE id = %s", (job["id"],)),
            ("UPDATE unlocks SET used_by_job = NULL", ()),
        ):
            assert not went_through(conn, sql, params), sql
    await assert_no_second_card(rig, printed)


async def _reprinted_once(rig: Regency) -> tuple[str, unlock.AppliedGrant, dict]:
    """East printed a NIK, tagged it bad; the regency reported it, the centre granted one reprint, the owner
    applied the grant, east reprinted it. Returns the NIK, the grant applied and the centre's grant document."""
    [nik] = rig.niks[:1]
    await rig.print_at("east", [nik])
    await jobs.tag(rig.stores["east"], nik, False, "op", "gagal_cetak")
    made = await reports.make_report(rig.owner, ALLOCATION, REGENCY, "admin")
    centre = centre_keys(rig.folder / "centre")
    keys = unlock.load_central_keys([centre.public])
    document = simulator.grant_for_report(made.body, centre.key)
    data = json.dumps(document).encode()
    with pytest.raises(
        RefusedError, match=rig.ids["east"]
    ):  # a station's role does not apply it: the ledger's owner does
        await unlock.apply_grant(rig.stores["east"], data, station_id=REGENCY, keys=keys, actor="op")
    assert await rig.owner.scalar("SELECT count(*) FROM grants") == 0
    applied = await unlock.apply_grant(rig.owner, data, station_id=REGENCY, keys=keys, actor="admin")
    await rig.print_at("east", [nik])
    assert rig.cards_of(nik) == 2
    return nik, applied, document


async def test_the_owner_applies_the_grant_and_a_station_role_reprints_exactly_once(regency):
    rig = regency
    nik, applied, _ = await _reprinted_once(rig)
    reprint = await rig.job_of(nik)
    assert reprint["unlock_id"] == applied.unlock_ids[0] and reprint["state"] == "printed"
    assert await rig.owner.scalar("SELECT used_by_job FROM unlocks") == reprint["id"]
    await assert_no_second_card(rig, nik, cards=2)


async def test_a_reprint_made_in_doubt_again_is_not_settled_into_a_third_card(regency):
    """The printed reprint is put back to 'printing' with the printer's counter as if no blank had left the
    feeder: the honest engine, settling it at start, would give the lock back to the used unlock and print the
    NIK a third time."""
    rig = regency
    nik, applied, _ = await _reprinted_once(rig)
    reprint = await rig.job_of(nik)
    with rig.psql("east") as conn:
        in_doubt = went_through(
            conn,
            "UPDATE jobs SET state = 'printing', card_counter = NULL, card_dest = NULL, printed_at = NULL, "
            "counter_before = %s WHERE id = %s",
            (reprint["card_counter"], reprint["id"]),
        )
    await assert_no_second_card(rig, nik, cards=2)  # the engine starts, settles what is in doubt, prints
    assert not in_doubt
    with rig.psql("east") as conn:
        for sql, params in (
            ("UPDATE unlocks SET used_by_job = NULL WHERE id = %s", (applied.unlock_ids[0],)),
            ("UPDATE nik_locks SET unlocked_at = %s, unlock_id = %s WHERE nik = %s",
             (applied.applied_at, applied.unlock_ids[0], nik)),
        ):  # fmt: skip
            assert not went_through(conn, sql, params), sql
    await assert_no_second_card(rig, nik, cards=2)


async def test_a_blank_that_never_left_the_feeder_is_sent_again_and_a_reservation_given_back_as_a_station_role(regency):
    """The honest steps around a card that did not go, as the station's role. A feeder found empty at the card's
    `Ss`: the job keeps its blank and its NIK's lock, and once the operator loads blanks the same card goes, once.
    A reservation (the next card's blank taken while one prints, its `Ss` never sent) given back when a jam stops
    the card before: a first card's lock goes, a reprint's lock is open again on its unlock, unused again."""
    rig = regency
    first, second = rig.niks[:2]
    await jobs.enqueue(rig.owner, [first], "admin", for_station=rig.ids["east"])
    async with emulated_printer(rig.folder, faults="feeder_empty@1") as (emu, printer):
        engine = make_engine(rig.stores["east"], printer)
        await engine.start()
        await engine.run()
        job = await rig.job_of(first)
        assert (job["state"], job["card_counter"]) == ("printing", None) and job["counter_before"] is not None
        info = await locks.lock_info(rig.owner, first)
        assert (info.locked, info.job_id) == (True, job["id"])
        emu.load(20)
        assert await engine.recover()
        await engine.run()
    assert rig.cards_of(first) == 1 and (await rig.job_of(first))["state"] == "printed"
    assert (await rig.job_of(first))["id"] == job["id"]

    await jobs.tag(rig.stores["east"], first, False, "op", "gagal_cetak")
    made = await reports.make_report(rig.owner, ALLOCATION, REGENCY, "admin")
    centre = centre_keys(rig.folder / "centre")
    document = simulator.grant_for_report(made.body, centre.key)
    keys = unlock.load_central_keys([centre.public])
    [unlock_id] = (await unlock.apply_grant(rig.owner, json.dumps(document).encode(), station_id=REGENCY,
                                            keys=keys, actor="admin")).unlock_ids  # fmt: skip
    await jobs.enqueue(rig.stores["east"], [second], "op")
    await jobs.enqueue(rig.stores["east"], [first], "op")  # the reprint, reserved while `second` prints and jams
    async with emulated_printer(rig.folder, faults="jam@1") as (emu, printer):
        engine = make_engine(rig.stores["east"], printer)
        await engine.start()
        await engine.run()
        reprint = await rig.job_of(first)
        assert (reprint["state"], reprint["counter_before"], reprint["allocation_id"]) == ("queued", None, None)
        info = await locks.lock_info(rig.owner, first)
        assert (info.locked, info.unlock_id) == (False, unlock_id)
        assert await rig.owner.scalar("SELECT used_by_job FROM unlocks") is None
        released = "SELECT count(*) FROM audit WHERE action = 'nik.lock_released' AND subject = ?"
        assert await rig.owner.scalar(released, (first,)) == 1  # it was reserved, then given back
        emu.clear()
        assert await engine.recover()
        await engine.run()
    assert rig.cards_of(first) == 2 and (await rig.job_of(second))["state"] == "done_bad"
    assert (await locks.lock_info(rig.owner, first)).locked
    await assert_no_second_card(rig, first, cards=2)


def test_ledger_migrate_gives_an_existing_station_role_todays_rights(tmp_path, ledger):
    """A role made by an older program (it could write grants, unlocks and any lock) is brought to today's
    rights by `station ledger migrate`, run by the ledger's owner."""
    admin = config_with(tmp_path, f'url = "{ledger.url}"')
    station_id = f"{ledger.name[-12:]}-old".replace("_", "-").strip("-")
    added = station(admin, "ledger", "add-station", station_id, "--name", "Loket lama",
                    "--password-file", str(tmp_path / "old.pass"))  # fmt: skip
    assert added.returncode == 0, added.stderr
    role = pg_roles.role_name(station_id)
    own = _station_config(tmp_path / "old", added.stdout)
    with psycopg.connect(**ledger.connect_kwargs(), autocommit=True) as conn:
        conn.execute(
            f"GRANT INSERT, UPDATE ON grants, unlocks, nik_locks, residents, operators, station_stock TO {role}"
        )
        conn.execute(f"GRANT UPDATE (unlocked_at, nik) ON unlocks TO {role}")
        conn.execute("DROP TRIGGER IF EXISTS ktpel_guard ON nik_locks")
        conn.execute("DROP TRIGGER IF EXISTS ktpel_guard ON station_stock")
        [before] = [line for line in station(own, "doctor").stdout.splitlines() if line.startswith("role")]
        assert "[WARN]" in before and "station ledger migrate" in before, before
        migrated = station(admin, "ledger", "migrate")
        assert migrated.returncode == 0, migrated.stderr
        rights = conn.execute(
            "SELECT has_table_privilege(%s, 'grants', 'INSERT'), has_table_privilege(%s, 'unlocks', 'INSERT'), "
            "has_table_privilege(%s, 'nik_locks', 'UPDATE'), has_column_privilege(%s, 'unlocks', 'nik', 'UPDATE'), "
            "EXISTS (SELECT 1 FROM pg_trigger WHERE tgname = 'ktpel_guard' AND tgrelid = 'nik_locks'::regclass), "
            "has_table_privilege(%s, 'residents', 'INSERT'), has_column_privilege(%s, 'operators', 'pin_hash', 'UPDATE'), "
            "has_column_privilege(%s, 'station_stock', 'issued', 'UPDATE'), "
            "has_column_privilege(%s, 'operators', 'failed_attempts', 'UPDATE'), "
            "EXISTS (SELECT 1 FROM pg_trigger WHERE tgname = 'ktpel_guard' AND tgrelid = 'station_stock'::regclass)",
            (role,) * 8,
        ).fetchone()
        assert "1 station role" in migrated.stdout
    assert rights == (False, False, True, False, True, False, False, False, True, True)
    [after] = [line for line in station(own, "doctor").stdout.splitlines() if line.startswith("role")]
    assert "[ OK ]" in after, after


async def test_the_queue_tags_faults_and_settling_work_as_a_station_role(regency):
    """The rest of what the honest station does, as its role under the guards: hold, release and cancel a job,
    tag and correct a tag, a card spoiled by a jam booked bad, a card taken before a crash settled at start."""
    rig = regency
    east = rig.stores["east"]
    held, cancelled, jammed, crashed = rig.niks[:4]
    await jobs.enqueue(east, [held, cancelled], "op")
    job = (await rig.job_of(held))["id"]
    assert (await jobs.hold(east, job, "op")).state == "held"
    assert (await jobs.release(east, job, "op")).state == "queued"
    assert (await jobs.cancel(east, (await rig.job_of(cancelled))["id"], "op")).state == "cancelled"
    await rig.run_engine("east")
    await jobs.tag(east, held, True, "op")
    assert (await jobs.tag(east, held, False, "op", "rusak_fisik")).state == "done_bad"  # corrected before a report

    await jobs.enqueue(rig.owner, [jammed], "admin", for_station=rig.ids["east"])
    async with emulated_printer(rig.folder, faults="jam@1") as (emu, printer):
        engine = make_engine(east, printer)
        await engine.start()
        await engine.run()
        assert (await rig.job_of(jammed))["state"] == "done_bad"
        emu.clear()
        assert await engine.recover()

    await jobs.enqueue(east, [crashed], "op")
    async with emulated_printer(rig.folder) as (_, printer):
        await printer.setup("ko")
        [claimed] = [j for j in [await jobs.claim(east)] if j is not None]
        counter = await printer.card_counter()
        async with east.transaction("op") as tx:  # the engine's steps up to the blank, then the station dies
            allocation = await books.take_blank(tx)
            await locks.lock_for_job(tx, claimed.nik, claimed.id, ANOTHER_DAY)
            await jobs.set_state(tx, claimed.id, jobs.PRINTING, allocation_id=allocation, counter_before=counter)
        await printer.take_blank()
        [settled] = await make_engine(east, printer).settle()
    assert (settled.nik, settled.state, settled.card_counter) == (crashed, "printed", counter + 1)
    for nik in (held, jammed):
        await assert_no_second_card(rig, nik, cards=1)
    await assert_no_second_card(rig, crashed, cards=0)  # its blank went to the reject box with nothing on it
    assert rig.cards_of(cancelled) == 0


async def test_four_stations_on_their_own_roles_killed_at_random_print_each_nik_once(tmp_path, ledger):
    """The race of tests/test_stations_race.py with each station on its own role, under the guards: claims,
    blanks, settling after a SIGKILL (a lock given back, a card booked) and restarts all pass them."""
    roles = {station_id: f"{pg_roles.role_name(station_id)}_{ledger.name[-8:]}" for station_id in STATIONS}
    async with await Store.open(ledger.url) as owner:
        for station_id, role in roles.items():
            async with owner.transaction("admin") as tx:
                await stations.add(tx, station_id, station_id, role)
                await pg_roles.create_station_role(tx, role, pg_roles.new_password())  # the test server trusts
    try:
        urls = {station_id: _as_role(ledger.url, role) for station_id, role in roles.items()}
        await run_race(tmp_path, ledger, rounds=3, residents=24, restart_at=1, urls=urls)
    finally:
        with psycopg.connect(**ledger.connect_kwargs(), autocommit=True) as conn:
            for role in roles.values():
                conn.execute(f"DROP OWNED BY {role}")
                conn.execute(f"DROP ROLE {role}")


async def test_a_station_role_cannot_turn_a_reported_good_card_bad_to_win_an_unlock(regency):
    """A good card the regency reported to the centre (or handed over) keeps its tag: turned bad, the next report
    would ask the centre to unlock a NIK whose resident holds a good card."""
    rig = regency
    good, bad = rig.niks[:2]
    await rig.print_at("east", [good, bad])
    await jobs.tag(rig.stores["east"], good, True, "op")
    await jobs.tag(rig.stores["east"], bad, False, "op", "gagal_cetak")
    await reports.make_report(rig.owner, ALLOCATION, REGENCY, "admin")
    with rig.psql("east") as conn:
        for sql, params in (
            ("UPDATE jobs SET state = 'done_bad', tag_reason = 'rusak_fisik' WHERE nik = %s", (good,)),
            ("UPDATE jobs SET tag_reason = 'salah_data' WHERE nik = %s", (bad,)),
            ("UPDATE jobs SET state = 'done_good', tag_reason = NULL WHERE nik = %s", (bad,)),
        ):
            assert not went_through(conn, sql, params), sql
    with pytest.raises(RefusedError):  # the honest path says so too
        await jobs.tag(rig.stores["east"], good, False, "op", "rusak_fisik")
    assert (await rig.job_of(good))["state"] == "done_good"
    assert (await rig.job_of(bad))["tag_reason"] == "gagal_cetak"


async def test_a_role_made_by_hand_with_every_right_is_held_by_the_guards_too(regency, ledger):
    """Not registered by `add-station` (so no station of its own) and granted every table: still not the owner."""
    rig = regency
    [printed] = rig.niks[:1]
    await rig.print_at("east", [printed])
    role = f"handmade_{ledger.name[-8:]}"
    with psycopg.connect(**ledger.connect_kwargs(), autocommit=True) as admin:
        admin.execute(f"CREATE ROLE {role} LOGIN")
        admin.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}")
    try:
        with psycopg.connect(_as_role(ledger.url, role), autocommit=True) as conn:
            for sql, params in (
                ("UPDATE nik_locks SET unlocked_at = %s WHERE nik = %s", (ANOTHER_DAY, printed)),
                ("DELETE FROM nik_locks WHERE nik = %s", (printed,)),
                ("UPDATE jobs SET state = 'queued' WHERE nik = %s", (printed,)),
            ):
                assert not went_through(conn, sql, params), sql
        await assert_no_second_card(rig, printed)
    finally:
        with psycopg.connect(**ledger.connect_kwargs(), autocommit=True) as admin:
            admin.execute(f"DROP OWNED BY {role}")
            admin.execute(f"DROP ROLE {role}")


async def test_a_station_role_takes_over_the_claims_a_killed_station_left(regency):
    """The takeover of orphaned claims (`jobs.claim`) works as a station's role: west claimed a job and holds no
    printing session (as if killed); east, with nothing free, takes it over and prints it, once."""
    rig = regency
    [nik] = rig.niks[:1]
    await jobs.enqueue(rig.owner, [nik], "admin")
    left = await jobs.claim(rig.stores["west"])
    assert left is not None and left.nik == nik
    taken = await jobs.claim(rig.stores["east"])
    assert taken is not None and taken.id == left.id
    await rig.run_engine("east")
    assert rig.cards_of(nik) == 1 and (await rig.job_of(nik))["station_id"] == rig.ids["east"]


async def _card_out_unbooked(rig: Regency, nik: str) -> tuple[dict, int]:
    """East's engine takes the blank for `nik` (its counter committed), the printer prints the card into the hopper,
    and the station dies before the card is booked: the job is in flight with a card in the hopper. The job, and
    the counter before its card."""
    await jobs.enqueue(rig.owner, [nik], "admin", for_station=rig.ids["east"])
    east = rig.stores["east"]
    async with emulated_printer(rig.folder) as (_, printer):
        engine = make_engine(east, printer)
        await engine.start()
        claimed = await jobs.claim(east)
        assert claimed is not None and claimed.nik == nik
        counter = await printer.card_counter()
        frames = await engine.build_card(claimed)
        async with east.transaction("op") as tx:  # the engine's steps up to the blank
            allocation = await books.take_blank(tx)
            await locks.lock_for_job(tx, nik, claimed.id, ANOTHER_DAY)
            await jobs.set_state(tx, claimed.id, jobs.PRINTING, allocation_id=allocation, counter_before=counter)
        await printer.take_blank()
        await printer.print_front(frames)
    assert rig.cards_of(nik) == 1
    return await rig.job_of(nik), counter


async def test_a_station_role_cannot_give_back_the_lock_of_a_card_it_started(regency):
    """The card of the job in flight is out (its counter was committed before its `Ss`); the station says its blank
    never left the feeder, as the engine would for a feeder found empty: the lock given back, the job queued again,
    the printer's counter booked as if it had met an outside card. The honest engine would then print the NIK a
    second time. Only a job whose `Ss` never went out (no counter committed) may give its lock back."""
    rig = regency
    [nik] = rig.niks[:1]
    job, counter = await _card_out_unbooked(rig, nik)
    with pytest.raises(psycopg.Error):  # the engine's own give-back, run with the station's credentials
        async with rig.stores["east"].transaction("attacker") as tx:
            await locks.release_for_job(tx, nik, job["id"])
            await books.return_blank(tx, job["allocation_id"])
            await jobs.set_state(tx, job["id"], jobs.QUEUED, "fault: feeder_empty", allocation_id=None,
                                 counter_before=None, started_at=None)  # fmt: skip
    with rig.psql("east") as conn:
        for sql, params in (
            ("DELETE FROM nik_locks WHERE nik = %s", (nik,)),
            ("UPDATE jobs SET counter_before = NULL WHERE id = %s", (job["id"],)),
            ("UPDATE jobs SET state = 'queued', allocation_id = NULL, counter_before = NULL, started_at = NULL "
             "WHERE id = %s", (job["id"],)),
        ):  # fmt: skip
            assert not went_through(conn, sql, params), sql
    async with rig.stores["east"].transaction("attacker") as tx:  # its own printer's record stays its own to write
        await printer_record.book_counter(tx, counter + 1)
    await assert_no_second_card(rig, nik)  # the engine settles the card in flight as printed
    assert (await rig.job_of(nik))["card_counter"] == counter + 1


async def test_a_station_role_cannot_write_the_residents_register(regency):
    """The register is the regency's (its office imports it): a station's role may not rewrite a printed NIK's
    record, nor add a resident (a made-up person with a NIK of its choosing), nor remove one."""
    rig = regency
    printed, other = rig.niks[:2]
    await rig.print_at("east", [printed])
    record = await rig.owner.fetchone("SELECT nama FROM residents WHERE nik = ?", (other,))
    with rig.psql("east") as conn:
        for sql, params in (
            ("UPDATE residents SET nama = 'ORANG LAIN' WHERE nik = %s", (printed,)),
            ("UPDATE residents SET nik = '5203999999990001' WHERE nik = %s", (printed,)),
            ("INSERT INTO residents SELECT * FROM residents WHERE nik = %s", (other,)),
            ("INSERT INTO residents (nik, nama) VALUES ('5203999999990002', 'ORANG BARU')", ()),
            ("DELETE FROM residents WHERE nik = %s", (other,)),
        ):
            assert not went_through(conn, sql, params), sql
    assert await rig.owner.fetchone("SELECT nama FROM residents WHERE nik = ?", (other,)) == record
    assert await rig.owner.scalar("SELECT count(*) FROM residents") == len(rig.niks)
    await assert_no_second_card(rig, printed)
    await rig.print_at("east", [other])  # the station's day goes on: it prints from the regency's register
    assert rig.cards_of(other) == 1


async def test_a_station_role_cannot_make_itself_a_supervisor_nor_set_a_pin(regency):
    """Operators are the regency's, one account for every station: a station's role may not add one, raise one to
    supervisor, set anyone's PIN, nor lift a disabling. It keeps what a sign-in writes (wrong PINs and their wait)."""
    rig = regency
    await operators.add_operator(rig.owner, "kepala", operators.SUPERVISOR, "731906", "admin")
    await operators.add_operator(rig.owner, "budi", "operator", "520364", "kepala")
    known = pins.hash_pin("284731")
    before = await rig.owner.fetchall("SELECT * FROM operators ORDER BY name")
    with rig.psql("east") as conn:
        for sql, params in (
            ("UPDATE operators SET role = 'supervisor' WHERE name = 'budi'", ()),
            ("UPDATE operators SET pin_hash = %s, pin_salt = %s, pin_params = %s WHERE name = 'kepala'",
             (known.hash_hex, known.salt_hex, known.params)),
            ("INSERT INTO operators (name, role, pin_hash, pin_salt, pin_params, created_at, created_by) "
             "VALUES ('maling', 'supervisor', %s, %s, %s, %s, 'east')",
             (known.hash_hex, known.salt_hex, known.params, ANOTHER_DAY)),
            ("UPDATE operators SET disabled_at = %s WHERE name = 'kepala'", (ANOTHER_DAY,)),
            ("DELETE FROM operators WHERE name = 'kepala'", ()),
        ):  # fmt: skip
            assert not went_through(conn, sql, params), sql
    assert await rig.owner.fetchall("SELECT * FROM operators ORDER BY name") == before
    with pytest.raises(psycopg.Error):  # the program's own step, with the station's credentials
        await operators.change_pin(rig.stores["east"], "budi", "284731", "budi")
    east = rig.stores["east"]
    refused = await operators.sign_in(east, "budi", "000000", terminal="loket", sleep=lambda _: asyncio.sleep(0))
    assert isinstance(refused, operators.SignInRefused) and refused.why == "wrong_pin"
    assert await rig.owner.scalar("SELECT failed_attempts FROM operators WHERE name = 'budi'") == 1
    signed = await operators.sign_in(east, "budi", "520364", terminal="loket", now=lambda: datetime.now(UTC)
                                     + timedelta(hours=1))  # fmt: skip
    assert signed == operators.SignedIn("budi", "operator")


async def test_a_station_role_cannot_give_itself_blanks(regency):
    """The blanks in a station's stock come from the regency's issue: its role may not add to its stock, raise what
    was issued to it, nor give back a blank no job of it had taken."""
    rig = regency
    [nik] = rig.niks[:1]
    await rig.print_at("east", [nik])
    stock = "SELECT issued, in_stock FROM station_stock WHERE station_id = ?"
    before = await rig.owner.fetchone(stock, (rig.ids["east"],))
    with rig.psql("east") as conn:
        for sql in (
            "UPDATE station_stock SET in_stock = in_stock + 5 WHERE station_id = %s",
            "UPDATE station_stock SET issued = issued + 5, in_stock = in_stock + 5 WHERE station_id = %s",
            "INSERT INTO station_stock (allocation_id, station_id, issued, in_stock) VALUES ('JATAH-LAIN', %s, 5, 5)",
        ):
            assert not went_through(conn, sql, (rig.ids["east"],)), sql
    with pytest.raises(psycopg.Error):
        async with rig.stores["east"].transaction("attacker") as tx:
            await books.return_blank(tx, ALLOCATION)
    assert await rig.owner.fetchone(stock, (rig.ids["east"],)) == before
    [east] = [b for b in await books.station_books(rig.owner, ALLOCATION) if b.station_id == rig.ids["east"]]
    assert east.balanced and east.in_stock == 9


async def test_a_station_role_cannot_forge_the_regencys_report(regency):
    """The report to the centre is the regency's, made by its office: a station's role may not write one (a card
    listed bad there would win an unlock)."""
    rig = regency
    [nik] = rig.niks[:1]
    await rig.print_at("east", [nik])
    await jobs.tag(rig.stores["east"], nik, True, "op")
    job = await rig.job_of(nik)
    with rig.psql("east") as conn:
        for sql, params in (
            ("INSERT INTO reports (report_id, allocation_id, generated_at, body, made_seq) "
             "VALUES (%s, %s, %s, '{}', 99)", ("f" * 64, ALLOCATION, ANOTHER_DAY)),
            ("INSERT INTO report_cards (report_id, job_id) VALUES (%s, %s)", ("f" * 64, job["id"])),
        ):  # fmt: skip
            assert not went_through(conn, sql, params), sql
    with pytest.raises(psycopg.Error):
        await reports.make_report(rig.stores["east"], ALLOCATION, REGENCY, "op")
    assert await rig.owner.scalar("SELECT count(*) FROM reports") == 0
    await reports.make_report(rig.owner, ALLOCATION, REGENCY, "admin")  # the office's
    assert await rig.owner.scalar("SELECT count(*) FROM reports") == 1


async def test_a_station_role_cannot_take_nor_free_a_live_stations_claims(regency):
    """West, printing (its session holds its claims), claimed a job queued for any station: east's role may not
    take it, free it, hold or cancel it; once west is gone, east takes it over (the honest takeover)."""
    rig = regency
    [nik] = rig.niks[:1]
    await jobs.enqueue(rig.owner, [nik], "admin")
    west = rig.stores["west"]
    await west.hold_claims()
    claimed = await jobs.claim(west)
    assert claimed is not None and claimed.nik == nik
    with rig.psql("east") as conn:
        for sql in (
            "UPDATE jobs SET station_id = %s WHERE id = %s",
            "UPDATE jobs SET station_id = NULL WHERE id = %s",
            "UPDATE jobs SET state = 'cancelled' WHERE id = %s",
            "UPDATE jobs SET state = 'held' WHERE id = %s",
        ):
            params = (rig.ids["east"], claimed.id) if sql.count("%s") == 2 else (claimed.id,)
            assert not went_through(conn, sql, params), sql
    assert await jobs.claim(rig.stores["east"]) is None
    assert (await rig.job_of(nik))["station_id"] == rig.ids["west"]
    await west.close()  # west's process ends: its claims are orphans once the server has ended its session

    async def west_gone() -> bool:
        return not await printing_here(rig.owner, rig.ids["west"])

    await wait_for(west_gone, timeout=20, what="the server ending west's session, its claims' lock with it")
    taken = await jobs.claim(rig.stores["east"])
    assert taken is not None and taken.id == claimed.id


def test_the_regencys_steps_run_with_a_stations_role_are_refused_with_a_sentence(tmp_path, ledger):
    """`station import` (the register is the regency's) run with a station's configuration: the ledger refuses it
    and the operator is told whose step it is (exit 2), nothing imported, no traceback."""
    admin = config_with(tmp_path, f'url = "{ledger.url}"')
    station_id = f"{ledger.name[-12:]}-imp".replace("_", "-").strip("-")
    added = station(admin, "ledger", "add-station", station_id, "--name", "Loket impor",
                    "--password-file", str(tmp_path / "imp.pass"))  # fmt: skip
    assert added.returncode == 0, added.stderr
    own = _station_config(tmp_path / "imp", added.stdout)
    residents = write_demo_csv(tmp_path / "residents.csv", 3, seed=5)
    try:
        refused = station(own, "import", str(residents))
        assert refused.returncode == 2, refused.stderr
        assert "regency's office" in refused.stderr and "Traceback" not in refused.stderr, refused.stderr
        with psycopg.connect(**ledger.connect_kwargs(), autocommit=True) as conn:
            assert conn.execute("SELECT count(*) FROM residents").fetchone()[0] == 0
        assert station(admin, "import", str(residents)).returncode == 0  # the office's configuration
    finally:
        with psycopg.connect(**ledger.connect_kwargs(), autocommit=True) as conn:
            conn.execute(f"DROP OWNED BY {pg_roles.role_name(station_id)}")
            conn.execute(f"DROP ROLE {pg_roles.role_name(station_id)}")
