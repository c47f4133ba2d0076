"""A station for the lock's property test: the real core on a real SQLite file, two emulated printers, the centre's
simulator, a clock the test moves, backups put back, crashes. Each step is something that happens at a station;
`check()` compares the books with what physically came out of the printers (their own output logs and counters).

On a regency ledger (`ledger_url`) the station prints as its own role, under the guards (console/backends/
pg_guards.py), and the regency's office (the ledger's owner) queues the residents, issues the blanks, makes the
report and applies the centre's grants, as on a ledger they do. A backup put back is an SQLite file and its head
file: those steps do nothing on a ledger (its backups are the server's, docs/multi-station.md).

The model keeps only what the world knows without the database: which grants the centre signed and the station
applied (by nonce), the cards each printer's output log holds, each printer's counter.
"""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import sqlite3
from collections import Counter
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from unittest import mock

from console import audit, books, cards, clock, jobs, printer_record, reports, restore, stations, unlock
from console.backends import pg_roles
from console.central import simulator
from console.engine import PrintEngine
from console.errors import AuditBrokenError, RefusedError, UsageError
from console.store import Store
from drivers.emulator import EmulatorServer, read_output_log
from drivers.faults import PrinterFault
from drivers.printer import Printer
from tests.factory import add_residents
from tests.station import make_engine
from tests.test_report_kit import ALLOCATION, STATION_ID

SERIALS = ("EMU1111111", "EMU2222222")
STOPS = (
    "counter_ahead",
    "printer_unknown",
    "printer_mismatch",
    "counter_mismatch",
    "restore_unwitnessed",
)  # the station waits for people, by design
# A restore accepted waits for its printers: the backup stands until another printer is connected (it witnesses,
# or stops the station), rather than being put aside at once as after the other stops.
WAITS_FOR_PRINTERS = "restore_unwitnessed"


@dataclass
class Backup:
    db: Path
    head: Path | None
    counters: dict[str, int] = field(default_factory=dict)  # each printer's counter when the copy was taken


@dataclass
class Rig:
    """One example's station. `await rig.open()` first, `await rig.close()` at the end."""

    folder: Path
    residents: int = 4
    blanks: int = 30
    niks: list[str] = field(default_factory=list)
    emulators: list[EmulatorServer] = field(default_factory=list)
    connected: int = 0  # the printer on the station's cable
    store: Store | None = None
    printer: Printer | None = None
    engine: PrintEngine | None = None
    refused: str | None = None  # the station refused to open its database (exit 7): why
    clock_offset: timedelta = timedelta()
    reports_made: list[dict[str, Any]] = field(default_factory=list)
    grants: list[dict[str, Any]] = field(default_factory=list)  # signed by the centre, in the order issued
    applied: dict[str, set[str]] = field(default_factory=dict)  # NIK -> nonces of grants applied that name it
    backups: list[Backup] = field(default_factory=list)
    newest: Backup | None = None  # the database set aside while a backup that stopped the station stands in its place
    rolled_back: bool = False  # a backup put back stopped nothing and is used: its books lost what came after it
    log: list[str] = field(default_factory=list)  # what happened, for a failing example's report
    ledger_url: str | None = None  # a regency ledger (its owner's URL) in place of the SQLite file
    office: Store | None = None  # on a ledger: the regency's office, the ledger's owner
    _patches: ExitStack = field(default_factory=ExitStack)

    @property
    def db(self) -> Path:
        return self.folder / "station.db"

    @property
    def role(self) -> str:
        assert self.ledger_url is not None
        return f"{pg_roles.role_name(STATION_ID)}_{self.ledger_url.rsplit('/', 1)[-1][-10:]}"

    @property
    def where(self) -> Path | str:
        """What the station opens: its SQLite file, or the ledger as its own role (the test server trusts it)."""
        if self.ledger_url is None:
            return self.db
        return re.sub(r"//[^@/]*@", f"//{self.role}@", self.ledger_url, count=1)

    @property
    def desk(self) -> Store:
        """Who makes the report and applies the centre's grants: the station itself, or the regency's office."""
        assert self.store is not None
        return self.office or self.store

    # ------------------------------------------------------------------------------------------ set-up

    async def open(self) -> None:
        real_now = clock.now

        def moved() -> datetime:
            return real_now() + self.clock_offset

        for module, name in ((clock, "now"), (unlock, "clock_now"), (cards, "now")):  # those that imported `now`
            self._patches.enter_context(mock.patch.object(module, name, moved))
        for serial in SERIALS:
            where = self.folder / serial
            where.mkdir()
            emulator = EmulatorServer.pty(
                state=where / "state.json",
                log=where / "output.jsonl",
                serial=serial,
                time_scale=0,
                feeder=200,
                frame_timeout_s=0.3,
            )
            await emulator.__aenter__()
            self.emulators.append(emulator)
        if self.ledger_url is None:
            store = await Store.open(self.db)
        else:
            self.office = store = await Store.open(self.ledger_url, station_id=f"{STATION_ID[:4]}-00")
        self.niks = await add_residents(store, self.residents)
        await books.add_allocation(store, ALLOCATION, self.blanks, "2026-11", "test")
        if self.office is not None:
            async with store.transaction("admin") as tx:
                await stations.add(tx, STATION_ID, "Loket", self.role)
                await pg_roles.create_station_role(tx, self.role, pg_roles.new_password())
            await books.issue(store, ALLOCATION, STATION_ID, self.blanks, "admin")
        await jobs.enqueue_ready(store, "test")
        if self.office is None:
            await store.close()
        self.centre = simulator.generate_keys(self.folder / "centre")
        self.centre_key = simulator.load_private_key(self.centre.private)
        self.keys = unlock.load_central_keys([self.centre.public])
        await self.start_station()

    async def close(self) -> None:
        try:
            await self.stop_station()
            for emulator in self.emulators:
                await emulator.__aexit__(None, None, None)
            if self.office is not None:
                async with self.office.transaction("admin") as tx:
                    await tx.execute(f"DROP OWNED BY {self.role}")
                    await tx.execute(f"DROP ROLE {self.role}")
                await self.office.close()
        finally:
            self._patches.close()

    async def start_station(self) -> None:
        """`station run` starting: the database opened for writing (the head checked), the printer set up and
        settled. A fault at start stops the engine as the console does (`console/station.py`)."""
        try:
            self.store = await Store.open(self.where, station_id=None if self.office is None else STATION_ID)
        except AuditBrokenError as refused:
            self.refused = str(refused)
            self.log.append(f"  refused to open: exit {refused.exit_code}")
            return
        self.refused = None
        self.printer = await Printer.open(self.emulators[self.connected].port, reply_timeout=2.0)
        self.engine = make_engine(self.store, self.printer)
        try:
            await self.engine.start()
        except PrinterFault as fault:
            self.engine.fault = fault
            self.log.append(f"  stopped at start: {fault.code}")

    async def stop_station(self) -> None:
        """The process goes away: nothing is settled or booked on the way out (a crash leaves the same)."""
        if self.printer is not None:
            await self.printer.close()
        if self.store is not None:
            await self.store.close()
        self.printer = self.engine = self.store = None

    @property
    def running(self) -> bool:
        return self.store is not None and self.engine is not None

    @property
    def stopped_on(self) -> str | None:
        fault = self.engine.fault if self.engine is not None else None
        return None if fault is None else fault.code

    # ------------------------------------------------------------------------------------------ steps

    async def print_cards(self, count: int) -> None:
        """The operator presses resume if the queue stopped, and lets it print up to `count` cards."""
        if not self.running:
            return
        if self.engine.fault is not None and not await self.engine.recover():
            self.log.append(f"  still stopped: {self.stopped_on}")
            return
        state = await self.engine.run(max_cards=count)
        self.log.append(f"  run -> {state} {self.stopped_on or ''}")

    async def tag(self, verdicts: int) -> None:
        """The operator tags every card waiting in the hopper, oldest first: good where `verdicts` has its bit
        set, bad (`gagal_cetak`) where not."""
        if not self.running:
            return
        for number, job in enumerate(await jobs.untagged(self.store)):
            good = bool(verdicts >> number & 1)
            await jobs.tag(self.store, job.nik, good, "test", None if good else "gagal_cetak", job_id=job.id)
            self.log.append(f"  tagged {job.nik} {'good' if good else 'bad'}")

    async def enqueue(self, which: int) -> None:
        """The operator queues a NIK by name: one the centre unlocked (a reprint), or any (a try at a second card)."""
        if not self.running:
            return
        candidates = sorted(self.applied) + self.niks
        result = await jobs.enqueue(self.store, [candidates[which % len(candidates)]], "test")
        self.log.append(f"  queued {result.queued} refused {[r.code for r in result.refused]}")

    async def report(self) -> None:
        if not self.running:
            return
        try:
            made = await reports.make_report(self.desk, ALLOCATION, STATION_ID, "test")
        except RefusedError as refused:
            self.log.append(f"  report refused: {str(refused)[:60]}")
            return
        self.reports_made.append(made.body)
        self.log.append(f"  report {made.body['report_id'][:8]} bad {[c['nik'] for c in made.body['bad']]}")

    async def grant(self, verdicts: int) -> None:
        """The operator tags what waits in the hopper, the station reports, and the centre answers the newest report
        it received, by its own ledger (never the station's database)."""
        await self.tag(verdicts)
        await self.report()
        if not self.reports_made:
            return
        try:
            issued = simulator.issue_grant(
                self.reports_made[-1],
                self.centre_key,
                self.folder / "centre" / f"grant-{len(self.grants)}.json",
                simulator.ledger_beside(self.centre.private),
            )
        except UsageError:
            return  # nothing to unlock
        self.grants.append(issued.document)
        self.log.append(f"  granted {issued.document['grant']['niks']}")

    async def apply(self, which: int) -> None:
        """A supervisor applies one of the grants the centre issued (an old one, again, is an attack too)."""
        if not self.running or not self.grants:
            return
        document = self.grants[-1 - which % len(self.grants)]  # 0: the newest
        try:
            applied = await unlock.apply_grant(
                self.desk, json.dumps(document).encode(), station_id=STATION_ID, keys=self.keys, actor="test"
            )
        except unlock.GrantRejected as rejected:
            self.log.append(f"  grant rejected: {rejected.check}")
            return
        for nik in applied.niks:
            self.applied.setdefault(nik, set()).add(applied.nonce)
        self.log.append(f"  unlocked {list(applied.niks)}")

    async def swap(self) -> None:
        """The other printer on the cable: the station is restarted with it, as after unplugging one."""
        await self.stop_station()
        self.connected = 1 - self.connected
        await self.start_station()
        self.use_backup_if_nothing_stopped()  # the last printer a restore waited for witnessed it

    def jump_clock(self, days: float) -> None:
        self.clock_offset += timedelta(days=days)

    def backup(self) -> None:
        """SQLite's online backup of the open database, and its head file as it is now."""
        if self.office is not None:
            return
        number = len(self.backups)
        copy = self.folder / f"backup-{number}.db"
        source, target = sqlite3.connect(self.db), sqlite3.connect(copy)
        try:
            source.backup(target)
        finally:
            source.close()
            target.close()
        head = audit.head_path(self.db)
        kept = None
        if head.exists():
            kept = self.folder / f"backup-{number}.db.head"
            shutil.copyfile(head, kept)
        self.backups.append(Backup(copy, kept, self.counters()))

    async def restore(self, which: int, keep_head: bool) -> None:
        """A backup put back in the database's place, with the head file left as it is, or removed: then the
        station refuses it (exit 7) and a supervisor accepts the restore (`station audit accept-restore`, the
        centre's word), after which every printer the books know must witness before anything prints."""
        if not self.backups or self.newest is not None:  # none on a ledger
            return
        backup = self.backups[which % len(self.backups)]
        await self.stop_station()
        self.newest = self._set_aside()
        self._put(backup.db)
        if not keep_head:
            audit.head_path(self.db).unlink(missing_ok=True)
            await self.start_station()
            assert self.refused is not None and "accept-restore" in self.refused, "a missing head file was not refused"
            await self.accept_restore()
        await self.start_station()
        self.use_backup_if_nothing_stopped()

    async def accept_restore(self) -> None:
        async with await Store.open(self.db, accepting_restore=True) as store:
            accepted = await restore.accept_restore(store, "the centre's word", "test")
        self.log.append(f"  restore accepted; to witness: {accepted.printers}")

    def use_backup_if_nothing_stopped(self) -> None:
        """A backup put back that stops nothing (any more) is the station's database from now on."""
        if self.newest is not None and self.refused is None and self.stopped_on not in STOPS:
            self.newest, self.rolled_back = None, True
            self.log.append("  the backup is used from now on")

    @property
    def stopped_on_a_backup(self) -> bool:
        """The station refused or stopped on a backup put back (not merely waiting for its printers)."""
        if self.refused is not None:
            return True
        return self.newest is not None and self.stopped_on in STOPS and self.stopped_on != WAITS_FOR_PRINTERS

    async def put_newest_back(self) -> None:
        """After the station stopped on a restored database: the newest database (and its head) go back."""
        if self.newest is None:
            return
        await self.stop_station()
        self._put(self.newest.db)
        head = audit.head_path(self.db)
        head.unlink(missing_ok=True)
        if self.newest.head is not None:
            shutil.copyfile(self.newest.head, head)
        self.newest = None
        await self.start_station()

    def _set_aside(self) -> Backup:
        aside = self.folder / "newest.db"
        shutil.copyfile(self.db, aside)
        head = audit.head_path(self.db)
        kept = None
        if head.exists():
            kept = self.folder / "newest.db.head"
            shutil.copyfile(head, kept)
        return Backup(aside, kept)

    def _put(self, source: Path) -> None:
        for suffix in ("-wal", "-shm"):
            self.db.with_name(self.db.name + suffix).unlink(missing_ok=True)
        shutil.copyfile(source, self.db)

    async def crash(self, after_feed: bool, other_printer: bool = False) -> None:
        """The process dies while a card is on its way: at once when its blank is booked, or once the printer has
        taken it (its counter moved), before the engine hears the printer's answer. Then it starts again, on the
        same printer or with the other one plugged in meanwhile (a card in doubt cannot be settled there)."""
        if not self.running or self.engine.fault is not None:
            return
        engine, emulator = self.engine, self.emulators[self.connected]
        started = asyncio.Event()

        def on_event(event: Any) -> None:
            if event.kind == "card_started":
                started.set()

        engine.subscribe(on_event)
        task = asyncio.create_task(engine.run(max_cards=1))
        before = (await asyncio.to_thread(emulator.status))["counters"]["cards"]
        waiter = asyncio.create_task(started.wait())
        await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
        if after_feed:
            while not task.done():
                if (await asyncio.to_thread(emulator.status))["counters"]["cards"] > before:
                    break
        waiter.cancel()
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            pass
        self.log.append(f"  crashed (after_feed={after_feed}, other_printer={other_printer})")
        await self.stop_station()
        if other_printer:
            self.connected = 1 - self.connected
        await self.start_station()

    # ------------------------------------------------------------------------------------------ what is true

    def printed(self) -> Counter[str]:
        """Cards with a NIK on them that came out of either printer (its own log: the printer's truth)."""
        return Counter(
            card["nik"]
            for serial in SERIALS
            for card in read_output_log(self.folder / serial / "output.jsonl")
            if card["nik"] is not None
        )

    def counters(self) -> dict[str, int]:
        return {serial: emu.status()["counters"]["cards"] for serial, emu in zip(SERIALS, self.emulators)}

    async def check(self) -> None:
        """(a) At most one card per NIK per unlock applied, over every printer's output log together. (b) The books
        balance, and, unless the station stopped for people (`STOPS`) or a card is in doubt, the printer on the
        cable agrees with them: its counter is theirs and every card in its log is their job with that NIK (no card
        prints while the books disagree). While the books never went back, the printer off the cable agrees too,
        and every blank the printers took is in the books. Once a backup is put back (standing in place until the
        station stops on it, or used from then on) its books know nothing of what came after it: only the printer on
        the cable is compared; the other one is checked when it is connected, and must stop the station then."""
        for nik, printed in self.printed().items():
            allowed = 1 + len(self.applied.get(nik, ()))
            assert printed <= allowed, f"NIK {nik} is on {printed} cards with {allowed - 1} unlocks applied"
        if not self.running:
            return  # the station refused its database (exit 7): nothing prints
        for b in await books.all_books(self.store):
            assert b.balanced, f"the books do not balance: {b}"
        if self.stopped_on in STOPS or await jobs.jobs_in_doubt(self.store):
            return  # the books wait for the printer's answer or for people: nothing prints meanwhile
        whole = self.newest is None and not self.rolled_back
        await self._check_cards(SERIALS if whole else (SERIALS[self.connected],), whole)

    async def _check_cards(self, serials: tuple[str, ...], whole: bool) -> None:
        counters = self.counters()
        for serial in serials:
            booked = await printer_record.booked_counter(self.store, serial)
            if booked is not None:
                assert booked == counters[serial], f"{serial}: books at {booked}, printer at {counters[serial]}"
            logged = read_output_log(self.folder / serial / "output.jsonl")
            rows = await self.store.fetchall(
                "SELECT id, nik, card_counter, card_dest FROM jobs WHERE printer_serial = ? AND card_counter IS NOT "
                "NULL",
                (serial,),
            )
            jobs_by_counter = {row["card_counter"]: row for row in rows}
            assert len(jobs_by_counter) == len(rows), f"{serial}: two jobs claim one card"
            for card in logged:
                row = jobs_by_counter.get(card["counter"])
                assert row is not None, f"{serial} card #{card['counter']} came out but is not in the books"
                assert card["nik"] in (None, row["nik"]), f"{serial} card #{card['counter']} shows another NIK"
        if not whole:
            return
        taken = sum(counters.values())
        booked_cards = await self.store.scalar("SELECT count(*) FROM jobs WHERE card_counter IS NOT NULL")
        spent = self.blanks - await books.stock_total(self.store)
        assert booked_cards == spent == taken, f"blanks: printers took {taken}, jobs {booked_cards}, spent {spent}"
