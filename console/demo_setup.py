"""What `station run --demo` does on an empty database: demo residents, an allocation of blanks, and a queue.

Only on the built-in emulator: a demo never spends a real printer's blanks. A database that already holds
residents or allocations is left as it is, so that the demo day goes on where it stopped.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from console import books, jobs
from console.clock import now
from console.config import Settings
from console.demo import write_demo_csv
from console.errors import UsageError
from console.i18n import t
from console.logs import get_logger
from console.resident_import import import_residents
from console.store import Store

DEMO_RESIDENTS = 300
DEMO_BLANKS = 500
DEMO_SEED = 2026

log = get_logger("demo")


@dataclass(frozen=True)
class DemoSetup:
    residents: int
    allocation: str
    blanks: int
    queued: int


def check_demo_printer(settings: Settings) -> None:
    if settings.printer.port != "emulator":
        raise UsageError(t("run.demo_needs_emulator", file=settings.source, port=settings.printer.port))


async def prepare_demo(store: Store, settings: Settings, actor: str) -> DemoSetup | None:
    """Fill an empty database for the demo; None if it already holds residents or allocations."""
    check_demo_printer(settings)
    if await store.scalar("SELECT 1 FROM residents LIMIT 1") or await store.scalar("SELECT 1 FROM allocations"):
        return None
    with tempfile.TemporaryDirectory(prefix="station-demo-") as folder:
        csv_file = write_demo_csv(Path(folder) / "demo-residents.csv", DEMO_RESIDENTS, DEMO_SEED)
        imported = await import_residents(store, csv_file, source="demo", actor=actor)
    period = now().strftime("%Y-%m")
    allocation = f"DEMO-{period}"
    await books.add_allocation(store, allocation, DEMO_BLANKS, period, actor)
    queued = await jobs.enqueue_ready(store, actor)
    log.info("demo_prepared", residents=imported.added, allocation=allocation, queued=queued)
    return DemoSetup(imported.added, allocation, DEMO_BLANKS, queued)
