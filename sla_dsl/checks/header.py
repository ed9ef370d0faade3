"""The header: one of each header statement, a real timezone, dates in order."""

from __future__ import annotations

import difflib
import zoneinfo
from functools import cache

from sla_dsl.business_time.zones import MACHINE_ZONE, abbreviation_hint
from sla_dsl.diagnostics.codes import Code
from sla_dsl.diagnostics.diagnostic import Reporter
from sla_dsl.language import model as m

# The codes this module reports: one owner per code (sla_dsl/diagnostics/codes.py).
DUPLICATE_STATEMENT = Code(
    "E205", "duplicate-statement", "a statement that may appear once",
    owner=__name__)
UNKNOWN_TIMEZONE = Code(
    "E300", "unknown-timezone", "a timezone name that does not exist",
    owner=__name__)
EFFECTIVE_ORDER = Code(
    "E304", "effective-after-until", "an agreement that ends before it starts",
    owner=__name__)
MISSING_TIMEZONE = Code(
    "E308", "timezone-required", "a calendar with no timezone to read it in",
    owner=__name__)
CODES = (DUPLICATE_STATEMENT, UNKNOWN_TIMEZONE, EFFECTIVE_ORDER, MISSING_TIMEZONE)


_ONCE = {
    m.Title: "sla", m.Version: "version", m.Timezone: "timezone", m.Effective: "effective",
    m.Attribution: "attribution",
}


@cache
def _zone_names() -> dict[str, str]:
    return {name.lower(): name for name in zoneinfo.available_timezones()
            if name.lower() != MACHINE_ZONE}


def timezone_problem(name: str) -> str | None:
    """None when `name` is an IANA zone (from the tzdata the package depends on); else the
    likely fix. Names are looked up, never opened: `ZoneInfo("America")` opens a directory."""
    names = _zone_names()
    if names.get(name.lower()) == name:
        return None
    if name.lower() in names:
        return f"did you mean '{names[name.lower()]}'?"
    abbreviation = abbreviation_hint(name)
    if abbreviation:
        return abbreviation
    close = difflib.get_close_matches(name.lower(), list(names), n=1, cutoff=0.8)
    if close:
        return f"did you mean '{names[close[0]]}'?"
    return "use an IANA timezone name such as 'Europe/Amsterdam' or 'America/New_York'"


def check_header(policy: m.Policy, reporter: Reporter) -> None:
    seen: dict[type, m.Node] = {}
    for statement in policy.statements:
        keyword = _ONCE.get(type(statement))
        if keyword is None:
            continue
        if type(statement) in seen:
            reporter.error(DUPLICATE_STATEMENT, statement.span,
                           f"'{keyword}' is given twice", "keep one of them",
                           notes=(f"first given on line {seen[type(statement)].span.line}",))
        else:
            seen[type(statement)] = statement

    zones = [s.zone for s in policy.statements if isinstance(s, m.Timezone)]
    zones += [c.timezone for c in policy.calendars if c.timezone is not None]
    for zone in zones:
        problem = timezone_problem(zone.value)
        if problem:
            reporter.error(UNKNOWN_TIMEZONE, zone.span,
                           f"unknown timezone '{zone.value}'", problem)

    effective = policy.effective
    if effective and effective.until and effective.until.value < effective.start.value:
        reporter.error(EFFECTIVE_ORDER, effective.until.span,
                       f"the agreement ends ({effective.until.value}) before it starts "
                       f"({effective.start.value})", "swap the two dates")

    for calendar in policy.calendars:
        if policy.timezone is None and calendar.timezone is None:
            reporter.error(MISSING_TIMEZONE, calendar.name.span,
                           f"calendar '{calendar.name.value}' needs a timezone to know when "
                           "it is open",
                           "add a line such as: timezone \"Europe/Amsterdam\"")
