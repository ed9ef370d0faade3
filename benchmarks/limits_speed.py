"""`sla check` on policies at the limits of docs/limits.md: the worst cases measured there.

Each policy is as large as the size limit allows (or as deep as the nesting limits allow), and
is checked through the command line in a child process, so that each figure is that policy's
own: CPU seconds (user + system) and peak memory.

    python benchmarks/limits_speed.py [--only NAME]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from check_speed import HEADER, REGION

from sla_dsl.checks.names import MAX_EXPANDED_NESTING
from sla_dsl.language.parser import MAX_NESTING
from sla_dsl.language.source import MAX_POLICY_BYTES

ROOT = Path(__file__).resolve().parent.parent
COMPANY_X = (ROOT / "policies" / "company-x.sla").read_text(encoding="utf-8")


def _filled(unit, head: str = COMPANY_X) -> str:
    """`head`, then `unit(0)`, `unit(1)`, ... as long as the file stays within the limit."""
    parts, size, i = [head], len(head.encode()), 0
    while size + len(unit(i).encode()) <= MAX_POLICY_BYTES:
        parts.append(unit(i))
        size += len(parts[-1].encode())
        i += 1
    return "".join(parts)


def _deep() -> str:
    condition = "score >= 1"
    for level in range(MAX_NESTING):
        condition = ("not " + condition if level % 3 == 0 else
                     f"(score > {level} and {condition})" if level % 3 == 1 else
                     f"(score < {level} or {condition})")
    chain = "".join(f"stage c{i} when c{i - 1}\n" for i in range(1, MAX_EXPANDED_NESTING // 2 + 1))
    return COMPANY_X + f"\nstage c0 when {condition}\n" + chain


CASES = {
    "regions": lambda: _filled(lambda i: "\n" + REGION.format(i=i), HEADER),
    "regions, a syntax error on line 1": lambda: 'sla "x" oops\n' + _filled(
        lambda i: "\n" + REGION.format(i=i), HEADER).split("\n", 1)[1],
    "broken lines": lambda: 'sla "x"\n' + "x\n" * ((MAX_POLICY_BYTES - 8) // 2),
    "segments alike": lambda: _filled(lambda i: f"segment s{i} when x == 1\n"),
    "segments distinct": lambda: _filled(lambda i: f"segment s{i} when x == {i}\n"),
    "handoffs to nobody": lambda: _filled(lambda i: "handoff every lead to nobody\n"),
    "stages with handoffs": lambda: _filled(
        lambda i: f"stage st{i} when y == {i}\nhandoff st{i} from marketing to sales {{\n"
                  " first touch within 1 business hour\n}\n"),
    "parties": lambda: _filled(lambda i: f"party p{i}\n"),
    "consequences": lambda: _filled(
        lambda i: "on breach of first touch in hot {\n warn at 50%\n}\n"),
    "fields": lambda: _filled(
        lambda i: f'stage f{i} when field{i} >= {i} and other{i} == "x"\n'),
    "nesting at both limits": _deep,
}


_SLA = "import sys; from sla_dsl.cli import main; sys.exit(main(sys.argv[1:]))"


def measure(text: str, folder: Path) -> tuple[float, float, int, int]:
    """(wall s, CPU s, peak KiB, exit code) of `sla check` on the text, in a child."""
    path = folder / "limit.sla"
    path.write_text(text, encoding="utf-8")
    started = time.perf_counter()
    child = subprocess.Popen([sys.executable, "-c", _SLA, "check", str(path)],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - started
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss, os.waitstatus_to_exitcode(status)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=sorted(CASES))
    args = parser.parse_args()
    print(f"limit: {MAX_POLICY_BYTES // 1024} KiB; {os.cpu_count()} cores")
    print(f"{'policy':38} {'bytes':>8} {'CPU s':>6} {'wall s':>7} {'peak MB':>8} exit")
    with tempfile.TemporaryDirectory() as folder:
        for name, make in CASES.items():
            if args.only and name != args.only:
                continue
            text = make()
            wall, cpu, peak, code = measure(text, Path(folder))
            print(f"{name:38} {len(text.encode()):>8} {cpu:>6.2f} {wall:>7.2f} "
                  f"{peak / 1024:>8.0f} {code}")


if __name__ == "__main__":
    main()
