"""`sla ingest`: an event log larger than memory cut into Parquet buckets of whole leads, with
DuckDB (the optional extra `sla_dsl[duckdb]`), for evaluation shard by shard."""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from sla_dsl.cli import history_input
from sla_dsl.cli.common import EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE, add_quiet_option, progress
from sla_dsl.language.plain_words import counted

MOST_BUCKETS = 4096


def run(args: argparse.Namespace) -> int:
    from sla_dsl.history.columns import HistoryError
    from sla_dsl.history.ingest import MANIFEST, REJECTS, ingest

    try:
        import duckdb  # noqa: F401
    except ImportError:
        print("sla ingest: needs DuckDB\n  help: pip install 'sla_dsl[duckdb]'", file=sys.stderr)
        return EXIT_USAGE
    if not 1 <= args.buckets <= MOST_BUCKETS:
        print(f"sla ingest: --buckets {args.buckets:,} is out of range: from 1 to "
              f"{MOST_BUCKETS:,}\n  help: about one bucket per 2 million events",
              file=sys.stderr)
        return EXIT_USAGE
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        print(f"sla ingest: {out} is a file\n  help: name a directory for the buckets",
              file=sys.stderr)
        return EXIT_USAGE
    options = {"buckets": args.buckets, "timezone": args.timezone,
               "memory_limit": args.memory_limit, "threads": args.threads,
               "temp_directory": Path(args.temp_directory) if args.temp_directory else None,
               "progress": None if args.quiet else progress}
    try:
        mapping = history_input.mapping_of(args)
        if mapping is None and not args.history:
            print("sla ingest: no history given\n  help: --history FILE..., or --preset "
                  "salesforce|hubspot --history FILES, or --mapping FILE", file=sys.stderr)
            return EXIT_USAGE
        if mapping is None:
            manifest = ingest([Path(p) for p in args.history], out, **options)
        else:
            from sla_dsl.history.ingest_mapped import ingest_mapped

            said = f"preset {args.preset}" if args.preset else f"mapping {args.mapping}"
            manifest = ingest_mapped(mapping, [Path(p) for p in args.history or ()], out,
                                     described=said, **options)
    except HistoryError as error:
        print(f"sla ingest: {error}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as error:
        print(f"sla ingest: cannot write {out}: {error.strerror or error}\n  help: name a "
              "directory you may write to, with room for the data twice", file=sys.stderr)
        return EXIT_USAGE
    left_out = sum(f.get("left_out", 0) for f in manifest.files)
    print(f"history: {counted(manifest.rows_read, 'row', grouped=False)} read, "
          f"{manifest.accepted} accepted, {manifest.rejected} rejected"
          + (f" ({left_out} more left out by the mapping's filters)" if left_out else ""))
    print(f"wrote {counted(len(manifest.buckets), 'bucket')} to {out} ({MANIFEST}; rejected "
          f"rows in {REJECTS})")
    for note in manifest.notes:
        print(f"note: {note}")
    if manifest.as_of_default is not None:
        print(f"as-of default (the latest event): {manifest.as_of_default}")
    for path in manifest.in_memory:
        print(f"note: {path} was read whole in memory (JSON Lines, or a CSV with damaged rows "
              "or spaces after a closing quote)", file=sys.stderr)
    if args.strict and manifest.rejected:
        return EXIT_PROBLEMS
    return EXIT_OK


_SIZE = re.compile(r"\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KIB|MIB|GIB|TIB)", re.IGNORECASE)


def memory_size(text: str) -> str:
    """`--memory-limit`: a size DuckDB reads, checked here so a typo is said as one, not as
    the engine running out of memory."""
    if not _SIZE.fullmatch(text.strip()):
        raise argparse.ArgumentTypeError(f"{text!r} is not a size such as 4GB or 512MB")
    return text.strip()


def thread_count(text: str) -> int:
    """`--threads`: 1 to 1,024."""
    try:
        count = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 1 <= count <= 1024:
        raise argparse.ArgumentTypeError(f"{count}: give 1 to 1,024")
    return count


def add(commands: argparse._SubParsersAction) -> None:
    ingest = commands.add_parser(
        "ingest", help="cut an event log larger than memory into Parquet buckets of leads",
        description="Read event logs (CSV, Parquet, JSON Lines), or a CRM's export (--preset, "
                    "--mapping: its files joined), with DuckDB, out of core, and write N "
                    "Parquet event logs of whole leads (by a stable hash of the lead id), "
                    "each read by the rules of 'sla evaluate': the same rejected rows, "
                    "counted in manifest.json and listed in rejects.csv.")
    ingest.add_argument("--history", nargs="+", metavar="FILE",
                        help="event logs: .csv, .parquet, .jsonl; with --preset or --mapping "
                             "the CRM's export files (with --mapping, default: the files it "
                             "names)")
    ingest.add_argument("--mapping", metavar="TOML",
                        help="a mapping that turns a CRM export into events, as sla evaluate "
                             "--mapping reads it")
    ingest.add_argument("--preset", choices=history_input.PRESET_NAMES,
                        help="read a CRM's export as it comes (as sla evaluate --preset): "
                             "salesforce: Lead.csv, LeadHistory.csv, Task.csv, Event.csv, "
                             "User.csv; hubspot: contacts.csv, property_history.csv, "
                             "engagements.csv, engagement_contacts.csv, owners.csv")
    ingest.add_argument("--buckets", type=int, required=True, metavar="N",
                        help="how many buckets (about one per 2 million events)")
    ingest.add_argument("--out", required=True, metavar="DIR",
                        help="directory for bucket-000.parquet ..., manifest.json, rejects.csv")
    ingest.add_argument("--timezone", required=True, metavar="ZONE",
                        help="the zone of times written without an offset (the policy's; for "
                             "an export, what sla evaluate --timezone would be)")
    ingest.add_argument("--memory-limit", metavar="SIZE", type=memory_size,
                        help="DuckDB's memory limit, e.g. 4GB (default: DuckDB's, 80%% of RAM)")
    ingest.add_argument("--temp-directory", metavar="DIR",
                        help="where DuckDB spills (default: DIR/.ingest-work/spill)")
    ingest.add_argument("--threads", type=thread_count, metavar="N",
                        help="DuckDB's threads (1 to 1,024)")
    ingest.add_argument("--strict", action="store_true", help="exit 1 when a row is rejected")
    add_quiet_option(ingest)
    ingest.set_defaults(run=run)
