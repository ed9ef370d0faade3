"""A rep's own calendar: their timezone and working hours, on the policy calendar's dates.

A handoff block that says `clocks run on owner hours` counts its business time on the hours of
the lead's owner instead of the policy calendar's: a rep in Los Angeles starts at nine Pacific,
a part-timer works mornings. The closed dates, holiday sets and `open` exceptions still come
from the calendar the clause is counted on (an agreement's holidays are the agreement's), read
as the rep's own local dates. A rep the reps file does not know, and whose zone the export does
not give, is counted on the policy calendar, as before.

The arithmetic itself is `open_time`'s: leads are grouped by whose calendar counts, and each
group goes through the vectorised functions once, so a million leads cost a handful of calls
per rep, not a Python step per lead.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from sla_dsl.business_time.calendar import BusinessCalendar
from sla_dsl.business_time.open_time import (
    add_open_time_many,
    deadlines,
    open_time_between_many,
)
from sla_dsl.language import model

_DAY = r"(?:mon|tue|wed|thu|fri|sat|sun)"
_DAY_SPAN = rf"{_DAY}(?:\s*-\s*{_DAY})?"
_GROUP = re.compile(rf"^(?P<days>{_DAY_SPAN}(?:\s*,\s*{_DAY_SPAN})*)\s+(?P<hours>\S.*)$",
                    re.IGNORECASE)
_TIME = re.compile(r"^(\d{1,2}):(\d{2})$")
HOURS_EXAMPLE = "mon-fri 09:00-17:00"

Weekly = dict[int, list[tuple[int, int]]]


def parse_hours(text: str) -> Weekly:
    """Working hours written as a calendar's `open` line says them, without the word: `mon-fri
    09:00-17:00`, `mon,wed 08:00-12:00, 13:00-17:00`, several groups joined by `;`
    (`mon-thu 08:00-16:00; fri 08:00-12:00`). Raises ValueError saying what is wrong."""
    weekly: Weekly = {}
    groups = [g.strip() for g in text.split(";")]
    if not any(groups):
        raise ValueError(f"no hours: write them as {HOURS_EXAMPLE!r}")
    for group in groups:
        if not group:
            continue
        found = _GROUP.match(group)
        if not found:
            raise ValueError(f"{group!r}: the days must come first, like 'mon-fri' or "
                             f"'sat,sun', then the hours, as in {HOURS_EXAMPLE!r}")
        days_text, hours_text = found.group("days").lower(), found.group("hours")
        spans = [_span(part.strip(), group) for part in hours_text.split(",")]
        for days in days_text.split(","):
            first, _, last = days.replace(" ", "").partition("-")
            a, b = model.WEEKDAYS.index(first), model.WEEKDAYS.index(last or first)
            for weekday in ((a + k) % 7 for k in range((b - a) % 7 + 1)):  # `fri-mon` wraps
                weekly.setdefault(weekday, []).extend(spans)
    return weekly


def _span(text: str, group: str) -> tuple[int, int]:
    start_text, dash, end_text = text.partition("-")
    minutes = []
    for part in (start_text.strip(), end_text.strip()):
        found = _TIME.match(part)
        if not dash or not found:
            raise ValueError(f"{group!r}: {text!r} is not a span of hours like 09:00-17:00"
                             + _twelve_hour_hint(text))
        hours, mins = int(found.group(1)), int(found.group(2))
        if hours > 24 or mins > 59 or (hours == 24 and mins):
            raise ValueError(f"{group!r}: {part!r} is not a time of day (00:00 to 24:00)")
        minutes.append(hours * 60 + mins)
    if minutes[0] >= minutes[1]:
        raise ValueError(f"{group!r}: {text!r} ends before it starts (a night shift is two "
                         "spans: 22:00-24:00 and 00:00-06:00 the next day)")
    return minutes[0], minutes[1]


_TWELVE_HOUR = re.compile(r"^\s*(\d{1,2})(?::(\d{2}))?\s*([ap])\.?m\.?\s*$", re.IGNORECASE)


def _twelve_hour_hint(text: str) -> str:
    """`9am-5pm` is `09:00-17:00`: say so, rather than only that it is wrong."""
    parts = text.split("-")
    times = [_TWELVE_HOUR.match(part) for part in parts]
    if len(parts) != 2 or not all(times):
        return ""
    clocks = []
    for found in times:
        hours = int(found.group(1)) % 12 + (12 if found.group(3).lower() == "p" else 0)
        clocks.append(f"{hours:02}:{found.group(2) or '00'}")
    return f" (write {'-'.join(clocks)})"


@dataclass(frozen=True)
class RepHours:
    """What is known of one rep's calendar: their IANA zone and their weekly hours, either
    of which may be missing (then the calendar's own is used)."""

    zone: str | None
    weekly: Mapping[int, tuple[tuple[int, int], ...]] | None
    source: str  # where it was read: `reps.csv rows 2, 3`, or `the export's user zone`


class OwnerCalendars:
    """Each rep's calendar on each policy calendar, built once: a calendar caches the open
    hours of every day it is asked about, and its vectorised table."""

    def __init__(self, hours: Mapping[str, RepHours]) -> None:
        self.hours = {name.lower(): rep for name, rep in hours.items()}
        self._built: dict[tuple[int, str], BusinessCalendar] = {}
        self._bases: dict[int, BusinessCalendar] = {}  # keeps each base alive: ids stay unique

    def __bool__(self) -> bool:
        return bool(self.hours)

    def knows(self, rep: str | None) -> RepHours | None:
        return None if rep is None else self.hours.get(str(rep).lower())

    def calendar(self, base: BusinessCalendar, rep: str | None) -> BusinessCalendar | None:
        """`rep`'s calendar on `base`'s dates, or None for a rep with nothing known (counted
        on `base`)."""
        known = self.knows(rep)
        if known is None:
            return None
        key = (id(base), str(rep).lower())
        built = self._built.get(key)
        if built is None:
            self._bases[id(base)] = base
            built = base.with_hours(known.zone or base.timezone, known.weekly)
            self._built[key] = built
        return built


def _by_calendar(owners: np.ndarray, base: BusinessCalendar, calendars: OwnerCalendars,
                 solve: Callable[[np.ndarray, BusinessCalendar], np.ndarray], size: int
                 ) -> np.ndarray:
    """`solve(rows, calendar)` once per calendar that counts: each owner's, else `base`.
    The rows are grouped by owner with array operations (a million leads have a few dozen
    owners), so the only Python loop is over the owners."""
    result = np.empty(size, dtype=np.int64)
    if not size:
        return result
    owners = np.asarray(owners, dtype=object)
    on_base = np.ones(size, dtype=bool)
    named = np.flatnonzero(owners != None)  # noqa: E711 (elementwise on objects)
    if len(named) and calendars:
        names, inverse = np.unique(owners[named].astype(str), return_inverse=True)
        order = np.argsort(inverse, kind="stable")
        bounds = np.searchsorted(inverse[order], np.arange(len(names) + 1))
        for k, name in enumerate(names.tolist()):
            calendar = calendars.calendar(base, name)
            if calendar is None:
                continue
            rows = named[order[bounds[k]:bounds[k + 1]]]
            result[rows] = solve(rows, calendar)
            on_base[rows] = False
    rows = np.flatnonzero(on_base)
    if len(rows):
        result[rows] = solve(rows, base)
    return result


def owner_deadlines(starts: np.ndarray, duration: model.Duration, base: BusinessCalendar,
                    owners: np.ndarray, calendars: OwnerCalendars
                    ) -> tuple[np.ndarray, np.ndarray]:
    """`deadlines` with each start counted on its owner's calendar (`owners`, one name or
    None per start; `base` for an owner nothing is known of): the due times, and the owners
    as given, which is whose hours the clock runs on (`ClauseResult.hours_of`)."""
    starts = np.asarray(starts, dtype=np.int64)
    due = _by_calendar(owners, base, calendars,
                       lambda rows, calendar: deadlines(starts[rows], duration, calendar),
                       len(starts))
    return due, np.asarray(owners, dtype=object)


def hours_calendars(hours_of: np.ndarray, base: BusinessCalendar, calendars: OwnerCalendars,
                    solve: Callable[[np.ndarray, BusinessCalendar], np.ndarray]) -> np.ndarray:
    """`solve(rows, calendar)` per calendar a clause's rows were counted on (`hours_of`, as
    `owner_deadlines` gave it), so a warning at 75% or the time left on a clock is measured on
    the hours its due time was."""
    return _by_calendar(hours_of, base, calendars, solve, len(hours_of))


def owner_open_time_between(a: np.ndarray, b: np.ndarray, hours_of: np.ndarray | None,
                            base: BusinessCalendar, calendars: OwnerCalendars | None
                            ) -> np.ndarray:
    """`open_time_between_many` per row on the calendar its clock was counted on."""
    a, b = np.broadcast_arrays(np.asarray(a, dtype=np.int64), np.asarray(b, dtype=np.int64))
    if hours_of is None or not calendars:
        return open_time_between_many(a, b, base)
    return hours_calendars(hours_of, base, calendars,
                           lambda rows, cal: open_time_between_many(a[rows], b[rows], cal))


def owner_add_open_time(starts: np.ndarray, amounts: np.ndarray, hours_of: np.ndarray | None,
                        base: BusinessCalendar, calendars: OwnerCalendars | None) -> np.ndarray:
    """`add_open_time_many` per row on the calendar its clock was counted on."""
    starts, amounts = np.broadcast_arrays(np.asarray(starts, dtype=np.int64),
                                          np.asarray(amounts, dtype=np.int64))
    if hours_of is None or not calendars:
        return add_open_time_many(starts, amounts, base)
    return hours_calendars(hours_of, base, calendars,
                           lambda rows, cal: add_open_time_many(starts[rows], amounts[rows],
                                                                cal))


_WEEKDAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def hours_text(week: tuple[tuple[tuple[int, int], ...], ...]) -> str:
    """A calendar's week (`BusinessCalendar.week`) as a reps file writes it: `mon-fri
    09:00-17:00`, runs of days with the same hours joined, groups by `;`."""
    def clock(minutes: int) -> str:
        return f"{minutes // 60:02}:{minutes % 60:02}"

    groups: list[tuple[int, int, tuple[tuple[int, int], ...]]] = []
    for day, spans in enumerate(week):
        if not spans:
            continue
        if groups and groups[-1][1] == day - 1 and groups[-1][2] == spans:
            groups[-1] = (groups[-1][0], day, spans)
        else:
            groups.append((day, day, spans))
    if not groups:
        return "never"
    return "; ".join(
        (_WEEKDAY_NAMES[a] if a == b else f"{_WEEKDAY_NAMES[a]}-{_WEEKDAY_NAMES[b]}") + " "
        + ", ".join(f"{clock(s)}-{clock(e)}" for s, e in spans) for a, b, spans in groups)
