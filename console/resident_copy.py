"""The import's writing step on the regency ledger (PostgreSQL): each batch of staged rows is streamed into a
temporary table with `COPY` and written by one statement over the whole batch, instead of a statement a row.

The same outcome as on SQLite (`console/resident_import.py`, `_write_batch`): new NIKs inserted, changed records
updated unless the lock rule settles them (printed, or in the queue: refused with the row's number), records
equal to what is stored left untouched. The rows were checked while staging; only the counts come from here."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from console.locks import bars_sql, settled_sql
from console.logs import get_logger
from console.resident_staging import Staging
from console.residents import COLUMNS

log = get_logger("residents")

BATCH_TABLE = "import_batch"  # per connection; emptied at each commit

_DATA = ", ".join(COLUMNS)
_DIFFERS = (
    f"ROW({', '.join(f'r.{c}' for c in COLUMNS[1:])}) IS DISTINCT FROM ROW({', '.join(f's.{c}' for c in COLUMNS[1:])})"
)


_ESCAPED = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
_NULL = "\x00"  # stands for NULL while a line is made: no field holds it (the checks refuse it, paths cannot)
_NULL_TEXT = "\\N"  # COPY's NULL


def copy_line(row: int, data: tuple) -> str:
    """A checked row (its number, its fields in COLUMNS order) as a line of COPY's text format: `\\N` for NULL,
    a backslash, tab or line break escaped (the checks refuse control characters in the file's fields, but the
    photo's path starts with the file's folder, which may hold them). Made once, while the file is staged."""
    line = "\t".join([_NULL if value is None else value for value in data])
    if "\\" in line or "\n" in line or "\r" in line or line.count("\t") != len(COLUMNS) - 1:  # rare: escape each
        line = "\t".join([_NULL if value is None else value.translate(_ESCAPED) for value in data])
    return f"{row}\t{line.replace(_NULL, _NULL_TEXT)}\n"


@dataclass(frozen=True)
class CopyBatch:
    """A batch of staged rows, in NIK order, as COPY's text: a line a row, its number then its fields."""

    text: str
    rows: int
    low: str  # the batch's first and last NIK
    high: str

    def __len__(self) -> int:
        return self.rows


def read_batch(staging: Staging, size: int) -> CopyBatch:
    """The staging's next `size` rows as a CopyBatch (of no rows at the end)."""
    lines = [line for (line,) in staging.next_values("line", size)]
    if not lines:
        return CopyBatch("", 0, "", "")
    return CopyBatch("".join(lines), len(lines), lines[0].split("\t", 2)[1], lines[-1].split("\t", 2)[1])


# The batch's NIKs span one range (the staging gives them in NIK order): bounding the stored side by it lets the
# ledger read that stretch of its index instead of the whole table for every batch (quadratic at a million).
_IN_RANGE = "r.nik BETWEEN ? AND ?"
_CREATE = (
    f"CREATE TEMP TABLE IF NOT EXISTS {BATCH_TABLE} (row integer NOT NULL, "
    f"{', '.join(f'{c} text' for c in COLUMNS)}) ON COMMIT DELETE ROWS"
)
# One statement a batch (one join of the batch with the stored records, one round trip), its parts seeing the
# same snapshot: the records that differ, those of them the lock rule settles (few), the others updated, the new
# NIKs inserted (disjoint from the updated, so neither part needs to see the other's rows).
_WRITE = (
    f"WITH changed AS MATERIALIZED (SELECT s.row, s.nik FROM {BATCH_TABLE} s JOIN residents r ON r.nik = s.nik "
    f"WHERE {_IN_RANGE} AND {_DIFFERS}), "
    f"refused AS MATERIALIZED (SELECT c.row, (SELECT bars.code FROM ({bars_sql('c.nik')}) AS bars "
    f"ORDER BY bars.rank LIMIT 1) AS code FROM changed c WHERE {settled_sql('c.nik')}), "
    f"updated AS (UPDATE residents r SET {', '.join(f'{c} = s.{c}' for c in COLUMNS[1:])}, source = ?, "
    f"updated_at = ? FROM {BATCH_TABLE} s WHERE r.nik = s.nik AND {_IN_RANGE} "
    f"AND s.row IN (SELECT row FROM changed) AND s.row NOT IN (SELECT row FROM refused) RETURNING 1), "
    f"added AS (INSERT INTO residents ({_DATA}, source, imported_at, updated_at) SELECT {_DATA}, ?, ?, ? "
    f"FROM {BATCH_TABLE} s WHERE NOT EXISTS (SELECT 1 FROM residents r WHERE r.nik = s.nik AND {_IN_RANGE}) "
    f"RETURNING 1) "
    f"SELECT (SELECT count(*) FROM added) AS added, (SELECT count(*) FROM updated) AS updated, "
    f"(SELECT array_agg(row ORDER BY row) FROM refused) AS rows, "
    f"(SELECT array_agg(code ORDER BY row) FROM refused) AS codes"
)


async def write_batch(tx: Any, batch: CopyBatch, source: str | None, at: str) -> tuple[int, int, list[tuple[int, str]]]:
    """Write one batch in the ledger's transaction `tx`: (added, updated, the rows refused as (row, why))."""
    await tx.execute(_CREATE)
    await tx.copy_text(BATCH_TABLE, ("row", *COLUMNS), batch.text)
    low, high = batch.low, batch.high
    done = await tx.fetchone(_WRITE, (low, high, source, at, low, high, source, at, at, low, high))
    refused = [
        (row, "queued" if code == "already_queued" else "printed")
        for row, code in zip(done["rows"] or (), done["codes"] or ())
    ]
    return done["added"], done["updated"], refused


async def refresh_statistics(store: Any) -> None:
    """`residents` tidied once an import is done, as autovacuum would later: the planner's statistics (without them
    the ledger plans a "contains" search of a million names as a walk of every name instead of a look-up in the
    trigram index), the map of pages all visible (counts read the indexes alone) and the trigram index's pending
    entries. A role that does not own the table is skipped with a warning by the server. The import is committed
    and audited by then: a tidying that fails (another vacuum holding the table past the lock timeout, the link
    lost) is logged, and the import's result stands."""
    try:
        await store.execute_alone("VACUUM (ANALYZE) residents")
    except Exception as exc:  # advisory work after the commit: never the import's failure
        log.warning("residents_not_vacuumed", why=str(exc))
