"""What the console's tests share: a station in a temporary folder (real SQLite file, built-in emulator on a real
pseudo-terminal at time scale 0), the app on it, and waiting for a condition while the app runs."""

from __future__ import annotations

import io
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path

from rich.console import Console
from textual.pilot import Pilot
from textual.widgets import Static

from console.config import Settings, load_settings
from console.printing import printer_session
from screens.app import StationApp
from tests.conftest import wait_for

WITA = timezone(timedelta(hours=8))  # Lombok's time zone
FIXED_NOW = datetime(2026, 11, 28, 9, 14, 0, tzinfo=WITA)


def station_settings(folder: Path, *, faults: str = "", language: str = "id", hopper: int = 50,
                     feeder: int = 100) -> Settings:  # fmt: skip
    config = folder / "config.toml"
    config.write_text(
        f'[station]\nid = "5203-01"\nname = "Dukcapil Lombok Timur, loket cetak 1"\nlanguage = "{language}"\n'
        f'[database]\npath = "station.db"\n'
        f'[emulator]\ntime_scale = 0\nfeeder = {feeder}\nfaults = "{faults}"\n'
        f'state = "emulator-state.json"\nlog = "emulator-output.jsonl"\n'
        f"[queue]\nhopper_capacity = {hopper}\n"
        f'[logging]\nfile = "station.log"\n',
        encoding="utf-8",
    )
    return load_settings(config)


def console_app(settings: Settings, clock: Callable[[], datetime] | None = None) -> StationApp:
    """The app as `station run` makes it, opening its own printer session on its own loop."""
    if clock is None:
        return StationApp(settings, lambda: printer_session(settings))
    return StationApp(settings, lambda: printer_session(settings), clock=clock)


async def until(pilot: Pilot, condition: Callable[[], bool | Awaitable[bool]], what: str,
                timeout: float = 15.0) -> None:  # fmt: skip
    """Let the app run until `condition` holds; fail naming `what` after `timeout` seconds. No fixed sleeps."""
    await wait_for(condition, timeout, what, pause=lambda: pilot.pause(0.01))


async def station_ready(pilot: Pilot) -> StationApp:
    app = pilot.app
    assert isinstance(app, StationApp)
    await until(pilot, lambda: app.station is not None and app.live is not None and app.station.printer_info
                is not None, "the station to start")  # fmt: skip
    return app


def screen_text(app: StationApp) -> str:
    """The words the screens on the stack show now (panels, prompts, dialogs), as plain text."""
    console = Console(width=200, file=io.StringIO(), record=True, color_system=None)
    for screen in app.screen_stack:
        for widget in screen.query("*"):
            for title in (widget.border_title, widget.border_subtitle):
                if title:
                    console.print(title)
            if isinstance(widget, Static):
                console.print(widget.content)
    return console.export_text()
