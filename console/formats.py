"""Numbers and times as people read them, in the current language and the station's time zone.

Machine formats (JSON, CSV, the audit log) keep ISO 8601 in UTC and plain integers; these helpers are for words
shown to people only (the command line, the console's screens, reports on screen).

    from console.formats import count, moment, day, duration
    count(1000000)                  # "1.000.000" in id, "1,000,000" in en
    moment("2026-12-01T02:58:33Z")  # "1 Des 2026 10.58 WITA" in id, "1 Dec 2026 10:58 WITA" in en
    day("2026-12-01")               # "1 Des 2026" / "1 Dec 2026"
    duration(3725)                  # "1 j 2 mnt" / "1 h 2 min"; under a minute "45 dtk" / "45 s"
    os_error(exc)                   # an OSError's reason: "berkas atau folder tidak ada", not "No such file…"
    json_error(exc)                 # a JSONDecodeError: "bukan JSON yang sah (baris 3, kolom 7)"

`moment` takes an aware `datetime` or an ISO 8601 string (a naive one is taken as UTC, as the store writes UTC)
and shows it in the zone set by `set_zone` (the CLI sets `[station] timezone` at start; the default is
Asia/Makassar, WITA, the zone of East Lombok). The language is the catalogue's current one (`console.i18n`).
Every word (month names, units, separators) comes from the catalogue's `formats.*` keys.
"""

from __future__ import annotations

import errno
import json
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from console.i18n import t

DEFAULT_ZONE = "Asia/Makassar"
_zone = ZoneInfo(DEFAULT_ZONE)


def set_zone(name: str) -> None:
    """Show times in the zone `name` (an IANA name); raises `zoneinfo.ZoneInfoNotFoundError` or ValueError."""
    global _zone
    _zone = ZoneInfo(name)


def station_zone() -> ZoneInfo:
    return _zone


def count(n: int) -> str:
    """An integer with the language's grouping of thousands."""
    return f"{n:,}".replace(",", t("formats.thousands"))


def _as_datetime(at: datetime | str) -> datetime:
    value = datetime.fromisoformat(at.replace("Z", "+00:00")) if isinstance(at, str) else at
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def day(at: date | datetime | str) -> str:
    """A date as "1 Des 2026"; a datetime (or ISO time) is first put in the station's zone."""
    if isinstance(at, str) and "T" not in at and len(at) == 10:
        at = date.fromisoformat(at)
    if isinstance(at, (str, datetime)):
        at = local(at).date()
    month = t("formats.months").split()[at.month - 1]
    return t("formats.day", day=at.day, month=month, year=at.year)


def local(at: datetime | str) -> datetime:
    """A point in time (aware, ISO 8601, or naive taken as UTC) as the station's clocks show it."""
    return _as_datetime(at).astimezone(_zone)


def moment(at: datetime | str) -> str:
    """A point in time as "1 Des 2026 10.58 WITA", in the station's zone."""
    local_time = local(at)
    return t(
        "formats.moment",
        day=day(local_time.date()),
        hour=f"{local_time.hour:02d}",
        minute=f"{local_time.minute:02d}",
        zone=local_time.tzname(),
    )


def duration(seconds: float) -> str:
    """A length of time, rounded to what a person needs: seconds under a minute, else hours and minutes."""
    whole = max(0, round(seconds))
    if whole < 60:
        return t("formats.seconds", seconds=whole)
    hours, minutes = divmod(whole // 60, 60)
    if hours == 0:
        return t("formats.minutes", minutes=minutes)
    return t("formats.hours", hours=hours, minutes=minutes)


# The errors an operator meets with files and devices, in the catalogue; any other keeps the system's text.
_ERRNO_KEYS = {
    errno.ENOENT: "not_found",
    errno.EACCES: "denied",
    errno.EPERM: "denied",
    errno.EISDIR: "is_folder",
    errno.ENOTDIR: "not_folder",
    errno.ENOSPC: "disk_full",
    errno.EROFS: "read_only",
    errno.EEXIST: "exists",
    errno.EIO: "io",
    errno.ENAMETOOLONG: "name_too_long",
    errno.EBUSY: "busy",
}


def os_error(exc: BaseException) -> str:
    """Why an OSError happened, in the operator's words (the errno's sentence from the catalogue)."""
    number = getattr(exc, "errno", None)
    if number in _ERRNO_KEYS:
        return t(f"formats.oserror.{_ERRNO_KEYS[number]}")
    text = getattr(exc, "strerror", None) or str(exc)
    return t("formats.oserror.other", errno=number if number is not None else "-", text=text)


def json_error(exc: json.JSONDecodeError) -> str:
    """Where a file stops being JSON, without Python's English ("Expecting ',' delimiter")."""
    return t("formats.json_error", line=exc.lineno, column=exc.colno)


def not_utf8(exc: UnicodeDecodeError) -> str:
    """Where a file stops being UTF-8 text."""
    return t("formats.not_utf8", position=exc.start)
