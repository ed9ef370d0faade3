"""`sla simulate`: is the agreement feasible with this team and these arrivals?"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sla_dsl.cli import engine_options, simulate_whatif
from sla_dsl.cli.common import (
    EXIT_OK,
    EXIT_USAGE,
    add_quiet_option,
    bar_enabled,
    outputs_problem,
    policy_or_none,
)
from sla_dsl.cli.progress import ProgressBar
from sla_dsl.simulator.run_size import replications_problem, seed_problem


def run(args: argparse.Namespace) -> int:
    from sla_dsl import simulate
    from sla_dsl.engines import EngineError
    from sla_dsl.planning.scenario import ScenarioError, load_scenario
    from sla_dsl.simulator.errors import NotSimulated

    policy = policy_or_none(args.policy, "simulated")
    if policy is None:
        return EXIT_USAGE
    problem = seed_problem(args.seed) or engine_options.problem(args) or outputs_problem(
        {"--emit-history": args.emit_history, "--plot": args.plot}, [args.policy, args.scenario])
    if problem:
        print(f"sla simulate: {problem}", file=sys.stderr)
        return EXIT_USAGE
    if simulate_whatif.wanted(args):
        return simulate_whatif.run_whatif(args, policy)
    problem = _emit_problem(args.emit_history) or replications_problem(args.replications)
    if problem:
        print(f"sla simulate: {problem}", file=sys.stderr)
        return EXIT_USAGE
    try:
        scenario = load_scenario(args.scenario)
        problem = scenario.reps and outputs_problem({"--emit-history": args.emit_history},
                                                    [scenario.reps.source])
        if problem:
            print(f"sla simulate: {problem}", file=sys.stderr)
            return EXIT_USAGE
        presets = 2 if scenario.outcomes.decay == "both" else 1
        with engine_options.opened(args) as engine, \
                ProgressBar(args.replications * presets, "replications",
                            enabled=bar_enabled(args)) as bar:
            simulation = simulate(policy, scenario, args.replications, args.seed,
                                  emit_history=args.emit_history, on_replication=bar.advance,
                                  engine=engine)
    except (ScenarioError, NotSimulated, EngineError) as error:
        print(f"sla simulate: {error}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as error:  # --emit-history could not be written
        print(f"sla simulate: cannot write {error.filename or args.emit_history}: "
              f"{error.strerror or error}\n  help: name a file in a folder you can write to",
              file=sys.stderr)
        return EXIT_USAGE
    sys.stdout.write(simulation.json() if args.format == "json" else simulation.text())
    return EXIT_OK


def _emit_problem(path: str | None) -> str | None:
    if path is None:
        return None
    target = Path(path)
    if target.is_dir() or not target.parent.is_dir():
        return (f"--emit-history {path}: not a file in an existing folder\n"
                "  help: name a CSV file to write in a folder that exists, such as "
                "history.csv (mkdir the folder first)")
    return None


def add(commands: argparse._SubParsersAction) -> None:
    simulate = commands.add_parser(
        "simulate", help="simulate lead arrivals and rep bandwidth against the policy",
        description="A model of the scenario (docs/simulate.md): leads arriving by the "
                    "scenario's profile, routed and dealt as the policy says, worked by reps "
                    "while its calendar is open, with cadences and outcomes. Per clause, "
                    "attainment with 95% confidence intervals over independent, seeded "
                    "replications; utilisation, backlog, monthly goals, consequences.")
    simulate.add_argument("policy", metavar="POLICY")
    simulate.add_argument("--scenario", required=True, metavar="TOML",
                          help="the scenario: arrivals, teams, work times, outcomes")
    simulate.add_argument("--replications", type=int, default=20, metavar="N",
                          help="independent runs per decay preset (default 20; 2 to 1,000)")
    simulate.add_argument("--seed", type=int, default=1, metavar="S",
                          help="the seed every run's stream is spawned from (default 1; 0 to "
                               "2^63-1)")
    simulate.add_argument("--format", choices=("text", "json"), default="text")
    simulate.add_argument("--emit-history", metavar="CSV",
                          help="write replication 0 as an event log in the evaluator's format: "
                               "'sla evaluate' on it gives the same clause counts (with "
                               "[absence], the reps' absences go beside it as "
                               "NAME-absences.csv, for 'sla evaluate --absences')")
    simulate_whatif.add_arguments(simulate)
    engine_options.add_arguments(simulate, "replications and sweep points")
    add_quiet_option(simulate)
    simulate.set_defaults(run=run)
