"""The whole path of the cards after their tag, through the real commands on the built-in emulator: two villages
printed, some cards bad, one village held back until the centre's unlock and the reprint, released all at once,
handed to the village under a berita acara read back from its PDF, collected in person (a proxy refused), the
uncollected listed per village, the bad cards destroyed under a berita acara pemusnahan, once."""

from __future__ import annotations

import hashlib
import json

from tests.handover_kit import (
    ALLOCATION,
    batch_of,
    csv_rows,
    ok,
    pdf_text,
    query,
    refused,
    station,
    two_villages,
    write_config,
    write_residents,
)


def test_two_villages_from_print_to_hand_over_collection_and_destruction(tmp_path):
    config = write_config(tmp_path)
    db = tmp_path / "station.db"
    niks = write_residents(tmp_path / "residents.csv", (3, 2))
    first, second = two_villages()
    ready, held = niks[first.code], niks[second.code]
    ok(station(config, "import", str(tmp_path / "residents.csv")))
    ok(station(config, "allocation", "add", ALLOCATION, "10", "--period", "2026-12"))
    ok(station(config, "enqueue", "--all"))
    ok(station(config, "print"))
    for nik in ready + held[:1]:
        ok(station(config, "tag", nik, "good"))
    bad = held[1]
    ok(station(config, "tag", bad, "bad", "--reason", "gagal_cetak"))

    progress = {p["batch"]: p for p in json.loads(ok(station(config, "handover", "batches", "--json")).stdout)}
    assert progress[batch_of(first)] | {} == progress[batch_of(first)]
    assert (progress[batch_of(first)]["residents"], progress[batch_of(first)]["printed_good"]) == (3, 3)
    assert progress[batch_of(second)]["waiting_reprint"] == 1 and progress["kec:52.03.07"]["residents"] == 5

    refused(station(config, "handover", "release", batch_of(second)), bad, "waiting for the centre's unlock")
    refused(station(config, "handover", "collect", bad), "bad")  # a bad card is never handed out
    refused(station(config, "handover", "issue", batch_of(first), "--to", "H. Lalu Mahsun", "--out", str(tmp_path / "ba")),
            "not released")  # fmt: skip
    refused(station(config, "handover", "collect", ready[0]), "not released")
    ok(station(config, "handover", "release", batch_of(first)))
    refused(station(config, "handover", "release", batch_of(first)), "already released")

    issued = ok(station(config, "handover", "issue", batch_of(first), "--to", "H. Lalu Mahsun",
                        "--out", str(tmp_path / "ba")))  # fmt: skip
    [pdf] = sorted((tmp_path / "ba").glob("serah-terima-*.pdf"))
    [sheet] = sorted((tmp_path / "ba").glob("serah-terima-*.csv"))
    text = pdf_text(pdf)
    assert all(text.count(nik) == 1 for nik in ready) and not any(nik in text for nik in held)
    assert "H. Lalu Mahsun" in text and "Dukcapil Lombok Timur" in text and "Page 1 of 1" in text
    rows = csv_rows(sheet)
    assert sorted(row["nik"] for row in rows) == sorted(ready) and all(row["card_counter"] for row in rows)
    assert query(db, "SELECT pdf_sha256, csv_sha256, cards FROM handovers") == [
        (hashlib.sha256(pdf.read_bytes()).hexdigest(), hashlib.sha256(sheet.read_bytes()).hexdigest(), 3)
    ]
    assert str(pdf) in issued.stdout
    refused(station(config, "handover", "issue", batch_of(first), "--to", "H. Lalu Mahsun", "--out", str(tmp_path / "ba")),
            "no good card left")  # fmt: skip

    ok(station(config, "handover", "collect", ready[0]))
    assert len(list((tmp_path / "slips").glob(f"tanda-terima-{ready[0]}-*.pdf"))) == 1
    refused(station(config, "handover", "collect", ready[0]), "already collected")
    before = query(db, "SELECT * FROM card_custody ORDER BY job_id")
    refused(station(config, "handover", "collect", ready[1], "--proxy", "Inaq Sarah", "--relation", "ibu",
                    "--letter", "12/2026"), "in person")  # fmt: skip
    assert query(db, "SELECT * FROM card_custody ORDER BY job_id") == before  # nothing changed
    refused(station(config, "tag", ready[1], "bad", "--reason", "rusak_fisik"), "left the office")

    report_one = json.loads(ok(station(config, "report", ALLOCATION, "--out", str(tmp_path / "r1"), "--json")).stdout)
    keygen = ok(station(None, "central", "keygen", "--out", str(tmp_path / "centre")))
    assert keygen.stdout
    config = write_config(tmp_path, public_keys=("centre/central-public.pem",))
    ok(station(None, "central", "grant", str(tmp_path / "r1" / f"laporan-{ALLOCATION}.json"),
               "--key", str(tmp_path / "centre" / "central-private.pem"), "--out", str(tmp_path / "grant.json")))  # fmt: skip
    ok(station(config, "unlock", str(tmp_path / "grant.json")))
    refused(station(config, "handover", "release", batch_of(second)), bad, "the reprint is not queued yet")
    ok(station(config, "enqueue", bad))
    ok(station(config, "print"))
    ok(station(config, "tag", bad, "good"))  # the reprint is good: the village is complete
    ok(station(config, "handover", "release", batch_of(second)))
    ok(station(config, "handover", "issue", batch_of(second), "--to", "Amaq Rusdi", "--out", str(tmp_path / "ba")))
    second_pdf = [p for p in (tmp_path / "ba").glob("serah-terima-*.pdf") if p != pdf]
    assert [pdf_text(second_pdf[0]).count(nik) for nik in held] == [1, 1]
    ok(station(config, "handover", "collect", bad))  # the good reprint, not the bad card

    late = ok(station(config, "handover", "uncollected", "--days", "0", "--csv")).stdout.splitlines()
    assert late[0] == "kecamatan,kel_desa,nik,nama,card_counter,where,since,days"
    assert sorted(line.split(",")[2] for line in late[1:]) == sorted([*ready[1:], held[0]])
    listed = ok(station(config, "handover", "uncollected", "--days", "0")).stdout
    assert f"{first.name.upper()}, SELONG: 2 cards" in listed and f"{second.name.upper()}, SELONG: 1 cards" in listed
    assert "no card uncollected" in ok(station(config, "handover", "uncollected")).stdout  # 30 days by default

    report_two = json.loads(ok(station(config, "report", ALLOCATION, "--out", str(tmp_path / "r2"), "--json")).stdout)
    assert report_two["counts"]["bad"] == 1 and report_two["report_id"] != report_one["report_id"]
    ok(
        station(
            config, "destroy", ALLOCATION, "--witness", "Saksi Satu", "Saksi Dua", "--out", str(tmp_path / "musnah")
        )
    )
    [burnt] = (tmp_path / "musnah").glob("pemusnahan-*.pdf")
    burnt_text = pdf_text(burnt)
    assert burnt_text.count(bad) == 1 and "Saksi Satu" in burnt_text and "Saksi Dua" in burnt_text
    assert [row["nik"] for row in csv_rows(next((tmp_path / "musnah").glob("pemusnahan-*.csv")))] == [bad]
    assert query(db, "SELECT count(*) FROM destroyed") == [(1,)]
    refused(station(config, "destroy", ALLOCATION, "--witness", "Saksi Satu", "Saksi Dua", "--out",
                    str(tmp_path / "musnah")), "nothing is destroyed twice")  # fmt: skip
    ok(station(config, "audit", "verify"))
    actions = [row[0] for row in query(db, "SELECT action FROM audit WHERE action LIKE 'card.%' OR action LIKE "
                                           "'batch.%' OR action LIKE 'handover.%' OR action LIKE 'destruction.%'")]  # fmt: skip
    assert actions.count("card.issued_to_village") == 5 and actions.count("card.collected") == 2
    assert actions.count("batch.released") == 2 and actions.count("destruction.made") == 1
