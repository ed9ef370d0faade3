"""What `clocks run on owner hours` costs: the inbound desk (policies/inbound-desk.sla) evaluated
over one synthetic history twice in the same run, as shipped and with the line added and a
reps file giving its five reps five timezones and two kinds of hours, and the ratio.

The owner-hours path groups the leads by owner and sends each group through the same
vectorised open-time arithmetic, so it should cost a small multiple of the plain path (one
deadline call per rep instead of one), not a Python step per lead.

    python benchmarks/owner_hours_speed.py [--leads 200000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import tempfile
import time
from pathlib import Path

import sla_dsl
from sla_dsl.history.synthetic import REPS, generate

ROOT = Path(__file__).resolve().parent.parent
POLICY = ROOT / "policies" / "inbound-desk.sla"
ZONES = ("Europe/Amsterdam", "Europe/London", "America/New_York", "America/Chicago",
         "Asia/Kolkata")
HOURS = ("mon-fri 08:00-18:00", "mon-thu 09:00-13:00; fri 09:00-12:00")


def _write(folder: Path, leads: int) -> tuple[Path, Path, Path]:
    columns = generate(leads, dt.date(2026, 1, 5), 90, "Europe/Amsterdam", 7)
    names = list(columns)
    history = folder / "history.csv"
    with history.open("w") as handle:
        handle.write(",".join(names) + "\n")
        for row in zip(*(columns[n] for n in names), strict=True):
            cells = [dt.datetime.fromtimestamp(int(v) / 1e6, dt.UTC).isoformat()
                     if n == "at" else str(v) for n, v in zip(names, row, strict=True)]
            handle.write(",".join(cells) + "\n")
    reps = folder / "reps.csv"
    reps.write_text("rep,timezone,hours\n" + "".join(
        f"{rep},{ZONES[i % len(ZONES)]},{HOURS[i % len(HOURS)]}\n" for i, rep in enumerate(REPS)))
    policy = folder / "owner-hours.sla"
    policy.write_text(POLICY.read_text().replace(
        '  pause while status == "on hold"\n',
        '  pause while status == "on hold"\n  clocks run on owner hours\n'))
    return history, reps, policy


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        history_path, reps, owner_policy = _write(Path(folder), args.leads)
        runs = {}
        for label, path, reps_file in (("calendar", POLICY, None),
                                       ("owner hours", owner_policy, reps)):
            policy = sla_dsl.load_policy(path)
            history = sla_dsl.load_history(history_path, policy=policy, reps=reps_file)
            times = []
            for _ in range(args.repeat):
                began = time.perf_counter()
                sla_dsl.evaluate(policy, history).document  # noqa: B018 (the work measured)
                times.append(time.perf_counter() - began)
            runs[label] = statistics.median(times)
            print(f"{label:12} {args.leads} leads: evaluate + document {runs[label]:.2f} s "
                  f"(median of {args.repeat})")
        print(f"owner hours / calendar: {runs['owner hours'] / runs['calendar']:.2f}x")


if __name__ == "__main__":
    main()
