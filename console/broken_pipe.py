"""Standard output whose reader has gone (`station print | head`): told apart from any other broken pipe, and
silenced the way Python's documentation recommends, so that the interpreter's flush at exit raises nothing."""

from __future__ import annotations

import io
import os
import select
import sys

_silenced = False


def stdout_is_broken() -> bool:
    """Whether standard output is a pipe whose reader left (or was already silenced for that), not another link."""
    if _silenced:
        return True
    try:
        descriptor = sys.stdout.fileno()
    except (AttributeError, ValueError, io.UnsupportedOperation):
        return False
    poller = select.poll()
    poller.register(descriptor, select.POLLOUT)
    return any(events & select.POLLERR for _, events in poller.poll(0))


def silence_stdout() -> None:
    """What is still buffered, and all that follows, goes to /dev/null."""
    global _silenced
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
    _silenced = True


def stdout_silenced() -> bool:
    return _silenced
