"""The follow-up speed table's order statistics, read from one partition of each period's
delays, are the floats `np.median` and `np.percentile(..., 90)` give: the report's medians and
p90s must not move by a bit when the way they are computed changes."""

from __future__ import annotations

import numpy as np
import pytest

from sla_dsl.measures.period_measures import median_and_p90, median_of, stable_date_order


@pytest.mark.parametrize("size", [*range(1, 40), 99, 100, 101, 1000, 4097])
def test_median_and_p90_are_numpys_own(size):
    rng = np.random.default_rng(size)
    samples = [
        rng.lognormal(0.0, 2.0, size),  # hours to a first touch: a long tail
        rng.integers(0, 10**8, size) / 3_600_000_000,  # µs to hours, as the report divides
        rng.integers(0, 4, size) / 7.0,  # many ties
        np.full(size, 2.5),
    ]
    for sample in samples:
        median, p90 = median_and_p90(sample.copy())
        assert median == float(np.median(sample))
        assert p90 == float(np.percentile(sample, 90))
        assert median_of(sample.copy()) == median


def test_median_and_p90_leave_the_sample_as_it_was():
    sample = np.array([5.0, 1.0, 4.0, 2.0, 3.0])
    median_and_p90(sample)
    assert sample.tolist() == [5.0, 1.0, 4.0, 2.0, 3.0]


@pytest.mark.parametrize("span_days", [1, 31, 400, 40_000])
def test_periods_are_ordered_as_a_stable_sort_of_their_dates(span_days):
    rng = np.random.default_rng(span_days)
    dates = np.datetime64("2026-01-05") + rng.integers(0, span_days, 5000).astype(
        "timedelta64[D]")
    assert np.array_equal(stable_date_order(dates), np.argsort(dates, kind="stable"))
