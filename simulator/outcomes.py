"""What a touch achieves: the chance it connects, shrinking with the lead's wait, and the funnel
after a connect (qualified, opportunity, won, deal size, sales cycle).

The decay multiplies the base connect probability by a piecewise log-linear function of the
response delay (handoff to this attempt, wall-clock): flat at the first point's multiplier
before it, straight lines between points on a log scale, flat after the last. Two presets carry
the published studies' figures; both are observational (firms that answer fast differ from
firms that do not in more than speed), so a planner sees results under both, not one truth:

- `hbr-2011`: Oldroyd, McElheran and Elkington, "The Short Life of Online Sales Leads",
  Harvard Business Review, March 2011: firms that tried within an hour were nearly 7 times as
  likely to qualify the lead as those that tried an hour later, and over 60 times as likely as
  those that waited 24 hours or more.
- `mit-2007`: Oldroyd and InsideSales.com, "Lead Response Management Study" (MIT, 2007): the
  odds of contacting a lead fall about 100 times from a call within 5 minutes to one at 30.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass

import numpy as np

from sla_dsl.planning.scenario import Outcomes, WorkTime, hours
from sla_dsl.simulator.draws import amounts

PRESETS: dict[str, tuple[tuple[float, float], ...]] = {
    "hbr-2011": ((1.0, 1.0), (2.0, 1 / 7), (24.0, 1 / 60)),
    "mit-2007": ((5 / 60, 1.0), (0.5, 1 / 100)),
    "none": ((0.0, 1.0),),
}


@dataclass(frozen=True)
class Decay:
    """Delay in hours -> multiplier of the base connect probability."""

    name: str
    points: tuple[tuple[float, float], ...]

    @classmethod
    def of(cls, decay: str | dict[str, float]) -> Decay:
        if isinstance(decay, str):
            return cls(decay, PRESETS[decay])
        points = sorted((hours(delay) or 0.0, value) for delay, value in decay.items())
        return cls("custom", tuple(points))

    def __post_init__(self) -> None:
        object.__setattr__(self, "_at", [p[0] for p in self.points])
        object.__setattr__(self, "_log", [math.log(p[1]) for p in self.points])

    def __call__(self, delay_hours: float) -> float:
        at, log = self._at, self._log  # type: ignore[attr-defined]
        if delay_hours <= at[0]:
            return self.points[0][1]
        i = bisect.bisect_right(at, delay_hours)
        if i == len(at):
            return self.points[-1][1]
        share = (delay_hours - at[i - 1]) / (at[i] - at[i - 1])
        return math.exp(log[i - 1] + share * (log[i] - log[i - 1]))

    def many(self, delay_hours: np.ndarray) -> np.ndarray:
        """`self(delay)` for an array of delays: the planner reads the decay at every step's
        attempts at once (np.interp is flat outside the points, as the presets are)."""
        return np.exp(np.interp(delay_hours, self._at, self._log))  # type: ignore[attr-defined]

    def table(self, delays: tuple[float, ...] = (0.0, 5 / 60, 0.5, 1, 2, 4, 24, 48)
              ) -> list[tuple[float, float]]:
        return [(d, self(d)) for d in delays]


def decays_to_run(outcomes: Outcomes) -> list[Decay]:
    """`both` (the default) runs the two published presets, HBR first."""
    if outcomes.decay == "both":
        return [Decay.of("hbr-2011"), Decay.of("mit-2007")]
    return [Decay.of(outcomes.decay)]


@dataclass
class Funnel:
    """Per lead, what came of a connect (False and NaN for leads never connected)."""

    sql: np.ndarray
    opportunity: np.ndarray
    won: np.ndarray
    deal: np.ndarray  # money, for won leads
    won_after: np.ndarray  # seconds from the connect to the win


def funnel(connected: np.ndarray, outcomes: Outcomes, deal_size: WorkTime | None,
           rng: np.random.Generator, qualified: np.ndarray | None = None) -> Funnel:
    """Without a deal size (none in the scenario or the goals) deals have no amount.
    `qualified`: the connects that are SQLs, when decided already (the dice are drawn all the
    same, so the later ones are the same)."""
    size = len(connected)
    sql = connected & (rng.random(size) < outcomes.qualify)
    if qualified is not None:
        sql = connected & qualified
    opportunity = sql & (rng.random(size) < outcomes.opportunity)
    won = opportunity & (rng.random(size) < outcomes.win)
    sizes = amounts(deal_size, rng, size) if deal_size is not None else np.full(size, np.nan)
    deal = np.where(won, np.rint(sizes), np.nan)
    cycle = np.rint(amounts(outcomes.sales_cycle, rng, size) * 3600.0)
    return Funnel(sql, opportunity, won, deal, cycle)
