"""`sla simulate`: is the agreement feasible with this team and these arrivals?"""

from __future__ import annotations

import argparse
import json
import sys

from sla_dsl.cli.common import EXIT_OK, EXIT_USAGE, policy_or_none, progress


def run(args: argparse.Namespace) -> int:
    from simulator.first_touch import NotSimulated, simulate
    from sla_dsl.scenario import ScenarioError, load_scenario

    policy = policy_or_none(args.policy, "simulated")
    if policy is None:
        return EXIT_USAGE
    try:
        scenario = load_scenario(args.scenario)
        progress(f"{args.replications} replications of {scenario.horizon_hours:g} hours")
        doc = simulate(policy, scenario, args.replications, args.seed)
    except (ScenarioError, NotSimulated) as error:
        print(f"sla simulate: {error}", file=sys.stderr)
        return EXIT_USAGE
    if args.format == "json":
        sys.stdout.write(json.dumps(doc, indent=2) + "\n")
        return EXIT_OK
    print(f"{doc['policy'] or 'Policy'}: {doc['replications']} replications, seed {doc['seed']}")
    for clause in doc["clauses"]:
        a = clause["attainment"]
        print(f"  {clause['handoff']}: {clause['clause']}  {100 * a['mean']:.1f}% "
              f"(95% CI {100 * a['ci95'][0]:.1f}-{100 * a['ci95'][1]:.1f}%), mean wait "
              f"{clause['mean_wait_hours']['mean']:g} h, utilisation "
              f"{100 * clause['utilisation']['mean']:.0f}%")
    return EXIT_OK


def add(commands: argparse._SubParsersAction) -> None:
    simulate = commands.add_parser(
        "simulate", help="simulate lead arrivals and rep bandwidth against the policy",
        description="A simpy model of the scenario: attainment per clause with 95% confidence "
                    "intervals over independent, seeded replications. So far: first touch, "
                    "reps working while the policy's calendar is open, leads arriving at a "
                    "constant rate around the clock.")
    simulate.add_argument("policy", metavar="POLICY")
    simulate.add_argument("--scenario", required=True, metavar="TOML")
    simulate.add_argument("--replications", type=int, default=20, metavar="N")
    simulate.add_argument("--seed", type=int, default=1, metavar="S")
    simulate.add_argument("--format", choices=("text", "json"), default="text")
    simulate.set_defaults(run=run)
