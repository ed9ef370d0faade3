"""Random draws of the scenario's distributions, a whole replication's worth at a time.

Drawing in bulk with numpy before the event loop keeps the loop to bookkeeping; the draws of one
replication come from its own spawned stream, so they are the same however the replications are
spread over processes.
"""

from __future__ import annotations

import numpy as np

from sla_dsl.planning.scenario import FieldDraw, WorkTime, lognormal_parameters


def amounts(work: WorkTime, rng: np.random.Generator, size: int) -> np.ndarray:
    """`size` draws, in the distribution's own unit (hours for times, money for deals)."""
    if work.distribution == "fixed":
        return np.full(size, work.mean_hours)
    if work.distribution == "exponential":
        return rng.exponential(work.mean_hours, size)
    if work.distribution == "lognormal":
        mu, sigma = lognormal_parameters(work.mean_hours, work.sd_hours)
        return rng.lognormal(mu, sigma, size)
    if work.distribution == "gamma":
        return rng.gamma(work.shape, work.mean_hours / work.shape, size)
    return rng.choice(np.asarray(work.values, dtype=float), size)


def seconds(work: WorkTime, rng: np.random.Generator, size: int) -> np.ndarray:
    """Times in whole seconds, at least one: event times stay whole seconds, as a history
    file writes them, so the evaluator reads back exactly what the model did."""
    return np.maximum(1.0, np.rint(amounts(work, rng, size) * 3600.0))


def field_values(draw: FieldDraw, rng: np.random.Generator, size: int) -> np.ndarray:
    """A lead field as the evaluator reads it: text, or None where the lead has none."""
    if draw.kind == "constant":
        return np.full(size, draw.choices[0], dtype=object)
    if draw.kind == "choice":
        picked = rng.choice(len(draw.choices), size, p=np.asarray(draw.shares))
        return np.asarray(draw.choices, dtype=object)[picked]
    a, *rest = draw.parameters
    if draw.kind == "normal":
        numbers = rng.normal(a, rest[0], size)
    elif draw.kind == "lognormal":
        numbers = rng.lognormal(*lognormal_parameters(a, rest[0]), size) if a > 0 \
            else np.zeros(size)
    elif draw.kind == "uniform":
        numbers = rng.uniform(a, rest[0], size)
    else:
        numbers = rng.poisson(max(a, 0.0), size).astype(float)
    return np.rint(numbers).astype(np.int64).astype(str).astype(object)
