"""The emulator's doors: a pseudo-terminal or a TCP port for the printer protocol, and a control socket.

`EmulatorService` runs them on the current asyncio loop (the `station emulator` command); `inprocess.py` runs
the same service on a thread of its own for a host in the same process.
"""

from __future__ import annotations

import asyncio
import errno
import json
import logging
import os
import termios
import time
import tty
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from drivers.emulator.faults import KINDS
from drivers.emulator.model import HandRefused, command_decoder
from drivers.emulator.runtime import Emulator, EmulatorOptions

LOOPBACK = ("127.0.0.1", "::1", "localhost")
_log = logging.getLogger(__name__)


def transfer_seconds(nbytes: int, baud: int | None) -> float:
    """How long `nbytes` take on a serial line at `baud` (8N1: ten bits a byte); 0 without a limit."""
    return nbytes * 10 / baud if baud else 0.0


class Pacer:
    """Holds each direction of the link to baud/10 bytes a second, as a real serial line does."""

    def __init__(self, baud: int | None) -> None:
        self.baud = baud
        self._free_at = {"in": 0.0, "out": 0.0}

    def chunk(self) -> int:
        return max(1, min(4096, self.baud // 200)) if self.baud else 65536  # about 1/20 s of line a read

    async def carry(self, direction: str, nbytes: int) -> None:
        if not self.baud:
            return
        now = time.monotonic()
        self._free_at[direction] = max(now, self._free_at[direction]) + transfer_seconds(nbytes, self.baud)
        await asyncio.sleep(self._free_at[direction] - now)


class Link(Protocol):
    async def read(self, limit: int) -> bytes: ...
    async def write(self, data: bytes) -> None: ...


# ---------------------------------------------------------------------------------------------- command sessions


async def serve_link(emulator: Emulator, link: Link) -> None:
    """Read commands from one link and answer each, until the link ends (EOF) or the task is cancelled."""
    pacer = Pacer(emulator.options.baud)
    decoder, dirty = command_decoder(), False
    while True:
        try:
            async with asyncio.timeout(emulator.options.frame_timeout_s if dirty else None):
                data = await link.read(pacer.chunk())
        except TimeoutError:  # a command left half sent is thrown away, as a printer's receive time-out does
            decoder, dirty = command_decoder(), False
            continue
        if not data:
            return
        if not emulator.link_up:  # the line is dead: what was sent is lost
            decoder, dirty = command_decoder(), False
            continue
        await pacer.carry("in", len(data))
        dirty = True
        for event in decoder.feed(data):
            reply = await emulator.execute(event)
            if reply is None or not emulator.link_up:
                continue
            await pacer.carry("out", len(reply))
            if emulator.link_up:
                await link.write(reply)


class PtyLink:
    """The master side of a pseudo-terminal whose slave is the printer's device. The slave stays open here too,
    so a host may close the device and open it again: the master never sees a hang-up."""

    def __init__(self) -> None:
        self.master, self.slave = os.openpty()
        _make_raw(self.slave)
        os.set_blocking(self.master, False)
        self.path = os.ttyname(self.slave)

    async def read(self, limit: int) -> bytes:
        loop = asyncio.get_running_loop()
        while True:
            try:
                return os.read(self.master, limit)
            except BlockingIOError:
                await _fd_ready(loop.add_reader, loop.remove_reader, self.master)
            except OSError as exc:
                if exc.errno != errno.EIO:
                    raise
                await asyncio.sleep(0.05)  # no slave open at this instant; ours is held, so it is brief

    async def write(self, data: bytes) -> None:
        loop = asyncio.get_running_loop()
        view = memoryview(data)
        while view:
            try:
                view = view[os.write(self.master, view) :]
            except BlockingIOError:
                await _fd_ready(loop.add_writer, loop.remove_writer, self.master)

    def close(self) -> None:
        for fd in (self.master, self.slave):
            try:
                os.close(fd)
            except OSError:
                pass


def _make_raw(fd: int) -> None:
    """No echo, no line editing, no CR/LF translation either way: binary payloads pass untouched."""
    tty.setraw(fd)
    attrs = termios.tcgetattr(fd)
    attrs[0] &= ~(termios.INLCR | termios.IGNCR | termios.ICRNL | termios.IXON | termios.IXOFF)
    attrs[1] &= ~(termios.OPOST | termios.ONLCR | termios.OCRNL)
    attrs[3] &= ~(termios.ECHO | termios.ECHONL | termios.ICANON | termios.ISIG | termios.IEXTEN)
    termios.tcsetattr(fd, termios.TCSANOW, attrs)


async def _fd_ready(add: Callable[..., None], remove: Callable[[int], Any], fd: int) -> None:
    future = asyncio.get_running_loop().create_future()

    def ready() -> None:
        if not future.done():
            future.set_result(None)

    add(fd, ready)
    try:
        await future
    finally:
        remove(fd)


class StreamLink:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    async def read(self, limit: int) -> bytes:
        try:
            return await self.reader.read(limit)
        except ConnectionError:
            return b""

    async def write(self, data: bytes) -> None:
        try:
            self.writer.write(data)
            await self.writer.drain()
        except ConnectionError:
            pass  # the host is gone; the next read says so


# ---------------------------------------------------------------------------------------------- control socket

CONTROL_HELP = (
    "load N, open-cover, close-cover, jam, clear, empty-hopper, unplug, plug, status, ribbon [N], clean, fault KIND"
)


def control_line(emulator: Emulator, line: str) -> str:
    """Answer one control line with one line: OK, a JSON status, or an ERROR sentence."""
    words = line.split()
    if not words:
        return f"ERROR empty line; lines are: {CONTROL_HELP}"
    verb, args = words[0].lower(), words[1:]
    simple: dict[str, Callable[[], Any]] = {
        "open-cover": emulator.open_cover, "close-cover": emulator.close_cover, "jam": emulator.jam,
        "clear": emulator.clear, "empty-hopper": emulator.empty_hopper, "unplug": emulator.unplug,
        "plug": emulator.plug, "clean": emulator.clean,
    }  # fmt: skip
    if verb == "status" and not args:
        return json.dumps(emulator.status(), ensure_ascii=False)
    if verb in simple and not args:
        try:
            simple[verb]()
        except HandRefused as refused:
            return f"ERROR {refused}"
        return "OK"
    if verb == "load" and len(args) == 1 and _count(args[0]):
        emulator.load(int(args[0]))
        return "OK"
    if verb == "ribbon" and len(args) <= 1 and all(_count(a) for a in args):
        emulator.new_ribbon(int(args[0]) if args else None)
        return "OK"
    if verb == "fault" and len(args) == 1 and args[0] in KINDS:
        emulator.inject(args[0])
        return "OK"
    if verb in (*simple, "status", "load", "ribbon", "fault"):
        usage = {"load": "load N (N blanks, 0 or more)", "ribbon": "ribbon [N] (a new ribbon of N prints)",
                 "fault": f"fault KIND (KIND one of {', '.join(KINDS)})"}.get(verb, f"{verb} (no argument)")  # fmt: skip
        return f"ERROR bad arguments {' '.join(args)!r}; usage: {usage}"
    return f"ERROR unknown command {verb!r}; lines are: {CONTROL_HELP}"


def _count(word: str) -> bool:
    """ASCII digits only: `str.isdigit` also takes `²`, which `int` refuses."""
    return word.isascii() and word.isdigit()


async def _serve_control_client(emulator: Emulator, reader: asyncio.StreamReader,
                                writer: asyncio.StreamWriter) -> None:  # fmt: skip
    try:
        while line := await reader.readline():
            try:
                text = line.decode("utf-8")
            except UnicodeDecodeError:
                answer = "ERROR the line is not UTF-8 text"
            else:
                answer = control_line(emulator, text)
            writer.write(answer.encode("utf-8") + b"\n")
            await writer.drain()
    except (ConnectionError, asyncio.LimitOverrunError, ValueError):
        pass
    finally:
        writer.close()


# ---------------------------------------------------------------------------------------------- the service


class EmulatorService:
    """The emulator with its doors, on the running loop. `port` is the pty path or the `socket://` URL."""

    def __init__(self, options: EmulatorOptions, *, tcp: tuple[str, int] | None = None,
                 control: tuple[str, int] | None = None) -> None:  # fmt: skip
        if control is not None and control[0] not in LOOPBACK:
            raise ValueError(f"the control socket listens on loopback only, not on {control[0]!r}")
        self.options = options
        self._tcp, self._control = tcp, control
        self.emulator: Emulator | None = None
        self.port = ""
        self.control_address: tuple[str, int] | None = None
        self._pty: PtyLink | None = None
        self._servers: list[asyncio.Server] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> EmulatorService:
        emulator = self.emulator = Emulator(self.options)
        try:
            if self._tcp is None:
                self._pty = PtyLink()
                self.port = self._pty.path
                self._spawn(serve_link(emulator, self._pty))
            else:
                server = await asyncio.start_server(self._tcp_client, *self._tcp)
                self._servers.append(server)
                host, port = server.sockets[0].getsockname()[:2]
                self.port = f"socket://{_url_host(host)}:{port}"
            if self._control is not None:
                server = await asyncio.start_server(self._control_client, *self._control)
                self._servers.append(server)
                self.control_address = server.sockets[0].getsockname()[:2]
        except BaseException:
            await self.close()
            raise
        return self

    def _spawn(self, work: Awaitable[None]) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._ended)

    def _ended(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            _log.error("the emulator stopped serving its link", exc_info=task.exception())

    async def _tcp_client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        assert self.emulator is not None
        await self._client(serve_link(self.emulator, StreamLink(reader, writer)), writer)

    async def _control_client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        assert self.emulator is not None
        await self._client(_serve_control_client(self.emulator, reader, writer), writer)

    async def _client(self, work: Awaitable[None], writer: asyncio.StreamWriter) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        self._writers.add(writer)
        try:
            await task
        except (asyncio.CancelledError, ConnectionError):
            pass
        finally:
            self._tasks.discard(task)
            self._writers.discard(writer)
            writer.close()

    async def close(self) -> None:
        for server in self._servers:
            server.close()
        for writer in list(self._writers):
            writer.close()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for server in self._servers:
            await server.wait_closed()
        self._servers.clear()
        if self._pty is not None:
            self._pty.close()
            self._pty = None
        if self.emulator is not None:
            self.emulator.close()

    async def __aenter__(self) -> EmulatorService:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host
