"""`station supervise` as a supervisor runs it: a real process on a real pseudo-terminal (its controlling
terminal, as under sshd), read through a terminal emulator (pyte), beside a `station print` run on the built-in
emulator. Its screen follows the printing; a window resize redraws it; a hang-up ends it and nothing else."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from console import audit
from console.store import Store
from tests.station import check_books_against_output_log, seeded_store
from tests.terminal import Terminal
from tests.test_console_kit import station_settings

STATION = [sys.executable, "-m", "console.cli"]
ROOT = Path(__file__).resolve().parent.parent
CARDS = 24
TIME_SCALE = 0.015  # a card takes a few tenths of a second: the printing outlasts the looks below


def progress(text: str) -> int | None:
    found = re.search(rf"(\d+) / {CARDS}\b", text)
    return None if found is None else int(found.group(1))


async def test_the_supervisor_follows_station_print_resizes_and_a_hang_up_ends_it_alone(tmp_path):
    settings = station_settings(tmp_path)
    config = tmp_path / "config.toml"
    config.write_text(config.read_text().replace("time_scale = 0", f"time_scale = {TIME_SCALE}"))
    async with await seeded_store(tmp_path, residents=CARDS, blanks=CARDS + 10):
        pass
    viewer = Terminal([*STATION, "supervise", "--config", "config.toml"], tmp_path, USER="budi")
    printing = None
    try:
        screen = viewer.until(lambda text: f"0 / {CARDS}" in text, "the supervisor's dashboard")
        assert "PENGAWAS (hanya lihat): budi" in screen.splitlines()[0]

        printing = subprocess.Popen([*STATION, "print", "--config", "config.toml"], cwd=tmp_path, text=True,
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                    env=dict(os.environ, PYTHONPATH=str(ROOT)))  # fmt: skip
        first = progress(viewer.until(lambda text: 0 < (progress(text) or 0) < CARDS, "a first card on screen"))
        viewer.until(lambda text: (progress(text) or 0) > first, "the count going on, without a key")
        viewer.until(lambda text: "MENCETAK" in text and f"Dipegang: pid {printing.pid}," in text,
                     "the printing process named")  # fmt: skip

        viewer.resize(100, 30)
        viewer.until(lambda text: "F1 Bantuan" in text.splitlines()[29] and text.splitlines()[1].startswith("╭")
                     and text.splitlines()[1].rstrip().endswith("╮") and len(text.splitlines()[1].rstrip()) == 100,
                     "the screen redrawn at 100x30")  # fmt: skip

        assert printing.poll() is None, "the printing ended before the hang-up: make it longer"
        viewer.hang_up()
        assert viewer.process.wait(timeout=15) == 0
        out, err = printing.communicate(timeout=60)
        assert printing.returncode == 0, err
        assert f"{CARDS} kartu dicetak" in out
    finally:
        viewer.close()
        if printing is not None and printing.poll() is None:
            printing.kill()
            printing.wait()

    async with await Store.open(settings.database.path, readonly=True) as store:
        await check_books_against_output_log(store, settings.emulator.log)
        assert await audit.verify(store) == (await store.scalar("SELECT count(*) FROM audit"), None)
        assert await store.scalar("SELECT count(*) FROM requests") == 0
    assert '"supervise_hung_up"' in settings.logging.file.read_text()
