"""`sla plan`: what the policy's goals need, before anyone simulates anything."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys

from sla_dsl.cli.common import EXIT_OK, EXIT_USAGE, policy_or_none


def run(args: argparse.Namespace) -> int:
    from sla_dsl.language.model import FIRST_DAY, LAST_DAY
    from sla_dsl.planning.plan import plan_document, render_plan
    from sla_dsl.planning.scenario import ScenarioError, load_scenario

    policy = policy_or_none(args.policy, "planned")
    if policy is None:
        return EXIT_USAGE
    try:
        scenario = load_scenario(args.scenario) if args.scenario else None
    except ScenarioError as error:
        print(f"sla plan: {error}", file=sys.stderr)
        return EXIT_USAGE
    start = args.start
    if start == "now":
        start = dt.date.today()
    elif start is not None:
        try:
            start = dt.date.fromisoformat(start if len(start) > 7 else start + "-01")
        except ValueError:
            print(f"sla plan: --from {args.start!r} is not a month: write it as 2027-01, "
                  "2027-01-15 or now", file=sys.stderr)
            return EXIT_USAGE
    if start is not None and not FIRST_DAY <= start.replace(day=1) <= LAST_DAY.replace(day=1):
        print(f"sla plan: --from {args.start} is out of range: a month from "
              f"{FIRST_DAY:%Y-%m} to {LAST_DAY:%Y-%m} (docs/limits.md)", file=sys.stderr)
        return EXIT_USAGE
    until = policy.effective.until if policy.effective else None
    if start is not None and until is not None and start.replace(day=1) > until.value:
        print(f"sla plan: --from {start:%Y-%m} is after the policy's end ({until.value}): "
              "nothing to plan", file=sys.stderr)
        return EXIT_USAGE
    doc = plan_document(policy, scenario, start)
    sys.stdout.write(json.dumps(doc, indent=2, allow_nan=False) + "\n" if args.format == "json"
                     else render_plan(doc))
    return EXIT_OK


def add(commands: argparse._SubParsersAction) -> None:
    plan = commands.add_parser(
        "plan", help="the funnel arithmetic of the policy's goals",
        description="What the policy's revenue goals need: quota x share / deal size = "
                    "customers, / close rate = leads, per period and per open day of each "
                    "month, beside what the commitments promise.")
    plan.add_argument("policy", metavar="POLICY", help="the policy file (.sla)")
    plan.add_argument("--scenario", metavar="TOML",
                      help="team sizes, arrivals and work times for an estimate of first-touch "
                           "attainment over the scenario's days (docs/simulate.md)")
    plan.add_argument("--from", dest="start", metavar="MONTH",
                      help="the first month planned (2027-01, or now for this month); default: "
                           "the scenario's start, else the policy's effective date, else "
                           "2026-01 (said in the output); up to 12 months are planned")
    plan.add_argument("--format", choices=("text", "json"), default="text")
    plan.set_defaults(run=run)
