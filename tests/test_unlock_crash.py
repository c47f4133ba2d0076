"""One reprint per unlock, also across a crash: `station print` killed (SIGKILL) once the reprint's blank was
taken, against a standalone emulator that lives on; the restarted `station print` settles the card and prints
no second one."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
from pathlib import Path

from console import locks
from console.central import simulator
from console.store import Store
from drivers.emulator import read_output_log
from tests.command import STATION
from tests.conftest import wait_for
from tests.station import check_books_against_output_log
from tests.test_report_kit import centre_keys, print_cards, reported, station, tag, write_config


def reprint_in_the_printer(db: Path, state: Path) -> bool:
    """The reprint's blank is booked and the printer has taken it (its counter moved past the job's)."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        row = conn.execute(
            "SELECT counter_before FROM jobs WHERE unlock_id IS NOT NULL AND state = 'printing'"
        ).fetchone()
    conn.close()
    if row is None or not state.exists():
        return False
    return json.loads(state.read_text())["cards"] > row[0]


async def test_a_killed_print_run_reprints_once(tmp_path):
    printed = await print_cards(tmp_path, residents=2, blanks=10, printing=1)
    nik = printed.niks[0]
    try:
        await tag(printed.store, [], {nik: "gagal_cetak"})
        report = await reported(printed.store, tmp_path / "laporan")
    finally:
        await printed.store.close()
    centre = centre_keys(tmp_path / "centre")
    (tmp_path / "grant.json").write_text(json.dumps(simulator.grant_for_report(report, centre.key)))

    emulator = subprocess.Popen(
        [STATION, "emulator", "--pty", "--state", str(tmp_path / "emulator-state.json"),
         "--log", str(tmp_path / "output.jsonl"), "--time-scale", "0.2"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    printing = None
    try:
        port = emulator.stdout.readline().strip()
        assert port.startswith("/dev/"), emulator.stderr.read()
        config = write_config(tmp_path, port=port, public_keys=("centre/central-public.pem",))
        for command in (("unlock", str(tmp_path / "grant.json")), ("enqueue", nik)):
            result = station(config, *command)
            assert result.returncode == 0, result.stderr

        printing = subprocess.Popen([STATION, "print", "--config", str(config)], stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE)  # fmt: skip
        await wait_for(lambda: reprint_in_the_printer(tmp_path / "station.db", tmp_path / "emulator-state.json")
                       or printing.poll() is not None, what="the reprint's blank in the printer")  # fmt: skip
        assert printing.poll() is None, "station print ended before the reprint's blank was taken"
        printing.send_signal(signal.SIGKILL)
        printing.wait(timeout=10)

        restarted = station(config, "print")
        assert restarted.returncode == 0, restarted.stderr
    finally:
        if printing is not None and printing.poll() is None:
            printing.kill()
            printing.wait()
        emulator.send_signal(signal.SIGTERM)
        emulator.communicate(timeout=20)

    first, *after = read_output_log(tmp_path / "output.jsonl")
    assert first["nik"] == nik
    # One card for the unlock: finished, or cut short by the crash before its texts (then it shows no NIK).
    assert len(after) == 1 and after[0]["nik"] in (nik, None), after
    async with await Store.open(tmp_path / "station.db") as store:
        [reprint] = await store.fetchall("SELECT * FROM jobs WHERE unlock_id IS NOT NULL")
        assert reprint["card_counter"] == after[0]["counter"] and reprint["state"] == "printed"
        assert await store.scalar("SELECT used_by_job FROM unlocks") == reprint["id"]
        info = await locks.lock_info(store, nik)
        assert info.locked and info.job_id == reprint["id"]
        assert (await locks.refusal(store, nik)).code == "locked"
        await check_books_against_output_log(store, tmp_path / "output.jsonl", unlocked={nik})
