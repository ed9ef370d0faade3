"""Sharded `sla evaluate` against the single run, on a million leads: time and peak memory.

    python benchmarks/shard_speed.py [--leads 1000000] [--shards 4] [--workers 2] [--repeat 1]

The history is `evaluate_speed.py`'s (the same files, generated once into the same folder and
reused). Each measurement is one `sla` command in a fresh child process:

- single: `sla evaluate policies/inbound-desk.sla --history FILE --format text`;
- sharded: the same with `--shards N --workers K` (one process reads, K forked workers replay
  the shards, the parent merges and reports), and with `--shards N` alone (every shard in the
  one process);
- partials: `--shard I/N --partial FILE` for each shard, one after another (each reads the
  whole file, as a cluster's workers would), then `sla merge FILES --policy P` alone.

Peak memory is measured two ways: the largest single process (`ru_maxrss` from `os.wait4`,
which covers the child's own workers), and the whole process tree at once (the sum of the
proportional set size, PSS, of the command and its workers, sampled every 0.2 s: pages a
forked worker shares with its parent count once). Every report is compared with the single
run's, byte for byte.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
POLICY = ROOT / "policies" / "inbound-desk.sla"
_SPEC = importlib.util.spec_from_file_location("evaluate_speed",
                                               ROOT / "benchmarks" / "evaluate_speed.py")
evaluate_speed = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(evaluate_speed)
SLA = "import sys; from sla_dsl.cli import main; sys.exit(main(sys.argv[1:]))"


def _pss(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _tree(root: int) -> list[int]:
    """The process and its descendants (from /proc's parent ids)."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
                parents[int(entry)] = int(stat.rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
    tree, grew = {root}, True
    while grew:
        more = {pid for pid, parent in parents.items() if parent in tree} - tree
        tree |= more
        grew = bool(more)
    return sorted(tree)


def run(args: list[str], output: Path | None = None) -> dict:
    """One `sla` command: wall seconds, largest process's peak, the tree's peak PSS."""
    started = time.perf_counter()
    out = output.open("wb") if output else subprocess.DEVNULL
    process = subprocess.Popen([sys.executable, "-c", SLA, *args], stdout=out, cwd=ROOT)
    tree_peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal tree_peak
        while not done.wait(0.2):
            tree_peak = max(tree_peak, sum(_pss(pid) for pid in _tree(process.pid)))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, status, usage = os.wait4(process.pid, 0)
    done.set()
    sampler.join()
    if output:
        out.close()
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        raise SystemExit(f"sla {' '.join(args)} failed with exit code {code}")
    return {"wall": time.perf_counter() - started, "peak": usage.ru_maxrss * 1024,
            "tree": tree_peak}


def _gb(n: float) -> str:
    return f"{n / 1024**3:.2f} GB"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--shards", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir())
                        / "sla-dsl-evaluate-speed", help="where the history files are kept")
    args = parser.parse_args()
    print(f"machine: {evaluate_speed.machine()}")
    csv_path, _, events = evaluate_speed.history_files(args.dir, args.leads, args.seed, False)
    print(f"policy: {POLICY.relative_to(ROOT)}; {args.leads:,} leads, {events:,} events (CSV)")
    print(f"load average before: {evaluate_speed._load()}")
    base = [str(POLICY), "--history", str(csv_path), "--format", "text", "--quiet"]
    n, k = args.shards, args.workers
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        rows: list[tuple[str, dict]] = []
        for attempt in range(args.repeat):
            single = run(["evaluate", *base], work / "single.txt")
            sharded = run(["evaluate", *base, "--shards", str(n), "--workers", str(k)],
                          work / "sharded.txt")
            in_process = run(["evaluate", *base, "--shards", str(n)], work / "in-process.txt")
            shards = [run(["evaluate", str(POLICY), "--history", str(csv_path), "--quiet",
                           "--shard", f"{i}/{n}", "--partial", str(work / f"{i}.parquet")])
                      for i in range(n)]
            merged = run(["merge", *(str(work / f"{i}.parquet") for i in range(n)),
                          "--policy", str(POLICY), "--quiet"], work / "merged.txt")
            same = (work / "single.txt").read_bytes()
            assert (work / "sharded.txt").read_bytes() == same, "--shards differs"
            assert (work / "in-process.txt").read_bytes() == same, "--shards differs"
            assert (work / "merged.txt").read_bytes() == same, "sla merge differs"
            size = sum((work / f"{i}.parquet").stat().st_size for i in range(n))
            rows += [(f"single run ({attempt + 1})", single),
                     (f"--shards {n} --workers {k}", sharded),
                     (f"--shards {n} (one process)", in_process),
                     *((f"--shard {i}/{n} --partial", s) for i, s in enumerate(shards)),
                     (f"sla merge ({n} partials, {size / 1024**2:.0f} MB)", merged)]
    print(f"load average after: {evaluate_speed._load()}\n")
    print(f"  {'command':<36} {'wall':>8} {'largest process':>16} {'whole tree (PSS)':>17}")
    for label, row in rows:
        print(f"  {label:<36} {row['wall']:7.1f}s {_gb(row['peak']):>16} {_gb(row['tree']):>17}")
    single, sharded = rows[0][1], rows[1][1]
    shard_walls = [row["wall"] for label, row in rows if label.startswith("--shard ")]
    print(f"\n--shards {n} --workers {k} / single run: {sharded['wall'] / single['wall']:.2f}x "
          f"the time, {sharded['tree'] / max(single['tree'], 1):.2f}x the memory (tree PSS)")
    print(f"partials: {sum(shard_walls):.1f} s one after another, {max(shard_walls):.1f} s the "
          f"slowest shard (the wall time with a machine per shard), merge "
          f"{rows[-1][1]['wall']:.1f} s")
    print("every report equals the single run's byte for byte")


if __name__ == "__main__":
    main()
