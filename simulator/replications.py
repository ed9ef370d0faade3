"""Independent replications, seeded and reproducible, on both cores, with 95% intervals.

Intervals come from the spread between replications, never from a binomial formula over the
leads of one run: one lead's wait depends on the lead before it. Each replication's random
stream is spawned from the one seed, so the answer is the same however the replications are
spread over processes.
"""

from __future__ import annotations

import math
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

import numpy as np
from scipy import stats

from simulator.model import Queue, run


@dataclass(frozen=True)
class Estimate:
    mean: float
    low: float
    high: float

    @classmethod
    def of(cls, samples: list[float]) -> Estimate:
        values = np.asarray(samples, dtype=float)
        mean = float(values.mean())
        if len(values) < 2:
            return cls(mean, math.nan, math.nan)
        half = float(stats.t.ppf(0.975, len(values) - 1) * values.std(ddof=1)
                     / math.sqrt(len(values)))
        return cls(mean, mean - half, mean + half)

    def to_dict(self, digits: int = 4) -> dict:
        return {"mean": round(self.mean, digits),
                "ci95": [round(self.low, digits), round(self.high, digits)]}


@dataclass(frozen=True)
class QueueResult:
    attainment: Estimate
    mean_wait_hours: Estimate
    utilisation: Estimate
    mean_waiting: Estimate  # leads waiting, time-averaged (Little's law: = rate x mean wait)


def _one(args: tuple[Queue, float, float, float, np.random.SeedSequence]) -> tuple:
    queue, deadline_hours, horizon, warmup, seed = args
    result = run(queue, horizon, warmup, np.random.default_rng(seed))
    waits = result.waits
    return (float(np.mean(waits <= deadline_hours)) if len(waits) else math.nan,
            float(waits.mean()) if len(waits) else math.nan, result.utilisation,
            result.backlog_area / result.horizon)


def replicate(queue: Queue, deadline_hours: float, horizon_hours: float, replications: int,
              seed: int, warmup_hours: float | None = None, workers: int = 2) -> QueueResult:
    warmup = horizon_hours / 10 if warmup_hours is None else warmup_hours
    seeds = np.random.SeedSequence(seed).spawn(replications)
    jobs = [(queue, deadline_hours, horizon_hours, warmup, s) for s in seeds]
    if workers > 1 and replications > 1:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            rows = list(pool.map(_one, jobs))
    else:
        rows = [_one(job) for job in jobs]
    columns = list(zip(*rows, strict=True))
    return QueueResult(*(Estimate.of(list(c)) for c in columns))
