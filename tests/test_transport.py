"""The serial link on real ports: pseudo-terminals, TCP (`socket://`), `spy://`, `rfc2217://` and pyserial's
`loop://` (the threaded path), with 8N1 settings, exclusive open, large writes and dead links."""

from __future__ import annotations

import asyncio
import os
import socket
import termios
import threading
import tty
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
import serial
import serial.rfc2217

from drivers.faults import LinkLost, LinkUnavailable, PortBusy
from drivers.transport import SerialLink


@asynccontextmanager
async def pty_pair() -> AsyncIterator[tuple[int, str]]:
    """A pseudo-terminal: the far end's master fd (non-blocking) and the device path the link opens."""
    master, slave = os.openpty()
    tty.setraw(slave)
    os.set_blocking(master, False)
    try:
        yield master, os.ttyname(slave)
    finally:
        for fd in (master, slave):
            try:
                os.close(fd)
            except OSError:
                pass


async def read_master(master: int, count: int) -> bytes:
    """Read `count` bytes from the master, waiting on the loop (the link writes on the same loop)."""
    loop = asyncio.get_running_loop()
    data = bytearray()
    while len(data) < count:
        ready = loop.create_future()
        loop.add_reader(master, ready.set_result, None)
        try:
            await ready
        finally:
            loop.remove_reader(master)
        data += os.read(master, count - len(data))
    return bytes(data)


async def read_exactly(link: SerialLink, count: int) -> bytes:
    data = bytearray()
    while len(data) < count:
        data += await link.read()
    return bytes(data)


def threads_named(prefix: str) -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith(prefix)]


# ------------------------------------------------------------------------------------------------ pseudo-terminal


async def test_pty_both_ways_at_8n1() -> None:
    async with pty_pair() as (master, path), await SerialLink.open(path, baudrate=115200) as link:
        await link.write(b"\x1bRfv\r")
        assert await read_master(master, 5) == b"\x1bRfv\r"
        os.write(master, b"1.7.2\r\x00\x1b\r")  # binary bytes pass untouched
        assert await read_exactly(link, 9) == b"1.7.2\r\x00\x1b\r"
        iflag, oflag, cflag, lflag, ispeed, ospeed, _ = termios.tcgetattr(master)
        assert cflag & termios.CSIZE == termios.CS8
        assert not cflag & (termios.PARENB | termios.CSTOPB)
        assert (ispeed, ospeed) == (termios.B115200, termios.B115200)
        assert not lflag & (termios.ICANON | termios.ECHO) and not iflag & termios.ICRNL and not oflag & termios.OPOST


async def test_large_write_does_not_block_the_loop() -> None:
    """A frame far larger than the pty's buffer goes out while the far end reads on the same loop."""
    frame = bytes(range(256)) * 1024  # 256 KiB
    async with pty_pair() as (master, path), await SerialLink.open(path) as link:
        received, _ = await asyncio.gather(read_master(master, len(frame)), link.write(frame))
    assert received == frame


async def test_exclusive_open() -> None:
    async with pty_pair() as (_, path):
        first = await SerialLink.open(path)
        with pytest.raises(PortBusy) as busy:
            await SerialLink.open(path)
        assert busy.value.code == "port_busy" and path in str(busy.value)
        await first.close()
        second = await SerialLink.open(path)  # the lock went with the first
        await second.close()


async def test_far_end_hangs_up() -> None:
    async with pty_pair() as (master, path), await SerialLink.open(path) as link:
        os.write(master, b"OK\r")
        assert await read_exactly(link, 3) == b"OK\r"
        os.close(master)
        with pytest.raises(LinkLost):
            await link.read()
        assert link.lost is not None
        with pytest.raises(LinkLost):
            await link.write(b"\x1bRfv\r")


async def test_no_such_port() -> None:
    with pytest.raises(LinkUnavailable) as missing:
        await SerialLink.open("/dev/no-such-printer")
    assert missing.value.code == "link_unavailable" and "/dev/no-such-printer" in str(missing.value)
    with pytest.raises(LinkUnavailable, match="cannot use printer port"):
        await SerialLink.open("nosuch://printer")


async def test_spy_url_records_the_traffic(tmp_path: Path) -> None:
    record = tmp_path / "spy.txt"
    async with pty_pair() as (master, path), await SerialLink.open(f"spy://{path}?file={record}") as link:
        await link.write(b"\x1bRfv\r")
        assert await read_master(master, 5) == b"\x1bRfv\r"
        os.write(master, b"1.7.2\r")
        assert await read_exactly(link, 6) == b"1.7.2\r"
    text = record.read_text()
    assert "TX" in text and "1B 52 66 76 0D" in text
    assert "RX" in text and "31 2E 37 2E 32 0D" in text


# ------------------------------------------------------------------------------------------------------- TCP


@asynccontextmanager
async def tcp_peer() -> AsyncIterator[tuple[str, asyncio.Queue]]:
    connections: asyncio.Queue = asyncio.Queue()

    async def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await connections.put((reader, writer))

    server = await asyncio.start_server(accept, "127.0.0.1", 0)
    host, port = server.sockets[0].getsockname()[:2]
    try:
        yield f"socket://{host}:{port}", connections
    finally:
        server.close()
        while not connections.empty():
            connections.get_nowait()[1].close()
        await server.wait_closed()


async def test_tcp_both_ways_then_the_peer_closes_then_reconnect() -> None:
    async with tcp_peer() as (url, connections), await SerialLink.open(url) as link:
        reader, writer = await connections.get()
        await link.write(b"\x1bRtp\r")
        assert await reader.readexactly(5) == b"\x1bRtp\r"
        writer.write(b"Evolis\r")
        assert await read_exactly(link, 7) == b"Evolis\r"
        writer.close()
        with pytest.raises(LinkLost):
            await link.read()
        await link.reconnect()
        reader, writer = await connections.get()
        await link.write(b"\x1bRsn\r")
        assert await reader.readexactly(5) == b"\x1bRsn\r"
        writer.close()


async def test_tcp_nobody_listening() -> None:
    with socket.socket() as probe:  # a port that was free a moment ago
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(LinkUnavailable):
        await SerialLink.open(f"socket://127.0.0.1:{port}")


# --------------------------------------------------------------------------------------- ports without a descriptor


async def test_loop_url_uses_a_reader_thread_that_stops_on_close() -> None:
    link = await SerialLink.open("loop://")
    assert threads_named("printer-reader")
    await link.write(b"\x1bRco;c\r")
    assert await read_exactly(link, 7) == b"\x1bRco;c\r"
    await link.close()
    assert not any(t.is_alive() for t in threads_named("printer-reader"))
    with pytest.raises(LinkLost):
        await link.read()


@asynccontextmanager
async def rfc2217_echo_server() -> AsyncIterator[str]:
    """pyserial's own RFC 2217 port manager in front of a `loop://` port: what the client sends comes back."""
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    stop = threading.Event()

    class Connection:  # what PortManager writes its negotiation to
        def __init__(self, sock: socket.socket) -> None:
            self.sock = sock

        def write(self, data: bytes) -> None:
            self.sock.sendall(data)

    def serve() -> None:
        try:
            connection, _ = listener.accept()
        except OSError:  # closed before anyone came
            return
        backing = serial.serial_for_url("loop://", timeout=0.05)
        manager = serial.rfc2217.PortManager(backing, Connection(connection))
        connection.settimeout(0.05)
        while not stop.is_set():
            try:
                data = connection.recv(4096)
                if not data:
                    break
                backing.write(b"".join(manager.filter(data)))
            except TimeoutError:
                pass
            echoed = backing.read(backing.in_waiting)
            if echoed:
                connection.sendall(b"".join(manager.escape(echoed)))
        connection.close()
        backing.close()

    worker = threading.Thread(target=serve, daemon=True)
    worker.start()
    try:
        yield f"rfc2217://127.0.0.1:{port}"
    finally:
        stop.set()
        listener.close()
        await asyncio.to_thread(worker.join, 5)


@pytest.mark.filterwarnings("ignore:set(Daemon|Name)\\(\\) is deprecated:DeprecationWarning")
async def test_rfc2217_url() -> None:
    async with rfc2217_echo_server() as url, await SerialLink.open(url, baudrate=115200) as link:
        await link.write(b"\x1bRr\r")
        assert await read_exactly(link, 4) == b"\x1bRr\r"


async def test_close_is_idempotent_and_wakes_a_reader() -> None:
    async with pty_pair() as (_, path):
        link = await SerialLink.open(path)
        reading = asyncio.create_task(link.read())
        await asyncio.sleep(0)  # one turn of the loop: the reader is now waiting
        assert not reading.done()
        await link.close()
        await link.close()
        with pytest.raises(LinkLost):
            await reading
