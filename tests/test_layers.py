"""The layers, checked in the source: the core never imports the screens or Textual; the printer's protocol and
driver know nothing of the station; the screens call the core and never speak SQL or open the serial port."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SQL = re.compile(r"^\s*(SELECT|INSERT|UPDATE|DELETE|REPLACE|CREATE|DROP|ALTER|PRAGMA|BEGIN|COMMIT)\b", re.I)


def sources(package: str) -> list[Path]:
    return sorted(path for path in (ROOT / package).rglob("*.py") if "__pycache__" not in path.parts)


def imported(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def offending_imports(package: str, forbidden: tuple[str, ...]) -> list[str]:
    return [
        f"{path.relative_to(ROOT)} imports {name}"
        for path in sources(package)
        for name in sorted(imported(path))
        if name.split(".")[0] in forbidden
    ]


@pytest.mark.parametrize(
    ("package", "forbidden"),
    [
        ("console", ("textual", "screens", "rich")),
        ("drivers", ("console", "screens", "textual", "aiosqlite", "sqlite3")),
        ("screens", ("sqlite3", "aiosqlite", "serial")),
    ],
)
def test_a_layer_imports_nothing_above_it(package, forbidden):
    assert sources(package), f"no sources found in {package}/"
    assert offending_imports(package, forbidden) == []


def sql_strings(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and SQL.match(node.value):
            found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {node.value.strip()[:60]}")
    return found


def test_the_screens_never_speak_sql():
    assert [found for path in sources("screens") for found in sql_strings(path)] == []


def test_the_sql_check_finds_sql_where_there_is_some():
    assert sql_strings(ROOT / "console" / "books.py"), "the check must see the SQL in console/books.py"


def test_the_command_line_finds_the_consoles_by_entry_point():
    from console.consoles import load_console
    from console.errors import StationError

    assert load_console("operator").__name__ == "StationApp"
    assert load_console("supervisor").__name__ == "SupervisorApp"
    with pytest.raises(StationError, match="konsol 'nothing' tidak terpasang"):
        load_console("nothing")
