"""Local calendar periods: day, week (from Monday), month, quarter and year, and their bounds.

A goal per month, a strike limit per week and a cap per day all count within the same periods,
so where a period starts and where the next one does is answered here, once, for one date and
for a column of dates, and the two forms agree. Periods are of local dates (`zones` turns
instants into them); a period runs from its first date up to the next period's first date,
excluded.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # numpy is imported where arrays are: the checker needs only the scalar form
    import numpy as np

PERIODS = ("day", "week", "month", "quarter", "year")
MONTHS_PER_PERIOD = {"month": 1, "quarter": 3, "year": 12}
_DAYS_PER_PERIOD = {"day": 1, "week": 7}
_THURSDAY = 3  # the weekday (0 = Monday) of 1970-01-01, day number 0


def period_start(day: dt.date, period: str) -> dt.date:
    """The first local date of the period (`day` … `year`) that holds `day`."""
    if isinstance(day, dt.datetime):
        raise TypeError("a period holds local dates: pass the instant's local date")
    if period == "day":
        return day
    if period == "week":
        return day - dt.timedelta(days=day.weekday())
    if period not in MONTHS_PER_PERIOD:
        raise ValueError(f"no such period: {period!r}")
    step = MONTHS_PER_PERIOD[period]
    return day.replace(month=step * ((day.month - 1) // step) + 1, day=1)


def next_period_start(day: dt.date, period: str) -> dt.date:
    """The first local date of the period after the one that holds `day`: where that period
    ends (excluded)."""
    start = period_start(day, period)
    if period in _DAYS_PER_PERIOD:
        return start + dt.timedelta(days=_DAYS_PER_PERIOD[period])
    month = start.month - 1 + MONTHS_PER_PERIOD[period]
    return dt.date(start.year + month // 12, month % 12 + 1, 1)


def period_starts_between(first: dt.date, last: dt.date, period: str) -> Iterator[dt.date]:
    """The starts of the periods from the one that holds `first` to the one that holds `last`,
    in order (none when `last` is before `first`'s period)."""
    start = period_start(first, period)
    while start <= last:
        yield start
        start = next_period_start(start, period)


def period_starts(dates: np.ndarray, period: str) -> np.ndarray:
    """`period_start` for a column of local dates (datetime64[D]), at array speed."""
    import numpy as np

    if period == "day":
        return dates
    if period == "week":
        weekday = (dates.astype(np.int64) + _THURSDAY) % 7
        return dates - weekday.astype("timedelta64[D]")
    if period not in MONTHS_PER_PERIOD:
        raise ValueError(f"no such period: {period!r}")
    months = dates.astype("datetime64[M]")
    if period == "month":
        return months.astype("datetime64[D]")
    month_index = months.astype(np.int64)  # months since 1970-01, so quarters and years align
    step = MONTHS_PER_PERIOD[period]
    return (month_index - month_index % step).astype("datetime64[M]").astype("datetime64[D]")
