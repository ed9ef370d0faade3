"""One replication, end to end: arrivals, routing, the reps' work, outcomes, and the clauses
counted by the evaluator on the history the run leaves behind."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from sla_dsl.business_time.zones import US_PER_SECOND
from sla_dsl.evaluation.consequences import (
    all_actions,
    breach_counts,
    missed_count_triggers,
    strike_counts,
)
from sla_dsl.evaluation.replay import (
    BREACHED,
    MET,
    NONE,
    PENDING,
    ClauseResult,
    Evaluation,
    evaluate,
)
from sla_dsl.history.absences import Absences
from sla_dsl.history.columns import NO_ACTOR
from sla_dsl.history.write import (
    absences_path,
    reps_path,
    write_absences,
    write_history,
    write_reps,
)
from sla_dsl.language import model as m
from sla_dsl.simulator import engine
from sla_dsl.simulator.arrivals import arrival_seconds, lead_fields
from sla_dsl.simulator.context import Context, rep_open_seconds
from sla_dsl.simulator.history_out import EventLog
from sla_dsl.simulator.levels import merged
from sla_dsl.simulator.lifecycle import absence_spans, absences_of, expanded, life_of, rounds
from sla_dsl.simulator.outcomes import Decay
from sla_dsl.simulator.passes import (
    Drawn,
    attempt_events,
    deal_leads,
    decide,
    decision_events,
    work_leads,
)
from sla_dsl.simulator.routing import classify
from sla_dsl.simulator.second_pass import hand_on

_WEEK = 7 * 86_400.0


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
    owner, assigned = deal_leads(context, handed, block)
    return expanded(context, Drawn(handed, fields, block, owner, assigned))


def _work_events(log: EventLog, context: Context, drawn: Drawn, trace: engine.Trace,
                 ids: np.ndarray) -> None:
    """Created (with the fields), handed off (again, for a recycled lead's later rounds),
    assigned (and reassigned), and every attempt as it started. `ids`: engine lead -> lead."""
    origin, size = context.origin, len(drawn.handed) // rounds(context)
    came = np.flatnonzero(np.isfinite(drawn.handed))
    handed_us = origin + drawn.handed[came].astype(np.int64) * US_PER_SECOND
    first = came < size
    log.add(ids[came[first]], handed_us[first], "created", NO_ACTOR, **drawn.fields)
    log.add(ids[came], handed_us, "handoff",
            np.array([*context.senders, NO_ACTOR])[drawn.block[came]])
    dealt = np.flatnonzero(drawn.owner >= 0)
    log.add(ids[dealt], origin + drawn.assigned[dealt].astype(np.int64) * US_PER_SECOND,
            "assigned", drawn.owner[dealt])
    if trace.moves is not None:
        lead, at, rep = trace.moves
        log.add(ids[lead], origin + at.astype(np.int64) * US_PER_SECOND, "assigned", rep)
    attempt_events(log, context, ids, trace)


def event_log(context: Context, drawn: Drawn, trace: engine.Trace, work: np.ndarray,
              window_end: np.ndarray, decay: Decay, rng: np.random.Generator
              ) -> tuple[EventLog, dict[str, np.ndarray], engine.Trace]:
    """The replication's events, the funnel's moments (seconds) for the monthly counts, and
    the trace of all the reps' work: a multilevel agreement's qualified leads are handed on
    and worked by the second level (`simulator.second_pass`) before the log is complete."""
    log = EventLog()
    ids = np.arange(len(drawn.handed)) % (len(drawn.handed) // rounds(context))
    _work_events(log, context, drawn, trace, ids)
    # with a lifecycle the loop decided who qualified (a rejected lead may come back)
    first = decide(context, trace, work, context.scenario.outcomes, rng, trace.qualified)
    later = hand_on(context, drawn, first, decay, rng) if context.second is not None else None
    passed = later.passed if later is not None else np.zeros(len(drawn.handed), dtype=bool)
    won_at, deals = decision_events(log, context, ids, drawn, trace, work, window_end, first,
                                    first.outcome.sql, "not qualified", ~passed)
    inside = first.at < context.end
    moments = {"leads": drawn.handed[:len(drawn.handed) // rounds(context)],
               "sqls": first.at[first.outcome.sql & inside],
               "opportunities": first.at[first.outcome.opportunity & inside & ~passed],
               "customers": won_at, "revenue": won_at, "_deals": deals}
    if later is None:
        return log, moments, trace
    won_at, deals = later.events(log, context)
    opened = later.decided.outcome.opportunity & (later.decided.at < context.end)
    moments["opportunities"] = np.concatenate([moments["opportunities"],
                                               later.decided.at[opened]])
    for name in ("customers", "revenue"):
        moments[name] = np.concatenate([moments[name], won_at])
    moments["_deals"] = np.concatenate([moments["_deals"], deals])
    return log, moments, merged(trace, later.trace)


def clause_counts(context: Context, log: EventLog, size: int, emit: Path | None,
                  absences: Absences | None = None) -> dict:
    history = log.history(size, context.actors, context.end_us)
    history.absences = absences
    history.reps = context.scenario.reps  # clocks on owner hours run on the reps' own
    if emit is not None:
        write_history(history, emit)
        if absences is not None:
            write_absences(absences, absences_path(emit))
        if history.reps is not None:
            write_reps(history.reps, reps_path(emit))
    evaluation = evaluate(context.policy, history)
    clauses = [{"handoff": c.handoff, "clause": c.clause, "leads": len(c.leads),
                "met": c.count(MET), "breached": c.count(BREACHED), "pending": c.count(PENDING),
                "wait_hours": _mean_wait(evaluation, c), "attempts": per_attempt(c)}
               for c in evaluation.clauses]
    actions = all_actions(evaluation)
    fired = {}
    for group in actions:
        key = f"{group.action}|{group.handoff}|{group.clause}|{group.to or ''}"
        fired[key] = fired.get(key, 0) + int(np.count_nonzero(group.fired))
    triggered = sum(1 for row in strike_counts(evaluation, actions) if row["triggered"])
    out = {"clauses": clauses, "actions": fired, "strike_rules_triggered": triggered}
    team = missed_count_triggers(context.policy)
    if team:  # periods in which a party's or team's breaches reached a trigger's count
        out["team_limits_reached"] = sum(row["triggered"] for trigger in team
                                         for row in breach_counts(evaluation, trigger))
    return out


def per_attempt(result: ClauseResult) -> list[dict]:
    """A clause's counts per round of its leads' handoffs (attempt 1, 2, ...), as `sla
    evaluate` numbers them: a recycled lead handed off again is judged once per round."""
    attempt = result.attempt if result.attempt is not None \
        else np.ones(len(result.leads), dtype=np.int64)
    out = []
    for number in range(1, int(attempt.max(initial=1)) + 1):
        status = result.status[attempt == number]
        out.append({"attempt": number, "leads": len(status),
                    "met": int(np.count_nonzero(status == MET)),
                    "breached": int(np.count_nonzero(status == BREACHED)),
                    "pending": int(np.count_nonzero(status == PENDING))})
    return out


def _mean_wait(evaluation: Evaluation, result: ClauseResult) -> float:
    """Hours from the block's handoff to the first touch, over the leads touched (first touch
    only): a second level's wait runs from the first level's handoff on, not marketing's."""
    if result.clause != "first touch":
        return math.nan
    done = result.at != NONE
    if not done.any():
        return math.nan
    start = result.start if result.start is not None \
        else evaluation.handoff_at[result.leads]
    waits = result.at[done] - start[done]
    return float(waits.mean()) / 3.6e9


def months_of(context: Context, moments: np.ndarray) -> np.ndarray:
    """Local calendar month of each moment (seconds), as numpy month numbers."""
    days = context.offsets.local_days(context.origin + moments.astype(np.int64) * US_PER_SECOND)
    return days.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)


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
        capacity = rep_open_seconds(context, team)
        out.append(float(trace.busy[reps].sum() / capacity) if capacity else math.nan)
    return out


def replicate_once(context: Context, seed: np.random.SeedSequence, decay: Decay,
                   months: np.ndarray, emit: Path | None = None) -> dict:
    """Everything one replication reports, as plain numbers (it crosses a process boundary)."""
    rng = np.random.default_rng(seed)
    drawn = draw_leads(context, rng)
    size = len(drawn.handed) // rounds(context)
    away = absence_spans(context, rng) if context.scenario.absence is not None else None
    life = (lambda block, due: life_of(context, block, due, rng,
                                       away or [[] for _ in context.roster.names])) \
        if context.scenario.lifecycle else None
    trace, work, window_end = work_leads(context, drawn, decay, rng, life)
    log, moments, trace = event_log(context, drawn, trace, work, window_end, decay, rng)
    counts = clause_counts(context, log, size, emit,
                           absences_of(context, away) if away is not None else None)
    if context.scenario.lifecycle:
        counts["lifecycle"] = {
            "handed_off_again": int(np.count_nonzero(np.isfinite(drawn.handed[size:])
                                                     & (drawn.handed[size:] < context.end))),
            "reassigned": len(trace.moves[0]) if trace.moves is not None else 0,
            "rep_days_absent": sum((end - begin) / 86_400 for spans in away or []
                                   for begin, end in spans)}
    return {**counts, "leads": size,
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
