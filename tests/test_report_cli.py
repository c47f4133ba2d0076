"""The honest path, end to end through the real commands and the built-in emulator: print, tag, report, the
centre's keys and grant, unlock, one reprint, report again; a second grant for a third card."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from drivers.emulator import read_output_log
from tests.test_report_kit import STATION_ID, station, write_config

ALLOCATION = "JATAH-2026-11"


def ok(result):
    assert result.returncode == 0, result.stderr
    return result


def report(config: Path, out: Path) -> dict:
    made = json.loads(ok(station(config, "report", ALLOCATION, "--out", str(out), "--json")).stdout)
    body = json.loads((out / f"laporan-{ALLOCATION}.json").read_text(encoding="utf-8"))
    assert body["report_id"] == made["report_id"] and body["counts"] == made["counts"]
    return body


def cards_of(folder: Path) -> Counter:
    return Counter(card["nik"] for card in read_output_log(folder / "output.jsonl"))


def test_report_grant_unlock_reprint_report_again(tmp_path):
    config = write_config(tmp_path)
    ok(station(config, "demo-data", "--count", "5", "--seed", "3", "--out", str(tmp_path / "residents.csv")))
    ok(station(config, "import", str(tmp_path / "residents.csv")))
    ok(station(config, "allocation", "add", ALLOCATION, "10", "--period", "2026-11"))
    ok(station(config, "enqueue", "--all"))
    ok(station(config, "print"))
    niks = [card["nik"] for card in read_output_log(tmp_path / "output.jsonl")]
    assert len(niks) == 5
    good, (first_bad, second_bad) = niks[:3], niks[3:]

    refused = station(config, "report", ALLOCATION, "--out", str(tmp_path / "r0"))
    assert refused.returncode == 4 and f"{niks[0]} kartu #1" in refused.stderr
    for nik in good:
        ok(station(config, "tag", nik, "good"))
    ok(station(config, "tag", first_bad, "bad", "--reason", "gagal_cetak"))
    ok(station(config, "tag", second_bad, "bad", "--reason", "lainnya", "--note", "kartu tergores"))

    first = report(config, tmp_path / "r1")
    assert first["counts"] == {"good": 3, "bad": 2, "spoiled_no_nik": 0, "in_stock": 5}
    assert [c["nik"] for c in first["bad"]] == [first_bad, second_bad] and first["station_id"] == STATION_ID
    text = (tmp_path / "r1" / "laporan.txt").read_text(encoding="utf-8")
    assert first_bad in text and "lainnya: kartu tergores" in text
    assert report(config, tmp_path / "r1-again")["report_id"] == first["report_id"]  # nothing changed

    keygen = ok(station(None, "central", "keygen", "--out", str(tmp_path / "centre")))
    key_id = keygen.stdout.splitlines()[0]
    write_config(tmp_path, public_keys=("centre/central-public.pem",))  # the centre's public key, installed
    private = str(tmp_path / "centre" / "central-private.pem")
    ok(station(None, "central", "grant", str(tmp_path / "r1" / f"laporan-{ALLOCATION}.json"), "--key", private,
               "--out", str(tmp_path / "grant-1.json")))  # fmt: skip
    assert json.loads((tmp_path / "grant-1.json").read_text())["key_id"] == key_id
    applied = json.loads(ok(station(config, "unlock", str(tmp_path / "grant-1.json"), "--json")).stdout)
    assert applied["niks"] == sorted([first_bad, second_bad]) and applied["report_id"] == first["report_id"]

    assert station(config, "enqueue", good[0]).returncode == 4  # a good card stays locked
    ok(station(config, "enqueue", first_bad, second_bad))
    ok(station(config, "print"))
    again = station(config, "enqueue", first_bad)
    assert again.returncode == 4 and first_bad in again.stderr  # one reprint per unlock: locked again
    ok(station(config, "tag", first_bad, "bad", "--reason", "rusak_fisik"))
    ok(station(config, "tag", second_bad, "good"))

    second = report(config, tmp_path / "r2")
    assert second["report_id"] != first["report_id"]
    assert second["counts"] == {"good": 4, "bad": 3, "spoiled_no_nik": 0, "in_stock": 3}
    assert second_bad in [c["nik"] for c in second["good"]]

    ok(station(None, "central", "grant", str(tmp_path / "r2" / f"laporan-{ALLOCATION}.json"), "--key", private,
               "--out", str(tmp_path / "grant-2.json"), "--expires", "12h"))  # fmt: skip
    assert json.loads((tmp_path / "grant-2.json").read_text())["grant"]["niks"] == [first_bad]
    stale = station(config, "unlock", str(tmp_path / "grant-1.json"))
    assert stale.returncode == 6
    ok(station(config, "unlock", str(tmp_path / "grant-2.json")))
    ok(station(config, "enqueue", first_bad))
    ok(station(config, "print"))
    ok(station(config, "tag", first_bad, "good"))

    third = report(config, tmp_path / "r3")
    assert third["counts"] == {"good": 5, "bad": 3, "spoiled_no_nik": 0, "in_stock": 2}
    assert cards_of(tmp_path) == Counter({**dict.fromkeys(good, 1), first_bad: 3, second_bad: 2})
    ok(station(config, "audit", "verify"))
