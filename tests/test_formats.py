"""Numbers and times for people: the language's grouping, the station's time zone, words from the catalogue."""

from __future__ import annotations

import errno
import json
import re
import sqlite3
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from console import formats
from console.formats import count, day, duration, moment
from console.i18n import catalogue, set_language

STATION = str(Path(sys.executable).with_name("station"))


@pytest.fixture(autouse=True)
def _restore():
    yield
    set_language("id")
    formats.set_zone(formats.DEFAULT_ZONE)


def test_counts_use_the_languages_grouping():
    set_language("id")
    assert (count(7), count(1000), count(10_000_000)) == ("7", "1.000", "10.000.000")
    set_language("en")
    assert (count(999), count(1000), count(10_000_000)) == ("999", "1,000", "10,000,000")


def test_a_utc_time_is_shown_in_wita_by_default():
    set_language("id")
    assert moment("2026-12-01T02:58:33.745+00:00") == "1 Des 2026 10.58 WITA"
    assert moment(datetime(2026, 12, 1, 2, 58, tzinfo=UTC)) == "1 Des 2026 10.58 WITA"
    set_language("en")
    assert moment("2026-12-01T02:58:33Z") == "1 Dec 2026 10:58 WITA"


def test_a_time_crossing_midnight_takes_the_local_date():
    set_language("id")
    assert moment("2026-05-31T18:30:00+00:00") == "1 Jun 2026 02.30 WITA"
    assert day("2026-05-31T18:30:00+00:00") == "1 Jun 2026"
    assert day(date(2026, 8, 17)) == "17 Agu 2026"
    assert day("2026-08-17") == "17 Agu 2026"


def test_the_zone_can_be_changed():
    set_language("en")
    formats.set_zone("Asia/Jakarta")
    assert moment("2026-12-01T02:58:00+00:00") == "1 Dec 2026 09:58 WIB"


def test_durations_for_people():
    set_language("id")
    assert (duration(0), duration(44.6), duration(60), duration(3725)) == ("0 dtk", "45 dtk", "1 mnt", "1 j 2 mnt")
    set_language("en")
    assert duration(59 * 60 + 59) == "59 min" and duration(7200) == "2 h 0 min"


def write_config(folder: Path, extra: str = "", language: str = "id") -> Path:
    config = folder / "config.toml"
    config.write_text(
        f'[station]\nlanguage = "{language}"\n{extra}\n[database]\npath = "station.db"\n'
        '[logging]\nfile = "station.log"\n'
    )
    return config


def station(config: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([STATION, *args, "--config", str(config)], capture_output=True, text=True, timeout=60)


def test_a_bad_time_zone_is_exit_2_naming_the_key(tmp_path):
    result = station(write_config(tmp_path, 'timezone = "Asia/Lombok"'), "status")
    assert result.returncode == 2
    assert "station.timezone" in result.stderr and "Asia/Lombok" in result.stderr
    assert result.stdout == ""


def test_status_speaks_indonesian_with_grouped_counts_and_local_times(tmp_path):
    config = write_config(tmp_path)
    assert station(config, "allocation", "add", "JATAH-2026-12", "12000", "--period", "2026-12").returncode == 0
    before = station(config, "status")
    assert before.returncode == 0, before.stderr
    assert "Printer: belum pernah dijalankan" in before.stdout  # not "Printer: -"
    # the engine's last state as a running station publishes it

    with sqlite3.connect(tmp_path / "station.db") as db:
        db.execute(
            "INSERT INTO live_state (station_id, key, value, at) VALUES ('5203-01', 'engine', ?, ?)",
            (json.dumps({"state": "empty", "fault": None}), "2026-12-01T18:58:33.745+00:00"),
        )
    result = station(config, "status")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Printer: antrian kosong · sejak 2 Des 2026 02.58 WITA" in out
    assert "Blangko tersisa: 12.000" in out and "diterima 12.000" in out and "· seimbang" in out
    for raw in ("True", "False", "empty", "2026-12-01T", "12000", "None"):
        assert raw not in out, raw
    assert json.loads(station(config, "status", "--json").stdout)["engine"]["at"] == "2026-12-01T18:58:33.745+00:00"


def test_status_names_a_fault_in_the_operators_words(tmp_path):
    config = write_config(tmp_path, language="en")
    assert station(config, "status").returncode == 0

    with sqlite3.connect(tmp_path / "station.db") as db:
        db.execute(
            "INSERT INTO live_state (station_id, key, value, at) VALUES ('5203-01', 'engine', ?, ?)",
            (json.dumps({"state": "stopped", "fault": "jam", "fault_reply": "ERR JAM"}), "2026-12-01T02:00:00+00:00"),
        )
    out = station(config, "status").stdout
    assert "STOPPED (fault)" in out and "fault: jam" not in out and "1 Dec 2026 10:00 WITA" in out


def test_file_errors_are_catalogue_sentences_not_the_systems_english(tmp_path):
    config = write_config(tmp_path)
    missing = station(config, "demo-data", "--count", "3", "--out", str(tmp_path / "no-folder" / "r.csv"))
    assert missing.returncode == 2, missing.stderr
    assert "berkas atau folder tidak ada" in missing.stderr and "No such file" not in missing.stderr
    (tmp_path / "keys").mkdir()
    assert station(config, "central", "keygen", "--out", str(tmp_path / "keys")).returncode == 0
    key = next((tmp_path / "keys").glob("*private*"))
    (tmp_path / "report.json").write_text('{"format": "x",\n "station_id" "5203-01"}')
    bad_json = station(
        config,
        "central",
        "grant",
        str(tmp_path / "report.json"),
        "--key",
        str(key),
        "--out",
        str(tmp_path / "grant.json"),
    )
    assert bad_json.returncode != 0
    assert "bukan JSON yang sah (baris 2, kolom 15)" in bad_json.stderr, bad_json.stderr
    assert "Expecting" not in bad_json.stderr


def test_an_unknown_errno_keeps_the_systems_words():
    set_language("en")
    assert formats.os_error(OSError(errno.ENOENT, "No such file or directory")) == "no such file or folder"
    assert formats.os_error(OSError(errno.ECONNREFUSED, "Connection refused")) == "system error 111: Connection refused"


def test_the_indonesian_catalogue_names_one_thing_one_way():
    """The same form and the same thing under one name: "TTTT-BB" (not "YYYY-MM") and "nomor jatah" (not "kode")."""
    indonesian = {key: texts["id"] for key, texts in catalogue().items()}
    assert [key for key, text in indonesian.items() if re.search(r"YYYY|MM-DD|\bYYYY-MM\b", text)] == []
    assert [key for key, text in indonesian.items() if "kode jatah" in text.lower()] == []
    assert "TTTT-BB" in indonesian["books.bad_period"] and "TTTT-BB" in indonesian["ui.alloc.field.period"]


def test_a_count_refused_names_the_limit_with_indonesian_grouping(tmp_path):
    result = station(write_config(tmp_path), "allocation", "add", "JATAH-1", "20000000")
    assert result.returncode == 2
    assert "sampai 10.000.000" in result.stderr and "10,000,000" not in result.stderr
