"""Independent replications, seeded and reproducible, on both cores, with 95% intervals.

Intervals come from the spread between replications, never from a binomial formula over the
leads of one run: one lead's wait depends on the lead before it. Each replication's random
stream is spawned from the one seed, so the answer is the same however the replications are
spread over processes.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import numpy as np
from scipy import stats

from simulator.model import Queue, run
from sla_dsl import model as m
from sla_dsl.business_time import BusinessCalendar, deadlines, next_open_many


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


@dataclass(frozen=True)
class Deadline:
    """A first-touch deadline: a plain number of hours, or a policy duration counted on a
    calendar from a start date (hours after which are the model's clock)."""

    hours: float | None = None
    duration: m.Duration | None = None
    calendar: m.Calendar | None = None
    timezone: str = "UTC"
    start: dt.date = dt.date(2026, 1, 5)

    def _calendar(self) -> BusinessCalendar:
        return BusinessCalendar.from_model(self.calendar, self.timezone)

    def business_calendar(self) -> BusinessCalendar:
        """The reps' calendar; always open without one."""
        return (self._calendar() if self.calendar is not None
                else BusinessCalendar.always_open(self.timezone))

    def _origin_us(self) -> int:
        local = dt.datetime.combine(self.start, dt.time(), ZoneInfo(self.timezone))
        return int(local.timestamp()) * _US

    def opens(self) -> Callable[[float], float] | None:
        """Hours after the start -> the next moment the calendar is open."""
        if self.calendar is None:
            return None
        calendar, origin = self._calendar(), self._origin_us()

        def opens(hours: float) -> float:
            moment = origin + round(hours * 3600 * _US)
            opening = int(next_open_many(np.array([moment]), calendar)[0])
            return hours if opening == moment else (opening - origin) / (3600 * _US)

        return opens

    def met(self, arrived: np.ndarray, waits: np.ndarray) -> np.ndarray:
        if self.duration is None:
            return waits <= self.hours
        origin = self._origin_us()
        starts = origin + np.round(arrived * 3600 * _US).astype(np.int64)
        touched = origin + np.round((arrived + waits) * 3600 * _US).astype(np.int64)
        return touched <= deadlines(starts, self.duration, self.business_calendar())


_US = 1_000_000


def _one(args: tuple[Queue, Deadline, float, float, np.random.SeedSequence]) -> tuple:
    queue, deadline, horizon, warmup, seed = args
    result = run(queue, horizon, warmup, np.random.default_rng(seed), deadline.opens())
    waits = result.waits
    met = deadline.met(result.arrived, waits)
    return (float(np.mean(met)) if len(waits) else math.nan,
            float(waits.mean()) if len(waits) else math.nan, result.utilisation,
            result.backlog_area / result.horizon)


def replicate(queue: Queue, deadline: Deadline | float, horizon_hours: float,
              replications: int, seed: int, warmup_hours: float | None = None,
              workers: int = 2) -> QueueResult:
    warmup = horizon_hours / 10 if warmup_hours is None else warmup_hours
    if not isinstance(deadline, Deadline):
        deadline = Deadline(hours=float(deadline))
    seeds = np.random.SeedSequence(seed).spawn(replications)
    jobs = [(queue, deadline, horizon_hours, warmup, s) for s in seeds]
    if workers > 1 and replications > 1:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            rows = list(pool.map(_one, jobs))
    else:
        rows = [_one(job) for job in jobs]
    columns = list(zip(*rows, strict=True))
    return QueueResult(*(Estimate.of(list(c)) for c in columns))
