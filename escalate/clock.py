"""Time: the system clock, and reading times users type.

``recorded_at`` always comes from :func:`now` (the system clock, UTC). Tests replace
``now`` by monkeypatching; there is deliberately no environment variable that fakes
the clock, because a recording time an operator could set would not be evidence.
"""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from escalate.errors import UsageError

UTC = dt.timezone.utc
DEFAULT_TZ = "Europe/London"


def now() -> dt.datetime:
    return dt.datetime.now(UTC)


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise UsageError(f"unknown time zone {name!r}", hint="Use an IANA name such as Europe/London.") from None


def parse_time(text: str, tz: str = DEFAULT_TZ, *, what: str = "time") -> dt.datetime:
    """Read an ISO-8601 date or date-time; without an offset it is local time in ``tz``.

    A bare date means the start of that day. Returns an aware UTC datetime.
    """
    raw = (text or "").strip()
    if not raw:
        raise UsageError(f"{what} is empty", hint="Give a date and time like 2026-12-18T10:00.")
    try:
        value = dt.datetime.fromisoformat(raw.replace("Z", "+00:00") if raw.endswith("Z") else raw)
    except ValueError:
        raise UsageError(
            f"{what} {raw!r} is not an ISO-8601 date or date-time",
            hint="Expected e.g. 2026-12-18T10:00, 2026-12-18 10:00 or 2026-12-18.",
        ) from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=zone(tz))
    if not 2000 <= value.year <= 2099:
        raise UsageError(f"{what} {raw!r} is outside the years 2000 to 2099")
    return value.astimezone(UTC)


def iso(instant: dt.datetime) -> str:
    """Canonical UTC text for storage: 2026-12-18T10:00:00.000000Z (fixed width, sorts as text)."""
    return instant.astimezone(UTC).isoformat(timespec="microseconds")[:-6] + "Z"  # isoformat is C; strftime is slow


#: what :func:`iso` writes, and all a stored time may be
ISO_TEXT = re.compile(r"20\d\d-[01]\d-[0-3]\dT[0-2]\d:[0-5]\d:[0-6]\d\.\d{6}Z")


def is_iso(text: str) -> bool:
    """Whether ``text`` is a time as :func:`iso` writes it, and a real one (not 31 February)."""
    if not ISO_TEXT.fullmatch(text):
        return False
    try:
        from_iso(text)
    except ValueError:
        return False
    return True


def from_iso(text: str) -> dt.datetime:
    # fromisoformat is C code; strptime took most of the time of listing 10,000 challenges.
    return dt.datetime.fromisoformat(text[:-1] + "+00:00")


#: English names, as people read them in every view and export (strftime's follow the locale)
DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def show(instant: dt.datetime | None, tz: str = DEFAULT_TZ, *, seconds: bool = False) -> str:
    """A time for people: local time with its offset, e.g. 'Fri 18 Dec 2026 10:00 +00:00'. (Put
    together by hand: two strftime calls were a tenth of a CSV export of 100,000 entries.)"""
    if instant is None:
        return "-"
    t = instant.astimezone(zone(tz))
    minutes = int((t.utcoffset() or dt.timedelta()).total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    clock = f"{t.hour:02d}:{t.minute:02d}" + (f":{t.second:02d}" if seconds else "")
    when = f"{DAYS[t.weekday()]} {t.day:02d} {MONTHS[t.month - 1]} {t.year} {clock}"
    return f"{when} {sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def today(tz: str = DEFAULT_TZ, instant: dt.datetime | None = None) -> dt.date:
    """The date where the user is (at ``instant``, default now): review-by dates are dates there."""
    return (instant or now()).astimezone(zone(tz)).date()
