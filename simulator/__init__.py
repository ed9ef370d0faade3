"""The simpy model of lead arrivals, routing, rep bandwidth, cadences and outcomes, and
the replications that give its answers confidence intervals.

`simulate(policy, scenario, replications, seed)` is the entry point (see docs/simulate.md);
the event loop in `engine.py` runs on a `simpy.Environment`, and the tests hold this same model
against Erlang C and Little's law on the textbook desk.
"""

from sla_dsl.simulator.errors import NotSimulated

__all__ = ["NotSimulated", "simulate"]


def __getattr__(name: str):
    """`simulate` on first use: the planner reads the routing without loading simpy and
    scipy.stats, which only the replications need."""
    if name == "simulate":
        from sla_dsl.simulator.simulation import simulate

        return simulate
    raise AttributeError(f"module 'sla_dsl.simulator' has no attribute {name!r}")
