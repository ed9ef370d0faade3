"""The second level of a multilevel agreement in the simulator: an MDR's SQL handed on to an
inbound advisor, worked, and counted by the evaluator exactly as `sla evaluate` counts it.

The small case is checked by hand: one MDR (Inez), one advisor (Oskar), every touch 30 minutes,
every call connecting, on a weekday 08:30-17:30 New York calendar (EDT from 8 March 2026)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from sla_dsl.evaluation.replay import MET, evaluate
from sla_dsl.history.columns import EVENTS
from sla_dsl.language.source import read_policy
from sla_dsl.planning.scenario import ScenarioError, load_scenario, parse_scenario
from sla_dsl.policy_file import check_source, check_text
from sla_dsl.simulator.context import build
from sla_dsl.simulator.outcomes import Decay
from sla_dsl.simulator.passes import Drawn, deal_leads, work_leads
from sla_dsl.simulator.replication import event_log
from sla_dsl.simulator.simulation import simulate

from .conftest import ROOT
from .test_simulator_history import evaluated_counts

NEW_YORK = ZoneInfo("America/New_York")
SCENARIOS = ROOT / "examples" / "scenarios"

TWO_LEVELS = """\
sla "Two levels"
timezone "America/New_York"
party marketing contact "web@two-levels.example"
party mdr       contact "mdr@two-levels.example"
party sales     contact "advisors@two-levels.example"

calendar us {
  open mon-fri 08:30-17:30
}

stage sql when budget > 0

handoff every lead from marketing to mdr {
  assign to "Inez"
  first touch within 1 business hour on calendar us
  disposition within 3 business days on calendar us
}

handoff sql from mdr to sales {
  when discovery_call_booked == true
  assign to "Oskar"
  first touch within 4 business hours on calendar us
  disposition within 2 business days on calendar us
}
"""

FIXED = """\
horizon = "14 days"
start = 2026-03-09
[arrivals]
rate = "1 per day"
[work]
touch = "fixed 30 minutes"
[outcomes]
connect = 1.0
decay = "none"
qualify = 1.0
opportunity = 1.0
win = 0.0
"""


def _local(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=NEW_YORK)


def _us(moment: dt.datetime) -> int:
    return int(moment.timestamp()) * 1_000_000


def _one_lead_each(handed_local: list[str], scenario_text: str = FIXED):
    """Leads handed off by marketing at the given New York times, worked by the model with
    fixed times, and the evaluator's reading of the history they leave."""
    policy = check_text(TWO_LEVELS).policy
    context = build(policy, parse_scenario(scenario_text))
    handed = np.array([(_us(_local(t)) - context.origin) / 1e6 for t in handed_local])
    block = np.zeros(len(handed), dtype=np.int64)
    owner, assigned = deal_leads(context, handed, block)
    drawn = Drawn(handed, {}, block, owner, assigned)
    rng = np.random.default_rng(1)
    decay = Decay.of("none")
    trace, work, window_end = work_leads(context, drawn, decay, rng)
    log, _, _ = event_log(context, drawn, trace, work, window_end, decay, rng)
    history = log.history(len(handed), context.actors, context.end_us)
    return history, evaluate(policy, history)


def _events(history, lead: int) -> list[tuple[str, str, str]]:
    rows = np.flatnonzero(history.lead == lead)
    return [(dt.datetime.fromtimestamp(int(history.at[r]) / 1e6, NEW_YORK).strftime(
                "%a %H:%M:%S"), EVENTS[history.event[r]],
             "" if history.actor[r] < 0 else str(history.actors[history.actor[r]]))
            for r in rows]


def _clause(evaluation, handoff: str, clause: str):
    return next(c for c in evaluation.clauses if c.handoff == handoff and c.clause == clause)


def _local_text(at_us: int) -> str:
    return dt.datetime.fromtimestamp(int(at_us) / 1e6, NEW_YORK).strftime("%a %H:%M:%S")


def test_an_sql_qualified_wednesday_at_four_is_due_with_the_advisor_thursday_at_eleven():
    # Inez touches at 15:29:59, connects, and the touch ends (qualified) at 15:59:59; she
    # hands the SQL on a second later, at 16:00. Four business hours: 1.5 on Wednesday, 2.5 on
    # Thursday from 08:30 = Thursday 11:00. Oskar is free, so he calls at once.
    history, evaluation = _one_lead_each(["2026-03-11T15:29:59"])
    assert _events(history, 0) == [
        ("Wed 15:29:59", "created", ""), ("Wed 15:29:59", "handoff", "marketing"),
        ("Wed 15:29:59", "assigned", "Inez"), ("Wed 15:29:59", "connected", "Inez"),
        ("Wed 15:59:59", "updated", "Inez"), ("Wed 15:59:59", "accepted", "Inez"),
        ("Wed 16:00:00", "handoff", "Inez"), ("Wed 16:00:00", "assigned", "Oskar"),
        ("Wed 16:00:00", "connected", "Oskar"), ("Wed 16:30:00", "accepted", "Oskar")]
    first = _clause(evaluation, "sql", "first touch")
    assert _local_text(first.due[0]) == "Thu 11:00:00"
    assert _local_text(first.at[0]) == "Wed 16:00:00" and first.status[0] == MET
    # two business days from Wednesday 16:00: Friday 16:00; met by Oskar's own accepted,
    # not by Inez's a second before the handoff
    disposition = _clause(evaluation, "sql", "disposition")
    assert _local_text(disposition.due[0]) == "Fri 16:00:00"
    assert _local_text(disposition.at[0]) == "Wed 16:30:00"
    assert _clause(evaluation, "sql", "threshold").status[0] == MET
    assert list(first.owner) == ["Oskar"]
    assert list(_clause(evaluation, "every lead", "first touch").owner) == ["Inez"]


def test_an_sql_qualified_after_closing_waits_for_the_advisors_next_opening():
    # Inez's touch starts at 17:14:59, before closing, and runs to its end (17:44:59): the SQL
    # is handed on at 17:45, when the advisors' calendar is shut. Oskar calls Thursday at
    # 08:30, and the four business hours run from then: due 12:30.
    history, evaluation = _one_lead_each(["2026-03-11T17:14:59"])
    assert ("Wed 17:45:00", "handoff", "Inez") in _events(history, 0)
    first = _clause(evaluation, "sql", "first touch")
    assert _local_text(first.due[0]) == "Thu 12:30:00"
    assert _local_text(first.at[0]) == "Thu 08:30:00" and first.status[0] == MET


SMALL_RUN = FIXED.replace('rate = "1 per day"', 'rate = "12 per day"').replace(
    "connect = 1.0", "connect = 0.6")


@pytest.mark.parametrize(("booked", "met", "breached"), [(1.0, True, False), (0.0, False, True),
                                                          (0.5, True, True)])
def test_booked_is_the_share_of_sqls_handed_on_with_the_threshold_met(booked, met, breached):
    policy = check_text(TWO_LEVELS).policy
    scenario = parse_scenario(SMALL_RUN + f"booked = {booked}\n")
    doc = simulate(policy, scenario, 2, seed=5, workers=1)
    threshold = next(c for c in doc["clauses"] if c["handoff"] == "sql"
                     and c["clause"] == "threshold")
    assert threshold["leads"]["mean"] > 20
    assert (threshold["met"]["mean"] > 0) == met
    assert (threshold["breached"]["mean"] > 0) == breached


def test_a_booked_share_out_of_range_is_refused_with_the_key():
    with pytest.raises(ScenarioError, match=r"outcomes\.booked: 1\.5 is not a probability"):
        parse_scenario(FIXED + "booked = 1.5\n")


@pytest.mark.parametrize(("later", "opened"), [("", 0.6), ("connect_later = 1.0\n", 1.0),
                                                ("connect_later = 0.0\n", 0.0)])
def test_connect_later_is_the_advisor_s_chance_the_first_level_keeps_connect(later, opened):
    # the advisor makes one attempt (the `sql` block has no cadence): without connect_later it
    # connects at the MDR's 60%, with it at its own chance; the MDR's SQLs do not change
    policy = check_text(TWO_LEVELS).policy
    scenario = parse_scenario(SMALL_RUN + later)
    assert scenario.outcomes.connect_at(0) == 0.6
    runs = simulate(policy, scenario, 4, seed=5, workers=1)["runs"]
    sqls = sum(m["sqls"]["mean"] for m in runs[0]["months"])
    opportunities = sum(m["opportunities"]["mean"] for m in runs[0]["months"])
    assert sqls > 60
    assert opportunities / sqls == pytest.approx(opened, abs=0.12)


def test_a_connect_later_out_of_range_is_refused_with_the_key():
    with pytest.raises(ScenarioError, match=r"outcomes\.connect_later: 2 is not a probability"):
        parse_scenario(FIXED + "connect_later = 2\n")


def test_a_second_level_worked_by_a_first_level_team_is_left_out_with_a_note():
    policy = check_text(TWO_LEVELS.replace('assign to "Oskar"', 'assign to "Inez"')).policy
    context = build(policy, parse_scenario(FIXED))
    assert context.second is None
    assert "team Inez works both levels" in context.level_notes[0]


def _new_breed():
    return check_source(read_policy(ROOT / "policies" / "new-breed.sla")).policy


def test_new_breed_emitted_history_agrees_on_both_levels(tmp_path):
    policy = _new_breed()
    scenario = load_scenario(SCENARIOS / "new-breed.toml",
                             {"horizon": "28 days", "outcomes.booked": 0.8})
    out = tmp_path / "new-breed.csv"
    doc = simulate(policy, scenario, 2, seed=3, emit_history=out, workers=1)
    simulated = [{key: c[key] for key in ("handoff", "clause", "leads", "met", "breached",
                                          "pending")} for c in doc["emitted"]["clauses"]]
    assert evaluated_counts(policy, out) == simulated
    sql = {c["clause"]: c for c in simulated if c["handoff"] == "sql"}
    assert sql["threshold"]["met"] > 0 and sql["threshold"]["breached"] > 0
    assert sql["first touch"]["leads"] == sql["threshold"]["leads"] > 10
    assert sql["first touch"]["met"] > 0
    # the MDR manager hears of every SQL sent without a booked call
    escalated = next(c for c in doc["runs"][0]["consequences"] if c["to"] == "mdr manager")
    assert escalated["fired"]["mean"] == next(
        c["breached"]["mean"] for c in doc["clauses"]
        if c["handoff"] == "sql" and c["clause"] == "threshold")
    advisors = next(t for t in doc["runs"][0]["teams"] if t["team"] == "inbound advisors")
    assert advisors["utilisation"]["mean"] > 0


def test_opportunities_follow_the_advisors_connects():
    policy = check_text(TWO_LEVELS).policy
    scenario = parse_scenario(SMALL_RUN)
    doc = simulate(policy, scenario, 2, seed=5, workers=1)
    sqls = sum(m["sqls"]["mean"] for m in doc["runs"][0]["months"])
    opportunities = sum(m["opportunities"]["mean"] for m in doc["runs"][0]["months"])
    disposition = next(c for c in doc["clauses"] if c["handoff"] == "sql"
                       and c["clause"] == "disposition")
    # opportunity = 1.0: every advisor's connect is an opportunity, a missed call (one
    # attempt: the block has no cadence) is not, and either way the advisor decides at once
    assert 0 < opportunities < sqls
    assert disposition["met"]["mean"] > 0 and disposition["breached"]["mean"] == 0


def test_a_second_level_team_with_a_space_in_its_name_can_be_swept():
    from sla_dsl.simulator.sweep import parse_sweep

    sweep = parse_sweep("team.inbound advisors.reps=1..3")
    assert (sweep.key, sweep.values) == ("team.inbound advisors.reps", (1, 2, 3))
    scenario = load_scenario(SCENARIOS / "new-breed.toml", {sweep.key: 1})
    assert scenario.teams["inbound advisors"] == 1


def test_the_qualification_never_rewrites_what_the_first_level_judged_by():
    # The first level takes every lead but wants score >= 60; the sql stage reads the score
    # too. The MDR records a budget at qualification, never a score, so an SQL below 60 (a
    # threshold breach by marketing) is no `sql` for the policy and stays with the MDR.
    policy = check_text(TWO_LEVELS.replace("stage sql when budget > 0",
                                           "stage sql when score >= 60 and budget > 0")
                        .replace('  assign to "Inez"\n', '  when score >= 60\n  assign to "Inez"\n')
                        ).policy
    scenario = parse_scenario(SMALL_RUN.replace(
        "[work]", '[arrivals.fields]\nscore = "uniform 0 100"\n[work]'))
    context = build(policy, scenario)
    assert "score" not in context.second.meets and "budget" in context.second.meets
    doc = simulate(policy, scenario, 2, seed=2, workers=1)
    counts = {(c["handoff"], c["clause"]): c for c in doc["clauses"]}
    assert counts[("every lead", "threshold")]["breached"]["mean"] > 0
    sqls = sum(m["sqls"]["mean"] for m in doc["runs"][0]["months"])
    handed_on = counts[("sql", "first touch")]["leads"]["mean"]
    assert 0 < handed_on < sqls


def test_a_mix_share_for_a_later_level_is_refused_with_the_blocks_to_use(tmp_path, capsys):
    from sla_dsl.cli import main

    scenario = tmp_path / "mix.toml"
    scenario.write_text((SCENARIOS / "new-breed.toml").read_text().replace(
        "bad_fit_not_interested = 0.2", "bad_fit_not_interested = 0.1\nsql = 0.1"))
    assert main(["simulate", str(ROOT / "policies" / "new-breed.sla"), "--scenario",
                 str(scenario)]) == 2
    err = capsys.readouterr().err
    assert "'sql', which is a later level's handoff" in err and "use good_fit_interested" in err
    assert "Traceback" not in err
