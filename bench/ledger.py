"""Ledger benchmark: N print stations on one regency ledger (PostgreSQL), one queue for any station.

    .venv/bin/python bench/ledger.py [--cards N] [--stations 1,2,4,8] [--paced-cards N] [--delay-ms MS]

A throwaway PostgreSQL server (tests/pgserver.py) for the whole run; for each N a fresh database, migrated, N
stations registered, each issued enough blanks to print every card alone, the residents queued for any station.
Then N station processes (this script with `--worker`), each an engine over its own emulator (a process of its
own, time-scale 0), started together. The table: cards, seconds (first `Ss` to last `Se` across the stations),
cards a second, and the latency of the transaction that takes the blank and locks the NIK (from asking for it,
the process's and the ledger's write locks included, to its COMMIT; timed by wrapping the store's `transaction`
in the worker, marked by the call of `locks.lock_for_job` inside it). At the end of each N: every queued NIK on
exactly one card across the emulators' output logs ("ok" / "FAILED").

Second part, where the machine allows (root, `ip netns`, `tc qdisc … netem`): two stations in a network namespace
whose link to the ledger is delayed by `--delay-ms` each way, at a real printer's pace (time-scale 1.0), timing
the printer's idle time from one card's `Se` reply to the next card's `Ss` (target: under 2% of the card cycle).
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import logging
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from contextlib import asynccontextmanager
from pathlib import Path

import structlog

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _load(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


printer_bench = _load("printer_bench", ROOT / "bench" / "printer.py")
queue_bench = _load("queue_bench", ROOT / "bench" / "print_queue.py")

from console import locks  # noqa: E402
from console.cards import CardBuilder  # noqa: E402
from console.engine import PrintEngine  # noqa: E402
from console.store import Store  # noqa: E402
from drivers.emulator import read_output_log  # noqa: E402
from drivers.printer import Printer  # noqa: E402
from tests.pgserver import PgServer, PgUnavailable  # noqa: E402
from tests.station import seeded_regency  # noqa: E402

NETNS = f"ktpel-bench-{os.getpid()}"
HOST_SIDE, NS_SIDE = f"kb{os.getpid() % 100000}h", f"kb{os.getpid() % 100000}n"
HOST_ADDR, NS_ADDR = "10.251.77.1", "10.251.77.2"


# ------------------------------------------------------------------------------------------------- a station


def time_lock_transactions(store) -> tuple[list[float], list[int]]:
    """Seconds of each transaction that locked a NIK (`locks.lock_for_job` called inside it), from asking for the
    transaction to its COMMIT, and its statements (each a round trip to the ledger, BEGIN and COMMIT included).
    The store's methods are wrapped on this instance (the statements counted on its writer connection, which only
    this process's write transactions use); nothing else changes."""
    latencies: list[float] = []
    statements: list[int] = []
    inside = {"locked": False, "statements": 0}
    real_transaction, real_lock, real_execute = store.transaction, locks.lock_for_job, store._writer.execute

    async def lock_for_job(*args, **kwargs):
        inside["locked"] = True
        return await real_lock(*args, **kwargs)

    async def execute(*args, **kwargs):
        inside["statements"] += 1
        return await real_execute(*args, **kwargs)

    @asynccontextmanager
    async def transaction(*args, **kwargs):
        asked = time.perf_counter()
        inside["statements"] = 0  # one write transaction at a time in a process: the figures are this one's
        async with real_transaction(*args, **kwargs) as tx:
            inside["locked"] = False
            yield tx
            locked = inside["locked"]
        if locked:
            latencies.append(time.perf_counter() - asked)
            statements.append(inside["statements"])

    locks.lock_for_job = lock_for_job
    store.transaction = transaction
    store._writer.execute = execute
    return latencies, statements


@asynccontextmanager
async def station_emulator(folder: Path, cards: int, time_scale: float):
    # the line paced like the motions, as the built-in emulator's (console/printing.py)
    baud = int(115200 / time_scale) if time_scale > 0 else None
    async with printer_bench.standalone_emulator(folder, cards, time_scale, baud) as port:
        yield port


async def go_signal() -> None:
    """The parent's "go" line on stdin, read by the event loop: a thread blocked on it would hold an interrupted
    worker's exit (asyncio.run waits for its threads)."""
    reader = asyncio.StreamReader()
    await asyncio.get_running_loop().connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    await reader.readline()


async def worker(url: str, station_id: str, folder: Path, cards: int, time_scale: float) -> None:
    """One station: says "ready" once its printer is open, prints on "go" until the queue is empty, then writes
    its figures as one JSON line."""
    store = await Store.open(url, station_id=station_id)
    try:
        latencies, statements = time_lock_transactions(store)
        async with station_emulator(folder, cards + 5, time_scale) as port:
            async with await Printer.open(port, reply_timeout=120) as printer:
                timed = queue_bench.TimedPrinter(printer)
                engine = PrintEngine(store, timed, CardBuilder(store, station_id, "ko"),
                                     hopper_capacity=cards + 5, ribbon="ko", actor="bench")  # fmt: skip
                await engine.start(reset=True)
                print("ready", flush=True)
                await go_signal()
                offset = time.time() - time.perf_counter()  # the stations' moments on one clock: the machine's
                await engine.run()
        print(json.dumps({"station": station_id, "cards": engine.cards_printed, "latencies": latencies,
                          "statements": statements,
                          "starts": [offset + s for s in timed.starts], "ends": [offset + e for e in timed.ends]}),
              flush=True)  # fmt: skip
    finally:
        await store.close()


# ------------------------------------------------------------------------------------------------ the ledger


async def start_workers(url: str, folder: Path, stations: list[str], cards: int, time_scale: float,
                        netns: str | None) -> list[asyncio.subprocess.Process]:  # fmt: skip
    """The station processes. Their pipes are the event loop's (not threads blocked on a read), so that an
    interruption stops them at once and the relay, in the same loop, keeps passing their last words."""
    prefix = ["ip", "netns", "exec", netns] if netns else []
    workers = []
    for station_id in stations:
        (folder / station_id).mkdir()
        workers.append(await asyncio.create_subprocess_exec(
            *prefix, sys.executable, __file__, "--worker", url, station_id, str(folder / station_id), str(cards),
            str(time_scale), stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        ))  # fmt: skip
    return workers


async def stop_workers(workers: list[asyncio.subprocess.Process]) -> None:
    for process in workers:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
    for process in workers:
        try:
            await asyncio.wait_for(process.wait(), timeout=30)
        except TimeoutError:
            process.kill()
            await process.wait()


async def run_stations(server: PgServer, stations: int, cards: int, time_scale: float = 0,
                       host: str = "127.0.0.1", netns: str | None = None, port: int | None = None) -> dict:  # fmt: skip
    database = server.database()
    url = server.url(database, host=host)
    if port is not None:  # through the relay
        url = url.replace(f":{server.port}/", f":{port}/")
    names = [f"5203-{n:02d}" for n in range(1, stations + 1)]
    try:
        with tempfile.TemporaryDirectory(prefix="ktpel-ledger-bench-") as tmp:
            folder = Path(tmp)
            niks = await seeded_regency(server.url(database), folder, names, cards, "BENCH", "bench")
            workers = await start_workers(url, folder, names, cards, time_scale, netns)
            try:
                for process in workers:
                    if (await process.stdout.readline()).strip() != b"ready":
                        raise RuntimeError("a station did not start")
                for process in workers:
                    process.stdin.write(b"go\n")
                    await process.stdin.drain()
                reports = [json.loads(await process.stdout.readline()) for process in workers]
                for process in workers:  # each closes its store and stops its emulator
                    await asyncio.wait_for(process.wait(), timeout=60)
            finally:
                await stop_workers(workers)
            on_cards = Counter(card["nik"] for name in names
                               for card in read_output_log(folder / name / "output.jsonl") if card["nik"])  # fmt: skip
        once = sorted(on_cards) == sorted(niks) and set(on_cards.values()) == {1}
    finally:
        server.drop(database)
    starts = [s for r in reports for s in r["starts"]]
    ends = [e for r in reports for e in r["ends"]]
    if not ends:  # the stations were stopped (an interruption) before any card
        raise RuntimeError("no station printed a card")
    latencies = sorted(x for r in reports for x in r["latencies"])
    statements = [n for r in reports for n in r["statements"]]
    return {"cards": sum(r["cards"] for r in reports), "seconds": max(ends) - min(starts), "latencies": latencies,
            "statements": statistics.mean(statements), "once": once, "reports": reports}  # fmt: skip


def percentile(values: list[float], share: float) -> float:
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[round(share * 100) - 1]


# ------------------------------------------------------------------------------------ the delayed network


def _ip(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), capture_output=True, text=True, check=False)


def delayed_network(delay_ms: int) -> str | None:
    """A network namespace whose link to this one is delayed `delay_ms` each way; None when made, else why not."""
    if os.geteuid() != 0:
        return "needs root (ip netns, tc)"
    steps = [
        ["ip", "netns", "add", NETNS],
        ["ip", "link", "add", HOST_SIDE, "type", "veth", "peer", "name", NS_SIDE],
        ["ip", "link", "set", NS_SIDE, "netns", NETNS],
        ["ip", "addr", "add", f"{HOST_ADDR}/30", "dev", HOST_SIDE],
        ["ip", "link", "set", HOST_SIDE, "up"],
        ["ip", "netns", "exec", NETNS, "ip", "addr", "add", f"{NS_ADDR}/30", "dev", NS_SIDE],
        ["ip", "netns", "exec", NETNS, "ip", "link", "set", NS_SIDE, "up"],
        ["ip", "netns", "exec", NETNS, "ip", "link", "set", "lo", "up"],
        ["tc", "qdisc", "add", "dev", HOST_SIDE, "root", "netem", "delay", f"{delay_ms}ms"],
        ["ip", "netns", "exec", NETNS, "tc", "qdisc", "add", "dev", NS_SIDE, "root", "netem", "delay", f"{delay_ms}ms"],
    ]  # fmt: skip
    for step in steps:
        done = _ip(*step)
        if done.returncode != 0:
            remove_network()
            return f"`{' '.join(step)}` failed: {done.stderr.strip() or done.returncode}"
    return None


def remove_network() -> None:
    _ip("ip", "link", "del", HOST_SIDE)  # its peer goes with it
    _ip("ip", "netns", "del", NETNS)


class DelayRelay:
    """Where the kernel cannot delay (no netem): a TCP relay in front of the ledger that holds every chunk
    `delay_ms` before passing it on, each way, in order. Latency only: no bandwidth limit, no loss."""

    def __init__(self, upstream_port: int, delay_ms: int) -> None:
        self.upstream_port, self.delay = upstream_port, delay_ms / 1000
        self.port = 0
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task] = set()

    async def __aenter__(self) -> DelayRelay:
        self._server = await asyncio.start_server(self._connection, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _connection(self, client_in: asyncio.StreamReader, client_out: asyncio.StreamWriter) -> None:
        ledger_in, ledger_out = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        for source, target in ((client_in, ledger_out), (ledger_in, client_out)):
            task = asyncio.create_task(self._pump(source, target))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _pump(self, source: asyncio.StreamReader, target: asyncio.StreamWriter) -> None:
        held: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

        async def deliver() -> None:
            while True:
                due, data = await held.get()
                await asyncio.sleep(max(0.0, due - time.perf_counter()))
                if not data:
                    target.close()
                    return
                target.write(data)
                await target.drain()

        delivery = asyncio.create_task(deliver())
        try:
            while True:
                data = await source.read(65536)
                held.put_nowait((time.perf_counter() + self.delay, data))
                if not data:
                    break
            await delivery
        finally:
            delivery.cancel()
            target.close()


def open_to_namespace(server: PgServer) -> None:
    """Before the server starts: it listens on the host side of the link too, and trusts the namespace's address."""
    with open(server.data / "postgresql.conf", "a", encoding="utf-8") as conf:
        conf.write(f"listen_addresses = '127.0.0.1,{HOST_ADDR}'\n")
    with open(server.data / "pg_hba.conf", "a", encoding="utf-8") as hba:
        hba.write(f"host all all {NS_ADDR}/32 trust\n")


# ---------------------------------------------------------------------------------------------------- main


async def paced_run(server: PgServer, args: argparse.Namespace, host: str, netns: str | None, delay: str,
                    port: int | None = None) -> bool:  # fmt: skip
    r = await run_stations(server, 2, args.paced_cards, time_scale=1.0, host=host, netns=netns, port=port)
    gaps = [s - e for rep in r["reports"] for e, s in zip(rep["ends"], rep["starts"][1:])]
    cycles = [b - a for rep in r["reports"] for a, b in zip(rep["starts"], rep["starts"][1:])]
    share = sum(gaps) / sum(cycles)
    print(f"\nPaced run: 2 stations, the ledger {delay} away each way, time-scale 1.0, {r['cards']} cards, "
          f"each NIK once: {'ok' if r['once'] else 'FAILED'}\n"
          f"  card cycle mean {statistics.mean(cycles):.2f} s; printer idle between cards mean "
          f"{statistics.mean(gaps) * 1000:.0f} ms, max {max(gaps) * 1000:.0f} ms; idle share {share:.2%} "
          f"({'met' if share < 0.02 else 'MISSED'}: target < 2%)\n"
          f"  lock transaction p50 {percentile(r['latencies'], 0.5) * 1000:.0f} ms, "
          f"p99 {percentile(r['latencies'], 0.99) * 1000:.0f} ms, {r['statements']:.1f} statements", flush=True)  # fmt: skip
    return bool(r["once"])


async def main(args: argparse.Namespace) -> int:
    try:
        server = PgServer.create()
    except PgUnavailable as exc:
        print(f"ledger benchmark skipped: {exc}")
        return 0
    why_no_delay = "not asked (--paced-cards 0)" if args.paced_cards == 0 else delayed_network(args.delay_ms)
    ok = True
    try:
        if why_no_delay is None:
            open_to_namespace(server)
        server.start()
        print(f"{'stations':>8} {'cards':>6} {'seconds':>8} {'cards/s':>8} {'lock p50 ms':>12} {'lock p99 ms':>12} {'statements':>10}  "
              "each NIK once")  # fmt: skip
        for stations in args.stations:
            r = await run_stations(server, stations, args.cards)
            ok &= r["once"]
            print(f"{stations:>8} {r['cards']:>6} {r['seconds']:>8.2f} {r['cards'] / r['seconds']:>8.1f} "
                  f"{percentile(r['latencies'], 0.5) * 1000:>12.1f} {percentile(r['latencies'], 0.99) * 1000:>12.1f} "
                  f"{r['statements']:>10.1f}  "
                  f"{'ok' if r['once'] else 'FAILED'}", flush=True)  # fmt: skip
        if why_no_delay is None:
            ok &= await paced_run(server, args, HOST_ADDR, NETNS, f"netem in a network namespace, {args.delay_ms} ms")
        elif args.paced_cards:
            print(f"\nnetem: {why_no_delay}\nThe delay is made by a TCP relay in user space instead.")
            async with DelayRelay(server.port, args.delay_ms) as relay:
                ok &= await paced_run(server, args, "127.0.0.1", None, f"a relay, {args.delay_ms} ms", relay.port)
    finally:
        server.destroy()
        if why_no_delay is None:
            remove_network()
    print("\nok" if ok else "\nFAILED")
    return 0 if ok else 1


def quiet_logs() -> None:
    """As the station runs, without the console's log file: the records are formatted, then dropped."""
    structlog.configure(
        wrapper_class=structlog.make_filtering_bound_logger(logging.INFO),
        logger_factory=structlog.WriteLoggerFactory(open(os.devnull, "w")),  # noqa: SIM115
    )


def _stop_on_sigterm(*_: object) -> None:
    raise KeyboardInterrupt  # the finally clauses run: the emulator is stopped, the connections closed


if __name__ == "__main__":
    quiet_logs()
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        signal.signal(signal.SIGTERM, _stop_on_sigterm)
        url, station_id, folder, cards, scale = sys.argv[2:7]
        asyncio.run(worker(url, station_id, Path(folder), int(cards), float(scale)))
        sys.exit(0)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cards", type=int, default=200, help="cards a run (queued for any station)")
    parser.add_argument("--stations", type=lambda s: [int(n) for n in s.split(",")], default=[1, 2, 4, 8])
    parser.add_argument("--paced-cards", type=int, default=10, help="cards of the paced run (0: none)")
    parser.add_argument("--delay-ms", type=int, default=50, help="the paced run's delay to the ledger, each way")
    sys.exit(asyncio.run(main(parser.parse_args())))
