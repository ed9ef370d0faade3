"""How long `sla plan`'s first-touch estimate takes on each shipped scenario, in CPU seconds.

Target: well under a second a handoff. The estimate solves each queue of reps through the
scenario's days (`sla_dsl.planning.first_touch_plan`); the figure is the median of `--repeat` runs
after one warm-up (imports and caches), per scenario and per handoff with a first touch.

    python benchmarks/plan_speed.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from pathlib import Path

from sla_dsl.planning.plan import first_touch_estimates
from sla_dsl.planning.scenario import load_scenario
from sla_dsl.policy_file import load_policy

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ("inbound-desk", "company-x", "new-breed")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    print(f"{platform.python_implementation()} {platform.python_version()}, "
          f"{os.cpu_count()} cores")
    for name in SHIPPED:
        policy = load_policy(ROOT / "policies" / f"{name}.sla")
        scenario = load_scenario(ROOT / "examples" / "scenarios" / f"{name}.toml")
        rows = first_touch_estimates(policy, scenario)  # warm-up
        times = []
        for _ in range(args.repeat):
            started = time.process_time()
            first_touch_estimates(policy, scenario)
            times.append(time.process_time() - started)
        median = statistics.median(times)
        print(f"{name:13} {len(rows)} handoffs, {scenario.horizon_hours / 24:g} days: "
              f"{median:.2f} s CPU, {median / max(len(rows), 1):.2f} s a handoff")


if __name__ == "__main__":
    main()
