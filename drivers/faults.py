"""Typed printer faults: what went wrong with the printer or the link, as a stable `code` the station can act on.

A fault carries the printer's own `reply` (when there was one) and the `command` it answered: the command's header
as text (`"Ss"`, `"Pr;ko"`, `"Dbc;k;2;0;18234"`), never a binary payload. `sent` is False only when the command
certainly never reached the link (the link was already dead, or the resynchronisation before it failed): then an `Ss`
cannot have taken a blank. The messages here are for developers and logs; what people read is chosen by the
console from `code`.
"""

from __future__ import annotations

from drivers import protocol


class PrinterFault(Exception):
    """Base of every fault the driver reports. `code` is stable: the queue and the console switch on it."""

    code = "printer"

    def __init__(
        self, message: str = "", *, reply: str | None = None, command: str | None = None, sent: bool = True
    ) -> None:
        self.reply = reply
        self.command = command
        self.sent = sent
        super().__init__(message or self._default_message())

    def _default_message(self) -> str:
        said = f"the printer answered {self.reply!r}" if self.reply is not None else self.code
        return f"{said} to {self.command}" if self.command else said

    @property
    def command_name(self) -> str | None:
        """The command's name alone (`"Dbc"` for `"Dbc;k;2;0;18234"`), safe to log."""
        return self.command.split(";", 1)[0] if self.command else None


# Faults the printer reports in its replies (printer-protocol.md, Errors).
class FeederEmpty(PrinterFault):
    code = "feeder_empty"


class CoverOpen(PrinterFault):
    code = "cover_open"


class RibbonFault(PrinterFault):
    code = "ribbon"


class CardJam(PrinterFault):
    code = "jam"


class HopperFull(PrinterFault):
    code = "hopper_full"


class HeadFault(PrinterFault):
    code = "head"


class NeedCleaning(PrinterFault):
    code = "cleaning"


class MechanicalTimeout(PrinterFault):
    """The printer answered ERROR TIME OUT: its own mechanism timed out (not to be confused with ReplyTimeout)."""

    code = "mechanical_timeout"


class UnknownFault(PrinterFault):
    """An `ERR…` reply outside the protocol's table (another firmware's wording): a fault all the same."""

    code = "unknown"


class CommandRefused(PrinterFault):
    """ERROR CDE or ERROR PARAMETRES: the host sent something the printer does not accept, a bug of the host."""

    code = "refused"


# Faults of the conversation and of the link.
class ReplyTimeout(PrinterFault):
    """No reply in time. The command may or may not have been carried out (an `Ss` may have spent a blank)."""

    code = "reply_timeout"


class GarbledReply(PrinterFault):
    """Bytes that do not make a reply, or a reply that cannot answer the command sent."""

    code = "garbled"


class LinkLost(PrinterFault):
    """The link died: a read or write error, end of file, the device gone. `reconnect()` reopens it."""

    code = "link_lost"


class LinkUnavailable(PrinterFault):
    """The port could not be opened: no such device, refused connection, bad URL."""

    code = "link_unavailable"


class PortBusy(LinkUnavailable):
    """Another process holds the port (the exclusive lock is taken)."""

    code = "port_busy"


_BY_REPLY: dict[str, type[PrinterFault]] = {
    protocol.FEEDER_EMPTY: FeederEmpty,
    protocol.COVER_OPEN: CoverOpen,
    protocol.ERROR_RIBBON: RibbonFault,
    protocol.CARD_JAM: CardJam,
    protocol.HOPPER_FULL: HopperFull,
    protocol.ERROR_HEAD: HeadFault,
    protocol.NEED_CLEANING: NeedCleaning,
    protocol.ERROR_TIME_OUT: MechanicalTimeout,
    protocol.ERROR_CDE: CommandRefused,
    protocol.ERROR_PARAMETRES: CommandRefused,
}


def fault_from_reply(text: str, command: str | None = None) -> PrinterFault | None:
    """The fault a reply reports, or None when the reply is not an error (`OK` or a value)."""
    kind = _BY_REPLY.get(text)
    if kind is None and text.startswith("ERR"):
        kind = UnknownFault
    return kind(reply=text, command=command) if kind else None
