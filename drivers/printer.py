"""The card printer, as the station sees it: one command, its one reply, typed faults.

Every exchange holds one lock, so no command ever goes out before the reply to the one before. A command that failed
is reported and never re-sent (an `Ss` sent twice could spend two blanks).

Out of step. After a reply time-out, a garbled or unexpected reply, a cancelled exchange, bytes that arrived when no
command was waiting, a reconnect, or at open, a late reply may still be on its way. Before the next command the
driver drops what has arrived and resynchronises: the rules are `drivers/resync.py` (pure); this is their shell,
which owns the clock and the link. A first probe goes out at the start and again every tenth of the reply time-out
(0.5 to 5 s) without a reply, as probes lost while the link was down get no answer; after a pair that may not be the
last one owed, a quiet spell of SYNC_QUIET decides. A resynchronisation that gets no pair within the reply time-out
raises ReplyTimeout (`sent` False: the command was not sent) and the next command tries again.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

import structlog

from drivers import protocol, resync
from drivers.faults import GarbledReply, LinkLost, PrinterFault, ReplyTimeout, fault_from_reply
from drivers.transport import SerialLink

log = structlog.get_logger("drivers.printer")

SYNC_QUIET = 0.2  # seconds without a byte after the pair, when older probes may still be answered
# A frame cut by an owner that died leaves the printer counting payload bytes; it drops the frame after this long
# without a byte (the emulator's frame time-out). Probes re-sent sooner would keep it counting for ever.
CUT_FRAME_DROPPED_S = 6.0
# The commands that move a card (and answer once the motion is done, up to `reply_timeout`). Every other command
# (a question, a setting, a bitmap, a probe) is answered at once: silence past QUERY_TIMEOUT_S is a printer that
# does not answer (link pulled, printer off), told within seconds rather than after a card's longest motion.
MOTIONS = frozenset({"Ss", "Sr", "Se", "Ser", "Srs"})
QUERY_TIMEOUT_S = 3.0

CARD_POSITIONS = ("CARD", "SMART CARD", "CONTACTLESS CARD")
FRONT_COMMANDS = ("Dbc", "Db", "Wt", "Wcb")  # what may go between Sr and Se


@dataclass(frozen=True)
class PrinterInfo:
    model: str
    serial: str
    firmware: str


@dataclass(frozen=True)
class Awaited:
    """A reply the driver is waiting for: to which command, since when (`time.monotonic()`), for how long at most
    before it gives up (ReplyTimeout)."""

    command: str
    since: float
    timeout: float

    def waited(self, now: float | None = None) -> float:
        return (time.monotonic() if now is None else now) - self.since


@dataclass(frozen=True)
class PrinterStatus:
    card_inside: str | None  # None (Rlr;p said OK) or "CARD" / "SMART CARD" / "CONTACTLESS CARD"
    feeder_empty: bool
    cards_counter: int
    panels_counter: int
    ribbon_left: int
    ribbon: str


class Printer:
    """An open printer. `await Printer.open(port)`; close with `close()` or `async with`."""

    def __init__(self, link: SerialLink, *, reply_timeout: float) -> None:
        self._link = link
        self._reply_timeout = reply_timeout
        self._lock = asyncio.Lock()
        self._decoder = protocol.ReplyDecoder()
        self._replies: deque[protocol.Reply | protocol.GarbledReply] = deque()
        self._out_of_step = True  # a previous owner of the port may have left a reply on its way
        self._probes_owed = 0
        self._cut_tail = 0  # payload bytes the printer still expects from a frame cut short
        self._closed = False
        self.awaiting: Awaited | None = None  # the reply being waited for now, for a screen to count the seconds
        # Until when the printer may still be busy with a motion that got no reply (it answers nothing meanwhile):
        # at open a previous owner may have left one running.
        self._busy_until = time.monotonic() + reply_timeout

    @classmethod
    async def open(cls, port: str, *, baudrate: int = 115200, reply_timeout: float = 30.0) -> Printer:
        if reply_timeout <= 0:
            raise ValueError(f"reply_timeout must be positive, not {reply_timeout}")
        link = await SerialLink.open(port, baudrate=baudrate)
        return cls(link, reply_timeout=reply_timeout)

    @property
    def port(self) -> str:
        return self._link.port

    async def close(self) -> None:
        self._closed = True
        await self._link.close()

    async def __aenter__(self) -> Printer:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def reconnect(self) -> None:
        """Reopen the port (after LinkLost, or to start afresh). The next command resynchronises first."""
        async with self._lock:
            self._closed = False
            await self._link.reconnect()
            self._forget_input()
            self._out_of_step = True
            log.debug("printer.reconnect", port=self.port)

    # ------------------------------------------------------------------------------------------ generic

    async def command(self, name: str, *params: object, payload: bytes | None = None) -> str:
        """Send one command and return its reply. A fault reply raises its PrinterFault."""
        frame = protocol.encode_command(name, *params, payload=payload)
        async with self._lock:
            return await self._exchange(frame)

    async def send_raw(self, frame: bytes) -> str:
        """Send one already encoded command (from the card layout), under the same rules as `command`."""
        protocol.command_name(frame)  # EncodeError if it is not one
        async with self._lock:
            return await self._exchange(frame)

    # ---------------------------------------------------------------------------------------- typed calls

    async def identify(self) -> PrinterInfo:
        async with self._lock:
            firmware = await self._exchange(protocol.encode_command("Rfv"))
            model = await self._exchange(protocol.encode_command("Rtp"))
            serial = await self._exchange(protocol.encode_command("Rsn"))
        return PrinterInfo(model=model, serial=serial, firmware=firmware)

    async def setup(self, ribbon: str) -> None:
        if ribbon not in protocol.RIBBONS:
            raise ValueError(f"ribbon must be one of {', '.join(protocol.RIBBONS)}, not {ribbon!r}")
        async with self._lock:
            for frame in (
                protocol.encode_command("Pem", 2),
                protocol.encode_command("Pmi", "F"),
                protocol.encode_command("Pr", ribbon),
            ):
                self._expect_ok(frame, await self._exchange(frame))

    async def status(self) -> PrinterStatus:
        async with self._lock:
            card = await self._card_position()
            feeder = await self._read_value(protocol.encode_command("Sk", "f"), ("0", "1", "2", "3"))
            cards = await self._read_int(protocol.encode_command("Rco", "c"))
            panels = await self._read_int(protocol.encode_command("Rco", "p"))
            ribbon_left = await self._read_int(protocol.encode_command("Rco", "I"))
            ribbon = await self._exchange(protocol.encode_command("Rr"))
        return PrinterStatus(
            card_inside=card,
            feeder_empty=feeder != "0",
            cards_counter=cards,
            panels_counter=panels,
            ribbon_left=ribbon_left,
            ribbon=ribbon,
        )

    async def card_counter(self) -> int:
        async with self._lock:
            return await self._read_int(protocol.encode_command("Rco", "c"))

    async def card_position(self) -> str | None:
        async with self._lock:
            return await self._card_position()

    async def take_blank(self) -> None:
        await self._simple("Ss")

    async def print_front(self, frames: Sequence[bytes]) -> None:
        """Sr, the frames (Dbc/Db/Wt/Wcb, checked before anything is sent), Se. Stops at the first fault."""
        frames = list(frames)
        for frame in frames:
            name = protocol.command_name(frame)
            if name not in FRONT_COMMANDS:
                allowed = ", ".join(FRONT_COMMANDS)
                raise protocol.EncodeError(f"{name} cannot be part of a card's front (only {allowed})")
        async with self._lock:
            for frame in (protocol.encode_command("Sr"), *frames, protocol.encode_command("Se")):
                self._expect_ok(frame, await self._exchange(frame))

    async def reject(self) -> None:
        await self._simple("Ser")

    async def reset(self) -> None:
        await self._simple("Srs")

    async def _simple(self, name: str) -> None:
        frame = protocol.encode_command(name)
        async with self._lock:
            self._expect_ok(frame, await self._exchange(frame))

    async def _card_position(self) -> str | None:
        reply = await self._read_value(protocol.encode_command("Rlr", "p"), (protocol.OK, *CARD_POSITIONS))
        return None if reply == protocol.OK else reply

    async def _read_int(self, frame: bytes) -> int:
        reply = await self._exchange(frame)
        if not (reply.isascii() and reply.isdigit()):
            raise self._unexpected(frame, reply, "a decimal number")
        return int(reply)

    async def _read_value(self, frame: bytes, allowed: Sequence[str]) -> str:
        reply = await self._exchange(frame)
        if reply not in allowed:
            raise self._unexpected(frame, reply, " or ".join(allowed))
        return reply

    def _expect_ok(self, frame: bytes, reply: str) -> None:
        if reply != protocol.OK:
            raise self._unexpected(frame, reply, protocol.OK)

    def _unexpected(self, frame: bytes, reply: str, wanted: str) -> GarbledReply:
        """A reply that cannot answer this command was meant for another: the conversation is out of step."""
        self._out_of_step = True
        return GarbledReply(
            f"{reply!r} cannot answer {protocol.command_header(frame)} (expected {wanted})",
            reply=reply,
            command=protocol.command_header(frame),
        )

    # --------------------------------------------------------------------------------------------- the wire

    async def _exchange(self, frame: bytes) -> str:
        """One command, its one reply (lock held). Fault replies raise; the reply text is returned otherwise."""
        command = protocol.command_header(frame)
        name = _loggable(command)
        try:
            if self._closed or self._link.lost is not None:
                raise LinkLost(f"link to {self.port} lost: {self._link.lost or 'closed'}", command=command)
            if self._link.has_unread or self._replies:
                self._out_of_step = True  # bytes nobody asked for
            if self._out_of_step:
                await self._resync(command)
        except PrinterFault as fault:
            fault.sent = False
            log.debug("printer.exchange", command=name, fault=fault.code, sent=False)
            raise
        started = time.monotonic()
        self._out_of_step = True  # until the reply is in: a failure or a cancel in between leaves it so
        timeout = self._timeout_for(command)
        if timeout == self._reply_timeout:
            self._busy_until = started + timeout
        try:
            await self._send(frame, command)
            self.awaiting = Awaited(name, time.monotonic(), timeout)
            reply = await self._next_reply(timeout, command)
        except PrinterFault as fault:
            log.debug("printer.exchange", command=name, fault=fault.code, ms=_ms(started))
            raise
        finally:
            self.awaiting = None
        self._busy_until = 0.0  # it answered: whatever it was doing is done
        if isinstance(reply, protocol.GarbledReply):
            log.debug("printer.exchange", command=name, fault=GarbledReply.code, ms=_ms(started))
            raise GarbledReply(
                f"garbled reply to {name}: {reply.reason}", reply=reply.data.decode("latin-1"), command=command
            )
        self._out_of_step = bool(self._replies)  # more lines than one reply: something else is talking
        log.debug("printer.exchange", command=name, reply=reply.text, ms=_ms(started))
        refused = fault_from_reply(reply.text, command)
        if refused is not None:
            raise refused
        return reply.text

    def _timeout_for(self, command: str) -> float:
        """How long the reply to `command` may take: a motion's time, or a question's."""
        if command.split(";", 1)[0] in MOTIONS:
            return self._reply_timeout
        return min(QUERY_TIMEOUT_S, self._reply_timeout)

    async def _send(self, frame: bytes, command: str) -> None:
        # A frame takes time on the wire (10 bits a byte); allow for it on top of the reply time-out.
        allowance = self._reply_timeout + 2 * len(frame) * 10 / self._link.baudrate
        try:
            try:
                async with asyncio.timeout(allowance):
                    await self._link.write(frame)
            finally:
                self._note_cut(frame)
        except TimeoutError:
            raise ReplyTimeout(
                f"the printer did not take {command.split(';', 1)[0]} in {allowance:.0f} s", command=command
            ) from None
        except LinkLost as lost:
            raise LinkLost(str(lost), command=command) from lost

    # ASYNC109 waived: the deadline is per reply, read by the caller's loop, not one for the whole call
    async def _next_reply(self, timeout: float, command: str) -> protocol.Reply | protocol.GarbledReply:  # noqa: ASYNC109
        try:
            async with asyncio.timeout(timeout):
                while not self._replies:
                    self._replies.extend(self._decoder.feed(await self._link.read()))
        except TimeoutError:
            raise ReplyTimeout(f"no reply to {command.split(';', 1)[0]} in {timeout:g} s", command=command) from None
        except LinkLost as lost:
            raise LinkLost(str(lost), command=command) from lost
        return self._replies.popleft()

    async def _resync(self, command: str) -> None:
        """Bring the conversation back in step before `command`: `resync.Resync` decides, this sends and waits."""
        started = time.monotonic()
        # A motion still running may hold the answer back (the printer answers one command at a time); past it,
        # a printer that answers nothing within a question's time does not answer.
        deadline = max(started + self._timeout_for("Zsync"), min(self._busy_until, started + self._reply_timeout))
        reprobe = min(max(self._reply_timeout / 10, 0.5), 5.0, (deadline - started) / 2)
        if deadline - started > 2 * CUT_FRAME_DROPPED_S:  # time for the printer to drop a frame cut before we came
            reprobe = CUT_FRAME_DROPPED_S
        await self._close_cut_frame(command)
        self._forget_input()
        sync = resync.Resync(self._probes_owed)
        next_probe = started
        action: resync.Action | None = None
        self.awaiting = Awaited(_loggable(command), started, deadline - started)
        try:
            while not isinstance(action, resync.InStep):
                now = time.monotonic()
                if now >= deadline:
                    raise ReplyTimeout(
                        f"no answer to the resynchronisation before {command.split(';', 1)[0]}", command=command
                    )
                if now >= next_probe:
                    await self._send(sync.probe_due().frame, command)
                    next_probe = now + reprobe
                try:
                    reply = await self._next_reply(min(deadline, next_probe) - now, command)
                except ReplyTimeout:
                    continue
                action = sync.receive(reply)
                if isinstance(action, resync.AwaitQuiet) and not await self._more_arrives(command):
                    action = sync.quiet()
                if isinstance(action, resync.Send):
                    await self._send(action.frame, command)
        finally:
            self._probes_owed = sync.probes_owed
            self.awaiting = None
        self._out_of_step = False
        log.debug("printer.resync", before=command.split(";", 1)[0], discarded=action.discarded, ms=_ms(started))

    async def _more_arrives(self, command: str) -> bool:
        if self._replies or self._link.has_unread:
            return True
        try:
            async with asyncio.timeout(SYNC_QUIET):
                self._replies.extend(self._decoder.feed(await self._link.read()))
        except TimeoutError:
            return False
        except LinkLost as lost:
            raise LinkLost(str(lost), command=command) from lost
        return True

    def _note_cut(self, frame: bytes) -> None:
        """Remember a bitmap cut inside its payload: the printer is left counting payload bytes."""
        unsent = self._link.unsent
        start = protocol.payload_offset(frame)
        self._cut_tail = unsent if unsent and start is not None and len(frame) - unsent > start else 0

    async def _close_cut_frame(self, command: str) -> None:
        """Fill a cut payload with CRs, and close it: else the printer would take the probes for bitmap bytes.
        A bitmap download moves nothing. A frame cut before its payload needs nothing: the probe's ESC ends it."""
        if self._cut_tail:
            filler, self._cut_tail = b"\r" * self._cut_tail, 0
            log.debug("printer.close_cut_frame", bytes=len(filler))
            await self._send(filler, command)

    def _forget_input(self) -> None:
        dropped = self._link.discard_input()
        self._decoder.clear()
        self._replies.clear()
        if dropped:
            log.debug("printer.discard", bytes=len(dropped))


def _loggable(command: str) -> str:
    """The command for the log: name and parameters, but a text's name alone (a resident's data stays out)."""
    name = command.split(";", 1)[0]
    return name if name == "Wt" else command


def _ms(started: float) -> int:
    return round((time.monotonic() - started) * 1000)


__all__ = ["Printer", "PrinterInfo", "PrinterStatus"]
