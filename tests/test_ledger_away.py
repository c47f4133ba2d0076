"""A station whose ledger goes away mid-run, while `station print` prints on the built-in emulator: the
PostgreSQL server stopped as in a crash (`immediate`) then started again, or (as root, where `ip netns` works)
the link between the station and the ledger cut without a word (a veth pair's end set down: the cable pulled)
then mended. The station takes no new blank while the ledger is away and says so, finishes the card in the
printer, records it once the ledger answers (settled from the printer's counter), and goes on by itself: at the
end every NIK is on exactly one card and the books, the audit log and the printer's output agree."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from console.demo import write_demo_csv
from console.store import Store
from drivers.emulator import read_output_log
from tests.conftest import wait_for
from tests.netns import Pair, namespace_pair
from tests.station import check_books_against_output_log
from tests.test_cli_queue import station
from tests.test_ledger_cli import config_with

STATION = str(Path(sys.executable).with_name("station"))
RESIDENTS = 12  # enough cards before, during and after the outage; each costs the suite time


def config_on(folder: Path, url: str, name: str = "config.toml") -> Path:
    return config_with(folder, f'url = "{url}"', time_scale=0.05, name=name)


def cards_out(folder: Path) -> int:
    log = folder / "output.jsonl"
    return len(read_output_log(log)) if log.exists() else 0


async def print_through_an_outage(folder: Path, ledger, print_argv: list[str], cut: Callable[[], None],
                                  mend: Callable[[], None]) -> None:  # fmt: skip
    """Queue the residents, run `print_argv` (`station print`), cut the ledger away after three cards, mend it
    once the station says it waits, and check everything at the end."""
    setup = config_on(folder, ledger.url, "setup.toml")
    write_demo_csv(folder / "residents.csv", RESIDENTS, seed=3)
    for args in (("import", str(folder / "residents.csv")), ("allocation", "add", "JATAH-2026-12", "40"),
                 ("allocation", "issue", "JATAH-2026-12", "5203-01", "40"),
                 ("enqueue", "--all")):  # fmt: skip
        done = station(setup, *args)
        assert done.returncode == 0, (args, done.stderr)
    printing = await asyncio.create_subprocess_exec(
        *print_argv, cwd=folder, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    lines: list[str] = []

    async def read_lines() -> None:
        assert printing.stdout is not None
        async for raw in printing.stdout:
            lines.append(raw.decode())

    reader = asyncio.create_task(read_lines())
    try:
        await wait_for(lambda: cards_out(folder) >= 3, timeout=120, what="three cards out before the cut")
        cut()
        out_at_cut = cards_out(folder)
        await wait_for(lambda: any("ledger unreachable, retrying" in line for line in lines), timeout=90,
                       what="the station saying the ledger is away")  # fmt: skip
        assert printing.returncode is None
        assert cards_out(folder) <= out_at_cut + 1  # at most the card that was in the printer
        mend()
        done = await asyncio.wait_for(printing.wait(), timeout=180)
        assert printing.stderr is not None
        assert done == 0, (await printing.stderr.read()).decode()
    finally:
        if printing.returncode is None:
            printing.kill()
            await printing.wait()
        await reader
    text = "".join(lines)
    assert "the ledger answers again" in text, text
    cards = read_output_log(folder / "output.jsonl")
    assert Counter(card["nik"] for card in cards) == dict.fromkeys(_niks(folder), 1), text
    async with await Store.open(ledger.url, readonly=True) as store:
        await check_books_against_output_log(store, folder / "output.jsonl")
        printed = Counter(json.loads(row["data"])["job"] for row in await store.fetchall(
            "SELECT data FROM audit WHERE action = 'job.printed'"))  # fmt: skip
        assert printed == dict.fromkeys(printed, 1) and len(printed) == RESIDENTS  # each job recorded once
        assert await store.scalar("SELECT count(*) FROM jobs WHERE state <> 'printed'") == 0
    assert station(setup, "audit", "verify").returncode == 0


def _niks(folder: Path) -> list[str]:
    rows = (folder / "residents.csv").read_text(encoding="utf-8").splitlines()[1:]
    return [row.split(",")[0].strip('"') for row in rows]


async def test_the_ledger_stopped_mid_run_then_back_loses_nothing_and_prints_nothing_twice(tmp_path, ledger):
    config = config_on(tmp_path, ledger.url)
    await print_through_an_outage(tmp_path, ledger, [STATION, "print", "--config", str(config)],
                                  lambda: ledger.server.stop("immediate"), ledger.server.start)  # fmt: skip


async def test_a_station_started_while_the_ledger_is_down_waits_for_it_then_prints(tmp_path, ledger):
    setup = config_on(tmp_path, ledger.url, "setup.toml")
    write_demo_csv(tmp_path / "residents.csv", 6, seed=5)
    for args in (("import", str(tmp_path / "residents.csv")), ("allocation", "add", "JATAH-2026-12", "10"),
                 ("allocation", "issue", "JATAH-2026-12", "5203-01", "10"), ("enqueue", "--all")):  # fmt: skip
        assert station(setup, *args).returncode == 0, args
    config = config_on(tmp_path, ledger.url)
    ledger.server.stop("immediate")
    printing = await asyncio.create_subprocess_exec(STATION, "print", "--config", str(config), cwd=tmp_path,
                                                    stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)  # fmt: skip
    try:
        assert printing.stderr is not None
        said = (await asyncio.wait_for(printing.stderr.readline(), timeout=60)).decode()
        assert "the regency ledger does not answer" in said and "retrying" in said, said
        assert printing.returncode is None and cards_out(tmp_path) == 0
        ledger.server.start()
        out, err = await asyncio.wait_for(printing.communicate(), timeout=180)
    finally:
        if printing.returncode is None:
            printing.kill()
            await printing.wait()
    assert printing.returncode == 0, err.decode()
    assert Counter(card["nik"] for card in read_output_log(tmp_path / "output.jsonl")) == dict.fromkeys(
        _niks(tmp_path), 1
    )


def test_a_ledger_that_refuses_the_station_is_a_configuration_error_at_once(tmp_path, ledger):
    """A ledger that answers no (no such role) is not waited for: exit 2, saying why."""
    config = config_on(tmp_path, ledger.url.replace("://ktpel@", "://station_nobody@"))
    done = subprocess.run([STATION, "print", "--config", str(config)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2, done.stderr
    assert 'role "station_nobody" does not exist' in done.stderr


# ------------------------------------------------------------------------------------------ the link cut


@asynccontextmanager
async def a_link_to_the_ledger(port: int) -> AsyncIterator[tuple[Pair, str]]:
    """A network namespace joined to this one by a veth pair (tests/netns.py), and a forwarder on this end of the
    pair to the server's loopback port: (the pair, the address and port a station inside reaches the ledger at).
    Everything is removed at the end."""
    connections: set[asyncio.Task] = set()

    async def forward(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        server_reader, server_writer = await asyncio.open_connection("127.0.0.1", port)

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            try:
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            except OSError:
                pass
            finally:
                sink.close()

        task = asyncio.ensure_future(asyncio.gather(pipe(reader, server_writer), pipe(server_reader, writer)))
        connections.add(task)
        try:
            await task
        except asyncio.CancelledError:  # the test is over: the forwarder closes
            pass

    with namespace_pair("l", 213) as pair:
        forwarder = await asyncio.start_server(forward, pair.here, 0)
        try:
            yield pair, f"{pair.here}:{forwarder.sockets[0].getsockname()[1]}"
        finally:
            forwarder.close()
            for task in connections:
                task.cancel()


async def test_the_link_to_the_ledger_cut_mid_run_then_mended_loses_nothing(tmp_path, ledger):
    async with a_link_to_the_ledger(ledger.server.port) as (pair, address):
        config = config_on(tmp_path, ledger.url.replace(f"127.0.0.1:{ledger.server.port}", address))
        await print_through_an_outage(
            tmp_path, ledger, ["ip", "netns", "exec", pair.namespace, STATION, "print", "--config", str(config)],
            pair.cut, pair.mend,
        )  # fmt: skip
