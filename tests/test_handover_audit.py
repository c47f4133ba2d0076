"""The custody tables against the audit log: a release, a hand-over record, a card's custody, a destruction
record or a destroyed card changed in the database past the station is named by `audit verify` and `doctor`."""

from __future__ import annotations

import sqlite3

import pytest

from tests.handover_kit import ALLOCATION, batch_of, ok, printed_station, station, two_villages

TAMPERS = {
    "a release made early": ("UPDATE batch_releases SET early = 1, reason = 'lebaran'", "batch_releases"),
    "a release slipped in": (
        "INSERT INTO batch_releases (batch, released_at, released_by, early, reason, blocking) "
        "VALUES ('kec:52.03.07', '2026-12-01T10:00:00.000+08:00', 'siapa', 0, NULL, 0)",
        "batch_releases kec:52.03.07",
    ),
    "a hand-over to someone else": ("UPDATE handovers SET received_by = 'Orang Lain'", "handovers 1"),
    "a paper swapped": (
        "UPDATE handovers SET pdf_sha256 = replace(pdf_sha256, substr(pdf_sha256, 1, 1), 'x')",
        "handovers 1",
    ),
    "a collection undone": ("DELETE FROM card_custody WHERE state = 'collected'", "card_custody"),
    "a card marked collected": (
        "UPDATE card_custody SET state = 'collected' WHERE state = 'issued_to_village'",
        "card_custody",
    ),
    "a proxy's letter changed": (
        "UPDATE card_custody SET proxy_letter = '99/2026' WHERE proxy_letter IS NOT NULL",
        "card_custody",
    ),
    "a destruction's count": ("UPDATE destructions SET cards = cards + 1", "destructions 1"),
    "a witness changed": ('UPDATE destructions SET witnesses = \'["A", "C"]\'', "destructions 1"),
    "a destroyed card back": ("DELETE FROM destroyed WHERE job_id IS NOT NULL", "destroyed"),
}


@pytest.fixture(scope="module")
def custody_station(tmp_path_factory):
    folder = tmp_path_factory.mktemp("custody")
    config, niks = printed_station(folder, (2, 1), bad=1, proxies=True)
    first, _ = two_villages()
    ok(station(config, "handover", "release", batch_of(first)))
    ok(station(config, "handover", "issue", batch_of(first), "--to", "Kades", "--out", str(folder / "ba")))
    ok(station(config, "handover", "collect", niks[first.code][0], "--proxy", "Inaq Sarah", "--relation", "ibu",
               "--letter", "12/2026"))  # fmt: skip
    ok(station(config, "report", ALLOCATION, "--out", str(folder / "r1")))
    ok(station(config, "destroy", ALLOCATION, "--witness", "A", "B", "--out", str(folder / "musnah")))
    ok(station(config, "audit", "verify"))
    pristine = sqlite3.connect(":memory:")
    with sqlite3.connect(folder / "station.db") as db:
        db.backup(pristine)
    return config, folder / "station.db", pristine


@pytest.mark.parametrize("what", list(TAMPERS))
def test_a_custody_table_edited_by_hand_is_named(custody_station, what):
    config, path, pristine = custody_station
    statement, named = TAMPERS[what]
    db = sqlite3.connect(path)
    try:
        assert db.execute(statement).rowcount >= 1
        db.commit()
        verify = station(config, "audit", "verify")
        assert verify.returncode == 7, (verify.stdout, verify.stderr)
        assert named in verify.stderr, verify.stderr
        if what == "a collection undone":
            doctor = station(config, "doctor")
            assert doctor.returncode == 2 and "card_custody" in doctor.stdout + doctor.stderr
    finally:
        pristine.backup(db)
        db.close()
    ok(station(config, "audit", "verify"))
