"""How `sla ingest` scales: synthetic event logs of the sizes given, cut into buckets by DuckDB
with a memory limit, timed, with the peak memory of the whole process (Python, Arrow and
DuckDB: ru_maxrss of a child process that does only the ingest).

    python benchmarks/ingest_scale.py 10000000 [100000000] [--memory-limit 4GB] [--dir DIR]
    python benchmarks/ingest_scale.py 2000000 --evaluate policies/inbound-desk.sla --check

The history is `sla_dsl.history.synthetic.generate`'s, made in chunks of leads (each chunk's
leads renumbered after the ones before) and appended to one CSV, so that generation holds no
more than its chunks (at most 8 are generated, then reused with new lead ids: see
`job_generate`); it is written once to DIR (default: a folder in the system's temp dir) and
reused. The rows are shuffled within each chunk, so the file is not already grouped by lead.
Buckets: one per 2 million events unless --buckets says.

With `--evaluate POLICY`, each bucket is then evaluated on its own, one child process at a
time, as a shard job would be (`sla evaluate POLICY --history DIR --shard I/N --partial F`):
the total time and the largest peak; then `sla merge` of the partials (time, peak RSS), and
with `--check` the single run on the CSV, its time and peak, and whether the merged report is
its bytes (`--format text|json`).

Needs DuckDB: `pip install 'sla_dsl[duckdb]'`.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHUNK_LEADS = 200_000
DISTINCT_CHUNKS = 8
START, DAYS, TIMEZONE = dt.date(2026, 1, 5), 90, "Europe/Amsterdam"
FIRST = ("lead_id", "at", "event", "actor")
EVENTS_PER_BUCKET = 2_000_000


def _gb(size: int) -> str:
    return f"{size / 1024**3:.2f} GB"


def child(args: list[str]) -> tuple[dict, float, int]:
    """Run this script's `--job` in a fresh process: (its answer, wall seconds, peak RSS)."""
    start = time.perf_counter()
    process = subprocess.Popen([sys.executable, __file__, "--job", *args],
                               stdout=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    out = process.stdout.read() if process.stdout else ""
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"child job {args[0]} failed")
    return json.loads(out.strip().splitlines()[-1]), wall, usage.ru_maxrss * 1024


# ============================================================================ the history


def job_generate(path: str, events: str, seed: str) -> dict:
    """At least `events` events, whole leads, written chunk by chunk; the exact count back.

    The generator makes 200,000 leads in about 20 s, so a hundred million events would take
    half an hour of it: at most DISTINCT_CHUNKS chunks are generated (a seed each), and the
    file cycles through them, each time with leads renumbered after all before and the rows
    shuffled anew. Every lead is distinct; their timelines repeat every DISTINCT_CHUNKS."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pcsv

    from sla_dsl.history.synthetic import generate

    target, written, offset, chunk = int(events), 0, 0, 0
    temporary = Path(path + ".partial")
    names: list[str] = []
    made: list[tuple[np.ndarray, pa.Table]] = []  # (lead number in chunk, other columns)
    with contextlib.ExitStack() as stack:
        handle = stack.enter_context(temporary.open("wb"))
        writer = None
        while written < target:
            if chunk < DISTINCT_CHUNKS:
                columns = generate(CHUNK_LEADS, START, DAYS, TIMEZONE, int(seed) + chunk)
                ids = columns["lead_id"]
                lead = np.cumsum(np.r_[True, ids[1:] != ids[:-1]]) - 1
                if not names:
                    names = [*FIRST, *sorted(set(columns) - set(FIRST))]
                at = pc.strftime(pa.array(columns["at"].astype(np.int64),
                                          pa.timestamp("us", "UTC")),
                                 format="%Y-%m-%dT%H:%M:%SZ")
                at = pc.replace_substring_regex(at, r"\.000000Z$", "Z")
                made.append((lead, pa.table({"at": at, **{
                    name: pa.array(columns[name].astype(str)) for name in names[2:]}})))
            lead, rest = made[chunk % len(made)]
            table = pa.table({"lead_id": pa.array(np.char.add("L", (lead + offset).astype(
                "U12"))), **{name: rest.column(name) for name in names[1:]}})
            table = table.take(pa.array(np.random.default_rng(chunk).permutation(len(table))))
            if writer is None:
                handle.write((",".join(names) + "\n").encode())
                writer = stack.enter_context(pcsv.CSVWriter(handle, table.schema, write_options=(
                    pcsv.WriteOptions(include_header=False, quoting_style="none"))))
            writer.write_table(table)
            written += table.num_rows
            offset += CHUNK_LEADS
            chunk += 1
    temporary.replace(path)
    return {"events": written, "leads": offset}


def history_file(directory: Path, events: int, seed: int) -> tuple[Path, int]:
    path = directory / f"ingest-{events}-events-seed{seed}.csv"
    info = path.with_suffix(".json")
    if path.is_file() and info.is_file():
        made = json.loads(info.read_text())
        print(f"history: reusing {path} ({made['events']:,} events)")
        return path, made["events"]
    directory.mkdir(parents=True, exist_ok=True)
    made, wall, rss = child(["generate", str(path), str(events), str(seed)])
    info.write_text(json.dumps(made))
    print(f"history: generated {made['events']:,} events of {made['leads']:,} leads in "
          f"{wall:.0f} s (peak {_gb(rss)}), {path.stat().st_size / 1024**3:.1f} GB of CSV")
    return path, made["events"]


# ============================================================================ the ingest


def job_ingest(path: str, out: str, buckets: str, memory_limit: str, threads: str) -> dict:
    from sla_dsl.history.ingest import ingest

    laps: dict[str, float] = {}
    start = time.perf_counter()

    def progress(message: str) -> None:
        if message.startswith("reading bucket 1 ") and "split" not in laps:
            laps["split"] = time.perf_counter() - start

    manifest = ingest([Path(path)], Path(out), buckets=int(buckets), timezone=TIMEZONE,
                      memory_limit=memory_limit or None, threads=int(threads) or None,
                      progress=progress)
    laps["total"] = time.perf_counter() - start
    laps["buckets"] = laps["total"] - laps.get("split", 0.0)
    return {"laps": laps, "rows": manifest.rows_read, "rejected": manifest.rejected,
            "largest_bucket": max(b.rows_read for b in manifest.buckets)}


def run_cli(argv: list[str]) -> tuple[float, int]:
    """`sla ARGV...` in a fresh process: (wall seconds, peak RSS)."""
    start = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-c", "import sys; from sla_dsl.cli import "
                                "main; sys.exit(main(sys.argv[1:]))", *argv])
    _, status, usage = os.wait4(process.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"sla {' '.join(argv)} failed")
    return time.perf_counter() - start, usage.ru_maxrss * 1024


def evaluate_buckets(path: Path, out: Path, buckets: int, made: int,
                     args: argparse.Namespace) -> None:
    """Each bucket's partial in its own process (`--history DIR --shard I/N --partial`), then
    `sla merge`; with --check, the single run on the CSV and the bytes compared."""
    policy = str(args.evaluate)
    total, peak = 0.0, 0
    parts = []
    for i in range(buckets):
        part = out / f"partial-{i:03d}.parquet"
        wall, rss = run_cli(["evaluate", policy, "-q", "--history", str(out), "--shard",
                             f"{i}/{buckets}", "--partial", str(part)])
        total, peak = total + wall, max(peak, rss)
        parts.append(str(part))
    size = sum(Path(p).stat().st_size for p in parts)
    print(f"evaluate {buckets} buckets one at a time, a partial each ({args.evaluate.name}): "
          f"{total:.1f} s ({total / buckets:.1f} s a bucket), {made / total:,.0f} events/s, "
          f"largest peak RSS {_gb(peak)}; partials {size / 1024**3:.2f} GB")
    merged = out / f"merged.{args.format}"
    wall, rss = run_cli(["merge", *parts, "--policy", policy, "-q", "--format", args.format,
                         "-o", str(merged)])
    print(f"sla merge of the {buckets} partials (--format {args.format}): {wall:.1f} s, "
          f"peak RSS {_gb(rss)}")
    if args.check:
        single = out / f"single.{args.format}"
        wall, rss = run_cli(["evaluate", policy, "-q", "--history", str(path), "--format",
                             args.format, "-o", str(single)])
        same = single.read_bytes() == merged.read_bytes()
        print(f"single run on the CSV (--format {args.format}): {wall:.1f} s, peak RSS "
              f"{_gb(rss)}; merged report {'identical' if same else 'DIFFERENT'}, byte for "
              "byte")
        if not same:
            raise SystemExit("the merged report differs from the single run's")


def measure(events: int, args: argparse.Namespace) -> None:
    path, made = history_file(args.dir, events, args.seed)
    buckets = args.buckets or max(1, -(-made // EVENTS_PER_BUCKET))
    out = args.dir / f"buckets-{events}"
    shutil.rmtree(out, ignore_errors=True)
    answer, wall, rss = child(["ingest", str(path), str(out), str(buckets),
                               args.memory_limit or "", str(args.threads or 0)])
    laps = answer["laps"]
    print(f"ingest {made:,} events into {buckets} buckets (memory limit "
          f"{args.memory_limit or 'DuckDB default'}): {wall:.1f} s wall "
          f"(DuckDB split {laps.get('split', 0):.1f} s, buckets read and written "
          f"{laps['buckets']:.1f} s), {made / wall:,.0f} events/s, peak RSS {_gb(rss)}, "
          f"largest bucket {answer['largest_bucket']:,} rows, {answer['rejected']} rejected")
    if args.evaluate:
        evaluate_buckets(path, out, buckets, made, args)
    if not args.keep:
        shutil.rmtree(out, ignore_errors=True)


def main() -> int:
    if len(sys.argv) > 2 and sys.argv[1] == "--job":
        job = {"generate": job_generate, "ingest": job_ingest}[sys.argv[2]]
        print(json.dumps(job(*sys.argv[3:])))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", nargs="+", type=int, help="events, e.g. 10000000")
    parser.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()) / "sla-ingest")
    parser.add_argument("--buckets", type=int, help="default: one per 2 million events")
    parser.add_argument("--memory-limit", default="4GB", help="DuckDB's (default 4GB)")
    parser.add_argument("--threads", type=int, help="DuckDB's (default: every core)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--evaluate", type=Path, metavar="POLICY",
                        help="then evaluate each bucket alone against POLICY (a partial "
                             "each, as a shard job would) and merge the partials")
    parser.add_argument("--format", choices=("text", "json"), default="text",
                        help="the merged report's format (default text)")
    parser.add_argument("--check", action="store_true",
                        help="with --evaluate: also run the single run on the CSV and "
                             "compare the reports byte for byte")
    parser.add_argument("--keep", action="store_true", help="keep the buckets")
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
          f"{platform.python_version()}; DuckDB {_duckdb_version()}")
    for events in args.sizes:
        measure(events, args)
    return 0


def _duckdb_version() -> str:
    try:
        import duckdb
    except ImportError:
        raise SystemExit("needs DuckDB: pip install 'sla_dsl[duckdb]'") from None
    return duckdb.__version__


if __name__ == "__main__":
    sys.exit(main())
