"""`sla plan`'s first-touch estimate: each queue of reps worked through the scenario's own days.

Erlang C answers for a team that is always open and always as busy. A team with a calendar is
neither: the night's and the weekend's leads are all waiting at the opening, and the leads of
several blocks share the same reps. So the estimate follows what `sla simulate` models, solved
rather than sampled (`queueing.Backlog`, the birth-death chain's forward equations):

- the arrivals of the scenario (rate, weekday x hour profile, month multipliers) from its first
  day over its horizon, split between the blocks by `[arrivals.mix]`, else by the policy's own
  routing of a sample of leads drawn from `[arrivals.fields]` (a fixed seed: the plan repeats);
- the reps of each team working only while the team's calendar is open (its first block's
  clause calendar, as in the simulator); holidays and the closed hours are in the steps;
- a block dealt to reps (`assign round robin`, `assign to`) waits in each rep's own queue, in
  the shares the weights deal; a shared block in one queue of the whole team;
- the queue discipline: first touches of every block of a queue count against each other;
  follow-ups come after them (`first-touch-first`, `earliest-due-first`), or among them at the
  moments they fall due (`fifo`: `follow_up_plan`, many at the opening, settled in rounds with
  the queue's wait that decides when each attempt is made); under `earliest-due-first` a block
  with a shorter first-touch deadline goes first, and when the cadences' work fills the open
  hours the follow-ups are walked as under `fifo` but join where their window's end puts them
  among the first touches' deadlines, made only inside their window;
- a lead's first touch comes after those ahead of it are done, an Erlang wait in the reps'
  open time (exponential touches, `work.touch` plus `work.response`), met when it falls before
  the clause's deadline as `open_time.deadlines` counts it (business hours, business days,
  elapsed time, on the clause's own calendar);
- a multilevel agreement's second level gets the SQLs of the first (connect, decay and
  qualify as the scenario says), spread over the first level's open hours.

- a round robin with `cap N open leads`: the reps' places as a second queue, leads open until
  they connect or their cadence ends (`open_cap_plan`); a lead dealt after its deadline misses.

What it leaves out, and `sla simulate` has: touch times other than exponential (only the mean
is read), a follow-up already started when a first touch arrives (first-touch-first does not
interrupt), caps per period (`cap N per day`), the reps of a shared block in a team that also
deals, and a round robin's regular turns (each rep's own queue gets a chance share of the
leads, a Poisson split, which makes its backlog longer than the simulator's dealing in turn).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from zoneinfo import ZoneInfo

import numpy as np

from sla_dsl.business_time.calendar import BusinessCalendar, NeverOpen, calendar_for, to_timedelta
from sla_dsl.business_time.open_time import (
    add_open_time_many,
    deadlines,
    next_open_many,
    open_time_between_many,
)
from sla_dsl.business_time.zones import (
    US_PER_DAY,
    US_PER_HOUR,
    US_PER_SECOND,
    day_start_us,
    wall_readings,
)
from sla_dsl.evaluation.routing import handoff_levels
from sla_dsl.language import model as m
from sla_dsl.language.formatter import duration as duration_text
from sla_dsl.planning.follow_up_plan import Waiting, cadence_of, follow_up_arrivals
from sla_dsl.planning.grid import Grid
from sla_dsl.planning.open_cap_plan import open_cap_effect, open_cap_of
from sla_dsl.planning.queueing import (
    Backlog,
    reached_within,
    wait_behind,
    wait_second_moment,
)
from sla_dsl.planning.scenario import Scenario, WorkTime, quantiles
from sla_dsl.simulator.arrivals import lead_fields, rate_weights
from sla_dsl.simulator.errors import NotSimulated
from sla_dsl.simulator.outcomes import decays_to_run
from sla_dsl.simulator.routing import (
    blocks_of,
    check_mix,
    classify,
    named_reps,
    weights_of,
)

STEP_SECONDS = 1800  # the forward equations' step: half an hour (a quarter changes no figure)
MOST_LEADS = 512  # the state space's bound per queue (leads waiting or being touched): past
# it the backlog is a fluid one
_SAMPLE = 20_000  # leads drawn to share arrivals between blocks by the policy's routing
_SPILL = 1e-6  # probability at the bound above which the bound is doubled
ROUNDS = 12  # rounds settling when walked follow-ups are made and the queue's wait
SETTLED = 0.002  # attainment a round may move by and be settled (0.2 points)
RATE_GRID = 1 / 8  # leads an hour: the step of a queue's arrival rate with walked follow-ups
RESPONSES = 8  # response amounts standing for `work.response`'s spread (equal shares)
WAIT_CUT = 366 * US_PER_DAY  # past the horizon's end: where a wait is cut (`_elapsed`)
MOST_QUEUES = 16  # reps' own queues of one team solved: past it, reps of like shares grouped


@dataclass
class Stream:
    """One block's first attempts arriving on one queue."""

    block: int  # index in the planned blocks
    rates: np.ndarray  # leads an hour, per step
    priority: float  # under earliest-due-first, lower goes first


@dataclass
class Queue:
    """Reps taking leads from one queue: one rep's own, or the team's shared one."""

    servers: int
    copies: int  # reps with this very queue (a dealt block's equal shares)
    streams: list[Stream] = field(default_factory=list)
    extra: np.ndarray | None = None  # leads an hour of follow-ups competing (walked)


@dataclass
class Clock:
    """What a block's first-touch clause asks of a lead arriving at each step's middle."""

    counted: np.ndarray  # its deadline falls inside the horizon (else pending, as simulated)
    # per response amount standing for `work.response` (a row each, `RESPONSES` of them, or
    # one without a spread): the team's open hours from arrival to the deadline less that
    # response, and whether a free rep would touch it in time (the calendar opens before it)
    open_hours: np.ndarray
    free: np.ndarray


@dataclass
class Result:
    met: float = 0.0
    leads: float = 0.0
    open_wait: float = 0.0  # lead-weighted sums
    elapsed_wait: float = 0.0
    spilled: bool = False
    swing: float = 0.0  # under fifo, rounds that did not settle: the last two rounds apart

    def add(self, other: Result, copies: int) -> None:
        """Another queue's leads (`copies` reps with that very queue)."""
        self.met += other.met * copies
        self.leads += other.leads * copies
        self.open_wait += other.open_wait * copies
        self.elapsed_wait += other.elapsed_wait * copies
        self.spilled = self.spilled or other.spilled


def first_touch_rows(policy: m.Policy, scenario: Scenario, start: dt.date) -> list[dict]:
    """Per handoff with a `first touch` clause and a receiver, the estimated attainment over
    the scenario's horizon from `start`, and the mean wait in open and in elapsed hours."""
    blocks = [b for b in blocks_of(policy)]
    rows: dict[int, dict] = {}
    for block in blocks:
        first = block.first_within
        if first is None:
            continue
        reps = scenario.teams.get(block.team) if not isinstance(block.dealt, m.FixedOwner) \
            else 1
        rows[block.index] = {
            "handoff": block.handoff.label, "clause": "first touch",
            "within": duration_text(first), "team": block.team,
            "reps": reps, "queues": None, "load": None, "attainment": None,
            "mean_wait_open_hours": None, "mean_wait_hours": None, "open_cap": None,
            "note": None}
        if reps is None:
            rows[block.index]["note"] = f"no [team.{block.team}] in the scenario"
        elif scenario.touch is None:
            rows[block.index]["note"] = "no work.touch in the scenario"
    if scenario.touch is None or not rows:
        return list(rows.values())
    try:
        shares, mixed = _block_shares(policy, scenario, blocks)
    except NotSimulated as error:
        for row in rows.values():
            row["note"] = str(error)
        return list(rows.values())
    grid = _grid(policy, scenario, start)
    arrivals = _arrival_rates(policy, scenario, grid)
    levels = handoff_levels(policy)
    later = {h.label for level in levels[1:] for h in level}
    second = {h.label for h in levels[1]} if len(levels) > 1 else set()
    for block in blocks:
        row = rows.get(block.index)
        if row and row["note"] is None and block.handoff.label not in later \
                and not shares[block.index]:
            row["note"] = "the scenario sends this block no leads"
    waits: dict[int, float] = {}
    for level_blocks in ([b for b in blocks if b.handoff.label not in later],
                         [b for b in blocks if b.handoff.label in second]):
        rates = {b.index: arrivals * shares[b.index] for b in level_blocks
                 if b.handoff.label not in second}
        if level_blocks and level_blocks[0].handoff.label in second:
            rates = _second_level_rates(policy, scenario, blocks, level_blocks, shares, waits,
                                        arrivals, grid)
        for team in dict.fromkeys(b.team for b in level_blocks):
            mine = [b for b in level_blocks if b.team == team and b.index in rates]
            if any(b.index in rows and rows[b.index]["note"] is None for b in mine):
                try:
                    _plan_team(policy, scenario, mine, rates, grid, rows, waits)
                except NeverOpen as error:
                    for block in mine:
                        if block.index in rows:
                            rows[block.index]["note"] = f"no lead is touched: {error}"
    for label in sorted(later - second):
        for block in blocks:
            if block.handoff.label == label and block.index in rows:
                rows[block.index]["note"] = "a third or later level: not estimated"
    if not mixed:
        for row in rows.values():
            if row["note"] is None:
                row["note"] = "every lead counted against each block (no [arrivals.mix])"
    return list(rows.values())


def _block_shares(policy: m.Policy, scenario: Scenario, blocks: list) -> tuple[dict, bool]:
    """Each block's share of the arriving leads: the scenario's mix, else the policy's routing
    of drawn leads; a policy routing by nothing the scenario draws counts every lead."""
    try:
        check_mix(policy, scenario)
    except NotSimulated as error:
        if scenario.mix is not None:
            raise
        del error  # no mix nor fields to route by: the most each block could get
        return {b.index: 1.0 for b in blocks}, False
    rng = np.random.default_rng(0)
    labels = classify(policy, scenario, lead_fields(scenario, rng, _SAMPLE), _SAMPLE, rng) \
        if scenario.mix is None else None
    shares = {}
    for block in blocks:
        label = block.handoff.label
        if scenario.mix is not None:
            shares[block.index] = scenario.mix.get(label, 0.0)
        else:
            shares[block.index] = float(np.count_nonzero(labels == label)) / _SAMPLE
    return shares, True


def _grid(policy: m.Policy, scenario: Scenario, start: dt.date) -> Grid:
    origin = day_start_us(start, ZoneInfo(policy.timezone or "UTC"))
    steps = max(1, math.ceil(scenario.horizon_hours * 3600 / STEP_SECONDS))
    starts = origin + np.arange(steps, dtype=np.int64) * STEP_SECONDS * US_PER_SECOND
    return Grid(starts, STEP_SECONDS * US_PER_SECOND,
                origin + int(scenario.horizon_hours * 3600) * US_PER_SECOND)


def _arrival_rates(policy: m.Policy, scenario: Scenario, grid: Grid) -> np.ndarray:
    """Leads an hour at each step's middle: the rate by the profile's weekday and hour on the
    policy's wall clock and the month's multiplier, as the simulator's thinning draws them."""
    profile, months = rate_weights(scenario)
    mids = grid.mids
    wall = wall_readings(mids, ZoneInfo(policy.timezone or "UTC"))
    days = np.floor_divide(wall, US_PER_DAY)
    weekday = (days + 3) % 7
    hour = np.floor_divide(wall % (US_PER_DAY), US_PER_HOUR)
    month = days.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64) % 12 + 1
    return scenario.arrivals_per_hour * profile[weekday, hour] * months[month]


def _team_calendar(policy: m.Policy, first_block) -> BusinessCalendar:
    """The calendar the team's reps work: their first block's clause calendar (the simulator's
    rule)."""
    duration = first_block.first_within or first_block.window
    return calendar_for(policy, duration) if duration is not None else calendar_for(policy)


def _priority(block, discipline: str) -> float:
    if discipline != "earliest-due-first" or block.first_within is None:
        return 0.0
    within = block.first_within
    return to_timedelta(within.model_copy(update={"business": False})).total_seconds()


def _queues(policy: m.Policy, scenario: Scenario, team_blocks: list, rates: dict
            ) -> tuple[list[Queue], str]:
    """The team's queues: each rep's own when a block deals its leads (equal shares grouped
    as copies), else one queue for the whole team."""
    first = team_blocks[0]
    size = 1 if isinstance(first.dealt, m.FixedOwner) else scenario.teams[first.team]
    dealt = any(b.dealt is not None for b in team_blocks)
    discipline = scenario.discipline
    if not dealt or size == 1:
        queue = Queue(size, 1, [Stream(b.index, rates[b.index], _priority(b, discipline))
                                for b in team_blocks])
        return [queue], "one queue"
    names = _rep_names(team_blocks, size)
    per_rep = []
    for block in team_blocks:
        if block.dealt is None:
            per_rep.append(np.full(size, 1.0 / size))
        else:
            weights = weights_of(block, list(range(size)), names)
            per_rep.append(weights / weights.sum())
    groups, merged = _grouped(np.array(per_rep).T)
    queues = [Queue(1, copies, [Stream(b.index, rates[b.index] * share,
                                       _priority(b, discipline))
                                for b, share in zip(team_blocks, key, strict=True) if share])
              for key, copies in groups]
    if merged:
        return queues, (f"each rep's own queue ({size} reps' shares solved as {len(queues)} "
                        "groups of like shares)")
    return queues, "each rep's own queue"


def _grouped(shares: np.ndarray) -> tuple[list[tuple[tuple, int]], bool]:
    """The reps' queues to solve (rep x block `shares`): each distinct row of shares once,
    with the reps that have it. A queue costs the same whatever its share, and weights can
    give each of a thousand reps a share of their own, so past `MOST_QUEUES` the reps are
    sorted by their share of the leads and cut into `MOST_QUEUES` runs of about as many
    reps, each solved once at its reps' mean shares (and said so)."""
    groups: dict[tuple, int] = {}
    for row in shares:
        key = tuple(np.round(row, 12))
        groups[key] = groups.get(key, 0) + 1
    if len(groups) <= MOST_QUEUES:
        return list(groups.items()), False
    order = np.argsort(shares.sum(axis=1), kind="stable")
    return [(tuple(shares[run].mean(axis=0)), len(run))
            for run in np.array_split(order, MOST_QUEUES)], True


def _rep_names(team_blocks: list, size: int) -> list[str]:
    named = named_reps(team_blocks, team_blocks[0].team)[:size]
    return named + [f"{team_blocks[0].team} {k}" for k in range(len(named) + 1, size + 1)]


def _reps(count: int) -> str:
    return f"{count} rep" if count == 1 else f"{count} reps"


def _plan_team(policy: m.Policy, scenario: Scenario, team_blocks: list, rates: dict,
               grid: Grid, rows: dict, waits: dict) -> None:
    """Every queue of one team through the horizon; each block's attainment and waits."""
    calendar = _team_calendar(policy, team_blocks[0])
    starts = grid.starts
    ends = starts + grid.step_us
    open_s = open_time_between_many(starts, ends, calendar) / US_PER_SECOND
    if not open_s.any():
        raise NeverOpen(f"the calendar of team {team_blocks[0].team} is not open in the "
                        f"scenario's {scenario.horizon_hours / 24:.3g} days")
    open_first = next_open_many(starts, calendar) == starts
    reaction = scenario.response.mean_hours if scenario.response else 0.0
    service = scenario.touch.mean_hours + reaction
    variability = (_variance(scenario.touch) + (_variance(scenario.response)
                                                if scenario.response else 0.0)) / service ** 2
    responses = quantiles(scenario.response, RESPONSES) if scenario.response else [0.0]
    clocks = {b.index: _clock(policy, b, calendar, grid, responses) for b in team_blocks
              if b.first_within is not None}
    queues, how = _queues(policy, scenario, team_blocks, rates)
    share = open_s.sum() / (len(starts) * STEP_SECONDS)
    reps = sum(q.servers * q.copies for q in queues)
    arriving = sum(rates[b.index].mean() for b in team_blocks)
    results = {b.index: Result() for b in team_blocks}
    steps = grid.of_team(calendar)
    cadences = {b.index: cadence_of(policy, scenario, b, steps) for b in team_blocks} \
        if scenario.discipline != "first-touch-first" else {}
    work = _follow_up_work(scenario)
    for queue in queues:
        solve = partial(_solve, queue, clocks, service, reaction, variability, grid, open_s,
                        open_first, calendar)
        if scenario.discipline == "fifo":
            _solve_in_rounds(queue, cadences, steps, work, solve, results)
        elif scenario.discipline == "earliest-due-first":
            capacity = queue.servers / service * float(open_s.sum()) / 3600
            _solve_due_first(queue, cadences, steps, work, capacity, solve, results)
        else:
            solve(results)
    load = arriving / share * service
    for block in team_blocks:
        if block.index not in rows:
            continue
        row, result = rows[block.index], results[block.index]
        row["queues"] = how
        row["load"] = round(float(load), 3)
        if not result.leads:
            row["note"] = "no lead's deadline falls inside the scenario's days" \
                if rates[block.index].any() else "the scenario sends this block no leads"
            continue
        attainment = result.met / result.leads
        elapsed_wait = result.elapsed_wait / result.leads
        open_wait = result.open_wait / result.leads
        capped = None
        if open_cap_of(block) is not None and block.first_within is not None:
            capped = open_cap_effect(policy, scenario, block, _dealing_reps(block, scenario),
                                     rates[block.index], grid.mids, STEP_SECONDS / 3600,
                                     clocks[block.index].counted, elapsed_wait)
            row["open_cap"] = capped.document()
            attainment *= capped.in_time
            # a lead waiting for a place waits in elapsed time; in open time, by the share
            # of the horizon the team is open
            open_wait += capped.mean_wait_hours * share
            elapsed_wait += capped.mean_wait_hours
        row["attainment"] = round(attainment, 4)
        row["mean_wait_open_hours"] = round(open_wait, 3)
        row["mean_wait_hours"] = round(elapsed_wait, 3)
        waits[block.index] = elapsed_wait
        if capped is not None and capped.overloaded:
            row["note"] = (f"the open-lead cap binds: {capped.places} places ({_reps(reps)} x "
                           f"{capped.cap}) for leads open {capped.holding_hours:.1f} h each, "
                           f"fewer than arrive; the wait for a rep grows without end "
                           f"(sla simulate deals it lead by lead)")
        elif capped is not None and capped.spilled:
            row["note"] = ("the leads waiting for a rep under the open-lead cap passed the "
                           "estimate's bound: sla simulate deals them lead by lead")
        elif load >= reps:
            row["note"] = (f"overloaded: {load:.2f} reps' worth of work arrives for "
                           f"{_reps(reps)} in the open hours; the backlog grows without end")
        elif result.swing:
            row["note"] = (f"{scenario.discipline}: the follow-ups' due times and the "
                           f"queue's wait did not settle in {ROUNDS} rounds (the last two "
                           f"{100 * result.swing:.1f} points apart): the estimate is "
                           "approximate; sla simulate says")
        elif result.spilled:
            row["note"] = (f"a queue holds more than {MOST_LEADS} leads: the estimate waits "
                           "behind the mean backlog, without its spread")


def _dealing_reps(block, scenario: Scenario) -> int:
    """The reps a capped round robin deals to: the team's, as the simulator's rotation."""
    return scenario.teams[block.team]


def _variance(work: WorkTime) -> float:
    """A work time's variance, hours squared."""
    mean = work.mean_hours
    if work.distribution == "exponential":
        return mean * mean
    if work.distribution == "lognormal":
        return work.sd_hours ** 2
    if work.distribution == "gamma":
        return mean * mean / work.shape
    if work.distribution == "empirical":
        return float(np.var(work.values)) if work.values else 0.0
    return 0.0  # fixed


def _solve_in_rounds(queue: Queue, cadences: dict, steps: Grid, work: float,
                     solve: Callable[[dict], Waiting | None], results: dict) -> None:
    """The queue solved with its follow-ups where they join it (`follow_up_plan`: under
    `fifo` at their due times, under a full `earliest-due-first` queue where their window's
    end puts them among the first touches' deadlines), each counted as `work` of a first
    touch. When an attempt is made depends on the queue's wait, which depends on the
    follow-ups: the queue is solved again from the last round's wait (the first from none)
    until it settles (`_settled`), at most `ROUNDS` times. A queue that does not settle
    keeps its last round, and its rows say how far the last two rounds were apart."""
    none = np.zeros(len(steps.starts))
    waiting: Waiting | None = Waiting(none, none + 1.0, none)
    first_touches = sum(s.rates for s in queue.streams)
    before: dict[int, tuple[float, float]] = {}
    swing = 0.0
    for _ in range(ROUNDS):
        extra = sum(follow_up_arrivals(cadences[s.block], s.rates, steps, waiting)
                    for s in queue.streams) * work
        queue.extra = _on_grid(first_touches + extra) - first_touches
        found = {s.block: Result() for s in queue.streams}
        waiting = solve(found)
        figures = {block: (r.met / r.leads, r.elapsed_wait / r.leads)
                   for block, r in found.items() if r.leads}
        if waiting is None or not figures:
            break
        swing = max(abs(figures[b][0] - before[b][0]) for b in figures) if before else 1.0
        if _settled(before, figures):
            swing = 0.0
            break
        before = figures
    for block, result in found.items():
        results[block].add(result, 1)
        results[block].swing = max(results[block].swing, swing)


def _solve_due_first(queue: Queue, cadences: dict, steps: Grid, work: float,
                     capacity: float, solve: Callable[[dict], Waiting | None],
                     results: dict) -> None:
    """Under `earliest-due-first` the queue is solved first with its follow-ups after the
    first touches, as under `first-touch-first`. If the follow-ups its cadences then make
    (walked with that wait: each connect at the decay of its own delay, each follow-up only
    inside its window and the horizon) and its first touches fill the reps' open hours,
    the reps are never idle and the follow-ups wait among the first touches: solved again
    in rounds (`_solve_in_rounds`). Counted at a first touch's connect without its wait, a
    desk whose leads wait long (and so seldom connect) looked half as busy as it is: the
    inbound desk at 4 leads an hour planned 75.3% where the simulator has 9.3%."""
    found = {s.block: Result() for s in queue.streams}
    waiting = solve(found)
    if waiting is not None and _fills(queue, cadences, steps, waiting, work, capacity):
        _solve_in_rounds(queue, cadences, steps, work, solve, results)
        return
    for block, result in found.items():
        results[block].add(result, 1)


def _fills(queue: Queue, cadences: dict, steps: Grid, waiting: Waiting, work: float,
           capacity: float) -> bool:
    """Whether the queue's first touches and the follow-ups falling due inside the horizon
    (walked with `waiting`) are at least the touches its reps' open hours hold (`capacity`,
    in first touches' worth)."""
    hours = steps.step_us / US_PER_HOUR
    touches = sum(float(s.rates.sum()) for s in queue.streams) * hours
    for stream in queue.streams:
        due = dataclasses.replace(cadences[stream.block], keyed=None)
        touches += float(follow_up_arrivals(due, stream.rates, steps, waiting).sum()) \
            * hours * work
    return touches >= capacity


def _settled(before: dict[int, tuple[float, float]], now: dict[int, tuple[float, float]]
             ) -> bool:
    """Two rounds agree: no block's attainment moved by `SETTLED`, nor its mean wait by 1%
    (and 36 seconds)."""
    return bool(before) and all(
        abs(now[b][0] - before[b][0]) < SETTLED
        and abs(now[b][1] - before[b][1]) <= 0.01 * before[b][1] + 0.01 for b in now)


def _follow_up_work(scenario: Scenario) -> float:
    """A follow-up's rep time (work and response) in first touches' worth."""
    reaction = scenario.response.mean_hours if scenario.response else 0.0
    return (scenario.follow_up_time.mean_hours + reaction) / (scenario.touch.mean_hours
                                                              + reaction)


def _on_grid(rates: np.ndarray) -> np.ndarray:
    """Arrival rates on steps of `RATE_GRID` leads an hour, each step's rounding carried to the
    next so that the arrivals up to any step stay within half a grid step of the exact ones:
    the chain solves each kind of step once, and follow-ups at their due times would make
    nearly every step a kind of its own."""
    return np.diff(np.rint(np.cumsum(rates) / RATE_GRID), prepend=0.0) * RATE_GRID


def _clock(policy: m.Policy, block, team: BusinessCalendar, grid: Grid,
           responses: list[float]) -> Clock:
    """The deadline less each response amount: a lead is met when its wait for a rep and its
    response together fit, so the chance is averaged over the response's spread, not read at
    its mean (an exponential response longer than the deadline on average is shorter in
    most draws, and those leads are met)."""
    mids = grid.mids
    due = deadlines(mids, block.first_within, calendar_for(policy, block.first_within))
    opens = next_open_many(mids, team)
    hours, free = [], []
    for response in responses:
        react = int(response * US_PER_HOUR)
        until = np.maximum(due - react, mids)
        hours.append(np.maximum(open_time_between_many(mids, until, team) / US_PER_HOUR, 0.0))
        free.append(opens + react <= due)
    return Clock(due <= grid.end, np.array(hours), np.array(free))


def _solve(queue: Queue, clocks: dict, service: float, reaction: float, variability: float,
           grid: Grid, open_s: np.ndarray, open_first: np.ndarray, calendar: BusinessCalendar,
           results: dict) -> Waiting | None:
    """One queue: a chain per priority level (under earliest-due-first a block sees only the
    blocks ahead of or level with it), its bound doubled until nothing reaches it. Returns the
    open-time wait of a task joining the last level at each step (None: nothing timed)."""
    levels = sorted({s.priority for s in queue.streams if s.block in clocks})
    waits = None
    for level in levels:
        ahead = [s for s in queue.streams if s.priority <= level]
        measured = [s for s in ahead if s.priority == level and s.block in clocks]
        total = sum(s.rates for s in ahead)
        if queue.extra is not None:
            total = total + queue.extra
        most, backlog = _bound(total, open_s, open_first, queue.servers, service)
        if most > MOST_LEADS:
            found = _fluid(queue.servers, service, reaction, backlog, measured, clocks, grid,
                           calendar)
        else:
            while True:
                # one rep's own queue: what is left of the touch under way, then one touch
                # after another, read with the touches' spread; a pool's reps finish nearly
                # as a Poisson stream whatever the touches, and the chain's queue is M/M/c's
                steady = variability if queue.servers == 1 else 1.0
                found = _walk(queue.servers, service, reaction, steady, most, total,
                              measured, clocks, open_s, open_first, grid, calendar)
                if not found[1] or most >= MOST_LEADS:
                    break
                most = min(2 * most, MOST_LEADS)
        sums, spilled, waits = found
        for stream in measured:
            met, leads, open_wait, elapsed_wait = sums[stream.block]
            results[stream.block].add(Result(met, leads, open_wait, elapsed_wait, spilled),
                                      queue.copies)
    return waits


def _bound(total: np.ndarray, open_s: np.ndarray, open_first: np.ndarray, servers: int,
           service: float) -> tuple[int, np.ndarray]:
    """The state space to solve on: the fluid backlog's peak (arrivals in, touches out at
    the reps' pace while open) with room for the spread, as a power of two; and that fluid
    backlog at each step's middle."""
    step = STEP_SECONDS / 3600
    served = (servers / service * open_s / 3600).tolist()
    closing = np.append(open_first[:-1] & ~open_first[1:], False) | (
        open_first & (open_s < STEP_SECONDS))
    level, peak = 0.0, 0.0
    middles = np.zeros(len(total))
    for i, (arriving, done, closes) in enumerate(zip((total * step).tolist(), served,
                                                     closing.tolist(), strict=True)):
        before = level
        level = max(0.0, level + arriving - done)
        middles[i] = (before + level) / 2
        if closes:
            level = max(0.0, level - servers)
        peak = max(peak, level)
    guess = peak + 6 * math.sqrt(peak + 1) + 4 * servers + 16
    return 1 << max(5, math.ceil(math.log2(guess))), middles


def _fluid(servers: int, service: float, reaction: float, backlog: np.ndarray,
           measured: list, clocks: dict, grid: Grid, calendar: BusinessCalendar
           ) -> tuple[dict, bool, Waiting]:
    """A queue too long to solve in full: each lead waits behind the fluid (mean) backlog,
    with the Erlang spread of the wait for it, but not the spread of the backlog itself."""
    from scipy.special import gammainc

    rate = servers / service
    step_hours = STEP_SECONDS / 3600
    needed = np.floor(backlog) - servers + 1
    waits = np.maximum(needed, 0) / rate
    shown, elapsed = _elapsed(waits, grid, calendar)
    sums = {}
    for stream in measured:
        clock = clocks[stream.block]
        met = np.mean([np.where(needed > 0, gammainc(np.maximum(needed, 1), rate * hours),
                                free.astype(float))
                       for hours, free in zip(clock.open_hours, clock.free, strict=True)],
                      axis=0)
        leads = stream.rates * step_hours * clock.counted
        sums[stream.block] = (float(leads @ met), float(leads.sum()),
                              float(leads @ (shown + reaction)),
                              float(leads @ (elapsed + reaction)))
    # the backlog read at its mean: the wait's spread is the Erlang one of the touches ahead
    spread = np.maximum(needed, 0) / rate ** 2
    return sums, True, Waiting(waits, (needed <= 0).astype(float), spread + waits * waits)


def _elapsed(waits: np.ndarray, grid: Grid, calendar: BusinessCalendar
             ) -> tuple[np.ndarray, np.ndarray]:
    """Open-time waits (hours) from each step's middle, and the same as elapsed hours on the
    calendar. A wait that would end more than a year past the horizon is cut there (`WAIT_CUT`):
    an overloaded queue's fluid backlog waits for centuries, beyond the dates a calendar
    counts, and no lead of the horizon is touched then, in the plan or the simulation."""
    mids = grid.mids
    begins = next_open_many(mids, calendar)
    room = open_time_between_many(begins, np.full(len(begins), grid.end + WAIT_CUT), calendar)
    cut = np.minimum(np.rint(waits * US_PER_HOUR), room).astype(np.int64)
    touched = add_open_time_many(begins, cut, calendar)
    return cut / US_PER_HOUR, (touched - mids) / US_PER_HOUR


def _walk(servers: int, service: float, reaction: float, variability: float, most: int,
          total: np.ndarray, measured: list, clocks: dict, open_s: np.ndarray,
          open_first: np.ndarray, grid: Grid, calendar: BusinessCalendar
          ) -> tuple[dict, bool]:
    """The chain through the horizon. Per measured block: leads met and counted, and the
    lead-weighted open-time wait; the elapsed wait is the open wait laid on the calendar."""
    chain = Backlog(servers, service, most)
    rate = chain.rate
    states = chain.states
    queued = wait_behind(states, servers, rate, variability)  # mean open wait, hours
    squared = wait_second_moment(states, servers, rate, variability)
    step_hours = STEP_SECONDS / 3600
    steps = len(total)
    # a lead's chance of being in time depends on the step only through the open hours it
    # has and whether a free rep would do: steps alike share one table, and the distribution
    # is summed per kind of step (weighted by the leads arriving) and met once at the end
    # (each response amount of a clock is a kind of step of its own, its leads' equal share)
    kinds, weights, sums_by_kind, owners = [], [], [], []
    for stream in measured:
        clock = clocks[stream.block]
        share = 1.0 / len(clock.open_hours)
        for hours, free in zip(clock.open_hours, clock.free, strict=True):
            codes = np.rint(hours * 60).astype(np.int64) * 2 + free
            unique, index = np.unique(codes, return_inverse=True)
            kinds.append((unique, index.tolist()))
            weights.append((stream.rates * step_hours * clock.counted * share).tolist())
            sums_by_kind.append(np.zeros((len(unique), most + 1)))
            owners.append(stream.block)
    waits = np.zeros(steps)
    free = np.zeros(steps)  # the share of tasks joining that find a rep free
    second = np.zeros(steps)  # their mean squared wait
    totals = total.tolist()
    opens = (open_s / 3600).tolist()
    firsts = open_first.tolist()
    pairs = list(zip(kinds, weights, sums_by_kind, strict=True))
    for i in range(steps):
        before = chain.now
        chain.advance(totals[i], opens[i], step_hours - opens[i], firsts[i])
        middle = (before + chain.now) * 0.5
        waits[i] = middle @ queued
        free[i] = middle[:servers].sum()
        second[i] = middle @ squared
        for (_, index), weight, summed in pairs:
            if weight[i]:
                summed[index[i]] += weight[i] * middle
    met = dict.fromkeys((stream.block for stream in measured), 0.0)
    for block, (unique, _), summed in zip(owners, kinds, sums_by_kind, strict=True):
        met[block] += sum(
            float(summed[k] @ reached_within(states, servers, rate, (code // 2) / 60,
                                             bool(code % 2), variability))
            for k, code in enumerate(unique.tolist()))
    sums = {}
    shown, elapsed = _elapsed(waits, grid, calendar)
    for stream in measured:
        clock = clocks[stream.block]
        leads = stream.rates * step_hours * clock.counted
        sums[stream.block] = (met[stream.block], float(leads.sum()),
                              float(leads @ (shown + reaction)),
                              float(leads @ (elapsed + reaction)))
    return sums, chain.spilled > _SPILL, Waiting(waits, free, second)


def _gap_hours(block) -> float:
    """Wall hours between attempts, roughly: the spacing, else the window over the count."""
    if block.spacing is not None:
        plain = block.spacing.model_copy(update={"business": False})
        return to_timedelta(plain).total_seconds() / 3600
    if block.window is not None:
        plain = block.window.model_copy(update={"business": False})
        return to_timedelta(plain).total_seconds() / 3600 / max(block.attempts, 1)
    return 24.0


def _second_level_rates(policy: m.Policy, scenario: Scenario, blocks: list, level_blocks: list,
                        shares: dict, waits: dict, arrivals: np.ndarray, grid: Grid) -> dict:
    """The SQLs the first level hands on: each feeding block's leads that connect (the base
    chance, less the decay at the estimated wait, over the cadence) and qualify, arriving as
    the feeding team's touches end (its open hours, a mean touch later), shared evenly between
    the second level's blocks."""
    sender = level_blocks[0].handoff.sender.value
    decay = decays_to_run(scenario.outcomes)[0]
    outcomes = scenario.outcomes
    feeding = [b for b in blocks if b not in level_blocks and b.handoff.receiver is not None
               and b.handoff.receiver.value == sender]
    if not feeding:
        return {b.index: np.zeros_like(arrivals) for b in level_blocks}
    sqls = 0.0
    for block in feeding:
        wait, gap = waits.get(block.index, 0.0), _gap_hours(block)
        missed = 1.0
        for k in range(block.attempts if block.until_connected else 1):
            missed *= 1 - outcomes.connect_at(block.level) * decay(wait + k * gap)
        sqls += float(arrivals.mean()) * shares[block.index] * (1 - missed) * outcomes.qualify
    calendar = _team_calendar(policy, feeding[0])
    starts = grid.starts
    working = open_time_between_many(starts, starts + STEP_SECONDS * US_PER_SECOND, calendar) / (
        STEP_SECONDS * US_PER_SECOND)
    # handed on when the connecting touch ends: the first level's open hours, a touch later
    late = scenario.touch.mean_hours * 3600 / STEP_SECONDS
    whole, part = int(late), late - int(late)
    later = np.roll(working, whole) * (1 - part) + np.roll(working, whole + 1) * part
    later[:whole + 1] = working[:whole + 1]
    profile = later / max(float(later.mean()), 1e-12)
    return {b.index: sqls * profile / len(level_blocks) for b in level_blocks}
