"""The request for more blanks (usulan penambahan blangko): computed on a hand-built station whose answer is worked
out by hand below, written as JSON and a PDF letter read back, and its life to an allocation received. All through
the real command line, the real emulator printing the cards and the centre's simulator signing the unlock."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

from pypdf import PdfReader

from console.clock import today
from tests.command import station, write_config
from tests.test_population import villager, write_population
from tests.test_wajib import person, write_residents

ADULT = date(1980, 5, 5)


def ok(result):
    assert result.returncode == 0, result.stderr
    return result


def next_month(day: date) -> tuple[str, date]:
    first = (day.replace(day=1) + timedelta(days=32)).replace(day=1)
    return first.strftime("%Y-%m"), first


def hand_built_station(tmp_path: Path) -> tuple[Path, str, list[str]]:
    """The station of the worked example; returns its config, the period asked for and the NIKs printed."""
    period, first = next_month(today())
    teen_born = first.replace(year=first.year - 17) + timedelta(days=4)  # turns 17 on the 5th of the period
    later_born = first.replace(year=first.year - 17) + timedelta(days=40)  # turns 17 after the period
    keys = tmp_path / "keys"
    ok(station(None, "central", "keygen", "--out", str(keys)))
    [public] = [p for p in keys.iterdir() if "pub" in p.name]
    [private] = [p for p in keys.iterdir() if "pub" not in p.name]
    config = write_config(
        tmp_path,
        emulator={"time_scale": 0, "feeder": 50, "state": "emulator.json", "log": "output.jsonl"},
        planning={"average_working_days": 20, "lead_time_days": 10, "bad_rate_allocations": 3},
        central={"public_keys": [str(public)]},
    )
    printed = [person(i, ADULT + timedelta(days=i), marital="KAWIN") for i in range(1, 7)]
    ready_pancor = [person(i, ADULT + timedelta(days=i), marital="KAWIN") for i in range(7, 14)]
    ready_sukaraja = [person(i, ADULT + timedelta(days=i), marital="KAWIN", kel_desa="SUKARAJA") for i in (14, 15, 16)]
    teen, later = person(17, teen_born), person(18, later_born)
    write_residents(tmp_path / "rekam.csv", [*printed, *ready_pancor, *ready_sukaraja, teen, later])
    ok(station(config, "import", str(tmp_path / "rekam.csv")))
    village = [
        villager(30, teen_born, "BELUM_WAJIB"),
        villager(31, teen_born + timedelta(days=1), "BELUM_REKAM", desa="SUKARAJA"),
        villager(32, teen_born, "BELUM_WAJIB", status_perkawinan="KAWIN"),  # wajib already: not "becoming"
        villager(33, later_born, "BELUM_WAJIB"),  # after the period
    ]
    ok(station(config, "population", "import", str(write_population(tmp_path / "desa.csv", village))))
    ok(station(config, "allocation", "add", "JATAH-A", "6"))
    ok(station(config, "allocation", "add", "JATAH-B", "4"))
    niks = [p["nik"] for p in printed]
    ok(station(config, "enqueue", *niks))
    ok(station(config, "print"))
    for nik in niks[:5]:
        ok(station(config, "tag", nik, "good"))
    ok(station(config, "tag", niks[5], "bad", "--reason", "gagal_cetak"))
    ok(station(config, "report", "JATAH-A", "--out", str(tmp_path / "laporan")))
    [report] = (tmp_path / "laporan").glob("laporan-*.json")
    ok(station(None, "central", "grant", str(report), "--key", str(private), "--out", str(tmp_path / "grant.json")))
    ok(station(config, "unlock", str(tmp_path / "grant.json")))
    ok(station(config, "enqueue", ready_pancor[0]["nik"], ready_pancor[1]["nik"]))  # queued: still to print
    return config, period, niks


def test_the_request_computed_on_a_hand_built_station(tmp_path):
    config, period, _ = hand_built_station(tmp_path)
    ok(station(config, "allocation", "return", "JATAH-B", "5203-01", "3"))  # stock at both levels: 1 here, 3 regency's
    result = ok(station(config, "request", "draft", period, "--out", str(tmp_path / "usulan"), "--json"))
    # Worked by hand:
    #   print-ready, never printed, wajib before the period: 7 of PANCOR and 3 of SUKARAJA (2 of them queued) = 10
    #   becoming wajib in the period, unmarried, no card: the recorded teen and 2 of the village's people      =  3
    #   reprints: the bad card's NIK, unlocked by the centre                                                   =  1
    #   cards needed = 10 + 3 + 1                                                                              = 14
    #   latest allocations: 6 blanks used, 1 bad  ->  blanks for the cards = ceil(14 x 6 / 5) = ceil(16.8)    = 17
    #   6 cards printed in the last 20 working days, lead time 10  ->  safety stock = ceil(6 x 10 / 20)       =  3
    #   in stock: JATAH-B's 4 (1 the station's, 3 returned to the regency's stock); no loans between regencies
    #   requested = 17 + 3 - 4                                                                                 = 16
    body = json.loads(result.stdout)
    assert body["terms"] == {
        "print_ready": 10, "becoming_wajib": 3, "reprints": 1, "cards_needed": 14, "blanks_used": 6, "bad_used": 1,
        "bad_rate": 0.1667, "blanks_for_cards": 17, "cards_printed_recent": 6, "working_days": 20,
        "cards_per_working_day": 0.3, "lead_time_days": 10, "safety_stock": 3, "in_stock": 4,
        "borrowed": 0, "lent": 0,
    }  # fmt: skip
    assert body["requested"] == 16 and body["period"] == period
    assert body["print_ready_by_village"] == [
        {"kecamatan": "SELONG", "kel_desa": "PANCOR", "print_ready": 7},
        {"kecamatan": "SELONG", "kel_desa": "SUKARAJA", "print_ready": 3},
    ]
    written = json.loads((tmp_path / "usulan" / f"usulan-{period}.json").read_text())
    assert {k: written[k] for k in ("period", "requested", "terms")} == {
        k: body[k] for k in ("period", "requested", "terms")
    }
    text = "\n".join(page.extract_text() for page in PdfReader(tmp_path / "usulan" / f"usulan-{period}.pdf").pages)
    assert "REQUEST FOR ADDITIONAL KTP-EL BLANKS" in text and f"Period {period}" in text
    for words in ("Blanks requested", "Print-ready residents not yet printed", "Reprints waiting for blanks",
                  "PANCOR", "SUKARAJA", "16.67 %", "Head of the Population"):  # fmt: skip
        assert words in text, words
    assert ": 16" in text and ": 17" in text


def test_the_requests_life_to_an_allocation_received(tmp_path):
    config, period, _ = hand_built_station(tmp_path)
    out = str(tmp_path / "usulan")
    ok(station(config, "request", "draft", period, "--out", out))
    assert station(config, "request", "approved", period, "--count", "10").returncode == 4  # not sent yet
    assert station(config, "request", "received", period, "--allocation", "JATAH-B").returncode == 4
    again = ok(station(config, "request", "draft", period, "--out", out))  # a draft is computed again
    assert "16 blanks" in again.stdout
    ok(station(config, "request", "sent", period))
    assert station(config, "request", "sent", period).returncode == 4
    redraft = station(config, "request", "draft", period, "--out", out)
    assert redraft.returncode == 4 and "sent" in redraft.stderr
    ok(station(config, "request", "approved", period, "--count", "10"))
    unknown = station(config, "request", "received", period, "--allocation", "JATAH-C")
    assert unknown.returncode == 2 and "JATAH-C" in unknown.stderr
    ok(station(config, "allocation", "add", "JATAH-C", "8", "--period", period))
    received = ok(station(config, "request", "received", period, "--allocation", "JATAH-C"))
    assert "8" in received.stdout and "10" in received.stdout  # it brought fewer than granted: said
    assert station(config, "request", "received", period, "--allocation", "JATAH-C").returncode == 4
    [listed] = json.loads(ok(station(config, "request", "list", "--json")).stdout)
    assert (listed["state"], listed["requested"], listed["granted"], listed["allocation_id"]) == (
        "received",
        16,
        10,
        "JATAH-C",
    )
    assert station(config, "request", "sent", "2031-01").returncode == 2  # no such request
    ok(station(config, "audit", "verify"))


def test_one_allocation_receives_one_request(tmp_path):
    config = write_config(tmp_path)
    ok(station(config, "allocation", "add", "JATAH-X", "5"))
    for period in ("2031-01", "2031-02"):
        ok(station(config, "request", "draft", period, "--out", str(tmp_path / "u")))
        ok(station(config, "request", "sent", period))
        ok(station(config, "request", "approved", period, "--count", "5"))
    ok(station(config, "request", "received", "2031-01", "--allocation", "JATAH-X"))
    taken = station(config, "request", "received", "2031-02", "--allocation", "JATAH-X")
    assert taken.returncode == 4 and "2031-01" in taken.stderr
    bad = station(config, "request", "draft", "2031-13", "--out", str(tmp_path / "u"))
    assert bad.returncode == 2 and "2031-13" in bad.stderr


def reprint_and_first_card_queued(tmp_path: Path, first_cards_first: bool) -> tuple[Path, str, str]:
    """A NIK unlocked for its reprint queued before a resident's first card, with one blank for the two."""
    keys = tmp_path / "keys"
    ok(station(None, "central", "keygen", "--out", str(keys)))
    [public] = [p for p in keys.iterdir() if "pub" in p.name]
    [private] = [p for p in keys.iterdir() if "pub" not in p.name]
    config = write_config(
        tmp_path,
        emulator={"time_scale": 0, "feeder": 10, "state": "emulator.json", "log": "output.jsonl"},
        queue={"first_cards_first": first_cards_first},
        central={"public_keys": [str(public)]},
    )
    spoilt, first = person(1, ADULT, marital="KAWIN"), person(2, ADULT, marital="KAWIN")
    ok(station(config, "import", str(write_residents(tmp_path / "rekam.csv", [spoilt, first]))))
    ok(station(config, "allocation", "add", "JATAH-A", "1"))
    ok(station(config, "enqueue", spoilt["nik"]))
    ok(station(config, "print"))
    ok(station(config, "tag", spoilt["nik"], "bad", "--reason", "rusak_fisik"))
    ok(station(config, "report", "JATAH-A", "--out", str(tmp_path / "laporan")))
    [report] = (tmp_path / "laporan").glob("laporan-*.json")
    ok(station(None, "central", "grant", str(report), "--key", str(private), "--out", str(tmp_path / "grant.json")))
    ok(station(config, "unlock", str(tmp_path / "grant.json")))
    ok(station(config, "allocation", "add", "JATAH-B", "1"))
    ok(station(config, "enqueue", spoilt["nik"]))  # the reprint, queued first
    ok(station(config, "enqueue", first["nik"]))
    return config, spoilt["nik"], first["nik"]


def printed_niks(tmp_path: Path) -> list[str]:
    return [json.loads(line)["nik"] for line in (tmp_path / "output.jsonl").read_text().splitlines()]


def test_blanks_short_first_cards_print_before_reprints(tmp_path):
    config, reprint, first = reprint_and_first_card_queued(tmp_path, first_cards_first=True)
    run = station(config, "print")
    assert run.returncode == 4 and "no blank left" in run.stderr  # one card printed, the other waits for blanks
    assert printed_niks(tmp_path) == [reprint, first]


def test_blanks_short_in_queue_order_when_the_config_says_so(tmp_path):
    config, reprint, first = reprint_and_first_card_queued(tmp_path, first_cards_first=False)
    assert station(config, "print").returncode == 4
    assert printed_niks(tmp_path) == [reprint, reprint]
