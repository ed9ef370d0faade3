"""Dealing a block's leads inside the event loop, for a round robin with `cap N open leads`.

Which rep may take a lead then depends on what the reps hold open at that moment, and that
depends on the work (a lead stops being open when its connecting touch ends, or when its
cadence ends unconnected): so such a block cannot be dealt before the loop runs, as
`simulator.routing.deal` deals the others. The rule is the same smooth weighted round robin over
the reps not at a cap (the open cap, and the per-period cap if the block has one too); a lead that
finds every rep at a cap waits, in arrival order, for the next lead to close (or, when only the
per-period cap stops the reps, for the next period).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from sla_dsl.business_time.periods import next_period_start
from sla_dsl.business_time.zones import US_PER_DAY, US_PER_SECOND, ZoneOffsets, date_of, day_number
from sla_dsl.language import model as m
from sla_dsl.simulator.routing import period_keys

NO_CAP = 2**62  # the open cap of a block that has none


@dataclass
class Dealer:
    """One block's rotation and what each of its reps holds open (one replication's state is
    a `fresh()` copy: the template is shared)."""

    reps: list[int]
    weights: list[float]
    open_cap: int
    period_cap: int | None = None
    period_key: Callable[[float], int] | None = None  # seconds -> the cap period's key
    period_after: Callable[[int], float] | None = None  # key -> seconds the next one opens
    held: list[int] = field(default_factory=list)
    current: list[float] = field(default_factory=list)
    counts: dict[int, int] = field(default_factory=dict)
    key: int | None = None
    waiting: deque = field(default_factory=deque)
    retry_at: float = float("inf")

    def fresh(self) -> Dealer:
        return Dealer(self.reps, self.weights, self.open_cap, self.period_cap,
                      self.period_key, self.period_after, [0] * len(self.reps),
                      [0.0] * len(self.reps))

    def pick(self, now: float) -> int | None:
        """The rep the next lead goes to at `now` (None: every rep is at a cap)."""
        if self.period_key is not None:
            key = self.period_key(now)
            if key != self.key:
                self.key, self.counts = key, {}
        cap, held, counts = self.period_cap, self.held, self.counts
        eligible = [j for j in range(len(self.reps)) if held[j] < self.open_cap
                    and (cap is None or counts.get(j, 0) < cap)]
        if not eligible:
            return None
        current, weights = self.current, self.weights
        for j in eligible:
            current[j] += weights[j]
        pick = max(eligible, key=current.__getitem__)
        current[pick] -= sum(weights[j] for j in eligible)
        held[pick] += 1
        counts[pick] = counts.get(pick, 0) + 1
        return self.reps[pick]

    def release(self, rep: int) -> None:
        self.held[self.reps.index(rep)] -= 1

    def next_period(self) -> float | None:
        """When the reps stopped only by the per-period cap may take leads again (None: an
        open cap stops them too, so a closing lead is what frees one)."""
        if self.period_after is None or self.key is None \
                or all(h >= self.open_cap for h in self.held):
            return None
        return self.period_after(self.key)


def dealer(block_rule: m.RoundRobin, reps: list[int], weights: np.ndarray, origin: int,
           offsets: ZoneOffsets) -> Dealer:
    """The template dealer of a block with an open cap (and its per-period cap, if any); a
    block without one (dealt in the loop because its leads come back or change owner) holds no
    cap on open leads."""
    cap = block_rule.cap
    open_cap = int(block_rule.open_cap.value) if block_rule.open_cap is not None else NO_CAP
    if cap is None:
        return Dealer(list(reps), weights.tolist(), open_cap)
    per = cap.per

    def key_of(now: float) -> int:
        at = np.array([origin + int(now) * US_PER_SECOND], dtype=np.int64)
        return int(period_keys(at, per, offsets)[0])

    def after(key: int) -> float:
        day = day_number(next_period_start(date_of(key), per))
        opening = int(offsets.resolve(np.array([day * US_PER_DAY], dtype=np.int64))[0])
        return (opening - origin) / US_PER_SECOND

    return Dealer(list(reps), weights.tolist(), open_cap, int(cap.count.value), key_of, after)
