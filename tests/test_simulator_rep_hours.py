"""Reps who keep their own hours in a simulation (`[reps] file`, issue 15 item 6): they work only
in their own open hours (their zone, their weekly hours, the policy calendar's holidays), and a
block on `clocks run on owner hours` is counted on them, as `sla evaluate --reps` counts the
emitted history."""

from __future__ import annotations

import csv
import datetime as dt
import json
from zoneinfo import ZoneInfo

import pytest

from sla_dsl.cli import main
from sla_dsl.language.source import read_policy
from sla_dsl.planning.scenario import ScenarioError, load_scenario
from sla_dsl.policy_file import check_source
from sla_dsl.simulator.simulation import simulate

from .conftest import ROOT
from .test_simulator_history import evaluated_counts

POLICY = ROOT / "policies" / "coast-to-coast.sla"
SCENARIO = ROOT / "examples" / "scenarios" / "coast-to-coast.toml"
REPS = ROOT / "examples" / "scenarios" / "coast-to-coast-reps.csv"
COUNTED = ("handoff", "clause", "leads", "met", "breached", "pending")


def _policy():
    return check_source(read_policy(POLICY)).policy


def _scenario(tmp_path, reps_text: str | None = None, response: bool = True):
    """The shipped scenario over 30 days (MLK Day, Monday 18 January 2027, inside), beside
    its reps file or `reps_text`; without `response` a touch comes when the rep starts it."""
    text = SCENARIO.read_text().replace('horizon = "90 days"', 'horizon = "30 days"')
    if not response:
        text = text.replace('response = "exponential 10 minutes"\n', "")
    (tmp_path / "coast-to-coast-reps.csv").write_text(reps_text or REPS.read_text())
    path = tmp_path / "scenario.toml"
    path.write_text(text)
    return path


def _touches(history) -> dict[str, list[dt.datetime]]:
    """Each rep's attempts (touch or connected) in the emitted history, as UTC instants."""
    out: dict[str, list[dt.datetime]] = {}
    with open(history, newline="") as handle:
        for row in csv.DictReader(handle):
            if row["event"] in ("touch", "connected"):
                at = dt.datetime.fromisoformat(row["at"].replace("Z", "+00:00"))
                out.setdefault(row["actor"], []).append(at)
    return out


def test_the_same_seed_gives_the_same_run_with_reps_on_their_own_hours(tmp_path):
    policy, scenario = _policy(), load_scenario(_scenario(tmp_path))
    first = simulate(policy, scenario, 3, seed=11, workers=1)
    again = simulate(policy, scenario, 3, seed=11, workers=2)
    assert json.dumps(first, sort_keys=True) == json.dumps(again, sort_keys=True)
    other = simulate(policy, scenario, 3, seed=12, workers=1)
    assert other["clauses"] != first["clauses"]


def test_a_rep_works_only_in_their_own_hours(tmp_path):
    out = tmp_path / "run.csv"
    doc = simulate(_policy(), load_scenario(_scenario(tmp_path, response=False)), 2, seed=5,
                   emit_history=out, workers=1)
    assert doc["emitted"]["reps"] == str(tmp_path / "run-reps.csv")
    touches = _touches(out)
    mlk = dt.date(2027, 1, 18)  # the policy calendar's `closed holidays "US"` closes every rep
    # sdr 3 works mornings in Chicago: 09:00-13:00 Monday to Thursday, 09:00-12:00 on Fridays
    mornings = [t.astimezone(ZoneInfo("America/Chicago")) for t in touches["sdr 3"]]
    assert len(mornings) > 50
    for local in mornings:
        closing = dt.time(12) if local.weekday() == 4 else dt.time(13)
        assert local.weekday() < 5 and local.date() != mlk, local
        assert dt.time(9) <= local.time() < closing, local
    # so no afternoon at all, while the calendar's own rep (sdr 4) works until five Chicago
    chicago = [t.astimezone(ZoneInfo("America/Chicago")) for t in touches["sdr 4"]]
    assert any(local.time() >= dt.time(13) for local in chicago)
    assert all(dt.time(9) <= local.time() < dt.time(17) for local in chicago)
    # sdr 1 works 08:00-16:00 in Los Angeles: some touches after the Chicago calendar closes
    pacific = [t.astimezone(ZoneInfo("America/Los_Angeles")) for t in touches["sdr 1"]]
    assert all(dt.time(8) <= local.time() < dt.time(16) and local.date() != mlk
               for local in pacific)
    assert any(local.time() >= dt.time(15) for local in pacific)  # 17:00 Chicago and later


@pytest.mark.parametrize("overrides", [
    {},
    # with the lifecycle: reps on leave (their leads moved to a present rep, who may be off
    # their own hours), leads moved by a manager, recycled leads dealt again; the clocks'
    # due times ordering the queues
    {"work.discipline": "earliest-due-first", "absence": {"share": 0.1},
     "reassign": {"share": 0.1, "after": "exponential 3 hours", "absent": True},
     "recycle": {"share": 0.5, "after": "exponential 5 days"}},
])
def test_the_emitted_history_and_reps_evaluate_to_the_simulators_counts(tmp_path, overrides):
    policy = _policy()
    out = tmp_path / "simulated.csv"
    doc = simulate(policy, load_scenario(_scenario(tmp_path), overrides), 2, seed=3,
                   emit_history=out, workers=1)
    simulated = [{key: c[key] for key in COUNTED} for c in doc["emitted"]["clauses"]]
    reps, absences = tmp_path / "simulated-reps.csv", tmp_path / "simulated-absences.csv"
    assert absences.exists() == ("absence" in overrides)
    assert evaluated_counts(policy, out, absences if absences.exists() else None,
                            reps=reps) == simulated
    # the reps matter: on the policy calendar's hours alone the same history counts otherwise
    assert evaluated_counts(policy, out) != simulated
    assert sum(c["met"] for c in simulated) > 0 and sum(c["breached"] for c in simulated) > 0


def test_sla_evaluate_with_the_emitted_reps_file_agrees_on_the_command_line(tmp_path, capsys):
    out = tmp_path / "run.csv"
    scenario = _scenario(tmp_path)
    assert main(["simulate", str(POLICY), "--scenario", str(scenario), "--replications", "2",
                 "--emit-history", str(out)]) == 0
    text = capsys.readouterr().out
    assert f"with its reps' own hours in {tmp_path / 'run-reps.csv'}" in text
    assert main(["simulate", str(POLICY), "--scenario", str(scenario), "--replications", "2",
                 "--format", "json", "--emit-history", str(out)]) == 0
    emitted = json.loads(capsys.readouterr().out)["emitted"]
    assert main(["evaluate", str(POLICY), "--history", str(out), "--reps", emitted["reps"],
                 "--format", "json"]) in (0, 1)
    evaluated = json.loads(capsys.readouterr().out)["summary"]["clauses"]
    assert [(c["clause"], c["met"], c["breached"], c["pending"]) for c in evaluated] == \
        [(c["clause"], c["met"], c["breached"], c["pending"]) for c in emitted["clauses"]]


@pytest.mark.parametrize(("row", "reason"), [
    ("sdr 2,America/New_Yrok,mon-fri 09:00-17:00", "not an IANA time zone"),
    ("sdr 2,America/New_York,mon-fri 9am-5pm", "write 09:00-17:00"),
    ("sdr 2,,", "neither a timezone nor hours"),
])
def test_a_bad_reps_row_is_a_scenario_error_with_file_row_and_reason(tmp_path, capsys, row,
                                                                     reason):
    text = f"rep,timezone,hours\nsdr 1,America/Los_Angeles,mon-fri 08:00-16:00\n{row}\n"
    path = _scenario(tmp_path, text)
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    message = str(caught.value)
    assert f"reps.file: {tmp_path / 'coast-to-coast-reps.csv'} row 2: " in message
    assert reason in message and "help:" in message
    assert main(["simulate", str(POLICY), "--scenario", str(path)]) == 2
    err = capsys.readouterr().err
    assert "row 2" in err and reason in err and "Traceback" not in err


def test_a_reps_file_naming_nobody_of_the_scenario_is_refused(tmp_path, capsys):
    path = _scenario(tmp_path, "rep,timezone,hours\nana,America/Los_Angeles,mon-fri 08:00-16:00\n")
    assert main(["simulate", str(POLICY), "--scenario", str(path)]) == 2
    err = capsys.readouterr().err
    assert "names 'ana', who is not a rep of the scenario" in err
    assert "sdr 1, sdr 2, sdr 3, sdr 4" in err


def test_a_missing_reps_file_is_a_scenario_error(tmp_path, capsys):
    path = _scenario(tmp_path)
    path.write_text(path.read_text().replace("coast-to-coast-reps.csv", "nowhere.csv"))
    assert main(["simulate", str(POLICY), "--scenario", str(path)]) == 2
    err = capsys.readouterr().err
    assert "reps.file" in err and "nowhere.csv" in err and "Traceback" not in err


def test_a_reps_file_past_the_limit_is_refused_unread(tmp_path, capsys):
    path = _scenario(tmp_path, "rep,timezone,hours\n" + "#" * (2 * 1024 * 1024) + "\n")
    assert main(["simulate", str(POLICY), "--scenario", str(path)]) == 2
    err = capsys.readouterr().err
    assert "reps.file" in err and "out of range: at most 1,024 KiB" in err


def test_reps_on_a_policy_without_owner_hours_work_their_own_hours_with_a_note(tmp_path):
    text = POLICY.read_text()
    assert "  clocks run on owner hours\n" in text
    written = tmp_path / "calendar-hours.sla"
    written.write_text(text.replace("  clocks run on owner hours\n", ""))
    policy = check_source(read_policy(written)).policy
    assert not policy.handoffs[0].on_owner_hours
    out = tmp_path / "run.csv"
    doc = simulate(policy, load_scenario(_scenario(tmp_path, response=False)), 2, seed=5,
                   emit_history=out, workers=1)
    assert any("no block says 'clocks run on owner hours'" in note for note in doc["notes"])
    mornings = [t.astimezone(ZoneInfo("America/Chicago")) for t in _touches(out)["sdr 3"]]
    assert mornings and all(local.time() < dt.time(13) for local in mornings)
    simulated = [{key: c[key] for key in COUNTED} for c in doc["emitted"]["clauses"]]
    assert evaluated_counts(policy, out) == simulated  # the policy calendar's, reps or not
