"""What every verb of the `sla` command shares: exit codes, argument errors, reading policies.

Exit codes are part of the interface CI relies on: 0 clean, 1 the input has problems (errors,
or files `fmt --check` would change), 2 the command line itself is wrong, 70 a bug of ours.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from sla_dsl.cli.stage_progress import StageProgress
from sla_dsl.diagnostics.diagnostic import Diagnostic, render_text
from sla_dsl.language.model import Policy
from sla_dsl.language.source import UNREADABLE, Source, decode_policy, read_bounded, read_policy
from sla_dsl.policy_file import CheckedPolicy, check_source

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 70


class ArgumentParser(argparse.ArgumentParser):
    def error(self, message: str):  # argparse's own usage errors already exit 2; say how to fix
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n"
                              f"run '{self.prog} --help' for the options\n")


def sources(paths: Sequence[str]) -> Iterable[Source | Diagnostic]:
    """Files as given; a directory stands for the `.sla` files under it; `-` is stdin."""
    for path in paths:
        if path == "-":
            yield decode_policy("<stdin>", read_bounded(sys.stdin.buffer))
        elif Path(path).is_dir():
            found = sorted(Path(path).rglob("*.sla"))
            if not found:
                yield Diagnostic(UNREADABLE, "error", "no .sla files in this directory",
                                 path, None, "name the policy files, or a directory holding them")
            for file in found:
                yield read_policy(file)
        else:
            yield read_policy(path)


def checked(item: Source | Diagnostic) -> CheckedPolicy:
    if isinstance(item, Diagnostic):
        return CheckedPolicy(item.path, None, None, [item])
    return check_source(item)


def policy_or_none(path: str, verb: str) -> Policy | None:
    """The checked policy a verb works on, or None after printing why it cannot be used.

    Only errors are printed: warnings are `sla check`'s business, and a report that starts with
    them buries what the user asked for.
    """
    result = checked(read_policy(path))
    for diagnostic in result.errors:
        print(render_text(diagnostic, result.lines), file=sys.stderr)
    if not result.ok:
        print(f"{path}: not {verb}: fix the policy first ('sla check')", file=sys.stderr)
        return None
    return result.policy


def progress(message: str, quiet: bool = False) -> None:
    """Long work says what it is doing, on stderr, where a terminal is watching (and was not
    told `--quiet`)."""
    if not quiet and sys.stderr.isatty():
        print(f"sla: {message}", file=sys.stderr, flush=True)


def add_quiet_option(parser: argparse.ArgumentParser) -> None:
    """`-q`: every command that shows progress takes it, so a script can pass it to any."""
    parser.add_argument("--quiet", "-q", action="store_true",
                        help="no progress messages or bar on the terminal")


def shown_rows(text: str) -> int:
    """`--show-rejects N`: a whole number from 0 (none shown); a negative one counted the rows
    "more" wrongly, as a slice from the end."""
    try:
        count = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if count < 0:
        raise argparse.ArgumentTypeError(f"{count}: give 0 (none) or more")
    return count


def bar_enabled(args: argparse.Namespace) -> bool | None:
    """A progress bar's `enabled`: off under `--quiet`, else None (drawn where stderr is a
    terminal)."""
    return False if args.quiet else None


def write_file(path: str, text: str | Iterable[bytes | memoryview], verb: str) -> bool:
    """Write an output file; a path that cannot be written is the user's to fix, not a bug.
    `text` is a str, or UTF-8 bytes in parts (a big JSON report), written in turn."""
    def write() -> None:
        if isinstance(text, str):
            Path(path).write_text(text, encoding="utf-8")
        else:
            with Path(path).open("wb") as handle:
                handle.writelines(text)

    return wrote(path, write, verb)


def wrote(path: str, write: Callable[[], object], verb: str) -> bool:
    """Call `write`, which writes the file at `path`, and say so when it cannot: a folder
    missing, a directory named, no permission are the user's to fix, not a bug."""
    try:
        write()
    except OSError as error:
        print(f"sla {verb}: cannot write {path}: {error.strerror or error}\n"
              "  help: name a file in a directory that exists and that you may write to",
              file=sys.stderr)
        return False
    return True


def write_report_files(args: argparse.Namespace, text: str | Iterable[bytes | memoryview],
                       page: str | None, bar: StageProgress, units: int, verb: str) -> bool:
    """Write `-o` and `--html` in the bar's last stage, named for the file: a JSON report's
    per-lead records are made as they are written, most of its time for a big history. False
    when a file cannot be written (said on stderr)."""
    name = f"writing {args.output or args.html}" if args.output or args.html else "reporting"
    with bar.stage(name, units):
        for path, content in ((args.output, text), (args.html, page)):
            if path and not write_file(path, content, verb):
                return False
            if path:
                bar.note(f"wrote {path}")
    return True


def write_out(text: str | Iterable[bytes | memoryview]) -> None:
    """Print a command's output: a str, or UTF-8 bytes in parts (see `write_file`)."""
    if isinstance(text, str):
        sys.stdout.write(text)
        return
    binary = getattr(sys.stdout, "buffer", None)
    if binary is None:  # a stream of text only (a notebook's, a test's)
        sys.stdout.write(b"".join(text).decode("utf-8"))
        return
    sys.stdout.flush()
    binary.writelines(text)
    binary.flush()


def outputs_problem(outputs: dict[str, str | None], inputs: Sequence[str | None]) -> str | None:
    """Why the files a command writes (option -> path) cannot be those paths, or None: two
    outputs on one file kept only the last written (`--html X -o X`), and an output on an
    input overwrote it (`--partial` on the history). Paths are compared as the files they
    name, whatever their spelling."""
    seen: dict[str, str] = {}
    read = {os.path.realpath(path) for path in inputs if path and path != "-"}
    for option, path in outputs.items():
        if not path or path == "-":
            continue
        real = os.path.realpath(path)
        if real in read:
            return (f"{option} {path} is one of the files read\n  help: write it to another "
                    "file")
        if real in seen:
            return (f"{option} and {seen[real]} both write {path}: the one written last "
                    "would be all that is left\n  help: give each its own file")
        seen[real] = option
    return None
