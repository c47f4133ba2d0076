"""`station supervise` on the regency ledger: one row per registered station, as each one's state, queue, cards
and blanks stand, following the stations live; Enter opens one station's own view and Esc comes back; a pause
asked there reaches that station alone."""

from __future__ import annotations

import asyncio
import io
from datetime import datetime, timedelta
from pathlib import Path

from rich.console import Console
from textual.widgets import DataTable

from console import books, jobs, live_state, pause, regency, stations
from console.config import Settings, load_settings
from console.engine import EMPTY, PAUSED, PRINTING, WAITING_TAGS
from console.errors import EXIT_USAGE
from console.store import Store
from console.text import time_of
from screens.supervisor import SupervisorApp, WatchDashboard, WatchUntagged
from screens.supervisor.help import supervisor_help
from screens.supervisor.regency import RegencyScreen
from tests.command import station, write_config
from tests.factory import add_residents
from tests.station import emulated_printer, make_engine
from tests.test_console_kit import FIXED_NOW, screen_text, until
from tests.test_ledger_roles import _station_id
from tests.test_ledger_roles import regency as regency_roles  # noqa: F401  (a fixture)

EAST, WEST, NORTH = "5203-01", "5203-02", "5203-03"


def supervisor_settings(folder: Path, url: str, language: str = "id") -> Settings:
    """The regency office's desk: a station id of its own that no station registered (it never prints)."""
    config = folder / "supervise.toml"
    config.write_text(f'[station]\nid = "5203-00"\nname = "Kantor Dukcapil"\nlanguage = "{language}"\n'
                      f'[database]\nurl = "{url}"\n'
                      f'[logging]\nfile = "station.log"\n', encoding="utf-8")  # fmt: skip
    return load_settings(config)


def rows(app: SupervisorApp) -> dict[str, list[str]]:
    """The regency's table as shown: each station's cells, by its id."""
    screen = next(s for s in app.screen_stack if isinstance(s, RegencyScreen))
    table = screen.query_one(DataTable)
    return {str(key.value): [str(cell) for cell in table.get_row(key)] for key in table.rows}


async def stations_of_a_regency(url: str) -> tuple[Store, Store, Store, list[str]]:
    """Three stations: east with 10 blanks, west with 5 and two jobs queued for it alone, north with none and
    paused by its operator; four jobs queued for any station."""
    east = await Store.open(url, station_id=EAST)
    async with east.transaction("admin") as tx:
        await stations.add(tx, WEST, "UPT Masbagik", None)
        await stations.add(tx, NORTH, "UPT Pringgabaya", None)
    west, north = await Store.open(url, station_id=WEST), await Store.open(url, station_id=NORTH)
    niks = await add_residents(east, 6)
    await books.add_allocation(east, "JATAH-2026-12", 30, "2026-12", "admin")
    await books.issue(east, "JATAH-2026-12", EAST, 10, "admin")
    await books.issue(east, "JATAH-2026-12", WEST, 5, "admin")
    await jobs.enqueue(east, niks[:2], "admin", for_station=WEST)
    await jobs.enqueue(east, niks[2:], "admin")
    async with north.transaction("siti") as tx:
        await pause.record(tx, "siti")
    return east, west, north, niks


async def test_the_regency_table_follows_each_station_and_a_pause_reaches_its_station_alone(ledger, tmp_path):
    east, west, north, niks = await stations_of_a_regency(ledger.url)
    settings = supervisor_settings(tmp_path, ledger.url)
    (tmp_path / "east").mkdir()
    (tmp_path / "west").mkdir()
    try:
        async with (
            await Store.open(settings.database, readonly=True, create=False) as watched,
            emulated_printer(tmp_path / "east") as (_, east_printer),
            emulated_printer(tmp_path / "west") as (_, west_printer),
        ):
            app = SupervisorApp(settings, watched, "budi")
            async with app.run_test(size=(100, 30)) as pilot:
                await until(pilot, lambda: app.regency is not None and len(rows(app)) == 3, "the three stations")
                table = rows(app)
                assert table[EAST][1:] == ["5203-01", "belum cetak", "0", "0/0", "10/10"]
                assert table[WEST][1:] == ["UPT Masbagik", "belum cetak", "2", "0/0", "5/5"]
                assert table[NORTH][2:] == ["belum cetak · jeda", "0", "0/0", "0/0"]
                books_line = screen_text(app)
                assert "blangko diterima 30 · dikeluarkan ke stasiun 15 · stok kabupaten 15" in books_line
                assert "antrian untuk stasiun mana saja 4" in books_line
                assert "Buka stasiun" in footer_text(app) and "Minta jeda" not in footer_text(app)

                # East prints the four queued for any station: the table follows without a key pressed.
                east_engine = make_engine(east, east_printer)
                await east_engine.start()
                running = [asyncio.create_task(east_engine.run(stop_when_idle=False))]
                try:
                    await until(pilot, lambda: rows(app)[EAST][2] == "ANTRIAN KOSONG", "east printed all it may")
                    assert rows(app)[EAST][3:] == ["0", "0/0", "6/10"] and "mana saja 0" in screen_text(app)
                    await jobs.tag(east, niks[2], True, "ani")
                    await jobs.tag(east, niks[3], False, "ani", reason="gagal_cetak")
                    await until(pilot, lambda: rows(app)[EAST][4] == "1/1", "today's good and bad cards")

                    # West's own view: its name in the title, its pause asked in the supervisor's name.
                    await pilot.press("down", "enter")
                    await until(pilot, lambda: isinstance(app.screen, WatchDashboard) and app.store.station_id == WEST
                                and "Minta jeda" in footer_text(app) and "Hari ini:" in screen_text(app),
                                "west's own view")  # fmt: skip
                    assert "UPT Masbagik" in screen_text(app)  # the title names the station watched
                    its_own = screen_text(app)  # west's cards, events and last card: none (east's are east's)
                    assert "Hari ini: 0 kartu" in its_own and "dicetak" not in its_own and "Terakhir:" not in its_own
                    await pilot.press("f4")  # west's hopper: east's two untagged cards lie in east's
                    await until(pilot, lambda: isinstance(app.screen, WatchUntagged) and app.screen.shown is not None,
                                "west's untagged cards")  # fmt: skip
                    assert app.screen.shown.total == 0
                    await pilot.press("escape")
                    await until(pilot, lambda: isinstance(app.screen, WatchDashboard), "west's own view again")
                    await pilot.press("p")
                    await until(pilot, lambda: "JEDA diminta budi" in screen_text(app), "the pause asked of west")
                    await pilot.press("escape")
                    await until(pilot, lambda: isinstance(app.screen, RegencyScreen)
                                and rows(app)[WEST][2] == "belum cetak +1 minta", "back to the regency")  # fmt: skip

                    # West's engine carries its request out; east, printing on, never sees it.
                    west_engine = make_engine(west, west_printer)
                    await west_engine.start()
                    running.append(asyncio.create_task(west_engine.run(stop_when_idle=False)))
                    await until(pilot, lambda: rows(app)[WEST][2] == "DIJEDA", "west paused, on the table")
                    assert west_engine.state == PAUSED and east_engine.state == EMPTY
                    assert rows(app)[EAST][2] == "ANTRIAN KOSONG"
                finally:
                    for task in running:
                        task.cancel()
                    await asyncio.gather(*running, return_exceptions=True)
        asked = await east.fetchall("SELECT station_id, requester, done_at IS NOT NULL AS done FROM requests")
        assert [(r["station_id"], r["requester"], bool(r["done"])) for r in asked] == [(WEST, "budi", True)]
        paused = await east.fetchall("SELECT station_id, actor FROM audit WHERE action = 'queue.paused' ORDER BY seq")
        assert [(r["station_id"], r["actor"]) for r in paused] == [(NORTH, "siti"), (WEST, "budi")]
        assert await west.scalar("SELECT count(*) FROM jobs WHERE state = 'queued' AND queued_for = ?", (WEST,)) == 2
    finally:
        for store in (east, west, north):
            await store.close()


def footer_text(app: SupervisorApp) -> str:
    return " ".join(binding.description for _, binding, enabled, _ in app.active_bindings.values() if enabled)


async def test_supervise_station_opens_its_view_first_and_esc_shows_the_regency(ledger, tmp_path):
    east, west, north, _ = await stations_of_a_regency(ledger.url)
    settings = supervisor_settings(tmp_path, ledger.url)
    await west.hold_claims()  # west's printing process, connected (as its engine's start does)
    async with west.transaction("test") as tx:  # it says it prints, and then writes nothing (its link cut unnoticed)
        await live_state.publish(tx, live_state.ENGINE, {"state": PRINTING, "fault": None})
    said = await west.scalar("SELECT at FROM live_state WHERE station_id = ?", (WEST,))
    later = datetime.fromisoformat(said) + timedelta(seconds=regency.SILENT_AFTER_S + 60)
    try:
        async with await Store.open(settings.database, readonly=True, create=False, station_id=WEST) as watched:
            app = SupervisorApp(settings, watched, "budi", regency_first=False, station_name="UPT Masbagik",
                                clock=lambda: later)  # fmt: skip
            async with app.run_test(size=(80, 24)) as pilot:
                await until(pilot, lambda: isinstance(app.screen, WatchDashboard) and "0 / 6" in screen_text(app)
                            and "Semua" in footer_text(app), "west's own view first")  # fmt: skip
                assert "UPT Masbagik" in screen_text(app) and "stasiun tidak menjawab" in screen_text(app)
                await pilot.press("escape")
                await until(pilot, lambda: isinstance(app.screen, RegencyScreen) and len(rows(app)) == 3, "the regency")
                assert rows(app)[WEST][2] == f"DIAM sejak {time_of(said)[:5]}" and rows(app)[EAST][2] == "belum cetak"
                # A state published without an audit entry shows too (the clock stands still here).
                await east.hold_claims()
                async with east.transaction("test") as tx:
                    await live_state.publish(tx, live_state.ENGINE, {"state": WAITING_TAGS, "fault": None})
                await until(pilot, lambda: rows(app)[EAST][2] == "MENUNGGU TAG", "east's new state, unaudited")
                # East's process gone (its connections with it): silent since its last word, at once.
                east_said = await east.scalar("SELECT at FROM live_state WHERE station_id = ?", (EAST,))
                await east.close()
                await until(pilot, lambda: rows(app)[EAST][2] == f"DIAM sejak {time_of(east_said)[:5]}", "east gone")
                # No station is chosen on the regency's table: P asks nothing of anyone, F3 opens nothing.
                await pilot.press("p", "f3")
                assert isinstance(app.screen, RegencyScreen) and "Minta jeda" not in footer_text(app)
                await pilot.press("f1")  # the help names the regency's keys (on a station's file it does not)
                await until(
                    pilot, lambda: "Kabupaten (buku besar)" in screen_text(app), "the regency's keys in the help"
                )
                assert "Buka stasiun" in screen_text(app)
                await pilot.press("escape")
                await until(pilot, lambda: isinstance(app.screen, RegencyScreen), "the help closed")
                await pilot.press("down", "down", "enter")
                await until(pilot, lambda: isinstance(app.screen, WatchDashboard) and app.store.station_id == NORTH
                            and "DIJEDA oleh siti" in screen_text(app), "north's own view")  # fmt: skip
                assert "UPT Pringgabaya" in screen_text(app) and "UPT Masbagik" not in screen_text(app)
        assert await west.scalar("SELECT count(*) FROM requests") == 0
    finally:
        for store in (east, west, north):
            await store.close()


def test_supervise_station_names_a_known_station_and_only_its_own_on_a_station_file(ledger, tmp_path):
    asyncio.run(_registered(ledger.url))
    (tmp_path / "ledger").mkdir()
    on_ledger = write_config(tmp_path / "ledger", database={"path": None, "url": ledger.url})
    done = station(on_ledger, "supervise", "--station", "5203-09")
    assert done.returncode == EXIT_USAGE and "station 5203-09 is unknown" in done.stderr
    assert "5203-01, 5203-02" in done.stderr
    done = station(on_ledger, "supervise", "--station", WEST)  # known: it goes on, as far as the terminal
    assert done.returncode == EXIT_USAGE and "terminal" in done.stderr

    on_file = write_config(tmp_path)
    asyncio.run(_registered(str(tmp_path / "station.db"), ()))
    done = station(on_file, "supervise", "--station", WEST, cwd=tmp_path)
    assert done.returncode == EXIT_USAGE and "station 5203-01's own file" in done.stderr
    done = station(on_file, "supervise", "--station", EAST, cwd=tmp_path)
    assert done.returncode == EXIT_USAGE and "terminal" in done.stderr


async def _registered(database: str, others: tuple[str, ...] = (WEST,)) -> None:
    async with await Store.open(database, station_id=EAST) as store:
        for other in others:
            async with store.transaction("admin") as tx:
                await stations.add(tx, other, other, None)


def test_the_regency_at_80x24(ledger, tmp_path, snap_compare):
    """The regency's table and books line at 80x24: every column whole, the keys in the footer."""
    opened = asyncio.run(_snapshot_regency(ledger.url, tmp_path))
    app, stores = opened[0], opened[1:]
    try:

        async def ready(pilot) -> None:
            await until(pilot, lambda: isinstance(app.screen, RegencyScreen) and len(rows(app)) == 3, "the table")

        assert snap_compare(app, terminal_size=(80, 24), run_before=ready)
    finally:
        asyncio.run(_close(stores))


async def _snapshot_regency(url: str, folder: Path) -> tuple:
    east, west, north, _ = await stations_of_a_regency(url)
    settings = supervisor_settings(folder, url)
    watched = await Store.open(settings.database, readonly=True, create=False)
    return SupervisorApp(settings, watched, "budi", clock=lambda: FIXED_NOW), watched, east, west, north


async def _close(stores) -> None:
    for store in stores:
        await store.close()


async def test_a_station_s_own_role_cannot_ask_another_station_and_is_told_so(regency_roles, tmp_path):
    _, configs = regency_roles
    settings = load_settings(configs["east"])  # a supervisor on east's own role (in English)
    west = _station_id(configs["west"])
    async with await Store.open(settings.database, readonly=True, create=False) as watched:
        app = SupervisorApp(settings, watched, "budi")
        async with app.run_test(size=(80, 24)) as pilot:
            await until(pilot, lambda: app.regency is not None and west in rows(app), "the stations")
            await pilot.press(*["down"] * list(rows(app)).index(west), "enter")
            await until(pilot, lambda: isinstance(app.screen, WatchDashboard) and app.store.station_id == west
                        and "Ask to pause" in footer_text(app), "west's own view")  # fmt: skip
            await pilot.press("p")
            said = lambda: [str(n.message) for n in app._notifications]
            await until(pilot, lambda: any("The request was not recorded" in m for m in said()), "the refusal, said")
            assert any("row-level security" in m and "requests" in m for m in said()) and app.is_running
            assert not app._asking
        assert await watched.scalar("SELECT count(*) FROM requests") == 0


async def test_the_regency_view_waits_for_its_ledger_and_follows_again(ledger, tmp_path):
    east, west, north, _ = await stations_of_a_regency(ledger.url)
    settings = supervisor_settings(tmp_path, ledger.url)
    said = lambda: " ".join(str(n.message) for n in app._notifications)
    try:
        async with await Store.open(settings.database, readonly=True, create=False) as watched:
            app = SupervisorApp(settings, watched, "budi")
            async with app.run_test(size=(80, 24)) as pilot:
                await until(pilot, lambda: app.regency is not None and len(rows(app)) == 3, "the three stations")
                ledger.server.stop("immediate")
                try:
                    await until(pilot, lambda: "Ledger kabupaten tidak menjawab" in said(), "the ledger away, said")
                    assert app.is_running and len(rows(app)) == 3  # the last data stays on screen
                finally:
                    ledger.server.start()
                await until(pilot, lambda: "menjawab lagi" in said(), "the ledger back, said")
                async with await Store.open(ledger.url, station_id=EAST) as again:  # east's process, back
                    await again.hold_claims()
                    async with again.transaction("test") as tx:
                        await live_state.publish(tx, live_state.ENGINE, {"state": WAITING_TAGS, "fault": None})
                    await until(pilot, lambda: rows(app)[EAST][2] == "MENUNGGU TAG", "the table following again")
    finally:
        for store in (east, west, north):
            await store.close()


def test_a_station_file_s_help_says_nothing_of_the_regency():
    def words(on_ledger: bool) -> str:
        console = Console(width=120, file=io.StringIO(), record=True, color_system=None)
        console.print(supervisor_help(SupervisorApp.BINDINGS, on_ledger))
        return console.export_text()

    assert "Kabupaten" not in words(False) and "Semua" not in words(False)
    assert "Kabupaten (buku besar)" in words(True) and "Semua" in words(True)
