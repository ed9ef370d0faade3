"""Calendars, and every business duration's need for one."""

from __future__ import annotations

import itertools

from sla_dsl import codes
from sla_dsl import model as m
from sla_dsl.diagnostics import Reporter

BUSINESS_UNITS = frozenset({"minute", "hour", "day"})


def clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _check_calendar(calendar: m.Calendar, reporter: Reporter) -> None:
    by_day: dict[int, list[m.HourRange]] = {}
    opens = False
    for item in calendar.items:
        if isinstance(item, m.ClosedDates):
            for dates in item.dates:
                if dates.last < dates.first:
                    reporter.error(codes.DATES_INVERTED, dates.span,
                                   f"closed dates run backwards ({dates.first} to {dates.last})",
                                   "write the earlier date first")
            continue
        for hours in item.hours:
            if hours.end <= hours.start:
                reporter.error(
                    codes.HOURS_INVERTED, hours.span,
                    f"open hours {clock(hours.start)}-{clock(hours.end)} end before they start",
                    "for a shift past midnight write two ranges, "
                    "one up to 24:00 and one from 00:00 the next day")
                continue
            opens = True
            for day in {d for days in item.days for d in days.weekdays}:
                by_day.setdefault(day, []).append(hours)
    if not opens:
        reporter.error(codes.NEVER_OPEN, calendar.name.span,
                       f"calendar '{calendar.name.value}' is never open",
                       "add a line such as: open mon-fri 09:00-17:00")
    reported: set[m.Span] = set()
    for day, ranges in sorted(by_day.items()):
        ranges.sort(key=lambda r: (r.start, r.span.line, r.span.column))
        for earlier, later in itertools.pairwise(ranges):
            if later.start < earlier.end and later.span not in reported:
                reported.add(later.span)
                reporter.error(
                    codes.HOURS_OVERLAP, later.span,
                    f"open hours {clock(later.start)}-{clock(later.end)} overlap "
                    f"{clock(earlier.start)}-{clock(earlier.end)} on {m.WEEKDAYS[day]}",
                    "a split shift is two ranges that do not overlap, "
                    "such as 09:00-12:00 and 13:00-17:00",
                    notes=(f"the other range is on line {earlier.span.line}",))


def _check_duration(duration: m.Duration, calendars: int, reporter: Reporter) -> None:
    if not duration.business:
        if duration.calendar is not None:
            reporter.error(codes.BAD_UNIT, duration.calendar.span,
                           "'on calendar' applies only to business time",
                           f"write '{duration.amount} business {duration.unit}s "
                           f"on calendar {duration.calendar.value}'")
        return
    if duration.unit not in BUSINESS_UNITS:
        reporter.error(codes.BAD_UNIT, duration.span,
                       f"business time is counted in minutes, hours or days, not {duration.unit}s",
                       "write the time in business days, or drop 'business' for calendar time")
    elif calendars == 0:
        reporter.error(codes.NO_CALENDAR, duration.span,
                       "business time needs a calendar, and this policy has none",
                       "add a calendar block with its open hours, such as "
                       "'open mon-fri 09:00-17:00'")
    elif calendars > 1 and duration.calendar is None:
        reporter.error(codes.AMBIGUOUS_CALENDAR, duration.span,
                       "this policy has several calendars; say which one this time is counted on",
                       "add 'on calendar NAME' after the duration")


def check_calendars(policy: m.Policy, reporter: Reporter) -> None:
    calendars = policy.calendars
    for calendar in calendars:
        _check_calendar(calendar, reporter)
    for _, node in policy.nodes_of(m.Duration):
        _check_duration(node, len(calendars), reporter)
