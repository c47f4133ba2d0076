"""Signing in at the operator console: the lock screen (at the start, after idle minutes, after signing out) and a
supervisor's sign-in for one sensitive step.

The PIN goes from its field (never echoed) to `operators.sign_in` and nowhere else: not logged, not kept (the
field is emptied at once). After a wrong PIN the core sits out the wait it earned; the wait is counted down here,
second by second, in a worker, so the screen stays alive.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable, Callable
from typing import Any

from textual import on
from textual.app import App, ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Footer, Input, Static

from console import operators
from console.hints import CONSOLE
from console.i18n import t
from console.operator import operator_name, os_user, signed_in
from console.operators import OPERATOR, SUPERVISOR, SignedIn, SignInRefused
from console.store import Store
from screens.keys import key, translate_bindings
from screens.widgets.dialogs import StationInput
from screens.widgets.words import LabelWords, Words, plain

Sleep = Callable[[float], Awaitable[object]]


class SignInDialog(ModalScreen[SignedIn | None]):
    """A name and a PIN; dismissed with the operator signed in, holding at least `role`."""

    AUTO_FOCUS = "#signin-name"

    def __init__(self, store: Store, lead: str, *, role: str = OPERATOR, name: str = "",
                 sleep: Sleep = asyncio.sleep, classes: str = "dialog-screen") -> None:  # fmt: skip
        super().__init__(classes=classes)
        translate_bindings(self)
        self.store, self.lead, self.role, self.sleep = store, lead, role, sleep
        self._operator = name  # the last one signed in, at the lock screen
        self.busy = False

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog form", id="signin-box") as box:
            box.border_title = plain(self.box_title())
            yield Words(self.lead, id="signin-lead")
            yield LabelWords(t("ui.signin.name"), classes="form-label")
            yield StationInput(self._operator, id="signin-name", select_on_focus=False, compact=True)
            yield LabelWords(t("ui.signin.pin"), classes="form-label")
            yield StationInput(id="signin-pin", password=True, select_on_focus=False, compact=True)
            yield Words("", id="signin-message", classes="form-error")
            yield Words(self.keys_line(), classes="dialog-keys")
        yield Footer(show_command_palette=False, compact=True)

    def on_mount(self) -> None:
        if self._operator:
            self.query_one("#signin-pin", Input).focus()

    def box_title(self) -> str:
        return t("ui.signin.title")

    def keys_line(self) -> str:
        return t("ui.signin.keys")

    def say(self, text: str) -> None:
        self.query_one("#signin-message", Static).update(plain(text))

    @on(Input.Submitted, "#signin-name")
    def _name_given(self) -> None:
        self.query_one("#signin-pin", Input).focus()

    @on(Input.Submitted, "#signin-pin")
    def _pin_given(self, event: Input.Submitted) -> None:
        pin, event.input.value = event.value, ""
        name = self.query_one("#signin-name", Input).value.strip()
        if self.busy:
            return
        if not name:
            self.query_one("#signin-name", Input).focus()
            return
        self.busy = True
        self.run_worker(self._attempt(name, pin), group="signin", exclusive=True)

    async def _attempt(self, name: str, pin: str) -> None:
        for field in self.query(Input):
            field.disabled = True
        self.say(t("ui.signin.checking"))
        try:
            outcome = await operators.sign_in(self.store, name, pin, terminal=os_user(), sleep=self._sit_out)
        finally:
            self.busy = False
            for field in self.query(Input):
                field.disabled = False
        if isinstance(outcome, SignInRefused):
            self.say(refusal(outcome))
            self.query_one("#signin-pin" if outcome.why == "wrong_pin" else "#signin-name", Input).focus()
            return
        if not outcome.may(self.role):
            self.say(t("ui.signin.not_supervisor", name=outcome.name, role=t(f"operator.role.{outcome.role}")))
            self.query_one("#signin-name", Input).focus()
            return
        self.dismiss(outcome)

    async def _sit_out(self, seconds: float) -> None:
        """The wait a wrong PIN earned, counted down on the screen."""
        for left in range(math.ceil(seconds), 0, -1):
            self.say(t("ui.signin.wait", seconds=left))
            await self.sleep(1.0)


def refusal(outcome: SignInRefused) -> str:
    if outcome.why == "wrong_pin":  # its wait, if any, has been sat out already
        return t("ui.signin.wrong_pin", name=outcome.name)
    return outcome.sentence(CONSOLE)


class LockScreen(SignInDialog):
    """Covers every screen of the console (and any dialog) until an operator signs in; the queue prints on."""

    def __init__(self, store: Store, lead: str, *, name: str = "", sleep: Sleep = asyncio.sleep) -> None:
        super().__init__(store, lead, name=name, sleep=sleep, classes="lock-screen")

    def keys_line(self) -> str:
        return t("ui.signin.lock_keys")


class SupervisorSignIn(SignInDialog):
    """A supervisor signs in for one step; Esc cancels."""

    BINDINGS = [key("escape", "cancel", "ui.key.cancel")]

    def __init__(self, store: Store, step: str, *, sleep: Sleep = asyncio.sleep) -> None:
        super().__init__(store, t("ui.signin.supervisor_lead", step=t(f"operator.step.{step}")), role=SUPERVISOR,
                         sleep=sleep)  # fmt: skip

    def box_title(self) -> str:
        return t("ui.signin.supervisor_title")

    def keys_line(self) -> str:
        return t("ui.signin.supervisor_keys")

    def action_cancel(self) -> None:
        self.dismiss(None)


def as_supervisor(app: App[Any], store: Store, step: str, then: Callable[[str], object],
                  refused: Callable[[str], object]) -> None:  # fmt: skip
    """Run `then` with the name of a supervisor for `step`: the operator signed in, when a supervisor (or anyone,
    while no operator is registered); else a supervisor who signs in now, for this step alone. If no supervisor
    signs in, `refused` gets the sentence to show."""
    current = signed_in()
    if not getattr(app, "sign_in_required", False) or (current is not None and current.may(SUPERVISOR)):
        then(operator_name())
        return

    def answered(who: SignedIn | None) -> None:
        if who is None:
            refused(t("ui.signin.supervisor_cancelled", step=t(f"operator.step.{step}")))
        else:
            then(who.name)

    app.push_screen(SupervisorSignIn(store, step, sleep=getattr(app, "sign_in_sleep", asyncio.sleep)), answered)
