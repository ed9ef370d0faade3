"""`simulate`: independent, seeded replications of the whole model, summarised with 95%
intervals, under each decay preset the scenario asks for.

Intervals come from the spread between replications (`Estimate.of`, a t-interval), never from
a binomial formula over one run's leads: one lead's wait depends on the lead before it. Each
replication's stream is spawned from the one seed, and the same streams serve every decay
preset, so a difference between the presets is the presets' and not the dice's.
"""

from __future__ import annotations

import hashlib
import math
import pickle
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sla_dsl.engines import Engine, LocalEngine
from sla_dsl.history.write import absences_path, reps_path
from sla_dsl.language import model as m
from sla_dsl.planning.funnel import goal_plans
from sla_dsl.planning.scenario import Scenario
from sla_dsl.simulator.context import Context, build, check_load, check_touches
from sla_dsl.simulator.estimates import Estimate
from sla_dsl.simulator.outcomes import Decay, decays_to_run
from sla_dsl.simulator.replication import block_shares, replicate_once, stage_counted


@dataclass(frozen=True)
class Model:
    """What a worker builds the model from: it travels with every replication (a cluster's
    workers share no memory with the caller), and `key` lets a worker build it once."""

    policy: m.Policy
    scenario: Scenario
    key: str

    @classmethod
    def of(cls, policy: m.Policy, scenario: Scenario) -> Model:
        digest = hashlib.sha256(pickle.dumps((policy, scenario))).hexdigest()
        return cls(policy, scenario, digest)


@dataclass(frozen=True)
class Replication:
    """One seeded run of one model under one decay preset: an item of an engine's map."""

    model: Model
    seed: np.random.SeedSequence
    decay: Decay
    months: np.ndarray
    emit: Path | None = None


# The local pool's size when no engine is given: both cores of a laptop, as always.
LOCAL_WORKERS = 2

_BUILT: dict[str, Context] = {}  # models this process has built, by key (a sweep has several)
_MOST_BUILT = 8


def replicate(job: Replication) -> dict:
    """One replication, on whichever process or worker the engine gives it to."""
    context = _BUILT.get(job.model.key)
    if context is None:
        while len(_BUILT) >= _MOST_BUILT:
            del _BUILT[next(iter(_BUILT))]
        context = _BUILT[job.model.key] = build(job.model.policy, job.model.scenario)
    return replicate_once(context, job.seed, job.decay, job.months, job.emit)


def run_replications(jobs: list[Replication], engine: Engine,
                     on_replication: Callable[[], None] | None = None) -> list[dict]:
    """Every job's result in the jobs' order. The one that writes `--emit-history` runs in
    this process, so that the file lands where the command runs, not on a worker's disk."""
    def told(done: int, total: int) -> None:
        if on_replication is not None:
            on_replication()

    emitting = [i for i, job in enumerate(jobs) if job.emit is not None]
    results: dict[int, dict] = {}
    for i in emitting:
        results[i] = replicate(jobs[i])
        told(len(results), len(jobs))
    rest = [i for i in range(len(jobs)) if i not in results]
    results.update(zip(rest, engine.map(replicate, [jobs[i] for i in rest], told),
                       strict=True))
    return [results[i] for i in range(len(jobs))]


def horizon_months(context: Context) -> tuple[np.ndarray, np.ndarray]:
    """Months the horizon touches (numpy month numbers), and which lie wholly inside it."""
    first = np.datetime64(context.start, "M").astype(np.int64)
    last_day = np.datetime64(context.start, "D") + math.ceil(context.end / 86_400) - 1
    last = last_day.astype("datetime64[M]").astype(np.int64)
    months = np.arange(first, last + 1)
    begins = months.astype("datetime64[M]").astype("datetime64[D]")
    ends = (months + 1).astype("datetime64[M]").astype("datetime64[D]")
    start = np.datetime64(context.start, "D")
    whole = (begins >= start) & (ends <= start + int(context.end // 86_400))
    return months, whole


def monthly_targets(policy: m.Policy) -> dict[str, float]:
    """What the policy asks for each month: the revenue goal's funnel (sourced revenue,
    customers, leads) and the commitments' monthly deliveries."""
    targets: dict[str, float] = {}
    for plan in goal_plans(policy):
        if plan.per != "month":
            continue
        targets["revenue"] = targets.get("revenue", 0.0) + plan.sourced_revenue
        if plan.customers is not None:
            targets["customers"] = targets.get("customers", 0.0) + plan.customers
        if plan.leads is not None:
            targets["leads"] = max(targets.get("leads", 0.0), plan.leads)
    for commitment in policy.commitments:
        for item in commitment.items:
            if isinstance(item, m.DeliverCount) and item.per == "month":
                name = stage_counted(item)
                targets[name] = max(targets.get(name, 0.0), float(item.count.value))
            elif isinstance(item, m.DeliverMoney) and item.per == "month" \
                    and item.measure == "revenue":
                targets["revenue"] = max(targets.get("revenue", 0.0), float(item.amount.amount))
    return targets


def _estimate(values: list[float], high: float = math.inf) -> dict:
    """Mean and t-interval over replications, the interval kept inside what the quantity can
    be (counts are not negative, attainment not above 1); a replication without a value (no
    lead decided) is left out."""
    finite = [v for v in values if not math.isnan(v)]
    if not finite:
        return {"mean": None, "ci95": [None, None]}
    found = Estimate.of(finite).to_dict()
    found["ci95"] = [None if math.isnan(v) else min(max(v, 0.0), high) for v in found["ci95"]]
    return found


def _json_clause(row: dict) -> dict:
    """One run's clause counts for the JSON: a wait that is no number (not a first touch, or
    no lead touched) is null, as in the clauses over the runs; JSON has no NaN."""
    wait = row["wait_hours"]
    return {**row, "wait_hours": wait if math.isfinite(wait) else None}


def _attainment(row: dict) -> float:
    decided = row["met"] + row["breached"]
    return row["met"] / decided if decided else math.nan


def _attempts(runs: list[list[dict]]) -> list[dict]:
    """Per round of handoffs (attempt 1, 2, ...), the clause's attainment and counts over the
    replications; a run whose leads never reached a round counts none there."""
    most = max((len(rows) for rows in runs), default=0)
    out = []
    for k in range(most):
        rows = [rows[k] if k < len(rows) else {"leads": 0, "met": 0, "breached": 0,
                                                 "pending": 0} for rows in runs]
        out.append({"attempt": k + 1,
                    "attainment": _estimate([_attainment(r) for r in rows], 1.0),
                    **{name: _estimate([float(r[name]) for r in rows])
                       for name in ("leads", "met", "breached", "pending")}})
    return out


def summarise(context: Context, decay: Decay, runs: list[dict], months: np.ndarray,
              whole: np.ndarray) -> dict:
    clauses = []
    for i, first in enumerate(runs[0]["clauses"]):
        rows = [run["clauses"][i] for run in runs]
        clauses.append({
            "handoff": first["handoff"], "clause": first["clause"],
            "attainment": _estimate([_attainment(r) for r in rows], 1.0),
            **{name: _estimate([float(r[name]) for r in rows])
               for name in ("leads", "met", "breached", "pending")},
            "mean_wait_hours": _estimate([r["wait_hours"] for r in rows]),
            "attempts": _attempts([r["attempts"] for r in rows])})
    teams = [{"team": team, "reps": len(context.roster.reps_of_team[t]),
              "utilisation": _estimate([run["utilisation"][t] for run in runs], 1.0)}
             for t, team in enumerate(context.roster.teams)]
    backlog = {name: _estimate([run["backlog"][name] for run in runs])
               for name in ("mean", "peak", "final")}
    backlog["weekly_mean"] = [round(float(np.mean(week)), 2) for week in
                              zip(*(run["backlog"]["weekly"] for run in runs), strict=True)]
    targets = monthly_targets(context.policy)
    month_rows = []
    for j, month in enumerate(months):
        row = {"month": str(np.datetime64(int(month), "M")), "whole": bool(whole[j])}
        for name in ("leads", "sqls", "opportunities", "customers", "revenue"):
            values = [run["months"][name][j] for run in runs]
            entry = _estimate(values)
            if name in targets:
                entry["goal"] = round(targets[name], 2)
                entry["p_goal_met"] = round(float(np.mean([v >= targets[name]
                                                           for v in values])), 3)
            row[name] = entry
        month_rows.append(row)
    keys = sorted({key for run in runs for key in run["actions"]})
    consequences = []
    for key in keys:
        action, handoff, clause, to = key.split("|")
        consequences.append({"action": action, "handoff": handoff, "clause": clause,
                             "to": to or None,
                             "fired": _estimate([float(run["actions"].get(key, 0))
                                                 for run in runs])})
    summary = {"decay": decay.name, "clauses": clauses, "teams": teams, "backlog": backlog,
               "months": month_rows, "consequences": consequences,
               "strike_rules_triggered": _estimate([float(r["strike_rules_triggered"])
                                                    for r in runs]),
               "leads": _estimate([float(r["leads"]) for r in runs]),
               "touches": _estimate([float(r["touches"]) for r in runs])}
    if runs and "lifecycle" in runs[0]:  # a scenario with [recycle], [reassign] or [absence]
        summary["lifecycle"] = {name: _estimate([float(r["lifecycle"][name]) for r in runs])
                                for name in runs[0]["lifecycle"]}
    if runs and "team_limits_reached" in runs[0]:  # only a policy with `missed … times per`
        summary["team_limits_reached"] = _estimate([float(r["team_limits_reached"])
                                                    for r in runs])
    return summary


@dataclass
class Planned:
    """One simulation set up in the caller (where a model that cannot be simulated is found,
    before any work is sent) and waiting for its replications' results."""

    context: Context
    replications: int
    seed: int
    decays: list[Decay]
    months: np.ndarray
    whole: np.ndarray
    notes: list[str]
    jobs: list[Replication]
    emit_history: Path | None


def checked(policy: m.Policy, scenario: Scenario, rng: np.random.Generator
            ) -> tuple[Context, np.ndarray, list[str]]:
    """The model built and checked up front, before any replication: its context, each block's
    share of the leads and the notes the checks leave. Raises `NotSimulated` for a model the
    simulator refuses (overloaded, too many touches, ...): one sequence of checks, which `sla
    calibrate` also runs on the scenario it is about to write."""
    context = build(policy, scenario)
    shares = block_shares(context, rng)
    notes = [*context.level_notes, *check_load(context, shares)]
    check_touches(context, shares)
    return context, shares, notes


def plan(policy: m.Policy, scenario: Scenario, replications: int, seed: int,
         emit_history: Path | str | None = None) -> Planned:
    """The replications a simulation runs: one per seed and decay preset, the same seeds for
    every preset. Raises `NotSimulated` for a model the simulator cannot build."""
    seeds = np.random.SeedSequence(seed).spawn(replications + 1)
    context, _, notes = checked(policy, scenario, np.random.default_rng(seeds[-1]))
    months, whole = horizon_months(context)
    decays = decays_to_run(scenario.outcomes)
    model = Model.of(policy, scenario)
    emit = Path(emit_history) if emit_history else None
    jobs = [Replication(model, s, decay, months, emit if d == 0 and i == 0 else None)
            for d, decay in enumerate(decays) for i, s in enumerate(seeds[:replications])]
    return Planned(context, replications, seed, decays, months, whole, notes, jobs, emit)


def report(planned: Planned, results: list[dict]) -> dict:
    """The simulation's document from its replications' results, in the jobs' order."""
    context, replications = planned.context, planned.replications
    runs = [summarise(context, decay, results[d * replications:(d + 1) * replications],
                      planned.months, planned.whole) for d, decay in enumerate(planned.decays)]
    scenario = context.scenario
    doc = {"policy": context.policy.title, "replications": replications, "seed": planned.seed,
           "start": context.start.isoformat(), "horizon_hours": scenario.horizon_hours,
           "discipline": scenario.discipline, "decay": runs[0]["decay"],
           "clauses": runs[0]["clauses"], "runs": runs, "notes": planned.notes}
    if planned.emit_history:
        doc["emitted"] = {"path": str(planned.emit_history), "decay": runs[0]["decay"],
                          "clauses": [_json_clause(c) for c in results[0]["clauses"]]}
        if scenario.absence is not None:
            doc["emitted"]["absences"] = str(absences_path(doc["emitted"]["path"]))
        if scenario.reps is not None:
            doc["emitted"]["reps"] = str(reps_path(doc["emitted"]["path"]))
        for key in ("team_limits_reached", "lifecycle", "actions"):
            if key in results[0]:
                doc["emitted"][key] = results[0][key]
    return doc


def simulate(policy: m.Policy, scenario: Scenario, replications: int, seed: int,
             emit_history: Path | str | None = None, workers: int = LOCAL_WORKERS,
             on_replication: Callable[[], None] | None = None,
             engine: Engine | None = None) -> dict:
    """The policy tried against the scenario. `clauses` (per handoff clause, attainment with
    its 95% interval) is the first decay preset's; `runs` holds every preset's full summary.
    With `emit_history`, replication 0 of the first preset is also written as an event log,
    and its own clause counts are under `emitted`. `on_replication` is told each finished
    replication (a progress bar). The replications run on `engine` (an open engine from
    `sla_dsl.engines`), or on a pool of `workers` processes here; the document is the same
    bytes on either."""
    planned = plan(policy, scenario, replications, seed, emit_history)
    results = run_replications(planned.jobs, engine or LocalEngine(workers), on_replication)
    return report(planned, results)
