"""Files the station writes: whole or not at all, private by default, never through a planted link.

Every file written by the station or its emulator goes through here: reports, the audit export, the centre's
grants, demo data, the emulator's state and card pictures (`atomic_writer`), and the append-only logs
(`open_private_append`). It lives in `drivers/`, the lowest layer, because the emulator writes files too and
`drivers/` never imports `console/`.

The temporary file is made by `tempfile.mkstemp` in the target's folder: O_CREAT|O_EXCL with a random name, so
a link planted there by another user is never followed and never overwritten. A final name that exists and is
a link or anything but a regular file is refused (a rename would replace the link, but someone meant something
by it). Data is flushed and fsynced before the rename, and the folder after it: a power cut leaves the old file
or the new one.
"""

from __future__ import annotations

import errno
import os
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

PRIVATE = 0o600  # personal data: the owner alone reads it


def refuse_unsafe_target(path: Path) -> None:
    """Raise OSError if `path` exists and is a symbolic link or not a regular file."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return
    if stat.S_ISLNK(info.st_mode):
        raise OSError(errno.ELOOP, "is a symbolic link, not written through", str(path))
    if stat.S_ISDIR(info.st_mode):
        raise IsADirectoryError(errno.EISDIR, "is a folder", str(path))
    if not stat.S_ISREG(info.st_mode):
        raise OSError(errno.EINVAL, "is not a regular file", str(path))


@contextmanager
def atomic_writer(
    path: Path | str, *, mode: int = PRIVATE, encoding: str | None = None, newline: str | None = None
) -> Iterator[IO[Any]]:
    """A file object whose content replaces `path` when the block ends without an exception.

    Binary unless `encoding` is given. On an exception the temporary file is removed and `path` is untouched.
    """
    path = Path(path)
    folder = path.parent
    refuse_unsafe_target(path)
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    try:
        os.fchmod(descriptor, mode)
        if encoding is None:
            handle: IO[Any] = os.fdopen(descriptor, "wb")
        else:
            handle = os.fdopen(descriptor, "w", encoding=encoding, newline=newline)
        with handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        refuse_unsafe_target(path)  # planted while we wrote
        os.replace(temporary, path)
    except BaseException:
        try:
            os.unlink(temporary)
        except FileNotFoundError:
            pass
        raise
    fsync_folder(folder)


def write_atomic(path: Path | str, data: bytes | str, *, mode: int = PRIVATE, encoding: str = "utf-8") -> Path:
    """Replace `path` with `data` (text is encoded with `encoding`), durably; see `atomic_writer`."""
    payload = data.encode(encoding) if isinstance(data, str) else data
    with atomic_writer(path, mode=mode) as handle:
        handle.write(payload)
    return Path(path)


def fsync_folder(folder: Path | str) -> None:
    descriptor = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def open_private_append(path: Path | str, *, mode: int = PRIVATE, text: bool = False) -> IO[Any]:
    """Open a log for appending, never through a link: created `mode` (0600); an existing file loses what others
    (neither owner nor group) may do, and keeps its group's access, which an administrator gives on purpose
    (docs/ssh.md: the supervisor appends to the station's log)."""
    flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK
    descriptor = os.open(path, flags, mode)
    try:
        info = os.fstat(descriptor)
        if not stat.S_ISREG(info.st_mode):
            raise OSError(errno.EINVAL, "is not a regular file", str(path))
        os.set_blocking(descriptor, True)
        if info.st_mode & 0o007:
            os.fchmod(descriptor, stat.S_IMODE(info.st_mode) & ~0o007)
    except BaseException:
        os.close(descriptor)
        raise
    if text:
        return os.fdopen(descriptor, "a", encoding="utf-8", buffering=1)
    return os.fdopen(descriptor, "ab")
