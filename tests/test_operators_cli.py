"""Operators through the real `station` command on a real SQLite file: registering them, `--operator` with its PIN
from standard input or the environment, the audit log naming who acted, a supervisor for tag corrections and
grants, and the wait after wrong PINs holding across processes."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
from datetime import datetime, timedelta
from pathlib import Path

from console import operators
from console.operators import SUPERVISOR
from console.store import Store
from tests.command import STATION
from tests.test_report_kit import ALLOCATION, print_cards, write_config

SITI, SITI_PIN = "Siti", "482915"
BAIQ, BAIQ_PIN = "Baiq", "kopi tubruk pagi"
SECRETS = ("STATION_OPERATOR", "STATION_PIN", "STATION_NEW_PIN")


def station(config: Path | None, *args: str, stdin: str = "", **env: str) -> subprocess.CompletedProcess:
    """The real command in its own process; its standard input a pipe (never the test's terminal)."""
    environment = {k: v for k, v in os.environ.items() if k not in SECRETS} | env
    command = [STATION, *args] + (["--config", str(config)] if config is not None else [])
    return subprocess.run(command, input=stdin, capture_output=True, text=True, env=environment, timeout=120)


def ok(result: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    assert result.returncode == 0, result.stderr
    return result


def query(db: Path, sql: str, *params) -> list[tuple]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def test_registering_operators(tmp_path):
    config = write_config(tmp_path, language="en")
    assert "no operator is registered" in ok(station(config, "operator", "list")).stdout
    ok(station(config, "allocation", "add", ALLOCATION, "10"))  # no operators: works as before, no PIN asked

    first = station(config, "operator", "add", BAIQ, stdin=f"{BAIQ_PIN}\n")
    assert first.returncode == 4 and "first operator must be a supervisor" in first.stderr
    weak = station(config, "operator", "add", SITI, "--role", "supervisor", stdin="123456\n")
    assert weak.returncode == 2 and "too easy to guess" in weak.stderr
    assert query(tmp_path / "station.db", "SELECT count(*) FROM operators") == [(0,)]

    ok(station(config, "operator", "add", SITI, "--role", "supervisor", STATION_NEW_PIN=SITI_PIN))
    # From now on a supervisor signs in to add the next: her PIN first, then the new one, on standard input.
    ok(station(config, "operator", "add", BAIQ, "--operator", SITI, stdin=f"{SITI_PIN}\n{BAIQ_PIN}\n"))
    refused = station(config, "operator", "add", "Lalu", "--operator", BAIQ, stdin=f"{BAIQ_PIN}\n739184\n")
    assert refused.returncode == 4 and "needs a signed-in supervisor" in refused.stderr
    listed = json.loads(ok(station(config, "operator", "list", "--json")).stdout)
    assert [(o["name"], o["role"], o["state"]) for o in listed] == [
        (BAIQ, "operator", "active"),
        (SITI, "supervisor", "active"),
    ]

    ok(station(config, "operator", "passwd", BAIQ, "--operator", BAIQ, stdin=f"{BAIQ_PIN}\nes kelapa muda\n"))
    ok(station(config, "operator", "disable", BAIQ, "--operator", SITI, STATION_PIN=SITI_PIN))
    gone = station(config, "allocation", "count", ALLOCATION, "10", "--operator", BAIQ, stdin="es kelapa muda\n")
    assert gone.returncode == 4 and "disabled" in gone.stderr
    assert "disabled" in ok(station(config, "operator", "list")).stdout
    ok(station(config, "audit", "verify"))


def test_changes_need_a_signed_in_operator_whom_the_log_names(tmp_path):
    config = write_config(tmp_path, language="en")
    db = tmp_path / "station.db"
    ok(station(config, "operator", "add", SITI, "--role", "supervisor", STATION_NEW_PIN=SITI_PIN))

    anonymous = station(config, "allocation", "add", ALLOCATION, "10")
    assert anonymous.returncode == 4 and "--operator NAME" in anonymous.stderr
    wrong = station(config, "allocation", "add", ALLOCATION, "10", "--operator", SITI, stdin="482916\n")
    assert wrong.returncode == 4 and "wrong PIN for Siti" in wrong.stderr
    no_pin = station(config, "allocation", "add", ALLOCATION, "10", "--operator", SITI)
    assert no_pin.returncode == 2 and "STATION_PIN" in no_pin.stderr
    assert query(db, "SELECT count(*) FROM allocations") == [(0,)]
    assert (
        query(db, "SELECT actor, json_extract(data, '$.why') FROM audit WHERE action = 'operator.sign_in_failed'")[0][1]
        == "wrong_pin"
    )

    ok(station(config, "status"))  # reading needs no sign-in, even where a profile sets STATION_OPERATOR
    ok(station(config, "status", STATION_OPERATOR=SITI))
    assert station(config, "status", "--operator", SITI, stdin="482916\n").returncode == 4  # a name given is checked
    ok(station(config, "allocation", "add", ALLOCATION, "10", "--operator", "siti", stdin=f"{SITI_PIN}\n"))
    ok(station(config, "allocation", "count", ALLOCATION, "10", STATION_OPERATOR=SITI, STATION_PIN=SITI_PIN))
    rows = query(db, "SELECT action, actor FROM audit WHERE action NOT LIKE 'operator.%' ORDER BY seq")
    assert rows == [("allocation.received", SITI), ("stock.counted", SITI)]
    assert [a for (a,) in query(db, "SELECT action FROM audit WHERE action LIKE 'operator.%' ORDER BY seq")] == [
        "operator.added",
        "operator.sign_in_failed",
        "operator.sign_in_failed",
        "operator.signed_in",
        "operator.signed_in",
    ]


async def test_a_wait_earned_by_wrong_pins_holds_in_the_next_process(tmp_path):
    config = write_config(tmp_path, language="en")
    # The attacker's clock runs ahead by the waits it skips, so that the fifth wrong PIN falls on the real now.
    moment = [datetime.now().astimezone() - timedelta(seconds=5 + 10)]

    async def skip(seconds: float) -> None:
        moment[0] += timedelta(seconds=seconds)

    async with await Store.open(tmp_path / "station.db") as store:
        await operators.add_operator(store, SITI, SUPERVISOR, SITI_PIN, "root")
        for _ in range(5):  # the fifth wrong PIN earns a wait of 20 s
            await operators.sign_in(store, SITI, "000001", terminal="x", now=lambda: moment[0], sleep=skip)
    right = station(config, "allocation", "add", ALLOCATION, "10", "--operator", SITI, stdin=f"{SITI_PIN}\n")
    assert right.returncode == 4 and "too many wrong PINs" in right.stderr
    assert query(tmp_path / "station.db", "SELECT count(*) FROM allocations") == [(0,)]
    waiting = json.loads(ok(station(config, "operator", "list", "--json")).stdout)
    assert waiting[0]["state"] == "waiting" and waiting[0]["failed_attempts"] == 5


async def test_a_supervisor_corrects_tags_and_applies_grants(tmp_path):
    printed = await print_cards(tmp_path, residents=3)
    niks = printed.niks
    await operators.add_operator(printed.store, SITI, SUPERVISOR, SITI_PIN, "root")
    await operators.add_operator(printed.store, BAIQ, "operator", BAIQ_PIN, SITI)
    await printed.store.close()
    config = write_config(tmp_path, language="en")
    db = tmp_path / "station.db"

    def state_of(nik: str) -> tuple:
        return query(db, "SELECT state, tagged_by FROM jobs WHERE nik = ? ORDER BY id DESC LIMIT 1", nik)[0]

    ok(station(config, "tag", niks[0], "good", "--operator", BAIQ, STATION_PIN=BAIQ_PIN))  # out of the hopper
    correction = station(
        config, "tag", niks[0], "bad", "--reason", "gagal_cetak", "--operator", BAIQ, STATION_PIN=BAIQ_PIN
    )
    assert correction.returncode == 4 and "Correcting the tag" in correction.stderr
    assert state_of(niks[0]) == ("done_good", BAIQ)
    ok(station(config, "tag", niks[0], "bad", "--reason", "gagal_cetak", "--operator", SITI, STATION_PIN=SITI_PIN))
    assert state_of(niks[0]) == ("done_bad", SITI)
    ok(station(config, "tag", niks[1], "good", "--operator", BAIQ, STATION_PIN=BAIQ_PIN))
    ok(station(config, "tag", niks[2], "good", "--operator", BAIQ, STATION_PIN=BAIQ_PIN))

    ok(station(config, "report", ALLOCATION, "--out", str(tmp_path / "r1"), "--operator", BAIQ, STATION_PIN=BAIQ_PIN))
    ok(station(None, "central", "keygen", "--out", str(tmp_path / "centre")))
    write_config(tmp_path, language="en", public_keys=("centre/central-public.pem",))
    ok(
        station(
            None,
            "central",
            "grant",
            str(tmp_path / "r1" / f"laporan-{ALLOCATION}.json"),
            "--key",
            str(tmp_path / "centre" / "central-private.pem"),
            "--out",
            str(tmp_path / "grant.json"),
        )
    )
    by_operator = station(config, "unlock", str(tmp_path / "grant.json"), "--operator", BAIQ, STATION_PIN=BAIQ_PIN)
    assert by_operator.returncode == 4 and "Applying the centre's unlock grant needs a signed-in supervisor" in (
        by_operator.stderr
    )
    assert query(db, "SELECT count(*) FROM grants") == [(0,)]
    ok(station(config, "unlock", str(tmp_path / "grant.json"), "--operator", SITI, STATION_PIN=SITI_PIN))
    assert query(db, "SELECT actor FROM audit WHERE action = 'grant.applied'") == [(SITI,)]
    ok(station(config, "audit", "verify"))
