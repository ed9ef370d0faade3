"""Sizing: the smallest team that meets a target with 90% confidence.

`--target "first touch >= 95%"` searches the reps of the team that works the clause's handoff.
"Meets it with 90% confidence" means the lower end of a one-sided 90% interval over the
replications is at or above the target: a team that meets it only on average misses it about
half the quarters.

The search starts from `sla plan`'s estimate (a queue solved through the scenario's days, with
the night's backlog: instant, and close to the simulation's mean), gallops upward (1, 2, 4, ...
reps more) until a team meets the target, then bisects back to the smallest one. Every team size
runs with the same seed, so attainment grows with the reps as steadily as the model allows.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from scipy import stats

from sla_dsl.engines import Engine
from sla_dsl.language import model as m
from sla_dsl.planning.plan import first_touch_estimates
from sla_dsl.planning.scenario import load_scenario
from sla_dsl.simulator.sweep import SweepError, percent, read_raw, run_point

_TARGET = re.compile(
    r"^\s*(?:(?P<handoff>[^:>]+?)\s*:\s*)?(?P<clause>[a-z][a-z ]*?)\s*>=\s*"
    r"(?P<percent>\d+(?:\.\d+)?)\s*%\s*$", re.IGNORECASE)
_CLAUSES = {"first touch": m.FirstTouch, "touches": m.Touches, "disposition": m.Disposition}
CONFIDENCE = 0.90


@dataclass(frozen=True)
class Target:
    clause: str
    share: float  # the target as a fraction
    handoff: str | None = None

    def __str__(self) -> str:
        where = f"{self.handoff}: " if self.handoff else ""
        return f"{where}{self.clause} >= {100 * self.share:g}%"


def parse_target(text: str) -> Target:
    """`first touch >= 95%`, or `hot: first touch >= 95%` to name the handoff; `touches` and
    `disposition` as well, the words the report prints."""
    match = _TARGET.match(text)
    if not match:
        raise SweepError(f"--target {text!r}: expected CLAUSE >= P%\n"
                         '  help: such as --target "first touch >= 95%" or '
                         '"hot: first touch >= 95%"')
    share = float(match.group("percent")) / 100
    if not 0 < share <= 1:
        raise SweepError(f"--target {text!r}: the target must be above 0% and at most 100%")
    clause = " ".join(match.group("clause").lower().split())
    return Target(clause, share, match.group("handoff"))


def handoff_for(policy: m.Policy, target: Target) -> m.Handoff:
    """The one handoff block whose clause the target names."""
    kind = _CLAUSES.get(target.clause)
    if kind is None:
        raise SweepError(f"--target: the simulator sizes teams for "
                         f"{', '.join(_CLAUSES)}, not {target.clause!r}")
    having = [h for h in policy.handoffs
              if h.receiver is not None and isinstance(h.item(target.clause.replace(" ", "_")),
                                                       kind)]
    if target.handoff is not None:
        named = [h for h in having if h.label == target.handoff]
        if not named:
            labels = ", ".join(repr(h.label) for h in having) or "none"
            raise SweepError(f"--target: no handoff {target.handoff!r} with a "
                             f"{target.clause} clause\n  help: the handoffs with one: {labels}")
        return named[0]
    if not having:
        raise SweepError(f"--target: the policy has no handoff with a {target.clause} clause")
    if len(having) > 1:
        labels = ", ".join(repr(h.label) for h in having)
        raise SweepError(f"--target: several handoffs have a {target.clause} clause ({labels})"
                         f'\n  help: name one: --target "{having[0].label}: {target}"')
    return having[0]


def lower_bound(attainment: dict, replications: int, confidence: float = CONFIDENCE) -> float:
    """The lower end of the one-sided interval, from the two-sided 95% one the simulator
    gives: the same standard error, scaled from t(0.975) to t(confidence)."""
    mean, low = attainment["mean"], attainment["ci95"][0]
    if replications < 2 or low is None or math.isnan(low):
        return math.nan
    scale = stats.t.ppf(confidence, replications - 1) / stats.t.ppf(0.975, replications - 1)
    return mean - (mean - low) * scale


def erlang_start(policy: m.Policy, scenario_path: Path | str, handoff: m.Handoff,
                 key: str, target: float, most: int) -> int:
    """The smallest team `sla plan`'s estimate (its queue through the scenario's days) says
    meets the target on average, found by doubling then halving, as the search below does;
    1 when it cannot say (a scenario the planner does not read)."""
    def meets(reps: int) -> bool | None:
        try:
            rows = first_touch_estimates(policy, load_scenario(scenario_path, {key: reps}))
        except Exception:  # the planner is a hint; the simulation decides
            return None
        row = next((r for r in rows if r["handoff"] == handoff.label), None)
        if row is None or row["attainment"] is None:
            return None
        swamped = (row["note"] or "").startswith(("overloaded", "a queue holds"))
        return row["attainment"] >= target and not swamped

    short, reps = 0, 1
    while True:  # doubling, the last step cut to `most`: 8, then 14 rather than nothing
        found = meets(reps)
        if found is None or (not found and reps >= most):
            return 1
        if found:
            break
        short, reps = reps, min(reps * 2, most)
    while reps - short > 1:
        middle = (short + reps) // 2
        if meets(middle):
            reps = middle
        else:
            short = middle
    return reps


@dataclass
class Trial:
    reps: int
    mean: float | None
    low90: float | None
    ci95: list[float] | None
    note: str | None = None

    def to_dict(self) -> dict:
        return {"reps": self.reps, "mean": self.mean, "low90": self.low90, "ci95": self.ci95,
                "note": self.note}


@dataclass
class Sizing:
    target: Target
    handoff: str
    team: str
    key: str
    start: int
    most: int
    smallest: int | None
    trials: dict[int, Trial] = field(default_factory=dict)

    def to_dict(self, policy: str | None, replications: int, seed: int) -> dict:
        return {"policy": policy, "target": str(self.target), "handoff": self.handoff,
                "team": self.team, "key": self.key, "confidence": CONFIDENCE,
                "replications": replications, "seed": seed, "erlang_c_start": self.start,
                "most": self.most, "smallest_reps": self.smallest,
                "trials": [self.trials[r].to_dict() for r in sorted(self.trials)]}


def size_team(policy: m.Policy, scenario_path: Path | str, target: Target, replications: int,
              seed: int, most: int = 200,
              on_replication: Callable[[], None] | None = None,
              engine: Engine | None = None) -> Sizing:
    """The smallest team of the target's handoff whose 90% lower bound reaches the target,
    with every team tried (the answer's neighbours among them); `smallest` is None when no
    team up to `most` does."""
    if replications < 2:
        raise SweepError("--target needs at least 2 replications for an interval\n"
                         "  help: --replications 10 or more")
    handoff = handoff_for(policy, target)
    team = handoff.team
    key = f"team.{team}.reps"
    raw = read_raw(scenario_path)
    start = min(erlang_start(policy, scenario_path, handoff, key, target.share, most), most) \
        if target.clause == "first touch" else 1  # the planner speaks of first touches only
    sizing = Sizing(target, handoff.label, team, key, start, most, None)

    def meets(reps: int) -> bool:
        if reps not in sizing.trials:
            point = run_point(policy, scenario_path, raw, {key: reps}, replications, seed,
                              on_replication, engine)
            sizing.trials[reps] = _trial(point, reps, handoff.label, target, replications)
        trial = sizing.trials[reps]
        return trial.low90 is not None and trial.low90 >= target.share

    passing: int | None = None
    if meets(start):
        passing, step = start, 1
        while passing - step >= 1 and meets(passing - step):  # gallop down
            passing, step = passing - step, step * 2
        failing = max(passing - step, 0)
    else:
        failing, step = start, 1
        while failing + step <= most and not meets(failing + step):  # gallop up
            failing, step = failing + step, step * 2
        if failing + step <= most:
            passing = failing + step
        elif failing < most and meets(most):
            passing = most
    if passing is None:
        return sizing
    while passing - failing > 1:  # bisect: failing fails (or is 0), passing meets
        middle = (passing + failing) // 2
        if meets(middle):
            passing = middle
        else:
            failing = middle
    if failing >= 1:
        meets(failing)  # the estimate just short of the answer, for the report
    sizing.smallest = passing
    return sizing


def _trial(point, reps: int, label: str, target: Target, replications: int) -> Trial:
    if point.note and point.too_few_reps:  # a rep named beyond this team: larger ones run
        return Trial(reps, None, None, None, f"not simulated: {point.note}")
    if point.note and "overloaded" not in point.note:  # more reps will not help
        raise SweepError(point.note)
    if point.note:
        return Trial(reps, None, None, None, "overloaded")
    clause = next((c for c in point.clauses
                   if c["handoff"] == label and c["clause"] == target.clause), None)
    if clause is None:
        raise SweepError(f"--target: the simulator did not report {label}: {target.clause}")
    attainment = clause["attainment"]
    if attainment["mean"] is None:
        return Trial(reps, None, None, None, "no lead reached the clause")
    return Trial(reps, attainment["mean"], lower_bound(attainment, replications),
                 attainment["ci95"])


def render_sizing(doc: dict) -> str:
    head = (f"{doc['policy'] or 'Policy'}: {doc['target']} with {100 * doc['confidence']:.0f}% "
            f"confidence ({doc['replications']} replications, seed {doc['seed']})")
    lines = [head, f"  handoff '{doc['handoff']}', team {doc['team']} ({doc['key']}); "
                   f"the planner's starting point: {doc['erlang_c_start']} reps"]
    if doc["smallest_reps"] is None:
        lines.append(f"  not reachable with at most {doc['most']} reps "
                     "(raise the bound with --max-reps, or change the scenario)")
    else:
        lines.append(f"  smallest team: {doc['smallest_reps']} rep"
                     + ("s" if doc["smallest_reps"] != 1 else ""))
    lines += ["", "  reps  attainment  95% interval   90% lower bound"]
    for trial in doc["trials"]:
        if trial["mean"] is None:
            lines.append(f"  {trial['reps']:>4}  {trial['note'] or 'not simulated'}")
            continue
        low, high = (percent(v) for v in trial["ci95"])
        mark = "  <- smallest" if trial["reps"] == doc["smallest_reps"] else ""
        lines.append(f"  {trial['reps']:>4}  {percent(trial['mean']):>9.1f}%  "
                     f"{low:5.1f}-{high:5.1f}%  {percent(trial['low90']):>14.1f}%"
                     f"{mark}")
    return "\n".join(lines) + "\n"
