"""`station supervise`: the supervisor's console follows a printing engine live, on a real database, and none of
its keys changes the station, except the pause/resume requests it records in the supervisor's name."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from textual.command import CommandInput, CommandList, CommandPalette

from console import jobs
from console.commands.supervise_cmd import supervisor_name
from console.errors import EXIT_USAGE, UsageError
from console.logs import configure_logging
from console.owner import PrinterOwnership
from console.store import Store
from screens.supervisor import (
    PagedScreen,
    SupervisorApp,
    SupervisorCommands,
    SupervisorHelp,
    WatchAudit,
    WatchBooks,
    WatchDashboard,
    WatchQueue,
    WatchUntagged,
)
from tests.station import emulated_printer, make_engine, seeded_store
from tests.test_console_kit import screen_text, station_settings, until

STATION = [sys.executable, "-m", "console.cli"]
ROOT = Path(__file__).resolve().parent.parent
QUIT_KEYS = {"q", "ctrl+q", "ctrl+c"}
# What an operator would press at the console: at the supervisor's they must do nothing.
OPERATOR_KEYS = ["t", "r", "j", "l", "n", "a", "h", "c", "b", "g", "x", "d", "s", "enter", "delete", "slash", "tab"]
TABLES = ("meta", "residents", "allocations", "jobs", "nik_locks", "spoiled", "stock_counts", "reports", "grants",
          "unlocks", "live_state")  # fmt: skip


def dump(database: Path) -> dict[str, list[tuple]]:
    """Everything the station keeps, except the supervisor's requests and their audit entries."""
    conn = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        tables = {name: conn.execute(f"SELECT * FROM {name} ORDER BY 1").fetchall() for name in TABLES}
        tables["audit"] = conn.execute(
            "SELECT seq, at, actor, action, subject, data, hash FROM audit "
            "WHERE action NOT IN ('queue.pause_requested', 'queue.resume_requested') ORDER BY seq"
        ).fetchall()
        return tables
    finally:
        conn.close()


def requests_made(database: Path) -> list[tuple]:
    conn = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        return conn.execute("SELECT kind, requester, done_at IS NOT NULL FROM requests ORDER BY id").fetchall()
    finally:
        conn.close()


def printed_count(app: SupervisorApp) -> int | None:
    return None if app.live is None else app.live.today.printed


async def test_the_supervisor_follows_the_engine_and_its_requests_are_carried_out(tmp_path):
    settings = station_settings(tmp_path)
    configure_logging(settings.logging.file)
    store = await seeded_store(tmp_path, residents=12, blanks=20)
    async with store, emulated_printer(tmp_path) as (_emulator, printer):
        engine = make_engine(store, printer)
        async with await Store.open(settings.database.path, readonly=True) as watched:
            app = SupervisorApp(settings, watched, "budi")
            async with app.run_test(size=(80, 24)) as pilot:
                await until(pilot, lambda: "0 / 12" in screen_text(app), "the queue before printing")
                assert "PENGAWAS (hanya lihat): budi" in screen_text(app)

                # Asked before any process holds the printer, a pause waits for one.
                await pilot.press("p")
                await until(pilot, lambda: "JEDA diminta budi, menunggu" in screen_text(app), "the pending pause")
                await engine.start()
                running = asyncio.create_task(engine.run(stop_when_idle=False))
                try:
                    await until(pilot, lambda: "DIJEDA" in screen_text(app) and "diminta" not in screen_text(app),
                                "the engine paused by the request")  # fmt: skip
                    assert printed_count(app) == 0 and engine.cards_printed == 0
                    assert app.screen.active_bindings["p"].binding.description == "Minta lanjut"

                    # Resumed, it prints; the supervisor's screen follows without another key.
                    await pilot.press("p")
                    seen: set[int] = set()

                    def all_printed() -> bool:
                        seen.add(printed_count(app) or 0)
                        return "12 / 12" in screen_text(app) and "ANTRIAN KOSONG" in screen_text(app)

                    await until(pilot, all_printed, "every card printed, on the supervisor's screen")
                    assert engine.cards_printed == 12
                    assert "kartu #12" in screen_text(app) and "Menunggu tag: 12 kartu" in screen_text(app)
                    assert len(seen) >= 2, f"the screen only ever showed {seen}"
                finally:
                    running.cancel()
                    await asyncio.gather(running, return_exceptions=True)
    assert requests_made(settings.database.path) == [("pause", "budi", 1), ("resume", "budi", 1)]
    async with await Store.open(settings.database.path, readonly=True) as store:
        actors = await store.fetchall("SELECT actor, action FROM audit WHERE action LIKE 'queue.%' ORDER BY seq")
    assert [tuple(row) for row in actors] == [
        ("budi", "queue.pause_requested"), ("budi", "queue.paused"),
        ("budi", "queue.resume_requested"), ("budi", "queue.resumed"),
    ]  # fmt: skip


async def _printed_station(tmp_path: Path, residents: int = 10, printed: int = 4):
    """A station with cards printed, one tagged bad, and jobs still queued and held."""
    settings = station_settings(tmp_path)
    configure_logging(settings.logging.file)
    async with await seeded_store(tmp_path, residents=residents, blanks=60) as store:
        async with emulated_printer(tmp_path) as (_emulator, printer):
            engine = make_engine(store, printer)
            await engine.start()
            await engine.run(max_cards=printed, stop_when_idle=True)
        [first] = await jobs.untagged(store, limit=1)
        await jobs.tag(store, first.nik, False, "operator", "gagal_cetak")
        queued = await jobs.next_queued(store)
        await jobs.hold(store, queued.id, "operator")
    return settings


def keys_of(bindings: list) -> list[str]:
    return sorted({name.strip() for binding in bindings for name in binding.key.split(",")} - QUIT_KEYS)


SCREEN_KEYS = {
    "dashboard": keys_of(WatchDashboard.BINDINGS), "queue": keys_of(PagedScreen.BINDINGS),
    "untagged": keys_of(PagedScreen.BINDINGS), "books": keys_of(WatchBooks.BINDINGS),
    "audit": keys_of(WatchAudit.BINDINGS),
}  # fmt: skip


async def test_no_key_and_no_command_changes_the_station_but_the_requests(tmp_path):
    settings = await _printed_station(tmp_path)
    database = settings.database.path
    before = dump(database)
    async with await Store.open(database, readonly=True) as watched:
        app = SupervisorApp(settings, watched, "siti")
        async with app.run_test(size=(80, 24)) as pilot:
            await until(pilot, lambda: app.live is not None and "4 / 9" in screen_text(app), "the dashboard")
            with PrinterOwnership(database):  # the supervisor never holds the printer
                pass

            async def press(*names: str) -> None:
                for name in names:
                    await pilot.press(name)
                    await until(pilot, lambda: not app._asking, "a request written")
                    assert app.return_code is None, f"{name} ended the supervisor's console"
                    if app.screen.is_modal and name != "f1":  # the help: close it to go on with the screen's keys
                        await pilot.press("escape")

            assert set(SCREEN_KEYS) == set(SupervisorApp.MODES)
            for mode, keys in SCREEN_KEYS.items():
                app.switch_mode(mode)
                await press(*keys, "p", *(OPERATOR_KEYS if mode in ("dashboard", "books") else ()))
            app.switch_mode("dashboard")
            await press(*keys_of(SupervisorApp.BINDINGS), "f1", *keys_of(SupervisorHelp.BINDINGS))
            if app.screen.is_modal:
                await pilot.press("escape")
            names = [name for name, _, _ in SupervisorCommands(app.screen)._commands()]
            modes = []
            for name in names:  # the last one quits
                await pilot.press("ctrl+p")
                await until(pilot, lambda: isinstance(app.screen, CommandPalette), "the palette")
                app.screen.query_one(CommandInput).value = name  # as if typed
                await until(pilot, lambda: app.screen.query_one(CommandList).highlighted is not None, name)
                await pilot.press("enter")
                await until(pilot, lambda: not isinstance(app.screen, CommandPalette) and not app._asking, name)
                if app.return_code is None:
                    modes.append(app.current_mode)
                if app.screen.is_modal:
                    await pilot.press("escape")
            assert app.return_code is not None, "the palette's last command quits"
            assert set(modes) == set(SupervisorApp.MODES), f"the palette opened {modes}"
    assert dump(database) == before
    made = requests_made(database)
    assert made and {(kind, who) for kind, who, _ in made} <= {("pause", "siti"), ("resume", "siti")}


async def test_every_view_reads_one_page_of_the_real_data(tmp_path):
    settings = await _printed_station(tmp_path, residents=30)
    async with await Store.open(settings.database.path, readonly=True) as watched:
        app = SupervisorApp(settings, watched, "siti", requests_allowed=False)
        async with app.run_test(size=(100, 16)) as pilot:
            await until(pilot, lambda: app.live is not None, "the first read")
            await pilot.press("f3")
            await until(pilot, lambda: isinstance(app.screen, WatchQueue) and "1–11 dari 26" in screen_text(app),
                        "the first page of the queue")  # fmt: skip
            assert len(app.screen.shown.rows) == app.screen.rows_fit() == 11  # only what fits was read
            await pilot.press("pagedown")
            await until(pilot, lambda: "12–22 dari 26" in screen_text(app), "the second page")
            await pilot.press("end")
            await until(pilot, lambda: "23–26 dari 26" in screen_text(app), "the last page")
            assert "ditahan (held_by_operator)" in screen_text(app)  # the held job comes after those waiting
            await pilot.press("home")
            await until(pilot, lambda: "1–11 dari 26" in screen_text(app), "the first page again")
            await pilot.press("f4")
            await until(pilot, lambda: isinstance(app.screen, WatchUntagged) and "1–3 dari 3" in screen_text(app),
                        "the three untagged cards")  # fmt: skip
            await pilot.press("f5")
            await until(pilot, lambda: isinstance(app.screen, WatchBooks) and "SEIMBANG" in screen_text(app), "books")
            await pilot.press("f6")
            await until(pilot, lambda: isinstance(app.screen, WatchAudit) and "mengikuti yang terbaru" in
                        screen_text(app), "the newest entries")  # fmt: skip
            total = app.screen.shown.total
            await pilot.press("end")
            await until(pilot, lambda: "residents.imported" in screen_text(app), "the oldest entry")
            assert app.screen.shown.offset > 0 and app.screen.shown.rows[-1][0] == "1"
            # Watch-only: no key asks anything, and the footer offers none.
            await pilot.press("p", "f7")
            assert "Minta" not in screen_text(app) and total == app.screen.shown.total
    assert requests_made(settings.database.path) == []


def test_the_supervisor_name_comes_from_the_ssh_login_or_as(monkeypatch):
    monkeypatch.setenv("SSH_USER", "budi")
    monkeypatch.setenv("USER", "supervisor")
    assert supervisor_name() == "budi"
    monkeypatch.delenv("SSH_USER")
    assert supervisor_name() == "supervisor"
    monkeypatch.delenv("USER")
    monkeypatch.setenv("LOGNAME", "siti")
    assert supervisor_name() == "siti"
    assert supervisor_name("  Ibu Siti ") == "Ibu Siti"
    for bad in ("", "a\tb", "x" * 65):
        with pytest.raises(UsageError, match="--as"):
            supervisor_name(bad)


def _supervise(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*STATION, "supervise", "--config", "config.toml", *args], cwd=folder, capture_output=True,
                          text=True, stdin=subprocess.DEVNULL, env=dict(os.environ, PYTHONPATH=str(ROOT)),
                          timeout=60)  # fmt: skip


def test_supervise_never_creates_a_database(tmp_path):
    station_settings(tmp_path)
    done = _supervise(tmp_path)
    assert done.returncode == EXIT_USAGE
    assert "station.db" in done.stderr and "tidak pernah membuatnya" in done.stderr
    assert not (tmp_path / "station.db").exists()


async def test_supervise_needs_a_terminal_and_a_sound_name(tmp_path):
    station_settings(tmp_path)
    async with await Store.open(tmp_path / "station.db"):
        pass
    done = await asyncio.to_thread(_supervise, tmp_path)
    assert done.returncode == EXIT_USAGE and "terminal" in done.stderr
    done = await asyncio.to_thread(_supervise, tmp_path, "--as", "")
    assert done.returncode == EXIT_USAGE and "--as" in done.stderr
