"""Papers print any name the office types or keeps, in the font shipped with the station (DejaVu Sans): curly
apostrophes, letters with macrons and dots, Greek or Cyrillic, on the hand-over, the receipt slip, the destruction
and the report's printed twin, read back from the PDF. A script the papers cannot lay out (Arabic, written right to
left with joined letters) is refused before anything is written, naming the character."""

from __future__ import annotations

from tests.handover_kit import (
    ALLOCATION,
    batch_of,
    ok,
    pdf_text,
    printed_station,
    query,
    refused,
    station,
    two_villages,
)

RECEIVER = "Lalu Muḥammad ‘Ālī’"
PROXY = "Inaq Ṣāfiyah Ōno"
WITNESSES = ("Ні Луh Ayu", "Ἀλέξανδρος Wirā")
OFFICE = "Dukcapil Lombok Timur — UPT Selong"


def test_names_outside_latin_1_appear_on_every_paper(tmp_path):
    config, niks = printed_station(tmp_path, (2, 1), bad=1, proxies=True, office=OFFICE)
    first, _ = two_villages()
    ok(station(config, "handover", "release", batch_of(first)))
    ok(station(config, "handover", "issue", batch_of(first), "--to", RECEIVER, "--out", str(tmp_path / "ba")))
    handed = pdf_text(next((tmp_path / "ba").glob("*.pdf")))
    assert RECEIVER in handed and OFFICE in handed

    ok(station(config, "handover", "collect", niks[first.code][0], "--proxy", PROXY, "--relation", "ibu’",
               "--letter", "12/2026"))  # fmt: skip
    slip = pdf_text(next((tmp_path / "slips").glob("*.pdf")))
    assert PROXY in slip and "ibu’" in slip

    ok(station(config, "report", ALLOCATION, "--out", str(tmp_path / "r1")))
    ok(station(config, "destroy", ALLOCATION, "--witness", *WITNESSES, "--out", str(tmp_path / "musnah")))
    burnt = pdf_text(next((tmp_path / "musnah").glob("*.pdf")))
    assert all(name in burnt for name in WITNESSES) and OFFICE in burnt


def test_a_report_twin_keeps_a_note_in_other_letters(tmp_path):
    config, niks = printed_station(tmp_path, (1, 1))
    _, second = two_villages()
    note = "garis miring di foto — sisi ‘kiri’"
    ok(station(config, "tag", niks[second.code][0], "bad", "--reason", "lainnya", "--note", note))
    ok(station(config, "report", ALLOCATION, "--out", str(tmp_path / "r1")))
    assert note in pdf_text(next((tmp_path / "r1").glob("*.pdf")))


def test_a_script_the_papers_cannot_lay_out_is_refused_before_any_file(tmp_path):
    config, _ = printed_station(tmp_path, (1, 1))
    first, _ = two_villages()
    ok(station(config, "handover", "release", batch_of(first)))
    refused(station(config, "handover", "issue", batch_of(first), "--to", "Kades عبد", "--out", str(tmp_path / "ba")),
            "U+0639")  # fmt: skip
    assert not any((tmp_path / "ba").iterdir())
    assert query(tmp_path / "station.db", "SELECT count(*) FROM card_custody") == [(0,)]
