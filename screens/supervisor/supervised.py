"""What every screen of the supervisor's console shares: a title that says so, and who is watching."""

from __future__ import annotations

from typing import Any, cast

from console.i18n import t
from screens.host import SupervisorHost


class Supervised:
    """A screen of the supervisor's console: its title says so, and who is watching."""

    TITLE_KEY: str  # the screen's own
    app: Any

    def title_text(self) -> str:
        app = cast(SupervisorHost, self.app)
        return t("ui.sup.title", who=app.who, screen=t(self.TITLE_KEY), station=app.settings.station.name)
