"""Data is shown as it is, never read as Textual markup: a resident named `BUDI [/]`, a tag note `oops [/] x`, a
name holding `[link=…]` or `[@click=…]` appear letter for letter on every screen of both consoles, and an
exception inside a console is written to the log file, not only drawn on the screen."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from textual.app import ComposeResult
from textual.geometry import Region
from textual.screen import Screen
from textual.widget import Widget

from console import jobs
from console.logs import configure_logging
from console.store import Store
from screens.report import ReportScreen
from screens.supervisor import SupervisorApp
from tests.station import emulated_printer, make_engine, seeded_store
from tests.test_console_kit import console_app, station_ready, station_settings, until
from tests.test_report_kit import indonesian  # noqa: F401  (autouse: the messages in Bahasa Indonesia)

SLASH = "BUDI [/]"  # a closing tag with nothing to close: Textual's markup parser raises on it
LINK = "SITI [link=x:y]X[/link]"
CLICK = "ANI [@click=app.quit]Y[/]"
NOTE = "oops [/] x"


def shown(app) -> str:
    """What the screen on top draws now, line by line, as the terminal would get it."""
    lines: list[str] = []
    for widget in app.screen.query(Widget):
        if not widget.display or widget.size.area == 0:
            continue
        for strip in widget.render_lines(Region(0, 0, widget.size.width, widget.size.height)):
            lines.append(strip.text)
    return "\n".join(lines)


async def bracket_station(folder: Path) -> list[str]:
    """A station whose residents' names hold brackets: SLASH printed and tagged bad with NOTE, LINK printed and
    waiting for its tag, CLICK queued. Returns their NIKs in that order."""
    store = await seeded_store(folder, residents=5, blanks=10, queue=False)
    async with store:
        niks = [row["nik"] for row in await store.fetchall("SELECT nik FROM residents ORDER BY nik LIMIT 3")]
        async with store.transaction("test") as tx:
            for nik, name in zip(niks, (SLASH, LINK, CLICK)):
                await tx.execute("UPDATE residents SET nama = ? WHERE nik = ?", (name, nik))
        await jobs.enqueue(store, niks[:2], "test")
        async with emulated_printer(folder) as (_emulator, printer):
            engine = make_engine(store, printer)
            await engine.start()
            await engine.run()
        await jobs.tag(store, niks[0], False, "test", "lainnya", NOTE)
        await jobs.enqueue(store, niks[2:], "test")
    return niks


async def test_the_operator_console_shows_bracketed_names_and_notes_as_they_are(tmp_path):
    settings = station_settings(tmp_path)
    configure_logging(settings.logging.file)
    niks = await bracket_station(tmp_path)
    app = console_app(settings)
    async with app.run_test(size=(140, 40)) as pilot:
        await station_ready(pilot)
        await pilot.press("f7")  # paused: CLICK stays queued while the screens are looked at
        await pilot.press("f3")
        await until(pilot, lambda: SLASH in shown(app) and LINK in shown(app), "the names in the residents list")
        assert CLICK in shown(app)
        await pilot.press("f4")
        await until(pilot, lambda: LINK in shown(app), "the card waiting for its tag")
        await pilot.press("f6")
        await until(pilot, lambda: isinstance(app.screen, ReportScreen), "the report screen")
        await until(pilot, lambda: "Siap" in shown(app) or niks[1] in shown(app), "the report's summary")
        app.screen.query_one("TabbedContent").active = "tab-bad"
        await until(pilot, lambda: SLASH in shown(app) and NOTE in shown(app), "the bad card with its note")
        assert app.return_code is None  # the `[@click=app.quit]` in a name did not quit


async def test_the_supervisor_console_shows_bracketed_names_and_notes_as_they_are(tmp_path):
    settings = station_settings(tmp_path)
    configure_logging(settings.logging.file)
    niks = await bracket_station(tmp_path)
    async with await Store.open(settings.database.path, readonly=True) as watched:
        app = SupervisorApp(settings, watched, "budi [/]")
        async with app.run_test(size=(140, 40)) as pilot:
            await until(pilot, lambda: app.live is not None, "the first read")
            assert "budi [/]" in shown(app)
            await pilot.press("f3")
            await until(pilot, lambda: CLICK in shown(app), "the queue")
            await pilot.press("f4")
            await until(pilot, lambda: LINK in shown(app), "the card waiting for its tag")
            await pilot.press("f6")
            await until(pilot, lambda: NOTE in shown(app), "the audit log with the tag's note")
            await pilot.press("f2")
            await until(pilot, lambda: niks[0] in shown(app), "the dashboard's events")
            assert app.return_code is None


class Broken(Screen[None]):
    """A screen whose building fails, as a defect in any screen would."""

    def compose(self) -> ComposeResult:
        raise RuntimeError("a defect [/] in a screen")


@pytest.mark.parametrize("console", ["operator", "supervisor"])
async def test_an_exception_in_a_console_is_written_to_the_log(tmp_path, console):
    settings = station_settings(tmp_path)
    configure_logging(settings.logging.file)
    store = await seeded_store(tmp_path, residents=2, blanks=2, queue=False)
    await store.close()
    async with await Store.open(settings.database.path, readonly=True) as watched:
        app = console_app(settings) if console == "operator" else SupervisorApp(settings, watched, "budi")
        with pytest.raises(RuntimeError, match="a defect"):
            async with app.run_test(size=(100, 30)) as pilot:
                if console == "operator":
                    await station_ready(pilot)
                await app.push_screen(Broken())
                await pilot.pause()
    entries = [json.loads(line) for line in settings.logging.file.read_text(encoding="utf-8").splitlines()
               if line.startswith("{\"")]  # fmt: skip
    crashed = [entry for entry in entries if entry.get("event") == "console_crashed"]
    assert crashed, entries
    assert "a defect [/] in a screen" in json.dumps(crashed[0]["exception"])
