"""A used printer the books never met, at the console: the fault dialog stops the queue and names the supervisor's
command; once it is run (from another terminal, as `station allocation reconcile --accept-printer`), Enter goes on.
The real app, a real SQLite file, the built-in emulator on a real pseudo-terminal."""

from __future__ import annotations

from console import books, jobs, printer_record
from console.engine import PrinterUnknown
from console.faults_text import fault_title
from console.i18n import t
from console.store import Store
from screens.fault import FaultScreen
from tests.factory import add_residents
from tests.station import emulated_printer
from tests.test_console_kit import console_app, screen_text, station_settings, until

BEFORE = 3  # cards the printer printed before it came to this station


async def test_the_fault_dialog_stops_on_a_used_printer_until_a_supervisor_accepts_it(tmp_path):
    settings = station_settings(tmp_path, language="en")
    async with emulated_printer(tmp_path) as (emu, printer):  # the state file the console's emulator loads
        for _ in range(BEFORE):
            await printer.take_blank()
            await printer.reject()
        serial = emu.status()["serial"]
    async with await Store.open(settings.database.path) as store:
        await add_residents(store, 2)
        await books.add_allocation(store, "JATAH-2026-11", 5, "2026-11", "test")
        await jobs.enqueue_ready(store, "test")

    app = console_app(settings)
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: app.station is not None and isinstance(app.screen, FaultScreen),
                    "the fault dialog at start")  # fmt: skip
        await until(pilot, lambda: f"--accept-printer {serial}" in screen_text(app), "the supervisor's command")
        assert fault_title(PrinterUnknown(reply=f"{serial} {BEFORE}")) in screen_text(app)
        store = app.station.store
        assert await jobs.count_in_state(store, jobs.PRINTED) == 0

        await pilot.press("enter")  # resuming alone does not go on
        await until(pilot, lambda: t("ui.fault.still") in screen_text(app) and not app.screen.recovering,
                    "the dialog to say the stop still stands")  # fmt: skip
        assert isinstance(app.screen, FaultScreen) and f"--accept-printer {serial}" in screen_text(app)

        async with await Store.open(settings.database.path) as other:  # the supervisor, in another terminal
            await printer_record.accept_printer(other, serial, "new printer from the regency office", "supervisor")
        await pilot.press("enter")
        await until(pilot, lambda: not isinstance(app.screen, FaultScreen), "the dialog to close")

        async def both_printed() -> bool:
            return await jobs.count_in_state(store, jobs.PRINTED) == 2

        await until(pilot, both_printed, "both cards printed")
        assert [j.card_counter for j in await jobs.untagged(store)] == [BEFORE + 1, BEFORE + 2]
