"""`sla diff OLD NEW [--history FILE...]`: what a policy change says, and what it would have done.

OLD and NEW are files, or `REV:PATH` git objects (`main:policies/company-x.sla`) when no such
file exists, so that CI can compare a pull request with its base branch without a checkout.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

from sla_dsl.cli import history_input
from sla_dsl.cli.common import (
    EXIT_OK,
    EXIT_PROBLEMS,
    EXIT_USAGE,
    add_quiet_option,
    checked,
    outputs_problem,
    progress,
    write_file,
)
from sla_dsl.diagnostics.diagnostic import Diagnostic, render_text
from sla_dsl.language.model import Policy
from sla_dsl.language.plain_words import counted
from sla_dsl.language.source import (
    MAX_POLICY_BYTES,
    Source,
    decode_policy,
    read_bounded,
    read_policy,
    too_large,
)

FORMATS = ("text", "json", "markdown", "github", "sarif")
DOC_FORMAT = 1


class VersionError(Exception):
    """A version that cannot be read: the message says which and how to fix it."""


def _git_object(spec: str) -> Source | Diagnostic:
    if spec.startswith("-"):
        raise VersionError(f"{spec}: no such file, and a revision cannot start with '-'\n  help: "
                           "name a file, or a revision and a path in it, such as "
                           "main:policies/company-x.sla")
    try:
        # `cat-file blob`, not `show`: a REV:DIR is an error here, not a tree listing to parse.
        # `--end-of-options`: whatever the spec says, git reads it as an object name, never as
        # an option (a second guard behind the check above).
        with subprocess.Popen(["git", "cat-file", "--end-of-options", "blob", spec],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE) as shown:
            data = read_bounded(shown.stdout)  # a blob too large is not read into memory
            if len(data) > MAX_POLICY_BYTES:
                shown.kill()
                shown.communicate()
                return too_large(spec, None)
            _, stderr = shown.communicate(timeout=60)
    except FileNotFoundError as error:
        raise VersionError(f"{spec}: no such file, and git is not installed to read it as "
                           "REV:PATH") from error
    if shown.returncode != 0:
        reason = stderr.decode("utf-8", "replace").strip().splitlines()
        raise VersionError(f"{spec}: no such file, and git cannot read it as REV:PATH ("
                           f"{reason[0] if reason else 'git cat-file failed'})\n  help: name a "
                           "file, or a revision and a path in it, such as "
                           "main:policies/company-x.sla")
    return decode_policy(spec, data)


def read_version(spec: str) -> Source | Diagnostic:
    """A file when there is one; else `REV:PATH` from git; else a clear error."""
    if Path(spec).exists() or ":" not in spec:
        return read_policy(spec)
    return _git_object(spec)


def load_version(spec: str) -> Policy | None:
    """The checked policy of one version, or None after printing its errors."""
    source = read_version(spec)
    result = checked(source)
    for diagnostic in result.errors:
        print(render_text(diagnostic, result.lines), file=sys.stderr)
    if isinstance(source, Diagnostic):
        return None
    if not result.ok:
        print(f"{spec}: cannot compare this version: fix the policy first ('sla check')",
              file=sys.stderr)
        return None
    return result.policy


def run(args: argparse.Namespace) -> int:
    from sla_dsl.ci import diff_report
    from sla_dsl.ci.policy_diff import diff_policies

    replaying = bool(args.history or args.mapping or args.preset)
    if args.fail_on_more_breaches is not None and not replaying:
        print("sla diff: --fail-on-more-breaches needs --history: breaches are counted by "
              "replaying a history under both versions", file=sys.stderr)
        return EXIT_USAGE
    if args.fail_on_more_breaches is not None and args.fail_on_more_breaches < 0:
        print("sla diff: --fail-on-more-breaches takes a count of breaches, 0 or more",
              file=sys.stderr)
        return EXIT_USAGE
    wrong = outputs_problem({"-o": args.output},
                            [args.old, args.new, *history_input.files_read(args)])
    if wrong:
        print(f"sla diff: {wrong}", file=sys.stderr)
        return EXIT_USAGE
    try:
        old, new = load_version(args.old), load_version(args.new)
    except VersionError as error:
        print(f"sla diff: {error}", file=sys.stderr)
        return EXIT_USAGE
    if old is None or new is None:
        return EXIT_USAGE
    changes = diff_policies(old, new, args.old, args.new).changes
    doc: dict = {"format": DOC_FORMAT, "old": args.old, "new": args.new,
                 "history": list(args.history or []), "mapping": args.mapping,
                 "changes": [change.to_dict() for change in changes]}
    if replaying:
        impact = _impact(old, new, args)
        if impact is None:
            return EXIT_USAGE
        doc["impact"] = impact
        if args.fail_on_more_breaches is not None:
            change = impact["breaches"]["change"]
            doc["gate"] = {"limit": args.fail_on_more_breaches, "change": change,
                           "failed": change > args.fail_on_more_breaches}
    renderers = {"text": diff_report.render_text, "markdown": diff_report.render_markdown,
                 "github": diff_report.render_github, "sarif": diff_report.render_sarif,
                 "json": lambda d: json.dumps(d, indent=2) + "\n"}
    text = renderers[args.format](doc)
    if args.output:
        if not write_file(args.output, text, "diff"):
            return EXIT_USAGE
        progress(f"wrote {args.output}", args.quiet)
    else:
        sys.stdout.write(text)
    return EXIT_PROBLEMS if doc.get("gate", {}).get("failed") else EXIT_OK


def _impact(old: Policy, new: Policy, args: argparse.Namespace) -> dict | None:
    """Both versions replayed over the history; None after saying why it could not be read."""
    from sla_dsl.ci import change_impact
    from sla_dsl.cli.evaluate import AS_OF_HELP
    from sla_dsl.evaluation.inputs import as_of_instant
    from sla_dsl.history.read import HistoryError

    try:
        as_of = as_of_instant(args.as_of, new.timezone or "UTC")
    except ValueError as error:
        print(f"sla diff: --as-of {args.as_of!r} {error}\n{AS_OF_HELP}", file=sys.stderr)
        return None
    try:
        mapping = history_input.mapping_of(args)
        paths = list(args.history or [])
        progress("reading " + history_input.reading(args), args.quiet)
        old_history, new_history = change_impact.histories(
            old, new, paths, mapping, export_timezone=history_input.export_timezone(args),
            reps=args.reps)
    except HistoryError as error:
        print(f"sla diff: {error}", file=sys.stderr)
        return None
    for note in old_history.notes:
        print(f"sla diff: note: {note}", file=sys.stderr)
    for line in history_input.reps_lines(old_history):
        print(f"sla diff: {line}", file=sys.stderr)
    if old_history.counts.rejected:
        rejected = old_history.counts.rejected
        print(f"sla diff: {rejected} {'row' if rejected == 1 else 'rows'} of the history "
              f"{'was' if rejected == 1 else 'were'} rejected and left out ('sla evaluate "
              "--rejects FILE' lists them)", file=sys.stderr)
    if as_of is None:
        as_of = change_impact.latest_event(old_history)
    progress(f"replaying {counted(len(old_history.lead_ids), 'lead', grouped=False)} under "
             "both versions", args.quiet)
    before = change_impact.replay(old, old_history, as_of)
    after = change_impact.replay(new, new_history, as_of)
    return change_impact.impact(before, after)


def add(commands: argparse._SubParsersAction) -> None:
    diff = commands.add_parser(
        "diff", help="what a policy change says, and what it would have done",
        description="Compare two versions of a policy by meaning: definitions, thresholds, "
                    "cadences, calendars, consequences and goals added, removed or changed, "
                    "in the policy's words (layout and comments never show). With --history, "
                    "replay the history under both and list every lead whose verdict flips. "
                    "Exit 0 compared, 1 more breaches than --fail-on-more-breaches allows, "
                    "2 a usage or input error.")
    diff.add_argument("old", metavar="OLD",
                      help="the old version: a file, or REV:PATH such as "
                           "main:policies/company-x.sla")
    diff.add_argument("new", metavar="NEW", help="the new version: a file, or REV:PATH")
    diff.add_argument("--history", nargs="+", metavar="FILE",
                      help="event logs (.csv, .jsonl, .parquet) to replay under both versions")
    diff.add_argument("--mapping", metavar="TOML",
                      help="a mapping that turns CRM exports into events: those given to "
                           "--history, else the files the mapping names")
    history_input.add_options(diff)
    history_input.add_reps_option(diff)
    diff.add_argument("--as-of", metavar="TIME",
                      help="replay the world as of this time (ISO 8601); default: the latest "
                           "event")
    diff.add_argument("--format", choices=FORMATS, default="text",
                      help="text (default), json (every lead id), markdown (a pull-request "
                           "comment), github (workflow annotations) or sarif (code scanning)")
    diff.add_argument("--output", "-o", metavar="FILE", help="write the report here")
    diff.add_argument("--fail-on-more-breaches", type=int, metavar="N",
                      help="exit 1 when the new version has more than N breaches more than the "
                           "old over the history (0: any increase fails)")
    add_quiet_option(diff)
    diff.set_defaults(run=run)
