"""The card printer as a pure machine: one command in; the reply, the motion time and what left the machine out.

No I/O and no clock: the servers wait the time the machine says, write down what it says left, and persist
its `snapshot()`. Fault semantics are documented, command by command, in docs/emulator.md.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from drivers import protocol as p
from drivers.emulator.faults import MEETS, FaultPlan

STATE_VERSION = 1

# Seconds at a real printer's pace (time scale 1.0): a `ko` card is 1.5 + 4.5 + 4.5 + 1.5 = 12 s, a `ymcko`
# card 1.5 + 3 × 6 + 2 × 4.5 + 1.5 = 30 s.
FEED_S = 1.5
EJECT_S = 1.5
REJECT_S = 1.5
RESET_S = 2.0
PANEL_S = {"y": 6.0, "m": 6.0, "c": 6.0, "k": 4.5, "o": 4.5}
DEFAULT_PANEL_S = 4.5

# Ribbon types of the programming guide (`Pr`), and the panels one card uses on each.
RIBBON_PANELS = {
    "ymcko": "ymcko", "ymckos": "ymcko", "ymckok": "ymckok", "ko": "ko",
    "kb": "k", "kw": "k", "kr": "k", "kbl": "k", "kgr": "k", "kgo": "k", "ksi": "k", "ksc": "k", "Ka": "k",
    "h": "h", "ho": "h", "Ktc": "k", "Ktp": "k",
}  # fmt: skip
ERROR_MODES = ("0", "1", "2", "3", "4", "5", "16", "18")
INSERTION_MODES = ("F", "M", "B")

# A latched fault and the motion commands it answers until it is cleared.
CONCERNS = {
    p.CARD_JAM: ("Ss", "Se", "Ser", "Srs"),
    p.ERROR_TIME_OUT: ("Ss", "Se"),
    p.ERROR_HEAD: ("Ss", "Se"),
    p.HOPPER_FULL: ("Ss", "Se"),
    p.FEEDER_EMPTY: ("Ss",),
    p.NEED_CLEANING: ("Ss", "Se"),
}
SURVIVES_RESET = (p.CARD_JAM, p.NEED_CLEANING)  # a stuck card needs hands; cleaning needs a cleaning card

_NIK = re.compile(r"(?<![0-9])[0-9]{16}(?![0-9])")
_NUMBER = re.compile(r"[0-9]{1,6}")


class HandRefused(ValueError):
    """A hand on the machine that its state does not allow (`clear` with no jam): nothing was done."""


def command_decoder() -> p.CommandDecoder:
    """The printer's ear: protocol.py's framing, refusing at its header a `Dbc` longer than a panel can take."""
    return p.CommandDecoder(max_dbc_payload=p.MAX_DBC_PAYLOAD)


@dataclass(frozen=True)
class MachineOptions:
    serial: str = "EMU0000001"
    model: str = "Evolis Primacy (emulated)"
    firmware: str = "1.7.2"
    feeder: int = 500  # blanks in the feeder of a new printer
    ribbon_prints: int = 600  # cards a new ribbon prints
    hopper_capacity: int | None = None  # cards the output hopper holds; None: never full by itself
    drop_s: float = 3.0  # how long the link stays dead after a `drop` fault (real seconds, not scaled)


@dataclass(frozen=True)
class TextItem:
    x: int
    y: int
    font: int
    height: int
    text: str


@dataclass(frozen=True)
class PrintedCard:
    """What the head put on a card's front: the black-panel bitmap and the texts."""

    counter: int
    black: bytes
    texts: tuple[TextItem, ...]


@dataclass(frozen=True)
class Outcome:
    """What one command (or one hand on the machine) did."""

    reply: bytes | None  # encoded, CR-terminated; None: nothing goes back on the wire
    seconds: float = 0.0  # motion time at a real printer's pace
    departures: tuple[dict[str, Any], ...] = ()  # output-log records, without their time `t`
    printed: tuple[PrintedCard, ...] = ()
    link_down_s: float = 0.0
    changed: bool = False  # the state file must be written before the reply goes out


@dataclass
class Card:
    """A card inside the machine."""

    counter: int
    texts: tuple[str, ...] = ()  # printed on it
    panels: tuple[str, ...] = ()  # printed on it
    jammed: bool = False
    fault: str | None = None  # the first fault that struck it; CARD JAM once it jams


@dataclass
class Page:
    """The printer's download memory for the card being made (lost at `Ss`, when a card leaves, at power-off)."""

    black: bytearray = field(default_factory=lambda: bytearray(p.PANEL_BYTES))
    overlay: bytearray = field(default_factory=lambda: bytearray(p.PANEL_BYTES))
    texts: list[TextItem] = field(default_factory=list)
    front: bool = True


class Machine:
    def __init__(self, options: MachineOptions | None = None, plan: FaultPlan | None = None,
                 saved: dict[str, Any] | None = None) -> None:  # fmt: skip
        self.options = options or MachineOptions()
        self.plan = plan or FaultPlan()
        o = self.options
        self.serial, self.model, self.firmware = o.serial, o.model, o.firmware
        self.feeder = o.feeder
        self.ribbon = "ko"
        self.ribbon_left = o.ribbon_prints
        self.cards = 0  # Rco;c
        self.panels = 0  # Rco;p
        self.hopper = 0
        self.reject = 0
        self.cover_open = False
        self.fault: str | None = None  # latched
        self.seq = 0  # output-log lines so far
        self.card: Card | None = None
        self.error_mode = "0"
        self.insertion = "F"
        # Since this start only: not persisted.
        self.fed = 0
        self.drawn_for = 0
        self.armed: list[str] = []
        self.page = Page()
        self._reset_outcome()
        if saved is not None:
            self._restore(saved)

    # ------------------------------------------------------------------------------------------ the wire

    def handle(self, event: p.Command | p.BadFrame) -> Outcome:
        self._reset_outcome()
        if isinstance(event, p.BadFrame):
            reply = p.ERROR_PARAMETRES if event.reason.startswith("payload") else p.ERROR_CDE
        else:
            handler = _COMMANDS.get(event.name)
            reply = handler(self, event) if handler else p.ERROR_CDE
        return self._finish(reply)

    def _reset_outcome(self) -> None:
        self._seconds = 0.0
        self._departures: list[dict[str, Any]] = []
        self._printed: list[PrintedCard] = []
        self._garble = False
        self._drop = False
        self._changed = False

    def _finish(self, reply: str | None) -> Outcome:
        raw = None if reply is None or self._drop else p.encode_reply(reply)
        if raw is not None and self._garble:
            raw = bytes(b | 0x80 for b in raw[:-1]) + raw[-1:]
        return Outcome(raw, self._seconds, tuple(self._departures), tuple(self._printed),
                       self.options.drop_s if self._drop else 0.0, self._changed)  # fmt: skip

    # ------------------------------------------------------------------------------------------ identity, settings

    def _rfv(self, cmd: p.Command) -> str:
        return self.firmware if not cmd.params else p.ERROR_PARAMETRES

    def _rtp(self, cmd: p.Command) -> str:
        return self.model if not cmd.params else p.ERROR_PARAMETRES

    def _rsn(self, cmd: p.Command) -> str:
        return self.serial if not cmd.params else p.ERROR_PARAMETRES

    def _rr(self, cmd: p.Command) -> str:
        return self.ribbon if not cmd.params else p.ERROR_PARAMETRES

    def _pem(self, cmd: p.Command) -> str:
        if not _params_ok(cmd, ERROR_MODES, ("s",)):
            return p.ERROR_PARAMETRES
        self.error_mode = cmd.params[0]
        return p.OK

    def _pmi(self, cmd: p.Command) -> str:
        if not _params_ok(cmd, INSERTION_MODES, ("s",)):
            return p.ERROR_PARAMETRES
        self.insertion = cmd.params[0]
        return p.OK

    def _pr(self, cmd: p.Command) -> str:
        if not _params_ok(cmd, tuple(RIBBON_PANELS), ("0", "1")):
            return p.ERROR_PARAMETRES
        self.ribbon = cmd.params[0]
        self._changed = True
        return p.OK

    def _rlr(self, cmd: p.Command) -> str:
        if cmd.params != ("p",):
            return p.ERROR_PARAMETRES
        return "CARD" if self.card is not None else p.OK

    def _sk(self, cmd: p.Command) -> str:
        if cmd.params != ("f",):
            return p.ERROR_PARAMETRES
        return "1" if self.feeder == 0 or self.fault == p.FEEDER_EMPTY else "0"

    def _rco(self, cmd: p.Command) -> str:
        values = {"c": self.cards, "p": self.panels, "I": self.ribbon_left}
        if len(cmd.params) != 1 or cmd.params[0] not in values:
            return p.ERROR_PARAMETRES
        return str(values[cmd.params[0]])

    # ------------------------------------------------------------------------------------------ downloads

    def _sr(self, cmd: p.Command) -> str:
        return self._side(cmd, front=True)

    def _sv(self, cmd: p.Command) -> str:
        return self._side(cmd, front=False)

    def _side(self, cmd: p.Command, front: bool) -> str:
        if cmd.params:
            return p.ERROR_PARAMETRES
        self.page.front = front  # only the front is pictured
        return p.OK

    def _dbc(self, cmd: p.Command) -> str:
        if cmd.payload is None or len(cmd.params) != 4:
            return p.ERROR_PARAMETRES
        panel, levels, first = cmd.params[0], cmd.params[1], _number(cmd.params[2], 0, p.LINES - 1)
        if panel not in ("k", "o") or levels != "2" or first is None:
            return p.ERROR_PARAMETRES
        lines = p.dbc_lines(cmd.payload, first)
        if lines is None:
            return p.ERROR_PARAMETRES
        start = first * p.BYTES_PER_LINE
        if self.page.front:  # the lines it describes, no more: the rest of the panel keeps what it had
            target = self.page.black if panel == "k" else self.page.overlay
            target[start : start + len(lines)] = lines
        return p.OK

    def _db(self, cmd: p.Command) -> str:
        if cmd.payload is None or len(cmd.params) != 2:
            return p.ERROR_PARAMETRES
        panel = cmd.params[0]
        if self.page.front and panel in ("k", "o"):
            target = self.page.black if panel == "k" else self.page.overlay
            target[:] = cmd.payload
        return p.OK  # colour panels are taken but not pictured

    def _wt(self, cmd: p.Command) -> str:
        if len(cmd.params) != 5:
            return p.ERROR_PARAMETRES
        x, y = _number(cmd.params[0], 0, p.LINES - 1), _number(cmd.params[1], 0, p.DOTS_PER_LINE - 1)
        font, height = _number(cmd.params[2], 0, 1), _number(cmd.params[3], 1, p.DOTS_PER_LINE)
        text = cmd.params[4]
        if x is None or y is None or font is None or height is None or any(ord(c) < 0x20 for c in text):
            return p.ERROR_PARAMETRES
        if self.page.front:
            self.page.texts.append(TextItem(x, y, font, height, text))
        return p.OK

    def _wcb(self, cmd: p.Command) -> str:
        if len(cmd.params) not in (1, 2) or cmd.params[0] not in ("y", "m", "c", "k", "o", "a"):
            return p.ERROR_PARAMETRES
        value = _number(cmd.params[1], 0, 255) if len(cmd.params) == 2 else 0
        if value is None:
            return p.ERROR_PARAMETRES
        panel = cmd.params[0]
        if self.page.front and panel in ("k", "a"):
            self.page.black[:] = bytes([value]) * p.PANEL_BYTES
            self.page.texts.clear()
        if self.page.front and panel in ("o", "a"):
            self.page.overlay[:] = bytes([value]) * p.PANEL_BYTES
        return p.OK

    # ------------------------------------------------------------------------------------------ motion

    def _blocked(self, command: str) -> str | None:
        if self.fault is not None and command in CONCERNS[self.fault]:
            return self.fault
        if self.cover_open:
            return p.COVER_OPEN
        if self.ribbon_left == 0 and command in ("Ss", "Se"):
            return p.ERROR_RIBBON  # a standing condition, until a new ribbon goes in
        return None

    def _refused(self, cmd: p.Command) -> str | None:
        """Why a motion command that takes no parameters cannot run now, if it cannot."""
        if cmd.params:
            return p.ERROR_PARAMETRES
        return self._blocked(cmd.name)

    def _ss(self, cmd: p.Command) -> str:
        refused = self._refused(cmd)
        if refused:
            return refused
        if self.card is not None:
            return p.ERROR_PARAMETRES  # a card is already inside: the host must eject or reject it first
        number = self.fed + 1
        if self.drawn_for < number:
            self.drawn_for = number
            self.armed.extend(self.plan.for_card(number))
        if self._take_armed(("garble",)):
            self._garble = True
        kind = self._take_armed(("feeder_empty", "cleaning"))
        if kind:
            return self._latch(p.FEEDER_EMPTY if kind == "feeder_empty" else p.NEED_CLEANING)
        if self.feeder == 0:
            return p.FEEDER_EMPTY
        self.feeder -= 1
        self.cards += 1
        self.fed += 1
        self.card = Card(self.cards)
        self.page = Page()
        self._seconds += FEED_S
        self._changed = True
        if self._take_armed(("timeout",)):
            self._seconds += FEED_S
            self.card.fault = p.ERROR_TIME_OUT
            return self._latch(p.ERROR_TIME_OUT)
        return p.OK

    def _se(self, cmd: p.Command) -> str:
        if cmd.params:
            return p.ERROR_PARAMETRES
        blocked = self._blocked("Se")
        if blocked:
            return self._strike(self.card, blocked) if self.card else blocked
        card = self.card
        if card is None:
            return p.ERROR_PARAMETRES  # no card inside to print
        kind = self._take_armed(tuple(k for k, meets in MEETS.items() if meets == "Se"))
        if kind == "cover_open":
            self.cover_open = True
            self._changed = True
            return self._strike(card, p.COVER_OPEN)
        if kind == "ribbon_end":
            self.ribbon_left = 0
            self._changed = True
            return self._strike(card, p.ERROR_RIBBON)
        if kind == "head":
            return self._strike(card, self._latch(p.ERROR_HEAD))
        if kind == "hopper_full" or (self.options.hopper_capacity is not None
                                     and self.hopper >= self.options.hopper_capacity):  # fmt: skip
            return self._strike(card, self._latch(p.HOPPER_FULL))
        self._print(card)
        if kind == "jam":
            self._seconds += EJECT_S / 2
            return self._jam(card)
        self._seconds += EJECT_S
        self.hopper += 1
        self._depart("hopper")
        self._drop = kind == "drop"
        return p.OK

    def _ser(self, cmd: p.Command) -> str:
        refused = self._refused(cmd)
        if refused:
            return refused
        self._reject_card()
        return p.OK

    def _srs(self, cmd: p.Command) -> str:
        refused = self._refused(cmd)
        if refused:
            return refused
        self._seconds += RESET_S
        if self.fault not in SURVIVES_RESET:
            self.fault = None
        self._reject_card()
        self._changed = True
        return p.OK

    def _reject_card(self) -> None:
        """The card inside, if any, goes to the reject box."""
        if self.card is not None:
            self._seconds += REJECT_S
            self.reject += 1
            self._depart("reject")

    def _print(self, card: Card) -> None:
        panels = tuple(RIBBON_PANELS[self.ribbon])
        self._seconds += sum(PANEL_S.get(panel, DEFAULT_PANEL_S) for panel in panels)
        self.panels += len(panels)
        self.ribbon_left -= 1
        card.panels = panels
        card.texts = tuple(item.text for item in self.page.texts)
        self._printed.append(PrintedCard(card.counter, bytes(self.page.black), tuple(self.page.texts)))
        self._changed = True

    def _strike(self, card: Card, fault: str) -> str:
        if card.fault is None:
            card.fault = fault
            self._changed = True
        return fault

    def _jam(self, card: Card) -> str:
        """The card sticks where it is. Its log line must say it jammed, whatever struck it before."""
        card.jammed = True
        card.fault = p.CARD_JAM
        self.fault = p.CARD_JAM  # a jam replaces any latched fault: only hands can free the card
        self._changed = True
        return p.CARD_JAM

    def _latch(self, fault: str) -> str:
        if self.fault != p.CARD_JAM:
            self.fault = fault
        self._changed = True
        return self.fault or fault

    def _take_armed(self, kinds: tuple[str, ...]) -> str | None:
        for kind in self.armed:
            if kind in kinds:
                self.armed.remove(kind)
                return kind
        return None

    def _depart(self, dest: str) -> None:
        card = self.card
        assert card is not None
        self.seq += 1
        self._departures.append({
            "seq": self.seq, "counter": card.counter, "dest": dest, "nik": nik_of(card.texts),
            "texts": list(card.texts), "panels": list(card.panels),
            "fault": None if dest == "hopper" else card.fault,
        })  # fmt: skip
        self.card = None
        self.page = Page()
        self.armed = [kind for kind in self.armed if MEETS[kind] != "Se"]  # they were this card's
        self._changed = True

    # ------------------------------------------------------------------------------------------ hands on the machine

    def load(self, count: int) -> Outcome:
        """Put `count` blanks into the feeder (0 reseats the stack); clears FEEDER EMPTY."""
        if count < 0:
            raise ValueError(f"cannot load {count} blanks")
        self._reset_outcome()
        self.feeder += count
        if self.fault == p.FEEDER_EMPTY:
            self.fault = None
        return self._hands()

    def open_cover(self) -> Outcome:
        self._reset_outcome()
        self.cover_open = True
        return self._hands()

    def close_cover(self) -> Outcome:
        self._reset_outcome()
        self.cover_open = False
        return self._hands()

    def jam(self) -> Outcome:
        """Jam the card inside where it is; with none inside, the next card jams at its `Se`."""
        self._reset_outcome()
        if self.card is None:
            self.armed.append("jam")
        else:
            self._jam(self.card)
        return self._hands()

    def clear(self) -> Outcome:
        """A person takes the jammed card out by hand (logged `removed`), which clears CARD JAM. Anything else
        is refused (HandRefused) and left as it is: a card that is not stuck is the host's to eject or reject."""
        jammed = self.card is not None and self.card.jammed
        if not jammed and self.fault != p.CARD_JAM:
            raise HandRefused("no jammed card to take out: clear acts on a CARD JAM only")
        self._reset_outcome()
        if jammed:
            self._depart("removed")
        self.fault = None
        return self._hands()

    def empty_hopper(self) -> Outcome:
        self._reset_outcome()
        self.hopper = 0
        if self.fault == p.HOPPER_FULL:
            self.fault = None
        return self._hands()

    def new_ribbon(self, prints: int | None = None) -> Outcome:
        self._reset_outcome()
        self.ribbon_left = self.options.ribbon_prints if prints is None else prints
        return self._hands()

    def clean(self) -> Outcome:
        """A cleaning card has been run: clears NEED CLEANING."""
        self._reset_outcome()
        if self.fault == p.NEED_CLEANING:
            self.fault = None
        return self._hands()

    def arm(self, kind: str) -> Outcome:
        """A live fault: it strikes at the next command that meets it (docs/emulator.md)."""
        if kind not in MEETS:
            raise ValueError(f"unknown fault kind {kind!r}")
        self._reset_outcome()
        self.armed.append(kind)
        return self._hands()

    def _hands(self) -> Outcome:
        self._changed = True
        return self._finish(None)

    # ------------------------------------------------------------------------------------------ state

    def status(self) -> dict[str, Any]:
        card = self.card
        return {
            "serial": self.serial, "model": self.model, "firmware": self.firmware,
            "feeder": self.feeder, "ribbon": self.ribbon, "ribbon_left": self.ribbon_left,
            "counters": {"cards": self.cards, "panels": self.panels},
            "card_inside": card is not None,
            "card": None if card is None else {"counter": card.counter, "printed": bool(card.panels),
                                               "jammed": card.jammed, "fault": card.fault},
            "fault": self.standing_fault(),
            "cover": "open" if self.cover_open else "closed",
            "hopper": self.hopper, "reject": self.reject,
            "cards_fed": self.fed, "armed": list(self.armed), "log_seq": self.seq,
        }  # fmt: skip

    def standing_fault(self) -> str | None:
        """The fault the printer stands in: latched, or a condition a hand must change."""
        capacity = self.options.hopper_capacity
        conditions = ((self.cover_open, p.COVER_OPEN), (self.ribbon_left == 0, p.ERROR_RIBBON),
                      (self.feeder == 0, p.FEEDER_EMPTY),
                      (capacity is not None and self.hopper >= capacity, p.HOPPER_FULL))  # fmt: skip
        return self.fault or next((reply for holds, reply in conditions if holds), None)

    def snapshot(self) -> dict[str, Any]:
        card = self.card
        return {
            "version": STATE_VERSION,
            "serial": self.serial, "model": self.model, "firmware": self.firmware,
            "feeder": self.feeder, "ribbon": self.ribbon, "ribbon_left": self.ribbon_left,
            "cards": self.cards, "panels": self.panels, "hopper": self.hopper, "reject": self.reject,
            "cover_open": self.cover_open, "fault": self.fault, "seq": self.seq,
            "error_mode": self.error_mode, "insertion": self.insertion,
            "card": None if card is None else {"counter": card.counter, "texts": list(card.texts),
                                               "panels": list(card.panels), "jammed": card.jammed,
                                               "fault": card.fault},
        }  # fmt: skip

    def _restore(self, saved: dict[str, Any]) -> None:
        """A power cycle: the same printer, counters and card inside; the download memory is gone."""
        if saved.get("version") != STATE_VERSION:
            raise ValueError(f"state version {saved.get('version')!r}, this emulator reads {STATE_VERSION}")
        for name in ("serial", "model", "firmware", "ribbon", "error_mode", "insertion"):
            setattr(self, name, _typed(saved, name, str))
        for name in ("feeder", "ribbon_left", "cards", "panels", "hopper", "reject", "seq"):
            setattr(self, name, _typed(saved, name, int))
        self.cover_open = _typed(saved, "cover_open", bool)
        fault = saved.get("fault")
        if fault is not None and fault not in CONCERNS:
            raise ValueError(f"unknown fault {fault!r}")
        self.fault = fault
        card = saved.get("card")
        if card is not None:
            if not isinstance(card, dict):
                raise ValueError("card must be an object or null")
            texts, panels = _typed(card, "texts", list), _typed(card, "panels", list)
            if not all(isinstance(item, str) for item in texts + panels):
                raise ValueError("card texts and panels must be strings")
            self.card = Card(_typed(card, "counter", int), tuple(texts), tuple(panels), _typed(card, "jammed", bool),
                             card.get("fault"))  # fmt: skip
        if self.ribbon not in RIBBON_PANELS:
            raise ValueError(f"unknown ribbon {self.ribbon!r}")


def nik_of(texts: tuple[str, ...] | list[str]) -> str | None:
    """The first run of exactly 16 digits among a card's texts."""
    for text in texts:
        match = _NIK.search(text)
        if match:
            return match.group()
    return None


def _number(text: str, low: int, high: int) -> int | None:
    if not _NUMBER.fullmatch(text):
        return None
    value = int(text)
    return value if low <= value <= high else None


def _params_ok(cmd: p.Command, first: tuple[str, ...], option: tuple[str, ...]) -> bool:
    if not 1 <= len(cmd.params) <= 2 or cmd.params[0] not in first:
        return False
    return len(cmd.params) == 1 or cmd.params[1] in option


def _typed(saved: dict[str, Any], name: str, kind: type) -> Any:
    value = saved.get(name)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ValueError(f"{name} must be {kind.__name__}, not {value!r}")
    return value


_COMMANDS = {
    "Rfv": Machine._rfv, "Rtp": Machine._rtp, "Rsn": Machine._rsn, "Rr": Machine._rr,
    "Pem": Machine._pem, "Pmi": Machine._pmi, "Pr": Machine._pr,
    "Rlr": Machine._rlr, "Sk": Machine._sk, "Rco": Machine._rco,
    "Sr": Machine._sr, "Sv": Machine._sv,
    "Dbc": Machine._dbc, "Db": Machine._db, "Wt": Machine._wt, "Wcb": Machine._wcb,
    "Ss": Machine._ss, "Se": Machine._se, "Ser": Machine._ser, "Srs": Machine._srs,
}  # fmt: skip
