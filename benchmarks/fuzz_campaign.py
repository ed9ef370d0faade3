"""The long fuzz campaign (issue 12, "Every input bounded"): N damaged inputs through `sla`.

    python benchmarks/fuzz_campaign.py                       # 2000 cases, seed 12, 2 workers
    python benchmarks/fuzz_campaign.py --cases 200 --seed 3  # a quick look

Case i of seed s is always the same case (tests/fuzzing.py's `campaign_case`), whichever
worker runs it, so two trees compared with one seed ran the same inputs. Each command runs in
its own child process under an address space limit and a wall-clock timeout; the outcome of
every case is counted per command and input kind and printed as a table, and the first few
cases of every bad outcome are written to --out as reproducers (the files, the command, what
happened). Exit 1 when any case had a bad outcome: exit 70 is the last line of defence, and
any case that reaches it is a bug.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor, as_completed
from multiprocessing import get_context
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests import fuzzing  # noqa: E402

_LIMITS: fuzzing.Limits | None = None
_PYTHON: str | None = None
_SCRATCH: Path | None = None


def _start_worker(limits: fuzzing.Limits, python: str | None, scratch: str) -> None:
    global _LIMITS, _PYTHON, _SCRATCH
    _LIMITS, _PYTHON = limits, python
    _SCRATCH = Path(scratch) / f"worker-{os.getpid()}"
    if python is None:
        fuzzing.preload()


def _run_one(seed: int, index: int) -> dict:
    """Case `index`, run in this worker; a summary small enough to send back."""
    case = fuzzing.campaign_case(seed, index)
    result = fuzzing.run_case(case, _SCRATCH / "case", _LIMITS, _PYTHON)
    return {"index": index, "kind": case.kind, "command": case.command,
            "mutations": case.mutations, "outcome": result.outcome, "detail": result.detail,
            "wall": sum(run.wall for run in result.runs),
            "rss": max(run.rss for run in result.runs), "report": result.report()}


def _write_reproducer(out: Path, seed: int, summary: dict) -> Path:
    """The case's files, the command line and what happened, in out/OUTCOME/INDEX-..."""
    case = fuzzing.campaign_case(seed, summary["index"])
    folder = out / summary["outcome"].replace(":", "-") / (
        f"{summary['index']:05d}-{case.command}-{case.kind}")
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    for name, data in case.files.items():
        (folder / name).write_bytes(data)
    command = "sla " + shlex.join(case.argv)
    if case.stdin is not None:
        (folder / "stdin").write_bytes(case.stdin)
        command += " < stdin"
    notes = [f"# seed {seed}, case {summary['index']}: {case.label}",
             "# run inside this folder" + (" after `git init && git add -A && git commit`"
                                           if case.git else ""), command, "",
             summary["report"], ""]
    (folder / "README.txt").write_text("\n".join(notes), encoding="utf-8")
    return folder


def _table(summaries: list[dict]) -> str:
    """Outcome counts per command and input kind, as a Markdown table."""
    counts = Counter((s["command"], s["kind"], s["outcome"]) for s in summaries)
    outcomes = sorted({s["outcome"] for s in summaries},
                      key=lambda o: (o not in fuzzing.GOOD, ["ok", "findings", "usage"].index(o)
                                     if o in fuzzing.GOOD else 0, o))
    rows = sorted({(s["command"], s["kind"]) for s in summaries})
    head = ["command", "input", "cases", *outcomes]
    lines = ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    for command, kind in rows:
        cells = [counts[(command, kind, o)] for o in outcomes]
        lines.append(f"| {command} | {kind} | {sum(cells)} | "
                     + " | ".join(str(c) if c else "" for c in cells) + " |")
    totals = [sum(counts[(c, k, o)] for c, k in rows) for o in outcomes]
    lines.append(f"| **all** | | **{len(summaries)}** | "
                 + " | ".join(f"**{t}**" for t in totals) + " |")
    return "\n".join(lines)


def _classes(summary: dict) -> list[str]:
    """The classes of issue 12 (and the campaign's own finds) the case's mutators aim at."""
    if summary["kind"] == "diff-spec":
        return ["diff-injection"]
    targets = {m.name: m.targets for ms in fuzzing.MUTATORS.values() for m in ms}
    return sorted({targets.get(name) or "none" for name in summary["mutations"]})


def _by_class(summaries: list[dict]) -> str:
    """Bad outcomes per class aimed at: a case counts under each class its mutators aim at
    ("none": only mutators aimed at no class)."""
    counts: Counter = Counter()
    cases: Counter = Counter()
    for s in summaries:
        for name in _classes(s):
            cases[name] += 1
            if s["outcome"] not in fuzzing.GOOD:
                counts[(name, s["outcome"])] += 1
    lines = ["| class aimed at | cases | bad | bad outcomes |", "| --- | --- | --- | --- |"]
    for name in sorted(cases):
        bad = {o: n for (c, o), n in counts.items() if c == name}
        lines.append(f"| {name} | {cases[name]} | {sum(bad.values())} | "
                     + ", ".join(f"{o} {n}" for o, n in sorted(bad.items(), key=lambda x: -x[1]))
                     + " |")
    return "\n".join(lines)


def _transitions(old: list[dict], new: list[dict]) -> str:
    """How each case's outcome moved between two runs of the same seed."""
    before = {s["index"]: s["outcome"] for s in old}
    moves = Counter((before[s["index"]], s["outcome"]) for s in new if s["index"] in before)
    lines = ["| before | after | cases |", "| --- | --- | --- |"]
    for (a, b), n in sorted(moves.items(), key=lambda x: (x[0][0] in fuzzing.GOOD, -x[1])):
        if a != b or a not in fuzzing.GOOD:
            lines.append(f"| {a} | {b} | {n} |")
    same = sum(n for (a, b), n in moves.items() if a == b and a in fuzzing.GOOD)
    lines.append(f"| (good, unchanged) | | {same} |")
    return "\n".join(lines)


def report(summaries: list[dict], keep: int, out: Path | None,
           compare: list[dict] | None = None) -> int:
    """The tables and the first bad cases; 1 when any case was bad."""
    print(_table(summaries))
    print()
    print(_by_class(summaries))
    if compare is not None:
        print()
        print(_transitions(compare, summaries))
    slowest = sorted(summaries, key=lambda s: -s["wall"])[:5]
    print("\nslowest cases: " + ", ".join(f"{s['index']} ({s['command']} {s['kind']}, "
                                          f"{s['wall']:.1f} s)" for s in slowest))
    biggest = max(summaries, key=lambda s: s["rss"])
    print(f"largest peak RSS: {biggest['rss'] >> 20} MiB (case {biggest['index']}, "
          f"{biggest['command']} {biggest['kind']})")
    bad = Counter(s["outcome"] for s in summaries if s["outcome"] not in fuzzing.GOOD)
    if not bad:
        return 0
    counts = ", ".join(f"{o} {n}" for o, n in bad.most_common())
    print(f"\nbad outcomes: {sum(bad.values())} ({counts})"
          + (f"; reproducers in {out}" if out else ""))
    for outcome in sorted(bad):
        for s in [s for s in summaries if s["outcome"] == outcome][:keep]:
            print(f"  {outcome}: case {s['index']} {s['command']} {s['kind']} "
                  f"[{', '.join(s['mutations'])}] {s['detail'][:160]}")
    return 1


def _progress(done: int, total: int, started: float, bad: Counter) -> str:
    elapsed = time.monotonic() - started
    left = elapsed / done * (total - done) if done else 0
    worst = ", ".join(f"{o} {n}" for o, n in bad.most_common()) or "none"
    return (f"[{done:>5}/{total}] {elapsed / 60:5.1f} min, ~{left / 60:.1f} min left; "
            f"bad: {worst}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=2000, help="how many cases (default 2000)")
    parser.add_argument("--seed", type=int, default=12, help="the campaign's seed (default 12)")
    parser.add_argument("--jobs", type=int, default=2, help="worker processes (default 2)")
    parser.add_argument("--timeout", type=float, default=60,
                        help="wall-clock seconds a command may take (default 60)")
    parser.add_argument("--memory", type=float, default=2,
                        help="each command's address space limit, GiB (default 2)")
    parser.add_argument("--rss", type=float, default=1.5,
                        help="the stated bound on a command's peak RSS, GiB (default 1.5)")
    parser.add_argument("--keep", type=int, default=3,
                        help="reproducers written per bad outcome (default 3)")
    parser.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "sla-fuzz",
                        help="the folder reproducers go to (default: sla-fuzz in the temp dir)")
    parser.add_argument("--json", type=Path, help="also write every case's summary here")
    parser.add_argument("--exec", action="store_true",
                        help="start a fresh interpreter for every command (slower) instead of "
                             "forking a worker that has imported sla")
    parser.add_argument("--compare", type=Path, metavar="JSON",
                        help="an earlier run's --json (same seed): also tabulate how each "
                             "case's outcome moved")
    parser.add_argument("--report", type=Path, metavar="JSON",
                        help="run nothing: print the tables of an earlier run's --json")
    args = parser.parse_args(argv)
    compare = json.loads(args.compare.read_text("utf-8")) if args.compare else None
    if args.report:
        return report(json.loads(args.report.read_text("utf-8")), args.keep, None, compare)

    limits = fuzzing.Limits(timeout=args.timeout, memory=int(args.memory * (1 << 30)),
                            rss=int(args.rss * (1 << 30)))
    python = sys.executable if args.exec else None
    if args.out.exists():
        shutil.rmtree(args.out)
    args.out.mkdir(parents=True)
    print(f"fuzz campaign: {args.cases} cases, seed {args.seed}, {args.jobs} workers, "
          f"per command {args.timeout:.0f} s wall, {args.memory:g} GiB address space, "
          f"{args.rss:g} GiB peak RSS", flush=True)
    import sla_dsl

    print(f"sla {sla_dsl.__version__} from {Path(sla_dsl.__file__).parent}, inputs from "
          f"{fuzzing.ROOT}", flush=True)
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)

    summaries: list[dict] = []
    bad: Counter = Counter()
    kept: Counter = Counter()
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="sla-fuzz-") as scratch, ProcessPoolExecutor(
            args.jobs, mp_context=get_context("spawn"), initializer=_start_worker,
            initargs=(limits, python, scratch)) as pool:
        futures = [pool.submit(_run_one, args.seed, i) for i in range(args.cases)]
        last = 0.0
        for future in as_completed(futures):
            summary = future.result()
            summaries.append(summary)
            if summary["outcome"] not in fuzzing.GOOD:
                bad[summary["outcome"]] += 1
                if kept[summary["outcome"]] < args.keep:
                    kept[summary["outcome"]] += 1
                    folder = _write_reproducer(args.out, args.seed, summary)
                    print(f"  {summary['outcome']}: case {summary['index']} "
                          f"({summary['command']} {summary['kind']}) -> {folder}", flush=True)
            if time.monotonic() - last > 15 or len(summaries) == args.cases:
                last = time.monotonic()
                print(_progress(len(summaries), args.cases, started, bad), flush=True)

    summaries.sort(key=lambda s: s["index"])
    elapsed = time.monotonic() - started
    print(f"\n{args.cases} cases in {elapsed / 60:.1f} min; load average after: "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}\n")
    if args.json:
        args.json.write_text(json.dumps(summaries, indent=1), encoding="utf-8")
    return report(summaries, args.keep, args.out, compare)


if __name__ == "__main__":
    sys.exit(main())
