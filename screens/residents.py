"""Penduduk: find a resident by NIK or name among a million, see the record, its lock and its history, and queue.

Only the rows on screen are read: a page as tall as the table, through the indexed search of console/residents.py.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import suppress
from dataclasses import asdict
from datetime import date
from functools import partial

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.css.query import NoMatches
from textual.timer import Timer
from textual.widgets import DataTable, Input, Static

from console import jobs, locks
from console.hints import CONSOLE
from console.i18n import t
from console.jobs import Job
from console.refusals import describe
from console.residents import Resident, count_residents, get_resident, search_residents
from console.store import Store
from console.text import day_and_time, number
from screens.base import StationScreen
from screens.keys import key, translate_bindings
from screens.widgets.dialogs import ConfirmDialog, StationInput
from screens.widgets.words import PlainTable, Words

SEARCH_DELAY_S = 0.25  # typing pauses this long before the search runs
HISTORY_SHOWN = 3
COLUMNS = (("nik", 16), ("nama", 0), ("status", 10), ("kel_desa", 14), ("kecamatan", 14))  # 0: what is left
NAME_MIN, NAME_MAX = 16, 36  # the name takes the width left over, within these; the places get the rest


class ResidentTable(PlainTable):
    """The page of residents; moving past its first or last row turns the page."""

    BINDINGS = [
        key("enter", "select_cursor", "ui.key.queue_one"),
        key("pagedown", "screen.page(1)", "ui.key.page_next", show=False),
        key("pageup", "screen.page(-1)", "ui.key.page_previous", show=False),
    ]

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        translate_bindings(self)

    def action_cursor_down(self) -> None:
        if self.row_count and self.cursor_row >= self.row_count - 1 and isinstance(self.screen, ResidentsScreen):
            self.screen.action_page(1)
            return
        super().action_cursor_down()

    def action_cursor_up(self) -> None:
        if self.cursor_row <= 0 and isinstance(self.screen, ResidentsScreen):
            self.screen.action_page(-1, last_row=True)
            return
        super().action_cursor_up()


class ResidentsScreen(StationScreen):
    TITLE_KEY = "ui.screen.residents"
    BINDINGS = [
        key("escape", "app.open('dashboard')", "ui.key.back", id="back"),
        key("slash", "search", "ui.key.search", show=False),
        key("d", "queue_village", "ui.key.queue_village"),
        key("s", "queue_all", "ui.key.queue_all"),
        key("h", "hold", "ui.key.hold", show=False),
        key("x", "cancel_job", "ui.key.cancel_job", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.query_text = ""
        self.first_row = 0
        self.page_size = 10
        self.found: list[Resident] = []
        self._search_timer: Timer | None = None
        self._last_row = False  # after turning back a page, land on its last row
        self._total: int | None = None
        self._count_wanted = False
        self.open_job: Job | None = None  # the highlighted resident's job still waiting, to hold or cancel
        self._name_width = 0
        self._widths: dict[str, int] = {}
        self._searched = False

    def compose(self) -> ComposeResult:
        yield self.title_bar()
        yield StationInput(placeholder=t("ui.residents.placeholder"), id="resident-search")
        yield Words("", id="resident-message")
        yield ResidentTable(id="resident-table", cursor_type="row", zebra_stripes=False)
        yield Words("", id="resident-detail", classes="panel")
        yield self.footer()

    def on_mount(self) -> None:
        self.query_one("#resident-detail").border_title = t("ui.panel.resident")
        self.query_one("#resident-search").focus()
        self.call_after_refresh(self._fit_page)

    @property
    def store(self) -> Store:
        """The search's own reader (see Station.open_search): a slow search never holds up the printing."""
        assert self.station is not None and self.station.search_store is not None
        return self.station.search_store

    # ------------------------------------------------------------------------------------------ searching

    def _fit_page(self) -> None:
        """Columns to the table's width (the name takes what is left), and a page as tall as the table."""
        table = self.query_one(ResidentTable)
        fixed = sum(width for _, width in COLUMNS) + 2 * len(COLUMNS) + 1
        left = table.size.width - fixed
        name_width = min(max(left, NAME_MIN), NAME_MAX)
        widths = dict(COLUMNS) | {"nama": name_width}
        spare = left - name_width  # below zero (a bordered table at 80 columns): the places give way, never scroll
        widths["kel_desa"] += spare // 2
        widths["kecamatan"] += spare - spare // 2
        if self._name_width != name_width or self._widths != widths:
            self._name_width, self._widths = name_width, widths
            table.clear(columns=True)
            for name, _ in COLUMNS:
                table.add_column(t(f"ui.residents.col.{name}"), width=widths[name], key=name)
            self.found = []
        rows = max(table.size.height - 1, 3)
        if rows != self.page_size or not self.found:
            self.page_size = rows
            if self._searched:
                self.search(self.first_row)
            else:
                self._new_search("")

    def on_resize(self) -> None:
        self.call_after_refresh(self._fit_page)

    @on(Input.Changed, "#resident-search")
    def _typed(self, event: Input.Changed) -> None:
        if self._search_timer is not None:
            self._search_timer.stop()
        self._search_timer = self.set_timer(SEARCH_DELAY_S, lambda: self._new_search(event.value))

    @on(Input.Submitted, "#resident-search")
    def _entered(self, event: Input.Submitted) -> None:
        if self._search_timer is not None:
            self._search_timer.stop()
        if search_text(event.value) != self.query_text:
            self._new_search(event.value)
        self.query_one(ResidentTable).focus()

    def on_key(self, event) -> None:
        if event.key == "down" and self.focused is self.query_one("#resident-search"):
            self.query_one(ResidentTable).focus()
            event.stop()

    def _new_search(self, text: str) -> None:
        self.query_text = search_text(text)
        self.say("")  # the last action's outcome belongs to the last search
        self._searched = True
        self._total = None
        self._count_wanted = True
        self.search(0)

    def search(self, offset: int) -> None:
        if self.station is None:
            return
        self.run_worker(partial(self._search, self.query_text, offset), group="search", exclusive=True)  # type: ignore[arg-type]  # Textual's WorkType

    def action_page(self, step: int, last_row: bool = False) -> None:
        if step < 0 and self.first_row == 0:
            return
        if step > 0 and len(self.found) < self.page_size:
            return
        self._last_row = last_row
        self.search(max(0, self.first_row + step * self.page_size))

    def action_search(self) -> None:
        self.query_one("#resident-search").focus()

    async def _search(self, text: str, offset: int) -> None:
        found = await search_residents(self.store, text, limit=self.page_size, offset=offset)
        if not found and offset > 0:
            return  # past the last page: stay where we are
        statuses = await page_status(self.store, [r.nik for r in found])
        self._while_shown(lambda: self._show_found(text, offset, found, statuses))

    def _while_shown(self, show: Callable[[], None]) -> None:
        """Show what a worker read, unless the app closed the screen (its widgets gone) while it was reading."""
        with suppress(NoMatches):
            show()

    def _show_found(self, text: str, offset: int, found: list[Resident], statuses: dict[str, str]) -> None:
        self.first_row, self.found = offset, found
        table = self.query_one(ResidentTable)
        table.clear()
        for r in found:
            status = t(f"ui.residents.status.{statuses.get(r.nik, 'ready')}")
            table.add_row(r.nik, r.nama, status, r.kel_desa, r.kecamatan, key=r.nik)
        if found:
            table.move_cursor(row=len(found) - 1 if self._last_row else 0)
        self._last_row = False
        self._show_page_info(None)
        if not found:
            self.query_one("#resident-detail", Static).update(t("ui.residents.none"))
        if self._count_wanted:  # after the page: counting a million names must not hold the page back
            self._count_wanted = False
            self.run_worker(partial(self._count, text), group="count", exclusive=True)  # type: ignore[arg-type]  # Textual's WorkType

    async def _count(self, text: str) -> None:
        total = await count_residents(self.store, text)
        self._while_shown(lambda: self._show_page_info(total))

    def _show_page_info(self, total: int | None) -> None:
        if total is not None:
            self._total = total
        total = self._total
        first, last = self.first_row + 1, self.first_row + len(self.found)
        page = self.first_row // max(self.page_size, 1) + 1
        info = t("ui.residents.page", page=page, first=number(first if self.found else 0), last=number(last),
                 total=number(total) if total is not None else "…")  # fmt: skip
        self.query_one("#resident-search").border_subtitle = info

    # ------------------------------------------------------------------------------------------ the record

    def highlighted(self) -> Resident | None:
        table = self.query_one(ResidentTable)
        if not self.found or not 0 <= table.cursor_row < len(self.found):
            return None
        return self.found[table.cursor_row]

    @on(DataTable.RowHighlighted)
    def _highlighted(self) -> None:
        resident = self.highlighted()
        if resident is not None:
            self.run_worker(partial(self._show_record, resident.nik), group="record", exclusive=True)  # type: ignore[arg-type]  # Textual's WorkType

    async def _show_record(self, nik: str) -> None:
        resident = await get_resident(self.store, nik)
        if resident is None:
            return
        lock = await locks.lock_info(self.store, nik)
        history = await jobs.history(self.store, nik)
        self.open_job = open_job(history)
        self._while_shown(
            lambda: self.query_one("#resident-detail", Static).update(record_text(resident, lock, history))
        )

    # ------------------------------------------------------------------------------------------ queueing

    @on(DataTable.RowSelected)
    def _selected(self) -> None:
        resident = self.highlighted()
        if resident is not None:
            self.run_worker(partial(self._queue_one, resident.nik), group="queue", exclusive=True)  # type: ignore[arg-type]  # Textual's WorkType

    async def _queue_one(self, nik: str) -> None:
        assert self.station is not None
        result = await self.station.enqueue_nik(nik)
        if result.refused:
            self.say(t("ui.residents.refused", why=describe(result.refused[0], CONSOLE)))
        else:
            self.say(t("ui.residents.queued_one", nik=nik))
        self._after_queue()

    def say(self, text: str) -> None:
        """The outcome of the last action, on the screen until the next one (a toast would vanish)."""
        self.query_one("#resident-message", Static).update(text)

    def action_hold(self) -> None:
        """Hold a queued job back (it keeps its place), or let a held one go on."""
        job = self.open_job
        if job is None or self.station is None:
            self.say(t("ui.residents.no_open_job"))
            return
        self.run_worker(partial(self._hold, job), group="queue", exclusive=True)  # type: ignore[arg-type]  # Textual's WorkType

    async def _hold(self, job: Job) -> None:
        assert self.station is not None
        changed = await (self.station.release(job) if job.state == jobs.HELD else self.station.hold(job))
        self.say(t(f"ui.residents.job_{changed.state}", nik=job.nik, job=job.id))
        self._after_queue()

    def action_cancel_job(self) -> None:
        job = self.open_job
        if job is None or self.station is None:
            self.say(t("ui.residents.no_open_job"))
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self.run_worker(partial(self._cancel, job), group="queue", exclusive=True)  # type: ignore[arg-type]  # Textual's WorkType

        question = t("ui.residents.ask_cancel", nik=job.nik, job=job.id)
        self.app.push_screen(ConfirmDialog(t("ui.residents.cancel_title"), question), answered)

    async def _cancel(self, job: Job) -> None:
        assert self.station is not None
        await self.station.cancel(job)
        self.say(t("ui.residents.job_cancelled", nik=job.nik, job=job.id))
        self._after_queue()

    def action_queue_village(self) -> None:
        resident = self.highlighted()
        if resident is not None:
            self.run_worker(partial(self._ask_queue, resident.kecamatan, resident.kel_desa), group="ask")  # type: ignore[arg-type]  # Textual's WorkType

    def action_queue_all(self) -> None:
        self.run_worker(partial(self._ask_queue, None, None), group="ask")  # type: ignore[arg-type]  # Textual's WorkType

    async def _ask_queue(self, kecamatan: str | None, kel_desa: str | None) -> None:
        """Say how many it would queue, then ask (none: say so, nothing to ask)."""
        count = await jobs.count_ready(self.store, kecamatan, kel_desa)
        if count == 0:
            self.say(t("ui.residents.none_ready"))
            return
        question = (t("ui.residents.ask_village", desa=kel_desa, kecamatan=kecamatan, count=number(count))
                    if kel_desa is not None else t("ui.residents.ask_all", count=number(count)))  # fmt: skip

        def answered(yes: bool | None) -> None:
            if yes:
                self.run_worker(partial(self._queue_ready, kecamatan, kel_desa), group="queue")  # type: ignore[arg-type]  # Textual's WorkType

        self.app.push_screen(ConfirmDialog(t("ui.residents.queue_title"), question), answered)

    async def _queue_ready(self, kecamatan: str | None, kel_desa: str | None) -> None:
        assert self.station is not None
        count = await self.station.enqueue_ready(kecamatan, kel_desa)
        self.say(t("ui.residents.queued_many", count=number(count)))
        self._after_queue()

    def _after_queue(self) -> None:
        self.station_app.request_refresh()
        self.search(self.first_row)
        resident = self.highlighted()
        if resident is not None:
            self.run_worker(partial(self._show_record, resident.nik), group="record", exclusive=True)  # type: ignore[arg-type]  # Textual's WorkType


def search_text(typed: str) -> str:
    """What is searched for (a NIK typed in groups, `5203 0108 …`, is read by `search_residents` itself)."""
    return typed.strip()


async def page_status(store: Store, niks: list[str]) -> dict[str, str]:
    """Each NIK's standing, for the page's Status column: queued, held, printing, printed, locked, unlocked."""
    return await locks.lock_states(store, niks) | await jobs.open_states(store, niks)


def open_job(history: list[Job]) -> Job | None:
    """The job that still waits to be printed (queued or held), if any: the one H and X act on."""
    return next((j for j in reversed(history) if j.state in (jobs.QUEUED, jobs.HELD)), None)


def record_text(r: Resident, lock: locks.LockInfo | None, history: list[Job]) -> Text:
    text = Text()
    text.append(r.nik, style="bold")
    text.append(f"  {r.nama}  · {r.jenis_kelamin}\n")
    born = date.fromisoformat(r.tanggal_lahir).strftime("%d-%m-%Y")
    text.append(t("ui.residents.record", **(asdict(r) | {"tanggal_lahir": born})) + "\n")
    text.append(lock_text(lock, history) + "\n")
    text.append(history_text(history))
    waiting = open_job(history)
    if waiting is not None:
        text.append("\n" + t("ui.residents.job_keys_held" if waiting.state == jobs.HELD else "ui.residents.job_keys"),
                    style="bold")  # fmt: skip
    return text


def lock_text(lock: locks.LockInfo | None, history: list[Job]) -> str:
    if lock is None:
        return t("ui.residents.lock.none")
    job = next((j for j in history if j.id == lock.job_id), None)
    card = number(job.card_counter) if job is not None and job.card_counter is not None else "?"
    tag = job_state_words(job) if job is not None else "?"
    if lock.locked:
        return t("ui.residents.lock.locked", since=day_and_time(lock.locked_at), card=card, tag=tag)
    return t("ui.residents.lock.unlocked", at=day_and_time(lock.unlocked_at), card=card, tag=tag)


def job_state_words(job: Job) -> str:
    if job.state == jobs.DONE_BAD:
        return t("ui.job.done_bad", reason=job.tag_reason or "-")
    return t(f"ui.job.{job.state}")


def history_text(history: list[Job]) -> str:
    if not history:
        return t("ui.residents.history.none")
    shown = [
        t("ui.residents.history.card", job=j.id, state=job_state_words(j), card=number(j.card_counter),
          at=day_and_time(j.printed_at)) if j.card_counter is not None else
        t("ui.residents.history.item", job=j.id, state=job_state_words(j), at=day_and_time(j.queued_at))
        for j in reversed(history[-HISTORY_SHOWN:])
    ]  # fmt: skip
    more = len(history) - len(shown)
    line = t("ui.residents.history.label") + " " + "; ".join(shown)
    return line + (" " + t("ui.residents.history.more", count=more) if more > 0 else "")
