"""What the agreement's period and the history cover, so that a report never judges a period
the data says nothing about, nor a lead the agreement was not in force for.

Leads arrive in a history by their `created` and `handoff` events; touches and wins follow them
for months. The as-of time defaults to the latest event of any kind, which in an export like
Olist's (MQLs until May 2018, deals won until November) runs half a year past the last lead.
So, for the volumes counted by the day a lead came in:

- a period in which no lead arrived at all has **no data**: a month of zero leads and a month
  the export does not hold look the same, so neither is judged a miss;
- a period the data ends inside (the last lead before the period's last day, while the as-of
  time is later) has **partial data**: it is met if it reached its goal, never missed.

Revenue is dated by the win, so a revenue period is covered by events of any kind. Which leads
are judged at all (the agreement's `effective ... until ...`) is decided in
`sla_dsl.evaluation.replay.placement`; this module reports it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import numpy as np

from sla_dsl.business_time.calendar import closed_dates_last
from sla_dsl.business_time.periods import next_period_start, period_starts_between
from sla_dsl.business_time.zones import US_PER_MINUTE, local_dates, local_time
from sla_dsl.evaluation.replay import AFTER, BEFORE, IN_PERIOD, NOT_YET, Evaluation
from sla_dsl.history.columns import EVENT_CODE, EVENTS

FULL, PARTIAL, NO_DATA = "full", "partial", "none"
_QUARTER_HOUR = 15 * US_PER_MINUTE  # every zone's offset is a whole number of these
_ARRIVALS = np.array([EVENT_CODE["created"], EVENT_CODE["handoff"]])
_NO_EVENT = np.iinfo(np.int64).min


@dataclass(frozen=True)
class Coverage:
    """The local days on which a history has data of one kind, up to the as-of time."""

    days: np.ndarray  # sorted unique datetime64[D]
    as_of_date: dt.date

    @property
    def first(self) -> dt.date | None:
        return self.days[0].astype(object) if len(self.days) else None

    @property
    def last(self) -> dt.date | None:
        return self.days[-1].astype(object) if len(self.days) else None

    def state(self, start: dt.date, end: dt.date) -> str:
        """FULL, PARTIAL or NO_DATA for the local days from `start` up to `end` (excluded)."""
        low, high = np.searchsorted(self.days, [np.datetime64(start), np.datetime64(end)])
        if low == high:
            return NO_DATA
        last = self.last
        if last < end - dt.timedelta(days=1) and self.as_of_date > last:
            return PARTIAL
        return FULL

    def covered_until(self, day: dt.date) -> dt.date:
        """The last day a chart of a period may draw: the as-of date, or the data's end."""
        return min(day, self.last) if self.last and self.as_of_date > self.last else day


def _covering(evaluation: Evaluation, rows: np.ndarray) -> Coverage:
    zone = ZoneInfo(evaluation.policy.timezone or "UTC")
    # the local date of a quarter hour is the date of every instant in it: a few thousand
    # conversions instead of one per event
    buckets = _distinct(evaluation.history.at[rows] // _QUARTER_HOUR) * _QUARTER_HOUR
    days = np.unique(local_dates(buckets, zone))
    as_of_date = local_time(evaluation.as_of, zone).date()
    return Coverage(days, as_of_date)


def _distinct(values: np.ndarray) -> np.ndarray:
    """`np.unique` of integers: counted in a table over their range when that is not much
    longer than the values (quarter hours of a history span a few years), else sorted."""
    if not len(values):
        return values
    low, high = int(values.min()), int(values.max())
    if high - low > 4 * len(values) + 1_000_000:
        return np.unique(values)
    return np.flatnonzero(np.bincount(values - low)) + low


def arrivals(evaluation: Evaluation) -> Coverage:
    """The days leads came in (a `created` or `handoff` event), whether judged or not."""
    history = evaluation.history
    table = np.zeros(256, dtype=bool)  # a lookup by event code, not the sort `np.isin` makes
    table[_ARRIVALS] = True
    arriving = table[history.event.view(np.uint8)] if history.event.dtype.itemsize == 1 \
        else np.isin(history.event, _ARRIVALS)
    rows = np.flatnonzero((history.at <= evaluation.as_of) & arriving)
    return _covering(evaluation, rows)


def any_events(evaluation: Evaluation) -> Coverage:
    """The days with an event of any kind: what revenue, dated by the win, is read from."""
    return _covering(evaluation, np.flatnonzero(evaluation.history.at <= evaluation.as_of))


def _ranges(months: list[dt.date]) -> list[tuple[dt.date, dt.date]]:
    """Consecutive months joined: [Jun, Jul, Aug, Oct] -> [(Jun, Aug), (Oct, Oct)]."""
    out: list[tuple[dt.date, dt.date]] = []
    for month in months:
        if out and next_period_start(out[-1][1], "month") == month:
            out[-1] = (out[-1][0], month)
        else:
            out.append((month, month))
    return out


def _span(first: dt.date, last: dt.date) -> str:
    return f"{first:%Y-%m}" if first == last else f"{first:%Y-%m} to {last:%Y-%m}"


def _latest_event(evaluation: Evaluation) -> str | None:
    history = evaluation.history
    if len(history.at):  # as-of the latest event (the default): no row is left out
        latest = int(np.argmax(history.at))
        if history.at[latest] <= evaluation.as_of:
            return EVENTS[int(history.event[latest])]
    rows = np.flatnonzero(history.at <= evaluation.as_of)
    if not len(rows):
        return None
    return EVENTS[int(history.event[rows[np.argmax(history.at[rows])]])]


def section(evaluation: Evaluation, periods: list[dict], goals: list[dict],
            came_in: Coverage | None = None) -> dict:
    """The report's first lines as data: the as-of time and why, the agreement's period, the
    days the history's leads cover (`came_in`, when the caller has it already), the leads in
    and out of the period, and a warning for every period the data does not cover."""
    policy = evaluation.policy
    came_in = came_in or arrivals(evaluation)
    effective = policy.effective
    start = effective.start.value if effective else None
    until = effective.until.value if effective and effective.until else None
    place = evaluation.placement if evaluation.placement is not None else \
        np.zeros(evaluation.lead_count, dtype=np.int8)
    counts = {name: int(np.count_nonzero(place == code))
              for name, code in (("in_period", IN_PERIOD), ("before", BEFORE),
                                 ("after", AFTER), ("not_yet", NOT_YET))}
    # months of the agreement, up to the as-of time, in which no lead came in at all
    first_month = start or came_in.first
    last_month = min(came_in.as_of_date, until) if until else came_in.as_of_date
    months = list(period_starts_between(first_month, last_month, "month")) if first_month else []
    empty = [m for m in months if came_in.state(m, next_period_start(m, "month")) == NO_DATA]
    return {
        "as_of": "given" if evaluation.as_of_given else "latest event",
        "latest_event": _latest_event(evaluation),
        "effective": None if effective is None else {
            "start": start.isoformat(), "until": until.isoformat() if until else None},
        "leads_from": came_in.first.isoformat() if came_in.first else None,
        "leads_until": came_in.last.isoformat() if came_in.last else None,
        "leads": counts,
        "no_data_months": [f"{m:%Y-%m}" for m in empty],
        "warnings": _warnings(came_in, empty, periods, goals) + closed_dates_warnings(evaluation),
    }


def closed_dates_warnings(evaluation: Evaluation) -> list[str]:
    """`sla check`'s W512 at evaluate time, against the data instead of the agreement's end: a
    calendar whose explicit closed dates stop in an earlier year than the history's last event
    (up to the as-of time) ran its clocks through that later year's holidays as working days."""
    history = evaluation.history
    if not evaluation.policy.calendars or not len(history.at):
        return []
    # the latest event by the as-of time, without copying the events out
    latest = int(history.at.max(where=history.at <= evaluation.as_of, initial=_NO_EVENT))
    if latest == _NO_EVENT:
        return []
    zone = ZoneInfo(evaluation.policy.timezone or "UTC")
    data_end = local_time(latest, zone).date()
    warnings = []
    for calendar in evaluation.policy.calendars:
        last = closed_dates_last(calendar)
        if last is None:
            continue
        end = max(last.first, last.last)
        if end.year < data_end.year:
            years = str(data_end.year) if end.year + 1 == data_end.year else \
                f"{end.year + 1} to {data_end.year}"
            warnings.append(
                f"calendar '{calendar.name.value}' has no closed dates after {end}, but the data "
                f"runs to {data_end}: its clocks ran through the holidays of {years} as "
                f"working days (W512); list those holidays too, or name a holiday set "
                f'that knows every year, such as: closed holidays "US"')
    return warnings


def _warnings(came_in: Coverage, empty: list[dt.date], periods: list[dict],
              goals: list[dict]) -> list[str]:
    last = came_in.last
    if last is None:
        return ["no lead came in (no created or handoff event) by the as-of time: no period "
                "has data"]
    warnings = []
    gaps = [m for m in empty if m < last.replace(day=1)]
    for first, final in _ranges(gaps):
        warnings.append(f"no lead came in during {_span(first, final)}: a gap in the history, "
                        "no data, not judged")
    uncovered = [p for p in periods + [p for g in goals for p in g["periods"]]
                 if p["data"] != FULL and dt.date.fromisoformat(p["end"]) > last]
    after = [m for m in empty if m > last]
    if uncovered or after:
        partial = sorted({p["start"] for p in uncovered if p["data"] == PARTIAL})
        said = []
        if partial:
            said.append(f"the period{'s' if len(partial) > 1 else ''} from "
                        f"{', '.join(partial)} {'have' if len(partial) > 1 else 'has'} only "
                        "partial data")
        if after:  # no lead: a revenue goal's period there may still hold wins (partial)
            said.append(f"no lead came in during {_span(after[0], after[-1])}")
        warnings.append(
            f"the data ends {last.isoformat()} (the last lead to come in), "
            f"{(came_in.as_of_date - last).days} days before the as-of time: "
            + (" and ".join(said) or "the periods after it are not covered")
            + _judged_after(goals, last))
    return warnings


def _judged_after(goals: list[dict], last: dt.date) -> str:
    """The end of the warning on the months after the last lead: none of a commitment's
    periods there is judged, but a revenue goal's is when the history holds its wins (they
    are recorded for months after the last lead), and the tables judge it: the warning must
    not say otherwise."""
    judged = sorted({p["start"][:7] for g in goals for p in g["periods"]
                     if p["data"] == FULL and p.get("complete")
                     and dt.date.fromisoformat(p["end"]) > last})
    if not judged:
        return "; none of them is judged a miss"
    return (f"; no commitment's period there is judged, but the revenue goal's "
            f"{' and '.join(judged)} {'are' if len(judged) > 1 else 'is'}: a goal counts "
            f"the wins the history records, not the leads that came in")


def period_reached(period: dict) -> bool:
    """Whether a period got to its goal: a commitment's volume delivered
    (`PeriodMeasures.commitments`), or a revenue goal's revenue won and each party's measured
    share (`revenue.goal_periods`)."""
    if "delivered" in period:
        return period["delivered"] >= period["goal"]
    return period["revenue"] >= period["goal"] and all(
        s["measured"] >= s["goal"] for s in period["shares"])


def period_verdict(period: dict) -> str:
    """A commitment's or revenue goal's period in words: the one home of the state the text,
    the page and the `attainment of deliver|goal` triggers read, so a trigger cannot count a
    period met that the report calls missed."""
    return verdict(period, period_reached(period))


def verdict(period: dict, reached: bool) -> str:
    """A commitment's or goal's period in words; `reached` says whether it met its goal. A
    period without all its data is no miss: `no data`, or `partial data` when it fell short."""
    if period["counts_as_miss"]:
        return "missed"
    if period["missed"]:
        return "missed, in grace"
    data = period.get("data", FULL)
    if data == NO_DATA:
        return "no data"
    if not period["complete"]:
        return "in progress" + (", partial data" if data == PARTIAL else "")
    if data == PARTIAL and not reached:
        return "partial data, not judged"
    return "met"
