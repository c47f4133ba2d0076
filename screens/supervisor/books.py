"""Jatah dan buku for the supervisor: the allocations and their books, with no key that changes them."""

from __future__ import annotations

from screens.allocations import BooksView
from screens.keys import key
from screens.supervisor.supervised import Supervised


class WatchBooks(Supervised, BooksView, inherit_bindings=False):
    """The allocations and their books, read only."""

    TITLE_KEY = "ui.sup.screen.books"
    BINDINGS = [key("escape", "app.open('dashboard')", "ui.key.back", id="back")]
