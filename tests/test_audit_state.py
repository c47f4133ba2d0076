"""The audit log against the state it describes: an edit of the tables behind the station's back is found by
`audit verify` (and `doctor`), and the lock rule still refuses a NIK whose audit history shows a card. On both
backends: the station's SQLite file, or a regency ledger edited by hand with its own client."""

import asyncio
import json
import sqlite3

import psycopg

from console import audit_state
from console.backends.pg_sql import translate
from console.store import Store
from tests.test_cli_queue import make_station, station


def printed_and_tagged(tmp_path, database):
    config = make_station(tmp_path, residents=2, database=database)
    assert station(config, "allocation", "add", "A", "5").returncode == 0
    if isinstance(database, str):  # a ledger's blanks are the regency's until issued to a station
        assert station(config, "allocation", "issue", "A", "5203-01", "5").returncode == 0
    assert station(config, "enqueue", "--all").returncode == 0
    printed = station(config, "print", "--count", "1")
    assert printed.returncode == 0, printed.stderr
    [nik] = [json.loads(line)["nik"] for line in (tmp_path / "output.jsonl").read_text().splitlines()]
    assert station(config, "tag", nik, "good").returncode == 0
    assert station(config, "audit", "verify").returncode == 0
    return config, nik


def sql(database, *statements):
    """Statements run by hand on the database, past the station; the first column of the last one's first row."""
    ledger = isinstance(database, str)
    conn = psycopg.connect(database) if ledger else sqlite3.connect(database)
    try:
        for statement, params in statements:
            cursor = conn.execute(translate(statement, False) if ledger else statement, params)
            row = cursor.fetchone() if cursor.description else None
        conn.commit()
    finally:
        conn.close()
    return row[0] if row else None


def test_a_lock_deleted_and_its_good_card_cancelled_by_hand_prints_no_second_card(tmp_path, database):
    config, nik = printed_and_tagged(tmp_path, database)
    sql(database, ("DELETE FROM nik_locks WHERE nik = ?", (nik,)),
        ("UPDATE jobs SET state = 'cancelled' WHERE nik = ?", (nik,)))  # fmt: skip

    again = station(config, "enqueue", nik)
    assert again.returncode == 4 and "audit log" in again.stderr and nik in again.stderr
    verify = station(config, "audit", "verify")
    assert verify.returncode == 7, verify.stdout
    assert f"NIK {nik}" in verify.stderr and "nik_locks" in verify.stderr
    assert "job 1" in verify.stderr and "done_good" in verify.stderr and "cancelled" in verify.stderr
    doctor = station(config, "doctor")
    assert doctor.returncode == 2 and f"NIK {nik}" in doctor.stdout + doctor.stderr


def test_a_job_queued_by_hand_for_a_locked_nik_is_refused_by_the_engine(tmp_path, database):
    """The engine asks the rule again as it takes the blank: a job slipped into the table does not print."""
    config, nik = printed_and_tagged(tmp_path, database)
    sql(
        database,
        ("DELETE FROM nik_locks WHERE nik = ?", (nik,)),
        ("INSERT INTO jobs (nik, state, queued_at) VALUES (?, 'queued', '2026-12-01T10:00:00.000+08:00')", (nik,)),
    )
    cards_before = len((tmp_path / "output.jsonl").read_text().splitlines())
    printed = station(config, "print")
    assert "audit_locked" in printed.stdout, printed.stdout
    assert len((tmp_path / "output.jsonl").read_text().splitlines()) == cards_before + 1  # the other resident only
    assert nik not in (tmp_path / "output.jsonl").read_text().splitlines()[-1]


def test_books_edited_by_hand_are_named(tmp_path, database):
    config, _ = printed_and_tagged(tmp_path, database)
    sql(database, ("UPDATE allocations SET in_stock = in_stock + 1 WHERE id = 'A'", ()))
    verify = station(config, "audit", "verify")
    assert verify.returncode == 7 and "allocation A" in verify.stderr and "in stock" in verify.stderr


def test_the_tail_of_the_audit_log_deleted_is_found_by_the_state_it_described(tmp_path, database):
    """The chain cannot show a missing tail; the locks, jobs and blanks the deleted entries recorded can."""
    config, nik = printed_and_tagged(tmp_path, database)
    first_lock = sql(database, ("SELECT min(seq) FROM audit WHERE action = 'nik.locked'", ()))
    sql(database, ("DELETE FROM audit WHERE seq >= ?", (first_lock,)))
    verify = station(config, "audit", "verify")
    assert verify.returncode == 7, verify.stdout  # on SQLite the audit head beside the database says so first

    async def replayed():
        async with await Store.open(database, readonly=True) as store:
            return await audit_state.differences(store)

    found = "\n".join(asyncio.run(replayed()))  # and the replay, should that file be gone too, names the state
    assert f"NIK {nik}" in found and "JATAH" not in found and " A:" in found
