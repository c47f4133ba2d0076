"""What every screen of the supervisor's console shares: a title that says so, and who is watching."""

from __future__ import annotations

from typing import Any, cast

from console.i18n import t
from screens.host import SupervisorHost
from screens.widgets.titlebar import TitleBar


class Supervised:
    """A screen of the supervisor's console: its title says so, who is watching, and which station (on a
    ledger the supervisor may choose another: the title follows when the screen is shown again)."""

    TITLE_KEY: str  # the screen's own
    app: Any
    query_one: Any

    def title_text(self) -> str:
        app = cast(SupervisorHost, self.app)
        return t("ui.sup.title", who=app.who, screen=t(self.TITLE_KEY), station=self.watched_name())

    def watched_name(self) -> str:
        return cast(SupervisorHost, self.app).station_name

    def on_screen_resume(self) -> None:
        self.query_one(TitleBar).set_title(self.title_text())
