"""The report screen, driven by Textual's pilot on a real station: a refusal while a card waits for its tag, the
lists page by page, the files written, a grant loaded and what it unlocked."""

from __future__ import annotations

import json

from textual.app import App
from textual.widgets import DataTable, Input, Static, TabbedContent

from console import jobs, locks
from console.central import simulator
from console.config import load_settings
from screens.report import ReportScreen
from tests.station import seeded_store
from tests.test_console_kit import console_app, station_ready, station_settings, until
from tests.test_report_kit import (
    ALLOCATION,
    centre_keys,
    indonesian,  # noqa: F401  (autouse: the messages in Bahasa Indonesia)
    print_cards,
    tag,
    write_config,
)


class Host(App[None]):
    """A tiny app that shows one screen, as the console will."""

    def __init__(self, screen: ReportScreen) -> None:
        super().__init__()
        self.first = screen

    def on_mount(self) -> None:
        self.push_screen(self.first)


def text(screen, selector: str) -> str:
    return str(screen.query_one(selector, Static).content)


async def settle(pilot) -> None:
    """Wait for the report screen's own workers (the console's engine worker never ends)."""
    screen = pilot.app.screen
    mine = [w for w in pilot.app.workers if w.node is screen]
    if mine:  # an empty list would mean every worker
        await pilot.app.workers.wait_for_complete(mine)
    await pilot.pause()


async def answer(pilot, key: str, input_id: str, value: str) -> None:
    await pilot.press(key)
    field = pilot.app.screen.query_one(input_id, Input)
    assert field.has_focus
    field.value = value
    await pilot.press("enter")
    await settle(pilot)


async def test_report_screen(tmp_path):
    centre = centre_keys(tmp_path / "centre")
    settings = load_settings(write_config(tmp_path, public_keys=("centre/central-public.pem",)))
    printed = await print_cards(tmp_path, residents=4, blanks=10)
    store, niks = printed.store, printed.niks
    try:
        await tag(store, niks[:1], {niks[1]: "gagal_cetak", niks[2]: "lainnya"})
        screen = ReportScreen(store, settings, page_size=1)
        async with Host(screen).run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            assert ALLOCATION in text(screen, "#report-summary")
            assert "baik 1 · rusak 2 · belum ditandai 1" in text(screen, "#report-summary")
            assert f"{niks[3]} kartu #4" in text(screen, "#report-readiness")

            out = tmp_path / "laporan"
            await answer(pilot, "w", "#report-out", str(out))
            assert "#4" in text(screen, "#report-result") and not out.exists()  # refused: nothing written

            await jobs.tag(store, niks[3], False, "test", "rusak_fisik")
            await answer(pilot, "w", "#report-out", str(out))
            report = json.loads((out / f"laporan-{ALLOCATION}.json").read_text(encoding="utf-8"))
            assert report["report_id"] in text(screen, "#report-result")
            assert "Laporan sudah ditulis" in text(screen, "#report-readiness")  # no longer "press W"

            screen.query_one(TabbedContent).active = "tab-bad"
            await pilot.pause()
            bad_table = screen.query_one("#list-bad", DataTable)
            assert text(screen, "#report-page").startswith("halaman 1/3")
            assert str(bad_table.get_row_at(0)[0]) == niks[1]
            await pilot.press("n", "n")
            await settle(pilot)
            assert text(screen, "#report-page").startswith("halaman 3/3")
            assert bad_table.row_count == 1 and str(bad_table.get_row_at(0)[0]) == niks[3]

            grant_file = tmp_path / "grant.json"
            grant_file.write_text(json.dumps(simulator.grant_for_report(report, centre.key, [niks[1], niks[3]])))
            await answer(pilot, "g", "#report-grant", str(grant_file))
            result = text(screen, "#report-result")
            assert "2 NIK dibuka" in result and niks[1] in result and niks[3] in result
            assert "`station" not in result and "K " in result  # the console's key, not the command line
            assert await locks.refusal(store, niks[1]) is None
            assert "Menunggu cetak ulang: 2 NIK" in text(screen, "#report-summary")
            await pilot.press("k")
            await settle(pilot)
            assert "2 NIK diantrikan" in text(screen, "#report-result")
            queued = await store.fetchall("SELECT nik FROM jobs WHERE state = 'queued'")
            assert sorted(row["nik"] for row in queued) == sorted([niks[1], niks[3]])
            assert await locks.awaiting_reprint(store) == []
            await pilot.press("k")
            await settle(pilot)
            assert "Tidak ada NIK dibuka" in text(screen, "#report-result")

            other = tmp_path / "lain"  # a folder holding another report's files: refused in the console's words
            (other / "laporan").mkdir(parents=True)
            for path in (out / f"laporan-{ALLOCATION}.json",):
                (other / path.name).write_text(path.read_text().replace(report["report_id"], "0" * 64))
            await answer(pilot, "w", "#report-out", str(other))
            said = text(screen, "#report-result")
            assert "Tekan W dan beri folder lain" in said and "--" not in said, said

            await answer(pilot, "g", "#report-grant", str(grant_file))  # the same grant again: rejected, said so
            assert "sudah pernah diterapkan" in text(screen, "#report-result")

            await pilot.press("escape")
            await pilot.pause()
            assert not isinstance(pilot.app.screen, ReportScreen)
    finally:
        await store.close()


async def test_the_console_opens_it_with_f6(tmp_path):
    settings = station_settings(tmp_path)
    store = await seeded_store(tmp_path, residents=3, blanks=10, queue=False)
    await store.close()
    async with console_app(settings).run_test(size=(120, 40)) as pilot:
        app = await station_ready(pilot)
        await pilot.press("f6")
        await until(pilot, lambda: isinstance(app.screen, ReportScreen), "the report screen")
        await settle(pilot)
        assert "Jatah JATAH-2026-11" in text(app.screen, "#report-summary")
        assert "Siap dilaporkan" in text(app.screen, "#report-readiness")
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, ReportScreen), "the report screen to close")
