"""The command line against a hostile environment: a reader that leaves the pipe, a database path with URI
characters in it, and a database that fails under the station (a corrupt page, a dropped table, a full disk)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from console.demo import write_demo_csv
from tests import command
from tests.command import STATION, write_config


def make_station(folder: Path, residents: int = 4, database: str = "station.db") -> Path:
    config = write_config(folder, database={"path": database},
                          emulator={"time_scale": 0, "state": "emulator-state.json", "log": "output.jsonl"})  # fmt: skip
    write_demo_csv(folder / "residents.csv", residents, seed=11)
    imported = station(config, "import", str(folder / "residents.csv"))
    assert imported.returncode == 0, imported.stderr
    return config


def station(config: Path | None, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """In this process (`main(argv)`); the closed pipes below need processes of their own."""
    return command.station(config, *args, timeout=timeout)


def piped_to_a_reader_that_left(*argv: str) -> tuple[int, str]:
    """Run `station ARGV | head -0`: the reader closes the pipe before the station writes a line."""
    with subprocess.Popen([STATION, *argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as proc:
        proc.stdout.close()
        try:
            err = proc.stderr.read()
            proc.wait(timeout=120)
        finally:
            proc.kill()
    return proc.returncode, err


def test_station_print_into_a_closed_pipe_ends_quietly(tmp_path):
    config = make_station(tmp_path)
    assert station(config, "allocation", "add", "A1", "10", "--period", "2026-11").returncode == 0
    assert station(config, "enqueue", "--all").returncode == 0
    code, err = piped_to_a_reader_that_left("print", "--config", str(config))
    assert (code, err) == (141, "")
    # the run was asked to print the queue, and did: its lines alone went nowhere
    assert len((tmp_path / "output.jsonl").read_text().splitlines()) == 4
    snapshot = json.loads(station(config, "status", "--json").stdout)
    assert (snapshot["untagged"], snapshot["queue"]["queued"]) == (4, 0)


def test_a_command_without_a_station_into_a_closed_pipe_ends_quietly(tmp_path):
    code, err = piped_to_a_reader_that_left("central", "keygen", "--out", str(tmp_path / "keys"))
    assert (code, err) == (141, "")
    assert (tmp_path / "keys").is_dir()


@pytest.mark.parametrize("name", ["st%41tion.db", "station#2.db", "station?mode=rwc.db", "a b%2F.db"])
def test_a_database_path_with_uri_characters_is_one_file_for_writer_and_reader(tmp_path, name):
    config = make_station(tmp_path, residents=3, database=name)
    snapshot = station(config, "status", "--json")
    assert snapshot.returncode == 0, snapshot.stderr
    assert json.loads(snapshot.stdout)["residents"] == 3
    assert sorted(p.name for p in tmp_path.glob("*.db")) == [name]


@pytest.mark.parametrize(("args", "says"), [
    (("allocation", "add", "A3\n", "10"), "A3"),
    (("allocation", "add", "A3", "10", "--period", "٢٠٢٦-11"), "٢٠٢٦-11"),
    (("allocation", "add", "A3", "10", "--period", "2026-11\n"), "2026-11"),
    (("allocation", "add", "A3", "١٠"), "١٠"),
    (("print", "--count", "٣"), "٣"),
])  # fmt: skip
def test_a_trailing_newline_or_another_scripts_digits_are_refused(tmp_path, args, says):
    config = make_station(tmp_path, residents=1)
    result = station(config, *args)
    assert result.returncode == 2 and says in result.stderr and "Traceback" not in result.stderr
    assert json.loads(station(config, "status", "--json").stdout)["allocations"] == []


@pytest.mark.parametrize(
    ("note", "code"),
    [("kartu\u202erusak", "U+202E"), ("kartu\x85", "U+0085"), ("kartu\x7f", "U+007F"), ("kartu\nrusak", "U+000A")],
)
def test_a_tag_note_is_checked_as_the_import_checks_text(tmp_path, note, code):
    config = make_station(tmp_path, residents=1)
    assert station(config, "allocation", "add", "A1", "1", "--period", "2026-11").returncode == 0
    assert station(config, "enqueue", "--all").returncode == 0
    assert station(config, "print").returncode == 0
    nik = json.loads((tmp_path / "output.jsonl").read_text())["nik"]
    refused = station(config, "tag", nik, "bad", "--reason", "lainnya", "--note", note)
    assert refused.returncode == 2 and code in refused.stderr and "note" in refused.stderr
    assert json.loads(station(config, "status", "--json").stdout)["untagged"] == 1
    assert station(config, "tag", nik, "bad", "--reason", "lainnya", "--note", "kartu rusak").returncode == 0
