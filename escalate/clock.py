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


#: English names, as people read them in every view and export (strftime's follow the locale)
DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


#: the forms every time field accepts, shown whenever one is refused
TIME_FORMS = "14/01/2027 10:30, 14 Jan 2027, today 14:30, yesterday 9am, now, or 2027-01-14T10:30 (day first)"

MONTHS_LONG = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_MONTH_NAMES = {name.lower(): n for n, name in enumerate(MONTHS_LONG, start=1)}
_MONTH_NAMES.update({name.lower(): n for n, name in enumerate(MONTHS, start=1)})
_MONTH_NAMES["sept"] = 9
_WEEKDAYS = {
    name: n
    for n, names in enumerate(
        (
            ("mon", "monday"),
            ("tue", "tues", "tuesday"),
            ("wed", "wednesday"),
            ("thu", "thur", "thurs", "thursday"),
            ("fri", "friday"),
            ("sat", "saturday"),
            ("sun", "sunday"),
        )
    )
    for name in names
}
_RELATIVE_DAYS = {"today": 0, "yesterday": -1, "tomorrow": 1}

# A clock time needs minutes or am/pm, so "14" alone is never read as a time of day.
_CLOCK = re.compile(r"(?<![\d/.:-])(\d{1,2})(?:[:.](\d{2})(?::(\d{2}))?\s*(am|pm)?|\s*(am|pm))(?![\d/.:])")
_NAMED_CLOCK = {"noon": (12, 0), "midday": (12, 0), "midnight": (0, 0)}
_OFFSET = re.compile(r"\s(?:utc|gmt)?([+-])(\d{2}):?(\d{2})$|\s(utc|gmt|z)$")
_NUMERIC_DATE = re.compile(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4}|\d{2})")
_WORDED_DATE = re.compile(r"(\d{1,2})(?:st|nd|rd|th)?\s+([a-z]+)(?:\s+(\d{4}))?")


def parse_time(text: str, tz: str = DEFAULT_TZ, *, what: str = "time") -> dt.datetime:
    """Read a time as people write it; without an offset it is local time in ``tz``.

    Day first, never month first (01/02/2027 is 1 February). Accepts ISO-8601, ``14/01/2027
    10:30``, ``14 Jan 2027``, ``Thu 14 Jan 2027 10:30 +00:00`` (as escalate shows times),
    ``today 14:30``, ``yesterday 9am``, ``tomorrow``, ``now`` and a time alone (today). A date
    without a time means the start of that day. Returns an aware UTC datetime.
    """
    raw = (text or "").strip()
    if not raw:
        raise UsageError(f"{what} is empty", hint=f"Write it as {TIME_FORMS}.")
    value = _read_iso(raw)
    if value is None:
        value = _read_written(raw, tz, what)
    if value is None:
        raise UsageError(f"{what} {raw!r} is not a date or time escalate can read", hint=f"Write it as {TIME_FORMS}.")
    if value.tzinfo is None:
        try:
            value = value.replace(tzinfo=zone(tz))
        except OverflowError:  # pragma: no cover - years are bounded below
            raise UsageError(f"{what} {raw!r} is out of range") from None
    if not 2000 <= value.year <= 2099:
        raise UsageError(f"{what} {raw!r} is outside the years 2000 to 2099")
    return value.astimezone(UTC)


def _read_iso(raw: str) -> dt.datetime | None:
    if not re.match(r"\d{4}-\d", raw):
        return None  # fromisoformat also reads 20270114, which people do not mean as a date
    try:
        return dt.datetime.fromisoformat(raw[:-1] + "+00:00" if raw.endswith("Z") else raw)
    except ValueError:
        return None


def _read_written(raw: str, tz: str, what: str) -> dt.datetime | None:
    """The forms people type; None when ``raw`` is none of them."""
    words = " " + re.sub(r"[\s,]+", " ", raw.lower()).strip()
    offset: dt.timezone | None = None
    if (m := _OFFSET.search(words)) is not None:
        if m.group(4):
            offset = UTC
        else:
            minutes = int(m.group(2)) * 60 + int(m.group(3))
            if minutes > 14 * 60 or int(m.group(3)) > 59:
                return None
            offset = dt.timezone(dt.timedelta(minutes=-minutes if m.group(1) == "-" else minutes))
        words = words[: m.start()]
    words = words.strip()
    if words == "now":
        return now().astimezone(offset or zone(tz)).replace(microsecond=0)
    hour, minute, second, words = _take_clock(words, raw, what)
    day, words = _take_day(words, raw, tz, what)
    if words.strip() or (day is None and hour is None):
        return None
    if day is None:
        day = today(tz)
    return dt.datetime(day.year, day.month, day.day, hour or 0, minute, second, tzinfo=offset)


def _take_clock(words: str, raw: str, what: str) -> tuple[int | None, int, int, str]:
    for name, (h, m) in _NAMED_CLOCK.items():
        if re.search(rf"\b{name}\b", words):
            return h, m, 0, re.sub(rf"\b(?:at\s+)?{name}\b", " ", words)
    found = _CLOCK.search(words)
    if found is None:
        return None, 0, 0, words
    hour = int(found.group(1))
    minute = int(found.group(2) or 0)
    second = int(found.group(3) or 0)
    half = found.group(4) or found.group(5)
    if half:
        if not 1 <= hour <= 12:
            raise UsageError(
                f"{what} {raw!r}: {hour}{half} is not a time",
                hint=f"Use 1 to 12 with am or pm, or 13:00. Write it as {TIME_FORMS}.",
            )
        hour = hour % 12 + (12 if half == "pm" else 0)
    if hour > 23 or minute > 59 or second > 59:
        raise UsageError(
            f"{what} {raw!r}: {found.group(0).strip()} is not a time of day", hint=f"Write it as {TIME_FORMS}."
        )
    rest = words[: found.start()] + " " + words[found.end() :]
    return hour, minute, second, re.sub(r"\bat\s*$|\bat\s+(?=\S)", " ", rest).strip()


def _take_day(words: str, raw: str, tz: str, what: str) -> tuple[dt.date | None, str]:
    words = words.strip()
    for name, shift in _RELATIVE_DAYS.items():
        if re.search(rf"\b{name}\b", words):
            return today(tz) + dt.timedelta(days=shift), re.sub(rf"\b{name}\b", " ", words)
    weekday: int | None = None
    first = words.split(" ", 1)[0] if words else ""
    if first in _WEEKDAYS:
        weekday = _WEEKDAYS[first]
        words = words[len(first) :].strip()
    day = month = year = None
    if (m := _NUMERIC_DATE.fullmatch(words.split(" ", 1)[0] if words else "")) is not None:
        day, month, year = int(m.group(1)), int(m.group(2)), int(m.group(3))
        words = words[m.end() :]
    elif (m := _WORDED_DATE.match(words)) is not None and m.group(2) in _MONTH_NAMES:
        day, month = int(m.group(1)), _MONTH_NAMES[m.group(2)]
        year = int(m.group(3)) if m.group(3) else today(tz).year
        words = words[m.end() :]
    else:
        return None, (words if weekday is None else "?")  # a weekday alone is not a date
    if year < 100:
        year += 2000
    try:
        date = dt.date(year, month, day)
    except ValueError:
        raise UsageError(
            f"{what} {raw!r} is not a real date (day {day}, month {month}, year {year})",
            hint=f"Dates are day first: {TIME_FORMS}.",
        ) from None
    if weekday is not None and date.weekday() != weekday:
        raise UsageError(
            f"{what} {raw!r}: {date.day} {MONTHS[date.month - 1]} {date.year} is a {_DAY_NAMES[date.weekday()]}",
            hint=f"Leave the weekday out, or check the date. Write it as {TIME_FORMS}.",
        )
    return date, words


_DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


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
