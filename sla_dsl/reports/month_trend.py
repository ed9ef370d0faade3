"""Attainment by month: how much each month's figure stands on, and the trend worth saying.

A month's attainment is met of met + breached among the clocks started in it. A clock met is
decided when it is met, a breach only when its due time passes, so while a month's clocks are
pending its figure leans to the early wins: the inbound desk's April read 100.0% with 88
touches cadences decided and 400 still running, and its first touches 100.0% with 142 of 488
pending. And a month of three decided clocks moves by 33 points with each. One rule says which
months a reader can lean on, and the text (`sla_dsl.reports.text`) and the page
(`sla_dsl.reports.html`) both apply it, so they mark the same months and compare the same two:

- a month with clocks **still pending** is marked `*`: its figure can still fall (or rise);
- a month with **few decided**, fewer than `MIN_DECIDED` clocks decided, is marked `~`;
- a marked month's decided and pending counts are in a footnote, and the page draws it as an
  open point;
- the trend ("-12.7 points") runs from the first to the last month that is not marked, and
  says which two months and figures it compares; with fewer than two such months it says it
  does not compare.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

# Fewer decided clocks than this in a month and one lead moves its attainment by 10 points or
# more: a figure to show, not to draw a trend from.
MIN_DECIDED = 10

STILL_PENDING = "still pending"
FEW_DECIDED = "few decided"
MARKS = {STILL_PENDING: "*", FEW_DECIDED: "~"}
FOOTNOTES = {STILL_PENDING: "clocks still pending, so the figure can still change",
             FEW_DECIDED: f"fewer than {MIN_DECIDED} clocks decided"}
LEGEND = (f"{MARKS[STILL_PENDING]} clocks still pending, {MARKS[FEW_DECIDED]} fewer than "
          f"{MIN_DECIDED} decided; a trend runs from the first to the last month with neither")


def decided(month: dict) -> int:
    return month["met"] + month["breached"]


def standing(month: dict | None) -> str | None:
    """Why a month's figure is not one to lean on (`STILL_PENDING`, `FEW_DECIDED`), or None
    when it stands, or has no figure at all (no lead, or none decided yet: it shows none)."""
    if month is None or month.get("no_data") or month["attainment"] is None:
        return None
    if month["pending"]:
        return STILL_PENDING
    if decided(month) < MIN_DECIDED:
        return FEW_DECIDED
    return None


def mark(month: dict | None) -> str:
    """The marker a month's figure carries ("*", "~"), or "" for one that stands."""
    kind = standing(month)
    return MARKS[kind] if kind else ""


@dataclass(frozen=True)
class Comparison:
    """The trend of one clause: its first and its last month that stand."""

    first: dict
    last: dict

    @property
    def change(self) -> float:
        return self.last["attainment"] - self.first["attainment"]


def comparison(months: list[dict]) -> Comparison | None:
    """The first and the last month that stand, when there are two; else None."""
    standing_months = [m for m in months if m["attainment"] is not None and standing(m) is None
                       and not m.get("no_data")]
    if len(standing_months) < 2:
        return None
    return Comparison(standing_months[0], standing_months[-1])


def trend_words(months: list[dict]) -> str:
    """The trend in words, saying what it compares: "-12.7 points, 2026-01 65.6% to 2026-03
    52.9%"; or "not compared: ..." when fewer than two months stand."""
    compared = comparison(months)
    if compared is None:
        return (f"not compared: fewer than two months with no clock pending and {MIN_DECIDED}"
                " or more decided")
    first, last = compared.first, compared.last
    return (f"{compared.change:+.1f} points, {first['month']} {first['attainment']:.1f}% to "
            f"{last['month']} {last['attainment']:.1f}%")


def footnotes(trend: list[dict], label: Callable[[dict], str]) -> list[tuple[str, list[str]]]:
    """Per kind of mark used, its footnote's heading and a line per clause with its marked
    months' counts: ("* clocks still pending, so the figure can still change (decided /
    pending)", ["every lead: touches  2026-03 3,335 / 500, 2026-04 88 / 400"]). `label`
    names a clause row of `trend` as the table does."""
    out = []
    for kind, marker in MARKS.items():
        lines = []
        for item in trend:
            marked = [f"{m['month']} {decided(m):,} / {m['pending']:,}" for m in item["months"]
                      if standing(m) == kind]
            if marked:
                lines.append(f"{label(item)}  {', '.join(marked)}")
        if lines:
            out.append((f"{marker} {FOOTNOTES[kind]} (decided / pending)", lines))
    return out
