"""The hand-over on screen: each batch with its progress; release one, hand one to its village, record a
collection by NIK. A supervisor's console shows the batches alone (`read_only`).

Everything goes through the core (`console.batches`, `console.custody`), which checks, keeps and audits it.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import DataTable, Footer, Input

from console import batches, custody, receipts
from console.config import Settings
from console.errors import StationError
from console.formats import day
from console.i18n import t
from console.operator import operator_name
from console.store import Store
from console.text import number
from screens.asking import AskingScreen
from screens.keys import key
from screens.signin import as_supervisor
from screens.widgets.dialogs import StationInput
from screens.widgets.titlebar import TitleBar
from screens.widgets.words import PlainTable, Words

WRITES = ("release", "release_early", "hand_over", "collect", "collect_by_proxy", "print_receipt")
PROXY_PLACEHOLDERS = {  # the fields of a collection by proxy, asked in this order
    "handover-proxy-nik": "ui.handover.proxy.nik_placeholder",
    "handover-proxy-name": "ui.handover.proxy.name_placeholder",
    "handover-proxy-relation": "ui.handover.proxy.relation_placeholder",
    "handover-proxy-letter": "ui.handover.proxy.letter_placeholder",
}
PROXY_STEPS = tuple(PROXY_PLACEHOLDERS)
NAME_CHARS = 16  # the table fits 80 columns


class HandoverScreen(AskingScreen):
    RESULT_ID = "handover-result"

    """`HandoverScreen(store, settings, read_only=False)`; inside the console the store, settings and refresh are
    the app's when not given."""

    BINDINGS = [
        key("escape", "close", "ui.handover.key.close"),
        key("l", "release", "ui.handover.key.release"),
        key("e", "release_early", "ui.handover.key.early"),
        key("s", "hand_over", "ui.handover.key.hand_over"),
        key("a", "collect", "ui.handover.key.collect"),
        key("w", "collect_by_proxy", "ui.handover.key.proxy"),
        key("t", "print_receipt", "ui.handover.key.receipt", show=False),  # the footer is full at 80 columns
        key("f9", "close", "ui.handover.key.close", show=False, id="handover-close"),
    ]

    DEFAULT_CSS = """
    HandoverScreen #handover-hint { padding: 0 1; height: auto; }
    """

    def __init__(
        self, store: Store | None = None, settings: Settings | None = None, *, read_only: bool = False,
        on_change: Callable[[], None] | None = None,
    ) -> None:  # fmt: skip
        super().__init__(store, settings, on_change=on_change)
        self.read_only = read_only
        self.progress: list[batches.Progress] | None = None
        self.receiver = ""  # asked before the folder of the hand-over's papers
        self.proxy_answers: list[str] = []  # NIK [receipt], name, relation, letter: asked one at a time

    def compose(self) -> ComposeResult:
        settings = self.settings if self.settings is not None else self.app.settings
        yield TitleBar(t("ui.title", screen=t("ui.handover.title"), station=settings.station.name))
        yield Words(t("ui.handover.hint_read_only" if self.read_only else "ui.handover.hint"), id="handover-hint")
        yield PlainTable(id="handover-batches", cursor_type="row", zebra_stripes=True)
        with Vertical(id="handover-asking", classes="asking"):
            yield StationInput(id="handover-to", placeholder=t("ui.handover.to_placeholder"), compact=True)
            yield StationInput(id="handover-reason", placeholder=t("ui.handover.reason_placeholder"), compact=True)
            yield StationInput(id="handover-out", placeholder=t("ui.handover.out_placeholder"), compact=True)
            yield StationInput(id="handover-nik", placeholder=t("ui.handover.nik_placeholder"), compact=True)
            yield StationInput(id="handover-receipt", placeholder=t("ui.handover.receipt_placeholder"), compact=True)
            for step, placeholder in PROXY_PLACEHOLDERS.items():
                yield StationInput(id=step, placeholder=t(placeholder), compact=True)
        yield Words("", id="handover-result", classes="result")
        yield Footer(show_command_palette=False, compact=True)

    def on_mount(self) -> None:
        self.take_the_apps()
        columns = ("batch", "name", "residents", "good", "reprint", "released", "handed", "collected")
        self.query_one(DataTable).add_columns(*(t(f"ui.handover.col.{name}") for name in columns))
        self.refresh_batches()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return not (self.read_only and action in WRITES)

    # ------------------------------------------------------------------------------------------ showing

    @work(exclusive=True, group="handover-load", exit_on_error=False)
    async def refresh_batches(self) -> None:
        self.progress = await batches.progress(self.store)
        table = self.query_one(DataTable)
        row = table.cursor_row
        table.clear()
        for p in self.progress:
            released = "—" if p.released is None else day(p.released.released_at) + (" *" if p.released.early else "")
            name = p.label.split(" (")[0]  # a village's sub-district is the row above it
            table.add_row(p.batch.partition(":")[2], name if len(name) <= NAME_CHARS else name[: NAME_CHARS - 1] + "…",
                          number(p.residents), number(p.printed_good), number(p.waiting_reprint), released,
                          number(p.handed_over), number(p.collected))  # fmt: skip
        if self.progress:
            table.move_cursor(row=min(row, len(self.progress) - 1))
        else:
            self._say(t("batch.none"))

    def _selected(self) -> batches.Progress | None:
        if not self.progress:
            return None
        return self.progress[min(self.query_one(DataTable).cursor_row, len(self.progress) - 1)]

    # ------------------------------------------------------------------------------------------ asking

    def action_close(self) -> None:
        if self.stop_asking():
            self.query_one(DataTable).focus()
            return
        self.dismiss(None)

    def action_release(self) -> None:
        chosen = self._selected()
        if chosen is not None:
            self.release(chosen.batch, None, operator_name())

    def action_release_early(self) -> None:
        if self._selected() is not None:
            self._ask("handover-reason")

    def action_hand_over(self) -> None:
        if self._selected() is not None:
            self._ask("handover-to")

    def action_collect(self) -> None:
        self._ask("handover-nik")

    def action_print_receipt(self) -> None:
        self._ask("handover-receipt")

    def action_collect_by_proxy(self) -> None:
        if not self.settings.handover.proxies:
            self._say(t("ui.handover.proxies_off"), error=True)
            return
        self.proxy_answers = []
        self._ask(PROXY_STEPS[0])

    def _answered(self, event: Input.Submitted) -> str:
        event.input.remove_class("-asking")
        self.query_one(DataTable).focus()
        return event.value.strip()

    @on(Input.Submitted, "#handover-reason")
    def _reason_given(self, event: Input.Submitted) -> None:
        reason, chosen = self._answered(event), self._selected()
        if reason and chosen is not None:
            as_supervisor(self.app, self.store, "early_release", partial(self.release, chosen.batch, reason),
                          partial(self._say, error=True))  # fmt: skip

    @on(Input.Submitted, "#handover-to")
    def _receiver_given(self, event: Input.Submitted) -> None:
        self.receiver = self._answered(event)
        if self.receiver and self._selected() is not None:
            self._ask("handover-out", str(self.settings.database.path.parent / "serah-terima"))

    @on(Input.Submitted, "#handover-out")
    def _folder_given(self, event: Input.Submitted) -> None:
        folder, chosen = self._answered(event), self._selected()
        if folder and self.receiver and chosen is not None:
            self.hand_over(chosen.batch, self.receiver, Path(folder).expanduser())

    @on(Input.Submitted, "#handover-receipt")
    def _receipt_nik_given(self, event: Input.Submitted) -> None:
        nik = self._answered(event)
        if nik:
            self.print_receipt(nik)

    @on(Input.Submitted, ",".join(f"#{step}" for step in PROXY_STEPS))
    def _proxy_step_given(self, event: Input.Submitted) -> None:
        answer = event.value.strip()
        if not answer:  # each part is required: the same field is asked again
            self._say(t("ui.handover.proxy_part_needed", part=event.input.placeholder), error=True)
            return
        self._answered(event)
        self.proxy_answers.append(answer)
        if len(self.proxy_answers) < len(PROXY_STEPS):
            self._ask(PROXY_STEPS[len(self.proxy_answers)])
            return
        (nik, *receipt), name, relation, letter = self.proxy_answers[0].split(), *self.proxy_answers[1:]
        try:
            proxy = custody.check_proxy(name, relation, letter, self.settings.handover.proxies, nik)
        except StationError as refused:
            self._say(str(refused), error=True)
            return
        self.collect(nik, receipt[0] if receipt else None, proxy)

    @on(Input.Submitted, "#handover-nik")
    def _nik_given(self, event: Input.Submitted) -> None:
        words = self._answered(event).split()
        if words:
            self.collect(words[0], words[1] if len(words) > 1 else None)

    # ------------------------------------------------------------------------------------------ doing

    def _changed(self) -> None:
        if self.on_change is not None:
            self.on_change()
        self.refresh_batches()

    @work(exclusive=True, group="handover-act", exit_on_error=False)
    async def release(self, batch: str, reason: str | None, actor: str) -> None:
        try:
            made = await batches.release(self.store, batch, actor, early=reason is not None, reason=reason)
        except StationError as refused:
            self._say(str(refused), error=True)
            return
        self._say(t("batch.released_early" if made.early else "batch.released", batch=batch, blocking=made.blocking))
        self._changed()

    @work(exclusive=True, group="handover-act", exit_on_error=False)
    async def hand_over(self, batch: str, receiver: str, out: Path) -> None:
        try:
            made = await custody.issue(self.store, batch, receiver, out, operator_name(),
                                       custody.office_of(self.settings), self.settings.handover.receipts)  # fmt: skip
        except StationError as refused:
            self._say(str(refused), error=True)
            return
        lines = [t("custody.issued", batch=batch, count=number(len(made.cards)), to=receiver)]
        self._say("\n".join([*lines, f"  {made.pdf}", f"  {made.csv}"]))
        self._changed()

    @work(exclusive=True, group="handover-act", exit_on_error=False)
    async def print_receipt(self, nik: str) -> None:
        try:
            made = await receipts.print_receipt(self.store, nik, operator_name(), custody.office_of(self.settings),
                                                self.settings.handover.slips, self.settings.handover.receipts)  # fmt: skip
        except StationError as refused:
            self._say(str(refused), error=True)
            return
        self._say(t("receipt.printed", nik=made.nik, nama=made.nama, receipt=made.receipt) + f"\n  {made.path}")

    @work(exclusive=True, group="handover-act", exit_on_error=False)
    async def collect(self, nik: str, receipt: str | None, proxy: custody.Proxy | None = None) -> None:
        try:
            done = await custody.collect(self.store, nik, operator_name(), custody.office_of(self.settings),
                                         self.settings.handover.slips, receipt=receipt, proxy=proxy,
                                         check_receipt=self.settings.handover.receipts)  # fmt: skip
        except StationError as refused:
            self._say(str(refused), error=True)
            return
        said = t("custody.collected_proxy" if done.proxy else "custody.collected", nik=done.nik, nama=done.nama,
                 proxy=done.proxy or "")  # fmt: skip
        self._say(said + f"\n  {done.slip}")
        self._changed()
