"""Every message of the catalogue is used somewhere in the source: a key nobody asks for is dead text that the
translators would keep up for nothing."""

from __future__ import annotations

import ast
from pathlib import Path

from console.i18n import catalogue

ROOT = Path(__file__).resolve().parent.parent
FOLDERS = ("console", "screens", "drivers")


def names_in_source(paths: list[Path]) -> tuple[set[str], set[str]]:
    """Every string constant of the source, and the fixed start of every f-string that ends in '.' or '_' (a key
    made at run time, like t(f"config.why.{why}"), uses every key of that family)."""
    constants: set[str] = set()
    families: set[str] = set()
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                constants.add(node.value)
            elif isinstance(node, ast.JoinedStr) and node.values and isinstance(node.values[0], ast.Constant):
                start = str(node.values[0].value)
                if len(start) > 1 and start.endswith((".", "_")):
                    families.add(start)
    return constants, families


def unused(keys: list[str], paths: list[Path]) -> list[str]:
    constants, families = names_in_source(paths)
    return [key for key in keys if key not in constants and not key.startswith(tuple(families))]


# Words added to the catalogue ahead of the code that will say them (the console's title bar and lock screen for
# signed-in operators); drop an entry once the code asks for it.
AWAITING_USE: set[str] = set()


def source_paths() -> list[Path]:
    return [path for folder in FOLDERS for path in (ROOT / folder).rglob("*.py")]


def test_every_catalogue_key_is_used() -> None:
    assert unused(sorted(set(catalogue()) - AWAITING_USE), source_paths()) == []


def test_the_words_awaiting_use_are_in_the_catalogue() -> None:
    assert set(catalogue()) >= AWAITING_USE


def test_the_check_finds_a_key_nobody_asks_for(tmp_path: Path) -> None:
    source = tmp_path / "module.py"
    source.write_text('t("cli.used")\nt(f"config.why.{why}")\nLABEL = "ui.label"\n', encoding="utf-8")
    keys = ["cli.used", "config.why.empty", "ui.label", "cli.unused", "config.whyever"]
    assert unused(keys, [source]) == ["cli.unused", "config.whyever"]
