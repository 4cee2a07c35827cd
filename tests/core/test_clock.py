"""Times as people write them: day first, worded, relative, and ISO-8601."""

from __future__ import annotations

import datetime as dt

import pytest

from escalate import clock
from escalate.errors import UsageError

UTC = dt.timezone.utc
# Wednesday 20 January 2027, noon in London (GMT)
NOW = dt.datetime(2027, 1, 20, 12, 0, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def fixed_now(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(clock, "now", lambda: NOW)


def at(*parts: int) -> dt.datetime:
    return dt.datetime(*parts, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("14/01/2027 10:30", at(2027, 1, 14, 10, 30)),
        ("14/1/2027", at(2027, 1, 14)),
        ("14/01/27", at(2027, 1, 14)),
        ("14.01.2027 10.30", at(2027, 1, 14, 10, 30)),
        ("14-01-2027", at(2027, 1, 14)),
        ("01/02/2027", at(2027, 2, 1)),  # day first: 1 February, never 2 January
        ("02/01/2027", at(2027, 1, 2)),
        ("14 Jan 2027", at(2027, 1, 14)),
        ("14 January 2027 2:15pm", at(2027, 1, 14, 14, 15)),
        ("14th January 2027 at 2.15pm", at(2027, 1, 14, 14, 15)),
        ("3 Sept 2027", at(2027, 9, 2, 23)),  # BST: midnight local is 23:00 UTC the day before
        ("14 Jan", at(2027, 1, 14)),  # this year
        ("Thu 14 Jan 2027 10:30 +00:00", at(2027, 1, 14, 10, 30)),  # as escalate shows times
        ("Thursday 14 January 2027", at(2027, 1, 14)),
        ("14 Jan 2027 10:30 +05:30", at(2027, 1, 14, 5, 0)),
        ("14 Jan 2027 10:30 UTC", at(2027, 1, 14, 10, 30)),
        ("today 14:30", at(2027, 1, 20, 14, 30)),
        ("TODAY 2pm", at(2027, 1, 20, 14, 0)),
        ("today", at(2027, 1, 20)),
        ("yesterday 9am", at(2027, 1, 19, 9, 0)),
        ("9 am yesterday", at(2027, 1, 19, 9, 0)),
        ("yesterday at noon", at(2027, 1, 19, 12, 0)),
        ("tomorrow 12am", at(2027, 1, 21, 0, 0)),
        ("tomorrow midnight", at(2027, 1, 21, 0, 0)),
        ("14:30", at(2027, 1, 20, 14, 30)),
        ("now", NOW),
        ("2027-01-14T10:30", at(2027, 1, 14, 10, 30)),
        ("2027-01-14 10:30", at(2027, 1, 14, 10, 30)),
        ("2027-01-14", at(2027, 1, 14)),
        ("2027-01-14T10:30Z", at(2027, 1, 14, 10, 30)),
        ("2027-06-14T10:30", at(2027, 6, 14, 9, 30)),  # local time in summer is BST
    ],
)
def test_forms_people_write(text: str, expected: dt.datetime) -> None:
    assert clock.parse_time(text) == expected


def test_a_written_time_is_local_where_the_user_is() -> None:
    assert clock.parse_time("14/06/2027 10:00") == at(2027, 6, 14, 9, 0)
    assert clock.parse_time("14/06/2027 10:00", "America/New_York") == at(2027, 6, 14, 14, 0)
    # "today" is today where the user is: 00:30 on the 21st in Auckland is still the 20th in London
    assert clock.parse_time("today", "Pacific/Auckland").date() == dt.date(2027, 1, 20)


def test_shown_times_read_back_to_the_same_instant() -> None:
    for instant in (at(2027, 1, 14, 10, 30), at(2027, 7, 1, 23, 5), at(2026, 12, 31, 0, 0)):
        assert clock.parse_time(clock.show(instant)) == instant


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("soon", "is not a date or time"),
        ("banana", "is not a date or time"),
        ("last tuesday", "is not a date or time"),
        ("next week", "is not a date or time"),
        ("14", "is not a date or time"),
        ("tuesday", "is not a date or time"),
        ("14 Smarch 2027", "is not a date or time"),
        ("20270114", "is not a date or time"),
        ("12/31/2027", "is not a real date"),  # month first is refused, not guessed
        ("31/02/2027", "is not a real date"),
        ("32 Jan 2027", "is not a real date"),
        ("Fri 14 Jan 2027", "is a Thursday"),
        ("13pm", "is not a time"),
        ("today 25:00", "is not a time of day"),
        ("today 10:61", "is not a time of day"),
        ("14/01/1999", "outside the years 2000 to 2099"),
        ("", "is empty"),
        ("   ", "is empty"),
    ],
)
def test_what_is_refused_says_why_and_shows_the_forms(text: str, says: str) -> None:
    with pytest.raises(UsageError) as refused:
        clock.parse_time(text, what="--at")
    message = str(refused.value)
    assert says in message
    assert message.startswith("--at")
    if says != "outside the years 2000 to 2099":
        assert "14/01/2027 10:30" in (refused.value.hint or "")
