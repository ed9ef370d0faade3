"""Reps who keep their own hours (`[reps] file`, issue 15 item 6): a rep in Los Angeles starts
at eight Pacific, a part-timer works mornings.

Each rep's calendar is the evaluator's own (`sla_dsl.business_time.rep_hours.OwnerCalendars`:
their zone and weekly hours on the team calendar's closed dates and holidays), so the hours a
rep works are the hours `clocks run on owner hours` counts. The event loop keeps them as it
keeps an absence: a team with such reps is open around the clock, and each of its reps is off
from every closing of their own calendar to its next opening (a touch under way runs to its
end, as at a team's closing). A rep the file does not name works the team calendar's hours.
"""

from __future__ import annotations

import math

from sla_dsl.business_time.calendar import BusinessCalendar
from sla_dsl.business_time.rep_hours import OwnerCalendars
from sla_dsl.history.reps import Reps
from sla_dsl.simulator.clock import OpenHours
from sla_dsl.simulator.errors import NotSimulated
from sla_dsl.simulator.routing import Roster

Spans = list[tuple[float, float]]


def check_named_reps(reps: Reps, roster: Roster) -> None:
    """The file names reps of the roster, as the history will name them: a name the run never
    gives would be hours silently worked by nobody."""
    known = {name.lower() for name in roster.names}
    for name, hours in reps.hours.items():
        if name.lower() not in known:
            raise NotSimulated(f"[reps] file ({hours.source}) names '{name}', who is not a rep "
                               f"of the scenario: the reps are {', '.join(roster.names)}",
                               too_few_reps=True)


def off_spans(hours: OpenHours, end: float) -> Spans:
    """When a rep with these open hours is off, from the origin to the horizon: the gaps
    between their open stretches ([begin, end) seconds; the last one runs on for ever)."""
    spans: Spans = []
    t = 0.0
    for begin, close in zip(hours.opens, hours.closes, strict=True):
        if t >= end:
            break
        if begin > t:
            spans.append((t, begin))
        t = max(t, close)
    if t < end:
        spans.append((t, math.inf))
    return spans


def own_hours(reps: Reps, roster: Roster, team_calendars: list[BusinessCalendar],
              origin: int, end: float) -> list[OpenHours | None]:
    """Per rep, their own open hours over the run when their team has a rep the file names
    (a rep it does not name works the team calendar's hours, as the evaluator counts them);
    None for the reps of a team the file does not touch."""
    check_named_reps(reps, roster)
    calendars = OwnerCalendars(reps.hours)
    out: list[OpenHours | None] = [None] * len(roster.names)
    for team, members in enumerate(roster.reps_of_team):
        if not any(calendars.knows(roster.names[rep]) for rep in members):
            continue
        base = team_calendars[team]
        for rep in members:
            mine = calendars.calendar(base, roster.names[rep]) or base
            out[rep] = OpenHours(mine, origin, end)
    return out
