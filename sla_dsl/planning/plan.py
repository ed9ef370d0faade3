"""The `sla plan` document: what a policy's goals need, the work they send each team, and the
first-touch estimate of the scenario's queues, as one document the text and JSON views render.

The goal arithmetic it reads (`funnel`) is shared with `sla check`, the agreement report and
the simulator; the document is only the plan's, and only it needs the queueing estimate
(`first_touch_plan`), so it lives apart.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict

from sla_dsl.business_time.calendar import calendar_for
from sla_dsl.language import model as m
from sla_dsl.planning.first_touch_plan import first_touch_rows
from sla_dsl.planning.funnel import (
    GoalPlan,
    commitments_beside,
    daily_needs,
    goal_plans,
    lead_count_gaps,
    open_days_in,
    planned_months,
    value_needs,
)
from sla_dsl.planning.scenario import Scenario, first_day


def workload(policy: m.Policy, plans: list[GoalPlan], scenario: Scenario | None,
             start: dt.date | None = None) -> list[dict]:
    """Per handoff, the leads and touches a day a monthly goal sends its team, and per rep when
    the scenario staffs it. A block's share of the leads is the scenario's `[arrivals.mix]`;
    without one every lead is counted against each block (the most it could be). Touches are
    the cadence's count, the most a lead gets: a connect may end it sooner."""
    monthly = next((p for p in plans if p.per == "month" and p.leads is not None), None)
    if monthly is None:
        return []
    calendar = calendar_for(policy)
    months = planned_months(policy, start or first_day(policy, scenario)[0])
    if not months:
        return []
    open_days = sum(open_days_in(calendar, month) for month in months) / len(months)
    per_day = monthly.leads / open_days if open_days else None
    rows = []
    for handoff in policy.handoffs:
        if handoff.receiver is None or per_day is None:
            continue
        share = scenario.mix.get(handoff.label, 0.0) if scenario and scenario.mix else 1.0
        cadence = handoff.item("touches")
        touches = int(cadence.count.value) if isinstance(cadence, m.Touches) else \
            1 if isinstance(handoff.item("first_touch"), m.FirstTouch) else 0
        leads = per_day * share
        reps = scenario.teams.get(handoff.team) if scenario else None
        rows.append({
            "handoff": handoff.label, "team": handoff.team, "share": share,
            "leads_per_day": round(leads, 2), "touches_per_lead": touches,
            "touches_per_day": round(leads * touches, 2), "reps": reps,
            "touches_per_rep_per_day": round(leads * touches / reps, 2) if reps else None})
    return rows


def first_touch_estimates(policy: m.Policy, scenario: Scenario,
                          start: dt.date | None = None) -> list[dict]:
    """First-touch attainment per handoff over the scenario's horizon from `start` (else the
    scenario's first day): the time-varying queue of `sla_dsl.planning.first_touch_plan`, which has
    the night's and the weekend's leads waiting at the opening and the blocks that share reps."""
    return first_touch_rows(policy, scenario, start or first_day(policy, scenario)[0])


def plan_document(policy: m.Policy, scenario: Scenario | None = None,
                  start: dt.date | None = None) -> dict:
    """The plan as one document that the text and JSON views both render. `start` (from
    `--from`) overrides the scenario's start and the policy's effective date."""
    plans = goal_plans(policy)
    first, source = first_day(policy, scenario, start)
    months = planned_months(policy, first)
    return {"policy": policy.title,
            "months": {"from": months[0].isoformat()[:7], "to": months[-1].isoformat()[:7],
                       "source": source} if months else None,
            "goals": [asdict(p) for p in plans],
            "daily": daily_needs(policy, plans, first), "commitments": commitments_beside(policy),
            "lead_value": value_needs(policy),
            "lead_counts": [gap.sentence for gap in lead_count_gaps(policy)],
            "workload": workload(policy, plans, scenario, first),
            "first_touch": first_touch_estimates(policy, scenario, first) if scenario else [],
            "first_touch_span": {"from": first.isoformat(), "days": scenario.horizon_hours / 24,
                                 "left_out": left_out(scenario)}
            if scenario else None}


def left_out(scenario: Scenario) -> list[str]:
    """The scenario's tables the estimate does not read: only `sla simulate` acts them out."""
    return [f"[{name}]" for name in ("recycle", "reassign", "absence", "reps")
            if getattr(scenario, name) is not None]


def render_plan(doc: dict) -> str:
    out = [f"{doc['policy'] or 'Policy'}: what the goals need"]
    if doc["months"]:
        span = doc["months"]
        out.append(f"  months planned: {span['from']} to {span['to']} ({span['source']})")
    if not doc["goals"]:
        out.append("  no revenue goal: add 'goal revenue AMOUNT per PERIOD { ... }'")
    for goal in doc["goals"]:
        money = f"{goal['revenue']:,.0f} {goal['currency']}"
        who = f"{goal['party']} share {goal['share']:g}%" if goal["party"] else "all of it"
        out.append(f"  goal {money} per {goal['per']}, {who}: "
                   f"{goal['sourced_revenue']:,.0f} {goal['currency']} "
                   f"{goal.get('reading') or 'won'}")
        if goal["customers"] is not None:
            out.append(f"    / deal size {goal['deal_size']:,.0f} = "
                       f"{goal['customers']:,.1f} customers per {goal['per']}")
        if goal["leads"] is not None:
            out.append(f"    / close rate {goal['close_rate']:g}% = "
                       f"{goal['leads']:,.1f} leads per {goal['per']}")
        if goal["missing"]:
            out.append(f"    (no {' or '.join(goal['missing'])}: the arithmetic stops here)")
    if doc["daily"]:
        out += ["", "  per open day (monthly goals):"]
        for row in doc["daily"]:
            leads = "-" if row["leads_per_day"] is None else f"{row['leads_per_day']:g}"
            out.append(f"    {row['month']}  {row['open_days']:>2} open days  "
                       f"{leads} leads a day")
    if doc["workload"]:
        mixed = any(row["share"] != 1.0 for row in doc["workload"])
        out += ["", "  work a day for the monthly goal's leads (an open day; cadences at their "
                    "longest" + ("" if mixed else "; every lead counted against each block")
                + "):"]
        for row in doc["workload"]:
            per_rep = "" if row["touches_per_rep_per_day"] is None else \
                f", {row['touches_per_rep_per_day']:g} per rep of {row['reps']}"
            share = f" ({100 * row['share']:g}% of leads)" if mixed else ""
            out.append(f"    {row['handoff']}{share}: {row['leads_per_day']:g} leads x "
                       f"{row['touches_per_lead']} touches = {row['touches_per_day']:g} touches"
                       f" for {row['team']}{per_rep}")
    for need in doc["lead_value"]:
        kinds = ", or ".join(
            f"{k['leads']:,} {k['persona'] or 'other'} leads ({k['value']:g} {need['currency']})"
            for k in need["leads_of_one_kind"])
        out += ["", f"  {need['from']}'s {need['amount']:,.0f} {need['currency']} of lead value "
                    f"per {need['per']} is {kinds}"]
    if doc["first_touch"]:
        span = doc["first_touch_span"]
        out += ["", f"  first touch, estimated over the scenario's {span['days']:.3g} days from "
                    f"{span['from']} (the night's and the weekend's leads wait for the "
                    "opening; blocks share their team's reps; docs/simulate.md):"]
        if span.get("left_out"):
            out.append(f"    (without the scenario's {', '.join(span['left_out'])}: recycled "
                       "leads, reassignments, absences and reps' own hours are simulated only, by "
                       "sla simulate)")
        for row in doc["first_touch"]:
            if row["attainment"] is None:
                out.append(f"    {row['handoff']}: {row['note']}")
                continue
            reps = f"{row['reps']} rep" + ("" if row["reps"] == 1 else "s")
            out.append(f"    {row['handoff']}: {100 * row['attainment']:.1f}% within "
                       f"{row['within']}, mean wait {row['mean_wait_open_hours']:.2f} open h "
                       f"({row['mean_wait_hours']:.2f} elapsed h); {row['team']}: {reps}, "
                       f"{row['queues']}, load {row['load']:.2f} in the open hours"
                       + (f"  ({row['note']})" if row["note"] else ""))
            capped = row.get("open_cap")
            if capped:
                out.append(
                    f"      cap {capped['cap']} open leads: {capped['open_leads_per_rep']:.1f} "
                    f"open leads a rep on average (each open {capped['holding_hours']:.1f} h), "
                    f"{100 * capped['waiting_share']:.1f}% of leads wait for a rep with a free "
                    f"place (mean {capped['mean_wait_for_a_rep_hours']:.1f} h), "
                    f"{100 * capped['dealt_in_time']:.1f}% dealt before their first touch is "
                    "due")
    if doc["commitments"]:
        out += ["", "  promised:"]
        out += [f"    {c['from']} to {c['to']}: {c['promise']}" for c in doc["commitments"]]
    out += [f"  commitment and goal disagree: {gap}" for gap in doc.get("lead_counts", [])]
    return "\n".join(out) + "\n"
