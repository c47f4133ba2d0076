"""Four `station print` processes, each with its own printer (a standalone emulator with its own output log), on
one regency ledger, one queue for any station; SIGKILLs at random moments, restarts, and the ledger's server stopped
dead and started again mid-race. At the end: every NIK on exactly one card across the four printers (printed, or a
blank sent unprinted to the reject box for it), each printer's cards are the jobs its station printed, the books
balance at both levels and the audit chain and the tables agree. Bounded in `make test`; `--runslow` runs the
long race."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import time
from collections import Counter
from pathlib import Path

import pytest

from console import audit, books, jobs, locks
from console.store import Store
from drivers.emulator import read_output_log
from tests.conftest_pg import PgDatabase
from tests.station import check_books_against_output_log, seeded_regency
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


async def _restart_ledger_once_printing(ledger: PgDatabase, folders: list[Path]) -> None:
    """Once the stations of this round have printed two cards (or after 4 s), the ledger's server stopped dead
    (`immediate`: no shutdown, connections cut) and started again."""

    def cards() -> int:
        return sum(len(read_output_log(folder / "output.jsonl")) for folder in folders)

    before, deadline = cards(), time.monotonic() + 4.0
    while cards() < before + 2 and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    await asyncio.to_thread(ledger.server.stop, "immediate")
    await asyncio.to_thread(ledger.server.start)


async def run_race(
    tmp_path: Path, ledger: PgDatabase, rounds: int, residents: int, restart_at: int, urls: dict[str, str] | None = None
) -> None:
    """`urls`: the ledger's URL each station prints with (its own role's), else the owner's."""
    url = ledger.url
    niks = await seeded_regency(url, tmp_path, STATIONS, residents)
    async with await Store.open(url) as store:
        seeded_at = await store.scalar("SELECT now()")
    rng = random.Random(int(os.environ.get("CRASH_SEED", "2027")))
    emulators, configs = [], []
    try:
        for station_id in STATIONS:
            folder = tmp_path / station_id
            folder.mkdir()
            emulator, port = start_emulator(folder)
            emulators.append(emulator)
            configs.append(write_config(folder, station_id, (urls or {}).get(station_id, url), port))
        for round_number in range(rounds):
            if round_number == restart_at:  # the ledger's server stopped dead while the stations print, then back
                await asyncio.gather(
                    *(kill_at_random(config, rng, within=(4.0, 6.0)) for config in configs),
                    _restart_ledger_once_printing(ledger, [tmp_path / station_id for station_id in STATIONS]),
                )
            else:
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
    assert sum(1 for cards in logs.values() if cards) >= 2, "one station printed everything: no race was run"
    async with await Store.open(url) as store:
        counts = await jobs.count_by_state(store)
        assert counts["queued"] == counts["printing"] == 0, counts
        for station_id in STATIONS:  # each printer's cards are the jobs its own station printed, card for card
            await check_books_against_output_log(store, tmp_path / station_id / "output.jsonl", station_id=station_id)
        # Every NIK has exactly one card: printed, or a blank its station sent unprinted to the reject box when it
        # was killed between the blank and the print (booked to the NIK, which stays locked until the centre says).
        cards = await store.scalar("SELECT count(*) FROM jobs WHERE card_counter IS NOT NULL")
        niks_with_card = await store.scalar("SELECT count(DISTINCT nik) FROM jobs WHERE card_counter IS NOT NULL")
        assert cards == niks_with_card == len(niks)
        assert all([await locks.refusal(store, nik) for nik in niks]), "a NIK with a card may be queued again"
        [b] = await books.all_books(store)
        assert b.balanced and b.regency_stock == 0, b
        assert all(s.balanced for s in await books.station_books(store, "A"))
        assert (await audit.verify(store))[1] is None
        assert await store.scalar("SELECT pg_postmaster_start_time() > ?", (seeded_at,)), "the ledger never restarted"


async def test_four_stations_killed_at_random_print_each_nik_once(tmp_path, ledger):
    await run_race(tmp_path, ledger, rounds=3, residents=24, restart_at=0)


@pytest.mark.slow
async def test_long_race_of_four_stations(tmp_path, ledger):
    await run_race(tmp_path, ledger, rounds=15, residents=400, restart_at=7)
