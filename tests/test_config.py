"""config.toml: typed settings; every error names the key and the file (exit 2)."""

import subprocess
import sys
from pathlib import Path

import pytest

from console.config import load_settings
from console.errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent
STATION = str(Path(sys.executable).with_name("station"))


def test_the_shipped_config_is_valid_and_paths_are_relative_to_it():
    settings = load_settings(ROOT / "config.toml")
    assert settings.printer.port == "emulator"
    assert settings.database.path == ROOT / "var" / "station.db"
    assert settings.station.language == "id"


def test_every_shipped_key_is_documented_by_a_comment():
    for line in (ROOT / "config.toml").read_text().splitlines():
        if "=" in line and not line.lstrip().startswith("#"):
            assert "#" in line, f"undocumented key: {line}"


@pytest.mark.parametrize(
    "text, key",
    [
        ("[printer]\nbaud = 9600\n", "printer.baud"),
        ("[printer]\nbaudrate = \"fast\"\n", "printer.baudrate"),
        ("[printer]\nribbon = \"rainbow\"\n", "printer.ribbon"),
        ("[station]\nlanguage = \"fr\"\n", "station.language"),
        ("[queue]\nhopper_capacity = 0\n", "queue.hopper_capacity"),
        ("[queue]\nhopper_capacity = true\n", "queue.hopper_capacity"),
        ("[central]\npublic_keys = [\"missing.pem\"]\n", "central.public_keys"),
        ("[emulator]\ntime_scale = -1\n", "emulator.time_scale"),
        ("[printers]\nport = \"x\"\n", "[printers]"),
        ("[logging]\nlevel = \"loud\"\n", "logging.level"),
    ],
)
def test_bad_config_names_key_and_file(tmp_path, text, key):
    path = tmp_path / "config.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as error:
        load_settings(path)
    assert key in str(error.value) and str(path) in str(error.value)


def test_not_toml_and_missing_file(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text("[station\n")
    with pytest.raises(ConfigError, match="TOML"):
        load_settings(path)
    with pytest.raises(ConfigError, match="nothing.toml"):
        load_settings(tmp_path / "nothing.toml")


def test_cli_exits_2_naming_the_key(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text("[printer]\nbaudrate = -5\n")
    result = subprocess.run([STATION, "status", "--config", str(path)], capture_output=True, text=True)
    assert result.returncode == 2
    assert "printer.baudrate" in result.stderr and str(path) in result.stderr
    assert result.stdout == ""


def test_station_config_environment_variable(tmp_path):
    path = tmp_path / "elsewhere.toml"
    path.write_text(f'[database]\npath = "db.sqlite"\n[logging]\nfile = "log.jsonl"\n')
    result = subprocess.run(
        [STATION, "allocation", "add", "J1", "10"], capture_output=True, text=True, cwd=tmp_path,
        env={"STATION_CONFIG": str(path), "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "db.sqlite").exists()
