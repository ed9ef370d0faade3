"""`sla calibrate`: the scenario a real history implies, with how well it fits."""

from __future__ import annotations

import argparse
import json
import sys

from sla_dsl.cli import history_input
from sla_dsl.cli.common import (
    EXIT_OK,
    EXIT_USAGE,
    add_quiet_option,
    outputs_problem,
    policy_or_none,
    progress,
    write_file,
)
from sla_dsl.language.plain_words import counted


def run(args: argparse.Namespace) -> int:
    from sla_dsl import load_history
    from sla_dsl.evaluation.replay import fields_needed
    from sla_dsl.history.read import HistoryError
    from sla_dsl.planning.calibration import CalibrationError, calibrate
    from sla_dsl.planning.calibration_check import checked_scenario
    from sla_dsl.planning.calibration_output import calibration_dict, render_report

    if not args.history and not args.mapping and not args.preset:
        print("sla calibrate: no history given\n  help: --history FILE..., or --mapping TOML "
              "to read the files a mapping names", file=sys.stderr)
        return EXIT_USAGE
    wrong = outputs_problem({"-o": args.output},
                            [args.policy, *(args.history or []), args.mapping])
    if wrong:
        print(f"sla calibrate: {wrong}", file=sys.stderr)
        return EXIT_USAGE
    policy = policy_or_none(args.policy, "calibrated against")
    if policy is None:
        return EXIT_USAGE
    try:
        mapping = history_input.mapping_of(args)
        progress("reading " + history_input.reading(args), args.quiet)
        history = load_history(args.history, mapping=mapping, policy=policy,
                               fields=fields_needed(policy) | {"stage"},
                               export_timezone=history_input.export_timezone(args))
        progress(f"fitting {counted(len(history.lead_ids), 'lead', grouped=False)}", args.quiet)
        calibration = calibrate(policy, history)
    except (HistoryError, CalibrationError) as error:
        print(f"sla calibrate: {error}", file=sys.stderr)
        return EXIT_USAGE
    if history.counts.rejected:
        print(f"sla calibrate: {history.counts.rejected} of {history.counts.read} rows "
              "rejected and left out ('sla evaluate --rejects FILE' lists them)",
              file=sys.stderr)
    source = ", ".join(args.history) or f"the files {args.mapping} names"
    for note in history.notes:
        print(f"sla calibrate: note: {note}", file=sys.stderr)
    toml, view = checked_scenario(calibration, policy, source)
    report = (json.dumps(calibration_dict(calibration, view), indent=2, default=sorted) + "\n"
              if args.format == "json" else render_report(calibration, view))
    if args.output:
        if not write_file(args.output, toml, "calibrate"):
            return EXIT_USAGE
        sys.stdout.write(report)
        print(f"sla calibrate: wrote {args.output}", file=sys.stderr)
    else:  # the scenario is the output; the report goes beside it
        sys.stdout.write(toml)
        sys.stderr.write(report)
    return EXIT_OK


def add(commands: argparse._SubParsersAction) -> None:
    calibrate = commands.add_parser(
        "calibrate", help="fit a simulation scenario to a real lead history",
        description="Fit the scenario a history implies: arrivals by weekday, hour and month, "
                    "segment mix, team sizes, work times (and the response delay, reported, "
                    "not written), the funnel's rates, deal size and sales cycle, each with a "
                    "goodness-of-fit test. Writes the scenario TOML (with -o; else to stdout, "
                    "the report to stderr).")
    calibrate.add_argument("--policy", required=True, metavar="POLICY",
                           help="the policy whose handoffs, segments and stages read the history")
    calibrate.add_argument("--history", nargs="*", default=[], metavar="FILE",
                           help="event logs, or with --mapping the CRM exports it reads "
                                "(default: the files the mapping names)")
    calibrate.add_argument("--mapping", metavar="TOML",
                           help="a mapping that turns a CRM export into events")
    history_input.add_options(calibrate)
    calibrate.add_argument("--output", "-o", metavar="FILE", help="write the scenario TOML here")
    calibrate.add_argument("--format", choices=("text", "json"), default="text",
                           help="the goodness-of-fit report as text or JSON")
    add_quiet_option(calibrate)
    calibrate.set_defaults(run=run)
