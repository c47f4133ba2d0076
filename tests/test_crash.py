"""Kill `station print` with SIGKILL at random moments, restart it, and check the books against the printer.

A standalone emulator holds the printer's state across the kills, as a real printer would. At the end: no NIK
on two cards, every card that came out is in the books with its NIK, every spent blank is counted exactly once.
`make test` runs a bounded number of kills; `make test-all` (--runslow) runs the long trial.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from console import jobs
from console.store import Store
from tests.station import check_books_against_output_log, seeded_store

STATION = str(Path(sys.executable).with_name("station"))


def write_config(folder: Path, port: str) -> Path:
    config = folder / "config.toml"
    config.write_text(
        f"""
[station]
id = "5203-01"
[database]
path = "{folder / "station.db"}"
[printer]
port = "{port}"
reply_timeout_s = 20  # a killed station may leave the emulator mid-payload: resync takes longer on a loaded machine
[queue]
hopper_capacity = 10000
[logging]
file = "{folder / "station.log"}"
""",
        encoding="utf-8",
    )
    return config


def start_emulator(folder: Path) -> tuple[subprocess.Popen, str]:
    emulator = subprocess.Popen(
        [
            STATION,
            "emulator",
            "--pty",
            "--state",
            str(folder / "emulator-state.json"),
            "--log",
            str(folder / "output.jsonl"),
            "--time-scale",
            "0.01",
            "--feeder",
            "1000",
            "--seed",
            "5",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    port = emulator.stdout.readline().strip()
    assert port.startswith("/dev/"), f"the emulator did not start: {port or emulator.stderr.read()}"
    return emulator, port


async def kill_at_random(config: Path, rng: random.Random, within: tuple[float, float] = (0.3, 1.5)) -> None:
    process = await asyncio.create_subprocess_exec(
        STATION, "print", "--config", str(config), stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE
    )
    try:
        await asyncio.wait_for(process.wait(), timeout=rng.uniform(*within))
    except TimeoutError:
        try:
            process.send_signal(signal.SIGKILL)
        except ProcessLookupError:  # it ended by itself just as the time ran out
            pass
        await process.wait()
    else:
        error = (await process.stderr.read()).decode()
        assert process.returncode in (0, 4), f"station print failed ({process.returncode}): {error}"


async def run_crash_trial(tmp_path: Path, kills: int, residents: int) -> None:
    store = await seeded_store(tmp_path, residents=residents, blanks=residents + 20)
    await store.close()
    emulator, port = start_emulator(tmp_path)
    config = write_config(tmp_path, port)
    rng = random.Random(int(os.environ.get("CRASH_SEED", "2026")))
    try:
        for round_number in range(kills):
            await kill_at_random(config, rng)
            if round_number % 3 == 2:  # the operator tags what lies in the hopper now and then
                async with await Store.open(tmp_path / "station.db") as store:
                    for job in await jobs.untagged(store):
                        good = rng.random() > 0.2
                        await jobs.tag(store, job.nik, good, "test", None if good else "gagal_cetak")
        finished = subprocess.run(
            [STATION, "print", "--config", str(config)], capture_output=True, text=True, timeout=300
        )
        assert finished.returncode == 0, finished.stderr
    finally:
        emulator.send_signal(signal.SIGTERM)
        emulator.wait(timeout=30)
    async with await Store.open(tmp_path / "station.db") as store:
        counts = await jobs.count_by_state(store)
        assert counts["queued"] == counts["printing"] == 0, counts
        await check_books_against_output_log(store, tmp_path / "output.jsonl")
        cards = await store.scalar("SELECT count(*) FROM jobs WHERE card_counter IS NOT NULL")
        residents_with_card = await store.scalar("SELECT count(DISTINCT nik) FROM jobs WHERE card_counter IS NOT NULL")
        assert cards == residents_with_card == residents


async def test_killed_at_random_moments_nothing_lost_nothing_twice(tmp_path):
    await run_crash_trial(tmp_path, kills=10, residents=25)


@pytest.mark.slow
async def test_long_crash_trial_sixty_kills(tmp_path):
    await run_crash_trial(tmp_path, kills=60, residents=120)
