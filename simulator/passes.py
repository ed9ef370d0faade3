"""One pass of the reps' work over a set of leads, and what it leaves in the event log.

A replication makes one pass over the leads marketing hands off, and in a multilevel agreement
a second over the leads the first level hands on (`simulator.second_pass`): both are the same
event loop over the same floor, and their attempts and decisions are written the same way.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from sla_dsl.business_time.open_time import deadlines
from sla_dsl.business_time.rep_hours import owner_deadlines
from sla_dsl.business_time.zones import US_PER_SECOND
from sla_dsl.planning.scenario import Outcomes
from sla_dsl.simulator import engine
from sla_dsl.simulator.context import Context
from sla_dsl.simulator.draws import seconds
from sla_dsl.simulator.history_out import EventLog
from sla_dsl.simulator.outcomes import Decay, Funnel, funnel
from sla_dsl.simulator.routing import deal, weights_of


@dataclass
class Drawn:
    """One replication's leads before anyone works them (with a recycling scenario, every
    round's: the arrivals, then their later rounds, `simulator.lifecycle.expanded`)."""

    handed: np.ndarray  # seconds after the origin (inf: a later round not handed off yet)
    fields: dict[str, np.ndarray]  # per arrival
    block: np.ndarray  # index into context.blocks, -1 for none
    owner: np.ndarray  # dealt rep, -1 for the shared queue
    assigned: np.ndarray  # seconds: when the dealt rep got the lead


def deal_leads(context: Context, handed: np.ndarray, block: np.ndarray
               ) -> tuple[np.ndarray, np.ndarray]:
    """Per lead (in handoff order), the rep its block deals it to (-1: the team's shared
    queue) and when (seconds; later than the handoff when a cap makes it wait)."""
    owner = np.full(len(handed), -1, dtype=np.int64)
    assigned = handed.copy()
    handed_us = context.origin + handed.astype(np.int64) * US_PER_SECOND
    for b in context.blocks:
        if b.dealt is None:
            continue
        mine = np.flatnonzero(block == b.index)
        if context.floor.dealers and context.floor.dealers[b.index] is not None:
            owner[mine] = engine.DEAL_IN_LOOP  # `cap N open leads`: dealt as the reps work
            continue
        reps = context.roster.reps_of_team[context.roster.team_index(b.team)]
        owners, at_us = deal(b, handed_us[mine], reps, weights_of(b, reps, context.roster.names),
                             context.offsets)
        owner[mine] = owners
        assigned[mine] = (at_us - context.origin) / US_PER_SECOND
    return owner, assigned


def due_seconds(context: Context, drawn: Drawn, duration_of) -> np.ndarray:
    """Per lead, a clock's due time (seconds) for the leads whose block has that clock."""
    due = np.full(len(drawn.handed), math.inf)
    for b in context.blocks:
        duration = duration_of(b)
        mine = np.flatnonzero((drawn.block == b.index) & np.isfinite(drawn.handed))
        if duration is None or not len(mine):
            continue
        starts = context.origin + drawn.handed[mine].astype(np.int64) * US_PER_SECOND
        calendar = context.calendars[b.index]
        if b.handoff.on_owner_hours and context.owner_calendars:
            # on the hours of the rep dealt at the handoff, as the evaluator counts it (a
            # lead the loop deals later is timed on the block's calendar here)
            dealt = drawn.owner[mine]
            names = np.array([context.roster.names[r] if r >= 0 else None
                              for r in dealt.tolist()], dtype=object)
            at, _ = owner_deadlines(starts, duration, calendar, names,
                                    context.owner_calendars)
        else:
            at = deadlines(starts, duration, calendar)
        due[mine] = (at - context.origin) / US_PER_SECOND
    return due


def work_leads(context: Context, drawn: Drawn, decay: Decay, rng: np.random.Generator,
               life: Callable[[np.ndarray, np.ndarray], engine.Life] | None = None
               ) -> tuple[engine.Trace, np.ndarray, np.ndarray]:
    """The reps' work: the trace, each attempt slot's work time and each lead's window end.
    `life` draws the lifecycle of the leads (every round's), after the other draws, given
    their blocks and their first touches' due times."""
    size, width = len(drawn.handed), context.width
    window_end = due_seconds(context, drawn, lambda b: b.window)
    first_touch_due = due_seconds(context, drawn, lambda b: b.first_within)
    first_due = np.where(np.isinf(first_touch_due), window_end, first_touch_due)
    attempts = np.array([b.attempts for b in context.blocks] + [1])[drawn.block]
    with np.errstate(invalid="ignore"):  # a later round's inf handoff: set in the loop
        gap_wall = np.where(np.isinf(window_end), math.inf,
                            (window_end - drawn.handed) / attempts)
    scenario = context.scenario
    work = seconds(scenario.touch, rng, size * width).reshape(size, width)
    if width > 1:
        work[:, 1:] = seconds(scenario.follow_up_time, rng, size * (width - 1)).reshape(
            size, width - 1)
    chance = rng.random(size * width)
    # drawn last, and only when asked for: scenarios without it keep their streams
    react = seconds(scenario.response, rng, size * width) if scenario.response else None
    leads = engine.Leads(
        handed=drawn.handed.tolist(), ready=drawn.assigned.tolist(), block=drawn.block.tolist(),
        owner=drawn.owner.tolist(), first_due=first_due.tolist(),
        window_end=window_end.tolist(), gap_wall=gap_wall.tolist(),
        connect=np.array([scenario.outcomes.connect_at(b.level) for b in context.blocks]
                         + [0.0])[drawn.block].tolist())
    lifecycle = life(drawn.block, first_touch_due) if life is not None else None
    trace = engine.run(context.floor, leads, width, work.ravel(), chance, decay, react,
                       lifecycle)
    in_loop = drawn.owner == engine.DEAL_IN_LOOP
    if lifecycle is not None:  # later rounds: handed off, and dealt, in the loop
        later = np.arange(size) >= lifecycle.first_round
        drawn.handed[later] = trace.handed[later]
        in_loop |= later
        window_end = trace.window_end
    if in_loop.any():  # the loop's deals are the leads' assignments (-1: never dealt)
        drawn.owner[in_loop] = trace.owner[in_loop]
        drawn.assigned[in_loop] = np.where(np.isnan(trace.assigned[in_loop]),
                                           drawn.handed[in_loop], trace.assigned[in_loop])
    return trace, work.ravel(), window_end


def attempt_events(log: EventLog, context: Context, ids: np.ndarray, trace: engine.Trace
                   ) -> None:
    """Every attempt as it started, `touch` or `connected`, under the leads' ids (`ids`: a
    pass's own lead number -> the replication's lead)."""
    width, origin = context.width, context.origin
    touched = np.flatnonzero(~np.isnan(trace.started))
    lead_of = touched // width
    connecting = trace.connected[lead_of] == touched % width
    at_us = origin + trace.started[touched].astype(np.int64) * US_PER_SECOND
    lead_of = ids[lead_of]
    log.add(lead_of[~connecting], at_us[~connecting], "touch", trace.rep[touched[~connecting]])
    log.add(lead_of[connecting], at_us[connecting], "connected", trace.rep[touched[connecting]])


@dataclass
class Decided:
    """Per lead of a pass, what its connect came to and when."""

    outcome: Funnel
    at: np.ndarray  # seconds: the connecting touch's end (NaN: never connected)
    rep: np.ndarray  # the rep of the connecting touch (meaningless where not connected)


def decide(context: Context, trace: engine.Trace, work: np.ndarray, outcomes: Outcomes,
           rng: np.random.Generator, sql: np.ndarray | None = None) -> Decided:
    """The funnel's dice for a pass's leads, and the moment each connected lead is decided:
    when the connecting touch ends. `sql`: which connects qualified, when the loop decided
    it already (a rejected lead may come back)."""
    size = len(trace.connected)
    connected = trace.connected >= 0
    outcome = funnel(connected, outcomes, context.deal_size, rng, sql)
    slot = np.arange(size) * context.width + np.maximum(trace.connected, 0)
    return Decided(outcome, np.where(connected, trace.started[slot] + work[slot], np.nan),
                   trace.rep[slot])


def decision_events(log: EventLog, context: Context, ids: np.ndarray, drawn: Drawn,
                    trace: engine.Trace, work: np.ndarray, window_end: np.ndarray,
                    decided: Decided, accepted: np.ndarray, reason: str, closes: np.ndarray
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Accepted (`accepted`: an SQL at the first level, an opportunity at the second) or
    rejected for `reason` when a connecting touch ends, rejected when a cadence runs out
    unconnected, won a sales cycle after the connect where `closes` says the sale is this
    pass's; none after the horizon. Returns the wins' moments and amounts."""
    width, origin, end = context.width, context.origin, context.end
    leads = np.arange(len(drawn.handed))
    connected = trace.connected >= 0
    last_slot = leads * width + np.maximum(trace.last, 0)
    attempts = np.array([b.attempts for b in context.blocks] + [1])[drawn.block]
    # the cadence is over: every attempt made, or its window closed before the horizon did
    gave_up = (~connected & (trace.last >= 0)
               & ((trace.last + 1 == attempts) | (window_end < end)))
    gave_up_at = trace.started[last_slot] + work[last_slot]
    for mask, moment, event, why, rep in (
            (accepted, decided.at, "accepted", None, decided.rep),
            (connected & ~accepted, decided.at, "rejected", reason, decided.rep),
            (gave_up, gave_up_at, "rejected", "not reachable", trace.rep[last_slot])):
        chosen = np.flatnonzero(mask & (moment < end))
        extra = {"reason": np.full(len(chosen), why, dtype=object)} if why else {}
        log.add(ids[chosen], origin + moment[chosen].astype(np.int64) * US_PER_SECOND, event,
                rep[chosen], **extra)
    outcome = decided.outcome
    won_at = decided.at + outcome.won_after
    won = np.flatnonzero(outcome.won & closes & (won_at < end))
    log.add(ids[won], origin + won_at[won].astype(np.int64) * US_PER_SECOND, "won",
            decided.rep[won],
            amount=np.array([None if np.isnan(d) else str(int(d)) for d in outcome.deal[won]],
                            dtype=object))
    return won_at[won], outcome.deal[won]


