"""`sla merge`: the report of one run from the partials of its shards.

Each `sla evaluate POLICY --history FILES --shard I/N --partial FILE` writes one shard's
partial; `sla merge FILES... --policy POLICY` checks that they are every shard of one run of
that policy, as of one time, and prints the very report a single `sla evaluate` prints.
"""

from __future__ import annotations

import argparse
import sys

from sla_dsl.cli.common import (
    EXIT_OK,
    EXIT_PROBLEMS,
    EXIT_USAGE,
    add_quiet_option,
    bar_enabled,
    outputs_problem,
    policy_or_none,
    shown_rows,
    write_out,
    write_report_files,
)
from sla_dsl.cli.stage_progress import StageProgress
from sla_dsl.language.plain_words import counted


def run(args: argparse.Namespace) -> int:
    from sla_dsl.cli.evaluate import show_rejects
    from sla_dsl.evaluation.partial_file import PartialFileError
    from sla_dsl.evaluation.shards import PartialMismatch
    from sla_dsl.reports.sharded import merge_files

    wrong = outputs_problem({"-o": args.output, "--html": args.html},
                            [args.policy, *args.partials])
    if wrong:
        print(f"sla merge: {wrong}", file=sys.stderr)
        return EXIT_USAGE
    policy = policy_or_none(args.policy, "merged")
    if policy is None:
        return EXIT_USAGE
    blocks = max(sum(h.receiver is not None for h in policy.handoffs), 1)
    bar = StageProgress(len(args.partials) + 2 * blocks, "sla merge",
                        enabled=bar_enabled(args))
    with bar:
        try:
            with bar.stage("merging partials, one at a time", len(args.partials)):
                report = merge_files(policy, args.partials,
                                     include_leads=args.format == "json",
                                     on_partial=bar.advance)
        except (PartialFileError, PartialMismatch) as error:
            print(f"sla merge: {error}", file=sys.stderr)
            return EXIT_USAGE
        counts = report.history.counts
        show_rejects(bar, report.history, args)
        bar.note(f"{len(args.partials)} shards: {counted(counts.read, 'row', grouped=False)} "
                 f"read, {counts.accepted} accepted, {counts.rejected} rejected; "
                 f"{counted(report.evaluation.lead_count, 'lead', grouped=False)}")
        with bar.stage("reporting", blocks):
            if args.format == "json":
                text = report.json_parts()
            elif args.format == "html":
                text = report.html()
            else:
                text = report.text()
            page = report.html() if args.html else None
        if not write_report_files(args, text, page, bar, blocks, "merge"):
            return EXIT_USAGE
    if not args.output:
        write_out(text)
    return EXIT_PROBLEMS if args.fail_on_breach and report.breached else EXIT_OK


def add(commands: argparse._SubParsersAction) -> None:
    merge = commands.add_parser(
        "merge", help="one report from the partials of a sharded evaluation",
        description="Merge the partials 'sla evaluate --shard I/N --partial FILE' wrote, one "
                    "per shard, into the report one 'sla evaluate' run prints, byte for byte. "
                    "Partials of another policy or as-of time, and shards missing or given "
                    "twice, are refused. Exit 0 merged, 1 breaches with --fail-on-breach, 2 a "
                    "usage or input error.")
    merge.add_argument("partials", metavar="PARTIAL", nargs="+",
                       help="the partials (.parquet), one per shard, in any order")
    merge.add_argument("--policy", required=True, metavar="POLICY",
                       help="the policy file the shards were evaluated with")
    merge.add_argument("--format", choices=("text", "json", "html"), default="text")
    merge.add_argument("--output", "--out", "-o", metavar="FILE",
                       help="write the report here")
    merge.add_argument("--html", metavar="FILE", help="also write the report as an HTML page")
    merge.add_argument("--show-rejects", type=shown_rows, default=10, metavar="N",
                       help="list the first N rejected rows on stderr (default 10)")
    merge.add_argument("--fail-on-breach", action="store_true",
                       help="exit 1 when any clause is breached")
    add_quiet_option(merge)
    merge.set_defaults(run=run)
