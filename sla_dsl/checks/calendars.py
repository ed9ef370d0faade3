"""Calendars, and every business duration's need for one."""

from __future__ import annotations

import datetime as dt
import itertools

from sla_dsl.business_time.calendar import HORIZON_DAYS, calendar_for, closed_dates_last
from sla_dsl.business_time.holiday_sets import region_problem
from sla_dsl.checks.clauses import BAD_UNIT
from sla_dsl.diagnostics.codes import Code
from sla_dsl.diagnostics.diagnostic import Reporter
from sla_dsl.language import model as m

# The codes this module reports: one owner per code (sla_dsl/diagnostics/codes.py).
NEVER_OPEN = Code(
    "E301", "calendar-never-open", "a calendar with no open hours",
    owner=__name__)
HOURS_OVERLAP = Code(
    "E302", "overlapping-hours", "open hours that overlap on a day",
    owner=__name__)
HOURS_INVERTED = Code(
    "E303", "inverted-hours", "open hours that end before they start",
    owner=__name__)
DATES_INVERTED = Code(
    "E305", "inverted-dates", "a closed date range that ends before it starts",
    owner=__name__)
NO_CALENDAR = Code(
    "E306", "calendar-required", "business time with no calendar to count on",
    owner=__name__)
AMBIGUOUS_CALENDAR = Code(
    "E307", "calendar-ambiguous", "business time with several calendars and none named",
    owner=__name__)
UNKNOWN_HOLIDAYS = Code(
    "E309", "unknown-holiday-set", "a holiday set for a country or subdivision that has none",
    owner=__name__)
DATES_RUN_OUT = Code(
    "W512", "closed-dates-run-out",
    "closed dates that stop in an earlier year than the agreement ends",
    owner=__name__, doc="docs/rules/W512.md")
CODES = (NEVER_OPEN, HOURS_OVERLAP, HOURS_INVERTED, DATES_INVERTED, NO_CALENDAR, AMBIGUOUS_CALENDAR,
         UNKNOWN_HOLIDAYS, DATES_RUN_OUT)


BUSINESS_UNITS = frozenset({"minute", "hour", "day"})


def clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _check_calendar(calendar: m.Calendar, reporter: Reporter) -> None:
    by_day: dict[int, list[m.HourRange]] = {}
    opens = False
    for item in calendar.items:
        if isinstance(item, m.ClosedDates | m.OpenDates):
            which = "closed" if isinstance(item, m.ClosedDates) else "open"
            for dates in item.dates:
                if dates.last < dates.first:
                    reporter.error(DATES_INVERTED, dates.span,
                                   f"{which} dates run backwards ({dates.first} to {dates.last})",
                                   "write the earlier date first")
            continue
        if isinstance(item, m.ClosedHolidays):
            for region in item.regions:
                problem = region_problem(region.value)
                if problem:
                    reporter.error(UNKNOWN_HOLIDAYS, region.span,
                                   f"no holiday set '{region.value}'", problem)
            continue
        for hours in item.hours:
            if hours.end <= hours.start:
                reporter.error(
                    HOURS_INVERTED, hours.span,
                    f"open hours {clock(hours.start)}-{clock(hours.end)} end before they start",
                    "for a shift past midnight write two ranges, "
                    "one up to 24:00 and one from 00:00 the next day")
                continue
            opens = True
            for day in {d for days in item.days for d in days.weekdays}:
                by_day.setdefault(day, []).append(hours)
    if not opens:
        reporter.error(NEVER_OPEN, calendar.name.span,
                       f"calendar '{calendar.name.value}' is never open",
                       "add a line such as: open mon-fri 09:00-17:00")
    else:
        _check_closed_runs(calendar, set(by_day), reporter)
    reported: set[m.Span] = set()
    for day, ranges in sorted(by_day.items()):
        ranges.sort(key=lambda r: (r.start, r.span.line, r.span.column))
        for earlier, later in itertools.pairwise(ranges):
            if later.start < earlier.end and later.span not in reported:
                reported.add(later.span)
                reporter.error(
                    HOURS_OVERLAP, later.span,
                    f"open hours {clock(later.start)}-{clock(later.end)} overlap "
                    f"{clock(earlier.start)}-{clock(earlier.end)} on {m.WEEKDAYS[day]}",
                    "a split shift is two ranges that do not overlap, "
                    "such as 09:00-12:00 and 13:00-17:00",
                    notes=(f"the other range is on line {earlier.span.line}",))


# The longest run of closed dates: with the week's closed days on either side it stays within
# the days a clock waits for an opening (HORIZON_DAYS), past which every clock on
# the calendar would fail rather than wait.
LONGEST_CLOSED_DAYS = HORIZON_DAYS - 14


def _bridged(end: dt.date, start: dt.date, open_days: set[int]) -> bool:
    """Whether every day between two closed runs is a weekday with no open hours anyway."""
    gap = (start - end).days - 1
    return gap < 7 and all((end + dt.timedelta(days=i)).weekday() not in open_days
                           for i in range(1, gap + 1))


def _check_closed_runs(calendar: m.Calendar, open_days: set[int], reporter: Reporter) -> None:
    """Closed dates that join into one run longer than LONGEST_CLOSED_DAYS (across the days of
    the week that are never open): in date order, so that thousands of ranges cost a sort, not a
    day-by-day walk."""
    spans = sorted((d for item in calendar.items if isinstance(item, m.ClosedDates)
                    for d in item.dates if d.first <= d.last), key=lambda d: (d.first, d.last))
    run_start = run_end = None
    for dates in spans:
        first, last = dates.first, dates.last
        if run_end is None or (first > run_end + dt.timedelta(days=1)
                               and not _bridged(run_end, first, open_days)):
            run_start, run_end = first, last
        else:
            run_end = max(run_end, last)
        if (run_end - run_start).days + 1 > LONGEST_CLOSED_DAYS:
            reporter.error(NEVER_OPEN, dates.span,
                           f"calendar '{calendar.name.value}' is closed for more than "
                           f"{LONGEST_CLOSED_DAYS:,} days in a row from {run_start}",
                           "a clock would wait for ever for an opening: shorten the closed "
                           "dates (docs/limits.md)")
            return


def _check_duration(duration: m.Duration, calendars: int, reporter: Reporter) -> None:
    if not duration.business:
        if duration.calendar is not None:
            reporter.error(BAD_UNIT, duration.calendar.span,
                           "'on calendar' applies only to business time",
                           f"write '{duration.amount} business {duration.unit}s "
                           f"on calendar {duration.calendar.value}'")
        return
    if duration.unit not in BUSINESS_UNITS:
        reporter.error(BAD_UNIT, duration.span,
                       f"business time is counted in minutes, hours or days, not {duration.unit}s",
                       "write the time in business days, or drop 'business' for calendar time")
    elif calendars == 0:
        reporter.error(NO_CALENDAR, duration.span,
                       "business time needs a calendar, and this policy has none",
                       "add a calendar block with its open hours, such as "
                       "'open mon-fri 09:00-17:00'")
    elif calendars > 1 and duration.calendar is None:
        reporter.error(AMBIGUOUS_CALENDAR, duration.span,
                       "this policy has several calendars; say which one this time is counted on",
                       "add 'on calendar NAME' after the duration")


def _check_dates_last(calendar: m.Calendar, until: dt.date, reporter: Reporter) -> None:
    """Holidays written out year by year stop in some year; an agreement that runs into a
    later one has its clocks run on those holidays (Thanksgiving, New Year's Day) unnoticed."""
    last = closed_dates_last(calendar)
    if last is None:
        return
    end = max(last.first, last.last)
    if end.year < until.year:
        reporter.warning(
            DATES_RUN_OUT, last.span,
            f"calendar '{calendar.name.value}' has no closed dates after {end}, but the "
            f"agreement runs until {until}",
            "list the later years' holidays too, or name a holiday set that knows every "
            "year, such as: closed holidays \"US\"")


def _check_statistic_days(policy: m.Policy, compare: m.MetricCompare,
                          reporter: Reporter) -> None:
    """`median first touch > 1 business day` is compared in open time, a business day as one
    open day of the calendar (`BusinessCalendar.open_minutes_per_day`): a calendar whose open
    days keep different hours has no such day, and the comparison would depend on the weekday
    each lead came in. A missing or ambiguous calendar is reported by `_check_duration`."""
    value = compare.value
    if not (isinstance(compare.metric, m.StatisticMetric) and isinstance(value, m.Duration)
            and compare.metric.clause.name != "touches"  # a count: E110 says so
            and value.business and value.unit == "day"):
        return
    names = {c.name.value for c in policy.calendars}
    if not names or (value.calendar is None and len(names) > 1) \
            or (value.calendar is not None and value.calendar.value not in names):
        return
    try:
        calendar = calendar_for(policy, value)
    except (ValueError, KeyError):  # a bad timezone or hours, reported by their own checks
        return
    if calendar.open_minutes_per_day() is not None or not calendar.open_weekdays():
        return  # alike days, or a calendar never open (E301)
    name = value.calendar.value if value.calendar else policy.calendars[0].name.value
    longest = max(sum(end - start for start, end in hours) for hours in calendar.week)
    reporter.error(
        BAD_UNIT, value.span,
        f"calendar '{name}' is not open the same hours every open day, so "
        f"{_days(value.amount)} is no fixed amount of open time to compare a "
        f"{compare.metric.statistic} with",
        f"write it in business hours, such as '{value.amount * longest / 60:g} business "
        f"hours' ({value.amount:g} of its {longest / 60:g}-hour days), or in elapsed time, "
        f"such as '{_days(value.amount).replace('business ', '')}'")


def _days(amount: float) -> str:
    return f"{amount:g} business day{'' if amount == 1 else 's'}"


def check_calendars(policy: m.Policy, reporter: Reporter) -> None:
    calendars = policy.calendars
    for calendar in calendars:
        _check_calendar(calendar, reporter)
    effective = policy.effective
    if effective is not None and effective.until is not None:
        for calendar in calendars:
            _check_dates_last(calendar, effective.until.value, reporter)
    for _, node in policy.nodes_of(m.Duration):
        _check_duration(node, len(calendars), reporter)
    for _, node in policy.nodes_of(m.MetricCompare):
        _check_statistic_days(policy, node, reporter)
