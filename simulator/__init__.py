"""The simpy model of lead arrivals, routing, rep bandwidth, cadences and outcomes, and
the replications that give its answers confidence intervals.

`simulation.simulate(policy, scenario, replications, seed)` is the entry point (see
docs/simulate.md; the library's `sla_dsl.simulate` wraps it); the event loop in `engine.py` runs
on a `simpy.Environment`, and the tests hold this same model against Erlang C and Little's law on
the textbook desk. This file imports nothing, so the planner can read the simulator's routing
(`routing`, `arrivals`) without loading simpy and scipy, which only the replications need.
"""
