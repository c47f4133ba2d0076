"""A station for tests: a real database with demo residents, an allocation, a queue, and the real printer stack
(the emulator behind a real pseudo-terminal, the driver, the card layout)."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from console import audit_state, books, jobs
from console.cards import CardBuilder
from console.demo import write_demo_csv
from console.engine import PrintEngine
from console.resident_import import import_residents
from console.store import Store
from drivers.emulator import EmulatorServer, read_output_log
from drivers.printer import Printer
from tests.factory import receive_blanks


async def seeded_store(
    path: Path, residents: int, blanks: int, queue: bool = True, database: Path | str | None = None
) -> Store:
    """`database`: where the store lives (the `database` fixture's SQLite file or ledger URL); by default an
    SQLite file in `path`."""
    store = await Store.open(database or path / "station.db")
    csv_path = write_demo_csv(path / "residents.csv", residents, seed=7)
    await import_residents(store, csv_path)
    await receive_blanks(store, "JATAH-2026-11", blanks, "2026-11", "test")
    if queue:
        await jobs.enqueue_ready(store, "test")
    return store


async def seeded_regency(
    url: str, folder: Path, stations: Sequence[str], residents: int, allocation: str = "A", actor: str = "admin"
) -> list[str]:
    """A regency's ledger for a race of stations (the tests' and the ledger benchmark's): the stations registered,
    `residents` demo residents queued for any of them, each station issued enough blanks to print them all alone;
    the queued NIKs."""
    for station_id in stations:  # a station opened by the ledger's owner registers itself
        await (await Store.open(url, station_id=station_id)).close()
    async with await Store.open(url) as store:
        await import_residents(store, write_demo_csv(folder / "residents.csv", residents, seed=3))
        await books.add_allocation(store, allocation, len(stations) * (residents + 5), None, actor)
        for station_id in stations:
            await books.issue(store, allocation, station_id, residents + 5, actor)
        if await jobs.enqueue_ready(store, actor) != residents:
            raise RuntimeError("the residents were not all queued")
        return [row["nik"] for row in await store.fetchall("SELECT nik FROM residents")]


@asynccontextmanager
async def emulated_printer(
    path: Path, reply_timeout: float = 3.0, **options: Any
) -> AsyncIterator[tuple[EmulatorServer, Printer]]:
    options.setdefault("time_scale", 0)
    options.setdefault("feeder", 100)
    async with EmulatorServer.pty(state=path / "emulator-state.json", log=path / "output.jsonl", **options) as emu:
        printer = await Printer.open(emu.port, reply_timeout=reply_timeout)
        try:
            yield emu, printer
        finally:
            await printer.close()


def make_engine(store: Store, printer: Printer, hopper_capacity: int = 50) -> PrintEngine:
    return PrintEngine(
        store, printer, CardBuilder(store, "5203-01", "ko"), hopper_capacity=hopper_capacity, ribbon="ko", actor="test"
    )


@dataclass
class Bench:
    """A station on the bench: a seeded store, the emulator over a pseudo-terminal, the driver and an engine."""

    path: Path
    store: Store
    emu: EmulatorServer
    printer: Printer
    engine: PrintEngine
    events: list[Any] = field(default_factory=list)  # what the engine told its subscribers

    @property
    def output_log(self) -> Path:
        return self.path / "output.jsonl"


@pytest.fixture
async def bench(tmp_path: Path, database: Path | str) -> AsyncIterator[Callable[..., Awaitable[Bench]]]:
    """`await bench(residents, blanks, hopper_capacity=50, **emulator_options)`: a `Bench` in `tmp_path`, its
    store on each backend in turn (the `database` fixture: an SQLite file, then a ledger); the printer and the
    store are closed when the test ends."""
    async with AsyncExitStack() as stack:

        async def make(residents: int, blanks: int, hopper_capacity: int = 50, **emulator: Any) -> Bench:
            store = await seeded_store(tmp_path, residents=residents, blanks=blanks, database=database)
            stack.push_async_callback(store.close)
            emu, printer = await stack.enter_async_context(emulated_printer(tmp_path, **emulator))
            engine = make_engine(store, printer, hopper_capacity=hopper_capacity)
            made = Bench(tmp_path, store, emu, printer, engine)
            engine.subscribe(made.events.append)
            return made

        yield make


async def check_books_against_output_log(
    store: Store, output_log: Path, unlocked: set[str] = frozenset(), station_id: str | None = None
) -> None:
    """The station's records agree with what physically came out of the printer, card for card. On a ledger,
    `station_id` names the station whose printer wrote `output_log`: only its jobs and spoiled blanks are its cards.
    A blank taken for a job that went out unprinted (the station stopped between the blank and the print) is the
    job's card all the same: its NIK stays locked until the card is tagged and the centre unlocks."""
    cards = read_output_log(output_log)
    by_counter = {card["counter"]: card for card in cards}
    assert len(by_counter) == len(cards), "a card counter appears twice in the output log"
    mine, args = ("", ()) if station_id is None else (" AND station_id = ?", (station_id,))
    rows = await store.fetchall(f"SELECT * FROM jobs WHERE card_counter IS NOT NULL{mine} ORDER BY card_counter", args)
    spoiled_rows = await store.fetchall(f"SELECT card_counter FROM spoiled WHERE 1 = 1{mine}", args)
    spoiled = {row["card_counter"] for row in spoiled_rows}
    booked = {row["card_counter"]: row for row in rows}
    assert len(booked) == len(rows), "two jobs claim the same card"
    for counter, card in by_counter.items():
        assert counter in booked or counter in spoiled, f"card #{counter} came out but is not in the books"
        if counter in booked and card["nik"] is not None:
            assert card["nik"] == booked[counter]["nik"], f"card #{counter} shows another NIK than its job"
    for counter, row in booked.items():
        if row["card_dest"] != "removed" or counter in by_counter:
            assert counter in by_counter, f"job {row['id']} booked card #{counter} that never came out"
    printed_niks = Counter(card["nik"] for card in cards if card["nik"] is not None)
    for nik, count in printed_niks.items():
        if nik not in unlocked:
            assert count == 1, f"NIK {nik} is on {count} cards"
    for b in await books.all_books(store):
        assert b.balanced, f"the books of {b.allocation_id} do not balance: {b}"
    assert await audit_state.differences(store) == [], "the tables differ from what the audit log records"
