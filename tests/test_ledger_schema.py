"""The two spellings of the schema agree: a fresh SQLite database and a fresh ledger (PostgreSQL), each migrated
by the store, have the same tables, columns (NOT NULL included), foreign keys and named indexes (unique and
partial alike), so the same rules hold on both backends."""

from __future__ import annotations

import re
import sqlite3

import psycopg
import pytest

from console.backends.pg_sql import translate
from console.store import Store

# Spelled differently on purpose: SQLite's `name ... COLLATE NOCASE` key is this index on PostgreSQL; the names'
# trigram index is the ledger's alone (SQLite reads its name index for "contains" searches)
LEDGER_ONLY_INDEXES = {"operators_by_lower_name", "residents_by_name_trigram"}


def sqlite_schema(path) -> dict[str, object]:
    db = sqlite3.connect(path)
    tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    columns, keys, indexes = {}, set(), {}
    for table in tables:
        columns[table] = {(r[1], bool(r[3] or r[5])) for r in db.execute(f"PRAGMA table_info({table})")}
        keys |= {(table, r[3], r[2], r[4]) for r in db.execute(f"PRAGMA foreign_key_list({table})")}
        for _, name, unique, _, partial in db.execute(f"PRAGMA index_list({table})"):
            if not name.startswith("sqlite_autoindex"):
                cols = tuple(r[2] or "expr" for r in db.execute(f"PRAGMA index_info({name})"))
                indexes[name] = (table, bool(unique), bool(partial), cols)
    db.close()
    return {"tables": set(tables), "columns": columns, "foreign_keys": keys, "indexes": indexes}


def ledger_schema(url: str) -> dict[str, object]:
    with psycopg.connect(url) as db:
        tables = {r[0] for r in db.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
        tables.discard("schema_version")  # the ledger's PRAGMA user_version
        columns: dict[str, set[tuple[str, bool]]] = {table: set() for table in tables}
        for table, column, nullable in db.execute(
            "SELECT table_name, column_name, is_nullable FROM information_schema.columns WHERE table_schema = 'public'"
        ):
            if table in tables:
                columns[table].add((column, nullable == "NO"))
        keys = set()
        for table, definition in db.execute(
            "SELECT conrelid::regclass::text, pg_get_constraintdef(oid) FROM pg_constraint WHERE contype = 'f'"
        ):
            own, other, theirs = re.fullmatch(r"FOREIGN KEY \((\w+)\) REFERENCES (\w+)\((\w+)\)", definition).groups()
            keys.add((table, own, other, theirs))
        indexes = {}
        for table, name, definition in db.execute(
            "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'"
        ):
            if name.endswith(("_pkey", "_key")) or table == "schema_version" or name in LEDGER_ONLY_INDEXES:
                continue
            cols = re.search(r"USING btree \((.*?)\)( WHERE|$)", definition).group(1)
            cols = re.sub(r"lower\((\w+)\)", r"\1", cols)  # SQLite's `COLLATE NOCASE` column, spelled for PostgreSQL
            cols = tuple("expr" if "(" in c else c.strip().split()[0] for c in cols.split(","))
            indexes[name] = (table, definition.startswith("CREATE UNIQUE"), " WHERE " in definition, cols)
    return {"tables": tables, "columns": columns, "foreign_keys": keys, "indexes": indexes}


async def test_both_backends_build_the_same_schema(tmp_path, ledger):
    await (await Store.open(tmp_path / "station.db")).close()
    await (await Store.open(ledger.url)).close()
    on_sqlite, on_ledger = sqlite_schema(tmp_path / "station.db"), ledger_schema(ledger.url)
    for part in ("tables", "columns", "foreign_keys", "indexes"):
        assert on_ledger[part] == on_sqlite[part], part


def test_placeholders_are_translated_outside_strings_and_comments():
    sql = "SELECT '?', \"a?\", x LIKE '10%' -- what?\n FROM t WHERE a = ? AND b % 2 = ?"
    assert translate(sql, False) == "SELECT '?', \"a?\", x LIKE '10%%' \n FROM t WHERE a = %s AND b %% 2 = %s"
    assert translate("SELECT :nik, CAST(:job AS INTEGER), x::text, 'a:b'", True) == (
        "SELECT %(nik)s, CAST(%(job)s AS INTEGER), x::text, 'a:b'"
    )


@pytest.mark.parametrize("nik", ["3171012345678901", "it's 100% ? sure"])
async def test_a_value_with_quotes_percent_and_question_marks_is_a_value(ledger, nik):
    async with await Store.open(ledger.url) as store:
        async with store.transaction() as tx:
            await tx.execute("INSERT INTO meta (key, value) VALUES (?, ?)", ("odd?%'", nik))
        assert await store.get_meta("odd?%'") == nik
        row = await store.fetchone("SELECT key, value FROM meta WHERE key = ?", ("odd?%'",))
        assert (row[0], row["value"], dict(row), row.keys()) == ("odd?%'", nik, {"key": "odd?%'", "value": nik},
                                                                  ["key", "value"])  # fmt: skip
