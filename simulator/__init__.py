"""The simpy model of lead arrivals, routing, rep bandwidth, cadences and outcomes, and
the replications that give its answers confidence intervals.

`simulate(policy, scenario, replications, seed)` is the entry point (see docs/simulate.md);
the event loop in `engine.py` runs on a `simpy.Environment`, and the tests hold this same model
against Erlang C and Little's law on the textbook desk.
"""

from simulator.routing import NotSimulated
from simulator.simulation import simulate

__all__ = ["NotSimulated", "simulate"]
