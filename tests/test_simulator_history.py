"""The simulator and the evaluator count the same: a replication's emitted event log, read back
by the history reader and replayed by `evaluate`, gives the simulator's own clause counts."""

from __future__ import annotations

import json

import pytest

from sla_dsl.cli import main
from sla_dsl.evaluation.inputs import load_history
from sla_dsl.evaluation.replay import BREACHED, MET, PENDING, evaluate, fields_needed
from sla_dsl.language.source import read_policy
from sla_dsl.planning.scenario import load_scenario
from sla_dsl.policy_file import check_source
from sla_dsl.simulator.simulation import simulate

from .conftest import ROOT

SCENARIOS = ROOT / "examples" / "scenarios"


def _policy(name: str):
    return check_source(read_policy(ROOT / "policies" / name)).policy


def evaluated_counts(policy, path, absences=None, reps=None) -> list[dict]:
    """As `sla evaluate` counts the written history (with `--absences` when the run wrote
    its reps' absences beside it, `--reps` when it wrote their own hours)."""
    history = load_history([path], policy=policy, fields=fields_needed(policy),
                           absences=absences, reps=reps)
    assert history.counts.rejected == 0
    return [{"handoff": c.handoff, "clause": c.clause, "leads": len(c.leads),
             "met": c.count(MET), "breached": c.count(BREACHED), "pending": c.count(PENDING)}
            for c in evaluate(policy, history).clauses]


@pytest.mark.parametrize(("policy_name", "scenario_name", "overrides"), [
    # segments from drawn fields, weighted round robin with a daily cap, 6-touch cadences
    ("company-x.sla", "company-x.toml", {"horizon": "30 days"}),
    # a rep's reaction before each attempt: each touch comes later than its pick-up
    ("inbound-desk.sla", "inbound-desk.toml", {"horizon": "14 days",
                                                "work.response": "exponential 3 minutes"}),
    # one shared queue, worked past capacity: many breaches and pending clocks to agree on
    ("inbound-desk.sla", "inbound-desk.toml", {"horizon": "21 days"}),
    # shares of blocks: each lead carries fields the policy routes to its block, two calendars,
    # and both levels: the MDRs' SQLs handed on to the advisors, one in ten without a booked call
    ("new-breed.sla", "new-breed.toml", {"horizon": "21 days"}),
    ("company-x.sla", "company-x.toml", {
        "horizon": "30 days", "arrivals.fields": {},
        "arrivals.mix": {"hot": 0.4, "small": 0.3, "nurture": 0.2, "discard": 0.1}}),
    # the lifecycle: rejected leads handed off again (a round robin with a daily cap, a plain
    # one, a shared queue), leads moved by a manager, by the policy's `reassign after 2
    # business hours` and away from reps on leave
    ("company-x.sla", "company-x.toml", {
        "horizon": "30 days", "recycle": {"share": 0.5, "after": "exponential 5 days"},
        "reassign": {"share": 0.1, "after": "exponential 3 hours", "absent": True},
        "absence": {"share": 0.1}}),
    # a shared queue, its reps away some days, recycled leads back twice at most
    ("inbound-desk.sla", "inbound-desk.toml", {
        "horizon": "21 days", "recycle": {"share": 0.6, "after": "fixed 2 days", "rounds": 2},
        "absence": {"share": 0.1}}),
])
def test_emitted_history_evaluates_to_the_simulators_counts(tmp_path, policy_name,
                                                             scenario_name, overrides):
    policy = _policy(policy_name)
    scenario = load_scenario(SCENARIOS / scenario_name, overrides)
    out = tmp_path / "simulated.csv"
    doc = simulate(policy, scenario, 2, seed=3, emit_history=out, workers=1)
    simulated = [{key: c[key] for key in ("handoff", "clause", "leads", "met", "breached",
                                          "pending")} for c in doc["emitted"]["clauses"]]
    absences = tmp_path / "simulated-absences.csv"
    assert absences.exists() == ("absence" in overrides)
    assert evaluated_counts(policy, out, absences if absences.exists() else None) == simulated
    if "recycle" in overrides:  # leads came back: later rounds judged, and counted alike
        assert doc["emitted"]["lifecycle"]["handed_off_again"] > 0
        assert any(len(c["attempts"]) > 1 for c in doc["emitted"]["clauses"])
    assert sum(c["met"] for c in simulated) > 0 and sum(c["breached"] for c in simulated) > 0


def test_emit_history_on_the_command_line_agrees_with_sla_evaluate(tmp_path, capsys):
    out = tmp_path / "desk.csv"
    policy = ROOT / "policies" / "inbound-desk.sla"
    scenario = tmp_path / "desk.toml"
    scenario.write_text((SCENARIOS / "inbound-desk.toml").read_text()
                        .replace('horizon = "90 days"', 'horizon = "14 days"'))
    assert main(["simulate", str(policy), "--scenario", str(scenario), "--replications", "2",
                 "--format", "json", "--emit-history", str(out)]) == 0
    emitted = json.loads(capsys.readouterr().out)["emitted"]["clauses"]
    assert main(["evaluate", str(policy), "--history", str(out), "--format", "json"]) in (0, 1)
    evaluated = json.loads(capsys.readouterr().out)["summary"]["clauses"]
    assert [(c["clause"], c["met"], c["breached"], c["pending"]) for c in evaluated] == \
        [(c["clause"], c["met"], c["breached"], c["pending"]) for c in emitted]


def test_emit_history_into_a_missing_folder_is_a_usage_error(tmp_path, capsys):
    assert main(["simulate", str(ROOT / "policies" / "inbound-desk.sla"), "--scenario",
                 str(SCENARIOS / "inbound-desk.toml"),
                 "--emit-history", str(tmp_path / "nowhere" / "out.csv")]) == 2
    err = capsys.readouterr().err
    assert "--emit-history" in err and "help:" in err and "Traceback" not in err
