"""One replication: leads arrive, wait for a free rep, are touched.

The story, as simpy processes: a Poisson stream of leads; each lead asks the team for a rep
(first come, first served); a rep starts the touch (the first touch happens when the rep starts
it), works for the touch time, and is free again. Measurement is kept beside the model: each
lead's wait is recorded, nothing else.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import simpy


@dataclass(frozen=True)
class Queue:
    """The first-touch queue of one handoff: rates in leads an hour, times in hours."""

    arrivals_per_hour: float
    reps: int
    mean_touch_hours: float
    touch: str = "exponential"


@dataclass
class Replication:
    arrived: np.ndarray  # hours after the start, per measured lead
    waits: np.ndarray  # hours from arrival to the start of the first touch, per lead
    busy_hours: float  # rep time spent touching
    horizon: float
    reps: int
    backlog_area: float  # time integral of the number of leads waiting (for Little's law)

    @property
    def utilisation(self) -> float:
        return self.busy_hours / (self.horizon * self.reps)


def _touch_time(queue: Queue, rng: np.random.Generator) -> float:
    if queue.touch == "fixed":
        return queue.mean_touch_hours
    return float(rng.exponential(queue.mean_touch_hours))


def run(queue: Queue, horizon_hours: float, warmup_hours: float, rng: np.random.Generator,
        opens: Callable[[float], float] | None = None) -> Replication:
    """Leads arriving in [warmup, horizon) are measured; the team starts empty. `opens` gives,
    for a moment (hours after the start), the moment the reps' calendar is next open: a rep
    who takes a lead while closed starts the touch at the opening."""
    env = simpy.Environment()
    team = simpy.Resource(env, capacity=queue.reps)
    waits: list[float] = []
    arrivals_measured: list[float] = []
    state = {"busy": 0.0, "waiting": 0, "area": 0.0, "changed": 0.0}

    def waiting_changes(delta: int) -> None:
        if env.now >= warmup_hours:
            state["area"] += state["waiting"] * (env.now - max(state["changed"], warmup_hours))
        state["waiting"] += delta
        state["changed"] = env.now

    def lead(arrived: float):
        waiting_changes(+1)
        with team.request() as rep:
            yield rep
            if opens is not None:
                opening = opens(env.now)
                if opening > env.now:
                    yield env.timeout(opening - env.now)
            waiting_changes(-1)
            if arrived >= warmup_hours:
                arrivals_measured.append(arrived)
                waits.append(env.now - arrived)
            work = _touch_time(queue, rng)
            state["busy"] += work if env.now >= warmup_hours else 0.0
            yield env.timeout(work)

    def arrivals():
        while True:
            yield env.timeout(float(rng.exponential(1 / queue.arrivals_per_hour)))
            env.process(lead(env.now))

    env.process(arrivals())
    env.run(until=horizon_hours)
    waiting_changes(0)
    return Replication(np.array(arrivals_measured), np.array(waits), state["busy"],
                       horizon_hours - warmup_hours, queue.reps, state["area"])
