"""`sla plan`'s account of `cap N open leads`: the reps' open leads as a second queue.

A round robin with an open-lead cap deals a lead to any rep holding fewer than N open leads
(assigned, not yet connected nor given up), and a lead that finds every rep at the cap waits
for one to close (`sla simulate`, `simulator/open_caps.py`). Seen from the leads, the team's
`reps x N` places are the servers of a queue whose service is how long a lead stays open:

- how long a lead stays open (the holding time) is its cadence as the simulator works it: the
  first touch after the plan's wait, then attempt k at (k - 1) x the window over the count
  after the handoff (or the spacing apart), until the touch that connects (the scenario's
  chance, less its decay by then) or the last attempt;
- the places fill and empty around the clock (a lead stays open overnight), so the queue is
  solved through the scenario's days by the same forward equations as the reps' queue
  (`queueing.Backlog`, exponential holding times: only their mean is read), arrivals at the
  block's own rate;
- a lead arriving while every place is taken waits for one, and its first touch is met only
  if a place frees before its deadline (the elapsed time from arrival to the deadline, less the
  reaction time): the share of leads dealt in time scales the first-touch estimate, and the
  mean wait for a place adds to the elapsed wait.

What it leaves out: the weights (a lead goes to whichever rep has a place, not by the weights'
rotation among the reps at the cap), the time a waiting lead then waits in its rep's queue
(counted as if the two waits were independent), and a per-period cap alongside.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sla_dsl.business_time.calendar import calendar_for, to_timedelta
from sla_dsl.business_time.open_time import deadlines
from sla_dsl.business_time.zones import US_PER_HOUR
from sla_dsl.language import model as m
from sla_dsl.planning.queueing import Backlog, reached_within, wait_behind
from sla_dsl.planning.scenario import Scenario
from sla_dsl.simulator.outcomes import decays_to_run

_MOST = 2048  # the places' queue's state space (leads open or waiting for a place)
_ROUNDS = 4  # rounds of holding time and wait for a place


@dataclass
class OpenCapEffect:
    """What the cap does to one block's first touches over the scenario's days."""

    cap: int
    places: int  # reps x cap
    holding_hours: float  # how long a lead stays open, on average
    open_per_rep: float  # the open leads a rep holds on average without the cap (Little)
    waits: float  # the share of leads that find every rep at the cap
    in_time: float  # the share of counted leads dealt before their first touch is due
    mean_wait_hours: float  # the mean elapsed wait for a place
    overloaded: bool  # more leads an hour arrive than the places can hold open
    spilled: bool  # the state space's bound was reached

    def document(self) -> dict:
        return {"cap": self.cap, "places": self.places,
                "holding_hours": round(self.holding_hours, 2),
                "open_leads_per_rep": round(self.open_per_rep, 2),
                "waiting_share": round(self.waits, 4),
                "dealt_in_time": round(self.in_time, 4),
                "mean_wait_for_a_rep_hours": round(self.mean_wait_hours, 3)}


def open_cap_of(block) -> int | None:
    """The block's `cap N open leads`, or None."""
    rule = block.dealt
    if isinstance(rule, m.RoundRobin) and rule.open_cap is not None:
        return int(rule.open_cap.value)
    return None


def holding_hours(scenario: Scenario, block, gap: float, first_wait: float,
                  dealt_after: float = 0.0) -> float:
    """How long a lead stays open with its rep, on average (elapsed hours from its dealing,
    `dealt_after` hours after its handoff): until the touch that connects, else its cadence's
    last attempt. The attempts after the first are due from the handoff (the simulator
    spreads them so that delays do not add up), so a lead dealt late is open for less."""
    connect = scenario.outcomes.connect_at(block.level)
    decay = decays_to_run(scenario.outcomes)[0]
    attempts = max(block.attempts, 1)
    still, total = 1.0, 0.0
    for k in range(attempts):
        since_handoff = max(dealt_after + first_wait, k * gap)
        last = k == attempts - 1
        # connected or given up at the last attempt: either way it closes there
        chance = 1.0 if last else connect * decay(since_handoff) if block.until_connected \
            else 0.0
        total += still * chance * (since_handoff - dealt_after)
        still *= 1 - chance
    return max(total, first_wait, 1e-3)


def _gap(policy: m.Policy, block, mids: np.ndarray, rates: np.ndarray) -> float:
    """Elapsed hours between attempts: the spacing, else the window (from the handoff, on its
    calendar) over the count, as the simulator spreads them, arrival-weighted."""
    if block.spacing is not None:
        plain = block.spacing.model_copy(update={"business": False})
        return to_timedelta(plain).total_seconds() / 3600
    if block.window is None:
        return 0.0
    ends = deadlines(mids, block.window, calendar_for(policy, block.window))
    hours = (ends - mids) / US_PER_HOUR
    weights = rates if rates.sum() > 0 else np.ones_like(rates)
    return float(np.average(hours, weights=weights)) / max(block.attempts, 1)


def open_cap_effect(policy: m.Policy, scenario: Scenario, block, reps: int,
                    rates: np.ndarray, mids: np.ndarray, step_hours: float,
                    counted: np.ndarray, first_wait: float) -> OpenCapEffect:
    """The cap's effect on one block whose leads arrive at `rates` (an hour, per step of
    `step_hours` whose middles are `mids`); `counted` marks the steps whose first-touch
    deadline falls inside the horizon; `first_wait` is the plan's elapsed wait for a touch."""
    cap = open_cap_of(block)
    gap = _gap(policy, block, mids, rates)
    due = deadlines(mids, block.first_within, calendar_for(policy, block.first_within))
    reaction = scenario.response.mean_hours if scenario.response else 0.0
    slack = np.maximum((due - mids) / US_PER_HOUR - reaction, 0.0)
    # how long a lead is open depends on how long it waited for a place, and that wait on
    # how long leads are open: a few rounds of each, damped, settle it
    effect = _through_the_days(reps * cap, cap, rates, step_hours, counted, slack,
                               holding_hours(scenario, block, gap, first_wait))
    for _ in range(_ROUNDS):
        if not effect.waits:
            break
        holding = (effect.holding_hours + holding_hours(
            scenario, block, gap, first_wait, effect.mean_wait_hours)) / 2
        effect = _through_the_days(reps * cap, cap, rates, step_hours, counted, slack,
                                   holding)
    return effect


def _through_the_days(places: int, cap: int, rates: np.ndarray, step_hours: float,
                      counted: np.ndarray, slack: np.ndarray, holding: float) -> OpenCapEffect:
    """The places' queue through the scenario's steps, for one holding time."""
    reps = places // cap
    mean_rate = float(rates.mean())
    queue = Backlog(places, holding, _MOST)
    pace = 1.0 / holding
    states = queue.states
    waited = in_time = wait_sum = weight = counted_weight = 0.0
    for i, rate in enumerate(rates.tolist()):
        queue.advance(rate, step_hours / 2, 0.0, True)  # the lead arrives at the middle
        held = slice(queue.low, queue.high)  # the states holding any probability
        now, ahead = queue.now[held], states[held]
        leads = rate * step_hours
        waited += leads * float(now[ahead >= places].sum())
        wait_sum += leads * float(now @ wait_behind(ahead, places, pace))
        weight += leads
        if counted[i]:
            in_time += leads * float(now @ reached_within(ahead, places, pace,
                                                          float(slack[i]), True))
            counted_weight += leads
        queue.advance(rate, step_hours / 2, 0.0, True)
    return OpenCapEffect(
        cap, places, holding, mean_rate * holding / max(reps, 1),
        waited / weight if weight else 0.0,
        in_time / counted_weight if counted_weight else 1.0,
        wait_sum / weight if weight else 0.0,
        mean_rate * holding >= places, queue.spilled > 1e-6)
