"""Each refusal of the hand-over says why and changes nothing: a NIK not printed, a bad card, a card collected
twice (also by two processes at once), a batch not released, a proxy where none is allowed, a wrong receipt,
an early release by an operator, a destruction whose counts disagree with the
report; and what is allowed: proxies with their letter, receipts, an early release by a supervisor."""

from __future__ import annotations

import json
import sqlite3
import subprocess

from tests.command import STATION
from tests.handover_kit import (
    ALLOCATION,
    batch_of,
    csv_rows,
    ok,
    pdf_text,
    printed_station,
    query,
    refused,
    station,
    two_villages,
    write_config,
)

SUPERVISOR, SUPERVISOR_PIN = "Siti", "482915"
OPERATOR, OPERATOR_PIN = "Baiq", "kopi tubruk pagi"


def tables(db) -> dict[str, list[tuple]]:
    names = ("batch_releases", "handovers", "card_custody", "destructions", "destroyed", "jobs")
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return {name: conn.execute(f"SELECT * FROM {name} ORDER BY 1").fetchall() for name in names}
    finally:
        conn.close()


def test_refusals_name_the_reason_and_change_nothing(tmp_path):
    config, niks = printed_station(tmp_path, (2, 1), bad=1)
    first, second = two_villages()
    db = tmp_path / "station.db"
    ok(station(config, "handover", "release", batch_of(first)))
    extra = tmp_path / "more.csv"
    extra.write_text((tmp_path / "residents.csv").read_text().splitlines()[0] + "\n"
                     f"5203070101900009,LALU BARU,SELONG,1990-01-01,LAKI-LAKI,JL. X,002,001,{first.name.upper()},"
                     "SELONG,ISLAM,KAWIN,PETANI\n")  # fmt: skip
    ok(station(config, "import", str(extra)))
    before = tables(db)
    refused(station(config, "handover", "collect", "5203070101900009"), "no printed card")
    unknown = "5203070101909999"
    refused(station(config, "handover", "collect", unknown), unknown, "not registered")
    refused(station(config, "handover", "collect", niks[second.code][0]), "bad", "centre's unlock")
    refused(station(config, "handover", "issue", batch_of(second), "--to", "Amaq", "--out", str(tmp_path / "o")),
            "not released")  # fmt: skip
    refused(station(config, "handover", "collect", niks[first.code][0], "--proxy", "Inaq", "--relation", "ibu",
                    "--letter", "7"), "in person")  # fmt: skip
    assert station(config, "handover", "release", "round:7").returncode == 2
    assert "does not exist" in station(config, "handover", "release", "round:7").stderr
    assert station(config, "handover", "release", "desa:52.03.07.9999").returncode == 2
    assert station(config, "handover", "release", "kampung:1").returncode == 2
    assert tables(db) == before
    assert not (tmp_path / "o").exists() or not any((tmp_path / "o").iterdir())


def test_a_card_is_collected_once_when_two_processes_try_at_once(tmp_path):
    config, niks = printed_station(tmp_path, (1, 1))
    first, _ = two_villages()
    ok(station(config, "handover", "release", batch_of(first)))
    nik = niks[first.code][0]
    command = [STATION, "handover", "collect", nik, "--config", str(config)]
    racers = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    results = [(racer.wait(timeout=120), racer.stderr.read()) for racer in racers]
    for racer in racers:
        racer.stdout.close()
        racer.stderr.close()
    assert sorted(code for code, _ in results) == [0, 4], results
    assert any("already collected" in err for _, err in results)
    assert query(tmp_path / "station.db", "SELECT count(*) FROM card_custody WHERE state = 'collected'") == [(1,)]
    assert len(list((tmp_path / "slips").glob("*.pdf"))) == 1


def receipt_of(config, nik: str, out) -> str:
    """The receipt number printed on request (the office's tanda bukti pengambilan), read back from its PDF."""
    said = ok(station(config, "handover", "receipt", nik, "--out", str(out))).stdout
    paper = pdf_text(next(out.glob(f"tanda-bukti-{nik}-*.pdf")))
    number = next(word for word in said.split() if len(word) == 8 and word.isalnum() and word.isupper())
    assert number in paper and nik in paper and "LALU AHMAD" in paper
    return number


def test_a_proxy_collects_with_a_letter_when_allowed_and_receipts_are_checked(tmp_path):
    config, niks = printed_station(tmp_path, (2, 1), proxies=True, receipts=True)
    first, _ = two_villages()
    one, two = niks[first.code]
    receipts = {nik: receipt_of(config, nik, tmp_path / "bukti" / nik) for nik in (one, two)}
    assert len(set(receipts.values())) == 2
    assert receipt_of(config, one, tmp_path / "again") == receipts[one]  # printed again: the same number
    assert query(tmp_path / "station.db", "SELECT count(*) FROM audit WHERE action = 'receipt.printed'") == [(3,)]
    ok(station(config, "handover", "release", batch_of(first)))
    ok(station(config, "handover", "issue", batch_of(first), "--to", "Kades", "--out", str(tmp_path / "ba")))
    listed = {row["nik"]: row["tanda_bukti"] for row in csv_rows(next((tmp_path / "ba").glob("*.csv")))}
    assert listed == receipts  # the village checks the resident's paper against its list
    assert station(config, "handover", "collect", one, "--proxy", "Inaq Sarah").returncode == 2  # no letter
    refused(station(config, "handover", "collect", one, "--proxy", "Inaq Sarah", "--relation", "ibu", "--letter",
                    "12/2026"), "give the receipt number")  # fmt: skip
    refused(station(config, "handover", "collect", one, "--receipt", receipts[two]), "does not match")
    ok(station(config, "handover", "collect", one, "--receipt", receipts[one].lower(), "--proxy", "Inaq Sarah",
               "--relation", "ibu", "--letter", "12/2026"))  # fmt: skip
    slip = pdf_text(next((tmp_path / "slips").glob(f"tanda-terima-{one}-*.pdf")))
    assert "Inaq Sarah" in slip and "12/2026" in slip and one in slip and receipts[one] in slip
    assert query(tmp_path / "station.db", "SELECT collector, proxy_relation, proxy_letter FROM card_custody "
                 "WHERE nik = ?", one) == [("Inaq Sarah", "ibu", "12/2026")]  # fmt: skip
    refused(station(config, "handover", "collect", two), "give the receipt number")  # straight from the list too


def test_a_receipt_is_numbered_when_queued_and_printed_only_where_the_office_issues_them(tmp_path):
    config, niks = printed_station(tmp_path, (1, 1), receipts=True)
    first, _ = two_villages()
    numbered = query(tmp_path / "station.db", "SELECT nik FROM receipts ORDER BY nik")
    assert numbered == sorted((nik,) for village in niks.values() for nik in village)  # every resident queued
    refused(station(config, "handover", "receipt", "5203070101909999", "--out", str(tmp_path / "b")), "not queued")
    write_config(tmp_path)  # receipts off: none printed, none asked at collection
    refused(station(config, "handover", "receipt", niks[first.code][0], "--out", str(tmp_path / "b")),
            "receipts = false")  # fmt: skip
    ok(station(config, "handover", "release", batch_of(first)))
    ok(station(config, "handover", "collect", niks[first.code][0]))


def test_an_early_release_is_a_supervisors_step_with_a_reason(tmp_path):
    config, niks = printed_station(tmp_path, (2, 1), bad=1)
    _, second = two_villages()
    ok(station(config, "operator", "add", SUPERVISOR, "--role", "supervisor", stdin=f"{SUPERVISOR_PIN}\n"))
    ok(
        station(
            config, "operator", "add", OPERATOR, "--operator", SUPERVISOR, stdin=f"{SUPERVISOR_PIN}\n{OPERATOR_PIN}\n"
        )
    )
    batch = batch_of(second)
    assert station(config, "handover", "release", batch, "--early", "--operator", SUPERVISOR,
                   stdin=f"{SUPERVISOR_PIN}\n").returncode == 2  # no reason  # fmt: skip
    refused(station(config, "handover", "release", batch, "--early", "--reason", "lebaran", "--operator", OPERATOR,
                    stdin=f"{OPERATOR_PIN}\n"), "supervisor")  # fmt: skip
    assert query(tmp_path / "station.db", "SELECT count(*) FROM batch_releases") == [(0,)]
    ok(station(config, "handover", "release", batch, "--early", "--reason", "menjelang lebaran", "--operator",
               SUPERVISOR, stdin=f"{SUPERVISOR_PIN}\n"))  # fmt: skip
    assert query(tmp_path / "station.db", "SELECT batch, released_by, early, reason, blocking FROM batch_releases") == [
        (batch, SUPERVISOR, 1, "menjelang lebaran", 1)
    ]
    listed = ok(station(config, "handover", "batches")).stdout
    assert "released early by a supervisor" in listed


def test_a_destruction_agrees_with_the_report_or_is_refused(tmp_path):
    config, niks = printed_station(tmp_path, (2, 1), bad=1, blanks=6)
    out = str(tmp_path / "musnah")
    refused(station(config, "destroy", ALLOCATION, "--witness", "A", "B", "--out", out), "station report")
    ok(station(config, "report", ALLOCATION, "--out", str(tmp_path / "r1")))
    assert station(config, "destroy", ALLOCATION, "--witness", "A", "--out", out).returncode == 2  # one witness
    assert station(config, "destroy", ALLOCATION, "--witness", "A", "A", "--out", out).returncode == 2
    write_config(tmp_path)
    extra = tmp_path / "more.csv"
    extra.write_text((tmp_path / "residents.csv").read_text().splitlines()[0] + "\n"
                     "5203070101900009,LALU BARU,SELONG,1990-01-01,LAKI-LAKI,JL. X,002,001,PANCOR,SELONG,ISLAM,"
                     "KAWIN,PETANI\n")  # fmt: skip
    ok(station(config, "import", str(extra)))
    ok(station(config, "enqueue", "5203070101900009"))
    ok(station(config, "print"))
    ok(station(config, "tag", "5203070101900009", "bad", "--reason", "gagal_cetak"))
    refused(station(config, "destroy", ALLOCATION, "--witness", "A", "B", "--out", out), "counts disagree",
            "names 1 bad", "now 2")  # fmt: skip
    assert query(tmp_path / "station.db", "SELECT count(*) FROM destructions") == [(0,)]


def test_a_village_of_a_released_sub_district_is_handed_to_its_own_head(tmp_path):
    config, niks = printed_station(tmp_path, (2, 1))
    first, second = two_villages()
    out = tmp_path / "ba"
    refused(station(config, "handover", "issue", batch_of(first), "--to", "Kades", "--out", str(out)), "not released")
    ok(station(config, "handover", "release", "kec:52.03.07"))
    ok(station(config, "handover", "issue", batch_of(first), "--to", "H. Lalu Mahsun", "--out", str(out)))
    assert sorted(row["nik"] for row in csv_rows(next(out.glob("*.csv")))) == sorted(niks[first.code])
    ok(station(config, "handover", "issue", batch_of(second), "--to", "Amaq Rusdi", "--out", str(out)))
    assert query(tmp_path / "station.db", "SELECT h.batch, h.received_by, count(*) FROM handovers h "
                 "JOIN card_custody c ON c.handover_id = h.id GROUP BY h.id ORDER BY h.id") == [
        (batch_of(first), "H. Lalu Mahsun", 2), (batch_of(second), "Amaq Rusdi", 1)]  # fmt: skip
    refused(station(config, "handover", "issue", "kec:52.03.07", "--to", "Camat", "--out", str(out)),
            "no good card left")  # fmt: skip
    released = query(tmp_path / "station.db", "SELECT subject, data FROM audit WHERE action = 'batch.released' "
                     "ORDER BY seq")  # fmt: skip
    assert [(subject, json.loads(data).get("within")) for subject, data in released] == [
        ("kec:52.03.07", None), (batch_of(first), "kec:52.03.07"), (batch_of(second), "kec:52.03.07")]  # fmt: skip
