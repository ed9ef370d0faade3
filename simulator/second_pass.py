"""The second pass of a replication: the first level's SQLs handed on and worked again.

A first-level lead that connects and qualifies (an SQL, `outcomes.qualify`) is handed on by the
rep who qualified it when its block's receiver is the second level's sender (an MDR's SQL, not
marketing's own nurture). At the moment the connecting touch ends, the rep records the fields
the second level reads (`levels.SecondLevel`: with its threshold met for `outcomes.booked` of
them) and accepts the lead; one second later comes the `handoff`, and the policy's own routing
over the second level's blocks picks the block. A lead no block of that level takes stays where
it was, an SQL of the first level whose opportunity and win follow its first connect.

The handed-on leads are a pass of their own through the same event loop: their block's team
deals and works them (caps, cadences, calendars, queue discipline), the connect decays with the
wait from the second handoff, and the funnel continues from the second connect: an opportunity
(`accepted` by the advisor) with probability `outcomes.opportunity`, else `rejected`; won with
probability `outcomes.win`, a sales cycle after that connect.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
from sla_dsl.simulator import engine
from sla_dsl.simulator.context import Context
from sla_dsl.simulator.history_out import EventLog
from sla_dsl.simulator.levels import routed_blocks
from sla_dsl.simulator.outcomes import Decay
from sla_dsl.simulator.passes import (
    Decided,
    Drawn,
    attempt_events,
    deal_leads,
    decide,
    decision_events,
    work_leads,
)

from sla_dsl.business_time.zones import US_PER_SECOND


@dataclass
class Handed:
    """The leads handed on, in handoff order, and what the second level made of them."""

    passed: np.ndarray  # per first-level lead: handed on to the second level
    lead: np.ndarray  # per handed-on lead: the replication's lead number
    qualified_at: np.ndarray  # seconds: the first level's decision (the handoff is 1 s later)
    qualified_by: np.ndarray  # rep id of the first-level rep who qualified it
    fields: dict[str, np.ndarray]  # what that rep recorded for the second level
    drawn: Drawn
    trace: engine.Trace
    work: np.ndarray
    window_end: np.ndarray
    decided: Decided

    def events(self, log: EventLog, context: Context) -> tuple[np.ndarray, np.ndarray]:
        """The first-level rep's update and handoff, the advisor's assignment, attempts and
        decisions; returns the wins' moments and amounts."""
        origin, lead = context.origin, self.lead
        at_us = origin + self.qualified_at.astype(np.int64) * US_PER_SECOND
        log.add(lead, at_us, "updated", self.qualified_by, **self.fields)
        log.add(lead, at_us + US_PER_SECOND, "handoff",
                np.asarray(context.second.hand_actor)[self.qualified_by])
        drawn = self.drawn
        dealt = drawn.owner >= 0
        log.add(lead[dealt], origin + drawn.assigned[dealt].astype(np.int64) * US_PER_SECOND,
                "assigned", drawn.owner[dealt])
        attempt_events(log, context, lead, self.trace)
        return decision_events(log, context, lead, drawn, self.trace, self.work,
                               self.window_end, self.decided, self.decided.outcome.opportunity,
                               "not an opportunity", np.ones(len(lead), dtype=bool))


def hand_on(context: Context, drawn: Drawn, first: Decided, decay: Decay,
            rng: np.random.Generator) -> Handed:
    """Which SQLs the first level hands on, to which block, and the second level's work."""
    second, end = context.second, context.end
    sql = np.flatnonzero(first.outcome.sql & second.feeds[drawn.block] & (first.at + 1 < end))
    sql = sql[np.argsort(first.at[sql], kind="stable")]
    booked = rng.random(len(sql)) < context.scenario.outcomes.booked
    if second.misses is None:
        booked[:] = True
    names = sorted(set(second.meets) | set(second.misses or {}))
    recorded = {name: np.where(booked, second.meets.get(name),
                               (second.misses or {}).get(name)).astype(object)
                for name in names}
    columns = {name: column[sql] for name, column in drawn.fields.items()}
    columns.update(recorded)
    labels = routed_blocks(context.policy, second.handoffs, columns, len(sql))
    block = context.block_of(labels)
    taken = block >= 0
    sql, block = sql[taken], block[taken]
    handed = first.at[sql] + 1.0
    owner, assigned = deal_leads(context, handed, block)
    later = Drawn(handed, {}, block, owner, assigned)
    trace, work, window_end = work_leads(context, later, decay, rng)
    outcomes = dataclasses.replace(context.scenario.outcomes, qualify=1.0)  # SQLs already
    decided = decide(context, trace, work, outcomes, rng)
    passed = np.zeros(len(drawn.handed), dtype=bool)
    passed[sql] = True
    return Handed(passed, sql, first.at[sql], first.rep[sql],
                  {name: column[taken] for name, column in recorded.items()}, later, trace,
                  work, window_end, decided)
