"""Bad input on the command line: a clear sentence with the exit status of cli.md, never a traceback (exit 1)."""

import socket
import subprocess
from pathlib import Path

import pytest

from tests.command import station as run_station
from tests.command import write_config


def station(config: Path, *args: str) -> subprocess.CompletedProcess:
    return run_station(config, *args, cwd=config.parent)


def a_closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # nothing listens once the socket is closed


def test_a_database_path_that_is_a_folder(tmp_path):
    (tmp_path / "station.db").mkdir()
    result = station(write_config(tmp_path), "status")
    assert result.returncode == 2
    assert "station.db" in result.stderr and "folder" in result.stderr and "Traceback" not in result.stderr


def test_a_log_file_that_cannot_be_opened_names_the_key(tmp_path):
    (tmp_path / "logs").mkdir()
    config = write_config(tmp_path)
    config.write_text(config.read_text().replace('file = "station.log"', 'file = "logs"'))
    result = station(config, "status")
    assert result.returncode == 2
    assert "logging.file" in result.stderr and str(config) in result.stderr
    assert result.stdout == ""  # and nothing of the error spilled on the terminal by the logger


@pytest.mark.parametrize("port", ["/dev/ttyNOSUCH0", "socket://127.0.0.1:{closed}"])
def test_a_printer_that_cannot_be_opened_is_a_printer_fault(tmp_path, port):
    config = write_config(tmp_path, printer={"port": port.format(closed=a_closed_port())})
    result = station(config, "print")
    assert result.returncode == 5, result.stderr
    assert "CANNOT BE OPENED" in result.stderr and "printer.port" in result.stderr


def test_a_port_written_with_a_space_is_a_config_error(tmp_path):
    result = station(write_config(tmp_path, printer={"port": "emulator "}), "print")
    assert result.returncode == 2 and "printer.port" in result.stderr


@pytest.mark.parametrize(
    "args",
    [
        ("allocation", "add", "J1", "99999999999999999999999"),
        ("allocation", "add", "J1", "10000001"),
        ("allocation", "count", "J0", "99999999999999999999999"),
        ("allocation", "count", "J0", "-1"),
    ],
)
def test_impossible_blank_counts_are_refused_and_change_nothing(tmp_path, args):
    config = write_config(tmp_path)
    assert station(config, "allocation", "add", "J0", "100").returncode == 0
    before = station(config, "allocation", "list", "--json").stdout
    result = station(config, *args)
    assert result.returncode == 2 and "not valid" in result.stderr and "Traceback" not in result.stderr
    assert station(config, "allocation", "list", "--json").stdout == before


@pytest.mark.parametrize("out", ["no-such-folder/audit.jsonl", "a-folder"])
def test_audit_export_to_a_place_it_cannot_write_leaves_nothing_behind(tmp_path, out):
    config = write_config(tmp_path)
    assert station(config, "allocation", "add", "J0", "100").returncode == 0
    (tmp_path / "a-folder").mkdir()
    result = station(config, "audit", "export", "--out", out)
    assert result.returncode == 2 and "cannot write the audit log" in result.stderr
    assert list(tmp_path.glob("*.tmp")) == []
    assert list((tmp_path / "a-folder").iterdir()) == []


@pytest.mark.parametrize(
    "args, said",
    [
        (("enqueue", "abc"), "'abc' is not a NIK"),
        (("enqueue", "520301010101000"), "is not a NIK"),
        (("enqueue", "5203010101010001", "--kecamatan", "Selong"), "go with --all"),
        (("print", "--count", "0"), "--count must be 1 or more"),
        (("print", "--count", "-3"), "--count must be 1 or more"),
    ],
)
def test_queue_commands_refuse_malformed_requests_before_touching_anything(tmp_path, args, said):
    config = write_config(tmp_path, emulator={"state": "emulator-state.json", "log": "output.jsonl"})
    result = station(config, *args)
    assert result.returncode == 2 and said in result.stderr, result.stderr
    assert not (tmp_path / "output.jsonl").exists()  # the printer was never started
