"""A new operator's day at 80x24, in xterm and on the Linux console: every input shows what is typed, every key of
the report screen works, the report fits, and no tag key is lost. The real app on a real SQLite station with six
cards printed by the built-in emulator (tests/test_console_snapshots.py makes it)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from textual import events
from textual.geometry import Region
from textual.widgets import Input

from console import books, clock, jobs
from console.store import Store
from screens.allocations import AllocationsScreen
from screens.dashboard import DashboardScreen
from screens.report import ReportScreen
from screens.residents import ResidentsScreen
from screens.tagging import TaggingScreen
from screens.widgets.dialogs import ConfirmDialog, FormDialog
from tests.test_console_kit import FIXED_NOW, screen_text, station_ready, until
from tests.test_console_snapshots import _make_station, app_on, made_station, station  # noqa: F401  (fixtures)

BLOCKS = set("▊▎▔▁▀▄█▌▐")


def drawn(widget) -> str:
    """What a widget draws now, its border included."""
    width, height = widget.outer_size
    return "\n".join(strip.text for strip in widget.render_lines(Region(0, 0, width, height)))


async def type_into(pilot, text: str) -> None:
    for char in text:
        await pilot.press(char if char != " " else "space")


async def assert_shows_typed(pilot, field: Input, text: str) -> None:
    field.focus()
    field.value = ""
    await type_into(pilot, text)
    await pilot.pause()
    shown = drawn(field)
    assert text in shown, f"{field.id} does not show what was typed: {shown!r}"
    if pilot.app.linux_console:
        assert not BLOCKS & set(shown), f"{field.id} draws block characters: {shown!r}"


@pytest.mark.parametrize("term", ["linux", "xterm-256color"])
async def test_every_input_shows_its_text(station, monkeypatch, term):
    monkeypatch.setenv("TERM", term)
    app = app_on(station)
    async with app.run_test(size=(80, 24)) as pilot:
        await station_ready(pilot)
        await pilot.press("f5")
        await until(pilot, lambda: isinstance(app.screen, AllocationsScreen) and app.screen.books, "the allocations")
        await pilot.press("n")
        await until(pilot, lambda: isinstance(app.screen, FormDialog), "the add form")
        await pilot.pause()
        period = app.screen.query_one("#field-period", Input)
        assert FIXED_NOW.strftime("%Y-%m") in drawn(period), drawn(period)
        for field in app.screen.query(Input):
            await assert_shows_typed(pilot, field, "202612")
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, AllocationsScreen), "back from the form")
        await pilot.press("h")
        await until(pilot, lambda: isinstance(app.screen, FormDialog), "the count form")
        for field in app.screen.query(Input):
            await assert_shows_typed(pilot, field, "93")
        await pilot.press("escape")
        await pilot.press("f3")
        await until(pilot, lambda: isinstance(app.screen, ResidentsScreen), "the residents")
        await assert_shows_typed(pilot, app.screen.query_one("#resident-search", Input), "SELONG")
        await pilot.press("f6")
        await until(pilot, lambda: isinstance(app.screen, ReportScreen) and app.screen.books is not None, "report")
        for key_, field_id in (("w", "#report-out"), ("g", "#report-grant")):
            await pilot.press(key_)
            await assert_shows_typed(pilot, app.screen.query_one(field_id, Input), "/tmp/x")
            await pilot.press("escape")
        await pilot.press("escape")
        await pilot.press("f4")
        await until(pilot, lambda: isinstance(app.screen, TaggingScreen) and app.screen.cards, "the tagging")
        await pilot.press("r", "5")
        await assert_shows_typed(pilot, app.screen.query_one("#tag-note", Input), "sobek")


async def open_report(pilot, key_: str = "l") -> ReportScreen:
    app = pilot.app
    await pilot.press(key_)
    await until(pilot, lambda: isinstance(app.screen, ReportScreen) and app.screen.books is not None
                and app.screen.query_one("#list-good").row_count > 0, "the report")  # fmt: skip
    return app.screen


async def test_the_main_screens_keys_leave_the_report(station):
    app = app_on(station)
    async with app.run_test(size=(80, 24)) as pilot:
        await station_ready(pilot)
        for key_, screen_type in (("f2", DashboardScreen), ("f3", ResidentsScreen), ("f4", TaggingScreen),
                                  ("f5", AllocationsScreen)):  # fmt: skip
            await open_report(pilot, "f6")
            await pilot.press(key_)
            await until(pilot, lambda kind=screen_type: isinstance(app.screen, kind), f"{key_} from the report")
            assert not any(isinstance(s, ReportScreen) for s in app.screen_stack)
            await pilot.press("escape")  # their footers say Esc goes home: home it is, not the report
            await until(pilot, lambda: isinstance(app.screen, DashboardScreen), f"home after {key_}")
            assert not any(isinstance(s, ReportScreen) for s in app.screen_stack)
        await open_report(pilot, "f6")
        await pilot.press("f6")
        await until(pilot, lambda: isinstance(app.screen, DashboardScreen), "F6 again closes the report")


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_the_report_fits_the_terminal(station, size):
    async with await Store.open(station / "station.db") as store:
        rows = await store.fetchall("SELECT nik FROM residents WHERE nik NOT IN (SELECT nik FROM jobs) LIMIT 30")
        await jobs.enqueue(store, [r["nik"] for r in rows], "operator")
    app = app_on(station)
    async with app.run_test(size=size) as pilot:
        await station_ready(pilot)
        await until(pilot, lambda: app.live.today.printed >= 36 and app.station.state == "empty", "30 more printed")
        for job in await jobs.untagged(app.station.store, 100):
            await jobs.tag(app.station.store, job.nik, True, "operator")
        screen = await open_report(pilot)
        table = screen.query_one("#list-good")
        await until(pilot, lambda: table.row_count == screen.page_size, "a full page")
        visible = table.size.height - 1
        assert visible >= (8 if size == (80, 24) else 20), f"only {visible} rows of the list on screen"
        assert table.row_count == visible, f"{table.row_count} rows on a page, {visible} on screen"
        footer = "\n".join(whole_screen_lines(app)[-1:])
        assert "Esc" in footer and "kembali" in footer, footer
        assert "Tekan W" in screen_text(app)
        await pilot.press("w")
        screen.query_one("#report-out", Input).value = str(station / "laporan")
        await pilot.press("enter")
        await until(pilot, lambda: "ditulis ke" in screen_text(app), "the report written")
        await until(pilot, lambda: "Tekan W" not in screen_text(app) and "Laporan sudah ditulis" in screen_text(app),
                    "the readiness line after W")  # fmt: skip


def whole_screen_lines(app) -> list[str]:
    """The terminal's lines as the operator sees them now."""
    return [strip.text for strip in app.screen._compositor.render_strips()]


async def print_more(station: Path, count: int) -> None:
    """Queue `count` more residents; the app prints them when it starts."""
    async with await Store.open(station / "station.db") as store:
        rows = await store.fetchall("SELECT nik FROM residents WHERE nik NOT IN (SELECT nik FROM jobs) LIMIT ?",
                                    (count,))  # fmt: skip
        await jobs.enqueue(store, [r["nik"] for r in rows], "operator")


async def good_niks(store) -> list[str]:
    return [r["nik"] for r in await store.fetchall("SELECT nik FROM jobs WHERE state = 'done_good'")]


async def test_no_tag_key_is_lost(station):
    await print_more(station, 25)  # 28 cards wait for their tag
    app = app_on(station)
    async with app.run_test(size=(80, 24)) as pilot:
        await station_ready(pilot)
        await until(pilot, lambda: app.live.untagged == 28 and app.station.state == "empty", "28 cards printed")
        before = await good_niks(app.station.store)
        await pilot.press("f4")
        screen = app.screen
        await until(pilot, lambda: isinstance(screen, TaggingScreen) and screen.current() is not None, "tagging")
        for _ in range(20):  # as a terminal delivers them, all twenty before any tag is written
            key_event = events.Key("b", "b")
            key_event.set_sender(app)
            app._driver.send_message(key_event)

        async def twenty_tags() -> bool:
            return len(await good_niks(app.station.store)) - len(before) >= 20

        await until(pilot, twenty_tags, "twenty tags from twenty presses")
        await until(pilot, lambda: not screen.pending, "the tags written")
        after = await good_niks(app.station.store)
        assert len(after) - len(before) == 20, f"20 presses gave {len(after) - len(before)} tags"
        assert len(set(after)) == len(after)
        await until(pilot, lambda: app.live.untagged == 8, "8 left")

        await pilot.press("left", "left")  # back among the tagged ones; End goes to the next untagged
        assert screen.current().state != jobs.PRINTED
        await pilot.press("end")
        assert screen.current().state == jobs.PRINTED
        await pilot.press(*["b"] * 8)
        await until(pilot, lambda: not screen.pending and app.live.untagged == 0, "all tagged")
        await until(pilot, lambda: "Semua kartu" in screen_text(app), "the all-tagged message")
        await pilot.press("b")  # nothing left to tag: said, not swallowed
        await until(pilot, lambda: "Tidak ada kartu yang menunggu tag" in screen_text(app), "B refused in words")

        await pilot.press("escape")
        await pilot.press("f4")  # opening again: not on an old, already tagged card
        await until(pilot, lambda: isinstance(app.screen, TaggingScreen), "tagging again")
        await until(pilot, lambda: "Semua kartu" in screen_text(app), "the all-tagged message on opening")
        assert app.screen.current() is None


@pytest.mark.parametrize("term", ["linux", "xterm-256color"])
async def test_nothing_that_matters_is_cut_at_80x24(tmp_path, monkeypatch, term):
    monkeypatch.setenv("TERM", term)
    monkeypatch.setattr(clock, "now", lambda: FIXED_NOW)
    station = tmp_path / "station"
    station.mkdir()
    await _make_station(station, cards_before=10_000)  # a printer that has printed ten thousand cards before
    async with await Store.open(station / "station.db") as store:
        await books.enter_count(store, "JATAH-2026-11", 1093, "gudang", "operator")  # SELISIH +999
    app = app_on(station)
    async with app.run_test(size=(80, 24)) as pilot:
        await station_ready(pilot)
        await until(pilot, lambda: "SELISIH +999" in screen_text(app) and "#10.006" in screen_text(app), "dashboard")
        await pilot.pause()
        shown = "\\n".join(whole_screen_lines(app))
        assert "kartu #10.006" in shown and "SELISIH +999" in shown, shown
        await pilot.press("f5")
        await until(pilot, lambda: isinstance(app.screen, AllocationsScreen) and app.screen.books, "allocations")
        await pilot.pause()
        shown = "\\n".join(whole_screen_lines(app))
        assert re.search(r"JATAH-2026-11 +100 ", shown), shown


async def test_the_residents_search_at_a_glance(station):
    app = app_on(station)
    async with app.run_test(size=(80, 24)) as pilot:
        await station_ready(pilot)
        await pilot.press("f3")
        screen = app.screen
        await until(pilot, lambda: isinstance(screen, ResidentsScreen) and screen.found, "the residents")
        target = screen.found[3]
        search = screen.query_one("#resident-search", Input)
        search.focus()
        await type_into(pilot, " ".join((target.nik[:4], target.nik[4:8], target.nik[8:12], target.nik[12:])))
        await pilot.press("enter")
        await until(pilot, lambda: [r.nik for r in screen.found] == [target.nik], "the NIK typed in groups")

        ready_here = await jobs.count_ready(app.station.store, target.kecamatan, target.kel_desa)
        await pilot.press("d")  # the question says how many
        await until(pilot, lambda: isinstance(app.screen, ConfirmDialog), "the village question")
        await until(pilot, lambda: f"Antrikan {ready_here} penduduk" in screen_text(app), "the count in the question")
        await pilot.press("y")
        await until(pilot, lambda: "diantrikan" in str(screen.query_one("#resident-message").content), "queued")

        search.focus()
        await type_into(pilot, "ZZZ")
        await until(pilot, lambda: screen.query_text == "ZZZ", "the new search")
        assert "diantrikan" not in str(screen.query_one("#resident-message").content)  # not the last search's


async def test_reports_and_rejected_grants_are_events_and_the_report_has_help(station):
    async with await Store.open(station / "station.db") as store:
        for job in await jobs.untagged(store, 10):
            await jobs.tag(store, job.nik, True, "operator")
    junk = station / "GRANT.json"
    junk.write_text("{}", encoding="utf-8")
    app = app_on(station)
    async with app.run_test(size=(120, 40)) as pilot:
        await station_ready(pilot)
        screen = await open_report(pilot)
        await pilot.press("w")
        screen.query_one("#report-out", Input).value = str(station / "laporan")
        await pilot.press("enter")
        await until(pilot, lambda: "ditulis ke" in screen_text(app), "the report written")
        await pilot.press("g")
        screen.query_one("#report-grant", Input).value = str(junk)
        await pilot.press("enter")
        await until(pilot, lambda: screen.query_one("#report-result").has_class("-error"),
                    "the grant rejected")  # fmt: skip
        await pilot.press("f1")
        await until(pilot, lambda: "Laporan (L di Beranda, atau F6)" in screen_text(app), "the report's help")
        await pilot.press("escape", "escape")
        await until(pilot, lambda: isinstance(app.screen, DashboardScreen), "home")
        await until(
            pilot,
            lambda: "laporan jatah JATAH-2026-11 dibuat" in screen_text(app) and "DITOLAK" in screen_text(app),
            "the report and the rejected grant among the events",
        )


async def test_the_supervisors_printer_panel_is_not_cut(tmp_path):
    import json
    import subprocess

    from console.owner import PrinterOwnership
    from screens.supervisor import SupervisorApp
    from tests.station import seeded_store
    from tests.test_console_kit import station_settings

    settings = station_settings(tmp_path)
    store = await seeded_store(tmp_path, residents=3, blanks=5)
    await store.close()
    ended = subprocess.Popen(["true"])  # a station run that has ended: the lock file still names it
    ended.wait()
    with PrinterOwnership(settings.database.path):
        pass
    lock = PrinterOwnership(settings.database.path).path
    lock.write_text(json.dumps(json.loads(lock.read_text()) | {"pid": ended.pid}))
    async with await Store.open(settings.database.path, readonly=True) as watched:
        app = SupervisorApp(settings, watched, "budi")
        async with app.run_test(size=(80, 24)) as pilot:
            await until(pilot, lambda: "Tidak ada yang memegang printer" in screen_text(app), "the holder line")
            await pilot.pause()
            assert any("Tidak ada yang memegang printer" in row for row in whole_screen_lines(app))
