"""Bantuan (F1) for the supervisor: the console's keys, the list keys and the books' one key, read from the
bindings themselves."""

from __future__ import annotations

from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Footer

from console.i18n import t
from screens.help import HelpScreen, key_group
from screens.supervisor.books import WatchBooks
from screens.supervisor.paging import PagedScreen
from screens.supervisor.regency import RegencyScreen
from screens.widgets.words import Words


def supervisor_help(app_bindings: list[Any], on_ledger: bool = False) -> Group:
    """The keys; on a ledger also the regency's (Enter opens a station, Esc comes back), else not a word of them."""
    parts: list[Text | Table] = [Text(t("ui.sup.help.intro")), Text("")]
    groups = [
        ("ui.sup.help.group.global", [b for b in app_bindings if on_ledger or b.id != "regency"]),
        ("ui.sup.help.group.pages", PagedScreen.BINDINGS),
        ("ui.sup.help.group.books", WatchBooks.BINDINGS),
    ]
    if on_ledger:
        groups.append(("ui.sup.help.group.regency", RegencyScreen.BINDINGS))
    for title, bindings in groups:
        parts += key_group(t(title), bindings)
    return Group(*parts)


class SupervisorHelp(HelpScreen):
    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-box", classes="dialog") as box:
            box.border_title = t("ui.sup.help.title")
            yield Words(supervisor_help(type(self.app).BINDINGS, getattr(self.app, "on_ledger", False)), id="help-text")
        yield Footer(show_command_palette=False, compact=True)
