"""Period measures, as the seed material keeps them: volume delivered against each commitment
per period (with the cumulative daily goal line), speed and depth of follow-up, the funnel, and
the `cancel when` / `review when` triggers that read them.

A period is a local calendar period (day, week from Monday, month, quarter, year) in the
policy's timezone, from the agreement's `effective` date to its `until` date (or the as-of
time, whichever is first). A period counts as missed only once it has ended by the as-of time,
and only when the history covers it (`sla_dsl.measures.coverage`: a period no lead came in during
has no data); the first `grace` periods of the agreement do not count (slack while the numbers
settle).
"""

from __future__ import annotations

import calendar as calendar_module
import datetime as dt
from functools import cached_property
from zoneinfo import ZoneInfo

import numpy as np

from sla_dsl.business_time.calendar import BusinessCalendar, calendar_for
from sla_dsl.business_time.open_time import open_time_between_many
from sla_dsl.business_time.periods import next_period_start, period_start, period_starts
from sla_dsl.business_time.zones import US_PER_DAY, US_PER_HOUR, US_PER_SECOND, local_dates
from sla_dsl.evaluation import consequences
from sla_dsl.evaluation.conditions import UNIT_DAYS, ConditionEvaluator
from sla_dsl.evaluation.replay import MET, NONE, ClauseResult, Evaluation
from sla_dsl.history.columns import EVENT_CODE
from sla_dsl.language import model as m
from sla_dsl.language.formatter import counted, header_line, item_line, money
from sla_dsl.language.formatter import metric as metric_text
from sla_dsl.language.formatter import trigger as trigger_text
from sla_dsl.measures import coverage
from sla_dsl.measures.attribution import Attribution, attribute, party_credit
from sla_dsl.measures.deliveries import delivered, delivery_unit, handed_over

# A lead-count commitment is counted on the leads its giver hands its receiver (W514).
UNDELIVERED = "no handoff block passes leads from {giver} to {receiver}, so none is delivered"


def _undeliverable(policy: m.Policy, commitment: m.Commitment,
                   item: m.DeliverCount | m.DeliverMoney) -> bool:
    """Whether an item is counted on handed-off leads its giver never hands its receiver."""
    return any(i is item for i in commitment.handed_items) and \
        not policy.hands_off(commitment.giver.value, commitment.receiver.value)


def _goal(item: m.DeliverCount | m.DeliverMoney) -> float:
    return float(item.count.value if isinstance(item, m.DeliverCount) else item.amount.amount)


# A `report` commitment is promised, not recorded: no history event says a report was made.
# `sla check` warns of a trigger on one (W513); the report says why it did not fire.
REPORT_UNRECORDED = "no history records whether a report was made"
UNMEASURED_REPORT = f"not measured ({REPORT_UNRECORDED})"


class PeriodMeasures:
    def __init__(self, evaluation: Evaluation) -> None:
        self.evaluation = evaluation
        self.policy = evaluation.policy
        self.zone = ZoneInfo(self.policy.timezone or "UTC")
        self.handed = np.flatnonzero(evaluation.handoff_at != NONE)
        self.handoff_dates = local_dates(evaluation.handoff_at[self.handed], self.zone)
        self.as_of_date = local_dates(np.array([evaluation.as_of]), self.zone)[0].astype(object)
        effective = self.policy.effective
        self.first_date = effective.start.value if effective else (
            self.handoff_dates.min().astype(object) if len(self.handed) else self.as_of_date)
        # the last day a period may start on: the as-of date, or the agreement's end before it
        self.last_date = min(self.as_of_date, effective.until.value) \
            if effective and effective.until else self.as_of_date

    @cached_property
    def arrivals(self) -> coverage.Coverage:
        """The days leads came in: what volumes counted by the handoff day are read from."""
        return coverage.arrivals(self.evaluation)

    @cached_property
    def any_events(self) -> coverage.Coverage:
        """The days with any event: what revenue, dated by the win, is read from."""
        return coverage.any_events(self.evaluation)

    def _miss_actions(self, clause: str) -> list[m.Action]:
        return [a for c in self.policy.consequences if c.trigger == "miss"
                and c.clause.name == clause for a in c.actions]

    def _grace(self, clause: str) -> int:
        grace = [a for a in self._miss_actions(clause) if isinstance(a, m.Grace)]
        return int(grace[0].count.value) if grace else 0

    def _owed(self, clause: str) -> dict:
        """What a counted miss sets off: the credit owed and who is told."""
        owed: dict = {"credits": [], "escalate_to": []}
        for action in self._miss_actions(clause):
            if isinstance(action, m.CreditShare):
                owed["credits"].append(f"{action.percent.value:g}% of {action.of}")
            elif isinstance(action, m.CreditAmount):
                owed["credits"].append(money(action.amount))
            elif isinstance(action, m.Escalate):
                owed["escalate_to"].append(action.to.value)
        return owed

    def commitments(self) -> list[dict]:
        """Each measured delivery commitment, period by period; one nobody can deliver
        (`unmeasured_deliveries`) has no periods, so no miss is charged for it."""
        rows = []
        for commitment in self.policy.commitments:
            for item in commitment.items:
                if isinstance(item, m.DeliverCount | m.DeliverMoney) \
                        and not _undeliverable(self.policy, commitment, item):
                    rows.append(self._deliveries(commitment, item))
        return rows

    def unmeasured_deliveries(self) -> list[dict]:
        """The lead-count and lead-value commitments whose giver hands no lead to their
        receiver (no handoff block from one to the other, `sla check`'s W514): a delivery is
        counted on the leads the giver hands over, so these are never delivered. Named as not
        measured, with why, rather than charged with a miss every period: New Breed's sales
        promised marketing 28 opportunities a month and was escalated for 0 of 28."""
        return [{"from": c.giver.value, "to": c.receiver.value, "deliver": delivery_unit(item),
                 "per": item.per, "goal": _goal(item),
                 "why": UNDELIVERED.format(giver=c.giver.value, receiver=c.receiver.value)}
                for c in self.policy.commitments for item in c.items
                if isinstance(item, m.DeliverCount | m.DeliverMoney)
                and _undeliverable(self.policy, c, item)]

    def unmeasured_reports(self) -> dict:
        """The `report` commitments, which are promised but never recorded (no history event
        says a report was made): named, so that a report listing the deliveries alone does
        not read as if they were kept; with whether an `on miss of report` block waits on
        them, which therefore never sets anything off."""
        rows = [{"from": c.giver.value, "to": c.receiver.value,
                 "report": f'"{item.subject}"' if item.quoted else item.subject,
                 "cadence": item.cadence}
                for c in self.policy.commitments for item in c.items
                if isinstance(item, m.Report)]
        return {"commitments": rows, "on_miss": bool(self._miss_actions("report")) and
                bool(rows), "why": REPORT_UNRECORDED}

    def _delivered(self, commitment: m.Commitment, item: m.DeliverCount | m.DeliverMoney
                   ) -> tuple[np.ndarray, np.ndarray, str]:
        """What adds to the commitment and the local day it counts on: per lead the giver
        handed the receiver, on the day of that handoff (`deliveries`); revenue per won deal,
        as credited to the giver, on the day of the win."""
        giver = commitment.giver.value
        if isinstance(item, m.DeliverMoney) and item.measure != "lead value":
            return *self._revenue(giver), delivery_unit(item)
        handed = handed_over(self.evaluation, giver, commitment.receiver.value)
        return (delivered(self.evaluation, handed, item), local_dates(handed.at, self.zone),
                delivery_unit(item))

    @cached_property
    def attribution(self) -> Attribution | None:
        """The won deals split by the policy's attribution model (None without one)."""
        return attribute(self.evaluation)

    def _revenue(self, party: str) -> tuple[np.ndarray, np.ndarray]:
        """Revenue a party is credited with, deal by deal, dated by the local day of the win."""
        amounts, instants = party_credit(self.attribution, party)
        return amounts, local_dates(instants, self.zone)

    def _deliveries(self, commitment: m.Commitment,
                    item: m.DeliverCount | m.DeliverMoney) -> dict:
        goal = _goal(item)
        adds, dates, unit = self._delivered(commitment, item)
        covered = self.any_events if isinstance(item, m.DeliverMoney) and \
            item.measure != "lead value" else self.arrivals
        starts = period_starts(dates, item.per)
        grace = self._grace("deliver")
        owed = self._owed("deliver")
        periods = []
        start = period_start(self.first_date, item.per)
        index = 0
        while start <= self.last_date:
            end = next_period_start(start, item.per)
            done = float(adds[starts == np.datetime64(start)].sum())
            complete = end <= self.as_of_date
            data = covered.state(start, end)
            # a period the history does not wholly cover is never missed: its shortfall may
            # be the export's end, not marketing's
            missed = complete and done < goal and data == coverage.FULL
            periods.append({
                "start": start.isoformat(), "end": end.isoformat(), "goal": goal,
                "delivered": done, "attainment": round(100 * done / goal, 1)
                if goal and data != coverage.NO_DATA else None,
                "complete": complete, "data": data, "missed": missed,
                "in_grace": index < grace, "counts_as_miss": missed and index >= grace,
                "credits_owed": owed["credits"] if missed and index >= grace else [],
                "escalate_to": owed["escalate_to"] if missed and index >= grace else [],
                "daily": self._daily(adds, dates, start, end, goal, covered)
                if item.per == "month" and data != coverage.NO_DATA else [],
            })
            start, index = end, index + 1
        return {"from": commitment.giver.value, "to": commitment.receiver.value,
                "deliver": unit, "per": item.per, "goal": goal, "periods": periods}

    def _daily(self, adds: np.ndarray, dates: np.ndarray, start: dt.date, end: dt.date,
               goal: float, covered: coverage.Coverage) -> list[dict]:
        """The waterfall chart: the cumulative goal line (goal x day / days in month) and what
        was delivered by each day, up to the as-of date or the day the data ends."""
        last = covered.covered_until(self.as_of_date)
        days = calendar_module.monthrange(start.year, start.month)[1]
        in_month = (dates >= np.datetime64(start)) & (dates < np.datetime64(end))
        by_day = np.zeros(days)
        offsets = (dates[in_month] - np.datetime64(start)).astype(int)
        np.add.at(by_day, offsets, adds[in_month])
        cumulative = np.cumsum(by_day)
        return [{"date": (start + dt.timedelta(days=d)).isoformat(),
                 "goal": round(goal * (d + 1) / days, 2), "delivered": float(cumulative[d])}
                for d in range(days) if start + dt.timedelta(days=d) <= last]

    # ------------------------------------------------------------ follow-up and funnel

    def speed(self) -> list[dict]:
        """Speed of follow-up: hours from handoff to first touch, per day, week and month of
        the handoff, beside how many of those leads met the first-touch clause. Where the
        clause counts business hours or minutes, the same delays in open time too: the unit
        the goal is written in."""
        rows = []
        for result in (r for r in self.evaluation.clauses if r.clause == "first touch"):
            done = result.at != NONE
            delays = clause_delays(result, done) / US_PER_HOUR
            open_delays = self._open_delays(result, done)
            dates = local_dates(result.start[done], self.zone)
            met = result.status[done] == MET
            for period in ("day", "week", "month"):
                starts = period_starts(dates, period)
                # each period's leads, in the order they came (a stable sort), as one slice
                order = stable_date_order(starts)
                bounds = np.flatnonzero(np.r_[True, starts[order][1:] != starts[order][:-1],
                                              True]) if len(order) else np.zeros(1, dtype=int)
                by_period = delays[order]
                business_by_period = None if open_delays is None else open_delays[order]
                met_before = np.r_[0, np.cumsum(met[order])]
                for lo, hi in zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True):
                    start = starts[order[lo]]
                    sample = by_period[lo:hi]
                    median, p90 = median_and_p90(sample)
                    business = None if business_by_period is None else business_by_period[lo:hi]
                    rows.append({
                        "handoff": result.handoff, "period": period, "start": str(start),
                        "touched": len(sample),
                        "met": int(met_before[hi] - met_before[lo]),
                        "mean_hours": round(float(sample.mean()), 2),
                        "median_hours": round(median, 2),
                        "p90_hours": round(p90, 2),
                        "mean_business_hours": None if business is None
                        else round(float(business.mean()), 2),
                        "median_business_hours": None if business is None
                        else round(median_of(business), 2)})
        return rows

    def _open_delays(self, result: ClauseResult, done: np.ndarray) -> np.ndarray | None:
        """Hours of open time from handoff to first touch, for a clause counted in business
        time: the unit its deadline is in. Business days only on a calendar whose open days
        keep the same hours (`open_day_hours`); elsewhere a business day is no amount of open
        time, and the wall clock is all a chart can set beside it."""
        handoff = next(h for h in self.policy.handoffs if h.label == result.handoff)
        within = handoff.item("first_touch").within
        if open_day_hours(self.policy, within) is None:
            return None
        return clause_delays(result, done, calendar_for(self.policy, within)) / US_PER_HOUR

    def depth(self) -> list[dict]:
        """Depth of follow-up per handoff block: mean touches on its leads not yet connected,
        against the `touches at least N within D` the block asks for. Where the block has a
        cadence, only the touches its clause counts (inside the window, spaced, before the next
        level's handoff) are its depth: a sixth touch after the window did not keep the
        promise, so it does not show as keeping it. A block without a cadence counts every
        touch after its handoff. A recycled lead counts once per round judged in the block
        (round by round, as the cadence judged it), each round its own touches."""
        rows = []
        for handoff, counts in zip(self.policy.handoffs, self.attempts_not_connected(),
                                   strict=True):
            clause = handoff.item("touches")
            mean = float(counts.mean()) if len(counts) else None
            rows.append({"handoff": handoff.label, "leads_not_connected": len(counts),
                         "mean_attempts": None if mean is None else round(mean, 2),
                         "goal": int(clause.count.value) if clause else None,
                         "window": None if clause is None else item_line(clause)})
        return rows

    def attempts_not_connected(self) -> list[np.ndarray]:
        """Per handoff block, in the policy's order: the touches of each of its rounds not
        connected by the as-of time (a lead's round judged in the block each), counted as
        `depth` says. A round is connected by a connect among its own rows: a recycled lead
        connected in a later round did not connect in the round before it. The one count behind
        the depth table and the `mean`, `median` and `p90 touches` triggers."""
        history = self.evaluation.history
        connects = np.flatnonzero((history.event == EVENT_CODE["connected"])
                                  & (history.at <= self.evaluation.as_of))
        cadences = {r.handoff: r for r in self.evaluation.clauses if r.clause == "touches"}
        out = []
        for handoff in self.policy.handoffs:
            rounds = self.evaluation.round_rows(handoff.label)
            connected = [self._connected_in(connects, r.first, r.end) for r in rounds]
            cadence = cadences.get(handoff.label)
            if cadence is None or cadence.counted is None:
                out.append(np.concatenate(
                    [self._touches_in(r.first, r.end)[r.leads][~done[r.leads]]
                     for r, done in zip(rounds, connected, strict=True)]))
                continue
            # the cadence's rows name their round by its number (1, then the later rounds')
            numbers = [1, *(r.number for r in self.evaluation.block_rounds.get(handoff.label,
                                                                               []))]
            attempt = cadence.attempt if cadence.attempt is not None else \
                np.ones(len(cadence.leads), dtype=np.int64)
            alone = np.ones(len(cadence.leads), dtype=bool)
            for number, done in zip(numbers, connected, strict=True):
                mine = attempt == number
                alone[mine] = ~done[cadence.leads[mine]]
            out.append(np.asarray(cadence.counted)[alone])
        return out

    def _connected_in(self, connects: np.ndarray, since: np.ndarray, until: np.ndarray
                      ) -> np.ndarray:
        """Per lead, whether one of the `connects` rows falls in its round's rows."""
        lead = self.evaluation.history.lead[connects]
        inside = (connects >= since[lead]) & (connects < until[lead])
        out = np.zeros(self.evaluation.lead_count, dtype=bool)
        out[lead[inside]] = True
        return out

    def _touches_in(self, since: np.ndarray, until: np.ndarray) -> np.ndarray:
        """Per lead, its touches by the as-of time in its round: from its row `since` to
        before its row `until` (`Evaluation.round_rows`), so a later round's touches are not
        an earlier round's."""
        history = self.evaluation.history
        rows = np.flatnonzero((history.event == EVENT_CODE["touch"])
                              & (history.at <= self.evaluation.as_of))
        lead = history.lead[rows]
        inside = (rows >= since[lead]) & (rows < until[lead])
        return np.bincount(lead[inside], minlength=self.evaluation.lead_count)

    def won(self) -> np.ndarray:
        """Leads with a `won` event by the as-of time."""
        history = self.evaluation.history
        won = np.zeros(self.evaluation.lead_count, dtype=bool)
        won[history.lead[(history.event == EVENT_CODE["won"])
                         & (history.at <= self.evaluation.as_of)]] = True
        return won

    def step_members(self, name: str, now: ConditionEvaluator) -> np.ndarray:
        """The leads of a funnel step or of a rate's step (`rate A to B`), among those the
        agreement judges, as they stand at the as-of time: `lead` is every lead in the
        period (whatever a `stage lead` says), `won` a lead with a `won` event unless the
        policy defines its own `stage won`, any other name the policy's definition. One
        rule for both, so the funnel's conversion and a trigger's rate cannot differ."""
        judged = self.evaluation.in_period
        if name in BUILTIN_STEPS - {"won"}:
            return judged
        if name == "won" and ("bare", name) not in now.definitions:
            return self.won() & judged
        return now.definition("bare", name) & judged

    def funnel(self, now: ConditionEvaluator) -> list[dict]:
        """Lead -> each stage -> won, with stages as the leads stand at the as-of time, one
        row per name (a policy's own `stage lead` or `stage won` is that step, not a second
        row). A conversion is a share of a step that holds every lead of this one: the step
        before when it does (`rate_from_previous`), else the nearest earlier one that does
        (`rate_of`; `lead` holds them all), so no step reads as more than 100% of another:
        a deal won without ever being an opportunity is no conversion of opportunities."""
        names = ["lead", *(d.name.value for d in self.policy.definitions_of("stage")
                           if d.name.value not in BUILTIN_STEPS), "won"]
        steps = [(name, self.step_members(name, now)) for name in names]
        rows = []
        for index, (name, mask) in enumerate(steps):
            count = int(mask.sum())
            holders = [(k, earlier) for k, (_, earlier) in enumerate(steps[:index])
                       if not (mask & ~earlier).any() and earlier.any()]
            base = holders[-1][0] if holders else None
            rate = None if base is None else round(100 * count / int(steps[base][1].sum()), 1)
            rows.append({"stage": name, "leads": count,
                         "rate_from_previous": rate if base == index - 1 else None,
                         "rate": rate, "rate_of": None if base is None else steps[base][0]})
        return rows


# Funnel steps every policy has without defining them (`rate lead to mql`, `rate sql to won`).
BUILTIN_STEPS = frozenset({"lead", "leads", "won"})


def open_day_hours(policy: m.Policy, within: m.Duration) -> float | None:
    """Hours of open time one unit of a business duration stands for: a minute's or an
    hour's, or one open day's on a calendar that keeps the same hours every open day (there,
    `N business days` later is N such days of open time later, whatever the day it starts).
    None for elapsed time and for a business day on a calendar of uneven days."""
    if not within.business:
        return None
    if within.unit != "day":
        return {"minute": 1 / 60, "hour": 1.0}[within.unit]
    minutes = calendar_for(policy, within).open_minutes_per_day()
    return None if minutes is None else minutes / 60


def clause_delays(result: ClauseResult, done: np.ndarray,
                  calendar: BusinessCalendar | None = None) -> np.ndarray:
    """Microseconds from each clock's start to its clause's event, for the clocks `done`:
    elapsed time, or open time on `calendar`. The one measure of speed that the speed table
    and the `mean`, `median` and `p90` triggers read, so a trigger cannot compare another
    time than the report prints."""
    start, at = result.start[done], result.at[done]
    return at - start if calendar is None else open_time_between_many(start, at, calendar)


def stable_date_order(keys: np.ndarray) -> np.ndarray:
    """`np.argsort(keys, kind="stable")` of local dates: as small day numbers when their span
    fits (a radix sort), which orders them the same."""
    if len(keys):
        days = keys.astype(np.int64)
        low = int(days.min())
        if int(days.max()) - low < np.iinfo(np.int16).max:
            return np.argsort((days - low).astype(np.int16), kind="stable")
    return np.argsort(keys, kind="stable")


def median_of(sample: np.ndarray) -> float:
    """`np.median(sample)`, from a partition of a copy at the middle only."""
    n = len(sample)
    half = n // 2
    part = np.partition(sample, [max(half - 1, 0), half])
    return float(part[half] if n % 2 else (part[half - 1] + part[half]) / 2)


def median_and_p90(sample: np.ndarray) -> tuple[float, float]:
    """`np.median(sample)` and `np.percentile(sample, 90)` (its linear method) from one
    partition of a copy, instead of one each: the same order statistics, combined the same
    way, so the same floats."""
    n = len(sample)
    half = n // 2
    virtual = (n - 1) * 0.9  # as numpy: (n - 1) * (90 / 100)
    below = int(np.floor(virtual))
    above_bounds = virtual >= n - 1
    previous, following = (n - 1, n - 1) if above_bounds else (below, below + 1)
    kth = sorted({half, max(half - 1, 0), previous, following})
    part = np.partition(sample, kth)
    median = part[half] if n % 2 else (part[half - 1] + part[half]) / 2
    a, b = part[previous], part[following]
    gamma = virtual - below if not above_bounds else virtual - (n - 1)
    difference = b - a
    p90 = b - difference * (1 - gamma) if gamma >= 0.5 else a + difference * gamma
    return float(median), float(p90)


class TriggerCheck:
    """`cancel when` and `review when`, read against the measures above."""

    def __init__(self, measures: PeriodMeasures, commitments: list[dict],
                 stages_now: ConditionEvaluator, goals: list[dict] | None = None) -> None:
        self.measures = measures
        self.commitments = commitments
        self.goals = goals or []  # `goal revenue` period by period (sla_dsl.measures.revenue)
        self.stages_now = stages_now
        self.readings: list[str] = []
        self.breaches: list[dict] = []  # the periods `missed ... times per` triggers counted

    def holds(self, trigger: m.Trigger) -> bool:
        if isinstance(trigger, m.AnyTrigger):
            return any([self.holds(t) for t in trigger.operands])
        if isinstance(trigger, m.AllTriggers):
            return all([self.holds(t) for t in trigger.operands])
        if isinstance(trigger, m.Missed):
            return self._missed(trigger)
        if isinstance(trigger, m.MissedCount):
            rows = consequences.breach_counts(self.measures.evaluation, trigger)
            self.breaches += rows
            self.readings += consequences.team_readings(trigger, rows)
            return any(r["triggered"] for r in rows)
        if isinstance(trigger.metric, m.AttainmentMetric) \
                and trigger.metric.clause.name in m.PERIOD_CLAUSES:
            return self._period_attainment(trigger)
        if isinstance(trigger.metric, m.StatisticMetric) and isinstance(trigger.value, m.Duration):
            return self._time_statistic(trigger.metric, trigger.op, trigger.value)
        reading = self._reading(trigger.metric)
        if reading is None:
            self.readings.append(f"{metric_text(trigger.metric)}: no data")
            return False
        self.readings.append(f"{metric_text(trigger.metric)} = {_shown(trigger.metric, reading)}")
        return bool(_COMPARE[trigger.op](reading, _target(trigger.value)))

    def _time_statistic(self, metric: m.StatisticMetric, op: str, value: m.Duration) -> bool:
        """`mean|median|p90 first touch|disposition` against a duration, in the time the
        duration is written in: elapsed time for `2 days`; open time on the duration's
        calendar for `4 business hours` (the speed table's business hours), and for `1
        business day` against the open hours of one day of that calendar (`sla check` refuses a
        calendar whose open days differ, E111). Read as 24 hours of elapsed time, a business
        day made a lead handed off on Friday and touched first thing on Monday count as late."""
        name = metric_text(metric)
        policy = self.measures.policy
        unit_hours = open_day_hours(policy, value)
        if value.business and unit_hours is None:
            self.readings.append(f"{name}: not compared ({_calendar_name(policy, value)} is not "
                                 "open the same hours every open day, so a business day is no "
                                 "fixed amount of open time)")
            return False
        calendar = calendar_for(policy, value) if value.business else None
        results = [r for r in self.measures.evaluation.clauses if r.clause == metric.clause.name]
        delays = np.concatenate([clause_delays(r, r.at != NONE, calendar) for r in results]) \
            if results else np.zeros(0)
        if not len(delays):
            self.readings.append(f"{name}: no data")
            return False
        reading = float(_STATISTICS[metric.statistic](delays / US_PER_SECOND))
        self.readings.append(f"{name} = {_time_shown(reading, policy, value, unit_hours)}")
        return bool(_COMPARE[op](reading, _target(value, unit_hours)))

    def _period_attainment(self, trigger: m.MetricCompare) -> bool:
        """`attainment of deliver|report|goal`: the share of periods kept, read from the period
        rows the report prints (`coverage.period_verdict`), so a trigger counts a period met
        exactly where the report calls it met. A period in progress, without full data or
        missed in grace is not judged, as it is not counted by `missed … in a row`."""
        clause = trigger.metric.clause.name
        name = metric_text(trigger.metric)
        if clause == "report":
            self.readings.append(f"{name}: {UNMEASURED_REPORT}")
            return False
        rows = self.goals if clause == "goal" else self.commitments
        states = [coverage.period_verdict(p) for row in rows for p in row["periods"]]
        met, judged = states.count("met"), states.count("met") + states.count("missed")
        if not judged:
            self.readings.append(f"{name}: no period judged yet")
            return False
        reading = 100 * met / judged
        self.readings.append(f"{name} = {reading:.1f}% ({met} of {judged} judged "
                             f"period{'' if judged == 1 else 's'} met)")
        return bool(_COMPARE[trigger.op](reading, _target(trigger.value)))

    def _missed(self, trigger: m.Missed) -> bool:
        if trigger.clause.name == "report":
            self.readings.append(f"report missed: {UNMEASURED_REPORT}")
            return False
        longest = 0
        for commitment in self.goals if trigger.clause.name == "goal" else self.commitments:
            if commitment["per"] != trigger.unit:
                continue
            streak = 0
            for period in commitment["periods"]:
                streak = streak + 1 if period["counts_as_miss"] else 0
                longest = max(longest, streak)
        self.readings.append(f"longest run of counted misses of {trigger.clause.name}: "
                             f"{longest} {trigger.unit}{'' if longest == 1 else 's'}")
        return longest >= int(trigger.count.value)

    def _reading(self, metric: m.Metric) -> float | None:
        evaluation = self.measures.evaluation
        if isinstance(metric, m.RateMetric):
            source = self._members(metric.source.value)
            target = self._members(metric.target.value) & source
            return 100 * target.sum() / source.sum() if source.sum() else None
        results = [r for r in evaluation.clauses if r.clause == metric.clause.name]
        if isinstance(metric, m.AttainmentMetric):
            met = sum(r.count(MET) for r in results)
            decided = met + sum(int(np.count_nonzero(r.status == 1)) for r in results)
            return 100 * met / decided if decided else None
        # touches per lead not yet connected (a time is read by `_time_statistic`)
        values = np.concatenate(self.measures.attempts_not_connected())
        if len(values) == 0:
            return None
        return float(_STATISTICS[metric.statistic](values))

    def _members(self, name: str) -> np.ndarray:
        """The leads of a rate's step: the funnel's own rule (`PeriodMeasures.step_members`)."""
        return self.measures.step_members(name, self.stages_now)


_COMPARE = {"==": lambda a, b: a == b, "!=": lambda a, b: a != b, "<": lambda a, b: a < b,
            "<=": lambda a, b: a <= b, ">": lambda a, b: a > b, ">=": lambda a, b: a >= b}


_STATISTICS = {"mean": np.mean, "median": np.median, "p90": lambda v: np.percentile(v, 90)}
_SECONDS_PER_DAY = US_PER_DAY // US_PER_SECOND


def _target(value: m.Value, unit_hours: float | None = None) -> float:
    """What a metric is compared with: a percentage or a number as written, a duration in
    seconds of the time it is written in: elapsed (`2 days` is 48 hours), or open time,
    `unit_hours` (`open_day_hours`) a unit of it (`1 business day` is one open day)."""
    if not isinstance(value, m.Duration):
        return float(value.value)
    if unit_hours is None:
        return float(value.amount) * UNIT_DAYS[value.unit] * _SECONDS_PER_DAY
    return float(value.amount) * unit_hours * 3600


def _calendar_name(policy: m.Policy, value: m.Duration) -> str:
    """The calendar a business duration is counted on, as the report names it."""
    name = value.calendar.value if value.calendar else policy.calendars[0].name.value
    return f"calendar {name}"


def _time_shown(seconds: float, policy: m.Policy, value: m.Duration,
                unit_hours: float | None) -> str:
    """A time statistic as compared: in hours or days of elapsed time, or in business hours
    on the calendar, with the open hours a business day stands for when the trigger says
    days."""
    hours = seconds / 3600
    if not value.business:
        return f"{hours:.1f} hours" if hours < 48 else f"{hours / 24:.1f} days"
    shown = f"{hours:.1f} business hours on {_calendar_name(policy, value)}"
    if value.unit == "day":
        shown += f" (a business day is {unit_hours:g} of them)"
    return shown


def _shown(metric: m.Metric, reading: float) -> str:
    if isinstance(metric, m.RateMetric | m.AttainmentMetric):
        return f"{reading:.1f}%"
    return f"{reading:.2f} touches"


def triggers(policy: m.Policy, check: TriggerCheck,
             strikes: list[dict] | None = None) -> list[dict]:
    """What the agreement sets off on its own account, in the policy's order: `cancel when`,
    `review when`, `review every` (a review that has come due) and the `strikes` limit (an
    owner who reached it). The one list of "what fired" that the text, the JSON and the page
    all read, so none can say a trigger fired that another leaves out."""
    rows = []
    for statement in policy.statements:
        keyword, rest = header_line(statement)
        rule = f"{keyword} {rest}"
        if isinstance(statement, m.Cancel | m.ReviewWhen):
            check.readings, check.breaches = [], []
            fired = check.holds(statement.when)
            rows.append({"statement": "cancel" if isinstance(statement, m.Cancel) else "review",
                         "when": trigger_text(statement.when), "rule": rule,
                         "triggered": fired, "readings": list(check.readings)})
            if any(isinstance(t, m.MissedCount) for t in m.walk_trigger(statement.when)):
                rows[-1]["breaches"] = list(check.breaches)  # per party or team and period
        elif isinstance(statement, m.ReviewEvery):
            rows.append(_review_every(statement, policy, check.measures, rule))
        elif isinstance(statement, m.StrikeRule):
            rows.append(_strike_limit(statement, strikes or [], rule))
    return rows


def _review_every(statement: m.ReviewEvery, policy: m.Policy, measures: PeriodMeasures,
                  rule: str) -> dict:
    """A scheduled review fires when its date has come: every COUNT UNIT from the start of
    the agreement (its `effective` date, else the first handoff), up to the as-of date and
    while the agreement is in force."""
    first = measures.first_date
    until = policy.effective.until.value if policy.effective and policy.effective.until \
        else None
    last = min(measures.as_of_date, until) if until else measures.as_of_date
    count = int(statement.count.value)
    due: list[dt.date] = []
    upcoming = _after(first, statement.unit, count)
    while upcoming <= last:
        due.append(upcoming)
        upcoming = _after(first, statement.unit, count * (len(due) + 1))
    readings = [f"reviews due: {len(due)}" + (f", the latest on {due[-1].isoformat()}"
                                               if due else f" (from {first.isoformat()})"),
                f"the agreement ends on {until.isoformat()}, before another review"
                if until and upcoming > until else f"next review due {upcoming.isoformat()}"]
    return {"statement": "review", "when": f"every {counted(count, statement.unit)}",
            "rule": rule, "triggered": bool(due), "readings": readings}


def _after(start: dt.date, unit: str, count: int) -> dt.date:
    """The date `count` units after `start` (months keep the day, clamped to the month)."""
    if unit in ("day", "week"):
        return start + dt.timedelta(days=count * (7 if unit == "week" else 1))
    months = count * {"month": 1, "quarter": 3, "year": 12}[unit]
    index = start.month - 1 + months
    year, month = start.year + index // 12, index % 12 + 1
    return dt.date(year, month, min(start.day, calendar_module.monthrange(year, month)[1]))


def _strike_limit(rule: m.StrikeRule, strikes: list[dict], text: str) -> dict:
    """A `strikes N per PERIOD then ...` fires for each owner whose strikes in one period
    reached N (the rows of `consequences.strike_counts`)."""
    limit = int(rule.count.value)
    strikes = [s for s in strikes if (s["period"], s["limit"]) == (rule.per, limit)]
    reached = [s for s in strikes if s["triggered"]]
    then = f"escalate to {rule.escalate_to.value}" if rule.escalate_to else rule.then
    readings = [f"{s['owner']}: {s['strikes']} strikes in the {s['period']} from {s['start']}"
                for s in reached]
    if not reached:
        most = max((s["strikes"] for s in strikes), default=0)
        readings.append(f"most strikes of one owner in a {rule.per}: {most}")
    return {"statement": then, "when": f"an owner has {counted(limit, 'strike')} in a "
                                       f"{rule.per}",
            "rule": text, "triggered": bool(reached), "readings": readings}
