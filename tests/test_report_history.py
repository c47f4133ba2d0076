"""A NIK's history: printed, tagged, corrected, reported, unlocked, reprinted, in the order it happened."""

from __future__ import annotations

import json

from console import jobs, unlock
from console.central import simulator
from console.history import nik_history
from console.i18n import current_language, set_language
from tests.station import emulated_printer, make_engine
from tests.test_report_kit import (
    STATION_ID,
    centre_keys,
    indonesian,  # noqa: F401  (autouse: the messages in Bahasa Indonesia)
    print_cards,
    reported,
    tag,
)


async def test_the_life_of_a_reprinted_nik(tmp_path):
    printed = await print_cards(tmp_path, residents=2, blanks=10, printing=1)
    store, nik = printed.store, printed.niks[0]
    try:
        await tag(store, [], {nik: "gagal_cetak"})
        await jobs.tag(store, nik, False, "supervisor", "salah_data")  # corrected before the report
        first = await reported(store, tmp_path / "r1")
        centre = centre_keys(tmp_path / "centre")
        document = simulator.grant_for_report(first, centre.key)
        await unlock.apply_grant(store, json.dumps(document).encode(), station_id=STATION_ID,
                                 keys=unlock.load_central_keys([centre.public]), actor="test")  # fmt: skip
        await jobs.enqueue(store, [nik], "test")
        async with emulated_printer(tmp_path) as (emu, printer):
            engine = make_engine(store, printer)
            await engine.start()
            await engine.run()
        await tag(store, [nik], {})
        await reported(store, tmp_path / "r2")
        history = await nik_history(store, nik)
    finally:
        await store.close()
    assert [entry.kind for entry in history] == [
        "queued",
        "printed",
        "tagged_bad",
        "retagged_bad",
        "reported_bad",
        "unlocked",
        "queued",
        "reprinted",
        "tagged_good",
        "reported_good",
    ]
    assert [entry.card_counter for entry in history if entry.kind.startswith(("printed", "reprinted"))] == [1, 2]
    assert history[3].actor == "supervisor" and "salah data" in history[3].text()
    assert history[5].detail["nonce"] == document["grant"]["nonce"][:12]
    language = current_language()
    try:
        set_language("en")
        assert history[7].text() == "reprinted: card #2, allocation JATAH-2026-11, using unlock 1; NIK locked again"
    finally:
        set_language(language)
    assert all(entry.text() for entry in history)


async def test_a_nik_never_printed_has_no_history(tmp_path):
    printed = await print_cards(tmp_path, residents=2, blanks=10, printing=1)
    try:
        assert await nik_history(printed.store, printed.niks[1]) == []
    finally:
        await printed.store.close()
