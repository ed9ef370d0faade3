"""`sla ingest --preset salesforce` on a generated Salesforce export: time, CPU and peak memory
of the cut (the whole process, Python, Arrow and DuckDB: ru_maxrss of a child process that
runs only the command), then the buckets evaluated one at a time and merged, and with
`--check` the single run on the export and whether the two reports are the same bytes.

    python benchmarks/ingest_preset.py [--leads 1000000] [--buckets 16] [--memory-limit 2GB]
                                       [--dir DIR] [--check]

The export is `benchmarks/preset_speed.py`'s (Lead, LeadHistory, Task, Event: owner changes
written twice, converted leads' tasks on their contacts, open and deleted tasks), made once in
DIR (default: the system's temp folder) and kept. Figures are wall and CPU seconds of each
command and its peak RSS; compare them on the same machine in the same run, not across
machines.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

import preset_speed  # noqa: E402

POLICY = ROOT / "policies" / "inbound-desk.sla"
ZONE = "Europe/Amsterdam"  # the policy's: the ingest reads times as the single run does
FILES = ("Lead.csv", "LeadHistory.csv", "Task.csv", "Event.csv")


def run_cli(argv: list[str]) -> tuple[float, float, int]:
    """`sla ARGV...` in a fresh process: (wall seconds, CPU seconds, peak RSS in bytes)."""
    start = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-c", "import sys; from sla_dsl.cli import "
                                "main; sys.exit(main(sys.argv[1:]))", *argv])
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1):
        raise SystemExit(f"sla {' '.join(argv[:2])} ... exited {code}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss * 1024


def _gb(size: int) -> str:
    return f"{size / 1024**3:.2f} GB"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--buckets", type=int, default=16)
    parser.add_argument("--memory-limit", default="2GB")
    parser.add_argument("--dir", type=Path)
    parser.add_argument("--check", action="store_true",
                        help="also the single run on the export, and compare the reports")
    args = parser.parse_args()
    folder = args.dir or Path(tempfile.gettempdir()) / f"sla-preset-speed-{args.leads}"
    if not (folder / "Lead.csv").exists():
        start = time.perf_counter()
        preset_speed.write(args.leads, folder)
        print(f"wrote {folder} in {time.perf_counter() - start:.0f} s", file=sys.stderr)
    files = [str(folder / name) for name in FILES]
    size = sum(Path(f).stat().st_size for f in files)
    out = folder / f"buckets-{args.buckets}"
    load = os.getloadavg()[0]
    print(f"{args.leads:,} leads, {size / 1024**3:.2f} GB of CSV, {args.buckets} buckets, "
          f"--memory-limit {args.memory_limit}, load average {load:.1f}")
    wall, cpu, rss = run_cli(["ingest", "--preset", "salesforce", "--history", *files,
                              "--buckets", str(args.buckets), "--out", str(out),
                              "--timezone", ZONE, "--memory-limit", args.memory_limit, "-q"])
    print(f"sla ingest --preset salesforce: {wall:.1f} s wall, {cpu:.1f} s CPU, peak RSS "
          f"{_gb(rss)}")
    report = folder / "buckets.json"
    wall, cpu, rss = run_cli(["evaluate", str(POLICY), "--history", str(out), "--format",
                              "json", "-q", "-o", str(report)])
    print(f"sla evaluate --history DIR (every bucket, merged): {wall:.1f} s wall, {cpu:.1f} s "
          f"CPU, peak RSS {_gb(rss)}")
    if args.check:
        single = folder / "single.json"
        wall, cpu, rss = run_cli(["evaluate", str(POLICY), "--preset", "salesforce",
                                  "--history", *files, "--format", "json",
                                  "-q", "-o", str(single)])
        same = single.read_bytes() == report.read_bytes()
        print(f"single run --preset salesforce: {wall:.1f} s wall, {cpu:.1f} s CPU, peak RSS "
              f"{_gb(rss)}; the reports are {'the same bytes' if same else 'DIFFERENT'}")
        single.unlink()
        if not same:
            return 1
    report.unlink()
    shutil.rmtree(out, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
