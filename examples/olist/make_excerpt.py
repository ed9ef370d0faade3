"""Rebuild the excerpt in this folder from the full Olist marketing-funnel dataset.

    python examples/olist/make_excerpt.py examples/olist/full

Rows are copied byte for byte (header included), in the dataset's order: the first 299
marketing-qualified leads, plus the lead whose deal is won before its first contact and one
lead first contacted on 2017-10-15 (the night Sao Paulo's clocks skipped from 00:00 to 01:00),
if they are not among them; and every closed deal of those leads.
"""

from __future__ import annotations

import csv
import io
import sys
from pathlib import Path

MQLS = "olist_marketing_qualified_leads_dataset.csv"
DEALS = "olist_closed_deals_dataset.csv"
FIRST = 299
WON_EARLY = "b91cf8812365f50ff4bda4bcd6206b05"  # won 2018-03-06, first contact 2018-03-08
DST_DAY = "2017-10-15"


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines(keepends=True)


def _id(line: str) -> str:
    return next(csv.reader(io.StringIO(line)))[0]


def main(source: Path, target: Path) -> None:
    mqls = _lines(source / MQLS)
    header, rows = mqls[0], mqls[1:]
    keep = set(range(FIRST))
    keep.add(next(i for i, line in enumerate(rows) if _id(line) == WON_EARLY))
    if not any(rows[i].split(",")[1] == DST_DAY for i in keep):
        keep.add(next(i for i, line in enumerate(rows) if line.split(",")[1] == DST_DAY))
    chosen = [rows[i] for i in sorted(keep)]
    (target / MQLS).write_text(header + "".join(chosen), encoding="utf-8")
    ids = {_id(line) for line in chosen}
    deals = _lines(source / DEALS)
    won = [line for line in deals[1:] if _id(line) in ids]
    (target / DEALS).write_text(deals[0] + "".join(won), encoding="utf-8")
    print(f"{len(chosen)} leads, {len(won)} closed deals", file=sys.stderr)


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(__file__).resolve().parent)
