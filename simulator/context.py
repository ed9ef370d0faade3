"""Everything about a run that every replication shares: the policy's blocks as the model works
them, the reps, the clock and each team's open hours. Built once per process."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import numpy as np

from sla_dsl.business_time.calendar import BusinessCalendar, calendar_for, deadline, to_timedelta
from sla_dsl.business_time.rep_hours import OwnerCalendars
from sla_dsl.business_time.zones import US_PER_DAY, US_PER_SECOND, ZoneOffsets, local_time
from sla_dsl.language import model as m
from sla_dsl.planning.funnel import goal_plans
from sla_dsl.planning.scenario import Scenario, WorkTime, first_day, leads_per_run
from sla_dsl.simulator.clock import OpenHours, origin_us
from sla_dsl.simulator.engine import GAP_DAYS, GAP_ELAPSED, GAP_OPEN, GAP_WALL, Floor
from sla_dsl.simulator.errors import NotSimulated
from sla_dsl.simulator.levels import SecondLevel, second_level
from sla_dsl.simulator.open_caps import Dealer, dealer
from sla_dsl.simulator.own_hours import off_spans, own_hours
from sla_dsl.simulator.routing import Block, Roster, blocks_of, check_mix, roster, weights_of
from sla_dsl.simulator.witnesses import witnesses

SPACING_SLACK = 3600.0  # a wall-clock day spacing may be an hour longer across DST


@dataclass
class Context:
    policy: m.Policy
    scenario: Scenario
    blocks: list[Block]
    roster: Roster
    start: dt.date
    origin: int  # µs
    end: float  # seconds after the origin
    offsets: ZoneOffsets
    floor: Floor
    calendars: list[BusinessCalendar]  # per block: the calendar its clocks count on
    deal_size: WorkTime | None  # None: neither the scenario nor a goal says; no revenue
    senders: list[int]  # per block: actor id of the sending party (or -1)
    actors: list[str]  # reps, then parties
    witnesses: dict[str, dict[str, str | None]] | None  # per mix label: fields routed there
    second: SecondLevel | None = None  # a multilevel agreement's second level, when simulated
    level_notes: list[str] = dataclasses.field(default_factory=list)
    # `[reps] file`: each rep's own calendar, on which `clocks run on owner hours` count
    owner_calendars: OwnerCalendars | None = None

    @property
    def width(self) -> int:
        return max((b.attempts for b in self.blocks), default=1)

    @property
    def end_us(self) -> int:
        return self.origin + int(self.end) * US_PER_SECOND

    def block_of(self, labels: np.ndarray) -> np.ndarray:
        """Block index per lead from the handoff labels (-1: none, or `to nobody`)."""
        index = {b.handoff.label: b.index for b in self.blocks}
        return np.array([index.get(label, -1) for label in labels.tolist()], dtype=np.int64)


def _block_calendar(policy: m.Policy, block: Block) -> BusinessCalendar:
    duration = block.first_within or block.window
    return calendar_for(policy, duration) if duration is not None else calendar_for(policy)


def working_calendars(policy: m.Policy) -> dict[str, BusinessCalendar]:
    """Per handoff label (of a block with a receiver), the calendar its reps work by here: their
    team's first block's, which opens and closes the team (`build`). What `sla calibrate` splits
    a history's delays on, to tell the hours the simulator closes from those it works."""
    blocks = blocks_of(policy)
    first_of_team: dict[str, Block] = {}
    for block in blocks:
        first_of_team.setdefault(block.team, block)
    return {b.handoff.label: _block_calendar(policy, first_of_team[b.team]) for b in blocks}


def _calendar_name(duration: m.Duration | None) -> str | None:
    return duration.calendar.value if duration is not None and duration.calendar else None


def _gap(policy: m.Policy, block: Block, opening: dict, origin: int, end: float
         ) -> tuple[int, float, OpenHours | None, Callable[[float], float] | None]:
    """How long a rep waits between attempts: `spacing` as the evaluator counts it (in open
    time for business hours, by the business-day rule for business days), else the lead's
    window divided by the count."""
    spacing = block.spacing
    if spacing is None:
        return GAP_WALL, 0.0, None, None
    plain = to_timedelta(spacing.model_copy(update={"business": False})).total_seconds()
    if spacing.business and spacing.unit in ("day", "week"):
        return GAP_DAYS, 0.0, None, _business_days_after(policy, spacing, origin)
    if spacing.business:
        key = _calendar_name(spacing)
        if key not in opening:
            opening[key] = OpenHours(calendar_for(policy, spacing), origin, end)
        return GAP_OPEN, plain, opening[key], None
    return (GAP_ELAPSED, plain + (SPACING_SLACK if spacing.unit not in ("minute", "hour") else 0.0),
            None, None)


def _business_days_after(policy: m.Policy, spacing: m.Duration, origin: int
                         ) -> Callable[[float], float]:
    """`spacing` after a moment (seconds from the origin) by the evaluator's own deadline."""
    calendar = calendar_for(policy, spacing)
    zero = local_time(origin, dt.UTC)

    def after(seconds: float) -> float:
        moment = zero + dt.timedelta(seconds=seconds)
        return (deadline(moment, spacing, calendar) - zero).total_seconds()

    return after


def _dealer(block: Block, team_roster: Roster, origin: int, offsets: ZoneOffsets,
            lifecycle: bool) -> Dealer | None:
    """The loop's dealer for a round robin with a cap on open leads, or any round robin when
    leads come back or change owner (None for other blocks)."""
    rule = block.dealt
    if not isinstance(rule, m.RoundRobin) or (rule.open_cap is None and not lifecycle):
        return None
    reps = team_roster.reps_of_team[team_roster.team_index(block.team)]
    return dealer(rule, reps, weights_of(block, reps, team_roster.names), origin, offsets)


def _reps(count: int) -> str:
    return f"{count} rep" if count == 1 else f"{count} reps"


def _deal_size(policy: m.Policy, scenario: Scenario) -> WorkTime | None:
    if scenario.outcomes.deal_size is not None:
        return scenario.outcomes.deal_size
    sizes = [p.deal_size for p in goal_plans(policy) if p.deal_size]
    return WorkTime("fixed", sizes[0]) if sizes else None


def build(policy: m.Policy, scenario: Scenario) -> Context:
    if scenario.touch is None:
        raise NotSimulated("the scenario has no [work] touch time: add touch = "
                           '"exponential 12 minutes"')
    check_mix(policy, scenario)
    blocks = blocks_of(policy)
    if not blocks:
        raise NotSimulated("the policy hands no leads to anyone: nothing to simulate")
    team_roster = roster(policy, scenario, blocks)
    timezone = policy.timezone or "UTC"
    start, _ = first_day(policy, scenario)
    origin = origin_us(start, timezone)
    end = scenario.horizon_hours * 3600.0
    offsets = ZoneOffsets(ZoneInfo(timezone), origin - 3 * US_PER_DAY,
                          origin + int(end) * US_PER_SECOND + 120 * US_PER_DAY)
    calendars = [_block_calendar(policy, b) for b in blocks]
    opening: dict[str | None, OpenHours] = {}
    team_hours, team_calendars = [], []
    for team in team_roster.teams:
        first = next(b for b in blocks if b.team == team)
        key = _calendar_name(first.first_within or first.window)
        if key not in opening:
            opening[key] = OpenHours(calendars[first.index], origin, end)
        team_hours.append(opening[key])
        team_calendars.append(calendars[first.index])
    reps_hours = own_hours(scenario.reps, team_roster, team_calendars, origin, end) \
        if scenario.reps is not None else [None] * len(team_roster.names)
    for team, members in enumerate(team_roster.reps_of_team):
        if any(reps_hours[rep] is not None for rep in members):
            team_hours[team] = OpenHours.around_the_clock()  # each rep keeps their own
    gaps = [_gap(policy, b, opening, origin, end) for b in blocks]
    floor = Floor(
        attempts=[b.attempts for b in blocks],
        until_connected=[b.until_connected or b.window is None for b in blocks],
        gap_kind=[g[0] for g in gaps], gap=[g[1] for g in gaps], gap_hours=[g[2] for g in gaps],
        gap_days=[g[3] for g in gaps],
        team_of_block=[team_roster.team_index(b.team) for b in blocks],
        team_of_rep=team_roster.team_of_rep, reps_of_team=team_roster.reps_of_team,
        hours=team_hours, discipline=scenario.discipline, end=end,
        dealers=[_dealer(b, team_roster, origin, offsets, scenario.lifecycle) for b in blocks],
        off=[off_spans(h, end) if h is not None else [] for h in reps_hours]
        if any(h is not None for h in reps_hours) else None,
        rep_hours=reps_hours)
    parties = sorted({b.handoff.sender.value for b in blocks if b.handoff.sender})
    actors = team_roster.names + parties
    senders = [len(team_roster.names) + parties.index(b.handoff.sender.value)
               if b.handoff.sender else -1 for b in blocks]
    mixed = witnesses(policy, list(scenario.mix)) if scenario.mix is not None else None
    second, notes = second_level(policy, scenario, blocks, team_roster, actors, mixed)
    if second is not None and scenario.lifecycle:
        raise NotSimulated("[recycle], [reassign] and [absence] are simulated for an agreement of "
                           "one level; this policy hands leads on to a second level: leave "
                           "those tables out")
    check_absent_reps(scenario, team_roster)
    notes = [*notes, *lifecycle_notes(scenario, blocks)]
    if scenario.reps is not None and not any(b.handoff.on_owner_hours for b in blocks):
        notes.append("[reps]: the reps work their own hours, but no block says 'clocks run on "
                     "owner hours', so every clock counts on the policy calendar")
    return Context(policy, scenario, blocks, team_roster, start, origin, end, offsets, floor,
                   calendars, _deal_size(policy, scenario), senders, actors, mixed, second,
                   notes, OwnerCalendars(scenario.reps.hours) if scenario.reps else None)


def rep_open_seconds(context: Context, team: int) -> float:
    """The rep time the team's hours hold over the horizon: each rep's own open hours when
    they keep their own (`[reps] file`), else the team calendar's times the reps."""
    floor, end = context.floor, context.end
    reps = context.roster.reps_of_team[team]
    own = [floor.rep_hours[rep] for rep in reps] if floor.rep_hours else []
    if own and all(h is not None for h in own):
        return sum(h.open_seconds(end) for h in own)
    return len(reps) * floor.hours[team].open_seconds(end)


def open_share(context: Context, team: int) -> float:
    """The share of the horizon a rep of the team is open, on average over its reps."""
    reps = len(context.roster.reps_of_team[team])
    return rep_open_seconds(context, team) / context.end / reps if reps else 0.0


def _blocks_of_team(context: Context, team: int) -> list[Block]:
    return [b for b in context.blocks if context.floor.team_of_block[b.index] == team]


def first_touches_per_hour(context: Context, shares: np.ndarray, team: int) -> float:
    """First touches the team is handed an hour on average: the leads its blocks take."""
    share = float(sum(shares[b.index] for b in _blocks_of_team(context, team)))
    return context.scenario.arrivals_per_hour * share


def response_room(context: Context, shares: np.ndarray) -> float | None:
    """The mean `work.response` (hours) at which the first team to reach it is overloaded, as
    `check_load` counts it: the reps' worth its open hours hold over the first touches it is
    handed an hour, less a touch's mean. A response must stay under it for the simulation to
    run; what `sla calibrate` tells a planner choosing one. None when no team is handed a
    lead."""
    rooms = []
    for team, reps in enumerate(context.roster.reps_of_team):
        arriving = first_touches_per_hour(context, shares, team)
        if arriving > 0:
            capacity = len(reps) * open_share(context, team)
            rooms.append(capacity / arriving - context.scenario.touch.mean_hours)
    return min(rooms) if rooms else None


def check_load(context: Context, shares: np.ndarray) -> list[str]:
    """Overload up front: first touches alone needing more rep time than the open hours hold
    make a backlog that grows without end, and a simulation of it says nothing useful. Full
    cadences needing more is only a note: connects end cadences early, so the run decides."""
    scenario = context.scenario
    react = scenario.response.mean_hours if scenario.response else 0.0  # rep time as well
    notes = []
    for team, reps in enumerate(context.roster.reps_of_team):
        blocks = _blocks_of_team(context, team)
        load = first_touches_per_hour(context, shares, team) * (
            scenario.touch.mean_hours + react)
        open_part = open_share(context, team)
        if open_part == 0 and load > 0:  # not "overloaded ... 0% of the time": say why
            raise NotSimulated(
                f"the calendar of team {context.roster.teams[team]} is not open in the "
                f"scenario's {scenario.horizon_hours / 24:.3g} days: no lead handed to it "
                "would be touched\n  help: move start or lengthen the horizon to days the "
                "calendar is open")
        if load >= len(reps) * open_part and load > 0:
            label = blocks[0].handoff.label
            raise NotSimulated(
                f"handoff '{label}' is overloaded: {load:.2f} reps' worth of work arrives "
                f"each hour, and {len(reps)} reps working {100 * open_part:.0f}% of the time "
                f"can do {len(reps) * open_part:.2f}; the backlog grows without end")
        follow_ups = sum(float(shares[b.index]) * (b.attempts - 1) for b in blocks)
        full = load + scenario.arrivals_per_hour * follow_ups * (
            scenario.follow_up_time.mean_hours + react)
        if full >= len(reps) * open_part:
            notes.append(
                f"team {context.roster.teams[team]}: full cadences would need {full:.2f} reps' "
                f"worth of work an hour, more than {_reps(len(reps))} can do in the open hours "
                f"({len(reps) * open_part:.2f}): follow-ups will queue unless leads connect")
    return notes


MOST_TOUCHES = 2_000_000
"""Touches one run may be asked to make: leads x their block's cadence (x the recycle rounds).
Each is an event the run holds (about 250 bytes), so 100,000 leads of a 1,000-touch cadence
would hold 25 GB; the run is refused before it starts instead (docs/limits.md)."""


def check_touches(context: Context, shares: np.ndarray) -> None:
    """Raises NotSimulated when the cadences of a run's leads would make more than
    MOST_TOUCHES touches, were none of them cut short by a connect."""
    scenario = context.scenario
    leads, _ = leads_per_run(scenario)
    recycle = scenario.recycle
    rounds = 1 + (recycle.rounds * recycle.share if recycle is not None else 0)
    touches = leads * rounds * sum(float(shares[b.index]) * b.attempts for b in context.blocks)
    if touches > MOST_TOUCHES:
        most = max(context.blocks, key=lambda b: b.attempts)
        raise NotSimulated(
            f"about {touches:,.0f} touches in one run ({leads:,.0f} leads, handoff "
            f"'{most.handoff.label}' with a cadence of {most.attempts:,} touches) is more than "
            f"the {MOST_TOUCHES:,} a run may make\n  help: shorten the horizon or lower "
            f"arrivals.rate in the scenario; see docs/limits.md")


def lifecycle_notes(scenario: Scenario, blocks: list[Block]) -> list[str]:
    """What a lifecycle table cannot do on this policy, said rather than silently ignored."""
    notes = []
    if scenario.reassign is not None and not any(isinstance(b.dealt, m.RoundRobin)
                                                 for b in blocks):
        notes.append("[reassign] moves the leads of a round robin, and no block of this "
                     "policy deals by round robin: no lead is moved")
    if scenario.recycle is not None and not any(b.handoff.restarts for b in blocks):
        notes.append("[recycle]: every block says 'no restart on re-handoff', so the leads "
                     "handed off again are worked but start no new round of clocks")
    return notes


def check_absent_reps(scenario: Scenario, team_roster: Roster) -> None:
    """`[absence] dates` name reps of the roster (as the history will name them)."""
    if scenario.absence is None:
        return
    for name in scenario.absence.dates:
        if name not in team_roster.names:
            raise NotSimulated(f"[absence] dates names '{name}', who is not a rep of the "
                               f"scenario: the reps are {', '.join(team_roster.names)}",
                               too_few_reps=True)
