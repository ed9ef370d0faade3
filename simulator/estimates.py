"""A quantity estimated from independent replications: its mean and 95% t-interval.

The interval comes from the spread between replications, never from a binomial formula over the
leads of one run: one lead's wait depends on the lead before it, so the leads of one run are not
independent draws, while replications (each on its own spawned stream) are.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats


@dataclass(frozen=True)
class Estimate:
    mean: float
    low: float
    high: float

    @classmethod
    def of(cls, samples: list[float]) -> Estimate:
        """The mean and 95% t-interval over replications (no interval from one)."""
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
