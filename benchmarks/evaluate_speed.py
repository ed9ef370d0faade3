"""How fast `sla evaluate` replays a big history, end to end, from CSV and from Parquet.

Target (the issue): a million leads evaluated against the section 8 policy
(policies/inbound-desk.sla) at 1,000,000 events per second or more end to end, on a 2-core
machine, with peak memory under 4 GB. As a baseline from the same run, the time DuckDB takes to
compute the wall-clock first-touch delay of every lead from the same CSV, and the ratio.

End to end is what `sla evaluate POLICY --history FILE --format text` does: check the policy,
`load_history`, `evaluate`, `report.document` and `text.render_text`. Each measurement runs in
a fresh child process, so that its peak memory (ru_maxrss from `os.wait4`) is its own and no
run warms the next one's caches; the phases are timed inside the child. Each of our runs is
followed by DuckDB's on the same file, and each pair's ratio is a sample: the summary gives
their median and range (wall and CPU), as the machine may be shared. Then `--format json -o
FILE` from Parquet, `--repeat` times: the JSON report's time (document + text written).

    python benchmarks/evaluate_speed.py [--leads 1000000] [--repeat 3] [--dir DIR] [--fresh]
    python benchmarks/evaluate_speed.py --leads 100000 --profile   # cProfile of one CSV run
    python benchmarks/evaluate_speed.py --sharded-events 10000000  # a quicker sharded run

Last, the sharded run of item 3 (`--sharded-events`, default 100 million, 0 skips it): the
synthetic history ingested into buckets by `sla ingest`, each bucket evaluated in its own
process and the partials merged by `sla merge`, each step's wall time, CPU time and peak
memory against 8 GB (`benchmarks/sharded_run.py`; its CSV is kept in DIR, about 7 GB).

The history comes from `sla_dsl.history.synthetic.generate`, in chunks of leads (one call for a
million leads would hold several GB of object arrays), and is written once to DIR (default: a folder
in the system's temp dir) as CSV (ISO 8601 UTC, `Z`) and Parquet; later runs reuse the files.
DuckDB is a benchmark-only dependency: `pip install duckdb`.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import importlib.util
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
POLICY = ROOT / "policies" / "inbound-desk.sla"
TARGET_EVENTS_PER_SECOND = 1_000_000
TARGET_PEAK_BYTES = 4 * 1024**3
CHUNK_LEADS = 100_000
START, DAYS, TIMEZONE = dt.date(2026, 1, 5), 90, "Europe/Amsterdam"
FIRST = ("lead_id", "at", "event", "actor")
_US = 1_000_000


# ============================================================================ the history


def history_files(directory: Path, leads: int, seed: int, fresh: bool) -> tuple[Path, Path, int]:
    """(csv, parquet, events), written unless already there (or `fresh`). Generated in a child
    process: this one stays small, because a child's ru_maxrss starts from the RSS of the
    process that spawned it."""
    stem = f"history-{leads}-leads-seed{seed}"
    csv_path, parquet_path = directory / f"{stem}.csv", directory / f"{stem}.parquet"
    info = directory / f"{stem}.json"
    if not fresh and csv_path.is_file() and parquet_path.is_file() and info.is_file():
        events = json.loads(info.read_text())["events"]
        print(f"history: reusing {csv_path.name} and .parquet in {directory} ({events:,} events;"
              f" --fresh to regenerate)")
        return csv_path, parquet_path, events
    directory.mkdir(parents=True, exist_ok=True)
    info.unlink(missing_ok=True)
    answer, wall, rss = child(["--job", "generate", str(csv_path), str(parquet_path),
                               str(leads), str(seed)])
    events = answer["events"]
    info.write_text(json.dumps({"leads": leads, "seed": seed, "events": events}))
    print(f"history: generated {events:,} events of {leads:,} leads in {wall:.1f} s "
          f"(peak {_gb(rss)}) into {directory}")
    return csv_path, parquet_path, events


def job_generate(csv_path: str, parquet_path: str, leads: str, seed: str) -> dict:
    return {"events": write_history(Path(csv_path), Path(parquet_path), int(leads), int(seed))}


def write_history(csv_path: Path, parquet_path: Path, leads: int, seed: int) -> int:
    """Generate in chunks of leads, renumber each chunk's leads after the ones before it (so
    the files stay sorted by lead id), and append to both files. Written under temporary names
    and renamed at the end, so that an interrupted run never leaves a file to be reused."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.csv as pcsv
    import pyarrow.parquet as pq

    from sla_dsl.history.synthetic import generate

    width = max(7, len(str(leads - 1)))
    csv_tmp, parquet_tmp = (p.with_name(p.name + ".partial") for p in (csv_path, parquet_path))
    names: list[str] = []
    events = 0
    with contextlib.ExitStack() as stack:
        csv_file = stack.enter_context(csv_tmp.open("wb"))
        csv_writer = parquet_writer = None
        for chunk, offset in enumerate(range(0, leads, CHUNK_LEADS)):
            size = min(CHUNK_LEADS, leads - offset)
            columns = generate(size, START, DAYS, TIMEZONE, seed + chunk)
            ids = columns["lead_id"]
            # sorted by id, every lead has a `created` event: the n-th run of ids is lead n
            lead = np.cumsum(np.r_[True, ids[1:] != ids[:-1]]) - 1
            renamed = np.array([f"L{offset + n:0{width}d}" for n in range(size)])[lead]
            if not names:
                names = [*FIRST, *sorted(set(columns) - set(FIRST))]
            at = pa.array(columns["at"].astype(np.int64), pa.int64()).cast(
                pa.timestamp("us", tz="UTC"))
            text = {name: _text(columns.get(name), len(at)) for name in names[2:]}
            parquet = pa.table({"lead_id": pa.array(renamed), "at": at, **text})
            csv = parquet.set_column(1, "at", _iso_utc(at))
            if csv_writer is None:
                # Quoted only where needed, as `sla_dsl.history.write.write_csv` writes: Arrow
                # quotes every string with "needed", and the header even with "none" (which
                # raises on a value that would need quotes), so the header is written here.
                csv_file.write((",".join(names) + "\n").encode())
                csv_writer = stack.enter_context(pcsv.CSVWriter(
                    csv_file, csv.schema,
                    write_options=pcsv.WriteOptions(include_header=False, quoting_style="none")))
                parquet_writer = stack.enter_context(pq.ParquetWriter(parquet_tmp,
                                                                      parquet.schema))
            csv_writer.write_table(csv)
            parquet_writer.write_table(parquet)
            events += parquet.num_rows
    csv_tmp.replace(csv_path)
    parquet_tmp.replace(parquet_path)
    return events


def _text(values, n: int):
    """A text column with the generator's empty strings as nulls (an empty CSV cell either
    way; in Parquet, what a real export holds)."""
    import pyarrow as pa

    if values is None:
        return pa.nulls(n, pa.string())
    values = values.astype(str)
    return pa.array(values, pa.string(), mask=values == "")


def _iso_utc(at):
    """ISO 8601 in UTC with `Z`, with microseconds only where the time has them."""
    import pyarrow.compute as pc

    text = pc.strftime(at, format="%Y-%m-%dT%H:%M:%SZ")  # Arrow writes %S as SS.ffffff
    return pc.replace_substring_regex(text, r"\.000000Z$", "Z")


# ============================================================================ child jobs


def job_ours(history: str, policy_path: str, output: str = "text") -> dict:
    """`sla evaluate POLICY --history FILE --format text` (or `--format json -o OUTPUT`, the
    file removed after), phase by phase: for json, `document` is the document but its
    per-lead records and `render` the JSON text written to the file."""
    import resource

    def peak() -> int:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024

    clock, cpu_clock = time.perf_counter(), time.process_time()
    import numpy as np

    from sla_dsl.evaluation.replay import NONE, evaluate, fields_needed
    from sla_dsl.history.read import load_history
    from sla_dsl.language.source import read_policy
    from sla_dsl.policy_file import check_source
    from sla_dsl.reports import document as report
    from sla_dsl.reports import text as text_report
    from sla_dsl.reports.report import Report

    phases, cpu, peaks = {}, {}, {}

    def lap(name: str) -> None:
        nonlocal clock, cpu_clock
        now, cpu_now = time.perf_counter(), time.process_time()
        phases[name], cpu[name] = now - clock, cpu_now - cpu_clock
        peaks[name] = peak()
        clock, cpu_clock = now, cpu_now

    lap("import")
    checked = check_source(read_policy(policy_path))
    assert checked.ok, [d.message for d in checked.diagnostics]
    policy = checked.policy
    lap("check")
    loaded = load_history([history], timezone=policy.timezone or "UTC",
                          fields=fields_needed(policy))
    lap("read")
    evaluation = evaluate(policy, loaded, None)
    lap("evaluate")
    if output != "text":  # as `sla evaluate --format json -o FILE` does; `output` is FILE
        made = Report(evaluation)
        _ = made.summary_document
        lap("document")
        # (a tree before `json_parts`, measured with PYTHONPATH for a before/after figure)
        parts = iter(made.json_parts() if hasattr(made, "json_parts")
                     else [made.json().encode()])
        head = next(parts)  # the parts are made as they are written
        with open(output, "wb") as handle:
            handle.write(head)
            handle.writelines(parts)
        lap("render")
        text = bytes(head[:2000]).decode()
        os.unlink(output)
    else:
        doc = report.document(evaluation, include_leads=False)  # as `--format text` does
        lap("document")
        text = text_report.render_text(doc)
        lap("render")

    first = next(c for c in evaluation.clauses if c.clause == "first touch")
    touched = first.at != NONE
    delays = first.at[touched] - evaluation.handoff_at[first.leads][touched]
    return {"phases": phases, "cpu": cpu, "peaks": peaks, "events": len(loaded),
            "rows": loaded.counts.read, "rejected": loaded.counts.rejected,
            "leads": evaluation.lead_count, "report": text,
            "check": {"handed_off": len(first.leads), "touched": int(touched.sum()),
                      "delay_sum_us": int(delays.sum(dtype=np.int64))}}


DUCKDB_SQL = """
WITH events AS (
    SELECT lead_id, "at", event FROM {source}
),
handoffs AS (
    SELECT lead_id, min("at") AS handoff FROM events WHERE event = 'handoff' GROUP BY lead_id
),
touches AS (
    SELECT e.lead_id, min(e."at") AS touched
    FROM events e JOIN handoffs h ON e.lead_id = h.lead_id
    WHERE e.event IN ('touch', 'connected') AND e."at" >= h.handoff
    GROUP BY e.lead_id
)
SELECT h.lead_id, epoch_us(t.touched) - epoch_us(h.handoff) AS delay_us
FROM handoffs h LEFT JOIN touches t ON h.lead_id = t.lead_id
"""


def job_duckdb(history: str) -> dict:
    """Per lead, the wall-clock delay from the first handoff to the first touch or connect at
    or after it, read from the file by DuckDB and fetched as an Arrow table (as ours ends with
    per-lead columns)."""
    started = time.perf_counter()
    import duckdb
    import pyarrow.compute as pc

    imported, cpu = time.perf_counter(), time.process_time()
    quoted = history.replace("'", "''")
    source = (f"read_parquet('{quoted}')" if history.endswith(".parquet")
              else f"read_csv_auto('{quoted}')")
    connection = duckdb.connect()
    relation = connection.sql(DUCKDB_SQL.format(source=source))
    result = (relation.to_arrow_table() if hasattr(relation, "to_arrow_table")  # DuckDB 2
              else relation.arrow())
    done, cpu = time.perf_counter(), time.process_time() - cpu
    delay = result.column("delay_us")
    return {"phases": {"import": imported - started, "query": done - imported}, "cpu": cpu,
            "version": duckdb.__version__, "threads": connection.execute(
                "SELECT current_setting('threads')").fetchone()[0],
            "check": {"handed_off": result.num_rows, "touched": len(delay) - delay.null_count,
                      "delay_sum_us": int(pc.sum(delay).as_py() or 0)}}


def job_profile(history: str, policy_path: str, top: int) -> dict:
    import cProfile
    import io
    import pstats

    profiler = cProfile.Profile()
    profiler.enable()
    result = job_ours(history, policy_path)
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(top)
    result["profile"] = out.getvalue()
    return result


def child(argv: list[str], timeout: float | None = None) -> tuple[dict, float, int]:
    """Run `--job ...` in a fresh interpreter: (its JSON answer, wall seconds including
    start-up, peak resident bytes of the child from the kernel)."""
    started = time.perf_counter()
    with tempfile.TemporaryFile() as out:
        process = subprocess.Popen([sys.executable, __file__, *argv], stdout=out, cwd=ROOT)
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - started
        out.seek(0)
        answer = out.read().decode()
    if process.returncode != 0:
        raise SystemExit(f"child {argv} failed with exit code {process.returncode}")
    return json.loads(answer.splitlines()[-1]), wall, usage.ru_maxrss * 1024


# ============================================================================ the report


def machine() -> str:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else "?"
    memory = ""
    if hasattr(os, "sysconf") and "SC_PHYS_PAGES" in os.sysconf_names:
        memory = f", {os.sysconf('SC_PHYS_PAGES') * os.sysconf('SC_PAGE_SIZE') / 1024**3:.1f} GB"
    return (f"{platform.machine()} {cpu}, {os.cpu_count()} cores ({usable} usable){memory}\n"
            f"         Python {platform.python_version()}, numpy {_version('numpy')}, "
            f"pyarrow {_version('pyarrow')}, duckdb {_version('duckdb')}, "
            f"{platform.system()} {platform.release()}")


def _version(package: str) -> str:
    """Without importing it: this process stays small (see `history_files`)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(package)
    except PackageNotFoundError:
        return "not installed"


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "?"


def _gb(n: float) -> str:
    return f"{n / 1024**3:.2f} GB"


def _rate(events: int, seconds: float) -> str:
    return f"{events / seconds / 1e6:.2f} M events/s"


PHASES = ("import", "check", "read", "evaluate", "document", "render")
TIMED = ("check", "read", "evaluate", "document", "render")  # end to end, after start-up


def warm(path: Path) -> None:
    """Read the file once, so that every run finds it in the page cache."""
    with path.open("rb") as handle:
        while handle.read(1 << 24):
            pass


def run_ours(path: Path, output: str = "text") -> dict:
    answer, wall, rss = child(["--job", "ours", str(path), str(POLICY), output])
    answer.update(total=sum(answer["phases"][p] for p in TIMED),
                  total_cpu=sum(answer["cpu"][p] for p in TIMED), wall=wall, rss=rss)
    return answer


def run_duckdb(path: Path) -> dict:
    answer, wall, rss = child(["--job", "duckdb", str(path)])
    answer.update(total=answer["phases"]["query"], total_cpu=answer["cpu"], wall=wall, rss=rss)
    return answer


def print_ours(label: str, path: Path, answers: list[dict]) -> None:
    best = min(answers, key=lambda a: a["total"])
    events = best["events"]
    totals = [a["total"] for a in answers]
    print(f"\n{label}: {path.name} ({path.stat().st_size / 1024**2:,.0f} MB), {len(answers)} "
          f"run(s), each in a fresh process")
    print(f"  rows read {best['rows']:,}, rejected {best['rejected']:,}, leads {best['leads']:,}")
    print("  phase       wall: fastest  median   CPU of fastest  peak RSS after the phase")
    for phase in PHASES:
        times = [a["phases"][phase] for a in answers]
        print(f"  {phase:<10} {min(times):13.2f} s {statistics.median(times):6.2f} s "
              f"{best['cpu'][phase]:13.2f} s  {_gb(best['peaks'][phase])}")
    print(f"  end to end {min(totals):13.2f} s {statistics.median(totals):6.2f} s "
          f"{best['total_cpu']:13.2f} s  (check+read+evaluate+report, in-process)")
    print(f"  throughput {_rate(events, min(totals))} fastest, "
          f"{_rate(events, statistics.median(totals))} median")
    print(f"  with interpreter start-up and imports: {min(a['wall'] for a in answers):.2f} s "
          f"wall; peak memory (ru_maxrss of the child): {_gb(max(a['rss'] for a in answers))}")


def print_duckdb(label: str, answers: list[dict]) -> None:
    first = answers[0]
    queries = [a["total"] for a in answers]
    print(f"\n{label}: DuckDB {first['version']} ({first['threads']} threads), first-touch "
          f"wall-clock delay per lead, read_csv_auto/read_parquet + query + fetch as Arrow")
    print(f"  query      {min(queries):7.2f} s fastest, {statistics.median(queries):.2f} s "
          f"median; CPU {min(a['total_cpu'] for a in answers):.2f} s; peak memory "
          f"{_gb(max(a['rss'] for a in answers))}")


def _spread(values: list[float]) -> str:
    return (f"{statistics.median(values):.2f}x median ({min(values):.2f}-{max(values):.2f}x "
            f"over {len(values)})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each measurement")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir())
                        / "sla-dsl-evaluate-speed", help="where the history files are kept")
    parser.add_argument("--fresh", action="store_true", help="regenerate the history files")
    parser.add_argument("--profile", action="store_true",
                        help="instead: cProfile one end-to-end run from CSV, print the top")
    parser.add_argument("--top", type=int, default=40, help="lines of the profile to print")
    parser.add_argument("--sharded-events", type=int, default=100_000_000, metavar="N",
                        help="then the sharded run of issue 16 item 3 on N synthetic events "
                             "(sla ingest, each bucket evaluated, sla merge; see "
                             "benchmarks/sharded_run.py); 0 skips it (default 100,000,000)")
    parser.add_argument("--sharded-keep", action="store_true",
                        help="keep the sharded run's buckets and partials (in --dir)")
    parser.add_argument("--job", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.job:  # a child process: one measurement, answered as one JSON line on stdout
        kind, *rest = args.job
        jobs = {"ours": job_ours, "duckdb": job_duckdb, "generate": job_generate,
                "profile": lambda *a: job_profile(*a, args.top)}
        result = jobs[kind](*rest)
        print(json.dumps(result))
        return

    print(f"machine: {machine()}")
    csv_path, parquet_path, events = history_files(args.dir, args.leads, args.seed, args.fresh)
    print(f"policy: {POLICY.relative_to(ROOT)}; {args.leads:,} leads, {events:,} events "
          f"({events / args.leads:.2f} per lead)")
    import resource

    floor = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(f"this process: {floor / 1024**2:.0f} MB peak RSS (a floor under each child's peak)")

    if args.profile:
        answer, _, rss = child(["--job", "profile", str(csv_path), str(POLICY)])
        print(answer["profile"])
        phases = ", ".join(f"{p} {answer['phases'][p]:.2f} s" for p in PHASES)
        print(f"phases under the profiler: {phases}; peak memory {_gb(rss)}")
        return

    duck = importlib.util.find_spec("duckdb") is not None
    if not duck:
        print("DuckDB is not installed (pip install duckdb): no baseline, no ratios")
    loads = [_load()]
    print(f"load average before: {loads[0]} (other work on the machine slows every figure)")
    # Each of our runs is followed by DuckDB's on the same file, so that a pair sees about the
    # same load: the ratio of each pair is one sample, and their median is the figure.
    sources = {"CSV": csv_path, "Parquet": parquet_path}
    ours: dict[str, list[dict]] = {name: [] for name in sources}
    theirs: dict[str, list[dict]] = {name: [] for name in sources}
    for _ in range(args.repeat):
        for name, path in sources.items():
            warm(path)
            ours[name].append(run_ours(path))
            if duck:
                theirs[name].append(run_duckdb(path))
    json_out = args.dir / f"report-{os.getpid()}.json"
    warm(parquet_path)
    json_runs = [run_ours(parquet_path, str(json_out)) for _ in range(args.repeat)]
    loads.append(_load())

    for name, path in sources.items():
        print_ours(f"ours from {name}", path, ours[name])
    print("\nreport (from CSV, first lines):")
    for line in ours["CSV"][0]["report"].splitlines()[:12]:
        print(f"  | {line}")
    for name in sources:
        if theirs[name]:
            print_duckdb(f"DuckDB from {name}", theirs[name])
    print_ours("ours from Parquet, --format json -o FILE (every lead's record)", parquet_path,
               json_runs)
    print(f"\nload average after: {loads[1]}")

    print("\nsummary")
    for name in sources:
        runs = ours[name]
        fastest = min(a["total"] for a in runs)
        median = statistics.median(a["total"] for a in runs)
        peak = max(a["rss"] for a in runs)
        rate = events / fastest
        print(f"  ours from {name:<8} {fastest:6.2f} s fastest, {median:.2f} s median, "
              f"{_rate(events, fastest)} (target 1 M/s: "
              f"{'meets' if rate >= TARGET_EVENTS_PER_SECOND else 'MISSES'}), peak memory "
              f"{_gb(peak)} ({'meets' if peak < TARGET_PEAK_BYTES else 'MISSES'} < 4 GB)")
    for name in sources:
        if not theirs[name]:
            continue
        pairs = list(zip(ours[name], theirs[name], strict=True))
        wall = [a["total"] / b["total"] for a, b in pairs]
        cpu = [a["total_cpu"] / b["total_cpu"] for a, b in pairs]
        fastest = min(a["total"] for a in ours[name]) / min(b["total"] for b in theirs[name])
        same = all(a["check"] == b["check"] for a, b in pairs)
        print(f"  ours/DuckDB from {name:<8} wall {_spread(wall)}, fastest/fastest "
              f"{fastest:.2f}x (target <= 1.5: "
              f"{'meets' if statistics.median(wall) <= 1.5 else 'MISSES'}); CPU "
              f"{_spread(cpu)}; first-touch delays agree: {'yes' if same else 'NO'}")
        if not same:
            print(f"    ours   {ours[name][0]['check']}\n    DuckDB {theirs[name][0]['check']}")
    report = [a["phases"]["document"] + a["phases"]["render"] for a in json_runs]
    whole = [a["total"] for a in json_runs]
    print(f"  JSON report of {json_runs[0]['leads']:,} leads (document + JSON text written to a "
          f"file): {min(report):.2f} s fastest, {statistics.median(report):.2f} s median "
          f"(target < 3 s: {'meets' if statistics.median(report) < 3 else 'MISSES'}); end to "
          f"end from Parquet {min(whole):.2f} s fastest; peak memory "
          f"{_gb(max(a['rss'] for a in json_runs))}")
    print(f"  load average before and after: {loads[0]} / {loads[1]} (1, 5, 15 minutes; the "
          f"machine has {os.cpu_count()} cores)")
    if args.sharded_events > 0:
        sharded(args.sharded_events, args.dir, args.sharded_keep)


# ============================================================================ the sharded run


def sharded(events: int, directory: Path, keep: bool = False) -> None:
    """Issue 16 item 3's figure: `events` synthetic events ingested into buckets, each bucket
    evaluated in its own process and the partials merged (`benchmarks/sharded_run.py`), each
    step's time and peak memory against 8 GB. The CSV is kept in `directory` for next time."""
    if importlib.util.find_spec("duckdb") is None:
        print("\nsharded run: skipped, `sla ingest` needs DuckDB (pip install duckdb)")
        return
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from sharded_run import sharded_run

    print(f"\nsharded run (issue 16 item 3; load average {_load()})")
    sharded_run(events, directory, keep=keep)
    print(f"  load average after: {_load()}")


if __name__ == "__main__":
    main()
