"""Synthetic lead histories: realistic enough to read, made in bulk, the same for a seed.

Used for the shipped example (a quarter of Company X), for the benchmarks (a million leads),
and by tests that need volume. Leads arrive on weekdays in office hours, are scored and handed
off, and reps work them at their own pace, so some leads breach their clocks and some do not.

    python -m sla_dsl.history.synthetic --leads 400 --start 2026-01-05 --days 90 --out history.csv
    python -m sla_dsl.history.synthetic --profile new-breed --leads 600 --out history.csv

`--profile new-breed` (`sla_dsl.history.synthetic_new_breed`) adds marketing touchpoints for
attribution: `engaged` events with their campaign and channel.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np

from sla_dsl.business_time.zones import US_PER_DAY, US_PER_HOUR, US_PER_MINUTE, US_PER_SECOND
from sla_dsl.history.arrivals import office_hours_arrivals
from sla_dsl.history.synthetic_new_breed import generate as generate_new_breed
from sla_dsl.history.write import write_csv

TITLES = np.array(["CEO", "CFO", "VP Sales", "Head of Marketing", "Director of IT",
                   "Marketing Manager", "Sales Lead", "Operations Specialist", "Analyst",
                   "Student", "Consultant"])
INDUSTRIES = np.array(["software", "fintech", "healthcare", "retail", "education",
                       "manufacturing", "media"])
FORMS = np.array(["demo request", "ebook", "webinar", "newsletter", "contact us"])
CHANNELS = np.array(["call", "email", "linkedin"])
REASONS = np.array(["no budget", "wrong persona", "duplicate", "not reachable"])
REPS = np.array(["alice", "bob", "chen", "dana", "eli"])


def generate(leads: int, start: dt.date, days: int, timezone: str = "America/New_York",
             seed: int = 7) -> dict[str, np.ndarray]:
    """The history as columns (lead_id, at as µs, event, actor and field columns)."""
    rng = np.random.default_rng(seed)
    zone = ZoneInfo(timezone)
    created = office_hours_arrivals(rng, leads, start, days, zone)
    ids = np.array([f"L{n:07d}" for n in range(leads)])
    score = rng.integers(5, 100, leads)
    handed = score >= 35
    handoff = created + rng.integers(1, 30, leads) * 60 * US_PER_SECOND
    rep = REPS[rng.integers(0, len(REPS), leads)]
    pace = rng.lognormal(mean=np.log(0.8), sigma=1.0, size=leads) * US_PER_HOUR  # first-touch delay

    parts: list[dict[str, np.ndarray]] = []

    def add(mask: np.ndarray, at: np.ndarray, event: str, actor=None, **fields) -> None:
        count = int(mask.sum())
        part = {"lead_id": ids[mask], "at": at[mask].astype(np.int64),
                "event": np.full(count, event, dtype=object),
                "actor": (actor[mask] if actor is not None else np.full(count, "", dtype=object))}
        for name, values in fields.items():
            part[name] = values[mask]
        parts.append(part)

    everyone = np.ones(leads, dtype=bool)
    add(everyone, created, "created", None,
        score=score.astype(str), title=TITLES[rng.integers(0, len(TITLES), leads)],
        industry=INDUSTRIES[rng.integers(0, len(INDUSTRIES), leads)],
        employees=rng.integers(5, 5000, leads).astype(str),
        page_views=rng.integers(0, 12, leads).astype(str),
        last_form=FORMS[rng.integers(0, len(FORMS), leads)],
        budget=np.where(rng.random(leads) < 0.6, rng.integers(1, 50, leads) * 1000, 0).astype(str),
        authority=np.where(rng.random(leads) < 0.5, "true", "false"),
        need=np.where(rng.random(leads) < 0.7, "replace spreadsheet", ""),
        timeline=rng.integers(10, 200, leads).astype(str))
    add(handed, handoff, "handoff", np.full(leads, "marketing", dtype=object))
    add(handed, handoff + US_PER_MINUTE, "assigned", rep)

    attempts = rng.integers(0, 8, leads) * handed
    first = handoff + pace.astype(np.int64)
    for k in range(int(attempts.max(initial=0))):
        gap = (rng.exponential(1.2, leads) * US_PER_DAY).astype(np.int64) if k else 0
        first = first + gap
        add(attempts > k, first, "touch", rep, channel=CHANNELS[rng.integers(0, 3, leads)])
    connected = handed & (attempts > 0) & (rng.random(leads) < 0.35)
    add(connected, first + 20 * US_PER_MINUTE, "connected", rep)
    decided = handed & (rng.random(leads) < 0.8)
    decision = handoff + (rng.exponential(1.5, leads) * US_PER_DAY).astype(np.int64)
    accepted = rng.random(leads) < 0.7
    add(decided & accepted, decision, "accepted", rep)
    add(decided & ~accepted, decision, "rejected", rep,
        reason=REASONS[rng.integers(0, len(REASONS), leads)])
    won = decided & accepted & (rng.random(leads) < 0.3)
    add(won, decision + (rng.exponential(20, leads) * US_PER_DAY).astype(np.int64), "won", rep,
        amount=(rng.integers(20, 400, leads) * 10).astype(str))

    columns = sorted({name for part in parts for name in part})
    merged = {}
    for name in columns:
        merged[name] = np.concatenate([
            part[name] if name in part else np.full(len(part["at"]), "", dtype=object)
            for part in parts]).astype(object)
    order = np.lexsort((merged["at"].astype(np.int64), merged["lead_id"].astype(str)))
    return {name: values[order] for name, values in merged.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write a synthetic lead history as CSV.")
    parser.add_argument("--leads", type=int, default=400)
    parser.add_argument("--start", type=dt.date.fromisoformat, default=dt.date(2026, 1, 5))
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--timezone", default="America/New_York")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--profile", choices=("company-x", "new-breed"), default="company-x",
                        help="whose funnel: Company X's (the default), or New Breed's with "
                             "marketing touchpoints (engaged events with campaign and channel)")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    if args.profile == "new-breed":
        columns = generate_new_breed(args.leads, args.start, args.days, args.timezone, args.seed)
    else:
        columns = generate(args.leads, args.start, args.days, args.timezone, args.seed)
    write_csv(columns, args.out)
    print(f"wrote {len(columns['at'])} events of {args.leads} leads to {args.out}",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
