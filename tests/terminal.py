"""A process on a pseudo-terminal, for the tests that drive a console as a person would: its screen kept by pyte
(as a terminal draws it), the raw bytes kept too, keys typed, the window resized, the line hung up."""

from __future__ import annotations

import fcntl
import os
import pty
import select
import signal
import struct
import subprocess
import termios
import time
from collections.abc import Callable
from pathlib import Path

import pyte

ROOT = Path(__file__).resolve().parent.parent


def _take_terminal() -> None:
    """In the child, after setsid: make the pseudo-terminal its controlling terminal, as sshd does."""
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


class Terminal:
    """`Terminal(argv, cwd)`: `argv` started on a new pseudo-terminal of `columns`x`lines`, in a session of its own
    whose controlling terminal it is (a hang-up reaches it as SIGHUP)."""

    def __init__(self, args: list[str], cwd: Path, columns: int = 80, lines: int = 24, **env: str) -> None:
        self.master, slave = pty.openpty()
        os.set_blocking(self.master, False)
        self._set_size(columns, lines)
        self.screen = pyte.Screen(columns, lines)
        self.stream = pyte.ByteStream(self.screen)
        self.output = b""  # every byte drawn, for what the screen no longer shows
        environment = dict(os.environ, TERM="xterm-256color", PYTHONPATH=str(ROOT)) | env
        # Textual draws on standard error; messages before it starts go there too.
        self.process = subprocess.Popen(args, stdin=slave, stdout=slave, stderr=slave, cwd=cwd, env=environment,
                                        start_new_session=True, preexec_fn=_take_terminal)  # fmt: skip
        os.close(slave)

    def _set_size(self, columns: int, lines: int) -> None:
        fcntl.ioctl(self.master, termios.TIOCSWINSZ, struct.pack("HHHH", lines, columns, 0, 0))

    def resize(self, columns: int, lines: int) -> None:
        self.screen.resize(lines, columns)
        self._set_size(columns, lines)  # the kernel sends SIGWINCH to the terminal's process group

    def text(self) -> str:
        return "\n".join(self.screen.display)

    def _drain(self) -> None:
        if self.master >= 0 and select.select([self.master], [], [], 0.1)[0]:
            try:
                data = os.read(self.master, 65536)
            except OSError:
                return
            self.output += data
            self.stream.feed(data)

    def until(self, condition: Callable[[str], bool], what: str, timeout: float = 30.0) -> str:
        """Wait until the screen's text meets `condition`; return that text."""
        deadline = time.monotonic() + timeout
        while not condition(self.text()):
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}; the screen shows:\n{self.text()}")
            if self.process.poll() is not None:
                raise AssertionError(f"the process ended ({self.process.returncode}) before {what}:\n{self.text()}")
            self._drain()
        return self.text()

    def read_until(self, wanted: bytes, timeout: float = 30.0) -> None:
        """Wait until `wanted` was drawn, whatever the screen shows now."""
        deadline = time.monotonic() + timeout
        while wanted not in self.output:
            if time.monotonic() > deadline:
                raise AssertionError(f"{wanted!r} never appeared; the screen got {self.output[-2000:]!r}")
            self._drain()

    def type(self, data: bytes) -> None:
        os.write(self.master, data)

    def wait(self, timeout: float = 30.0) -> int:
        """The exit status, reading what it draws meanwhile (so that it never blocks writing to the terminal)."""
        try:
            deadline = time.monotonic() + timeout
            while self.process.poll() is None and time.monotonic() < deadline:
                self._drain()
            return self.process.wait(timeout=1)
        finally:
            self.close()

    def hang_up(self) -> None:
        """The terminal goes away, as when an SSH connection drops: the kernel sends SIGHUP."""
        os.close(self.master)
        self.master = -1

    def close(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        if self.master >= 0:
            os.close(self.master)
            self.master = -1
