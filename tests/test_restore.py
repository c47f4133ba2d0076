"""A database put back without its audit head file: refused by every writer and the console (exit 7) until a
supervisor accepts the restore (`station audit accept-restore`), then stopped until every printer the books know
has been connected and matched its counter. Real `station` commands on a real SQLite file and the built-in
emulator; two printers are two emulator state files (two serials) before the same database."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

from console import audit, jobs, restore
from console.engine import IDLE, RestoreUnwitnessed
from console.errors import EXIT_AUDIT_BROKEN, EXIT_REFUSED
from console.faults_text import fault_title
from console.i18n import t
from console.store import Store
from drivers.emulator import read_output_log
from screens.fault import FaultScreen
from tests.command import station, write_config
from tests.station import emulated_printer, make_engine, seeded_store
from tests.terminal import Terminal
from tests.test_cli_queue import make_station
from tests.test_console_kit import console_app, screen_text, station_settings, until
from tests.test_witness import backup

SITI, SITI_PIN = "Siti", "482915"
BAIQ, BAIQ_PIN = "Baiq", "kopi tubruk pagi"


def other_printer(folder: Path) -> Path:
    """A second configuration in `folder/b` for the same database, whose built-in emulator is another printer."""
    (folder / "b").mkdir()
    return write_config(folder / "b", database={"path": str(folder / "station.db")},
                        emulator={"time_scale": 0, "state": "emulator-state.json", "log": "output.jsonl"})  # fmt: skip


def ok(result: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    assert result.returncode == 0, result.stderr
    return result


def put_back_without_head(folder: Path) -> None:
    shutil.copyfile(folder / "copy.db", folder / "station.db")
    audit.head_path(folder / "station.db").unlink()


def serial_of(config: Path) -> str:
    return json.loads((config.parent / "emulator-state.json").read_text())["serial"]


def last_actions(db: Path, count: int) -> list[tuple[str, str | None, str]]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        rows = conn.execute("SELECT action, subject, actor FROM audit ORDER BY seq DESC LIMIT ?", (count,)).fetchall()
    finally:
        conn.close()
    return rows[::-1]


def test_a_missing_head_file_refuses_every_writer_until_a_supervisor_accepts_the_restore(tmp_path):
    config = make_station(tmp_path, residents=4)
    ok(station(config, "allocation", "add", "JATAH-2026-11", "10"))
    ok(station(config, "enqueue", "--all"))
    ok(station(config, "print", "--count", "1"))
    backup(str(tmp_path / "station.db"), str(tmp_path / "copy.db"))
    put_back_without_head(tmp_path)
    before = (tmp_path / "station.db").read_bytes()
    entries = last_actions(tmp_path / "station.db", 50)
    for command in (["print"], ["enqueue", "--all"], ["allocation", "add", "JATAH-2026-12", "5"],
                    ["allocation", "count", "JATAH-2026-11", "9"], ["import", str(tmp_path / "residents.csv")],
                    ["allocation", "reconcile", "--outside", "1", "--reason", "panel"],
                    ["operator", "add", SITI, "--role", "supervisor"], ["audit", "verify"]):  # fmt: skip
        refused = station(config, *command)
        assert refused.returncode == EXIT_AUDIT_BROKEN, (command, refused.stderr)
        assert "station.db.head" in refused.stderr and "accept-restore --reason" in refused.stderr, refused.stderr
    assert (tmp_path / "station.db").read_bytes() == before and not audit.head_path(tmp_path / "station.db").exists()
    assert last_actions(tmp_path / "station.db", 50) == entries  # nothing was written

    ok(station(config, "audit", "accept-restore", "--reason", "centre letter 12/2026"))
    assert audit.head_path(tmp_path / "station.db").exists()
    action, subject, actor = last_actions(tmp_path / "station.db", 1)[0]
    assert (action, subject) == ("restore.accepted", None) and actor
    ok(station(config, "audit", "verify"))
    again = station(config, "audit", "accept-restore", "--reason", "twice")
    assert again.returncode == EXIT_REFUSED and "is there" in again.stderr, again.stderr
    ok(station(config, "print"))  # its one printer matched the copy's books (nothing printed since): on it goes


def test_a_new_database_starts_with_a_head_and_has_no_restore_to_accept(tmp_path):
    config = write_config(tmp_path, emulator={"time_scale": 0, "state": "emulator-state.json"})
    ok(station(config, "allocation", "list"))  # read-only: nothing made
    ok(station(config, "allocation", "add", "JATAH-2026-11", "10"))
    assert json.loads(audit.head_path(tmp_path / "station.db").read_text())["seq"] >= 1
    refused = station(config, "audit", "accept-restore", "--reason", "nothing")
    assert refused.returncode == EXIT_REFUSED, refused.stderr


def test_accept_restore_needs_a_signed_in_supervisor_and_a_reason(tmp_path, monkeypatch):
    for secret in ("STATION_OPERATOR", "STATION_PIN", "STATION_NEW_PIN"):
        monkeypatch.delenv(secret, raising=False)
    config = make_station(tmp_path, residents=2)
    ok(station(config, "operator", "add", SITI, "--role", "supervisor", stdin=f"{SITI_PIN}\n"))
    ok(station(config, "operator", "add", BAIQ, "--operator", SITI, stdin=f"{SITI_PIN}\n{BAIQ_PIN}\n"))
    backup(str(tmp_path / "station.db"), str(tmp_path / "copy.db"))
    put_back_without_head(tmp_path)

    no_one = station(config, "audit", "accept-restore", "--reason", "centre letter 12")
    assert no_one.returncode == EXIT_REFUSED and "--operator" in no_one.stderr, no_one.stderr
    operator = station(config, "audit", "accept-restore", "--reason", "centre letter 12", "--operator", BAIQ,
                       stdin=f"{BAIQ_PIN}\n")  # fmt: skip
    assert operator.returncode == EXIT_REFUSED and "supervisor" in operator.stderr, operator.stderr
    assert not audit.head_path(tmp_path / "station.db").exists()  # the sign-in was audited, no head written
    assert station(config, "enqueue", "--all").returncode == EXIT_AUDIT_BROKEN
    blank = station(config, "audit", "accept-restore", "--reason", " ", "--operator", SITI, stdin=f"{SITI_PIN}\n")
    assert blank.returncode == 2 and "--reason" in blank.stderr, blank.stderr
    ok(station(config, "audit", "accept-restore", "--reason", "centre letter 12", "--operator", SITI,
               stdin=f"{SITI_PIN}\n"))  # fmt: skip
    assert last_actions(tmp_path / "station.db", 1)[0] == ("restore.accepted", None, SITI)
    ok(station(config, "audit", "verify"))


def test_headless_print_waits_for_every_known_printer_after_an_accepted_restore(tmp_path):
    """Two cards on printer A, a backup, nothing printed since; printer B, which never printed, connected; the
    backup put back without its head and accepted. B: still stopped (exit 4) naming A. A: matched, printing goes on."""
    config_a = make_station(tmp_path, residents=4)
    config_b = other_printer(tmp_path)
    ok(station(config_a, "allocation", "add", "JATAH-2026-11", "10"))
    ok(station(config_a, "enqueue", "--all"))
    ok(station(config_a, "print", "--count", "2"))
    backup(str(tmp_path / "station.db"), str(tmp_path / "copy.db"))
    put_back_without_head(tmp_path)
    assert station(config_b, "print").returncode == EXIT_AUDIT_BROKEN
    accepted = ok(station(config_a, "audit", "accept-restore", "--reason", "centre letter 12"))
    serial_a = serial_of(config_a)
    assert serial_a in accepted.stdout

    waiting = station(config_b, "print")
    assert waiting.returncode == EXIT_REFUSED and serial_a in waiting.stderr, waiting.stderr
    assert not (tmp_path / "b" / "output.jsonl").exists() or not read_output_log(tmp_path / "b" / "output.jsonl")
    assert station(config_b, "print").returncode == EXIT_REFUSED  # again: nothing changed, still waiting

    ok(station(config_a, "print"))
    niks = [card["nik"] for card in read_output_log(tmp_path / "output.jsonl")]
    assert len(niks) == 4 and len(set(niks)) == 4
    actions = [action for action, _, _ in last_actions(tmp_path / "station.db", 40)]
    assert actions.count("restore.stopped") == 1  # audited once while it stood
    assert actions.index("restore.all_witnessed") < actions.index("blank.taken", actions.index("restore.accepted"))


def test_headless_print_after_an_accepted_restore_stops_on_the_printer_that_printed_since(tmp_path):
    """A printed a card after the backup: once connected it shows the card (counter_ahead, exit 5), not a witness."""
    config_a = make_station(tmp_path, residents=4)
    config_b = other_printer(tmp_path)
    ok(station(config_a, "allocation", "add", "JATAH-2026-11", "10"))
    ok(station(config_a, "enqueue", "--all"))
    ok(station(config_a, "print", "--count", "1"))
    backup(str(tmp_path / "station.db"), str(tmp_path / "copy.db"))
    ok(station(config_a, "print", "--count", "1"))
    put_back_without_head(tmp_path)
    ok(station(config_b, "audit", "accept-restore", "--reason", "centre letter 12"))
    assert station(config_b, "print").returncode == EXIT_REFUSED
    stopped = station(config_a, "print")
    assert stopped.returncode == 5 and "reconcile --outside 1" in stopped.stderr, stopped.stderr
    niks = [card["nik"] for card in read_output_log(tmp_path / "output.jsonl")]
    assert len(niks) == 2 and len(set(niks)) == 2  # no second card


def test_the_console_does_not_open_on_a_database_without_its_head(tmp_path):
    config = make_station(tmp_path, residents=2)
    ok(station(config, "allocation", "add", "JATAH-2026-11", "10"))
    backup(str(tmp_path / "station.db"), str(tmp_path / "copy.db"))
    put_back_without_head(tmp_path)
    terminal = Terminal([sys.executable, "-m", "console.cli", "run", "--config", str(config)], cwd=tmp_path)
    try:
        assert terminal.wait() == EXIT_AUDIT_BROKEN
    finally:
        terminal.close()
    said = terminal.output.decode(errors="replace")
    assert "station.db.head" in said and "accept-restore" in said, said


async def test_the_console_stops_on_an_accepted_restore_naming_the_printer_still_to_witness(tmp_path):
    """The books know two printers (B in another folder, A the console's); a backup put back without its head and
    accepted; the console opens on A, which matches: the fault dialog names B, and Enter alone does not go on."""
    settings = station_settings(tmp_path, language="en")
    store = await seeded_store(tmp_path, residents=4, blanks=10)
    (tmp_path / "b").mkdir()
    for folder in (tmp_path / "b", tmp_path):  # B prints one card, then A (the state the console's emulator loads)
        async with emulated_printer(folder) as (emu, printer):
            serial = emu.status()["serial"]
            engine = make_engine(store, printer)
            await engine.start()
            assert await engine.run(max_cards=1) == IDLE
    serial_b = json.loads((tmp_path / "b" / "emulator-state.json").read_text())["serial"]
    await store.close()
    backup(str(tmp_path / "station.db"), str(tmp_path / "copy.db"))
    put_back_without_head(tmp_path)
    async with await Store.open(tmp_path / "station.db", accepting_restore=True) as accepting:
        accepted = await restore.accept_restore(accepting, "centre letter 12", "supervisor")
    assert accepted.printers == sorted([serial, serial_b])

    app = console_app(settings)
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: app.station is not None and isinstance(app.screen, FaultScreen),
                    "the fault dialog at start")  # fmt: skip
        title = fault_title(RestoreUnwitnessed(reply=serial_b))
        await until(pilot, lambda: title in screen_text(app), "the stop naming printer B")
        await pilot.press("enter")
        await until(pilot, lambda: t("ui.fault.still") in screen_text(app) and not app.screen.recovering,
                    "the dialog to say the stop still stands")  # fmt: skip
        assert isinstance(app.screen, FaultScreen) and title in screen_text(app)
        assert await jobs.count_in_state(app.station.store, jobs.PRINTED) == 2  # the two before the copy, no more
    async with await Store.open(tmp_path / "station.db", readonly=True) as store:
        assert await restore.unwitnessed(store) == [serial_b]
