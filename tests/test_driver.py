"""The printer driver as the host: its bytes against the recorded conversations of transcripts.json, time-outs,
garbled replies, a link that dies, concurrent callers; then against the emulator over a pseudo-terminal and TCP.

The recorded printer here is the other end of a real pseudo-terminal (or TCP socket): it checks that each frame the
host sends is byte for byte the recorded one and answers the recorded reply. It also answers the driver's
resynchronisation probes as any printer of the protocol would (ERROR CDE, ERROR PARAMETRES).
"""

from __future__ import annotations

import asyncio
import fcntl
import io
import json
import os
import re
import struct
import termios
import tty
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from drivers import protocol
from drivers.emulator import KINDS as EMULATOR_KINDS
from drivers.emulator import EmulatorServer, read_output_log
from drivers.faults import (
    CardJam,
    CommandRefused,
    CoverOpen,
    FeederEmpty,
    GarbledReply,
    HeadFault,
    HopperFull,
    LinkLost,
    LinkUnavailable,
    MechanicalTimeout,
    NeedCleaning,
    PortBusy,
    PrinterFault,
    ReplyTimeout,
    RibbonFault,
    fault_from_reply,
)
from drivers.layout import layout_card
from drivers.printer import Printer, PrinterInfo, PrinterStatus
from drivers.resync import PROBES
from tests.card_sample import FIELDS
from tests.conftest import wait_for

ROOT = Path(__file__).resolve().parent.parent
TRANSCRIPTS = ROOT / "tests" / "data" / "transcripts.json"  # a copy of the spec's conformance transcripts
# Replies of the recorded printer where the transcript gives a pattern rather than a value.
SAMPLE_VALUES = {"Rfv": "1.7.2", "Rtp": "Evolis Primacy", "Rsn": "EMU0000001", "Rco;c": "41"}
FAST = 0.3  # reply time-out (s) where a test waits for one on purpose


def transcripts() -> dict[str, dict]:
    return {s["name"]: s for s in json.loads(TRANSCRIPTS.read_text(encoding="utf-8"))["scenarios"]}


# ----------------------------------------------------------------------------------------- the recorded printer


@dataclass(frozen=True)
class Late:
    """A reply the printer sends only once the host has sent something more (it was busy): a late reply."""

    data: bytes


SILENT = None  # the printer takes the command and never answers
HANG_UP = "hang up"  # the printer's end of the link goes away when the command arrives


class RecordedPrinter:
    """Plays a script of (frame expected, answer): raw reply bytes, Late(...), SILENT or HANG_UP. With
    `answers` instead, it answers any frame by content. `delay` is its thinking time before each reply."""

    def __init__(
        self, script: list[tuple[bytes, object]] = (), *, answers: dict[bytes, bytes] | None = None, delay: float = 0.0
    ) -> None:
        self.script = deque(script)
        self.answers = answers
        self.delay = delay
        self.buffer = bytearray()
        self.late: list[bytes] = []
        self.frames: list[bytes] = []  # everything the host sent, probes included
        self.mismatch: str | None = None
        self.owed = 0  # replies not yet sent
        self.interleaved: list[bytes] = []  # frames that arrived while a reply was owed
        self.send: Callable[[bytes], None] = lambda data: None
        self.hang_up: Callable[[], None] = lambda: None

    @property
    def script_done(self) -> bool:
        return not self.script

    def feed(self, data: bytes) -> None:
        self.buffer += data
        while self.mismatch is None and (frame := self._take_frame()) is not None:
            if self.owed:
                self.interleaved.append(frame)
            self.frames.append(frame)
            self._answer(frame)

    def _candidates(self) -> list[bytes]:
        if self.answers is not None:
            return [*PROBES, *self.answers]
        return [*PROBES, *([self.script[0][0]] if self.script else [])]

    def _take_frame(self) -> bytes | None:
        if not self.buffer:
            return None
        candidates = self._candidates()
        for frame in candidates:
            if self.buffer.startswith(frame):
                del self.buffer[: len(frame)]
                return frame
        if not any(frame.startswith(self.buffer) for frame in candidates):
            expected = candidates[len(PROBES)] if len(candidates) > len(PROBES) else b"(nothing)"
            self.mismatch = f"host sent {bytes(self.buffer).hex()}, the recording has {expected.hex()}"
        return None

    def _answer(self, frame: bytes) -> None:
        if frame == PROBES[0]:
            answer: object = protocol.encode_reply(protocol.ERROR_CDE)
        elif frame == PROBES[1]:
            answer = protocol.encode_reply(protocol.ERROR_PARAMETRES)
        elif self.answers is not None:
            answer = self.answers[frame]
        else:
            answer = self.script.popleft()[1]
        if answer == HANG_UP:
            self.hang_up()
            return
        out = b"".join(self.late)  # the printer answers in order: what it owed goes first
        self.late.clear()
        if isinstance(answer, Late):
            self.late.append(answer.data)
        elif answer is not None:
            out += answer
        if not out:
            return
        if self.delay:
            self.owed += 1
            asyncio.get_running_loop().call_later(self.delay, self._send_owed, out)
        else:
            self.send(out)

    def _send_owed(self, out: bytes) -> None:
        self.owed -= 1
        self.send(out)


@asynccontextmanager
async def pty_printer(printer: RecordedPrinter) -> AsyncIterator[str]:
    """The recorded printer on the far end of a real pseudo-terminal; yields the device path for the host."""
    loop = asyncio.get_running_loop()
    master, slave = os.openpty()
    tty.setraw(slave)
    path = os.ttyname(slave)
    state = {"master": master}

    def readable() -> None:
        try:
            data = os.read(master, 65536)
        except OSError:
            data = b""
        if data:
            printer.feed(data)

    def hang_up() -> None:
        if state["master"] is not None:
            loop.remove_reader(master)
            os.close(master)
            state["master"] = None

    printer.send = lambda data: os.write(master, data)
    printer.hang_up = hang_up
    loop.add_reader(master, readable)
    try:
        yield path
    finally:
        hang_up()
        os.close(slave)


@asynccontextmanager
async def tcp_printer(make: Callable[[], RecordedPrinter]) -> AsyncIterator[tuple[str, list[RecordedPrinter]]]:
    """A recorded printer per TCP connection (`make()` each time); yields the socket:// URL and the printers."""
    printers: list[RecordedPrinter] = []
    writers: list[asyncio.StreamWriter] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        printer = make()
        printers.append(printer)
        writers.append(writer)
        printer.send = writer.write
        printer.hang_up = writer.close
        while data := await reader.read(65536):
            printer.feed(data)
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    host, port = server.sockets[0].getsockname()[:2]
    try:
        yield f"socket://{host}:{port}", printers
    finally:
        for writer in writers:
            writer.close()
        server.close()
        await server.wait_closed()


def frame(text: str) -> bytes:
    """A command frame from its text, `Rco;c` style (no payload)."""
    name, *params = text.split(";")
    return protocol.encode_command(name, *params)


def reply(text: str) -> bytes:
    return protocol.encode_reply(text)


# --------------------------------------------------------------------------------- the transcripts, step by step


def recorded(scenario: dict) -> RecordedPrinter:
    script = []
    for step in scenario["steps"]:
        data = bytes.fromhex(step["bytes_hex"])
        if "reply" in step:
            text = step["reply"]
        else:
            key = protocol.CommandDecoder().feed(data)[0]
            text = SAMPLE_VALUES[";".join((key.name, *key.params))]
            assert re.fullmatch(step["reply_matches"], text), f"sample {text!r} does not match {step['reply_matches']}"
        script.append((data, reply(text)))
    return RecordedPrinter(script)


CARD_FRAMES = (
    protocol.dbc_command("k", 100, bytes.fromhex("00000d1b0d1b0d010203040506070809ff00")),
    protocol.text_command(40, 60, 1, 40, "NIK : 5203074708900001"),
    protocol.text_command(40, 120, 0, 30, "Nama : BAIQ NURUL AINI; S.Pd"),
    protocol.encode_command("Wcb", "o", 255),
)


async def play_identify_and_set_up(printer: Printer) -> None:
    assert await printer.identify() == PrinterInfo(model="Evolis Primacy", serial="EMU0000001", firmware="1.7.2")
    await printer.setup("ko")
    assert await printer.command("Rr") == "ko"
    assert await printer.card_position() is None
    assert await printer.command("Sk", "f") == "0"
    assert await printer.card_counter() == 41


async def play_errors_of_the_host(printer: Printer) -> None:
    for name, params in (("Zzz", ()), ("Rco", ("q",)), ("Pr", ("rainbow",))):
        with pytest.raises(CommandRefused) as refused:
            await printer.command(name, *params)
        assert refused.value.code == "refused"
        assert refused.value.command == ";".join((name, *params))


async def play_one_card(printer: Printer) -> None:
    await printer.command("Pem", 2)
    await printer.take_blank()
    await printer.print_front(CARD_FRAMES)
    assert await printer.card_position() is None


async def play_feeder_runs_out(printer: Printer) -> None:
    await printer.command("Pem", 2)
    await printer.take_blank()
    await printer.print_front(CARD_FRAMES)
    with pytest.raises(FeederEmpty) as empty:
        await printer.take_blank()
    assert (empty.value.code, empty.value.reply, empty.value.command) == ("feeder_empty", "FEEDER EMPTY", "Ss")
    assert await printer.command("Sk", "f") == "1"


async def play_rejected(printer: Printer) -> None:
    await printer.command("Pem", 2)
    await printer.take_blank()
    assert await printer.card_position() == "CARD"
    await printer.reject()
    assert await printer.card_position() is None


async def play_jam(printer: Printer) -> None:
    await printer.command("Pem", 2)
    await printer.take_blank()
    with pytest.raises(CardJam) as jam:
        await printer.print_front(CARD_FRAMES)
    assert (jam.value.code, jam.value.reply, jam.value.command) == ("jam", "CARD JAM", "Se")
    with pytest.raises(CardJam):
        await printer.take_blank()


PLAYS = {
    "identify and set up": play_identify_and_set_up,
    "errors of the host": play_errors_of_the_host,
    "one card": play_one_card,
    "feeder runs out": play_feeder_runs_out,
    "a card rejected by the host": play_rejected,
    "jam on the first card (--faults jam@1)": play_jam,
}


def test_every_transcript_has_a_play() -> None:
    assert set(PLAYS) == set(transcripts())


@pytest.mark.parametrize("name", list(PLAYS))
async def test_driver_bytes_are_the_transcripts(name: str) -> None:
    printer_end = recorded(transcripts()[name])
    async with pty_printer(printer_end) as path, await Printer.open(path, reply_timeout=5) as printer:
        await PLAYS[name](printer)
    assert printer_end.mismatch is None, printer_end.mismatch
    assert printer_end.script_done
    assert printer_end.frames[:2] == list(PROBES)  # opened out of step: the first command resynchronised


@pytest.mark.parametrize("name", list(PLAYS))
async def test_every_step_through_command(name: str) -> None:
    """Each recorded frame, decoded and sent again through `command()`, goes out as the same bytes."""
    scenario = transcripts()[name]
    printer_end = recorded(scenario)
    async with pty_printer(printer_end) as path, await Printer.open(path, reply_timeout=5) as printer:
        for step, (_, answer) in zip(scenario["steps"], list(printer_end.script)):
            (sent,) = protocol.CommandDecoder().feed(bytes.fromhex(step["bytes_hex"]))
            text = answer.decode("latin-1").rstrip("\r")
            if protocol.Reply(text).is_error:
                with pytest.raises(PrinterFault) as fault:
                    await printer.command(sent.name, *sent.params, payload=sent.payload)
                assert fault.value.reply == text
            else:
                assert await printer.command(sent.name, *sent.params, payload=sent.payload) == text
    assert printer_end.mismatch is None, printer_end.mismatch
    assert printer_end.script_done


# ------------------------------------------------------------------------------------- time-outs and bad replies


async def test_reply_timeout_then_the_late_reply_is_never_taken_for_the_next() -> None:
    printer_end = RecordedPrinter([(frame("Rco;c"), Late(reply("41"))), (frame("Rco;p"), reply("900"))])
    async with pty_printer(printer_end) as path, await Printer.open(path, reply_timeout=FAST) as printer:
        with pytest.raises(ReplyTimeout) as timeout:
            await printer.card_counter()
        assert (timeout.value.code, timeout.value.command, timeout.value.sent) == ("reply_timeout", "Rco;c", True)
        assert await printer.command("Rco", "p") == "900"
    assert printer_end.mismatch is None, printer_end.mismatch
    # Probes at open, Rco;c, probes again (the late "41" came back just before their answers), then Rco;p.
    assert printer_end.frames == [*PROBES, frame("Rco;c"), *PROBES, frame("Rco;p")]


async def test_a_command_that_timed_out_is_not_sent_again() -> None:
    printer_end = RecordedPrinter([(frame("Ss"), SILENT), (frame("Rco;c"), reply("42"))])
    async with pty_printer(printer_end) as path, await Printer.open(path, reply_timeout=FAST) as printer:
        with pytest.raises(ReplyTimeout):
            await printer.take_blank()
        assert await printer.card_counter() == 42
    assert printer_end.frames.count(frame("Ss")) == 1


async def test_a_printer_that_never_answers_times_out_and_says_nothing_was_sent() -> None:
    printer_end = RecordedPrinter([(frame("Rco;c"), reply("41"))])
    printer_end.feed = lambda data: None  # a dead printer: takes bytes, never answers
    async with pty_printer(printer_end) as path, await Printer.open(path, reply_timeout=FAST) as printer:
        with pytest.raises(ReplyTimeout) as timeout:
            await printer.take_blank()
    assert timeout.value.sent is False  # the resynchronisation before Ss failed: Ss never went out


async def test_garbled_reply_then_in_step_again() -> None:
    garbled = bytes(b | 0x80 for b in b"41") + b"\r"
    printer_end = RecordedPrinter([(frame("Rco;c"), garbled), (frame("Rr"), reply("ko"))])
    async with pty_printer(printer_end) as path, await Printer.open(path, reply_timeout=5) as printer:
        with pytest.raises(GarbledReply) as bad:
            await printer.card_counter()
        assert (bad.value.code, bad.value.command) == ("garbled", "Rco;c")
        assert await printer.command("Rr") == "ko"
    assert printer_end.mismatch is None, printer_end.mismatch
    assert printer_end.frames == [*PROBES, frame("Rco;c"), *PROBES, frame("Rr")]


async def test_garbage_without_cr_before_the_probes_is_skipped() -> None:
    printer_end = RecordedPrinter([(frame("Rco;c"), Late(b"\x8f\x90")), (frame("Rr"), reply("ko"))])
    async with pty_printer(printer_end) as path, await Printer.open(path, reply_timeout=FAST) as printer:
        with pytest.raises(ReplyTimeout):
            await printer.card_counter()
        assert await printer.command("Rr") == "ko"


async def test_a_reply_that_cannot_answer_the_command_is_garbled() -> None:
    printer_end = RecordedPrinter(
        [(frame("Rco;c"), reply("OK")), (frame("Rlr;p"), reply("CARD")), (frame("Ss"), reply("CARD"))]
    )
    async with pty_printer(printer_end) as path, await Printer.open(path, reply_timeout=5) as printer:
        with pytest.raises(GarbledReply, match="cannot answer Rco;c"):
            await printer.card_counter()
        assert await printer.card_position() == "CARD"
        with pytest.raises(GarbledReply, match="cannot answer Ss"):
            await printer.take_blank()


async def test_a_bitmap_cut_short_is_closed_before_the_probes() -> None:
    """A Dbc cancelled mid-payload leaves the printer counting payload bytes: CRs close it, then the probes."""
    loop = asyncio.get_running_loop()
    master, slave = os.openpty()
    tty.setraw(slave)
    decoder, commands = protocol.CommandDecoder(), []
    answers = {"Zsync": protocol.ERROR_CDE, "Rco": "41", "Dbc": protocol.OK}

    def readable() -> None:  # a printer of the protocol: decodes frames by their lengths, answers each
        for event in decoder.feed(os.read(master, 65536)):
            commands.append(event)
            if isinstance(event, protocol.Command):
                text = protocol.ERROR_PARAMETRES if event.params == ("sync",) else answers[event.name]
                os.write(master, reply(text))

    payload = bytes([0x51]) * 300_000  # far more than a pseudo-terminal buffers
    try:
        loop.add_reader(master, readable)
        async with await Printer.open(os.ttyname(slave), reply_timeout=5) as printer:
            assert await printer.card_counter() == 41
            loop.remove_reader(master)  # the printer stops reading: the host's write stalls
            cut = asyncio.create_task(printer.command("Dbc", "k", 2, 0, len(payload), payload=payload))
            await wait_for(lambda: _pending(master) > 0, 5, "part of the bitmap in the pseudo-terminal")
            cut.cancel()
            with pytest.raises(asyncio.CancelledError):
                await cut
            loop.add_reader(master, readable)
            assert await printer.card_counter() == 41
    finally:
        loop.remove_reader(master)
        os.close(master)
        os.close(slave)
    assert not [event for event in commands if isinstance(event, protocol.BadFrame)]
    (dbc,) = [event for event in commands if isinstance(event, protocol.Command) and event.name == "Dbc"]
    assert len(dbc.payload) == len(payload) and dbc.payload.endswith(b"\r")
    assert dbc.payload.rstrip(b"\r") == payload[: len(dbc.payload.rstrip(b"\r"))]


def _pending(fd: int) -> int:
    return struct.unpack("i", fcntl.ioctl(fd, termios.FIONREAD, b"\0\0\0\0"))[0]


# ------------------------------------------------------------------------------------------------ a dead link


async def test_printer_end_hangs_up_on_a_pty() -> None:
    printer_end = RecordedPrinter([(frame("Rco;c"), HANG_UP)])
    async with pty_printer(printer_end) as path, await Printer.open(path, reply_timeout=5) as printer:
        with pytest.raises(LinkLost) as lost:
            await printer.card_counter()
        assert (lost.value.code, lost.value.command, lost.value.sent) == ("link_lost", "Rco;c", True)
        with pytest.raises(LinkLost) as again:
            await printer.take_blank()
        assert again.value.sent is False
        with pytest.raises(LinkUnavailable):  # the pseudo-terminal is gone with its master
            await printer.reconnect()


async def test_printer_end_hangs_up_on_tcp_then_reconnect() -> None:
    scripts = deque([[(frame("Rco;c"), HANG_UP)], [(frame("Rco;c"), reply("41"))]])
    async with tcp_printer(lambda: RecordedPrinter(scripts.popleft())) as (url, printers):
        async with await Printer.open(url, reply_timeout=5) as printer:
            with pytest.raises(LinkLost):
                await printer.card_counter()
            await printer.reconnect()
            assert await printer.card_counter() == 41
    assert [p.mismatch for p in printers] == [None, None]


async def test_whole_card_over_tcp_matches_the_transcript() -> None:
    async with tcp_printer(lambda: recorded(transcripts()["one card"])) as (url, printers):
        async with await Printer.open(url, reply_timeout=5) as printer:
            await play_one_card(printer)
    assert printers[0].mismatch is None and printers[0].script_done


# ------------------------------------------------------------------------------------------------ concurrency


async def test_concurrent_callers_never_interleave() -> None:
    answers = {
        frame("Rco;c"): reply("41"),
        frame("Rco;p"): reply("900"),
        frame("Rr"): reply("ko"),
        frame("Sk;f"): reply("0"),
        frame("Rtp"): reply("Evolis Primacy"),
    }
    printer_end = RecordedPrinter(answers=answers, delay=0.002)
    async with pty_printer(printer_end) as path, await Printer.open(path, reply_timeout=5) as printer:
        calls = [
            call
            for _ in range(8)
            for call in (
                printer.card_counter(),
                printer.command("Rco", "p"),
                printer.command("Rr"),
                printer.command("Sk", "f"),
                printer.command("Rtp"),
            )
        ]
        results = await asyncio.gather(*calls)
    assert results == [41, "900", "ko", "0", "Evolis Primacy"] * 8
    assert printer_end.interleaved == []
    assert len(printer_end.frames) == 2 + 40


async def test_cancelled_caller_leaves_the_next_in_step() -> None:
    printer_end = RecordedPrinter([(frame("Se"), Late(reply("OK"))), (frame("Rlr;p"), reply("OK"))])
    async with pty_printer(printer_end) as path, await Printer.open(path, reply_timeout=5) as printer:
        printing = asyncio.create_task(printer.command("Se"))
        await wait_for(lambda: frame("Se") in printer_end.frames, 5, "Se at the printer")
        printing.cancel()
        with pytest.raises(asyncio.CancelledError):
            await printing
        assert await printer.card_position() is None  # the late OK of Se was not taken for Rlr;p's


# --------------------------------------------------------------------------------------------- refused locally


async def test_bad_frames_are_refused_before_anything_is_sent() -> None:
    printer_end = RecordedPrinter([])
    async with pty_printer(printer_end) as path, await Printer.open(path, reply_timeout=5) as printer:
        with pytest.raises(protocol.EncodeError, match="cannot be part of a card's front"):
            await printer.print_front([*CARD_FRAMES, protocol.encode_command("Ss")])
        with pytest.raises(protocol.EncodeError, match="not an encoded command"):
            await printer.send_raw(b"Ss\r")
        with pytest.raises(protocol.EncodeError, match="control character"):
            await printer.command("Wt", 40, 60, 0, 30, "BAIQ\r\x1bSs")
        with pytest.raises(protocol.EncodeError, match="bad command name"):
            await printer.command("S\u00e9")
        with pytest.raises(ValueError, match="ribbon"):
            await printer.setup("rainbow")
    assert printer_end.frames == []


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("FEEDER EMPTY", "feeder_empty"),
        ("COVER OPEN", "cover_open"),
        ("ERROR RIBBON", "ribbon"),
        ("CARD JAM", "jam"),
        ("HOPPER FULL", "hopper_full"),
        ("ERROR HEAD", "head"),
        ("NEED CLEANING", "cleaning"),
        ("ERROR TIME OUT", "mechanical_timeout"),
        ("ERROR CDE", "refused"),
        ("ERROR PARAMETRES", "refused"),
        ("ERROR HOPPER", "unknown"),
        ("OK", None),
        ("1041", None),
        ("CARD", None),
    ],
)
def test_fault_from_reply(text: str, code: str | None) -> None:
    fault = fault_from_reply(text, "Se")
    assert (fault.code if fault else None) == code
    if fault:
        assert (fault.reply, fault.command, fault.command_name) == (text, "Se", "Se")
        assert isinstance(fault, PrinterFault) and text in str(fault)


async def test_a_second_station_cannot_open_the_printer() -> None:
    async with emulated("pty") as (emu, printer):
        with pytest.raises(PortBusy):
            await Printer.open(emu.port)
        assert await printer.card_counter() == 0


# ------------------------------------------------------------------------------------------- against the emulator

NIK = "5203074708900001"


def portrait_jpeg() -> bytes:
    """A passport-like picture: a backdrop, a face, shoulders."""
    image = Image.new("RGB", (600, 800), (70, 110, 190))
    draw = ImageDraw.Draw(image)
    draw.ellipse((150, 120, 450, 480), fill=(230, 190, 160))
    draw.rectangle((90, 500, 510, 800), fill=(30, 30, 60))
    out = io.BytesIO()
    image.save(out, "JPEG")
    return out.getvalue()


def card_frames(nik: str = NIK) -> tuple[bytes, ...]:
    return layout_card(replace(FIELDS, nik=nik, photo=portrait_jpeg())).frames


@asynccontextmanager
async def emulated(
    door: str, reply_timeout: float = 5, time_scale: float = 0, **options: object
) -> AsyncIterator[tuple[EmulatorServer, Printer]]:
    make = EmulatorServer.pty if door == "pty" else EmulatorServer.tcp
    async with (
        make(time_scale=time_scale, **options) as emu,
        await Printer.open(emu.port, reply_timeout=reply_timeout) as printer,
    ):
        yield emu, printer


@pytest.mark.parametrize("door", ["pty", "tcp"])
async def test_whole_card_against_the_emulator(door: str, tmp_path: Path) -> None:
    log = tmp_path / "out.jsonl"
    async with emulated(door, feeder=5, log=log) as (emu, printer):
        info = await printer.identify()
        assert info.serial == emu.status()["serial"]
        await printer.setup("ko")
        before = await printer.status()
        assert before.card_inside is None and not before.feeder_empty and before.ribbon == "ko"
        await printer.take_blank()
        assert await printer.card_position() == "CARD"
        await printer.print_front(card_frames())
        after = await printer.status()
    assert after.card_inside is None
    assert after.cards_counter == before.cards_counter + 1
    assert after.panels_counter == before.panels_counter + 2  # k and o
    assert after.ribbon_left == before.ribbon_left - 1
    (line,) = read_output_log(log)
    assert (line["nik"], line["dest"], line["counter"]) == (NIK, "hopper", after.cards_counter)


# The fault kinds of the emulator, the command they meet, and the typed fault the driver raises.
FAULT_KINDS = {
    "feeder_empty": ("Ss", FeederEmpty),
    "timeout": ("Ss", MechanicalTimeout),
    "garble": ("Ss", GarbledReply),
    "cleaning": ("Ss", NeedCleaning),
    "cover_open": ("Se", CoverOpen),
    "ribbon_end": ("Se", RibbonFault),
    "hopper_full": ("Se", HopperFull),
    "head": ("Se", HeadFault),
    "jam": ("Se", CardJam),
    "drop": ("Se", ReplyTimeout),
}


def test_every_emulator_fault_kind_has_a_case() -> None:
    assert set(FAULT_KINDS) == set(EMULATOR_KINDS)


@pytest.mark.parametrize("kind", list(FAULT_KINDS))
async def test_fault_kind_maps_to_its_typed_fault(kind: str) -> None:
    meets, fault_type = FAULT_KINDS[kind]
    timeout = FAST if fault_type is ReplyTimeout else 5
    async with emulated("pty", reply_timeout=timeout, feeder=5, drop_s=0.1) as (emu, printer):
        await printer.setup("ko")
        emu.inject(kind)
        with pytest.raises(fault_type) as fault:
            await printer.take_blank()
            await printer.print_front(card_frames())
        assert fault.value.command == meets and fault.value.sent
        # Whatever the fault, the conversation goes on in step: the next reply is the next command's own.
        assert await printer.card_counter() == emu.status()["counters"]["cards"]


async def test_host_errors_are_refused_by_the_emulator() -> None:
    async with emulated("pty") as (_, printer):
        with pytest.raises(CommandRefused) as refused:
            await printer.command("Rco", "q")
        assert refused.value.reply == "ERROR PARAMETRES"
        await printer.take_blank()
        with pytest.raises(CommandRefused):  # a card is already inside
            await printer.take_blank()


@pytest.mark.parametrize("door", ["pty", "tcp"])
async def test_link_pulled_mid_card_then_plugged_back(door: str) -> None:
    async with emulated(door, reply_timeout=FAST, feeder=5) as (emu, printer):
        await printer.setup("ko")
        await printer.take_blank()
        emu.unplug()
        with pytest.raises(ReplyTimeout) as pulled:
            await printer.print_front(card_frames())
        assert (pulled.value.command, pulled.value.sent) == ("Sr", True)
        with pytest.raises(ReplyTimeout) as still:
            await printer.card_position()
        assert still.value.sent is False  # the resynchronisation got no answer: Rlr;p never went out
        emu.plug()
        await printer.reconnect()
        assert await printer.card_position() == "CARD"  # the blank is still inside, unprinted
        await printer.reject()
        assert await printer.card_position() is None
        status = emu.status()
    assert (status["reject"], status["hopper"], status["counters"]["cards"]) == (1, 0, 1)


async def test_emulator_going_away_is_a_lost_link() -> None:
    async with EmulatorServer.tcp(time_scale=0) as emu:
        printer = await Printer.open(emu.port, reply_timeout=5)
        assert await printer.card_counter() == 0
    try:
        with pytest.raises(LinkLost):
            await printer.card_counter()
    finally:
        await printer.close()


async def test_concurrent_callers_against_the_emulator() -> None:
    async with emulated("pty", feeder=5, time_scale=0.01) as (emu, printer):  # motions take a little time
        await printer.setup("ko")
        model = emu.status()["model"]

        async def one_card() -> int:
            await printer.take_blank()
            await printer.print_front(card_frames())
            return await printer.card_counter()

        calls = [one_card()]
        for _ in range(10):
            calls += [printer.command("Rtp"), printer.command("Rr"), printer.status(), printer.card_position()]
        results = await asyncio.gather(*calls)
    assert results[0] == 1
    for model_reply, ribbon, status, position in zip(*[iter(results[1:])] * 4):
        assert (model_reply, ribbon) == (model, "ko")
        assert isinstance(status, PrinterStatus) and status.ribbon == "ko"
        assert position in (None, "CARD")
