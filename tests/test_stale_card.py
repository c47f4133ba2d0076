"""A card is printed with the record as it is when its blank is taken, never with a layout made before a change.

The engine lays out the next card (and takes its blank) while the current one prints; a change of the next
resident's record between its layout and its blank must not reach the card (it would print the old name and lock
the NIK): the blank's transaction compares the record the layout was made from, and the card is laid out again.
"""

import sqlite3

from drivers.emulator import read_output_log
from tests.station import check_books_against_output_log, emulated_printer, make_engine, seeded_store


async def test_a_record_changed_after_its_card_was_laid_out_is_laid_out_again(tmp_path):
    store = await seeded_store(tmp_path, residents=2, blanks=5)
    try:
        first, second = [row["nik"] for row in await store.fetchall("SELECT nik FROM jobs ORDER BY id")]
        async with emulated_printer(tmp_path) as (emu, printer):
            engine = make_engine(store, printer)
            lay_out = engine.build_card
            renamed = []

            async def rename_once_laid_out(job):
                frames = await lay_out(job)
                if job.nik == second and not renamed:  # laid out from the old record: changed before its blank
                    conn = sqlite3.connect(tmp_path / "station.db")
                    conn.execute("UPDATE residents SET nama = 'NAMA YANG BENAR' WHERE nik = ?", (second,))
                    conn.commit()
                    conn.close()
                    renamed.append(job.id)
                return frames

            engine.build_card = rename_once_laid_out
            await engine.start()
            await engine.run()
        assert renamed
        cards = read_output_log(tmp_path / "output.jsonl")
        assert [card["nik"] for card in cards] == [first, second]
        assert "Nama : NAMA YANG BENAR" in cards[1]["texts"]
        await check_books_against_output_log(store, tmp_path / "output.jsonl")
    finally:
        await store.close()
