"""Queue benchmark: cards a second through the whole station (database, lock, books, layout, driver, emulator)
at time-scale 0, beside the driver-only rate of bench/printer.py, and the printer's idle time between cards at
time-scale 1.0 (a real printer's pace).

    .venv/bin/python bench/print_queue.py [--cards N] [--rounds N] [--idle-cards N] [--idle-scale X] [--in-process]

The emulator runs as a process of its own, as bench/printer.py runs it (`--in-process`: a thread of this one).

(Not `bench/queue.py`: a script's folder comes first on the import path, and a `queue.py` there would stand in
for the standard library's `queue` in every benchmark of the folder.)

Targets: the station's rate at least 0.5 of the driver-only rate; printer idle under 2% of the card cycle.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import logging
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import structlog

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import importlib.util  # noqa: E402

_spec = importlib.util.spec_from_file_location("printer_bench", ROOT / "bench" / "printer.py")
printer_bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(printer_bench)
from console import books, jobs  # noqa: E402
from console.cards import CardBuilder  # noqa: E402
from console.demo import write_demo_csv  # noqa: E402
from console.engine import PrintEngine  # noqa: E402
from console.resident_import import import_residents  # noqa: E402
from console.store import Store  # noqa: E402
from drivers.layout import layout_card  # noqa: E402
from drivers.printer import Printer  # noqa: E402


class TimedPrinter:
    """The real printer, with the moments each card's `Ss` went out and its `Se` came back."""

    def __init__(self, printer: Printer) -> None:
        self._printer = printer
        self.starts: list[float] = []
        self.ends: list[float] = []

    def __getattr__(self, name: str):
        return getattr(self._printer, name)

    async def take_blank(self) -> None:
        self.starts.append(time.perf_counter())
        await self._printer.take_blank()

    async def print_front(self, frames) -> None:
        await self._printer.print_front(frames)
        self.ends.append(time.perf_counter())


def residents_with_photos(folder: Path, count: int) -> Path:
    """Demo residents, each with a photo like bench/printer.py's cards: the same work a card on both sides."""
    plain = write_demo_csv(folder / "plain.csv", count, seed=3)
    (folder / "foto").mkdir()
    rng = random.Random(3)
    with plain.open(newline="", encoding="utf-8") as source:
        rows = list(csv.DictReader(source))
    for n, row in enumerate(rows):
        (folder / "foto" / f"{n}.jpg").write_bytes(printer_bench.portrait(rng))
        row["foto"] = f"foto/{n}.jpg"
    target = folder / "residents.csv"
    with target.open("w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return target


async def station_run(folder: Path, cards: int, time_scale: float, in_process: bool = False) -> TimedPrinter:
    store = await Store.open(folder / "station.db")
    try:
        await import_residents(store, residents_with_photos(folder, cards))
        await books.add_allocation(store, "BENCH", cards, None, "bench")
        await jobs.enqueue_ready(store, "bench")
        async with printer_bench.emulator(cards, time_scale, in_process=in_process) as (port, _):
            async with await Printer.open(port, reply_timeout=120) as printer:
                timed = TimedPrinter(printer)
                engine = PrintEngine(
                    store,
                    timed,
                    CardBuilder(store, "5203-01", "ko"),
                    hopper_capacity=cards + 1,
                    ribbon="ko",
                    actor="bench",
                )
                await engine.start()
                await engine.run()
                if engine.cards_printed != cards:
                    raise RuntimeError(f"{engine.cards_printed} cards printed, expected {cards}")
        return timed
    finally:
        await store.close()


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cards", type=int, default=60)
    parser.add_argument("--rounds", type=int, default=3, help="rounds of each side at time-scale 0")
    parser.add_argument("--idle-cards", type=int, default=20)
    parser.add_argument("--idle-scale", type=float, default=1.0)
    parser.add_argument("--in-process", action="store_true", help="the emulator in a thread of this process")
    args = parser.parse_args()
    # as the station runs, without the console's log file: the records are formatted, then dropped
    structlog.configure(
        wrapper_class=structlog.make_filtering_bound_logger(logging.INFO),
        logger_factory=structlog.WriteLoggerFactory(open(os.devnull, "w")),  # noqa: SIM115
    )

    rng = random.Random(7)
    layouts = [layout_card(printer_bench.resident(n, rng)).frames for n in range(1, args.cards + 1)]
    # Rounds taken in turn, so that a busy moment of a shared machine falls on both sides alike; the best of each.
    driver_rates, station_rates = [], []
    for _ in range(max(1, args.rounds)):
        driver_rates.append(args.cards / await printer_bench.print_cards(layouts, args.in_process))
        with tempfile.TemporaryDirectory() as folder:
            timed = await station_run(Path(folder), args.cards, 0, args.in_process)
        station_rates.append(args.cards / (timed.ends[-1] - timed.starts[0]))
    driver_rate, station_rate = max(driver_rates), max(station_rates)
    with tempfile.TemporaryDirectory() as folder:
        paced = await station_run(Path(folder), args.idle_cards, args.idle_scale, args.in_process)
    gaps = [start - end for end, start in zip(paced.ends, paced.starts[1:])]
    cycles = [b - a for a, b in zip(paced.starts, paced.starts[1:])]
    idle_share = sum(gaps) / sum(cycles)
    ratio = station_rate / driver_rate
    rows = [
        ("driver-only, time-scale 0", f"best {driver_rate:.1f} cards/s, median {statistics.median(driver_rates):.1f}"),
        (
            "station queue, time-scale 0",
            f"best {station_rate:.1f} cards/s, median {statistics.median(station_rates):.1f}",
        ),
        ("ratio of the best (target >= 0.5)", f"{ratio:.2f} {'met' if ratio >= 0.5 else 'MISSED'}"),
        ("ratio of the medians", f"{statistics.median(station_rates) / statistics.median(driver_rates):.2f}"),
        (
            f"card cycle at time-scale {args.idle_scale}",
            f"mean {statistics.mean(cycles):.2f} s over {args.idle_cards} cards",
        ),
        ("printer idle between cards", f"mean {statistics.mean(gaps) * 1000:.1f} ms, max {max(gaps) * 1000:.1f} ms"),
        ("idle share of the cycle (target < 2%)", f"{idle_share:.2%} {'met' if idle_share < 0.02 else 'MISSED'}"),
    ]
    print("Queue benchmark\n" + printer_bench.table(rows))
    return 0 if ratio >= 0.5 and idle_share < 0.02 else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
