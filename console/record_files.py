"""The files of a signed record (a hand-over, a destruction, a receipt slip): written whole beside each other under
a name no earlier record holds, their SHA-256 known before they are written so that the record keeps it."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from console.csv_safe import SafeWriter
from console.errors import UsageError
from console.formats import os_error
from console.i18n import t
from drivers.atomic_file import write_atomic


@dataclass(frozen=True)
class RecordFile:
    path: Path
    data: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def csv_bytes(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> bytes:
    out = io.StringIO()
    writer = SafeWriter(out, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow(["" if value is None else value for value in row])
    return out.getvalue().encode("utf-8")


def safe_stem(text: str) -> str:
    """A record's name part from a batch or allocation id: letters, digits, `.`, `-` and `_` kept."""
    return "".join(c if c.isascii() and (c.isalnum() or c in ".-_") else "-" for c in text)


def prepare_folder(out_dir: Path) -> Path:
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise UsageError(t("record.out_not_dir", path=out_dir))
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(t("record.cannot_write", path=out_dir, why=os_error(exc))) from None
    return out_dir


def free_names(out_dir: Path, stem: str, suffixes: Sequence[str]) -> list[Path]:
    """`stem.pdf`, `stem.csv`…, or `stem-2.…` and on: an earlier record's files are never written over."""
    number = 1
    while True:
        name = stem if number == 1 else f"{stem}-{number}"
        paths = [out_dir / f"{name}{suffix}" for suffix in suffixes]
        if not any(path.exists() or path.is_symlink() for path in paths):
            return paths
        number += 1


def write_all(files: Sequence[RecordFile]) -> None:
    for record_file in files:
        try:
            write_atomic(record_file.path, record_file.data)
        except OSError as exc:
            raise UsageError(t("record.cannot_write", path=record_file.path, why=os_error(exc))) from None
