"""What `sla simulate` makes of a calibrated scenario, asked before `sla calibrate` writes it.

A calibrated scenario is the start of a simulation, so one that `sla simulate` refuses is a
broken promise: the figures came from the history, and the next command says they cannot run.
The draft is read back by the scenario loader and put through the simulator's own up-front
checks (`checked`: the model built, each block's share of the leads, the load and touch
limits), the ones `sla simulate` runs with its defaults, rather than a second reading of them
here. What they say goes into the written file and the report: whether it runs, and how much
rep time before each attempt (`work.response`, which a history cannot measure) the teams'
open hours leave room for.
"""

from __future__ import annotations

import numpy as np

from sla_dsl.language import model as m
from sla_dsl.planning.calibration import Calibration, SimulatorView
from sla_dsl.planning.calibration_output import scenario_toml
from sla_dsl.planning.scenario import ScenarioError, parse_scenario
from sla_dsl.simulator.context import response_room
from sla_dsl.simulator.errors import NotSimulated
from sla_dsl.simulator.simulation import checked

# `sla simulate`'s defaults (seed 1, 20 replications): its load check draws the blocks' shares
# from the last of the 21 streams spawned from the seed, and so does this one
_SEED, _REPLICATIONS = 1, 20


def simulator_view(policy: m.Policy, toml_text: str) -> SimulatorView:
    """The scenario read as `sla simulate` reads it and checked as it checks it up front."""
    stream = np.random.SeedSequence(_SEED).spawn(_REPLICATIONS + 1)[-1]
    try:
        scenario = parse_scenario(toml_text, "the calibrated scenario")
        context, shares, _ = checked(policy, scenario, np.random.default_rng(stream))
    except (ScenarioError, NotSimulated) as error:
        return SimulatorView(str(error), None)
    return SimulatorView(None, response_room(context, shares))


def checked_scenario(cal: Calibration, policy: m.Policy, source: str
                     ) -> tuple[str, SimulatorView]:
    """The scenario TOML with what the simulator makes of it said in its comments. The draft
    and the file differ in comments only, so the draft's answer is the file's."""
    view = simulator_view(policy, scenario_toml(cal, source))
    return scenario_toml(cal, source, view), view
