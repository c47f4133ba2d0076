"""The command palette (Ctrl+P): the station's commands by name, for an operator who knows what, not which key."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import cast

from rich.align import Align
from rich.text import Text
from textual.command import CommandInput, CommandList, CommandPalette, DiscoveryHit, Hit, Hits, Provider, SearchIcon
from textual.widgets.option_list import Option

from console.engine import STOPPED
from console.i18n import t
from screens.host import OperatorHost


class StationCommands(Provider):
    def _commands(self) -> Iterator[tuple[str, str, Callable[[], object]]]:
        app = cast(OperatorHost, self.app)

        def run(action: str) -> Callable[[], object]:
            return lambda: app.run_action_later(action)

        for name in ("dashboard", "residents", "tagging", "allocations", "rounds", "chart"):
            yield t(f"ui.cmd.{name}"), t(f"ui.cmd.{name}.help"), run(f"open('{name}')")
        stopped = app.station is not None and app.station.state == STOPPED
        yield (t("ui.cmd.recover"), t("ui.cmd.recover.help"), run("pause")) if stopped else \
            (t("ui.cmd.pause"), t("ui.cmd.pause.help"), run("pause"))  # fmt: skip
        yield t("ui.cmd.queue_all"), t("ui.cmd.queue_all.help"), run("open_and_run('residents', 'queue_all')")
        yield t("ui.cmd.add_allocation"), t("ui.cmd.add_allocation.help"), run("open_and_run('allocations', 'add')")
        yield t("ui.cmd.count"), t("ui.cmd.count.help"), run("open_and_run('allocations', 'count')")
        yield t("ui.cmd.report"), t("ui.cmd.report.help"), run("report")
        yield t("ui.cmd.handover"), t("ui.cmd.handover.help"), run("handover")
        yield t("ui.cmd.help"), t("ui.cmd.help.help"), run("help")
        yield t("ui.cmd.quit"), t("ui.cmd.quit.help"), run("quit")

    async def discover(self) -> Hits:
        for name, help_text, command in self._commands():
            yield DiscoveryHit(name, command, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, help_text, command in self._commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), command, text=name, help=help_text)


class StationPalette(CommandPalette):
    """Textual's palette, saying "no match" in the operator's language, with a prompt every console can draw."""

    def on_mount(self) -> None:
        self.query_one(SearchIcon).icon = ">"
        self.query_one(CommandInput).cursor_blink = False

    def _start_no_matches_countdown(self, search_value: str) -> None:
        self._stop_no_matches_countdown()

        def show_no_matches() -> None:
            if search_value:
                self.query_one(CommandList).add_option(
                    Option(
                        Align.center(Text(t("ui.palette.no_match"), style="not bold")),
                        disabled=True,
                        id=self._NO_MATCHES,
                    )
                )
                self._list_visible = True
            else:
                self._list_visible = False

        self._no_matches_timer = self.set_timer(self._NO_MATCHES_COUNTDOWN, show_no_matches)
