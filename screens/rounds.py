"""Giliran perekaman: the recording rounds planned and closed, and the villages a kit should go to next (in the
order of `station rounds plan`). Read-only: rounds are planned and closed from the command line."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import DataTable

from console import rounds
from console.i18n import t
from console.rounds import Round, VillageNeed
from console.text import number
from screens.base import ReloadingScreen
from screens.keys import key
from screens.widgets.columns import fit_columns
from screens.widgets.words import PlainTable, Words

COLUMNS = (("round", 4), ("desa", 0), ("days", 11), ("kit", 8), ("state", 12), ("recorded", 8))
DESA_MIN = 12  # the village takes the width left over, at least this
NEXT_VILLAGES = 5


def days_cell(r: Round) -> str:
    """`07.12-09.12`: day and month of the first and last day (ASCII: the Linux console draws it)."""
    return f"{r.starts_on[8:10]}.{r.starts_on[5:7]}-{r.ends_on[8:10]}.{r.ends_on[5:7]}"


def next_line(n: VillageNeed) -> str:
    return t("ui.rounds.next", desa=n.kel_desa, kecamatan=n.kecamatan, not_recorded=number(n.not_recorded),
             days=n.days, per_day=number(round(n.per_kit_day)))  # fmt: skip


class RoundsScreen(ReloadingScreen):
    TITLE_KEY = "ui.screen.rounds"
    BINDINGS = [key("escape", "app.open('dashboard')", "ui.key.back", id="back")]

    def __init__(self) -> None:
        super().__init__()
        self.rounds: list[Round] = []
        self.next: list[VillageNeed] | None = None
        self._desa_width = 0

    def compose(self) -> ComposeResult:
        yield self.title_bar()
        yield PlainTable(id="rounds-table", cursor_type="row")
        yield Words("", id="rounds-next", classes="panel")
        yield self.footer()

    def on_mount(self) -> None:
        self.query_one("#rounds-next").border_title = t("ui.panel.next_villages")

    def on_resize(self) -> None:
        self.call_after_refresh(self.reload)

    async def _load(self) -> None:
        assert self.station is not None
        store = self.station.store
        self.rounds = await rounds.list_rounds(store)
        self.next = (await rounds.candidates(store, self.station_app.settings.planning))[:NEXT_VILLAGES]
        table = self.query_one(DataTable)
        self._desa_width = fit_columns(
            table, COLUMNS, lambda name: t(f"ui.rounds.col.{name}"), DESA_MIN, self._desa_width
        )
        table.clear()
        for r in self.rounds:
            recorded = "" if r.recorded is None else number(r.recorded)
            table.add_row(str(r.id), r.kel_desa, days_cell(r), r.kit, t(f"rounds.state.{r.state}"), recorded,
                          key=str(r.id))  # fmt: skip
        lines = [next_line(n) for n in self.next] or [t("ui.rounds.none_next")]
        if not self.rounds:
            lines.insert(0, t("ui.rounds.none"))
        self.query_one("#rounds-next", Words).update(Text("\n".join(lines)))
