"""The vectorised business-time path against the scalar one, element by element.

The evaluator computes deadlines for millions of leads with `deadlines` and friends; the checker
and simulator use `deadline`. A policy must not pass in one and fail in the other, so every test
here compares the two on the same instants: exactly, to the microsecond, including the instants
where bugs live (openings and closes, closed days, the hours DST skips or repeats).

Instants are int64 microseconds since the Unix epoch, UTC, as the evaluator holds them.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sla_dsl.business_time.calendar import HORIZON_DAYS, BusinessCalendar, NeverOpen, deadline
from sla_dsl.business_time.open_time import (
    OpenTimeTable,
    deadlines,
    next_open_many,
    open_time_between_many,
)
from sla_dsl.language import model

SPAN = model.Span(line=1, column=1, end_line=1, end_column=1)
UTC = dt.UTC
EPOCH = dt.datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = dt.timedelta(microseconds=1)
NEW_YORK = "America/New_York"
AMSTERDAM = "Europe/Amsterdam"
KOLKATA = "Asia/Kolkata"
DAYS = {name: index for index, name in enumerate(("mon", "tue", "wed", "thu", "fri", "sat", "sun"))}


# ---------------------------------------------------------------- helpers


def us(instant: dt.datetime) -> int:
    return (instant.astimezone(UTC) - EPOCH) // MICROSECOND


def instant(value: int, zone: ZoneInfo | str = UTC) -> dt.datetime:
    zone = ZoneInfo(zone) if isinstance(zone, str) else zone
    return (EPOCH + dt.timedelta(microseconds=int(value))).astimezone(zone)


def at(zone: str, text: str, fold: int = 0) -> int:
    return us(dt.datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(zone), fold=fold))


def iso(value: int, zone: str) -> str:
    return instant(value, zone).isoformat(timespec="minutes")


def duration(amount: float, unit: str, business: bool = False) -> model.Duration:
    return model.Duration(span=SPAN, amount=amount, unit=unit, business=business)


def _minutes(text: str) -> int:
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


def calendar(zone: str, *lines: str, closed: tuple[str, ...] = ()) -> BusinessCalendar:
    """`calendar(NEW_YORK, "mon-fri 09:00-12:00 13:00-17:00", closed=("2026-11-26",))`: the
    policy's `open` lines (one day range each) and `closed` dates (`a..b` for ranges)."""
    weekly: dict[int, list[tuple[int, int]]] = {}
    for line in lines:
        days, *hours = line.split()
        first, _, last = days.partition("-")
        span = range(DAYS[first], DAYS[last or first] + 1)
        for day in span:
            for part in hours:
                start, end = part.split("-")
                weekly.setdefault(day, []).append((_minutes(start), _minutes(end)))
    ranges = []
    for text in closed:
        first, _, last = text.partition("..")
        ranges.append((dt.date.fromisoformat(first), dt.date.fromisoformat(last or first)))
    return BusinessCalendar(zone, weekly, ranges)


def scalar_deadlines(starts: np.ndarray, length: model.Duration, cal: BusinessCalendar) -> list:
    return [us(deadline(instant(value), length, cal)) for value in starts]


def assert_same(actual: np.ndarray, expected: list[int], starts: np.ndarray, zone: str) -> None:
    assert actual.dtype == np.int64
    expected_array = np.array(expected, dtype=np.int64)
    wrong = np.flatnonzero(actual != expected_array)
    if wrong.size:
        first = wrong[0]
        pytest.fail(
            f"{wrong.size} of {starts.size} differ; first: start {iso(starts[first], zone)} "
            f"({int(starts[first])}): vectorised {instant(actual[first], zone).isoformat()}, "
            f"scalar {instant(expected_array[first], zone).isoformat()}"
        )


# ---------------------------------------------------------------- calendars under test

CALENDARS = {
    # LANGUAGE.md section 2: weekends closed; then Saturday mornings open, and holidays.
    "new-york-weekdays": calendar(NEW_YORK, "mon-fri 09:00-17:00"),
    "new-york-business": calendar(
        NEW_YORK,
        "mon-fri 09:00-17:00",
        "sat 10:00-14:00",
        closed=("2026-03-09", "2026-11-26", "2026-12-25", "2027-01-01"),
    ),
    # Split shifts, a holiday range over Easter and Christmas.
    "amsterdam-lunch": calendar(
        AMSTERDAM,
        "mon-fri 09:00-12:00 13:00-17:00",
        "sat 10:00-12:30 13:00-14:00",
        closed=("2026-04-03..2026-04-06", "2026-10-26", "2026-12-24..2026-12-26"),
    ),
    "new-york-24/7": BusinessCalendar.always_open(NEW_YORK),
    "amsterdam-24/7": calendar(AMSTERDAM, "mon-sun 00:00-24:00", closed=("2026-03-30",)),
    # Shifts inside and across the hours DST skips or repeats, and across midnight.
    "new-york-dst-shifts": calendar(
        NEW_YORK,
        "sat 02:00-02:30 22:00-24:00",
        "sun 00:00-01:30 01:45-03:30 04:00-05:00",
        "mon-fri 08:00-10:00 16:00-18:00",
    ),
    "amsterdam-dst-shifts": calendar(
        AMSTERDAM,
        "sun 02:00-03:00 03:00-04:00 23:00-24:00",
        "sat 02:15-02:45 23:30-24:00",
        "mon-fri 07:00-19:00",
    ),
    "kolkata": calendar(KOLKATA, "mon-fri 10:00-18:30", closed=("2026-01-26",)),
}

# The DST changes of 2026 (UTC): New York 03-08 07:00 and 11-01 06:00; Amsterdam 03-29 01:00
# and 10-25 01:00. Dates around them, and around holidays, are where instants are picked.
SPECIAL_DATES = [dt.date(2026, 1, 23) + dt.timedelta(days=k) for k in range(5)] + [
    dt.date(2026, month, day) + dt.timedelta(days=k)
    for month, day in ((3, 5), (3, 26), (4, 2), (10, 22), (10, 29), (11, 25), (12, 23))
    for k in range(6)
]
DST_HOURS = [
    at(NEW_YORK, "2026-03-08T01:00"),
    at(NEW_YORK, "2026-03-08T02:30"),  # skipped: resolves to 03:00 EDT
    at(NEW_YORK, "2026-10-31T02:30"),  # a day before the fall-back
    at(NEW_YORK, "2026-11-01T01:30", fold=0),  # repeated hour, both occurrences
    at(NEW_YORK, "2026-11-01T01:30", fold=1),
    at(AMSTERDAM, "2026-03-29T02:30"),
    at(AMSTERDAM, "2026-03-28T02:30"),  # a day before the skipped hour
    at(AMSTERDAM, "2026-10-25T02:30", fold=0),
    at(AMSTERDAM, "2026-10-25T02:30", fold=1),
    at(AMSTERDAM, "2026-10-24T02:30"),
]
DST_CHANGES = [
    us(dt.datetime(2026, 3, 8, 7, tzinfo=UTC)),
    us(dt.datetime(2026, 11, 1, 6, tzinfo=UTC)),
    us(dt.datetime(2026, 3, 29, 1, tzinfo=UTC)),
    us(dt.datetime(2026, 10, 25, 1, tzinfo=UTC)),
]


def special_instants(cal: BusinessCalendar) -> np.ndarray:
    """Openings and closes (and a microsecond either side), local midnights, noon on closed
    days, every quarter hour around each DST change, and wall times it skips or repeats."""
    values: set[int] = set(DST_HOURS)
    for change in DST_CHANGES:
        values.update(change + k * 15 * 60_000_000 for k in range(-12, 13))
    zone = cal.timezone
    for day in SPECIAL_DATES:
        midnight = dt.datetime.combine(day, dt.time()).replace(tzinfo=zone)
        values.add(us(midnight))
        values.add(us(midnight + dt.timedelta(hours=12)))
        for opens, closes in cal.open_intervals_on(day):
            for edge in (us(opens), us(closes)):
                values.update((edge - 1, edge, edge + 1))
    return np.array(sorted(values), dtype=np.int64)


SPECIAL = {name: special_instants(cal) for name, cal in CALENDARS.items()}

DURATIONS = [
    duration(0, "minute", True),
    duration(1, "minute", True),
    duration(90, "minute", True),
    duration(1, "hour", True),
    duration(1.5, "hour", True),
    duration(30, "hour", True),
    duration(0, "day", True),
    duration(1, "day", True),
    duration(2, "day", True),
    duration(6.0, "day", True),
    duration(45, "minute"),
    duration(1.5, "hour"),
    duration(0, "day"),
    duration(1, "day"),
    duration(2, "week"),
    duration(1, "month"),
    duration(1, "quarter"),
    duration(1, "year"),
]


def _label(length: model.Duration) -> str:
    return f"{length.amount:g}-{'business-' if length.business else ''}{length.unit}"


# ---------------------------------------------------------------- deadlines on edge instants


@pytest.mark.parametrize("name", CALENDARS)
@pytest.mark.parametrize("length", DURATIONS, ids=_label)
def test_deadlines_agree_with_the_scalar_code_on_edge_instants(name: str, length: model.Duration):
    cal, starts = CALENDARS[name], SPECIAL[name]
    expected = scalar_deadlines(starts, length, cal)
    assert_same(deadlines(starts, length, cal), expected, starts, cal.timezone.key)


@pytest.mark.parametrize("name", CALENDARS)
def test_next_open_and_open_time_agree_on_edge_instants(name: str):
    cal, starts = CALENDARS[name], SPECIAL[name]
    zone = cal.timezone.key
    expected = [us(cal.next_open(instant(value))) for value in starts]
    assert_same(next_open_many(starts, cal), expected, starts, zone)
    # Every edge instant to every other one a few steps along, forwards and backwards.
    for shift in (1, 7, 40):
        ends = np.roll(starts, shift)
        expected = [
            cal.open_time_between(instant(a), instant(b)) // MICROSECOND
            for a, b in zip(starts, ends, strict=True)
        ]
        assert_same(open_time_between_many(starts, ends, cal), expected, starts, zone)


# ---------------------------------------------------------------- deadlines on random instants

WINDOW_START = us(dt.datetime(2025, 12, 20, tzinfo=UTC))
WINDOW = 400 * 86_400_000_000


def starts_strategy(name: str) -> st.SearchStrategy[list[int]]:
    special = SPECIAL[name]
    anywhere = st.integers(WINDOW_START, WINDOW_START + WINDOW)
    on_the_minute = anywhere.map(lambda value: value - value % 60_000_000)
    edge = st.integers(0, special.size - 1).map(lambda index: int(special[index]))
    return st.lists(st.one_of(anywhere, on_the_minute, edge), min_size=1, max_size=30)


@st.composite
def calendar_and_starts(draw: st.DrawFn) -> tuple[str, np.ndarray]:
    name = draw(st.sampled_from(sorted(CALENDARS)))
    return name, np.array(draw(starts_strategy(name)), dtype=np.int64)


@settings(max_examples=120, deadline=None, database=None, derandomize=True)
@given(case=calendar_and_starts(), length=st.sampled_from(DURATIONS))
def test_deadlines_agree_with_the_scalar_code_on_random_instants(
    case: tuple[str, np.ndarray], length: model.Duration
):
    name, starts = case
    cal = CALENDARS[name]
    expected = scalar_deadlines(starts, length, cal)
    assert_same(deadlines(starts, length, cal), expected, starts, cal.timezone.key)


@settings(max_examples=60, deadline=None, database=None, derandomize=True)
@given(
    case=calendar_and_starts(),
    amount=st.integers(0, 200 * 3_600_000_000),
    unit=st.sampled_from(["minute", "hour", "day"]),
)
def test_business_amounts_of_any_size_agree(case: tuple[str, np.ndarray], amount: int, unit: str):
    """Up to 200 hours of open time (fractions of minutes and hours included), 25 days."""
    name, starts = case
    cal = CALENDARS[name]
    per_unit = {"minute": 60_000_000, "hour": 3_600_000_000}
    count = amount // 3_600_000_000 // 8 if unit == "day" else amount / per_unit[unit]
    length = duration(count, unit, True)
    expected = scalar_deadlines(starts, length, cal)
    assert_same(deadlines(starts, length, cal), expected, starts, cal.timezone.key)


@settings(max_examples=60, deadline=None, database=None, derandomize=True)
@given(case=calendar_and_starts(), lengths=st.lists(st.integers(-(10**12), 10**12), min_size=1))
def test_next_open_and_open_time_agree_on_random_instants(
    case: tuple[str, np.ndarray], lengths: list[int]
):
    name, starts = case
    cal = CALENDARS[name]
    zone = cal.timezone.key
    expected = [us(cal.next_open(instant(value))) for value in starts]
    assert_same(next_open_many(starts, cal), expected, starts, zone)
    ends = starts + np.resize(np.array(lengths, dtype=np.int64), starts.shape)
    expected = [
        cal.open_time_between(instant(a), instant(b)) // MICROSECOND
        for a, b in zip(starts, ends, strict=True)
    ]
    assert_same(open_time_between_many(starts, ends, cal), expected, starts, zone)


# ---------------------------------------------------------------- the documented examples

WEEKDAYS = CALENDARS["new-york-weekdays"]


def test_friday_afternoon_plus_one_business_hour_is_monday_morning():
    due = deadlines(
        np.array([at(NEW_YORK, "2026-03-06T16:55")]), duration(1, "hour", True), WEEKDAYS
    )
    assert iso(due[0], NEW_YORK) == "2026-03-09T09:55-04:00"  # and across spring-forward


@pytest.mark.parametrize(
    ("name", "start", "days", "expected"),
    [
        ("new-york-weekdays", "2026-03-02T16:00", 1, "2026-03-03T16:00-05:00"),  # Mon -> Tue
        ("new-york-weekdays", "2026-03-06T16:00", 1, "2026-03-09T16:00-04:00"),  # Fri -> Mon
        ("new-york-weekdays", "2026-03-07T11:00", 1, "2026-03-10T09:00-04:00"),  # Sat -> Tue
        ("new-york-weekdays", "2026-03-02T18:00", 1, "2026-03-04T09:00-05:00"),  # after close
        ("new-york-weekdays", "2026-03-07T11:00", 0, "2026-03-09T09:00-04:00"),  # next opening
        ("new-york-business", "2026-03-06T16:00", 1, "2026-03-07T14:00-05:00"),  # Saturday close
        ("new-york-business", "2026-03-06T09:30", 1, "2026-03-07T10:00-05:00"),  # its opening
        ("new-york-business", "2026-11-25T10:00", 1, "2026-11-27T10:00-05:00"),  # Thanksgiving
        ("amsterdam-lunch", "2026-06-06T12:15", 1, "2026-06-08T12:15+02:00"),  # lunch: kept
        ("amsterdam-lunch", "2026-06-01T12:30", 1, "2026-06-02T13:00+02:00"),  # from lunch
    ],
)
def test_language_business_day_examples(name: str, start: str, days: int, expected: str):
    cal = CALENDARS[name]
    zone = cal.timezone.key
    due = deadlines(np.array([at(zone, start)]), duration(days, "day", True), cal)
    assert iso(due[0], zone) == expected
    assert due[0] == us(deadline(instant(at(zone, start)), duration(days, "day", True), cal))


def test_wall_clock_units_keep_the_local_time_across_dst():
    cal = CALENDARS["new-york-24/7"]
    starts = np.array([at(NEW_YORK, "2026-03-07T02:30"), at(NEW_YORK, "2026-10-31T01:30")])
    due = deadlines(starts, duration(1, "day"), cal)
    assert [iso(value, NEW_YORK) for value in due] == [
        "2026-03-08T03:00-04:00",  # 02:30 does not exist that night: the jump
        "2026-11-01T01:30-04:00",  # the first of the two 01:30s
    ]
    due = deadlines(np.array([at(NEW_YORK, "2026-01-31T10:00")]), duration(1, "month"), cal)
    assert iso(due[0], NEW_YORK) == "2026-02-28T10:00-05:00"
    # Zero days is exactly the start, even in the second of two repeated hours.
    second = np.array([at(NEW_YORK, "2026-11-01T01:30", fold=1)])
    assert deadlines(second, duration(0, "day"), cal)[0] == second[0]


# ---------------------------------------------------------------- the table itself


def test_the_table_holds_the_scalar_intervals_and_their_sums():
    cal = CALENDARS["amsterdam-lunch"]
    table = OpenTimeTable.build(cal, dt.date(2026, 3, 27), dt.date(2026, 4, 7))
    intervals = [
        (us(a), us(b))
        for k in range(12)
        for a, b in cal.open_intervals_on(dt.date(2026, 3, 27) + dt.timedelta(days=k))
    ]
    assert list(zip(table.starts.tolist(), table.ends.tolist(), strict=True)) == intervals
    lengths = table.ends - table.starts
    assert table.cum_before.tolist() == (np.cumsum(lengths) - lengths).tolist()
    # Per open day: first opening and last close; Easter Friday to Monday is closed.
    days = [dt.date(1970, 1, 1) + dt.timedelta(days=int(n)) for n in table.open_days]
    assert dt.date(2026, 4, 3) not in days and dt.date(2026, 4, 7) in days
    assert iso(table.day_opens[0], AMSTERDAM) == "2026-03-27T09:00+01:00"
    assert iso(table.day_closes[1], AMSTERDAM) == "2026-03-28T14:00+01:00"  # Saturday
    assert iso(table.day_opens[2], AMSTERDAM) == "2026-03-30T09:00+02:00"  # summer time


def test_a_table_is_reused_and_widened_when_too_narrow():
    cal = CALENDARS["new-york-business"]
    narrow = OpenTimeTable.build(cal, dt.date(2026, 3, 1), dt.date(2026, 3, 3))
    starts = np.array([at(NEW_YORK, "2026-03-02T12:00"), at(NEW_YORK, "2026-11-25T16:30")])
    for length in (duration(3, "hour", True), duration(2, "day", True), duration(1, "month")):
        expected = scalar_deadlines(starts, length, cal)
        assert_same(deadlines(starts, length, cal, narrow), expected, starts, NEW_YORK)
    expected = [us(cal.next_open(instant(value))) for value in starts]
    assert_same(next_open_many(starts, cal, narrow), expected, starts, NEW_YORK)
    hours = open_time_between_many(starts[0], starts[1], cal, narrow) // 3_600_000_000
    assert hours == cal.open_time_between(instant(starts[0]), instant(starts[1])) // dt.timedelta(
        hours=1
    )
    with pytest.raises(ValueError, match="another calendar"):
        deadlines(starts, duration(1, "hour", True), WEEKDAYS, narrow)


def test_shapes_are_kept_and_empty_input_gives_empty_output():
    cal = CALENDARS["new-york-business"]
    grid = np.array(
        [[at(NEW_YORK, "2026-03-06T16:55"), at(NEW_YORK, "2026-03-07T09:00")]] * 3, dtype=np.int64
    )
    for length in (duration(1, "hour", True), duration(1, "day", True), duration(1, "week")):
        due = deadlines(grid, length, cal)
        assert due.shape == (3, 2)
        assert due.ravel().tolist() == scalar_deadlines(grid.ravel(), length, cal)
    assert next_open_many(grid, cal).shape == (3, 2)
    assert open_time_between_many(grid, grid[:1, :1], cal).shape == (3, 2)
    never = calendar(NEW_YORK)
    empty = np.array([], dtype=np.int64)
    for length in DURATIONS:
        result = deadlines(empty, length, never)
        assert result.shape == (0,) and result.dtype == np.int64
    assert next_open_many(empty.reshape(0, 3), never).shape == (0, 3)
    assert open_time_between_many(empty, empty, never).shape == (0,)


def test_only_integer_microseconds_are_accepted():
    cal = CALENDARS["new-york-business"]
    with pytest.raises(TypeError, match="microseconds"):
        deadlines(np.array([1.5e15]), duration(1, "hour", True), cal)
    friday = at(NEW_YORK, "2026-03-06T16:55")
    due = deadlines([friday], duration(1, "hour", True), WEEKDAYS)  # a list of ints will do
    assert due.tolist() == [at(NEW_YORK, "2026-03-09T09:55")]


@pytest.mark.parametrize(
    ("amount", "unit", "is_business"),
    [
        (1, "week", True),
        (1, "month", True),
        (1.5, "day", True),
        (0.5, "month", False),
        (-1, "hour", False),
        (-1, "hour", True),
    ],
)
def test_durations_are_refused_as_the_scalar_code_refuses_them(
    amount: float, unit: str, is_business: bool
):
    cal = CALENDARS["new-york-business"]
    length = duration(amount, unit, is_business)
    start = at(NEW_YORK, "2026-03-02T10:00")
    with pytest.raises(ValueError) as scalar:
        deadline(instant(start), length, cal)
    with pytest.raises(ValueError) as vectorised:
        deadlines(np.array([start]), length, cal)
    assert str(vectorised.value) == str(scalar.value)


# ---------------------------------------------------------------- never open


def test_a_calendar_that_never_opens_raises_never_open():
    start = np.array([at(NEW_YORK, "2026-03-02T10:00")])
    for cal in (
        calendar(NEW_YORK, closed=("2026-01-01",)),
        calendar(NEW_YORK, "mon-fri 09:00-17:00", closed=("2026-01-01..2035-12-31",)),
    ):
        for length in (
            duration(1, "hour", True),
            duration(0, "day", True),
            duration(1, "day", True),
        ):
            with pytest.raises(NeverOpen):
                deadline(instant(start[0]), length, cal)
            with pytest.raises(NeverOpen):
                deadlines(start, length, cal)
        with pytest.raises(NeverOpen):
            next_open_many(start, cal)
        assert open_time_between_many(start, start + 10**12, cal).tolist() == [0]
        # Wall-clock units need no opening.
        assert deadlines(start, duration(1, "day"), cal)[0] == at(NEW_YORK, "2026-03-03T10:00")


@pytest.mark.parametrize("closed_days", [HORIZON_DAYS - 1, HORIZON_DAYS, HORIZON_DAYS + 1])
def test_never_open_is_decided_at_the_same_horizon(closed_days: int):
    """A closure exactly as long as the horizon: both paths must agree on whether a clock
    waits it out or gives up, started just before it and on its first day."""
    first = dt.date(2026, 3, 3)
    last = first + dt.timedelta(days=closed_days - 1)
    cal = calendar(NEW_YORK, "mon-sun 09:00-17:00", closed=(f"{first}..{last}",))
    # A table that ends exactly where the closure does: the vectorised path must widen it
    # rather than conclude too early that nothing opens after it.
    tables = [None, OpenTimeTable.build(cal, dt.date(2026, 3, 1), last)]
    for start in (at(NEW_YORK, "2026-03-02T16:30"), at(NEW_YORK, "2026-03-03T08:00")):
        for length in (duration(1, "hour", True), duration(1, "day", True)):
            try:
                expected: int | None = us(deadline(instant(start), length, cal))
            except NeverOpen:
                expected = None
            for table in tables:
                try:
                    actual: int | None = int(deadlines(np.array([start]), length, cal, table)[0])
                except NeverOpen:
                    actual = None
                assert actual == expected, (closed_days, iso(start, NEW_YORK), _label(length))


def test_add_open_time_many_matches_the_scalar_add_open_time_per_element():
    from sla_dsl.business_time.open_time import add_open_time_many

    zone = ZoneInfo("America/New_York")
    calendar = BusinessCalendar(zone, {d: [(9 * 60, 12 * 60), (13 * 60, 17 * 60)]
                                       for d in range(5)}, [(dt.date(2026, 3, 9),) * 2])
    starts = [dt.datetime(2026, 3, 6, 16, 55, tzinfo=zone), dt.datetime(2026, 3, 7, 3, 0,
                                                                        tzinfo=zone),
              dt.datetime(2026, 3, 10, 11, 59, tzinfo=zone)]
    amounts = [dt.timedelta(minutes=10), dt.timedelta(hours=9), dt.timedelta(seconds=61)]
    got = add_open_time_many(np.array([int(s.timestamp()) * 1_000_000 for s in starts]),
                             np.array([a // dt.timedelta(microseconds=1) for a in amounts]),
                             calendar)
    expected = [calendar.add_open_time(s, a) for s, a in zip(starts, amounts, strict=True)]
    assert got.tolist() == [int(e.timestamp()) * 1_000_000 for e in expected]
