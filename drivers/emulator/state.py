"""The emulator's state file: the printer between two runs (feeder, ribbon, counters, the card inside).

Written whole and atomically after every change that matters: a temporary file beside it, fsync, rename, fsync
of the folder. A reader, or a restarted emulator, sees the old state or the new one, never half of one.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from drivers.atomic_file import write_atomic


class EmulatorStateError(Exception):
    """The state file exists but cannot be used: names the file and why."""

    def __init__(self, path: Path, why: str) -> None:
        super().__init__(f"{path}: {why}")
        self.path = path
        self.why = why


class StateFile:
    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)

    def load(self) -> dict[str, Any] | None:
        """The saved state, or None when there is no file yet (a new printer)."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError) as exc:
            raise EmulatorStateError(self.path, f"cannot be read: {exc}") from None
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise EmulatorStateError(self.path, f"is not JSON: {exc}") from None
        if not isinstance(data, dict):
            raise EmulatorStateError(self.path, "does not hold a JSON object")
        return data

    def save(self, data: dict[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(self.path, json.dumps(data, ensure_ascii=False, indent=1) + "\n")
