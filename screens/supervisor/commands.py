"""The supervisor's command palette (Ctrl+P): the operator's palette, searched the same way, over the
supervisor's own commands."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import cast

from console.i18n import t
from screens.commands import StationCommands
from screens.host import SupervisorHost


class SupervisorCommands(StationCommands):
    def _commands(self) -> Iterator[tuple[str, str, Callable[[], object]]]:
        app = cast(SupervisorHost, self.app)

        def run(action: str) -> Callable[[], object]:
            return lambda: app.run_action_later(action)

        for mode in (*app.MODES, "regency"):  # the regency's on a ledger alone; none before a station is chosen
            if not app.check_action("open", (mode,)):
                continue
            yield t(f"ui.sup.cmd.{mode}"), t(f"ui.sup.cmd.{mode}.help"), run(f"open('{mode}')")
        if app.requests_allowed and app.station is not None:
            kind = app.station.next_request()
            yield t(f"ui.sup.cmd.ask_{kind}"), t(f"ui.sup.cmd.ask_{kind}.help"), run(f"ask('{kind}')")
        yield t("ui.sup.cmd.help"), t("ui.sup.cmd.help.help"), run("help")
        yield t("ui.sup.cmd.quit"), t("ui.sup.cmd.quit.help"), run("quit")
