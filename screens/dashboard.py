"""Beranda: the printer, the books, the queue and what just happened, on one screen, changing as the printer works."""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Static

from console import engine as states
from console import jobs
from console.books import Books
from console.faults_text import fault_title
from console.i18n import t
from console.live import Live
from console.text import bar, day_and_time, duration, number, signed, time_of
from screens.base import StationScreen
from screens.keys import key
from screens.widgets.words import Words, plain

NARROWEST_PANEL = 32  # the printer panel's text at 80 columns
ATTENTION = {states.STOPPED, states.WAITING_TAGS, states.NO_STOCK, states.PAUSED, states.LEDGER_AWAY}
PRINTER_WAIT_EVERY_S = 1.0


class LiveDashboard(StationScreen):
    """The four panels both consoles show at home; each console says what its printer panel holds."""

    TITLE_KEY = "ui.screen.dashboard"

    def compose(self) -> ComposeResult:
        yield self.title_bar()
        with Horizontal(id="dashboard-top"):
            yield Words(id="printer-panel", classes="panel")
            yield Words(id="books-panel", classes="panel")
        yield Words(id="queue-panel", classes="panel")
        yield Words(id="events-panel", classes="panel")
        yield self.footer()

    def on_mount(self) -> None:
        self.query_one("#printer-panel").border_title = t("ui.panel.printer")
        self.query_one("#queue-panel").border_title = t("ui.panel.queue")
        self.query_one("#events-panel").border_title = t("ui.panel.events")
        self.query_one("#books-panel").border_title = t("ui.panel.books_none")
        self.query_one("#printer-panel", Static).update(t("ui.printer.connecting"))

    def on_resize(self) -> None:
        if self.station_app.live is not None:
            self._show_queue(self.station_app.live)

    # ------------------------------------------------------------------------------------------ panels

    def show_live(self, live: Live) -> None:
        self._show_books(live)
        self._show_queue(live)
        self._show_events(live)
        self.show_printer()

    def show_printer(self) -> None:
        """The printer panel: the operator's console reads the printer, the supervisor's what is published."""

    def _state_line(self, state: str, counter: int | None) -> Text:
        """The state and the card counter; the label goes when the two would not fit (a number is never cut)."""
        width = panel_width(self.query_one("#printer-panel", Static))
        for label in (t("ui.printer.state_label") + "  ", ""):
            text = line(label)
            text.append(t(f"ui.state.{state}"), style="bold reverse" if state in ATTENTION else "bold")
            if counter is not None:
                text.append("  " + t("ui.printer.counter", counter=number(counter)))
            if text.cell_len <= width:
                break
        return text

    def _show_books(self, live: Live) -> None:
        panel = self.query_one("#books-panel", Static)
        b = live.allocation
        if b is None:
            panel.border_title = t("ui.panel.books_none")
            panel.update(Text(t("ui.books.none_hint")))
            panel.add_class("-attention")
            return
        panel.border_title = plain(t("ui.panel.books", id=b.allocation_id, received=number(b.received)))
        grid = Table.grid(padding=(0, 1))
        for justify in ("left", "right", "left", "left", "right"):  # the third column only keeps the pairs apart
            grid.add_column(justify=justify)
        grid.add_row(t("ui.books.good"), number(b.good), "", t("ui.books.bad"), number(b.bad))
        grid.add_row(t("ui.books.untagged"), number(b.untagged), "", t("ui.books.spoiled"), number(b.spoiled))
        grid.add_row(t("ui.books.in_stock"), number(b.in_stock), "", t("ui.books.all_stock"), number(live.stock))
        panel.set_class(not b.balanced or live.stock == 0, "-attention")
        today = live.today
        today_line = t("ui.books.today", printed=number(today.printed), good=number(today.good), bad=number(today.bad))
        if today.spoiled:
            today_line += t("ui.books.today_spoiled", spoiled=number(today.spoiled))
        panel.update(Group(grid, balance_line(b), count_text(b, panel_width(panel)), line(today_line)))

    def _show_queue(self, live: Live) -> None:
        station = self.station
        if station is None:
            return
        panel = self.query_one("#queue-panel", Static)
        width = max(panel.content_size.width, 40)
        done, queued = live.today.printed, live.queued
        total = done + queued
        left = station.seconds_left(queued)
        tail = f"  {number(done)} / {number(total)}   " + (t("ui.queue.left", left=duration(left)) if left else "")
        progress = Text(bar(done, total, max(width - len(tail) - 1, 10), self.station_app.linux_console))
        progress.append(tail)
        panel.update(Group(progress, self._now_line(live), self._hopper_line(live)))

    def _now_line(self, live: Live) -> Text:
        station = self.station
        assert station is not None
        current = live.current
        if station.state == states.PRINTING and current is not None:
            text = line(t("ui.queue.printing") + " ")
            text.append(current.nik, style="bold")
            text.append(f"  {current.nama} ({current.kecamatan})")
            return text
        hints: dict[str, str] = {
            states.EMPTY: "ui.queue.hint_empty", states.NO_STOCK: "ui.queue.hint_no_stock",
            states.PAUSED: "ui.queue.hint_paused", states.STOPPED: "ui.queue.hint_stopped",
            states.WAITING_TAGS: "ui.queue.hint_waiting_tags", states.LEDGER_AWAY: "ui.queue.hint_ledger_away",
        }  # fmt: skip
        hint = hints.get(station.state, "ui.queue.hint_ready")
        return line(t(hint, queued=number(live.queued)))

    def _hopper_line(self, live: Live) -> Text:
        """The cards waiting for their tag; the card in the printer too when there is one, as the books count it
        among the untagged (so that the two numbers on the screen agree)."""
        limit = number(self.station_app.settings.queue.hopper_capacity)
        printing = live.counts.get(jobs.PRINTING, 0)
        if printing:
            return line(t("ui.queue.untagged_printing", count=number(live.untagged), printing=number(printing),
                          limit=limit))  # fmt: skip
        return line(t("ui.queue.untagged", count=number(live.untagged), limit=limit))

    def _show_events(self, live: Live) -> None:
        panel = self.query_one("#events-panel", Static)
        lines = [line(f"{time_of(e.at)}  {e.text}") for e in live.events]
        panel.update(Group(*lines) if lines else Text(t("ui.events.none")))


class DashboardScreen(LiveDashboard):
    """The operator's home: the panels, and the keys to pause, tag, queue and report."""

    BINDINGS = [
        key("p", "pause_key('pause')", "ui.key.pause"),
        key("p", "pause_key('resume')", "ui.key.resume"),
        key("p", "pause_key('fault')", "ui.key.fault"),
        key("t", "app.open('tagging')", "ui.key.tag", id="tag-shortcut"),
        key("r", "app.open('residents')", "ui.key.residents", id="residents-shortcut"),
        key("j", "app.open('allocations')", "ui.key.allocations", id="allocations-shortcut"),
        key("l", "app.report", "ui.key.report", id="report-shortcut"),
        key("ctrl+p", "app.command_palette", "ui.key.commands"),  # shown here; it works everywhere
    ]

    _waiting: tuple[int, int] | None = None  # the printer's reply being counted on the panel

    def on_mount(self) -> None:  # after LiveDashboard's (Textual calls each class's handler)
        self.set_interval(PRINTER_WAIT_EVERY_S, self._count_printer_wait)

    def _count_printer_wait(self) -> None:
        """Each second while a reply is overdue (and once when it comes): the panel counts the seconds."""
        station = self.station
        if station is not None and (self._waiting is not None or station.printer_wait() is not None):
            self.show_printer()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "pause_key":
            return parameters[0] == self._pause_key()
        return True

    def _pause_key(self) -> str:
        """What P does now, for the footer to say: pause, resume, or open the fault dialog."""
        station = self.station
        if station is not None and station.state == states.STOPPED:
            return "fault"
        return "resume" if station is not None and station.paused else "pause"

    def action_pause_key(self, _what: str) -> None:
        self.station_app.action_pause()

    def show_printer(self) -> None:
        station = self.station
        if station is None:
            return
        info, status, state = station.printer_info, station.printer_status, station.state
        lines = [
            line(info.model if info else t("ui.printer.unknown_model"), style="bold"),
            line(t("ui.printer.serial", serial=info.serial if info else "?",
                   ribbon=(status.ribbon if status else station.settings.printer.ribbon).upper())),
        ]  # fmt: skip
        lines.append(self._state_line(state, station.last_counter))
        if state == states.STOPPED and station.engine.fault is not None:
            lines.append(line(fault_title(station.engine.fault), style="bold"))
        if station.printer_silent:
            lines.append(line(t("ui.printer.silent"), style="bold"))
        self._waiting = station.printer_wait()
        if self._waiting is not None:
            waited, timeout = self._waiting
            lines.append(line(t("ui.printer.waiting", waited=waited, timeout=timeout), style="bold"))
        if status is not None:
            feeder = t("ui.printer.feeder_empty") if status.feeder_empty else t("ui.printer.feeder_ok")
            lines.append(line(t("ui.printer.feeder", feeder=feeder)))
            lines.append(line(t("ui.printer.ribbon_left", left=number(status.ribbon_left))))
        panel = self.query_one("#printer-panel", Static)
        panel.set_class(state in ATTENTION, "-attention")
        self.refresh_bindings()
        panel.update(Group(*lines))

    def _hopper_line(self, live: Live) -> Text:
        """The cards waiting for their tag, and the key to tag them."""
        text = super()._hopper_line(live)
        if live.untagged:
            text.append("   " + t("ui.queue.tag_now"), style="bold")
        return text


def line(text: str, style: str = "") -> Text:
    """One line of a panel: cut with an ellipsis rather than wrapped, so that a long value never pushes the
    lines under it out of the panel."""
    return Text(text, style=style, no_wrap=True, overflow="ellipsis")


def balance_line(b: Books) -> Text:
    """Balanced, or the difference, in words (never by colour alone)."""
    if b.balanced:
        return line(t("ui.books.balanced"))
    return line(t("ui.books.unbalanced", difference=signed(b.difference)), style="bold reverse")


def panel_width(panel: Static) -> int:
    """The columns a panel's line may take (before the first layout: the narrowest a panel is at 80x24)."""
    return panel.content_size.width or NARROWEST_PANEL


def count_text(b: Books, width: int | None = None) -> Text:
    """The last physical count; a difference in bold, in words. Within `width`, the count's time goes first,
    never the numbers."""
    text = count_line(b)
    if width is not None and len(text) > width:
        text = count_line(b, with_time=False)
    return line(text, style="bold" if b.count_difference else "")


def count_line(b: Books, with_time: bool = True) -> str:
    if b.last_count is None:
        return t("ui.books.no_count")
    difference = b.count_difference or 0
    if with_time:
        key_name = "ui.books.count_same" if difference == 0 else "ui.books.count_differs"
    else:
        key_name = "ui.books.count_same_short" if difference == 0 else "ui.books.count_differs_short"
    return t(key_name, at=day_and_time(b.last_count_at), counted=number(b.last_count), difference=signed(difference))
