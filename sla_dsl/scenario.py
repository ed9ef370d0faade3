"""A planning scenario: the world a policy is tried against before anyone signs it.

A TOML file a planner writes by hand:

    horizon = "90 days"

    [arrivals]
    rate = "20 per hour"              # Poisson arrivals of handed-off leads

    [team.sales]                       # a team, named after a party or an `assign ... team`
    reps = 5

    [work]
    touch = "exponential 12 minutes"   # how long one touch takes a rep

Durations are `N minutes|hours|days|weeks`; rates `N per minute|hour|day|week|month`; work
times `exponential|fixed MEAN`. The planner reads it for instant estimates; the simulator will
read the same file.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

_UNIT_HOURS = {"minute": 1 / 60, "hour": 1.0, "day": 24.0, "week": 168.0, "month": 730.5}
_QUANTITY = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(minute|hour|day|week|month)s?\s*$")
_RATE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*per\s*(minute|hour|day|week|month)\s*$")
_WORK = re.compile(r"^\s*(exponential|fixed)\s+(.+)$")
_KNOWN = {"horizon", "arrivals", "team", "work"}


class ScenarioError(Exception):
    """A scenario that cannot be read, with the file, the key and the fix."""


@dataclass(frozen=True)
class WorkTime:
    distribution: str
    mean_hours: float


@dataclass
class Scenario:
    horizon_hours: float
    arrivals_per_hour: float
    teams: dict[str, int] = field(default_factory=dict)
    touch: WorkTime | None = None


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


def parse_scenario(text: str, path: Path | str = "scenario.toml",
                   overrides: dict[str, object] | None = None) -> Scenario:
    path = Path(path)
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ScenarioError(f"{path}: not valid TOML: {error}") from None
    apply_overrides(raw, overrides or {}, path)
    unknown = sorted(set(raw) - _KNOWN)
    if unknown:
        raise _fail(path, unknown[0], "unknown key",
                    f"the keys are {', '.join(sorted(_KNOWN))}")
    for table, allowed in (("arrivals", {"rate"}), ("work", {"touch"})):
        extra = sorted(set(raw.get(table) or {}) - allowed) if isinstance(
            raw.get(table), dict) else []
        if extra:
            raise _fail(path, f"{table}.{extra[0]}", "unknown key",
                        f"[{table}] takes {', '.join(sorted(allowed))}")
    horizon = hours(str(raw.get("horizon", "90 days")))
    if horizon is None or horizon <= 0:
        raise _fail(path, "horizon", f"{raw.get('horizon')!r} is not a duration",
                    'write it as "90 days"')
    arrivals = raw.get("arrivals", {})
    written = arrivals.get("rate") if isinstance(arrivals, dict) else arrivals
    rate = per_hour(str(written))
    if rate is None or rate <= 0:
        raise _fail(path, "arrivals.rate", f"{written!r} is not a rate",
                    'write it as "20 per hour"')
    teams: dict[str, int] = {}
    for name, team in (raw.get("team") or {}).items():
        reps = team.get("reps") if isinstance(team, dict) else None
        if not isinstance(reps, int) or isinstance(reps, bool) or reps < 1:
            raise _fail(path, f"team.{name}.reps", f"{reps!r} is not a number of reps",
                        "give a whole number of at least 1")
        teams[name] = reps
    touch = None
    work = raw.get("work", {})
    if isinstance(work, dict) and "touch" in work:
        match = _WORK.match(str(work["touch"]).lower())
        mean = hours(match.group(2)) if match else None
        if mean is None or mean <= 0:
            raise _fail(path, "work.touch", f"{work['touch']!r} is not a work time",
                        'write it as "exponential 12 minutes" or "fixed 10 minutes"')
        touch = WorkTime(match.group(1), mean)
    return Scenario(horizon, rate, teams, touch)


def load_scenario(path: Path | str, overrides: dict[str, object] | None = None) -> Scenario:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise ScenarioError(f"{path}: cannot read the scenario ({error.strerror or error})")\
            from None
    return parse_scenario(text, path, overrides)
