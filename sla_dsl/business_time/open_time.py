"""Business time over arrays: the evaluator's questions for millions of leads at once.

`deadlines`, `next_open_many`, `open_time_between_many` and `add_open_time_many` answer what
`BusinessCalendar` answers for one instant, over numpy arrays of int64 microseconds since the
Unix epoch (UTC), from an `OpenTimeTable` that holds the calendar's open intervals as arrays.
They agree exactly with the scalar answers, because the table is built from the same cached
days (`BusinessCalendar.day_intervals`) and the same wall-time rule (`zones.ZoneOffsets`), not
from a second reading of the calendar.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import cached_property
from typing import Literal

import numpy as np

from sla_dsl.business_time.calendar import HORIZON_DAYS, BusinessCalendar, NeverOpen, deadline_plan
from sla_dsl.business_time.zones import (
    AFTER_ALL,
    APART_DAYS,
    BEFORE_ALL,
    US_PER_DAY,
    US_PER_MINUTE,
    ZoneOffsets,
    date_of,
    day_number,
    far_apart,
    local_day,
    local_time,
    to_us,
)
from sla_dsl.language import model

_ONE_DAY = dt.timedelta(days=1)


def _instants(values: object, what: str) -> np.ndarray:
    """`values` as an int64 array; anything but integers is refused rather than guessed at."""
    array = np.asarray(values)
    if array.dtype.kind not in "iu":
        raise TypeError(
            f"{what} must hold int64 microseconds since the Unix epoch, got dtype {array.dtype}"
        )
    return array.astype(np.int64, copy=False)


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
        self.values, self.side = values, side
        self.padded = np.append(values, np.int64(AFTER_ALL))  # stepping stops at the end
        if values.size == 0:
            return
        self.origin = int(values[0]) - 1  # queries below it answer 0, as bucket 0 does
        span = int(values[-1]) - self.origin + 1
        self.width = -(-span // min(64 * values.size, 1 << 18))
        edges = self.origin + self.width * np.arange(-(-span // self.width) + 1, dtype=np.int64)
        self.first = np.searchsorted(values, edges, side=side)

    def __call__(self, queries: np.ndarray) -> np.ndarray:
        """Indices for a one-dimensional array of queries."""
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
        if isinstance(first, dt.datetime) or isinstance(last, dt.datetime):
            raise TypeError("an open-time table spans dates, not datetimes")
        if first > last:
            raise ValueError(f"an open-time table cannot run backwards, from {first} to {last}")
        self.calendar = calendar
        self.first = first
        self.last = last
        self.first_day = day_number(first)
        self.last_day = day_number(last)
        starts: list[int] = []
        ends: list[int] = []
        interval_days: list[int] = []
        open_days: list[int] = []
        day_opens: list[int] = []
        day_closes: list[int] = []
        day = first
        for number in range(self.first_day, self.last_day + 1):
            intervals = calendar.day_intervals(day)
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
        margin = 2 * US_PER_DAY  # more than any UTC offset, so every local date's instants are in
        self.zone = ZoneOffsets(
            calendar.timezone,
            self.first_day * US_PER_DAY - margin,
            (self.last_day + 1) * US_PER_DAY + margin,
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
        local = local_time(instant, self.calendar.timezone)
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
        first, clock = self._first_open(instants)
        not_started = first >= self.starts.size
        if days == 0 or self.open_days.size == 0:
            overflow = not_started if days == 0 else np.ones(instants.shape, dtype=bool)
            return clock, overflow, self.zone.local_days(instants[overflow])
        wall = self.zone.wall(clock)
        clock_day = np.floor_divide(wall, US_PER_DAY)
        time_of_day = wall - clock_day * US_PER_DAY
        after = self._after_open_day(clock_day)
        target = after + (days - 1)
        overflow = not_started | (target >= self.open_days.size)
        day = np.minimum(target, self.open_days.size - 1)
        result = self.zone.resolve(self.open_days[day] * US_PER_DAY + time_of_day)
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
    table = calendar.open_time_table
    return table if isinstance(table, OpenTimeTable) else None


def _keep(table: OpenTimeTable) -> OpenTimeTable:
    table.calendar.open_time_table = table
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
        if table is not None and (first - table.last_day > APART_DAYS
                                  or table.first_day - last > APART_DAYS):
            table = None  # another group's (`far_apart`): a table of its own, not one between
    lo, hi = date_of(first), date_of(last)
    if table is not None and table.covers(lo, hi):
        return table
    return _keep(OpenTimeTable.build(calendar, lo, hi) if table is None else table._wider(lo, hi))


def _day_span(calendar: BusinessCalendar, instants: np.ndarray) -> tuple[int, int]:
    """Local day numbers of the earliest and latest instant, a day wider on each side: a
    fall-back across midnight can put an instant in between on a neighbouring date."""
    zone = calendar.timezone
    return (
        local_day(int(instants.min()), zone) - 1,
        local_day(int(instants.max()), zone) + 1,
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
    first, last = _day_span(calendar, instants)
    current = _covering(calendar, table, first, last + margin_days)
    while True:
        result, overflow, reference = solve(current)
        if not overflow.any():
            return result
        # Past the table's last open day nothing is open; an answer beyond the table needs
        # the closure after max(last open day, its own day) to end, within the horizon.
        last_open = BEFORE_ALL if current.last_open_day is None else current.last_open_day
        hopeless = current.last_day - np.maximum(reference, last_open) > HORIZON_DAYS
        if hopeless.any():
            stuck = np.flatnonzero(overflow)[np.argmax(hopeless)]
            raise current._never_open(int(instants[stuck]), "stays closed")
        grow = max(current.last_day - current.first_day + 1, 64)
        current = _keep(current._wider(current.first, date_of(current.last_day + grow)))


def _shift_walls(
    instants: np.ndarray,
    calendar: BusinessCalendar,
    table: OpenTimeTable | None,
    *,
    days: int = 0,
    months: int = 0,
) -> np.ndarray:
    """`deadline`'s day, week and month shifts for arrays: local wall readings moved by whole
    days or calendar months (day clamped to the month's end), then resolved by the wall-time
    rule."""
    lo = int(instants.min()) - 2 * US_PER_DAY
    hi = int(instants.max()) + (days + 31 * months + 3) * US_PER_DAY
    if table is None:
        table = _cached_table(calendar)
    if table is not None and table.zone.covers(lo, hi):
        zone = table.zone
    else:
        zone = ZoneOffsets(calendar.timezone, lo, hi)
    walls = zone.wall(instants) + days * US_PER_DAY
    if months:
        day = np.floor_divide(walls, US_PER_DAY)
        time_of_day = walls - day * US_PER_DAY
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
        walls = day * US_PER_DAY + time_of_day
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
    day clamped; skipped and repeated wall times resolve by business_time's rule. Without a
    `table` (or with one too narrow) one is built covering the starts plus room for the
    duration. Raises what `deadline` raises for the duration, and `NeverOpen` if it would for
    any start. Empty in, empty out.
    """
    kind, amount = deadline_plan(duration)
    starts = _instants(starts_us, "starts_us")
    if table is not None and table.calendar is not calendar:
        raise ValueError("the open-time table was built for another calendar")
    if starts.size == 0:
        return np.empty(starts.shape, dtype=np.int64)
    flat = starts.ravel()
    groups = far_apart(flat, flat) if table is None and kind != "elapsed" else None
    if groups:
        result = np.empty_like(flat)
        for index in groups:
            result[index] = deadlines(flat[index], duration, calendar)
        return result.reshape(starts.shape)
    if kind == "elapsed":
        result = flat + amount
    elif kind in ("wall days", "months"):
        if amount == 0:
            result = flat.copy()  # zero is exactly the start, as in `deadline`
        elif kind == "wall days":
            result = _shift_walls(flat, calendar, table, days=amount)
        else:
            result = _shift_walls(flat, calendar, table, months=amount)
    elif kind == "open time":
        per_week = calendar.open_minutes_per_week() * US_PER_MINUTE
        margin = -(-amount * 7 // per_week) + 8 if per_week else 8
        result = _until_covered(
            calendar, table, flat, margin, lambda t: t._add_open_time(flat, amount)
        )
    else:
        open_weekdays = calendar.open_weekdays()
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
    starts = _instants(starts_us, "starts_us")
    if table is not None and table.calendar is not calendar:
        raise ValueError("the open-time table was built for another calendar")
    if starts.size == 0:
        return np.empty(starts.shape, dtype=np.int64)
    flat = starts.ravel()
    groups = far_apart(flat, flat) if table is None else None
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
    a, b = np.broadcast_arrays(_instants(a_us, "a_us"), _instants(b_us, "b_us"))
    if table is not None and table.calendar is not calendar:
        raise ValueError("the open-time table was built for another calendar")
    shape = a.shape
    if a.size == 0:
        return np.empty(shape, dtype=np.int64)
    a, b = a.ravel(), b.ravel()
    groups = far_apart(np.minimum(a, b), np.maximum(a, b)) if table is None else None
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
    starts, amounts = np.broadcast_arrays(_instants(starts_us, "starts_us"),
                                          _instants(amounts_us, "amounts_us"))
    if table is not None and table.calendar is not calendar:
        raise ValueError("the open-time table was built for another calendar")
    if starts.size == 0:
        return np.empty(starts.shape, dtype=np.int64)
    if (amounts < 0).any():
        raise ValueError("open time to add must not be negative")
    flat, budget = starts.ravel(), amounts.ravel()
    groups = far_apart(flat, flat) if table is None else None
    if groups:
        result = np.empty_like(flat)
        for index in groups:
            result[index] = add_open_time_many(flat[index], budget[index], calendar)
        return result.reshape(starts.shape)
    per_week = calendar.open_minutes_per_week() * US_PER_MINUTE
    most = int(budget.max())
    margin = -(-most * 7 // per_week) + 8 if per_week else 8
    result = _until_covered(calendar, table, flat, margin,
                            lambda t: t._add_open_time(flat, budget))
    return result.reshape(starts.shape)


