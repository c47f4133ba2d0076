"""A station whose ledger goes away mid-run: the PostgreSQL server stopped as in a crash (`immediate`) while
`station print` prints on the built-in emulator, then started again. The station takes no new blank while the
ledger is away and says so, finishes the card in the printer, records it once the ledger answers (settled from
the printer's counter), and goes on by itself: at the end every NIK is on exactly one card and the books, the
audit log and the printer's output agree."""

from __future__ import annotations

import asyncio
import json
import sys
from collections import Counter
from pathlib import Path

from console.demo import write_demo_csv
from console.store import Store
from drivers.emulator import read_output_log
from tests.conftest import wait_for
from tests.station import check_books_against_output_log
from tests.test_cli_queue import station

STATION = str(Path(sys.executable).with_name("station"))
RESIDENTS = 24


def config_on(folder: Path, url: str) -> Path:
    config = folder / "config.toml"
    config.write_text(f"""
[station]
id = "5203-01"
language = "en"
[database]
url = "{url}"
[emulator]
time_scale = 0.05
feeder = 100
state = "emulator-state.json"
log = "output.jsonl"
[logging]
file = "station.log"
""")
    return config


def cards_out(folder: Path) -> int:
    log = folder / "output.jsonl"
    return len(read_output_log(log)) if log.exists() else 0


async def test_the_ledger_stopped_mid_run_then_back_loses_nothing_and_prints_nothing_twice(tmp_path, ledger):
    config = config_on(tmp_path, ledger.url)
    write_demo_csv(tmp_path / "residents.csv", RESIDENTS, seed=3)
    for args in (("import", str(tmp_path / "residents.csv")), ("allocation", "add", "JATAH-2026-12", "40"),
                 ("enqueue", "--all")):  # fmt: skip
        done = station(config, *args)
        assert done.returncode == 0, (args, done.stderr)
    printing = await asyncio.create_subprocess_exec(
        STATION, "print", "--config", str(config), cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    lines: list[str] = []

    async def read_lines() -> None:
        assert printing.stdout is not None
        async for raw in printing.stdout:
            lines.append(raw.decode())

    reader = asyncio.create_task(read_lines())
    try:
        await wait_for(lambda: cards_out(tmp_path) >= 3, timeout=120, what="three cards out before the stop")
        ledger.server.stop("immediate")
        out_at_stop = cards_out(tmp_path)
        await wait_for(lambda: any("ledger unreachable, retrying" in line for line in lines), timeout=60,
                       what="the station saying the ledger is away")  # fmt: skip
        await wait_for(lambda: printing.returncode is None and cards_out(tmp_path) <= out_at_stop + 1, timeout=5,
                       what="the station still waiting, no new card")  # fmt: skip
        out_while_away = cards_out(tmp_path)
        assert out_while_away <= out_at_stop + 1  # at most the card that was in the printer
        ledger.server.start()
        assert await asyncio.wait_for(printing.wait(), timeout=180) == 0, (await printing.stderr.read()).decode()
    finally:
        if printing.returncode is None:
            printing.kill()
            await printing.wait()
        await reader
    text = "".join(lines)
    assert "the ledger answers again" in text, text
    cards = read_output_log(tmp_path / "output.jsonl")
    assert Counter(card["nik"] for card in cards) == dict.fromkeys(_niks(tmp_path), 1), text
    async with await Store.open(ledger.url, readonly=True) as store:
        await check_books_against_output_log(store, tmp_path / "output.jsonl")
        printed = Counter(json.loads(row["data"])["job"] for row in await store.fetchall(
            "SELECT data FROM audit WHERE action = 'job.printed'"))  # fmt: skip
        assert printed == dict.fromkeys(printed, 1) and len(printed) == RESIDENTS  # each job recorded once
        assert await store.scalar("SELECT count(*) FROM jobs WHERE state <> 'printed'") == 0
    assert station(config, "audit", "verify").returncode == 0


def _niks(folder: Path) -> list[str]:
    rows = (folder / "residents.csv").read_text(encoding="utf-8").splitlines()[1:]
    return [row.split(",")[0].strip('"') for row in rows]
