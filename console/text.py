"""How the console writes numbers, times, durations and bars: in the operator's language, in plain characters.

Times are shown in the station's zone (`[station] timezone`, `console.formats.local`), whatever the zone of the
machine that wrote or reads them."""

from __future__ import annotations

from datetime import datetime

from console.formats import local
from console.i18n import current_language, t

_EMPTY = "—"


def number(value: int | None) -> str:
    """4851 → "4.851" in Bahasa Indonesia, "4,851" in English; None → a dash."""
    if value is None:
        return _EMPTY
    grouped = f"{value:,}"
    return grouped.replace(",", ".") if current_language() == "id" else grouped


def signed(value: int) -> str:
    """A difference with its sign always written: +3, −2, 0."""
    if value > 0:
        return f"+{number(value)}"
    if value < 0:
        return f"-{number(-value)}"
    return "0"


def clock_line(moment: datetime, short: bool = False) -> str:
    """ "Sabtu 28-11-2026 09:14" (the weekday in words); short, "28-11 09:14"."""
    at = local(moment)
    if short:
        return f"{at:%d-%m %H:%M}"
    weekday = t(f"ui.weekday.{at.weekday()}")
    return f"{weekday} {at:%d-%m-%Y %H:%M}"


def time_of(iso: str | None) -> str:
    """The HH:MM:SS of a stored ISO timestamp."""
    if not iso:
        return _EMPTY
    return f"{local(iso):%H:%M:%S}"


def day_and_time(iso: str | None) -> str:
    """ "28-11 09:14" of a stored ISO timestamp."""
    if not iso:
        return _EMPTY
    return f"{local(iso):%d-%m %H:%M}"


def time_or_day(iso: str, now: datetime) -> str:
    """ "09:14" of a stored time on the station's day of `now`; "28-11 09:14" of one on an earlier day."""
    return f"{local(iso):%H:%M}" if local(iso).date() == local(now).date() else day_and_time(iso)


def duration(seconds: float | None) -> str:
    """A time left, rounded to what a person plans with: "±1 j 42 m", "±3 m", "<1 m"."""
    if seconds is None:
        return _EMPTY
    minutes = round(seconds / 60)
    if minutes < 1:
        return t("ui.duration.under_minute")
    hours, minutes = divmod(minutes, 60)
    if hours:
        return t("ui.duration.hours", hours=hours, minutes=minutes)
    return t("ui.duration.minutes", minutes=minutes)


def bar(done: int, total: int, width: int, ascii_only: bool = False) -> str:
    """A progress bar of `width` characters; in ASCII on the Linux console, whose fonts may lack block glyphs."""
    width = max(width, 1)
    filled = 0 if total <= 0 else min(width, round(width * done / total))
    full, empty = ("#", "-") if ascii_only else ("█", "░")
    return full * filled + empty * (width - filled)


def dash() -> str:
    return _EMPTY
