"""The sharded run of issue 16 item 3, step by step through the command line: a synthetic
history of N events (100 million by default) ingested into buckets by `sla ingest` (DuckDB,
spilling to disk), each bucket evaluated alone (`sla evaluate POLICY --history DIR --shard
I/N --partial F`, as a shard job would), and the partials merged into one report (`sla
merge`); then the same buckets evaluated and merged by one `sla evaluate POLICY --history DIR`
(its partials in a temporary directory under TMPDIR), whose report must be the merge's, byte
for byte. Every step runs in a fresh child process; its wall time, CPU time (user + system)
and peak memory (ru_maxrss from `os.wait4`) are its own. The target: every peak under 8 GB.

    python benchmarks/sharded_run.py 10000000 [--dir DIR] [--keep]

`benchmarks/evaluate_speed.py` prints the same run after its own figures (`--sharded-events
N`, 0 to skip it). The history is `ingest_scale.py`'s (`sla_dsl.history.synthetic`, in
chunks of 200,000 leads, shuffled within each chunk), written once as CSV to DIR and reused;
the buckets and partials are written under DIR and deleted afterwards unless --keep.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import ingest_scale  # the generator: one definition of the synthetic history

ROOT = Path(__file__).resolve().parent.parent
POLICY = ROOT / "policies" / "inbound-desk.sla"
LIMIT = 8 * 1024**3
EVENTS_PER_BUCKET = ingest_scale.EVENTS_PER_BUCKET


@dataclass
class Step:
    name: str
    wall: float
    cpu: float
    peak: int
    runs: int = 1

    def line(self) -> str:
        under = "under" if self.peak < LIMIT else "OVER"
        each = f", {self.runs} processes" if self.runs > 1 else ""
        return (f"  {self.name:<34} {self.wall:8.1f} s wall {self.cpu:8.1f} s CPU   peak "
                f"{self.peak / 1024**3:5.2f} GB ({under} 8 GB{each})")


def sla(argv: list[str]) -> Step:
    """`sla ARGV...` in a fresh process: its wall and CPU seconds and peak RSS."""
    start = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-c", "import sys; from sla_dsl.cli import "
                                "main; sys.exit(main(sys.argv[1:]))", *argv])
    _, status, usage = os.wait4(process.pid, 0)
    if os.waitstatus_to_exitcode(status) not in (0, 1):  # 1: breaches, still a report
        raise SystemExit(f"sla {' '.join(argv[:3])} ... failed "
                         f"(exit {os.waitstatus_to_exitcode(status)})")
    return Step(argv[0], time.perf_counter() - start, usage.ru_utime + usage.ru_stime,
                usage.ru_maxrss * 1024)


def sharded_run(events: int, directory: Path, *, memory_limit: str = "4GB",
                keep: bool = False, seed: int = 7) -> list[Step]:
    """Generate (or reuse) the history, ingest, evaluate each bucket, merge; print each
    step's figures as it ends and the total, and give the steps back."""
    csv, made = ingest_scale.history_file(directory, events, seed)
    buckets = max(1, -(-made // EVENTS_PER_BUCKET))
    out = directory / f"buckets-{events}"
    shutil.rmtree(out, ignore_errors=True)
    print(f"sharded run: {made:,} events ({csv.stat().st_size / 1024**3:.1f} GB of CSV), "
          f"{buckets} buckets, policy {POLICY.relative_to(ROOT)}, DuckDB memory limit "
          f"{memory_limit}", flush=True)
    steps = []
    try:
        step = sla(["ingest", "--history", str(csv), "--buckets", str(buckets), "--out",
                    str(out), "--timezone", ingest_scale.TIMEZONE, "--memory-limit",
                    memory_limit, "-q"])
        step.name = f"sla ingest into {buckets} buckets"
        steps.append(step)
        print(step.line(), flush=True)
        evaluated = Step(f"sla evaluate --shard, {buckets} buckets", 0.0, 0.0, 0, buckets)
        parts = []
        for i in range(buckets):
            part = out / f"partial-{i:03d}.parquet"
            one = sla(["evaluate", str(POLICY), "-q", "--history", str(out), "--shard",
                       f"{i}/{buckets}", "--partial", str(part)])
            evaluated.wall += one.wall
            evaluated.cpu += one.cpu
            evaluated.peak = max(evaluated.peak, one.peak)
            parts.append(str(part))
        steps.append(evaluated)
        print(evaluated.line(), flush=True)
        size = sum(Path(p).stat().st_size for p in parts)
        step = sla(["merge", *parts, "--policy", str(POLICY), "-q", "--format", "text", "-o",
                    str(out / "merged.txt")])
        step.name = f"sla merge ({size / 1024**3:.1f} GB of partials)"
        steps.append(step)
        print(step.line(), flush=True)
        leads = json.loads(csv.with_suffix(".json").read_text())["leads"]
        print(f"  the --shard partials: {size / leads:.0f} bytes a lead (MB a million leads; "
              f"{leads:,} leads)", flush=True)
        step = sla(["evaluate", str(POLICY), "-q", "--history", str(out), "--format", "text",
                    "-o", str(out / "in-one.txt")])
        step.name = "sla evaluate --history DIR"
        steps.append(step)
        same = (out / "in-one.txt").read_bytes() == (out / "merged.txt").read_bytes()
        print(f"{step.line()}\n  its report is the merge's, byte for byte: "
              f"{'yes' if same else 'NO'}", flush=True)
        report = (out / "merged.txt").read_text().splitlines()
    finally:
        if not keep:
            shutil.rmtree(out, ignore_errors=True)
    path = steps[:3]  # ingest, the shard jobs and the merge: one way to the report
    total = Step("total (ingest + evaluate + merge)", sum(s.wall for s in path),
                 sum(s.cpu for s in path), max(s.peak for s in steps))
    print(total.line())
    print(f"  {made / total.wall:,.0f} events/s end to end; every step's peak under 8 GB: "
          f"{'yes' if total.peak < LIMIT else 'NO'}")
    print("  merged report, first lines:")
    for line in report[:6]:
        print(f"  | {line}")
    return steps


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("events", type=int, nargs="?", default=100_000_000)
    parser.add_argument("--dir", type=Path, default=Path("/tmp/sla-sharded-run"))
    parser.add_argument("--memory-limit", default="4GB", help="DuckDB's (default 4GB)")
    parser.add_argument("--keep", action="store_true", help="keep the buckets and partials")
    args = parser.parse_args()
    sharded_run(args.events, args.dir, memory_limit=args.memory_limit, keep=args.keep)
    return 0


if __name__ == "__main__":
    sys.exit(main())
