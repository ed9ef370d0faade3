"""The funnel arithmetic of a policy's goals: what a revenue goal implies before anyone works.

From the seed material: quota x marketing share = marketing-sourced revenue; / deal size =
customers needed; / close rate = leads needed. Spread over the open days of each month of the
agreement, it says how many leads and customers a day the goal needs, next to what the
commitments promise.
"""

from __future__ import annotations

import calendar as calendar_module
import datetime as dt
import math
from dataclasses import asdict, dataclass

from sla_dsl import model as m
from sla_dsl.business_time import BusinessCalendar, calendar_for, open_share
from sla_dsl.queueing import mean_wait, service_level
from sla_dsl.scenario import Scenario, first_day


@dataclass
class GoalPlan:
    party: str | None
    per: str
    currency: str
    revenue: float
    share: float
    sourced_revenue: float
    deal_size: float | None
    customers: float | None
    close_rate: float | None
    leads: float | None
    missing: list[str]


def goal_plans(policy: m.Policy) -> list[GoalPlan]:
    plans = []
    for goal in policy.goals:
        shares = [i for i in goal.items if isinstance(i, m.Share)] or [None]
        deal = next((i for i in goal.items if isinstance(i, m.DealSize)), None)
        rate = next((i for i in goal.items if isinstance(i, m.CloseRate)), None)
        for share in shares:
            fraction = float(share.percent.value) / 100 if share else 1.0
            sourced = float(goal.amount.amount) * fraction
            customers = sourced / float(deal.amount.amount) if deal else None
            leads = customers / (float(rate.percent.value) / 100) \
                if customers is not None and rate else None
            missing = [word for word, item in (("deal size", deal), ("close rate", rate))
                       if item is None]
            plans.append(GoalPlan(
                party=share.party.value if share else None, per=goal.per,
                currency=goal.amount.currency, revenue=float(goal.amount.amount),
                share=100 * fraction, sourced_revenue=sourced,
                deal_size=float(deal.amount.amount) if deal else None, customers=customers,
                close_rate=float(rate.percent.value) if rate else None, leads=leads,
                missing=missing))
    return plans


def planned_months(policy: m.Policy, start: dt.date) -> list[dt.date]:
    """Up to twelve months from the month of `start`, ending with the policy's `until`."""
    effective = policy.effective
    first = start.replace(day=1)
    last = effective.until.value if effective and effective.until else None
    months, current = [], first
    while len(months) < 12 and (last is None or current <= last):
        months.append(current)
        current = (current + dt.timedelta(days=32)).replace(day=1)
    return months


def _open_days(calendar: BusinessCalendar, month: dt.date) -> int:
    days = calendar_module.monthrange(month.year, month.month)[1]
    return sum(1 for d in range(days)
               if calendar.open_intervals_on(month + dt.timedelta(days=d)))


def daily_needs(policy: m.Policy, plans: list[GoalPlan],
                start: dt.date | None = None) -> list[dict]:
    """Per month of the agreement: open days, and the leads and customers a day each monthly
    goal needs on them (a policy without a calendar works every day)."""
    calendar = calendar_for(policy)
    rows = []
    monthly = [p for p in plans if p.per == "month"]
    for month in planned_months(policy, start or first_day(policy)[0]):
        open_days = _open_days(calendar, month)
        for plan in monthly:
            rows.append({
                "month": month.isoformat()[:7], "party": plan.party, "open_days": open_days,
                "leads_per_day": round(plan.leads / open_days, 2)
                if plan.leads is not None and open_days else None,
                "customers_per_day": round(plan.customers / open_days, 2)
                if plan.customers is not None and open_days else None,
            })
    return rows


def commitments_beside(policy: m.Policy) -> list[dict]:
    """What the commitments promise per period, to read beside what the goals need."""
    from sla_dsl.formatter import item_line

    return [{"from": c.giver.value, "to": c.receiver.value, "promise": item_line(item),
             "per": item.per}
            for c in policy.commitments for item in c.items
            if isinstance(item, m.DeliverCount | m.DeliverMoney)]


def value_needs(policy: m.Policy) -> list[dict]:
    """Where the policy weights leads (`value` lines), a lead-value promise is met by fewer
    valuable leads or more cheap ones: how many of each kind would meet it alone."""
    lines = policy.lead_values
    rows = []
    for commitment in policy.commitments:
        for item in commitment.items:
            if not (isinstance(item, m.DeliverMoney) and item.measure == "lead value"):
                continue
            amount = float(item.amount.amount)
            rows.append({
                "from": commitment.giver.value, "to": commitment.receiver.value,
                "amount": amount, "currency": item.amount.currency, "per": item.per,
                "leads_of_one_kind": [
                    {"persona": line.persona.value if line.persona else None,
                     "value": float(line.amount.amount),
                     "leads": math.ceil(amount / float(line.amount.amount))}
                    for line in lines if float(line.amount.amount) > 0]})
    return rows


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
    open_days = sum(_open_days(calendar, month) for month in months) / len(months)
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


def _open_hours_per_open_day(calendar: BusinessCalendar, month: dt.date) -> float:
    days = [month + dt.timedelta(days=d) for d in range(28)]
    spans = [sum((end - start).total_seconds() for start, end in calendar.open_intervals_on(day))
             for day in days]
    open_days = [s for s in spans if s]
    return sum(open_days) / len(open_days) / 3600 if open_days else 24.0


def first_touch_estimates(policy: m.Policy, scenario: Scenario,
                          start: dt.date | None = None) -> list[dict]:
    """Erlang C's first-touch attainment per handoff, counted in open time: leads arrive
    around the clock and reps work while the calendar is open, so the open hours carry all the
    arrivals, and a business day is the calendar's mean open hours. Every handed-off lead is
    assumed to reach each block (its upper load). A rough guide: the night's backlog at
    opening is not in it; `sla simulate` has it."""
    calendar = calendar_for(policy)
    month = (start or first_day(policy, scenario)[0]).replace(day=1)
    day_hours = _open_hours_per_open_day(calendar, month)
    rows = []
    for handoff in policy.handoffs:
        first = handoff.item("first_touch")
        if handoff.receiver is None or not isinstance(first, m.FirstTouch):
            continue
        team = handoff.team
        reps = scenario.teams.get(team)
        row = {"handoff": handoff.label, "clause": "first touch", "team": team, "reps": reps,
               "load": None, "attainment": None, "mean_wait_hours": None, "note": None}
        within = first.within
        allowed = (float(within.amount) * (day_hours if within.unit == "day" else 1)
                   * {"minute": 1 / 60, "hour": 1, "day": 1 if within.business else 24,
                      "week": 168, "month": 730.5, "quarter": 2191.5, "year": 8766}[within.unit])
        share = open_share(calendar, month)
        if reps is None or scenario.touch is None:
            row["note"] = (f"no [team.{team}] in the scenario" if reps is None
                           else "no work.touch in the scenario")
        elif share <= 0:  # closed dates may cover a whole month (at most 1,450 days of them)
            row["note"] = (f"the calendar is closed the first four weeks of {month:%Y-%m}: "
                           "no estimate")
        else:
            # arrivals come around the clock; the team works the open hours. A rep's reaction
            # (`work.response`) keeps them busy and comes before the touch: it adds to the
            # service time and takes its mean off the time allowed.
            reaction = scenario.response.mean_hours if scenario.response else 0.0
            service = scenario.touch.mean_hours + reaction
            load = scenario.arrivals_per_hour / share * service
            row.update(load=round(load, 3),
                       attainment=round(service_level(reps, load, max(allowed - reaction, 0.0),
                                                      service), 4),
                       mean_wait_hours=round(mean_wait(reps, load, service) + reaction, 3))
            if load >= reps:
                row["note"] = (f"overloaded: {load:.2f} reps' worth of work arrives for "
                               f"{reps} reps; the backlog grows without end")
        rows.append(row)
    return rows


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
            "workload": workload(policy, plans, scenario, first),
            "first_touch": first_touch_estimates(policy, scenario, first) if scenario else []}


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
                   f"{goal['sourced_revenue']:,.0f} {goal['currency']} sourced")
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
        out += ["", "  first touch, Erlang C estimate (open time, every lead to each block):"]
        for row in doc["first_touch"]:
            if row["attainment"] is None:
                out.append(f"    {row['handoff']}: {row['note']}")
                continue
            out.append(f"    {row['handoff']}: {row['reps']} reps of {row['team']}, load "
                       f"{row['load']:g}: {100 * row['attainment']:.1f}% within the deadline, "
                       f"mean wait {row['mean_wait_hours']:g} h"
                       + (f"  ({row['note']})" if row["note"] else ""))
    if doc["commitments"]:
        out += ["", "  promised:"]
        out += [f"    {c['from']} to {c['to']}: {c['promise']}" for c in doc["commitments"]]
    return "\n".join(out) + "\n"
