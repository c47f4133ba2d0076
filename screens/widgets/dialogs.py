"""Small dialogs: a message, a yes/no question, and a form whose errors are said inside it, in words."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Footer, Input, Static

from console.errors import StationError
from console.hints import CONSOLE, advised
from console.i18n import t
from screens.keys import key, translate_bindings
from screens.widgets.words import LabelWords, Words, plain


class StationInput(Input):
    """An input that does not blink (a blinking cursor redraws the terminal twice a second, over SSH too)."""

    def on_mount(self) -> None:
        self.cursor_blink = False


class MessageDialog(ModalScreen[None]):
    BINDINGS = [key("escape,enter", "close", "ui.key.close")]

    def __init__(self, title: str, text: str) -> None:
        super().__init__(classes="dialog-screen")
        translate_bindings(self)
        self._title, self._text = title, text

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog") as box:
            box.border_title = plain(self._title)
            yield Words(self._text)
            yield Words(t("ui.dialog.close_keys"), classes="dialog-keys")
        yield Footer(show_command_palette=False, compact=True)

    def action_close(self) -> None:
        self.dismiss(None)


class ConfirmDialog(ModalScreen[bool]):
    BINDINGS = [key("enter,y", "answer(True)", "ui.key.yes"), key("escape,n", "answer(False)", "ui.key.no")]

    def __init__(self, title: str, question: str) -> None:
        super().__init__(classes="dialog-screen")
        translate_bindings(self)
        self._title, self._question = title, question

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog") as box:
            box.border_title = plain(self._title)
            yield Words(self._question)
            yield Words(t("ui.dialog.confirm_keys"), classes="dialog-keys")
        yield Footer(show_command_palette=False, compact=True)

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    value: str = ""
    placeholder: str = ""
    restrict: str | None = None  # a regular expression of what may be typed


Submit = Callable[[dict[str, str]], Awaitable[Any]]


class FormDialog(ModalScreen[Any]):
    """Inputs, one under the other; Enter moves on, Enter on the last submits. `submit` raises a StationError
    to refuse, and its sentence is shown in the form; what it returns is the dialog's result."""

    BINDINGS = [key("escape", "cancel", "ui.key.cancel")]

    def __init__(self, title: str, fields: list[Field], submit: Submit, hint: str = "") -> None:
        super().__init__(classes="dialog-screen")
        translate_bindings(self)
        self._title, self._fields, self._submit, self._hint = title, fields, submit, hint
        self._busy = False

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog form") as box:
            box.border_title = plain(self._title)
            if self._hint:
                yield Words(self._hint, classes="form-hint")
            for field in self._fields:
                yield LabelWords(field.label, classes="form-label")
                yield StationInput(field.value, placeholder=field.placeholder, id=f"field-{field.name}",
                                   restrict=field.restrict, select_on_focus=False, compact=True)  # fmt: skip
            yield Words("", id="form-error", classes="form-error")
            yield Words(t("ui.dialog.form_keys"), classes="dialog-keys")
        yield Footer(show_command_palette=False, compact=True)

    def values(self) -> dict[str, str]:
        return {f.name: self.query_one(f"#field-{f.name}", Input).value.strip() for f in self._fields}

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        inputs = list(self.query(Input))
        index = inputs.index(event.input)
        if index + 1 < len(inputs):
            inputs[index + 1].focus()
            return
        if not self._busy:
            self._busy = True
            self.run_worker(self._send, group="form", exclusive=True)  # type: ignore[arg-type]  # Textual's WorkType

    async def _send(self) -> None:
        try:
            result = await self._submit(self.values())
        except StationError as exc:
            self.query_one("#form-error", Static).update(t("ui.dialog.refused", why=advised(exc, CONSOLE)))
            return
        finally:
            self._busy = False
        self.dismiss(result)

    def action_cancel(self) -> None:
        self.dismiss(None)
