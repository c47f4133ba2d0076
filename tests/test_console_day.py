"""A whole print day at the console, from the keyboard: the real app, a real SQLite file, the built-in emulator on a
real pseudo-terminal at time scale 0, with a jam in the middle."""

from __future__ import annotations

import asyncio

from console import books, jobs
from console.demo import write_demo_csv
from console.faults_text import fault_title
from console.i18n import t
from console.logs import configure_logging
from console.resident_import import import_residents
from console.store import Store
from drivers.emulator.outlog import read_output_log
from drivers.faults import CardJam, CoverOpen
from screens.allocations import AllocationsScreen
from screens.dashboard import DashboardScreen
from screens.fault import FaultScreen
from screens.residents import ResidentsScreen
from screens.tagging import TaggingScreen
from screens.widgets.dialogs import ConfirmDialog, FormDialog
from tests.test_console_kit import console_app, screen_text, station_ready, station_settings, until

RESIDENTS = 8


async def type_text(pilot, text: str) -> None:
    for char in text:
        await pilot.press(char)


async def tag_current(pilot, screen: TaggingScreen, *keys: str, note: str | None = None) -> jobs.Job:
    """Tag the card on screen with `keys` (and a note), and wait until the walk-through has it."""
    job = screen.current()
    assert job is not None
    await pilot.press(*keys)
    if note is not None:
        await type_text(pilot, note)
        await pilot.press("enter")
    await until(
        pilot,
        lambda: not screen.pending and any(c.id == job.id and c.tagged_at != job.tagged_at for c in screen.cards),
        f"the tag of card {job.card_counter}",
    )
    return next(c for c in screen.cards if c.id == job.id)


async def test_a_whole_day_at_the_console(tmp_path):
    settings = station_settings(tmp_path, faults="jam@3", feeder=100)
    configure_logging(settings.logging.file)
    async with await Store.open(settings.database.path) as store:  # the import, through the core
        write_demo_csv(tmp_path / "residents.csv", RESIDENTS, seed=7)
        imported = await import_residents(store, tmp_path / "residents.csv", source="test")
    assert imported.added == RESIDENTS

    app = console_app(settings)
    async with app.run_test(size=(80, 24)) as pilot:
        await station_ready(pilot)
        assert isinstance(app.screen, DashboardScreen)
        store = app.station.store

        # The allocation received, through its screen.
        await pilot.press("j")
        await until(pilot, lambda: isinstance(app.screen, AllocationsScreen), "the allocations screen")
        await pilot.press("n")
        await until(pilot, lambda: isinstance(app.screen, FormDialog), "the allocation form")
        await type_text(pilot, "JATAH-2026-11")
        await pilot.press("enter")
        await type_text(pilot, "20")
        await pilot.press("enter", "enter")  # the period is filled in with this month
        await until(pilot, lambda: isinstance(app.screen, AllocationsScreen), "the form to close")
        [allocation] = await books.all_books(store)
        assert (allocation.allocation_id, allocation.received, allocation.in_stock) == ("JATAH-2026-11", 20, 20)

        # Everyone who is ready, queued from the residents screen; printing starts by itself.
        await pilot.press("f3")
        await until(pilot, lambda: isinstance(app.screen, ResidentsScreen) and len(app.screen.found) == RESIDENTS,
                    "the residents list")  # fmt: skip
        await pilot.press("down", "s")
        await until(pilot, lambda: isinstance(app.screen, ConfirmDialog), "the question")
        await pilot.press("enter")

        # The third card jams: the dialog says so, over the screen the operator is on.
        await until(pilot, lambda: isinstance(app.screen, FaultScreen), "the fault dialog")
        await until(pilot, lambda: "#3 " in screen_text(app), "the jammed card's number in the dialog")
        text = screen_text(app)
        assert fault_title(CardJam(reply="CARD JAM")) in text
        assert "rusak_fisik" in text
        jammed = await store.fetchone("SELECT * FROM jobs WHERE card_counter = 3")
        assert jammed["state"] == jobs.DONE_BAD and jammed["nik"] in text

        # Enter before anything was done: the printer still reports the jam, and the dialog stays, saying so.
        await pilot.press("enter")
        await until(pilot, lambda: t("ui.fault.still") in screen_text(app) and not app.screen.recovering,
                    "the dialog to say the fault still stands")  # fmt: skip
        assert fault_title(CardJam(reply="CARD JAM")) in screen_text(app)

        # The operator opens the cover and takes the card out, and presses Enter with the cover still open:
        # the dialog now says what the printer says now.
        await asyncio.to_thread(app.station.emulator.open_cover)
        await asyncio.to_thread(app.station.emulator.clear)
        await pilot.press("enter")
        await until(pilot, lambda: fault_title(CoverOpen(reply="COVER OPEN")) in screen_text(app)
                    and not app.screen.recovering, "the dialog to say the cover is open")  # fmt: skip
        assert isinstance(app.screen, FaultScreen)

        # The cover closed, Enter: printing goes on.
        await asyncio.to_thread(app.station.emulator.close_cover)
        await pilot.press("enter")
        await until(pilot, lambda: not isinstance(app.screen, FaultScreen), "the dialog to close")

        async def all_printed() -> bool:
            counts = await jobs.count_by_state(store)
            return counts[jobs.QUEUED] == 0 and counts[jobs.PRINTING] == 0 and counts[jobs.PRINTED] == RESIDENTS - 1

        await until(pilot, all_printed, "every card printed")

        # The walk-through: hopper order, one key a card, a correction with ←, one `lainnya` with a note.
        await pilot.press("f4")
        await until(pilot, lambda: isinstance(app.screen, TaggingScreen) and len(app.screen.cards) == RESIDENTS - 1,
                    "the cards to tag")  # fmt: skip
        screen = app.screen
        assert [c.card_counter for c in screen.cards] == [1, 2, 4, 5, 6, 7, 8]
        first = await tag_current(pilot, screen, "b")
        assert first.state == jobs.DONE_GOOD
        await pilot.press("left")
        await until(pilot, lambda: screen.current().id == first.id, "back to the first card")
        corrected = await tag_current(pilot, screen, "r", "3")
        assert (corrected.state, corrected.tag_reason) == (jobs.DONE_BAD, "rusak_fisik")
        await tag_current(pilot, screen, "g")
        await tag_current(pilot, screen, "r", "1")
        await tag_current(pilot, screen, "b")
        other = await tag_current(pilot, screen, "r", "5", note="LAMINASI MENGELUPAS")
        assert (other.tag_reason, other.tag_note) == ("lainnya", "LAMINASI MENGELUPAS")
        await tag_current(pilot, screen, "b")
        await tag_current(pilot, screen, "r", "4")
        assert all(c.state in (jobs.DONE_GOOD, jobs.DONE_BAD) for c in screen.cards)
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, DashboardScreen), "home")
        await until(pilot, lambda: app.live is not None and app.live.untagged == 0 and app.live.allocation.bad == 5,
                    "the dashboard to show the day's books")  # fmt: skip
        assert "SEIMBANG" in screen_text(app)

    # After the console closed: the books balance, and agree with what came out of the printer.
    async with await Store.open(settings.database.path) as store:
        [b] = await books.all_books(store)
        assert b.balanced
        assert (b.received, b.good, b.bad, b.untagged, b.spoiled, b.in_stock) == (20, 3, 5, 0, 0, 12)
        cards = await store.fetchall(
            "SELECT nik, card_counter, card_dest, state FROM jobs WHERE card_counter IS NOT NULL"
        )
        audit = await store.fetchall("SELECT action FROM audit WHERE action IN ('card.tagged', 'card.retagged')")
    out = read_output_log(settings.emulator.log)
    assert sorted((line["counter"], line["nik"], line["dest"]) for line in out) == sorted(
        (row["card_counter"], row["nik"], row["card_dest"]) for row in cards
    )
    assert [line["dest"] for line in out].count("removed") == 1
    assert len(out) == b.good + b.bad
    assert sorted(row["action"] for row in audit) == ["card.retagged"] + ["card.tagged"] * 7
