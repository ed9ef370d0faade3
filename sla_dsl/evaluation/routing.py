"""The policy's routing: which level a handoff block belongs to, which block takes a lead, and
the names a party acts under.

The evaluator and the simulator both read a policy through these rules, so a simulated lead
and the same lead read back from an emitted history are routed alike; they are the policy's
rules, not the evaluator's, and live apart from the replay that uses them.
"""

from __future__ import annotations

import numpy as np

from sla_dsl.evaluation.conditions import ConditionEvaluator
from sla_dsl.language import model as m


def assign_blocks(policy: m.Policy, conditions: ConditionEvaluator, handed: np.ndarray,
                  handoffs: list[m.Handoff] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Per lead, its segment (the first that fits) and the handoff block that works it.

    The first block whose target fits takes the lead, in the policy's order, among the blocks
    of one level (default: the first): the simulator routes its drawn leads with this same
    function, so both read a policy alike."""
    size = len(handed)
    segments = policy.definitions_of("segment")
    segment = np.full(size, None, dtype=object)
    unassigned = np.ones(size, dtype=bool)
    for definition in segments:
        hit = unassigned & conditions.definition("bare", definition.name.value)
        segment[hit] = definition.name.value
        unassigned &= ~hit
    block = np.full(size, None, dtype=object)
    open_ = handed.copy()
    for handoff in handoff_levels(policy)[0] if handoffs is None else handoffs:
        if handoff.target is None:
            hit = open_
        elif handoff.target.value in {s.name.value for s in segments}:
            hit = open_ & (segment == handoff.target.value)
        else:
            hit = open_ & conditions.definition("bare", handoff.target.value)
        block[hit] = handoff.label
        open_ = open_ & ~hit
    return segment, block


def handoff_levels(policy: m.Policy) -> list[list[m.Handoff]]:
    """The handoff blocks grouped by the party that sends their leads, the first sender's
    first: a lead takes at most one block of each level, so an MDR's handoff of an SQL to sales
    starts a second set of clocks instead of competing with marketing's blocks for the lead.
    Blocks with no sender (`to nobody`) belong to the first level."""
    first = next((h.sender.value for h in policy.handoffs if h.sender), None)
    levels: dict[str | None, list[m.Handoff]] = {None: []}
    for handoff in policy.handoffs:
        sender = handoff.sender.value if handoff.sender else None
        levels.setdefault(None if sender in (None, first) else sender, []).append(handoff)
    return list(levels.values())


def acting_names(policy: m.Policy, party: str) -> set[str]:
    """The names a party's people act under in a history: the party itself, and the teams,
    reps and owners its incoming blocks assign to (an MDR hands off as "mdr" or as "Inez")."""
    names = {party}
    for handoff in policy.handoffs:
        if handoff.receiver is None or handoff.receiver.value != party:
            continue
        for item in handoff.items:
            if isinstance(item, m.RoundRobin):
                names.add(item.team.value)
                names.update(weight.rep.value for weight in item.weights)
            elif isinstance(item, m.FixedOwner):
                names.add(item.owner.value)
    return names
