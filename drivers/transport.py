"""The link to the printer: an asyncio byte pipe over any pyserial port, 8N1, opened exclusively.

Ports that have a file descriptor (a device, a pseudo-terminal, `socket://`, `spy://`) are driven from the event loop
itself: `loop.add_reader` wakes us when bytes arrive, `loop.add_writer` when there is room to write, and pyserial's
non-blocking reads and writes (time-outs of 0) move the bytes. Ports without one (`rfc2217://`, `loop://`) get a
daemon reader thread that hands bytes to the loop with `call_soon_threadsafe`, and their blocking writes run in daemon
threads: a thread is stopped on close and can never keep the process alive.

A dead link (a read or write error, end of file, the device gone) is recorded once; `read` and `write` then raise
`LinkLost`, and `reconnect()` opens the same port again.
"""

from __future__ import annotations

import asyncio
import errno
import io
import select
import threading
from collections.abc import Callable
from typing import Any

import serial
import structlog

from drivers.faults import LinkLost, LinkUnavailable, PortBusy

log = structlog.get_logger("drivers.transport")

_READ_CHUNK = 65536
_THREAD_READ_TIMEOUT = 0.25  # how long a reader thread may block before it looks whether it must stop
_BUSY_ERRNOS = (errno.EAGAIN, errno.EWOULDBLOCK, errno.EACCES, errno.EBUSY)


class SerialLink:
    """One open port. Use `await SerialLink.open(port)`; bytes come out of `read()` and go in with `write()`."""

    def __init__(self, port: str, baudrate: int) -> None:
        self.port = port
        self.baudrate = baudrate
        self._serial: Any = None
        self._fd: int | None = None
        self._loop = asyncio.get_running_loop()
        self._buffer = bytearray()
        self._arrived = asyncio.Event()
        self._lost: str | None = None
        self._closed = True
        self._write_waiter: asyncio.Future[None] | None = None
        self._reader: _ReaderThread | None = None
        self._write_lock = threading.Lock()  # a cancelled threaded write still finishes before the next starts
        self._unsent = 0

    @classmethod
    async def open(cls, port: str, *, baudrate: int = 115200) -> SerialLink:
        link = cls(port, baudrate)
        await link._open()
        return link

    # ----------------------------------------------------------------------------------------------- state

    @property
    def lost(self) -> str | None:
        """Why the link died, or None while it is alive."""
        return self._lost

    @property
    def unsent(self) -> int:
        """Bytes of the last `write` that never reached the port (it was cancelled or failed); 0 once it is done."""
        return self._unsent

    @property
    def has_unread(self) -> bool:
        return bool(self._buffer)

    def discard_input(self) -> bytes:
        """Drop (and return) whatever has arrived and not been read."""
        data = bytes(self._buffer)
        self._buffer.clear()
        return data

    # ----------------------------------------------------------------------------------------------- I/O

    async def read(self) -> bytes:
        """Wait for bytes and return all that have arrived. Raises LinkLost once the link is dead and drained."""
        while not self._buffer:
            if self._lost is not None:
                raise LinkLost(f"link to {self.port} lost: {self._lost}")
            self._arrived.clear()
            await self._arrived.wait()
        return self.discard_input()

    async def write(self, data: bytes) -> None:
        """Hand every byte of `data` to the port. Cancelling it may leave part of `data` unsent (`unsent`)."""
        self._unsent = len(data)
        if self._lost is not None:
            raise LinkLost(f"link to {self.port} lost: {self._lost}")
        if self._fd is not None:
            await self._write_nonblocking(data, self._fd)
        else:
            await self._write_in_thread(data)

    async def _write_nonblocking(self, data: bytes, fd: int) -> None:
        while data:
            if not _writable_now(fd):
                await self._writable(fd)
            try:
                written = self._serial.write(data)  # write_timeout 0: what fits now, at least one byte
            except (serial.SerialException, OSError, ValueError) as error:
                self._lose(f"write failed: {error}")
                raise LinkLost(f"link to {self.port} lost: {self._lost}") from error
            data = data[written:]
            self._unsent = len(data)

    async def _writable(self, fd: int) -> None:
        waiter = self._loop.create_future()
        self._write_waiter = waiter

        def ready() -> None:
            if not waiter.done():
                waiter.set_result(None)

        self._loop.add_writer(fd, ready)
        try:
            await waiter
        finally:
            self._write_waiter = None
            if self._fd is not None:
                self._loop.remove_writer(self._fd)

    async def _write_in_thread(self, data: bytes) -> None:
        def write() -> None:
            with self._write_lock:
                self._serial.write(data)

        self._unsent = 0  # the thread finishes the write even if the awaiting task is cancelled
        try:
            await _in_daemon_thread(write)
        except (serial.SerialException, OSError, ValueError) as error:
            self._lose(f"write failed: {error}")
            raise LinkLost(f"link to {self.port} lost: {self._lost}") from error

    # ------------------------------------------------------------------------------------------ open / close

    async def _open(self) -> None:
        port = _make_port(self.port, self.baudrate)
        uses_fd = _has_fd(port)
        # Non-blocking I/O from the loop; a reader thread blocks a short while at most, so that it can stop.
        port.timeout = 0 if uses_fd else _THREAD_READ_TIMEOUT
        port.write_timeout = 0 if uses_fd else None
        try:
            await _in_daemon_thread(port.open)
        except (serial.SerialException, OSError, ValueError) as error:
            raise _open_error(self.port, error) from error
        self._serial, self._buffer, self._lost, self._closed = port, bytearray(), None, False
        if uses_fd:
            self._fd = port.fileno()
            self._loop.add_reader(self._fd, self._on_readable)
        else:
            self._reader = _ReaderThread(port, self._loop, self._on_data, self._lose)
            self._reader.start()
        log.debug("link.open", port=self.port, baudrate=self.baudrate, mode="loop" if uses_fd else "thread")

    async def close(self) -> None:
        """Close the port and stop any thread. Idempotent."""
        if self._closed:
            return
        self._closed = True
        if self._lost is None:
            self._lost = "closed"
        self._detach()
        self._arrived.set()
        port, self._serial = self._serial, None
        reader, self._reader = self._reader, None
        if reader is not None:
            reader.stop()
        await _in_daemon_thread(_close_quietly, port)
        if reader is not None:
            await _in_daemon_thread(reader.join, 2 * _THREAD_READ_TIMEOUT)
        log.debug("link.close", port=self.port)

    async def reconnect(self) -> None:
        """Close the port (dead or alive) and open the same port again. Raises LinkUnavailable if it cannot."""
        await self.close()
        await self._open()

    async def __aenter__(self) -> SerialLink:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    # -------------------------------------------------------------------------------------------- callbacks

    def _on_readable(self) -> None:
        try:
            data = self._serial.read(_READ_CHUNK)
        except (serial.SerialException, OSError, ValueError) as error:
            self._lose(f"read failed: {error}")
            return
        if data:
            self._on_data(data)

    def _on_data(self, data: bytes) -> None:
        self._buffer += data
        self._arrived.set()

    def _lose(self, reason: str) -> None:
        if self._lost is not None:
            return
        self._lost = reason
        log.debug("link.lost", port=self.port, reason=reason)
        self._detach()
        self._arrived.set()

    def _detach(self) -> None:
        """Stop watching the descriptor (a hung-up one would wake the loop for ever) and fail a waiting write."""
        if self._fd is not None:
            self._loop.remove_reader(self._fd)
            self._loop.remove_writer(self._fd)
            self._fd = None
        waiter = self._write_waiter
        if waiter is not None and not waiter.done():
            waiter.set_exception(LinkLost(f"link to {self.port} lost: {self._lost}"))


class _ReaderThread(threading.Thread):
    """For ports without a file descriptor: blocks in `read` and passes what arrives to the loop."""

    def __init__(
        self,
        port: Any,
        loop: asyncio.AbstractEventLoop,
        on_data: Callable[[bytes], None],
        on_lost: Callable[[str], None],
    ) -> None:
        super().__init__(name=f"printer-reader {port.portstr}", daemon=True)
        self._port, self._loop, self._on_data, self._on_lost = port, loop, on_data, on_lost
        self._stopping = threading.Event()

    def stop(self) -> None:
        self._stopping.set()
        cancel = getattr(self._port, "cancel_read", None)
        if cancel is not None:
            try:
                cancel()
            except Exception:  # the port may be closing under us; the time-out ends the read anyway
                pass

    def run(self) -> None:
        while not self._stopping.is_set():
            try:
                data = self._port.read(max(1, min(self._port.in_waiting, _READ_CHUNK)))
            except Exception as error:  # any failure of the port is the end of this link
                if not self._stopping.is_set():
                    self._hand_over(self._on_lost, f"read failed: {error}")
                return
            if data and not self._stopping.is_set():
                self._hand_over(self._on_data, data)

    def _hand_over(self, callback: Callable[[Any], None], value: Any) -> None:
        try:
            self._loop.call_soon_threadsafe(callback, value)
        except RuntimeError:  # the loop is closed: nobody is listening any more
            self._stopping.set()


def _make_port(port: str, baudrate: int) -> Any:
    """A pyserial port object for `port`, not yet opened: 8N1 at `baudrate`, exclusive where the port supports it."""
    try:
        return serial.serial_for_url(
            port,
            do_not_open=True,
            baudrate=baudrate,
            bytesize=serial.EIGHTBITS,
            parity=serial.PARITY_NONE,
            stopbits=serial.STOPBITS_ONE,
            exclusive=True,
        )
    except (serial.SerialException, ValueError) as error:
        raise LinkUnavailable(f"cannot use printer port {port!r}: {error}") from error


def _has_fd(port: Any) -> bool:
    return type(port).fileno is not io.RawIOBase.fileno


def _open_error(port: str, error: Exception) -> LinkUnavailable:
    if getattr(error, "errno", None) in _BUSY_ERRNOS and "lock" in str(error).lower():
        return PortBusy(f"printer port {port} is held by another process: {error}")
    return LinkUnavailable(f"cannot open printer port {port}: {error}")


def _writable_now(fd: int) -> bool:
    _, writable, _ = select.select([], [fd], [], 0)
    return bool(writable)


def _close_quietly(port: Any) -> None:
    try:
        port.close()
    except Exception:  # closing a dead port may fail; it is closed all the same
        pass


def _in_daemon_thread(function: Callable[..., Any], *args: Any) -> asyncio.Future[Any]:
    """Run a blocking call in a daemon thread (never one that keeps the process alive) and await its result."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[Any] = loop.create_future()

    def settle(result: Any, error: BaseException | None) -> None:
        if future.done():
            return
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result)

    def run() -> None:
        try:
            result, error = function(*args), None
        except BaseException as caught:  # handed to the awaiting task, re-raised there
            result, error = None, caught
        try:
            loop.call_soon_threadsafe(settle, result, error)
        except RuntimeError:  # the loop is gone
            pass

    threading.Thread(target=run, name=f"printer-io {getattr(function, '__name__', 'call')}", daemon=True).start()
    return future
