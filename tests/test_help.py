"""`station --help` in the station's language: the help texts from the catalogue, argparse's own words too."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import pytest

from console.cli import build_parser
from console.commands._help import install_argparse_words
from console.i18n import catalogue, set_language

STATION = str(Path(sys.executable).with_name("station"))


def config_in(folder: Path, language: str) -> Path:
    config = folder / "config.toml"
    config.write_text(f'[station]\nlanguage = "{language}"\n[database]\npath = "s.db"\n[logging]\nfile = "s.log"\n')
    return config


def station(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([STATION, *args], capture_output=True, text=True, cwd=cwd, timeout=60)


def test_help_speaks_indonesian_with_an_indonesian_config(tmp_path):
    config = config_in(tmp_path, "id")
    top = station("--help", "--config", str(config), cwd=tmp_path)
    assert top.returncode == 0
    assert top.stdout.startswith("pemakaian: station") and "\nopsi:" in top.stdout
    assert "tampilkan bantuan ini lalu keluar" in top.stdout and "impor data penduduk dari berkas CSV" in top.stdout
    for english in ("usage:", "show this help", "options:", "positional arguments", "import recorded residents"):
        assert english not in top.stdout, english
    sub = station("import", "--help", cwd=tmp_path)  # the config found in the current folder
    assert "asal berkas (disimpan bersama setiap penduduk)" in sub.stdout


def test_help_speaks_english_with_an_english_config(tmp_path):
    config = config_in(tmp_path, "en")
    top = station("--help", "--config", str(config), cwd=tmp_path)
    assert top.stdout.startswith("usage: station") and "import recorded residents from a CSV file" in top.stdout


def test_a_usage_error_is_said_in_the_language_too(tmp_path):
    config_in(tmp_path, "id")
    result = station("import", cwd=tmp_path)
    assert result.returncode == 2
    assert "station import: kesalahan: argumen berikut wajib diisi: FILE.csv" in result.stderr


def all_parsers(parser: argparse.ArgumentParser):
    yield parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                yield from all_parsers(child)
            for choice in action._choices_actions:
                yield argparse.Namespace(_actions=[choice], prog=choice.dest)


@pytest.mark.parametrize("language", ["id", "en"])
def test_every_help_text_of_every_command_comes_from_the_catalogue(language):
    set_language(language)
    try:
        install_argparse_words()
        texts = {entry[language] for entry in catalogue().values()}
        helps = [
            (p.prog, a.help)
            for p in all_parsers(build_parser())
            for a in p._actions
            if a.help and a.help is not argparse.SUPPRESS
        ]
        assert len(helps) > 50
        assert [(prog, text) for prog, text in helps if text not in texts] == []
    finally:
        set_language("id")
