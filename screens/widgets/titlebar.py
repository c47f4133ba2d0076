"""The top line of every screen: where you are, which station, who is signed in, and the time (to the minute, no
seconds ticking)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Label

from console.clock import now
from console.text import clock_line
from screens.widgets.words import LabelWords

CLOCK_EVERY_S = 15.0
SHORT_CLOCK_BELOW = (
    100  # columns: at 80 the screen's title needs the room more than the weekday, the year and a long name
)


class TitleBar(Horizontal):
    def __init__(self, title: str, *, id: str | None = None) -> None:
        super().__init__(id=id, classes="titlebar")
        self._title = title

    def compose(self) -> ComposeResult:
        yield LabelWords(self._title, id="title-text")
        yield LabelWords("", id="title-who")
        yield LabelWords("", id="title-clock")

    def on_mount(self) -> None:
        self._tick()
        self.set_interval(CLOCK_EVERY_S, self._tick)
        if hasattr(self.app, "who_line"):  # the consoles say who is signed in
            self.watch(self.app, "who_line", self._show_who)

    def _show_who(self, who: str) -> None:
        self.query_one("#title-who", Label).update(who)
        self.query_one("#title-who", Label).display = bool(who)

    def set_title(self, title: str) -> None:
        self._title = title
        self.query_one("#title-text", Label).update(title)

    def on_resize(self) -> None:
        self._tick()

    def _tick(self) -> None:
        clock = getattr(self.app, "clock", now)  # the station's apps keep their own (frozen in tests)
        short = 0 < self.size.width < SHORT_CLOCK_BELOW
        self.set_class(short, "-narrow")
        self.query_one("#title-clock", Label).update(clock_line(clock(), short=short))
