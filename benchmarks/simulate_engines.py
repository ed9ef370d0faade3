"""`sla simulate` on each engine: the local process pool against a Dask cluster on this machine.

    pip install 'sla_dsl[dask]'
    python benchmarks/simulate_engines.py                    # 40 replications, 2 workers each
    python benchmarks/simulate_engines.py --replications 8   # a quick look

Both engines run the same replications of the shipped inbound-desk scenario with the same seed
and the same number of worker processes; the script checks the two documents are the same
bytes and prints each engine's wall time and their ratio, measured in the same run (so a busy
machine slows both). The Dask figure is split into starting the cluster (scheduler and worker
processes, each importing sla_dsl) and the replications themselves: on a real cluster the
start is paid once, and what remains is Dask's per-task cost against the pool's.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    from sla_dsl import load_policy
    from sla_dsl.engines import LocalEngine
    from sla_dsl.engines.dask_cluster import QUIET, DaskEngine
    from sla_dsl.planning.scenario import load_scenario
    from sla_dsl.simulator.simulation import simulate

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--replications", type=int, default=40)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    import distributed

    policy = load_policy(ROOT / "policies" / "inbound-desk.sla")
    scenario = load_scenario(ROOT / "examples" / "scenarios" / "inbound-desk.toml")

    started = time.perf_counter()
    local = simulate(policy, scenario, args.replications, args.seed,
                     engine=LocalEngine(args.workers))
    local_s = time.perf_counter() - started

    started = time.perf_counter()
    with distributed.LocalCluster(n_workers=args.workers, threads_per_worker=1,
                                  processes=True, dashboard_address=None,
                                  scheduler_kwargs=QUIET, silence_logs=logging.ERROR) as cluster, \
            distributed.Client(cluster, set_as_default=False) as client:
        client.run(lambda: __import__("sla_dsl.simulator.simulation"))  # workers warm
        start_s = time.perf_counter() - started
        started = time.perf_counter()
        remote = simulate(policy, scenario, args.replications, args.seed,
                          engine=DaskEngine(client))
        dask_s = time.perf_counter() - started
    same = json.dumps(local) == json.dumps(remote)
    runs = args.replications * len(local["runs"])
    print(f"inbound-desk, {args.replications} replications x {len(local['runs'])} decay "
          f"presets = {runs} model runs, {args.workers} workers each")
    print(f"local process pool: {local_s:6.1f} s")
    print(f"dask LocalCluster:  {dask_s:6.1f} s  (+ {start_s:.1f} s to start the cluster)")
    print(f"dask / local: {dask_s / local_s:.2f} (without the start), "
          f"{(dask_s + start_s) / local_s:.2f} (with it)")
    print(f"same document: {same}")
    if not same:
        sys.exit(1)


if __name__ == "__main__":
    main()
