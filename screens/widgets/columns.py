"""A table's columns fitted to its width: one column (width 0) stretches over what the others leave."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from textual.widgets import DataTable


def fit_columns(
    table: DataTable, columns: Sequence[tuple[str, int]], label: Callable[[str], str], least: int, shown: int
) -> int:
    """Lay `columns` (name, width; 0: stretched, at least `least`) out on `table`, each headed by `label(name)`,
    unless the stretched width is still `shown`; the stretched width now. Laying out clears the table: its rows
    are added again after."""
    fixed = sum(width for _, width in columns) + 2 * len(columns) + 1
    stretched = max(least, table.size.width - fixed)
    if stretched != shown:
        table.clear(columns=True)
        for name, width in columns:
            table.add_column(label(name), width=width or stretched, key=name)
    return stretched
