"""The supervisor's console (`station supervise`): the station live and read-only, in a process of its own.

It reads the database alone, through a read-only store: the state the printing process publishes (`live_state`),
the queue, the books, the untagged cards and the audit log. It never opens the printer nor takes its lock, and no
key prints, tags, unlocks, queues or changes the books. The one write is a pause/resume request (`P`), recorded
in the supervisor's name through a short-lived writable store and carried out by the process that holds the
printer. It reads again only when `PRAGMA data_version` says another connection committed; a page of a list reads
only the rows on screen. Made for SSH: no mouse tracking, no blinking, no animation, no clock ticking seconds.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, cast

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.command import CommandPalette, DiscoveryHit, Hit, Hits, Provider
from textual.containers import VerticalScroll
from textual.timer import Timer
from textual.widgets import Footer, Static
from textual.worker import Worker, WorkerState

from console import jobs, requests
from console.clock import now
from console.config import Settings
from console.engine import EMPTY, IDLE, NO_STOCK, PAUSED, PRINTING, STOPPED, WAITING_TAGS
from console.errors import StationError
from console.faults_text import fault_title
from console.i18n import set_language, t
from console.logs import get_logger
from console.owner import PrinterOwnership
from console.store import Store
from console.watch import changes
from drivers.faults import PrinterFault
from screens.allocations import AllocationsScreen
from screens.base import StationScreen
from screens.commands import StationPalette
from screens.dashboard import ATTENTION, DashboardScreen, line
from screens.help import HelpScreen, key_rows
from screens.keys import key, key_label, translate_bindings
from screens.live import Live, describe_entry, load_live
from screens.messages import LiveUpdated
from screens.text import day_and_time, number, time_of
from screens.widgets.words import Words

log = get_logger("supervise")

DATA_VERSION_EVERY_S = 0.5  # how often to ask SQLite whether another connection committed (one cheap pragma)
REFRESH_DELAY_S = 0.25  # changes within this time make one read
PENDING_SHOWN = 2  # pause/resume requests listed on the dashboard
PACE_CARDS = 10  # cards whose pace predicts the time left
_PACE_LOOKBACK = 400  # audit entries searched for the latest cards printed (a card writes several)
_LAST_PAGE = 1 << 62  # an offset past any list: the last page
QUEUE_WORDS = {state: f"ui.sup.queue.{state}" for state in (EMPTY, NO_STOCK, PAUSED, STOPPED, WAITING_TAGS)}


# ------------------------------------------------------------------------------------------ published


@dataclass(frozen=True)
class Request:
    id: int
    kind: str  # pause | resume
    requester: str
    at: str


@dataclass(frozen=True)
class Published:
    """What the process that holds the printer wrote for others to read, and the requests waiting for it."""

    state: str | None = None  # None: no process has held the printer on this database yet
    since: str | None = None
    fault: PrinterFault | None = None
    pending: tuple[Request, ...] = ()
    card_times: tuple[str, ...] = ()  # when the latest cards were printed, newest first
    last_counter: int | None = None


async def read_published(store: Store) -> Published:
    row = await store.fetchone("SELECT value, at FROM live_state WHERE key = 'engine'")
    pending = tuple(Request(r["id"], r["kind"], r["requester"], r["at"]) for r in await store.fetchall(
        "SELECT id, kind, requester, at FROM requests WHERE done_at IS NULL ORDER BY id"
    ))  # fmt: skip
    printed = await store.fetchall(
        "SELECT at, data FROM audit WHERE seq > (SELECT coalesce(max(seq), 0) FROM audit) - ? "
        "AND action = 'job.printed' ORDER BY seq DESC LIMIT ?",
        (_PACE_LOOKBACK, PACE_CARDS + 1),
    )
    times = tuple(r["at"] for r in printed)
    counter = json.loads(printed[0]["data"]).get("card_counter") if printed else None
    if row is None:
        return Published(pending=pending, card_times=times, last_counter=counter)
    value = json.loads(row["value"])
    return Published(value.get("state"), row["at"], _fault(value.get("fault"), value.get("fault_reply")), pending,
                     times, counter)  # fmt: skip


def _fault(code: str | None, reply: str | None) -> PrinterFault | None:
    """The published fault, as the fault's words need it (its code and the printer's reply)."""
    if code is None:
        return None
    fault = PrinterFault(reply=reply)
    fault.code = code
    return fault


async def printing_job(store: Store) -> jobs.Job | None:
    row = await store.fetchone("SELECT * FROM jobs WHERE state = 'printing' ORDER BY id LIMIT 1")
    return None if row is None else jobs.Job.from_row(row)


@dataclass(frozen=True)
class Holder:
    pid: int
    command: str
    running: bool


def printer_holder(database: Path) -> Holder | None:
    """Who holds the printer, as its lock file names it (read, never locked: that would stand in the way of a
    `station run` starting). None when the file cannot be read, as from another account without the right."""
    named = PrinterOwnership(database).holder()
    pid = named.get("pid")
    if not isinstance(pid, int):
        return None
    program, _, rest = str(named.get("command", "?")).partition(" ")
    command = f"{Path(program).name} {rest}".strip()  # `station print`, not the path of the program
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return Holder(pid, command, False)
    except PermissionError:
        pass  # alive, under another account
    return Holder(pid, command, True)


class WatchedStation:
    """The station as the dashboard's panels ask for it, from the database alone: there is no printer here."""

    printer_info = None
    printer_status = None
    printer_silent = False

    def __init__(self, settings: Settings, store: Store, clock: Callable[[], datetime]) -> None:
        self.settings = settings
        self.store = store
        self.clock = clock
        self.published = Published()
        self.holder: Holder | None = None

    @property
    def state(self) -> str:
        return self.published.state or IDLE

    @property
    def paused(self) -> bool:
        return self.state == PAUSED

    def next_request(self) -> str:
        """What P asks now: the opposite of what the printer will be doing once the pending requests are done."""
        pending = self.published.pending
        will_pause = pending[-1].kind == "pause" if pending else self.state == PAUSED
        return "resume" if will_pause else "pause"

    def seconds_left(self, cards: int) -> float | None:
        since = self.published.since or ""
        times = [datetime.fromisoformat(at) for at in self.published.card_times if at >= since]  # this run's
        if cards <= 0 or len(times) < 2 or self.state != PRINTING:
            return None
        return (times[0] - times[-1]).total_seconds() / (len(times) - 1) * cards

    def today_start(self) -> str:
        midnight = self.clock().replace(hour=0, minute=0, second=0, microsecond=0)
        return midnight.isoformat(timespec="milliseconds")

    async def load(self) -> Live:
        self.published = await read_published(self.store)
        self.holder = printer_holder(self.store.path)
        return await load_live(self.store, self.today_start(), await printing_job(self.store), [])


# ------------------------------------------------------------------------------------------ screens


class Supervised:
    """A screen of the supervisor's console: its title says so, and who is watching."""

    TITLE_KEY: str  # the screen's own
    app: Any

    def title_text(self) -> str:
        app = cast("SupervisorApp", self.app)
        return t("ui.sup.title", who=app.who, screen=t(self.TITLE_KEY), station=app.settings.station.name)


class WatchDashboard(Supervised, DashboardScreen, inherit_bindings=False):
    """Beranda as the operator sees it, with the printing process's state in place of the printer's."""

    BINDINGS = [  # they work everywhere (the app's); shown here, where there is room for them
        key("f3", "app.open('queue')", "ui.sup.key.queue"),
        key("f4", "app.open('untagged')", "ui.sup.key.untagged"),
        key("f5", "app.open('books')", "ui.sup.key.books"),
        key("f6", "app.open('audit')", "ui.sup.key.audit"),
    ]

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return True

    def show_printer(self) -> None:
        station = cast("WatchedStation | None", self.station)
        if station is None:
            return
        published = station.published
        if published.state is None:
            lines = [line(t("ui.sup.printer.none"), style="bold")]
        else:
            lines = [self._state_line(published.state, published.last_counter),
                     line(t("ui.sup.printer.since", at=day_and_time(published.since)))]  # fmt: skip
            if published.state == STOPPED and published.fault is not None:
                lines.append(line(fault_title(published.fault), style="bold"))
        if published.card_times:
            lines.append(line(t("ui.sup.printer.last_card", counter=number(published.last_counter),
                                at=time_of(published.card_times[0]))))  # fmt: skip
        holder = station.holder
        if holder is not None:
            lines.append(line(t("ui.sup.holder.running", command=holder.command, pid=holder.pid) if holder.running
                              else t("ui.sup.holder.none"), style="" if holder.running else "bold"))  # fmt: skip
        for request in published.pending[-PENDING_SHOWN:]:
            lines.append(line(t("ui.sup.pending", kind=t(f"ui.sup.kind.{request.kind}"), who=request.requester),
                              style="bold"))  # fmt: skip
        panel = self.query_one("#printer-panel", Static)
        panel.border_title = t("ui.sup.panel.printer")
        attention = station.state in ATTENTION or bool(published.pending) or (holder is not None and not holder.running)
        panel.set_class(attention, "-attention")
        panel.update(Group(*lines))

    def _now_line(self, live: Live) -> Text:
        """As the operator's, in words for someone who watches: no operator's key to press."""
        state = self.station_app.station.state
        if state in QUEUE_WORDS:
            return line(t(QUEUE_WORDS[state], queued=number(live.queued)))
        return super()._now_line(live)

    def _hopper_line(self, live: Live) -> Text:
        """The cards waiting for their tag, without the operator's key to tag them."""
        limit = self.station_app.settings.queue.hopper_capacity
        return line(t("ui.queue.untagged", count=number(live.untagged), limit=number(limit)))


class WatchBooks(Supervised, AllocationsScreen, inherit_bindings=False):
    """The allocations and their books, without the keys that add one or enter a count."""

    TITLE_KEY = "ui.sup.screen.books"
    BINDINGS = [key("escape", "app.open('dashboard')", "ui.key.back")]

    def action_add(self) -> None:
        self.app.notify(t("ui.sup.read_only"))

    def action_count(self) -> None:
        self.app.notify(t("ui.sup.read_only"))


@dataclass(frozen=True)
class Page:
    rows: list[tuple[str, ...]]
    total: int
    offset: int  # of the first row, from 0


def clamp(offset: int, total: int, rows: int) -> int:
    """The offset asked for, kept within the list: at most the last page's (0 for an empty list)."""
    last = max(total - 1, 0) // rows * rows
    return min(max(offset, 0), last)


class PagedScreen(Supervised, StationScreen, inherit_bindings=False):
    """A list read a page at a time: only the rows that fit on the screen are read, again when the database changes."""

    DEFAULT_CSS = "#page-table { height: 1fr; }"
    COLUMNS: tuple[str, ...] = ()  # the catalogue keys of the column heads
    WIDE = 0  # the column that takes the room left
    NONE_KEY = ""  # what an empty list says
    BINDINGS = [
        key("pagedown,down,space", "turn(1)", "ui.sup.key.next"),
        key("pageup,up", "turn(-1)", "ui.sup.key.previous"),
        key("home", "offset_to(0)", "ui.sup.key.first", show=False),
        key("end", f"offset_to({_LAST_PAGE})", "ui.sup.key.last", show=False),
        key("escape", "app.open('dashboard')", "ui.key.back"),
    ]

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
            self.run_worker(self._load, group="page", exclusive=True)

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
            table.add_row(*row)
        panel.update(table)

    def action_turn(self, pages: int) -> None:
        self.first_row = max(self.first_row + pages * self.rows_fit(), 0)
        self.reload()

    def action_offset_to(self, offset: int) -> None:
        self.first_row = offset
        self.reload()


_JOB_ROWS = (
    "SELECT j.id, j.nik, j.state, j.state_reason, j.card_counter, j.printed_at, r.nama, r.kecamatan "
    "FROM jobs j JOIN residents r ON r.nik = j.nik WHERE j.state = ? "
)


class WatchQueue(PagedScreen):
    """The queue as the engine takes it: the card being printed, then the jobs waiting, then those held back."""

    TITLE_KEY = "ui.sup.screen.queue"
    COLUMNS = ("ui.sup.col.job", "ui.sup.col.nik", "ui.sup.col.nama", "ui.sup.col.kecamatan", "ui.sup.col.state")
    WIDE = 2
    NONE_KEY = "ui.sup.queue.none"
    SEGMENTS = (jobs.PRINTING, jobs.QUEUED, jobs.HELD)

    async def read_page(self, store: Store, offset: int, rows: int) -> Page:
        counts = await jobs.count_by_state(store)
        total = sum(counts[state] for state in self.SEGMENTS)
        offset = clamp(offset, total, rows)
        found: list[tuple[str, ...]] = []
        skip = offset
        for state in self.SEGMENTS:
            if len(found) == rows:
                break
            if skip >= counts[state]:
                skip -= counts[state]
                continue
            batch = await store.fetchall(_JOB_ROWS + "ORDER BY j.id LIMIT ? OFFSET ?", (state, rows - len(found), skip))
            for r in batch:
                words = t(f"jobs.state.{r['state']}") + (f" ({r['state_reason']})" if r["state"] == jobs.HELD else "")
                found.append((str(r["id"]), r["nik"], r["nama"], r["kecamatan"], words))
            skip = 0
        return Page(found, total, offset)


class WatchUntagged(PagedScreen):
    """Printed cards waiting for their tag, in the order they lie in the output hopper."""

    TITLE_KEY = "ui.sup.screen.untagged"
    COLUMNS = ("ui.sup.col.counter", "ui.sup.col.nik", "ui.sup.col.nama", "ui.sup.col.kecamatan", "ui.sup.col.printed")
    WIDE = 2
    NONE_KEY = "ui.sup.untagged.none"

    async def read_page(self, store: Store, offset: int, rows: int) -> Page:
        total = await jobs.count_in_state(store, jobs.PRINTED)
        offset = clamp(offset, total, rows)
        found = [
            (f"#{number(r['card_counter'])}", r["nik"], r["nama"], r["kecamatan"], day_and_time(r["printed_at"]))
            for r in await store.fetchall(_JOB_ROWS + "ORDER BY j.card_counter, j.id LIMIT ? OFFSET ?",
                                          (jobs.PRINTED, rows, offset))  # fmt: skip
        ]
        return Page(found, total, offset)


class WatchAudit(PagedScreen):
    """The audit log, newest first. The first page follows new entries; a page further back stays where it is."""

    TITLE_KEY = "ui.sup.screen.audit"
    COLUMNS = ("ui.sup.col.seq", "ui.sup.col.time", "ui.sup.col.actor", "ui.sup.col.action", "ui.sup.col.what")
    WIDE = 4
    NONE_KEY = "ui.sup.audit.none"
    BINDINGS = [
        key("pagedown,down,space", "turn(1)", "ui.sup.key.next"),
        key("pageup,up", "turn(-1)", "ui.sup.key.previous"),
        key("home", "offset_to(0)", "ui.sup.key.newest", show=False),
        key("end", f"offset_to({_LAST_PAGE})", "ui.sup.key.oldest", show=False),
        key("escape", "app.open('dashboard')", "ui.key.back"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._newest: int | None = None

    async def read_page(self, store: Store, offset: int, rows: int) -> Page:
        newest = await store.scalar("SELECT coalesce(max(seq), 0) FROM audit")  # the chain numbers entries 1, 2, 3…
        if offset > 0 and self._newest is not None:
            offset += newest - self._newest  # keep the same entries on screen while new ones arrive
        self._newest = newest
        offset = clamp(offset, newest, rows)
        entries = await store.fetchall("SELECT * FROM audit WHERE seq <= ? ORDER BY seq DESC LIMIT ?",
                                       (newest - offset, rows))  # fmt: skip
        return Page([_audit_row(entry) for entry in entries], newest, offset)

    def page_words(self, page: Page) -> str:
        if page.offset == 0:
            return t("ui.sup.page.following", first=number(1), last=number(len(page.rows)), total=number(page.total))
        return super().page_words(page)


def _audit_row(entry: Any) -> tuple[str, ...]:
    data = json.loads(entry["data"])
    words = describe_entry(entry["action"], entry["subject"], data)
    if words is None:
        words = " ".join([entry["subject"] or ""] + [f"{name}={value}" for name, value in data.items()]).strip()
    return str(entry["seq"]), day_and_time(entry["at"]) + entry["at"][16:19], entry["actor"], entry["action"], words


# ------------------------------------------------------------------------------------------ help and commands


def supervisor_help(app_bindings: list[Any]) -> Group:
    parts: list[Text | Table] = [Text(t("ui.sup.help.intro")), Text("")]
    for title, bindings in (("ui.sup.help.group.global", app_bindings),
                            ("ui.sup.help.group.pages", PagedScreen.BINDINGS),
                            ("ui.sup.help.group.books", WatchBooks.BINDINGS)):  # fmt: skip
        parts.append(Text(t(title), style="bold underline"))
        table = Table.grid(padding=(0, 2))
        table.add_column(min_width=16)
        table.add_column()
        for keys, description in key_rows(bindings):
            table.add_row(keys, description)
        parts += [table, Text("")]
    return Group(*parts)


class SupervisorHelp(HelpScreen):
    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-box", classes="dialog") as box:
            box.border_title = t("ui.sup.help.title")
            yield Words(supervisor_help(SupervisorApp.BINDINGS), id="help-text")
        yield Footer(show_command_palette=False, compact=True)


class SupervisorCommands(Provider):
    def _commands(self) -> Iterator[tuple[str, str, Callable[[], object]]]:
        app = cast("SupervisorApp", self.app)

        def run(action: str) -> Callable[[], object]:
            return lambda: app.run_action_later(action)

        for mode in SupervisorApp.MODES:
            yield t(f"ui.sup.cmd.{mode}"), t(f"ui.sup.cmd.{mode}.help"), run(f"open('{mode}')")
        if app.requests_allowed and app.station is not None:
            kind = app.station.next_request()
            yield t(f"ui.sup.cmd.ask_{kind}"), t(f"ui.sup.cmd.ask_{kind}.help"), run(f"ask('{kind}')")
        yield t("ui.sup.cmd.help"), t("ui.sup.cmd.help.help"), run("help")
        yield t("ui.sup.cmd.quit"), t("ui.sup.cmd.quit.help"), run("quit")

    async def discover(self) -> Hits:
        for name, help_text, command in self._commands():
            yield DiscoveryHit(name, command, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, help_text, command in self._commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), command, text=name, help=help_text)


# ------------------------------------------------------------------------------------------ the app


class SupervisorApp(App[int], inherit_bindings=False):
    CSS_PATH = "station.tcss"
    COMMANDS = {SupervisorCommands}
    MODES = {
        "dashboard": WatchDashboard,
        "queue": WatchQueue,
        "untagged": WatchUntagged,
        "books": WatchBooks,
        "audit": WatchAudit,
    }
    DEFAULT_MODE = "dashboard"
    BINDINGS = [
        key("f1", "help", "ui.key.help"),
        key("f2,1", "open('dashboard')", "ui.key.dashboard", show=False),
        key("f3,2", "open('queue')", "ui.sup.key.queue", show=False),
        key("f4,3", "open('untagged')", "ui.sup.key.untagged", show=False),
        key("f5,4", "open('books')", "ui.sup.key.books", show=False),
        key("f6,5", "open('audit')", "ui.sup.key.audit", show=False),
        key("p,f7", "ask('pause')", "ui.sup.key.ask_pause"),
        key("p,f7", "ask('resume')", "ui.sup.key.ask_resume"),
        key("ctrl+p", "command_palette", "ui.key.commands", show=False),
        key("ctrl+q,ctrl+c", "quit", "ui.key.quit", priority=True),
        key("q", "quit", "ui.key.quit", show=False),
    ]

    def __init__(self, settings: Settings, store: Store, who: str, *, requests_allowed: bool = True,
                 clock: Callable[[], datetime] = now) -> None:  # fmt: skip
        set_language(settings.station.language)
        super().__init__()
        translate_bindings(self)
        self.title = t("ui.sup.title", who=who, screen=t("ui.screen.dashboard"), station=settings.station.name)
        self.settings = settings
        self.store = store
        self.who = who
        self.requests_allowed = requests_allowed
        self.clock = clock
        self.animation_level = "none"
        self.linux_console = os.environ.get("TERM") == "linux"
        self.station = WatchedStation(settings, store, clock)
        self.live: Live | None = None
        self._refresh_timer: Timer | None = None
        self._loading = False
        self._load_again = False
        self._asking = False

    def on_mount(self) -> None:
        if self.linux_console:
            self.theme = "ansi-dark"
            self.add_class("-linux")
        self.run_worker(self._watch, name="watch", group="watch", exit_on_error=False)

    async def _watch(self) -> None:
        """Read once, then again each time another connection (the printing process, a CLI) has committed."""
        self.request_refresh()
        async for _version in changes(self.store, DATA_VERSION_EVERY_S):
            self.request_refresh()

    def request_refresh(self) -> None:
        if self._refresh_timer is None:
            self._refresh_timer = self.set_timer(REFRESH_DELAY_S, self._start_refresh)

    def _start_refresh(self) -> None:
        self._refresh_timer = None
        if self._loading:
            self._load_again = True
            return
        self.run_worker(self._load_live, group="live", exit_on_error=False)

    async def _load_live(self) -> None:
        self._loading = True
        try:
            live = await self.station.load()
        finally:
            self._loading = False
        self.live = live
        self.refresh_bindings()
        for screen in self.screen_stack:
            screen.post_message(LiveUpdated(live))
        if self._load_again:
            self._load_again = False
            self.request_refresh()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR:
            error = event.worker.error
            log.error("supervise_worker_failed", worker=event.worker.name, error=f"{type(error).__name__}: {error}")
            self.notify(t("ui.error.action", error=error), severity="error", timeout=15)

    # ------------------------------------------------------------------------------------------ actions

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "ask":
            return self.requests_allowed and parameters[0] == self.station.next_request()
        return True

    def action_open(self, mode: str) -> None:
        self.switch_mode(mode)

    def action_help(self) -> None:
        if not isinstance(self.screen, SupervisorHelp):
            self.push_screen(SupervisorHelp())

    def action_ask(self, kind: str) -> None:
        if not self.requests_allowed:
            self.notify(t("ui.sup.ask.not_allowed"))
        elif self._asking:
            self.notify(t("ui.sup.ask.busy"))
        else:
            self._asking = True
            self.run_worker(self._ask(kind), group="ask")

    async def _ask(self, kind: str) -> None:
        """The one write: a short-lived writable store, one audited request, closed at once."""
        try:
            async with await Store.open(self.store.path, create=False) as store:
                await requests.request(store, kind, self.who)
        except StationError as exc:
            self.notify(t("ui.sup.ask.failed", error=exc), severity="error", timeout=15)
        else:
            log.info("supervise_request", kind=kind, supervisor=self.who)
            self.notify(t(f"ui.sup.ask.{kind}_sent", who=self.who))
        finally:
            self._asking = False
        self.request_refresh()

    def delay_update(self, delay: float = 0.05) -> None:
        super().delay_update(min(delay, 0.01))  # a key answers within a frame or two

    def get_key_display(self, binding: Binding) -> str:
        return binding.key_display or key_label(binding.key, short=True)

    def action_command_palette(self) -> None:
        if not CommandPalette.is_open(self):
            self.push_screen(StationPalette(placeholder=t("ui.palette.placeholder"), id="--command-palette"))

    def run_action_later(self, action: str) -> None:
        self.call_later(self.run_action, action)
