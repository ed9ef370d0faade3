"""The replay keeps each clause's owners as actor codes beside their names
(`ClauseResult.owner_code`), and the report counts owners by those codes. A result without
codes (one merged from shards' partial files) is counted by its names: both ways must give
the same owner table, and the codes must name the same owners as the names."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from sla_dsl.evaluation.replay import evaluate, fields_needed
from sla_dsl.history.read import load_history
from sla_dsl.language.source import read_policy
from sla_dsl.policy_file import check_source
from sla_dsl.reports.document import owner_summaries

from .conftest import ROOT

CASES = [
    ("company-x.sla", "examples/company-x/history.csv"),
    ("company-x-trial.sla", "examples/company-x/history.csv"),  # restarts and splits
    ("new-breed.sla", "examples/new-breed/history.csv"),
]


def _evaluation(policy_name: str, history_path: str):
    checked = check_source(read_policy(str(ROOT / "policies" / policy_name)))
    assert checked.ok
    policy = checked.policy
    history = load_history([ROOT / history_path], timezone=policy.timezone or "UTC",
                           fields=fields_needed(policy))
    return evaluate(policy, history)


@pytest.mark.parametrize(("policy_name", "history_path"), CASES)
def test_owner_codes_name_the_owners(policy_name, history_path):
    evaluation = _evaluation(policy_name, history_path)
    actors = evaluation.history.actors
    for result in evaluation.clauses:
        assert result.owner_code is not None
        named = [None if code < 0 else actors[code] for code in result.owner_code.tolist()]
        assert named == result.owner.tolist()


@pytest.mark.parametrize(("policy_name", "history_path"), CASES)
def test_owners_counted_by_code_as_by_name(policy_name, history_path):
    evaluation = _evaluation(policy_name, history_path)
    by_code = owner_summaries(evaluation)
    assert any(row["breached"] or row["met"] for row in by_code)
    evaluation.clauses = [dataclasses.replace(r, owner_code=None) for r in evaluation.clauses]
    assert owner_summaries(evaluation) == by_code


def test_an_actor_named_none_is_counted_with_the_leads_of_no_owner():
    evaluation = _evaluation("company-x.sla", "examples/company-x/history.csv")
    history = evaluation.history
    actors = np.array([*history.actors.tolist(), "None"], dtype=object)
    evaluation.history = dataclasses.replace(history, actors=actors)
    first = evaluation.clauses[0]
    code = first.owner_code.copy()
    code[:3] = len(actors) - 1  # three rows owned by an actor whose name is "None"
    owner = first.owner.copy()
    owner[:3] = "None"
    evaluation.clauses[0] = dataclasses.replace(first, owner_code=code, owner=owner)
    by_code = owner_summaries(evaluation)
    evaluation.clauses = [dataclasses.replace(r, owner_code=None) for r in evaluation.clauses]
    assert owner_summaries(evaluation) == by_code
