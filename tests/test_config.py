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
        ('[printer]\nbaudrate = "fast"\n', "printer.baudrate"),
        ('[printer]\nribbon = "rainbow"\n', "printer.ribbon"),
        ('[station]\nlanguage = "fr"\n', "station.language"),
        ("[queue]\nhopper_capacity = 0\n", "queue.hopper_capacity"),
        ("[queue]\nhopper_capacity = true\n", "queue.hopper_capacity"),
        ("[emulator]\ntime_scale = -1\n", "emulator.time_scale"),
        ('[printers]\nport = "x"\n', "[printers]"),
        ('[logging]\nlevel = "loud"\n', "logging.level"),
        ("[emulator]\ntime_scale = nan\n", "emulator.time_scale"),
        ("[printer]\nreply_timeout_s = inf\n", "printer.reply_timeout_s"),
        ('[emulator]\nfaults = "jam@three"\n', "emulator.faults"),
        ('[emulator]\nfaults = "meteor@3"\n', "emulator.faults"),
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
    with pytest.raises(ConfigError, match=r"nothing\.toml"):
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
    path.write_text('[database]\npath = "db.sqlite"\n[logging]\nfile = "log.jsonl"\n')
    result = subprocess.run(
        [STATION, "allocation", "add", "J1", "10"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={"STATION_CONFIG": str(path), "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "db.sqlite").exists()


@pytest.mark.parametrize(
    "command",
    [
        ["demo-data", "--count", "0", "--out", "residents.csv"],
        ["central", "grant", "no-report.json", "--key", "no-key.pem", "--out", "grant.json"],
        ["emulator", "--tcp", "127.0.0.1:99999"],
    ],
)
def test_commands_without_a_station_take_the_config_for_its_language(tmp_path, command):
    """Every subcommand takes --config (cli.md); those that need no station read only the language from it."""
    english = tmp_path / "en.toml"
    english.write_text('[station]\nlanguage = "en"\n')

    def station(*extra, **env):
        return subprocess.run(
            [STATION, *command, *extra],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            timeout=60,
            env={"PATH": "/usr/bin:/bin", **env},
        )

    named, found, default = station("--config", str(english)), station(STATION_CONFIG=str(english)), station()
    assert named.returncode == found.returncode == default.returncode == 2
    assert named.stderr == found.stderr
    assert named.stderr != default.stderr  # the default is Indonesian


def test_a_named_config_that_is_broken_stops_even_a_command_without_a_station(tmp_path):
    broken = tmp_path / "config.toml"
    broken.write_text('[station]\nlanguage = "fr"\n')
    result = subprocess.run(
        [STATION, "central", "keygen", "--out", "keys", "--config", str(broken)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
    )
    assert result.returncode == 2 and "station.language" in result.stderr
    assert not (tmp_path / "keys").exists()
