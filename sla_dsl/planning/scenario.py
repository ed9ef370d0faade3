"""A planning scenario: the world a policy is tried against before anyone signs it.

A TOML file a planner writes by hand (every key is in docs/simulate.md):

    horizon = "90 days"
    start = 2026-03-02                 # first day simulated (default: the policy's effective date)

    [arrivals]
    rate = "20 per hour"               # Poisson arrivals of handed-off leads
    profile = [[...24 numbers...], ...]  # 7 rows (mon..sun) x 24 hours, relative weights
    month = { mar = 2.0, dec = 0.5 }   # monthly seasonality multipliers (others 1.0)

    [arrivals.mix]                     # shares of the policy's handoff blocks, or ...
    [arrivals.fields]                  # ... lead fields drawn per lead, classified by the policy
    score = "normal 60 sd 15"

    [team.sales]                       # a team, named after a party or an `assign ... team`
    reps = 5

    [work]
    touch = "exponential 12 minutes"   # how long one touch takes a rep
    follow_up = "fixed 5 minutes"
    response = "exponential 20 minutes"  # rep time before each attempt (busy meanwhile)
    discipline = "first-touch-first"

    [outcomes]
    connect = 0.6
    decay = "hbr-2011"

    [recycle]                          # the lead's lifecycle (sla simulate only):
    share = 0.3                        #   rejected leads handed off again `after` a delay
    after = "exponential 21 days"
    [reassign]                         #   managers moving leads to another rep
    share = 0.05
    after = "exponential 4 hours"
    [absence]                          #   reps away whole days
    share = 0.05
    [reps]                             #   each rep's own timezone and hours (sla simulate)
    file = "reps.csv"                  #   the `sla evaluate --reps` file, beside the scenario

The planner reads it for instant estimates (`sla plan`); the simulator reads all of it. Every
problem is reported with the file, the key and the fix: a scenario is written by hand.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from sla_dsl.history.columns import HistoryError
from sla_dsl.history.reps import HEADER_HELP, Reps, read_reps
from sla_dsl.input_files import read_input
from sla_dsl.language.model import FIRST_DAY, LAST_DAY

if TYPE_CHECKING:
    from sla_dsl.language import model as m

_UNIT_HOURS = {"second": 1 / 3600, "minute": 1 / 60, "hour": 1.0, "day": 24.0, "week": 168.0,
               "month": 730.5, "year": 8766.0}
_NUMBER = r"(\d+(?:\.\d+)?)"
_UNIT = r"(second|minute|hour|day|week|month|year)s?"
_QUANTITY = re.compile(rf"^\s*{_NUMBER}\s*{_UNIT}\s*$")
_RATE = re.compile(rf"^\s*{_NUMBER}\s*per\s*(minute|hour|day|week|month)\s*$")
_KNOWN = {"horizon", "start", "arrivals", "team", "work", "outcomes", "recycle", "reassign",
          "absence", "reps"}
_TABLE_KEYS = {
    "arrivals": {"rate", "profile", "month", "mix", "fields"},
    "work": {"touch", "follow_up", "response", "discipline"},
    "outcomes": {"connect", "decay", "qualify", "opportunity", "win", "deal_size",
                 "sales_cycle", "booked", "connect_later"},
    "recycle": {"share", "after", "rounds"},
    "reassign": {"share", "after", "on_breach", "absent"},
    "absence": {"share", "dates"},
    "reps": {"file"},
}
_TEAM_KEYS = {"reps"}  # of each [team.NAME]
DISCIPLINES = ("first-touch-first", "fifo", "earliest-due-first")
DECAY_PRESETS = ("hbr-2011", "mit-2007", "none", "both")
MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_DISTRIBUTIONS = ("exponential", "fixed", "lognormal", "gamma", "empirical")
_WORK_HELP = ('write it as "exponential 12 minutes", "fixed 10 minutes", "lognormal 12 minutes '
              'sd 6 minutes", "gamma 12 minutes shape 2" or "empirical [5, 8, 12, 30] minutes"')


class ScenarioError(Exception):
    """A scenario that cannot be read, with the file, the key and the fix."""


# ---------------------------------------------------------------- ranges (docs/limits.md)
# Every key has a range, so that any scenario that is read runs in bounded time and memory: the
# simulator's work is the arrivals it draws, times the touches each lead gets (bounded by the
# policy), times the runs the command asks for (bounded by its options).

MOST_SCENARIO_BYTES = 1024 * 1024
MOST_HORIZON_DAYS = 366
MOST_LEADS = 100_000  # leads arriving in one run: rate x horizon x the busiest month's weight
MOST_DRAWN = 1_500_000  # arrivals drawn before thinning: that times the busiest hour's weight
MOST_REPS = 1000  # per team
MOST_WORK_DAYS = 30  # one touch, follow-up or reaction
LEAST_WORK_SECONDS = 1  # the same: the simulator's resolution, which keeps `sla plan` bounded
MOST_CYCLE_DAYS = 3653  # a sales cycle: ten years, the longest duration a policy may hold
MOST_MONEY = 1e12  # a deal size, as the 12 digits a policy's amounts may have
MOST_MULTIPLIER = 1000.0  # a month's seasonality, a decay multiplier
MOST_FIELD_NUMBER = 1e12  # a field draw's parameters, in absolute value
MOST_VALUES = 10_000  # choices of one field, values of an empirical sample, decay points
MOST_ROUNDS = 5  # handoffs of a recycled lead after its first


def _over(path: Path, key: str, shown: str, allowed: str) -> ScenarioError:
    return ScenarioError(f"{path}: {key}: {shown} is out of range: {allowed}\n"
                         "  help: see docs/limits.md for the range of every scenario key")


@dataclass(frozen=True)
class WorkTime:
    """A distribution of positive amounts: hours for work and cycle times, money for deals.

    `mean_hours` is the mean whatever the unit (the planner's queue reads it); `sd_hours` is
    the lognormal's standard deviation, `shape` the gamma's, `values` the empirical sample."""

    distribution: str
    mean_hours: float
    sd_hours: float = 0.0
    shape: float = 1.0
    values: tuple[float, ...] = ()


def lognormal_parameters(mean: float, sd: float) -> tuple[float, float]:
    """The underlying normal's mu and sigma of a lognormal given, as planners know it, by the
    mean and standard deviation of the times they see."""
    sigma2 = math.log1p((sd / mean) ** 2)
    return math.log(mean) - sigma2 / 2, math.sqrt(sigma2)


def quantiles(work: WorkTime, count: int) -> list[float]:
    """`count` amounts standing for the distribution, each for an equal share of its draws
    (the middles of `count` equal bands of probability): what a planner averages over where
    a mean alone would misread a spread-out time (a response longer than the deadline on
    average, and shorter in most draws)."""
    levels = [(k + 0.5) / count for k in range(count)]
    if work.distribution == "fixed":
        return [work.mean_hours]
    if work.distribution == "empirical":
        import numpy as np

        return [float(q) for q in np.quantile(np.asarray(work.values, dtype=float), levels)]
    from scipy import stats

    if work.distribution == "exponential":
        law = stats.expon(scale=work.mean_hours)
    elif work.distribution == "lognormal":
        mu, sigma = lognormal_parameters(work.mean_hours, work.sd_hours)
        law = stats.lognorm(s=sigma, scale=math.exp(mu))
    else:  # gamma
        law = stats.gamma(work.shape, scale=work.mean_hours / work.shape)
    return [float(q) for q in law.ppf(levels)]


@dataclass(frozen=True)
class FieldDraw:
    """How one lead field is drawn: `kind` numeric (normal, uniform, lognormal, poisson),
    `choice` (texts with shares) or `constant`. Numbers are rounded to whole numbers."""

    kind: str
    parameters: tuple[float, ...] = ()
    choices: tuple[str | None, ...] = ()
    shares: tuple[float, ...] = ()


@dataclass(frozen=True)
class Outcomes:
    connect: float = 0.6
    decay: str | dict[str, float] = "both"
    qualify: float = 0.4
    opportunity: float = 0.5
    win: float = 0.3
    deal_size: WorkTime | None = None  # money; None means the policy's goal deal size
    sales_cycle: WorkTime = WorkTime("fixed", 30 * 24.0)
    booked: float = 1.0  # the share of SQLs handed on to a later level meeting its threshold
    # an attempt at a later level (an advisor's call on an SQL whose discovery call the MDR
    # booked) connects with this chance; None: `connect`, as at the first level
    connect_later: float | None = None

    def connect_at(self, level: int) -> float:
        """The base chance an attempt connects at a level of handoffs (0: the first)."""
        return self.connect if level == 0 or self.connect_later is None else self.connect_later


@dataclass(frozen=True)
class Recycle:
    """`[recycle]`: of the leads rejected (not qualified, not reachable), the share marketing
    hands off again `after` the rejection, at most `rounds` times after the first handoff."""

    share: float
    after: WorkTime
    rounds: int = 1


@dataclass(frozen=True)
class Reassign:
    """`[reassign]`: a manager moves a dealt lead to another rep of its team: the share `share`
    of the leads `after` their assignment, a lead whose first touch breached when the policy says
    `on breach of first touch { reassign }` (`on_breach`), a lead whose owner is absent
    (`absent`)."""

    share: float = 0.0
    after: WorkTime | None = None
    on_breach: bool = True
    absent: bool = False


@dataclass(frozen=True)
class Absence:
    """`[absence]`: each rep is absent a whole day with probability `share`, and on the days
    `dates` names per rep (dates in the policy's timezone)."""

    share: float = 0.0
    dates: dict[str, tuple[dt.date, ...]] = field(default_factory=dict)


@dataclass
class Scenario:
    horizon_hours: float
    arrivals_per_hour: float
    teams: dict[str, int] = field(default_factory=dict)
    touch: WorkTime | None = None
    start: dt.date | None = None
    profile: tuple[tuple[float, ...], ...] | None = None  # 7 x 24 relative weights
    month: dict[int, float] = field(default_factory=dict)  # 1..12 -> multiplier
    mix: dict[str, float] | None = None  # handoff label -> share
    fields: dict[str, FieldDraw] = field(default_factory=dict)
    follow_up: WorkTime | None = None
    response: WorkTime | None = None  # rep time: picked up, busy, then touched this later
    discipline: str = "first-touch-first"
    outcomes: Outcomes = field(default_factory=Outcomes)
    recycle: Recycle | None = None
    reassign: Reassign | None = None
    absence: Absence | None = None
    reps: Reps | None = None  # `[reps] file`: each rep's own timezone and hours

    @property
    def lifecycle(self) -> bool:
        """Whether leads come back, change owner or wait for an absent rep (the model then
        deals every round robin inside its event loop)."""
        return self.recycle is not None or self.reassign is not None \
            or self.absence is not None

    @property
    def follow_up_time(self) -> WorkTime | None:
        return self.follow_up or self.touch


FIXED_START = dt.date(2026, 1, 5)  # a fixed Monday, so a run that names no date repeats


def first_day(policy: m.Policy, scenario: Scenario | None = None,
              start: dt.date | None = None) -> tuple[dt.date, str]:
    """The first day planned or simulated, and where it came from. Never the day the command
    runs: a plan or a run must repeat tomorrow, so without an explicit start, the scenario's
    `start` or the policy's `effective` date, a fixed Monday stands in (and is said)."""
    if start is not None:
        return start, "as asked with --from"
    if scenario is not None and scenario.start is not None:
        return scenario.start, "the scenario's start"
    if policy.effective is not None:
        return policy.effective.start.value, "the policy's effective date"
    return FIXED_START, "a fixed default: the policy has no effective date; set one with --from"


def hours(text: str) -> float | None:
    match = _QUANTITY.match(text.lower())
    return float(match.group(1)) * _UNIT_HOURS[match.group(2)] if match else None


def per_hour(text: str) -> float | None:
    match = _RATE.match(text.lower())
    return float(match.group(1)) / _UNIT_HOURS[match.group(2)] if match else None


def _fail(path: Path, key: str, problem: str, fix: str) -> ScenarioError:
    return ScenarioError(f"{path}: {key}: {problem}\n  help: {fix}")


def apply_overrides(raw: dict, overrides: dict[str, object], path: Path) -> None:
    """Set dotted keys (`team.sales.reps`) in a scenario's TOML tables, for what-if runs.

    The key need not be in the file (a sweep may add `work.follow_up`), but every table on its way
    must be a table: overriding `horizon.days` is a mistake worth saying.
    """
    for key, value in overrides.items():
        *tables, last = key.split(".")
        node = raw
        for part in tables:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise _fail(path, key, f"'{part}' is a value, not a table",
                            "name a key inside a table, such as team.sales.reps")
        node[last] = value


# ---------------------------------------------------------------- distributions


def _amount(text: str, unit: str) -> float | None:
    """A number with a time unit (hours out) or, for money, a bare number."""
    if unit == "money":
        try:
            value = float(text.replace(",", "").split()[0])
        except (ValueError, IndexError):
            return None
        return value if len(text.split()) == 1 or text.split()[1].isalpha() else None
    return hours(text)


def parse_distribution(text: object, unit: str = "time") -> WorkTime | None:
    """`exponential Q`, `fixed Q`, `lognormal Q sd Q`, `gamma Q shape K`, `empirical [..] UNIT`
    or a bare `Q` (fixed); Q is `12 minutes` for times, `5000` for money. None if unreadable."""
    words = str(text).strip().lower()
    kind, _, rest = words.partition(" ")
    if kind not in _DISTRIBUTIONS:
        kind, rest = "fixed", words
    if kind == "empirical":
        match = re.match(r"^\[([^\]]*)\]\s*(.*)$", rest.strip())
        if not match:
            return None
        scale = 1.0 if unit == "money" else hours(f"1 {match.group(2)}")
        try:
            values = tuple(float(v) * (scale or math.nan) for v in match.group(1).split(","))
        except ValueError:
            return None
        if not values or any(not v > 0 for v in values):
            return None
        return WorkTime("empirical", sum(values) / len(values), values=values)
    extra = None
    for word in (" sd ", " shape "):
        if word in rest:
            rest, extra = rest.split(word, 1)
    mean = _amount(rest.strip(), unit)
    if mean is None or mean <= 0:
        return None
    if kind == "lognormal":
        sd = _amount(extra.strip(), unit) if extra else None
        if sd is None and extra and unit == "time":  # "lognormal 12 minutes sd 6": mean's unit
            unit_word = rest.split()[-1]
            sd = hours(f"{extra.strip()} {unit_word}")
        return WorkTime(kind, mean, sd_hours=sd) if sd and sd > 0 else None
    if kind == "gamma":
        try:
            shape = float(extra) if extra else math.nan
        except ValueError:
            return None
        return WorkTime(kind, mean, shape=shape) if shape > 0 else None
    return None if extra else WorkTime(kind, mean)


def _field_draw(path: Path, key: str, value: object) -> FieldDraw:
    if isinstance(value, dict):
        shares = [value[k] for k in value]
        if any(not isinstance(s, int | float) or isinstance(s, bool) or not 0 <= s < math.inf
               for s in shares) or not sum(shares) > 0:
            raise _fail(path, key, "shares must be numbers of at least 0, not all 0",
                        'write it as { software = 0.3, retail = 0.7 }')
        if len(shares) > MOST_VALUES:
            raise _over(path, key, f"{len(shares):,} choices", f"at most {MOST_VALUES:,}")
        total = float(sum(shares))
        if not math.isfinite(total):
            raise _over(path, key, "the shares", "finite numbers")
        return FieldDraw("choice", choices=tuple(k or None for k in value),
                         shares=tuple(s / total for s in shares))
    if isinstance(value, list):
        if not value:
            raise _fail(path, key, "an empty list of values", 'write it as ["a", "b"]')
        if len(value) > MOST_VALUES:
            raise _over(path, key, f"{len(value):,} values", f"at most {MOST_VALUES:,}")
        if any(isinstance(v, dict | list) for v in value):
            raise _fail(path, key, "a list holds texts, numbers or true/false, not tables "
                        "or lists", 'write it as ["a", "b"]')
        texts = tuple(_text(v) or None for v in value)
        return FieldDraw("choice", choices=texts, shares=(1 / len(texts),) * len(texts))
    if isinstance(value, str):
        numeric = _numeric_draw(value)
        if numeric is not None:
            if not all(abs(x) <= MOST_FIELD_NUMBER for x in numeric.parameters):
                raise _over(path, key, repr(value),
                            f"numbers from {-MOST_FIELD_NUMBER:,.0f} to {MOST_FIELD_NUMBER:,.0f}")
            _check_field_parameters(path, key, value, numeric)
            return numeric
    return FieldDraw("constant", choices=(_text(value) or None,))


_SIGNED = r"(-?\d+(?:\.\d+)?)"
_NUMERIC = {
    "normal": re.compile(rf"^normal\s+{_SIGNED}\s+sd\s+{_SIGNED}$"),
    "lognormal": re.compile(rf"^lognormal\s+{_SIGNED}\s+sd\s+{_SIGNED}$"),
    "uniform": re.compile(rf"^uniform\s+{_SIGNED}\s+{_SIGNED}$"),
    "poisson": re.compile(rf"^poisson\s+{_SIGNED}$"),
}


# each numeric draw's own ranges, beyond the magnitude every number has: numpy refuses a
# negative spread or a reversed interval, and a lognormal's values (a poisson's mean) are not
# negative; refused with the key and the range rather than crashed on or quietly clamped
_FIELD_FORMS = {"normal": "normal MEAN sd SD", "lognormal": "lognormal MEAN sd SD",
                "uniform": "uniform LOW HIGH", "poisson": "poisson MEAN"}


def _check_field_parameters(path: Path, key: str, value: str, draw: FieldDraw) -> None:
    a, *rest = draw.parameters
    problem = None
    if draw.kind in ("normal", "lognormal") and rest[0] < 0:
        problem = "SD at least 0"
    if draw.kind == "lognormal" and not a > 0:
        problem = "MEAN above 0"
    if draw.kind == "uniform" and a > rest[0]:
        problem = "LOW at most HIGH"
    if draw.kind == "poisson" and a < 0:
        problem = "MEAN at least 0"
    if problem:
        raise _over(path, key, repr(value), f'{problem} in "{_FIELD_FORMS[draw.kind]}"')


def _numeric_draw(text: str) -> FieldDraw | None:
    """`normal MEAN sd SD`, `lognormal MEAN sd SD`, `uniform LOW HIGH`, `poisson MEAN`."""
    words = " ".join(text.lower().split())
    for kind, pattern in _NUMERIC.items():
        match = pattern.match(words)
        if match:
            return FieldDraw(kind, tuple(float(g) for g in match.groups()))
    return None


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


# ---------------------------------------------------------------- tables


def _check_keys(path: Path, raw: dict) -> None:
    unknown = sorted(set(raw) - _KNOWN)
    if unknown:
        raise _fail(path, unknown[0], "unknown key", f"the keys are {', '.join(sorted(_KNOWN))}")
    for table, allowed in _TABLE_KEYS.items():
        value = raw.get(table)
        if table in raw and not isinstance(value, dict):
            raise _fail(path, table, "should be a table", f"write it as [{table}]")
        extra = sorted(set(value) - allowed) if isinstance(value, dict) else []
        if extra:
            raise _fail(path, f"{table}.{extra[0]}", "unknown key",
                        f"[{table}] takes {', '.join(sorted(allowed))}")
    if "team" in raw:
        teams = raw["team"]
        if not isinstance(teams, dict):
            raise _fail(path, "team", "should be a table",
                        "write one table per team: [team.sales] then reps = 5")
        for name, team in teams.items():
            if not isinstance(team, dict):
                raise _fail(path, f"team.{name}", "should be a table",
                            f"write it as [team.{_table_name(name)}] then reps = 5")
            extra = sorted(set(team) - _TEAM_KEYS)
            if extra:
                raise _fail(path, f"team.{name}.{extra[0]}", "unknown key",
                            f"[team.{_table_name(name)}] takes {', '.join(sorted(_TEAM_KEYS))}")


def _table_name(name: str) -> str:
    """A team's name as a TOML table header writes it: bare, or quoted when it has spaces."""
    return name if re.fullmatch(r"[A-Za-z0-9_-]+", name) else f'"{name}"'


def _probability(path: Path, key: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise _fail(path, key, f"{value!r} is not a probability", "give a number from 0 to 1")
    return float(value)


def _profile(path: Path, value: object) -> tuple[tuple[float, ...], ...]:
    rows = value if isinstance(value, list) else []
    good = len(rows) == 7 and all(
        isinstance(r, list) and len(r) == 24 and all(
            isinstance(w, int | float) and not isinstance(w, bool) and 0 <= w <= 1e6 for w in r)
        for r in rows)
    if not good or not any(w > 0 for r in rows for w in r):
        raise _fail(path, "arrivals.profile", "not 7 rows of 24 weights from 0 to 1,000,000",
                    "give one row per weekday (monday first), one weight per hour from 00:00")
    return tuple(tuple(float(w) for w in r) for r in rows)


def _months(path: Path, value: object) -> dict[int, float]:
    if not isinstance(value, dict):
        raise _fail(path, "arrivals.month", "should be a table", "write { mar = 2.0, dec = 0.5 }")
    out = {}
    for name, weight in value.items():
        if name.lower()[:3] not in MONTHS:
            raise _fail(path, f"arrivals.month.{name}", "not a month",
                        f"use {', '.join(MONTHS)}")
        if isinstance(weight, bool) or not isinstance(weight, int | float) or weight < 0:
            raise _fail(path, f"arrivals.month.{name}", f"{weight!r} is not a multiplier",
                        "give a number of at least 0 (1.0 is an ordinary month)")
        if not weight <= MOST_MULTIPLIER:
            raise _over(path, f"arrivals.month.{name}", repr(weight),
                        f"from 0 to {MOST_MULTIPLIER:g}")
        out[MONTHS.index(name.lower()[:3]) + 1] = float(weight)
    return out


def _mix(path: Path, value: object) -> dict[str, float]:
    if not isinstance(value, dict) or not value:
        raise _fail(path, "arrivals.mix", "should be a table of shares", "write hot = 0.2 ...")
    for name, share in value.items():
        if isinstance(share, bool) or not isinstance(share, int | float) or not 0 <= share <= 1:
            raise _fail(path, f"arrivals.mix.{name}", f"{share!r} is not a share",
                        "give a number from 0 to 1")
    total = sum(value.values())
    if abs(total - 1) > 1e-6:
        raise _fail(path, "arrivals.mix", f"the shares add up to {total:g}, not 1",
                    "make the shares of the blocks sum to 1")
    return {str(k): float(v) for k, v in value.items()}


def _distribution(path: Path, key: str, value: object, unit: str = "time") -> WorkTime:
    parsed = parse_distribution(value, unit)
    if parsed is None:
        fix = _WORK_HELP if unit == "time" else 'write it as "lognormal 5000 sd 2000"'
        raise _fail(path, key, f"{value!r} is not a distribution", fix)
    return parsed


WORK_KEYS = ("work.touch", "work.follow_up", "work.response")


def read_distribution(path: Path | str, key: str, value: object) -> WorkTime:
    """A distribution key's value (`work.touch`, `work.follow_up`, `work.response`,
    `outcomes.deal_size`, `outcomes.sales_cycle`), parsed and held to that key's range. One
    home for the ranges, which `sla calibrate` also asks before it writes a fit: a fit the
    loader refuses would make the calibrated scenario one that `sla simulate` refuses."""
    path = Path(path)
    if key == "outcomes.deal_size":
        amounts = _distribution(path, key, value, "money")
        _check_amounts(path, key, amounts, MOST_MONEY, f"{MOST_MONEY:,.0f}")
    elif key == "outcomes.sales_cycle":
        amounts = _distribution(path, key, value)
        _check_amounts(path, key, amounts, MOST_CYCLE_DAYS * 24.0, f"{MOST_CYCLE_DAYS} days")
    elif key in WORK_KEYS:
        amounts = _distribution(path, key, value)
        _check_amounts(path, key, amounts, MOST_WORK_DAYS * 24.0, f"{MOST_WORK_DAYS} days")
        _check_least_work(path, key, amounts, value)
    else:
        raise ValueError(f"{key} is not a distribution key with a range")
    return amounts


def _outcomes(path: Path, raw: dict) -> Outcomes:
    values: dict[str, object] = {}
    for key in ("connect", "qualify", "opportunity", "win", "booked", "connect_later"):
        if key in raw:
            values[key] = _probability(path, f"outcomes.{key}", raw[key])
    if "decay" in raw:
        values["decay"] = _decay(path, raw["decay"])
    for key in ("deal_size", "sales_cycle"):
        if key in raw:
            values[key] = read_distribution(path, f"outcomes.{key}", raw[key])
    return Outcomes(**values)


def _flag(path: Path, key: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise _fail(path, key, f"{value!r} is not true or false", "write true or false")
    return value


def _recycle(path: Path, raw: dict) -> Recycle:
    if "share" not in raw or "after" not in raw:
        missing = "share" if "share" not in raw else "after"
        raise _fail(path, f"recycle.{missing}", "missing",
                    'give both: share = 0.3 and after = "exponential 30 days"')
    after = _distribution(path, "recycle.after", raw["after"])
    _check_amounts(path, "recycle.after", after, MOST_HORIZON_DAYS * 24.0,
                   f"{MOST_HORIZON_DAYS} days")
    rounds = raw.get("rounds", 1)
    if isinstance(rounds, bool) or not isinstance(rounds, int) or not 1 <= rounds <= MOST_ROUNDS:
        raise _fail(path, "recycle.rounds", f"{rounds!r} is not a number of handoffs",
                    f"give a whole number from 1 to {MOST_ROUNDS}: how many times a lead may "
                    "be handed off again")
    return Recycle(_probability(path, "recycle.share", raw["share"]), after, rounds)


def _reassign(path: Path, raw: dict) -> Reassign:
    share = _probability(path, "reassign.share", raw.get("share", 0.0))
    after = None
    if "after" in raw:
        after = _distribution(path, "reassign.after", raw["after"])
        _check_amounts(path, "reassign.after", after, MOST_WORK_DAYS * 24.0,
                       f"{MOST_WORK_DAYS} days")
    if share > 0 and after is None:
        raise _fail(path, "reassign.after", "missing",
                    'say when a manager moves a lead: after = "exponential 4 hours" (from its '
                    "assignment)")
    return Reassign(share, after, _flag(path, "reassign.on_breach", raw.get("on_breach", True)),
                    _flag(path, "reassign.absent", raw.get("absent", False)))


def _absence(path: Path, raw: dict) -> Absence:
    share = _probability(path, "absence.share", raw.get("share", 0.0))
    if share >= 1:
        raise _fail(path, "absence.share", "1 means no rep ever works",
                    "give the chance a rep is away on a given day, below 1 (0.05: a day in 20)")
    dates = raw.get("dates", {})
    if not isinstance(dates, dict):
        raise _fail(path, "absence.dates", "should be a table",
                    'write it as dates = { ana = ["2026-01-07", "2026-01-08"] }')
    out: dict[str, tuple[dt.date, ...]] = {}
    for rep, days in dates.items():
        key = f"absence.dates.{rep}"
        if not isinstance(days, list):
            raise _fail(path, key, "should be a list of dates", 'write ["2026-01-07"]')
        if len(days) > MOST_VALUES:
            raise _over(path, key, f"{len(days):,} dates", f"at most {MOST_VALUES:,}")
        read = []
        for day in days:
            try:
                read.append(day if isinstance(day, dt.date) and not isinstance(day, dt.datetime)
                            else dt.date.fromisoformat(str(day)))
            except ValueError:
                raise _fail(path, key, f"{day!r} is not a date",
                            'write dates as "2026-01-07" (ISO, a whole day)') from None
        out[str(rep)] = tuple(sorted(set(read)))
    return Absence(share, out)


def _reps(path: Path, raw: dict) -> Reps:
    """`[reps] file`: the reps file `sla evaluate --reps` reads, with the same reader, relative
    to the scenario. A bad row is refused (a simulation on half a file would be a guess), with
    the file, the row and the reason."""
    written = raw.get("file")
    if not isinstance(written, str) or not written.strip():
        raise _fail(path, "reps.file", f"{written!r} is not a file name",
                    'name the reps file: file = "reps.csv" (rep,timezone,hours rows)')
    where = path.parent / written
    try:
        if where.is_file() and where.stat().st_size > MOST_SCENARIO_BYTES:
            raise _over(path, "reps.file", f"{where} ({where.stat().st_size:,} bytes)",
                        f"at most {MOST_SCENARIO_BYTES // 1024:,} KiB, as the scenario")
        reps = read_reps(where)
    except HistoryError as error:
        raise ScenarioError(f"{path}: reps.file: {error}\n  help: {HEADER_HELP}") from None
    if reps.rejects:
        bad = reps.rejects[0]
        more = f" (and {len(reps.rejects) - 1} more)" if len(reps.rejects) > 1 else ""
        raise ScenarioError(f"{path}: reps.file: {bad.source} row {bad.row}: {bad.reason}"
                            f"{more}\n  help: {HEADER_HELP}; rows are numbered from 1 after "
                            "the header")
    if not reps.hours:
        raise _fail(path, "reps.file", f"{where} names no rep", HEADER_HELP)
    return reps


def _decay(path: Path, value: object) -> str | dict[str, float]:
    if isinstance(value, str) and value.lower() in DECAY_PRESETS:
        return value.lower()
    if isinstance(value, dict) and value:
        if len(value) > MOST_VALUES:
            raise _over(path, "outcomes.decay", f"{len(value):,} points",
                        f"at most {MOST_VALUES:,}")
        points = {}
        for delay, multiplier in value.items():
            if isinstance(multiplier, int | float) and multiplier > MOST_MULTIPLIER:
                raise _over(path, f"outcomes.decay.{delay}", repr(multiplier),
                            f"above 0 and at most {MOST_MULTIPLIER:g}")
            if (hours(delay) or 0) > MOST_CYCLE_DAYS * 24:
                raise _over(path, f"outcomes.decay.{delay}", repr(delay),
                            f"delays up to {MOST_CYCLE_DAYS} days")
            if hours(delay) is None:
                raise _fail(path, f"outcomes.decay.{delay}", "not a delay",
                            'write the delays as "1 hour", "24 hours"')
            if isinstance(multiplier, bool) or not isinstance(multiplier, int | float) \
                    or not multiplier > 0:
                raise _fail(path, f"outcomes.decay.{delay}", f"{multiplier!r} is not a "
                            "multiplier", "give a number above 0 (1.0 keeps the base)")
            points[delay] = float(multiplier)
        return points
    raise _fail(path, "outcomes.decay", f"{value!r} is not a decay",
                f'use {", ".join(repr(p) for p in DECAY_PRESETS)} or a table such as '
                '{ "1 hour" = 1.0, "24 hours" = 0.0167 }')


def _start(path: Path, value: object, horizon_hours: float) -> dt.date | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        value = value.date()
    if not isinstance(value, dt.date):
        raise _fail(path, "start", f"{value!r} is not a date", "write it as start = 2026-03-02")
    last = LAST_DAY - dt.timedelta(days=math.ceil(horizon_hours / 24))
    if not FIRST_DAY <= value <= last:
        raise _over(path, "start", value.isoformat(),
                    f"from {FIRST_DAY} to {last} (the horizon must end by {LAST_DAY})")
    return value


def parse_scenario(text: str, path: Path | str = "scenario.toml",
                   overrides: dict[str, object] | None = None) -> Scenario:
    path = Path(path)
    if len(text.encode()) > MOST_SCENARIO_BYTES:
        raise _too_large(path)
    raw = read_toml(text, path)
    apply_overrides(raw, overrides or {}, path)
    _check_keys(path, raw)
    horizon = hours(str(raw.get("horizon", "90 days")))
    if horizon is None or horizon <= 0:
        raise _fail(path, "horizon", f"{raw.get('horizon')!r} is not a duration",
                    'write it as "90 days"')
    if horizon > MOST_HORIZON_DAYS * 24:
        raise _over(path, "horizon", repr(raw.get("horizon")),
                    f"above 0 and at most {MOST_HORIZON_DAYS} days")
    arrivals = raw.get("arrivals", {})
    if "rate" not in arrivals:
        raise _fail(path, "arrivals.rate", "missing: the one key every scenario gives",
                    'write [arrivals] then rate = "20 per hour" (N per minute|hour|day|week|'
                    "month)")
    written = arrivals["rate"]
    rate = per_hour(str(written))
    if rate is None or rate <= 0:
        raise _fail(path, "arrivals.rate", f"{written!r} is not a rate",
                    'write it as "20 per hour"')
    teams: dict[str, int] = {}
    for name, team in raw.get("team", {}).items():
        reps = team.get("reps")
        if not isinstance(reps, int) or isinstance(reps, bool) or reps < 1:
            raise _fail(path, f"team.{name}.reps", f"{reps!r} is not a number of reps",
                        "give a whole number of at least 1")
        if reps > MOST_REPS:
            raise _over(path, f"team.{name}.reps", f"{reps:,}", f"from 1 to {MOST_REPS:,}")
        teams[name] = reps
    work = raw.get("work", {})
    touch, follow_up, response = (
        read_distribution(path, f"work.{name}", work[name]) if name in work else None
        for name in ("touch", "follow_up", "response"))
    discipline = str(work.get("discipline", "first-touch-first")).lower()
    if discipline not in DISCIPLINES:
        raise _fail(path, "work.discipline", f"{work.get('discipline')!r} is not a discipline",
                    f"use {', '.join(DISCIPLINES)}")
    fields_raw = arrivals.get("fields", {})
    if not isinstance(fields_raw, dict):
        raise _fail(path, "arrivals.fields", "should be a table",
                    'write [arrivals.fields] then score = "normal 60 sd 15"')
    if len(fields_raw) > MOST_VALUES:
        raise _over(path, "arrivals.fields", f"{len(fields_raw):,} fields",
                    f"at most {MOST_VALUES:,}")
    scenario = Scenario(
        horizon, rate, teams, touch,
        start=_start(path, raw.get("start"), horizon),
        profile=_profile(path, arrivals["profile"]) if "profile" in arrivals else None,
        month=_months(path, arrivals["month"]) if "month" in arrivals else {},
        mix=_mix(path, arrivals["mix"]) if "mix" in arrivals else None,
        fields={name: _field_draw(path, f"arrivals.fields.{name}", value)
                for name, value in fields_raw.items()},
        follow_up=follow_up, response=response, discipline=discipline,
        outcomes=_outcomes(path, raw.get("outcomes", {})),
        recycle=_recycle(path, raw["recycle"]) if "recycle" in raw else None,
        reassign=_reassign(path, raw["reassign"]) if "reassign" in raw else None,
        absence=_absence(path, raw["absence"]) if "absence" in raw else None,
        reps=_reps(path, raw["reps"]) if "reps" in raw else None)
    _check_drawn(path, scenario)
    return scenario


def leads_per_run(scenario: Scenario) -> tuple[float, float]:
    """The leads one run sees at most on average, and the arrivals it draws before thinning
    (simulator/arrivals.py draws at the rate of the busiest hour of the busiest month, and
    keeps each in proportion)."""
    peak_hour = 1.0
    if scenario.profile is not None:
        weights = [w for row in scenario.profile for w in row]
        peak_hour = max(weights) / (sum(weights) / len(weights))
    peak_month = max(scenario.month.get(month, 1.0) for month in range(1, 13))
    leads = scenario.arrivals_per_hour * scenario.horizon_hours * peak_month
    return leads, leads * peak_hour


def _check_drawn(path: Path, scenario: Scenario) -> None:
    leads, drawn = leads_per_run(scenario)
    for count, most, what in ((leads, MOST_LEADS, "leads to simulate in one run"),
                              (drawn, MOST_DRAWN, "arrivals to draw in one run (the profile's "
                                                  "busiest hour)")):
        if count > most:
            raise ScenarioError(
                f"{path}: arrivals.rate: {count:,.0f} {what} is out of range: at most "
                f"{most:,}\n  help: lower arrivals.rate, shorten the horizon or flatten the "
                "profile; see docs/limits.md")


def _check_amounts(path: Path, key: str, amounts: WorkTime | None, most: float,
                   shown: str) -> None:
    """A distribution's mean, sd and sample values stay within `most` (hours, or money)."""
    if amounts is None:
        return
    values = [amounts.mean_hours, amounts.sd_hours, *amounts.values]
    if len(amounts.values) > MOST_VALUES:
        raise _over(path, key, f"{len(amounts.values):,} values", f"at most {MOST_VALUES:,}")
    if not all(math.isfinite(v) and v <= most for v in values):
        raise _over(path, key, repr(amounts_text(amounts)), f"amounts up to {shown}")
    if not (math.isfinite(amounts.shape) and 1e-3 <= amounts.shape <= 1e6):
        raise _over(path, key, f"shape {amounts.shape:g}", "a gamma shape from 0.001 to 1,000,000")


def _check_least_work(path: Path, key: str, amounts: WorkTime | None, written: object) -> None:
    """A work time's mean, sd and sample values are at least LEAST_WORK_SECONDS: the
    simulator draws whole seconds (at least one), so a shorter time would be simulated as a
    second while `sla plan` solved its queue with the time as written, in as many steps as
    touches end (0.1 seconds took 82 s, 0.0001 seconds never ended)."""
    if amounts is None:
        return
    sd = [amounts.sd_hours] if amounts.distribution == "lognormal" else []
    least = LEAST_WORK_SECONDS / 3600
    if any(v < least * (1 - 1e-9) for v in (amounts.mean_hours, *sd, *amounts.values)):
        raise _over(path, key, repr(written),
                    f"at least {LEAST_WORK_SECONDS} second (the mean, sd and every empirical "
                    "value): the simulator draws whole seconds")


def amounts_text(amounts: WorkTime) -> str:
    return f"{amounts.distribution} mean {amounts.mean_hours:g}"


def read_toml(text: str, path: Path | str) -> dict:
    """TOML, with its failures as a ScenarioError. tomllib recurses on nesting, so arrays nested
    a thousand deep are refused here rather than crash."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ScenarioError(f"{path}: not valid TOML: {error}") from None
    except RecursionError:
        raise ScenarioError(f"{path}: not valid TOML: arrays or tables nested too deep"
                            "\n  help: a scenario nests a few levels at most") from None


def load_scenario(path: Path | str, overrides: dict[str, object] | None = None) -> Scenario:
    return parse_scenario(read_scenario_text(path), path, overrides)


def _too_large(path: Path | str) -> ScenarioError:
    return ScenarioError(f"{path}: the scenario is more than {MOST_SCENARIO_BYTES // 1024:,} "
                         "KiB, the most a scenario may be\n  help: a scenario is a page of "
                         "TOML; check that this is the file you meant")


def read_scenario_text(path: Path | str) -> str:
    """The file's text, read no further than one byte past the limit, so that a huge file is
    refused without being loaded."""
    try:
        data = read_input(path, MOST_SCENARIO_BYTES)
        if len(data) > MOST_SCENARIO_BYTES:
            raise _too_large(path)
        return data.decode("utf-8")
    except (OSError, UnicodeDecodeError) as error:
        reason = getattr(error, "strerror", None) or error
        raise ScenarioError(f"{path}: cannot read the scenario ({reason})") from None
