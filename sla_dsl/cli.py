"""The `sla` command: small verbs, each with a machine-readable mode.

Exit codes are part of the interface CI relies on: 0 clean, 1 the input has problems (errors,
or files `fmt --check` would change), 2 the command line itself is wrong.
"""

from __future__ import annotations

import argparse
import difflib
import json
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

from sla_dsl import __version__, codes
from sla_dsl.diagnostics import Diagnostic, render_github, render_json, render_text
from sla_dsl.model import Policy
from sla_dsl.policy_file import CheckedPolicy, check_source, format_source
from sla_dsl.source import Source, decode_policy, read_policy

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 70


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # argparse's own usage errors already exit 2; say how to fix
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n"
                              f"run '{self.prog} --help' for the options\n")


def _sources(paths: Sequence[str]) -> Iterable[Source | Diagnostic]:
    """Files as given; a directory stands for the `.sla` files under it; `-` is stdin."""
    for path in paths:
        if path == "-":
            yield decode_policy("<stdin>", sys.stdin.buffer.read())
        elif Path(path).is_dir():
            found = sorted(Path(path).rglob("*.sla"))
            if not found:
                yield Diagnostic(codes.UNREADABLE, "error", "no .sla files in this directory",
                                 path, None, "name the policy files, or a directory holding them")
            for file in found:
                yield read_policy(file)
        else:
            yield read_policy(path)


def _checked(item: Source | Diagnostic) -> CheckedPolicy:
    if isinstance(item, Diagnostic):
        return CheckedPolicy(item.path, None, None, [item])
    return check_source(item)


def _summary(results: list[CheckedPolicy]) -> str:
    errors = sum(len(r.errors) for r in results)
    warnings = sum(len(r.warnings) for r in results)
    files = len(results)

    def plural(n: int, word: str) -> str:
        return f"{n} {word}{'' if n == 1 else 's'}"

    if not errors and not warnings:
        return f"{plural(files, 'policy')} checked: no problems".replace("policys", "policies")
    return (f"{plural(errors, 'error')}, {plural(warnings, 'warning')} in "
            f"{plural(files, 'policy')}").replace("policys", "policies")


def command_check(args: argparse.Namespace) -> int:
    if args.dump_json and len(args.files) != 1:
        _Parser(prog="sla check").error("--dump-json takes exactly one policy file")
    results = [_checked(item) for item in _sources(args.files)]
    diagnostics = [d for r in results for d in r.diagnostics]
    failed = any(r.errors for r in results) or (args.strict and diagnostics)
    out = sys.stderr if args.dump_json else sys.stdout
    if args.format == "json":
        print(render_json(diagnostics), file=out)
    elif args.format == "github":
        for diagnostic in diagnostics:
            print(render_github(diagnostic), file=out)
    else:
        for result in results:
            for diagnostic in result.diagnostics:
                print(render_text(diagnostic, result.lines), file=out)
        if not args.quiet:
            print(_summary(results), file=out)
    if args.dump_json and results[0].policy is not None and not results[0].errors:
        print(results[0].policy.model_dump_json(indent=2))
    return EXIT_PROBLEMS if failed else EXIT_OK


def _format_one(item: Source | Diagnostic, args: argparse.Namespace) -> tuple[bool, bool]:
    """(had errors, would change)."""
    if isinstance(item, Diagnostic):
        print(render_text(item, []), file=sys.stderr)
        return True, False
    formatted, diagnostics = format_source(item)
    if formatted is None:
        for diagnostic in diagnostics:
            print(render_text(diagnostic, item.lines), file=sys.stderr)
        print(f"{item.path}: not formatted: fix the errors above first", file=sys.stderr)
        return True, False
    if item.path == "<stdin>":
        sys.stdout.write(formatted)
        return False, formatted != item.text
    changed = formatted != item.text
    if changed and args.diff:
        sys.stdout.writelines(difflib.unified_diff(
            item.text.splitlines(keepends=True), formatted.splitlines(keepends=True),
            fromfile=item.path, tofile=f"{item.path} (formatted)"))
    if changed and args.check:
        print(f"would reformat {item.path}", file=sys.stderr)
    elif changed and not args.diff:
        Path(item.path).write_text(formatted, encoding="utf-8")
        print(f"reformatted {item.path}", file=sys.stderr)
    return False, changed


def command_fmt(args: argparse.Namespace) -> int:
    errors = changes = 0
    for item in _sources(args.files):
        had_errors, changed = _format_one(item, args)
        errors += had_errors
        changes += changed
    if (args.check or args.diff) and changes:
        return EXIT_PROBLEMS
    return EXIT_PROBLEMS if errors else EXIT_OK


def _progress(message: str) -> None:
    """Long work says what it is doing, on stderr, where a terminal is watching."""
    if sys.stderr.isatty():
        print(f"sla: {message}", file=sys.stderr, flush=True)


def _as_of(text: str | None, timezone: str) -> int | None:
    if text is None:
        return None
    import datetime as dt
    from zoneinfo import ZoneInfo

    moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(timezone))
    return int(moment.timestamp()) * 1_000_000 + moment.microsecond


def command_evaluate(args: argparse.Namespace) -> int:
    # numpy and pyarrow are imported here, so that `sla check` in CI does not wait for them
    from sla_dsl import report
    from sla_dsl.evaluation import BREACHED, evaluate, fields_needed
    from sla_dsl.history_io import HistoryError, load_history, write_rejects
    from sla_dsl.mapping import load_mapping

    checked = _checked(read_policy(args.policy))
    for diagnostic in checked.diagnostics:
        if diagnostic.severity == "error":
            print(render_text(diagnostic, checked.lines), file=sys.stderr)
    if not checked.ok:
        print(f"{args.policy}: not evaluated: fix the policy first ('sla check')",
              file=sys.stderr)
        return EXIT_USAGE
    policy = checked.policy
    timezone = policy.timezone or "UTC"
    try:
        as_of = _as_of(args.as_of, timezone)
    except ValueError:
        print(f"sla evaluate: --as-of {args.as_of!r} is not a date and time\n"
              "  help: write it as ISO 8601, such as 2026-03-31T18:00 or 2026-03-31T18:00Z",
              file=sys.stderr)
        return EXIT_USAGE
    try:
        mapping = load_mapping(args.mapping) if args.mapping else None
        _progress("reading " + (", ".join(args.history) or "the files the mapping names"))
        history = load_history(args.history, timezone=timezone, mapping=mapping,
                               fields=fields_needed(policy))
    except HistoryError as error:
        print(f"sla evaluate: {error}", file=sys.stderr)
        return EXIT_USAGE
    counts = history.counts
    for reject in history.rejects[: args.show_rejects]:
        where = f"{reject.source}:{reject.row}" + (f" ({reject.column})" if reject.column else "")
        print(f"{where}: rejected: {reject.reason}", file=sys.stderr)
    if counts.rejected > args.show_rejects:
        print(f"... {counts.rejected - args.show_rejects} more rejected rows"
              + ("" if args.rejects else "; write them all with --rejects FILE"), file=sys.stderr)
    if args.rejects:
        write_rejects(history, args.rejects)
    _progress(f"{counts.read} rows read, {counts.accepted} accepted, {counts.rejected} rejected;"
              f" evaluating {len(history.lead_ids)} leads")
    evaluation = evaluate(policy, history, as_of)
    doc = report.document(evaluation, include_leads=args.format == "json")
    text = (json.dumps(doc, indent=2) + "\n") if args.format == "json" \
        else report.render_text(doc)
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
        _progress(f"wrote {args.output}")
    else:
        sys.stdout.write(text)
    if args.strict and counts.rejected:
        print(f"sla evaluate: {counts.rejected} rows rejected (--strict)", file=sys.stderr)
        return EXIT_USAGE
    breached = any((r.status == BREACHED).any() for r in evaluation.clauses)
    return EXIT_PROBLEMS if args.fail_on_breach and breached else EXIT_OK


def command_plan(args: argparse.Namespace) -> int:
    from sla_dsl.planning import plan_document, render_plan
    from sla_dsl.scenario import ScenarioError, load_scenario

    checked = _checked(read_policy(args.policy))
    for diagnostic in checked.errors:
        print(render_text(diagnostic, checked.lines), file=sys.stderr)
    if not checked.ok:
        print(f"{args.policy}: not planned: fix the policy first ('sla check')", file=sys.stderr)
        return EXIT_USAGE
    try:
        scenario = load_scenario(args.scenario) if args.scenario else None
    except ScenarioError as error:
        print(f"sla plan: {error}", file=sys.stderr)
        return EXIT_USAGE
    doc = plan_document(checked.policy, scenario)
    sys.stdout.write(json.dumps(doc, indent=2) + "\n" if args.format == "json"
                     else render_plan(doc))
    return EXIT_OK


def command_simulate(args: argparse.Namespace) -> int:
    from simulator.first_touch import NotSimulated, simulate
    from sla_dsl.scenario import ScenarioError, load_scenario

    checked = _checked(read_policy(args.policy))
    for diagnostic in checked.errors:
        print(render_text(diagnostic, checked.lines), file=sys.stderr)
    if not checked.ok:
        print(f"{args.policy}: not simulated: fix the policy first ('sla check')",
              file=sys.stderr)
        return EXIT_USAGE
    try:
        scenario = load_scenario(args.scenario)
        _progress(f"{args.replications} replications of {scenario.horizon_hours:g} hours")
        doc = simulate(checked.policy, scenario, args.replications, args.seed)
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


def command_schema(args: argparse.Namespace) -> int:
    print(json.dumps(SCHEMAS[args.which](), indent=2))
    return EXIT_OK


def policy_schema() -> dict:
    schema = Policy.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "sla_dsl policy"
    return schema


def history_schema() -> dict:
    from sla_dsl.history_io import event_schema

    return event_schema()


SCHEMAS = {"policy": policy_schema, "history": history_schema}


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="sla",
        description="Service-level agreements between marketing and sales, written as code.",
        epilog="Run 'sla COMMAND --help' for the options of a command.",
    )
    parser.add_argument("--version", action="version", version=f"sla {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    check = commands.add_parser(
        "check", help="check policies and report every problem",
        description="Check policy files: syntax, names, calendars, cadences, consequences. "
                    "Reports every problem of a file at once. Exit 0 when clean, 1 on errors.")
    check.add_argument("files", nargs="+", metavar="FILE",
                       help="policy files, directories of .sla files, or - for stdin")
    check.add_argument("--format", choices=("text", "json", "github"), default="text",
                       help="text for people, json for tools, github for workflow annotations")
    check.add_argument("--dump-json", action="store_true",
                       help="print the checked policy as JSON (see 'sla schema policy')")
    check.add_argument("--strict", action="store_true", help="fail on warnings too")
    check.add_argument("-q", "--quiet", action="store_true", help="no summary line")
    check.set_defaults(run=command_check)

    fmt = commands.add_parser(
        "fmt", help="rewrite policies in the canonical layout",
        description="Rewrite policy files in the one canonical layout, keeping every comment.")
    fmt.add_argument("files", nargs="+", metavar="FILE",
                     help="policy files, directories of .sla files, or - (stdin to stdout)")
    fmt.add_argument("--check", action="store_true",
                     help="change nothing; exit 1 if any file would change")
    fmt.add_argument("--diff", action="store_true",
                     help="change nothing; print what would change as a unified diff")
    fmt.set_defaults(run=command_fmt)

    evaluate = commands.add_parser(
        "evaluate", help="replay a lead history against a policy",
        description="Replay recorded lead histories against a policy: every clock of every "
                    "lead, the consequences the agreement sets, commitments per period and the "
                    "cancel and review triggers. Exit 0 evaluated, 1 breaches with "
                    "--fail-on-breach, 2 a usage or input error.")
    evaluate.add_argument("policy", metavar="POLICY", help="the policy file (.sla)")
    evaluate.add_argument("--history", nargs="*", default=[], metavar="FILE",
                          help="event logs (.csv, .jsonl, .parquet), or with --mapping the CRM "
                               "exports it reads (default: the files the mapping names)")
    evaluate.add_argument("--mapping", metavar="TOML",
                          help="a mapping that turns a CRM export into events")
    evaluate.add_argument("--as-of", metavar="TIME",
                          help="evaluate the world as of this time (ISO 8601; without an offset "
                               "in the policy's timezone); default: the latest event")
    evaluate.add_argument("--format", choices=("text", "json"), default="text")
    evaluate.add_argument("--output", "-o", metavar="FILE", help="write the report here")
    evaluate.add_argument("--rejects", metavar="FILE", help="write every rejected row here (CSV)")
    evaluate.add_argument("--show-rejects", type=int, default=10, metavar="N",
                          help="list the first N rejected rows on stderr (default 10)")
    evaluate.add_argument("--strict", action="store_true", help="any rejected row is an error")
    evaluate.add_argument("--fail-on-breach", action="store_true",
                          help="exit 1 when any clause is breached")
    evaluate.set_defaults(run=command_evaluate)

    plan = commands.add_parser(
        "plan", help="the funnel arithmetic of the policy's goals",
        description="What the policy's revenue goals need: quota x share / deal size = "
                    "customers, / close rate = leads, per period and per open day of each "
                    "month, beside what the commitments promise.")
    plan.add_argument("policy", metavar="POLICY", help="the policy file (.sla)")
    plan.add_argument("--scenario", metavar="TOML",
                      help="team sizes, arrivals and work times for an Erlang C estimate of "
                           "first-touch attainment")
    plan.add_argument("--format", choices=("text", "json"), default="text")
    plan.set_defaults(run=command_plan)

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
    simulate.set_defaults(run=command_simulate)

    schema = commands.add_parser(
        "schema", help="print a JSON Schema",
        description="Print the JSON Schema of a data format the tool reads or writes.")
    schema.add_argument("which", choices=sorted(SCHEMAS),
                        help="policy: the checked policy model; history: one event of a history")
    schema.set_defaults(run=command_schema)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "run", None):
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        return args.run(args)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return EXIT_OK
    except Exception as error:  # a bug of ours must still not print a traceback at the user
        print(f"sla: internal error: {type(error).__name__}: {error}\n"
              "this is a bug in sla_dsl; please report it with the input that caused it",
              file=sys.stderr)
        return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
