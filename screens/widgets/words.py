"""Text on screen that is never read as markup: the catalogue writes keys as [B] and [Enter], and a resident's
name, a tag's note, an allocation's id or a printer's reply may hold brackets too (`BUDI [/]` would raise,
`[@click=app.quit]` would act). Every value shown goes through here as plain text."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.content import Content
from textual.widgets import DataTable, Label, Static


def plain(value: object) -> Content:
    """A value as Textual content, letter for letter (for titles, which Textual would read as markup)."""
    return Content(str(value))


def cell(value: object) -> Any:
    """A table cell: strings as plain text on one line, anything else (numbers, Rich renderables) as it is."""
    return Text(value, no_wrap=True, end="") if isinstance(value, str) else value


class Words(Static):
    def __init__(self, content: Any = "", **kwargs: Any) -> None:
        super().__init__(content, markup=False, **kwargs)


class LabelWords(Label):
    def __init__(self, content: Any = "", **kwargs: Any) -> None:
        super().__init__(content, markup=False, **kwargs)


class PlainTable(DataTable[Any]):
    """A DataTable whose string cells are text, never markup (DataTable reads a string cell as markup)."""

    def add_row(self, *cells: Any, **kwargs: Any) -> Any:
        return super().add_row(*(cell(value) for value in cells), **kwargs)

    def update_cell(self, row_key: Any, column_key: Any, value: Any, **kwargs: Any) -> None:
        super().update_cell(row_key, column_key, cell(value), **kwargs)
