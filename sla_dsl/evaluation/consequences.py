"""What the agreement says happens after a breach: the actions, when each fires, and strikes.

For every lead clause with an `on breach of ...` block, each action gets the instant it fires:
`warn at P%` when P% of the allowed time has passed with the clause still open, `escalate to X
after D` and `reassign after D` D after the due time if the clause is still not done then, and
`strike owner` at the due time. An action whose instant is after the as-of time is `scheduled`,
not fired. Strikes are then counted per owner per period of the `strikes` rule.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import numpy as np

from sla_dsl.business_time.calendar import calendar_for
from sla_dsl.business_time.open_time import add_open_time_many, deadlines, open_time_between_many
from sla_dsl.business_time.periods import period_start
from sla_dsl.business_time.zones import local_time
from sla_dsl.evaluation.replay import BREACHED, NONE, STOPPED, ClauseResult, Evaluation
from sla_dsl.language import model as m


@dataclass
class Actions:
    """One action of one block, for the leads it applies to (columns, like ClauseResult)."""

    action: str
    clause: str
    handoff: str
    to: str | None
    leads: np.ndarray
    owners: np.ndarray  # per lead: whose lead it was in the clause's block
    fires: np.ndarray
    fired: np.ndarray


def breach_blocks(policy: m.Policy, result: ClauseResult) -> list[m.Consequence]:
    """The `on breach of ...` blocks that apply to one clause of one handoff block."""
    return [c for c in policy.consequences
            if c.trigger == "breach" and c.clause.name == result.clause
            and c.scope_label in (None, result.handoff)]


def _still_open(result: ClauseResult, moment: np.ndarray) -> np.ndarray:
    """Not done by `moment`. A threshold is judged once, at the handoff: a lead sent too early
    stays a breach whatever happens next, so its actions always fire."""
    if result.clause == "threshold":
        return np.ones(len(result.leads), dtype=bool)
    return (result.at == NONE) | (result.at > moment)


def actions_for(evaluation: Evaluation, result: ClauseResult) -> list[Actions]:
    policy = evaluation.policy
    out: list[Actions] = []
    blocks = breach_blocks(policy, result)
    if not blocks:
        return out
    duration = clause_duration(policy, result)
    # a clock paused with no end has no due time: nothing is timed from it until it resumes
    timed = (result.due != STOPPED) & (result.due != NONE)
    for block in blocks:
        for action in block.actions:
            if isinstance(action, m.Warn) and duration is not None:
                fires = warn_instants(policy, duration, action, result.start, result.due, timed)
                mask = timed & _still_open(result, fires)
                out.append(_actions("warn", result, None, mask, fires, evaluation.as_of))
                continue
            mask = (result.status == BREACHED) & timed
            if isinstance(action, m.Strike):
                out.append(_actions("strike", result, None, mask, result.due, evaluation.as_of))
            elif isinstance(action, m.Escalate | m.Reassign):
                fires = after_due_instants(policy, action, result.due, timed)
                name = "escalate" if isinstance(action, m.Escalate) else "reassign"
                to = action.to.value if isinstance(action, m.Escalate) else None
                out.append(_actions(name, result, to, mask & _still_open(result, fires), fires,
                                    evaluation.as_of))
    return out


def warn_instants(policy: m.Policy, duration: m.Duration, action: m.Warn, start: np.ndarray,
                  due: np.ndarray, timed: np.ndarray) -> np.ndarray:
    """When `warn at P%` fires for each clock: once P% of its allowed time (open time for a
    business duration) from its start to its due time has passed. A clock that is not `timed`
    (paused with no due time) gets its start, and is the caller's to leave out."""
    calendar = calendar_for(policy, duration)
    due = np.where(timed, due, start)
    allowed = open_time_between_many(start, due, calendar) \
        if duration.business else due - start
    share = (allowed * float(action.at.value) / 100).astype(np.int64)
    return (add_open_time_many(start, share, calendar) if duration.business
            else start + share)


def after_due_instants(policy: m.Policy, action: m.Escalate | m.Reassign, due: np.ndarray,
                       timed: np.ndarray) -> np.ndarray:
    """When `escalate ... after D` or `reassign after D` fires for each clock: D after its due
    time (at the due time without `after`); a clock that is not `timed` keeps its marker."""
    fires = due.copy()
    if action.after is not None:
        fires[timed] = deadlines(due[timed], action.after, calendar_for(policy, action.after))
    return fires


def _actions(name: str, result: ClauseResult, to: str | None, mask: np.ndarray,
             fires: np.ndarray, as_of: int) -> Actions:
    fires = fires[mask]
    return Actions(name, result.clause, result.handoff, to, result.leads[mask],
                   result.owner[mask], fires, fires <= as_of)


def clause_duration(policy: m.Policy, result: ClauseResult) -> m.Duration | None:
    """The `within` of the clause a result judges (None for the threshold): what its warning's
    share of allowed time is counted on."""
    handoff = next((h for h in policy.handoffs if h.label == result.handoff), None)
    if handoff is None:
        return None
    item = handoff.item({"first touch": "first_touch", "touches": "touches",
                         "disposition": "disposition"}.get(result.clause, ""))
    if isinstance(item, m.FirstTouch | m.Disposition | m.Touches):
        return item.within
    return None


def all_actions(evaluation: Evaluation) -> list[Actions]:
    return [a for result in evaluation.clauses for a in actions_for(evaluation, result)]


def strike_counts(evaluation: Evaluation, actions: list[Actions]) -> list[dict]:
    """Strikes that have fired, per owner per period of each `strikes` rule, and whether the
    rule's consequence (review, cancel, escalate) is triggered."""
    zone = ZoneInfo(evaluation.policy.timezone or "UTC")
    strikes = [a for a in actions if a.action == "strike"]
    rows: list[dict] = []
    for rule in evaluation.policy.strike_rules:
        counts: dict[tuple[str, dt.date], int] = {}
        for group in strikes:
            owners = group.owners[group.fired]
            for owner, moment in zip(owners, group.fires[group.fired].tolist(), strict=True):
                local = local_time(moment, zone)
                key = (owner or "(no owner)", period_start(local.date(), rule.per))
                counts[key] = counts.get(key, 0) + 1
        limit = int(rule.count.value)
        for (owner, start), count in sorted(counts.items(), key=lambda kv: (kv[0][1], kv[0][0])):
            rows.append({"owner": owner, "period": rule.per, "start": start.isoformat(),
                         "strikes": count, "limit": limit, "then": rule.then,
                         "triggered": count >= limit})
    return rows
