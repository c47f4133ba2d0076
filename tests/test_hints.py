"""A refusal says what to do next where the person is: the command line names a command (`station …`), the
consoles name a key. The fact is one message; each side appends its own advice from the catalogue."""

from __future__ import annotations

import asyncio

from console import books, operators
from console.i18n import catalogue
from console.logs import configure_logging
from console.store import Store
from screens.residents import ResidentsScreen
from screens.signin import LockScreen
from tests.test_audit_state import printed_and_tagged, sql
from tests.test_cli_queue import make_station, station
from tests.test_console_kit import console_app, screen_text, station_ready, station_settings, until
from tests.test_console_residents import add_many_residents, lock_a_card, nik_of, type_text


def test_every_advice_has_both_sides_and_only_the_command_lines_names_a_command() -> None:
    hints = {key for key in catalogue() if key.startswith("hint.")}
    cli = {key.removeprefix("hint.cli.") for key in hints if key.startswith("hint.cli.")}
    console = {key.removeprefix("hint.console.") for key in hints if key.startswith("hint.console.")}
    assert cli and cli == console
    for fact in cli:
        for language, text in catalogue()[fact].items():
            assert "`station" not in text, (fact, language)  # the fact alone: the command is the CLI's advice
        for language, text in catalogue()[f"hint.console.{fact}"].items():
            assert "`station" not in text and "station " not in text, (fact, language)


def test_the_command_line_names_the_command(tmp_path):
    config, nik = printed_and_tagged(tmp_path, tmp_path / "station.db")
    sql(
        tmp_path / "station.db", ("DELETE FROM nik_locks WHERE nik = ?", (nik,))
    )  # the lock's row lost; the audit log still has it
    again = station(config, "enqueue", nik)
    assert again.returncode == 4
    assert f"NIK {nik}" in again.stderr and "`station audit verify`" in again.stderr
    assert not any(text in again.stderr for text in catalogue()["hint.console.refusal.audit_locked"].values())

    (tmp_path / "empty").mkdir()
    empty = make_station(tmp_path / "empty", residents=2)
    assert station(empty, "enqueue", "--all").returncode == 0
    printed = station(empty, "print")
    assert printed.returncode == 4
    assert "no blank left in any allocation; record a new allocation with `station allocation add`" in printed.stderr


async def test_the_console_names_the_key_not_the_command(tmp_path):
    settings = station_settings(tmp_path)
    configure_logging(settings.logging.file)
    nik = nik_of(1)
    async with await Store.open(settings.database.path) as store:
        await add_many_residents(store, 3)

        await books.add_allocation(store, "JATAH-2026-11", 10, "2026-11", "test")
        await lock_a_card(store, nik, counter=1)
        async with store.transaction("test") as tx:  # the lock's row lost behind the station's back
            await tx.execute("DELETE FROM nik_locks WHERE nik = ?", (nik,))

    app = console_app(settings)
    async with app.run_test(size=(120, 40)) as pilot:
        await station_ready(pilot)
        await pilot.press("f3")
        await until(pilot, lambda: isinstance(app.screen, ResidentsScreen) and app.screen.found, "the residents")
        await type_text(pilot, nik)
        await pilot.press("enter")
        await until(pilot, lambda: [r.nik for r in app.screen.found] == [nik], "the NIK alone")
        await pilot.press("enter")
        await until(pilot, lambda: "TIDAK diantrikan" in screen_text(app), "the refusal")
        text = screen_text(app)
        assert f"NIK {nik} terkunci menurut log audit" in text and "beri tahu penyelia" in text
        assert "station audit verify" not in text


def test_an_unknown_operator_is_told_the_command_on_the_command_line(tmp_path):
    config = make_station(tmp_path, residents=1)

    async def register() -> None:
        async with await Store.open(tmp_path / "station.db") as store:
            await operators.add_operator(store, "Rina", operators.SUPERVISOR, "482915", "test")

    asyncio.run(register())
    refused = station(config, "enqueue", "--all", "--operator", "Nobody", stdin="123456\n")
    assert refused.returncode == 4
    assert "no operator is named Nobody; see `station operator list`" in refused.stderr


async def test_an_unknown_operator_is_told_what_to_do_at_the_console(tmp_path):
    settings = station_settings(tmp_path)
    configure_logging(settings.logging.file)
    async with await Store.open(settings.database.path) as store:
        await operators.add_operator(store, "Rina", operators.SUPERVISOR, "482915", "test")
    app = console_app(settings)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, LockScreen), "the sign-in screen")
        await type_text(pilot, "Nobody")
        await pilot.press("enter")
        await type_text(pilot, "123456")
        await pilot.press("enter")
        await until(pilot, lambda: "tidak ada operator bernama Nobody" in screen_text(app), "the refusal")
        assert "minta penyelia mendaftarkan Anda" in screen_text(app) and "station operator" not in screen_text(app)
