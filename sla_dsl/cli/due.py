"""`sla due`: every open clock at an instant, most urgent first, and what fires on it next.

The command is the library's `Report.due` (`sla_dsl.evaluate(...).due(...)`) with exit codes:
what a manager opens every morning and what a scheduler runs every few minutes. Without
`--as-of` the instant is the history's latest event, as in `sla evaluate`, so the output never
depends on the day it runs; `--as-of now` is the one way to read the clock.
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import sys

from sla_dsl.cli import history_input
from sla_dsl.cli.common import (
    EXIT_OK,
    EXIT_USAGE,
    outputs_problem,
    policy_or_none,
    write_file,
)
from sla_dsl.language.plain_words import counted

AS_OF_HELP = ("  help: write it as ISO 8601, such as 2026-03-31T18:00 or 2026-03-31T18:00Z, "
              "or 'now' for the current time")
WITHIN_HELP = "  help: give the window in hours, such as 24, 8 or 0.5"
ZONE_HELP = "  help: write --owner-zone NAME=ZONE with an IANA zone, such as alice=America/Chicago"


def _within(text: str) -> float | None:
    try:
        hours = float(text)
    except ValueError:
        return None
    return hours if math.isfinite(hours) else None


def _owner_zones(pairs: list[str]) -> dict[str, str] | None:
    zones = {}
    for pair in pairs:
        owner, sep, zone = pair.partition("=")
        if not sep or not owner.strip() or not zone.strip():
            return None
        zones[owner.strip()] = zone.strip()
    return zones


def _fail(message: str, help_line: str) -> int:
    print(f"sla due: {message}\n{help_line}", file=sys.stderr)
    return EXIT_USAGE


def run(args: argparse.Namespace) -> int:
    # numpy and pyarrow are imported here, so that `sla check` in CI does not wait for them
    from sla_dsl import evaluate, load_history
    from sla_dsl.evaluation.inputs import as_of_instant
    from sla_dsl.history.read import HistoryError
    from sla_dsl.reports.due_list import DueList, within_us, zones_of

    hours = _within(args.within)
    if hours is None:
        return _fail(f"--within {args.within!r} is not a number of hours", WITHIN_HELP)
    try:
        within_us(hours)
    except ValueError as error:
        return _fail(f"--within {args.within!r} {error}", WITHIN_HELP)
    owner_zones = _owner_zones(args.owner_zone)
    if owner_zones is None:
        return _fail("--owner-zone takes NAME=ZONE", ZONE_HELP)
    try:
        zones_of(owner_zones)
    except ValueError as error:
        return _fail(f"--owner-zone: {error}", ZONE_HELP)
    wrong = outputs_problem({"-o": args.output}, [args.policy, *history_input.files_read(args)])
    if wrong:
        print(f"sla due: {wrong}", file=sys.stderr)
        return EXIT_USAGE
    policy = policy_or_none(args.policy, "evaluated")
    if policy is None:
        return EXIT_USAGE
    now = args.as_of is not None and args.as_of.strip().lower() == "now"
    moment = dt.datetime.now(dt.UTC) if now else args.as_of
    try:
        as_of = as_of_instant(moment, policy.timezone or "UTC")
    except ValueError as error:
        return _fail(f"--as-of {args.as_of!r} {error}", AS_OF_HELP)
    try:
        history = load_history(args.history, mapping=history_input.mapping_of(args),
                               policy=policy, export_timezone=history_input.export_timezone(args),
                               absences=args.absences, reps=args.reps)
    except HistoryError as error:
        print(f"sla due: {error}", file=sys.stderr)
        return EXIT_USAGE
    if not args.quiet:
        for line in history_input.absence_lines(history) + history_input.reps_lines(history):
            print(f"sla due: {line}", file=sys.stderr)
    rejected = history.counts.rejected
    if rejected and not args.quiet:
        print(f"sla due: {counted(rejected, 'row', grouped=False)} rejected; 'sla evaluate "
              "--rejects FILE' lists them", file=sys.stderr)
    failure = history_input.strict_failure(history) if args.strict else None
    if failure:
        print(f"sla due: {failure}", file=sys.stderr)
        return EXIT_USAGE
    report = evaluate(policy, history, as_of, include_leads=False)
    due = DueList(report.evaluation, hours, overdue=args.overdue, owner_zones=owner_zones,
                  as_of_source="now" if now else None)
    text = {"text": due.text, "json": due.json, "csv": due.csv}[args.format]()
    if args.output:
        return EXIT_OK if write_file(args.output, text, "due") else EXIT_USAGE
    sys.stdout.write(text)
    return EXIT_OK


def add(commands: argparse._SubParsersAction) -> None:
    due = commands.add_parser(
        "due", help="every open clock at an instant, most urgent first",
        description="The due list: every clock still open at the as-of time (not met, not "
                    "breached yet; and overdue ones still not done), with its owner, its due "
                    "time, the time left in business terms and the warnings, escalations, "
                    "reassignments and strikes that fire within the window. Exit 0 listed, "
                    "2 a usage or input error.")
    due.add_argument("policy", metavar="POLICY", help="the policy file (.sla)")
    due.add_argument("--history", nargs="*", default=[], metavar="FILE",
                     help="event logs (.csv, .jsonl, .parquet), or with --mapping the CRM "
                          "exports it reads (default: the files the mapping names)")
    due.add_argument("--mapping", metavar="TOML",
                     help="a mapping that turns a CRM export into events")
    due.add_argument("--as-of", metavar="TIME|now",
                     help="the instant (ISO 8601; without an offset in the policy's timezone), "
                          "or 'now'; default: the history's latest event")
    due.add_argument("--within", default="24", metavar="HOURS",
                     help="list what fires within this many hours after the as-of time "
                          "(default 24)")
    due.add_argument("--overdue", choices=("recent", "all", "none"), default="recent",
                     help="breached clocks still not done: those due within the window before "
                          "the as-of time or with an action still to fire (recent, the "
                          "default), every one (all), or none")
    due.add_argument("--owner-zone", action="append", default=[], metavar="NAME=ZONE",
                     help="write an owner's times in their own IANA zone (repeatable); "
                          "default: the zone the export gives the owner (a mapping's "
                          "actor_names zone: Salesforce's User.TimeZoneSidKey), else the "
                          "policy's timezone")
    due.add_argument("--format", choices=("text", "json", "csv"), default="text")
    due.add_argument("--output", "-o", metavar="FILE", help="write the list here")
    history_input.add_options(due)
    history_input.add_absences_option(due)
    history_input.add_reps_option(due)
    due.add_argument("--quiet", "-q", action="store_true",
                     help="no note on stderr about rejected rows")
    due.add_argument("--strict", action="store_true", help="any rejected row is an error")
    due.set_defaults(run=run)
