"""What-if sweeps: the same scenario run at every point of a grid of values.

`--sweep "team.sales.reps=3..10"` asks "what does each extra rep buy?"; several sweeps make a
grid. Every point runs with the same seed (common random numbers): the leads arrive at the same
moments and take the same work at every point, so a difference between two points is the change's
doing, not noise between two independent runs.

A key whose value in the scenario file is text with a number in it (`rate = "20 per hour"`,
`touch = "exponential 12 minutes"`) is swept by replacing that number, so
`--sweep "arrivals.rate=10..40 step 10"` keeps the file's unit.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

from sla_dsl.engines import Engine, LocalEngine
from sla_dsl.language import model as m
from sla_dsl.planning.scenario import load_scenario, read_scenario_text, read_toml
from sla_dsl.simulator.errors import NotSimulated
from sla_dsl.simulator.simulation import (
    LOCAL_WORKERS,
    Planned,
    plan,
    report,
    run_replications,
)

_RANGE = re.compile(r"^\s*(\S+?)\s*\.\.\s*(\S+?)(?:\s+step\s+(\S+))?\s*$")
_NUMBER_IN_TEXT = re.compile(r"\d+(?:\.\d+)?")
MOST_POINTS = 400


class SweepError(Exception):
    """A sweep that cannot be run as written, with what is wrong and the fix."""


@dataclass(frozen=True)
class Sweep:
    """One swept key and the values it takes, in order."""

    key: str
    values: tuple[int | float, ...]


def _decimal(text: str, spec: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise SweepError(f"--sweep {spec!r}: {text!r} is not a number\n"
                         "  help: write values as 3..10, 0.5..0.9 step 0.1 or 3,5,8") from None
    if not value.is_finite():
        raise SweepError(f"--sweep {spec!r}: {text!r} is not a finite number")
    return value


def _plain(value: Decimal, whole: bool) -> int | float:
    return int(value) if whole else float(value)


def parse_sweep(spec: str) -> Sweep:
    """`KEY=A..B`, `KEY=A..B step S` or `KEY=a,b,c`. Integers stay integers (reps must be
    whole); a value written with a decimal point makes every value of that sweep a float."""
    key, sep, values = spec.partition("=")
    key = key.strip()
    if not sep or not key or not values.strip():
        raise SweepError(f"--sweep {spec!r}: expected KEY=VALUES\n"
                         '  help: such as --sweep "team.sales.reps=3..10"')
    part = r"[A-Za-z_](?:[\w -]*[\w-])?"  # a team's name may hold spaces: team.mdr emea.reps
    if not re.fullmatch(rf"[A-Za-z_][\w-]*(\.{part})*", key):
        raise SweepError(f"--sweep {spec!r}: {key!r} is not a dotted scenario key\n"
                         "  help: name it as in the TOML file, such as team.sales.reps")
    whole = "." not in values.replace("..", "")
    ranged = _RANGE.match(values)
    if ranged:
        start, stop = _decimal(ranged.group(1), spec), _decimal(ranged.group(2), spec)
        step = _decimal(ranged.group(3), spec) if ranged.group(3) else Decimal(1)
        if step <= 0:
            raise SweepError(f"--sweep {spec!r}: the step must be positive")
        if stop < start:
            raise SweepError(f"--sweep {spec!r}: the range runs backwards\n"
                             f"  help: write it as {ranged.group(2)}..{ranged.group(1)}")
        count = int((stop - start) / step) + 1
        if count > MOST_POINTS:
            raise SweepError(f"--sweep {spec!r}: {count} values; at most {MOST_POINTS}\n"
                             "  help: use a larger step")
        numbers = [start + i * step for i in range(count)]
    else:
        numbers = [_decimal(v.strip(), spec) for v in values.split(",")]
    if len(set(numbers)) != len(numbers):
        raise SweepError(f"--sweep {spec!r}: a value is repeated")
    return Sweep(key, tuple(_plain(n, whole) for n in numbers))


def grid(sweeps: list[Sweep]) -> list[dict[str, int | float]]:
    """Every combination of the sweeps' values, the first sweep varying slowest."""
    keys = [s.key for s in sweeps]
    if len(set(keys)) != len(keys):
        raise SweepError("the same key is swept twice\n  help: give each key one --sweep")
    points = [dict(zip(keys, combo, strict=True))
              for combo in itertools.product(*(s.values for s in sweeps))]
    if len(points) > MOST_POINTS:
        raise SweepError(f"the grid has {len(points)} points; at most {MOST_POINTS}\n"
                         "  help: sweep fewer values or fewer keys at once")
    return points


def _written(raw: dict, key: str) -> object:
    node: object = raw
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def overrides_for(raw: dict, point: dict[str, int | float]) -> dict[str, object]:
    """The scenario overrides of one point: a number where the file has a number (or nothing),
    the file's text with its number replaced where it has text."""
    overrides: dict[str, object] = {}
    for key, value in point.items():
        written = _written(raw, key)
        if isinstance(written, str):
            if not _NUMBER_IN_TEXT.search(written):
                raise SweepError(f"--sweep {key}: the scenario's value {written!r} has no "
                                 "number to sweep\n  help: sweep a numeric key")
            overrides[key] = _NUMBER_IN_TEXT.sub(_digits(value), written, count=1)
        elif isinstance(written, dict):
            raise SweepError(f"--sweep {key}: this is a table in the scenario, not a number\n"
                             "  help: name a key inside it, such as team.sales.reps")
        else:
            overrides[key] = value
    return overrides


def _digits(value: int | float) -> str:
    """A swept number as the scenario's text reads it back exactly: plain digits, never an
    exponent (`1e+06` is no number there) nor rounded to six figures, as `:g` would."""
    return str(value) if isinstance(value, int) else format(Decimal(repr(value)), "f")


def read_raw(path: Path | str) -> dict:
    return read_toml(read_scenario_text(path), path)


@dataclass
class Point:
    values: dict[str, int | float]
    clauses: list[dict] = field(default_factory=list)
    note: str | None = None  # why the point has no figures (an overloaded team)
    too_few_reps: bool = False  # the note is a rep named beyond the team: more reps would run

    def to_dict(self) -> dict:
        return {"values": self.values, "clauses": self.clauses, "note": self.note}


def run_point(policy: m.Policy, scenario_path: Path | str, raw: dict,
              values: dict[str, int | float], replications: int, seed: int,
              on_replication: Callable[[], None] | None = None,
              engine: Engine | None = None) -> Point:
    """One point of a sweep. A point the model refuses (an overloaded team) is a row with a
    note, not the end of the sweep: where the team stops coping is the answer sought."""
    [point] = run_points(policy, scenario_path, raw, [values], replications, seed,
                         on_replication, engine)
    return point


def run_points(policy: m.Policy, scenario_path: Path | str, raw: dict,
               grid_points: list[dict[str, int | float]], replications: int, seed: int,
               on_replication: Callable[[], None] | None = None,
               engine: Engine | None = None) -> list[Point]:
    """Several points at once: every point's replications go to the engine as one map, so a
    cluster works on all of them together rather than a point at a time."""
    points: list[Point] = []
    planned: list[Planned | None] = []
    for values in grid_points:
        scenario = load_scenario(scenario_path, overrides_for(raw, values))
        try:
            planned.append(plan(policy, scenario, replications, seed))
            points.append(Point(dict(values)))
        except NotSimulated as error:
            planned.append(None)
            points.append(Point(dict(values), [], str(error), error.too_few_reps))
    jobs = [job for one in planned if one is not None for job in one.jobs]
    results = run_replications(jobs, engine or LocalEngine(LOCAL_WORKERS), on_replication)
    at = 0
    for point, one in zip(points, planned, strict=True):
        if one is None:
            continue
        doc = report(one, results[at:at + len(one.jobs)])
        at += len(one.jobs)
        point.clauses = [{"handoff": c["handoff"], "clause": c["clause"],
                          "attainment": c["attainment"]} for c in doc["clauses"]]
    return points


def runs_per_replication(scenario_path: Path | str) -> int:
    """How many model runs one replication makes: one per decay preset the scenario asks
    for (`both`, the default, runs two), so that a progress bar counts to its real end."""
    outcomes = getattr(load_scenario(scenario_path), "outcomes", None)
    return 2 if getattr(outcomes, "decay", None) == "both" else 1


def check_points(scenario_path: Path | str, sweeps: list[Sweep]) -> None:
    """Read the scenario at every point of the grid, so that a value out of a key's range is
    refused before the first point runs (ScenarioError names the key and its range)."""
    raw = read_raw(scenario_path)
    for values in grid(sweeps):
        load_scenario(scenario_path, overrides_for(raw, values))


def run_sweep(policy: m.Policy, scenario_path: Path | str, sweeps: list[Sweep],
              replications: int, seed: int,
              on_replication: Callable[[], None] | None = None,
              engine: Engine | None = None) -> dict:
    """Every point of the grid, each with the same seed. `on_replication` is told of each
    finished model run (for a progress bar)."""
    raw = read_raw(scenario_path)
    points = run_points(policy, scenario_path, raw, grid(sweeps), replications, seed,
                        on_replication, engine)
    if all(p.note for p in points):
        raise SweepError(f"no point of the sweep could be simulated: {points[0].note}")
    return {"policy": policy.title, "replications": replications, "seed": seed,
            "sweep": [s.key for s in sweeps], "points": [p.to_dict() for p in points]}


def clause_names(doc: dict) -> list[str]:
    """Each clause's column name, `handoff: clause`, in the order the simulator gave them."""
    names: list[str] = []
    for point in doc["points"]:
        for clause in point["clauses"]:
            name = f"{clause['handoff']}: {clause['clause']}"
            if name not in names:
                names.append(name)
    return names


def percent(share: float) -> float:
    """A share as a percentage; an interval's end past 0 or 100 (a normal approximation over
    replications that are all near the bound) is shown at the bound."""
    return min(max(100 * share, 0.0), 100.0)


def _cell(attainment: dict | None) -> str:
    """`93.0% (92.2-93.7)`; `-` where no lead was decided (no lead reached the clause)."""
    if attainment is None or attainment["mean"] is None:
        return "-"
    mean = f"{percent(attainment['mean']):.1f}%"
    if attainment["ci95"][0] is None:
        return mean
    low, high = (percent(v) for v in attainment["ci95"])
    return f"{mean} ({low:.1f}-{high:.1f})"


def render_table(doc: dict) -> str:
    """One row per point: the swept values, then each clause's attainment with its 95%
    interval; a point the model refused says why in one short phrase."""
    keys, names = doc["sweep"], clause_names(doc)
    header = [*keys, *names]
    rows = []
    for point in doc["points"]:
        by_name = {f"{c['handoff']}: {c['clause']}": c["attainment"] for c in point["clauses"]}
        cells = [_digits(point["values"][k]) for k in keys]  # as the user wrote them
        if point["note"]:
            cells += ["overloaded" if "overloaded" in point["note"] else "not simulated"]
            cells += [""] * (len(names) - 1)
        else:
            cells += [_cell(by_name.get(n)) for n in names]
        rows.append(cells)
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = [f"{doc['policy'] or 'Policy'}: {len(rows)} points, {doc['replications']} "
             f"replications each, seed {doc['seed']} at every point (95% intervals)", ""]
    lines.append("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)).rstrip())
    lines.append("  ".join("-" * w for w in widths))
    for cells in rows:
        lines.append("  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip())
    refused = [p for p in doc["points"] if p["note"]]
    if refused:  # the first says why; the others differ only in their figures
        more = f" (and {len(refused) - 1} more points like it)" if len(refused) > 1 else ""
        lines += ["", f"  {refused[0]['note']}{more}"]
    return "\n".join(lines) + "\n"
