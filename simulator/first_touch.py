"""`sla simulate` for the clocks the model covers so far: each handoff's first touch, worked
by its team while the policy's calendar is open (around the clock without one)."""

from __future__ import annotations

import datetime as dt

from simulator.model import Queue
from simulator.replications import Deadline, replicate
from sla_dsl import model as m
from sla_dsl.business_time import open_share
from sla_dsl.scenario import Scenario

_HOURS = {"minute": 1 / 60, "hour": 1.0, "day": 24.0, "week": 168.0}


class NotSimulated(Exception):
    """A policy or scenario the model does not cover yet, said plainly."""


def first_touch_queues(policy: m.Policy, scenario: Scenario
                       ) -> list[tuple[m.Handoff, Queue, Deadline]]:
    if scenario.touch is None:
        raise NotSimulated("the scenario has no [work] touch time")
    effective = policy.effective
    start = effective.start.value if effective else dt.date(2026, 1, 5)
    timezone = policy.timezone or "UTC"
    queues = []
    for handoff in policy.handoffs:
        first = handoff.item("first_touch")
        if handoff.receiver is None or not isinstance(first, m.FirstTouch):
            continue
        team = handoff.team
        if team not in scenario.teams:
            raise NotSimulated(f"handoff '{handoff.label}' is worked by team '{team}', which "
                               f"the scenario does not staff: add [team.{team}] reps = N")
        queue = Queue(scenario.arrivals_per_hour, scenario.teams[team],
                      scenario.touch.mean_hours, scenario.touch.distribution)
        within = first.within
        if not policy.calendars and within.unit in _HOURS:
            deadline = Deadline(hours=float(within.amount) * _HOURS[within.unit])
        else:
            named = within.calendar.value if within.calendar else None
            calendar = next((c for c in policy.calendars
                             if named is None or c.name.value == named), None)
            deadline = Deadline(duration=within, calendar=calendar, timezone=timezone,
                                start=start)
        queues.append((handoff, queue, deadline))
    return queues


def simulate(policy: m.Policy, scenario: Scenario, replications: int, seed: int) -> dict:
    clauses = []
    for handoff, queue, deadline in first_touch_queues(policy, scenario):
        share = open_share(deadline.business_calendar(), deadline.start)
        load = queue.arrivals_per_hour * queue.mean_touch_hours
        if load >= queue.reps * share:
            raise NotSimulated(
                f"handoff '{handoff.label}' is overloaded: {load:.2f} reps' worth of work "
                f"arrives each hour, and {queue.reps} reps working {100 * share:.0f}% of the "
                f"time can do {queue.reps * share:.2f}; the backlog grows without end")
        result = replicate(queue, deadline, scenario.horizon_hours, replications, seed)
        clauses.append({"handoff": handoff.label, "clause": "first touch",
                        "attainment": result.attainment.to_dict(),
                        "mean_wait_hours": result.mean_wait_hours.to_dict(),
                        "utilisation": result.utilisation.to_dict(),
                        "leads_waiting": result.mean_waiting.to_dict()})
    return {"policy": policy.title, "replications": replications, "seed": seed,
            "clauses": clauses}
