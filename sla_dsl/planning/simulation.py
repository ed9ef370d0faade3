"""A simulation as one object a notebook holds: its document, its text, and per clause the
attainment the replications estimate.

`simulate` takes the scenario as a file or as a loaded `Scenario`; `sla simulate` prints the
same object's `json()` and `text()`, so the command line and the library cannot drift.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from sla_dsl.arguments import expect_policy
from sla_dsl.engines import Engine, open_engine
from sla_dsl.language.model import Policy
from sla_dsl.planning.scenario import Scenario, load_scenario
from sla_dsl.simulator.render import render_text
from sla_dsl.simulator.run_size import replications_problem, seed_problem
from sla_dsl.simulator.simulation import LOCAL_WORKERS
from sla_dsl.simulator.simulation import simulate as replicate


class Simulation:
    """What `sla simulate` reports. `document` is the dict `--format json` prints."""

    def __init__(self, policy: Policy, document: dict) -> None:
        self.policy = policy
        self.document = document

    def json(self) -> str:
        return json.dumps(self.document, indent=2, allow_nan=False) + "\n"  # strict JSON

    def text(self) -> str:
        return render_text(self.policy, self.document)

    def attainment(self, clause: str, handoff: str | None = None) -> dict:
        """One block's clause over the replications of the first decay preset: the share of
        decided leads met, as `{"mean": ..., "ci95": [low, high]}` (fractions of 1). Name the
        handoff when more than one block has the clause."""
        rows = [c for c in self.document["clauses"] if c["clause"] == clause
                and (handoff is None or c["handoff"] == handoff)]
        if len(rows) != 1:
            said = ", ".join(f"{c['handoff']}: {c['clause']}" for c in self.document["clauses"])
            problem = "more than one handoff has" if rows else "no handoff has"
            raise KeyError(f"{problem} clause {clause!r}; the simulation has {said}")
        return rows[0]["attainment"]

    def __repr__(self) -> str:
        return (f"<Simulation {self.document['policy'] or 'policy'!r}: "
                f"{self.document['replications']} replications, seed {self.document['seed']}>")


def simulate(policy: Policy, scenario: Scenario | str | Path, replications: int = 20,
             seed: int = 1, *, emit_history: str | Path | None = None,
             on_replication: Callable[[], None] | None = None,
             engine: str | Engine = "local", scheduler: str | None = None) -> Simulation:
    """The policy tried against a scenario (a TOML file or a loaded `Scenario`) over seeded,
    independent replications on both cores, as `sla simulate` does (docs/simulate.md), or on
    a Dask cluster with `engine="dask"` (the scheduler at `scheduler`, or one started here;
    an engine opened with `sla_dsl.engines.open_engine` is used as it is). The same seed
    repeats the same run, on any engine. Raises `ScenarioError` for a scenario that cannot be
    used, `NotSimulated` for a policy the simulator cannot model and `EngineError` for an
    engine that cannot be had, and ValueError for replications or a seed out of range (as
    `sla simulate` refuses them)."""
    expect_policy(policy)
    problem = replications_problem(replications, name="replications") \
        or seed_problem(seed, name="seed")
    if problem:
        raise ValueError(problem.split("\n", 1)[0])
    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario)
    if not isinstance(engine, str):
        return Simulation(policy, replicate(policy, scenario, replications, seed,
                                            emit_history=emit_history,
                                            on_replication=on_replication, engine=engine))
    with open_engine(engine, workers=LOCAL_WORKERS if engine == "local" else None,
                     address=scheduler) as opened:
        return simulate(policy, scenario, replications, seed, emit_history=emit_history,
                        on_replication=on_replication, engine=opened)
