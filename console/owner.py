"""One printer owner: the process that runs the queue holds an exclusive lock on the database and on the port.

Both locks are keyed on identity, not on the spelling of a path: the database's real path (a symlink or `..`
leads to the same lock file), and the printer port's (a device's real path, a URL's normalised form). A second
station on another database but the same printer is refused as well: it would settle the first one's card in
flight from the printer's counter.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import socket
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

from console.clock import now_iso
from console.errors import RefusedError
from console.i18n import t

LOCK_DIR_ENV = "STATION_LOCK_DIR"  # where port locks live; every station on one machine must share it


class PrinterHeldError(RefusedError):
    """Another process holds the printer."""


def database_lock_path(database: Path) -> Path:
    """The lock file of a database, beside its real file: every path that leads to the database finds it."""
    real = Path(os.path.realpath(database))
    return real.with_name(real.name + ".printer.lock")


def port_identity(port: str) -> str:
    """What names one printer whatever the spelling: a device's real path; a URL with its scheme and host in
    lower case, the host's address when it resolves, and no options (`spy://`, `?logging=`…) around the port."""
    if "://" not in port:
        return os.path.realpath(port)
    url = urlsplit(port.strip())
    scheme = url.scheme.lower()
    if scheme == "spy" and not url.netloc:  # spy:///dev/ttyUSB0: the device beneath
        return os.path.realpath(url.path)
    host = (url.hostname or "").lower()
    try:
        host = socket.gethostbyname(host) if host else host
    except OSError:
        pass  # not resolvable here: its spelling, lower case, is the best name there is
    port_number = url.port if url.port is not None else ""
    return f"{scheme}://{host}:{port_number}{url.path.rstrip('/')}"


def _inode_lock_path(database: Path) -> Path | None:
    """A lock keyed on the database file itself (device and inode): a hard link has another real path."""
    try:
        st = os.stat(database)
    except OSError:
        return None  # not created yet: nothing can link to it, the real path's lock is enough
    return port_lock_dir() / f"ktpel-station-database-{st.st_dev}-{st.st_ino}.lock"


def port_lock_dir() -> Path:
    chosen = os.environ.get(LOCK_DIR_ENV)
    if chosen:
        return Path(chosen)
    run_lock = Path("/run/lock")
    if run_lock.is_dir() and os.access(run_lock, os.W_OK):
        return run_lock
    return Path(tempfile.gettempdir())


def port_lock_path(port: str) -> Path:
    digest = hashlib.sha256(port_identity(port).encode()).hexdigest()[:24]
    return port_lock_dir() / f"ktpel-station-printer-{digest}.lock"


class _FileLock:
    """An exclusive, non-blocking flock on a file that names its holder (the file stays, naming the last one)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def acquire(self, holder: dict[str, object]) -> bool:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        os.ftruncate(fd, 0)
        os.write(fd, json.dumps(holder).encode())
        os.fsync(fd)
        self._fd = fd
        return True

    def holder(self) -> dict[str, object]:
        try:
            return json.loads(self.path.read_text() or "{}")
        except (OSError, ValueError):
            return {}

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing drops the flock
            self._fd = None


class PrinterOwnership:
    """The database's lock, and the port's when `port` names a printer outside the station (the built-in
    emulator belongs to the database: its lock is enough)."""

    def __init__(self, database: Path, port: str | None = None) -> None:
        self.path = database_lock_path(database)
        self._database = _FileLock(self.path)
        self._port = None if port is None or port == "emulator" else _FileLock(port_lock_path(port))
        self._inode = _FileLock(inode) if (inode := _inode_lock_path(database)) else None
        self._port_name = port
        self._real_database = str(Path(os.path.realpath(database)))

    def acquire(self) -> None:
        me = {"pid": os.getpid(), "command": " ".join(sys.argv[:2]), "since": now_iso()}
        if not self._database.acquire(me):
            self._refuse(self._database.holder())
        if self._inode is not None and not self._inode.acquire(me):  # the same file under another name (a hard link)
            self._database.release()
            self._refuse(self._inode.holder())
        if self._port is not None and not self._port.acquire(me | {"database": self._real_database}):
            self._release_database()
            holder = self._port.holder()
            raise PrinterHeldError(
                t(
                    "owner.port_held",
                    port=self._port_name,
                    pid=holder.get("pid", "?"),
                    command=holder.get("command", "?"),
                    database=holder.get("database", "?"),
                    since=holder.get("since", "?"),
                )
            ) from None

    @staticmethod
    def _refuse(holder: dict[str, object]) -> None:
        raise PrinterHeldError(
            t(
                "owner.held",
                pid=holder.get("pid", "?"),
                command=holder.get("command", "?"),
                since=holder.get("since", "?"),
            ),
            hint="owner.held",
        ) from None

    def holder(self) -> dict[str, object]:
        return self._database.holder()

    def release(self) -> None:
        if self._port is not None:
            self._port.release()
        self._release_database()

    def _release_database(self) -> None:
        if self._inode is not None:
            self._inode.release()
        self._database.release()

    def __enter__(self) -> PrinterOwnership:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
