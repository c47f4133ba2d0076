"""Several stations append to one ledger's audit log at once: real processes, each with its own connections to
the throwaway server. The chain stays one line (no seq twice, no gap, no fork) and `audit verify` passes,
whether the writers go through the store (its lock of the whole ledger) or not (the audit log's own lock)."""

from __future__ import annotations

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

WRITERS, ENTRIES = 4, 200
ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("mode", ["store", "bare"])
async def test_four_writers_appending_at_once_leave_one_sound_chain(ledger, mode):
    writers = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.audit_writer", ledger.url, f"station-{n}", str(ENTRIES), mode],
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
        rows = await store.fetchall("SELECT subject, data FROM audit ORDER BY seq")
        assert Counter(row["subject"] for row in rows) == {f"station-{n}": ENTRIES for n in range(WRITERS)}
        assert await store.scalar("SELECT count(DISTINCT prev_hash) FROM audit") == WRITERS * ENTRIES  # no fork


def test_verify_names_the_station_that_wrote_the_broken_entry(ledger, tmp_path):
    """Entries that name their station (`station_id`): the first broken one is reported with it; entries that
    name none are reported by number alone (the other audit tests)."""
    subprocess.run(
        [sys.executable, "-m", "tests.audit_writer", ledger.url, "east", "3", "store"],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    with psycopg.connect(**ledger.connect_kwargs(), autocommit=True) as conn:
        conn.execute("ALTER TABLE audit ADD COLUMN IF NOT EXISTS station_id text")
        conn.execute("UPDATE audit SET station_id = '5203-0' || seq")
        conn.execute("UPDATE audit SET data = '{\"n\":9}' WHERE seq = 2")
    done = station(config_with(tmp_path, f'url = "{ledger.url}"'), "audit", "verify")
    assert done.returncode == 7
    assert "entry 2 (written by station 5203-02)" in done.stderr, done.stderr
