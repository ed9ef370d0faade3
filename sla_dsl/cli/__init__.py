"""The `sla` command: small verbs, one module each, every one with a machine-readable mode."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from sla_dsl.cli import (
    calibrate,
    check,
    diff,
    due,
    evaluate,
    explain,
    fmt,
    ingest,
    merge,
    plan,
    schema,
    simulate,
    test,
)
from sla_dsl.cli.common import EXIT_INTERNAL, EXIT_OK, EXIT_USAGE, ArgumentParser
from sla_dsl.cli.schema import policy_schema
from sla_dsl.version import __version__

__all__ = ["build_parser", "main", "policy_schema"]

VERBS = (check, fmt, test, evaluate, merge, due, diff, explain, plan, simulate, calibrate, ingest,
         schema)


def build_parser() -> ArgumentParser:
    parser = ArgumentParser(
        prog="sla",
        description="Service-level agreements between marketing and sales, written as code.",
        epilog="Run 'sla COMMAND --help' for the options of a command.",
    )
    parser.add_argument("--version", action="version", version=f"sla {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND",
                                     parser_class=ArgumentParser)
    for verb in VERBS:
        verb.add(commands)
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
