"""Bantuan (F1): every key of every screen, read from the bindings themselves so that the list never drifts."""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.dom import DOMNode
from textual.screen import ModalScreen
from textual.widgets import Footer

from console.i18n import t
from screens.allocations import AllocationsScreen
from screens.dashboard import DashboardScreen
from screens.fault import FaultScreen
from screens.handover import HandoverScreen
from screens.keys import key, key_label, translate_bindings
from screens.report import ReportScreen
from screens.residents import ResidentsScreen, ResidentTable
from screens.tagging import TaggingScreen
from screens.widgets.dialogs import FormDialog
from screens.widgets.words import Words

GROUPS: tuple[tuple[str, tuple[type[DOMNode], ...]], ...] = (
    ("ui.help.group.dashboard", (DashboardScreen,)),
    ("ui.help.group.residents", (ResidentsScreen, ResidentTable)),
    ("ui.help.group.tagging", (TaggingScreen,)),
    ("ui.help.group.allocations", (AllocationsScreen,)),
    ("ui.help.group.report", (ReportScreen,)),
    ("ui.help.group.handover", (HandoverScreen,)),
    ("ui.help.group.fault", (FaultScreen,)),
    ("ui.help.group.forms", (FormDialog,)),
)


def key_rows(bindings: list[BindingType]) -> list[tuple[str, str]]:
    """(keys, what they do): keys doing the same thing on one row, and one key's several meanings on one row."""
    by_description: dict[str, list[str]] = {}
    for binding in Binding.make_bindings(bindings):
        description = t(binding.description) if binding.description.startswith("ui.") else binding.description
        by_description.setdefault(description, []).append(key_label(binding.key))
    by_keys: dict[str, list[str]] = {}
    for description, keys in by_description.items():
        by_keys.setdefault(" / ".join(keys), []).append(description)
    return [(keys, " / ".join(descriptions)) for keys, descriptions in by_keys.items()]


def help_text(app_bindings: list[BindingType]) -> Group:
    parts: list[Text | Table] = [Text(t("ui.help.intro")), Text("")]
    for title, bindings in [("ui.help.group.global", app_bindings)] + [
        (title, [b for cls in classes for b in cls.BINDINGS]) for title, classes in GROUPS
    ]:
        parts += key_group(t(title), bindings)
    parts.append(Text(t("ui.help.words")))
    return Group(*parts)


def key_group(title: str, bindings: list[BindingType]) -> list[Text | Table]:
    """One titled table of keys for a help page, with a blank line after it."""
    table = Table.grid(padding=(0, 2))
    table.add_column(min_width=16)
    table.add_column()
    for keys, description in key_rows(bindings):
        table.add_row(keys, description)
    return [Text(title, style="bold underline"), table, Text("")]


class HelpScreen(ModalScreen[None]):
    BINDINGS = [key("escape,f1,q", "close", "ui.key.close")]

    def __init__(self) -> None:
        super().__init__(classes="dialog-screen")
        translate_bindings(self)

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-box", classes="dialog") as box:
            box.border_title = t("ui.help.title")
            yield Words(help_text(type(self.app).BINDINGS), id="help-text")
        yield Footer(show_command_palette=False, compact=True)

    def on_mount(self) -> None:
        self.query_one("#help-box").focus()

    def action_close(self) -> None:
        self.dismiss(None)
