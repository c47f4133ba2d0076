"""Queue benchmark: cards a second through the whole station (database, lock, books, layout, driver, emulator)
at time-scale 0, beside the driver-only rate of bench/printer.py, and the printer's idle time between cards at
time-scale 1.0 (a real printer's pace).

    .venv/bin/python bench/queue.py [--cards N] [--idle-cards N] [--idle-scale X]

Targets: the station's rate at least 0.5 of the driver-only rate; printer idle under 2% of the card cycle.
"""

from __future__ import annotations

import os
import sys

# Run as a script, this file's folder comes first on the path, where this file would stand in for the standard
# library's `queue` module (which asyncio's threads import): take the folder off the path before anything else.
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != _HERE]

import argparse
import asyncio
import logging
import random
import statistics
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
from console.residents import import_residents  # noqa: E402
from console.store import Store  # noqa: E402
from drivers.emulator import EmulatorServer  # noqa: E402
from drivers.layout import layout_card  # noqa: E402
from drivers.printer import Printer  # noqa: E402


class TimedPrinter:
    """The real printer, with the moments each card's `Ss` went out and its `Se` came back."""

    def __init__(self, printer: Printer) -> None:
        self._printer = printer
        self.starts: list[float] = []
        self.ends: list[float] = []

    def __getattr__(self, name: str):  # noqa: ANN204
        return getattr(self._printer, name)

    async def take_blank(self) -> None:
        self.starts.append(time.perf_counter())
        await self._printer.take_blank()

    async def print_front(self, frames) -> None:  # noqa: ANN001
        await self._printer.print_front(frames)
        self.ends.append(time.perf_counter())


async def station_run(folder: Path, cards: int, time_scale: float) -> TimedPrinter:
    store = await Store.open(folder / "station.db")
    try:
        await import_residents(store, write_demo_csv(folder / "residents.csv", cards, seed=3))
        await books.add_allocation(store, "BENCH", cards, None, "bench")
        await jobs.enqueue_ready(store, "bench")
        async with EmulatorServer.pty(feeder=cards, time_scale=time_scale) as emu:
            async with await Printer.open(emu.port, reply_timeout=120) as printer:
                timed = TimedPrinter(printer)
                engine = PrintEngine(
                    store, timed, CardBuilder(store, "5203-01", "ko"), hopper_capacity=cards + 1, ribbon="ko",
                    actor="bench",
                )
                await engine.start()
                await engine.run()
                if engine.cards_printed != cards:
                    raise RuntimeError(f"{engine.cards_printed} cards printed, expected {cards}")
        return timed
    finally:
        await store.close()


def table(rows: list[tuple[str, str]]) -> str:
    width = max(len(label) for label, _ in rows)
    return "\n".join(f"  {label:<{width}}  {value}" for label, value in rows)


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cards", type=int, default=60)
    parser.add_argument("--idle-cards", type=int, default=20)
    parser.add_argument("--idle-scale", type=float, default=1.0)
    args = parser.parse_args()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.INFO))

    rng = random.Random(7)
    layouts = [layout_card(printer_bench.resident(n, rng)).frames for n in range(1, args.cards + 1)]
    driver_s = await printer_bench.print_cards(layouts)
    driver_rate = args.cards / driver_s

    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        timed = await station_run(Path(folder), args.cards, 0)
        station_s = timed.ends[-1] - timed.starts[0]
        station_rate = args.cards / station_s
        total_s = time.perf_counter() - started
    with tempfile.TemporaryDirectory() as folder:
        paced = await station_run(Path(folder), args.idle_cards, args.idle_scale)
    gaps = [start - end for end, start in zip(paced.ends, paced.starts[1:])]
    cycles = [b - a for a, b in zip(paced.starts, paced.starts[1:])]
    idle_share = sum(gaps) / sum(cycles)
    ratio = station_rate / driver_rate
    rows = [
        ("driver-only, time-scale 0", f"{driver_rate:.1f} cards/s"),
        ("station queue, time-scale 0", f"{station_rate:.1f} cards/s (whole run with import: {total_s:.1f} s)"),
        ("ratio (target >= 0.5)", f"{ratio:.2f} {'met' if ratio >= 0.5 else 'MISSED'}"),
        (f"card cycle at time-scale {args.idle_scale}", f"mean {statistics.mean(cycles):.2f} s over {args.idle_cards} cards"),
        ("printer idle between cards", f"mean {statistics.mean(gaps) * 1000:.1f} ms, max {max(gaps) * 1000:.1f} ms"),
        ("idle share of the cycle (target < 2%)", f"{idle_share:.2%} {'met' if idle_share < 0.02 else 'MISSED'}"),
    ]
    print("Queue benchmark\n" + table(rows))
    return 0 if ratio >= 0.5 and idle_share < 0.02 else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
