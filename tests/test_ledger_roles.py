"""Stations registered on the ledger with roles of their own (`station ledger add-station`), held to least
privilege: a station's role cannot rewrite the audit log, the regency's allocations, nor another station's rows,
and prints all the same."""

from __future__ import annotations

import json
import re
import stat
from pathlib import Path

import psycopg
import pytest
from psycopg import errors

from console.demo import write_demo_csv
from tests.test_cli_queue import station
from tests.test_ledger_cli import config_with


def _station_config(folder: Path, printed: str) -> Path:
    """The `[station]` and `[database]` lines `add-station` printed, as a station's whole config."""
    folder.mkdir()
    station_id = re.search(r'^id = "(.*)"$', printed, re.M)[1]
    url = re.search(r'^url = "(.*)"$', printed, re.M)[1]
    password_file = re.search(r'^password_file = "(.*)"$', printed, re.M)[1]
    config = config_with(folder, f'url = "{url}"\npassword_file = "{password_file}"')
    config.write_text(config.read_text().replace('id = "5203-01"', f'id = "{station_id}"'))
    return config


@pytest.fixture
def regency(tmp_path, ledger):
    """The regency's administrator (owner of the ledger) and two stations it registered, east and west."""
    admin = config_with(tmp_path, f'url = "{ledger.url}"')
    configs = {}
    for side in ("east", "west"):
        station_id = f"{ledger.name[-12:]}-{side}".replace("_", "-").strip("-")
        added = station(admin, "ledger", "add-station", station_id, "--name", f"Loket {side}",
                        "--password-file", str(tmp_path / f"{side}.pass"))  # fmt: skip
        assert added.returncode == 0, added.stderr
        configs[side] = _station_config(tmp_path / side, added.stdout)
    return admin, configs


def _connect_as(config: Path) -> psycopg.Connection:
    url = re.search(r'^url = "(.*)"$', config.read_text(), re.M)[1]
    return psycopg.connect(url, autocommit=True)


def _station_id(config: Path) -> str:
    return re.search(r'^id = "(.*)"$', config.read_text(), re.M)[1]


def test_add_station_makes_a_role_keeps_its_password_private_and_lists_it(regency, tmp_path):
    admin, configs = regency
    assert stat.S_IMODE((tmp_path / "east.pass").stat().st_mode) == 0o600
    listed = {s["id"]: s for s in json.loads(station(admin, "ledger", "stations", "--json").stdout)}
    east = _station_id(configs["east"])
    assert listed[east]["role"] == "station_" + east.replace("-", "_") and listed[east]["name"] == "Loket east"
    again = station(admin, "ledger", "add-station", east, "--name", "x")
    assert again.returncode == 4 and "already registered" in again.stderr
    reused = station(admin, "ledger", "add-station", "other", "--name", "x", "--password-file",
                     str(tmp_path / "east.pass"))  # fmt: skip
    assert reused.returncode == 2 and "never overwritten" in reused.stderr
    assert "other" not in station(admin, "ledger", "stations").stdout


def test_a_station_role_cannot_rewrite_the_audit_log_the_allocations_or_another_stations_rows(regency, tmp_path):
    admin, configs = regency
    east, west = _station_id(configs["east"]), _station_id(configs["west"])
    write_demo_csv(tmp_path / "residents.csv", 3, seed=5)
    for args in (("import", str(tmp_path / "residents.csv")), ("allocation", "add", "A", "10"),
                 ("allocation", "issue", "A", east, "5"), ("enqueue", "--all", "--station", east)):  # fmt: skip
        done = station(admin, *args)
        assert done.returncode == 0, (args, done.stderr)
    printed = station(configs["east"], "print", "--count", "1")  # as east's role
    assert printed.returncode == 0, printed.stderr
    with _connect_as(configs["west"]) as conn:
        for statement in ("UPDATE audit SET actor = 'x'", "DELETE FROM audit",
                          "UPDATE allocations SET in_stock = 100", "INSERT INTO stations VALUES ('x', 'x', 'x')"):  # fmt: skip
            with pytest.raises(errors.InsufficientPrivilege):
                conn.execute(statement)
        # east's rows are out of west's reach: its updates find nothing, its inserts in east's name are refused
        for statement in ("UPDATE jobs SET state = 'cancelled'", "UPDATE station_stock SET in_stock = 0",
                          "UPDATE live_state SET value = '{}'", "DELETE FROM station_state"):  # fmt: skip
            assert conn.execute(statement + " WHERE station_id = %s", (east,)).rowcount == 0
        for statement in (
            "INSERT INTO live_state VALUES (%s, 'engine', '{}', 'now')",
            "INSERT INTO requests (kind, requester, at, station_id) VALUES ('pause', 'x', 'now', %s)",
            "INSERT INTO audit (seq, at, actor, action, data, prev_hash, hash, station_id) "
            "VALUES (99999, 'now', 'x', 'x', '{}', 'x', 'x', %s)",
        ):
            with pytest.raises(errors.InsufficientPrivilege):
                conn.execute(statement, (east,))
        with pytest.raises(errors.InsufficientPrivilege):  # a job queued for east: west may not claim it
            conn.execute("UPDATE jobs SET station_id = %s WHERE queued_for = %s AND state = 'queued'", (west, east))
    with psycopg.connect(re.search(r'^url = "(.*)"$', admin.read_text(), re.M)[1]) as conn:
        owners = conn.execute("SELECT count(*) FROM audit WHERE station_id = %s", (east,)).fetchone()[0]
    assert owners > 0
    rest = station(configs["east"], "print")  # the rest, as east's role: normal printing works
    assert rest.returncode == 0, rest.stderr
    status = json.loads(station(configs["east"], "status", "--json").stdout)
    assert status["queue"]["printed"] == 3 and status["stock"] == 2
    assert station(configs["west"], "audit", "verify").returncode == 0
    listed = json.loads(station(admin, "allocation", "list", "--json").stdout)
    [a] = listed
    assert a["balanced"] and a["regency_stock"] == 5
    assert [(s["station"], s["issued"], s["untagged"], s["in_stock"]) for s in a["stations"]] == [(east, 5, 3, 2)]


def test_a_station_role_cannot_pass_for_another_by_a_table_of_its_own(regency, tmp_path):
    """An attacker with west's role shadows `stations` with a temporary table naming its role as east's."""
    _, configs = regency
    east = _station_id(configs["east"])
    with _connect_as(configs["east"]) as conn:
        conn.execute("INSERT INTO live_state VALUES (%s, 'engine', '{}', 'now')", (east,))
    with _connect_as(configs["west"]) as conn:
        conn.execute("CREATE TEMP TABLE stations (id text, name text, created text, role text)")
        conn.execute("INSERT INTO stations VALUES (%s, 'x', 'x', current_user)", (east,))
        assert conn.execute("SELECT count(*) FROM stations").fetchone()[0] == 1  # its own table, first in its path
        assert conn.execute("UPDATE live_state SET value = '[]' WHERE station_id = %s", (east,)).rowcount == 0
        with pytest.raises(errors.InsufficientPrivilege):
            conn.execute("INSERT INTO live_state VALUES (%s, 'printer', '{}', 'now')", (east,))


def test_a_station_role_queues_a_resident_with_the_receipt_it_is_given_and_reads_the_custody_tables(regency, tmp_path):
    admin, configs = regency
    write_demo_csv(tmp_path / "residents.csv", 2, seed=7)
    assert station(admin, "import", str(tmp_path / "residents.csv")).returncode == 0
    nik = (tmp_path / "residents.csv").read_text().splitlines()[1].split(",")[0]
    queued = station(configs["east"], "enqueue", nik)  # as east's role: the job and the resident's receipt
    assert queued.returncode == 0, queued.stderr
    with _connect_as(configs["east"]) as conn:
        assert conn.execute("SELECT count(*) FROM receipts WHERE nik = %s", (nik,)).fetchone() == (1,)
        assert conn.execute("SELECT count(*) FROM card_custody").fetchone() == (0,)
        with pytest.raises(errors.InsufficientPrivilege):  # the hand-over desk's, not a station's
            conn.execute("INSERT INTO batch_releases (batch, released_at, released_by, early, blocking) "
                         "VALUES ('kec:52.03.07', 'now', 'x', 0, 0)")  # fmt: skip
    verify = station(configs["east"], "audit", "verify")
    assert verify.returncode == 0, verify.stderr
