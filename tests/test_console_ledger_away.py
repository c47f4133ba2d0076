"""The console on a regency ledger that goes away mid-run (the server stopped as in a crash, then started): the
app stays up, its printer panel says the ledger is unreachable while no blank is taken, and printing goes on by
itself once the ledger answers; every NIK on one card, the books and the audit log as the printer's output."""

from __future__ import annotations

from collections import Counter

from console.config import load_settings
from console.demo import write_demo_csv
from console.store import Store
from drivers.emulator import read_output_log
from tests.station import check_books_against_output_log
from tests.test_cli_queue import station
from tests.test_console_kit import console_app, screen_text, station_ready, until
from tests.test_ledger_away import cards_out, config_on

RESIDENTS = 12


async def all_recorded(url: str) -> bool:
    async with await Store.open(url, readonly=True) as store:
        return await store.scalar("SELECT count(*) FROM jobs WHERE state = 'printed'") == RESIDENTS


async def test_the_console_waits_for_its_ledger_and_goes_on(tmp_path, ledger):
    config = config_on(tmp_path, ledger.url)
    write_demo_csv(tmp_path / "residents.csv", RESIDENTS, seed=5)
    for args in (("import", str(tmp_path / "residents.csv")), ("allocation", "add", "JATAH-2026-12", "20"),
                 ("allocation", "issue", "JATAH-2026-12", "5203-01", "20"),
                 ("enqueue", "--all")):  # fmt: skip
        assert station(config, *args).returncode == 0, args
    app = console_app(load_settings(config))
    async with app.run_test(size=(120, 40)) as pilot:
        await station_ready(pilot)
        await until(pilot, lambda: cards_out(tmp_path) >= 2, "two cards out", timeout=120)
        ledger.server.stop("immediate")
        out_at_stop = cards_out(tmp_path)
        try:
            await until(pilot, lambda: "LEDGER UNREACHABLE" in screen_text(app), "the console saying so", timeout=60)
            out_while_away = cards_out(tmp_path)
            assert app.is_running
        finally:
            ledger.server.start()
        assert out_while_away <= out_at_stop + 1  # at most the card that was in the printer
        await until(pilot, lambda: cards_out(tmp_path) == RESIDENTS, "every card printed", timeout=180)
        await until(pilot, lambda: all_recorded(ledger.url), "every card recorded on the ledger")
        await until(pilot, lambda: "the ledger answers again" in screen_text(app), "the console saying it is back")
        assert "LEDGER UNREACHABLE" not in screen_text(app)
    cards = read_output_log(tmp_path / "output.jsonl")
    assert set(Counter(card["nik"] for card in cards).values()) == {1} and len(cards) == RESIDENTS
    async with await Store.open(ledger.url, readonly=True) as store:
        await check_books_against_output_log(store, tmp_path / "output.jsonl")
