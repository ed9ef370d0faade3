"""Speed of `sla simulate`: a year of a 20-rep team, 50,000 leads, full 6-touch cadences.

    python benchmarks/simulate_speed.py                      # 100 replications, both cores
    python benchmarks/simulate_speed.py --replications 10    # a quick look
    python benchmarks/simulate_speed.py --lifecycle          # leads recycled, moved, reps away

The target (issue 4): 100 replications in under 2 minutes on a 2-core machine. In the same run,
the simulator's cost per lead is set against a bare SimPy M/M/c model of the same arrivals (one
process per lead, 20 servers, the first touch's work time, nothing else), and printed as a
ratio: what routing, calendars, cadences, outcomes and the evaluator's counting cost on top.
Both sides of the ratio are CPU time (the simulator's over its pool workers), so it holds on a
busy machine, where wall time measures the neighbours too.

The scenario is the issue's worst case for the model: every attempt fails to connect (connect =
0), so every lead gets all six touches its cadence allows, each a task a rep must take up.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

POLICY = """\
sla "Benchmark desk"
timezone "America/New_York"
effective 2026-01-01 until 2026-12-31
party marketing contact "web@bench.example"
party sales     contact "desk@bench.example"

calendar business {
  open mon-fri 08:00-18:00
  closed 2026-11-26, 2026-12-25
}

handoff every lead from marketing to sales {
  assign round robin team "sales"
  first touch within 2 business hours
  touches at least 6 within 10 business days until connected
  spacing at least 4 business hours
}
"""

SCENARIO = """\
horizon = "365 days"

[arrivals]
rate = "{rate} per day"          # 50,000 leads a year, around the clock

[team.sales]
reps = 20

[work]
touch = "exponential 10 minutes"
follow_up = "exponential 5 minutes"

[outcomes]
connect = 0.0                     # nobody answers: full cadences, the most work per lead
decay = "none"
"""

# `--lifecycle`: every unreachable lead handed off again two weeks later (at most twice), one
# lead in ten moved by a manager, each rep away a day in twenty (their leads moved)
LIFECYCLE = """
[recycle]
share = 1.0
after = "exponential 14 days"
rounds = 2

[reassign]
share = 0.1
after = "exponential 4 hours"
absent = true

[absence]
share = 0.05
"""


def _cpu_seconds() -> float:
    """This process's and its finished children's (the pool's workers) CPU time: on a busy
    machine the wall time measures the neighbours too."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def bare_simpy(leads: int, horizon_hours: float, reps: int, mean_hours: float,
               seed: int) -> float:
    """CPU seconds for one replication of the plain one-process-per-lead M/M/c model."""
    import simpy

    rng = np.random.default_rng(seed)
    gaps = rng.exponential(horizon_hours / leads, leads).tolist()
    works = rng.exponential(mean_hours, leads).tolist()
    began = time.process_time()
    env = simpy.Environment()
    team = simpy.Resource(env, capacity=reps)

    def lead(work: float):
        with team.request() as rep:
            yield rep
            yield env.timeout(work)

    def source():
        for gap, work in zip(gaps, works, strict=True):
            yield env.timeout(gap)
            env.process(lead(work))

    env.process(source())
    env.run()
    return time.process_time() - began


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replications", type=int, default=100)
    parser.add_argument("--leads", type=int, default=50_000, help="a year's leads")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--baseline-runs", type=int, default=3)
    parser.add_argument("--lifecycle", action="store_true",
                        help="add [recycle], [reassign] and [absence] to the scenario")
    args = parser.parse_args(argv)

    from sla_dsl.planning.scenario import parse_scenario
    from sla_dsl.policy_file import check_text
    from sla_dsl.simulator.simulation import simulate

    policy = check_text(POLICY).policy
    scenario = parse_scenario(SCENARIO.format(rate=f"{args.leads / 365:.4f}")
                              + (LIFECYCLE if args.lifecycle else ""))
    cores = os.cpu_count() or 1
    print(f"machine: {cores} cores, load average {os.getloadavg()[0]:.2f}")

    began, cpu = time.perf_counter(), _cpu_seconds()
    doc = simulate(policy, scenario, args.replications, args.seed, workers=2)
    wall, cpu = time.perf_counter() - began, _cpu_seconds() - cpu
    run = doc["runs"][0]
    leads, touches = run["leads"]["mean"], run["touches"]["mean"]
    total_leads = leads * args.replications
    ours = cpu / total_leads  # CPU seconds per lead, over the parent and its workers
    print(f"simulate: {args.replications} replications of {leads:,.0f} leads and "
          f"{touches:,.0f} touches ({touches / leads:.2f} a lead) in {wall:.1f} s wall "
          f"({'under' if wall < 120 else 'OVER'} the 2-minute target)")
    print(f"  CPU {cpu:.1f} s in all, {cpu / args.replications:.2f} s a replication: "
          f"{cpu / 2:.0f} s on two idle cores")
    print(f"  {total_leads / wall:,.0f} leads/s on 2 workers, "
          f"{total_leads / wall / 2:,.0f} leads/s per core, "
          f"{touches * args.replications / wall:,.0f} touches/s")
    if args.lifecycle:
        life = run["lifecycle"]
        print(f"  a run: {life['handed_off_again']['mean']:,.0f} leads handed off again, "
              f"{life['reassigned']['mean']:,.0f} moved, "
              f"{life['rep_days_absent']['mean']:,.0f} rep-days away")
    for clause in doc["clauses"]:
        a = clause["attainment"]
        print(f"  {clause['clause']}: {100 * a['mean']:.1f}% "
              f"({100 * a['ci95'][0]:.1f}-{100 * a['ci95'][1]:.1f}%)")

    times = [bare_simpy(int(leads), scenario.horizon_hours, 20, scenario.touch.mean_hours,
                        args.seed + i) for i in range(args.baseline_runs)]
    bare = min(times) / leads
    print(f"bare SimPy M/M/c (one process per lead, first touch only): "
          f"{leads / min(times):,.0f} leads/s of CPU")
    print(f"CPU per lead: simulator {1e6 * ours:.1f} µs, bare SimPy {1e6 * bare:.1f} µs, "
          f"ratio {ours / bare:.2f}")
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
