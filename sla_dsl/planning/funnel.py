"""The funnel arithmetic of a policy's goals: what a revenue goal implies before anyone works.

From the seed material: quota x marketing share = marketing-sourced revenue; / deal size =
customers needed; / close rate = leads needed. Spread over the open days of each month of the
agreement, it says how many leads and customers a day the goal needs, next to what the
commitments promise. `sla check`, the agreement report and the simulator read this arithmetic;
the `sla plan` document built on it is `plan`.
"""

from __future__ import annotations

import calendar as calendar_module
import datetime as dt
import math
from dataclasses import dataclass

from sla_dsl.business_time.calendar import BusinessCalendar, calendar_for
from sla_dsl.business_time.periods import next_period_start
from sla_dsl.language import model as m
from sla_dsl.language.formatter import item_line
from sla_dsl.planning.scenario import first_day


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
    reading: str | None = None  # the share's: "sourced" or "attributed"; None for no share


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
                missing=missing, reading=share.measure if share else None))
    return plans


def planned_months(policy: m.Policy, start: dt.date) -> list[dt.date]:
    """Up to twelve months from the month of `start`, ending with the policy's `until` and
    with the last month of the supported times (`--from 2200-12` planned into 2201)."""
    effective = policy.effective
    first = start.replace(day=1)
    last = min(effective.until.value, m.LAST_DAY) if effective and effective.until \
        else m.LAST_DAY
    months, current = [], first
    while len(months) < 12 and current <= last:
        months.append(current)
        current = next_period_start(current, "month")
    return months


def open_days_in(calendar: BusinessCalendar, month: dt.date) -> int:
    """The days of `month` the calendar opens at all: a goal's monthly leads are spread over
    them, by the daily needs here and by the plan's workload."""
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
        open_days = open_days_in(calendar, month)
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


# ---------------------------------------------------------------- lead counts beside the goal

DISAGREEMENT = 1.5
"""How far apart a lead-count commitment and the goal arithmetic may be before `sla check`
(W511) and `sla plan` say so: when one is at least 1.5 times the other. Both are estimates (a
commitment is a floor with headroom; deal size and close rate are averages the monthly
recalculation moves), so a quarter either way is planning slack, not a different agreement;
half as many again is what a different share or close rate behind the promise looks like."""

_PER_YEAR = {"day": 365.2425, "week": 365.2425 / 7, "month": 12.0, "quarter": 4.0, "year": 1.0}


@dataclass
class LeadCountGap:
    """A `deliver at least N NAME per PERIOD` line that the goal's arithmetic does not carry:
    the commitment (counted in the goal's period), the leads the goal needs and their ratio."""

    giver: str
    item: m.DeliverCount
    plan: GoalPlan
    committed: float
    ratio: float

    @property
    def sentence(self) -> str:
        """The one wording `sla check` and `sla plan` both print."""
        plan, item = self.plan, self.item
        promise = f"commits {item.count.value:g} {item.what.value} per {item.per}"
        if item.per != plan.per:
            promise += f" ({_figure(self.committed)} per {plan.per})"
        share = f" x {plan.share:g}%" if plan.party else ""
        sums = (f"{plan.revenue:,.0f} {plan.currency}{share} / {plan.deal_size:,.0f} "
                f"{plan.currency} / {plan.close_rate:g}%")
        return (f"{self.giver} {promise}; the revenue goal needs {_figure(plan.leads)} leads per "
                f"{plan.per} ({sums}): {_as_many(self.ratio)}")


def _figure(value: float) -> str:
    """A count to one decimal, without a trailing `.0`: 50, 72.5, 1,250."""
    return f"{value:,.1f}".removesuffix(".0")


def _as_many(ratio: float) -> str:
    if round(ratio, 2) == 2:
        return "twice as many"
    if round(ratio, 2) == 0.5:
        return "half as many"
    return f"{_figure(ratio)} times as many" if ratio > 1 else f"{100 * ratio:.0f}% as many"


def _handed_on(policy: m.Policy, party: str) -> set[str]:
    """The party and every party its leads are handed on to, through the handoffs."""
    found, frontier = {party}, [party]
    while frontier:
        sender = frontier.pop()
        for handoff in policy.handoffs:
            if handoff.sender and handoff.receiver and handoff.sender.value == sender \
                    and handoff.receiver.value not in found:
                found.add(handoff.receiver.value)
                frontier.append(handoff.receiver.value)
    return found


def _carries_leads(policy: m.Policy, party: str | None, commitment: m.Commitment) -> bool:
    """Whether a commitment carries the party's leads down its funnel: its own, or one a party
    downstream makes to a party further down (an MDR's SQLs to sales are marketing's leads);
    not what sales reports back up. A goal without a share is every party's."""
    if party is None or commitment.giver.value == party:
        return True
    giver = commitment.giver.value
    return giver in _handed_on(policy, party) and \
        commitment.receiver.value in _handed_on(policy, giver) - {giver}


def plan_shares(policy: m.Policy) -> list[m.Share | None]:
    """The share line behind each of `goal_plans` (None for a goal without shares), in order."""
    return [share for goal in policy.goals for share in (goal.shares or [None])]


def lead_count_gaps(policy: m.Policy) -> list[LeadCountGap]:
    """Per sourced goal share with full arithmetic, the lead-count commitment closest to what
    it needs, when even that one is `DISAGREEMENT` times more or fewer. The closest is taken
    because a policy may commit every stage of the funnel (250 MQLs, 70 SQLs): the close rate
    belongs to one of them, and a match at any stage means the arithmetic is carried. An
    attributed share is credit, not leads brought in, so no lead count follows from it."""
    gaps = []
    for plan, share in zip(goal_plans(policy), plan_shares(policy), strict=True):
        if plan.leads is None or plan.leads <= 0 or (share and share.measure == "attributed"):
            continue
        lines = [(c.giver.value, item) for c in policy.commitments
                 if _carries_leads(policy, plan.party, c)
                 for item in c.items if isinstance(item, m.DeliverCount)]
        scored = [(giver, item, float(item.count.value) * _PER_YEAR[item.per]
                   / _PER_YEAR[plan.per]) for giver, item in lines]
        if not scored:
            continue
        giver, item, committed = min(scored, key=lambda s: abs(math.log(
            max(s[2], 1e-9) / plan.leads)))
        ratio = committed / plan.leads
        if ratio >= DISAGREEMENT or ratio <= 1 / DISAGREEMENT:
            gaps.append(LeadCountGap(giver, item, plan, committed, ratio))
    return gaps
