"""The store's SQL, written once with `?` (or `:name`) placeholders, spelled for psycopg (`%s`, `%(name)s`).

A small scanner skips quoted strings, quoted identifiers and comments, and doubles every literal `%` outside
them (psycopg reads `%` as the start of a placeholder). Each distinct statement is translated once."""

from __future__ import annotations

from functools import lru_cache


@lru_cache(maxsize=2048)
def translate(sql: str, named: bool) -> str:
    out: list[str] = []
    i, n = 0, len(sql)
    while i < n:
        c = sql[i]
        if c in "'\"":
            end = sql.find(c, i + 1)
            while end != -1 and sql[end + 1 : end + 2] == c:  # a doubled quote stays inside
                end = sql.find(c, end + 2)
            end = n if end == -1 else end + 1
            out.append(sql[i:end].replace("%", "%%"))
            i = end
        elif sql.startswith("--", i):
            end = sql.find("\n", i)
            i = n if end == -1 else end
        elif sql.startswith("/*", i):
            end = sql.find("*/", i + 2)
            i = n if end == -1 else end + 2
        elif c == "?" and not named:
            out.append("%s")
            i += 1
        elif c == ":" and named and sql[i + 1 : i + 2].isidentifier() and sql[i - 1 : i] != ":":
            end = i + 1
            while end < n and (sql[end].isalnum() or sql[end] == "_"):
                end += 1
            out.append(f"%({sql[i + 1 : end]})s")
            i = end
        elif c == "%":
            out.append("%%")
            i += 1
        else:
            out.append(c)
            i += 1
    return "".join(out)
