"""The emulator's scripted faults: the `--faults` spec and the seeded plan that fires them card by card.

A spec is a comma-separated list of items, each `KIND@N` (on the Nth card fed since the emulator started) or
`KIND~P` (on each card with probability P). The plan is drawn once per card, in order, so a seed replays the
same faults on the same cards.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

# Each kind, and the motion command that meets it (docs/emulator.md, "Faults").
MEETS = {
    "feeder_empty": "Ss",
    "timeout": "Ss",
    "garble": "Ss",
    "cleaning": "Ss",
    "cover_open": "Se",
    "ribbon_end": "Se",
    "hopper_full": "Se",
    "head": "Se",
    "jam": "Se",
    "drop": "Se",
}
KINDS = tuple(MEETS)

_ITEM = re.compile(r"(?P<kind>[a-z_]+)(?P<op>[@~])(?P<value>.*)\Z")


class FaultSpecError(ValueError):
    """A `--faults` item that cannot be read: `position` (from 1) and `item` say which, `why` is a short code
    (`empty`, `syntax`, `unknown_kind`, `bad_card`, `bad_probability`) and the message says it in words."""

    def __init__(self, item: str, why: str, detail: str, position: int = 0) -> None:
        super().__init__(f"fault item {position} {item!r}: {detail}")
        self.item = item
        self.why = why
        self.position = position


@dataclass(frozen=True)
class FaultRule:
    kind: str
    card: int | None = None  # KIND@N
    probability: float | None = None  # KIND~P


def parse_faults(spec: str) -> tuple[FaultRule, ...]:
    """Read a spec such as `jam@3,garble~0.05`. The empty spec is no fault at all."""
    if not spec.strip():
        return ()
    rules = []
    for position, item in enumerate(spec.split(","), start=1):
        try:
            rules.append(_parse_item(item.strip()))
        except FaultSpecError as exc:
            raise FaultSpecError(exc.item, exc.why, str(exc).partition(": ")[2], position) from None
    return tuple(rules)


def _parse_item(item: str) -> FaultRule:
    if not item:
        raise FaultSpecError(item, "empty", "an empty item (two commas, or a comma at an end)")
    match = _ITEM.match(item)
    if match is None:
        raise FaultSpecError(item, "syntax", "expected KIND@N or KIND~P")
    kind, op, value = match["kind"], match["op"], match["value"]
    if kind not in MEETS:
        raise FaultSpecError(item, "unknown_kind", f"unknown kind {kind!r}; known: {', '.join(KINDS)}")
    ascii_only = value.isascii()  # `²` passes str.isdigit but not int(); float() takes `١`: neither is meant
    if op == "@":
        if not (ascii_only and value.isdigit()) or int(value) < 1:
            raise FaultSpecError(item, "bad_card", f"the card number must be a whole number from 1, not {value!r}")
        return FaultRule(kind, card=int(value))
    try:
        probability = float(value) if ascii_only else -1.0
    except ValueError:
        probability = -1.0
    if not 0.0 <= probability <= 1.0:
        raise FaultSpecError(item, "bad_probability", f"the probability must be between 0 and 1, not {value!r}")
    return FaultRule(kind, probability=probability)


class FaultPlan:
    """Which faults strike which card. `for_card(n)` must be asked once per card, n = 1, 2, 3, …"""

    def __init__(self, rules: tuple[FaultRule, ...] = (), seed: int | None = None) -> None:
        self.rules = rules
        self._random = random.Random(seed)

    @classmethod
    def from_spec(cls, spec: str, seed: int | None = None) -> FaultPlan:
        return cls(parse_faults(spec), seed)

    def for_card(self, number: int) -> list[str]:
        kinds = []
        for rule in self.rules:
            if rule.card is not None:
                hit = rule.card == number
            else:
                hit = self._random.random() < (rule.probability or 0.0)
            if hit and rule.kind not in kinds:
                kinds.append(rule.kind)
        return kinds
