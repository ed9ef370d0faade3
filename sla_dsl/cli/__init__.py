"""The `sla` command: small verbs, one module each, every one with a machine-readable mode."""

from __future__ import annotations

import contextlib
import errno
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
        code = args.run(args)
        sys.stdout.flush()  # a write that fails fails here, not after main has returned
        return code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return EXIT_OK
    except OSError as error:
        if error.errno not in _FULL:  # an error of ours, not of the machine
            return _internal(error)
        _drop_stdout()
        print(f"sla: cannot write the output: {error.strerror or error}\n"
              "  help: make room on the disk, or write the output elsewhere (-o FILE where "
              "the command has it)", file=sys.stderr)
        return EXIT_USAGE
    except Exception as error:  # a bug of ours must still not print a traceback at the user
        return _internal(error)


def _internal(error: Exception) -> int:
    print(f"sla: internal error: {type(error).__name__}: {error}\n"
          "this is a bug in sla_dsl; please report it with the input that caused it",
          file=sys.stderr)
    return EXIT_INTERNAL


# Writes the machine refuses (stdout on a full disk, past a quota, a device that failed):
# the user's to fix, said as such, not as a bug of ours.
_FULL = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO}


def _drop_stdout() -> None:
    """Drop what stdout still holds, so the interpreter's own flush at exit does not fail
    again with a traceback of its own."""
    import os

    with contextlib.suppress(OSError):
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 (open until the process ends)


if __name__ == "__main__":
    sys.exit(main())
