"""What every screen of the supervisor's console shares: a title that says so, and who is watching."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from console.i18n import t

if TYPE_CHECKING:
    from screens.supervisor.app import SupervisorApp


class Supervised:
    """A screen of the supervisor's console: its title says so, and who is watching."""

    TITLE_KEY: str  # the screen's own
    app: Any

    def title_text(self) -> str:
        app = cast("SupervisorApp", self.app)
        return t("ui.sup.title", who=app.who, screen=t(self.TITLE_KEY), station=app.settings.station.name)
