"""How the command line starts: `station --version`, `python -m console`, and what a plain command loads (not the
emulator, not Pillow: they come with the commands that use them)."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

STATION = str(Path(sys.executable).with_name("station"))
HEAVY = ("PIL", "drivers.emulator", "console.central")


def write_config(folder: Path) -> Path:
    config = folder / "config.toml"
    config.write_text('[station]\nlanguage = "en"\n[database]\npath = "station.db"\n[logging]\nfile = "station.log"\n')
    return config


def loaded_after(code: str, cwd: Path) -> list[str]:
    """Run `code` in a fresh interpreter, then list the heavy modules it loaded."""
    probe = code + "\nimport json, sys\nprint(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] == 'PIL'"
    probe += f" or m.startswith({HEAVY[1:]!r}))))"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, cwd=cwd)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.splitlines()[-1])


def test_version() -> None:
    result = subprocess.run([STATION, "--version"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0
    assert result.stdout.strip() == f"station {metadata.version('ktpel-station')}"


def test_python_dash_m_console_is_the_station(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    direct = subprocess.run([STATION, "status", "--json", "--config", str(config)], capture_output=True, text=True,
                            timeout=60, cwd=tmp_path)  # fmt: skip
    as_module = subprocess.run([sys.executable, "-m", "console", "status", "--json", "--config", str(config)],
                               capture_output=True, text=True, timeout=60, cwd=tmp_path)  # fmt: skip
    assert direct.returncode == as_module.returncode == 0, as_module.stderr
    assert json.loads(as_module.stdout)["station"] == json.loads(direct.stdout)["station"]
    missing = subprocess.run([sys.executable, "-m", "console", "status", "--config", str(tmp_path / "none.toml")],
                             capture_output=True, text=True, timeout=60)  # fmt: skip
    assert missing.returncode == 2 and "none.toml" in missing.stderr


def test_the_config_loads_neither_the_emulator_nor_pillow(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    assert loaded_after(f"from console.config import load_settings; load_settings({str(config)!r})", tmp_path) == []


def test_a_config_with_faults_still_has_them_checked(tmp_path: Path) -> None:
    from console.config import load_settings
    from console.errors import ConfigError

    config = write_config(tmp_path)
    config.write_text(config.read_text() + '[emulator]\nfaults = "jam@x"\n')
    with pytest.raises(ConfigError, match=r"emulator\.faults"):
        load_settings(config)


def test_station_status_loads_neither_the_emulator_nor_pillow(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    code = f"from console.cli import main\nassert main(['status', '--config', {str(config)!r}]) == 0"
    assert loaded_after(code, tmp_path) == []
    # and the check sees them when they are loaded
    assert {"PIL", "drivers.emulator"} <= set(loaded_after("import drivers.emulator", tmp_path))


def test_one_call_of_main_leaves_nothing_to_the_next(tmp_path: Path, monkeypatch, capsys) -> None:
    """In one process (the tests run most commands so), each `main(argv)` starts as a fresh `station` would: the
    language and the operator of the call before are not carried over."""
    from console.cli import main
    from console.i18n import current_language, set_language
    from console.operator import operator_name, os_user

    monkeypatch.delenv("STATION_CONFIG", raising=False)
    try:
        assert main(["status", "--operator", "ana", "--config", str(write_config(tmp_path))]) == 0  # in English
        assert (current_language(), operator_name()) == ("en", "ana")
        elsewhere = tmp_path / "elsewhere"
        elsewhere.mkdir()
        monkeypatch.chdir(elsewhere)  # no config here: the command speaks the default language
        capsys.readouterr()
        assert main(["central", "keygen", "--out", str(elsewhere / "keys")]) == 0
        assert (current_language(), operator_name()) == ("id", os_user())
        assert "kunci privat pusat" in capsys.readouterr().out
    finally:
        set_language("id")
