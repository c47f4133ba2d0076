"""Jatah dan buku for the supervisor: the operator's allocations screen, without the keys that change the books."""

from __future__ import annotations

from console.i18n import t
from screens.allocations import AllocationsScreen
from screens.keys import key
from screens.supervisor.supervised import Supervised


class WatchBooks(Supervised, AllocationsScreen, inherit_bindings=False):
    """The allocations and their books, without the keys that add one or enter a count."""

    TITLE_KEY = "ui.sup.screen.books"
    BINDINGS = [key("escape", "app.open('dashboard')", "ui.key.back", id="back")]

    def action_add(self) -> None:
        self.app.notify(t("ui.sup.read_only"))

    def action_count(self) -> None:
        self.app.notify(t("ui.sup.read_only"))
