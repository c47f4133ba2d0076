"""`station audit verify` (exit 7 at the first broken entry) and `station audit export`."""

import json
import sqlite3
from itertools import pairwise

from tests.test_cli_queue import make_station, station


def test_verify_export_and_tampering(tmp_path):
    config = make_station(tmp_path, residents=2)
    assert station(config, "allocation", "add", "A", "5").returncode == 0
    assert station(config, "enqueue", "--all").returncode == 0
    sound = station(config, "audit", "verify")
    assert sound.returncode == 0 and "intact" in sound.stdout
    out = tmp_path / "audit.jsonl"
    assert station(config, "audit", "export", "--out", str(out)).returncode == 0
    entries = [json.loads(line) for line in out.read_text().splitlines()]
    assert [e["seq"] for e in entries] == list(range(1, len(entries) + 1))
    assert {"residents.imported", "allocation.received", "jobs.queued_bulk"} <= {e["action"] for e in entries}
    assert all(e["prev_hash"] == prev["hash"] for prev, e in pairwise(entries))

    conn = sqlite3.connect(tmp_path / "station.db")
    conn.execute("UPDATE audit SET actor = 'someone else' WHERE seq = 2")
    conn.commit()
    conn.close()
    broken = station(config, "audit", "verify")
    assert broken.returncode == 7
    assert "entry 2" in broken.stderr


def test_a_deleted_entry_breaks_the_chain(tmp_path):
    config = make_station(tmp_path, residents=2)
    station(config, "allocation", "add", "A", "5")
    station(config, "allocation", "add", "B", "5")
    conn = sqlite3.connect(tmp_path / "station.db")
    conn.execute("DELETE FROM audit WHERE seq = 2")
    conn.commit()
    conn.close()
    broken = station(config, "audit", "verify")
    assert broken.returncode == 7 and "entry 2" in broken.stderr
