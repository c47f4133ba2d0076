"""The residents import (files.md), on real CSV files and a real SQLite store; the CLI as a subprocess."""

from __future__ import annotations

import csv
import hashlib
import json
import sqlite3
import subprocess
import sys
import tracemalloc
from datetime import date, timedelta
from pathlib import Path

import psycopg
import pytest
from PIL import Image

from console import jobs
from console.clock import now_iso
from console.locks import settled_among
from console.nik import FEMALE, MALE, make_nik
from console.resident_csv import ImportRefused
from console.resident_import import import_residents
from console.resident_rows import RecordRejected, validate_record
from console.residents import (
    COLUMNS,
    count_residents,
    get_resident,
    list_villages,
    residents_of_village,
    search_residents,
)
from console.store import Store

STATION = Path(sys.executable).parent / "station"
TODAY = date.today()


pytestmark = pytest.mark.usefixtures("english")


@pytest.fixture
async def store(database):
    """On both backends: the import writes by batches of statements on SQLite, by COPY on a ledger."""
    opened = await Store.open(database)
    yield opened
    await opened.close()


def person(serial: int = 1, **overrides: str) -> dict[str, str]:
    """A valid record of a woman of Selong born 1990-08-17; `serial` makes the NIK unique."""
    record = {
        "nik": make_nik("520307", date(1990, 8, 17), FEMALE, serial),
        "nama": "BAIQ NURUL HIDAYATI",
        "tempat_lahir": "SELONG",
        "tanggal_lahir": "1990-08-17",
        "jenis_kelamin": "PEREMPUAN",
        "gol_darah": "O",
        "alamat": "JL. PAHLAWAN NO. 7",
        "rt": "2",
        "rw": "03",
        "kel_desa": "PANCOR",
        "kecamatan": "SELONG",
        "agama": "ISLAM",
        "status_perkawinan": "KAWIN",
        "pekerjaan": "GURU",
    }
    record.update(overrides)
    return record


def write_csv(path: Path, rows: list[dict[str, str]], columns: list[str] | None = None, newline: str = "\n") -> Path:
    columns = columns or list(rows[0])
    with open(path, "w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=columns, lineterminator=newline)
        writer.writeheader()
        writer.writerows(rows)
    return path


async def run_import(store, path, **kwargs):
    rejections = []
    result = await import_residents(store, path, on_reject=rejections.append, today=TODAY, **kwargs)
    return result, rejections


async def audit_entries(store, action="residents.imported"):
    rows = await store.fetchall("SELECT subject, data FROM audit WHERE action = ? ORDER BY seq", (action,))
    return [(r["subject"], json.loads(r["data"])) for r in rows]


async def mark_printed(store, nik: str) -> None:
    """The state a print leaves: a blank of an allocation spent on a job for this NIK."""
    async with store.transaction() as tx:
        await tx.execute(
            "INSERT INTO allocations (id, seq, received, in_stock, period, received_at) "
            "VALUES ('2026-11', 1, 10, 9, '2026-11', ?) ON CONFLICT DO NOTHING",
            (now_iso(),),
        )
        await tx.execute(
            "INSERT INTO jobs (nik, state, allocation_id, card_counter, queued_at, printed_at) "
            "VALUES (?, 'printed', '2026-11', 101, ?, ?)",
            (nik, now_iso(), now_iso()),
        )


# ---------------------------------------------------------------------------------------------------------------
# Good files


async def test_valid_rows_are_imported_normalised_with_one_audit_entry(store, tmp_path):
    path = write_csv(tmp_path / "desa.csv", [person(1), person(2, nama="SITI AMINAH", gol_darah="", rt="12")])
    result, rejections = await run_import(store, path, source="perekaman Pancor")
    assert (result.rows, result.added, result.updated, result.unchanged, result.rejected) == (2, 2, 0, 0, 0)
    assert rejections == []
    first = await get_resident(store, person(1)["nik"])
    assert (first.rt, first.rw, first.gol_darah) == ("002", "003", "O")
    assert (first.kewarganegaraan, first.berlaku_hingga, first.foto, first.lokasi_perekaman) == (
        "WNI", "SEUMUR HIDUP", None, None,
    )  # fmt: skip
    assert first.source == "perekaman Pancor" and first.imported_at == first.updated_at
    second = await get_resident(store, person(2)["nik"])
    assert (second.nama, second.gol_darah, second.rt) == ("SITI AMINAH", "-", "012")
    assert await audit_entries(store) == [
        ("desa.csv", {
            "path": str(path.resolve()), "source": "perekaman Pancor", "rows": 2, "added": 2, "updated": 0,
            "unchanged": 0, "rejected": 0, "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
        })
    ]  # fmt: skip
    assert result.summary() == "desa.csv: 2 rows, 2 added, 0 updated, 0 unchanged, 0 rejected"


async def test_bom_crlf_free_column_order_and_optional_columns(store, tmp_path):
    rows = [
        person(1, kewarganegaraan="WNI", berlaku_hingga="SEUMUR HIDUP", lokasi_perekaman="DUKCAPIL",
               tanggal_perekaman="2024-05-02"),
        person(2, kewarganegaraan="", berlaku_hingga=(TODAY + timedelta(days=400)).isoformat(),
               lokasi_perekaman="PANCOR", tanggal_perekaman=""),
    ]  # fmt: skip
    columns = list(reversed(list(rows[0])))
    path = write_csv(tmp_path / "r.csv", rows, columns, newline="\r\n")
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    result, rejections = await run_import(store, path)
    assert (result.added, rejections) == (2, [])
    one, two = await get_resident(store, rows[0]["nik"]), await get_resident(store, rows[1]["nik"])
    assert (one.lokasi_perekaman, one.tanggal_perekaman) == ("DUKCAPIL", "2024-05-02")
    assert (two.kewarganegaraan, two.berlaku_hingga, two.tanggal_perekaman) == ("WNI", rows[1]["berlaku_hingga"], None)


async def test_enumerations_accept_any_case_and_are_stored_in_capitals(store, tmp_path):
    path = write_csv(tmp_path / "r.csv", [person(1, agama="islam", status_perkawinan="belum  kawin",
                                                 jenis_kelamin="Perempuan", gol_darah="ab+")])  # fmt: skip
    result, _ = await run_import(store, path)
    assert result.added == 1
    stored = await get_resident(store, person(1)["nik"])
    assert (stored.agama, stored.status_perkawinan, stored.jenis_kelamin, stored.gol_darah) == (
        "ISLAM", "BELUM KAWIN", "PEREMPUAN", "AB+",
    )  # fmt: skip


async def test_a_nik_of_another_regency_is_imported_without_the_kecamatan_check(store, tmp_path):
    mataram = make_nik("527101", date(1985, 1, 5), MALE, 3)
    path = write_csv(tmp_path / "r.csv", [person(1, nik=mataram, tanggal_lahir="1985-01-05", jenis_kelamin="LAKI-LAKI",
                                                 kecamatan="AMPENAN")])  # fmt: skip
    result, rejections = await run_import(store, path)
    assert (result.added, rejections) == (1, [])


# ---------------------------------------------------------------------------------------------------------------
# Rows that are rejected: each named with its row number and column; the rest are imported

FUTURE = (TODAY + timedelta(days=30)).isoformat()
BAD_VALUES = [
    ("nik", "52030757089000A1", "character 15"),
    ("nik", "520307570890001", "16 digits"),
    ("nik", "9999995708900001", "region code 999999"),
    ("nik", "5203075708900000", "serial"),
    ("tanggal_lahir", "2001-02-29", "does not exist"),
    ("tanggal_lahir", "17-08-1990", "YYYY-MM-DD"),
    ("tanggal_lahir", "1990-08-18", "disagrees with the NIK"),
    ("jenis_kelamin", "LAKI-LAKI", "disagrees with the NIK"),
    ("jenis_kelamin", "L", "is not known"),
    ("kecamatan", "SAKRA", "disagrees with the NIK: region code 520307 is kecamatan Selong"),
    ("gol_darah", "C", "blood group"),
    ("gol_darah", "A++", "blood group"),
    ("agama", "ATHEIS", "is not known"),
    ("status_perkawinan", "JANDA", "is not known"),
    ("rt", "1234", "1-3 digits"),
    ("rw", "2a", "1-3 digits"),
    ("nama", "A" * 61, "61 characters, 60 at most"),
    ("nama", "", "required"),
    ("pekerjaan", "", "required"),
    ("alamat", "JL. A\x1b[31mB", "control character U+001B at position 6"),
    ("nama", "SITI\tAMINAH", "control character U+0009"),
    ("nama", "SITI \u202eHANIMA", "control character U+202E"),
    ("tempat_lahir", "SEL\u200bONG", "control character U+200B"),
    ("kel_desa", "PAN\x00COR", "control character U+0000"),
    ("berlaku_hingga", "2020-01-01", "already passed"),
    ("berlaku_hingga", "SELAMANYA", "YYYY-MM-DD"),
    ("kewarganegaraan", "MALAYSIA", "is not known"),
    ("tanggal_perekaman", FUTURE, "in the future"),
    ("tanggal_perekaman", "1989-01-01", "before the birth date"),
]


@pytest.mark.parametrize("column, value, why", BAD_VALUES, ids=[f"{c}={v[:12]!r}" for c, v, _ in BAD_VALUES])
async def test_a_bad_value_rejects_its_row_naming_row_and_column(store, tmp_path, column, value, why):
    rows = [person(1), person(2, **{column: value}), person(3)]
    path = write_csv(tmp_path / "r.csv", rows, list(COLUMNS[:-1]))
    result, rejections = await run_import(store, path)
    assert (result.rows, result.added, result.rejected) == (3, 2, 1)
    [rejection] = rejections
    assert rejection.row == 3  # the header is row 1
    assert any(p.column == column and why in p.reason for p in rejection.problems), rejection.problems
    assert rejection.line("r.csv").startswith(f"r.csv: row 3 rejected: column {column}: ")
    assert await count_residents(store) == 2


async def test_a_birth_date_in_the_future_is_rejected(store, tmp_path):
    born = TODAY + timedelta(days=1)
    nik = make_nik("520307", born.replace(year=born.year - 100), MALE, 1)  # the NIK reads it a century ago
    row = person(1, nik=nik, tanggal_lahir=born.isoformat(), jenis_kelamin="LAKI-LAKI")
    path = write_csv(tmp_path / "r.csv", [row])
    _, [rejection] = await run_import(store, path)
    assert [p.column for p in rejection.problems] == ["tanggal_lahir"]
    assert "in the future" in rejection.problems[0].reason


async def test_every_problem_of_a_row_is_named_on_its_one_line(store, tmp_path):
    path = write_csv(tmp_path / "r.csv", [person(1, rt="x", agama="?", gol_darah="Z")])
    _, [rejection] = await run_import(store, path)
    assert [p.column for p in rejection.problems] == ["gol_darah", "rt", "agama"]
    assert "\n" not in rejection.line("r.csv")


async def test_the_same_nik_twice_in_a_file_rejects_both_rows(store, tmp_path):
    rows = [person(1), person(2), person(3), person(2, nama="OTHER"), person(4)]
    result, rejections = await run_import(store, write_csv(tmp_path / "r.csv", rows))
    assert (result.added, result.rejected) == (3, 2)
    assert [r.row for r in rejections] == [3, 5]
    for rejection in rejections:
        assert rejection.problems[-1].column == "nik" and "rows 3, 5" in rejection.problems[-1].reason
    assert await get_resident(store, person(2)["nik"]) is None


async def test_a_doubled_nik_is_rejected_even_when_its_twin_is_bad_otherwise(store, tmp_path):
    rows = [person(1), person(1, rt="bad")]
    result, rejections = await run_import(store, write_csv(tmp_path / "r.csv", rows))
    assert (result.added, result.rejected) == (0, 2)
    assert [[p.column for p in r.problems] for r in rejections] == [["nik"], ["rt", "nik"]]


async def test_a_row_with_too_few_or_too_many_values_is_rejected(store, tmp_path):
    path = write_csv(tmp_path / "r.csv", [person(1), person(2)])
    text = path.read_text(encoding="utf-8")
    path.write_text(text + "5203075708900009,SITI\n" + text.splitlines()[1] + ",extra\n", encoding="utf-8")
    result, rejections = await run_import(store, path)
    assert (result.added, [r.row for r in rejections]) == (2, [4, 5])
    assert "holds 2 values, the header has 14 columns" in str(rejections[0].problems[0])
    assert "holds 15 values" in str(rejections[1].problems[0])


async def test_blank_rows_are_skipped_but_counted_as_a_spreadsheet_counts_them(store, tmp_path):
    path = write_csv(tmp_path / "r.csv", [person(1)])
    header, row = path.read_text(encoding="utf-8").splitlines()
    bad = ",".join(person(2, rt="9999").values())
    path.write_text(f"{header}\n{row}\n\n,,,\n{bad}\n", encoding="utf-8")
    result, [rejection] = await run_import(store, path)
    assert (result.rows, result.added, rejection.row) == (2, 1, 5)


async def test_a_quoted_value_over_several_lines_is_one_row(store, tmp_path):
    rows = [person(1, alamat="JL. PAHLAWAN\nNO. 7"), person(2, rt="x")]
    _, rejections = await run_import(store, write_csv(tmp_path / "r.csv", rows))
    assert [r.row for r in rejections] == [2, 3]
    assert "U+000A" in rejections[0].problems[0].reason  # a line break is a control character in a field


async def test_a_ten_megabyte_line_is_rejected_without_being_held_in_memory(store, tmp_path):
    await run_import(store, write_csv(tmp_path / "warm.csv", [person(9)]))  # tables and messages loaded before
    path = write_csv(tmp_path / "r.csv", [person(1), person(2, alamat="A" * 10_000_000), person(3)])
    tracemalloc.start()
    try:
        result, rejections = await run_import(store, path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert (result.added, [r.row for r in rejections]) == (2, [3])
    assert "longer than 1048576 bytes" in rejections[0].problems[0].reason
    assert peak < 5_000_000, f"the import held {peak:,} bytes at its peak"


async def test_an_unclosed_quote_is_stopped_by_the_field_size_limit(store, tmp_path):
    path = write_csv(tmp_path / "r.csv", [person(1)])
    text = path.read_text(encoding="utf-8")
    garbage = '5203075708900002,"NEVER CLOSED\n' + ("x" * 1000 + "\n") * 100
    path.write_text(text + garbage + ",".join(person(3).values()) + "\n", encoding="utf-8")
    result, rejections = await run_import(store, path)
    assert result.added >= 1 and result.rejected >= 1
    assert "not a well-formed CSV row" in rejections[0].problems[0].reason
    assert "field larger than field limit" in rejections[0].problems[0].reason


# ---------------------------------------------------------------------------------------------------------------
# Files refused whole: nothing changes


def refused_cases(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    good = ",".join(person(1).values())
    header = ",".join(person(1))
    cases = {
        "missing": (tmp_path / "nope.csv", "no such file"),
        "folder": (tmp_path, "folder"),
        "empty": (tmp_path / "empty.csv", "is empty"),
        "bom only": (tmp_path / "bom.csv", "is empty"),
        "header only": (tmp_path / "header.csv", "no data row"),
        "blank header": (tmp_path / "blank.csv", "row 1 is blank"),
        "missing column": (tmp_path / "missing.csv", 'required column missing from the header: "pekerjaan"'),
        "unknown column": (tmp_path / "unknown.csv", 'unknown column in the header: "telepon"'),
        "doubled column": (tmp_path / "doubled.csv", 'column "nama" appears more than once'),
        "latin-1": (tmp_path / "latin1.csv", "not UTF-8 at row 3 (text line 3, byte offset"),
        "utf-16": (tmp_path / "utf16.csv", "not UTF-8 at row 1 (text line 1, byte offset 0 holds 0xFF)"),
    }
    (tmp_path / "empty.csv").write_bytes(b"")
    (tmp_path / "bom.csv").write_bytes(b"\xef\xbb\xbf")
    (tmp_path / "header.csv").write_text(header + "\n\n", encoding="utf-8")
    (tmp_path / "blank.csv").write_text("\n" + header + "\n" + good + "\n", encoding="utf-8")
    (tmp_path / "missing.csv").write_text(header.replace(",pekerjaan", "") + "\n", encoding="utf-8")
    (tmp_path / "unknown.csv").write_text(header + ",telepon\n" + good + ",0812\n", encoding="utf-8")
    (tmp_path / "doubled.csv").write_text(header + ",nama\n" + good + ",X\n", encoding="utf-8")
    latin = f"{header}\n{good}\n{good.replace('BAIQ NURUL', 'SÉTI')}\n".replace("0001,", "0002,", 1)
    (tmp_path / "latin1.csv").write_bytes(latin.encode("latin-1"))
    (tmp_path / "utf16.csv").write_bytes(f"{header}\n{good}\n".encode("utf-16"))
    return cases


async def test_a_file_that_cannot_be_imported_is_refused_and_nothing_changes(store, tmp_path):
    await run_import(store, write_csv(tmp_path / "first.csv", [person(9)]))
    for name, (path, why) in refused_cases(tmp_path).items():
        with pytest.raises(ImportRefused) as caught:
            await run_import(store, path)
        assert why in str(caught.value), name
        assert str(path.name) in str(caught.value), name
        assert await count_residents(store) == 1, name
        assert len(await audit_entries(store)) == 1, name


async def test_not_utf8_names_the_exact_byte(store, tmp_path):
    path = tmp_path / "x.csv"
    header = ",".join(person(1)).encode()
    row = ",".join(person(1).values()).encode()
    path.write_bytes(header + b"\n" + row.replace(b"BAIQ", b"BA\xe9Q") + b"\n")
    with pytest.raises(ImportRefused) as caught:
        await run_import(store, path)
    offset = len(header) + 1 + row.index(b"BAIQ") + 2
    assert f"byte offset {offset} holds 0xE9" in str(caught.value)


# ---------------------------------------------------------------------------------------------------------------
# A NIK already in the database


async def test_a_changed_row_updates_a_nik_never_printed_and_the_same_file_again_changes_nothing(store, tmp_path):
    await run_import(store, write_csv(tmp_path / "a.csv", [person(1), person(2)]))
    before = await get_resident(store, person(1)["nik"])
    changed = write_csv(tmp_path / "b.csv", [person(1, alamat="DUSUN DASAN LAUK"), person(2)])
    result, _ = await run_import(store, changed, source="revisi")
    assert (result.added, result.updated, result.unchanged) == (0, 1, 1)
    after = await get_resident(store, person(1)["nik"])
    assert (after.alamat, after.source, after.imported_at) == ("DUSUN DASAN LAUK", "revisi", before.imported_at)
    again, _ = await run_import(store, changed, source="revisi")
    assert (again.added, again.updated, again.unchanged, again.rejected) == (0, 0, 2, 0)
    assert await get_resident(store, person(1)["nik"]) == after
    assert [data["updated"] for _, data in await audit_entries(store)] == [0, 1, 0]


async def test_a_printed_nik_is_never_changed_by_an_import(store, tmp_path):
    await run_import(store, write_csv(tmp_path / "a.csv", [person(1), person(2)]))
    nik = person(1)["nik"]
    await mark_printed(store, nik)
    assert await settled_among(store, [nik, person(2)["nik"]]) == {nik: "printed"}
    before = await get_resident(store, nik)
    path = write_csv(tmp_path / "b.csv", [person(1, nama="SOMEONE ELSE"), person(2, nama="SITI BARU")])
    result, [rejection] = await run_import(store, path)
    assert (result.updated, result.rejected, rejection.row) == (1, 1, 2)
    assert rejection.problems == (rejection.problems[0],) and rejection.problems[0].column == "nik"
    assert "already been printed" in rejection.problems[0].reason
    assert await get_resident(store, nik) == before
    assert (await get_resident(store, person(2)["nik"])).nama == "SITI BARU"
    assert (await audit_entries(store))[-1][1]["rejected"] == 1


async def test_a_printed_nik_with_unchanged_data_is_not_a_rejection(store, tmp_path):
    path = write_csv(tmp_path / "a.csv", [person(1)])
    await run_import(store, path)
    await mark_printed(store, person(1)["nik"])
    result, rejections = await run_import(store, path)
    assert (result.unchanged, result.rejected, rejections) == (1, 0, [])


async def test_a_nik_in_the_lock_table_counts_as_printed(store, tmp_path):
    await run_import(store, write_csv(tmp_path / "a.csv", [person(1)]))
    nik = person(1)["nik"]
    async with store.transaction() as tx:
        job = await tx.insert("INSERT INTO jobs (nik, state, queued_at) VALUES (?, 'cancelled', ?)", (nik, now_iso()))
        await tx.execute("INSERT INTO nik_locks (nik, job_id, locked_at) VALUES (?, ?, ?)", (nik, job, now_iso()))
    result, [rejection] = await run_import(store, write_csv(tmp_path / "b.csv", [person(1, rt="9")]))
    assert result.rejected == 1 and "already been printed" in rejection.problems[0].reason
    assert (await get_resident(store, nik)).rt == "002"


async def test_a_queued_nik_is_not_changed_by_an_import_and_a_cancelled_one_is(store, tmp_path):
    """Its card may be laid out already (the engine prepares the next card while one prints): a new name would
    print the old one. A cancelled job, which took no blank, leaves the record free again."""
    nik = person(1)["nik"]
    await run_import(store, write_csv(tmp_path / "a.csv", [person(1)]))
    assert (await jobs.enqueue(store, [nik], "op")).queued == [nik]
    result, [rejection] = await run_import(store, write_csv(tmp_path / "b.csv", [person(1, rt="9")]))
    assert (result.updated, result.rejected) == (0, 1)
    assert rejection.problems[0].column == "nik" and "in the print queue" in rejection.problems[0].reason
    assert (await get_resident(store, nik)).rt == "002"
    [job] = await jobs.history(store, nik)
    await jobs.cancel(store, job.id, "op")
    result, _ = await run_import(store, write_csv(tmp_path / "b.csv", [person(1, rt="9")]))
    assert (result.updated, result.rejected) == (1, 0)


# ---------------------------------------------------------------------------------------------------------------
# Batches: a failure part-way leaves whole rows; the same file again finishes the job


async def test_a_failure_part_way_leaves_whole_batches_and_the_same_file_again_completes(store, tmp_path):
    rows = [person(serial) for serial in range(1, 8)]
    path = write_csv(tmp_path / "r.csv", rows)
    poisoned = person(5)["nik"]  # rows are written in NIK order: batches {1,2} {3,4} {5,6} {7}
    async with store.transaction() as tx:
        if store.dialect == "sqlite":
            await tx.execute(
                f"CREATE TRIGGER fail BEFORE INSERT ON residents WHEN NEW.nik = '{poisoned}' "
                "BEGIN SELECT RAISE(ABORT, 'disk gone'); END"
            )
        else:  # the COPY path inserts a batch by one statement: the trigger fails it whole all the same
            await tx.execute("CREATE FUNCTION fail() RETURNS trigger LANGUAGE plpgsql AS "
                             "$$ BEGIN RAISE EXCEPTION 'disk gone'; END $$")  # fmt: skip
            await tx.execute(f"CREATE TRIGGER fail BEFORE INSERT ON residents FOR EACH ROW "
                             f"WHEN (NEW.nik = '{poisoned}') EXECUTE FUNCTION fail()")  # fmt: skip
    failure = sqlite3.IntegrityError if store.dialect == "sqlite" else psycopg.errors.RaiseException
    with pytest.raises(failure, match="disk gone"):
        await run_import(store, path, batch_rows=2)
    assert [r.nik for r in await search_residents(store, "5203")] == [p["nik"] for p in rows[:4]]
    assert await audit_entries(store) == []
    async with store.transaction() as tx:
        await tx.execute("DROP TRIGGER fail" + ("" if store.dialect == "sqlite" else " ON residents"))
    result, _ = await run_import(store, path, batch_rows=2)
    assert (result.added, result.unchanged) == (3, 4)
    assert await count_residents(store) == 7
    [(_, data)] = await audit_entries(store)
    assert (data["added"], data["unchanged"], data["rows"]) == (3, 4, 7)


async def test_many_batches_make_one_audit_entry_and_rejections_come_in_row_order(store, tmp_path):
    rows = [person(serial, rt="bad" if serial % 3 == 0 else "1") for serial in range(1, 21)]
    await mark_printed_after_import(store, tmp_path, person(20))
    rows[-1] = person(20, nama="CHANGED")
    result, rejections = await run_import(store, write_csv(tmp_path / "r.csv", rows), batch_rows=4)
    assert [r.row for r in rejections] == [4, 7, 10, 13, 16, 19, 21]
    assert (result.added, result.rejected) == (13, 7)
    assert len(await audit_entries(store)) == 2  # the set-up's import and this one


async def mark_printed_after_import(store, tmp_path, record):
    await run_import(store, write_csv(tmp_path / "setup.csv", [record]))
    await mark_printed(store, record["nik"])


# ---------------------------------------------------------------------------------------------------------------
# Photos


async def test_a_photo_is_checked_by_its_content_and_stored_with_its_absolute_path(store, tmp_path):
    (tmp_path / "foto").mkdir()
    Image.new("RGB", (30, 40), "white").save(tmp_path / "foto" / "a.png")
    Image.new("RGB", (30, 40), "white").save(tmp_path / "foto" / "b.jpg")
    (tmp_path / "foto" / "c.jpg").write_text("not a picture")
    rows = [
        person(1, foto="foto/a.png"), person(2, foto="foto/b.jpg"), person(3, foto="foto/c.jpg"),
        person(4, foto="foto/missing.jpg"), person(5, foto="foto"),
    ]  # fmt: skip
    elsewhere = tmp_path / "batch"
    elsewhere.mkdir()
    path = write_csv(tmp_path / "r.csv", rows)
    result, rejections = await run_import(store, path)
    assert result.added == 2
    assert (await get_resident(store, person(1)["nik"])).foto == str((tmp_path / "foto" / "a.png").resolve())
    assert (await get_resident(store, person(2)["nik"])).foto == str((tmp_path / "foto" / "b.jpg").resolve())
    reasons = {r.row: r.problems[0].reason for r in rejections}
    assert "neither JPEG nor PNG" in reasons[4]
    assert "does not exist" in reasons[5] and "relative to the CSV file" in reasons[5]
    assert "not a regular file" in reasons[6]


# ---------------------------------------------------------------------------------------------------------------
# One record, and the queries


def test_validate_record_returns_the_resident_or_every_problem():
    resident = validate_record(person(1), today=TODAY)
    assert (resident.nik, resident.rt, resident.kewarganegaraan) == (person(1)["nik"], "002", "WNI")
    with pytest.raises(RecordRejected) as caught:
        validate_record(person(1, rt="", agama="X"), today=TODAY)
    assert [p.column for p in caught.value.problems] == ["rt"]  # a missing value stops the checks of values
    with pytest.raises(RecordRejected) as caught:
        validate_record(person(1, rt="1a", agama="X"), today=TODAY)
    assert [p.column for p in caught.value.problems] == ["rt", "agama"]


async def test_search_by_nik_prefix_and_by_name(store, tmp_path):
    names = ["SITI AMINAH", "siti hadijah", "BAIQ SITI NURUL", "AHMAD", "LALU MUHAMMAD", "SITI_X", "NURUL 100%"]
    rows = [person(i + 1, nama=name) for i, name in enumerate(names)]
    rows.append(person(1, nik=make_nik("520301", date(1990, 8, 17), FEMALE, 1), kecamatan="KERUAK",
                       kel_desa="PIJOT", nama="HADIJAH"))  # fmt: skip
    await run_import(store, write_csv(tmp_path / "r.csv", rows))
    assert [r.nama for r in await search_residents(store, "siti")] == [
        "SITI AMINAH", "siti hadijah", "SITI_X", "BAIQ SITI NURUL",
    ]  # fmt: skip
    assert [r.nama for r in await search_residents(store, "siti", limit=2, offset=2)] == ["SITI_X", "BAIQ SITI NURUL"]
    assert [r.nama for r in await search_residents(store, "siti", limit=2, offset=3)] == ["BAIQ SITI NURUL"]
    assert await count_residents(store, "siti") == 4
    assert [r.nama for r in await search_residents(store, "HADIJAH")] == ["HADIJAH", "siti hadijah"]
    assert [r.nama for r in await search_residents(store, "_")] == ["SITI_X"]  # wildcards are plain characters
    assert [r.nama for r in await search_residents(store, "0%")] == ["NURUL 100%"]
    assert [r.kecamatan for r in await search_residents(store, "520301")] == ["KERUAK"]
    assert len(await search_residents(store, "5203075708900")) == 7
    assert await count_residents(store, "520307") == 7
    assert await count_residents(store) == 8
    assert await search_residents(store, "9") == []
    everyone = await search_residents(store, "")
    assert [r.nama for r in everyone][:2] == ["AHMAD", "BAIQ SITI NURUL"]


async def test_villages_and_their_residents(store, tmp_path):
    rows = [person(1), person(2), person(3, kel_desa="SELONG")]
    await run_import(store, write_csv(tmp_path / "r.csv", rows))
    villages = await list_villages(store)
    assert [(v.kecamatan, v.kel_desa, v.residents) for v in villages] == [
        ("SELONG", "PANCOR", 2), ("SELONG", "SELONG", 1),
    ]  # fmt: skip
    assert [v.kel_desa for v in await list_villages(store, "SELONG")] == ["PANCOR", "SELONG"]
    pancor = await residents_of_village(store, "SELONG", "PANCOR")
    assert [r.nik for r in pancor] == [person(1)["nik"], person(2)["nik"]]


# ---------------------------------------------------------------------------------------------------------------
# The command line, as a subprocess


def config(tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(
        '[station]\nlanguage = "en"\n[database]\npath = "var/station.db"\n[logging]\nfile = "var/station.log"\n',
        encoding="utf-8",
    )
    return path


def station(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(STATION), *args, "--config", str(config(tmp_path))],
        cwd=tmp_path, capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def test_cli_import_exit_0_then_3_with_each_rejected_row_on_stderr(tmp_path):
    good = write_csv(tmp_path / "good.csv", [person(1), person(2)])
    done = station(tmp_path, "import", str(good), "--source", "loket")
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout.strip() == "good.csv: 2 rows, 2 added, 0 updated, 0 unchanged, 0 rejected"

    mixed = write_csv(tmp_path / "mixed.csv", [person(3), person(4, rt="1234"), person(5, jenis_kelamin="LAKI-LAKI")])
    done = station(tmp_path, "import", str(mixed))
    assert done.returncode == 3
    assert done.stderr.splitlines() == [
        "mixed.csv: row 3 rejected: column rt: '1234' is not 1-3 digits",
        "mixed.csv: row 4 rejected: column jenis_kelamin: sex LAKI-LAKI disagrees with the NIK, which says PEREMPUAN",
    ]
    assert "1 added" in done.stdout and "2 rejected" in done.stdout

    done = station(tmp_path, "import", str(good), "--json")
    summary = json.loads(done.stdout)
    assert (done.returncode, summary["unchanged"], summary["added"]) == (0, 2, 0)


def test_cli_import_refuses_a_bad_file_with_exit_2(tmp_path):
    done = station(tmp_path, "import", str(tmp_path / "absent.csv"))
    assert done.returncode == 2 and "absent.csv: no such file" in done.stderr
    bad = tmp_path / "bad.csv"
    bad.write_text("nik,nama\n5203075708900001,SITI\n", encoding="utf-8")
    done = station(tmp_path, "import", str(bad))
    assert done.returncode == 2 and "required column missing" in done.stderr and done.stdout == ""


def test_cli_import_on_a_ledger_names_each_bad_row_and_exits_3(tmp_path, ledger):
    """On the regency ledger the rows go in by COPY; the bad ones are named by row and column all the same."""
    (tmp_path / "config.toml").write_text(
        f'[station]\nlanguage = "en"\n[database]\nurl = "{ledger.url}"\n[logging]\nfile = "station.log"\n',
        encoding="utf-8",
    )
    mixed = write_csv(tmp_path / "mixed.csv", [person(3), person(4, rt="1234"), person(5, jenis_kelamin="LAKI-LAKI")])
    done = subprocess.run([str(STATION), "import", str(mixed), "--config", str(tmp_path / "config.toml")],
                          cwd=tmp_path, capture_output=True, text=True, timeout=60)  # fmt: skip
    assert done.returncode == 3, done.stderr
    assert done.stderr.splitlines() == [
        "mixed.csv: row 3 rejected: column rt: '1234' is not 1-3 digits",
        "mixed.csv: row 4 rejected: column jenis_kelamin: sex LAKI-LAKI disagrees with the NIK, which says PEREMPUAN",
    ]
    assert "1 added" in done.stdout and "2 rejected" in done.stdout
    with psycopg.connect(ledger.url) as conn:
        assert conn.execute("SELECT nik FROM residents").fetchall() == [(person(3)["nik"],)]
