"""Several stations append to one ledger's audit log at once: real processes, each with its own connections to
the throwaway server. The chain stays one line (no seq twice, no gap, no fork) and `audit verify` passes,
whether the writers go through the store (its lock of the whole ledger) or not (the audit log's own lock)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import psycopg
import pytest

from console import audit
from console.store import Store
from tests.test_cli_queue import station
from tests.test_ledger_cli import config_with
from tests.test_ledger_roles import _station_id, regency  # noqa: F401  the fixture

WRITERS, ENTRIES = 4, 200
ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("mode", ["store", "bare"])
async def test_four_writers_appending_at_once_leave_one_sound_chain(ledger, mode):
    writers = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.audit_writer", ledger.url, f"5203-0{n}", str(ENTRIES), mode],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(WRITERS)
    ]
    outcomes = [writer.communicate(timeout=300) for writer in writers]
    assert [(w.returncode, out.strip()) for w, (out, _) in zip(writers, outcomes)] == [(0, str(ENTRIES))] * WRITERS, [
        err[-2000:] for _, err in outcomes
    ]
    async with await Store.open(ledger.url, readonly=True) as store:
        checked, broken = await audit.verify(store)
        assert broken is None
        assert checked == WRITERS * ENTRIES == await audit.newest_seq(store)
        rows = await store.fetchall("SELECT subject, station_id FROM audit ORDER BY seq")
        assert Counter(row["subject"] for row in rows) == {f"5203-0{n}": ENTRIES for n in range(WRITERS)}
        assert all(row["station_id"] == row["subject"] for row in rows)  # each entry names the station that wrote it
        assert await store.scalar("SELECT count(DISTINCT prev_hash) FROM audit") == WRITERS * ENTRIES  # no fork


def test_verify_names_the_station_that_wrote_the_broken_entry(ledger, tmp_path):
    """Entries name the station that wrote them (`station_id`, in their hash): the first broken one is reported
    with it. Entry 1 is station 5203-01's, entries 2 and 3 station 5203-02's; entry 2 is edited by hand."""
    for station_id, count in (("5203-01", "1"), ("5203-02", "2")):
        subprocess.run(
            [sys.executable, "-m", "tests.audit_writer", ledger.url, station_id, count, "store"],
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
    with psycopg.connect(**ledger.connect_kwargs(), autocommit=True) as conn:
        conn.execute("UPDATE audit SET data = '{\"n\":9}' WHERE seq = 2")
    done = station(config_with(tmp_path, f'url = "{ledger.url}"'), "audit", "verify")
    assert done.returncode == 7
    assert "entry 2 (written by station 5203-02)" in done.stderr, done.stderr


def test_stations_appending_as_their_own_roles_leave_one_sound_chain(regency):
    """Two stations registered with roles of their own (least privilege, row-level security) append at once as
    their roles, without the store's lock of the whole ledger: the chain's own head lock needs no privilege, and
    the chain stays one line."""
    _, configs = regency
    writers = []
    for config in configs.values():
        url = re.search(r'^url = "(.*)"$', config.read_text(), re.M)[1]
        password_file = Path(re.search(r'^password_file = "(.*)"$', config.read_text(), re.M)[1])
        env = os.environ | {"PGPASSWORD": password_file.read_text().splitlines()[0]}
        argv = [sys.executable, "-m", "tests.audit_writer", url, _station_id(config), str(ENTRIES), "bare"]
        writers.append(subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                        text=True))  # fmt: skip
    outcomes = [writer.communicate(timeout=300) for writer in writers]
    assert [w.returncode for w in writers] == [0, 0], [err[-2000:] for _, err in outcomes]
    admin_url = re.search(r'^url = "(.*)"$', regency[0].read_text(), re.M)[1]
    with psycopg.connect(admin_url) as conn:
        rows = conn.execute("SELECT station_id, subject FROM audit WHERE action = %s", ("test.written",)).fetchall()
    assert Counter(station_id for station_id, _ in rows) == {_station_id(c): ENTRIES for c in configs.values()}
    done = station(regency[0], "audit", "verify")
    assert done.returncode == 0, done.stderr
