"""Beranda for the supervisor: the panels of the operator's home, with the printing process's state in place of
the printer's and no operator's key to press."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from rich.console import Group
from rich.text import Text
from textual.widgets import Static

from console.engine import EMPTY, NO_STOCK, PAUSED, STOPPED, WAITING_TAGS
from console.faults_text import fault_title
from console.i18n import t
from console.live import Live
from console.text import day_and_time, number, time_of
from screens.dashboard import ATTENTION, LiveDashboard, line
from screens.keys import key
from screens.supervisor.supervised import Supervised

if TYPE_CHECKING:
    from console.watched_station import WatchedStation

PENDING_SHOWN = 2  # pause/resume requests listed on the dashboard
QUEUE_WORDS: dict[str, str] = {
    state: f"ui.sup.queue.{state}" for state in (EMPTY, NO_STOCK, PAUSED, STOPPED, WAITING_TAGS)
}


class WatchDashboard(Supervised, LiveDashboard, inherit_bindings=False):
    """Beranda as the operator sees it, with the printing process's state in place of the printer's."""

    BINDINGS = [  # they work everywhere (the app's); shown here, where there is room for them
        key("f3", "app.open('queue')", "ui.sup.key.queue"),
        key("f4", "app.open('untagged')", "ui.sup.key.untagged"),
        key("f5", "app.open('books')", "ui.sup.key.books"),
        key("f6", "app.open('audit')", "ui.sup.key.audit"),
    ]

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
        if published.paused is not None:
            lines.append(line(t("ui.sup.paused_by", who=published.paused.by, at=day_and_time(published.paused.at)),
                              style="bold"))  # fmt: skip
        if published.card_times:
            lines.append(line(t("ui.sup.printer.last_card", counter=number(published.last_counter),
                                at=time_of(published.card_times[0]))))  # fmt: skip
        holder = station.holder
        if holder is not None:
            lines.append(line(t("ui.sup.holder.running", command=holder.command, pid=holder.pid) if holder.running
                              else t("ui.sup.holder.none"), style="" if holder.running else "bold"))  # fmt: skip
        if station.stale_since is not None:
            lines.append(line(t("ui.sup.stale", at=day_and_time(station.stale_since)), style="bold"))
        for request in published.pending[-PENDING_SHOWN:]:
            lines.append(line(t("ui.sup.pending", kind=t(f"ui.sup.kind.{request.kind}"), who=request.requester),
                              style="bold"))  # fmt: skip
        panel = self.query_one("#printer-panel", Static)
        panel.border_title = t("ui.sup.panel.printer")
        attention = station.state in ATTENTION or bool(published.pending) or station.stale_since is not None
        panel.set_class(attention, "-attention")
        panel.update(Group(*lines))

    def _now_line(self, live: Live) -> Text:
        """As the operator's, in words for someone who watches: no operator's key to press."""
        state = cast("WatchedStation", self.station).state
        if state in QUEUE_WORDS:
            return line(t(QUEUE_WORDS[state], queued=number(live.queued)))
        return super()._now_line(live)
