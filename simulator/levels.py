"""The second level of a multilevel agreement: a first-level rep handing a qualified lead on.

In `marketing -> MDR -> sales`, the MDR who qualifies a lead (its connect leads to an SQL by
`outcomes.qualify`) hands it on at that moment to the second-level block the policy's own
routing picks (`evaluation.routing.assign_blocks` over the second level's blocks), and that
block's team works it with the same reps and queues as the first level. The history says so as the
evaluator reads a level: `accepted` and an `updated` by the MDR (with the fields the second
level's target and threshold read), then one second later a `handoff` by the MDR under a name
the policy gives the MDR party (`evaluation.routing.acting_names`) and an `assigned` to the advisor.
The second is there because the advisor's disposition clock counts decisions from its
handoff on, and the MDR's own `accepted` must not meet it.

The second level is worked after the first, in a pass of its own: its teams are not the first
level's, so no rep's time is shared between the passes and the first pass is what it would be
alone. A policy whose later level is worked by a first-level team is simulated at its first
level only, with a note; so are third and later levels.

A scenario draws the lead's first-level fields; what the second level asks beyond them (the
`sql` stage's budget and timeline, a booked discovery call) no scenario draws. So fields are
searched once, as `witnesses` does for a mix: values that route the first level's qualified
leads into a second-level block and meet its threshold (for `outcomes.booked` of the SQLs),
or route them there without meeting it (the rest, a threshold breach by the MDR).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
from sla_dsl.simulator import engine
from sla_dsl.simulator.arrivals import lead_fields
from sla_dsl.simulator.routing import Block, Roster, classify
from sla_dsl.simulator.witnesses import candidate_values

from sla_dsl.evaluation.conditions import ConditionEvaluator
from sla_dsl.evaluation.routing import acting_names, assign_blocks, handoff_levels
from sla_dsl.language import model as m
from sla_dsl.planning.scenario import Scenario

_COMBOS = 1024  # candidate field values tried for the second level
_SAMPLE = 32  # drawn leads the candidates are scored on (a scenario with [arrivals.fields])


@dataclass
class SecondLevel:
    """What every replication needs to hand qualified leads on to the second level."""

    handoffs: list[m.Handoff]  # the second level's blocks, for the policy's routing
    feeds: np.ndarray  # per first-level block index (and -1 last): its receiver sends level 2
    meets: dict[str, str]  # fields set at qualification: a block takes it, threshold met
    misses: dict[str, str] | None  # ... threshold not met (None: no such fields)
    hand_actor: list[int]  # per rep: the actor id its handoff is written under


def second_level(policy: m.Policy, scenario: Scenario, blocks: list[Block], roster: Roster,
                 actors: list[str], mixed: dict[str, dict[str, str | None]] | None
                 ) -> tuple[SecondLevel | None, list[str]]:
    """The second level as the model works it, or None with the note saying why not."""
    levels = handoff_levels(policy)
    if len(levels) < 2:
        return None, []
    notes = [f"handoffs from {level[0].sender.value} (a third level) are not simulated"
             for level in levels[2:]]
    level = levels[1]
    sender = level[0].sender.value
    labels = {h.label for h in level}
    first_teams = {b.team for b in blocks if b.handoff.label not in labels}
    shared = sorted({b.team for b in blocks if b.handoff.label in labels} & first_teams)
    if shared:
        notes.insert(0, f"team {shared[0]} works both levels of the agreement: only the first "
                        f"level is simulated, and the clauses of the handoffs from {sender} "
                        "have no leads")
        return None, notes
    feeds = np.array([b.handoff.label not in labels and b.handoff.receiver is not None
                      and b.handoff.receiver.value == sender for b in blocks] + [False])
    sample, weights = _sample(policy, scenario, blocks, feeds, mixed)
    meets, misses = _fields_for(policy, level, sample, weights)
    if meets is None and misses is None:
        notes.insert(0, f"no qualified lead the model could make up lands in a handoff from "
                        f"{sender} by the policy's definitions: those handoffs are not "
                        "simulated")
        return None, notes
    if meets is None:
        notes.insert(0, f"no fields the model could record meet the threshold of the handoffs "
                        f"from {sender}: every SQL is handed on without meeting it")
    names = {name.lower() for name in acting_names(policy, sender)}
    party = actors.index(sender)
    hand_actor = [rep if name.lower() in names else party
                  for rep, name in enumerate(roster.names)]
    return SecondLevel(level, feeds, meets if meets is not None else misses, misses,
                       hand_actor), notes


def _sample(policy: m.Policy, scenario: Scenario, blocks: list[Block], feeds: np.ndarray,
            mixed: dict[str, dict[str, str | None]] | None
            ) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Leads the first level hands to the second level's sender, with their weights: a mix's
    witnesses by share, else leads drawn from the scenario (always the same ones)."""
    feeding = {b.handoff.label for b in blocks if feeds[b.index]}
    if mixed is not None:
        chosen = [label for label in mixed if label in feeding]
        names = sorted({name for label in chosen for name in mixed[label]})
        columns = {name: np.array([mixed[label].get(name) for label in chosen], dtype=object)
                   for name in names}
        return columns, np.array([scenario.mix[label] for label in chosen], dtype=float)
    rng = np.random.default_rng(0)
    fields = lead_fields(scenario, rng, _SAMPLE * 8)
    routed = classify(policy, scenario, fields, _SAMPLE * 8, rng)
    keep = np.flatnonzero(np.isin(routed.astype(str), sorted(feeding)))[:_SAMPLE]
    return {name: column[keep] for name, column in fields.items()}, np.ones(len(keep))


def _fields_for(policy: m.Policy, level: list[m.Handoff], sample: dict[str, np.ndarray],
                weights: np.ndarray) -> tuple[dict[str, str] | None, dict[str, str] | None]:
    """Values for the fields no lead carries that route the most of the sample into a block
    of the level, meeting its threshold, and not meeting it; then only the fields needed."""
    size = len(weights)
    if not size:
        return None, None
    carried = {name for name, column in sample.items()
               if any(value is not None for value in column.tolist())}
    paused = {name for handoff in policy.handoffs for item in handoff.items
              if isinstance(item, m.Pause) for name in _fields_of(policy, item.condition)}
    values = candidate_values(policy)
    free = sorted(set(values) - carried - paused - _first_level_reads(policy))
    if not free:
        return None, None
    rng = np.random.default_rng(0)  # the same fields every run
    picks = {name: np.asarray(values[name], dtype=object)[
        rng.integers(0, len(values[name]), _COMBOS)] for name in free}
    found = []
    for want in (True, False):
        score = _scores(policy, level, sample, weights, picks, _COMBOS, want)
        best = int(np.argmax(score))
        if score[best] <= 0:
            found.append(None)
            continue
        chosen = {name: picks[name][best] for name in free}
        found.append(_minimal(policy, level, sample, weights, chosen, want, score[best]))
    return found[0], found[1]


def _fields_of(policy: m.Policy, condition: m.Expr) -> set[str]:
    """The lead fields a condition reads, through the definitions it names."""
    spaces = {("bare" if d.category not in ("fit", "interest") else d.category, d.name.value): d
              for d in reversed(policy.definitions)}
    found: set[str] = set()
    seen: set[tuple[str, str]] = set()
    pending = [condition]
    while pending:
        for node in m.walk_expr(pending.pop()):
            if hasattr(node, "field"):
                found.add(node.field.value)
                continue
            space = {m.Ref: "bare", m.FitRef: "fit", m.InterestRef: "interest"}.get(type(node))
            if space is None:
                continue
            key = (space, node.name.value)
            if key in spaces and key not in seen:
                seen.add(key)
                pending.append(spaces[key].when)
            elif key not in spaces and space == "bare":
                found.add(node.name.value)  # a bare name no definition has: a true field
    return found


def _first_level_reads(policy: m.Policy) -> set[str]:
    """The fields the first level routes and judges by: the qualification never sets them, so
    a lead the first level took for a non-MQL does not turn into one on the way to sales."""
    first = handoff_levels(policy)[0]
    targets = {h.target.value for h in first if h.target is not None}
    conditions = [d.when for d in policy.definitions
                  if d.category == "segment" or (d.name.value in targets
                                                 and d.category not in ("fit", "interest"))]
    conditions += [h.item("when").condition for h in first
                   if isinstance(h.item("when"), m.Threshold)]
    return set().union(set(), *(_fields_of(policy, c) for c in conditions))


def _scores(policy: m.Policy, level: list[m.Handoff], sample: dict[str, np.ndarray],
            weights: np.ndarray, picks: dict[str, np.ndarray], combos: int, want: bool
            ) -> np.ndarray:
    """Per candidate, the weighted share of the sample it routes into the level with the
    threshold as wanted (rows: every sample lead under every candidate)."""
    size = len(weights)
    columns = {name: np.tile(column, combos) for name, column in sample.items()}
    columns.update({name: np.repeat(column, size) for name, column in picks.items()})
    hit = routed(policy, level, columns, size * combos, want)
    return (hit.reshape(combos, size) * weights).sum(axis=1) / weights.sum()


def routed(policy: m.Policy, level: list[m.Handoff], columns: dict[str, np.ndarray],
           size: int, want: bool | None = None) -> np.ndarray:
    """Per lead, whether a block of the level takes it (and meets its threshold or not, as
    `want` says; None: either)."""
    conditions = ConditionEvaluator(policy, columns, size)
    block = routed_blocks(policy, level, columns, size, conditions)
    taken = block != None  # noqa: E711 (elementwise on objects)
    if want is None:
        return taken
    meets = np.zeros(size, dtype=bool)
    for handoff in level:
        threshold = handoff.item("when")
        mine = block == handoff.label
        meets |= mine & (conditions.evaluate(threshold.condition)
                         if isinstance(threshold, m.Threshold) else True)
    return taken & (meets if want else ~meets)


def routed_blocks(policy: m.Policy, level: list[m.Handoff], columns: dict[str, np.ndarray],
                  size: int, conditions: ConditionEvaluator | None = None) -> np.ndarray:
    """Per lead, the label of the level's block the policy's own routing picks (None: none)."""
    conditions = conditions or ConditionEvaluator(policy, columns, size)
    return assign_blocks(policy, conditions, np.ones(size, dtype=bool), level)[1]


def _minimal(policy: m.Policy, level: list[m.Handoff], sample: dict[str, np.ndarray],
             weights: np.ndarray, chosen: dict[str, str | None], want: bool, best: float
             ) -> dict[str, str]:
    """Drop every field the score does not need, so the update says no more than it must."""
    for name in list(chosen):
        if chosen[name] is None:
            continue
        trial = {**chosen, name: None}
        picks = {key: np.array([value], dtype=object) for key, value in trial.items()}
        if _scores(policy, level, sample, weights, picks, 1, want)[0] >= best:
            chosen = trial
    return {name: value for name, value in chosen.items() if value is not None}


def merged(first: engine.Trace, second: engine.Trace) -> engine.Trace:
    """Both passes as one trace for what is counted over all work: touches, rep time, backlog
    (the per-lead columns are the first pass's)."""
    return dataclasses.replace(
        first, ready_at=np.concatenate([first.ready_at, second.ready_at]),
        started=np.concatenate([first.started, second.started]),
        rep=np.concatenate([first.rep, second.rep]), busy=first.busy + second.busy)
