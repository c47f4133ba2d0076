"""The rounds screen of the console: opened from the command palette, the rounds and the villages next, at 80x24,
120x40 and on the Linux console (stored SVG snapshots; accept a deliberate change with --snapshot-update)."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from pathlib import Path

import pytest
from textual.command import CommandList, CommandPalette

from console import rounds
from console.clock import fix_today
from console.config import load_settings
from console.population_import import import_population
from console.store import Store
from screens.rounds import RoundsScreen
from tests.test_console_kit import screen_text, until
from tests.test_console_snapshots import _dashboard_ready, app_on, drawn, made_station, station  # noqa: F401
from tests.test_population import villager, write_population

SIZES = {"80x24": (80, 24), "120x40": (120, 40)}
ADULT = date(1980, 5, 5)


async def add_rounds(folder: Path) -> None:
    """Three villages' population, a round closed at PANCOR and one planned at SUKARAJA (the station's day fixed)."""
    fix_today(date(2026, 11, 28))
    rows = [villager(1, ADULT + timedelta(days=i), "BELUM_REKAM") for i in range(150)]
    rows += [villager(2, ADULT + timedelta(days=i), "BELUM_REKAM", desa="SUKARAJA") for i in range(90)]
    rows += [villager(3, ADULT + timedelta(days=i), "BELUM_REKAM", desa="DENGGEN") for i in range(40)]
    settings = load_settings(folder / "config.toml")
    async with await Store.open(folder / "station.db") as store:
        await import_population(store, write_population(folder / "desa.csv", rows))
        await rounds.plan(store, settings.planning, kit="KIT-1", team="TIM A", start=date(2026, 11, 23),
                          actor="operator", kel_desa="PANCOR")  # fmt: skip
        await rounds.close(store, 1, 128, "operator")
        await rounds.plan(store, settings.planning, kit="KIT-1", team="TIM A", start=date(2026, 11, 30),
                          actor="operator", kel_desa="SUKARAJA")  # fmt: skip


def with_rounds(folder: Path) -> None:
    asyncio.run(add_rounds(folder))


async def rounds_shown(pilot) -> None:
    await _dashboard_ready(pilot)
    app = pilot.app
    await pilot.press("ctrl+p")
    await until(pilot, lambda: isinstance(app.screen, CommandPalette), "the command palette")
    await pilot.press(*"Giliran")
    await until(pilot, lambda: app.screen.query_one(CommandList).option_count == 1, "the one command found")
    await pilot.press("down", "enter")
    await until(pilot, lambda: isinstance(app.screen, RoundsScreen) and app.screen.next is not None
                and app.screen.query_one("#rounds-table").row_count == 2, "the rounds screen")  # fmt: skip
    await pilot.pause()


@pytest.mark.parametrize("size", SIZES)
def test_the_rounds_screen(size, station, snap_compare):
    with_rounds(station)
    assert snap_compare(app_on(station), terminal_size=SIZES[size], run_before=rounds_shown)


def test_the_rounds_screen_on_the_linux_console(station, snap_compare, monkeypatch):
    monkeypatch.setenv("TERM", "linux")
    with_rounds(station)
    assert snap_compare(app_on(station), terminal_size=(80, 24), run_before=rounds_shown)


async def test_the_rounds_screen_shows_the_rounds_and_the_villages_in_order(station):
    await add_rounds(station)
    app = app_on(station)
    async with app.run_test(size=(120, 40)) as pilot:
        await rounds_shown(pilot)
        table = drawn(app.screen.query_one("#rounds-table"))
        assert "PANCOR" in table and "23.11-25.11" in table and "128" in table and "ditutup" in table
        assert "SUKARAJA" in table and "30.11-01.12" in table and "direncanakan" in table
        # SUKARAJA has its round open; PANCOR's round is closed, and its residents recorded are not imported yet:
        # a kit-day records 50 there, 40 at DENGGEN
        assert [n.kel_desa for n in app.screen.next] == ["PANCOR", "DENGGEN"]
        assert "DENGGEN (SELONG): 40 belum rekam, 1 hari" in screen_text(app)
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, RoundsScreen), "back to the dashboard")
