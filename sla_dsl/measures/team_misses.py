"""Breaches of a lead clause counted for a party, a team or everyone, period by period: what a
`CLAUSE missed N times per PERIOD by ...` trigger reads ("3 missed first touches in a month
trigger a review meeting").

A breach counts in the local period (the policy's timezone) of its due time, the moment it
became a breach, and only once that moment is at or before the as-of time. `by PARTY` counts the
clause in the blocks that party answers for (the receiving party; the sender for a handoff's
`threshold`); `by team "T"` in the blocks whose round robin deals to team T; without `by`,
every block. A period fires the trigger once its count reaches N; `reached_at` is the breach
that made it N.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

import numpy as np

from sla_dsl.business_time.periods import period_starts
from sla_dsl.business_time.zones import local_dates
from sla_dsl.evaluation.instants import iso_text
from sla_dsl.evaluation.replay import BREACHED, NONE, STOPPED, ClauseResult, Evaluation
from sla_dsl.language import model as m


def counted_by(trigger: m.MissedCount) -> str:
    """Whose breaches the trigger counts, as the report names them."""
    if trigger.party is not None:
        return trigger.party.value
    return f"team {trigger.team.value}" if trigger.team is not None else "everyone"


def _counts_for(trigger: m.MissedCount, result: ClauseResult, policy: m.Policy) -> bool:
    if result.clause != trigger.clause.name:
        return False
    if trigger.party is not None:
        return result.party == trigger.party.value
    if trigger.team is not None:
        handoff = next(h for h in policy.handoffs if h.label == result.handoff)
        return isinstance(handoff.item("round_robin"), m.RoundRobin) \
            and handoff.team == trigger.team.value
    return True


def breach_counts(evaluation: Evaluation, trigger: m.MissedCount) -> list[dict]:
    """One row per period with at least one breach that counts, oldest first."""
    zone = ZoneInfo(evaluation.policy.timezone or "UTC")
    chosen = [r for r in evaluation.clauses if _counts_for(trigger, r, evaluation.policy)]
    dues = [r.due[(r.status == BREACHED) & (r.due != NONE) & (r.due != STOPPED)
                  & (r.due <= evaluation.as_of)] for r in chosen]
    moments = np.sort(np.concatenate(dues)) if dues else np.zeros(0, dtype=np.int64)
    if not len(moments):
        return []
    starts = period_starts(local_dates(moments, zone), trigger.per)
    limit = int(trigger.count.value)
    rows = []
    for start in np.unique(starts):
        here = moments[starts == start]
        rows.append({"clause": trigger.clause.name, "by": counted_by(trigger),
                     "period": trigger.per, "start": str(start), "breaches": len(here),
                     "limit": limit, "triggered": len(here) >= limit,
                     "reached_at": iso_text(int(here[limit - 1]), zone)
                     if len(here) >= limit else None})
    return rows


def readings(trigger: m.MissedCount, rows: list[dict]) -> list[str]:
    """The lines a trigger shows: each period that reached the count and when, else the most
    breaches of one period."""
    reached = [r for r in rows if r["triggered"]]
    if reached:
        return [f"{r['by']}: {r['breaches']} breaches of {r['clause']} in the {r['period']} "
                f"from {r['start']}, the {_ordinal(r['limit'])} at {r['reached_at']}"
                for r in reached]
    most = max((r["breaches"] for r in rows), default=0)
    return [f"most breaches of {trigger.clause.name} by {counted_by(trigger)} in one "
            f"{trigger.per}: {most}"]


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"
