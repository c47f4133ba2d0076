"""Jatah: the allocations received and their books; add one received, enter a physical count.

A difference, in the books or against a count, is written out in words and never hidden.
"""

from __future__ import annotations

from rich.console import Group
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.widgets import DataTable, Static

from console import books
from console.books import Books
from console.errors import UsageError
from console.formats import local
from console.i18n import t
from console.text import dash, day_and_time, number, signed
from screens.base import ReloadingScreen
from screens.dashboard import balance_line, count_text
from screens.keys import key
from screens.widgets.dialogs import Field, FormDialog
from screens.widgets.words import PlainTable, Words

DIGITS = r"[0-9]*"
COLUMNS = (("id", 0), ("received", 8), ("good", 7), ("bad", 6), ("in_stock", 7), ("books", 11), ("count", 12))
ID_MIN = 12  # the allocation's id takes the width left over, at least this


def _received(b: Books) -> str:
    """The equation's left side: the blanks received, and the loans not returned when there are any."""
    if not (b.borrowed or b.lent):
        return number(b.received)
    return f"{number(b.received)} + {number(b.borrowed)} − {number(b.lent)}"


class BooksView(ReloadingScreen):
    """The allocations and their books, a table and the one highlighted in words: what both consoles show."""

    TITLE_KEY = "ui.screen.allocations"

    def __init__(self) -> None:
        super().__init__()
        self.books: list[Books] = []
        self._id_width = 0

    def compose(self) -> ComposeResult:
        yield self.title_bar()
        yield PlainTable(id="allocation-table", cursor_type="row")
        yield Words("", id="allocation-detail", classes="panel")
        yield self.footer()

    def on_mount(self) -> None:
        self.query_one("#allocation-detail").border_title = t("ui.panel.allocation")

    def on_resize(self) -> None:
        self.call_after_refresh(self.reload)

    def _fit_columns(self, table: DataTable) -> None:
        """The id takes the width left over, and never less than the longest id: an id is never cut (the table
        scrolls sideways rather)."""
        fixed = sum(width for _, width in COLUMNS) + 2 * len(COLUMNS) + 1
        longest = max((len(b.allocation_id) for b in self.books), default=0)
        id_width = max(ID_MIN, longest, table.size.width - fixed)
        if id_width != self._id_width:
            self._id_width = id_width
            table.clear(columns=True)
            for name, width in COLUMNS:
                table.add_column(t(f"ui.alloc.col.{name}"), width=width or id_width, key=name)

    async def _load(self) -> None:
        assert self.station is not None
        self.books = await books.all_books(self.station.store)
        table = self.query_one(DataTable)
        row = table.cursor_row
        self._fit_columns(table)
        table.clear()
        for b in self.books:
            table.add_row(
                b.allocation_id, number(b.received), number(b.good), number(b.bad), number(b.in_stock),
                t("ui.alloc.balanced") if b.balanced else t("ui.alloc.difference", difference=signed(b.difference)),
                count_cell(b), key=b.allocation_id,
            )  # fmt: skip
        if self.books:
            table.move_cursor(row=min(max(row, 0), len(self.books) - 1))
        self._show_detail()

    def highlighted(self) -> Books | None:
        row = self.query_one(DataTable).cursor_row
        return self.books[row] if 0 <= row < len(self.books) else None

    @on(DataTable.RowHighlighted)
    def _show_detail(self) -> None:
        b = self.highlighted()
        detail = self.query_one("#allocation-detail", Static)
        if b is None:
            detail.update(Text(t("ui.alloc.none")))
            return
        detail.update(Group(
            Text(t("ui.alloc.heading", id=b.allocation_id, period=b.period or "-", at=day_and_time(b.received_at))),
            Text(t("ui.alloc.equation", received=_received(b), good=number(b.good), bad=number(b.bad),
                   untagged=number(b.untagged), spoiled=number(b.spoiled), in_stock=number(b.in_stock))),
            *([Text(t("ui.alloc.loans", borrowed=number(b.borrowed), lent=number(b.lent), held=number(b.held)))]
              if b.borrowed or b.lent else []),
            balance_line(b),
            count_text(b),
        ))  # fmt: skip


class AllocationsScreen(BooksView):
    """The operator's: the books, and the keys that add an allocation received or enter a physical count."""

    BINDINGS = [
        key("n,a", "add", "ui.key.add_allocation"),
        key("h,c", "count", "ui.key.count"),
        key("escape", "app.open('dashboard')", "ui.key.back", id="back"),
    ]

    def action_add(self) -> None:
        if self.station is None:
            return
        period = f"{local(self.station.clock()):%Y-%m}"
        fields = [
            Field("id", t("ui.alloc.field.id"), placeholder=t("ui.alloc.field.id_example", period=period)),
            Field("count", t("ui.alloc.field.count"), restrict=DIGITS),
            Field("period", t("ui.alloc.field.period"), value=period),
        ]
        self.app.push_screen(FormDialog(t("ui.alloc.add_title"), fields, self._add, t("ui.alloc.add_hint")),
                             self._added)  # fmt: skip

    async def _add(self, values: dict[str, str]) -> str:
        assert self.station is not None
        await self.station.add_allocation(values["id"], whole_number(values["count"]), values["period"] or None)
        return values["id"]

    def _added(self, allocation_id: str | None) -> None:
        if allocation_id:
            self.app.notify(t("ui.alloc.added", id=allocation_id))
            self.station_app.request_refresh()
            self.reload()

    def action_count(self) -> None:
        b = self.highlighted()
        if b is None:
            self.app.notify(t("ui.alloc.none"))
            return
        fields = [Field("counted", t("ui.alloc.field.counted"), restrict=DIGITS),
                  Field("note", t("ui.alloc.field.note"))]  # fmt: skip
        hint = t("ui.alloc.count_hint", id=b.allocation_id)
        self.app.push_screen(FormDialog(t("ui.alloc.count_title", id=b.allocation_id), fields,
                                        lambda values: self._count(b.allocation_id, values), hint),
                             self._counted)  # fmt: skip

    async def _count(self, allocation_id: str, values: dict[str, str]) -> int:
        assert self.station is not None
        return await self.station.enter_count(allocation_id, whole_number(values["counted"]), values["note"] or None)

    def _counted(self, difference: int | None) -> None:
        if difference is None:
            return
        if difference == 0:
            self.app.notify(t("ui.alloc.counted_same"))
        else:
            self.app.notify(t("ui.alloc.counted_differs", difference=signed(difference)), severity="warning",
                            timeout=15)  # fmt: skip
        self.station_app.request_refresh()
        self.reload()


def whole_number(text: str) -> int:
    if not text:
        raise UsageError(t("ui.alloc.number_missing"))
    if not (text.isascii() and text.isdigit()):  # int() takes any script's digits
        raise UsageError(t("ui.alloc.not_a_number", value=text))
    return int(text)


def count_cell(b: Books) -> str:
    if b.count_difference is None:
        return dash()
    if b.count_difference == 0:
        return t("ui.alloc.count_same")
    return t("ui.alloc.count_differs", difference=signed(b.count_difference))
