"""Fitting a delay or an amount to the distributions a scenario can name.

A scenario says `exponential 12 minutes`, `lognormal MEAN sd SD` or `gamma MEAN shape K`; these
are the three candidates, fitted by maximum likelihood (scipy.stats, location fixed at 0: a delay
is never negative), ranked by AIC (two-parameter fits must earn their extra parameter), each with
a Kolmogorov-Smirnov test of the sample against the fit. The KS p-value is optimistic when the
parameters come from the same sample (it is the classic test, not Lilliefors'); it still tells a
fit that is plainly wrong from one that is not.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

_UNITS = (("minutes", 1 / 60), ("hours", 1.0), ("days", 24.0))
MIN_SAMPLE = 5


@dataclass(frozen=True)
class Fit:
    """One candidate distribution fitted to a sample (values in the sample's own unit)."""

    family: str  # exponential, lognormal, gamma; fixed for a sample of one value
    mean: float
    sd: float
    shape: float | None  # gamma's k
    aic: float
    ks_statistic: float
    ks_p: float
    n: int

    def words(self, unit: str | None = None, scale: float = 1.0) -> str:
        """The fit as a scenario writes it: `lognormal 14 minutes sd 9 minutes` (times, with
        `unit` and the hours per unit as `scale`) or `lognormal 5000 sd 2000` (amounts)."""
        def amount(value: float) -> str:
            figure = round_figure(value / scale)
            return f"{figure} {unit}" if unit else figure

        if self.family == "fixed":
            return f"fixed {amount(self.mean)}"
        if self.family == "exponential":
            return f"exponential {amount(self.mean)}"
        if self.family == "lognormal":
            return f"lognormal {amount(self.mean)} sd {amount(self.sd)}"
        return f"gamma {amount(self.mean)} shape {round_figure(self.shape or 1.0)}"

    def time_words(self) -> str:
        """A fit of hours, in the unit that reads best for its mean."""
        return self.words(*_unit_for(self.mean))

    def to_dict(self) -> dict:
        return {"family": self.family, "mean": round(self.mean, 4), "sd": round(self.sd, 4),
                "shape": None if self.shape is None else round(self.shape, 4),
                "aic": round(self.aic, 2), "ks_statistic": round(self.ks_statistic, 4),
                "ks_p": round(self.ks_p, 4), "n": self.n}


def _unit_for(hours: float) -> tuple[str, float]:
    """The unit that reads best for a time (and its hours): days from 2 days, hours from 2."""
    return next(((u, s) for u, s in reversed(_UNITS) if hours >= 2 * s), _UNITS[0])


def duration_words(hours: float) -> str:
    """A time as a scenario writes one: `52.3 minutes`, `6.21 hours`, `3.5 days`."""
    unit, scale = _unit_for(hours)
    return f"{round_figure(hours / scale)} {unit}"


def round_figure(value: float) -> str:
    """Three significant figures, written plainly (no exponent) for a TOML string."""
    if value == 0 or not math.isfinite(value):
        return "0"
    digits = max(0, 2 - math.floor(math.log10(abs(value))))
    text = f"{round(value, digits):.{digits}f}"
    # (only a fraction's zeros go: 1000 stayed "1", a deal size of 5,000 was written as 5)
    return text.rstrip("0").rstrip(".") if "." in text else text


def _aic(log_likelihood: float, parameters: int) -> float:
    return 2 * parameters - 2 * log_likelihood


def fit_all(sample: np.ndarray) -> list[Fit]:
    """Exponential, lognormal and gamma fits of the positive values of `sample`, best (lowest
    AIC) first; empty when fewer than MIN_SAMPLE positive values remain. Values all the same
    (a list price, a fixed contract term) have no spread to fit: they are the one `fixed`
    value, where nothing was fitted and the scenario kept its default."""
    values = np.asarray(sample, dtype=float)
    values = values[np.isfinite(values) & (values > 0)]
    if len(values) < MIN_SAMPLE:
        return []
    if np.ptp(values) == 0:
        return [Fit("fixed", float(values[0]), 0.0, None, 0.0, 0.0, 1.0, len(values))]
    fits = []
    n = len(values)
    scale = float(values.mean())
    exponential = stats.expon(scale=scale)
    fits.append(_fit("exponential", exponential, values, 1, None))
    shape, _, lscale = stats.lognorm.fit(values, floc=0)
    fits.append(_fit("lognormal", stats.lognorm(shape, scale=lscale), values, 2, None))
    try:
        k, _, gscale = stats.gamma.fit(values, floc=0)
        fits.append(_fit("gamma", stats.gamma(k, scale=gscale), values, 2, float(k)))
    except (RuntimeError, ValueError, FloatingPointError):  # a sample gamma cannot take
        pass
    fits = [f for f in fits if math.isfinite(f.aic)]
    return sorted(fits, key=lambda f: f.aic) if n else []


def _fit(family: str, frozen, values: np.ndarray, parameters: int,
         shape: float | None) -> Fit:
    with np.errstate(divide="ignore"):
        log_likelihood = float(np.sum(frozen.logpdf(values)))
    test = stats.kstest(values, frozen.cdf)
    return Fit(family, float(frozen.mean()), float(frozen.std()), shape,
               _aic(log_likelihood, parameters), float(test.statistic), float(test.pvalue),
               len(values))
