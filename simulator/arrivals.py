"""When leads arrive and what they look like.

Arrivals are a Poisson process whose rate follows the scenario's weekday x hour profile and
monthly seasonality, read on the policy's wall clock (a Monday-morning peak is a Monday morning
in the policy's timezone, DST included). Drawn by thinning: a homogeneous stream at the peak
rate, each arrival kept with the ratio of the rate at its moment to the peak.
"""

from __future__ import annotations

import numpy as np
from sla_dsl.simulator.draws import field_values

from sla_dsl.business_time.zones import US_PER_DAY, US_PER_HOUR, US_PER_SECOND, ZoneOffsets
from sla_dsl.planning.scenario import Scenario


def rate_weights(scenario: Scenario) -> tuple[np.ndarray, np.ndarray]:
    """The profile normalised to a weekly mean of 1 (7 x 24), and 13 monthly multipliers
    (index 1..12)."""
    profile = np.ones((7, 24)) if scenario.profile is None else np.array(scenario.profile)
    profile = profile / profile.mean()
    months = np.ones(13)
    for month, multiplier in scenario.month.items():
        months[month] = multiplier
    return profile, months


def arrival_seconds(scenario: Scenario, rng: np.random.Generator, origin: int,
                    offsets: ZoneOffsets) -> np.ndarray:
    """Arrival moments in [0, horizon), whole seconds after the origin, sorted."""
    horizon = scenario.horizon_hours * 3600.0
    profile, months = rate_weights(scenario)
    peak = float(profile.max() * months[1:].max())
    count = rng.poisson(scenario.arrivals_per_hour * scenario.horizon_hours * peak)
    moments = np.sort(np.floor(rng.uniform(0.0, horizon, count)))
    if peak == 1.0 and scenario.profile is None and not scenario.month:
        return moments
    wall = offsets.wall(origin + moments.astype(np.int64) * US_PER_SECOND)
    days = np.floor_divide(wall, US_PER_DAY)
    weekday = (days + 3) % 7  # 1970-01-01 was a Thursday
    hour = np.floor_divide(wall % US_PER_DAY, US_PER_HOUR)
    month = days.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64) % 12 + 1
    keep = rng.random(count) * peak < profile[weekday, hour] * months[month]
    return moments[keep]


def lead_fields(scenario: Scenario, rng: np.random.Generator, size: int
                ) -> dict[str, np.ndarray]:
    return {name: field_values(draw, rng, size) for name, draw in scenario.fields.items()}
