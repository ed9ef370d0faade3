"""Caps on open leads (`cap N open leads`) and team-level triggers (`CLAUSE missed N times per
PERIOD by PARTY | by team "T"`): the language, the evaluator's reading of a history, and the
simulator dealing by the same rule. Every expected number below is worked out by hand in the
comments beside it."""

from __future__ import annotations

import pytest

import sla_dsl
from sla_dsl.evaluation.replay import fields_needed
from sla_dsl.history.read import load_history
from sla_dsl.language.source import Source, read_policy
from sla_dsl.planning.scenario import load_scenario
from sla_dsl.policy_file import check_source, check_text, format_source
from sla_dsl.reports.agreement import agreement, render_markdown
from sla_dsl.simulator.open_caps import Dealer
from sla_dsl.simulator.simulation import simulate

from .conftest import ROOT

HEAD = """\
sla "T"
timezone "UTC"
party marketing
party sales
"""


def policy_text(rotation: str, *triggers: str) -> str:
    return HEAD + (f"handoff every lead from marketing to sales {{\n  {rotation}\n"
                   "  first touch within 1 hour\n}\n") + "".join(f"{t}\n" for t in triggers)


def codes_of(text: str) -> list[str]:
    return [d.code.code for d in check_text(text).diagnostics]


# ---------------------------------------------------------------- the language


def test_open_cap_and_team_triggers_parse_format_and_round_trip():
    text = policy_text(
        'assign round robin team "sdr" weights { "ana": 1, "bo": 1 } cap 25 per day '
        "cap 20 open leads",
        "review when first touch missed 3 times per month by sales",
        'cancel when first touch missed 5 times per week by team "sdr" or '
        "first touch missed 9 times per year")
    checked = check_text(text)
    assert checked.diagnostics == []
    rotation = checked.policy.handoffs[0].item("round_robin")
    assert (rotation.cap.count.value, rotation.cap.per, rotation.open_cap.value) == (25, "day", 20)
    review = next(s for s in checked.policy.statements if s.kind == "review_when").when
    cancel = checked.policy.cancel_triggers[0].when
    assert (review.kind, review.count.value, review.per, review.party.value, review.team) == (
        "missed_count", 3, "month", "sales", None)
    assert cancel.operands[0].team.value == "sdr" and cancel.operands[1].party is None
    once, _ = format_source(Source("t.sla", text))
    assert once == text  # already canonical
    assert format_source(Source("t.sla", once))[0] == once


@pytest.mark.parametrize(("line", "trigger", "codes"), [
    ('assign round robin team "sdr" cap 0 open leads', "", ["E406"]),
    ('assign round robin team "sdr" cap 2.5 open leads', "", ["E406"]),
    ('assign round robin team "sdr"', "review when first touch missed 0 times per month",
     ["E406"]),
    ('assign round robin team "sdr"', "review when deliver missed 3 times per month", ["E407"]),
    ('assign round robin team "sdr"', "review when first touch missed 3 times per month by salez",
     ["E203"]),
    ('assign round robin team "sdr"',
     'review when first touch missed 3 times per month by team "sdrr"', ["E200"]),
    ('assign round robin team "sdr"', "review when disposition missed 3 times per month",
     ["W501"]),
])
def test_misuse_is_reported(line, trigger, codes):
    assert codes_of(policy_text(line, trigger) if trigger else policy_text(line)) == codes


def test_sla_explain_words_both():
    policy = sla_dsl.load_policy(ROOT / "policies" / "sales-floor.sla")
    text = render_markdown(agreement(policy))
    assert "no more than 20 open leads each at a time" in text
    assert "reviewed sooner when first touch is breached 3 times in one month by sales" in text
    assert "first touch is breached 10 times in one month by the SDR team" in text


# ---------------------------------------------------------------- the evaluator

# Cap 2 open leads. Hand count, every event on 2 March (UTC):
#   09:00 L1 -> ana (ana holds 1)      09:05 L2 -> bo (bo 1)       09:10 L3 -> ana (ana 2: at cap)
#   09:15 L4 -> bo (bo 2): ana at cap, skipped
#   09:30 L1 connected: ana holds 1, eligible again
#   09:40 L5 -> ana (ana 2): bo at cap, skipped
#   09:50 L2 rejected: bo holds 1
#   10:00 L6 -> bo (bo 2): ana at cap, skipped
#   10:05 L7 -> ana: ana already holds 2, over the cap (3 open); bo at cap, skipped
CAPPED = [("L1", "09:00", "ana"), ("L2", "09:05", "bo"), ("L3", "09:10", "ana"),
          ("L4", "09:15", "bo"), ("L5", "09:40", "ana"), ("L6", "10:00", "bo"),
          ("L7", "10:05", "ana")]


def _history(tmp_path, rows: list[tuple[str, str, str, str]], policy) -> object:
    path = tmp_path / "history.csv"
    path.write_text("lead_id,at,event,actor\n" + "".join(
        f"{lead},{at},{event},{actor}\n" for lead, at, event, actor in rows))
    return load_history([path], timezone="UTC", fields=fields_needed(policy))


def test_a_rep_at_the_open_cap_is_skipped_and_eligible_again_after_a_connect(tmp_path):
    policy = sla_dsl.load_policy(policy_text(
        'assign round robin team "sdr" weights { "ana": 1, "bo": 1 } cap 2 open leads'))
    rows = []
    for lead, time, rep in CAPPED:
        rows += [(lead, f"2026-03-02T{time}Z", "handoff", "marketing"),
                 (lead, f"2026-03-02T{time}Z", "assigned", rep)]
    rows += [("L1", "2026-03-02T09:30Z", "connected", "ana"),
             ("L2", "2026-03-02T09:50Z", "rejected", "bo")]
    report = sla_dsl.evaluate(policy, _history(tmp_path, rows, policy), "2026-03-02T12:00Z")
    (block,) = report.document["assignments"]
    assert block["open_cap"] == 2
    ana, bo = ({k: v for k, v in r["open_cap"].items()} for r in block["reps"])
    assert (ana["skipped"], ana["over"], ana["most_open"]) == (2, 1, 3)
    assert [(s["at"], s["lead_id"], s["went_to"]) for s in ana["latest_skips"]] == [
        ("2026-03-02T09:15:00+00:00", "L4", "bo"), ("2026-03-02T10:00:00+00:00", "L6", "bo")]
    assert (bo["skipped"], bo["over"], bo["most_open"]) == (2, 0, 2)
    assert [s["lead_id"] for s in bo["latest_skips"]] == ["L5", "L7"]
    text = report.text()
    assert "open leads: at most 3 at once, skipped at the cap for 2, over the cap 1" in text
    assert "latest skipped at open cap" in report.html()


def test_a_lead_handed_on_or_reassigned_is_no_longer_open(tmp_path):
    # cap 1: L1 is reassigned away from ana at 09:05, so at 09:10 she holds none and takes L2
    # without being over the cap; bo holds L1 from then on
    policy = sla_dsl.load_policy(policy_text(
        'assign round robin team "sdr" weights { "ana": 1, "bo": 1 } cap 1 open leads'))
    rows = [("L1", "2026-03-02T09:00Z", "handoff", "marketing"),
            ("L1", "2026-03-02T09:00Z", "assigned", "ana"),
            ("L1", "2026-03-02T09:05Z", "assigned", "bo"),
            ("L2", "2026-03-02T09:10Z", "handoff", "marketing"),
            ("L2", "2026-03-02T09:10Z", "assigned", "ana")]
    report = sla_dsl.evaluate(policy, _history(tmp_path, rows, policy), "2026-03-02T12:00Z")
    ana = report.document["assignments"][0]["reps"][0]["open_cap"]
    assert (ana["over"], ana["most_open"]) == (0, 1)


# Wall-clock first touch within 1 hour (UTC), counted for the party `sales`:
#   L5 handed 30 Jan 10:00 -> breach 30 Jan 11:00 (January: 1)
#   L1 2 Feb 10:00 -> breach 11:00;  L2 10 Feb 10:00 -> breach 11:00
#   L3 17 Feb 10:00, touched 10:30: met
#   L4 20 Feb 09:00, touched 12:00 -> breach at its due time, 20 Feb 10:00: February's third
MISSES = [("L5", "2026-01-30T10:00Z", None), ("L1", "2026-02-02T10:00Z", None),
          ("L2", "2026-02-10T10:00Z", None), ("L3", "2026-02-17T10:00Z", "2026-02-17T10:30Z"),
          ("L4", "2026-02-20T09:00Z", "2026-02-20T12:00Z")]


@pytest.mark.parametrize(("as_of", "fired"), [
    ("2026-02-20T09:59Z", False),  # two February breaches so far
    ("2026-02-20T10:00Z", True),  # the third, L4's, falls due
])
def test_a_team_trigger_fires_in_the_month_it_reaches_three_misses_and_not_before(
        tmp_path, as_of, fired):
    policy = sla_dsl.load_policy(policy_text(
        'assign round robin team "sdr" weights { "ana": 1, "bo": 1 }',
        "review when first touch missed 3 times per month by sales",
        'cancel when first touch missed 2 times per week by team "sdr"'))
    rows = []
    for lead, handed, touched in MISSES:
        rows += [(lead, handed, "handoff", "marketing"), (lead, handed, "assigned", "ana")]
        if touched:
            rows.append((lead, touched, "touch", "ana"))
    report = sla_dsl.evaluate(policy, _history(tmp_path, rows, policy), as_of)
    review, cancel = report.document["triggers"]
    assert review["triggered"] is fired
    february = next(r for r in review["breaches"] if r["start"] == "2026-02-01")
    assert february["breaches"] == (3 if fired else 2)
    assert [r["breaches"] for r in review["breaches"] if r["start"] == "2026-01-01"] == [1]
    if fired:
        assert february["reached_at"] == "2026-02-20T10:00:00+00:00"
        assert review["readings"] == ["sales: 3 breaches of first touch in the month from "
                                      "2026-02-01, the 3rd at 2026-02-20T10:00:00+00:00"]
        assert "Breaches per party or team and period" in report.html()
    else:
        assert review["readings"] == ["most breaches of first touch by sales in one month: 2"]
    # one breach in each week: the weekly cancel by team never reaches two
    assert cancel["triggered"] is False
    assert max(r["breaches"] for r in cancel["breaches"]) == 1
    assert ("TRIGGERED" if fired else "not triggered") in report.text().split(
        "review when first touch missed 3 times per month by sales:")[1].split("\n")[0]


# ---------------------------------------------------------------- the simulator


def test_the_dealer_skips_a_rep_at_the_cap_until_a_lead_closes():
    dealer = Dealer([10, 11], [1.0, 1.0], open_cap=1).fresh()
    assert dealer.pick(0.0) == 10
    assert dealer.pick(1.0) == 11
    assert dealer.pick(2.0) is None  # both hold one: the lead waits
    dealer.release(11)
    assert dealer.pick(3.0) == 11  # 10 is still at the cap: skipped
    dealer.release(10)
    assert dealer.pick(4.0) == 10


def test_the_simulator_never_deals_a_rep_more_open_leads_than_the_cap(tmp_path):
    policy = check_source(read_policy(ROOT / "policies" / "sales-floor.sla")).policy
    scenario_path = tmp_path / "floor.toml"
    scenario_path.write_text('horizon = "21 days"\n[arrivals]\nrate = "1.5 per hour"\n'
                             '[team.sdr]\nreps = 3\n[work]\ntouch = "exponential 12 minutes"\n')
    scenario = load_scenario(scenario_path)
    out = tmp_path / "emitted.csv"
    doc = simulate(policy, scenario, 2, seed=5, emit_history=out, workers=1)
    history = load_history([out], timezone=policy.timezone, fields=fields_needed(policy))
    report = sla_dsl.evaluate(policy, history, include_leads=False)
    (block,) = report.document["assignments"]
    reps = block["reps"]
    assert {r["rep"] for r in reps} == {"ana", "bo", "sdr 3"}
    assert all(r["open_cap"]["over"] == 0 and r["open_cap"]["most_open"] <= 20 for r in reps)
    assert max(r["open_cap"]["most_open"] for r in reps) == 20  # the cap binds
    assert sum(r["open_cap"]["skipped"] for r in reps) > 0
    # the team triggers' periods are counted per run, as the strike limits are
    assert doc["runs"][0]["team_limits_reached"]["mean"] >= 0
    # and the evaluator counts the emitted history as the simulator did
    counted = [(c["clause"], c["met"], c["breached"], c["pending"])
               for c in doc["emitted"]["clauses"]]
    assert counted == [(c["clause"], c["met"], c["breached"], c["pending"])
                       for c in report.document["summary"]["clauses"]]
