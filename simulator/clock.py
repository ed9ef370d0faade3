"""The model's clock: seconds after the first simulated midnight, and a team's open hours on it.

Business time has one home, `sla_dsl.business_time`: the open stretches here are its
`BusinessCalendar.intervals`, read once per run, so the reps' shift changes see holidays, split
shifts and DST exactly as the evaluator's clocks do. What the event loop needs from them, many
thousand times a run, is two scalar questions (is it open now, when does it next open), which a
bisect over the stretches answers without building a datetime.
"""

from __future__ import annotations

import bisect
import datetime as dt
import math
from zoneinfo import ZoneInfo

from sla_dsl.business_time.calendar import BusinessCalendar
from sla_dsl.business_time.zones import day_start_us, local_time

_MARGIN = dt.timedelta(days=62)  # cadences started near the end of the horizon run past it


def origin_us(start: dt.date, timezone: str) -> int:
    """Local midnight of the first simulated day, as µs since the epoch."""
    return day_start_us(start, ZoneInfo(timezone))


class OpenHours:
    """A calendar's open stretches over the run, as seconds after the origin."""

    def __init__(self, calendar: BusinessCalendar, origin: int, horizon_s: float) -> None:
        begin = local_time(origin, dt.UTC)
        end = begin + dt.timedelta(seconds=horizon_s) + _MARGIN
        spans = [((a - begin).total_seconds(), (b - begin).total_seconds())
                 for a, b in calendar.intervals(begin, end)]
        self.opens = [a for a, _ in spans]
        self.closes = [b for _, b in spans]
        self.always = len(spans) == 1 and spans[0][0] <= 0

    @classmethod
    def around_the_clock(cls) -> OpenHours:
        """Always open: the hours of a team whose reps keep their own (the event loop takes
        each rep off at their own closings)."""
        hours = cls.__new__(cls)
        hours.opens, hours.closes, hours.always = [0.0], [math.inf], True
        return hours

    def next_open(self, t: float) -> float:
        """`t` itself while open, else the next opening (infinity past the run's end)."""
        i = bisect.bisect_right(self.closes, t)
        if i == len(self.closes):
            return math.inf
        return t if self.opens[i] <= t else self.opens[i]

    def openings(self, after: float, until: float) -> list[float]:
        return [a for a in self.opens if after < a <= until]

    def open_seconds(self, until: float) -> float:
        """Open time from the origin to `until`: the hours a rep of this team can work."""
        return sum(max(0.0, min(b, until) - a) for a, b in zip(self.opens, self.closes,
                                                               strict=True) if a < until)

    def add_open(self, t: float, seconds: float) -> float:
        """The moment `seconds` of open time after `t` have passed (a business spacing)."""
        i = bisect.bisect_right(self.closes, t)
        while i < len(self.closes):
            begin = max(t, self.opens[i])
            room = self.closes[i] - begin
            if seconds <= room:
                return begin + seconds
            seconds -= room
            i += 1
        return math.inf
