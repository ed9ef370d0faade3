"""Revenue as the agreement measures it: the attribution section of an evaluation.

Three views of the won deals, built on `sla_dsl.measures.attribution`'s splits:

- credit per person, team, party, campaign, channel and month of the win;
- each `goal revenue` period by period: the revenue won against the goal, and each party's
  share of it measured as the share reads: `sourced` (the default, the seed's "% of revenue from
  marketing-generated leads") counts the deals won from leads the party generated, whole;
  `attributed` counts what the attribution model credits the party;
- the monthly recalculation of the seed material, from actuals beside the policy's assumptions:
  of the marketing-generated leads of a month (a lead with an `engaged` touchpoint, or handed
  off by the marketing party), how many became customers (close rate) and for how much (deal
  size), and of the revenue closed in a month, how much came from marketing-generated leads
  (share), with the average sales cycle.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

import numpy as np

from sla_dsl.business_time.periods import next_period_start, period_start
from sla_dsl.business_time.zones import US_PER_DAY, local_dates, local_time
from sla_dsl.evaluation.replay import Evaluation
from sla_dsl.history.columns import EVENT_CODE
from sla_dsl.language import model as m
from sla_dsl.language.formatter import duration, money
from sla_dsl.measures import coverage
from sla_dsl.measures.attribution import (
    ROLLUPS,
    ROUNDING,
    TOUCHPOINT_EVENTS,
    Attribution,
    attribute,
    deal_records,
    months,
    party_credit,
    rollup,
)


def _miss_actions(policy: m.Policy) -> list[m.Action]:
    return [a for c in policy.consequences if c.trigger == "miss" and c.clause.name == "goal"
            for a in c.actions]


def _grace(policy: m.Policy) -> int:
    grace = [a for a in _miss_actions(policy) if isinstance(a, m.Grace)]
    return int(grace[0].count.value) if grace else 0


def _owed(policy: m.Policy) -> tuple[list[str], list[str]]:
    """What a counted miss of the goal sets off: credits owed, and who is told."""
    actions = _miss_actions(policy)
    credits = [f"{a.percent.value:g}% of {a.of}" if isinstance(a, m.CreditShare)
               else money(a.amount) for a in actions
               if isinstance(a, m.CreditShare | m.CreditAmount)]
    return credits, [a.to.value for a in actions if isinstance(a, m.Escalate)]


def _percent(part: float, whole: float) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def currency(policy: m.Policy) -> str | None:
    """The currency revenue is counted in: the revenue goal's, else a revenue commitment's."""
    for goal in policy.goals:
        return goal.amount.currency
    for commitment in policy.commitments:
        for item in commitment.items:
            if isinstance(item, m.DeliverMoney) and item.measure == "revenue":
                return item.amount.currency
    return None


# ============================================================================ the goal


def share_revenue(evaluation: Evaluation, result: Attribution, share: m.Share) -> np.ndarray:
    """Per deal, what counts towards a party's share of the goal (in currency units). A
    sourced share counts a deal whole when its lead is one the party generated, whatever the
    touchpoints before the win: last-touch credit of a marketing-generated lead goes to the
    closer, yet the revenue is marketing-sourced. An attributed share counts the credit."""
    party = share.party.value
    if share.measure == "attributed":
        return party_credit(result, party)[0]
    generated = generated_leads(evaluation, party, result.marketing)
    return np.where(generated[result.lead], result.cents, 0) / 100


def goal_periods(evaluation: Evaluation, result: Attribution, goal: m.RevenueGoal) -> dict:
    """The revenue goal period by period. A complete period is missed when the revenue won in
    it is below the goal, or a party's sourced or attributed revenue (as its share reads)
    below its share of the goal, and the history covers it (a month with no event at all has
    no data); the first `grace` periods of `on miss of goal` do not count."""
    zone = ZoneInfo(evaluation.policy.timezone or "UTC")
    as_of = local_time(evaluation.as_of, zone).date()
    dates = local_dates(result.won_at, zone)
    effective = evaluation.policy.effective
    first = effective.start.value if effective else (
        dates.min().astype(object) if len(dates) else as_of)
    target = float(goal.amount.amount)
    shares = [i for i in goal.items if isinstance(i, m.Share)]
    measured = [share_revenue(evaluation, result, share) for share in shares]
    grace = _grace(evaluation.policy)
    credits, escalate = _owed(evaluation.policy)
    periods = []
    start = period_start(first, goal.per)
    last = min(as_of, effective.until.value) if effective and effective.until else as_of
    covered = coverage.any_events(evaluation)  # revenue is dated by the win: any event counts
    while start <= last:
        end = next_period_start(start, goal.per)
        inside = (dates >= np.datetime64(start)) & (dates < np.datetime64(end))
        won = int(result.cents[inside].sum()) / 100
        parts = []
        for share, per_deal in zip(shares, measured, strict=True):
            got = round(float(per_deal[inside].sum()), 2)
            wanted = target * float(share.percent.value) / 100
            parts.append({"party": share.party.value, "share": float(share.percent.value),
                          "reading": share.measure, "goal": wanted, "measured": got,
                          "attainment": _percent(got, wanted)})
        complete = end <= as_of
        data = covered.state(start, end)
        missed = complete and data == coverage.FULL and (
            won < target or any(s["measured"] < s["goal"] for s in parts))
        counts = missed and len(periods) >= grace
        periods.append({"start": start.isoformat(), "end": end.isoformat(), "goal": target,
                        "revenue": won, "attainment": _percent(won, target),
                        "deals": int(inside.sum()), "shares": parts, "complete": complete,
                        "data": data, "missed": missed, "in_grace": len(periods) < grace,
                        "counts_as_miss": counts, "credits_owed": credits if counts else [],
                        "escalate_to": escalate if counts else []})
        start = end
    return {"goal": target, "currency": goal.amount.currency, "per": goal.per,
            "periods": periods}


# ============================================================================ recalculation


def _first_events(evaluation: Evaluation) -> np.ndarray:
    """Each lead's first event (µs), or the largest int64 when it has none by the as-of time."""
    history = evaluation.history
    first = np.full(evaluation.lead_count, np.iinfo(np.int64).max, dtype=np.int64)
    seen = np.flatnonzero(history.at <= evaluation.as_of)
    starts = seen[np.r_[True, history.lead[seen][1:] != history.lead[seen][:-1]]] \
        if len(seen) else seen
    first[history.lead[starts]] = history.at[starts]
    return first


def generated_leads(evaluation: Evaluation, party: str | None,
                    marketing: str | None) -> np.ndarray:
    """Leads `party` generated: those it handed off, and for the marketing party those with
    an `engaged` touchpoint by the as-of time (its campaigns brought them in). The same leads
    make a sourced share and the seed's sheet of marketing-generated leads, so the two never
    disagree."""
    history = evaluation.history
    generated = np.zeros(evaluation.lead_count, dtype=bool)
    worked = evaluation.handoff if evaluation.handoff_any_period is None \
        else evaluation.handoff_any_period  # revenue is dated by the win, whenever the lead came
    if party == marketing:
        engaged = (history.event == EVENT_CODE["engaged"]) & (history.at <= evaluation.as_of)
        generated[history.lead[engaged]] = True
    for handoff in evaluation.policy.handoffs:
        if party is not None and handoff.sender and handoff.sender.value == party:
            generated |= worked == handoff.label
    return generated


def _assumptions(policy: m.Policy, marketing: str | None) -> dict:
    assumed: dict = {"close_rate": None, "deal_size": None, "share": None}
    for goal in policy.goals[:1]:
        for item in goal.items:
            if isinstance(item, m.CloseRate):
                assumed["close_rate"] = float(item.percent.value)
            elif isinstance(item, m.DealSize):
                assumed["deal_size"] = float(item.amount.amount)
            elif isinstance(item, m.Share) and item.party.value == marketing:
                assumed["share"] = float(item.percent.value)
    return assumed


_SHEET = ("leads", "customers", "priced", "customer_revenue", "closed", "closed_from_marketing",
          "credited_to_marketing", "cycle_days", "deals")


def recalculation(evaluation: Evaluation, result: Attribution) -> dict:
    """The seed's monthly sheet: per month, from actuals, beside the policy's assumptions."""
    zone = ZoneInfo(evaluation.policy.timezone or "UTC")
    first = _first_events(evaluation)
    exists = first != np.iinfo(np.int64).max
    generated = generated_leads(evaluation, result.marketing, result.marketing) & exists
    lead_month = np.full(evaluation.lead_count, None, dtype=object)
    lead_month[exists] = months(first[exists], zone)

    # per lead: customers are the generated leads won by the as-of time, at their deals' worth
    size = evaluation.lead_count
    revenue = np.bincount(result.lead, weights=result.cents, minlength=size)
    won = np.bincount(result.lead, minlength=size) > 0
    priced = np.bincount(result.lead, weights=result.priced, minlength=size) > 0
    customer = generated & won
    # per deal: closed in the month of the win
    from_marketing = generated[result.lead]
    marketing_cents = party_credit(result, result.marketing)[0] * 100 \
        if result.marketing else np.zeros(result.deal_count)
    cycle = (result.won_at - first[result.lead]) / US_PER_DAY

    all_months = sorted(set(lead_month[generated].tolist()) | set(result.month.tolist()))
    rows = []
    totals = dict.fromkeys(_SHEET, 0.0)
    for month in [*all_months, None]:
        if month is None:
            row = totals
        else:
            leads, deals = generated & (lead_month == month), result.month == month
            row = {"leads": leads.sum(), "customers": (customer & leads).sum(),
                   "priced": (customer & leads & priced).sum(),
                   "customer_revenue": revenue[customer & leads].sum(),
                   "closed": result.cents[deals].sum(),
                   "closed_from_marketing": result.cents[deals & from_marketing].sum(),
                   "credited_to_marketing": marketing_cents[deals].sum(),
                   "cycle_days": cycle[deals].sum(), "deals": deals.sum()}
            for key in _SHEET:
                totals[key] += row[key]
        rows.append(_sheet_row(month, {k: float(v) for k, v in row.items()}))
    return {"assumed": _assumptions(evaluation.policy, result.marketing),
            "months": rows[:-1], "overall": rows[-1]}


def _sheet_row(month: str | None, row: dict) -> dict:
    closed = row["closed"]
    return {
        "month": month,
        "marketing_generated_leads": int(row["leads"]),
        "became_customers": int(row["customers"]),
        "revenue_from_customers": round(row["customer_revenue"]) / 100,
        "deals_closed": int(row["deals"]),
        "closed_revenue": round(closed) / 100,
        "closed_from_marketing_generated": round(row["closed_from_marketing"]) / 100,
        "credited_to_marketing": round(row["credited_to_marketing"]) / 100,
        "close_rate": _percent(row["customers"], row["leads"]),
        "deal_size": round(row["customer_revenue"] / 100 / row["priced"], 2)
        if row["priced"] else None,
        "share": _percent(row["closed_from_marketing"], closed),
        "credited_share": _percent(row["credited_to_marketing"], closed),
        "sales_cycle_days": round(row["cycle_days"] / row["deals"], 1) if row["deals"] else None,
    }


# ============================================================================ the section


def section(evaluation: Evaluation, *, include_deals: bool = True,
            result: Attribution | None = None) -> dict | None:
    """The `attribution` section of the JSON document; None when the policy has no
    `attribution` statement (there is then no rule to credit revenue by)."""
    result = result if result is not None else attribute(evaluation)
    if result is None:
        return None
    zone = ZoneInfo(evaluation.policy.timezone or "UTC")
    statement = result.model
    doc = {
        "model": statement.model,
        "half_life": duration(statement.half_life) if statement.half_life else None,
        "rounding": ROUNDING,
        "currency": currency(evaluation.policy),
        "marketing_party": result.marketing,
        "totals": {
            "deals": result.deal_count, "amount": int(result.cents.sum()) / 100,
            "without_touchpoints": int(result.without_touchpoints.sum()),
            "without_amount": int((~result.priced).sum()),
            "touchpoints": {event: int((result.event == event).sum())
                            for event in TOUCHPOINT_EVENTS},
        },
    }
    for key in (*ROLLUPS, "month"):
        doc[f"by_{key}"] = rollup(result, key)
    doc["goals"] = [goal_periods(evaluation, result, g) for g in evaluation.policy.goals]
    doc["recalculation"] = recalculation(evaluation, result)
    doc["deals"] = deal_records(result, evaluation, zone) if include_deals else []
    return doc
