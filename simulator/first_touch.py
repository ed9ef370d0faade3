"""`sla simulate` for the clocks the model covers so far: each handoff's first touch, worked
by its team around the clock (a policy without a calendar)."""

from __future__ import annotations

from simulator.model import Queue
from simulator.replications import replicate
from sla_dsl import model as m
from sla_dsl.scenario import Scenario

_HOURS = {"minute": 1 / 60, "hour": 1.0, "day": 24.0, "week": 168.0}


class NotSimulated(Exception):
    """A policy or scenario the model does not cover yet, said plainly."""


def first_touch_queues(policy: m.Policy, scenario: Scenario) -> list[tuple[m.Handoff, Queue,
                                                                             float]]:
    if policy.calendars:
        raise NotSimulated("business calendars are not simulated yet: the model has reps "
                           "working around the clock (a policy without a calendar)")
    if scenario.touch is None:
        raise NotSimulated("the scenario has no [work] touch time")
    queues = []
    for handoff in policy.handoffs:
        first = handoff.item("first_touch")
        if handoff.receiver is None or not isinstance(first, m.FirstTouch):
            continue
        if first.within.unit not in _HOURS:
            raise NotSimulated(f"handoff '{handoff.label}': a first touch within "
                               f"{first.within.unit}s is not simulated")
        assign = handoff.item("round_robin")
        team = assign.team.value if isinstance(assign, m.RoundRobin) else handoff.receiver.value
        if team not in scenario.teams:
            raise NotSimulated(f"handoff '{handoff.label}' is worked by team '{team}', which "
                               f"the scenario does not staff: add [team.{team}] reps = N")
        queue = Queue(scenario.arrivals_per_hour, scenario.teams[team],
                      scenario.touch.mean_hours, scenario.touch.distribution)
        queues.append((handoff, queue, float(first.within.amount) * _HOURS[first.within.unit]))
    return queues


def simulate(policy: m.Policy, scenario: Scenario, replications: int, seed: int) -> dict:
    clauses = []
    for handoff, queue, deadline in first_touch_queues(policy, scenario):
        load = queue.arrivals_per_hour * queue.mean_touch_hours
        if load >= queue.reps:
            raise NotSimulated(f"handoff '{handoff.label}' is overloaded: {load:.2f} reps' "
                               f"worth of work arrives for {queue.reps} reps, so the backlog "
                               "grows without end")
        result = replicate(queue, deadline, scenario.horizon_hours, replications, seed)
        clauses.append({"handoff": handoff.label, "clause": "first touch",
                        "attainment": result.attainment.to_dict(),
                        "mean_wait_hours": result.mean_wait_hours.to_dict(),
                        "utilisation": result.utilisation.to_dict(),
                        "leads_waiting": result.mean_waiting.to_dict()})
    return {"policy": policy.title, "replications": replications, "seed": seed,
            "clauses": clauses}
