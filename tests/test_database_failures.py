"""A database that fails under the station, on a real file: a damaged page, a dropped table, a full disk. Each
gets its sentence and exit status 2, never "unexpected error"; `doctor` finds the damage wherever it is."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from console.demo import write_demo_csv
from console.errors import EXIT_USAGE
from console.resident_import import import_residents
from console.store import Store, database_failure
from tests.test_cli_robust import make_station, station


def damage_the_residents_table(database: Path) -> None:
    """Write bytes over the residents table's root page (the schema's page 1 stays whole: the file still opens)."""
    with sqlite3.connect(database) as db:
        page_size = db.execute("PRAGMA page_size").fetchone()[0]
        root = db.execute("SELECT rootpage FROM sqlite_master WHERE name = 'residents'").fetchone()[0]
    assert root > 1
    with open(database, "r+b") as f:
        f.seek((root - 1) * page_size)
        f.write(b"\x0d\xff\xff\xff\xff" + b"\xa5" * 200)


def test_a_damaged_page_is_named_by_the_command_that_meets_it_and_by_doctor(tmp_path):
    config = make_station(tmp_path, residents=200)
    damage_the_residents_table(tmp_path / "station.db")
    assert station(config, "allocation", "add", "A1", "10", "--period", "2026-11").returncode == 0
    enqueued = station(config, "enqueue", "--all")
    assert enqueued.returncode == EXIT_USAGE, enqueued.stderr
    assert "the database is damaged" in enqueued.stderr and "restore it from a backup" in enqueued.stderr
    assert "unexpected" not in enqueued.stderr
    doctor = station(config, "doctor")
    assert doctor.returncode == EXIT_USAGE
    [line] = [line for line in doctor.stdout.splitlines() if line.startswith("database")]
    assert "FAIL" in line and "damaged" in line


def test_a_dropped_table_is_named_by_the_command_and_by_doctor(tmp_path):
    config = make_station(tmp_path, residents=3)
    with sqlite3.connect(tmp_path / "station.db") as db:
        db.execute("DROP TABLE nik_locks")
    enqueued = station(config, "enqueue", "--all")
    assert enqueued.returncode == EXIT_USAGE, enqueued.stderr
    assert "structure is not whole" in enqueued.stderr and "nik_locks" in enqueued.stderr
    doctor = station(config, "doctor")
    [line] = [line for line in doctor.stdout.splitlines() if line.startswith("database")]
    assert doctor.returncode == EXIT_USAGE and "FAIL" in line and "lacks table nik_locks" in line


async def test_a_full_disk_is_said_as_such_and_changes_nothing(tmp_path, english):
    write_demo_csv(tmp_path / "residents.csv", 2000, seed=3)
    store = await Store.open(tmp_path / "station.db")
    try:
        pages = await store.scalar("PRAGMA page_count")
        await store._writer.execute(f"PRAGMA max_page_count = {pages + 2}")  # SQLite's own SQLITE_FULL, for real
        with pytest.raises(sqlite3.Error) as caught:
            await import_residents(store, tmp_path / "residents.csv")
        failure = database_failure(caught.value, store.path)
        assert failure is not None and failure.exit_code == EXIT_USAGE
        assert str(failure).startswith(f"{store.path}: the disk is full") and "nothing was changed" in str(failure)
        assert await store.scalar("SELECT count(*) FROM residents") == 0
    finally:
        await store.close()


def test_a_bug_of_ours_stays_an_unexpected_error():
    assert database_failure(sqlite3.ProgrammingError("Incorrect number of bindings"), "x.db") is None
