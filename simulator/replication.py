"""One replication, end to end: arrivals, routing, the reps' work, outcomes, and the clauses
counted by the evaluator on the history the run leaves behind."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from simulator import engine
from simulator.arrivals import arrival_seconds, lead_fields
from simulator.clock import US
from simulator.context import Context
from simulator.draws import seconds
from simulator.history_out import EventLog, write_history
from simulator.outcomes import Decay, funnel
from simulator.routing import classify, deal, weights_of
from sla_dsl import model as m
from sla_dsl.business_time import deadlines
from sla_dsl.consequences import all_actions, strike_counts
from sla_dsl.evaluation import (
    BREACHED,
    MET,
    NONE,
    PENDING,
    ClauseResult,
    Evaluation,
    evaluate,
)
from sla_dsl.history import NO_ACTOR

_WEEK = 7 * 86_400.0


@dataclass
class Drawn:
    """One replication's leads before anyone works them."""

    handed: np.ndarray  # seconds after the origin
    fields: dict[str, np.ndarray]
    block: np.ndarray  # index into context.blocks, -1 for none
    owner: np.ndarray  # dealt rep, -1 for the shared queue
    assigned: np.ndarray  # seconds: when the dealt rep got the lead


def draw_leads(context: Context, rng: np.random.Generator) -> Drawn:
    handed = arrival_seconds(context.scenario, rng, context.origin, context.offsets)
    size = len(handed)
    fields = lead_fields(context.scenario, rng, size)
    labels = classify(context.policy, context.scenario, fields, size, rng)
    if context.witnesses is not None:  # a mix: each lead carries fields routed to its block
        for name in next(iter(context.witnesses.values())):
            fields[name] = np.array([context.witnesses[label][name] for label in labels.tolist()],
                                    dtype=object)
    block = context.block_of(labels)
    owner = np.full(size, -1, dtype=np.int64)
    assigned = handed.copy()
    handed_us = context.origin + handed.astype(np.int64) * US
    for b in context.blocks:
        if b.dealt is None:
            continue
        mine = np.flatnonzero(block == b.index)
        reps = context.roster.reps_of_team[context.roster.team_index(b.team)]
        owners, at_us = deal(b, handed_us[mine], reps, weights_of(b, reps, context.roster.names),
                             context.offsets)
        owner[mine] = owners
        assigned[mine] = (at_us - context.origin) / US
    return Drawn(handed, fields, block, owner, assigned)


def _due_seconds(context: Context, drawn: Drawn, duration_of) -> np.ndarray:
    """Per lead, a clock's due time (seconds) for the leads whose block has that clock."""
    due = np.full(len(drawn.handed), math.inf)
    for b in context.blocks:
        duration = duration_of(b)
        mine = np.flatnonzero(drawn.block == b.index)
        if duration is None or not len(mine):
            continue
        starts = context.origin + drawn.handed[mine].astype(np.int64) * US
        due[mine] = (deadlines(starts, duration, context.calendars[b.index])
                     - context.origin) / US
    return due


def work_leads(context: Context, drawn: Drawn, decay: Decay, rng: np.random.Generator
               ) -> tuple[engine.Trace, np.ndarray, np.ndarray]:
    """The reps' work: the trace, each attempt slot's work time and each lead's window end."""
    size, width = len(drawn.handed), context.width
    window_end = _due_seconds(context, drawn, lambda b: b.window)
    first_due = _due_seconds(context, drawn, lambda b: b.first_within)
    first_due = np.where(np.isinf(first_due), window_end, first_due)
    attempts = np.array([b.attempts for b in context.blocks] + [1])[drawn.block]
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
        connect=np.where(drawn.block >= 0, scenario.outcomes.connect, 0.0).tolist())
    trace = engine.run(context.floor, leads, width, work.ravel(), chance, decay, react)
    return trace, work.ravel(), window_end


def event_log(context: Context, drawn: Drawn, trace: engine.Trace, work: np.ndarray,
              window_end: np.ndarray, rng: np.random.Generator
              ) -> tuple[EventLog, dict[str, np.ndarray]]:
    """The replication's events, and the funnel's moments (seconds) for the monthly counts."""
    log = EventLog()
    _work_events(log, context, drawn, trace)
    moments = _decision_events(log, context, drawn, trace, work, window_end, rng)
    return log, moments


def _work_events(log: EventLog, context: Context, drawn: Drawn, trace: engine.Trace) -> None:
    """Created (with the fields), handed off, assigned, and every attempt as it started."""
    width, origin = context.width, context.origin
    leads = np.arange(len(drawn.handed))
    handed_us = origin + drawn.handed.astype(np.int64) * US
    log.add(leads, handed_us, "created", NO_ACTOR, **drawn.fields)
    log.add(leads, handed_us, "handoff", np.array([*context.senders, NO_ACTOR])[drawn.block])
    dealt = drawn.owner >= 0
    log.add(leads[dealt], origin + drawn.assigned[dealt].astype(np.int64) * US, "assigned",
            drawn.owner[dealt])
    touched = np.flatnonzero(~np.isnan(trace.started))
    lead_of = touched // width
    connecting = trace.connected[lead_of] == touched % width
    at_us = origin + trace.started[touched].astype(np.int64) * US
    log.add(lead_of[~connecting], at_us[~connecting], "touch", trace.rep[touched[~connecting]])
    log.add(lead_of[connecting], at_us[connecting], "connected", trace.rep[touched[connecting]])


def _decision_events(log: EventLog, context: Context, drawn: Drawn, trace: engine.Trace,
                     work: np.ndarray, window_end: np.ndarray, rng: np.random.Generator
                     ) -> dict[str, np.ndarray]:
    """Accepted (an SQL) or rejected when a connecting touch ends, rejected when a cadence
    runs out unconnected, won a sales cycle after the connect; none after the horizon."""
    width, origin, end = context.width, context.origin, context.end
    leads = np.arange(len(drawn.handed))
    connected = trace.connected >= 0
    outcome = funnel(connected, context.scenario.outcomes, context.deal_size, rng)
    slot = leads * width + np.maximum(trace.connected, 0)
    decided = np.where(connected, trace.started[slot] + work[slot], np.nan)
    last_slot = leads * width + np.maximum(trace.last, 0)
    attempts = np.array([b.attempts for b in context.blocks] + [1])[drawn.block]
    # the cadence is over: every attempt made, or its window closed before the horizon did
    gave_up = (~connected & (trace.last >= 0)
               & ((trace.last + 1 == attempts) | (window_end < end)))
    gave_up_at = trace.started[last_slot] + work[last_slot]
    for mask, moment, event, reason, rep in (
            (outcome.sql, decided, "accepted", None, trace.rep[slot]),
            (connected & ~outcome.sql, decided, "rejected", "not qualified", trace.rep[slot]),
            (gave_up, gave_up_at, "rejected", "not reachable", trace.rep[last_slot])):
        chosen = np.flatnonzero(mask & (moment < end))
        extra = {"reason": np.full(len(chosen), reason, dtype=object)} if reason else {}
        log.add(chosen, origin + moment[chosen].astype(np.int64) * US, event, rep[chosen],
                **extra)
    won_at = decided + outcome.won_after
    won = np.flatnonzero(outcome.won & (won_at < end))
    log.add(won, origin + won_at[won].astype(np.int64) * US, "won", trace.rep[slot][won],
            amount=np.array([None if np.isnan(d) else str(int(d)) for d in outcome.deal[won]],
                            dtype=object))
    inside = decided < end
    return {"leads": drawn.handed, "sqls": decided[outcome.sql & inside],
            "opportunities": decided[outcome.opportunity & inside],
            "customers": won_at[won], "revenue": won_at[won], "_deals": outcome.deal[won]}


def clause_counts(context: Context, log: EventLog, size: int, emit: Path | None) -> dict:
    history = log.history(size, context.actors, context.end_us)
    if emit is not None:
        write_history(history, emit)
    evaluation = evaluate(context.policy, history)
    clauses = [{"handoff": c.handoff, "clause": c.clause, "leads": len(c.leads),
                "met": c.count(MET), "breached": c.count(BREACHED), "pending": c.count(PENDING),
                "wait_hours": _mean_wait(evaluation, c)}
               for c in evaluation.clauses]
    actions = all_actions(evaluation)
    fired = {}
    for group in actions:
        key = f"{group.action}|{group.handoff}|{group.clause}|{group.to or ''}"
        fired[key] = fired.get(key, 0) + int(np.count_nonzero(group.fired))
    triggered = sum(1 for row in strike_counts(evaluation, actions) if row["triggered"])
    return {"clauses": clauses, "actions": fired, "strike_rules_triggered": triggered}


def _mean_wait(evaluation: Evaluation, result: ClauseResult) -> float:
    """Hours from the handoff to the first touch, over the leads touched (first touch only)."""
    if result.clause != "first touch":
        return math.nan
    done = result.at != NONE
    if not done.any():
        return math.nan
    waits = result.at[done] - evaluation.handoff_at[result.leads[done]]
    return float(waits.mean()) / 3.6e9


def months_of(context: Context, moments: np.ndarray) -> np.ndarray:
    """Local calendar month of each moment (seconds), as numpy month numbers."""
    wall = context.offsets.wall(context.origin + moments.astype(np.int64) * US)
    return np.floor_divide(wall, 86_400 * US).astype("datetime64[D]").astype(
        "datetime64[M]").astype(np.int64)


def monthly(context: Context, moments: dict[str, np.ndarray], months: np.ndarray) -> dict:
    out = {}
    for name, values in moments.items():
        if name.startswith("_"):
            continue
        keys = months_of(context, values)
        weights = moments["_deals"] if name == "revenue" else None
        if name == "revenue" and context.deal_size is None:
            out[name] = [math.nan] * len(months)  # no deal size known: no revenue to count
            continue
        out[name] = [float(np.sum(weights[keys == month]) if weights is not None
                           else np.count_nonzero(keys == month)) for month in months]
    return out


def backlog(trace: engine.Trace, end: float) -> dict:
    """Tasks waiting (ready, not started) over the horizon. The mean is the exact time average
    (every task's wait inside the horizon, summed, over the horizon): the L of Little's law,
    which an hourly sample only approximates. Peak, final and weekly means are hourly samples."""
    seen = ~np.isnan(trace.ready_at)
    ready_at = trace.ready_at[seen]
    left = np.minimum(np.nan_to_num(trace.started[seen], nan=end), end)
    ready = np.sort(ready_at)
    started = np.sort(trace.started[~np.isnan(trace.started)])
    grid = np.arange(0.0, end, 3600.0)
    waiting = np.searchsorted(ready, grid, "right") - np.searchsorted(started, grid, "right")
    weeks = max(1, math.ceil(end / _WEEK))
    per_week = [float(waiting[(grid >= w * _WEEK) & (grid < (w + 1) * _WEEK)].mean())
                for w in range(weeks)]
    return {"mean": float(np.sum(left - ready_at)) / end, "peak": float(waiting.max()),
            "final": float(waiting[-1]), "weekly": per_week}


def utilisation(context: Context, trace: engine.Trace) -> list[float]:
    """Per team: rep time spent on touches over the rep time its calendar keeps open."""
    out = []
    for team, reps in enumerate(context.roster.reps_of_team):
        capacity = len(reps) * context.floor.hours[team].open_seconds(context.end)
        out.append(float(trace.busy[reps].sum() / capacity) if capacity else math.nan)
    return out


def replicate_once(context: Context, seed: np.random.SeedSequence, decay: Decay,
                   months: np.ndarray, emit: Path | None = None) -> dict:
    """Everything one replication reports, as plain numbers (it crosses a process boundary)."""
    rng = np.random.default_rng(seed)
    drawn = draw_leads(context, rng)
    trace, work, window_end = work_leads(context, drawn, decay, rng)
    log, moments = event_log(context, drawn, trace, work, window_end, rng)
    counts = clause_counts(context, log, len(drawn.handed), emit)
    return {**counts, "leads": len(drawn.handed),
            "touches": int(np.count_nonzero(~np.isnan(trace.started))),
            "utilisation": utilisation(context, trace), "backlog": backlog(trace, context.end),
            "months": monthly(context, moments, months)}


def block_shares(context: Context, rng: np.random.Generator, size: int = 20_000) -> np.ndarray:
    """The share of leads each block takes, from a sample of drawn leads (for the load check)."""
    fields = lead_fields(context.scenario, rng, size)
    block = context.block_of(classify(context.policy, context.scenario, fields, size, rng))
    return np.array([np.count_nonzero(block == b.index) / size for b in context.blocks])


def stage_counted(item: m.DeliverCount) -> str:
    """Which simulated count a `deliver at least N STAGE` commitment is held to."""
    return {"sql": "sqls", "opportunity": "opportunities"}.get(item.what.value, "leads")
