"""`sla evaluate`: replay recorded lead histories against a policy.

The command is the library's `sla_dsl.load_history` and `sla_dsl.evaluate` with a progress bar,
rejects on stderr and exit codes, so what it prints is what a notebook's `Report` holds.
"""

from __future__ import annotations

import argparse
import contextlib
import re
import sys
from collections.abc import Iterable
from pathlib import Path

from sla_dsl.cli import engine_options, history_input
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
    wrote,
)
from sla_dsl.cli.stage_progress import StageProgress
from sla_dsl.language.plain_words import counted

# Each shard of a run cuts the whole history once: a run of a million shards would never end
MAX_SHARDS, MAX_WORKERS = 1024, 256
AS_OF_HELP = "  help: write it as ISO 8601, such as 2026-03-31T18:00 or 2026-03-31T18:00Z"


def run(args: argparse.Namespace) -> int:
    if args.due:  # `sla due` with its defaults: one implementation of the due list
        if (args.explain is not None or args.html or args.fail_on_breach or args.rejects
                or args.shard is not None or args.shards):
            print("sla evaluate: --due prints the due list only; it takes no --explain, "
                  "--html, --fail-on-breach, --rejects or shards\n  help: run 'sla due "
                  "--help' for the due list's own options", file=sys.stderr)
            return EXIT_USAGE
        from sla_dsl.cli.due import run as due_run

        return due_run(argparse.Namespace(**vars(args), within="24", overdue="recent",
                                          owner_zone=[]))
    # numpy and pyarrow are imported here, so that `sla check` in CI does not wait for them
    from sla_dsl import evaluate, load_history
    from sla_dsl.evaluation.inputs import as_of_instant
    from sla_dsl.history.read import HistoryError
    from sla_dsl.history.write import write_rejects

    if args.print_mapping:
        return _print_mapping(args)
    wrong = _shard_options_problem(args) or outputs_problem(
        {"-o": args.output, "--html": args.html, "--rejects": args.rejects,
         "--partial": args.partial},
        [args.policy, *history_input.files_read(args)])
    if wrong:
        print(f"sla evaluate: {wrong}", file=sys.stderr)
        return EXIT_USAGE
    if args.policy is None:
        print("sla evaluate: no policy given\n  help: sla evaluate POLICY --history FILE...",
              file=sys.stderr)
        return EXIT_USAGE
    policy = policy_or_none(args.policy, "evaluated")
    if policy is None:
        return EXIT_USAGE
    try:
        as_of = as_of_instant(args.as_of, policy.timezone or "UTC")
    except ValueError as error:
        print(f"sla evaluate: --as-of {args.as_of!r} {error}\n{AS_OF_HELP}", file=sys.stderr)
        return EXIT_USAGE
    from sla_dsl.history.buckets import is_ingest

    if len(args.history) == 1 and is_ingest(args.history[0]):
        return _evaluate_buckets(args, policy, as_of)
    # the bar's units: a handoff block each while evaluating; reading takes about as long as
    # evaluating and the report about twice as long (100,000 leads of company-x.sla)
    blocks = max(sum(h.receiver is not None for h in policy.handoffs), 1)
    shards = args.shards or 1  # --shards N: every shard's blocks are units of the one bar
    bar = StageProgress((3 + shards) * blocks, "sla evaluate",
                        enabled=bar_enabled(args))
    with bar:
        try:
            mapping = history_input.mapping_of(args)
            zone = history_input.export_timezone(args)
            bar.note("reading " + history_input.reading(args))
            with bar.stage("reading", blocks):
                history = load_history(args.history, mapping=mapping, policy=policy,
                                       export_timezone=zone, absences=args.absences,
                                       reps=args.reps)
        except HistoryError as error:
            print(f"sla evaluate: {error}", file=sys.stderr)
            return EXIT_USAGE
        if args.shard is not None:  # one shard's partial instead of the report
            return _write_partial(args, policy, history, as_of, bar, blocks)
        counts = history.counts
        show_rejects(bar, history, args)
        _show_buckets_read_alone(bar, args.history)
        if args.rejects and not wrote(args.rejects, lambda: write_rejects(history, args.rejects),
                                          "evaluate"):
            return EXIT_USAGE
        page = None
        if args.explain is not None:  # one lead's clock audit instead of the report
            from sla_dsl.cli.explain import explain_lead

            audited = explain_lead(args, policy, history, as_of)
            if isinstance(audited, int):
                return audited
            text, breached = audited
        else:
            bar.note(f"{counted(counts.read, 'row', grouped=False)} read, {counts.accepted} "
                     f"accepted, {counts.rejected} rejected; evaluating "
                     f"{counted(len(history.lead_ids), 'lead', grouped=False)}")
            if args.shards and args.engine != "local":
                report = _evaluate_on_engine(args, policy, as_of, bar)
                if report is None:
                    return EXIT_USAGE
            elif args.shards:
                from sla_dsl.reports.sharded import evaluate_sharded

                with bar.stage(f"evaluating {args.shards} shards", args.shards * blocks):
                    report = evaluate_sharded(policy, history, args.shards,
                                              workers=args.workers, as_of=as_of,
                                              include_leads=args.format == "json",
                                              on_block=lambda _: bar.advance())
            else:
                with bar.stage("evaluating", blocks):
                    report = evaluate(policy, history, as_of,
                                      include_leads=args.format == "json",
                                      on_block=lambda _: bar.advance())
            breached = report.breached
            text, page = _made(args, report, bar, blocks)
        if not write_report_files(args, text, page, bar, blocks, "evaluate"):
            return EXIT_USAGE
    return _finish(args, text, history, breached)


def _made(args: argparse.Namespace, report, bar: StageProgress, blocks: int
          ) -> tuple[str | Iterable[bytes | memoryview], str | None]:
    """The report (a JSON report in parts, its per-lead records made as they are written) and
    the `--html` page."""
    with bar.stage("reporting", blocks):
        text = report.json_parts() if args.format == "json" else report.text()
        return text, report.html() if args.html else None


def _finish(args: argparse.Namespace, text, history, breached: bool) -> int:
    """Print the report unless it went to a file (after the bar is gone), then the exit
    status: --strict's failure first, then --fail-on-breach's."""
    if not args.output:
        write_out(text)
    return _exit_status(args, history, breached)


def _exit_status(args: argparse.Namespace, history, breached: bool) -> int:
    failure = history_input.strict_failure(history) if args.strict else None
    if failure:
        print(f"sla evaluate: {failure}", file=sys.stderr)
        return EXIT_USAGE
    return EXIT_PROBLEMS if args.fail_on_breach and breached else EXIT_OK


def _evaluate_buckets(args: argparse.Namespace, policy, as_of: int | None) -> int:
    """`--history DIR` of an `sla ingest`: each bucket read alone as its shard of the whole
    history (`--shard I/N --partial FILE` one of them; otherwise all, one at a time, merged
    into the single run's report)."""
    from sla_dsl.engines import EngineError
    from sla_dsl.evaluation.partial_file import write_partial
    from sla_dsl.evaluation.shards import PartialMismatch
    from sla_dsl.history.buckets import manifest_of
    from sla_dsl.history.read import HistoryError
    from sla_dsl.history.write import write_rejects
    from sla_dsl.reports.sharded import bucket_partial, evaluate_buckets

    directory = args.history[0]
    try:
        manifest = manifest_of(directory)
    except HistoryError as error:
        print(f"sla evaluate: {error}", file=sys.stderr)
        return EXIT_USAGE
    of = len(manifest.buckets)
    wrong = _buckets_problem(args, directory, of)
    if wrong:
        print(f"sla evaluate: {wrong}", file=sys.stderr)
        return EXIT_USAGE
    blocks = max(sum(h.receiver is not None for h in policy.handoffs), 1)
    # the bar's units: a handoff block each per bucket evaluated, as many per partial merged
    # (merging a bucket's partial takes about half as long as evaluating it), and the report
    evaluated = 2 * blocks if args.shard is not None else 2 * of * blocks
    bar = StageProgress(evaluated + 2 * blocks, "sla evaluate",
                        enabled=bar_enabled(args))
    page = None
    with bar:
        zone = policy.timezone or "UTC"
        if manifest.timezone != zone:
            bar.above(f"note: {directory} was ingested with --timezone {manifest.timezone}, "
                      f"the policy's is {zone}: times written without an offset were read "
                      f"in {manifest.timezone}")
        try:
            if args.shard is not None:
                shard = args.shard[0]
                with bar.stage(f"reading and evaluating bucket {shard} of {of}", evaluated):
                    partial = bucket_partial(policy, directory, shard, as_of=as_of,
                                             absences=args.absences, reps=args.reps,
                                             on_block=lambda _: bar.advance())
                history = partial.history
            else:
                with bar.stage(f"evaluating {of} buckets, then merging them", evaluated), \
                        _bucket_map(args, of, bar, blocks) as run_map:
                    report = evaluate_buckets(
                        policy, directory, as_of=as_of, absences=args.absences,
                        reps=args.reps, include_leads=args.format == "json",
                        on_bucket=lambda i, n: bar.note(f"bucket {i + 1} of {n}"),
                        on_block=lambda _: bar.advance(),
                        on_partial=lambda: bar.advance(blocks),
                        policy_source=str(Path(args.policy).resolve()), run_map=run_map)
                history = report.history
        except (HistoryError, PartialMismatch, EngineError) as error:
            print(f"sla evaluate: {error}", file=sys.stderr)
            return EXIT_USAGE
        show_rejects(bar, history, args)
        if args.rejects and not wrote(args.rejects, lambda: write_rejects(history, args.rejects),
                                          "evaluate"):
            return EXIT_USAGE
        if args.shard is not None:
            try:
                write_partial(partial, args.partial)
            except OSError as error:
                print(f"sla evaluate: cannot write {args.partial}: "
                      f"{error.strerror or error}", file=sys.stderr)
                return EXIT_USAGE
            counts = history.counts
            bar.note(f"bucket {shard} of {of}: "
                     f"{counted(partial.lead_count, 'lead', grouped=False)}, "
                     f"{counted(counts.read, 'row', grouped=False)} read, {counts.accepted} "
                     f"accepted, {counts.rejected} rejected; wrote {args.partial}")
        else:
            text, page = _made(args, report, bar, blocks)
            if not write_report_files(args, text, page, bar, blocks, "evaluate"):
                return EXIT_USAGE
    if args.shard is None:
        return _finish(args, text, history, report.breached)
    return _exit_status(args, history, False)


@contextlib.contextmanager
def _bucket_map(args: argparse.Namespace, of: int, bar: StageProgress, blocks: int):
    """The map the buckets run through: None (this process, one bucket at a time), a pool of
    `--workers` processes, or `--engine`'s cluster, each bucket's partial coming back."""
    if args.engine == "local" and (args.workers <= 1 or of <= 1):
        yield None
        return
    from sla_dsl.engines import open_engine

    workers = args.workers if args.engine == "local" else None
    with open_engine(args.engine, workers=workers, address=args.scheduler) as engine:
        yield lambda fn, items: engine.map(fn, list(items),
                                           lambda *_: bar.advance(blocks))


def _buckets_problem(args: argparse.Namespace, directory: str, of: int) -> str | None:
    """Why the options given cannot evaluate an ingest's `of` buckets, or None."""
    if args.mapping or args.preset or args.explain is not None or args.timezone:
        return (f"--history {directory} is an ingest's buckets: they are evaluated as they "
                "are, without --mapping, --preset, --timezone or --explain (their times are "
                "instants: the zone was sla ingest's --timezone)")
    given = args.shard[1] if args.shard is not None else args.shards
    if given is not None and given != of:
        return (f"{directory} holds {of} buckets: give --shard I/{of} or --shards {of} "
                "(bucket I is shard I/N of the same N)")
    return None


def _evaluate_on_engine(args: argparse.Namespace, policy, as_of: int | None,
                        bar: StageProgress):
    """`--shards N --engine dask`: each shard a task on the cluster, which reads the policy
    and the history from the same paths (a shared disk or the same checkout on every worker)
    and sends back its partial; the partials are merged here. None after an error said."""
    from sla_dsl.engines import EngineError
    from sla_dsl.evaluation.shards import PartialMismatch
    from sla_dsl.history.read import HistoryError
    from sla_dsl.reports.sharded import evaluate_mapped, shard_tasks

    tasks = shard_tasks(str(Path(args.policy).resolve()),
                        [str(Path(h).resolve()) for h in args.history], args.shards,
                        as_of=as_of, mapping=args.mapping, preset=args.preset,
                        export_timezone=args.timezone, absences=args.absences,
                        reps=args.reps)
    try:
        with engine_options.opened(args) as engine, \
                bar.stage(f"evaluating {args.shards} shards on {args.engine}", args.shards):
            return evaluate_mapped(
                policy, tasks, lambda fn, items: engine.map(fn, list(items),
                                                            lambda *_: bar.advance()),
                include_leads=args.format == "json")
    except (EngineError, HistoryError, PartialMismatch) as error:
        print(f"sla evaluate: {error}", file=sys.stderr)
        return None


def show_rejects(bar: StageProgress, history, args: argparse.Namespace) -> None:
    """The first `--show-rejects` rejected rows, and what the absences and reps files gave,
    above the bar."""
    counts = history.counts
    for reject in history.rejects[: args.show_rejects]:
        where = f"{reject.source}:{reject.row}" + (f" ({reject.column})"
                                                   if reject.column else "")
        bar.above(f"{where}: rejected: {reject.reason}")
    if counts.rejected > args.show_rejects:
        bar.above(f"... {counts.rejected - args.show_rejects} more rejected rows"
                  + ("" if getattr(args, "rejects", None) else
                     "; write them all with --rejects FILE"))
    shown = args.show_rejects
    for line in (history_input.absence_lines(history, shown)
                 + history_input.reps_lines(history, shown)):
        bar.above(line)


def _show_buckets_read_alone(bar: StageProgress, paths) -> None:
    """An ingest's buckets given as files: where their rejected rows and counts are (the
    report says so too, `history.notes`), on stderr, beside where rejects are shown."""
    from sla_dsl.history.buckets import buckets_read_alone

    if paths:
        for note in buckets_read_alone(paths):
            bar.above(f"note: {note}")


def shard_spec(text: str) -> tuple[int, int]:
    """`--shard I/N`: shard I (0 to N-1) of N. In ASCII digits only: `int` also takes `+1`,
    ` 1`, `1_0` and other scripts' digits, which a script building shard lists never means."""
    written = re.fullmatch(r"([0-9]+)/([0-9]+)", text)
    if not written:
        raise argparse.ArgumentTypeError(f"{text!r} is not I/N (such as 0/4)")
    shard, of = int(written[1]), int(written[2])
    if not 1 <= of <= MAX_SHARDS or not 0 <= shard < of:
        raise argparse.ArgumentTypeError(f"{text!r}: N is 1 to {MAX_SHARDS:,} and I is 0 to "
                                         "N-1 (shards 0/4, 1/4, 2/4 and 3/4 make one run)")
    return shard, of


def _shard_options_problem(args: argparse.Namespace) -> str | None:
    """Why the shard options given cannot go together, or None."""
    if args.shard is not None and args.shards:
        return ("--shard I/N evaluates one shard and --shards N all of them; give one\n"
                "  help: --shards N for the report, --shard I/N --partial FILE for sla merge")
    if (args.shard is None) != (args.partial is None):
        return ("--shard I/N and --partial FILE go together: the shard's partial is written "
                "there\n  help: sla evaluate POLICY --history FILE --shard 0/4 --partial "
                "shard-0.parquet")
    if args.shard is not None and (args.explain is not None or args.html or args.output
                                   or args.fail_on_breach or args.format != "text"):
        return ("--shard writes a partial, not a report: it takes no --explain, --html, "
                "--output, --format or --fail-on-breach\n  help: make the report with "
                "sla merge PARTIALS... --policy POLICY")
    if args.shards is not None and not 1 <= args.shards <= MAX_SHARDS:
        return f"--shards {args.shards}: give 1 to {MAX_SHARDS:,}"
    if not 1 <= args.workers <= MAX_WORKERS:
        return f"--workers {args.workers}: give 1 to {MAX_WORKERS}"
    if args.engine != "local" and not args.shards:
        return (f"--engine {args.engine} runs the shards of --shards N on it: give --shards N "
                "too\n  help: sla evaluate POLICY --history FILE --shards 8 --engine dask")
    if args.engine != "local" and args.workers != 1:
        return ("--workers is this machine's pool; on --engine dask the cluster's workers run "
                "the shards\n  help: leave out --workers")
    engine_problem = engine_options.problem(args)
    if engine_problem:
        return engine_problem
    if args.workers > 1 and not args.shards:
        return "--workers runs shards in parallel: give --shards N too"
    if args.shards and args.explain is not None:
        return "--explain audits one lead: it takes no --shards"
    return None


def _write_partial(args: argparse.Namespace, policy, history, as_of: int | None,
                   bar: StageProgress, blocks: int) -> int:
    """`--shard I/N --partial FILE`: replay the shard's leads and write what the merge needs.
    The shard reads the whole history, so without --as-of it is judged as of the whole
    history's latest event, as the single run is."""
    from sla_dsl.evaluation.partial_file import write_partial
    from sla_dsl.evaluation.shards import evaluate_shard
    from sla_dsl.history.write import write_rejects

    shard, of = args.shard
    with bar.stage(f"evaluating shard {shard}/{of}", blocks):
        partial = evaluate_shard(policy, history, shard, of, as_of,
                                 on_block=lambda _: bar.advance())
    counts = partial.history.counts
    show_rejects(bar, partial.history, args)
    rejected = partial.history
    if args.rejects and not wrote(args.rejects, lambda: write_rejects(rejected, args.rejects),
                                  "evaluate"):
        return EXIT_USAGE
    with bar.stage("writing", 2 * blocks):
        try:
            write_partial(partial, args.partial)
        except OSError as error:
            print(f"sla evaluate: cannot write {args.partial}: {error.strerror or error}\n"
                  "  help: name a file in a directory that exists and that you may write to",
                  file=sys.stderr)
            return EXIT_USAGE
    bar.note(f"shard {shard}/{of}: {partial.lead_count} of {len(history.lead_ids)} leads, "
             f"{counted(counts.read, 'row', grouped=False)} read, {counts.accepted} accepted, "
             f"{counts.rejected} rejected; wrote {args.partial}")
    failure = history_input.strict_failure(partial.history) if args.strict else None
    if failure:
        print(f"sla evaluate: {failure}", file=sys.stderr)
        return EXIT_USAGE
    return EXIT_OK


def _print_mapping(args: argparse.Namespace) -> int:
    """The preset's mapping, to copy and adapt (`--mapping` it then)."""
    from sla_dsl.history.presets import preset_text

    if not args.preset:
        print("sla evaluate: --print-mapping prints a preset's mapping\n  help: sla evaluate "
              "--preset salesforce --print-mapping > my-mapping.toml", file=sys.stderr)
        return EXIT_USAGE
    if args.mapping:  # which of the two was meant is not for this command to guess
        print(f"sla evaluate: --print-mapping prints the --preset's mapping, and --mapping "
              f"{args.mapping} names another\n  help: leave --mapping out to print the "
              f"{args.preset} preset", file=sys.stderr)
        return EXIT_USAGE
    sys.stdout.write(preset_text(args.preset))
    return EXIT_OK


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
                               "exports it reads (default: the files the mapping names), or "
                               "the directory of an sla ingest (its buckets evaluated one at "
                               "a time; --shard I/N reads bucket I only)")
    evaluate.add_argument("--mapping", metavar="TOML",
                          help="a mapping that turns a CRM export into events")
    history_input.add_options(evaluate)
    history_input.add_absences_option(evaluate)
    history_input.add_reps_option(evaluate)
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
    add_quiet_option(evaluate)
    evaluate.add_argument("--rejects", metavar="FILE", help="write every rejected row here (CSV)")
    evaluate.add_argument("--show-rejects", type=shown_rows, default=10, metavar="N",
                          help="list the first N rejected rows on stderr (default 10)")
    evaluate.add_argument("--strict", action="store_true", help="any rejected row is an error")
    evaluate.add_argument("--fail-on-breach", action="store_true",
                          help="exit 1 when any clause is breached")
    evaluate.add_argument("--explain", metavar="LEAD_ID",
                          help="instead of the report, the clock audit of one lead: every "
                               "clause's due time and its open, closed and paused time")
    evaluate.add_argument("--shards", type=int, metavar="N",
                          help="evaluate the leads as N shards (by a hash of the lead id) and "
                               "merge them: the same report as one run (docs/scale.md)")
    evaluate.add_argument("--workers", type=int, default=1, metavar="K",
                          help="with --shards, evaluate K shards at a time in worker processes "
                               "(default 1: one after another, in this process)")
    engine_options.add_arguments(evaluate, "shards of --shards N")
    evaluate.add_argument("--shard", type=shard_spec, metavar="I/N",
                          help="evaluate only shard I (0 to N-1) of N and write its partial to "
                               "--partial FILE; 'sla merge' makes the report of every shard's")
    evaluate.add_argument("--partial", metavar="FILE",
                          help="with --shard, the Parquet file the shard's partial goes to")
    evaluate.add_argument("--due", action="store_true",
                          help="instead of the report, the due list of 'sla due' (every open "
                               "clock and what fires in the next 24 hours); 'sla due' has its "
                               "options")
    evaluate.set_defaults(run=run)
