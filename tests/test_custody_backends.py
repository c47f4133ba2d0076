"""The hand-over's core on both stores (SQLite and the regency ledger's PostgreSQL): batches and their release,
the hand-over record, a collection, the uncollected list and a destruction, on cards the engine printed."""

from __future__ import annotations

import pytest

from console import audit_state, batches, custody, destruction, reports
from console.custody_papers import Office
from console.errors import RefusedError
from tests.test_report_kit import ALLOCATION, STATION_ID, print_cards, tag

OFFICE = Office("Dukcapil Lombok Timur", "Selong")


async def test_release_hand_over_collect_and_destroy(tmp_path, database):
    printed = await print_cards(tmp_path, residents=6, blanks=10, database=database)
    store, niks = printed.store, printed.niks
    try:
        bad = niks[-1]
        await tag(store, niks[:-1], {bad: "gagal_cetak"})
        members = {m.nik: m for m in await batches.all_members(store)}
        held_back = batches.keys_of(bad, members[bad].kel_desa)
        ready = next(p for p in await batches.progress(store) if p.batch not in held_back and p.residents)
        assert ready.printed_good == ready.residents and ready.batch.startswith(("desa:", "kec:"))
        for key in held_back:
            with pytest.raises(RefusedError, match=bad):
                await batches.release(store, key, "test")

        await batches.release(store, ready.batch, "test")
        made = await custody.issue(store, ready.batch, "Kepala Desa", tmp_path / "ba", "test", OFFICE)
        assert len(made.cards) == ready.residents and made.pdf.exists() and made.csv.exists()
        with pytest.raises(RefusedError):
            await custody.issue(store, ready.batch, "Kepala Desa", tmp_path / "ba", "test", OFFICE)
        taker = made.cards[0].nik
        await custody.collect(store, taker, "test", OFFICE, tmp_path / "slips")
        with pytest.raises(RefusedError):
            await custody.collect(store, taker, "test", OFFICE, tmp_path / "slips")
        with pytest.raises(RefusedError):
            await custody.collect(store, bad, "test", OFFICE, tmp_path / "slips")
        late = await custody.uncollected(store, 0)
        assert sorted(u.nik for u in late) == sorted(c.nik for c in made.cards[1:])

        await reports.make_report(store, ALLOCATION, STATION_ID, "test")
        burnt = await destruction.destroy(
            store, ALLOCATION, ["Saksi Satu", "Saksi Dua"], tmp_path / "m", "test", OFFICE
        )
        assert (burnt.cards, burnt.blanks) == (1, 0)
        with pytest.raises(RefusedError):
            await destruction.destroy(store, ALLOCATION, ["Saksi Satu", "Saksi Dua"], tmp_path / "m", "test", OFFICE)
        assert (await custody.card_of(store, bad)).custody == custody.DESTROYED
        assert await audit_state.differences(store) == []  # the custody tables replayed from the log, as written
        async with store.transaction("by hand") as tx:  # no audit entry: an edit past the station's steps
            await tx.execute("UPDATE card_custody SET collector = 'Orang Lain' WHERE nik = ?", (taker,))
        assert [place for place in await audit_state.differences(store) if "card_custody" in place]
    finally:
        await store.close()
