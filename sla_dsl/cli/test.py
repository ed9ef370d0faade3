"""`sla test`: run the test cases of policies (TOML files under `tests/` beside them)."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from sla_dsl.cli.common import (
    EXIT_OK,
    EXIT_PROBLEMS,
    EXIT_USAGE,
    add_quiet_option,
    outputs_problem,
    progress,
    write_file,
)
from sla_dsl.language.plain_words import counted


def _percent(text: str) -> float:
    value = text.strip().removesuffix("%")
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a percentage (write 90 or 90%)") from None
    if not 0 <= number <= 100:
        raise argparse.ArgumentTypeError(f"{text!r} is not between 0 and 100")
    return number


def _per_case(args: argparse.Namespace) -> str:
    """Why `sla test` takes no --preset: a case says how its own files are read, so that it
    passes or fails the same wherever it is run, and a suite can hold an event log's cases
    beside a Salesforce export's."""
    keys = [f'preset = "{args.preset}"'] if args.preset else []
    keys += [f'timezone = "{args.timezone}"'] if args.timezone else []
    return ("sla test: --preset and --timezone belong to each test case, not to the command: "
            "a case names its own export's preset, so it reads the same in CI as on your "
            "machine, and cases of event logs and of exports can run together\n  help: write "
            f"{' and '.join(keys)} at the top of each case whose `history` is the export "
            "(docs/testing.md)")


def run(args: argparse.Namespace) -> int:
    # numpy and pyarrow come in with the evaluator: only when there are cases to run
    from sla_dsl.ci import policy_test_reports as reports
    from sla_dsl.ci.policy_tests import (
        Policies,
        coverage,
        default_policy,
        find_cases,
        run_case,
    )

    if args.preset or args.timezone:
        print(_per_case(args), file=sys.stderr)
        return EXIT_USAGE
    found = find_cases(args.paths)
    for problem in found.problems:
        print(f"sla test: {problem}", file=sys.stderr)
    if found.problems:
        return EXIT_USAGE
    if not found.cases:
        print("sla test: no test cases found in " + ", ".join(args.paths) + "\n  help: write "
              "cases as TOML files in tests/<policy name>/ beside the policy (see "
              "docs/testing.md)", file=sys.stderr)
        return EXIT_USAGE
    read = [*found.cases, *found.policies, *(default_policy(case) for case in found.cases)]
    wrong = outputs_problem({"-o": args.output}, [str(path) for path in read if path])
    if wrong:
        print(f"sla test: {wrong}", file=sys.stderr)
        return EXIT_USAGE
    started = time.perf_counter()
    policies = Policies()
    progress(f"running {counted(len(found.cases), 'test case')}", args.quiet)
    results = [run_case(path, policies) for path in found.cases]
    seconds = time.perf_counter() - started

    fail_under = args.fail_under
    coverages = []
    if args.coverage or fail_under is not None:
        tested = [r.policy_path for r in results if r.policy_path is not None]
        paths = list(dict.fromkeys([*found.policies, *tested]))
        coverages = [coverage(path, results, policies) for path in paths
                     if Path(path).is_file()]

    text = reports.render_text(results, seconds)
    coverage_text = reports.render_coverage(coverages, fail_under) if coverages else ""
    if args.format == "text":
        report = text + ("\n" + coverage_text if coverage_text else "")
    elif args.format == "junit":
        report = reports.render_junit(results, seconds, coverages)
    elif args.format == "github":
        report = reports.render_github(results, seconds, coverages, fail_under)
    else:
        report = reports.render_sarif(results, coverages, fail_under)
    if args.output:
        if not write_file(args.output, report, "test"):
            return EXIT_USAGE
        if args.format != "text":  # the log still shows what happened
            sys.stdout.write(text + ("\n" + coverage_text if coverage_text else ""))
    else:
        sys.stdout.write(report)
        if args.format in ("junit", "sarif") and coverage_text:
            sys.stderr.write(coverage_text)

    if any(r.outcome == "error" for r in results):
        return EXIT_USAGE
    under = [c for c in coverages if fail_under is not None
             and (c.problem or c.percent < fail_under)]
    for cov in under:
        print(f"sla test: {cov.policy_path}: coverage "
              + ("not measured" if cov.problem else f"{cov.percent:.0f}%")
              + f" is under --fail-under {fail_under:g}%", file=sys.stderr)
    if any(r.outcome == "failed" for r in results) or under:
        return EXIT_PROBLEMS
    return EXIT_OK


def add(commands: argparse._SubParsersAction) -> None:
    test = commands.add_parser(
        "test", help="run the test cases of policies",
        description="Run policy test cases: small lead histories with the status the policy "
                    "should give named clauses of named leads (TOML files in "
                    "tests/<policy name>/ beside the policy; see docs/testing.md). Exit 0 all "
                    "passed, 1 a case failed or coverage is under --fail-under, 2 a case "
                    "could not be run or a usage error.")
    test.add_argument("paths", nargs="+", metavar="PATH",
                      help="case files (.toml), policies (their tests/ cases), or directories")
    test.add_argument("--format", choices=("text", "junit", "github", "sarif"), default="text",
                      help="text for people, junit for CI test reports, github for workflow "
                           "annotations, sarif (2.1.0) for code scanning")
    test.add_argument("-o", "--output", metavar="FILE",
                      help="write the report here (the text summary still goes to stdout)")
    test.add_argument("--coverage", action="store_true",
                      help="list every clause of each policy and what the cases assert of it")
    test.add_argument("--fail-under", type=_percent, metavar="PCT",
                      help="with coverage: fail (exit 1) when a policy's clauses are less than "
                           "PCT%% exercised")
    # A case names its own preset (`preset = "salesforce"`): these only say so (`_per_case`).
    add_quiet_option(test)
    test.add_argument("--preset", help=argparse.SUPPRESS)
    test.add_argument("--timezone", help=argparse.SUPPRESS)
    test.set_defaults(run=run)
