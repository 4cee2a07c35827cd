"""Working days, bank holidays, cut-off and the `escalate due` command."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from escalate import workcalendar as wc
from escalate.errors import CalendarError

UK = wc.UK
EW, SC, NI = "england-and-wales", "scotland", "northern-ireland"


def at(y, m, d, h=10, mi=0):
    return dt.datetime(y, m, d, h, mi, tzinfo=UK)


def local_date(instant):
    return instant.astimezone(UK).date()


def test_five_working_days_over_christmas_in_england():
    assert local_date(wc.add(at(2026, 12, 18), 5, "working-days", EW)) == dt.date(2026, 12, 29)


@pytest.mark.parametrize(
    "region,expected", [(EW, dt.date(2027, 1, 4)), (NI, dt.date(2027, 1, 4)), (SC, dt.date(2027, 1, 5))]
)
def test_new_year_differs_in_scotland(region, expected):
    assert local_date(wc.add(at(2026, 12, 23), 5, "working-days", region)) == expected


def test_easter_2027():
    good_friday, easter_monday = dt.date(2027, 3, 26), dt.date(2027, 3, 29)
    for region in (EW, SC, NI):
        assert not wc.is_working_day(good_friday, region)
    assert not wc.is_working_day(easter_monday, EW)
    assert not wc.is_working_day(easter_monday, NI)
    assert wc.is_working_day(easter_monday, SC)


def test_st_patricks_day_only_in_northern_ireland():
    day = dt.date(2027, 3, 17)  # a Wednesday
    assert not wc.is_working_day(day, NI)
    assert wc.is_working_day(day, EW) and wc.is_working_day(day, SC)
    assert wc.holiday_name(day, NI) == "Saint Patrick's Day"


def test_st_andrews_day_and_second_of_january_in_scotland():
    assert not wc.is_working_day(dt.date(2027, 11, 30), SC)
    assert wc.is_working_day(dt.date(2027, 11, 30), EW)
    assert not wc.is_working_day(dt.date(2026, 1, 2), SC)
    assert wc.is_working_day(dt.date(2026, 1, 2), EW)


def test_substitute_day_for_boxing_day_on_saturday():
    # Boxing Day 2026 is a Saturday: Monday 28 December is the substitute bank holiday.
    assert not wc.is_working_day(dt.date(2026, 12, 28), EW)


def test_due_time_is_the_cutoff():
    due = wc.add(at(2026, 12, 18), 5, "working-days", EW, dt.time(16, 30))
    assert due.astimezone(UK).time() == dt.time(16, 30)


def test_after_cutoff_counts_from_next_working_day():
    before = wc.add(at(2026, 11, 23, 16, 59), 1, "working-days", EW)
    after = wc.add(at(2026, 11, 23, 17, 1), 1, "working-days", EW)
    assert local_date(before) == dt.date(2026, 11, 24)
    assert local_date(after) == dt.date(2026, 11, 25)


def test_weekend_start_counts_from_monday():
    assert wc.effective_day(at(2026, 11, 28), EW) == dt.date(2026, 11, 30)
    assert local_date(wc.add(at(2026, 11, 28), 1, "working-days", EW)) == dt.date(2026, 12, 1)


def test_hours_are_elapsed_time_and_differ_from_working_days_over_a_weekend():
    friday = at(2026, 11, 27, 10)
    assert wc.add(friday, 48, "hours", EW) == (friday + dt.timedelta(hours=48)).astimezone(dt.timezone.utc)
    assert local_date(wc.add(friday, 2, "working-days", EW)) == dt.date(2026, 12, 1)


def test_hours_across_clock_change_are_real_hours():
    start = at(2026, 10, 24, 12)  # BST ends 25 October 2026
    due = wc.add(start, 24, "hours", EW)
    assert (due - start).total_seconds() == 24 * 3600


def test_calendar_days_include_weekends():
    assert local_date(wc.add(at(2026, 12, 18), 3, "calendar-days", EW)) == dt.date(2026, 12, 21)


def test_same_working_day():
    assert local_date(wc.same_working_day(at(2026, 11, 23, 9), EW)) == dt.date(2026, 11, 23)
    assert local_date(wc.same_working_day(at(2026, 11, 23, 18), EW)) == dt.date(2026, 11, 24)


def test_working_days_between():
    assert wc.working_days_between(at(2026, 11, 27), at(2026, 11, 30), EW) == 1
    assert wc.working_days_between(at(2026, 11, 30), at(2026, 11, 27), EW) == -1
    assert wc.working_days_between(at(2026, 12, 24), at(2026, 12, 29), EW) == 1


@pytest.mark.parametrize("year", [1999, 2100])
def test_outside_calendar_range_is_an_error(year):
    with pytest.raises(CalendarError, match="outside the bank-holiday calendar"):
        wc.is_working_day(dt.date(year, 6, 1), EW)


def test_unknown_region_is_an_error():
    with pytest.raises(CalendarError, match="no bank-holiday calendar"):
        wc.add(at(2026, 1, 5), 1, "working-days", "atlantis")


def test_naive_time_is_an_error():
    with pytest.raises(CalendarError, match="no time zone"):
        wc.add(dt.datetime(2026, 1, 5, 10), 1, "working-days", EW)


starts = st.datetimes(min_value=dt.datetime(2001, 1, 1), max_value=dt.datetime(2098, 6, 1), timezones=st.just(UK))


@settings(max_examples=200, deadline=None)
@given(start=starts, n=st.integers(0, 40), region=st.sampled_from([EW, SC, NI]))
def test_due_date_is_a_working_day(start, n, region):
    due = local_date(wc.add(start, n, "working-days", region))
    assert wc.is_working_day(due, region)


@settings(max_examples=200, deadline=None)
@given(start=starts, n=st.integers(0, 40), extra=st.integers(1, 10), region=st.sampled_from([EW, SC, NI]))
def test_more_working_days_is_never_earlier(start, n, extra, region):
    assert wc.add(start, n + extra, "working-days", region) > wc.add(start, n, "working-days", region)


def test_due_command(run_cli):
    code, out, _ = run_cli("due", "5", "working-days", "--from", "2026-12-18T10:00", "--region", "england-and-wales")
    assert code == 0
    assert "Tue 29 Dec 2026 17:00" in out
    code, out, _ = run_cli("due", "48", "hours", "--from", "2026-12-18T10:00")
    assert code == 0 and "Sun 20 Dec 2026 10:00" in out
    code, out, _ = run_cli("due", "3", "calendar-days", "--from", "2026-12-18T10:00")
    assert code == 0 and "Mon 21 Dec 2026 17:00" in out


def test_due_command_counts_in_the_users_own_region(run_cli, isolated_home):
    """The region setting (`config set region`) was kept and used by nothing: `due` counted English
    holidays for a Scottish DSL. St Andrew's Day (Monday 30 November 2026) is a holiday in Scotland only."""
    argv = ("due", "1", "working-days", "--from", "2026-11-27T10:00")
    assert "Mon 30 Nov 2026 17:00" in run_cli(*argv)[1]
    assert run_cli("config", "set", "region", "scotland")[0] == 0
    code, out, _ = run_cli(*argv)
    assert code == 0 and "Tue 01 Dec 2026 17:00" in out and "scotland" in out
    assert "Mon 30 Nov 2026 17:00" in run_cli(*argv, "--region", "england-and-wales")[1]  # asked for: kept
    (isolated_home / "settings.toml").write_text("region = [", encoding="utf-8")  # a broken file: the default
    assert "Mon 30 Nov 2026 17:00" in run_cli(*argv)[1]


@pytest.mark.parametrize(
    "argv,words",
    [
        (["due", "five", "working-days"], "not a whole number"),
        (["due", "-1", "working-days"], "negative"),
        (["due", "5", "fortnights"], "unit 'fortnights' is not known"),
        (["due", "5", "hours", "--region", "wales"], "region 'wales'"),
        (["due", "5", "hours", "--from", "a week on friday"], "not a date or time"),
        (["due", "5", "hours", "--cutoff", "5pm"], "cutoff '5pm'"),
        (["due", "5", "hours", "--from", "2150-01-01"], "outside the years"),
    ],
)
def test_due_command_bad_input(run_cli, argv, words):
    code, out, err = run_cli(*argv)
    assert code == 2
    assert words in err
    assert "Traceback" not in err


def test_bank_holidays_are_kept_in_the_cache_folder_and_a_damaged_cache_is_rebuilt(tmp_path, monkeypatch):
    """The holiday list is cached per region and per installed holidays data; garbage in the cache
    file is never believed: it is worked out again from the package."""
    import datetime as dt

    from escalate import paths, workcalendar

    paths.configure(tmp_path)
    try:
        workcalendar._region_holidays.cache_clear()
        workcalendar.is_working_day.cache_clear()
        assert not workcalendar.is_working_day(dt.date(2026, 12, 28), "england-and-wales")  # Boxing Day moved
        cached = list((tmp_path / "cache").glob("bank-holidays-england-and-wales-*.json"))
        assert len(cached) == 1 and "2026-12-28" in cached[0].read_text()
        cached[0].write_text("{not json", encoding="utf-8")
        workcalendar._region_holidays.cache_clear()
        workcalendar.is_working_day.cache_clear()
        assert workcalendar.holiday_name(dt.date(2026, 12, 25), "england-and-wales")
        assert "2026-12-25" in cached[0].read_text()  # rewritten whole
    finally:
        paths.configure(None)
        workcalendar._region_holidays.cache_clear()
        workcalendar.is_working_day.cache_clear()


@pytest.mark.parametrize("tz", ["Europe/London", "America/St_Johns", "Asia/Kolkata", "Pacific/Chatham", "UTC"])
def test_times_for_people_read_as_strftime_writes_them_in_english(tz):
    """clock.show is put together by hand for speed: it must say what strftime says (in the C locale),
    offsets behind UTC and of half and three quarters of an hour included."""
    import datetime as dt
    import random

    from escalate import clock

    rng = random.Random(tz)
    for _ in range(500):
        t = dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc) + dt.timedelta(seconds=rng.randrange(3_000_000_000))
        local = t.astimezone(clock.zone(tz))
        offset = local.strftime("%z")
        for seconds in (False, True):
            fmt = "%a %d %b %Y %H:%M:%S" if seconds else "%a %d %b %Y %H:%M"
            assert clock.show(t, tz, seconds=seconds) == f"{local.strftime(fmt)} {offset[:3]}:{offset[3:]}"


def test_a_chained_start_at_the_cut_off_counts_from_that_working_day():
    # the earlier deadline fell due Wed 16 Dec 2026 at 17:00: "a further 1 working day" is Thursday
    due = dt.datetime(2026, 12, 16, 17, 0, tzinfo=UK)
    further = wc.add(due, 1, "working-days", EW, chained=True)
    assert further.astimezone(UK).replace(tzinfo=None) == dt.datetime(2026, 12, 17, 17, 0)
    # an event recorded at the cut-off itself still counts from the next working day
    assert local_date(wc.add(due, 1, "working-days", EW)) == dt.date(2026, 12, 18)
    # a chained start after the cut-off or on a weekend is not helped: Fri 18:00 -> Mon, +1 -> Tue
    assert local_date(wc.add(dt.datetime(2026, 12, 18, 18, 0, tzinfo=UK), 1, "working-days", EW, chained=True)) == (
        dt.date(2026, 12, 22)
    )
    assert wc.same_working_day(due, EW, chained=True) == due
