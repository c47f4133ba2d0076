"""Text on screen that is never read as markup: the catalogue writes keys as [B] and [Enter], and a resident's
name or a printer's reply may hold brackets too."""

from __future__ import annotations

from typing import Any

from textual.widgets import Label, Static


class Words(Static):
    def __init__(self, content: Any = "", **kwargs: Any) -> None:
        super().__init__(content, markup=False, **kwargs)


class LabelWords(Label):
    def __init__(self, content: Any = "", **kwargs: Any) -> None:
        super().__init__(content, markup=False, **kwargs)
