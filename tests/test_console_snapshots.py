"""What each screen looks like, at 80x24 and 120x40, compared with the stored SVG snapshots (pytest-textual-snapshot).

The station is made once with the clock frozen, and every test runs on a copy of it: fixed residents, six cards
printed by the engine on the built-in emulator (a fixed serial number), three of them tagged, a physical count one
blank short. Accept a deliberate change with `pytest tests/test_console_snapshots.py --snapshot-update`, then look
at the SVGs.
"""

from __future__ import annotations

import asyncio
import json
import re
import shutil
from pathlib import Path

import pytest
from textual.geometry import Region

from console import books, clock, jobs, printer_record
from console.config import load_settings
from console.demo import write_demo_csv
from console.engine import PrinterUnknown
from console.i18n import t
from console.logs import configure_logging
from console.printing import printer_session
from console.resident_import import import_residents
from console.store import Store
from drivers.emulator import EmulatorServer
from screens.allocations import AllocationsScreen
from screens.dashboard import DashboardScreen
from screens.fault import FaultScreen
from screens.handover import HandoverScreen
from screens.help import HelpScreen
from screens.report import ReportScreen
from screens.residents import ResidentsScreen
from screens.tagging import TaggingScreen
from tests.test_console_kit import FIXED_NOW, console_app, screen_text, station_ready, station_settings, until

SIZES = {"80x24": (80, 24), "120x40": (120, 40)}
PRINTED = 6


async def _make_station(folder: Path, cards_before: int = 0) -> None:
    """`cards_before`: cards the printer had printed before (its counter starts there)."""
    settings = station_settings(folder)
    configure_logging(settings.logging.file)
    with EmulatorServer.pty(feeder=100, time_scale=0, state=settings.emulator.state, log=settings.emulator.log,
                            serial="EMU0004201"):  # fmt: skip
        pass  # the state file now names this printer
    if cards_before:
        state = json.loads(settings.emulator.state.read_text(encoding="utf-8"))
        settings.emulator.state.write_text(json.dumps(state | {"cards": cards_before}), encoding="utf-8")
    async with await Store.open(settings.database.path) as store:
        write_demo_csv(folder / "residents.csv", 40, seed=11)
        await import_residents(store, folder / "residents.csv", source="snapshot")
        await books.add_allocation(store, "JATAH-2026-11", 100, "2026-11", "operator")
        niks = [
            row["nik"] for row in await store.fetchall("SELECT nik FROM residents ORDER BY nik LIMIT ?", (PRINTED,))
        ]
        await jobs.enqueue(store, niks, "operator")
        if cards_before:  # a used printer new to these books stops the queue until a supervisor accepts it
            async with printer_session(settings, store) as session:
                with pytest.raises(PrinterUnknown):
                    await session.engine.start()
            await printer_record.accept_printer(store, "EMU0004201", "printer moved from another counter", "operator")
        async with printer_session(settings, store) as session:
            await session.engine.start()
            await session.engine.run(stop_when_idle=True)
        for nik, good, reason in ((niks[0], True, None), (niks[1], True, None), (niks[2], False, "gagal_cetak")):
            await jobs.tag(store, nik, good, "operator", reason)
        await books.enter_count(store, "JATAH-2026-11", 93, "gudang", "operator")


@pytest.fixture(scope="module")
def made_station(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("station")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(clock, "now", lambda: FIXED_NOW)
        asyncio.run(_make_station(folder))
    return folder


@pytest.fixture
def station(made_station, tmp_path, monkeypatch) -> Path:
    """A copy of the made station, with the clock still frozen."""
    monkeypatch.setattr(clock, "now", lambda: FIXED_NOW)
    folder = tmp_path / "station"
    shutil.copytree(made_station, folder)
    return folder


def app_on(folder: Path):
    return console_app(load_settings(folder / "config.toml"), clock=lambda: FIXED_NOW)


async def _dashboard_ready(pilot) -> None:
    app = await station_ready(pilot)
    await until(pilot, lambda: app.station.printer_status is not None and app.station.state == "empty"
                and app.live.today.printed == PRINTED and "ANTRIAN KOSONG" in screen_text(app)
                and t("ui.queue.hint_empty") in screen_text(app), "a still dashboard")  # fmt: skip


def open_screen(key: str, screen_type: type, ready) -> object:
    async def run_before(pilot) -> None:
        await _dashboard_ready(pilot)
        await pilot.press(key)
        app = pilot.app
        await until(pilot, lambda: isinstance(app.screen, screen_type) and ready(app), f"{screen_type.__name__}")

    return run_before


def drawn(widget) -> str:
    """What a widget draws now (a table's columns are sized when it draws, after its rows arrive)."""
    return "\n".join(strip.text for strip in widget.render_lines(Region(0, 0, widget.size.width, widget.size.height)))


SCREENS = {
    "dashboard": (None, DashboardScreen, lambda app: True),
    "residents": ("f3", ResidentsScreen,
                  lambda app: app.screen.found and "dari 40" in screen_text(app) and "Kunci:" in screen_text(app)),
    "tagging": ("f4", TaggingScreen, lambda app: app.screen.cards and "Nama " in screen_text(app)),
    "allocations": ("f5", AllocationsScreen, lambda app: app.screen.books and "SELISIH -1" in screen_text(app)),
    "help": ("f1", HelpScreen, lambda app: True),
    "report": ("f6", ReportScreen, lambda app: getattr(app.screen, "books", None) is not None
               and "belum ditandai" in screen_text(app) and app.screen.query_one("#list-bad").row_count == 1
               and re.search(r"\d{16}", drawn(app.screen.query_one("#list-good"))) is not None),
    "handover": ("f9", HandoverScreen, lambda app: getattr(app.screen, "progress", None)
                 and app.screen.query_one("#handover-batches").has_focus
                 and app.screen.query_one("#handover-batches").row_count == len(app.screen.progress)
                 and re.search(r"52.03.01.2002", drawn(app.screen.query_one("#handover-batches"))) is not None),
}  # fmt: skip


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("name", SCREENS)
def test_screen(name, size, station, snap_compare):
    key, screen_type, ready = SCREENS[name]
    run_before = _dashboard_ready if key is None else open_screen(key, screen_type, ready)
    assert snap_compare(app_on(station), terminal_size=SIZES[size], run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_fault_dialog(size, station, snap_compare):
    config = station / "config.toml"
    config.write_text(config.read_text().replace('faults = ""', 'faults = "jam@1"'))

    async def queue_one() -> None:
        async with await Store.open(station / "station.db") as store:
            [row] = await store.fetchall("SELECT nik FROM residents ORDER BY nik DESC LIMIT 1")
            await jobs.enqueue(store, [row["nik"]], "operator")

    asyncio.run(queue_one())

    async def run_before(pilot) -> None:
        app = pilot.app
        await until(pilot, lambda: isinstance(app.screen, FaultScreen) and "#7 " in screen_text(app)
                    and app.live is not None and app.live.allocation.bad == 2, "the jam's dialog")  # fmt: skip

    assert snap_compare(app_on(station), terminal_size=SIZES[size], run_before=run_before)


def test_dashboard_on_the_linux_console(station, snap_compare, monkeypatch):
    monkeypatch.setenv("TERM", "linux")
    assert snap_compare(app_on(station), terminal_size=(80, 24), run_before=_dashboard_ready)


LINUX_INPUTS = {  # every input of every screen, typed into, on the Linux console
    "add_allocation": ("f5", AllocationsScreen, ("n",), "JATAH-2026-12"),
    "physical_count": ("f5", AllocationsScreen, ("h",), "93"),
    "report_folder": ("f6", ReportScreen, ("w",), "/srv/laporan"),
    "report_grant": ("f6", ReportScreen, ("g",), "/media/usb/GRANT.json"),
    "tag_note": ("f4", TaggingScreen, ("r", "5"), "sobek"),
    "resident_search": ("f3", ResidentsScreen, (), "AMAQ"),
    "handover_collect": ("f9", HandoverScreen, ("a",), "5203011234560001"),
}


@pytest.mark.parametrize("name", LINUX_INPUTS)
def test_inputs_on_the_linux_console(name, station, snap_compare, monkeypatch):
    monkeypatch.setenv("TERM", "linux")
    screen_key, screen_type, keys, typed = LINUX_INPUTS[name]

    async def run_before(pilot) -> None:
        await open_screen(screen_key, screen_type, SCREENS[screen_type_name(screen_type)][2])(pilot)
        await pilot.press(*keys)
        await pilot.pause()
        await pilot.press(*typed)
        app = pilot.app
        await until(pilot, lambda: app.focused is not None and getattr(app.focused, "value", "").endswith(typed),
                    "the text typed")  # fmt: skip
        if isinstance(app.screen, ResidentsScreen):  # the search runs once typing pauses
            await until(pilot, lambda: app.screen.query_text == typed and app.screen.found
                        and all(typed in r.nama for r in app.screen.found)
                        and "dari …" not in screen_text(app)
                        and app.screen.found[0].nik in str(app.screen.query_one("#resident-detail").content),
                        "the search's page and its first record")  # fmt: skip
        await pilot.pause()

    assert snap_compare(app_on(station), terminal_size=(80, 24), run_before=run_before)


def screen_type_name(screen_type: type) -> str:
    return next(name for name, (_, kind, _) in SCREENS.items() if kind is screen_type)


async def test_the_tagging_title_is_whole_at_80_columns_without_sign_in(station):
    """The screen's title (which card, where in the hopper, how many left) is never cut at 80 columns, also when
    the title bar says "tanpa masuk" and the time."""
    app = app_on(station)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_screen("f4", TaggingScreen, SCREENS["tagging"][2])(pilot)
        await pilot.pause()
        bar = drawn(app.screen.query_one("#title-text")) + drawn(app.screen.query_one("#title-who"))
        assert "Periksa kartu #4 · 1 dari 3 · 3 belum ditandai" in bar and "tanpa masuk" in bar
        assert "28-11 09:14" in drawn(app.screen.query_one("#title-clock"))


def test_residents_on_the_linux_console(station, snap_compare, monkeypatch):
    monkeypatch.setenv("TERM", "linux")
    run_before = open_screen("f3", ResidentsScreen, SCREENS["residents"][2])
    assert snap_compare(app_on(station), terminal_size=(80, 24), run_before=run_before)


async def test_the_residents_table_fits_without_scrollbars_on_the_linux_console(station, monkeypatch):
    """On the Linux console the table has a border: its columns still fit, so no scrollbar is drawn (in block
    glyphs that console fonts lack) and no row of the page is lost to one."""
    monkeypatch.setenv("TERM", "linux")
    app = app_on(station)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_screen("f3", ResidentsScreen, SCREENS["residents"][2])(pilot)
        await pilot.pause()
        table = app.screen.query_one("#resident-table")
        assert table.virtual_size.width <= table.size.width
        assert not table.show_horizontal_scrollbar and not table.show_vertical_scrollbar
        text = drawn(table)
        assert not set(text) & set("▁▂▃▄▅▆▇█▉▊▋▌▍▎▏")
        assert len(app.screen.found) == table.size.height - 1  # every row below the heading holds a resident


async def test_a_long_operator_name_gives_way_to_the_tagging_title_at_80_columns(station):
    app = app_on(station)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_screen("f4", TaggingScreen, SCREENS["tagging"][2])(pilot)
        app.who_line = "Baiq Nurul Hidayati Rahmawati (supervisor)"  # as the title bar says who signed in
        await pilot.pause()
        assert "Periksa kartu #4 · 1 dari 3 · 3 belum ditandai" in drawn(app.screen.query_one("#title-text"))
        who = drawn(app.screen.query_one("#title-who"))
        assert who.startswith("Baiq Nurul") and "…" in who
