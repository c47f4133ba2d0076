"""The report to the centre for one allocation, on screen: counts, the good and bad cards page by page, writing
the report's files, and loading the centre's unlock grant to see what it unlocked.

Everything goes through the core (`console.reports`, `console.unlock`), which checks, keeps and audits it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from functools import partial
from pathlib import Path

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import DataTable, Footer, Input, Static, TabbedContent, TabPane

from console import books, jobs, locks, reports, residents, unlock
from console.books import Books
from console.config import Settings
from console.errors import StationError
from console.hints import CONSOLE, advised
from console.i18n import t
from console.operator import operator_name
from console.refusals import describe
from console.store import Store
from console.text import day_and_time, number
from screens.asking import AskingScreen
from screens.keys import key
from screens.signin import as_supervisor
from screens.widgets.dialogs import StationInput
from screens.widgets.titlebar import TitleBar
from screens.widgets.words import PlainTable, Words

GOOD, BAD = "good", "bad"
NIKS_SHOWN = 8  # NIKs of an applied grant named on screen; the rest are counted


class ReportScreen(AskingScreen):
    RESULT_ID = "report-result"

    """`ReportScreen(store, settings)`; `allocation_id` None shows the current one.

    Inside the console, `ReportScreen()` takes the store, the settings and the refresh from the app
    (`app.station.store`, `app.settings`, `app.request_refresh`).
    """

    BINDINGS = [
        key("escape", "close", "ui.reportscreen.key.close"),  # first: the footer cuts from the right
        key("w", "write_report", "ui.reportscreen.key.write"),
        key("g", "load_grant", "ui.reportscreen.key.grant"),
        key("k", "queue_reprints", "ui.reportscreen.key.reprints"),
        key("k", "no_reprints", "ui.reportscreen.key.reprints", show=False, id="no-reprints"),
        key("a", "next_allocation", "ui.reportscreen.key.allocation"),
        key("n", "page(1)", "ui.reportscreen.key.next_page", show=False),  # said on the page line
        key("p", "page(-1)", "ui.reportscreen.key.previous_page", show=False),
        # The report is pushed over a main screen: the F keys of the main screens leave it, rather than open
        # their screen under it (where Esc would bring the report back, and F2 would do nothing at all).
        *(
            key(f"f{n}", f"leave('{mode}')", f"ui.key.{mode}", show=False, id=f"report-open-{mode}")
            for n, mode in ((2, "dashboard"), (3, "residents"), (4, "tagging"), (5, "allocations"))
        ),
        key("f6", "close", "ui.reportscreen.key.close", show=False, id="report-close"),
    ]

    DEFAULT_CSS = """
    ReportScreen #report-summary { padding: 0 1; height: auto; }
    ReportScreen #report-readiness { padding: 0 1; height: auto; }
    ReportScreen #report-readiness.-refused { color: $error; }
    ReportScreen TabbedContent { height: 1fr; }
    ReportScreen ContentSwitcher, ReportScreen TabPane { height: 1fr; }
    ReportScreen TabPane { padding: 0; }
    ReportScreen #report-page { padding: 0 1; height: 1; }
    ReportScreen #report-readiness { max-height: 3; }
    """

    def __init__(
        self, store: Store | None = None, settings: Settings | None = None, allocation_id: str | None = None, *,
        on_change: Callable[[], None] | None = None, page_size: int | None = None,
    ) -> None:  # fmt: skip
        super().__init__(store, settings, on_change=on_change)
        self.allocation_id = allocation_id
        self.page_size = page_size or 10  # None: as many rows as the list shows (set once it is drawn)
        self._fit_pages = page_size is None
        self.books: Books | None = None
        self.pages = {GOOD: 0, BAD: 0}
        self.reprints = 0  # unlocked NIKs waiting for their reprint: K is shown when there are some

    def compose(self) -> ComposeResult:
        settings = self.settings if self.settings is not None else self.app.settings
        yield TitleBar(t("ui.title", screen=t("ui.reportscreen.title"), station=settings.station.name))
        yield Words("", id="report-summary")
        yield Words("", id="report-readiness")
        with TabbedContent(id="report-lists"):
            with TabPane(t("ui.reportscreen.good_tab"), id="tab-good"):
                yield PlainTable(id="list-good", cursor_type="row", zebra_stripes=True)
            with TabPane(t("ui.reportscreen.bad_tab"), id="tab-bad"):
                yield PlainTable(id="list-bad", cursor_type="row", zebra_stripes=True)
        yield Words("", id="report-page")
        with Vertical(id="report-asking", classes="asking"):
            yield StationInput(id="report-out", placeholder=t("ui.reportscreen.out_placeholder"), compact=True)
            yield StationInput(id="report-grant", placeholder=t("ui.reportscreen.grant_placeholder"), compact=True)
        yield Words("", id="report-result", classes="result")
        yield Footer(show_command_palette=False, compact=True)

    def on_mount(self) -> None:
        self.take_the_apps()
        common = (t("ui.reportscreen.col.nik"), t("ui.reportscreen.col.name"), t("ui.reportscreen.col.card"),
                  t("ui.reportscreen.col.printed"))  # fmt: skip
        self.query_one("#list-good", DataTable).add_columns(*common)
        self.query_one("#list-bad", DataTable).add_columns(*common, t("ui.reportscreen.col.reason"))
        self.refresh_report()
        self.call_after_refresh(self._fit_page)

    def on_resize(self) -> None:
        self.call_after_refresh(self._fit_page)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("queue_reprints", "no_reprints"):  # K in the footer only when there is something to queue
            return (self.reprints > 0) == (action == "queue_reprints")
        return True

    def action_no_reprints(self) -> None:
        self._say(t("ui.reportscreen.no_reprints"))

    def _fit_page(self) -> None:
        """A page as tall as the list: every row of a page on screen, no blank rows under a short one."""
        if not self._fit_pages:
            return
        rows = max(self.query_one(f"#list-{self._visible()}", DataTable).size.height - 1, 3)
        if rows != self.page_size:
            first = {verdict: page * self.page_size for verdict, page in self.pages.items()}
            self.page_size = rows
            self.pages = {verdict: row // rows for verdict, row in first.items()}
            if self.books is not None:
                self.run_worker(self._show_pages, group="report-page", exclusive=True)  # type: ignore[arg-type]  # Textual's WorkType

    async def _show_pages(self) -> None:
        await self._show_page(GOOD)
        await self._show_page(BAD)

    def action_leave(self, mode: str) -> None:
        self.dismiss(None)
        self.app.call_later(self.app.run_action, f"open('{mode}')")

    # ------------------------------------------------------------------------------------------ showing

    @work(exclusive=True, group="report-load", exit_on_error=False)
    async def refresh_report(self) -> None:
        if self.allocation_id is None:
            current = await books.current_allocation(self.store)
            self.allocation_id = current.allocation_id if current else None
        if self.allocation_id is None:
            self.query_one("#report-summary", Static).update(t("ui.reportscreen.no_allocation"))
            return
        self.books = await books.allocation_books(self.store, self.allocation_id)
        assert self.books is not None  # the allocation shown exists
        made = await reports.reports_of(self.store, self.allocation_id)
        self.reprints = len(await locks.awaiting_reprint(self.store))
        self.refresh_bindings()
        self._show_summary(self.books, made, self.reprints)
        readiness = self.query_one("#report-readiness", Static)
        try:
            await reports.check_reportable(self.store, self.allocation_id)
        except StationError as refused:
            readiness.update(await self._refusal_words(refused))
            readiness.add_class("-refused")
        else:
            readiness.update(t("ui.reportscreen.reported" if made else "ui.reportscreen.ready"))
            readiness.remove_class("-refused")
        await self._show_pages()
        self.call_after_refresh(self._fit_page)  # the lines above the list may have grown or shrunk

    async def _refusal_words(self, refused: StationError) -> str:
        """Cards waiting for their tag, in the console's words (its keys, not the command line's)."""
        b = self.books
        waiting = await jobs.untagged(self.store, 1) if b is not None and b.untagged else []
        if b is None or not waiting:
            return advised(refused, CONSOLE)
        first = waiting[0]
        return t("ui.reportscreen.untagged", count=number(b.untagged), nik=first.nik,
                 counter=number(first.card_counter))  # fmt: skip

    def _show_summary(self, b: Books, made: list[reports.ReportSummary], reprints: int) -> None:
        lines = [
            t("ui.reportscreen.allocation", id=b.allocation_id, period=b.period or "—", received=number(b.received)),
            t(
                "ui.reportscreen.counts",
                good=number(b.good),
                bad=number(b.bad),
                untagged=number(b.untagged),
                spoiled=number(b.spoiled),
                in_stock=number(b.in_stock),
            ),
        ]
        if made:
            last = made[0]
            lines.append(t("ui.reportscreen.last_report", id=last.report_id[:12], at=day_and_time(last.generated_at)))
        else:
            lines.append(t("ui.reportscreen.never_reported"))
        if reprints:
            lines[-1] += "  " + t("ui.reportscreen.reprints_waiting", count=number(reprints))
        self.query_one("#report-summary", Static).update("\n".join(lines))

    def _total(self, verdict: str) -> int:
        if self.books is None:
            return 0
        return self.books.good if verdict == GOOD else self.books.bad

    def _last_page(self, verdict: str) -> int:
        return max(0, (self._total(verdict) - 1) // self.page_size)

    async def _show_page(self, verdict: str) -> None:
        assert self.allocation_id is not None  # a page is shown only once an allocation is
        page = self.pages[verdict] = min(self.pages[verdict], self._last_page(verdict))
        cards = await reports.cards_page(
            self.store, self.allocation_id, verdict == GOOD, page * self.page_size, self.page_size
        )
        table = self.query_one(f"#list-{verdict}", DataTable)
        table.clear()
        for card in cards:
            row = [card["nik"], card["nama"], f"#{card['card_counter']}", day_and_time(card["printed_at"])]
            if verdict == BAD:
                row.append(reports.reason_text(card["tag_reason"], card["tag_note"]))
            table.add_row(*row)
        if verdict == self._visible():
            self._show_page_line()

    def _visible(self) -> str:
        return BAD if self.query_one(TabbedContent).active == "tab-bad" else GOOD

    def _show_page_line(self) -> None:
        verdict = self._visible()
        pages = self._last_page(verdict) + 1
        self.query_one("#report-page", Static).update(t(
            "ui.reportscreen.page", page=self.pages[verdict] + 1, pages=pages, count=number(self._total(verdict)),
        ) + (t("ui.reportscreen.page_keys") if pages > 1 else ""))  # fmt: skip

    @on(TabbedContent.TabActivated)
    def _tab_changed(self) -> None:
        self._show_page_line()

    def action_page(self, step: int) -> None:
        verdict = self._visible()
        wanted = min(max(self.pages[verdict] + step, 0), self._last_page(verdict))
        if wanted != self.pages[verdict]:
            self.pages[verdict] = wanted
            self.run_worker(self._show_page(verdict), group="report-page", exclusive=True)

    async def action_next_allocation(self) -> None:
        all_books = await books.all_books(self.store)
        if not all_books:
            return
        ids = [b.allocation_id for b in all_books]
        following = (ids.index(self.allocation_id) + 1) % len(ids) if self.allocation_id in ids else 0
        self.allocation_id = ids[following]
        self.pages = {GOOD: 0, BAD: 0}
        self.refresh_report()

    # ------------------------------------------------------------------------------------------ asking

    def action_write_report(self) -> None:
        if self.allocation_id is not None:
            default = self.settings.database.path.parent / "laporan" / self.allocation_id
            self._ask("report-out", str(default))

    def action_load_grant(self) -> None:
        self._ask("report-grant", "")

    def action_close(self) -> None:
        if not self.stop_asking():
            self.dismiss(None)

    @on(Input.Submitted, "#report-out")
    def _out_given(self, event: Input.Submitted) -> None:
        event.input.remove_class("-asking")
        if event.value.strip():
            out_dir = Path(event.value.strip()).expanduser()
            if out_dir.exists() and not out_dir.is_dir():
                self._say(t("ui.reportscreen.out_not_dir", path=out_dir), error=True)
                return
            self.write_report(out_dir)

    @on(Input.Submitted, "#report-grant")
    def _grant_given(self, event: Input.Submitted) -> None:
        event.input.remove_class("-asking")
        if event.value.strip():
            path = Path(event.value.strip()).expanduser()
            as_supervisor(self.app, self.store, "unlock", partial(self.apply_grant, path),
                          partial(self._say, error=True))  # fmt: skip

    # ------------------------------------------------------------------------------------------ doing

    @work(exclusive=True, group="report-act", exit_on_error=False)
    async def write_report(self, out_dir: Path) -> None:
        assert self.allocation_id is not None  # the key asks for a folder only once an allocation is shown
        try:
            made = await reports.make_report(self.store, self.allocation_id, self.settings.station.id, operator_name())
            other = reports.other_report_in(reports.report_files_in(out_dir, self.allocation_id), made.report_id)
            if other is not None:
                self._say(t("ui.reportscreen.out_taken", path=out_dir, report=other[:12]), error=True)
                return
            files = await asyncio.to_thread(
                reports.write_report_files, made.body, out_dir, self.settings.station.name, made.stock_count
            )
        except StationError as refused:
            self._say(await self._refusal_words(refused), error=True)
        else:
            key_ = "ui.reportscreen.written" if made.new else "ui.reportscreen.written_again"
            self._say(t(key_, id=made.report_id, folder=out_dir) + "\n" + "  ".join(p.name for p in files.all()))
        self.refresh_report()

    @work(exclusive=True, group="report-act", exit_on_error=False)
    async def apply_grant(self, path: Path, actor: str) -> None:
        try:
            keys = unlock.load_central_keys(self.settings.central.public_keys)
            applied = await unlock.apply_grant_file(
                self.store, path, station_id=self.settings.station.id, keys=keys, actor=actor
            )
        except StationError as rejected:
            self._say(advised(rejected, CONSOLE), error=True)
            return
        shown = applied.niks[:NIKS_SHOWN]
        names = await residents.names_of(self.store, shown)
        lines = [t("ui.reportscreen.unlocked", count=len(applied.niks), report=applied.report_id[:12],
                   allocation=applied.allocation_id, expires=day_and_time(applied.expires_at))]  # fmt: skip
        lines += [f"  {nik}  {names.get(nik, '')}" for nik in shown]
        if len(applied.niks) > len(shown):
            lines.append("  " + t("ui.reportscreen.more", count=number(len(applied.niks) - len(shown))))
        lines.append(t("ui.reportscreen.reprint_key"))
        self._say("\n".join(lines))
        if self.on_change is not None:
            self.on_change()
        self.refresh_report()

    async def action_queue_reprints(self) -> None:
        """Queue every NIK the centre unlocked that waits for its reprint."""
        niks = await locks.awaiting_reprint(self.store)
        if not niks:
            self.action_no_reprints()
            return
        station = getattr(self.app, "station", None)
        if station is not None:  # inside the console: through the station, which wakes the queue
            results = [await station.enqueue_nik(nik) for nik in niks]
            queued = sum(len(r.queued) for r in results)
            refused = [refusal for r in results for refusal in r.refused]
        else:
            result = await jobs.enqueue(self.store, niks, operator_name())
            queued, refused = len(result.queued), list(result.refused)
        lines = [t("ui.reportscreen.reprints_queued", count=number(queued))]
        lines += [describe(refusal, CONSOLE) for refusal in refused[:NIKS_SHOWN]]
        self._say("\n".join(lines), error=bool(refused))
        if self.on_change is not None:
            self.on_change()
        self.refresh_report()
