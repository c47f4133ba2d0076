"""The output log: one JSON line for every card that leaves the machine, never more than one, never none.

Each line is appended, flushed and fsynced before the reply that reports the card's exit goes out. A line torn
by a crash mid-write (no final newline) is cut off when the log is opened again; the state file still holds that
card's record as pending, and the emulator writes it again (see `runtime.Emulator`).
"""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from drivers.atomic_file import open_private_append

FIELDS = ("seq", "counter", "dest", "nik", "texts", "panels", "fault", "t")


class OutputLogError(Exception):
    def __init__(self, path: Path, why: str) -> None:
        super().__init__(f"{path}: {why}")
        self.path = path
        self.why = why


def now_iso() -> str:
    return datetime.now().astimezone().isoformat(timespec="milliseconds")


class OutputLog:
    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.last_seq = self._repair_and_read_last_seq()
        self._file: IO[Any] | None = open_private_append(self.path)  # it holds NIKs: 0600

    def _repair_and_read_last_seq(self) -> int:
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return 0
        end = data.rfind(b"\n") + 1
        if end < len(data):
            with open(self.path, "r+b") as torn:
                torn.truncate(end)
                torn.flush()
                os.fsync(torn.fileno())
        lines = data[:end].splitlines()
        if not lines:
            return 0
        try:
            seq = json.loads(lines[-1])["seq"]
        except (ValueError, KeyError, TypeError):
            raise OutputLogError(self.path, f"line {len(lines)} is not an output-log record") from None
        if not isinstance(seq, int):
            raise OutputLogError(self.path, f"line {len(lines)} has no whole-number seq")
        return seq

    def append(self, record: dict[str, Any]) -> None:
        """Write one card's line, durably. Records whose seq the log already holds are skipped."""
        if self._file is None:
            raise OutputLogError(self.path, "is closed")
        if record["seq"] <= self.last_seq:
            return
        line = {name: record.get(name) for name in FIELDS}
        if line["t"] is None:
            line["t"] = now_iso()
        self._file.write(json.dumps(line, ensure_ascii=False).encode("utf-8") + b"\n")
        self._file.flush()
        os.fsync(self._file.fileno())
        self.last_seq = record["seq"]

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


def read_output_log(path: Path | str) -> list[dict[str, Any]]:
    """Every complete line of an output log (for checks and tests)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    return [json.loads(line) for line in text.splitlines() if line.strip()]
