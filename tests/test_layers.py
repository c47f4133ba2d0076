"""The layers, checked in the source: the core never imports the screens or Textual; the printer's protocol and
driver know nothing of the station; the emulator and the driver share nothing but the protocol; the station never
loads the centre's simulator (console/central/); the screens call the core and never speak SQL or open the serial
port, and name of the driver only its faults and a card's fields; the pure cores (the protocol, the resync, the
emulator's machine, the settling, the PIN rules) import nothing that acts. The rules are in docs/architecture.md."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SQL = re.compile(r"^\s*(SELECT|INSERT|UPDATE|DELETE|REPLACE|CREATE|DROP|ALTER|PRAGMA|BEGIN|COMMIT)\b", re.I)


def sources(package: str) -> list[Path]:
    return sorted(path for path in (ROOT / package).rglob("*.py") if "__pycache__" not in path.parts)


# What each layer never imports (by top-level name), anywhere in its modules: at load, inside a function, relative
# or by `importlib.import_module`.
FORBIDDEN = {
    "console": ("textual", "screens", "rich"),
    "drivers": ("console", "screens", "textual", "aiosqlite", "sqlite3"),
    "screens": ("sqlite3", "aiosqlite", "serial"),
}
# The command line's presentation may draw with rich (progress bars); the rest of the core may not.
ALLOWED = {("console.commands", "rich")}


def layer_breaches(module: str, source: str, is_package: bool = False) -> list[str]:
    """How `module` imports what its layer (its top-level package) must never import."""
    forbidden = FORBIDDEN[module.split(".")[0]]
    return sorted(
        {
            f"{module} imports {name}"
            for name, _at_load in imports_of(module, source, is_package)
            if name.split(".")[0] in forbidden
            and not any(within(module, allowed) and name.split(".")[0] == top for allowed, top in ALLOWED)
        }
    )


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_a_layer_imports_nothing_above_it(package):
    assert sources(package), f"no sources found in {package}/"
    found = [
        breach
        for path in sources(package)
        for breach in layer_breaches(module_name(path), path.read_text(encoding="utf-8"), path.name == "__init__.py")
    ]
    assert found == []


@pytest.mark.parametrize(
    ("module", "source"),
    [
        ("console.engine", "from textual.app import App"),
        ("console.station", "def f():\n    import screens.app"),
        ("console.commands.run_cmd", "from screens import app"),
        ("console.live", "import rich.text"),
        ("console.text", "import importlib\nimportlib.import_module('textual.widgets')"),
        ("drivers.printer", "from console import store"),
        ("drivers.layout", "def f():\n    from console.i18n import t"),
        ("drivers.emulator.model", "from console.nik import parse_nik"),
        ("drivers.transport", "import sqlite3"),
        ("screens.dashboard", "import sqlite3"),
        ("screens.fault", "from serial import Serial"),
    ],
)
def test_the_layer_check_finds_each_breach(module, source):
    assert layer_breaches(module, source)


@pytest.mark.parametrize(
    ("module", "source"),
    [
        ("console.commands._progress", "from rich.progress import Progress"),
        ("console.live", "from console import store\nfrom .text import number"),
        ("drivers.printer", "from drivers import protocol\nfrom .faults import LinkLost"),
        ("screens.fault", "from drivers.faults import LinkLost\nfrom textual.screen import Screen"),
    ],
)
def test_the_layer_check_lets_the_allowed_pass(module, source):
    assert layer_breaches(module, source) == []


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


# ------------------------------------------------------------------------ the emulator, the driver, the centre

EMULATOR = "drivers.emulator"
CENTRE = "console.central"
CENTRE_COMMAND = "console.commands.central_cmd"  # `station central`: may load the centre, in its handlers only


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(module: str, source: str, is_package: bool = False) -> list[tuple[str, bool]]:
    """Every module that `source` (the module named `module`) imports, as an absolute name, each with whether the
    import runs when the module loads (True) or only inside a function (False). `from a import b` gives `a` and
    `a.b` (b may be a module); relative imports are resolved; `importlib.import_module("a.b")` (a name written out)
    gives `a.b`."""
    package = module if is_package else module.rpartition(".")[0]
    found: list[tuple[str, bool]] = []

    def visit(node: ast.AST, at_load: bool) -> None:
        if isinstance(node, ast.Import):
            found.extend((alias.name, at_load) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, *([base] if base else [])])
            found.append((base, at_load))
            found.extend((f"{base}.{alias.name}", at_load) for alias in node.names)
        elif isinstance(node, ast.Call) and _calls_import_module(node) and node.args:
            name = node.args[0]
            if isinstance(name, ast.Constant) and isinstance(name.value, str):
                found.append((name.value, at_load))
        for child in ast.iter_child_nodes(node):
            visit(child, at_load and not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)))

    visit(ast.parse(source), True)
    return found


def _calls_import_module(call: ast.Call) -> bool:
    function = call.func
    called = function.attr if isinstance(function, ast.Attribute) else getattr(function, "id", "")
    return called in ("import_module", "__import__")


FILES = "drivers.atomic_file"  # how every file is written, no part of the driver: the emulator may use it too


def within(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def breaches(module: str, source: str, is_package: bool = False) -> list[str]:
    """How `module` breaks the rules of docs/architecture.md on the emulator and the centre."""
    found = []
    for name, at_load in imports_of(module, source, is_package):
        if within(module, "drivers") and not within(module, EMULATOR) and within(name, EMULATOR):
            found.append(f"{module} imports {name}: the driver knows the emulator only through the protocol")
        if within(module, EMULATOR) and within(name, "drivers") and name not in ("drivers", "drivers.protocol") \
                and not within(name, FILES) \
                and not within(name, EMULATOR):  # fmt: skip
            found.append(f"{module} imports {name}: the emulator shares nothing with the driver but the protocol")
        if within(name, CENTRE) and not within(module, CENTRE) and (module != CENTRE_COMMAND or at_load):
            found.append(f"{module} imports {name}" + (" when it loads" if module == CENTRE_COMMAND else ""))
    return found


def test_the_emulator_the_driver_and_the_centre_keep_apart():
    found = []
    for package in ("console", "drivers", "screens"):
        for path in sources(package):
            source = path.read_text(encoding="utf-8")
            found += breaches(module_name(path), source, path.name == "__init__.py")
    assert found == []


@pytest.mark.parametrize(
    ("module", "source"),
    [
        ("drivers.printer", "from drivers.emulator import EmulatorServer"),
        ("drivers.printer", "def f():\n    import drivers.emulator.model"),
        ("drivers.resync", "from drivers import emulator"),
        ("drivers.emulator.model", "from drivers import faults"),
        ("drivers.emulator.runtime", "from ..printer import Printer"),
        ("drivers.emulator.servers", "def f():\n    from drivers.transport import open_link"),
        ("drivers.emulator.inprocess", "import drivers.faults"),
        ("drivers.transport", "import importlib\nimportlib.import_module('drivers.emulator')"),
        ("console.commands.status_cmd", "def f():\n    from console import central"),
        ("console.engine", "from .central.simulator import grant_for_report"),
        ("screens.report", "import console.central.simulator"),
        ("console.commands.central_cmd", "from console.central import simulator"),
        ("console.unlock", "import importlib\nimportlib.import_module('console.central.simulator')"),
        ("console.central_keys", "from . import central"),
    ],
)
def test_the_check_finds_each_breach(module, source):
    assert breaches(module, source)


@pytest.mark.parametrize(
    ("module", "source"),
    [
        ("console.commands.central_cmd", "def keygen():\n    from console.central import simulator"),
        ("console.central.simulator", "from console.central import other"),
        ("drivers.emulator.model", "from drivers import protocol as p\nfrom drivers.emulator.faults import KINDS"),
        ("drivers.printer", "from drivers import protocol, resync"),
        ("console.printing", "from drivers.emulator import EmulatorServer"),
    ],
)
def test_the_check_lets_the_allowed_pass(module, source):
    assert breaches(module, source) == []


def test_the_centre_command_is_the_one_place_that_names_the_centre():
    path = ROOT / "console" / "commands" / "central_cmd.py"
    names = imports_of(CENTRE_COMMAND, path.read_text(encoding="utf-8"))
    assert (f"{CENTRE}.simulator", False) in names, "the check must see central_cmd's import of the centre"


# ------------------------------------------------------------------------ the screens and the driver

# What the screens may name of the driver: a fault's type (the fault dialog), a card's fields (the card preview).
# Never the link, the printer or the emulator: the station's core holds those.
SCREENS_MAY_NAME = ("drivers.faults", "drivers.layout")


def driver_names(module: str, source: str, is_package: bool = False) -> list[str]:
    """What of the driver `module` (a screen) imports beyond the types it may name."""
    return sorted(
        {
            f"{module} imports {name}"
            for name, _at_load in imports_of(module, source, is_package)
            if within(name, "drivers") and name != "drivers" and not any(within(name, ok) for ok in SCREENS_MAY_NAME)
        }
    )


def test_the_screens_name_only_the_drivers_types():
    found = [
        breach
        for path in sources("screens")
        for breach in driver_names(module_name(path), path.read_text(encoding="utf-8"), path.name == "__init__.py")
    ]
    assert found == []


@pytest.mark.parametrize(
    ("source", "found"),
    [
        ("from drivers.printer import Printer", True),
        ("def f():\n    from drivers import transport", True),
        ("from drivers.emulator import EmulatorServer", True),
        ("from drivers.faults import LinkLost\nfrom drivers.layout import CardFields", False),
        ("from drivers import faults", False),
    ],
)
def test_the_screens_check_tells_a_type_from_the_link(source, found):
    assert bool(driver_names("screens.fault", source)) is found


# ------------------------------------------------------------------------ the pure cores

# Modules that compute and decide, never act: no I/O, no clock, no sleeping, no log. The shells around them (the
# driver, the engine, operators.py, the emulator's runtime) own the link, the clock and the database.
PURE = (
    "drivers.protocol",  # bytes in, events out
    "drivers.resync",  # replies in, actions out
    "drivers.emulator.model",  # one command in; the reply, the motion time and what left the machine out
    "drivers.emulator.faults",  # the faults' spec and their seeded plan
    "console.settling",  # the printer's facts in, the books' decision out
    "console.pins",  # PIN rules, hashes and waits
)
ACTS = ("asyncio", "os", "io", "pathlib", "socket", "serial", "sqlite3", "aiosqlite", "psycopg", "subprocess",
        "threading", "time", "datetime", "select", "termios", "pty", "fcntl", "shutil", "tempfile", "logging",
        "structlog", "PIL")  # fmt: skip


def impurities(module: str, source: str) -> list[str]:
    """What `module`, a pure one, imports that acts on the world, or of the project that is not pure itself."""
    found = set()
    for name, _at_load in imports_of(module, source):
        top = name.split(".")[0]
        ours = top in ("console", "drivers", "screens") and name not in ("console", "drivers")
        if top in ACTS or (ours and not any(within(name, pure) for pure in PURE)):
            found.add(f"{module} imports {name}")
    return sorted(found)


@pytest.mark.parametrize("module", PURE)
def test_the_pure_cores_import_nothing_that_acts(module):
    path = ROOT.joinpath(*module.split(".")).with_suffix(".py")
    assert impurities(module, path.read_text(encoding="utf-8")) == []


@pytest.mark.parametrize(
    ("module", "source"),
    [
        ("drivers.protocol", "import asyncio"),
        ("drivers.resync", "def f():\n    import time"),
        ("console.settling", "from console.store import Store"),
        ("console.pins", "from console import clock"),
        ("drivers.emulator.model", "from drivers.emulator.runtime import Runtime"),
        ("drivers.emulator.model", "from .state import save"),
        ("drivers.protocol", "from serial import Serial"),
    ],
)
def test_the_purity_check_finds_each_breach(module, source):
    assert impurities(module, source)


@pytest.mark.parametrize(
    ("module", "source"),
    [
        ("drivers.emulator.model", "from drivers import protocol as p\nfrom drivers.emulator.faults import MEETS"),
        ("console.settling", "from dataclasses import dataclass\nfrom enum import StrEnum"),
        ("console.pins", "import hashlib\nimport secrets"),
    ],
)
def test_the_purity_check_lets_the_pure_pass(module, source):
    assert impurities(module, source) == []
