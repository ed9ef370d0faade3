"""Routing exactly as the policy says: which handoff block takes a lead, and which rep gets it.

The block comes from the evaluator's own rule (`evaluation.routing.assign_blocks`: the first
segment a lead matches, then the first block whose target it meets), run over the policy's
definitions with `sla_dsl.evaluation.conditions`, so a simulated lead and the same lead read back
from an emitted history are classified the same way. Reps are dealt by `assign round robin` (weights
by smooth weighted round robin; a rep at the `cap` is skipped, and when every rep is at the
cap the lead waits for the next period), or go to the `assign to` owner; a block without an
`assign` line is worked from its team's shared queue by whichever rep is free first.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from sla_dsl.business_time.periods import next_period_start, period_starts
from sla_dsl.business_time.zones import US_PER_DAY, ZoneOffsets, date_of, day_number
from sla_dsl.evaluation.conditions import ConditionEvaluator
from sla_dsl.evaluation.routing import assign_blocks, handoff_levels
from sla_dsl.language import model as m
from sla_dsl.planning.scenario import Scenario
from sla_dsl.simulator.errors import NotSimulated


@dataclass
class Block:
    """One handoff block with a receiver, as the model works it."""

    index: int
    handoff: m.Handoff
    team: str  # the team whose reps work it (a fixed owner is a team of one)
    attempts: int  # touches a rep makes at most: the cadence's count, else one
    until_connected: bool
    first_within: m.Duration | None
    window: m.Duration | None  # the cadence's `within`
    spacing: m.Duration | None
    dealt: m.RoundRobin | m.FixedOwner | None
    level: int = 0  # its level of handoffs (`evaluation.routing.handoff_levels`): 0 the first


@dataclass
class Roster:
    """Every rep of every team the policy's blocks need, with names the history will carry."""

    names: list[str] = field(default_factory=list)
    team_of_rep: list[int] = field(default_factory=list)
    teams: list[str] = field(default_factory=list)
    reps_of_team: list[list[int]] = field(default_factory=list)

    def team_index(self, team: str) -> int:
        return self.teams.index(team)


def blocks_of(policy: m.Policy) -> list[Block]:
    level_of = {h.label: number for number, level in enumerate(handoff_levels(policy))
                for h in level}
    blocks = []
    for handoff in policy.handoffs:
        if handoff.receiver is None:
            continue
        first, touches = handoff.item("first_touch"), handoff.item("touches")
        spacing = handoff.item("spacing")
        dealt = handoff.item("round_robin") or handoff.item("owner")
        team = dealt.owner.value if isinstance(dealt, m.FixedOwner) else handoff.team
        blocks.append(Block(
            len(blocks), handoff, team,
            int(touches.count.value) if isinstance(touches, m.Touches) else 1,
            bool(isinstance(touches, m.Touches) and touches.until_connected),
            first.within if isinstance(first, m.FirstTouch) else None,
            touches.within if isinstance(touches, m.Touches) else None,
            spacing.at_least if isinstance(spacing, m.Spacing) else None,
            dealt if isinstance(dealt, m.RoundRobin | m.FixedOwner) else None,
            level_of[handoff.label]))
    return blocks


def roster(policy: m.Policy, scenario: Scenario, blocks: list[Block]) -> Roster:
    """Reps per team: the scenario's count; named by the policy's weights where it names them,
    then `TEAM 1`, `TEAM 2`, ... A fixed owner is one rep of their own."""
    out = Roster()
    for block in blocks:
        if block.team in out.teams:
            continue
        if isinstance(block.dealt, m.FixedOwner):
            names = [block.team]
        else:
            if block.team not in scenario.teams:
                raise NotSimulated(
                    f"handoff '{block.handoff.label}' is worked by team '{block.team}', which "
                    f"the scenario does not staff: add [team.{block.team}] reps = N")
            size = scenario.teams[block.team]
            named = named_reps(blocks, block.team)[:size]
            names = named + [f"{block.team} {k}" for k in range(len(named) + 1, size + 1)]
        out.teams.append(block.team)
        first = len(out.names)
        out.names += names
        out.team_of_rep += [len(out.teams) - 1] * len(names)
        out.reps_of_team.append(list(range(first, first + len(names))))
    return out


def named_reps(blocks: list[Block], team: str) -> list[str]:
    """The reps a team's round-robin blocks name, in the order they first appear: the
    simulator and `sla plan` both give a team's queues these names before numbered ones."""
    names: list[str] = []
    for block in blocks:
        if block.team == team and isinstance(block.dealt, m.RoundRobin):
            names += [w.rep.value for w in block.dealt.weights if w.rep.value not in names]
    return names


def classify(policy: m.Policy, scenario: Scenario, fields: dict[str, np.ndarray], size: int,
             rng: np.random.Generator) -> np.ndarray:
    """Per lead, the label of the handoff block that takes it (None: no block does)."""
    if scenario.mix is not None:
        labels = list(scenario.mix)
        picked = rng.choice(len(labels), size, p=np.array([scenario.mix[k] for k in labels]))
        return np.asarray(labels, dtype=object)[picked]
    return classify_fields(policy, fields, size)


def classify_fields(policy: m.Policy, fields: dict[str, np.ndarray], size: int) -> np.ndarray:
    """The evaluator's routing rule itself, on drawn fields."""
    conditions = ConditionEvaluator(policy, fields, size)
    _, block = assign_blocks(policy, conditions, np.ones(size, dtype=bool))
    return block


def check_mix(policy: m.Policy, scenario: Scenario) -> None:
    """Mix shares name handoff blocks; a policy that routes by definitions needs a mix or
    fields to route by, or every lead would fall to the same block."""
    first = handoff_levels(policy)[0]  # later levels take the leads the first hands on
    labels = [h.label for h in first]
    if scenario.mix is not None:
        unknown = [k for k in scenario.mix if k not in labels]
        if unknown:
            later = "" if unknown[0] not in {h.label for h in policy.handoffs} else \
                ", which is a later level's handoff (it takes the leads the first level hands on)"
            raise NotSimulated(f"[arrivals.mix] names '{unknown[0]}'"
                               f"{later or ', which is not a handoff block of the policy'}: "
                               f"use {', '.join(labels)}")
        return
    targeted = [h.label for h in first if h.target is not None]
    if targeted and not scenario.fields:
        raise NotSimulated(
            f"the policy routes leads by definitions ({', '.join(targeted)}): give the "
            "scenario [arrivals.mix] shares of these blocks, or [arrivals.fields] for the "
            "policy's definitions to classify")


# ---------------------------------------------------------------- dealing leads to reps


def weights_of(block: Block, reps: list[int], names: list[str]) -> np.ndarray:
    """Each rep's share: the policy's weight; reps the scenario adds beyond the policy's list
    get the mean weight, as if added to it."""
    rr = block.dealt
    given = {w.rep.value: float(w.weight.value) for w in rr.weights} \
        if isinstance(rr, m.RoundRobin) else {}
    if not given:
        return np.ones(len(reps))
    mean = sum(given.values()) / len(given)
    return np.array([given.get(names[r], mean) for r in reps])


def smooth_rotation(weights: np.ndarray, size: int) -> np.ndarray:
    """The first `size` turns of smooth weighted round robin: each turn every rep gains its
    weight and the richest is dealt the lead and pays the total (spreads a 2:1:1 as a b a c)."""
    if np.all(weights == weights[0]):
        return np.arange(size) % len(weights)
    current = np.zeros(len(weights))
    total = weights.sum()
    turns = np.empty(size, dtype=np.int64)
    for i in range(size):
        current += weights
        pick = int(np.argmax(current))
        current[pick] -= total
        turns[i] = pick
    return turns


def period_keys(at_us: np.ndarray, period: str, offsets: ZoneOffsets) -> np.ndarray:
    """The local day number on which each instant's cap period (day, week, month...) starts."""
    days = offsets.local_days(at_us).astype("datetime64[D]")
    return period_starts(days, period).astype(np.int64)


def _next_period(key: int, period: str) -> int:
    return day_number(next_period_start(date_of(key), period))


def deal(block: Block, handed_us: np.ndarray, reps: list[int], weights: np.ndarray,
         offsets: ZoneOffsets, rotation: np.ndarray | None = None
         ) -> tuple[np.ndarray, np.ndarray]:
    """Owners (rep ids) and assignment instants (µs) for a block's leads in arrival order.

    Without a cap every lead is dealt at its handoff; with one, a rep at the cap is skipped,
    and a lead that finds every rep at the cap waits for the next period to open (its clocks
    still run from the handoff)."""
    size = len(handed_us)
    rr = block.dealt
    if not isinstance(rr, m.RoundRobin) or rr.cap is None:
        turns = rotation[:size] if rotation is not None and len(rotation) >= size \
            else smooth_rotation(weights, size)
        return np.asarray(reps)[turns], handed_us.copy()
    cap, period = int(rr.cap.count.value), rr.cap.per
    keys = period_keys(handed_us, period, offsets)
    owners = np.empty(size, dtype=np.int64)
    assigned = handed_us.copy()
    current = np.zeros(len(reps))
    counts: dict[int, int] = {}
    carry = None
    for i in range(size):
        key = int(keys[i]) if carry is None or keys[i] > carry else carry
        while True:
            if key != carry:
                carry, counts = key, {}
            eligible = [j for j in range(len(reps)) if counts.get(j, 0) < cap]
            if eligible:
                break
            key = _next_period(key, period)
        current[eligible] += weights[eligible]
        pick = max(eligible, key=lambda j: current[j])
        current[pick] -= weights[eligible].sum()
        counts[pick] = counts.get(pick, 0) + 1
        owners[i] = reps[pick]
        if key > keys[i]:
            opening = int(offsets.resolve(np.array([key * US_PER_DAY], dtype=np.int64))[0])
            assigned[i] = max(int(handed_us[i]), opening)
    return owners, assigned
