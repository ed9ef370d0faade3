"""A slow, independent reference for `sla_dsl.evaluation.replay`: a plain loop per lead per event.

It exists only to be compared with the vectorised evaluator (see
`tests/test_evaluation_reference.py`), so it shares nothing with it but the parsed `Policy` and
the `History` columns it reads: no numpy arithmetic and no `sla_dsl.business_time`. Every
deadline is found by walking through time with `zoneinfo`:

- A wall time T on a local date is *the first instant at which the local clock reads T or
  later*, found by scanning instants minute by minute (second by second when T has seconds) and
  reading the local clock at each. So a time skipped by spring-forward is the jump, and a time
  repeated by fall-back is its first occurrence, without asking zoneinfo to resolve either.
- A calendar is open on a local date during [opening, closing) of each of that weekday's open
  ranges (both read by the rule above; `24:00` is the next local midnight), unless the date is
  closed.
- `N business minutes/hours`: step forward minute by minute, counting the open minutes, until N
  have passed; closed stretches are jumped over to the next opening. A clock started while
  closed so starts at the next opening, and open time that runs out exactly at a close is due at
  that close.
- `N business days`: start at the next opening when started while closed; note the local time
  of day; count N open days after the start's local date; that time of day on that day, clamped
  to the day's first opening and last close (LANGUAGE.md, section 2).
- Wall `N minutes/hours` are elapsed time; wall `N days/weeks` are the same local time of day N
  days later.

Clause semantics (every clock starts at the lead's first `handoff`; only events at or after it
and at or before the as-of time count; `connected` counts as a touch):

- Rounds: a `handoff` with a `rejected` or `lost` after the handoff before it starts a new round
  (attempt 2, 3, ...) of every clock; a round counts only the events before the next round's
  handoff in the lead's order of events (by time, then the history's order), so a `rejected`
  written at the instant of the re-handoff but before it is the earlier round's. A later round
  starts at its handoff's place in that order; the first at its handoff's instant.

- `first touch within D` / `disposition within D` (`accepted` or `rejected`): met when the first
  such event is at or before the due time; pending while there is none and the due time is after
  the as-of time; else breached. `at` is that first event (None when there is none).
- `touches at least N within W [until connected]`: the touches in [handoff, handoff + W]; one
  counts when it is the first of the window or at least `spacing` (elapsed time) after the touch
  before it. Met at the N-th counted touch, or at the window's first connect (with `until
  connected`), whichever is earlier; pending while not met and the window end is after the
  as-of time; else breached. The due time is the window end.

Instants are int microseconds since the Unix epoch (UTC), as in `History.at`.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sla_dsl.history.columns import EVENTS, History
from sla_dsl.language import model as m

SECOND = 1_000_000
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE
HORIZON_DAYS = 4 * 366
"""How far a clock looks for an opening before giving up."""

TOUCH_EVENTS = frozenset({"touch", "connected"})
DISPOSITION_EVENTS = frozenset({"accepted", "rejected"})
ROUND_ENDS = frozenset({"rejected", "lost"})


class NotModelled(Exception):
    """The reference does not model this (a unit, a clause kind, a non-whole-second instant)."""


# ---------------------------------------------------------------- instants and wall readings


def reading(zone: ZoneInfo, instant: int) -> dt.datetime:
    """What the local clock reads at `instant` (a naive datetime)."""
    seconds, micros = divmod(instant, SECOND)
    local = dt.datetime.fromtimestamp(seconds, zone).replace(tzinfo=None)
    return local + dt.timedelta(microseconds=micros)


@functools.cache
def first_instant_reading(zone_key: str, wall: dt.datetime) -> int:
    """The first instant at which the local clock reads `wall` or later, by scanning.

    The scan starts two hours of wall time early: the reading there is at least an hour below
    `wall` whatever one DST change did, and no earlier instant reads higher than it does plus
    the hour a fall-back repeats, so nothing before the scan's start can read `wall` or later.
    """
    if wall.microsecond:
        raise NotModelled(f"wall time {wall} has a fraction of a second")
    zone = ZoneInfo(zone_key)
    step = MINUTE if wall.second == 0 else SECOND
    guess = int((wall - dt.timedelta(hours=2)).replace(tzinfo=zone).timestamp()) * SECOND
    instant = guess - guess % step
    assert reading(zone, instant) <= wall - dt.timedelta(hours=1), (zone_key, wall)
    for _ in range(6 * 3600):
        if reading(zone, instant) >= wall:
            return instant
        instant += step
    raise AssertionError(f"no instant reads {wall} in {zone_key}")


# ---------------------------------------------------------------- calendars


class ReferenceCalendar:
    """Open hours by weekday (minutes after local midnight) and closed local dates."""

    def __init__(self, timezone: str, weekly: dict[int, list[tuple[int, int]]],
                 closed: set[dt.date] | frozenset[dt.date] = frozenset()) -> None:
        self.zone = ZoneInfo(timezone)
        self.weekly = {day: sorted(weekly.get(day, [])) for day in range(7)}
        self.closed = frozenset(closed)
        self._stretches: dict[dt.date, list[tuple[int, int]]] = {}

    @classmethod
    def from_model(cls, calendar: m.Calendar, timezone: str) -> ReferenceCalendar:
        weekly: dict[int, list[tuple[int, int]]] = {day: [] for day in range(7)}
        closed: set[dt.date] = set()
        for item in calendar.items:
            if isinstance(item, m.OpenHours):
                for days in item.days:
                    for weekday in days.weekdays:
                        weekly[weekday].extend((h.start, h.end) for h in item.hours)
            else:
                for dates in item.dates:
                    day = dates.first
                    while day <= dates.last:
                        closed.add(day)
                        day += dt.timedelta(days=1)
        zone = calendar.timezone.value if calendar.timezone else timezone
        return cls(zone, weekly, closed)

    @classmethod
    def always_open(cls, timezone: str) -> ReferenceCalendar:
        return cls(timezone, {day: [(0, 24 * 60)] for day in range(7)})

    # -------------------------------------------------------- reading the clock

    def reading(self, instant: int) -> dt.datetime:
        return reading(self.zone, instant)

    def local_date(self, instant: int) -> dt.date:
        return self.reading(instant).date()

    def at_wall(self, wall: dt.datetime) -> int:
        return first_instant_reading(self.zone.key, wall)

    # -------------------------------------------------------- open time

    def stretches(self, day: dt.date) -> list[tuple[int, int]]:
        """The day's open stretches as [opens, closes) instants; empty ones left out."""
        if day not in self._stretches:
            found = []
            if day not in self.closed:
                midnight = dt.datetime.combine(day, dt.time())
                for start, end in self.weekly[day.weekday()]:
                    opens = self.at_wall(midnight + dt.timedelta(minutes=start))
                    closes = self.at_wall(midnight + dt.timedelta(minutes=end))
                    if opens < closes:
                        found.append((opens, closes))
            self._stretches[day] = sorted(found)
        return self._stretches[day]

    def is_open(self, instant: int) -> bool:
        day = self.local_date(instant)
        return any(opens <= instant < closes
                   for d in (day - dt.timedelta(days=1), day)
                   for opens, closes in self.stretches(d))

    def next_opening(self, instant: int) -> int:
        """`instant` itself when open, else the next moment the calendar opens."""
        if self.is_open(instant):
            return instant
        day = self.local_date(instant) - dt.timedelta(days=1)
        for _ in range(HORIZON_DAYS):
            for opens, _closes in self.stretches(day):
                if opens >= instant:
                    return opens
            day += dt.timedelta(days=1)
        raise NotModelled("the calendar never opens")

    def add_open_time(self, start: int, amount: int) -> int:
        """Minute by minute (second by second off the minute grid), counting open time."""
        if start % SECOND or amount % SECOND:
            raise NotModelled("business time is stepped in whole seconds")
        instant, left = start, amount
        while left > 0:
            if not self.is_open(instant):
                instant = self.next_opening(instant)
                continue
            # Openings and closings fall on whole minutes, so a whole minute starting on the
            # minute grid is open throughout when its first instant is.
            step = MINUTE if instant % MINUTE == 0 and left >= MINUTE else SECOND
            instant += step
            left -= step
        return instant

    def add_open_days(self, start: int, days: int) -> int:
        begin = self.next_opening(start)
        if days == 0:
            return begin
        time_of_day = self.reading(begin).time()
        day = self.local_date(begin)
        counted = 0
        while counted < days:
            day += dt.timedelta(days=1)
            if self.stretches(day):
                counted += 1
        stretches = self.stretches(day)
        first_opening = min(opens for opens, _ in stretches)
        last_close = max(closes for _, closes in stretches)
        wanted = self.at_wall(dt.datetime.combine(day, time_of_day))
        return min(max(wanted, first_opening), last_close)

    def add_wall_days(self, start: int, days: int) -> int:
        return self.at_wall(self.reading(start) + dt.timedelta(days=days))


# ---------------------------------------------------------------- durations

_UNIT_LENGTH = {"minute": MINUTE, "hour": HOUR}
_UNIT_DAYS = {"day": 1, "week": 7}


def calendar_of(policy: m.Policy, duration: m.Duration) -> ReferenceCalendar:
    """The named calendar, else the policy's first, else always open in the policy's zone."""
    timezone = policy.timezone or "UTC"
    named = duration.calendar.value if duration.calendar else None
    for calendar in policy.calendars:
        if named is None or calendar.name.value == named:
            return ReferenceCalendar.from_model(calendar, timezone)
    return ReferenceCalendar.always_open(timezone)


def deadline(start: int, duration: m.Duration, calendar: ReferenceCalendar) -> int:
    if duration.unit in _UNIT_LENGTH:
        length = duration.amount * _UNIT_LENGTH[duration.unit]
        if length != int(length):
            raise NotModelled(f"{duration.amount} {duration.unit}s is not whole µs")
        length = int(length)
        return calendar.add_open_time(start, length) if duration.business else start + length
    if duration.unit in _UNIT_DAYS:
        days = int(duration.amount) * _UNIT_DAYS[duration.unit]
        if duration.business:
            return calendar.add_open_days(start, days)
        return calendar.add_wall_days(start, days)
    raise NotModelled(f"unit {duration.unit!r} is not modelled")


def elapsed(duration: m.Duration) -> int:
    """A wall-clock gap as elapsed time (spacing)."""
    if duration.business or duration.unit not in _UNIT_LENGTH:
        raise NotModelled("spacing is modelled in wall minutes and hours only")
    return int(duration.amount * _UNIT_LENGTH[duration.unit])


# ---------------------------------------------------------------- the replay


@dataclass(frozen=True)
class Verdict:
    status: str  # "met", "breached" or "pending"
    due: int
    at: int | None


def lead_events(history: History, as_of: int) -> list[list[tuple[int, str]]]:
    """Per lead, its (at, event) pairs in history order, events after `as_of` dropped."""
    events: list[list[tuple[int, str]]] = [[] for _ in history.lead_ids]
    for k in range(len(history.at)):
        at = int(history.at[k])
        if at <= as_of:
            events[int(history.lead[k])].append((at, EVENTS[int(history.event[k])]))
    for mine in events:
        mine.sort(key=lambda pair: pair[0])  # stable: equal times keep their order
    return events


def _status(met: bool, due: int, as_of: int) -> str:
    if met:
        return "met"
    return "pending" if due > as_of else "breached"


def first_event_clause(events: list[tuple[int, str]], handoff: int, due: int,
                       kinds: frozenset[str], as_of: int) -> Verdict:
    first = None
    for at, event in events:
        if event in kinds and at >= handoff:
            first = at
            break
    met = first is not None and first <= due
    return Verdict(_status(met, due, as_of), due, first)


def touches_clause(events: list[tuple[int, str]], handoff: int, end: int, count: int,
                   until_connected: bool, spacing: int | None, as_of: int) -> Verdict:
    counted = 0
    nth = None
    connect = None
    previous = None
    for at, event in events:
        if event not in TOUCH_EVENTS or not handoff <= at <= end:
            continue
        if previous is None or spacing is None or at - previous >= spacing:
            counted += 1
            if counted == count and nth is None:
                nth = at
        previous = at
        if event == "connected" and connect is None:
            connect = at
    met_at = nth
    if until_connected and connect is not None and (nth is None or connect < nth):
        met_at = connect
    return Verdict(_status(met_at is not None, end, as_of), end, met_at)


def rounds(events: list[tuple[int, str]]) -> list[tuple[int, int, int]]:
    """Each round's (instant, first, end): its handoff's instant, and the places in `events`
    of the events it reads, `first` to before `end` (the next round's handoff, or the end)."""
    places = []
    ended = False
    for place, (_, event) in enumerate(events):
        if event == "handoff":
            if not places or ended:
                places.append(place)
            ended = False
        elif event in ROUND_ENDS:
            ended = True
    ends = [*places[1:], len(events)]
    # the first round reads from the first event on (its clauses keep those at or after its
    # handoff's instant); a later one from its own handoff
    return [(events[place][0], place if k else 0, ends[k])
            for k, place in enumerate(places)]


def evaluate_reference(policy: m.Policy, history: History,
                       as_of: int | None = None) -> dict[tuple[str, int, int], Verdict]:
    """{(clause, lead index, attempt): verdict} for every lead handed off by `as_of`
    (default: the latest event), for `handoff every lead` blocks with a receiver."""
    if as_of is None:
        as_of = max(int(a) for a in history.at) if len(history.at) else 0
    events = lead_events(history, as_of)
    built: dict[str | None, ReferenceCalendar] = {}

    def calendar(duration: m.Duration) -> ReferenceCalendar:
        name = duration.calendar.value if duration.calendar else None
        if name not in built:
            built[name] = calendar_of(policy, duration)
        return built[name]

    results: dict[tuple[str, int, int], Verdict] = {}
    for block in policy.handoffs:
        if block.receiver is None:
            continue
        if block.target is not None:
            raise NotModelled("only `handoff every lead` blocks are modelled")
        spacing_item = block.item("spacing")
        spacing = elapsed(spacing_item.at_least) if spacing_item is not None else None
        for lead, everything in enumerate(events):
            for attempt, (handoff, first, end) in enumerate(rounds(everything), 1):
                _round(block, everything[first:end], handoff, lead, attempt, spacing,
                       calendar, as_of, results)
    return results


def _round(block: m.Handoff, mine: list[tuple[int, str]], handoff: int, lead: int,
           attempt: int, spacing: int | None, calendar, as_of: int,
           results: dict[tuple[str, int, int], Verdict]) -> None:
    for item in block.items:
        if isinstance(item, m.FirstTouch | m.Disposition):
            name = "first touch" if isinstance(item, m.FirstTouch) else "disposition"
            kinds = TOUCH_EVENTS if isinstance(item, m.FirstTouch) \
                else DISPOSITION_EVENTS
            due = deadline(handoff, item.within, calendar(item.within))
            results[name, lead, attempt] = first_event_clause(mine, handoff, due, kinds,
                                                              as_of)
        elif isinstance(item, m.Touches):
            end = deadline(handoff, item.within, calendar(item.within))
            results["touches", lead, attempt] = touches_clause(
                mine, handoff, end, int(item.count.value), item.until_connected,
                spacing, as_of)
        elif isinstance(item, m.Spacing):
            continue
        else:
            raise NotModelled(f"clause {item.kind!r} is not modelled")
