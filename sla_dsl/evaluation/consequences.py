"""What the agreement says happens after a breach: the actions, when each fires, and strikes.

For every lead clause with an `on breach of ...` block, each action gets the instant it fires:
`warn at P%` when P% of the allowed time has passed with the clause still open, `escalate to X
after D` and `reassign after D` D after the due time if the clause is still not done then, and
`strike owner` at the due time. An action whose instant is after the as-of time is `scheduled`,
not fired. Strikes are then counted per owner per period of the `strikes` rule.

A `CLAUSE missed N times per PERIOD by ...` trigger ("3 missed first touches in a month trigger
a review meeting") is the same count for a party, a team or everyone: a breach counts in the
local period (the policy's timezone) of its due time, the moment it became a breach, once that
moment is at or before the as-of time. `by PARTY` counts the clause in the blocks that party
answers for (the receiving party; the sender for a handoff's `threshold`); `by team "T"` in the
blocks whose round robin deals to team T; without `by`, every block. A period fires the trigger
once its count reaches N; `reached_at` is the breach that made it N. The evaluator's triggers and
the simulator's runs both count with it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import numpy as np

from sla_dsl.business_time.calendar import BusinessCalendar, calendar_for
from sla_dsl.business_time.open_time import (
    add_open_time_many,
    deadlines,
    open_time_between_many,
)
from sla_dsl.business_time.periods import period_start, period_starts
from sla_dsl.business_time.rep_hours import (
    OwnerCalendars,
    owner_add_open_time,
    owner_open_time_between,
)
from sla_dsl.business_time.zones import local_dates, local_time
from sla_dsl.evaluation.instants import iso_text
from sla_dsl.evaluation.lifecycle import LATEST
from sla_dsl.evaluation.replay import (
    BREACHED,
    NONE,
    STOPPED,
    ClauseResult,
    Evaluation,
    paused_due,
)
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
    # per lead: which round of a recycled lead's handoffs the clock was (None: all the first)
    attempts: np.ndarray | None = None


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
                fires = warn_instants(policy, duration, action, result.start, result.due, timed,
                                      result.hours_of, evaluation.owner_calendars,
                                      PausedRows.of(evaluation, result))
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
                  due: np.ndarray, timed: np.ndarray, hours_of: np.ndarray | None = None,
                  calendars: OwnerCalendars | None = None, paused: PausedRows | None = None
                  ) -> np.ndarray:
    """When `warn at P%` fires for each clock: once P% of its allowed time (open time for a
    business duration) from its start to its due time has passed, the time it was paused
    (`paused`) neither allowed nor passing. A clock that is not `timed` (paused with no due
    time) gets its start, and is the caller's to leave out. A clock counted on its owner's
    hours (`hours_of`, `clocks run on owner hours`) is measured on them too."""
    calendar = calendar_for(policy, duration)
    due = np.where(timed, due, start)
    percent = float(action.at.value)
    if not duration.business:
        fires = start + ((due - start) * percent / 100).astype(np.int64)
    else:
        allowed = owner_open_time_between(start, due, hours_of, calendar, calendars)
        share = (allowed * percent / 100).astype(np.int64)
        fires = owner_add_open_time(start, share, hours_of, calendar, calendars)
    for i, spans in ([] if paused is None else paused.rows()):
        if timed[i]:
            own = None if hours_of is None or not calendars else \
                calendars.calendar(calendar, hours_of[i])
            fires[i] = _paused_warning(int(start[i]), int(due[i]), paused.before(i, spans),
                                       percent, duration, own or calendar, paused.stop(i))
    return fires


@dataclass(frozen=True)
class PausedRows:
    """The pause spans of a clause's rows (`Evaluation.pause_spans`), and where each row's
    clock stopped, met (NONE: still open): a pause that began after that paused nothing."""

    spans: list[list[tuple[int, int]] | None]
    stopped: np.ndarray

    @classmethod
    def of(cls, evaluation: Evaluation, result: ClauseResult,
           rows: np.ndarray | None = None) -> PausedRows | None:
        found = evaluation.pause_spans.get(result.handoff)
        if not found:
            return None
        leads = result.leads if rows is None else result.leads[rows]
        at = result.at if rows is None else result.at[rows]
        return cls([found.get(int(lead)) for lead in leads.tolist()], at)

    def rows(self) -> list[tuple[int, list[tuple[int, int]]]]:
        return [(i, spans) for i, spans in enumerate(self.spans) if spans]

    def stop(self, i: int) -> int:
        """Where row `i`'s clock stopped, met (LATEST: it runs on)."""
        return LATEST if self.stopped[i] == NONE else int(self.stopped[i])

    def before(self, i: int, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
        """The spans that could pause the clock: begun before it stopped."""
        return [(begin, end) for begin, end in spans if begin < self.stop(i)]


def _paused_warning(start: int, due: int, spans: list[tuple[int, int]], percent: float,
                    duration: m.Duration, calendar: BusinessCalendar, stopped: int) -> int:
    """The instant P% of a paused clock's allowed time has run: P% of its running time from
    start to due (the pauses in it left out), counted from the start and pushed back by the
    pauses as its due time is (`paused_due`)."""
    def open_time(a: int, b: int) -> int:
        if not duration.business:
            return b - a
        return int(open_time_between_many(np.array([a]), np.array([b]), calendar)[0])

    paused = sum(open_time(max(b, start), min(e, due)) for b, e in spans
                 if min(e, due) > max(b, start))
    share = int((open_time(start, due) - paused) * percent / 100)
    unpaused = start + share if not duration.business else \
        int(add_open_time_many(np.array([start]), np.array([share]), calendar)[0])
    return paused_due(unpaused, spans, duration, calendar, stopped)


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
    attempts = result.attempt[mask] if result.attempt is not None else None
    return Actions(name, result.clause, result.handoff, to, result.leads[mask],
                   result.owner[mask], fires, fires <= as_of, attempts)


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


# ---------------------------------------------------------------- breaches per party or team


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


def team_readings(trigger: m.MissedCount, rows: list[dict]) -> list[str]:
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


def missed_count_triggers(policy: m.Policy) -> list[m.MissedCount]:
    """Every `missed … times per` part of the policy's cancel and review triggers."""
    return [t for s in policy.statements if isinstance(s, m.Cancel | m.ReviewWhen)
            for t in m.walk_trigger(s.when) if isinstance(t, m.MissedCount)]
