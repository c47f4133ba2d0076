"""The station's clock: local time with its offset, to the millisecond, as every record stores it."""

from __future__ import annotations

from datetime import datetime


def now() -> datetime:
    return datetime.now().astimezone()


def now_iso() -> str:
    return now().isoformat(timespec="milliseconds")
