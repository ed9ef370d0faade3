"""Business-time arithmetic against real timezones, holidays, split shifts and DST.

Expected instants are written as ISO strings with their UTC offset: comparing two datetimes
that share a tzinfo ignores DST in Python, so `==` on them would hide exactly the bugs these
tests are for.
"""

from __future__ import annotations

import datetime as dt
import random
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sla_dsl.business_time.calendar import BusinessCalendar, NeverOpen, deadline, to_timedelta
from sla_dsl.language import model

SPAN = model.Span(line=1, column=1, end_line=1, end_column=1)
UTC = dt.UTC
NEW_YORK = "America/New_York"
AMSTERDAM = "Europe/Amsterdam"
KOLKATA = "Asia/Kolkata"


# ---------------------------------------------------------------- building calendars


def _minutes(text: str) -> int:
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


def make_calendar(*lines: str, name: str = "business") -> model.Calendar:
    """Build a model calendar from lines like the policy text, e.g.
    `open mon-fri 09:00-12:00 13:00-17:00` or `closed 2026-11-26 2026-12-24..2026-12-26`."""
    items: list[model.OpenHours | model.ClosedDates] = []
    for line in lines:
        keyword, *words = line.split()
        if keyword == "open":
            days = []
            for part in words[0].split(","):
                first, _, last = part.partition("-")
                days.append(model.DayRange(span=SPAN, first=first, last=last or first))
            hours = []
            for part in words[1:]:
                start, end = part.split("-")
                hours.append(model.HourRange(span=SPAN, start=_minutes(start), end=_minutes(end)))
            items.append(model.OpenHours(span=SPAN, days=days, hours=hours))
        else:
            assert keyword == "closed"
            dates = []
            for part in words:
                first, _, last = part.partition("..")
                dates.append(
                    model.DateRange(
                        span=SPAN,
                        first=dt.date.fromisoformat(first),
                        last=dt.date.fromisoformat(last or first),
                    )
                )
            items.append(model.ClosedDates(span=SPAN, dates=dates))
    return model.Calendar(span=SPAN, name=model.Name(span=SPAN, value=name), items=items)


def at(zone: str, text: str, fold: int = 0) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(zone), fold=fold)


def iso(value: dt.datetime) -> str:
    return value.isoformat(timespec="minutes")


def duration(amount: float, unit: str, business: bool = False) -> model.Duration:
    return model.Duration(span=SPAN, amount=amount, unit=unit, business=business)


# Mon-Fri 9-17 and Saturday 10-14 in New York, Thanksgiving and Christmas closed (LANGUAGE.md).
BUSINESS = make_calendar(
    "open mon-fri 09:00-17:00",
    "open sat 10:00-14:00",
    "closed 2026-11-26 2026-12-25 2027-01-01",
)
WEEKDAYS_ONLY = make_calendar("open mon-fri 09:00-17:00")
LUNCH = make_calendar("open mon-fri 09:00-12:00 13:00-17:00")
KOLKATA_OFFICE = make_calendar("open mon-fri 10:00-18:30", "closed 2026-01-26")
AROUND_THE_CLOCK = make_calendar("open mon-sun 00:00-24:00")


@pytest.fixture(scope="module")
def business() -> BusinessCalendar:
    return BusinessCalendar.from_model(BUSINESS, NEW_YORK)


@pytest.fixture(scope="module")
def weekdays() -> BusinessCalendar:
    return BusinessCalendar.from_model(WEEKDAYS_ONLY, NEW_YORK)


@pytest.fixture(scope="module")
def lunch() -> BusinessCalendar:
    return BusinessCalendar.from_model(LUNCH, AMSTERDAM)


@pytest.fixture(scope="module")
def kolkata() -> BusinessCalendar:
    return BusinessCalendar.from_model(KOLKATA_OFFICE, KOLKATA)


# ---------------------------------------------------------------- open intervals


def test_open_intervals_are_aware_and_in_the_calendars_timezone(business: BusinessCalendar):
    [(opens, closes)] = business.open_intervals_on(dt.date(2026, 3, 2))
    assert (iso(opens), iso(closes)) == ("2026-03-02T09:00-05:00", "2026-03-02T17:00-05:00")
    assert opens.tzinfo == ZoneInfo(NEW_YORK)
    assert business.open_intervals_on(dt.date(2026, 3, 1)) == []  # Sunday
    assert business.open_intervals_on(dt.date(2026, 11, 26)) == []  # Thanksgiving


def test_split_shifts_and_overlapping_open_lines_are_merged():
    calendar = BusinessCalendar.from_model(
        make_calendar(
            "open mon-fri 09:00-12:00 13:00-17:00",
            "open mon 11:00-12:30",
            "open mon 12:30-13:00",
            "open tue 16:00-18:00",
        ),
        AMSTERDAM,
    )
    monday = calendar.open_intervals_on(dt.date(2026, 6, 1))
    assert [(iso(a), iso(b)) for a, b in monday] == [
        ("2026-06-01T09:00+02:00", "2026-06-01T17:00+02:00")
    ]
    tuesday = calendar.open_intervals_on(dt.date(2026, 6, 2))
    assert [(iso(a), iso(b)) for a, b in tuesday] == [
        ("2026-06-02T09:00+02:00", "2026-06-02T12:00+02:00"),
        ("2026-06-02T13:00+02:00", "2026-06-02T18:00+02:00"),
    ]


def test_day_ranges_wrap_around_the_week():
    calendar = BusinessCalendar.from_model(make_calendar("open fri-mon 10:00-11:00"), KOLKATA)
    open_days = [
        day.strftime("%a")
        for day in (dt.date(2026, 6, 1) + dt.timedelta(days=k) for k in range(7))
        if calendar.open_intervals_on(day)
    ]
    assert open_days == ["Mon", "Fri", "Sat", "Sun"]


def test_closed_date_ranges_close_whole_local_days(kolkata: BusinessCalendar):
    calendar = BusinessCalendar.from_model(
        make_calendar("open mon-sun 00:00-24:00", "closed 2026-12-24..2026-12-26"), KOLKATA
    )
    assert calendar.open_intervals_on(dt.date(2026, 12, 23))
    assert not any(calendar.open_intervals_on(dt.date(2026, 12, d)) for d in (24, 25, 26))
    assert not calendar.is_open(at(KOLKATA, "2026-12-24T00:00"))
    assert calendar.is_open(at(KOLKATA, "2026-12-23T23:59"))
    assert iso(calendar.next_open(at(KOLKATA, "2026-12-24T08:00"))) == "2026-12-27T00:00+05:30"
    assert kolkata.open_intervals_on(dt.date(2026, 1, 26)) == []  # Republic Day, a Monday


def test_invalid_hours_are_rejected_with_the_calendars_name():
    with pytest.raises(ValueError, match="calendar `night`"):
        BusinessCalendar.from_model(make_calendar("open mon 22:00-06:00", name="night"), NEW_YORK)
    with pytest.raises(ValueError):
        BusinessCalendar(NEW_YORK, {0: [(0, 1441)]})
    with pytest.raises(ValueError):
        BusinessCalendar(NEW_YORK, {}, [(dt.date(2026, 2, 1), dt.date(2026, 1, 1))])


def test_is_open_includes_the_opening_and_excludes_the_close(lunch: BusinessCalendar):
    assert lunch.is_open(at(AMSTERDAM, "2026-06-01T09:00"))
    assert lunch.is_open(at(AMSTERDAM, "2026-06-01T11:59:59.999999"))
    assert not lunch.is_open(at(AMSTERDAM, "2026-06-01T12:00"))
    assert not lunch.is_open(at(AMSTERDAM, "2026-06-01T08:59"))
    assert not lunch.is_open(at(AMSTERDAM, "2026-06-01T17:00"))
    # The same instant written in another zone is the same instant.
    assert lunch.is_open(at(NEW_YORK, "2026-06-01T04:30"))  # 10:30 in Amsterdam


def test_intervals_are_clipped_and_merged_across_midnight():
    calendar = BusinessCalendar.always_open(NEW_YORK)
    start, end = at(NEW_YORK, "2026-03-06T12:00"), at(NEW_YORK, "2026-03-09T12:00")
    assert [(iso(a), iso(b)) for a, b in calendar.intervals(start, end)] == [
        ("2026-03-06T12:00-05:00", "2026-03-09T12:00-04:00")
    ]
    assert calendar.open_time_between(start, end) == dt.timedelta(hours=71)


def test_intervals_skip_lunch_weekends_and_holidays(business: BusinessCalendar):
    spans = business.intervals(at(NEW_YORK, "2026-11-25T15:00"), at(NEW_YORK, "2026-11-30T10:00"))
    assert [(iso(a), iso(b)) for a, b in spans] == [
        ("2026-11-25T15:00-05:00", "2026-11-25T17:00-05:00"),
        ("2026-11-27T09:00-05:00", "2026-11-27T17:00-05:00"),
        ("2026-11-28T10:00-05:00", "2026-11-28T14:00-05:00"),
        ("2026-11-30T09:00-05:00", "2026-11-30T10:00-05:00"),
    ]


def test_open_time_between_is_signed(business: BusinessCalendar):
    start, end = at(NEW_YORK, "2026-11-25T15:00"), at(NEW_YORK, "2026-11-30T10:00")
    assert business.open_time_between(start, end) == dt.timedelta(hours=15)
    assert business.open_time_between(end, start) == -dt.timedelta(hours=15)
    assert business.open_time_between(start, start) == dt.timedelta()


# ---------------------------------------------------------------- business minutes and hours


def test_weekends_are_skipped(weekdays: BusinessCalendar, kolkata: BusinessCalendar):
    result = weekdays.add_open_time(at(NEW_YORK, "2026-03-06T16:00"), dt.timedelta(hours=2))
    assert iso(result) == "2026-03-09T10:00-04:00"  # Friday -> Monday, across spring-forward
    result = kolkata.add_open_time(at(KOLKATA, "2026-06-05T18:00"), dt.timedelta(hours=1))
    assert iso(result) == "2026-06-08T10:30+05:30"


def test_a_holiday_in_the_middle_of_a_multi_day_duration(business: BusinessCalendar):
    # Wednesday 8h, Thanksgiving closed, Friday 8h, Saturday 10-14 is the last 4h.
    result = business.add_open_time(at(NEW_YORK, "2026-11-25T09:00"), dt.timedelta(hours=20))
    assert iso(result) == "2026-11-28T14:00-05:00"
    result = business.add_open_time(at(NEW_YORK, "2026-11-25T09:00"), dt.timedelta(hours=21))
    assert iso(result) == "2026-11-30T10:00-05:00"


def test_split_shift_lunch_break_does_not_count(lunch: BusinessCalendar):
    result = lunch.add_open_time(at(AMSTERDAM, "2026-06-01T11:00"), dt.timedelta(hours=2))
    assert iso(result) == "2026-06-01T14:00+02:00"
    result = lunch.add_open_time(at(AMSTERDAM, "2026-06-01T12:15"), dt.timedelta(minutes=30))
    assert iso(result) == "2026-06-01T13:30+02:00"  # started during lunch


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        ("2026-03-02T07:00", "2026-03-02T10:00-05:00"),  # before opening
        ("2026-03-02T18:30", "2026-03-03T10:00-05:00"),  # after close
        ("2026-03-02T17:00", "2026-03-03T10:00-05:00"),  # exactly at close
        ("2026-03-01T11:00", "2026-03-02T10:00-05:00"),  # Sunday
        ("2026-11-26T10:00", "2026-11-27T10:00-05:00"),  # Thanksgiving
        ("2026-11-25T23:59", "2026-11-27T10:00-05:00"),  # the night before it
    ],
)
def test_a_clock_started_while_closed_starts_at_the_next_opening(
    business: BusinessCalendar, start: str, expected: str
):
    begin = at(NEW_YORK, start)
    assert not business.is_open(begin)
    assert iso(business.add_open_time(begin, dt.timedelta(hours=1))) == expected
    assert iso(business.add_open_time(begin, dt.timedelta())) == expected.replace("T10", "T09")


def test_zero_open_time_while_open_is_the_start(business: BusinessCalendar):
    start = at(NEW_YORK, "2026-03-02T11:17:05")
    assert business.add_open_time(start, dt.timedelta()) == start
    assert business.next_open(start) == start


@pytest.mark.parametrize(
    ("start", "amount", "expected"),
    [
        ("2026-03-02T16:00", dt.timedelta(hours=1), "2026-03-02T17:00-05:00"),
        ("2026-03-02T09:00", dt.timedelta(hours=8), "2026-03-02T17:00-05:00"),
        ("2026-03-07T13:00", dt.timedelta(hours=1), "2026-03-07T14:00-05:00"),  # Saturday
        ("2026-03-01T13:00", dt.timedelta(hours=8), "2026-03-02T17:00-05:00"),  # from Sunday
    ],
)
def test_a_deadline_landing_exactly_on_a_close_is_that_close(
    business: BusinessCalendar, start: str, amount: dt.timedelta, expected: str
):
    assert iso(business.add_open_time(at(NEW_YORK, start), amount)) == expected


def test_lunch_close_is_a_deadline_too(lunch: BusinessCalendar):
    result = lunch.add_open_time(at(AMSTERDAM, "2026-06-01T11:00"), dt.timedelta(hours=1))
    assert iso(result) == "2026-06-01T12:00+02:00"


def test_results_are_in_the_calendars_timezone(business: BusinessCalendar):
    result = business.add_open_time(at(KOLKATA, "2026-03-02T20:30"), dt.timedelta(hours=1))
    assert iso(result) == "2026-03-02T11:00-05:00"  # 20:30 IST is 10:00 EST
    assert result.tzinfo == ZoneInfo(NEW_YORK)


# ---------------------------------------------------------------- business days


@pytest.mark.parametrize(
    ("start", "days", "expected"),
    [
        ("2026-03-02T16:00", 1, "2026-03-03T16:00-05:00"),  # Monday -> Tuesday
        ("2026-03-06T16:00", 1, "2026-03-09T16:00-04:00"),  # Friday -> Monday
        ("2026-03-07T11:00", 1, "2026-03-10T09:00-04:00"),  # Saturday -> Tuesday at opening
        ("2026-03-08T11:00", 1, "2026-03-10T09:00-04:00"),  # Sunday -> Tuesday at opening
        ("2026-03-02T18:00", 1, "2026-03-04T09:00-05:00"),  # after close -> day after next
        ("2026-03-02T16:00", 5, "2026-03-09T16:00-04:00"),  # a full week
        ("2026-03-02T16:00", 0, "2026-03-02T16:00-05:00"),
        ("2026-03-07T11:00", 0, "2026-03-09T09:00-04:00"),  # zero days: the next opening
    ],
)
def test_business_days_examples(weekdays: BusinessCalendar, start: str, days: int, expected: str):
    assert iso(weekdays.add_business_days(at(NEW_YORK, start), days)) == expected


@pytest.mark.parametrize(
    ("start", "days", "expected"),
    [
        ("2026-03-06T16:00", 1, "2026-03-07T14:00-05:00"),  # Saturday closes at 14:00
        ("2026-03-06T09:30", 1, "2026-03-07T10:00-05:00"),  # Saturday opens at 10:00
        ("2026-03-06T12:00", 1, "2026-03-07T12:00-05:00"),  # inside Saturday's hours
        ("2026-03-07T11:00", 1, "2026-03-09T11:00-04:00"),  # Saturday -> Monday
        ("2026-11-25T10:00", 1, "2026-11-27T10:00-05:00"),  # Thanksgiving is not counted
        ("2026-11-25T10:00", 3, "2026-11-30T10:00-05:00"),
        ("2026-11-26T10:00", 1, "2026-11-28T10:00-05:00"),  # started on the holiday
    ],
)
def test_business_days_are_clamped_into_the_target_days_hours(
    business: BusinessCalendar, start: str, days: int, expected: str
):
    assert iso(business.add_business_days(at(NEW_YORK, start), days)) == expected


def test_business_day_landing_in_a_lunch_break_keeps_its_time():
    calendar = BusinessCalendar.from_model(
        make_calendar("open mon 09:00-17:00", "open tue 09:00-12:00 13:00-17:00"), AMSTERDAM
    )
    result = calendar.add_business_days(at(AMSTERDAM, "2026-06-01T12:30"), 1)
    assert iso(result) == "2026-06-02T12:30+02:00"


def test_business_days_reject_negative_and_fractional_counts(business: BusinessCalendar):
    start = at(NEW_YORK, "2026-03-02T16:00")
    with pytest.raises(ValueError):
        business.add_business_days(start, -1)
    with pytest.raises(TypeError):
        business.add_business_days(start, 1.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        business.add_open_time(start, -dt.timedelta(minutes=1))


# ---------------------------------------------------------------- daylight saving time


@pytest.mark.parametrize(
    "calendar",
    [
        BusinessCalendar.always_open(NEW_YORK),
        BusinessCalendar.from_model(AROUND_THE_CLOCK, NEW_YORK),
    ],
    ids=["always_open", "mon-sun 00:00-24:00"],
)
def test_dst_days_are_23_and_25_hours_long(calendar: BusinessCalendar):
    def length(day: dt.date) -> dt.timedelta:
        # In UTC: `b - a` on two New York datetimes would subtract wall times.
        intervals = calendar.open_intervals_on(day)
        return sum((b.astimezone(UTC) - a.astimezone(UTC) for a, b in intervals), dt.timedelta())

    assert length(dt.date(2026, 3, 8)) == dt.timedelta(hours=23)
    assert length(dt.date(2026, 11, 1)) == dt.timedelta(hours=25)
    assert length(dt.date(2026, 11, 2)) == dt.timedelta(hours=24)
    spring = calendar.add_open_time(at(NEW_YORK, "2026-03-08T00:00"), dt.timedelta(hours=24))
    assert iso(spring) == "2026-03-09T01:00-04:00"
    fall = calendar.add_open_time(at(NEW_YORK, "2026-11-01T00:00"), dt.timedelta(hours=24))
    assert iso(fall) == "2026-11-01T23:00-05:00"


def test_dst_business_hours_in_amsterdam():
    calendar = BusinessCalendar.from_model(AROUND_THE_CLOCK, AMSTERDAM)
    spring = calendar.add_open_time(at(AMSTERDAM, "2026-03-29T00:00"), dt.timedelta(hours=24))
    assert iso(spring) == "2026-03-30T01:00+02:00"
    fall = calendar.add_open_time(at(AMSTERDAM, "2026-10-25T00:00"), dt.timedelta(hours=24))
    assert iso(fall) == "2026-10-25T23:00+01:00"
    # Through the repeated hour the clock keeps running: 02:00 CEST + 90 min is the second
    # 02:30, in CET.
    first = calendar.add_open_time(at(AMSTERDAM, "2026-10-25T02:00"), dt.timedelta(minutes=90))
    assert iso(first) == "2026-10-25T02:30+01:00"


def test_a_shift_across_the_dst_jump_is_real_time():
    calendar = BusinessCalendar.from_model(make_calendar("open sun 01:00-04:00"), NEW_YORK)
    [(opens, closes)] = calendar.open_intervals_on(dt.date(2026, 3, 8))
    assert (iso(opens), iso(closes)) == ("2026-03-08T01:00-05:00", "2026-03-08T04:00-04:00")
    assert calendar.open_time_between(opens, closes) == dt.timedelta(hours=2)
    [(opens, closes)] = calendar.open_intervals_on(dt.date(2026, 11, 1))
    assert calendar.open_time_between(opens, closes) == dt.timedelta(hours=4)
    assert calendar.open_time_between(opens, closes) == closes.astimezone(UTC) - opens.astimezone(
        UTC
    )
    [(opens, closes)] = calendar.open_intervals_on(dt.date(2026, 3, 15))
    assert calendar.open_time_between(opens, closes) == dt.timedelta(hours=3)


def test_opening_times_skipped_by_spring_forward_open_at_the_jump():
    calendar = BusinessCalendar.from_model(
        make_calendar("open sun 02:30-05:00", "open sat 02:00-02:30"), NEW_YORK
    )
    [(opens, closes)] = calendar.open_intervals_on(dt.date(2026, 3, 8))
    assert (iso(opens), iso(closes)) == ("2026-03-08T03:00-04:00", "2026-03-08T05:00-04:00")
    # A fall-back repeated time opens at its first occurrence.
    [(opens, _)] = calendar.open_intervals_on(dt.date(2026, 11, 1))
    assert iso(opens) == "2026-11-01T02:30-05:00"  # 02:30 is not repeated in New York
    assert calendar.open_intervals_on(dt.date(2026, 3, 7))  # an ordinary Saturday


def test_wall_clock_days_keep_the_local_time_across_dst():
    calendar = BusinessCalendar.from_model(WEEKDAYS_ONLY, NEW_YORK)
    start = at(NEW_YORK, "2026-03-07T12:00")
    result = deadline(start, duration(1, "day"), calendar)
    assert iso(result) == "2026-03-08T12:00-04:00"
    assert result.astimezone(UTC) - start.astimezone(UTC) == dt.timedelta(hours=23)
    start = at(NEW_YORK, "2026-10-31T12:00")
    result = deadline(start, duration(1, "day"), calendar)
    assert iso(result) == "2026-11-01T12:00-05:00"
    assert result.astimezone(UTC) - start.astimezone(UTC) == dt.timedelta(hours=25)
    result = deadline(at(NEW_YORK, "2026-03-05T09:00"), duration(1, "week"), calendar)
    assert iso(result) == "2026-03-12T09:00-04:00"
    amsterdam = BusinessCalendar.always_open(AMSTERDAM)
    result = deadline(at(AMSTERDAM, "2026-10-24T08:15"), duration(2, "day"), amsterdam)
    assert iso(result) == "2026-10-26T08:15+01:00"


def test_wall_clock_days_resolve_skipped_and_repeated_times():
    calendar = BusinessCalendar.always_open(NEW_YORK)
    skipped = deadline(at(NEW_YORK, "2026-03-07T02:30"), duration(1, "day"), calendar)
    assert iso(skipped) == "2026-03-08T03:00-04:00"  # 02:30 does not exist: the jump
    repeated = deadline(at(NEW_YORK, "2026-10-31T01:30"), duration(1, "day"), calendar)
    assert iso(repeated) == "2026-11-01T01:30-04:00"  # the first 01:30
    second = at(NEW_YORK, "2026-11-01T01:30", fold=1)
    zero = deadline(second, duration(0, "day"), calendar)
    assert zero.utcoffset() == dt.timedelta(hours=-5)  # zero days is exactly the start


def test_business_days_across_dst_keep_the_local_time():
    calendar = BusinessCalendar.from_model(AROUND_THE_CLOCK, NEW_YORK)
    result = calendar.add_business_days(at(NEW_YORK, "2026-03-07T10:00"), 1)
    assert iso(result) == "2026-03-08T10:00-04:00"
    result = calendar.add_business_days(at(NEW_YORK, "2026-03-07T02:30"), 1)
    assert iso(result) == "2026-03-08T03:00-04:00"
    result = calendar.add_business_days(at(NEW_YORK, "2026-10-31T22:00"), 1)
    assert iso(result) == "2026-11-01T22:00-05:00"


# ---------------------------------------------------------------- deadline dispatch


def test_deadline_dispatches_on_unit_and_business(business: BusinessCalendar):
    start = at(NEW_YORK, "2026-03-06T16:00")  # a Friday
    cases = {
        (1, "hour", True): "2026-03-06T17:00-05:00",  # runs out exactly at Friday's close
        (2, "hour", True): "2026-03-07T11:00-05:00",  # Saturday 10-14 is open
        (90, "minute", True): "2026-03-07T10:30-05:00",
        (1.5, "hour", True): "2026-03-07T10:30-05:00",
        (1, "day", True): "2026-03-07T14:00-05:00",
        (2.0, "day", True): "2026-03-09T16:00-04:00",
        (3, "hour", False): "2026-03-06T19:00-05:00",
        (45, "minute", False): "2026-03-06T16:45-05:00",
        (2, "day", False): "2026-03-08T16:00-04:00",
        (1, "week", False): "2026-03-13T16:00-04:00",
    }
    for (amount, unit, is_business), expected in cases.items():
        assert iso(deadline(start, duration(amount, unit, is_business), business)) == expected


def test_months_quarters_and_years_clamp_to_the_month_end():
    calendar = BusinessCalendar.always_open(NEW_YORK)
    cases = [
        ("2026-01-31T10:00", 1, "month", "2026-02-28T10:00-05:00"),
        ("2026-02-15T12:00", 1, "month", "2026-03-15T12:00-04:00"),
        ("2026-11-30T09:00", 1, "quarter", "2027-02-28T09:00-05:00"),
        ("2026-12-31T23:00", 2, "month", "2027-02-28T23:00-05:00"),
        ("2028-02-29T08:00", 1, "year", "2029-02-28T08:00-05:00"),
        ("2026-05-31T08:00", 13, "month", "2027-06-30T08:00-04:00"),
    ]
    for start, amount, unit, expected in cases:
        assert iso(deadline(at(NEW_YORK, start), duration(amount, unit), calendar)) == expected


@pytest.mark.parametrize(
    ("amount", "unit", "is_business"),
    [
        (1, "week", True),
        (1, "month", True),
        (1, "quarter", True),
        (1, "year", True),
        (1.5, "day", True),
        (1.5, "day", False),
        (0.5, "month", False),
        (-1, "hour", False),
    ],
)
def test_deadline_rejects_what_cannot_be_counted(
    business: BusinessCalendar, amount: float, unit: str, is_business: bool
):
    with pytest.raises(ValueError):
        deadline(at(NEW_YORK, "2026-03-02T10:00"), duration(amount, unit, is_business), business)


def test_to_timedelta_is_for_fixed_wall_clock_units():
    assert to_timedelta(duration(4, "hour")) == dt.timedelta(hours=4)
    assert to_timedelta(duration(30, "minute")) == dt.timedelta(minutes=30)
    assert to_timedelta(duration(1.5, "day")) == dt.timedelta(hours=36)
    assert to_timedelta(duration(2, "week")) == dt.timedelta(days=14)
    for bad in (duration(1, "hour", True), duration(1, "month"), duration(1, "year")):
        with pytest.raises(ValueError):
            to_timedelta(bad)


# ---------------------------------------------------------------- never open, naive input


def test_a_calendar_that_is_never_open_raises():
    calendar = BusinessCalendar.from_model(make_calendar("closed 2026-01-01"), NEW_YORK)
    start = at(NEW_YORK, "2026-03-02T10:00")
    assert not calendar.is_ever_open()
    assert not calendar.is_open(start)
    with pytest.raises(NeverOpen):
        calendar.next_open(start)
    with pytest.raises(NeverOpen):
        calendar.add_open_time(start, dt.timedelta(hours=1))
    with pytest.raises(NeverOpen):
        calendar.add_business_days(start, 1)
    with pytest.raises(NeverOpen):
        deadline(start, duration(1, "hour", True), calendar)
    assert calendar.open_time_between(start, start + dt.timedelta(days=30)) == dt.timedelta()
    assert list(calendar.intervals(start, start + dt.timedelta(days=30))) == []


def test_a_calendar_closed_for_years_is_never_open_in_practice():
    calendar = BusinessCalendar.from_model(
        make_calendar("open mon-fri 09:00-17:00", "closed 2026-01-01..2035-12-31"), NEW_YORK
    )
    assert calendar.is_ever_open()
    with pytest.raises(NeverOpen):
        calendar.next_open(at(NEW_YORK, "2026-03-02T10:00"))
    whole_range = BusinessCalendar(NEW_YORK, {0: [(0, 60)]}, [(dt.date.min, dt.date.max)])
    assert not whole_range.is_ever_open()
    assert BusinessCalendar.from_model(BUSINESS, NEW_YORK).is_ever_open()


def test_naive_datetimes_are_rejected(business: BusinessCalendar):
    naive = dt.datetime(2026, 3, 2, 10, 0)
    aware = at(NEW_YORK, "2026-03-02T10:00")
    calls = [
        lambda: business.is_open(naive),
        lambda: business.next_open(naive),
        lambda: business.intervals(naive, aware),
        lambda: business.intervals(aware, naive),
        lambda: business.open_time_between(naive, aware),
        lambda: business.add_open_time(naive, dt.timedelta(hours=1)),
        lambda: business.add_business_days(naive, 1),
        lambda: deadline(naive, duration(1, "hour", True), business),
        lambda: deadline(naive, duration(1, "hour"), business),
        lambda: deadline(naive, duration(1, "day"), business),
        lambda: deadline(naive, duration(1, "month"), business),
    ]
    for call in calls:
        with pytest.raises(ValueError, match="timezone-aware"):
            call()


# ---------------------------------------------------------------- properties and a reference

_PROPERTY_CALENDAR = BusinessCalendar.from_model(
    make_calendar(
        "open mon-fri 08:30-12:00 12:45-17:30",
        "open sat 10:00-14:00",
        "open sun 00:00-24:00",
        "closed 2026-05-25 2026-07-03 2026-11-26..2026-11-27 2026-12-24..2026-12-26",
    ),
    NEW_YORK,
)
BASE = dt.datetime(2025, 12, 20, tzinfo=UTC)
YEAR_US = 380 * 24 * 3600 * 10**6


@settings(max_examples=150, deadline=None, database=None)
@given(
    offset=st.integers(0, YEAR_US),
    amount=st.integers(0, 120 * 3600 * 10**6),
    zone=st.sampled_from([NEW_YORK, KOLKATA, AMSTERDAM]),
)
def test_open_time_between_inverts_add_open_time(offset: int, amount: int, zone: str):
    calendar = _PROPERTY_CALENDAR
    start = (BASE + dt.timedelta(microseconds=offset)).astimezone(ZoneInfo(zone))
    budget = dt.timedelta(microseconds=amount)
    end = calendar.add_open_time(start, budget)
    assert end.tzinfo == calendar.timezone
    assert end.astimezone(UTC) >= start.astimezone(UTC)
    assert calendar.open_time_between(start, end) == budget
    if budget:
        # Earliest such instant: a microsecond earlier the budget has not run out yet.
        before = end.astimezone(UTC) - dt.timedelta(microseconds=1)
        assert calendar.open_time_between(start, before) < budget
    else:
        assert end == calendar.next_open(start)


@settings(max_examples=100, deadline=None, database=None)
@given(offset=st.integers(0, YEAR_US), length=st.integers(1, 30 * 24 * 3600 * 10**6))
def test_add_open_time_inverts_open_time_between(offset: int, length: int):
    calendar = _PROPERTY_CALENDAR
    start = BASE + dt.timedelta(microseconds=offset)
    end = start + dt.timedelta(microseconds=length)
    spent = calendar.open_time_between(start, end)
    reached = calendar.add_open_time(start, spent) if spent else end
    assert reached.astimezone(UTC) <= end
    assert calendar.open_time_between(reached, end) == dt.timedelta()
    if calendar.is_open(end):
        assert reached.astimezone(UTC) == end


class ReferenceCalendar:
    """Deliberately naive: decides openness minute by minute from the local wall clock."""

    def __init__(self, calendar: model.Calendar, zone: str) -> None:
        self.zone = ZoneInfo(zone)
        self.hours: dict[int, list[tuple[int, int]]] = {day: [] for day in range(7)}
        self.closed: set[dt.date] = set()
        for item in calendar.items:
            if isinstance(item, model.OpenHours):
                for days in item.days:
                    first = model.WEEKDAYS.index(days.first)
                    last = model.WEEKDAYS.index(days.last)
                    for day in range(first, last + 1):
                        self.hours[day] += [(h.start, h.end) for h in item.hours]
            else:
                for span in item.dates:
                    day = span.first
                    while day <= span.last:
                        self.closed.add(day)
                        day += dt.timedelta(days=1)

    def is_open(self, instant: dt.datetime) -> bool:
        local = instant.astimezone(self.zone)
        if local.date() in self.closed:
            return False
        minute = local.hour * 60 + local.minute
        return any(start <= minute < end for start, end in self.hours[local.weekday()])

    def add_minutes(self, start: dt.datetime, minutes: int) -> dt.datetime:
        step = dt.timedelta(minutes=1)
        instant = start.astimezone(UTC)
        while not self.is_open(instant):
            instant += step
        while minutes:
            if self.is_open(instant):
                minutes -= 1
            instant += step
        return instant


REFERENCE_CASES = [
    (
        make_calendar(
            "open mon-fri 09:00-12:00 13:00-17:00",
            "open sat 10:00-14:00",
            "closed 2026-03-05 2026-11-26",
        ),
        NEW_YORK,
        [dt.datetime(2026, 3, 1, tzinfo=UTC), dt.datetime(2026, 10, 28, tzinfo=UTC)],
    ),
    (
        make_calendar("open mon-sat 07:00-21:00", "open sun 00:00-24:00", "closed 2026-10-26"),
        AMSTERDAM,
        [dt.datetime(2026, 3, 26, tzinfo=UTC), dt.datetime(2026, 10, 22, tzinfo=UTC)],
    ),
    (KOLKATA_OFFICE, KOLKATA, [dt.datetime(2026, 1, 20, tzinfo=UTC)]),
]


@pytest.mark.parametrize(
    ("calendar_model", "zone", "windows"),
    REFERENCE_CASES,
    ids=["new-york-lunch", "amsterdam-long-days", "kolkata"],
)
def test_add_open_time_matches_minute_by_minute_reference(
    calendar_model: model.Calendar, zone: str, windows: list[dt.datetime]
):
    calendar = BusinessCalendar.from_model(calendar_model, zone)
    reference = ReferenceCalendar(calendar_model, zone)
    rng = random.Random(f"{zone}-2026")
    for _ in range(100):
        start = rng.choice(windows) + dt.timedelta(minutes=rng.randrange(10 * 24 * 60))
        minutes = rng.choice([0, 1, rng.randrange(1, 120), rng.randrange(1, 900)])
        expected = reference.add_minutes(start, minutes)
        actual = calendar.add_open_time(start, dt.timedelta(minutes=minutes))
        assert actual.astimezone(UTC) == expected, (start, minutes)
        assert calendar.is_open(start) == reference.is_open(start), start
