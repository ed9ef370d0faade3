"""Business calendars and the scalar clock arithmetic: open hours, holidays and deadlines.

The single home of what a duration means (`deadline`, `to_timedelta`) and of a calendar's open
intervals, one local date at a time, computed once and cached: the evaluator's vectorised path
(`open_time`) builds its tables from these same days, so the two cannot disagree. The
conventions they follow are the package's (`sla_dsl.business_time`).
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Iterable, Iterator, Mapping
from zoneinfo import ZoneInfo

from sla_dsl.business_time.holiday_sets import holidays_in
from sla_dsl.business_time.zones import MICROSECOND, UTC, resolve_local
from sla_dsl.language import model

HORIZON_DAYS = 4 * 366
"""How many days a clock waits for an opening before `NeverOpen`: longer than any SLA."""

_ONE_DAY = dt.timedelta(days=1)
_MINUTES_PER_DAY = 24 * 60
_FIXED_UNITS = {
    "minute": dt.timedelta(minutes=1),
    "hour": dt.timedelta(hours=1),
    "day": dt.timedelta(days=1),
    "week": dt.timedelta(weeks=1),
}
_MONTHS_PER_UNIT = {"month": 1, "quarter": 3, "year": 12}

Interval = tuple[dt.datetime, dt.datetime]


class NeverOpen(Exception):
    """A clock would wait for an opening that does not come within `HORIZON_DAYS`.

    Without it a calendar with no open hours (or closed for years) would make deadline
    arithmetic loop forever; callers turn it into a diagnostic instead of a hang.
    """


def _utc(value: dt.datetime, what: str) -> dt.datetime:
    if not isinstance(value, dt.datetime):
        raise TypeError(f"{what} must be a datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware, got naive `{value.isoformat()}`")
    return value.astimezone(UTC)


def _merge(ranges: Iterable[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(ranges):
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return tuple(merged)



def _within(starts: list[int], ends: list[int], ordinal: int) -> bool:
    """Whether `ordinal` lies in one of the sorted half-open ranges `[starts[i], ends[i])`."""
    index = bisect.bisect_right(starts, ordinal) - 1
    return index >= 0 and ordinal < ends[index]


class BusinessCalendar:
    """Open hours of one policy calendar in one timezone, with the arithmetic clocks need.

    Build one per (calendar, timezone) and reuse it: the per-day cache is what makes repeated
    deadline computations cheap.
    """

    def __init__(
        self,
        timezone: str | ZoneInfo,
        weekly: Mapping[int, Iterable[tuple[int, int]]],
        closed: Iterable[tuple[dt.date, dt.date]] = (),
        holidays: Iterable[str] = (),
        opened: Iterable[tuple[dt.date, dt.date]] = (),
    ) -> None:
        """Take the already-flattened schedule so tests and tools need not build a model.

        `weekly` maps a weekday (0 = Monday) to `(start, end)` minutes after local midnight,
        `end` at most 1440; `closed` lists inclusive local date ranges; `holidays` names holiday
        sets (`"US"`, `"US-CA"`: `holiday_sets`), looked up a year at a time as clocks reach
        it; `opened` lists inclusive date ranges open on their weekday's hours all the same.
        """
        self.timezone: ZoneInfo = timezone if isinstance(timezone, ZoneInfo) else ZoneInfo(timezone)
        week: list[tuple[tuple[int, int], ...]] = []
        for weekday in range(7):
            ranges = list(weekly.get(weekday, ()))
            for start, end in ranges:
                if not 0 <= start < end <= _MINUTES_PER_DAY:
                    raise ValueError(
                        f"open hours {start}-{end} (minutes after midnight) must satisfy "
                        "0 <= start < end <= 1440"
                    )
            week.append(_merge(ranges))
        self.week = tuple(week)
        """Per weekday (0 = Monday), the merged open `(start, end)` minutes after midnight."""
        spans: list[tuple[int, int]] = []
        for first, last in closed:
            if first > last:
                raise ValueError(f"closed dates {first} to {last} run backwards")
            spans.append((first.toordinal(), last.toordinal()))
        merged = _merge((a, b + 1) for a, b in spans)  # half-open, so adjacent ranges merge
        self._closed_starts = [a for a, _ in merged]
        self._closed_ends = [b for _, b in merged]
        self.holidays: tuple[str, ...] = tuple(holidays)
        """The holiday sets the calendar is closed on, as written (`"US-CA"`)."""
        self._holiday_years: dict[int, frozenset[dt.date]] = {}
        reopened = _merge((first.toordinal(), last.toordinal() + 1) for first, last in opened)
        self._opened_starts = [a for a, _ in reopened]
        self._opened_ends = [b for _, b in reopened]
        self._days: dict[dt.date, tuple[Interval, ...]] = {}
        self.open_time_table: object | None = None
        """The last vectorised table (`open_time.OpenTimeTable`) built for this calendar, kept
        here, not in a cache keyed by calendar, which would keep every calendar alive through
        the table's reference. Typed loosely: the calendar sits below the tables built from it."""

    @classmethod
    def from_model(cls, calendar: model.Calendar, timezone: str) -> BusinessCalendar:
        """Flatten a parsed `calendar { ... }` block. `timezone` is the policy's, used unless
        the calendar names its own (an EMEA desk keeps London hours in a New York policy)."""
        if calendar.timezone is not None:
            timezone = calendar.timezone.value
        weekly: dict[int, list[tuple[int, int]]] = {day: [] for day in range(7)}
        closed: list[tuple[dt.date, dt.date]] = []
        opened: list[tuple[dt.date, dt.date]] = []
        regions: list[str] = []
        for item in calendar.items:
            if isinstance(item, model.OpenHours):
                for days in item.days:
                    for weekday in days.weekdays:
                        weekly[weekday].extend((h.start, h.end) for h in item.hours)
            elif isinstance(item, model.ClosedDates):
                closed.extend((r.first, r.last) for r in item.dates)
            elif isinstance(item, model.OpenDates):
                opened.extend((r.first, r.last) for r in item.dates if r.first <= r.last)
            else:
                regions.extend(r.value for r in item.regions if r.value not in regions)
        try:
            return cls(timezone, weekly, closed, regions, opened)
        except ValueError as error:
            raise ValueError(f"calendar `{calendar.name.value}`: {error}") from error

    def with_hours(self, timezone: str | ZoneInfo,
                   weekly: Mapping[int, Iterable[tuple[int, int]]] | None = None
                   ) -> BusinessCalendar:
        """This calendar's closed dates, holiday sets and `open` exceptions on someone else's
        week: a rep's own hours (`weekly`, else this calendar's) in their own timezone. The
        dates stay local dates: a holiday closes the rep's own 4 July, wherever they are."""
        week = {day: list(hours) for day, hours in enumerate(self.week)} if weekly is None \
            else weekly
        calendar = BusinessCalendar(timezone, week, holidays=self.holidays)
        calendar._closed_starts, calendar._closed_ends = self._closed_starts, self._closed_ends
        calendar._opened_starts, calendar._opened_ends = self._opened_starts, self._opened_ends
        return calendar

    @classmethod
    def always_open(cls, timezone: str) -> BusinessCalendar:
        """The calendar for policies that declare none: business time equals elapsed time,
        but the timezone still decides what a wall-clock `day` is."""
        return cls(timezone, {day: [(0, _MINUTES_PER_DAY)] for day in range(7)})

    def __repr__(self) -> str:
        return f"BusinessCalendar({self.timezone.key!r}, week={self.week!r})"

    # ------------------------------------------------------------ per-day intervals (cached)

    def _is_closed(self, day: dt.date) -> bool:
        """Closed by a date or a holiday set, unless opened: an `open` date is the exception."""
        ordinal = day.toordinal()
        if _within(self._opened_starts, self._opened_ends, ordinal):
            return False
        if _within(self._closed_starts, self._closed_ends, ordinal):
            return True
        return bool(self.holidays) and day in self.holidays_of(day.year)

    def holidays_of(self, year: int) -> frozenset[dt.date]:
        """The days the calendar's holiday sets close in `year` (before `open` exceptions),
        computed the first time a clock reaches the year."""
        days = self._holiday_years.get(year)
        if days is None:
            days = frozenset(day for region in self.holidays for day in holidays_in(region, year))
            self._holiday_years[year] = days
        return days

    def day_intervals(self, day: dt.date) -> tuple[Interval, ...]:
        """A local date's open intervals as UTC instants, merged and cached: what both the
        scalar arithmetic and the vectorised tables are built from."""
        intervals = self._days.get(day)
        if intervals is not None:
            return intervals
        built: list[Interval] = []
        hours = self.week[day.weekday()]
        if hours and not self._is_closed(day):
            midnight = dt.datetime.combine(day, dt.time())
            for start, end in hours:
                opens = resolve_local(midnight + dt.timedelta(minutes=start), self.timezone)
                closes = resolve_local(midnight + dt.timedelta(minutes=end), self.timezone)
                if opens >= closes:
                    continue  # the whole shift fell into a DST gap
                if built and opens <= built[-1][1]:
                    built[-1] = (built[-1][0], max(closes, built[-1][1]))
                else:
                    built.append((opens, closes))
        intervals = self._days[day] = tuple(built)
        return intervals

    def _local_date(self, instant: dt.datetime) -> dt.date:
        return instant.astimezone(self.timezone).date()

    def _local(self, instant: dt.datetime) -> dt.datetime:
        return instant.astimezone(self.timezone)

    def _next_open(self, instant: dt.datetime) -> dt.datetime:
        # Intervals of all days are globally sorted and the local date's midnight is never
        # after `instant`, so scanning forward from its local date finds the first opening.
        day = self._local_date(instant)
        for _ in range(HORIZON_DAYS + 1):
            for opens, closes in self.day_intervals(day):
                if closes > instant:
                    return max(instant, opens)
            day += _ONE_DAY
        raise NeverOpen(
            f"calendar in {self.timezone.key} does not open within {HORIZON_DAYS} days "
            f"of {self._local(instant).isoformat()}"
        )

    def _clipped(self, start: dt.datetime, end: dt.datetime) -> Iterator[Interval]:
        """UTC open intervals inside [start, end), merged across midnights."""
        if start >= end:
            return
        day = self._local_date(start)
        last_day = self._local_date(end) + _ONE_DAY
        pending: Interval | None = None
        while day <= last_day:
            for opens, closes in self.day_intervals(day):
                if closes <= start:
                    continue
                if opens >= end:
                    last_day = day  # intervals are sorted: nothing later can matter
                    break
                piece = (max(opens, start), min(closes, end))
                if pending is not None and pending[1] == piece[0]:
                    pending = (pending[0], piece[1])
                else:
                    if pending is not None:
                        yield pending
                    pending = piece
            day += _ONE_DAY
        if pending is not None:
            yield pending

    # ------------------------------------------------------------ public questions

    def open_intervals_on(self, day: dt.date) -> list[tuple[dt.datetime, dt.datetime]]:
        """A day's open time as real instants, so reports and the simulator's shift changes
        see split shifts, holidays and DST exactly as the clocks do."""
        if isinstance(day, dt.datetime) or not isinstance(day, dt.date):
            raise TypeError(f"expected a date, got {type(day).__name__}")
        return [(self._local(a), self._local(b)) for a, b in self.day_intervals(day)]

    def is_open(self, at: dt.datetime) -> bool:
        """Whether a clock on this calendar is running at `at` (opening included, close not)."""
        instant = _utc(at, "at")
        for opens, closes in self.day_intervals(self._local_date(instant)):
            if opens > instant:
                return False
            if instant < closes:
                return True
        return False

    def next_open(self, at: dt.datetime) -> dt.datetime:
        """When a clock started at `at` actually starts running: `at` itself if open."""
        return self._local(self._next_open(_utc(at, "at")))

    def intervals(
        self, start: dt.datetime, end: dt.datetime
    ) -> Iterator[tuple[dt.datetime, dt.datetime]]:
        """The open stretches inside [start, end), for pausing clocks and plotting timelines;
        stretches that continue across midnight come out as one."""
        begin, finish = _utc(start, "start"), _utc(end, "end")  # validate now, not lazily
        return ((self._local(a), self._local(b)) for a, b in self._clipped(begin, finish))

    def open_time_between(self, start: dt.datetime, end: dt.datetime) -> dt.timedelta:
        """How much business time a clock accumulated, e.g. handoff to first touch.

        Signed: negative when `end` is before `start`, so "how early" needs no special case.
        """
        begin, finish = _utc(start, "start"), _utc(end, "end")
        if finish < begin:
            return -self.open_time_between(end, start)
        total = dt.timedelta()
        for opens, closes in self._clipped(begin, finish):
            total += closes - opens
        return total

    def add_open_time(self, start: dt.datetime, amount: dt.timedelta) -> dt.datetime:
        """The deadline of `N business minutes|hours`: the earliest instant, from the clock's
        start (the next opening if started while closed), by which `amount` of open time has
        passed; running out exactly at a close gives that close, not the next opening.
        """
        instant = _utc(start, "start")
        if not isinstance(amount, dt.timedelta):
            raise TypeError(f"amount must be a timedelta, got {type(amount).__name__}")
        if amount < dt.timedelta():
            raise ValueError(f"amount of open time must not be negative, got {amount}")
        remaining = amount
        day = self._local_date(instant)
        idle_days = 0
        while True:
            used = False
            for opens, closes in self.day_intervals(day):
                if closes <= instant:
                    continue
                begin = max(instant, opens)
                available = closes - begin
                if remaining <= available:
                    return self._local(begin + remaining)
                remaining -= available
                used = True
            if used:
                idle_days = 0
            else:
                idle_days += 1
                if idle_days > HORIZON_DAYS:
                    raise NeverOpen(
                        f"calendar in {self.timezone.key} stays closed for {HORIZON_DAYS} days "
                        f"after {self._local(instant).isoformat()}"
                    )
            day += _ONE_DAY

    def add_business_days(self, start: dt.datetime, days: int) -> dt.datetime:
        """The deadline of `N business days`: the clock's local time of day on the N-th open
        day after the day it starts, moved to that day's first opening if earlier or its
        last close if later (LANGUAGE.md section 2).

        A time that falls in a break between split shifts is kept as it is: it lies within
        the day's hours and is worth the same open time as the break's bounds. On a DST day
        the time of day is resolved like any wall time (`zones.resolve_local`).
        """
        instant = _utc(start, "start")
        if isinstance(days, bool) or not isinstance(days, int):
            raise TypeError(f"days must be an int, got {type(days).__name__}")
        if days < 0:
            raise ValueError(f"business days must not be negative, got {days}")
        clock = self._local(self._next_open(instant))
        if days == 0:
            return clock
        day = clock.date()
        time_of_day = clock.time()
        counted = idle_days = 0
        intervals: tuple[Interval, ...] = ()
        while counted < days:
            day += _ONE_DAY
            intervals = self.day_intervals(day)
            if intervals:
                counted += 1
                idle_days = 0
            else:
                idle_days += 1
                if idle_days > HORIZON_DAYS:
                    raise NeverOpen(
                        f"calendar in {self.timezone.key} stays closed for {HORIZON_DAYS} days "
                        f"after {clock.isoformat()}"
                    )
        target = resolve_local(dt.datetime.combine(day, time_of_day), self.timezone)
        target = min(max(target, intervals[0][0]), intervals[-1][1])
        return self._local(target)

    def open_minutes_per_week(self) -> int:
        """Open minutes of a week without closed dates: how far a budget of open time reaches."""
        return sum(end - start for hours in self.week for start, end in hours)

    def open_minutes_per_day(self) -> int | None:
        """The open minutes of one open day, when every open weekday keeps the same hours; else
        None. Only then is `N business days` (the same local time N open days later) N times
        one amount of open time, whatever the day a clock starts on, so that a statistic of
        open time can be compared with it."""
        days = {hours for hours in self.week if hours}
        if len(days) != 1:
            return None
        return sum(end - start for start, end in days.pop())

    def open_weekdays(self) -> int:
        """How many weekdays have open hours: how far a count of business days reaches."""
        return sum(1 for hours in self.week if hours)

    def is_ever_open(self) -> bool:
        """Lets the checker reject a calendar no clock could ever run on, before any
        arithmetic raises `NeverOpen` (DST gaps that swallow a whole shift are ignored)."""
        open_weekdays = {day for day, hours in enumerate(self.week) if hours}
        if not open_weekdays:
            return False
        # Closed ranges are finite, so some date outside them is open unless they tile the
        # whole date range; check each gap between them for an open weekday.
        low, high = dt.date.min.toordinal(), dt.date.max.toordinal()
        gaps: list[tuple[int, int]] = []  # half-open ordinal ranges not closed
        cursor = low
        for first, after in zip(self._closed_starts, self._closed_ends, strict=True):
            if first > cursor:
                gaps.append((cursor, first))
            cursor = max(cursor, after)
        if cursor <= high:
            gaps.append((cursor, high + 1))
        for first, after in gaps:
            for ordinal in range(first, min(after, first + 7)):
                if dt.date.fromordinal(ordinal).weekday() in open_weekdays:
                    return True
        return False

    # ------------------------------------------------------------ wall-clock shifts

    def _shift_wall(self, start: dt.datetime, *, days: int = 0, months: int = 0) -> dt.datetime:
        """Same local wall time `days` days / `months` months later (day clamped to the month's
        end), resolved by the wall-time rule (`zones.resolve_local`) when that time is skipped
        or repeated."""
        local = self._local(_utc(start, "start"))
        if days == 0 and months == 0:
            return local  # keep the start's own fold: zero is exactly the start
        wall = local.replace(tzinfo=None) + dt.timedelta(days=days)
        if months:
            year, month0 = divmod(wall.month - 1 + months, 12)
            year += wall.year
            month = month0 + 1
            next_month = dt.date(year + month // 12, month % 12 + 1, 1)
            last_day = (next_month - _ONE_DAY).day
            wall = wall.replace(year=year, month=month, day=min(wall.day, last_day))
        return self._local(resolve_local(wall, self.timezone))


def _describe(duration: model.Duration) -> str:
    business = "business " if duration.business else ""
    return f"{duration.amount:g} {business}{duration.unit}s"


def _whole(duration: model.Duration) -> int:
    amount = duration.amount
    if isinstance(amount, float):
        if not amount.is_integer():
            raise ValueError(
                f"`{_describe(duration)}` cannot be counted: {duration.unit}s are counted "
                "in whole numbers"
            )
        return int(amount)
    return amount


def deadline(
    start: dt.datetime, duration: model.Duration, calendar: BusinessCalendar
) -> dt.datetime:
    """When a clause's clock started at `start` runs out; the single dispatch point so the
    evaluator and simulator cannot disagree on what a unit means.

    - business minutes/hours: `add_open_time`; business days: `add_business_days`;
    - minutes/hours: elapsed time;
    - days/weeks: the same local wall time N days later in the calendar's timezone (so a day
      across a DST change is 23 or 25 hours);
    - months/quarters/years: calendar months, the day clamped to the month's end
      (Jan 31 + 1 month = Feb 28).

    Wall times that a DST change skips resolve to the instant of the jump; repeated ones to
    their first occurrence. Business weeks and longer have no meaning and raise `ValueError`,
    as do negative amounts and fractional days, weeks, months, quarters and years.
    """
    if duration.amount < 0:
        raise ValueError(f"`{_describe(duration)}`: a duration must not be negative")
    unit = duration.unit
    if duration.business:
        if unit in ("minute", "hour"):
            return calendar.add_open_time(start, _FIXED_UNITS[unit] * duration.amount)
        if unit == "day":
            return calendar.add_business_days(start, _whole(duration))
        raise ValueError(
            f"`{_describe(duration)}` cannot be counted: business time is counted in minutes, "
            "hours or days"
        )
    if unit in ("minute", "hour"):
        elapsed = _FIXED_UNITS[unit] * duration.amount
        return (_utc(start, "start") + elapsed).astimezone(calendar.timezone)
    if unit in ("day", "week"):
        return calendar._shift_wall(start, days=_whole(duration) * (7 if unit == "week" else 1))
    return calendar._shift_wall(start, months=_whole(duration) * _MONTHS_PER_UNIT[unit])


def to_timedelta(duration: model.Duration) -> dt.timedelta:
    """A fixed length for clauses that compare gaps rather than compute deadlines (`spacing
    at least 4 hours`), where no start instant or calendar is at hand. A day is 24 hours here.

    Business durations and months or longer have no fixed length and raise `ValueError`.
    """
    if duration.business:
        raise ValueError(
            f"`{_describe(duration)}` has no fixed length: business time depends on when it starts"
        )
    if duration.unit not in _FIXED_UNITS:
        raise ValueError(f"`{_describe(duration)}` has no fixed length: months differ in length")
    if duration.amount < 0:
        raise ValueError(f"`{_describe(duration)}`: a duration must not be negative")
    return _FIXED_UNITS[duration.unit] * duration.amount


def deadline_plan(duration: model.Duration) -> tuple[str, int]:
    """`deadline`'s dispatch for the vectorised path (`open_time.deadlines`): what kind of
    arithmetic, and how much (µs of time, days or months). Raises what `deadline` raises, in
    the same order, so a duration is refused the same way whichever path meets it first."""
    if duration.amount < 0:
        raise ValueError(f"`{_describe(duration)}`: a duration must not be negative")
    unit = duration.unit
    if duration.business:
        if unit in ("minute", "hour"):
            return "open time", (_FIXED_UNITS[unit] * duration.amount) // MICROSECOND
        if unit == "day":
            return "business days", _whole(duration)
        raise ValueError(
            f"`{_describe(duration)}` cannot be counted: business time is counted in minutes, "
            "hours or days"
        )
    if unit in ("minute", "hour"):
        return "elapsed", (_FIXED_UNITS[unit] * duration.amount) // MICROSECOND
    if unit in ("day", "week"):
        return "wall days", _whole(duration) * (7 if unit == "week" else 1)
    return "months", _whole(duration) * _MONTHS_PER_UNIT[unit]


def open_share(calendar: BusinessCalendar, start: dt.date, days: int = 28) -> float:
    """The share of time the calendar is open over `days` from `start`: how much of the
    clock a team working it can use (closed dates included)."""
    zone = calendar.timezone
    first = dt.datetime.combine(start, dt.time(), zone)
    last = dt.datetime.combine(start + dt.timedelta(days=days), dt.time(), zone)
    total = (last.astimezone(UTC) - first.astimezone(UTC)).total_seconds()
    return calendar.open_time_between(first, last).total_seconds() / total


def closed_dates_last(calendar: model.Calendar) -> model.DateRange | None:
    """The calendar's last explicit closed date range (by its later end), or None when it has
    none or names a holiday set (which knows every year): the dates a policy's author typed
    in stop in some year, and past it the clocks run through that year's holidays."""
    if any(isinstance(item, model.ClosedHolidays) for item in calendar.items):
        return None
    ranges = [d for item in calendar.items if isinstance(item, model.ClosedDates)
              for d in item.dates]
    if not ranges:
        return None
    return max(ranges, key=lambda d: (max(d.first, d.last), d.span.line, d.span.column))


def calendar_for(policy: model.Policy, duration: model.Duration | None = None) -> BusinessCalendar:
    """The calendar a duration is counted on: the one it names, else the policy's (a checked
    policy has at most one then), else always open in the policy's timezone."""
    timezone = policy.timezone or "UTC"
    named = duration.calendar.value if duration is not None and duration.calendar else None
    chosen = next((c for c in policy.calendars if c.name.value == named), None) if named \
        else (policy.calendars or [None])[0]
    if chosen is None:
        return BusinessCalendar.always_open(timezone)
    return BusinessCalendar.from_model(chosen, timezone)

