"""The running emulator: the machine model with its time, its link, its state file, output log and pictures.

Lives on one asyncio loop; every method is called on that loop. Commands are executed one at a time; a hand on
the machine (the control socket, the Python object) acts at once, between two commands or during a motion.
What a command changed is durable (state file, then output log, then pictures) before its reply is returned.
"""

from __future__ import annotations

import asyncio
import logging
import math
import secrets
import time
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from drivers import protocol as p
from drivers.emulator.cards import write_card_png
from drivers.emulator.faults import FaultPlan, parse_faults
from drivers.emulator.model import Machine, MachineOptions, Outcome
from drivers.emulator.outlog import OutputLog, now_iso
from drivers.emulator.state import EmulatorStateError, StateFile

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EmulatorOptions:
    feeder: int = 500  # blanks in the feeder at first start (a state file, when it exists, says how many are left)
    time_scale: float = 1.0  # 1.0: a real printer's pace; 0: instant
    faults: str = ""  # as `--faults`
    seed: int | None = None
    baud: int | None = None  # None: the link is as fast as the pseudo-terminal or socket
    state: Path | None = None
    log: Path | None = None
    cards: Path | None = None
    serial: str | None = None  # for a new printer; None: a random one
    model: str | None = None
    ribbon_prints: int = 600
    hopper_capacity: int | None = None
    drop_s: float = 3.0
    frame_timeout_s: float = 5.0  # a command left incomplete this long is thrown away

    def __post_init__(self) -> None:
        for name in ("time_scale", "drop_s", "frame_timeout_s"):
            value = getattr(self, name)
            if not math.isfinite(value):  # nan slips through every comparison below; inf never ends a wait
                raise ValueError(f"{name} must be a finite number, not {value}")
        if self.feeder < 0:
            raise ValueError(f"feeder must be 0 or more, not {self.feeder}")
        if self.time_scale < 0:
            raise ValueError(f"time_scale must be 0 or more, not {self.time_scale}")
        if self.baud is not None and self.baud <= 0:
            raise ValueError(f"baud must be positive, not {self.baud}")
        if self.ribbon_prints < 0 or self.drop_s < 0 or self.frame_timeout_s <= 0:
            raise ValueError("ribbon_prints and drop_s must be 0 or more, frame_timeout_s positive")
        if self.hopper_capacity is not None and self.hopper_capacity < 1:
            raise ValueError(f"hopper_capacity must be at least 1, not {self.hopper_capacity}")
        parse_faults(self.faults)  # a bad spec is refused here, before anything starts (FaultSpecError)

    @classmethod
    def build(cls, **options: Any) -> EmulatorOptions:
        known = {f.name for f in fields(cls)}
        unknown = set(options) - known
        if unknown:
            raise TypeError(
                f"unknown emulator options: {', '.join(sorted(unknown))}; known: {', '.join(sorted(known))}"
            )
        for name in ("state", "log", "cards"):
            if options.get(name) is not None:
                options[name] = Path(options[name])
        return cls(**options)


class Emulator:
    def __init__(self, options: EmulatorOptions) -> None:
        self.options = options
        plan = FaultPlan.from_spec(options.faults, options.seed)
        self._state = StateFile(options.state) if options.state else None
        saved = self._state.load() if self._state else None
        machine_options = MachineOptions(
            serial=options.serial or f"EMU{secrets.randbelow(10**7):07d}",
            model=options.model or MachineOptions.model,
            feeder=options.feeder,
            ribbon_prints=options.ribbon_prints,
            hopper_capacity=options.hopper_capacity,
            drop_s=options.drop_s,
        )
        try:
            self.machine = Machine(machine_options, plan, saved)
        except (ValueError, TypeError) as exc:
            assert self._state is not None  # only a saved state can be refused
            raise EmulatorStateError(self._state.path, f"is not an emulator state: {exc}") from None
        self._log = OutputLog(options.log) if options.log else None
        try:
            self._recover(saved or {})
        except BaseException:
            self.close()
            raise
        self._lock = asyncio.Lock()
        self.plugged = True
        self._down_until = 0.0

    def _recover(self, saved: dict[str, Any]) -> None:
        """Finish what a crash interrupted: log lines saved as pending but maybe not yet in the log."""
        if self._log is not None:
            for record in saved.get("pending_log") or []:
                self._log.append(record)
            self.machine.seq = max(self.machine.seq, self._log.last_seq)
        self._persist([])

    # ------------------------------------------------------------------------------------------ the link

    @property
    def link_up(self) -> bool:
        return self.plugged and time.monotonic() >= self._down_until

    def unplug(self) -> None:
        self.plugged = False

    def plug(self) -> None:
        self.plugged = True
        self._down_until = 0.0

    async def execute(self, event: p.Command | p.BadFrame) -> bytes | None:
        """Run one command: the machine acts, the result is made durable, the motion takes its time."""
        async with self._lock:
            outcome = self.machine.handle(event)
            self._commit(outcome)
            if outcome.link_down_s:
                self._down_until = time.monotonic() + outcome.link_down_s
            if outcome.seconds and self.options.time_scale:
                await asyncio.sleep(outcome.seconds * self.options.time_scale)
            return outcome.reply if self.link_up else None

    # ------------------------------------------------------------------------------------------ hands on the machine

    def load(self, count: int) -> None:
        self._commit(self.machine.load(count))

    def open_cover(self) -> None:
        self._commit(self.machine.open_cover())

    def close_cover(self) -> None:
        self._commit(self.machine.close_cover())

    def jam(self) -> None:
        self._commit(self.machine.jam())

    def clear(self) -> None:
        self._commit(self.machine.clear())

    def empty_hopper(self) -> None:
        self._commit(self.machine.empty_hopper())

    def new_ribbon(self, prints: int | None = None) -> None:
        self._commit(self.machine.new_ribbon(prints))

    def clean(self) -> None:
        self._commit(self.machine.clean())

    def inject(self, kind: str) -> None:
        self._commit(self.machine.arm(kind))

    def status(self) -> dict[str, Any]:
        status = self.machine.status()
        status["plugged"] = self.plugged
        status["link_up"] = self.link_up
        return status

    # ------------------------------------------------------------------------------------------ durability

    def _commit(self, outcome: Outcome) -> None:
        records = [dict(record, t=now_iso()) for record in outcome.departures]
        if outcome.changed or records:
            self._persist(records)
        if self._log is not None:
            for record in records:
                self._log.append(record)
        if self.options.cards is not None:
            for printed in outcome.printed:
                try:
                    write_card_png(self.options.cards, printed)
                except OSError as exc:  # a picture is for people: the printer goes on without it
                    _log.warning("card picture %s not written: %s", printed.counter, exc)

    def _persist(self, pending: list[dict[str, Any]]) -> None:
        if self._state is not None:
            self._state.save({**self.machine.snapshot(), "pending_log": pending})

    def close(self) -> None:
        if self._log is not None:
            self._log.close()
