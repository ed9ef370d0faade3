"""`sla simulate --sweep / --target`: the what-if questions asked of the simulator.

Kept beside `simulate.py` rather than in it: a sweep or a sizing is many simulations of the one
scenario, with its own table, plot and progress bar, and the single run's output stays the
model's business.
"""

from __future__ import annotations

import argparse
import json
import sys

from sla_dsl.cli import engine_options
from sla_dsl.cli.common import EXIT_OK, EXIT_USAGE, bar_enabled
from sla_dsl.cli.progress import ProgressBar
from sla_dsl.language.model import Policy
from sla_dsl.simulator.run_size import replications_problem

DEFAULT_MAX_REPS = 200  # the largest team a --target search tries unless told


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--sweep", action="append", default=[], metavar="KEY=VALUES",
                        help="run the scenario at each value of a numeric key: "
                             '"team.sales.reps=3..10", "work.touch=5..20 step 5", '
                             '"arrivals.rate=10,20,40"; several make a grid; the same seed '
                             "at every point")
    parser.add_argument("--plot", metavar="FILE.svg",
                        help="with --sweep: write attainment against the first swept key, "
                             "with its 95%% interval, as SVG")
    parser.add_argument("--target", metavar='"CLAUSE >= P%"',
                        help='find the smallest team meeting it with 90%% confidence, e.g. '
                             '"first touch >= 95%%" or "hot: first touch >= 95%%"')
    parser.add_argument("--max-reps", type=int, default=None, metavar="N",
                        help="with --target: the largest team tried (default 200; 1 to 1,000)")


def wanted(args: argparse.Namespace) -> bool:
    return bool(args.sweep or args.target or args.plot or args.max_reps is not None)


def run_whatif(args: argparse.Namespace, policy: Policy) -> int:
    from sla_dsl.engines import EngineError
    from sla_dsl.planning.scenario import MOST_REPS, ScenarioError
    from sla_dsl.simulator.sizing import parse_target, render_sizing, size_team
    from sla_dsl.simulator.sweep import (
        SweepError,
        check_points,
        grid,
        parse_sweep,
        render_table,
        run_sweep,
        runs_per_replication,
    )
    from sla_dsl.simulator.sweep_plot import check_plot_path, write_plot

    try:
        if args.plot and not args.sweep:
            raise SweepError("--plot draws a sweep\n  help: add --sweep KEY=VALUES")
        if args.max_reps is not None and not args.target:
            raise SweepError("--max-reps bounds the teams a --target search tries\n"
                             '  help: add --target "first touch >= 95%", or leave --max-reps '
                             "out (a sweep names its values itself)")
        if args.sweep and args.target:
            raise SweepError("--sweep and --target are separate questions\n"
                             "  help: ask one at a time")
        if getattr(args, "emit_history", None):
            raise SweepError("--emit-history writes the events of one run, not of a sweep or "
                             "a sizing\n  help: run the chosen point alone with --emit-history")
        problem = replications_problem(args.replications, least=1)
        if problem:
            raise SweepError(problem)
        if args.plot:
            check_plot_path(args.plot)
        if args.target:
            target = parse_target(args.target)
            most = DEFAULT_MAX_REPS if args.max_reps is None else args.max_reps
            if not 1 <= most <= MOST_REPS:
                raise SweepError(f"--max-reps {most:,} is out of range: from 1 to "
                                 f"{MOST_REPS:,}, the most reps a scenario's team may have")
            with engine_options.opened(args) as engine, \
                    ProgressBar(0, f"sizing for {target}, model runs",
                                enabled=bar_enabled(args)) as bar:
                sizing = size_team(policy, args.scenario, target, args.replications,
                                   args.seed, most, bar.advance, engine)
            doc = sizing.to_dict(policy.title, args.replications, args.seed)
            text = render_sizing(doc)
        else:
            sweeps = [parse_sweep(spec) for spec in args.sweep]
            check_points(args.scenario, sweeps)  # every point in range before any runs
            total = len(grid(sweeps)) * args.replications * runs_per_replication(args.scenario)
            with engine_options.opened(args) as engine, \
                    ProgressBar(total, "replications",
                                enabled=bar_enabled(args)) as bar:
                doc = run_sweep(policy, args.scenario, sweeps, args.replications, args.seed,
                                bar.advance, engine)
            text = render_table(doc)
            if args.plot:
                write_plot(doc, args.plot)
    except (SweepError, ScenarioError, EngineError) as error:
        print(f"sla simulate: {error}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as error:
        print(f"sla simulate: cannot write {error.filename}: {error.strerror}", file=sys.stderr)
        return EXIT_USAGE
    sys.stdout.write(json.dumps(doc, indent=2, allow_nan=False) + "\n"  # strict JSON
                     if args.format == "json" else text)
    if args.plot:
        print(f"sla simulate: wrote {args.plot}", file=sys.stderr)
    return EXIT_OK
