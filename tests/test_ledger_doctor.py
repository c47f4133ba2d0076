"""`station doctor` on a regency ledger: a line for the ledger's answer, its schema step (doctor never migrates),
the audit chain, and the rights of the role the station connects as; a ledger that does not answer is a failed
line, never an unexpected error."""

from __future__ import annotations

from pathlib import Path

import psycopg

from console.schema import MIGRATIONS
from tests.test_cli_queue import station
from tests.test_ledger_cli import config_with


def config_on(folder: Path, url: str) -> Path:
    return config_with(folder, f'url = "{url}"')


def lines_of(config: Path) -> tuple[int, dict[str, str]]:
    done = station(config, "doctor")
    assert "unexpected" not in done.stderr, done.stderr
    return done.returncode, {line.split()[0]: line for line in done.stdout.splitlines()}


def test_doctor_on_a_ledger_says_each_part(tmp_path, ledger):
    code, lines = lines_of(config_on(tmp_path, ledger.url))
    assert list(lines) == ["config", "ledger", "database", "audit", "role", "printer", "keys"]
    assert "[ OK ]" in lines["ledger"] and "PostgreSQL 15" in lines["ledger"] and ledger.url in lines["ledger"]
    assert "[ OK ]" in lines["database"] and f"schema step {len(MIGRATIONS)}, complete" in lines["database"]
    assert "[ OK ]" in lines["audit"]
    assert "[WARN]" in lines["role"] and "superuser" in lines["role"]  # the test server's role owns everything
    assert "[ OK ]" in lines["printer"] and "[FAIL]" in lines["keys"]
    assert code == 2  # the keys only


def test_a_station_role_that_may_only_append_to_the_audit_log_is_ok(tmp_path, ledger):
    with psycopg.connect(**ledger.connect_kwargs(), autocommit=True) as admin:
        admin.execute("CREATE ROLE doctor_station LOGIN")
        admin.execute("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO doctor_station")
        admin.execute("REVOKE UPDATE, DELETE ON audit FROM doctor_station")
    try:
        _, lines = lines_of(config_on(tmp_path, ledger.url.replace("ktpel@", "doctor_station@")))
        assert "[ OK ]" in lines["role"] and "doctor_station: may only append" in lines["role"], lines["role"]
        with psycopg.connect(**ledger.connect_kwargs(), autocommit=True) as admin:
            admin.execute("GRANT DELETE ON audit TO doctor_station")
        _, lines = lines_of(config_on(tmp_path, ledger.url.replace("ktpel@", "doctor_station@")))
        assert "[WARN]" in lines["role"] and "may rewrite the audit log (DELETE)" in lines["role"], lines["role"]
    finally:
        with psycopg.connect(**ledger.connect_kwargs(), autocommit=True) as admin:
            admin.execute("DROP OWNED BY doctor_station")
            admin.execute("DROP ROLE doctor_station")


def test_a_ledger_behind_the_program_or_lacking_an_index_fails_its_line_and_is_not_migrated(tmp_path, ledger):
    with psycopg.connect(**ledger.connect_kwargs(), autocommit=True) as admin:
        admin.execute("DELETE FROM schema_version WHERE version = (SELECT max(version) FROM schema_version)")
    code, lines = lines_of(config_on(tmp_path, ledger.url))
    known = len(MIGRATIONS)
    assert "[FAIL]" in lines["database"] and f"at step {known - 1}, this program knows {known}" in lines["database"]
    assert "station ledger migrate" in lines["database"] and code == 2
    with psycopg.connect(**ledger.connect_kwargs(), autocommit=True) as admin:
        assert admin.execute("SELECT max(version) FROM schema_version").fetchone()[0] == known - 1  # untouched
        admin.execute(f"INSERT INTO schema_version VALUES ({known}, 'now')")
        admin.execute("DROP INDEX residents_by_village")
    _, lines = lines_of(config_on(tmp_path, ledger.url))
    assert "[FAIL]" in lines["database"] and "lacks index residents_by_village" in lines["database"]


def test_a_ledger_that_does_not_answer_fails_its_lines(tmp_path, ledger):
    ledger.server.stop("immediate")
    try:
        code, lines = lines_of(config_on(tmp_path, ledger.url))
    finally:
        ledger.server.start()
    assert code == 2
    for name in ("ledger", "database", "audit", "role"):
        assert "[FAIL]" in lines[name] and ledger.url in lines[name], lines[name]
    assert "[ OK ]" in lines["config"] and "[ OK ]" in lines["printer"]
