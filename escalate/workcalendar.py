"""Working days and due times: the one place deadlines are computed.

Rules (documented in docs/procedure-format.md, "Working days"):

* Working days are Monday to Friday, less the region's bank holidays, including
  substitute days (Boxing Day on a Saturday moves to Monday), from the ``holidays`` package.
* The working day ends at the procedure's cut-off (default 17:00, UK local time). Something
  that happens after the cut-off, or on a non-working day, is treated as happening at the
  start of the next working day: "5 working days" then count from that day.
* A deadline that starts when another falls due counts from the working day the earlier one falls
  due on, even though that is at the cut-off itself ("a further 1 working day" after one due
  Wednesday 17:00 is Thursday 17:00): the earlier day was used up, not missed.
* "N working days" falls due at the cut-off on the Nth working day after the start day.
  "N calendar days" falls due at the cut-off N days after the start's date. "N hours" is
  elapsed time: 48 hours from Friday 10:00 is Sunday 10:00 (procedures that mean two
  working days must say working-days).
* Dates outside the supported years are an error, never a silent "not a holiday".

The module is named ``workcalendar`` so it never shadows the standard library's ``calendar``.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
from functools import cache, lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

from escalate import atomic
from escalate.errors import CalendarError
from escalate.paths import ensure_private_dir, locations

UK = ZoneInfo("Europe/London")
FIRST_YEAR = 2000
LAST_YEAR = 2099
REGION_SUBDIVISIONS = {"england-and-wales": "ENG", "scotland": "SCT", "northern-ireland": "NIR"}
DEFAULT_CUTOFF = dt.time(17, 0)
UNITS = ("working-days", "hours", "calendar-days")


def _check_region(region: str) -> str:
    try:
        return REGION_SUBDIVISIONS[region]
    except KeyError:
        raise CalendarError(
            f"no bank-holiday calendar for region {region!r}",
            hint="Expected one of: " + ", ".join(REGION_SUBDIVISIONS),
        ) from None


def _holidays_in(region: str, year: int) -> dict[dt.date, str]:
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise CalendarError(
            f"{year} is outside the bank-holiday calendar ({FIRST_YEAR} to {LAST_YEAR})",
            hint="Check the date: deadlines are only computed for years the calendar covers.",
        )
    return _region_holidays(region)


@cache
def _region_holidays(region: str) -> dict[dt.date, str]:
    """Every bank holiday of the region, 2000 to 2099. Kept in the cache folder as a small JSON
    file named after the installed ``holidays`` data, because importing that package costs more
    than most commands take (0.1-0.2 s); an upgrade of the package makes a new file."""

    subdivision = _check_region(region)
    version = data_version()
    cache = _cache_file(region, version)
    if cache is not None:
        try:
            kept = json.loads(cache.read_text(encoding="utf-8"))
            if isinstance(kept, dict) and all(isinstance(v, str) for v in kept.values()):
                return {dt.date.fromisoformat(k): v for k, v in kept.items()}
        except (OSError, ValueError):  # (UnicodeDecodeError and JSONDecodeError are ValueErrors)
            pass  # missing or damaged: worked out again below
    import holidays  # lazy: 0.1-0.2 s, only when the cache file above is missing

    found = dict(holidays.country_holidays("GB", subdiv=subdivision, years=range(FIRST_YEAR, LAST_YEAR + 1)).items())
    if cache is not None:
        try:
            ensure_private_dir(cache.parent)
            text = json.dumps({d.isoformat(): n for d, n in sorted(found.items())})
            atomic.write_bytes(cache, text.encode("utf-8"))
        except OSError:
            pass  # a cache we cannot write is only slower
    return found


def _cache_file(region: str, version: str) -> Path | None:
    if version == "unknown":
        return None

    return locations().cache_dir / f"bank-holidays-{region}-{version}.json"


@lru_cache(maxsize=1)
def data_version() -> str:
    """Identifies the installed bank-holiday data without importing it (~0.2 s), so that due times
    kept in a cache are worked out again when the ``holidays`` package is upgraded."""

    try:
        spec = importlib.util.find_spec("holidays")
        st = (Path(spec.origin).parent / "countries" / "united_kingdom.py").stat()  # type: ignore[union-attr, arg-type]
    except (ImportError, OSError, TypeError, ValueError):
        return "unknown"
    return f"{st.st_size}.{st.st_mtime_ns}"


def holiday_name(day: dt.date, region: str) -> str | None:
    _check_region(region)
    return _holidays_in(region, day.year).get(day)


@lru_cache(maxsize=65536)
def is_working_day(day: dt.date, region: str) -> bool:
    # Cached: listing thousands of challenges asks about the same few hundred days.
    if day.weekday() >= 5:
        _holidays_in(region, day.year)  # still range-check weekends
        return False
    return holiday_name(day, region) is None


def next_working_day(day: dt.date, region: str) -> dt.date:
    day += dt.timedelta(days=1)
    while not is_working_day(day, region):
        day += dt.timedelta(days=1)
    return day


def _as_local(instant: dt.datetime) -> dt.datetime:
    if instant.tzinfo is None:
        raise CalendarError(f"time {instant.isoformat()} has no time zone", hint="Give an offset, e.g. +00:00.")
    return instant.astimezone(UK)


def effective_day(
    start: dt.datetime, region: str, cutoff: dt.time = DEFAULT_CUTOFF, *, chained: bool = False
) -> dt.date:
    """The working day on which ``start`` counts as having happened. ``chained``: ``start`` is when
    another deadline fell due, so a start at the cut-off itself still belongs to that day."""
    local = _as_local(start)
    day = local.date()
    if is_working_day(day, region) and (local.time() < cutoff or (chained and local.time() == cutoff)):
        return day
    return next_working_day(day, region)


def _at_cutoff(day: dt.date, cutoff: dt.time) -> dt.datetime:
    return dt.datetime.combine(day, cutoff, tzinfo=UK).astimezone(dt.timezone.utc)


def add_working_days(
    start: dt.datetime, n: int, region: str, cutoff: dt.time = DEFAULT_CUTOFF, *, chained: bool = False
) -> dt.datetime:
    if n < 0:
        raise CalendarError(f"cannot add {n} working days: expected 0 or more")
    day = effective_day(start, region, cutoff, chained=chained)
    for _ in range(n):
        day = next_working_day(day, region)
    return _at_cutoff(day, cutoff)


def add_hours(start: dt.datetime, n: int) -> dt.datetime:
    if n < 0:
        raise CalendarError(f"cannot add {n} hours: expected 0 or more")
    _as_local(start)  # refuses a naive time
    # Elapsed hours are added in UTC: local wall-clock arithmetic is an hour out across a clock change.
    result = start.astimezone(dt.timezone.utc) + dt.timedelta(hours=n)
    _holidays_in("england-and-wales", result.year)  # range check only
    return result


def add_calendar_days(start: dt.datetime, n: int, cutoff: dt.time = DEFAULT_CUTOFF) -> dt.datetime:
    if n < 0:
        raise CalendarError(f"cannot add {n} calendar days: expected 0 or more")
    day = _as_local(start).date() + dt.timedelta(days=n)
    _holidays_in("england-and-wales", day.year)
    return _at_cutoff(day, cutoff)


def add(
    start: dt.datetime,
    amount: int,
    unit: str,
    region: str,
    cutoff: dt.time = DEFAULT_CUTOFF,
    *,
    chained: bool = False,
) -> dt.datetime:
    """Add ``amount`` of ``unit`` (working-days, hours, calendar-days) to ``start``; ``chained``:
    ``start`` is when another deadline fell due (see :func:`effective_day`)."""
    _check_region(region)
    if unit == "working-days":
        return add_working_days(start, amount, region, cutoff, chained=chained)
    if unit == "hours":
        return add_hours(start, amount)
    if unit == "calendar-days":
        return add_calendar_days(start, amount, cutoff)
    raise CalendarError(f"unknown unit {unit!r}", hint="Expected one of: " + ", ".join(UNITS))


def same_working_day(
    start: dt.datetime, region: str, cutoff: dt.time = DEFAULT_CUTOFF, *, chained: bool = False
) -> dt.datetime:
    return _at_cutoff(effective_day(start, region, cutoff, chained=chained), cutoff)


def working_days_between(a: dt.datetime, b: dt.datetime, region: str) -> int:
    """Working days from ``a``'s date to ``b``'s date (positive if b is later, 0 on the same day).

    Counts the working days after a's date up to and including b's date, so Friday to
    Monday is 1. Used for "in 2 working days" and "overdue by 1 working day".
    """
    da, db = _as_local(a).date(), _as_local(b).date()
    if da == db:
        return 0
    sign = 1
    if db < da:
        da, db, sign = db, da, -1
    count, day = 0, da
    while day < db:
        day += dt.timedelta(days=1)
        if is_working_day(day, region):
            count += 1
    return sign * count
