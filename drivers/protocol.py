"""The Evolis escape-command protocol (printer-protocol.md), pure: bytes in, events out, no I/O.

Both sides use it: the host encodes commands and decodes replies; the printer (our emulator) decodes commands and
encodes replies. Binary payloads (`Dbc`, `Db`) are read by their length, never by looking for CR.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

ESC = 0x1B
CR = 0x0D

DOTS_PER_LINE = 648
LINES = 1016
BYTES_PER_LINE = DOTS_PER_LINE // 8  # 81
PANEL_BYTES = LINES * BYTES_PER_LINE  # 82,296
MAX_DBC_PAYLOAD = LINES * (1 + BYTES_PER_LINE)  # 83,312: every line a count byte and all 81 bytes

RIBBONS = ("ko", "ymcko")  # the ribbons the station prints with (`Pr;<ribbon>`); ymcko's colour panels stay unused

MAX_HEADER = 4096  # a command header (name and parameters) longer than this is garbage
MAX_REPLY = 1024  # a reply longer than this without CR is garbage

# Commands whose last of this many parameters is free text that may hold ';' (a name like "AINI; S.Pd").
_MAX_SPLIT = {"Wt": 5}

OK = "OK"
ERROR_CDE = "ERROR CDE"
ERROR_PARAMETRES = "ERROR PARAMETRES"

# Fault replies (printer-protocol.md, Errors), in the printer's words.
FEEDER_EMPTY = "FEEDER EMPTY"
COVER_OPEN = "COVER OPEN"
ERROR_RIBBON = "ERROR RIBBON"
CARD_JAM = "CARD JAM"
HOPPER_FULL = "HOPPER FULL"
ERROR_HEAD = "ERROR HEAD"
NEED_CLEANING = "NEED CLEANING"
ERROR_TIME_OUT = "ERROR TIME OUT"
FAULT_REPLIES = (
    FEEDER_EMPTY,
    COVER_OPEN,
    ERROR_RIBBON,
    CARD_JAM,
    HOPPER_FULL,
    ERROR_HEAD,
    NEED_CLEANING,
    ERROR_TIME_OUT,
)


class EncodeError(ValueError):
    """Data that must not go on the wire: refused before anything is sent."""


@dataclass(frozen=True)
class Command:
    """One command as the printer received it."""

    name: str
    params: tuple[str, ...] = ()
    payload: bytes | None = None


@dataclass(frozen=True)
class BadFrame:
    """Bytes that do not make a command (garbage, a header too long, a payload not closed by CR)."""

    reason: str
    data: bytes = b""


@dataclass(frozen=True)
class Reply:
    """One reply as the host received it."""

    text: str

    @property
    def is_ok(self) -> bool:
        return self.text == OK

    @property
    def is_error(self) -> bool:
        return self.text in FAULT_REPLIES or self.text in (ERROR_CDE, ERROR_PARAMETRES)


@dataclass(frozen=True)
class GarbledReply:
    """Bytes from the printer that do not make a reply."""

    reason: str
    data: bytes = b""


# ---------------------------------------------------------------------------------------------------- host side


def _check_param(value: str) -> bytes:
    try:
        raw = value.encode("latin-1")
    except UnicodeEncodeError:
        raise EncodeError(f"{value!r} cannot be encoded as ISO-8859-1") from None
    if any(b < 0x20 for b in raw):  # printer-protocol.md: no byte below 0x20; DEL and above are text
        raise EncodeError(f"{value!r} holds a control character")
    return raw


def encode_command(name: str, *params: object, payload: bytes | None = None) -> bytes:
    """ESC name ;param… [payload] CR. A parameter may not hold ';' unless it is the last text of `Wt`."""
    if not (name.isascii() and name.isalpha()):
        raise EncodeError(f"bad command name {name!r}")
    out = bytearray([ESC]) + name.encode("ascii")
    last_text = _MAX_SPLIT.get(name, 0) - 1
    for index, param in enumerate(params):
        raw = _check_param(str(param))
        if b";" in raw and index != last_text:
            raise EncodeError(f"parameter {index + 1} of {name} holds ';': {param!r}")
        out += b";" + raw
    if payload is not None:
        out += b";" + payload
    out.append(CR)
    return bytes(out)


def text_command(x: int, y: int, font: int, height: int, text: str) -> bytes:
    """`Wt`: one line of text on the black panel. Refuses text that cannot go on the wire."""
    return encode_command("Wt", x, y, font, height, text)


def dbc_command(panel: str, first_line: int, data: bytes) -> bytes:
    return encode_command("Dbc", panel, 2, first_line, len(data), payload=data)


def compress_dbc(bitmap: bytes, first_line: int = 0) -> bytes:
    """Compress a 1-bit panel (LINES lines of BYTES_PER_LINE bytes) from `first_line`, as `Dbc` wants it."""
    if len(bitmap) != PANEL_BYTES:
        raise EncodeError(f"a panel bitmap is {PANEL_BYTES} bytes, not {len(bitmap)}")
    out = bytearray()
    white, black = bytes(BYTES_PER_LINE), b"\xff" * BYTES_PER_LINE
    for n in range(first_line, LINES):
        line = bitmap[n * BYTES_PER_LINE : (n + 1) * BYTES_PER_LINE]
        if line == white:
            out.append(0x00)
        elif line == black:
            out.append(0xFF)
        else:
            used = len(line.rstrip(b"\x00"))
            out.append(used)
            out += line[:used]
    return bytes(out)


# Header fields before a binary payload: Dbc;panel;levels;first line;size;<payload>, Db;panel;levels;<payload>.
_PAYLOAD_FIELDS = {b"Dbc": 5, b"Db": 3}


def command_header(frame: bytes) -> str:
    """An encoded command's name and parameters as text, without a binary payload (safe to keep and log).

    EncodeError if `frame` is not an encoded command (ESC, a name, …, CR)."""
    if len(frame) < 3 or frame[0] != ESC or frame[-1] != CR:
        raise EncodeError(f"not an encoded command (ESC … CR): {frame[:16]!r}")
    body = frame[1:-1]
    name = body.split(b";", 1)[0]
    if not (name.isascii() and name.isalpha()):
        raise EncodeError(f"not an encoded command (no command name): {frame[:16]!r}")
    fields = _PAYLOAD_FIELDS.get(name)
    if fields is not None:
        body = b";".join(body.split(b";", fields)[:fields])
    return body.decode("latin-1")


def command_name(frame: bytes) -> str:
    """An encoded command's name; EncodeError if `frame` is not an encoded command."""
    return command_header(frame).split(";", 1)[0]


def payload_offset(frame: bytes) -> int | None:
    """Where the binary payload of an encoded `Dbc`/`Db` starts; None for any other bytes."""
    name = frame[1:].split(b";", 1)[0]
    fields = _PAYLOAD_FIELDS.get(name)
    if frame[:1] != bytes([ESC]) or fields is None:
        return None
    start = 0
    for _ in range(fields):
        start = frame.find(b";", start) + 1
        if not start:
            return None
    return start


class ReplyDecoder:
    """Host side: the printer's byte stream in, one `Reply` per CR-terminated line out."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    def feed(self, data: bytes) -> list[Reply | GarbledReply]:
        self._buffer += data
        events: list[Reply | GarbledReply] = []
        while True:
            end = self._buffer.find(CR)
            if end < 0:
                if len(self._buffer) > MAX_REPLY:
                    events.append(GarbledReply("reply too long without CR", bytes(self._buffer)))
                    self._buffer.clear()
                return events
            raw = bytes(self._buffer[:end]).replace(b"\n", b"")
            del self._buffer[: end + 1]
            if any(b < 0x20 or b >= 0x7F for b in raw):
                events.append(GarbledReply("reply holds bytes that are not printable ASCII", raw))
            else:
                events.append(Reply(raw.decode("ascii")))

    def clear(self) -> None:
        self._buffer.clear()


# ------------------------------------------------------------------------------------------------- printer side


def encode_reply(text: str) -> bytes:
    return text.encode("latin-1") + bytes([CR])


def decompress_dbc(data: bytes, first_line: int) -> bytes | None:
    """The panel bitmap that a `Dbc` payload draws from `first_line`, or None if the payload is malformed."""
    lines = dbc_lines(data, first_line)
    if lines is None:
        return None
    start = first_line * BYTES_PER_LINE
    return bytes(start) + lines + bytes(PANEL_BYTES - start - len(lines))


def dbc_lines(data: bytes, first_line: int) -> bytes | None:
    """The lines a `Dbc` payload describes, from `first_line` (81 bytes each), or None if it is malformed."""
    lines = bytearray()
    i = 0
    while i < len(data):
        if first_line + len(lines) // BYTES_PER_LINE >= LINES:
            return None
        marker = data[i]
        i += 1
        if marker in (0x00, 0xFF):
            lines += bytes([marker]) * BYTES_PER_LINE
        else:
            if marker > BYTES_PER_LINE or i + marker > len(data):
                return None
            lines += data[i : i + marker] + bytes(BYTES_PER_LINE - marker)
            i += marker
    return bytes(lines)


def db_payload_length(panel: str, levels: str) -> int | None:
    """Bytes of an uncompressed `Db` bitmap: 1 bit a dot for k/o at 2 levels, 5 bits for y/m/c at 32."""
    if panel in ("k", "o") and levels == "2":
        return PANEL_BYTES
    if panel in ("y", "m", "c") and levels == "32":
        return LINES * DOTS_PER_LINE * 5 // 8
    return None


class CommandDecoder:
    """Printer side: the host's byte stream in, `Command`s (and `BadFrame`s) out: at most one event a frame.

    A frame starts at ESC, or right after the CR that closed the one before (the guide, §3: "the Start Character
    is not compulsory after the CR character"; the start of the stream counts as such a place), and ends at its CR;
    a `Dbc`/`Db` payload is read by its length. An ESC always starts a new frame. The frame it cuts short gets a
    `BadFrame` if it began with ESC and held something; a stray second ESC, or bytes after a CR that no CR closes
    (line noise), get nothing. A header over MAX_HEADER bytes is refused at its byte MAX_HEADER + 1 and the rest
    of its frame skipped. The stream is read byte by byte through these states, so the events never depend on
    how it was split into reads.

    `max_dbc_payload`: a `Dbc` announcing more is refused at once, at its header (`BadFrame`, reason "payload …"),
    and the bytes it announced are skipped unread. None reads any length (a host's test double).
    """

    def __init__(self, max_dbc_payload: int | None = None) -> None:
        self._max_dbc_payload = max_dbc_payload
        self._start_frame(escaped=False)

    def _start_frame(self, escaped: bool) -> None:
        self._mode = _HEADER
        self._escaped = escaped  # the frame began with ESC
        self._header = bytearray()  # its bytes after ESC, up to CR or to where its payload starts
        self._payload = bytearray()
        self._left = 0  # payload bytes still to read (_PAYLOAD) or to skip (_SKIP_PAYLOAD)

    def feed(self, data: bytes) -> list[Command | BadFrame]:
        events: list[Command | BadFrame] = []
        at = 0
        while at < len(data):
            if self._mode == _PAYLOAD:
                at = self._read_payload(data, at, events)
            elif self._mode == _SKIP_PAYLOAD:
                at = self._skip_payload(data, at)
            elif self._mode == _SKIP_FRAME:
                at = self._skip_frame(data, at)
            else:
                at = self._read_header(data, at, events)
        return events

    def _read_header(self, data: bytes, at: int, events: list[Command | BadFrame]) -> int:
        while at < len(data):
            if not (self._escaped or self._header):
                while at < len(data) and data[at] in _PADDING:
                    at += 1
            found = _HEADER_MARK.search(data, at)
            end = found.start() if found else len(data)
            room = MAX_HEADER - len(self._header)
            if end - at > room or (found and data[end] == ord(";") and end - at == room):
                events.append(BadFrame("command header too long", bytes((self._header + data[at:end])[:64])))
                self._mode = _SKIP_FRAME
                return at + room
            self._header += data[at:end]
            if found is None:
                return len(data)
            mark, at = data[end], end + 1
            if mark == ESC:
                if self._escaped and self._header:
                    events.append(BadFrame("a command not closed by CR", bytes([ESC]) + bytes(self._header)))
                self._start_frame(escaped=True)
            elif mark == CR:
                if self._escaped or self._header:
                    events.append(_parse(bytes(self._header), None))
                self._start_frame(escaped=False)
            elif self._opens_payload(events):
                return at
            else:
                self._header.append(mark)
        return at

    def _opens_payload(self, events: list[Command | BadFrame]) -> bool:
        """At a `;`: whether the header so far is one that a binary payload follows, and if so get ready for it."""
        length = _payload_length(bytes(self._header))
        if length is None:
            return False
        limit = self._max_dbc_payload
        if limit is not None and self._header.startswith(b"Dbc;") and length > limit:
            events.append(BadFrame(f"payload of {length} bytes announced, a Dbc panel takes {limit} at most",
                                   bytes(self._header)))  # fmt: skip
            self._mode, self._left = _SKIP_PAYLOAD, length
        else:
            self._mode, self._left = _PAYLOAD, length
        return True

    def _read_payload(self, data: bytes, at: int, events: list[Command | BadFrame]) -> int:
        taken = min(self._left, len(data) - at)
        self._payload += data[at : at + taken]
        self._left -= taken
        at += taken
        if self._left or at == len(data):
            return at
        header, payload = bytes(self._header), bytes(self._payload)
        if data[at] != CR:
            events.append(BadFrame("payload not closed by CR", header))
            self._mode = _SKIP_FRAME
            return at  # that byte may be the ESC of the next command
        events.append(_parse(header, payload))
        self._start_frame(escaped=False)
        return at + 1

    def _skip_payload(self, data: bytes, at: int) -> int:
        skipped = min(self._left, len(data) - at)
        self._left -= skipped
        if not self._left:
            self._mode = _SKIP_FRAME  # then its closing CR
        return at + skipped

    def _skip_frame(self, data: bytes, at: int) -> int:
        found = _FRAME_END.search(data, at)
        if found is None:
            return len(data)
        self._start_frame(escaped=data[found.start()] == ESC)
        return found.start() + 1


_HEADER, _PAYLOAD, _SKIP_PAYLOAD, _SKIP_FRAME = range(4)
_HEADER_MARK = re.compile(rb"[\x1b\r;]")
_FRAME_END = re.compile(rb"[\x1b\r]")
_PADDING = b"\x00\n"  # between two commands: the LF of a CR LF, NUL padding (a driver of the guide sends some)


def _payload_length(header: bytes) -> int | None:
    """If `header` (without ESC) is complete up to where a binary payload starts, the payload's length."""
    fields = header.split(b";")
    if len(fields) != _PAYLOAD_FIELDS.get(fields[0]):
        return None
    if fields[0] == b"Dbc":
        size = fields[4]
        return int(size) if size.isdigit() else None  # bytes.isdigit: ASCII digits only
    return db_payload_length(fields[1].decode("latin-1"), fields[2].decode("latin-1"))


def _parse(header: bytes, payload: bytes | None) -> Command | BadFrame:
    text = header.decode("latin-1")
    name, _, rest = text.partition(";")
    if not name.isalpha() or not name.isascii():
        return BadFrame("no command name", header)
    if payload is not None:
        return Command(name, tuple(rest.split(";")), payload)
    if not rest and ";" not in text:
        return Command(name)
    return Command(name, tuple(rest.split(";", _MAX_SPLIT.get(name, 0) - 1)))
