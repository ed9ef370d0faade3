"""Cadences: can the touches a handoff asks for fit in its window at all?

Touches are made while the touch calendar is open (at any hour when the window and the spacing
are both in wall-clock time), at least `spacing` apart. The check plays
the best case (a lead handed off as the calendar opens, on each day of two sample weeks) and
reports a cadence that no start could meet: more touches than the window and spacing allow,
or a first touch due only after the touch window has closed.
"""

from __future__ import annotations

import datetime as dt
from functools import cache

from sla_dsl.business_time.calendar import BusinessCalendar, NeverOpen, deadline
from sla_dsl.checks.clauses import duration_is_usable
from sla_dsl.checks.header import timezone_problem
from sla_dsl.diagnostics.codes import Code
from sla_dsl.diagnostics.diagnostic import Reporter
from sla_dsl.language import model as m

# The codes this module reports: one owner per code (sla_dsl/diagnostics/codes.py).
IMPOSSIBLE_CADENCE = Code(
    "E400", "impossible-cadence", "more touches than the window allows",
    owner=__name__)
WINDOW_TOO_SHORT = Code(
    "E409", "deadline-outside-window", "a first touch due after the touch window closes",
    owner=__name__)
CODES = (IMPOSSIBLE_CADENCE, WINDOW_TOO_SHORT)


SAMPLE_DAYS = 14
MOST_TOUCHES_PLAYED = 10_000
_FAILURES = (NeverOpen, ValueError, OverflowError)


def most_touches(window: m.Duration, spacing: m.Duration, calendar: BusinessCalendar,
                 start: dt.datetime, wanted: int) -> int:
    """Touches that fit from `start`: one at each opening moment, `spacing` apart."""
    end = deadline(start, window, calendar)
    moment, made = calendar.next_open(start), 0
    while moment <= end and made < min(wanted, MOST_TOUCHES_PLAYED):
        made += 1
        moment = calendar.next_open(deadline(moment, spacing, calendar))
    return made


def _key(duration: m.Duration) -> tuple:
    calendar = duration.calendar.value if duration.calendar else None
    return (duration.amount, duration.unit, duration.business, calendar)


class _Cadences:
    """Large policies repeat one cadence in many handoffs: each is played once."""

    def __init__(self, policy: m.Policy) -> None:
        self.policy = policy
        effective = policy.effective
        self.first_day = effective.start.value if effective else dt.date(2026, 1, 5)
        self.calendars = {c.name.value: c for c in policy.calendars}
        self.calendar = cache(self._calendar)
        self.memo: dict[tuple, object] = {}

    def _calendar(self, name: str | None, always_open: bool = False
                  ) -> tuple[BusinessCalendar, list[dt.datetime]]:
        """The calendar a window is counted on, else the policy's first, else (or when
        `always_open`) one never closed; with the sample of start moments to play from."""
        timezone = self.policy.timezone or "UTC"
        chosen = self.calendars.get(name) if name and not always_open else None
        if chosen is None and self.policy.calendars and not always_open:
            chosen = self.policy.calendars[0]
        for zone in (timezone, chosen.timezone.value if chosen and chosen.timezone else None):
            if zone is not None and timezone_problem(zone):
                raise ValueError(f"unknown timezone {zone!r}")  # reported by the header check
        calendar = (BusinessCalendar.from_model(chosen, timezone) if chosen
                    else BusinessCalendar.always_open(timezone))
        starts = [start
                  for offset in range(SAMPLE_DAYS)
                  for start, _ in calendar.open_intervals_on(
                      self.first_day + dt.timedelta(days=offset))]
        return calendar, starts

    def most(self, window: m.Duration, spacing: m.Duration, wanted: int) -> int | None:
        """The most touches any sample start fits. A window and spacing both in wall-clock
        time are played on a clock that never closes: the evaluator counts a touch made at
        any hour, and such a window is the policy's word that hours do not matter to it."""
        key = ("most", _key(window), _key(spacing), wanted)
        if key not in self.memo:
            calendar, starts = self.calendar(
                _key(window)[3], always_open=not (window.business or spacing.business))
            self.memo[key] = max(
                (most_touches(window, spacing, calendar, s, wanted) for s in starts),
                default=None)
        return self.memo[key]

    def first_touch_late(self, first: m.Duration, window: m.Duration) -> bool:
        key = ("late", _key(first), _key(window))
        if key not in self.memo:
            calendar, starts = self.calendar(_key(window)[3])
            self.memo[key] = bool(starts) and all(
                deadline(s, first, calendar) > deadline(s, window, calendar) for s in starts)
        return self.memo[key]

    def check(self, handoff: m.Handoff, reporter: Reporter) -> None:
        first, touches = handoff.item("first_touch"), handoff.item("touches")
        spacing = handoff.item("spacing")
        if not isinstance(touches, m.Touches) or not duration_is_usable(touches.within):
            return
        window = touches.within
        if isinstance(first, m.FirstTouch) and duration_is_usable(first.within):
            try:
                late = self.first_touch_late(first.within, window)
            except _FAILURES:
                late = False  # a calendar or duration problem, reported by its own check
            if late:
                reporter.error(
                    WINDOW_TOO_SHORT, first.within.span,
                    f"the first touch is due ({_text(first.within)}) after the touch window "
                    f"closes ({_text(window)})",
                    "shorten the first-touch deadline or widen the touch window")
        wanted = touches.count.value
        if not isinstance(spacing, m.Spacing) or not duration_is_usable(spacing.at_least):
            return
        if not isinstance(wanted, int) or wanted < 1:
            return
        try:
            best = self.most(window, spacing.at_least, wanted)
        except _FAILURES:
            return
        if best is not None and best < wanted:
            reporter.error(
                IMPOSSIBLE_CADENCE, touches.span,
                f"{wanted} touches cannot fit in {_text(window)} with touches at least "
                f"{_text(spacing.at_least)} apart: at most {best} fit",
                f"ask for at most {best} touches, widen the window or shorten the spacing",
                notes=("touches are counted while the calendar is open, starting from a lead "
                       "handed off as it opens" if window.business or spacing.at_least.business
                       else "touches are counted at any hour, as the window and the spacing "
                       "are in wall-clock time",),
            )


def check_cadences(policy: m.Policy, reporter: Reporter) -> None:
    cadences = _Cadences(policy)
    for handoff in policy.handoffs:
        cadences.check(handoff, reporter)


def _text(duration: m.Duration) -> str:
    unit = duration.unit if duration.amount == 1 else duration.unit + "s"
    business = "business " if duration.business else ""
    return f"{duration.amount:g} {business}{unit}"
