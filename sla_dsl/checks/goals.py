"""A revenue goal against the leads the policy promises: the funnel arithmetic of `sla plan`
(quota x share / deal size / close rate = leads) beside the `deliver at least N ... per PERIOD`
lines of the party the share belongs to.

The commitment is a floor ("at least"), so the check reads it generously: the largest delivery
line of the party, counted with the most periods a year can hold (53 weeks, 366 days), against
the goal counted with the fewest (52 weeks, 365 days). A warning then means that even the most
generous reading of the promise falls short (W505).

The other way round, W511 (`sla_dsl.planning.funnel.lead_count_gaps`, which `sla plan` prints too):
a lead-count commitment far from what the arithmetic needs, more or fewer, points at the line
that was set on other figures.
"""

from __future__ import annotations

import math

from sla_dsl.diagnostics.codes import Code
from sla_dsl.diagnostics.diagnostic import Reporter
from sla_dsl.language import model as m
from sla_dsl.planning.funnel import DISAGREEMENT, GoalPlan, goal_plans, lead_count_gaps

# The codes this module reports: one owner per code (sla_dsl/diagnostics/codes.py).
GOAL_BEYOND_COMMITMENT = Code(
    "W505", "goal-beyond-commitment", "a goal that needs more leads than are committed",
    owner=__name__, doc="docs/rules/W505.md")
LEAD_COUNT_MISMATCH = Code(
    "W511", "commitment-off-goal",
    "a lead-count commitment far from what the revenue goal's arithmetic needs",
    owner=__name__, doc="docs/rules/W511.md")
CODES = (GOAL_BEYOND_COMMITMENT, LEAD_COUNT_MISMATCH)


_FEWEST_PER_YEAR = {"day": 365, "week": 52, "month": 12, "quarter": 4, "year": 1}
_MOST_PER_YEAR = {"day": 366, "week": 53, "month": 12, "quarter": 4, "year": 1}


def _deliveries(policy: m.Policy, party: str | None) -> list[m.DeliverCount]:
    return [item for c in policy.commitments
            if party is None or c.giver.value == party
            for item in c.items if isinstance(item, m.DeliverCount)]


def _share_span(goal: m.RevenueGoal, party: str | None) -> m.Span:
    share = next((i for i in goal.items if isinstance(i, m.Share) and i.party.value == party),
                 None)
    return share.span if share else goal.amount.span


def _arithmetic(plan: GoalPlan) -> str:
    money = f"{plan.revenue:,.0f} {plan.currency}"
    share = f" x {plan.share:g}%" if plan.party else ""
    return (f"{money}{share} / {plan.deal_size:,.0f} {plan.currency} deal size = "
            f"{plan.customers:,.1f} customers; / {plan.close_rate:g}% close rate = "
            f"{plan.leads:,.1f} leads per {plan.per}")


def check_goals(policy: m.Policy, reporter: Reporter) -> None:
    if reporter.has_errors:
        return  # shares and rates out of range make the arithmetic meaningless
    short = _check_beyond_commitment(policy, reporter)
    _check_lead_counts(policy, reporter, short)


def _check_lead_counts(policy: m.Policy, reporter: Reporter, short: set[int]) -> None:
    """W511 at the commitment line the goal's arithmetic is furthest from, both ways; a plan
    that W505 already found short is not warned about twice."""
    plans = goal_plans(policy)
    for gap in lead_count_gaps(policy):
        if gap.ratio < 1 and plans.index(gap.plan) in short:
            continue
        reporter.warning(
            LEAD_COUNT_MISMATCH, gap.item.span, gap.sentence,
            ("lower the commitment" if gap.ratio > 1 else "raise the commitment")
            + ", or write the share, deal size and close rate it was set with",
            notes=(f"warned when one is at least {DISAGREEMENT:g} times the other; of the "
                   "lead-count commitments along the party's funnel, the closest to the "
                   "arithmetic is compared",))


def _check_beyond_commitment(policy: m.Policy, reporter: Reporter) -> set[int]:
    """W505; returns the indexes (in `goal_plans` order) of the plans it warned about."""
    short: set[int] = set()
    plans = iter(enumerate(goal_plans(policy)))
    for goal in policy.goals:
        shares = [i for i in goal.items if isinstance(i, m.Share)] or [None]
        for share in shares:
            index, plan = next(plans)
            if plan.leads is None or (share and share.measure == "attributed"):
                continue  # credit is not leads brought in: no lead count follows from it
            deliveries = _deliveries(policy, plan.party)
            if not deliveries:
                continue  # no arrival assumption to hold the goal against
            best = max(deliveries,
                       key=lambda d: float(d.count.value) * _MOST_PER_YEAR[d.per])
            promised = float(best.count.value) * _MOST_PER_YEAR[best.per]
            needed = plan.leads * _FEWEST_PER_YEAR[plan.per]
            if promised >= needed:
                continue
            short.add(index)
            who = plan.party or "the parties"
            per_goal = promised / _FEWEST_PER_YEAR[plan.per]
            reporter.warning(
                GOAL_BEYOND_COMMITMENT, _share_span(goal, plan.party),
                f"the goal needs {math.ceil(plan.leads - 1e-9):,} leads per {plan.per} from "
                f"{who}, but {who} commits to deliver at most {per_goal:,.0f} "
                f"('deliver at least {best.count.value} {best.what.value} per {best.per}')",
                "raise the commitment, or revisit the share, deal size or close rate",
                notes=(_arithmetic(plan),))
    return short
