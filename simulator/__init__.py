"""The simpy-style model of lead arrivals, routing, rep bandwidth, cadences and outcomes, and
the replications that give its answers confidence intervals.

`simulate(policy, scenario, replications, seed)` is the entry point (see docs/simulate.md);
`model.py` and `replications.py` keep the plain first-touch queue the tests hold against
Erlang C and Little's law.
"""

from simulator.routing import NotSimulated
from simulator.simulation import simulate

__all__ = ["NotSimulated", "simulate"]
