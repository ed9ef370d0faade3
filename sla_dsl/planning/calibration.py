"""Calibration: the scenario a real history implies, so that a simulation starts from the team
and the leads the company really has rather than from guesses.

The history is read as the evaluator reads it (`evaluate` gives each lead's handoff, block,
segment and the policy's stage definitions as the lead stands at the end); from it:

- arrivals: the handed-off leads (the created ones when nothing is handed off) as a Poisson stream
  with a rate, a 7 x 24 weekday-by-hour profile in the policy's timezone and monthly factors,
  fitted together (iterative proportional fitting: the Poisson model's maximum likelihood) so
  that the scenario expects exactly the history's count on each weekday, hour and month;
- the mix of the handed-off leads over the policy's handoff blocks;
- work time as a distribution (`sla_dsl.planning.fitting`), from back-to-back attempts;
- the response delay (handoff to first attempt), fitted and reported but not written: it is
  elapsed time, mostly waiting for the calendar to open and for a free rep, which the simulator
  plays itself, while the scenario's `work.response` is rep time, which a history does not
  record (`response_open_hours` says how much of the delay fell in open hours);
- the funnel: connect per attempt, connected -> SQL -> opportunity -> won, deal size, sales cycle;
- team sizes: the distinct actors who were assigned or touched each team's leads.

Goodness of fit is judged where a test can fail: arrivals by weekday and by hour against a flat
week (is the profile needed?), each day's count against the fitted stream (are arrivals as
steady as a Poisson stream, or burstier?), and KS tests of each fitted delay.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

import numpy as np
from scipy import stats

from sla_dsl.business_time.calendar import calendar_for
from sla_dsl.business_time.open_time import open_time_between_many
from sla_dsl.business_time.zones import (
    US_PER_DAY,
    US_PER_HOUR,
    US_PER_SECOND,
    date_of,
    day_start_us,
    wall_readings,
)
from sla_dsl.evaluation.replay import NONE, Evaluation, evaluate
from sla_dsl.evaluation.routing import handoff_levels
from sla_dsl.history.columns import EVENT_CODE, NO_ACTOR, History
from sla_dsl.language import model as m
from sla_dsl.planning.fitting import Fit, fit_all
from sla_dsl.planning.scenario import LEAST_WORK_SECONDS, ScenarioError, read_distribution
from sla_dsl.simulator.context import working_calendars
from sla_dsl.simulator.routing import blocks_of

MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
BACK_TO_BACK_HOURS = 1.0
MIN_WORK_SAMPLE = 10
_ATTEMPTS = np.array([EVENT_CODE["touch"], EVENT_CODE["connected"]])
# how each written distribution is worded, by its scenario key
WRITTEN_AS: dict[str, Callable[[Fit], str]] = {
    "work.touch": Fit.time_words,
    "outcomes.deal_size": Fit.words,
    "outcomes.sales_cycle": lambda fit: fit.words("days"),
}


class CalibrationError(Exception):
    """A history that implies no scenario at all (no leads, no arrivals), said with the fix."""


@dataclass
class Arrivals:
    source: str  # "handoff" or "created": which event the stream is made of
    count: int
    first_day: dt.date
    days: int
    rate_per_hour: float  # in a month whose factor is 1
    profile: np.ndarray  # 7 x 24 relative weights, mean 1
    months: dict[str, float]  # factor per observed calendar month
    dates_only: bool  # every arrival at the start of its day: the history has dates, no times
    by_weekday: np.ndarray  # observed counts
    by_hour: np.ndarray
    expected_weekday: np.ndarray  # what the fitted scenario expects over the same days
    expected_hour: np.ndarray
    weekday_flat: tuple[float, float]  # chi-square and p against a flat week
    hour_flat: tuple[float, float] | None
    daily: tuple[float, int, float]  # chi-square, degrees of freedom, p of the daily counts


@dataclass
class Funnel:
    handed_off: int
    attempts: int
    connected_attempts: int
    connected_leads: int
    sql: int | None  # None: the history cannot tell
    opportunity: int | None
    won: int
    implied_connects: int  # leads with no connect recorded that a later stage shows connected
    connect: float | None  # per attempt, fitted: see `_connect_per_attempt`
    qualify: float | None
    opportunity_rate: float | None  # SQL -> opportunity, over the later level's connects
    win: float | None
    later: LaterConnects | None = None  # the leads handed on to a later level, if any


@dataclass(frozen=True)
class LaterConnects:
    """The leads a later level of handoffs took (an MDR's SQLs to the advisors), how many
    of them it connected, and the chance per attempt that connects as many in the model."""

    leads: int
    connected: int
    connect: float
    connected_share: float  # the model's expected share connected: the opportunity rate's base


@dataclass
class Calibration:
    policy: str | None
    timezone: str
    leads: int
    arrivals: Arrivals
    mix: dict[str, float]
    unsegmented: float  # share of handed-off leads that no handoff block takes
    teams: dict[str, dict]
    response: list[Fit]  # the handoff-to-first-attempt delay, elapsed: reported, not written
    response_open_hours: float | None  # its mean in the open hours of the reps' calendars
    work: list[Fit]  # only fits a scenario may hold, best first
    work_sample: int
    work_too_short: int  # back-to-back attempts under a second apart, left out of the sample
    funnel: Funnel
    deal_size: list[Fit]
    sales_cycle: list[Fit]
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class SimulatorView:
    """The simulator's answer on a calibrated scenario (`calibration_check`): whether `sla
    simulate` runs it, and the room its reps leave for a response."""

    refusal: str | None  # what `sla simulate` says refusing it; None: it runs
    response_room_hours: float | None  # the mean work.response at which a team is overloaded

    def to_dict(self) -> dict:
        return {"runs": self.refusal is None, "refusal": self.refusal,
                "response_room_hours": None if self.response_room_hours is None
                else round(self.response_room_hours, 4)}


# ---------------------------------------------------------------- local time, vectorised


def local_parts(us: np.ndarray, timezone: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(local day number since 1970-01-01, weekday 0 = Monday, hour) of each instant."""
    local = wall_readings(us, ZoneInfo(timezone))
    days = local // US_PER_DAY
    return days, (days + 3) % 7, (local % US_PER_DAY) // US_PER_HOUR


def _month_index(days: np.ndarray) -> np.ndarray:
    return days.astype("datetime64[D]").astype("datetime64[M]").astype(int) % 12


def _starts_of_days(us: np.ndarray, days: np.ndarray, timezone: str) -> np.ndarray:
    """Whether each instant is the first moment of its local day (midnight, or the first
    minute after a midnight the clocks skipped)."""
    zone = ZoneInfo(timezone)
    firsts = {int(day): day_start_us(date_of(int(day)), zone) for day in np.unique(days)}
    return us == np.array([firsts[int(d)] for d in days], dtype=np.int64)


# ---------------------------------------------------------------- arrivals


def fit_arrivals(at: np.ndarray, timezone: str, source: str) -> Arrivals:
    if len(at) == 0:
        raise CalibrationError("the history has no handed-off or created leads to fit "
                               "arrivals to\n  help: check the history's handoff events")
    days, weekday, hour = local_parts(at, timezone)
    dates_only = bool(_starts_of_days(at, days, timezone).all())
    first, last = int(days.min()), int(days.max())
    span = np.arange(first, last + 1)
    span_weekday, span_month = (span + 3) % 7, _month_index(span)
    month = _month_index(days)
    count = len(at)
    # exposure: days of each weekday in each calendar month (each day offers every hour once)
    exposure = np.zeros((7, 12))
    np.add.at(exposure, (span_weekday, span_month), 1)
    cells = np.zeros((7, 24))
    if dates_only:  # no hours in the data: spread each day's arrivals evenly over it
        np.add.at(cells, weekday, 1 / 24)
    else:
        np.add.at(cells, (weekday, hour), 1)
    by_month = np.bincount(month, minlength=12).astype(float)
    observed = exposure.sum(axis=0) > 0
    profile, factors = np.ones((7, 24)), np.where(observed, 1.0, 0.0)
    for _ in range(50):  # iterative proportional fitting of rate x profile x month
        per_weekday = exposure @ factors  # days of each weekday, weighted by month factors
        profile = np.divide(cells, per_weekday[:, None], out=np.zeros_like(cells),
                            where=per_weekday[:, None] > 0)
        per_month = (profile.sum(axis=1)[:, None] * exposure).sum(axis=0)
        factors = np.divide(by_month, per_month, out=np.zeros(12), where=per_month > 0)
    month_days = exposure.sum(axis=0)
    mean_factor = float((factors * month_days).sum() / month_days.sum())
    factors = factors / mean_factor if mean_factor > 0 else factors
    profile = profile * mean_factor
    rate = float(profile.mean())
    weights = profile / rate if rate > 0 else np.ones((7, 24))
    months = {MONTHS[i]: float(factors[i]) for i in range(12) if observed[i]}

    expected_cells = rate * weights * (exposure @ factors)[:, None]
    by_weekday = np.bincount(weekday, minlength=7).astype(float)
    by_hour = np.bincount(hour, minlength=24).astype(float)
    flat_weekday = exposure @ factors
    weekday_flat = _chi_square(by_weekday, flat_weekday / flat_weekday.sum() * count)
    hour_flat = None if dates_only else _chi_square(by_hour, np.full(24, count / 24))
    daily = _daily_dispersion(days, span, span_weekday, span_month, rate, weights, factors,
                              dates_only, months_used=int(observed.sum()))
    return Arrivals(source, count, date_of(int(first)),
                    len(span), rate, weights, months, dates_only, by_weekday, by_hour,
                    expected_cells.sum(axis=1), expected_cells.sum(axis=0), weekday_flat,
                    hour_flat, daily)


def _chi_square(observed: np.ndarray, expected: np.ndarray) -> tuple[float, float]:
    keep = expected > 0
    statistic = float(((observed[keep] - expected[keep]) ** 2 / expected[keep]).sum())
    return statistic, float(stats.chi2.sf(statistic, max(int(keep.sum()) - 1, 1)))


def _daily_dispersion(days, span, span_weekday, span_month, rate, weights, factors,
                      dates_only: bool, months_used: int) -> tuple[float, int, float]:
    """Pearson's chi-square of each day's count against what the fitted stream expects that
    day: near its degrees of freedom for a Poisson stream, far above them for bursts."""
    observed = np.bincount(days - span[0], minlength=len(span)).astype(float)
    expected = rate * weights.sum(axis=1)[span_weekday] * factors[span_month]
    keep = expected > 0
    statistic = float(((observed[keep] - expected[keep]) ** 2 / expected[keep]).sum())
    fitted = 7 + months_used - 1  # a day's expectation reads only its weekday's and month's
    freedom = max(int(keep.sum()) - fitted, 1)
    return statistic, freedom, float(stats.chi2.sf(statistic, freedom))


# ---------------------------------------------------------------- per-lead facts


def _first_per_lead(lead: np.ndarray, at: np.ndarray, size: int) -> np.ndarray:
    out = np.full(size, NONE, dtype=np.int64)
    if len(lead):
        first = np.r_[True, lead[1:] != lead[:-1]]
        out[lead[first]] = at[first]
    return out


def _after_handoff(history: History, handoff_at: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """Rows of events of these kinds at or after their lead's handoff (events are sorted by
    lead and time, so the rows stay sorted)."""
    rows = np.flatnonzero(np.isin(history.event, codes))
    start = handoff_at[history.lead[rows]]
    return rows[(start != NONE) & (history.at[rows] >= start)]


def _reached(evaluation: Evaluation, stage: str) -> np.ndarray | None:
    """Per lead, whether it reached the stage: a `stage` event naming it, or the policy's
    definition holding as the lead stands at the end. None when neither can say (no lead
    reaches it: the definition's fields are not in the history)."""
    history = evaluation.history
    size = len(history.lead_ids)
    reached = np.zeros(size, dtype=bool)
    column = history.fields.get("stage")
    if column is not None:
        rows = np.flatnonzero((history.event == EVENT_CODE["stage"]) & (column == stage))
        reached[history.lead[rows]] = True
    names = {d.name.value for d in evaluation.policy.definitions_of("stage")}
    if stage in names:
        reached |= np.asarray(evaluation.now.definition("bare", stage), dtype=bool)
    return reached if reached.any() else None


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def funnel(evaluation: Evaluation) -> Funnel:
    history = evaluation.history
    handed = evaluation.handoff_at != NONE
    size = len(handed)
    attempts = _after_handoff(history, evaluation.handoff_at, _ATTEMPTS)
    connected_rows = attempts[history.event[attempts] == EVENT_CODE["connected"]]
    connected = np.zeros(size, dtype=bool)
    connected[history.lead[connected_rows]] = True
    if len(attempts) == 0:  # no attempts recorded: the chain starts at the handoff
        connected = handed.copy()
    won = np.zeros(size, dtype=bool)
    won[history.lead[history.event == EVENT_CODE["won"]]] = True
    won &= handed
    sql, opportunity = _reached(evaluation, "sql"), _reached(evaluation, "opportunity")
    # a later stage implies the earlier ones: a won lead was an opportunity, an SQL, connected
    nothing = np.zeros(size, dtype=bool)
    opened = (nothing if opportunity is None else opportunity) | won
    qualified = (nothing if sql is None else sql) | opened
    implied = int((qualified & ~connected & handed).sum())
    connected = connected | qualified
    if sql is None:  # the history cannot tell: every connected lead passes
        qualified = connected
    if opportunity is None:
        opened = qualified
    later = _later_connects(evaluation, opened)
    opportunity_rate = _rate(int((opened & handed).sum()), int((qualified & handed).sum()))
    if later is not None and opportunity_rate is not None and later.connected_share > 0:
        # the model's opportunity follows the later level's connect: SQL -> opportunity is
        # that connect's share times the rate written
        opportunity_rate = min(1.0, opportunity_rate / later.connected_share)
    return Funnel(
        handed_off=int(handed.sum()), attempts=len(attempts),
        connected_attempts=len(connected_rows), connected_leads=int((connected & handed).sum()),
        sql=None if sql is None else int((qualified & handed).sum()),
        opportunity=None if opportunity is None else int((opened & handed).sum()),
        won=int(won.sum()), implied_connects=implied,
        connect=_connect_per_attempt(evaluation, handed, connected) if len(attempts) else None,
        qualify=_rate(int((qualified & handed).sum()), int((connected & handed).sum())),
        opportunity_rate=opportunity_rate,
        win=_rate(int((won & opened).sum()), int((opened & handed).sum())), later=later)


def _connect_per_attempt(evaluation: Evaluation, handed: np.ndarray, connected: np.ndarray
                         ) -> float:
    """The chance an attempt connects under which the simulator, making each first-level
    block's attempts (its cadence's count, else one; none for a lead no block works), connects
    as many of the handed-off leads as the history did, counting those a later stage shows
    connected.

    `connected` events over attempts is not that chance: a history records a connect where
    a rep logged one, and 44 of Company X's 119 connected leads went on to an SQL with none
    logged. Written as the rate, the simulated funnel made two thirds of the history's SQLs."""
    attempts = {b.handoff.label: b.attempts for b in blocks_of(evaluation.policy)
                if b.level == 0}
    per_lead = np.array([attempts.get(label, 0) for label in evaluation.handoff[handed]],
                        dtype=np.int64)
    return _fitted_chance(per_lead, int((connected & handed).sum()))


def _later_connects(evaluation: Evaluation, opened: np.ndarray) -> LaterConnects | None:
    """The later levels' leads (each once, in its first such block), connected when an
    attempt after that block's handoff connected or the lead became an opportunity: New
    Breed's advisors connect every SQL the MDRs hand them (a discovery call is booked), where
    the MDRs connect one attempt in five. None for an agreement of one level."""
    history = evaluation.history
    size = len(history.lead_ids)
    start, tries = _later_starts(evaluation)
    taken = start != NONE
    if not taken.any():
        return None
    rows = np.flatnonzero(history.event == EVENT_CODE["connected"])
    rows = rows[taken[history.lead[rows]]]  # (an MDR's own prospect has no first handoff)
    connected = np.zeros(size, dtype=bool)
    connected[history.lead[rows][history.at[rows] >= start[history.lead[rows]]]] = True
    connected = (connected | opened) & taken
    chance = _fitted_chance(tries[taken], int(connected.sum()))
    share = _expected_connects(tries[taken], chance) / int(taken.sum())
    return LaterConnects(int(taken.sum()), int(connected.sum()), chance, share)


def _later_starts(evaluation: Evaluation) -> tuple[np.ndarray, np.ndarray]:
    """Per lead, when a later level took it (its first such block's handoff; NONE: none) and
    the attempts that block makes."""
    size = len(evaluation.history.lead_ids)
    start = np.full(size, NONE, dtype=np.int64)
    tries = np.zeros(size, dtype=np.int64)
    for block in blocks_of(evaluation.policy):
        if block.level == 0:
            continue
        leads = evaluation.leads_of(block.handoff.label)
        leads = leads[start[leads] == NONE]
        start[leads] = evaluation.block_start[block.handoff.label][leads]
        tries[leads] = block.attempts
    return start, tries


def _expected_connects(attempts: np.ndarray, chance: float) -> float:
    """How many of the leads making `attempts` each (0: none) connect, in expectation."""
    counts, sizes = np.unique(attempts[attempts > 0], return_counts=True)
    if chance >= 1:
        return float(sizes.sum())
    return float((sizes * -np.expm1(counts * np.log1p(-chance))).sum())


def _fitted_chance(attempts: np.ndarray, target: int) -> float:
    """The chance per attempt under which leads making `attempts` each connect `target` of
    them in expectation: bisected, as the expected count grows with the chance. 1.0 when even
    a connect on every attempt falls short (leads no block works)."""
    if target >= _expected_connects(attempts, 1.0):
        return 1.0
    low, high = 0.0, 1.0
    for _ in range(60):
        middle = (low + high) / 2
        low, high = (middle, high) if _expected_connects(attempts, middle) < target \
            else (low, middle)
    return (low + high) / 2


def _first_attempts(evaluation: Evaluation) -> np.ndarray:
    """Per lead, its first attempt at or after its handoff (NONE: no attempt)."""
    history = evaluation.history
    rows = _after_handoff(history, evaluation.handoff_at, _ATTEMPTS)
    return _first_per_lead(history.lead[rows], history.at[rows], len(history.lead_ids))


def response_hours(evaluation: Evaluation) -> np.ndarray:
    """Hours from each lead's handoff to its first attempt (elapsed, not business, hours)."""
    first = _first_attempts(evaluation)
    touched = first != NONE
    return (first[touched] - evaluation.handoff_at[touched]) / US_PER_HOUR


def response_open_hours(evaluation: Evaluation) -> float | None:
    """The mean open hours in the handoff-to-first-attempt delays: open on the calendar the
    simulator's reps of the lead's block work by (the policy's calendar for a lead in no block).
    The rest of the delay is closed hours, which the simulator plays again from the calendar;
    the open part is waiting for a free rep and reacting, which a history cannot tell apart."""
    first = _first_attempts(evaluation)
    touched = np.flatnonzero(first != NONE)
    if len(touched) == 0:
        return None
    calendars = working_calendars(evaluation.policy)
    blocks = evaluation.handoff[touched]
    total = 0
    for label in set(blocks.tolist()):
        leads = touched[blocks == label]
        calendar = calendars.get(label) or calendar_for(evaluation.policy)
        total += int(open_time_between_many(evaluation.handoff_at[leads], first[leads],
                                            calendar).sum())
    return total / len(touched) / US_PER_HOUR


def back_to_back_gaps(history: History, timezone: str) -> np.ndarray:
    """Back-to-back attempts: the µs from one attempt of a rep to their next on the same local
    day, when under BACK_TO_BACK_HOURS. A history records attempts as instants, not spans, so
    this is the closest it comes to how long an attempt takes (an upper bound: any idle time
    between the two is in it)."""
    rows = np.flatnonzero(np.isin(history.event, _ATTEMPTS) & (history.actor != NO_ACTOR))
    order = np.lexsort((history.at[rows], history.actor[rows]))
    actor, at = history.actor[rows][order], history.at[rows][order]
    if len(at) < 2:
        return np.zeros(0, dtype=np.int64)
    days, _, _ = local_parts(at, timezone)
    gap = np.diff(at)
    same = (actor[1:] == actor[:-1]) & (days[1:] == days[:-1])
    return gap[same & (gap > 0) & (gap <= BACK_TO_BACK_HOURS * US_PER_HOUR)]


def work_hours(gaps: np.ndarray) -> np.ndarray:
    """The back-to-back gaps that can stand for an attempt's work, in hours: those of at least
    LEAST_WORK_SECONDS. Two attempts logged under a second apart were recorded together (a
    call and its log, a dialer's burst), not worked one after the other, and a work time under
    a second is one the simulator cannot draw (it refuses a scenario holding one)."""
    return gaps[gaps >= LEAST_WORK_SECONDS * US_PER_SECOND] / US_PER_HOUR


def writable(fits: list[Fit], key: str, notes: list[str]) -> list[Fit]:
    """The fits a scenario may hold under `key`, best first: each one's words as written read
    back by the scenario loader itself, which holds them to the key's range (a work time of at
    least a second and at most 30 days, a gamma shape it can draw). A fit it would refuse is
    left out, with a note, so that the scenario written is one `sla simulate` reads."""
    kept = []
    for fit in fits:
        words = WRITTEN_AS[key](fit)
        try:
            read_distribution("the calibrated scenario", key, words)
        except ScenarioError as error:
            reason = str(error).splitlines()[0].split(": ", 2)[-1]
            notes.append(f"{key}: the {fit.family} fit is not written: {reason}")
            continue
        kept.append(fit)
    return kept


def team_sizes(evaluation: Evaluation, timezone: str) -> dict[str, dict]:
    """Per team, the distinct actors who were assigned or made attempts on its leads, over
    the whole history and per month (the median month says how many worked at once). A
    team's leads are those in its blocks, at whatever level, from their handoff to the block
    until the lead is handed on to the next level: an MDR's SQL is the advisors' from the
    MDR's handoff on (counted by the first level's block, New Breed's three advisors were
    counted as MDRs and their own team as nobody)."""
    history = evaluation.history
    kinds = np.array([EVENT_CODE[k] for k in ("assigned", "touch", "connected")])
    rows = np.flatnonzero(np.isin(history.event, kinds) & (history.actor != NO_ACTOR))
    lead, at = history.lead[rows], history.at[rows]
    levels = handoff_levels(evaluation.policy)
    onward = {h.label: evaluation.block_start.get(levels[i + 1][0].label)
              for i, level in enumerate(levels[:-1]) for h in level}
    teams: dict[str, dict] = {}
    for handoff in evaluation.policy.handoffs:
        if handoff.receiver is None or handoff.team is None:
            continue
        member = np.zeros(len(history.lead_ids), dtype=bool)
        member[evaluation.leads_of(handoff.label)] = True
        start = evaluation.block_start.get(handoff.label, evaluation.handoff_at)
        block = member[lead] & (at >= start[lead])
        handed_on = onward.get(handoff.label)
        if handed_on is not None:
            block &= (handed_on[lead] == NONE) | (at < handed_on[lead])
        mine = rows[block]
        entry = teams.setdefault(handoff.team, {"actors": set(), "by_month": {},
                                                "handoffs": []})
        entry["handoffs"].append(handoff.label)
        entry["actors"] |= {str(a) for a in history.actors[np.unique(history.actor[mine])]}
        if len(mine):
            days, _, _ = local_parts(history.at[mine], timezone)
            months = days.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
            pairs = np.unique(np.stack([months, history.actor[mine]]), axis=1)
            for month, actor in pairs.T.tolist():
                entry["by_month"].setdefault(month, set()).add(actor)
    return {name: {"reps": len(e["actors"]), "actors": sorted(e["actors"]),
                   "handoffs": e["handoffs"],
                   "median_month": float(np.median([len(s) for s in e["by_month"].values()]))
                   if e["by_month"] else None}
            for name, e in teams.items()}


def deal_sizes(history: History) -> np.ndarray:
    column = history.fields.get("amount")
    if column is None:
        return np.zeros(0)
    rows = np.flatnonzero((history.event == EVENT_CODE["won"]) & (column != None))  # noqa: E711
    values = []
    for text in column[rows]:
        try:
            values.append(float(str(text).replace(",", "")))
        except ValueError:
            continue
    return np.array(values, dtype=float)


def cycle_days(evaluation: Evaluation) -> np.ndarray:
    """Days from the connect the model starts a deal's clock at to the win: the first
    connect after the handoff, or after a later level's (the advisor's call, in New Breed);
    the handoff itself when no connect was logged. The model times a win from that connect
    (docs/simulate.md), so a cycle counted from marketing's handoff held New Breed's weeks
    before the advisors' calls twice: a mean of 34.1 days where the advisors took 27.0."""
    history = evaluation.history
    size = len(history.lead_ids)
    rows = _after_handoff(history, evaluation.handoff_at, np.array([EVENT_CODE["won"]]))
    first = _first_per_lead(history.lead[rows], history.at[rows], size)
    later, _ = _later_starts(evaluation)
    start = np.where(later != NONE, later, evaluation.handoff_at)
    rows = _after_handoff(history, start, np.array([EVENT_CODE["connected"]]))
    connected = _first_per_lead(history.lead[rows], history.at[rows], size)
    begin = np.where((connected != NONE) & (connected <= first), connected, start)
    begin = np.where(begin <= first, begin, evaluation.handoff_at)
    won = first != NONE
    return (first[won] - begin[won]) / US_PER_DAY


def block_mix(evaluation: Evaluation) -> tuple[dict[str, float], float]:
    """Shares of the handed-off leads per handoff block (the block the evaluator applies,
    by the lead's segment or stage at its handoff), and the share no block takes."""
    handed = evaluation.handoff_at != NONE
    if not handed.any():
        return {}, 0.0
    blocks = evaluation.handoff[handed]
    counts = {h.label: int(np.count_nonzero(blocks == h.label))
              for h in evaluation.policy.handoffs}
    matched = sum(counts.values())
    shares = {label: count / matched for label, count in counts.items() if count}
    return shares if matched else {}, 1 - matched / len(blocks)


# ---------------------------------------------------------------- the whole calibration


def calibrate(policy: m.Policy, history: History) -> Calibration:
    """The scenario's figures from a history, with what each came from."""
    timezone = policy.timezone or "UTC"
    # the world as the history shows it, whatever period the agreement is in force for
    evaluation = evaluate(policy, history, in_force_only=False)
    notes: list[str] = []
    handed = evaluation.handoff_at != NONE
    if handed.any():
        arrivals = fit_arrivals(np.sort(evaluation.handoff_at[handed]), timezone, "handoff")
    else:
        created = np.flatnonzero(history.event == EVENT_CODE["created"])
        arrivals = fit_arrivals(np.sort(history.at[created]), timezone, "created")
        notes.append("no lead is handed off: arrivals are the created leads")
    mix, unsegmented = block_mix(evaluation)
    gaps = back_to_back_gaps(history, timezone)
    work = work_hours(gaps)
    cal = Calibration(
        policy=policy.title, timezone=timezone, leads=len(history.lead_ids),
        arrivals=arrivals, mix=mix, unsegmented=unsegmented,
        teams=team_sizes(evaluation, timezone), response=fit_all(response_hours(evaluation)),
        response_open_hours=response_open_hours(evaluation),
        work=writable(fit_all(work), "work.touch", notes)
        if len(work) >= MIN_WORK_SAMPLE else [],
        work_sample=len(work), work_too_short=len(gaps) - len(work),
        funnel=funnel(evaluation),
        deal_size=writable(fit_all(deal_sizes(history)), "outcomes.deal_size", notes),
        sales_cycle=writable(fit_all(cycle_days(evaluation)), "outcomes.sales_cycle", notes),
        notes=notes)
    if arrivals.days < 7:
        notes.append(f"the history covers {arrivals.days} days, less than a week: weekdays it "
                     "does not cover get no arrivals in the profile")
    if arrivals.dates_only:
        notes.append("the history has dates without times: the hour profile is flat and "
                     "response delays cannot be read to the hour")
    if cal.funnel.implied_connects and cal.funnel.attempts:
        notes.append(f"{cal.funnel.implied_connects} leads have no connect recorded but reached "
                     "a later stage; they count as connected (a later stage implies the earlier)")
    return cal
