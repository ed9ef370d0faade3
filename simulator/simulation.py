"""`simulate`: independent, seeded replications of the whole model, summarised with 95%
intervals, under each decay preset the scenario asks for.

Intervals come from the spread between replications (`Estimate.of`, a t-interval), never from
a binomial formula over one run's leads: one lead's wait depends on the lead before it. Each
replication's stream is spawned from the one seed, and the same streams serve every decay
preset, so a difference between the presets is the presets' and not the dice's.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

from sla_dsl.history.write import absences_path
from sla_dsl.language import model as m
from sla_dsl.planning.funnel import goal_plans
from sla_dsl.planning.scenario import Scenario
from sla_dsl.simulator.context import Context, build, check_load
from sla_dsl.simulator.estimates import Estimate
from sla_dsl.simulator.outcomes import Decay, decays_to_run
from sla_dsl.simulator.replication import block_shares, replicate_once, stage_counted

_CONTEXT: Context | None = None


def _init(policy: m.Policy, scenario: Scenario) -> None:
    global _CONTEXT
    _CONTEXT = build(policy, scenario)


def _job(args: tuple) -> dict:
    seed, decay, months, emit = args
    return replicate_once(_CONTEXT, seed, decay, months, emit)


def _told(result: dict, on_replication: Callable[[], None] | None) -> dict:
    if on_replication is not None:
        on_replication()
    return result


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


def simulate(policy: m.Policy, scenario: Scenario, replications: int, seed: int,
             emit_history: Path | str | None = None, workers: int = 2,
             on_replication: Callable[[], None] | None = None) -> dict:
    """The policy tried against the scenario. `clauses` (per handoff clause, attainment with
    its 95% interval) is the first decay preset's; `runs` holds every preset's full summary.
    With `emit_history`, replication 0 of the first preset is also written as an event log,
    and its own clause counts are under `emitted`. `on_replication` is told each finished
    replication (a progress bar)."""
    context = build(policy, scenario)
    seeds = np.random.SeedSequence(seed).spawn(replications + 1)
    notes = [*context.level_notes,
             *check_load(context, block_shares(context, np.random.default_rng(seeds[-1])))]
    months, whole = horizon_months(context)
    decays = decays_to_run(scenario.outcomes)
    jobs = [(s, decay, months, Path(emit_history) if emit_history and d == 0 and i == 0
             else None)
            for d, decay in enumerate(decays) for i, s in enumerate(seeds[:replications])]
    if workers > 1 and len(jobs) > 1:
        with ProcessPoolExecutor(max_workers=workers, initializer=_init,
                                 initargs=(policy, scenario)) as pool:
            results = [_told(result, on_replication) for result in pool.map(_job, jobs)]
    else:
        _init(policy, scenario)
        results = [_told(_job(job), on_replication) for job in jobs]
    runs = [summarise(context, decay, results[d * replications:(d + 1) * replications],
                      months, whole) for d, decay in enumerate(decays)]
    doc = {"policy": policy.title, "replications": replications, "seed": seed,
           "start": context.start.isoformat(), "horizon_hours": scenario.horizon_hours,
           "discipline": scenario.discipline, "decay": runs[0]["decay"],
           "clauses": runs[0]["clauses"], "runs": runs, "notes": notes}
    if emit_history:
        doc["emitted"] = {"path": str(emit_history), "decay": runs[0]["decay"],
                          "clauses": results[0]["clauses"]}
        if scenario.absence is not None:
            doc["emitted"]["absences"] = str(absences_path(doc["emitted"]["path"]))
        for key in ("team_limits_reached", "lifecycle", "actions"):
            if key in results[0]:
                doc["emitted"][key] = results[0][key]
    return doc
