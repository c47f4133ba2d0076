"""The `station` command for tests: one config writer, and one runner.

The runner calls `console.cli.main(argv)` in this process (fast, and its coverage counted); `process=True` runs the
real `station` program in its own process, for what only a process shows (signals, broken pipes, the printer owner's
lock between processes, what a fresh interpreter imports)."""

from __future__ import annotations

import asyncio
import io
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from typing import Any

STATION = str(Path(sys.executable).with_name("station"))

# What every test station has unless a test says otherwise: English words, files beside the config.
BASE: dict[str, dict[str, Any]] = {
    "station": {"id": "5203-01", "language": "en"},
    "database": {"path": "station.db"},
    "logging": {"file": "station.log"},
}


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def write_config(folder: Path, **sections: dict[str, Any]) -> Path:
    """`folder/config.toml`: `BASE`, each section given merged over it (`emulator={"time_scale": 0}`); a key given
    as None is left out (`database={"path": None, "url": ...}`)."""
    merged = {name: dict(values) for name, values in BASE.items()}
    for name, values in sections.items():
        merged.setdefault(name, {}).update(values)
        merged[name] = {key: value for key, value in merged[name].items() if value is not None}
    text = "".join(f"[{name}]\n" + "".join(f"{key} = {_toml(v)}\n" for key, v in values.items())
                   for name, values in merged.items())  # fmt: skip
    config = folder / "config.toml"
    config.write_text(text)
    return config


def _main(argv: list[str]) -> int:
    from console.cli import main

    try:
        return main(argv)
    except SystemExit as exit_:  # argparse: usage errors and --help
        return exit_.code if isinstance(exit_.code, int) else 2


def station(config: Path | None, *args: str, stdin: str = "", cwd: Path | None = None, process: bool = False,
            timeout: float = 120) -> subprocess.CompletedProcess:  # fmt: skip
    """`station ARGS --config CONFIG`: its exit status, standard output and error."""
    argv = [*args, *(["--config", str(config)] if config is not None else [])]
    if process:
        return subprocess.run([STATION, *argv], input=stdin, capture_output=True, text=True, timeout=timeout,
                              cwd=cwd)  # fmt: skip
    out, err, before = io.StringIO(), io.StringIO(), Path.cwd()
    saved_stdin, sys.stdin = sys.stdin, io.StringIO(stdin)
    try:
        if cwd is not None:
            os.chdir(cwd)
        with redirect_stdout(out), redirect_stderr(err):
            try:
                asyncio.get_running_loop()
            except RuntimeError:
                status = _main(argv)
            else:  # called from an async test: main's own asyncio.run needs a thread with no loop running
                with ThreadPoolExecutor(1) as thread:
                    status = thread.submit(_main, argv).result()
    finally:
        sys.stdin = saved_stdin
        os.chdir(before)
    return subprocess.CompletedProcess([STATION, *argv], status, out.getvalue(), err.getvalue())
