"""Under `fifo`, when a block's follow-ups join its reps' queue: at their due times, not spread.

A follow-up waits in the same queue as the first touches, ordered by when it fell due, so a
lead handed off waits behind every follow-up that fell due before it. Those due times are not
spread over the open hours: a spacing counted from a touch often ends after the closing
(`spacing at least 4 hours` after a 14:00 touch is 18:00, an hour after company-x closes), and
those follow-ups wait for the opening ahead of the night's leads, which wait there too: about
half of company-x's hot follow-ups. Counted as even work over the open hours, they left a
first-touch estimate of 98.3% under `fifo` against 79.5% simulated.

So each arrival step's leads are walked through their cadence as the simulator works them
(`simulator/engine.py`): the first attempt when the reps' calendar opens and the queue's wait is
over (the wait the chain estimates for that step, plus the mean response); each next attempt
due a spacing later as the evaluator counts it (else spread over the window from the handoff),
made only while it falls inside the cadence's window and the horizon; each attempt going on
only if the ones before missed, at the scenario's connect chance times the decay at the lead's
delay (a cadence `until connected`). What falls due is an arrival on the queue at its due time,
counted by `first_touch_plan` in first touches' worth of work.

Under `earliest-due-first` in a queue the cadences' work fills, the same walk places each
follow-up where its key (its window's end) puts it among the first touches' keys (their
deadlines): deferred until the first touches due before its window's end are taken. A
follow-up is made only inside its window, so an overloaded queue's wait cuts its own
follow-ups short, as in the simulation: counted whole and spread over the open hours, the
shipped inbound desk's backlog grew all quarter and its mean wait was 186.6 elapsed hours
where the simulator has about 134.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sla_dsl.business_time.calendar import BusinessCalendar, calendar_for, to_timedelta
from sla_dsl.business_time.open_time import add_open_time_many, deadlines, next_open_many
from sla_dsl.business_time.zones import US_PER_HOUR, US_PER_SECOND
from sla_dsl.language import model as m
from sla_dsl.planning.grid import Grid
from sla_dsl.planning.scenario import Scenario
from sla_dsl.simulator.context import SPACING_SLACK
from sla_dsl.simulator.outcomes import Decay, decays_to_run
from sla_dsl.simulator.routing import Block

BANDS = 4  # shares of the leads followed through their cadence, each at its band of the wait
_GONE = 1e-6  # a step's chance of a further attempt below which its cadence is left off


@dataclass
class Waiting:
    """How long a task joining the queue at each step waits, in the reps' open hours, as the
    chain has it: the mean, the share that finds a rep free, and the mean squared wait."""

    mean: np.ndarray
    free: np.ndarray
    second: np.ndarray

    def bands(self, count: int) -> list[np.ndarray]:
        """The wait at the middles of `count` equal bands of its distribution at each step:
        none for the share finding a rep free, and for the rest a gamma wait with their mean
        and spread (a short queue's wait spreads like an exponential one, a long backlog's
        hardly at all)."""
        from scipy.special import gammaincinv

        free = np.clip(self.free, 0.0, 1.0 - 1e-9)
        mean = self.mean / (1.0 - free)
        variance = np.maximum(self.second / (1.0 - free) - mean * mean, 1e-12)
        shape = np.maximum(mean * mean / variance, 1e-3)
        out = []
        for band in range(count):
            middle = (band + 0.5) / count
            share = np.clip((middle - free) / (1.0 - free), 0.0, 1.0)
            wait = gammaincinv(shape, share) * variance / np.maximum(mean, 1e-12)
            out.append(np.where((middle < free) | (mean <= 0), 0.0, wait))
        return out


@dataclass
class Cadence:
    """A block's cadence as its follow-ups are walked: what does not depend on the queue's
    wait, worked out once for every round of `first_touch_plan`'s settling."""

    block: Block
    window_end: np.ndarray  # µs, per arrival step (the largest int64: no window)
    spacing: BusinessCalendar | None  # a spacing in business time: the calendar it counts on
    decay: Decay  # the first preset, as the rest of the plan reads it
    connect: float
    reaction_us: int  # the mean response, before each attempt
    # under earliest-due-first, the first-touch deadline (µs) of the block's leads arriving at
    # each step's middle: a follow-up waits in the queue's order where a first touch due at its
    # window's end would (None: at its due time, fifo's order)
    keyed: np.ndarray | None = None


def cadence_of(policy: m.Policy, scenario: Scenario, block: Block, steps: Grid) -> Cadence:
    """The block's cadence for leads arriving at each step's middle: its window's end on the
    block's clock calendar (the simulator's), the calendar its spacing counts on."""
    if block.window is None:
        window_end = np.full(len(steps.starts), np.iinfo(np.int64).max)
    else:
        window_end = deadlines(steps.mids, block.window,
                               calendar_for(policy, block.first_within or block.window))
    spacing = block.spacing
    calendar = calendar_for(policy, spacing) if spacing is not None and spacing.business \
        else None
    reaction = scenario.response.mean_hours if scenario.response else 0.0
    keyed = None
    if scenario.discipline == "earliest-due-first" and block.first_within is not None:
        due = deadlines(steps.mids, block.first_within, calendar_for(policy, block.first_within))
        keyed = np.maximum.accumulate(due)
    return Cadence(block, window_end, calendar, decays_to_run(scenario.outcomes)[0],
                   scenario.outcomes.connect_at(block.level), int(reaction * US_PER_HOUR),
                   keyed)


def follow_up_arrivals(cadence: Cadence, rates: np.ndarray, steps: Grid, waiting: Waiting
                       ) -> np.ndarray:
    """The block's follow-ups an hour per step, placed at the step they fall due in. The
    leads arrive at `rates` an hour; `waiting` is the queue's wait for a task joining it at
    each step, which says when each attempt is made. The leads are followed in `BANDS` equal
    shares, each waiting its band of the wait at every attempt: read at its mean, every
    lead of a step would fall due at one moment, and an overloaded queue's leads would all
    miss their window or all make it."""
    profile = np.zeros(len(steps.starts))
    if cadence.block.attempts < 2 or not rates.any():
        return profile
    for wait in waiting.bands(BANDS):
        profile += _due_follow_ups(cadence, rates, steps, wait)
    return profile / BANDS / (steps.step_us / US_PER_HOUR)


def _due_follow_ups(cadence: Cadence, rates: np.ndarray, steps: Grid, open_wait: np.ndarray
                    ) -> np.ndarray:
    """The follow-ups falling due in each step (leads, not an hourly rate) of the leads
    arriving at `rates` an hour, each attempt made after `open_wait` (open hours, per step)."""
    block, window_end = cadence.block, cadence.window_end
    profile = np.zeros(len(steps.starts))
    handed = steps.mids
    made = _made_at(handed, steps, open_wait, cadence.reaction_us)
    going = rates * (steps.step_us / US_PER_HOUR)  # leads still worked, per arrival step
    least = _GONE * float(going.max())
    ends_on_connect = block.until_connected or block.window is None
    for k in range(1, block.attempts):
        if ends_on_connect:
            going = going * (1 - cadence.connect * _decay_at(cadence.decay, made - handed))
        alive = np.flatnonzero(going > least)
        if not alive.size:
            break
        due = _next_due(cadence, k, made[alive], handed[alive], window_end[alive])
        kept = (due <= window_end[alive]) & (due < steps.end)
        alive, due = alive[kept], due[kept]
        still = np.zeros_like(going)
        still[alive] = going[alive]
        going = still
        joins = _joins(cadence, due, window_end[alive], steps)
        inside = joins < steps.end
        profile += np.bincount(steps.index(joins[inside]), weights=going[alive][inside],
                               minlength=len(profile))
        made = np.full(made.shape, steps.end)
        made[alive] = _made_at(joins, steps, open_wait, cadence.reaction_us)
    return profile


def _joins(cadence: Cadence, due: np.ndarray, window_end: np.ndarray, steps: Grid
           ) -> np.ndarray:
    """Where follow-ups falling due at `due` take their place in the queue's order. Under
    fifo at their due time. Under earliest-due-first (planned so when the cadences' work
    fills the open hours, and the reps are never idle) a follow-up's key is its window's
    end and a first touch's its deadline, so the reps take it when they take a first touch
    due then: it joins at the step whose leads' deadline is its window's end, behind every
    first touch handed on before (at its due time if that is later). One keyed past the
    horizon's last deadline is not reached within the horizon."""
    if cadence.keyed is None:
        return due
    at = np.searchsorted(cadence.keyed, window_end, side="left")
    ordered = np.where(at < len(steps.starts),
                       steps.mids[np.minimum(at, len(steps.starts) - 1)], steps.end)
    return np.maximum(due, ordered)


def _made_at(ready: np.ndarray, steps: Grid, open_wait: np.ndarray, reaction_us: int
             ) -> np.ndarray:
    """When an attempt ready at `ready` is made: the reps' next open moment, the queue's wait
    at that step in open time after it, and the response."""
    at = np.clip(steps.index(ready), 0, len(steps.starts) - 1)
    wait = np.rint(open_wait[at] * US_PER_HOUR).astype(np.int64)
    begins = next_open_many(ready, steps.calendar)
    return add_open_time_many(begins, wait, steps.calendar) + reaction_us


def _decay_at(decay: Decay, delay_us: np.ndarray) -> np.ndarray:
    """The decay's multiplier at each delay, as `Decay.__call__` reads it, for arrays."""
    return decay.many(np.maximum(delay_us, 0) / US_PER_HOUR)


def _next_due(cadence: Cadence, k: int, made: np.ndarray, handed: np.ndarray,
              window_end: np.ndarray) -> np.ndarray:
    """When attempt `k` falls due after the one made at `made`, by the simulator's rule: the
    spacing (business time as the evaluator counts it; plain days an hour longer, never early
    across a clock change), else the k-th share of the window from the handoff."""
    spacing = cadence.block.spacing
    if spacing is None:
        due = handed + (window_end - handed) // cadence.block.attempts * k
        return np.maximum(due, made + US_PER_SECOND)
    if cadence.spacing is not None:
        return deadlines(made, spacing, cadence.spacing)
    plain = to_timedelta(spacing).total_seconds()
    if spacing.unit not in ("minute", "hour"):
        plain += SPACING_SLACK
    return made + int(plain * US_PER_SECOND)
