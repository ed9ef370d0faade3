"""The plan's horizon in equal steps, on which the forward equations carry rates and waits.

One grid serves the first-touch equations and the follow-up walk alike, so that a step's
middle and the step a moment falls in are reckoned once. A team's grid carries the calendar
its reps work (`of_team`), which the follow-up walk needs to place an attempt in open hours.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from sla_dsl.business_time.calendar import BusinessCalendar


@dataclass(frozen=True)
class Grid:
    """Steps of `step_us` from `starts` (µs since the epoch, UTC) to `end`, the horizon's."""

    starts: np.ndarray
    step_us: int
    end: int
    calendar: BusinessCalendar | None = None  # the reps' own, on a team's grid

    @property
    def mids(self) -> np.ndarray:
        return self.starts + self.step_us // 2

    def index(self, moments: np.ndarray) -> np.ndarray:
        """The step each moment falls in (may be out of range)."""
        return (moments - self.starts[0]) // self.step_us

    def of_team(self, calendar: BusinessCalendar) -> Grid:
        return replace(self, calendar=calendar)
