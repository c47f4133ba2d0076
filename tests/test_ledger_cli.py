"""The regency ledger through the real command line: `[database] url` (never with `path`), `station ledger
migrate`, and a station's day (import, allocation, queue, print on the emulator) kept in the ledger."""

from __future__ import annotations

import json
from pathlib import Path

import psycopg

from console.demo import write_demo_csv
from tests.test_cli_queue import station


def config_with(folder: Path, database: str, time_scale: float = 0, name: str = "config.toml") -> Path:
    """A station's configuration on `database` (its `[database]` lines), the built-in emulator at `time_scale`."""
    config = folder / name
    config.write_text(f"""
[station]
id = "5203-01"
language = "en"
[database]
{database}
[emulator]
time_scale = {time_scale}
feeder = 100
state = "emulator-state.json"
log = "output.jsonl"
[logging]
file = "station.log"
""")
    return config


def test_path_and_url_together_are_refused_naming_both(tmp_path):
    config = config_with(tmp_path, 'path = "station.db"\nurl = "postgresql://ktpel@127.0.0.1:5432/ledger"')
    done = station(config, "status")
    assert done.returncode == 2
    assert "`path`" in done.stderr and "`url`" in done.stderr
    assert not (tmp_path / "station.db").exists()


def test_a_url_with_a_password_or_another_scheme_is_refused(tmp_path):
    for url in ("postgresql://ktpel:secret@127.0.0.1:5432/ledger", "mysql://ktpel@127.0.0.1/ledger",
                "postgresql://127.0.0.1/ledger"):  # fmt: skip
        done = station(config_with(tmp_path, f'url = "{url}"'), "status")
        assert done.returncode == 2, url
        assert "database.url" in done.stderr and "password_file" in done.stderr, done.stderr


def test_a_password_file_without_a_url_is_refused(tmp_path):
    done = station(config_with(tmp_path, 'password_file = "ledger.pass"'), "status")
    assert done.returncode == 2
    assert "database.password_file" in done.stderr and "`url`" in done.stderr


def test_ledger_migrate_on_a_station_file_says_it_is_for_a_ledger(tmp_path):
    done = station(config_with(tmp_path, 'path = "station.db"'), "ledger", "migrate")
    assert done.returncode == 2
    assert "regency ledger" in done.stderr and "station.db" in done.stderr
    assert not (tmp_path / "station.db").exists()


def test_an_unreadable_password_file_is_named(tmp_path, pg_database):
    config = config_with(tmp_path, f'url = "{pg_database.url}"\npassword_file = "missing.pass"')
    done = station(config, "ledger", "migrate")
    assert done.returncode == 2
    assert "missing.pass" in done.stderr and "password" in done.stderr


def test_a_station_day_on_a_migrated_ledger(tmp_path, pg_database):
    (tmp_path / "ledger.pass").write_text("unused-by-trust\n")
    config = config_with(tmp_path, f'url = "{pg_database.url}"\npassword_file = "ledger.pass"')
    migrated = station(config, "ledger", "migrate")
    assert migrated.returncode == 0, migrated.stderr
    assert "(0 steps run)" not in migrated.stdout  # "(10 steps run)" holds "0 steps run"
    again = station(config, "ledger", "migrate")
    assert again.returncode == 0 and "(0 steps run)" in again.stdout, again.stdout
    write_demo_csv(tmp_path / "residents.csv", 4, seed=11)
    for args in (("import", str(tmp_path / "residents.csv")), ("allocation", "add", "JATAH-2026-11", "10"),
                 ("allocation", "issue", "JATAH-2026-11", "5203-01", "10"),
                 ("enqueue", "--all"), ("print",)):  # fmt: skip
        done = station(config, *args)
        assert done.returncode == 0, (args, done.stderr)
    status = json.loads(station(config, "status", "--json").stdout)
    assert status["queue"]["printed"] == 4 and status["stock"] == 6
    assert not (tmp_path / "station.db").exists()  # nothing went to a local SQLite file
    assert station(config, "audit", "verify").returncode == 0


def test_a_dropped_table_on_the_ledger_is_said_as_such(tmp_path, ledger):
    config = config_with(tmp_path, f'url = "{ledger.url}"')
    with psycopg.connect(ledger.url, autocommit=True) as admin:
        admin.execute("DROP TABLE stock_counts")
    done = station(config, "allocation", "list")
    assert done.returncode == 2, done.stderr
    assert "structure is not whole" in done.stderr and "stock_counts" in done.stderr and ledger.url in done.stderr
    assert "unexpected" not in done.stderr
