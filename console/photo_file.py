"""A resident's photo file, read safely: at the import (checked) and again at print time (it may have been
replaced since). Never waits on a FIFO or a device, never reads more than a photo can be, never decodes a picture
bigger than the card's layout accepts. Called off the event loop (the import's thread, the card builder's)."""

from __future__ import annotations

import os
import stat
import warnings
from pathlib import Path
from typing import BinaryIO

from console.i18n import t

PHOTO_MAX_BYTES = 10 * 1024 * 1024  # a recording desk's photo is tens of kilobytes; this is generous
_JPEG = b"\xff\xd8\xff"
_PNG = b"\x89PNG\r\n\x1a\n"


class PhotoError(ValueError):
    """A photo file that cannot be used: the message names the file and why."""


def open_photo(path: Path) -> BinaryIO:
    """The photo opened for reading, if it is a regular file no bigger than PHOTO_MAX_BYTES.

    O_NONBLOCK: opening a FIFO would otherwise wait for a writer for ever; a regular file ignores the flag.
    """
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        key = "residents.photo_missing" if isinstance(exc, FileNotFoundError) else None
        if key:
            raise PhotoError(t(key, path=path)) from None
        raise PhotoError(t("residents.photo_unreadable", path=path, error=exc.strerror or exc)) from None
    info = os.fstat(descriptor)
    if not stat.S_ISREG(info.st_mode):
        os.close(descriptor)
        raise PhotoError(t("residents.photo_not_file", path=path))
    if info.st_size > PHOTO_MAX_BYTES:
        os.close(descriptor)
        raise _too_big(path, info.st_size)
    return os.fdopen(descriptor, "rb")


def read_photo(path: Path | str) -> bytes:
    """The photo's bytes for the card (print time)."""
    path = Path(path)
    try:
        with open_photo(path) as f:
            data = f.read(PHOTO_MAX_BYTES + 1)
    except OSError as exc:
        raise PhotoError(t("residents.photo_unreadable", path=path, error=exc.strerror or exc)) from None
    if len(data) > PHOTO_MAX_BYTES:  # it grew after the check
        raise _too_big(path, len(data))
    return data


def check_photo(path: Path) -> None:
    """The import's check: a regular file, not too big, JPEG or PNG by content, not too many pixels."""
    try:
        with open_photo(path) as f:
            head = f.read(len(_PNG))
            if not (head.startswith(_JPEG) or head == _PNG):
                raise PhotoError(t("residents.photo_format", path=path))
            f.seek(0)
            width, height = _dimensions(path, f)
    except OSError as exc:
        raise PhotoError(t("residents.photo_unreadable", path=path, error=exc.strerror or exc)) from None
    from drivers.card_bitmap import MAX_IMAGE_PIXELS

    if width * height > MAX_IMAGE_PIXELS:
        raise _too_many_pixels(path)


def _dimensions(path: Path, f: BinaryIO) -> tuple[int, int]:
    """The picture's size from its header alone (Pillow decodes nothing until asked)."""
    from PIL import Image, UnidentifiedImageError  # Pillow loads with the commands that read pictures

    from drivers.card_bitmap import IMAGE_FORMATS

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(f, formats=IMAGE_FORMATS) as image:
                return image.size
    except (Image.DecompressionBombWarning, Image.DecompressionBombError):
        raise _too_many_pixels(path) from None
    except UnidentifiedImageError:
        raise PhotoError(t("residents.photo_format", path=path)) from None
    except (SyntaxError, ValueError, EOFError) as exc:  # Pillow's ways of saying a header is damaged
        raise PhotoError(t("residents.photo_damaged", path=path, error=exc)) from None


def _too_many_pixels(path: Path) -> PhotoError:
    from drivers.card_bitmap import MAX_IMAGE_PIXELS

    return PhotoError(t("residents.photo_too_many_pixels", path=path, limit=f"{MAX_IMAGE_PIXELS:,}"))


def _too_big(path: Path, size: int) -> PhotoError:
    return PhotoError(t("residents.photo_too_big", path=path, size=size, limit=PHOTO_MAX_BYTES))
