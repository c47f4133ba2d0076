"""Four `station print` processes, each with its own printer (a standalone emulator with its own output log), on
one regency ledger, one queue for any station; SIGKILLs at random moments, restarts. At the end: every NIK on
exactly one card across the four printers, each printer's cards are the jobs its station printed, the books
balance at both levels and the audit chain and the tables agree. Bounded in `make test`; `--runslow` runs the
long race."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
from collections import Counter
from pathlib import Path

import pytest

from console import audit, audit_state, books, jobs
from console.demo import write_demo_csv
from console.resident_import import import_residents
from console.store import Store
from drivers.emulator import read_output_log
from tests.test_crash import STATION, kill_at_random, start_emulator

STATIONS = ("5203-11", "5203-12", "5203-13", "5203-14")


def write_config(folder: Path, station_id: str, url: str, port: str) -> Path:
    config = folder / "config.toml"
    config.write_text(
        f"""
[station]
id = "{station_id}"
[database]
url = "{url}"
[printer]
port = "{port}"
reply_timeout_s = 20
[queue]
hopper_capacity = 10000
[logging]
file = "{folder / "station.log"}"
""",
        encoding="utf-8",
    )
    return config


async def _seed(folder: Path, url: str, residents: int) -> list[str]:
    """The residents queued for any station; each station issued enough blanks to print them all alone."""
    for station_id in STATIONS:  # a station opened by the ledger's owner registers itself
        await (await Store.open(url, station_id=station_id)).close()
    async with await Store.open(url) as store:
        await import_residents(store, write_demo_csv(folder / "residents.csv", residents, seed=3))
        await books.add_allocation(store, "A", len(STATIONS) * (residents + 5), None, "admin")
        for station_id in STATIONS:
            await books.issue(store, "A", station_id, residents + 5, "admin")
        assert await jobs.enqueue_ready(store, "admin") == residents
        return [row["nik"] for row in await store.fetchall("SELECT nik FROM residents")]


async def run_race(tmp_path: Path, url: str, rounds: int, residents: int) -> None:
    niks = await _seed(tmp_path, url, residents)
    rng = random.Random(int(os.environ.get("CRASH_SEED", "2027")))
    emulators, configs = [], []
    try:
        for station_id in STATIONS:
            folder = tmp_path / station_id
            folder.mkdir()
            emulator, port = start_emulator(folder)
            emulators.append(emulator)
            configs.append(write_config(folder, station_id, url, port))
        for _ in range(rounds):
            await asyncio.gather(*(kill_at_random(config, rng) for config in configs))
        finished = await asyncio.gather(*(asyncio.to_thread(
            subprocess.run, [STATION, "print", "--config", str(config)], capture_output=True, text=True, timeout=600
        ) for config in configs))  # fmt: skip
        for done in finished:
            assert done.returncode == 0, done.stderr
    finally:
        for emulator in emulators:
            emulator.send_signal(signal.SIGTERM)
            emulator.wait(timeout=30)
    logs = {station_id: read_output_log(tmp_path / station_id / "output.jsonl") for station_id in STATIONS}
    on_cards = Counter(card["nik"] for cards in logs.values() for card in cards if card["nik"] is not None)
    assert set(on_cards.values()) <= {1}, "a NIK on two cards"  # the first guarantee
    assert set(on_cards) <= set(niks), "a card for a NIK never queued"
    missing = sorted(set(niks) - set(on_cards))
    assert sum(1 for cards in logs.values() if cards) >= 2, "one station printed everything: no race was run"
    async with await Store.open(url) as store:
        counts = await jobs.count_by_state(store)
        assert counts["queued"] == counts["printing"] == 0, counts
        for station_id, cards in logs.items():  # each printer's cards are the jobs its own station printed
            rows = await store.fetchall(
                "SELECT nik, card_counter, card_dest FROM jobs WHERE station_id = ? AND card_counter IS NOT NULL",
                (station_id,),
            )
            booked = {(row["nik"], row["card_counter"]) for row in rows}
            came_out = {(card["nik"], card["counter"]) for card in cards if card["nik"] is not None}
            assert came_out <= booked, f"{station_id}: a card came out that its station did not book"
            kept = {(row["nik"], row["card_counter"]) for row in rows if row["card_dest"] != "removed"}
            assert kept <= came_out, f"{station_id}: a job booked a card its printer never gave"
        [b] = await books.all_books(store)
        assert b.balanced and b.regency_stock == 0, b
        assert all(s.balanced for s in await books.station_books(store, "A"))
        assert (await audit.verify(store))[1] is None
        assert await audit_state.differences(store) == []
        if missing:  # a known defect, not a second card: see docs/decisions.md "A NIK left without a card"
            rows = await store.fetchall(
                "SELECT nik, state, state_reason, station_id FROM jobs WHERE nik IN "
                f"({', '.join('?' * len(missing))}) ORDER BY id",
                missing,
            )
            pytest.xfail(f"{len(missing)} NIK(s) on no card after the race: {[tuple(row) for row in rows]}")


async def test_four_stations_killed_at_random_print_each_nik_once(tmp_path, ledger):
    await run_race(tmp_path, ledger.url, rounds=3, residents=24)


@pytest.mark.slow
async def test_long_race_of_four_stations(tmp_path, ledger):
    await run_race(tmp_path, ledger.url, rounds=15, residents=160)
