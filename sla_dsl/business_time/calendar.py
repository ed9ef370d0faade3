"""Business-time arithmetic: the one place where calendars, holidays, timezones and DST meet.

The evaluator asks "was this clock breached?" and the simulator asks "when will it be?"; if they
answered from two implementations, a policy could pass in one and fail in the other. So every
business-time question goes through this module, and it is written to be called ~10^5 times a
run: each local date's open intervals are computed once, lazily, and cached.

Conventions that hold throughout:

- Every instant passed in must be timezone-aware (a naive datetime is a wall reading, not an
  instant, and guessing its zone is how DST bugs start); naive input raises `ValueError`.
- Arithmetic is done in UTC. Python compares and subtracts two datetimes that share a `tzinfo`
  by their wall times, ignoring DST, so e.g. 01:30 EDT and 01:30 EST compare equal. Results are
  returned in the calendar's timezone for readability; to compare or subtract them, use
  `open_time_between` or convert them to UTC first.
- A wall time T on a local date denotes *the first instant at which the local clock reads T or
  later*. A time skipped by spring-forward (02:30 in New York on the spring-forward night) is
  the instant of the jump (03:00 EDT); a time repeated by fall-back is its first occurrence.
  The same rule resolves opening and closing times, `24:00` (the next local midnight) and
  wall-clock deadlines, so open time and deadlines never disagree about an instant.

The evaluator asks the same questions for millions of leads at once, so `deadlines`,
`next_open_many` and `open_time_between_many` answer them over numpy arrays of int64
microseconds since the Unix epoch (UTC), from an `OpenTimeTable` that holds the calendar's open
intervals as arrays. They agree exactly with the scalar functions, because the table is built
from the same cached days and the same wall-time rule, not from a second reading of the
calendar.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Mapping
from functools import cached_property
from typing import TYPE_CHECKING, Literal
from zoneinfo import ZoneInfo

from sla_dsl.language import model

if TYPE_CHECKING:  # numpy is imported where the vectorised path runs: `sla check` needs none
    import numpy as np

__all__ = [
    "HORIZON_DAYS",
    "BusinessCalendar",
    "NeverOpen",
    "OpenTimeTable",
    "add_open_time_many",
    "calendar_for",
    "deadline",
    "deadlines",
    "next_open_many",
    "open_share",
    "open_time_between_many",
    "to_timedelta",
]

UTC = dt.UTC
HORIZON_DAYS = 4 * 366
"""How many days a clock waits for an opening before `NeverOpen`: longer than any SLA."""

_ONE_DAY = dt.timedelta(days=1)
_MICROSECOND = dt.timedelta(microseconds=1)
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
    ) -> None:
        """Take the already-flattened schedule so tests and tools need not build a model.

        `weekly` maps a weekday (0 = Monday) to `(start, end)` minutes after local midnight,
        `end` at most 1440; `closed` lists inclusive local date ranges.
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
        self._week = tuple(week)
        spans: list[tuple[int, int]] = []
        for first, last in closed:
            if first > last:
                raise ValueError(f"closed dates {first} to {last} run backwards")
            spans.append((first.toordinal(), last.toordinal()))
        merged = _merge((a, b + 1) for a, b in spans)  # half-open, so adjacent ranges merge
        self._closed_starts = [a for a, _ in merged]
        self._closed_ends = [b for _, b in merged]
        self._days: dict[dt.date, tuple[Interval, ...]] = {}

    @classmethod
    def from_model(cls, calendar: model.Calendar, timezone: str) -> BusinessCalendar:
        """Flatten a parsed `calendar { ... }` block. `timezone` is the policy's, used unless
        the calendar names its own (an EMEA desk keeps London hours in a New York policy)."""
        if calendar.timezone is not None:
            timezone = calendar.timezone.value
        weekly: dict[int, list[tuple[int, int]]] = {day: [] for day in range(7)}
        closed: list[tuple[dt.date, dt.date]] = []
        for item in calendar.items:
            if isinstance(item, model.OpenHours):
                for days in item.days:
                    for weekday in days.weekdays:
                        weekly[weekday].extend((h.start, h.end) for h in item.hours)
            elif isinstance(item, model.ClosedDates):
                closed.extend((r.first, r.last) for r in item.dates)
        try:
            return cls(timezone, weekly, closed)
        except ValueError as error:
            raise ValueError(f"calendar `{calendar.name.value}`: {error}") from error

    @classmethod
    def always_open(cls, timezone: str) -> BusinessCalendar:
        """The calendar for policies that declare none: business time equals elapsed time,
        but the timezone still decides what a wall-clock `day` is."""
        return cls(timezone, {day: [(0, _MINUTES_PER_DAY)] for day in range(7)})

    def __repr__(self) -> str:
        return f"BusinessCalendar({self.timezone.key!r}, week={self._week!r})"

    # ------------------------------------------------------------ per-day intervals (cached)

    def _resolve(self, wall: dt.datetime) -> dt.datetime:
        """First UTC instant at which the local clock reads `wall` or later (see module doc)."""
        wall = wall.replace(fold=0)
        first = wall.replace(tzinfo=self.timezone).astimezone(UTC)  # fold=0: earlier instant
        if first.astimezone(self.timezone).replace(tzinfo=None) == wall:
            return first
        # `wall` was skipped by a forward jump. fold=1 maps it to an instant before the jump
        # and fold=0 to one after it; the jump itself is the first instant reading >= wall.
        low = wall.replace(tzinfo=self.timezone, fold=1).astimezone(UTC)
        high = first
        steps = (high - low) // _MICROSECOND
        lo, hi = 0, steps
        while lo < hi:
            mid = (lo + hi) // 2
            probe = low + mid * _MICROSECOND
            if probe.astimezone(self.timezone).replace(tzinfo=None) >= wall:
                hi = mid
            else:
                lo = mid + 1
        return low + lo * _MICROSECOND

    def _is_closed(self, day: dt.date) -> bool:
        ordinal = day.toordinal()
        index = bisect.bisect_right(self._closed_starts, ordinal) - 1
        return index >= 0 and ordinal < self._closed_ends[index]

    def _day(self, day: dt.date) -> tuple[Interval, ...]:
        intervals = self._days.get(day)
        if intervals is not None:
            return intervals
        built: list[Interval] = []
        hours = self._week[day.weekday()]
        if hours and not self._is_closed(day):
            midnight = dt.datetime.combine(day, dt.time())
            for start, end in hours:
                opens = self._resolve(midnight + dt.timedelta(minutes=start))
                closes = self._resolve(midnight + dt.timedelta(minutes=end))
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
            for opens, closes in self._day(day):
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
            for opens, closes in self._day(day):
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
        return [(self._local(a), self._local(b)) for a, b in self._day(day)]

    def is_open(self, at: dt.datetime) -> bool:
        """Whether a clock on this calendar is running at `at` (opening included, close not)."""
        instant = _utc(at, "at")
        for opens, closes in self._day(self._local_date(instant)):
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
            for opens, closes in self._day(day):
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
        the time of day is resolved like any wall time (see module doc).
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
            intervals = self._day(day)
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
        target = self._resolve(dt.datetime.combine(day, time_of_day))
        target = min(max(target, intervals[0][0]), intervals[-1][1])
        return self._local(target)

    def is_ever_open(self) -> bool:
        """Lets the checker reject a calendar no clock could ever run on, before any
        arithmetic raises `NeverOpen` (DST gaps that swallow a whole shift are ignored)."""
        open_weekdays = {day for day, hours in enumerate(self._week) if hours}
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
        end), resolved by the module's wall-time rule when that time is skipped or repeated."""
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
        return self._local(self._resolve(wall))


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


# ================================================================ the vectorised path
#
# Instants are int64 microseconds since the Unix epoch, UTC; "day numbers" are local dates as
# days since 1970-01-01. numpy is imported inside the functions below so the checker, which only
# needs the scalar API, does not pay for it.

_DAY_US = 86_400_000_000
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()
_SAMPLE_US = 6 * 3_600_000_000
"""How often offsets are sampled to find DST changes. Two changes closer than this that cancel
out would be missed; since 1900 tzdata has none closer than 95 hours (Africa/Freetown, 1939)."""
_LOW = -(2**62)
_HIGH = 2**62


def to_us(instant: dt.datetime) -> int:
    """An aware instant as whole µs since the epoch, exact before 1970 too (floor division,
    where `int(timestamp())` would round a fractional second towards 1970)."""
    return (instant - _EPOCH) // _MICROSECOND


def _from_us(value: int, zone: ZoneInfo) -> dt.datetime:
    return (_EPOCH + dt.timedelta(microseconds=value)).astimezone(zone)


def _day_number(day: dt.date) -> int:
    return day.toordinal() - _EPOCH_ORDINAL


def _date(number: int) -> dt.date:
    return dt.date.fromordinal(number + _EPOCH_ORDINAL)


def _local_day_of(value: int, zone: ZoneInfo) -> int:
    return _day_number(_from_us(value, zone).date())


def _instants(values: object, what: str) -> np.ndarray:
    """`values` as an int64 array; anything but integers is refused rather than guessed at."""
    import numpy as np

    array = np.asarray(values)
    if array.dtype.kind not in "iu":
        raise TypeError(
            f"{what} must hold int64 microseconds since the Unix epoch, got dtype {array.dtype}"
        )
    return array.astype(np.int64, copy=False)


def _rank(bounds: np.ndarray, values: np.ndarray) -> np.ndarray:
    """`np.searchsorted(bounds, values, side="right")`; for the handful of DST changes in a
    table's span, one comparison pass per change beats a binary search per value."""
    import numpy as np

    if bounds.size > 8:
        return np.searchsorted(bounds, values, side="right")
    rank = np.zeros(values.shape, dtype=np.intp)
    for bound in bounds:
        rank += values >= bound
    return rank


_APART_DAYS = 2 * HORIZON_DAYS
_APART_US = _APART_DAYS * _DAY_US


def _far_apart(lo: np.ndarray, hi: np.ndarray) -> list[np.ndarray] | None:
    """Items, each reaching from `lo` to `hi` (µs), in groups more than `_APART_DAYS` apart, as
    index arrays; None when they make one group. Tables (offsets, open time) are built over a
    span, so a history with one row dated two centuries from the rest costs two small tables
    this way instead of one spanning the centuries between. Every answer is per item, so the
    grouping changes only the cost, never a result."""
    import numpy as np

    if lo.size < 2:
        return None
    order = np.argsort(lo, kind="stable")
    reach = np.maximum.accumulate(hi[order])
    breaks = np.flatnonzero(lo[order][1:] - reach[:-1] > _APART_US) + 1
    return np.split(order, breaks) if breaks.size else None


def wall_readings(instants: np.ndarray, zone: ZoneInfo) -> np.ndarray:
    """Local wall readings of instants (µs since the local 1970-01-01 00:00), with offset tables
    built only around the instants (see `_far_apart`)."""
    import numpy as np

    if not instants.size:
        return instants.copy()
    groups = _far_apart(instants, instants) or [np.arange(instants.size)]
    out = np.empty_like(instants)
    for index in groups:
        part = instants[index]
        offsets = ZoneOffsets(zone, int(part.min()) - _DAY_US, int(part.max()) + _DAY_US)
        out[index] = offsets.wall(part)
    return out


class ZoneOffsets:
    """One timezone's UTC offset over a span of instants, as the instants where it changes.

    With them, local wall readings and the module's wall-time rule become two `searchsorted`
    calls. Between [lo, hi] they are exact (sampled every `_SAMPLE_US`, each change then found to
    the microsecond); outside, the nearest known offset is assumed, so callers build them wide
    enough.
    """

    def __init__(self, zone: ZoneInfo, lo: int, hi: int) -> None:
        import numpy as np

        def offset(value: int) -> int:
            return _from_us(value, zone).utcoffset() // _MICROSECOND

        self.zone, self.lo, self.hi = zone, lo, hi
        changes: list[int] = [_LOW]
        offsets: list[int] = [offset(lo)]
        cursor = lo
        while cursor < hi:
            step = min(cursor + _SAMPLE_US, hi)
            after = offset(step)
            while offsets[-1] != after:  # the first instant in (cursor, step] with a new offset
                low, high = cursor, step
                while high - low > 1:
                    middle = (low + high) // 2
                    if offset(middle) == offsets[-1]:
                        low = middle
                    else:
                        high = middle
                changes.append(high)
                offsets.append(offset(high))
                cursor = high
            cursor = step
        self.changes = np.array(changes, dtype=np.int64)
        self.offsets = np.array(offsets, dtype=np.int64)
        # Segment k reads [changes[k] + offsets[k], changes[k + 1] + offsets[k]) on the wall; the
        # first instant reading W or later lies in the first segment whose reading passes W.
        # The running maximum makes "first segment" a `searchsorted` even if a backward jump
        # were longer than the segment before it.
        wall_ends = np.append(self.changes[1:] + self.offsets[:-1], _HIGH)
        self.wall_ends = np.maximum.accumulate(wall_ends)

    def covers(self, lo: int, hi: int) -> bool:
        return self.lo <= lo and hi <= self.hi

    def wall(self, instants: np.ndarray) -> np.ndarray:
        """Local wall readings, as microseconds since the local 1970-01-01 00:00."""
        if self.offsets.size == 1:
            return instants + self.offsets[0]
        return instants + self.offsets[_rank(self.changes[1:], instants)]

    def local_days(self, instants: np.ndarray) -> np.ndarray:
        """Local date of each instant, as a day number (what `.astimezone(zone).date()` says)."""
        import numpy as np

        return np.floor_divide(self.wall(instants), _DAY_US)

    def resolve(self, walls: np.ndarray) -> np.ndarray:
        """`BusinessCalendar._resolve` for arrays: the first instant reading each wall time or
        later, so a skipped time is the jump and a repeated one its first occurrence."""
        import numpy as np

        segment = _rank(self.wall_ends[:-1], walls)  # the last is `_HIGH`, passed by none
        return np.maximum(self.changes[segment], walls - self.offsets[segment])


class _Searcher:
    """`np.searchsorted(values, queries, side)` for many queries into one sorted array.

    A binary search of a million unsorted queries misses the cache at every step; here a table
    of buckets (64 per value, capped) gives each query an index at most a step or two short,
    and the remaining steps are whole-array comparisons: three to four times faster. The
    answer is exactly searchsorted's: a bucket's index is searchsorted's answer at the
    bucket's lower edge, so it is never past the query's, and stepping stops at the first
    value that the query does not pass.
    """

    _STEPS = 6  # after this many, the stragglers get a binary search after all

    def __init__(self, values: np.ndarray, side: Literal["left", "right"]) -> None:
        import numpy as np

        self.values, self.side = values, side
        self.padded = np.append(values, np.int64(_HIGH))  # stepping stops at the end
        if values.size == 0:
            return
        self.origin = int(values[0]) - 1  # queries below it answer 0, as bucket 0 does
        span = int(values[-1]) - self.origin + 1
        self.width = -(-span // min(64 * values.size, 1 << 18))
        edges = self.origin + self.width * np.arange(-(-span // self.width) + 1, dtype=np.int64)
        self.first = np.searchsorted(values, edges, side=side)

    def __call__(self, queries: np.ndarray) -> np.ndarray:
        """Indices for a one-dimensional array of queries."""
        import numpy as np

        if self.values.size == 0:
            return np.zeros(queries.shape, dtype=np.intp)
        bucket = np.clip((queries - self.origin) // self.width, 0, self.first.size - 1)
        index = self.first[bucket]
        passes = np.less_equal if self.side == "right" else np.less
        for _ in range(self._STEPS):
            behind = passes(self.padded[index], queries)
            if not behind.any():
                return index
            index += behind
        late = np.flatnonzero(passes(self.padded[index], queries))
        index[late] = np.searchsorted(self.values, queries[late], side=self.side)
        return index


class OpenTimeTable:
    """Precomputed open intervals of one BusinessCalendar over a span of local dates, as int64
    µs arrays.

    Built from the calendar's own cached days, so it cannot disagree with the scalar code; a
    year of a weekday calendar is a few hundred intervals, so every question about a million
    instants is a handful of `searchsorted` calls into small arrays. Build one per calendar and
    span and pass it to the vectorised functions to reuse it; they build a wider one when it
    does not cover their input.

    Interval arrays (globally sorted; within a day merged as the scalar code merges them; a
    stretch open across midnight stays two touching intervals, one per local date):
    `starts`, `ends`, `cum_before` (open µs of the table before each interval), `cum_after`
    (`cum_before` plus the interval's length) and `interval_days` (the local date each belongs
    to, as days since 1970-01-01).

    Per open local day (a date with at least one interval, in order): `open_days`,
    `day_opens` (its first opening), `day_closes` (its last close).
    """

    def __init__(self, calendar: BusinessCalendar, first: dt.date, last: dt.date) -> None:
        """Use `build`; this does the work so that the class has one way to be made."""
        import numpy as np

        if isinstance(first, dt.datetime) or isinstance(last, dt.datetime):
            raise TypeError("an open-time table spans dates, not datetimes")
        if first > last:
            raise ValueError(f"an open-time table cannot run backwards, from {first} to {last}")
        self.calendar = calendar
        self.first = first
        self.last = last
        self.first_day = _day_number(first)
        self.last_day = _day_number(last)
        starts: list[int] = []
        ends: list[int] = []
        interval_days: list[int] = []
        open_days: list[int] = []
        day_opens: list[int] = []
        day_closes: list[int] = []
        day = first
        for number in range(self.first_day, self.last_day + 1):
            intervals = calendar._day(day)
            if intervals:
                for opens, closes in intervals:
                    starts.append(to_us(opens))
                    ends.append(to_us(closes))
                    interval_days.append(number)
                open_days.append(number)
                day_opens.append(starts[-len(intervals)])
                day_closes.append(ends[-1])
            day += _ONE_DAY
        int64 = np.int64
        self.starts = np.array(starts, dtype=int64)
        self.ends = np.array(ends, dtype=int64)
        lengths = self.ends - self.starts
        self.cum_after = np.cumsum(lengths, dtype=int64)
        self.cum_before = self.cum_after - lengths
        self.interval_days = np.array(interval_days, dtype=int64)
        self.open_days = np.array(open_days, dtype=int64)
        self.day_opens = np.array(day_opens, dtype=int64)
        self.day_closes = np.array(day_closes, dtype=int64)
        # Runs of closed days longer than the horizon make the scalar code raise `NeverOpen`;
        # the prefix counts find one between any two intervals or open days in O(1).
        self.last_open_day = int(self.open_days[-1]) if open_days else None
        bounds = np.concatenate(([self.first_day - 1], self.open_days, [self.last_day + 1]))
        self.longest_closed_run = int(np.max(np.diff(bounds) - 1))
        self._long_gaps_between_intervals = np.cumsum(
            np.diff(self.interval_days, prepend=self.first_day) - 1 > HORIZON_DAYS
        )
        self._long_gaps_between_days = np.cumsum(
            np.diff(self.open_days, prepend=self.first_day) - 1 > HORIZON_DAYS
        )
        margin = 2 * _DAY_US  # more than any UTC offset, so every local date's instants are in
        self.zone = ZoneOffsets(
            calendar.timezone,
            self.first_day * _DAY_US - margin,
            (self.last_day + 1) * _DAY_US + margin,
        )

    @classmethod
    def build(cls, calendar: BusinessCalendar, first: dt.date, last: dt.date) -> OpenTimeTable:
        """The table of `calendar` for the local dates `first` to `last`, both included."""
        return cls(calendar, first, last)

    def __repr__(self) -> str:
        return (
            f"OpenTimeTable({self.calendar.timezone.key!r}, {self.first} to {self.last}, "
            f"{self.starts.size} intervals)"
        )

    @property
    def may_hit_horizon(self) -> bool:
        """Whether some run of closed days is long enough to need the `NeverOpen` checks; a
        real calendar's longest closure is weeks, so the checks are almost always skipped."""
        return self.longest_closed_run >= HORIZON_DAYS - 2

    def covers(self, first: dt.date, last: dt.date) -> bool:
        return self.first <= first and last <= self.last

    @cached_property
    def _after_end(self) -> _Searcher:
        return _Searcher(self.ends, "right")

    @cached_property
    def _after_start(self) -> _Searcher:
        return _Searcher(self.starts, "right")

    @cached_property
    def _reaching(self) -> _Searcher:
        return _Searcher(self.cum_after, "left")

    @cached_property
    def _after_open_day(self) -> _Searcher:
        return _Searcher(self.open_days, "right")

    def _wider(self, first: dt.date, last: dt.date) -> OpenTimeTable:
        return OpenTimeTable.build(self.calendar, min(first, self.first), max(last, self.last))

    # ------------------------------------------------------------ array questions

    def _never_open(self, instant: int, what: str) -> NeverOpen:
        local = _from_us(instant, self.calendar.timezone)
        return NeverOpen(
            f"calendar in {self.calendar.timezone.key} {what} for {HORIZON_DAYS} days "
            f"after {local.isoformat()}"
        )

    def _first_open(self, instants: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Index of the first interval closing after each instant (`starts.size` if none in the
        table), and that instant's clock start: itself if open, else that interval's opening.

        Raises `NeverOpen` where the scalar `_next_open` would (the opening is more than the
        horizon of days after the instant's local date).
        """
        import numpy as np

        index = self._after_end(instants)
        if self.starts.size == 0:
            return index, instants.copy()
        found = np.minimum(index, self.starts.size - 1)
        clock = np.maximum(instants, self.starts[found])
        if self.may_hit_horizon:
            inside = np.flatnonzero(index < self.starts.size)
            late = (
                self.interval_days[index[inside]] - self.zone.local_days(instants[inside])
                > HORIZON_DAYS
            )
            if late.any():
                raise self._never_open(int(instants[inside[np.argmax(late)]]), "does not open")
        return index, clock

    def _add_open_time(
        self, instants: np.ndarray, amount: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """`add_open_time` for arrays: (deadlines, where the table ran out, reference local
        days of those for the `NeverOpen` decision)."""
        import numpy as np

        size = self.starts.size
        first, clock = self._first_open(instants)
        if size == 0:
            overflow = np.ones(instants.shape, dtype=bool)
            return clock, overflow, self.zone.local_days(instants)
        found = np.minimum(first, size - 1)
        # Open time before the clock starts, counted from the table's start, plus the budget;
        # the deadline is in the first interval whose end has that much open time behind it
        # (`left`: running out exactly at a close gives that close).
        target = self.cum_before[found] + (clock - self.starts[found]) + amount
        last = np.maximum(self._reaching(target), first)
        overflow = last >= size
        ending = np.minimum(last, size - 1)
        result = self.ends[ending] - (self.cum_after[ending] - target)
        if self.may_hit_horizon:
            gaps = self._long_gaps_between_intervals
            stalled = ~overflow & (gaps[ending] - gaps[found] > 0)
            if stalled.any():
                raise self._never_open(int(instants[np.argmax(stalled)]), "stays closed")
        return result, overflow, self.zone.local_days(instants[overflow])

    def _add_business_days(
        self, instants: np.ndarray, days: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """`add_business_days` for arrays, returning what `_add_open_time` returns."""
        import numpy as np

        first, clock = self._first_open(instants)
        not_started = first >= self.starts.size
        if days == 0 or self.open_days.size == 0:
            overflow = not_started if days == 0 else np.ones(instants.shape, dtype=bool)
            return clock, overflow, self.zone.local_days(instants[overflow])
        wall = self.zone.wall(clock)
        clock_day = np.floor_divide(wall, _DAY_US)
        time_of_day = wall - clock_day * _DAY_US
        after = self._after_open_day(clock_day)
        target = after + (days - 1)
        overflow = not_started | (target >= self.open_days.size)
        day = np.minimum(target, self.open_days.size - 1)
        result = self.zone.resolve(self.open_days[day] * _DAY_US + time_of_day)
        result = np.minimum(np.maximum(result, self.day_opens[day]), self.day_closes[day])
        if self.may_hit_horizon:
            ok = ~overflow
            gaps = self._long_gaps_between_days
            start = np.minimum(after, self.open_days.size - 1)
            stalled = ok & (
                (self.open_days[start] - clock_day - 1 > HORIZON_DAYS)
                | (gaps[day] - gaps[start] > 0)
            )
            if stalled.any():
                raise self._never_open(int(instants[np.argmax(stalled)]), "stays closed")
        # An answer past the table is decided from the clock's day, or, for a clock that has
        # not started within the table, from the start's own day.
        reference = clock_day[overflow]
        waiting = not_started[overflow]
        reference[waiting] = self.zone.local_days(instants[overflow][waiting])
        return result, overflow, reference

    def _open_before(self, instants: np.ndarray) -> np.ndarray:
        """Open µs of the table before each instant; differences are `open_time_between`."""
        import numpy as np

        index = self._after_start(instants) - 1
        if self.starts.size == 0:
            return np.zeros(instants.shape, dtype=np.int64)
        found = np.maximum(index, 0)
        before = self.cum_before[found] + np.minimum(instants, self.ends[found])
        before -= self.starts[found]
        return np.where(index >= 0, before, 0)


# ------------------------------------------------------------ choosing and growing tables


def _cached_table(calendar: BusinessCalendar) -> OpenTimeTable | None:
    """The last table built for `calendar`: the evaluator calls once per clause without a
    table, and a rebuild each time would cost more than the arithmetic for small batches. It
    is kept on the calendar (a cache keyed by calendar elsewhere would keep every calendar
    alive through its table's reference back to it)."""
    return getattr(calendar, "_open_time_table", None)


def _keep(table: OpenTimeTable) -> OpenTimeTable:
    table.calendar._open_time_table = table  # type: ignore[attr-defined]
    return table


def _covering(
    calendar: BusinessCalendar, table: OpenTimeTable | None, first: int, last: int
) -> OpenTimeTable:
    """`table` (or the calendar's cached one) if it covers the local day numbers `first` to
    `last`, else one that does and everything `table` covered, so tables only ever widen."""
    if table is not None and table.calendar is not calendar:
        raise ValueError("the open-time table was built for another calendar")
    if table is None:
        table = _cached_table(calendar)
        if table is not None and (first - table.last_day > _APART_DAYS
                                  or table.first_day - last > _APART_DAYS):
            table = None  # another group's (`_far_apart`): a table of its own, not one between
    lo, hi = _date(first), _date(last)
    if table is not None and table.covers(lo, hi):
        return table
    return _keep(OpenTimeTable.build(calendar, lo, hi) if table is None else table._wider(lo, hi))


def _day_span(calendar: BusinessCalendar, instants: np.ndarray) -> tuple[int, int]:
    """Local day numbers of the earliest and latest instant, a day wider on each side: a
    fall-back across midnight can put an instant in between on a neighbouring date."""
    zone = calendar.timezone
    return (
        _local_day_of(int(instants.min()), zone) - 1,
        _local_day_of(int(instants.max()), zone) + 1,
    )


def _until_covered(
    calendar: BusinessCalendar,
    table: OpenTimeTable | None,
    instants: np.ndarray,
    margin_days: int,
    solve: Callable[[OpenTimeTable], tuple[np.ndarray, np.ndarray, np.ndarray]],
) -> np.ndarray:
    """Run `solve` on a table covering the instants plus `margin_days`, widening the table
    while some answers lie beyond it, until they are all in it or the calendar provably stays
    closed for longer than the horizon after them (`NeverOpen`, as the scalar code would)."""
    import numpy as np

    first, last = _day_span(calendar, instants)
    current = _covering(calendar, table, first, last + margin_days)
    while True:
        result, overflow, reference = solve(current)
        if not overflow.any():
            return result
        # Past the table's last open day nothing is open; an answer beyond the table needs
        # the closure after max(last open day, its own day) to end, within the horizon.
        last_open = _LOW if current.last_open_day is None else current.last_open_day
        hopeless = current.last_day - np.maximum(reference, last_open) > HORIZON_DAYS
        if hopeless.any():
            stuck = np.flatnonzero(overflow)[np.argmax(hopeless)]
            raise current._never_open(int(instants[stuck]), "stays closed")
        grow = max(current.last_day - current.first_day + 1, 64)
        current = _keep(current._wider(current.first, _date(current.last_day + grow)))


def _plan(duration: model.Duration) -> tuple[str, int]:
    """`deadline`'s dispatch for the vectorised path: what kind of arithmetic, and how much
    (µs of time, days or months). Raises what `deadline` raises, in the same order, so a
    duration is refused the same way whichever path meets it first."""
    if duration.amount < 0:
        raise ValueError(f"`{_describe(duration)}`: a duration must not be negative")
    unit = duration.unit
    if duration.business:
        if unit in ("minute", "hour"):
            return "open time", (_FIXED_UNITS[unit] * duration.amount) // _MICROSECOND
        if unit == "day":
            return "business days", _whole(duration)
        raise ValueError(
            f"`{_describe(duration)}` cannot be counted: business time is counted in minutes, "
            "hours or days"
        )
    if unit in ("minute", "hour"):
        return "elapsed", (_FIXED_UNITS[unit] * duration.amount) // _MICROSECOND
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


def _open_minutes_per_week(calendar: BusinessCalendar) -> int:
    return sum(end - start for hours in calendar._week for start, end in hours)


def _shift_walls(
    instants: np.ndarray,
    calendar: BusinessCalendar,
    table: OpenTimeTable | None,
    *,
    days: int = 0,
    months: int = 0,
) -> np.ndarray:
    """`BusinessCalendar._shift_wall` for arrays: local wall readings moved by whole days or
    calendar months (day clamped to the month's end), then resolved by the wall-time rule."""
    import numpy as np

    lo = int(instants.min()) - 2 * _DAY_US
    hi = int(instants.max()) + (days + 31 * months + 3) * _DAY_US
    if table is None:
        table = _cached_table(calendar)
    if table is not None and table.zone.covers(lo, hi):
        zone = table.zone
    else:
        zone = ZoneOffsets(calendar.timezone, lo, hi)
    walls = zone.wall(instants) + days * _DAY_US
    if months:
        day = np.floor_divide(walls, _DAY_US)
        time_of_day = walls - day * _DAY_US
        date = day.astype("datetime64[D]")
        month = date.astype("datetime64[M]")
        first_of_month = month.astype("datetime64[D]")
        day_of_month = (date - first_of_month).astype(np.int64)  # 0-based
        target = month + np.timedelta64(months, "M")
        target_first = target.astype("datetime64[D]")
        length = ((target + np.timedelta64(1, "M")).astype("datetime64[D]") - target_first).astype(
            np.int64
        )
        day = target_first.astype(np.int64) + np.minimum(day_of_month, length - 1)
        walls = day * _DAY_US + time_of_day
    return zone.resolve(walls)


def deadlines(
    starts_us: np.ndarray,
    duration: model.Duration,
    calendar: BusinessCalendar,
    table: OpenTimeTable | None = None,
) -> np.ndarray:
    """`deadline` for an array of clock starts (int64 µs since the epoch, UTC), returned the
    same way and shape: the evaluator's path, which must agree with the scalar one exactly.

    Every unit means what it means in `deadline`: business minutes and hours add open time,
    business days follow LANGUAGE.md section 2, minutes and hours are elapsed time, days and
    weeks keep the local wall time, months, quarters and years move calendar months with the
    day clamped; skipped and repeated wall times resolve by the module's rule. Without a
    `table` (or with one too narrow) one is built covering the starts plus room for the
    duration. Raises what `deadline` raises for the duration, and `NeverOpen` if it would for
    any start. Empty in, empty out.
    """
    import numpy as np

    kind, amount = _plan(duration)
    starts = _instants(starts_us, "starts_us")
    if table is not None and table.calendar is not calendar:
        raise ValueError("the open-time table was built for another calendar")
    if starts.size == 0:
        return np.empty(starts.shape, dtype=np.int64)
    flat = starts.ravel()
    groups = _far_apart(flat, flat) if table is None and kind != "elapsed" else None
    if groups:
        result = np.empty_like(flat)
        for index in groups:
            result[index] = deadlines(flat[index], duration, calendar)
        return result.reshape(starts.shape)
    if kind == "elapsed":
        result = flat + amount
    elif kind in ("wall days", "months"):
        if amount == 0:
            result = flat.copy()  # zero is exactly the start, as in `_shift_wall`
        elif kind == "wall days":
            result = _shift_walls(flat, calendar, table, days=amount)
        else:
            result = _shift_walls(flat, calendar, table, months=amount)
    elif kind == "open time":
        per_week = _open_minutes_per_week(calendar) * 60_000_000
        margin = -(-amount * 7 // per_week) + 8 if per_week else 8
        result = _until_covered(
            calendar, table, flat, margin, lambda t: t._add_open_time(flat, amount)
        )
    else:
        open_weekdays = sum(1 for hours in calendar._week if hours)
        margin = -(-amount * 7 // open_weekdays) + 8 if open_weekdays else 8
        result = _until_covered(
            calendar, table, flat, margin, lambda t: t._add_business_days(flat, amount)
        )
    return result.reshape(starts.shape)


def next_open_many(
    starts_us: np.ndarray, calendar: BusinessCalendar, table: OpenTimeTable | None = None
) -> np.ndarray:
    """`BusinessCalendar.next_open` for an array of instants (int64 µs since the epoch, UTC):
    when each clock actually starts running, the instant itself if the calendar is open.
    Raises `NeverOpen` if the scalar one would for any instant."""
    import numpy as np

    starts = _instants(starts_us, "starts_us")
    if table is not None and table.calendar is not calendar:
        raise ValueError("the open-time table was built for another calendar")
    if starts.size == 0:
        return np.empty(starts.shape, dtype=np.int64)
    flat = starts.ravel()
    groups = _far_apart(flat, flat) if table is None else None
    if groups:
        result = np.empty_like(flat)
        for index in groups:
            result[index] = next_open_many(flat[index], calendar)
        return result.reshape(starts.shape)

    def solve(current: OpenTimeTable) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        index, clock = current._first_open(flat)
        overflow = index >= current.starts.size
        return clock, overflow, current.zone.local_days(flat[overflow])

    return _until_covered(calendar, table, flat, 8, solve).reshape(starts.shape)


def open_time_between_many(
    a_us: np.ndarray,
    b_us: np.ndarray,
    calendar: BusinessCalendar,
    table: OpenTimeTable | None = None,
) -> np.ndarray:
    """`BusinessCalendar.open_time_between` for arrays (broadcast against each other): open
    µs from each `a` to its `b`, negative when `b` is earlier, as int64, so spacing rules in
    business time are one subtraction per pair."""
    import numpy as np

    a, b = np.broadcast_arrays(_instants(a_us, "a_us"), _instants(b_us, "b_us"))
    if table is not None and table.calendar is not calendar:
        raise ValueError("the open-time table was built for another calendar")
    shape = a.shape
    if a.size == 0:
        return np.empty(shape, dtype=np.int64)
    a, b = a.ravel(), b.ravel()
    groups = _far_apart(np.minimum(a, b), np.maximum(a, b)) if table is None else None
    if groups:
        result = np.empty(a.shape, dtype=np.int64)
        for index in groups:
            result[index] = open_time_between_many(a[index], b[index], calendar)
        return result.reshape(shape)
    first, last = _day_span(calendar, np.concatenate((a, b)))
    # `_clipped` looks at the local dates of both ends and the day after: a day more each side.
    current = _covering(calendar, table, first - 1, last + 1)
    return (current._open_before(b) - current._open_before(a)).reshape(shape)


def add_open_time_many(
    starts_us: np.ndarray,
    amounts_us: np.ndarray,
    calendar: BusinessCalendar,
    table: OpenTimeTable | None = None,
) -> np.ndarray:
    """`BusinessCalendar.add_open_time` with an amount per start (broadcast): when each clock
    has used its own share of open time, as a warning at 75% of each lead's allowed time is."""
    import numpy as np

    starts, amounts = np.broadcast_arrays(_instants(starts_us, "starts_us"),
                                          _instants(amounts_us, "amounts_us"))
    if table is not None and table.calendar is not calendar:
        raise ValueError("the open-time table was built for another calendar")
    if starts.size == 0:
        return np.empty(starts.shape, dtype=np.int64)
    if (amounts < 0).any():
        raise ValueError("open time to add must not be negative")
    flat, budget = starts.ravel(), amounts.ravel()
    groups = _far_apart(flat, flat) if table is None else None
    if groups:
        result = np.empty_like(flat)
        for index in groups:
            result[index] = add_open_time_many(flat[index], budget[index], calendar)
        return result.reshape(starts.shape)
    per_week = _open_minutes_per_week(calendar) * 60_000_000
    most = int(budget.max())
    margin = -(-most * 7 // per_week) + 8 if per_week else 8
    result = _until_covered(calendar, table, flat, margin,
                            lambda t: t._add_open_time(flat, budget))
    return result.reshape(starts.shape)


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
