"""The station's clock: local time with its offset, to the millisecond, as every record stores it."""

from __future__ import annotations

from datetime import datetime


def now() -> datetime:
    return datetime.now().astimezone()


def now_iso() -> str:
    return now().isoformat(timespec="milliseconds")


def instant(text: str) -> datetime:
    """A stored time as a moment that compares rightly with any other, whatever offset each was written with."""
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo is not None else moment.astimezone()
