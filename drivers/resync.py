"""Getting the conversation with the printer back in step, pure: replies in, actions out, no I/O and no clock.

The wire has no sequence numbers, so after anything that may leave a reply on its way (docs/printer.md, "Out of
step") the host sends two probes the printer must refuse, one at a time: an unknown command (`Zsync`, answered
`ERROR CDE`) then, once that is answered, a known one with a bad parameter (`Rco;sync`, answered
`ERROR PARAMETRES`). The printer answers in order, so every reply before that pair was late. A late reply cannot
fake the pair: the only command that can be outstanding is the one that timed out, and its reply is one line. The
first reply of the pair is matched by its end, as garbage without its CR may stick to its front.

`Resync` holds the rules; the driver (`drivers/printer.py`) is the shell that owns the clock and the link. It tells
`Resync` that a probe is due (at the start, and again after silence: probes sent while the link was down are lost),
hands it each reply, and says when a short quiet spell passed; it does what the answers say.
"""

from __future__ import annotations

from dataclasses import dataclass

from drivers import protocol

PROBES = (protocol.encode_command("Zsync"), protocol.encode_command("Rco", "sync"))
PROBE_REPLIES = (protocol.ERROR_CDE, protocol.ERROR_PARAMETRES)

AnyReply = protocol.Reply | protocol.GarbledReply


@dataclass(frozen=True)
class Send:
    """Write this probe now."""

    frame: bytes


@dataclass(frozen=True)
class AwaitQuiet:
    """A pair came in but earlier probes may still be answered: call `quiet()` after a short spell without a byte,
    or go on handing in what arrives."""


@dataclass(frozen=True)
class InStep:
    """In step: the next command may go out. `discarded`: the late lines thrown away."""

    discarded: int


Action = Send | AwaitQuiet | InStep


class Resync:
    """One resynchronisation. `probes_owed`: first probes of an earlier, failed one that may still be answered."""

    def __init__(self, probes_owed: int = 0) -> None:
        self._owed = probes_owed
        self._previous: AnyReply | None = None
        self._second_sent = True  # nothing to follow up until a first probe goes out
        self._discarded = 0
        self._done: InStep | None = None
        self._awaiting_quiet = False

    @property
    def probes_owed(self) -> int:
        """First probes sent and not yet matched by a pair: what a later resynchronisation must still expect."""
        return 0 if self._done else self._owed

    @property
    def in_step(self) -> bool:
        return self._done is not None

    def probe_due(self) -> Send:
        """The start, or silence for a while: send a first probe (again)."""
        self._check_open()
        self._owed += 1
        self._second_sent = False
        return Send(PROBES[0])

    def receive(self, reply: AnyReply) -> Action | None:
        """One reply line (or garbled line) from the printer; None: discarded, keep reading."""
        self._check_open()
        self._awaiting_quiet = False
        if _is_pair(self._previous, reply):
            self._owed -= 1
            self._previous = None
            if self._owed <= 0:
                return self._finish()
            self._awaiting_quiet = True
            return AwaitQuiet()
        if self._previous is not None:
            self._discarded += 1
        self._previous = reply
        if not self._second_sent and _ends_with(reply, PROBE_REPLIES[0]):
            self._second_sent = True  # one at a time, as ever: the second probe goes once the first is answered
            return Send(PROBES[1])
        return None

    def quiet(self) -> InStep:
        """Nothing arrived for the quiet spell after a pair: no earlier probe is still being answered."""
        self._check_open()
        if not self._awaiting_quiet:
            raise RuntimeError("quiet() answers AwaitQuiet, and nothing arrived since")
        return self._finish()

    def _finish(self) -> InStep:
        self._done = InStep(self._discarded)
        return self._done

    def _check_open(self) -> None:
        if self._done is not None:
            raise RuntimeError("this resynchronisation is over")


def _is_pair(first: AnyReply | None, second: AnyReply) -> bool:
    return (first is not None and _ends_with(first, PROBE_REPLIES[0])
            and isinstance(second, protocol.Reply) and second.text == PROBE_REPLIES[1])  # fmt: skip


def _ends_with(reply: AnyReply, text: str) -> bool:
    data = reply.text.encode("latin-1") if isinstance(reply, protocol.Reply) else reply.data
    return data.endswith(text.encode("ascii"))
