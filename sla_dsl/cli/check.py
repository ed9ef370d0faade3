"""`sla check`: every problem of every policy file, at once."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sla_dsl.catalogue import CATALOGUE
from sla_dsl.cli.common import EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE, ArgumentParser, checked, sources
from sla_dsl.diagnostics.codes import Code
from sla_dsl.diagnostics.diagnostic import render_github, render_json, render_sarif, render_text
from sla_dsl.language.plain_words import counted
from sla_dsl.policy_file import CheckedPolicy

# A code's page is named relative to the repository: found in a checkout, absent from a wheel.
REPOSITORY = Path(__file__).resolve().parents[2]


def _summary(results: list[CheckedPolicy]) -> str:
    errors = sum(len(r.errors) for r in results)
    warnings = sum(len(r.warnings) for r in results)
    if not errors and not warnings:
        return f"{counted(len(results), 'policy')} checked: no problems"
    return (f"{counted(errors, 'error')}, {counted(warnings, 'warning')} in "
            f"{counted(len(results), 'policy')}")


def explanation(code: Code) -> str:
    """What `--explain` prints: the catalogue's entry, then the code's page where it has one."""
    out = [f"{code.code} `{code.name}`: {code.summary}", f"reported by: {code.owner}"]
    if code.doc is None:
        out.append("documentation: the code table of docs/language.md#diagnostic-codes")
        return "\n".join(out) + "\n"
    page = REPOSITORY / code.doc
    if not page.is_file():
        out.append(f"documentation: {code.doc} in the sla_dsl repository")
        return "\n".join(out) + "\n"
    out.append(f"documentation: {code.doc}")
    return "\n".join(out) + "\n\n" + page.read_text(encoding="utf-8")


def _explain(text: str) -> int:
    code = CATALOGUE.get(text.strip().upper())
    if code is None:
        print(f"sla check: --explain: '{text}' is not a diagnostic code "
              "(see docs/language.md#diagnostic-codes)", file=sys.stderr)
        return EXIT_USAGE
    print(explanation(code), end="")
    return EXIT_OK


def run(args: argparse.Namespace) -> int:
    if args.explain is not None:
        return _explain(args.explain)
    if not args.files:  # FILE is optional only for --explain: argparse's own error otherwise
        args.check_parser.error("the following arguments are required: FILE")
    if args.dump_json and len(args.files) != 1:
        ArgumentParser(prog="sla check").error("--dump-json takes exactly one policy file")
    results = [checked(item) for item in sources(args.files)]
    diagnostics = [d for r in results for d in r.diagnostics]
    failed = any(r.errors for r in results) or (args.strict and diagnostics)
    out = sys.stderr if args.dump_json else sys.stdout
    if args.format == "json":
        print(render_json(diagnostics), file=out)
    elif args.format == "sarif":
        print(render_sarif(diagnostics, CATALOGUE), file=out)
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


def add(commands: argparse._SubParsersAction) -> None:
    check = commands.add_parser(
        "check", help="check policies and report every problem",
        description="Check policy files: syntax, names, calendars, cadences, consequences. "
                    "Reports every problem of a file at once. Exit 0 when clean, 1 on errors.")
    check.add_argument("files", nargs="*", metavar="FILE",
                       help="policy files, directories of .sla files, or - for stdin")
    check.add_argument("--format", choices=("text", "json", "github", "sarif"), default="text",
                       help="text for people, json for tools, github for workflow annotations, "
                            "sarif (2.1.0) for code scanning")
    check.add_argument("--dump-json", action="store_true",
                       help="print the checked policy as JSON (see 'sla schema policy')")
    check.add_argument("--strict", action="store_true", help="fail on warnings too")
    check.add_argument("-q", "--quiet", action="store_true", help="no summary line")
    check.add_argument("--explain", metavar="CODE",
                       help="print what a diagnostic code means (name, summary, the module "
                            "that reports it, its page) instead of checking files")
    check.set_defaults(run=run, check_parser=check)
