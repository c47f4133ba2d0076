"""What to do next after a refusal, in the words of where the person is: the command line names a command, the
consoles name a key. A message states the fact (`books.no_stock`: "no blank left in any allocation"); its advice
is in the catalogue as `hint.cli.<key>` and `hint.console.<key>`, and each side appends its own.

    raise NoStockError(t("books.no_stock"), hint="books.no_stock")
    advised(exc, CLI)      # "no blank left in any allocation; record a new allocation with `station allocation add`"
    advised(exc, CONSOLE)  # "no blank left in any allocation; record a new allocation: J, then N"
"""

from __future__ import annotations

from typing import Literal

from console.i18n import catalogue, t

Where = Literal["cli", "console"]
CLI: Where = "cli"
CONSOLE: Where = "console"


def with_hint(fact: str, hint: str | None, where: Where) -> str:
    """`fact`, followed by the advice of `hint` for `where` when the catalogue has one."""
    if hint is None or f"hint.{where}.{hint}" not in catalogue():
        return fact
    return f"{fact}; {t(f'hint.{where}.{hint}')}"


def advised(error: BaseException, where: Where) -> str:
    """An error's sentence with the advice it carries (`StationError.hint`), for `where`."""
    return with_hint(str(error), getattr(error, "hint", None), where)
