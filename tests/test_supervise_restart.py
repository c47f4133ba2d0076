"""The supervisor's console follows the station across restarts of the process that prints: a supervisor who asked
for a pause (and so wrote to the database from its own process) keeps seeing every card printed after."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest

from console import live_state
from console.logs import configure_logging
from console.store import Store
from screens.supervisor import SupervisorApp
from tests.station import seeded_store
from tests.test_console_kit import screen_text, station_settings, until

STATION = [sys.executable, "-m", "console.cli"]
ROOT = Path(__file__).resolve().parent.parent


async def _station_print(folder: Path, *args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        *STATION,
        "print",
        "--config",
        "config.toml",
        *args,
        cwd=folder,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=dict(os.environ, PYTHONPATH=str(ROOT), USER="operator"),
    )


async def test_the_supervisor_follows_a_station_that_stopped_and_started_again(tmp_path):
    settings = station_settings(tmp_path)
    configure_logging(settings.logging.file)
    async with await seeded_store(tmp_path, residents=6, blanks=10):
        pass
    async with await Store.open(settings.database.path, readonly=True) as watched:
        app = SupervisorApp(settings, watched, "budi")
        async with app.run_test(size=(80, 24)) as pilot:
            await until(pilot, lambda: "0 / 6" in screen_text(app), "the queue before printing")
            await pilot.press("p")  # asked before any process prints: the first one takes it
            await until(pilot, lambda: "JEDA diminta budi" in screen_text(app), "the pending pause")
            first = await _station_print(tmp_path, "--count", "2")
            await until(pilot, lambda: "DIJEDA" in screen_text(app) and f"pid {first.pid}," in screen_text(app),
                        "the first process paused by the request", timeout=30)  # fmt: skip
            assert "DIJEDA oleh budi sejak" in screen_text(app)  # who paused, until someone resumes
            assert "tidak menjawab" not in screen_text(app)
            await pilot.press("p")  # written from this process while the first one holds the database
            out, err = await asyncio.wait_for(first.communicate(), 60)
            assert first.returncode == 0, err.decode()
            await until(pilot, lambda: "2 / 6" in screen_text(app), "the first process's two cards")
            await until(pilot, lambda: "stasiun tidak menjawab" in screen_text(app), "the data said to be old")
            assert "DIJEDA oleh" not in screen_text(app)

            second = await _station_print(tmp_path, "--count", "3")
            out, err = await asyncio.wait_for(second.communicate(), 60)
            assert second.returncode == 0, err.decode()
            await until(pilot, lambda: "5 / 6" in screen_text(app) and "kartu #5" in screen_text(app),
                        "the second process's cards, on the same supervisor's screen", timeout=10)  # fmt: skip
            await until(pilot, lambda: f"pid {second.pid}" not in screen_text(app) and "stasiun tidak menjawab" in
                        screen_text(app), "the second process gone: no process answers for the station")  # fmt: skip


HOLDER = """
import asyncio, sys
from console import live_state
from console.store import Store

async def main():
    store = await Store.open(sys.argv[1])
    async with store.transaction("test") as tx:
        await live_state.publish(tx, "engine", {"state": sys.argv[2]})
    print("open", flush=True)
    sys.stdin.readline()
    await store.close()  # the last writer of the file to close: it checkpoints, and may delete -wal and -shm

asyncio.run(main())
"""


@pytest.mark.parametrize("second", ["writable", "read-only"])
async def test_opening_the_database_again_in_a_watching_process_keeps_it_following(tmp_path, second):
    """What a supervisor's process does beside its reader (a request written, a search): a second store opened
    and closed on the same file must leave the reader's hold on the WAL files intact."""
    database = tmp_path / "station.db"
    async with await Store.open(database):
        pass

    async def holder(state: str) -> asyncio.subprocess.Process:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            HOLDER,
            str(database),
            state,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            env=dict(os.environ, PYTHONPATH=str(ROOT)),
        )
        assert await asyncio.wait_for(process.stdout.readline(), 30) == b"open\n"
        return process

    async with await Store.open(database, readonly=True) as watched:
        first = await holder("first")
        other = await (Store.open(database, create=False) if second == "writable" else
                       Store.open(database, readonly=True))  # fmt: skip
        await other.close()
        first.stdin.write(b"\n")
        await asyncio.wait_for(first.wait(), 30)
        seen = await watched.data_version()
        later = await holder("second")
        try:
            assert (await live_state.read(watched, "engine"))[0] == {"state": "second"}
            assert await watched.data_version() != seen
        finally:
            later.stdin.write(b"\n")
            await asyncio.wait_for(later.wait(), 30)
