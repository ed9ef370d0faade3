"""`sla fmt`: the one canonical layout of a policy, comments kept."""

from __future__ import annotations

import argparse
import difflib
import sys
from pathlib import Path

from sla_dsl.cli.common import EXIT_OK, EXIT_PROBLEMS, sources
from sla_dsl.diagnostics.diagnostic import Diagnostic, render_text
from sla_dsl.language.source import Source
from sla_dsl.policy_file import format_source


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


def run(args: argparse.Namespace) -> int:
    errors = changes = 0
    for item in sources(args.files):
        had_errors, changed = _format_one(item, args)
        errors += had_errors
        changes += changed
    if (args.check or args.diff) and changes:
        return EXIT_PROBLEMS
    return EXIT_PROBLEMS if errors else EXIT_OK


def add(commands: argparse._SubParsersAction) -> None:
    fmt = commands.add_parser(
        "fmt", help="rewrite policies in the canonical layout",
        description="Rewrite policy files in the one canonical layout, keeping every comment.")
    fmt.add_argument("files", nargs="+", metavar="FILE",
                     help="policy files, directories of .sla files, or - (stdin to stdout)")
    fmt.add_argument("--check", action="store_true",
                     help="change nothing; exit 1 if any file would change")
    fmt.add_argument("--diff", action="store_true",
                     help="change nothing; print what would change as a unified diff")
    fmt.set_defaults(run=run)
