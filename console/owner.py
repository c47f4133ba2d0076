"""One printer owner: the process that runs the queue holds an exclusive lock file beside the database."""

from __future__ import annotations

import fcntl
import json
import os
import sys
from pathlib import Path

from console.clock import now_iso
from console.errors import RefusedError
from console.i18n import t


class PrinterHeldError(RefusedError):
    """Another process holds the printer."""


class PrinterOwnership:
    def __init__(self, database: Path) -> None:
        self.path = database.with_name(database.name + ".printer.lock")
        self._fd: int | None = None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = self.holder()
            os.close(fd)
            raise PrinterHeldError(
                t("owner.held", pid=holder.get("pid", "?"), command=holder.get("command", "?"),
                  since=holder.get("since", "?"))
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, json.dumps({"pid": os.getpid(), "command": " ".join(sys.argv[:2]), "since": now_iso()}).encode())
        os.fsync(fd)
        self._fd = fd

    def holder(self) -> dict[str, object]:
        try:
            return json.loads(self.path.read_text() or "{}")
        except (OSError, ValueError):
            return {}

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing drops the flock; the file stays, naming the last holder
            self._fd = None

    def __enter__(self) -> "PrinterOwnership":
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
