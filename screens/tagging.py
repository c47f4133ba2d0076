"""Periksa kartu: the printed cards in hopper order, oldest first; one key says good, or bad and why.

B (or G) good; R bad, then the reason 1–5 (5, `lainnya`, asks for a note); ← goes back to correct a tag (the
core refuses once the allocation is reported); Esc leaves the rest for later. After each tag the engine is
woken, so that a queue waiting for tags goes on.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from functools import partial

from rich.console import RenderableType
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.widgets import Input, Static

from console import jobs
from console.cards import card_fields
from console.errors import StationError
from console.i18n import t
from console.jobs import BAD_REASONS, Job
from console.live import Live
from console.residents import get_resident
from console.text import number
from screens.base import StationScreen
from screens.keys import key
from screens.signin import as_supervisor
from screens.widgets.card import card_text
from screens.widgets.dialogs import StationInput
from screens.widgets.titlebar import TitleBar
from screens.widgets.words import Words

KEPT_TAGGED = 50  # cards already tagged that ← can still reach
LOAD_LIMIT = 200  # the oldest cards of the hopper; more come as these are tagged
LAINNYA = BAD_REASONS.index("lainnya") + 1


class TaggingScreen(StationScreen):
    TITLE_KEY = "ui.screen.tagging"
    AUTO_FOCUS = ""  # the keys are the screen's; the note's input takes focus only when a note is asked for
    BINDINGS = [
        key("b,g", "good", "ui.key.good"),
        key("r", "bad", "ui.key.bad"),
        *(key(str(n), f"reason({n})", f"ui.key.reason.{n}", show=False) for n in range(1, len(BAD_REASONS) + 1)),
        key("left", "step(-1)", "ui.key.previous"),
        key("right", "step(1)", "ui.key.next", show=False),
        key("escape", "later", "ui.key.later"),
        key("escape", "cancel", "ui.key.cancel"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.cards: list[Job] = []
        self.index = 0
        self.mode = "verdict"  # verdict | reason | note
        self._busy = False
        self._keep_place = False
        self._message = ""

    def compose(self) -> ComposeResult:
        yield self.title_bar()
        yield Words("", id="card-panel", classes="panel")
        yield Words("", id="tag-prompt")
        yield StationInput(placeholder=t("ui.tag.note_placeholder"), id="tag-note", compact=True)
        yield Words("", id="tag-message")
        yield self.footer()

    def on_mount(self) -> None:
        self.query_one("#card-panel").border_title = t("ui.panel.card")
        self.query_one("#tag-note").display = False

    def on_screen_resume(self) -> None:
        super().on_screen_resume()
        self._set_mode("verdict")
        keep_place, self._keep_place = self._keep_place, False
        self.run_worker(partial(self._load, start_at_first_untagged=not keep_place), group="load", exclusive=True)  # type: ignore[arg-type]  # Textual's WorkType

    def show_live(self, live: Live) -> None:
        untagged_here = sum(1 for c in self.cards if c.state == jobs.PRINTED)
        if self.is_current and live.untagged != untagged_here:
            self.run_worker(partial(self._load, start_at_first_untagged=not self.cards), group="load", exclusive=True)  # type: ignore[arg-type]  # Textual's WorkType

    # ------------------------------------------------------------------------------------------ the cards

    async def _load(self, start_at_first_untagged: bool) -> None:
        if self.station is None:
            return
        fresh = await jobs.untagged(self.station.store, LOAD_LIMIT)
        known = {c.id for c in self.cards}
        tagged = [c for c in self.cards if c.state != jobs.PRINTED][-KEPT_TAGGED:]
        still = {c.id for c in fresh}
        waiting = [c for c in self.cards if c.state == jobs.PRINTED and c.id in still]
        current = self.current()
        self.cards = tagged + waiting + [c for c in fresh if c.id not in known]
        if start_at_first_untagged or current is None:
            self.index = self._first_untagged(0)
        else:
            self.index = next((i for i, c in enumerate(self.cards) if c.id == current.id), 0)
        await self._show()

    def current(self) -> Job | None:
        return self.cards[self.index] if 0 <= self.index < len(self.cards) else None

    def _first_untagged(self, start: int) -> int:
        for i in range(start, len(self.cards)):
            if self.cards[i].state == jobs.PRINTED:
                return i
        for i in range(start):
            if self.cards[i].state == jobs.PRINTED:
                return i
        return max(len(self.cards) - 1, 0) if start >= len(self.cards) else start

    async def _show(self) -> None:
        job = self.current()
        panel = self.query_one("#card-panel", Static)
        untagged = sum(1 for c in self.cards if c.state == jobs.PRINTED)
        if job is None:
            self._retitle(t("ui.tag.title_empty"))
            panel.update(Text(t("ui.tag.none")))
            self._show_prompt()
            return
        self._retitle(t("ui.tag.title", position=number(self.index + 1), total=number(len(self.cards)),
                        untagged=number(untagged), counter=number(job.card_counter)))  # fmt: skip
        panel.update(await self._card(job))
        self._show_prompt()

    def _retitle(self, text: str) -> None:
        self.query_one(TitleBar).set_title(text)

    async def _card(self, job: Job) -> RenderableType:
        assert self.station is not None
        resident = await get_resident(self.station.store, job.nik)
        if resident is None:
            return Text(t("ui.tag.no_record", nik=job.nik))
        printed = date.fromisoformat(job.printed_at[:10]) if job.printed_at else self.station.clock().date()
        try:
            fields = card_fields(asdict(resident), self.station.settings.station.id, printed)
        except OSError:
            fields = card_fields(asdict(resident) | {"foto": None}, self.station.settings.station.id, printed)
        return card_text(fields)

    def _show_prompt(self) -> None:
        job = self.current()
        lines = Text()
        if job is not None:
            lines.append(t("ui.tag.now") + " ")
            lines.append(verdict_words(job), style="bold reverse" if job.state == jobs.DONE_BAD else "bold")
            lines.append("\n")
            if self.mode == "verdict":
                lines.append(t("ui.tag.ask"))
            elif self.mode == "reason":
                lines.append(t("ui.tag.reasons"))
            else:
                lines.append(t("ui.tag.note_ask"))
        elif not self.cards:
            lines.append(t("ui.tag.nothing"))
        self.query_one("#tag-prompt", Static).update(lines)
        self.query_one("#tag-message", Static).update(self._message)
        self.refresh_bindings()

    # ------------------------------------------------------------------------------------------ the keys

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("good", "bad"):
            return self.mode == "verdict" and self.current() is not None
        if action == "reason":
            return self.mode == "reason"
        if action in ("step", "later"):
            return self.mode == "verdict"
        if action == "cancel":
            return self.mode != "verdict"
        return True

    def _set_mode(self, mode: str) -> None:
        self.mode = mode
        note = self.query_one("#tag-note", Input)
        note.display = mode == "note"
        if mode == "note":
            note.value = ""
            note.focus()
        else:
            self.set_focus(None)
        self._show_prompt()

    def action_good(self) -> None:
        self._tag(True)

    def action_bad(self) -> None:
        self._message = ""
        self._set_mode("reason")

    def action_reason(self, number_pressed: int) -> None:
        if number_pressed == LAINNYA:
            self._set_mode("note")
            return
        self._tag(False, BAD_REASONS[number_pressed - 1])

    @on(Input.Submitted, "#tag-note")
    def _note_entered(self, event: Input.Submitted) -> None:
        if not event.value.strip():
            self._message = t("ui.tag.note_required")
            self._show_prompt()
            return
        self._tag(False, "lainnya", event.value.strip())

    def action_step(self, step: int) -> None:
        if self.cards:
            self.index = min(max(self.index + step, 0), len(self.cards) - 1)
            self._message = ""
            self.run_worker(self._show, group="show", exclusive=True)  # type: ignore[arg-type]  # Textual's WorkType

    def action_later(self) -> None:
        self.station_app.action_open("dashboard")

    def action_cancel(self) -> None:
        self._message = ""
        self._set_mode("verdict")

    def _tag(self, good: bool, reason: str | None = None, note: str | None = None) -> None:
        job = self.current()
        if job is None or self._busy or self.station is None:
            return
        if job.state != jobs.PRINTED:  # a correction, the card out of the hopper: a supervisor's step
            as_supervisor(self.app, self.station.store, "tag_correction",
                          partial(self._start_tag, job, good, reason, note), self._refused)  # fmt: skip
            self._keep_place = self.app.screen is not self  # back from the supervisor's sign-in: on this card
            return
        self._start_tag(job, good, reason, note)

    def _start_tag(self, job: Job, good: bool, reason: str | None, note: str | None, actor: str | None = None) -> None:
        self._busy = True
        self.run_worker(partial(self._send_tag, job, good, reason, note, actor), group="tag", exclusive=True)  # type: ignore[arg-type]  # Textual's WorkType

    def _refused(self, why: str) -> None:
        self._message = t("ui.tag.refused", why=why)
        self._set_mode("verdict")

    async def _send_tag(self, job: Job, good: bool, reason: str | None, note: str | None, actor: str | None) -> None:
        assert self.station is not None
        try:
            tagged = await self.station.tag(job, good, reason, note, actor=actor)
        except StationError as exc:
            self._message = t("ui.tag.refused", why=exc)
            self._set_mode("verdict")
            return
        finally:
            self._busy = False
        place = next((i for i, c in enumerate(self.cards) if c.id == tagged.id), self.index)  # the list may
        self.cards[place] = tagged  # have been loaded again meanwhile (back from the supervisor's sign-in)
        self._message = t("ui.tag.done", counter=number(tagged.card_counter), verdict=verdict_words(tagged))
        self._set_mode("verdict")  # says so at once; the next card follows
        self.index = self._first_untagged(place + 1)
        await self._show()
        self.station_app.request_refresh()


def verdict_words(job: Job) -> str:
    if job.state == jobs.DONE_GOOD:
        return t("ui.verdict.good")
    if job.state == jobs.DONE_BAD:
        note = f" — {job.tag_note}" if job.tag_reason == "lainnya" and job.tag_note else ""
        return t("ui.verdict.bad_reason", reason=job.tag_reason or "-") + note
    return t("ui.verdict.untagged")
