"""The station's clock: local time with its offset, to the millisecond, as every record stores it."""

from __future__ import annotations

from datetime import date, datetime

from console.formats import station_zone


def now() -> datetime:
    return datetime.now().astimezone()


def now_iso() -> str:
    return now().isoformat(timespec="milliseconds")


def instant(text: str) -> datetime:
    """A stored time as a moment that compares rightly with any other, whatever offset each was written with."""
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo is not None else moment.astimezone()


_fixed_today: date | None = None


def today() -> date:
    """The station's calendar day (in the station's time zone): the day the wajib rule and the plans count from.

    `fix_today` sets it for a whole process, so that tests (and training) can stand on a chosen day.
    """
    if _fixed_today is not None:
        return _fixed_today
    return now().astimezone(station_zone()).date()


def fix_today(day: date | None) -> None:
    """Stand the station's calendar on `day` (None: the real day again)."""
    global _fixed_today
    _fixed_today = day
