"""Periksa kartu: the printed cards in hopper order, oldest first; one key says good, or bad and why.

B (or G) good; R bad, then the reason 1–5 (5, `lainnya`, asks for a note); ← goes back to correct a tag (the
core refuses once the allocation is reported); Esc leaves the rest for later. After each tag the engine is
woken, so that a queue waiting for tags goes on.
"""

from __future__ import annotations

from dataclasses import asdict
from functools import partial

from rich.console import RenderableType
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.widgets import Input, Static

from console import jobs
from console.cards import card_fields
from console.errors import StationError
from console.formats import local
from console.hints import CONSOLE, advised
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
READ_AHEAD = 5  # cards whose text is read before they are shown
Pressed = tuple[Job, bool, str | None, str | None, str | None]  # the card, good, reason, note, who signed


class TaggingScreen(StationScreen):
    TITLE_KEY = "ui.screen.tagging"
    AUTO_FOCUS = ""  # the keys are the screen's; the note's input takes focus only when a note is asked for
    BINDINGS = [
        key("b,g", "good", "ui.key.good"),
        key("r", "bad", "ui.key.bad"),
        *(key(str(n), f"reason({n})", f"ui.key.reason.{n}", show=False) for n in range(1, len(BAD_REASONS) + 1)),
        key("left", "step(-1)", "ui.key.previous"),
        key("right", "step(1)", "ui.key.next", show=False),
        key("end,pagedown", "next_untagged", "ui.key.next_untagged"),
        key("escape", "later", "ui.key.later"),
        key("escape", "cancel", "ui.key.cancel"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.cards: list[Job] = []
        self.index = 0  # len(cards): past the last card, every card tagged
        self.mode = "verdict"  # verdict | reason | note
        self.pending: list[Pressed] = []  # pressed, not yet written, in order
        self._writing = False
        self._keep_place = False
        self._message = ""
        self._texts: dict[int, RenderableType] = {}  # each card's text, read ahead so a press never waits for it

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
        untagged_here = sum(1 for c in self.cards if c.state == jobs.PRINTED and not self._is_pending(c))
        if self.is_current and not self.pending and live.untagged != untagged_here:
            self.run_worker(partial(self._load, start_at_first_untagged=False), group="load", exclusive=True)  # type: ignore[arg-type]  # Textual's WorkType

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
        at_end = self.cards and self.index >= len(self.cards)
        self.cards = tagged + waiting + [c for c in fresh if c.id not in known]
        if start_at_first_untagged or current is None or at_end:
            self.index = self._first_untagged(0)
        else:
            self.index = next((i for i, c in enumerate(self.cards) if c.id == current.id), self._first_untagged(0))
        await self._show()

    def current(self) -> Job | None:
        return self.cards[self.index] if 0 <= self.index < len(self.cards) else None

    def _is_pending(self, job: Job) -> bool:
        return any(pressed.id == job.id for pressed, *_ in self.pending)

    def _first_untagged(self, start: int) -> int:
        """The first card from `start` on (then from the beginning) still to tag; len(cards) when none is."""
        order = list(range(start, len(self.cards))) + list(range(min(start, len(self.cards))))
        return next((i for i in order if self.cards[i].state == jobs.PRINTED and not self._is_pending(self.cards[i])),
                    len(self.cards))  # fmt: skip

    async def _show(self) -> None:
        job = self.current()
        if job is not None and job.id not in self._texts:
            self._texts[job.id] = await self._card(job)
        self._draw()
        await self._read_ahead()

    def _draw(self) -> None:
        """The card at the index, at once: its text was read ahead."""
        job = self.current()
        panel = self.query_one("#card-panel", Static)
        untagged = sum(1 for c in self.cards if c.state == jobs.PRINTED and not self._is_pending(c))
        if job is None:
            self._retitle(t("ui.tag.title_done" if self.cards else "ui.tag.title_empty"))
            panel.update(Text(t("ui.tag.all_done" if self.cards else "ui.tag.none")))
        else:
            self._retitle(t("ui.tag.title", position=number(self.index + 1), total=number(len(self.cards)),
                            untagged=number(untagged), counter=number(job.card_counter)))  # fmt: skip
            text = self._texts.get(job.id)
            panel.update(text if text is not None else Text(t("ui.tag.reading", counter=number(job.card_counter))))
        self._show_prompt()

    async def _read_ahead(self) -> None:
        """The text of the next cards to tag, so that the next press shows its card without waiting."""
        ahead = [c for c in self.cards[self.index :] if c.state == jobs.PRINTED and c.id not in self._texts][
            :READ_AHEAD
        ]
        for job in ahead:
            self._texts[job.id] = await self._card(job)

    def _retitle(self, text: str) -> None:
        self.query_one(TitleBar).set_title(text)

    async def _card(self, job: Job) -> RenderableType:
        assert self.station is not None
        resident = await get_resident(self.station.store, job.nik)
        if resident is None:
            return Text(t("ui.tag.no_record", nik=job.nik))
        printed = local(job.printed_at or self.station.clock()).date()  # the day on the card: the station's
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
            pending = self._is_pending(job)
            words = t("ui.verdict.being_written") if pending else verdict_words(job)
            lines.append(words, style="bold reverse" if job.state == jobs.DONE_BAD else "bold")
            lines.append("\n")
            if self.mode == "verdict":
                lines.append(t("ui.tag.ask"))
            elif self.mode == "reason":
                lines.append(t("ui.tag.reasons"))
            else:
                lines.append(t("ui.tag.note_ask"))
        else:
            lines.append(t("ui.tag.nothing"))
        self.query_one("#tag-prompt", Static).update(lines)
        self.query_one("#tag-message", Static).update(self._message)
        self.refresh_bindings()

    # ------------------------------------------------------------------------------------------ the keys

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("good", "bad", "step", "later", "next_untagged"):
            return self.mode == "verdict"
        if action == "reason":
            return self.mode == "reason"
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

    def _refuse(self, key_name: str) -> bool:
        """A press with no card to act on is said, never swallowed."""
        if self.current() is not None:
            return False
        self._message = t("ui.tag.no_card", key=key_name)
        self._show_prompt()
        return True

    def action_good(self) -> None:
        if not self._refuse("B"):
            self._tag(True)

    def action_bad(self) -> None:
        if self._refuse("R"):
            return
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
            self.index = min(max(self.index + step, 0), len(self.cards))
            self._message = ""
            self.run_worker(self._show, group="show", exclusive=True)  # type: ignore[arg-type]  # Textual's WorkType

    def action_next_untagged(self) -> None:
        start = self.index + 1 if self.current() is not None else 0
        self.index = self._first_untagged(start)
        self._message = "" if self.current() is not None else t("ui.tag.all_done")
        self.run_worker(self._show, group="show", exclusive=True)  # type: ignore[arg-type]  # Textual's WorkType

    def action_later(self) -> None:
        self.station_app.action_open("dashboard")

    def action_cancel(self) -> None:
        self._message = ""
        self._set_mode("verdict")

    def _tag(self, good: bool, reason: str | None = None, note: str | None = None) -> None:
        """The press acts on the card shown: it is written in the order pressed, and the next card shows at once."""
        job = self.current()
        if job is None:
            self._refuse("B" if good else "R")
            return
        if self.station is None:
            return
        if self._is_pending(job):  # pressed already, being written: a second tag would be a correction
            self._message = t("ui.tag.being_written", counter=number(job.card_counter))
            self._show_prompt()
            return
        if job.state != jobs.PRINTED:  # a correction, the card out of the hopper: a supervisor's step
            as_supervisor(self.app, self.station.store, "tag_correction",
                          partial(self._start_tag, job, good, reason, note), self._refused)  # fmt: skip
            self._keep_place = self.app.screen is not self  # back from the supervisor's sign-in: on this card
            return
        self._start_tag(job, good, reason, note)

    def _start_tag(self, job: Job, good: bool, reason: str | None, note: str | None, actor: str | None = None) -> None:
        self.pending.append((job, good, reason, note, actor))
        self._message = t(
            "ui.tag.pressed",
            counter=number(job.card_counter),
            verdict=t("ui.verdict.good") if good else t("ui.verdict.bad_reason", reason=reason),
        )
        place = next((i for i, c in enumerate(self.cards) if c.id == job.id), self.index)  # the list may have
        self.index = self._first_untagged(place + 1)  # been loaded again meanwhile (back from the sign-in)
        self._set_mode("verdict")
        self._draw()
        self.run_worker(self._read_ahead, group="show", exclusive=True)  # type: ignore[arg-type]  # Textual's WorkType
        if not self._writing:
            self._writing = True
            self.run_worker(self._write_tags, group="tag")  # type: ignore[arg-type]  # Textual's WorkType

    def _refused(self, why: str) -> None:
        self._message = t("ui.tag.refused", why=why)
        self._set_mode("verdict")

    async def _write_tags(self) -> None:
        """One writer: each press's tag goes to the database in the order the keys came."""
        assert self.station is not None
        try:
            while self.pending:
                job, good, reason, note, actor = self.pending[0]
                try:
                    tagged = await self.station.tag(job, good, reason, note, actor=actor)
                except StationError as exc:
                    self.pending.clear()  # the presses after it were meant for the cards after it: ask again
                    self.index = next((i for i, c in enumerate(self.cards) if c.id == job.id), self.index)
                    self._message = t("ui.tag.refused", why=advised(exc, CONSOLE))
                    await self._show()
                    return
                self.pending.pop(0)
                for i, c in enumerate(self.cards):
                    if c.id == tagged.id:
                        self.cards[i] = tagged
                if not self.pending:
                    self._message = t("ui.tag.done", counter=number(tagged.card_counter),
                                      verdict=verdict_words(tagged))  # fmt: skip
                    if self.current() is None:
                        self._message += " " + t("ui.tag.all_done")
                self._draw()
        finally:
            self._writing = False
            self.station_app.request_refresh()


def verdict_words(job: Job) -> str:
    if job.state == jobs.DONE_GOOD:
        return t("ui.verdict.good")
    if job.state == jobs.DONE_BAD:
        note = f" — {job.tag_note}" if job.tag_reason == "lainnya" and job.tag_note else ""
        return t("ui.verdict.bad_reason", reason=job.tag_reason or "-") + note
    return t("ui.verdict.untagged")
