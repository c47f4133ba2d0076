"""Import benchmark: generate demo residents to a CSV file, import them into a fresh database, then again.

Each import runs in its own process, so that its peak memory (the RSS high-water mark) is its own. Then the
queries the console uses are timed on the full table. Prints a table; the target is a million rows in under
60 s with under 300 MB peak memory. "CPU s" is the importing process's own CPU time (not the server's, on a
ledger; "server CPU s" is the ledger's, for the connection that wrote): on a machine busy with other work
they say what the wall time cannot, and "load" is the machine's load average (1 minute) before and after.

    .venv/bin/python bench/import.py [--count N] [--seed S] [--dir DIR] [--ledger]

`--ledger` imports into a regency ledger instead of an SQLite file: a throwaway PostgreSQL server
(tests/pgserver.py, loopback TCP as a station reaches its ledger), migrated by the store as a station does.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from console.demo import write_demo_csv  # noqa: E402
from console.logs import configure_logging  # noqa: E402
from console.resident_import import import_residents  # noqa: E402
from console.residents import count_residents, get_resident, list_villages, search_residents  # noqa: E402
from console.store import Store  # noqa: E402


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


async def server_cpu_s(store: Store) -> float | None:
    """On a ledger (a server on this machine): the CPU time of the server process that did the writing."""
    if store.dialect == "sqlite":
        return None
    async with store.transaction() as tx:
        pid = (await tx.fetchone("SELECT pg_backend_pid()"))[0]
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()  # noqa: ASYNC240  /proc: no wait
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime


async def import_once(db: Path | str, csv_file: Path) -> dict:
    started = time.perf_counter()
    rejected: list[str] = []
    async with await Store.open(db) as store:
        result = await import_residents(
            store, csv_file, source="bench", on_reject=lambda r: rejected.append(r.line(csv_file.name))
        )
        seconds = time.perf_counter() - started
        server_cpu = await server_cpu_s(store)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {
        "cpu_s": usage.ru_utime + usage.ru_stime, "server_cpu_s": server_cpu,
        "rows": result.rows, "added": result.added, "updated": result.updated, "unchanged": result.unchanged,
        "rejected": result.rejected, "seconds": seconds, "peak_mb": peak_rss_mb(), "first_reject": rejected[:1],
    }  # fmt: skip


async def time_queries(db: Path | str, sample_nik: str) -> list[tuple[str, float, int]]:
    timings = []
    async with await Store.open(db, readonly=True) as store:
        probes = [
            ("get_resident(nik)", lambda: get_resident(store, sample_nik)),
            ("search NIK prefix 520307", lambda: search_residents(store, "520307", 50)),
            ("search name prefix 'SITI'", lambda: search_residents(store, "SITI", 50)),
            ("search name prefix, page 100", lambda: search_residents(store, "SITI", 50, 5000)),
            ("search name contains 'JANNAH'", lambda: search_residents(store, "JANNAH", 50)),
            ("search 'QQQ' (no match: all names)", lambda: search_residents(store, "QQQ", 50)),
            ("count_residents()", lambda: count_residents(store)),
            ("count_residents('SITI')", lambda: count_residents(store, "SITI")),
            ("list_villages()", lambda: list_villages(store)),
        ]
        for name, probe in probes:
            started = time.perf_counter()
            found = await probe()
            elapsed = time.perf_counter() - started
            if isinstance(found, int):
                size = found
            else:
                size = len(found) if isinstance(found, list) else int(found is not None)
            timings.append((name, elapsed, size))
    return timings


def run_child(db: Path | str, csv_file: Path) -> dict:
    """One import in a process of its own, with the machine's load average (1 minute) before and after it."""
    before = os.getloadavg()[0]
    out = subprocess.run(
        [sys.executable, __file__, "--child-import", str(db), str(csv_file)], check=True, capture_output=True, text=True
    )
    return {**json.loads(out.stdout), "load": f"{before:.1f}-{os.getloadavg()[0]:.1f}"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--dir", type=Path, help="work folder (default: a temporary one, removed afterwards)")
    parser.add_argument("--ledger", action="store_true", help="import into a throwaway PostgreSQL ledger")
    parser.add_argument("--child-import", nargs=2, metavar=("DB", "CSV"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_import:
        location, csv_file = args.child_import[0], Path(args.child_import[1])
        configure_logging(csv_file.with_suffix(".log"))
        db = location if location.startswith("postgresql://") else Path(location)
        print(json.dumps(asyncio.run(import_once(db, csv_file))))
        return
    with tempfile.TemporaryDirectory(dir=args.dir) as work:
        if not args.ledger:
            bench(Path(work), args.count, args.seed, Path(work) / "station.db")
            return
        from tests.pgserver import PgServer

        server = PgServer.create()
        try:
            server.start()
            bench(Path(work), args.count, args.seed, server.url(server.database()))
            print(f"\nPostgreSQL {server.psql('SHOW server_version')} (tests/pgserver.py settings)")
        finally:
            server.destroy()


def database_mb(db: Path | str) -> float:
    if isinstance(db, Path):
        return db.stat().st_size / 1e6

    async def size() -> float:
        async with await Store.open(db, readonly=True) as store:
            return await store.scalar("SELECT pg_database_size(current_database())") / 1e6

    return asyncio.run(size())


def bench(work: Path, count: int, seed: int, db: Path | str) -> None:
    csv_file = work / "residents.csv"
    started = time.perf_counter()
    write_demo_csv(csv_file, count, seed)
    generate_s = time.perf_counter() - started
    size_mb = csv_file.stat().st_size / 1e6
    first = run_child(db, csv_file)
    again = run_child(db, csv_file)
    with open(csv_file, encoding="utf-8") as f:
        f.readline()
        sample_nik = f.readline().split(",")[0]
    queries = asyncio.run(time_queries(db, sample_nik))
    db_mb = database_mb(db)

    print(f"\nimport benchmark: {count:,} residents, CSV {size_mb:,.0f} MB, database {db_mb:,.0f} MB\n")
    print(
        f"| {'step':<34} | {'seconds':>8} | {'rows/s':>9} | {'peak RSS MB':>11} | {'CPU s':>6} | {'server CPU s':>12} "
        f"| {'load':>7} | result"
    )
    print(f"| {'-' * 34} | {'-' * 8} | {'-' * 9} | {'-' * 11} | {'-' * 6} | {'-' * 12} | {'-' * 7} | ------")
    print(
        f"| {'generate demo CSV':<34} | {generate_s:8.1f} | {count / generate_s:9,.0f} | {'':>11} | {'':>6} | {'':>12} "
        f"| {'':>7} |"
    )
    for name, run in (("import into a fresh database", first), ("import the same file again", again)):
        server_cpu = "" if run["server_cpu_s"] is None else f"{run['server_cpu_s']:.1f}"
        outcome = f"added {run['added']:,}, updated {run['updated']:,}, unchanged {run['unchanged']:,}, " \
                  f"rejected {run['rejected']:,}"  # fmt: skip
        print(f"| {name:<34} | {run['seconds']:8.1f} | {run['rows'] / run['seconds']:9,.0f} "
              f"| {run['peak_mb']:11.0f} | {run['cpu_s']:6.1f} | {server_cpu:>12} | {run['load']:>7} | {outcome}")  # fmt: skip
    print(f"\n| {'query on the full table':<34} | {'ms':>8} | found")
    print(f"| {'-' * 34} | {'-' * 8} | -----")
    for name, seconds, size in queries:
        print(f"| {name:<34} | {seconds * 1000:8.1f} | {size:,}")
    if first["rejected"]:
        print(f"\nfirst rejection: {first['first_reject']}")


if __name__ == "__main__":
    main()
