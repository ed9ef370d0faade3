"""What a `deliver at least` line counts: the leads its giver hands its receiver, each as it stood
at that handoff (docs/language.md, "A delivery is counted on the leads the giver hands off, as
they stand at their handoff").

An MDR's SQLs to sales are handed over at the second level of handoffs, days after marketing
handed the same leads to the MDRs: counted at marketing's handoff, `mdr to sales: deliver at
least 70 sql` read leads that were SQLs when marketing let them go, in the month marketing did.
The report (`PeriodMeasures`) and `sla diff`'s leads behind a changed delivery read them here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sla_dsl.evaluation.conditions import ConditionEvaluator
from sla_dsl.evaluation.replay import Evaluation
from sla_dsl.evaluation.routing import handoff_levels
from sla_dsl.language import model as m


def lead_values(policy: m.Policy, conditions: ConditionEvaluator, size: int) -> np.ndarray:
    """Each lead's value: the first `value PERSONA` line whose persona matches, else the
    default line; zero without one."""
    values = np.zeros(size)
    decided = np.zeros(size, dtype=bool)
    default = 0.0
    for line in policy.lead_values:
        if line.persona is None:
            default = float(line.amount.amount)
            continue
        hit = ~decided & conditions.definition("bare", line.persona.value)
        values[hit] = float(line.amount.amount)
        decided |= hit
    values[~decided] = default
    return values


def delivery_unit(item: m.DeliverCount | m.DeliverMoney) -> str:
    """What a delivery counts, as the report names it: `leads`, a stage, or money."""
    if isinstance(item, m.DeliverCount):
        return "leads" if item.what.value in ("lead", "leads") else item.what.value
    return f"{item.amount.currency} of {item.measure}"


@dataclass(frozen=True)
class Handed:
    """Each lead the giver handed the receiver, once: when (the first such handoff, µs) and
    at which level of handoffs, whose attributes say how the lead stood then."""

    leads: np.ndarray
    at: np.ndarray
    level: np.ndarray


def handed_over(evaluation: Evaluation, giver: str, receiver: str) -> Handed:
    """The leads in the blocks that pass leads from `giver` (or from anyone: a block that
    names no sender) to `receiver`, at whatever level those blocks stand. A lead the agreement
    does not cover is in no block, so it is not counted."""
    leads, at, level = [], [], []
    for number, blocks in enumerate(handoff_levels(evaluation.policy)):
        for block in blocks:
            if block.receiver is None or block.receiver.value != receiver \
                    or (block.sender is not None and block.sender.value != giver):
                continue
            members = evaluation.leads_of(block.label)
            leads.append(members)
            at.append(evaluation.block_start.get(block.label, evaluation.handoff_at)[members])
            level.append(np.full(len(members), number, dtype=np.int64))
    if not leads:
        empty = np.zeros(0, dtype=np.int64)
        return Handed(empty, empty, empty)
    lead, when, levels = (np.concatenate(parts) for parts in (leads, at, level))
    order = np.lexsort((when, lead))  # a lead handed to the receiver twice counts once, first
    lead, when, levels = lead[order], when[order], levels[order]
    first = np.r_[True, lead[1:] != lead[:-1]] if len(lead) else np.zeros(0, dtype=bool)
    return Handed(lead[first], when[first], levels[first])


def delivered(evaluation: Evaluation, handed: Handed,
              item: m.DeliverCount | m.DeliverMoney) -> np.ndarray:
    """Per handed lead, what it adds to a lead-count or lead-value item: 1 for `leads`, 1 if it
    met the named definition when handed over (else 0), or its lead value then."""
    values = np.zeros(len(handed.leads), dtype=float)
    if isinstance(item, m.DeliverCount) and item.what.value in ("lead", "leads"):
        values[:] = 1.0
        return values
    for level in np.unique(handed.level).tolist():
        at = handed.level == level
        conditions = evaluation.at_handoff_of(level)
        if isinstance(item, m.DeliverCount):
            per_lead = conditions.definition("bare", item.what.value).astype(float)
        else:
            per_lead = lead_values(evaluation.policy, conditions, evaluation.lead_count)
        values[at] = per_lead[handed.leads[at]]
    return values
