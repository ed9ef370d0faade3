"""When synthetic leads come in: weekdays, office hours, in the history's own timezone.

Both synthetic generators (Company X's funnel in `synthetic`, New Breed's in
`synthetic_new_breed`) draw their leads' arrivals the same way; the rule lives here, below
both, so that neither generator has to import the other for it.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import numpy as np

from sla_dsl.business_time.zones import US_PER_SECOND, day_start_us


def office_hours_arrivals(rng: np.random.Generator, leads: int, start: dt.date, days: int,
              zone: ZoneInfo) -> np.ndarray:
    """Weekday office-hours arrivals (09:00-17:00 local), as µs since the epoch."""
    dates = [start + dt.timedelta(days=d) for d in range(days)]
    weekdays = [d for d in dates if d.weekday() < 5] or dates
    chosen = rng.integers(0, len(weekdays), leads)
    midnights = np.array([day_start_us(d, zone) for d in weekdays])
    seconds = rng.integers(9 * 3600, 17 * 3600, leads)
    return np.sort(midnights[chosen] + seconds * US_PER_SECOND)
