"""The residents screen on a database of many residents: a page at a time, the record with its lock and history,
queueing one and being refused in words."""

from __future__ import annotations

from console import books, jobs, locks
from console.clock import now_iso
from console.logs import configure_logging
from console.store import Store
from screens.residents import ResidentsScreen, ResidentTable
from screens.widgets.dialogs import ConfirmDialog
from tests.test_console_kit import console_app, screen_text, station_ready, station_settings, until

MANY = 20_000


def nik_of(i: int) -> str:
    """A structurally valid NIK of Selong (52.03.07), a man born 1 January of 1990 onwards: 9,999 a year."""
    year, serial = divmod(i - 1, 9999)
    return f"5203070101{90 + year:02d}{serial + 1:04d}"


async def add_many_residents(store: Store, count: int) -> None:
    at = now_iso()
    async with store.transaction("test") as tx:
        await tx.executemany(
            "INSERT INTO residents (nik, nama, tempat_lahir, tanggal_lahir, jenis_kelamin, alamat, rt, rw, kel_desa, "
            "kecamatan, agama, status_perkawinan, pekerjaan, imported_at, updated_at) "
            "VALUES (?, ?, 'SELONG', ?, 'LAKI-LAKI', 'JL. PAHLAWAN NO. 7', '002', '001', 'PANCOR', 'SELONG', "
            "'ISLAM', 'KAWIN', 'PETANI', ?, ?)",
            [(nik_of(i), f"LALU AHMAD {i}", f"19{90 + (i - 1) // 9999}-01-01", at, at) for i in range(1, count + 1)],
        )


async def lock_a_card(store: Store, nik: str, counter: int) -> None:
    """A card printed for `nik`, as the engine books it, waiting for its tag."""
    await jobs.enqueue(store, [nik], "test")
    job = await jobs.next_queued(store)
    async with store.transaction("test") as tx:
        allocation = await books.take_blank(tx)
        await locks.lock_for_job(tx, nik, job.id, "2026-11-28T08:30:00.000+08:00")
        await jobs.set_state(tx, job.id, jobs.PRINTING, allocation_id=allocation, counter_before=counter - 1)
        await jobs.set_state(tx, job.id, jobs.PRINTED, card_counter=counter, card_dest="hopper",
                             printed_at="2026-11-28T08:30:05.000+08:00")  # fmt: skip


async def type_text(pilot, text: str) -> None:
    for char in text:
        await pilot.press(char)


async def test_search_shows_one_page_of_many_and_the_lock(tmp_path):
    settings = station_settings(tmp_path, hopper=10)
    configure_logging(settings.logging.file)
    locked = nik_of(77)
    async with await Store.open(settings.database.path) as store:
        await add_many_residents(store, MANY)
        await books.add_allocation(store, "JATAH-2026-11", 100, "2026-11", "test")
        await lock_a_card(store, locked, counter=41)
        async with store.transaction("test") as tx:  # the printer stays idle: no blanks left to spend
            await tx.execute("UPDATE station_stock SET in_stock = 0, issued = 1")
            await tx.execute("UPDATE allocations SET received = 1")

    app = console_app(settings)
    async with app.run_test(size=(80, 24)) as pilot:
        await station_ready(pilot)
        await pilot.press("f3")
        await until(pilot, lambda: isinstance(app.screen, ResidentsScreen) and app.screen.found, "the first page")
        screen = app.screen
        table = screen.query_one(ResidentTable)
        await until(pilot, lambda: "20.000" in screen_text(app), "the total")
        assert 3 <= table.row_count == screen.page_size <= 20  # the rows on screen, never the twenty thousand

        # Page down: the next rows, still one page.
        first_page = [r.nik for r in screen.found]
        await pilot.press("down", "pagedown")
        await until(pilot, lambda: screen.first_row == screen.page_size, "the second page")
        assert table.row_count == screen.page_size and first_page[0] not in [r.nik for r in screen.found]

        # A NIK typed in the search: its record, its lock (since when, which card, which tag) and history.
        await pilot.press("slash")
        await type_text(pilot, locked)
        await pilot.press("enter")
        await until(pilot, lambda: [r.nik for r in screen.found] == [locked], "the locked NIK alone")
        await until(pilot, lambda: "TERKUNCI" in screen_text(app), "its lock")
        text = screen_text(app)
        assert "28-11 08:30" in text and "#41" in text and "belum ditandai" in text
        assert "Halaman 1: 1–1 dari 1" in text

        # Queueing it is refused, in words.
        await pilot.press("enter")
        await until(pilot, lambda: "TIDAK diantrikan" in screen_text(app), "the refusal")
        assert f"NIK {locked} terkunci sejak 28 Nov 2026 08.30 WITA" in screen_text(app)  # the station's time

        # A name: the prefix search, and queueing one who is ready.
        await pilot.press("slash", "ctrl+u")
        await type_text(pilot, "LALU AHMAD 1999")
        await pilot.press("enter")
        await until(pilot, lambda: screen.found and screen.found[0].nama == "LALU AHMAD 1999", "the name")
        ready = screen.found[0].nik
        await pilot.press("enter")
        await until(pilot, lambda: f"{ready} diantrikan" in screen_text(app), "queued")
        assert (await locks.refusal(app.station.store, ready)).code == "already_queued"

        # Held back, then cancelled (after a question): no blank spent, so the NIK may be queued again.
        await until(pilot, lambda: "[X] batalkan" in screen_text(app), "the keys of a queued job")
        await pilot.press("h")
        await until(pilot, lambda: f"{ready} ditahan" in screen_text(app), "held")
        await pilot.press("x")
        await until(pilot, lambda: isinstance(app.screen, ConfirmDialog), "the question")
        await pilot.press("enter")
        await until(pilot, lambda: "dibatalkan" in screen_text(app), "cancelled")
        [job] = await jobs.history(app.station.store, ready)
        assert job.state == jobs.CANCELLED
        assert await locks.refusal(app.station.store, ready) is None


async def test_residents_found_by_village_kecamatan_code_and_a_dotted_nik_a_page_at_a_time(tmp_path):
    settings = station_settings(tmp_path)
    configure_logging(settings.logging.file)
    async with await Store.open(settings.database.path) as store:
        await add_many_residents(store, MANY)  # all of Pancor (52.03.07.1001), in Selong (52.03.07)

    app = console_app(settings)
    async with app.run_test(size=(80, 24)) as pilot:
        await station_ready(pilot)
        await pilot.press("f3")
        await until(pilot, lambda: isinstance(app.screen, ResidentsScreen) and app.screen.found, "the first page")
        screen = app.screen
        table = screen.query_one(ResidentTable)
        for typed in ("pancor", "Selong", "52.03.07.1001", "52.03.07"):
            await pilot.press("slash", "ctrl+u")
            await type_text(pilot, typed)
            await pilot.press("enter")
            await until(
                pilot, lambda typed=typed: screen.query_text == typed and "dari 20.000" in screen_text(app), typed
            )
            assert table.row_count == screen.page_size < 30  # one page of the twenty thousand
            assert all(r.kel_desa == "PANCOR" for r in screen.found)
        await pilot.press("pagedown")
        await until(pilot, lambda: screen.first_row == screen.page_size, "the second page of the kecamatan")

        await pilot.press("slash", "ctrl+u")
        await type_text(pilot, "5203.0701.0190.0077")
        await pilot.press("enter")
        await until(pilot, lambda: [r.nik for r in screen.found] == [nik_of(77)], "the NIK typed with dots")
        await until(pilot, lambda: "Halaman 1: 1–1 dari 1" in screen_text(app), "its count")
