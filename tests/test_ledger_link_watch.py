"""A station that vanishes from the ledger's sight while it holds something the regency needs: its link cut
without a word in the middle of a transaction (so holding the ledger's write lock, which every station's audited
write waits on, and its printing session lock), or its process stopped inside one. The server must let go in
seconds, not in the two hours of its default keepalive: the other stations go on writing, and the regency's view
sees the station silent (its session lock free) so that its claims can be taken over."""

from __future__ import annotations

import asyncio
import sys
import textwrap
from pathlib import Path

import psycopg
import pytest

from console.backends import postgres
from console.schema import APPLICATION_ID
from console.store import Store
from tests.conftest import wait_for
from tests.conftest_pg import new_server
from tests.netns import namespace_pair

# The station's own code: open the ledger as a printing station does, hold its session lock, open a write
# transaction (the ledger's write lock with it), say so, then wait inside it.
HOLDER = textwrap.dedent(
    """
    import asyncio, sys
    from console.store import Store

    async def main(url):
        store = await Store.open(url, station_id="5203-07")
        await store.hold_claims()
        async with store.transaction("operator") as tx:
            await tx.execute("UPDATE stations SET name = name WHERE id = '5203-07'")
            print("holding", flush=True)
            await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)

    asyncio.run(main(sys.argv[1]))
    """
)


def write_lock_free(url: str) -> bool:
    with psycopg.connect(url, autocommit=True) as conn:
        return bool(conn.execute("SELECT pg_try_advisory_lock(%s)", (APPLICATION_ID,)).fetchone()[0])  # type: ignore[index]


def station_connections(url: str) -> int:
    with psycopg.connect(url, autocommit=True) as conn:
        found = conn.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                             "AND pid <> pg_backend_pid() AND backend_type = 'client backend'").fetchone()  # fmt: skip
        return int(found[0])  # type: ignore[index]


async def start_holder(argv: list[str], url: str) -> asyncio.subprocess.Process:
    holder = await asyncio.create_subprocess_exec(
        *argv, sys.executable, "-c", HOLDER, url, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        cwd=Path(__file__).resolve().parents[1],
    )  # fmt: skip
    assert holder.stdout is not None
    said = await asyncio.wait_for(holder.stdout.readline(), timeout=60)
    assert said == b"holding\n", said
    return holder


async def test_a_station_cut_off_inside_a_transaction_lets_go_of_the_ledger_in_seconds(tmp_path):
    server = new_server()
    holder = None
    try:
        with namespace_pair("w", 214) as pair:
            # The server listens on this end of the pair too: the station reaches it directly, as over a network.
            with open(server.data / "postgresql.conf", "a", encoding="utf-8") as conf:
                conf.write(f"listen_addresses = '127.0.0.1,{pair.here}'\n")
            with open(server.data / "pg_hba.conf", "a", encoding="utf-8") as hba:
                hba.write(f"host all all {pair.subnet}.0/30 trust\n")
            server.start()
            name = server.database()
            here = server.url(name)
            async with await Store.open(here, station_id="5203-07"):  # the ledger migrated, the station registered
                pass
            holder = await start_holder(["ip", "netns", "exec", pair.namespace], server.url(name, host=pair.here))
            assert not write_lock_free(here)  # the cut station's transaction holds the regency's write lock

            pair.cut()  # the cable pulled: no word to either side

            await wait_for(lambda: write_lock_free(here), timeout=60, pause=lambda: asyncio.sleep(1.0),
                           what="the ledger letting go of the cut station's write lock")  # fmt: skip
            await wait_for(lambda: station_connections(here) == 0, timeout=30, pause=lambda: asyncio.sleep(1.0),
                           what="the cut station's backend gone (its session lock with it)")  # fmt: skip
            holder.kill()
            await holder.wait()
    finally:
        if holder is not None and holder.returncode is None:
            holder.kill()
            await holder.wait()
        server.destroy()


async def test_a_station_stuck_inside_a_transaction_is_cut_after_the_idle_limit(ledger, monkeypatch):
    """A station whose process hangs inside a transaction (stopped, or stuck) keeps its connection up (the kernel
    answers for it), so only the server's limit on a transaction left idle frees the regency; the station's next
    transaction works again. The limit is shortened here; the real one is in postgres.py."""
    monkeypatch.setattr(postgres, "IDLE_IN_TRANSACTION", "2s")
    async with await Store.open(ledger.url, station_id="5203-07") as store:
        with pytest.raises(Exception) as cut:
            async with store.transaction("operator") as tx:
                await tx.execute("UPDATE stations SET name = name WHERE id = '5203-07'")
                assert not write_lock_free(ledger.url)
                await wait_for(lambda: write_lock_free(ledger.url), timeout=30, pause=lambda: asyncio.sleep(0.5),
                               what="the stuck station's transaction cut by the server")  # fmt: skip
                await tx.execute("UPDATE stations SET name = name WHERE id = '5203-07'")
        assert "idle-in-transaction" in str(cut.value) or "closed" in str(cut.value), cut.value
        async with store.transaction("operator") as tx:  # the station goes on, on a new connection
            await tx.execute("UPDATE stations SET name = name WHERE id = '5203-07'")
