"""The hand-over screen, driven by Textual's pilot on a real station (Indonesian, as by default): the batches and
their progress, a release refused and one made, the hand-over to a village with its paper, a collection by NIK;
the supervisor's console shows the batches and nothing that writes."""

from __future__ import annotations

from textual.app import App
from textual.widgets import DataTable, Static

from console.config import load_settings
from console.i18n import set_language
from console.store import Store
from screens.handover import HandoverScreen
from screens.supervisor import SupervisorApp
from tests.handover_kit import batch_of, printed_station, query, two_villages
from tests.test_console_kit import until


class Host(App[None]):
    def __init__(self, screen: HandoverScreen) -> None:
        super().__init__()
        self.first = screen

    def on_mount(self) -> None:
        self.push_screen(self.first)


def result(screen) -> str:
    return str(screen.query_one("#handover-result", Static).content)


def rows(screen) -> dict[str, list[str]]:
    table = screen.query_one(DataTable)
    shown = [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]
    return {("desa:" if len(row[0]) > 8 else "kec:") + row[0]: row for row in shown}


async def type_in(pilot, text: str) -> None:
    field = pilot.app.focused
    field.value = text
    await pilot.press("enter")


async def test_release_hand_over_and_collect_on_screen(tmp_path):
    config, niks = printed_station(tmp_path, (2, 1), bad=1, language="id")
    first, second = two_villages()
    settings = load_settings(config)
    set_language("id")
    async with await Store.open(settings.database.path) as store:
        screen = HandoverScreen(store, settings)
        async with Host(screen).run_test(size=(80, 24)) as pilot:
            await until(pilot, lambda: screen.progress is not None and len(rows(screen)) == 3, "the batches")
            assert rows(screen)[batch_of(first)][2:5] == ["2", "2", "0"]
            assert rows(screen)[batch_of(second)][2:5] == ["1", "0", "1"]

            table = screen.query_one(DataTable)
            table.move_cursor(row=list(rows(screen)).index(batch_of(second)))
            await pilot.press("l")
            await until(pilot, lambda: "belum dapat dilepas" in result(screen), "the refusal")
            assert "menunggu buka kunci dari pusat" in result(screen)

            table.move_cursor(row=list(rows(screen)).index(batch_of(first)))
            await pilot.press("l")
            await until(pilot, lambda: rows(screen)[batch_of(first)][5] != "—", "the release shown")
            await pilot.press("s")
            await type_in(pilot, "H. Lalu Mahsun")
            assert pilot.app.focused.value == str(tmp_path / "serah-terima")  # the folder, asked with its default
            await type_in(pilot, pilot.app.focused.value)
            await until(pilot, lambda: rows(screen)[batch_of(first)][6] == "2", "the cards handed over")
            papers = list((tmp_path / "serah-terima").glob("serah-terima-*.pdf"))
            assert len(papers) == 1 and str(papers[0]) in result(screen)

            await pilot.press("a")
            await type_in(pilot, niks[first.code][0])
            await until(pilot, lambda: rows(screen)[batch_of(first)][7] == "1", "the collection")
            assert "diambil sendiri" in result(screen)
            await pilot.press("a")
            await type_in(pilot, niks[first.code][0])
            await until(pilot, lambda: "sudah diambil" in result(screen), "a second collection refused")
            await pilot.press("escape")
            await until(pilot, lambda: not isinstance(pilot.app.screen, HandoverScreen), "the screen closed")
    assert query(tmp_path / "station.db", "SELECT state FROM card_custody ORDER BY job_id") == [
        ("collected",),
        ("issued_to_village",),
    ]


async def test_a_proxy_collects_on_screen_when_allowed_into_the_folder_chosen(tmp_path):
    config, niks = printed_station(tmp_path, (2, 1), language="id", proxies=True)
    first, _ = two_villages()
    settings = load_settings(config)
    set_language("id")
    one, two = niks[first.code]
    async with await Store.open(settings.database.path) as store:
        screen = HandoverScreen(store, settings)
        async with Host(screen).run_test(size=(80, 24)) as pilot:
            await until(pilot, lambda: screen.progress is not None and len(rows(screen)) == 3, "the batches")
            table = screen.query_one(DataTable)
            table.move_cursor(row=list(rows(screen)).index(batch_of(first)))
            await pilot.press("l")
            await until(pilot, lambda: rows(screen)[batch_of(first)][5] != "—", "the release shown")
            await pilot.press("s")
            await type_in(pilot, "Kades")
            await type_in(pilot, str(tmp_path / "berkas" / "desa"))
            await until(pilot, lambda: rows(screen)[batch_of(first)][6] == "2", "the cards handed over")
            assert len(list((tmp_path / "berkas" / "desa").glob("serah-terima-*.pdf"))) == 1
            assert not (tmp_path / "serah-terima").exists()

            await pilot.press("w")
            await type_in(pilot, one)
            await type_in(pilot, "Inaq Sarah")
            await type_in(pilot, "ibu")
            await type_in(pilot, "")  # the letter is required: asked again, nothing done
            assert "-asking" in pilot.app.focused.classes and rows(screen)[batch_of(first)][7] == "0"
            await type_in(pilot, "12/2026")
            await until(pilot, lambda: rows(screen)[batch_of(first)][7] == "1", "the collection by the proxy")
            assert "kuasa Inaq Sarah" in result(screen)

            await pilot.press("a")
            await type_in(pilot, two)
            await until(pilot, lambda: rows(screen)[batch_of(first)][7] == "2", "the collection in person")
    assert query(tmp_path / "station.db", "SELECT nik, collector, proxy_relation, proxy_letter FROM card_custody "
                 "ORDER BY job_id") == [(one, "Inaq Sarah", "ibu", "12/2026"), (two, "LALU AHMAD 2", None, None)]  # fmt: skip


async def test_a_receipt_is_printed_on_request_and_asked_at_collection_on_screen(tmp_path):
    config, niks = printed_station(tmp_path, (1, 1), language="id", receipts=True)
    first, _ = two_villages()
    settings = load_settings(config)
    set_language("id")
    nik = niks[first.code][0]
    [(number,)] = query(tmp_path / "station.db", "SELECT receipt FROM receipts WHERE nik = ?", nik)
    async with await Store.open(settings.database.path) as store:
        screen = HandoverScreen(store, settings)
        async with Host(screen).run_test(size=(80, 24)) as pilot:
            await until(pilot, lambda: screen.progress is not None and len(rows(screen)) == 3, "the batches")
            await pilot.press("t")
            await type_in(pilot, nik)
            await until(pilot, lambda: number in result(screen), "the receipt printed")
            assert len(list((tmp_path / "slips").glob(f"tanda-bukti-{nik}-*.pdf"))) == 1
            table = screen.query_one(DataTable)
            table.move_cursor(row=list(rows(screen)).index(batch_of(first)))
            await pilot.press("l")
            await until(pilot, lambda: rows(screen)[batch_of(first)][5] != "—", "the release shown")
            await pilot.press("a")
            await type_in(pilot, nik)
            await until(pilot, lambda: "nomor tanda bukti" in result(screen), "the receipt asked for")
            await pilot.press("a")
            await type_in(pilot, f"{nik} {number}")
            await until(pilot, lambda: rows(screen)[batch_of(first)][7] == "1", "the collection with its receipt")


async def test_a_proxy_is_refused_on_screen_when_the_office_allows_none(tmp_path):
    config, niks = printed_station(tmp_path, (1, 1), language="id")
    settings = load_settings(config)
    set_language("id")
    async with await Store.open(settings.database.path) as store:
        screen = HandoverScreen(store, settings)
        async with Host(screen).run_test(size=(80, 24)) as pilot:
            await until(pilot, lambda: screen.progress is not None, "the batches")
            await pilot.press("w")
            await until(pilot, lambda: "tanpa berwakil" in result(screen), "the refusal")
            assert screen.query_one("#handover-result").has_class("-error")
            assert not screen.query("Input.-asking")
    assert query(tmp_path / "station.db", "SELECT count(*) FROM card_custody") == [(0,)]


async def test_the_supervisor_sees_the_batches_and_cannot_change_them(tmp_path):
    config, niks = printed_station(tmp_path, (2, 1), language="id")
    settings = load_settings(config)
    first, _ = two_villages()
    before = query(tmp_path / "station.db", "SELECT count(*) FROM audit")
    async with await Store.open(settings.database.path, readonly=True) as watched:
        app = SupervisorApp(settings, watched, "siti")
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.press("f9")
            await until(pilot, lambda: isinstance(app.screen, HandoverScreen) and app.screen.progress is not None
                        and len(rows(app.screen)) == 3, "the batches, read only")  # fmt: skip
            screen = app.screen
            for name in ("l", "e", "s", "a"):
                await pilot.press(name)
                await pilot.pause()
            assert not screen.query("Input.-asking") and result(screen) == ""
            assert rows(screen)[batch_of(first)][5] == "—"
    assert query(tmp_path / "station.db", "SELECT count(*) FROM audit") == before
    assert query(tmp_path / "station.db", "SELECT count(*) FROM batch_releases") == [(0,)]
