"""A list the supervisor pages through, read a page at a time: only the rows that fit on the screen are read
(over a slow link, a long audit log costs no more than one screenful)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.widgets import Static

from console.i18n import t
from console.live import Live
from console.store import Store
from console.text import number
from screens.base import StationScreen
from screens.keys import key
from screens.supervisor.supervised import Supervised
from screens.widgets.words import Words

LAST_PAGE = 1 << 62  # an offset past any list: the last page


@dataclass(frozen=True)
class Page:
    rows: Sequence[tuple[str, ...]]
    total: int
    offset: int  # of the first row, from 0


def clamp(offset: int, total: int, rows: int) -> int:
    """The offset asked for, kept within the list: at most the last page's (0 for an empty list)."""
    last = max(total - 1, 0) // rows * rows
    return min(max(offset, 0), last)


def page_keys(first: str, last: str) -> list[BindingType]:
    """A list's keys: a page on or back, the first page and the last (`first`, `last`: what they are called in
    this list), back to the dashboard."""
    return [
        key("pagedown,down,space", "turn(1)", "ui.sup.key.next", id="next-page"),
        key("pageup,up", "turn(-1)", "ui.sup.key.previous", id="previous-page"),
        key("home", "offset_to(0)", first, show=False, id="first-page"),
        key("end", f"offset_to({LAST_PAGE})", last, show=False, id="last-page"),
        key("escape", "app.open('dashboard')", "ui.key.back", id="back"),
    ]


class PagedScreen(Supervised, StationScreen, inherit_bindings=False):
    """A list read a page at a time: only the rows that fit on the screen are read, again when the database changes."""

    DEFAULT_CSS = "#page-table { height: 1fr; }"
    COLUMNS: tuple[str, ...] = ()  # the catalogue keys of the column heads
    WIDE = 0  # the column that takes the room left
    NONE_KEY = ""  # what an empty list says
    BINDINGS = page_keys("ui.sup.key.first", "ui.sup.key.last")

    def __init__(self) -> None:
        super().__init__()
        self.first_row = 0
        self.shown: Page | None = None

    def compose(self) -> ComposeResult:
        yield self.title_bar()
        yield Words(id="page-table", classes="panel")
        yield self.footer()

    def on_mount(self) -> None:
        self.query_one("#page-table").border_title = t(self.TITLE_KEY)

    def on_resize(self) -> None:
        self.call_after_refresh(self.reload)

    def on_screen_resume(self) -> None:  # Textual calls StationScreen's too
        self.reload()

    def show_live(self, live: Live) -> None:
        if self.is_current:
            self.reload()

    def rows_fit(self) -> int:
        return max(self.query_one("#page-table").content_size.height - 1, 1)  # a line for the column heads

    def reload(self) -> None:
        if self.station is not None:
            self.run_worker(self._load, group="page", exclusive=True)  # type: ignore[arg-type]  # Textual's WorkType

    async def _load(self) -> None:
        assert self.station is not None
        page = await self.read_page(self.station.store, self.first_row, self.rows_fit())
        self.first_row, self.shown = page.offset, page
        self._show(page)

    async def read_page(self, store: Store, offset: int, rows: int) -> Page:
        raise NotImplementedError

    def page_words(self, page: Page) -> str:
        return t("ui.sup.page", first=number(page.offset + 1), last=number(page.offset + len(page.rows)),
                 total=number(page.total))  # fmt: skip

    def _show(self, page: Page) -> None:
        panel = self.query_one("#page-table", Static)
        if not page.rows:
            panel.border_subtitle = ""
            panel.update(Text(t(self.NONE_KEY)))
            return
        panel.border_subtitle = self.page_words(page)
        table = Table(box=None, show_edge=False, pad_edge=False, expand=True, header_style="bold", padding=(0, 1))
        for index, column in enumerate(self.COLUMNS):
            table.add_column(t(column), no_wrap=True, overflow="ellipsis", ratio=1 if index == self.WIDE else None)
        for row in page.rows:
            table.add_row(*(Text(value) for value in row))
        panel.update(table)

    def action_turn(self, pages: int) -> None:
        self.first_row = max(self.first_row + pages * self.rows_fit(), 0)
        self.reload()

    def action_offset_to(self, offset: int) -> None:
        self.first_row = offset
        self.reload()
