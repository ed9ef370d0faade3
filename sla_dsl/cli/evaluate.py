"""`sla evaluate`: replay recorded lead histories against a policy."""

from __future__ import annotations

import argparse
import json
import sys

from sla_dsl.cli import history_input
from sla_dsl.cli.common import EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE, policy_or_none, write_file
from sla_dsl.cli.stage_progress import StageProgress


def as_of_instant(text: str | None, timezone: str) -> int | None:
    """An ISO 8601 time as µs since the epoch; without an offset it is read in `timezone`.
    Raises ValueError saying what is wrong with it: not a time, or outside the times a history
    may hold (so no table is built out to it)."""
    if text is None:
        return None
    import datetime as dt
    from zoneinfo import ZoneInfo

    from sla_dsl.business_time import to_us
    from sla_dsl.history.columns import SUPPORTED_TIMES, in_supported_range

    try:
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=ZoneInfo(timezone))
        instant = to_us(moment)
    except (ValueError, OverflowError):
        raise ValueError("is not a date and time") from None
    if not in_supported_range(instant):
        raise ValueError(f"is outside the supported times, {SUPPORTED_TIMES}")
    return instant


AS_OF_HELP = "  help: write it as ISO 8601, such as 2026-03-31T18:00 or 2026-03-31T18:00Z"


def run(args: argparse.Namespace) -> int:
    # numpy and pyarrow are imported here, so that `sla check` in CI does not wait for them
    from sla_dsl.evaluation.replay import BREACHED, evaluate, fields_needed
    from sla_dsl.history.read import HistoryError, load_history, write_rejects
    from sla_dsl.reports import document as report

    if args.print_mapping:
        return _print_mapping(args)
    if args.policy is None:
        print("sla evaluate: no policy given\n  help: sla evaluate POLICY --history FILE...",
              file=sys.stderr)
        return EXIT_USAGE
    policy = policy_or_none(args.policy, "evaluated")
    if policy is None:
        return EXIT_USAGE
    timezone = policy.timezone or "UTC"
    try:
        as_of = as_of_instant(args.as_of, timezone)
    except ValueError as error:
        print(f"sla evaluate: --as-of {args.as_of!r} {error}\n{AS_OF_HELP}", file=sys.stderr)
        return EXIT_USAGE
    # the bar's units: a handoff block each while evaluating; reading takes about as long as
    # evaluating and the report about twice as long (100,000 leads of company-x.sla)
    blocks = max(sum(h.receiver is not None for h in policy.handoffs), 1)
    bar = StageProgress(4 * blocks, "sla evaluate", enabled=False if args.quiet else None)
    with bar:
        try:
            mapping = history_input.mapping_of(args)
            zone = history_input.export_timezone(args)
            bar.note("reading " + history_input.reading(args))
            with bar.stage("reading", blocks):
                history = load_history(args.history, timezone=timezone, mapping=mapping,
                                       fields=fields_needed(policy), export_timezone=zone)
        except HistoryError as error:
            print(f"sla evaluate: {error}", file=sys.stderr)
            return EXIT_USAGE
        counts = history.counts
        for reject in history.rejects[: args.show_rejects]:
            where = f"{reject.source}:{reject.row}" + (f" ({reject.column})"
                                                       if reject.column else "")
            bar.above(f"{where}: rejected: {reject.reason}")
        if counts.rejected > args.show_rejects:
            bar.above(f"... {counts.rejected - args.show_rejects} more rejected rows"
                      + ("" if args.rejects else "; write them all with --rejects FILE"))
        if args.rejects:
            write_rejects(history, args.rejects)
        page = None
        if args.explain is not None:  # one lead's clock audit instead of the report
            from sla_dsl.cli.explain import explain_lead

            audited = explain_lead(args, policy, history, as_of)
            if isinstance(audited, int):
                return audited
            text, breached = audited
        else:
            bar.note(f"{counts.read} rows read, {counts.accepted} accepted, "
                     f"{counts.rejected} rejected; evaluating {len(history.lead_ids)} leads")
            with bar.stage("evaluating", blocks):
                evaluation = evaluate(policy, history, as_of,
                                      on_block=lambda _: bar.advance())
            breached = any((r.status == BREACHED).any() for r in evaluation.clauses)
            with bar.stage("reporting", 2 * blocks):
                doc = report.document(evaluation, include_leads=args.format == "json")
                text = (json.dumps(doc, indent=2) + "\n") if args.format == "json" \
                    else report.render_text(doc)
                page = _page(doc, policy, history, evaluation.as_of) if args.html else None
    for path, content in ((args.output, text), (args.html, page)):
        if path and not write_file(path, content, "evaluate"):
            return EXIT_USAGE
        if path:
            bar.note(f"wrote {path}")
    if not args.output:
        sys.stdout.write(text)
    if args.strict and counts.rejected:
        print(f"sla evaluate: {counts.rejected} rows rejected (--strict)", file=sys.stderr)
        return EXIT_USAGE
    return EXIT_PROBLEMS if args.fail_on_breach and breached else EXIT_OK


def _print_mapping(args: argparse.Namespace) -> int:
    """The preset's mapping, to copy and adapt (`--mapping` it then)."""
    from sla_dsl.history.presets import preset_text

    if not args.preset:
        print("sla evaluate: --print-mapping prints a preset's mapping\n  help: sla evaluate "
              "--preset salesforce --print-mapping > my-mapping.toml", file=sys.stderr)
        return EXIT_USAGE
    sys.stdout.write(preset_text(args.preset))
    return EXIT_OK


def _page(doc: dict, policy, history, as_of: int) -> str:
    """The HTML report, with the clock audit of each lead among its latest breaches."""
    from sla_dsl.evaluation.clock_audit import audit_texts
    from sla_dsl.reports import html as html_report

    breached = [row["lead_id"] for row in doc["summary"]["latest_breaches"]]
    return html_report.render(doc, rejects=history.rejects,
                              speed_goals=html_report.first_touch_goals(policy),
                              audits=audit_texts(policy, history, breached, as_of))


def add(commands: argparse._SubParsersAction) -> None:
    evaluate = commands.add_parser(
        "evaluate", help="replay a lead history against a policy",
        description="Replay recorded lead histories against a policy: every clock of every "
                    "lead, the consequences the agreement sets, commitments per period and the "
                    "cancel and review triggers. Exit 0 evaluated, 1 breaches with "
                    "--fail-on-breach, 2 a usage or input error.")
    evaluate.add_argument("policy", metavar="POLICY", nargs="?",
                          help="the policy file (.sla)")
    evaluate.add_argument("--history", nargs="*", default=[], metavar="FILE",
                          help="event logs (.csv, .jsonl, .parquet), or with --mapping the CRM "
                               "exports it reads (default: the files the mapping names)")
    evaluate.add_argument("--mapping", metavar="TOML",
                          help="a mapping that turns a CRM export into events")
    history_input.add_options(evaluate)
    evaluate.add_argument("--print-mapping", action="store_true",
                          help="print the --preset's mapping (to copy, adapt and give to "
                               "--mapping) and stop")
    evaluate.add_argument("--as-of", metavar="TIME",
                          help="evaluate the world as of this time (ISO 8601; without an offset "
                               "in the policy's timezone); default: the latest event")
    evaluate.add_argument("--format", choices=("text", "json"), default="text")
    evaluate.add_argument("--output", "-o", metavar="FILE", help="write the report here")
    evaluate.add_argument("--html", metavar="FILE",
                          help="also write the report as one self-contained HTML page with "
                               "charts (opens offline)")
    evaluate.add_argument("--quiet", "-q", action="store_true",
                          help="no progress messages or bar on the terminal")
    evaluate.add_argument("--rejects", metavar="FILE", help="write every rejected row here (CSV)")
    evaluate.add_argument("--show-rejects", type=int, default=10, metavar="N",
                          help="list the first N rejected rows on stderr (default 10)")
    evaluate.add_argument("--strict", action="store_true", help="any rejected row is an error")
    evaluate.add_argument("--fail-on-breach", action="store_true",
                          help="exit 1 when any clause is breached")
    evaluate.add_argument("--explain", metavar="LEAD_ID",
                          help="instead of the report, the clock audit of one lead: every "
                               "clause's due time and its open, closed and paused time")
    evaluate.set_defaults(run=run)
