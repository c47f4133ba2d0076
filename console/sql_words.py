"""The few SQL words the two engines spell differently, asked of the database at hand (a store or one of its
transactions: both say their `dialect`), so that a module writes its statement once."""

from __future__ import annotations

import re
from typing import Any


def nocase(db: Any, expression: str) -> str:
    """`expression` compared and ordered without minding (ASCII) case: SQLite's NOCASE collation; on a ledger,
    `lower()`, which its indexes on names are built on (operators by lower(name), residents by lower(nama))."""
    return f"{expression} COLLATE NOCASE" if db.dialect == "sqlite" else f"lower({expression})"


def same_nocase(db: Any, column: str) -> str:
    """A condition: `column` equals the next `?` parameter, case not minded (uses the case-blind index on both)."""
    return f"{column} = ? COLLATE NOCASE" if db.dialect == "sqlite" else f"lower({column}) = lower(?)"


_COMPARED = re.compile(r"(\w+) (>=|<=|=|<|>) \? COLLATE NOCASE")  # the comparison is case-blind, both sides
_NOCASE = re.compile(r"(\w+|\?) COLLATE NOCASE")
_LIKE = re.compile(r"(\w+) LIKE \?")


def nocase_sql(db: Any, sql: str) -> str:
    """A statement written with SQLite's `COLLATE NOCASE` (and its case-blind `LIKE`), spelled for the database at
    hand: on a ledger each `x COLLATE NOCASE` becomes `lower(x)` (its indexes are built so, console/backends/
    pg_schema.py) and `x LIKE ?` becomes `lower(x) LIKE lower(?)`."""
    if db.dialect == "sqlite":
        return sql
    sql = _COMPARED.sub(r"lower(\1) \2 lower(?)", sql)
    return _LIKE.sub(r"lower(\1) LIKE lower(?)", _NOCASE.sub(r"lower(\1)", sql))
