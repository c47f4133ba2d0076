"""A screen of the core's papers (the report, the hand-over): a table, a line of fields asked one at a time, and
a result line; the store and settings are the app's unless a test gives its own."""

from __future__ import annotations

from collections.abc import Callable

from textual.screen import Screen
from textual.widgets import Input, Static

from console.config import Settings
from console.store import Store
from screens.keys import translate_bindings


class AskingScreen(Screen[None]):
    RESULT_ID = ""  # the Static that shows what a step did
    # The frame each such screen shares: its fields (`.asking`) hidden until asked, and the result line.
    DEFAULT_CSS = """
    AskingScreen { layout: vertical; }
    AskingScreen DataTable { height: 1fr; }
    AskingScreen .asking { height: auto; }
    AskingScreen .result { padding: 0 1; height: auto; max-height: 6; }
    AskingScreen .result.-error { color: $error; }
    AskingScreen Input { display: none; margin: 0 1; }
    AskingScreen Input.-asking { display: block; }
    """

    def __init__(
        self, store: Store | None = None, settings: Settings | None = None, *,
        on_change: Callable[[], None] | None = None,
    ) -> None:  # fmt: skip
        super().__init__()
        translate_bindings(self)
        self.store: Store = store  # type: ignore[assignment]  # the app's, at mount, when not given
        self.settings: Settings = settings  # type: ignore[assignment]
        self.on_change = on_change

    def take_the_apps(self) -> None:
        """At mount: the app's store, settings and refresh where none was given."""
        if self.store is None:
            self.store = self.app.station.store
        if self.settings is None:
            self.settings = self.app.settings
        if self.on_change is None:
            self.on_change = getattr(self.app, "request_refresh", None)

    def _say(self, text: str, error: bool = False) -> None:
        result = self.query_one(f"#{self.RESULT_ID}", Static)
        result.update(text)
        result.set_class(error, "-error")

    def _ask(self, input_id: str, value: str = "") -> None:
        for other in self.query(Input):
            other.remove_class("-asking")
        field = self.query_one(f"#{input_id}", Input)
        field.value = value
        field.add_class("-asking")
        field.focus()

    def _asking(self) -> Input | None:
        return next((field for field in self.query(Input) if field.has_class("-asking")), None)

    def stop_asking(self) -> bool:
        """Esc while a field is asked puts the field away (True); else the screen may close (False)."""
        field = self._asking()
        if field is None:
            return False
        field.remove_class("-asking")
        return True
