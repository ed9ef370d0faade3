"""Cadences: can the touches a handoff asks for fit in its window at all?

Touches are made while the touch calendar is open, at least `spacing` apart. The check plays
the best case (a lead handed off as the calendar opens, on each day of two sample weeks) and
reports a cadence that no start could meet: more touches than the window and spacing allow.
"""

from __future__ import annotations

import datetime as dt

from sla_dsl import codes
from sla_dsl import model as m
from sla_dsl.business_time import BusinessCalendar, NeverOpen, deadline
from sla_dsl.checks.clauses import duration_is_usable
from sla_dsl.diagnostics import Reporter

SAMPLE_DAYS = 14
MOST_TOUCHES_PLAYED = 10_000


def touch_calendar(policy: m.Policy, window: m.Duration) -> BusinessCalendar:
    """The calendar a window is counted on, else the policy's only calendar, else always open."""
    timezone = policy.timezone or "UTC"
    calendars = {c.name.value: c for c in policy.calendars}
    chosen = calendars.get(window.calendar.value) if window.calendar else None
    if chosen is None and policy.calendars:
        chosen = policy.calendars[0]
    if chosen is None:
        return BusinessCalendar.always_open(timezone)
    return BusinessCalendar.from_model(chosen, timezone)


def _sample_starts(calendar: BusinessCalendar, first_day: dt.date) -> list[dt.datetime]:
    starts = []
    for offset in range(SAMPLE_DAYS):
        intervals = calendar.open_intervals_on(first_day + dt.timedelta(days=offset))
        starts.extend(start for start, _ in intervals)
    return starts


def most_touches(window: m.Duration, spacing: m.Duration, calendar: BusinessCalendar,
                 start: dt.datetime, wanted: int) -> int:
    """Touches that fit from `start`: one at each opening moment, `spacing` apart."""
    end = deadline(start, window, calendar)
    moment, made = calendar.next_open(start), 0
    while moment <= end and made < min(wanted, MOST_TOUCHES_PLAYED):
        made += 1
        moment = calendar.next_open(deadline(moment, spacing, calendar))
    return made


def _check_first_touch_fits(policy: m.Policy, handoff: m.Handoff, first_day: dt.date,
                            reporter: Reporter) -> None:
    first, touches = handoff.item("first_touch"), handoff.item("touches")
    if not isinstance(first, m.FirstTouch) or not isinstance(touches, m.Touches):
        return
    if not (duration_is_usable(first.within) and duration_is_usable(touches.within)):
        return
    try:
        calendar = touch_calendar(policy, touches.within)
        starts = _sample_starts(calendar, first_day)
        late = all(deadline(s, first.within, calendar) > deadline(s, touches.within, calendar)
                   for s in starts)
    except (NeverOpen, ValueError, OverflowError):
        return
    if starts and late:
        reporter.error(
            codes.WINDOW_TOO_SHORT, first.within.span,
            f"the first touch is due ({_text(first.within)}) after the touch window closes "
            f"({_text(touches.within)})",
            "shorten the first-touch deadline or widen the touch window")


def check_cadences(policy: m.Policy, reporter: Reporter) -> None:
    effective = policy.effective
    first_day = effective.start.value if effective else dt.date(2026, 1, 5)
    for handoff in policy.handoffs:
        _check_first_touch_fits(policy, handoff, first_day, reporter)
        touches = handoff.item("touches")
        spacing = handoff.item("spacing")
        if not isinstance(touches, m.Touches) or not isinstance(spacing, m.Spacing):
            continue
        wanted = touches.count.value
        if not (duration_is_usable(touches.within) and duration_is_usable(spacing.at_least)):
            continue
        if not isinstance(wanted, int) or wanted < 1:
            continue
        try:
            calendar = touch_calendar(policy, touches.within)
            starts = _sample_starts(calendar, first_day)
            best = max((most_touches(touches.within, spacing.at_least, calendar, s, wanted)
                        for s in starts), default=0)
        except (NeverOpen, ValueError, OverflowError):
            continue  # a calendar or duration problem, reported by its own check
        if starts and best < wanted:
            reporter.error(
                codes.IMPOSSIBLE_CADENCE, touches.span,
                f"{wanted} touches cannot fit in {_text(touches.within)} with touches at least "
                f"{_text(spacing.at_least)} apart: at most {best} fit",
                f"ask for at most {best} touches, widen the window or shorten the spacing",
                notes=("touches are counted while the calendar is open, starting from a lead "
                       "handed off as it opens",),
            )


def _text(duration: m.Duration) -> str:
    unit = duration.unit if duration.amount == 1 else duration.unit + "s"
    business = "business " if duration.business else ""
    return f"{duration.amount:g} {business}{unit}"
