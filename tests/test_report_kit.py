"""Shared set-up of the report and unlock tests (no tests here): a station's config, a station with printed and
tagged cards (the real engine on the real emulator), the centre's keys, the CLI, and a dump of the tables that an
unlock may change."""

from __future__ import annotations

import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from console import jobs, reports
from console.central import simulator
from console.cli import main
from console.i18n import current_language, set_language
from console.store import Store
from tests import command
from tests.station import emulated_printer, make_engine, seeded_store

STATION_ID = "5203-01"
ALLOCATION = "JATAH-2026-11"
TABLES = ("residents", "allocations", "jobs", "nik_locks", "spoiled", "reports", "grants", "unlocks")


def write_config(
    folder: Path,
    *,
    port: str = "emulator",
    public_keys: tuple[str, ...] = (),
    time_scale: float = 0,
    language: str = "id",
    station_id: str = STATION_ID,
) -> Path:
    return command.write_config(
        folder,
        station={"id": station_id, "name": "Dukcapil Lombok Timur, loket cetak 1", "language": language},
        printer={"port": port, "reply_timeout_s": 5},
        emulator={"time_scale": time_scale, "feeder": 100, "state": "emulator-state.json", "log": "output.jsonl"},
        central={"public_keys": list(public_keys)},
    )


def station(config: Path | None, *args: str, timeout: float = 120,
            cwd: Path | None = None) -> subprocess.CompletedProcess:  # fmt: skip
    """The real `station` command, in its own process (the report tests call it from async tests too)."""
    return command.station(config, *args, timeout=timeout, cwd=cwd, process=True)


def run_cli(config: Path, *args: str) -> int:
    """The real command line, in this process (argument parsing, config, handler, exit status)."""
    return main([*args, "--config", str(config)])


def dump(db: Path) -> dict[str, list[tuple]]:
    """Every row of the tables an unlock may touch, and the audit log."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        tables = {name: conn.execute(f"SELECT * FROM {name} ORDER BY 1").fetchall() for name in TABLES}
        tables["audit"] = conn.execute("SELECT seq, action, subject, data FROM audit ORDER BY seq").fetchall()
    conn.close()
    return tables


@dataclass
class Printed:
    store: Store
    niks: list[str]  # in the order their cards came out


async def print_cards(
    folder: Path, residents: int, blanks: int = 20, printing: int | None = None, database: Path | str | None = None
) -> Printed:
    """A station in `folder` whose first `printing` residents (all by default) have a printed card, untagged;
    its store in `database` (an SQLite file in `folder` by default)."""
    store = await seeded_store(folder, residents=residents, blanks=blanks, queue=False, database=database)
    niks = [row["nik"] for row in await store.fetchall("SELECT nik FROM residents ORDER BY nik")]
    await jobs.enqueue(store, niks[: printing or residents], "test")
    async with emulated_printer(folder) as (emu, printer):
        engine = make_engine(store, printer)
        await engine.start()
        await engine.run()
    printed = [row["nik"] for row in await store.fetchall("SELECT nik FROM jobs ORDER BY card_counter")]
    return Printed(store, printed + [nik for nik in niks if nik not in printed])


async def tag(store: Store, good: list[str], bad: dict[str, str]) -> None:
    for nik in good:
        await jobs.tag(store, nik, True, "test")
    for nik, reason in bad.items():
        await jobs.tag(store, nik, False, "test", reason, "tergores" if reason == "lainnya" else None)


@dataclass
class Centre:
    key: object  # the centre's private key
    public: Path
    key_id: str


def centre_keys(folder: Path) -> Centre:
    pair = simulator.generate_keys(folder)
    return Centre(simulator.load_private_key(pair.private), pair.public, pair.key_id)


async def reported(store: Store, folder: Path) -> dict:
    made = await reports.make_report(store, ALLOCATION, STATION_ID, "test")
    reports.write_report_files(made.body, folder, "Dukcapil Lombok Timur, loket cetak 1")
    return made.body


@pytest.fixture(autouse=True)
def indonesian():
    """The catalogue's language is process-wide: a test before this one may have left it in English."""
    language = current_language()
    set_language("id")
    yield
    set_language(language)
