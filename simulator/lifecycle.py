"""A lead's lifecycle in the model: recycled leads handed off again, reassignments, absent reps.

The scenario says how often these happen (`[recycle]`, `[reassign]`, `[absence]`,
docs/simulate.md); the event loop acts them out (`simulator.engine.Life`); what they do to the
clocks is the evaluator's to say, on the history the run leaves behind: a re-handoff after a
rejection starts a new round of the block's clocks if the block says `restart on re-handoff`
(`evaluation.lifecycle`), a reassignment continues, restarts or splits a clock as its `on
reassign` line says, and a block that says `when owner absent pause` stops its clocks while the
owner is absent, from the absences the run writes beside its events. The only rules computed
here are the policy's own, from the evaluation's code: when a `reassign` action fires
(`evaluation.consequences`) and a clock's due time (`business_time.open_time`).

A replication's engine leads are its arrivals (round 1), then one block of the same size per
later round: engine lead i + k * size is lead i's round k + 1. A round's random draws are made
up front like the rest of the replication's, so the same seed gives the same run.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable

import numpy as np

from sla_dsl.business_time.calendar import calendar_for, deadline
from sla_dsl.business_time.zones import US_PER_DAY, US_PER_SECOND, local_time
from sla_dsl.evaluation.consequences import after_due_instants, breach_blocks
from sla_dsl.evaluation.replay import ClauseResult
from sla_dsl.history.absences import Absences
from sla_dsl.language import model as m
from sla_dsl.simulator.context import Context
from sla_dsl.simulator.draws import seconds
from sla_dsl.simulator.engine import Life
from sla_dsl.simulator.passes import Drawn

ABSENCE_REASON = "simulated day off"


def rounds(context: Context) -> int:
    """Handoffs a lead may have in one run: the first, and `[recycle] rounds` more."""
    recycle = context.scenario.recycle
    return 1 + (recycle.rounds if recycle is not None else 0)


def breach_reassign(policy: m.Policy, handoff: m.Handoff) -> m.Reassign | None:
    """The `reassign` action of an `on breach of first touch` block that covers the handoff."""
    probe = ClauseResult("first touch", handoff.label, None, np.zeros(0, dtype=np.int64),
                         np.zeros(0, dtype=np.int8), np.zeros(0, dtype=np.int64),
                         np.zeros(0, dtype=np.int64))
    for block in breach_blocks(policy, probe):
        for action in block.actions:
            if isinstance(action, m.Reassign):
                return action
    return None


def _fires(context: Context, action: m.Reassign) -> Callable[[float], float]:
    """When the action fires for a first touch due at a moment (seconds): `after D` later, by
    the business-time rule the evaluator's `after_due_instants` uses, one moment at a time (a
    later round's, found in the loop)."""
    origin = context.origin
    zero = local_time(origin, dt.UTC)
    calendar = calendar_for(context.policy, action.after) if action.after is not None else None

    def at(due: float) -> float:
        if calendar is None:
            return due
        moment = zero + dt.timedelta(seconds=due)
        return (deadline(moment, action.after, calendar) - zero).total_seconds()

    return at


def breach_fires(context: Context, block: np.ndarray, due: np.ndarray) -> np.ndarray:
    """Per lead (its block, its first touch's due time in seconds), when the policy's `reassign`
    on a breach of that first touch fires (inf: no such action, or no due time): the
    evaluator's own `after_due_instants`, over every lead at once."""
    fires = np.full(len(block), math.inf)
    reassign = context.scenario.reassign
    if reassign is None or not reassign.on_breach:
        return fires
    origin = context.origin
    for b in context.blocks:
        action = breach_reassign(context.policy, b.handoff)
        mine = np.flatnonzero((block == b.index) & np.isfinite(due))
        if action is None or not len(mine):
            continue
        due_us = origin + due[mine].astype(np.int64) * US_PER_SECOND
        fired = after_due_instants(context.policy, action, due_us, np.ones(len(mine), dtype=bool))
        fires[mine] = (fired - origin) / US_PER_SECOND
    return fires


def _clocks(context: Context) -> Callable[[int, float], tuple[float, float]]:
    """A round's first-touch due time and cadence window end (seconds, inf: no such clock)
    for a handoff at a moment, by the business-time rule `sla evaluate` computes them with
    (the scalar `deadline`, one handoff at a time: a later round's, found in the loop)."""
    zero = local_time(context.origin, dt.UTC)

    def clocks(block: int, handed: float) -> tuple[float, float]:
        b = context.blocks[block]
        moment = zero + dt.timedelta(seconds=handed)
        out = []
        for duration in (b.first_within, b.window):
            if duration is None:
                out.append(math.inf)
                continue
            due = deadline(moment, duration, context.calendars[block])
            out.append((due - zero).total_seconds())
        return out[0], out[1]

    return clocks


def absence_spans(context: Context, rng: np.random.Generator) -> list[list[tuple[float, float]]]:
    """Per rep, the whole local days it is away (`[absence]`: a day off with probability
    `share`, and the days `dates` names), consecutive days merged, in seconds from the origin.
    Nothing is drawn without `[absence]`."""
    absence = context.scenario.absence
    names = context.roster.names
    if absence is None:
        return [[] for _ in names]
    days = math.ceil(context.end / 86_400) + 1
    first = np.datetime64(context.start, "D").astype(np.int64)
    off = rng.random((len(names), days)) < absence.share
    for rep, dates in absence.dates.items():
        index = names.index(rep)
        for day in dates:
            k = int(np.datetime64(day, "D").astype(np.int64) - first)
            if 0 <= k < days:
                off[index, k] = True
    local = (first + np.arange(days + 1)) * US_PER_DAY
    bounds = (context.offsets.resolve(local.astype(np.int64)) - context.origin) / US_PER_SECOND
    spans = []
    for rep in range(len(names)):
        mine: list[tuple[float, float]] = []
        for k in np.flatnonzero(off[rep]).tolist():
            begin, end = float(bounds[k]), float(bounds[k + 1])
            if mine and mine[-1][1] == begin:
                mine[-1] = (mine[-1][0], end)
            else:
                mine.append((begin, end))
        spans.append(mine)
    return spans


def absences_of(context: Context, spans: list[list[tuple[float, float]]]) -> Absences | None:
    """The run's absences as the evaluator reads an absences file (None without `[absence]`)."""
    if context.scenario.absence is None:
        return None
    reps, begins, ends = [], [], []
    for rep, mine in enumerate(spans):
        for begin, end in mine:
            reps.append(context.roster.names[rep])
            begins.append(context.origin + int(begin) * US_PER_SECOND)
            ends.append(context.origin + int(end) * US_PER_SECOND)
    return Absences(np.array(reps, dtype=object), np.array(begins, dtype=np.int64),
                    np.array(ends, dtype=np.int64),
                    np.full(len(reps), ABSENCE_REASON, dtype=object), rows_read=len(reps),
                    source="simulated")


def life_of(context: Context, block: np.ndarray, first_due: np.ndarray,
            rng: np.random.Generator, away: list[list[tuple[float, float]]]) -> Life:
    """One replication's lifecycle draws for its engine leads (every round's: their blocks,
    and their first touches' due times, inf for a round not handed off yet)."""
    size = len(block)
    scenario = context.scenario
    recycle, reassign = scenario.recycle, scenario.reassign
    qualify_u = rng.random(size)
    again = np.full(size, math.inf)
    if recycle is not None:
        chosen = rng.random(size) < recycle.share
        delay = seconds(recycle.after, rng, size)
        again = np.where(chosen, delay, math.inf)
    move_after = np.full(size, math.inf)
    if reassign is not None and reassign.share > 0:
        chosen = rng.random(size) < reassign.share
        move_after = np.where(chosen, seconds(reassign.after, rng, size), math.inf)
    movable = [isinstance(b.dealt, m.RoundRobin) and reassign is not None
               for b in context.blocks]
    breach_at: list[Callable[[float], float] | None] = []
    for b in context.blocks:
        action = breach_reassign(context.policy, b.handoff) \
            if reassign is not None and reassign.on_breach else None
        breach_at.append(_fires(context, action) if action is not None else None)
    return Life(first_round=size // rounds(context), qualify=scenario.outcomes.qualify,
                qualify_u=qualify_u.tolist(), recycle_after=again.tolist(),
                clocks=_clocks(context), movable=movable, move_after=move_after.tolist(),
                breach_fire=breach_fires(context, block, first_due).tolist(),
                breach_at=breach_at, away=away,
                move_absent=reassign is not None and reassign.absent)


def expanded(context: Context, drawn: Drawn) -> Drawn:
    """The arrivals, then a slot per later round of each (not handed off yet: its handoff is
    inf until the loop hands it off again; a round robin deals it then, a fixed owner keeps
    it, a shared queue takes it). The fields stay the arrivals' own: a lead keeps its fields
    from round to round, and only its `created` event carries them."""
    later = rounds(context) - 1
    if not later:
        return drawn
    size = len(drawn.handed)
    owner = np.where(drawn.owner >= 0, drawn.owner, -1)
    return Drawn(np.r_[drawn.handed, np.full(size * later, math.inf)], drawn.fields,
                 np.tile(drawn.block, later + 1), np.r_[drawn.owner, np.tile(owner, later)],
                 np.r_[drawn.assigned, np.full(size * later, math.inf)])
