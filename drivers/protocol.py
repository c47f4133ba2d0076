"""The Evolis escape-command protocol (printer-protocol.md), pure: bytes in, events out, no I/O.

Both sides use it: the host encodes commands and decodes replies; the printer (our emulator) decodes commands and
encodes replies. Binary payloads (`Dbc`, `Db`) are read by their length, never by looking for CR.
"""

from __future__ import annotations

from dataclasses import dataclass

ESC = 0x1B
CR = 0x0D

DOTS_PER_LINE = 648
LINES = 1016
BYTES_PER_LINE = DOTS_PER_LINE // 8  # 81
PANEL_BYTES = LINES * BYTES_PER_LINE  # 82,296

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
FAULT_REPLIES = (FEEDER_EMPTY, COVER_OPEN, ERROR_RIBBON, CARD_JAM, HOPPER_FULL, ERROR_HEAD, NEED_CLEANING, ERROR_TIME_OUT)


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
    if any(b < 0x20 or b == 0x7F for b in raw):
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
    bitmap = bytearray(PANEL_BYTES)
    line, i = first_line, 0
    while i < len(data):
        if line >= LINES:
            return None
        marker = data[i]
        i += 1
        start = line * BYTES_PER_LINE
        if marker == 0xFF:
            bitmap[start : start + BYTES_PER_LINE] = b"\xff" * BYTES_PER_LINE
        elif marker != 0x00:
            if marker > BYTES_PER_LINE or i + marker > len(data):
                return None
            bitmap[start : start + marker] = data[i : i + marker]
            i += marker
        line += 1
    return bytes(bitmap)


def db_payload_length(panel: str, levels: str) -> int | None:
    """Bytes of an uncompressed `Db` bitmap: 1 bit a dot for k/o at 2 levels, 5 bits for y/m/c at 32."""
    if panel in ("k", "o") and levels == "2":
        return PANEL_BYTES
    if panel in ("y", "m", "c") and levels == "32":
        return LINES * DOTS_PER_LINE * 5 // 8
    return None


class CommandDecoder:
    """Printer side: the host's byte stream in, `Command`s (and `BadFrame`s) out."""

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._header: bytes | None = None  # a header whose payload is being read
        self._payload_length = 0

    def feed(self, data: bytes) -> list[Command | BadFrame]:
        self._buffer += data
        events: list[Command | BadFrame] = []
        while self._step(events):
            pass
        return events

    def _step(self, events: list[Command | BadFrame]) -> bool:
        if self._header is not None:
            return self._read_payload(events)
        if not self._buffer:
            return False
        if self._buffer[0] != ESC:
            start = self._buffer.find(ESC)
            junk = bytes(self._buffer if start < 0 else self._buffer[:start])
            del self._buffer[: len(junk)]
            if junk.strip(b"\r\n"):
                events.append(BadFrame("bytes outside a command", junk))
            return bool(self._buffer)
        for index in range(1, len(self._buffer)):
            byte = self._buffer[index]
            if byte == CR:
                header = bytes(self._buffer[1:index])
                del self._buffer[: index + 1]
                events.append(_parse(header, None))
                return True
            if byte == ESC:
                junk = bytes(self._buffer[:index])
                del self._buffer[:index]
                events.append(BadFrame("a command not closed by CR", junk))
                return True
            if byte == ord(";"):
                length = _payload_length(bytes(self._buffer[1:index]))
                if length is not None:
                    self._header = bytes(self._buffer[1:index])
                    self._payload_length = length
                    del self._buffer[: index + 1]
                    return True
        if len(self._buffer) > MAX_HEADER:
            junk = bytes(self._buffer)
            self._buffer.clear()
            events.append(BadFrame("command header too long", junk[:64]))
        return False

    def _read_payload(self, events: list[Command | BadFrame]) -> bool:
        if len(self._buffer) < self._payload_length + 1:
            return False
        payload = bytes(self._buffer[: self._payload_length])
        closing = self._buffer[self._payload_length]
        header = self._header
        self._header = None
        if closing != CR:
            del self._buffer[: self._payload_length]
            events.append(BadFrame("payload not closed by CR", header or b""))
            return True
        del self._buffer[: self._payload_length + 1]
        events.append(_parse(header or b"", payload))
        return True


def _payload_length(header: bytes) -> int | None:
    """If `header` (without ESC) is complete up to where a binary payload starts, the payload's length."""
    fields = header.split(b";")
    if fields[0] == b"Dbc" and len(fields) == 5:
        size = fields[4]
        return int(size) if size.isdigit() and len(size) < 9 else None
    if fields[0] == b"Db" and len(fields) == 3:
        return db_payload_length(fields[1].decode("latin-1"), fields[2].decode("latin-1"))
    return None


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
