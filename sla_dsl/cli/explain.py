"""`sla explain`: the agreement a VP signs, generated from the policy that is enforced; and
`sla evaluate --explain LEAD`, the clock audit of one lead.

Both explain the same file to people who will never read it, so they live together.
"""

from __future__ import annotations

import argparse
import json
import sys

from sla_dsl.cli.common import (
    EXIT_OK,
    EXIT_USAGE,
    add_quiet_option,
    outputs_problem,
    policy_or_none,
    progress,
    write_file,
)
from sla_dsl.history.columns import History
from sla_dsl.language.model import Policy


def _write(text: str, output: str | None, verb: str, quiet: bool) -> int:
    if not output:
        sys.stdout.write(text)
        return EXIT_OK
    if not write_file(output, text, verb):
        return EXIT_USAGE
    progress(f"wrote {output}", quiet)
    return EXIT_OK


def run(args: argparse.Namespace) -> int:
    from sla_dsl.reports.agreement import agreement, render_html, render_markdown

    wrong = outputs_problem({"-o": args.output}, [args.policy])
    if wrong:
        print(f"sla explain: {wrong}", file=sys.stderr)
        return EXIT_USAGE
    policy = policy_or_none(args.policy, "explained")
    if policy is None:
        return EXIT_USAGE
    document = agreement(policy)
    text = render_html(document) if args.format == "html" else render_markdown(document)
    return _write(text, args.output, "explain", args.quiet)


def explain_lead(args: argparse.Namespace, policy: Policy, history: History,
                 as_of: int | None) -> tuple[str, bool] | int:
    """`sla evaluate --explain LEAD_ID`: the clock audit instead of the report, as its text and
    whether a clock is breached; or the exit code of a usage error."""
    from sla_dsl.evaluation.clock_audit import UnknownLead, audit_lead, document, render_text

    if getattr(args, "html", None):
        print("sla evaluate: --html writes the report of every lead, --explain one lead's "
              "clock audit\n  help: leave out one of them", file=sys.stderr)
        return EXIT_USAGE
    try:
        audit = audit_lead(policy, history, args.explain, as_of)
    except UnknownLead as error:
        print(f"sla evaluate: --explain: {error}", file=sys.stderr)
        return EXIT_USAGE
    text = json.dumps(document(audit), indent=2) + "\n" if args.format == "json" \
        else render_text(audit)
    return text, any(c.status == "breached" for c in audit.clocks)


def add(commands: argparse._SubParsersAction) -> None:
    explain = commands.add_parser(
        "explain", help="the agreement document, generated from the policy",
        description="Write the policy as the agreement both sides sign: summary, goals of "
                    "each party with the funnel arithmetic, what each needs from the other, "
                    "points of contact, what happens when goals are not met, cancellation "
                    "and review. Exit 0 written, 2 a usage error or a policy with errors.")
    explain.add_argument("policy", metavar="POLICY", help="the policy file (.sla)")
    explain.add_argument("--format", choices=("markdown", "html"), default="markdown",
                         help="Markdown (default), or one self-contained HTML page")
    explain.add_argument("--output", "-o", metavar="FILE", help="write the document here")
    add_quiet_option(explain)
    explain.set_defaults(run=run)
