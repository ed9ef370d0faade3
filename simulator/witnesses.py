"""Lead fields that make the policy route a lead to a chosen block, for `[arrivals.mix]`.

A mix gives shares of blocks, not fields; but the history the simulator hands the evaluator
(and `--emit-history` writes) must carry fields the policy's own definitions classify the same
way, or the evaluator would judge a lead by another block's clauses. So for each block a
witness is searched: candidate leads built from the literals the policy's conditions compare
against (each number and its neighbours, each listed text, the words of each pattern, empty),
classified by the evaluator's rule; the first that lands in the block, preferring one that also
meets the block's threshold, is the fields every lead of that share carries.
"""

from __future__ import annotations

import datetime as dt
import re

import numpy as np
from sla_dsl.simulator.errors import NotSimulated
from sla_dsl.simulator.routing import classify_fields

from sla_dsl.evaluation.conditions import ConditionEvaluator, fields_used
from sla_dsl.language import model as m

_TRIES = 8192


def _number_texts(value: float) -> list[str]:
    return [f"{v:g}" for v in (value - 1, value, value + 1)]


def _literals(value: m.Value) -> list[str]:
    if isinstance(value, m.Number):
        return _number_texts(float(value.value))
    if isinstance(value, m.Duration):
        return _number_texts(float(value.amount))
    if isinstance(value, m.Boolean):
        return ["true", "false"]
    if isinstance(value, m.DateValue):
        return [(value.value + dt.timedelta(days=d)).isoformat() for d in (-1, 0, 1)]
    if isinstance(value, m.Text):
        return [value.value]
    return []


def candidate_values(policy: m.Policy) -> dict[str, list[str | None]]:
    """Per field the policy reads, the values worth trying (None: the lead lacks it)."""
    found: dict[str, list[str | None]] = {name: [None] for name in sorted(fields_used(policy))}
    for _, node in policy.nodes_of(m.Compare):
        found[node.field.value] += _literals(node.value)
    for _, node in policy.nodes_of(m.Membership):
        for value in node.values:
            found[node.field.value] += _literals(value)
    for _, node in policy.nodes_of(m.PatternMatch):
        found[node.field.value] += [w for w in re.findall(r"[A-Za-z][A-Za-z ]+[A-Za-z]",
                                                         node.pattern.value)]
    for _, node in policy.nodes_of(m.Presence):
        found[node.field.value] += ["yes"]
    for name in found:
        found[name] += ["true", "false", "0"]
    return {name: list(dict.fromkeys(values)) for name, values in found.items()}


def witnesses(policy: m.Policy, labels: list[str]) -> dict[str, dict[str, str | None]]:
    """Fields per block label that the policy routes to that block."""
    rng = np.random.default_rng(0)  # the same witnesses every run
    values = candidate_values(policy)
    columns = {name: np.asarray(options, dtype=object)[rng.integers(0, len(options), _TRIES)]
               for name, options in values.items()}
    blocks = classify_fields(policy, columns, _TRIES)
    conditions = ConditionEvaluator(policy, columns, _TRIES)
    out = {}
    for label in labels:
        handoff = next(h for h in policy.handoffs if h.label == label)
        landed = blocks == label
        threshold = handoff.item("when")
        if isinstance(threshold, m.Threshold):
            meets = landed & conditions.evaluate(threshold.condition)
            landed = meets if meets.any() else landed
        hits = np.flatnonzero(landed)
        if not len(hits):
            raise NotSimulated(
                f"[arrivals.mix] gives a share to '{label}', but no lead the model could make "
                "up lands in that block by the policy's definitions: give [arrivals.fields] "
                "distributions instead, so the policy classifies the leads itself")
        chosen = {name: column[hits[0]] for name, column in columns.items()}
        out[label] = _minimal(policy, chosen, label, threshold)
    return out


def _routes(policy: m.Policy, fields: dict[str, str | None], label: str,
            threshold: m.HandoffItem | None) -> bool:
    columns = {name: np.array([value], dtype=object) for name, value in fields.items()}
    if classify_fields(policy, columns, 1)[0] != label:
        return False
    return not isinstance(threshold, m.Threshold) or bool(
        ConditionEvaluator(policy, columns, 1).evaluate(threshold.condition)[0])


def _minimal(policy: m.Policy, fields: dict[str, str | None], label: str,
             threshold: m.HandoffItem | None) -> dict[str, str | None]:
    """Drop every field the routing does not need, so a witness says no more than it must
    (a stray `status = "on hold"` would pause the lead's clocks)."""
    keep_threshold = _routes(policy, fields, label, threshold)
    for name in list(fields):
        if fields[name] is None:
            continue
        trial = {**fields, name: None}
        if _routes(policy, trial, label, threshold if keep_threshold else None):
            fields = trial
    return fields
