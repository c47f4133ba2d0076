"""A regency ledger put back from an older backup forgets the cards printed since: their NIKs lose their locks.
Every station keeps a witness of the ledger's audit head on its own disk (`var/ledger.head`), advanced at each
of its commits and each time it opens the ledger; a ledger behind that witness is refused by every writing command
of that station (exit 7), so that no NIK printed after the backup is queued again. The printers' counters stay
the second witness (tests/test_witness.py)."""

from __future__ import annotations

from pathlib import Path

from console.demo import write_demo_csv
from tests.test_cli_queue import station
from tests.test_ledger_cli import config_with


def station_on(folder: Path, url: str, station_id: str) -> Path:
    folder.mkdir(exist_ok=True)
    config = config_with(folder, f'url = "{url}"')
    config.write_text(config.read_text().replace('id = "5203-01"', f'id = "{station_id}"'))
    return config


def ok(config: Path, *args: str) -> str:
    done = station(config, *args)
    assert done.returncode == 0, (args, done.stderr)
    return done.stdout


def printed_niks(folder: Path) -> list[str]:
    return [line.split('"nik": "')[1][:16] for line in (folder / "output.jsonl").read_text().splitlines()]


def test_a_ledger_put_back_behind_what_the_stations_saw_is_refused_by_them(tmp_path, ledger):
    server = ledger.server
    office, unit = (
        station_on(tmp_path / "office", ledger.url, "5203-01"),
        station_on(tmp_path / "unit", ledger.url, "5203-02"),
    )
    write_demo_csv(tmp_path / "residents.csv", 4, seed=11)
    ok(office, "import", str(tmp_path / "residents.csv"))
    ok(office, "allocation", "add", "JATAH-2026-12", "10")
    ok(office, "allocation", "issue", "JATAH-2026-12", "5203-01", "10")
    ok(office, "enqueue", "--all")
    ok(office, "print", "--count", "1")

    backup = f"{ledger.name}_backup"  # the nightly dump, as of one card printed
    server.psql(f"CREATE DATABASE {backup} TEMPLATE {ledger.name}")
    try:
        ok(office, "print", "--count", "1")  # a second card, after the backup
        [_, second] = printed_niks(tmp_path / "office")
        ok(unit, "status")  # the sub-district unit opens the ledger once: it has seen the second card's entries

        server.psql(f"DROP DATABASE {ledger.name} WITH (FORCE)")  # the ledger put back from the backup
        server.psql(f"ALTER DATABASE {backup} RENAME TO {ledger.name}")
    finally:
        server.psql(f"DROP DATABASE IF EXISTS {backup} WITH (FORCE)")

    for config in (office, unit):
        for args in (("enqueue", second), ("allocation", "add", "JATAH-2027-01", "5"), ("print",)):
            refused = station(config, *args)
            assert refused.returncode == 7, (config, args, refused.stdout, refused.stderr)
            assert "behind what this station saw" in refused.stderr and "var/ledger.head" in refused.stderr
        verified = station(config, "audit", "verify")
        assert verified.returncode == 7 and "behind what this station saw" in verified.stderr
    assert printed_niks(tmp_path / "office").count(second) == 1


def test_a_station_whose_witness_is_gone_writes_nothing_until_a_supervisor_accepts(tmp_path, ledger):
    office = station_on(tmp_path / "office", ledger.url, "5203-01")
    write_demo_csv(tmp_path / "residents.csv", 2, seed=11)
    ok(office, "import", str(tmp_path / "residents.csv"))
    witness = tmp_path / "office" / "var" / "ledger.head"
    assert witness.exists()
    witness.unlink()  # the station reinstalled, or its file removed

    refused = station(office, "allocation", "add", "JATAH-2026-12", "10")
    assert refused.returncode == 7 and "witness file" in refused.stderr, refused.stderr
    assert not witness.exists()
    ok(office, "audit", "accept-restore", "--reason", "station reinstalled on a new disk")
    assert witness.exists()
    ok(office, "allocation", "add", "JATAH-2026-12", "10")


def test_a_station_new_to_the_ledger_needs_no_acceptance(tmp_path, ledger):
    office, unit = (
        station_on(tmp_path / "office", ledger.url, "5203-01"),
        station_on(tmp_path / "unit", ledger.url, "5203-02"),
    )
    write_demo_csv(tmp_path / "residents.csv", 2, seed=11)
    ok(office, "import", str(tmp_path / "residents.csv"))
    ok(unit, "allocation", "add", "JATAH-2026-12", "10")  # it never wrote before: its witness starts now
    assert (tmp_path / "unit" / "var" / "ledger.head").exists()
