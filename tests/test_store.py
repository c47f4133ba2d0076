import os
import sqlite3
import stat

import pytest

from console import audit
from console.errors import DatabaseError
from console.schema import APPLICATION_ID, MIGRATIONS
from console.store import Store


async def test_new_database_is_private_wal_and_migrated(tmp_path):
    path = tmp_path / "var" / "station.db"
    async with await Store.open(path) as store:
        assert await store.scalar("PRAGMA user_version") == len(MIGRATIONS)
        assert await store.scalar("PRAGMA journal_mode") == "wal"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


async def test_foreign_sqlite_file_is_refused_and_untouched(tmp_path):
    path = tmp_path / "other.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE notes (x)")
    conn.commit()
    conn.close()
    before = path.read_bytes()
    with pytest.raises(DatabaseError, match=r"another program|milik program lain"):
        await Store.open(path)
    assert path.read_bytes() == before


async def test_non_sqlite_file_is_refused_and_untouched(tmp_path):
    path = tmp_path / "station.db"
    path.write_bytes(b"this is a spreadsheet, not a database\n" * 10)
    with pytest.raises(DatabaseError, match="SQLite"):
        await Store.open(path)
    assert path.read_bytes() == b"this is a spreadsheet, not a database\n" * 10


async def test_newer_schema_is_refused(tmp_path):
    path = tmp_path / "station.db"
    store = await Store.open(path)
    await store.close()
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    conn.commit()
    conn.close()
    with pytest.raises(DatabaseError, match=r"newer|lebih baru"):
        await Store.open(path)


async def test_failed_transaction_leaves_nothing(tmp_path):
    async with await Store.open(tmp_path / "s.db") as store:
        with pytest.raises(RuntimeError):
            async with store.transaction() as tx:
                await tx.execute("INSERT INTO meta (key, value) VALUES ('x', 'y')")
                await tx.audit("test.change", "x")
                raise RuntimeError("power cut")
        assert await store.get_meta("x") is None
        assert await store.scalar("SELECT count(*) FROM audit") == 0


async def test_audit_chain_verifies_and_detects_tampering(tmp_path):
    path = tmp_path / "s.db"
    async with await Store.open(path) as store:
        for i in range(5):
            async with store.transaction(actor="operator") as tx:
                await tx.audit("nik.locked", f"520307470890000{i}", job=i)
        count, broken = await audit.verify(store)
        assert (count, broken) == (5, None)
    conn = sqlite3.connect(path)
    conn.execute("UPDATE audit SET data = '{\"job\":99}' WHERE seq = 3")
    conn.commit()
    conn.close()
    async with await Store.open(path) as store:
        count, broken = await audit.verify(store)
    assert count == 2 and broken.seq == 3


def first_schema_database(path, open_jobs_for_one_nik: int) -> str:
    """A database as the first schema left it, without its guard of one open job a NIK (lost, or edited away)."""
    from tests.factory import nik_of

    conn = sqlite3.connect(path)
    conn.executescript(MIGRATIONS[0])
    conn.execute("DROP INDEX jobs_one_open_per_nik")
    conn.execute(
        "INSERT INTO residents (nik, nama, tempat_lahir, tanggal_lahir, jenis_kelamin, alamat, rt, rw, kel_desa, "
        "kecamatan, agama, status_perkawinan, pekerjaan, imported_at, updated_at) VALUES (?, 'A', 'B', "
        "'1990-01-01', 'LAKI-LAKI', 'C', '001', '001', 'D', 'E', 'ISLAM', 'KAWIN', 'PETANI', 't', 't')",
        (nik_of(1),),
    )
    for _ in range(open_jobs_for_one_nik):
        conn.execute("INSERT INTO jobs (nik, state, queued_at) VALUES (?, 'queued', 't')", (nik_of(1),))
    conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    conn.execute("PRAGMA user_version = 1")
    conn.commit()
    conn.close()
    return nik_of(1)


async def test_an_older_database_migrates_and_gets_its_guards_back(tmp_path):
    path = tmp_path / "station.db"
    nik = first_schema_database(path, open_jobs_for_one_nik=1)
    async with await Store.open(path) as store:
        assert await store.scalar("PRAGMA user_version") == len(MIGRATIONS)
        async with store.transaction() as tx:
            with pytest.raises(sqlite3.IntegrityError):  # the database itself refuses a second open job
                await tx.execute("INSERT INTO jobs (nik, state, queued_at) VALUES (?, 'held', 't')", (nik,))


async def test_a_database_with_two_open_jobs_for_one_nik_stops_the_migration_loudly_and_unchanged(tmp_path):
    path = tmp_path / "station.db"
    first_schema_database(path, open_jobs_for_one_nik=2)
    step = next(i for i, migration in enumerate(MIGRATIONS) if "audit_lock_events" in migration) + 1
    with pytest.raises(DatabaseError, match=rf"step {step}|langkah {step}") as refused:
        await Store.open(path)
    assert "jobs.nik" in str(refused.value)
    conn = sqlite3.connect(path)
    assert (
        conn.execute("PRAGMA user_version").fetchone()[0] == step - 1
    )  # the steps before it stand, it changed nothing
    assert conn.execute("SELECT count(*) FROM jobs WHERE state = 'queued'").fetchone()[0] == 2  # nothing dropped
    conn.close()
