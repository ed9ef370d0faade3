"""The simpy model against queueing theory, and its seeded reproducibility."""

from __future__ import annotations

import json

import pytest

from simulator.model import Queue
from simulator.replications import replicate
from sla_dsl.cli import main
from sla_dsl.queueing import mean_wait, service_level

from .conftest import FIXTURES, ROOT

# c = 5 reps, 20 leads an hour at 12 minutes each: A = 4 Erlangs; T = 3 minutes: T/AHT = 0.25
QUEUE = Queue(arrivals_per_hour=20, reps=5, mean_touch_hours=0.2)


@pytest.fixture(scope="module")
def result():
    return replicate(QUEUE, deadline_hours=0.05, horizon_hours=500, replications=20, seed=11)


def test_attainment_agrees_with_erlang_c_within_the_runs_interval(result):
    expected = service_level(5, 4.0, 0.05, 0.2)  # 0.5685
    assert result.attainment.low <= expected <= result.attainment.high
    assert result.attainment.high - result.attainment.low < 0.04  # and the interval is tight


def test_mean_wait_agrees_with_erlang_c(result):
    expected = mean_wait(5, 4.0, 0.2)
    assert result.mean_wait_hours.low <= expected <= result.mean_wait_hours.high


def test_littles_law_holds_for_the_backlog(result):
    # leads waiting on average = arrival rate x mean wait
    expected = 20 * result.mean_wait_hours.mean
    assert result.mean_waiting.low <= expected <= result.mean_waiting.high


def test_utilisation_is_the_offered_load_per_rep(result):
    assert result.utilisation.low <= 0.8 <= result.utilisation.high


def test_same_seed_same_answer_in_one_process_or_two():
    alone = replicate(QUEUE, 0.05, 100, 4, seed=3, workers=1)
    spread = replicate(QUEUE, 0.05, 100, 4, seed=3, workers=2)
    assert alone == spread
    assert replicate(QUEUE, 0.05, 100, 4, seed=4, workers=1) != alone


def test_simulate_command_json(capsys):
    scenario = ROOT / "examples" / "scenarios" / "inbound-desk.toml"
    assert main(["simulate", str(FIXTURES / "simulation" / "desk.sla"), "--scenario",
                 str(scenario), "--replications", "4", "--seed", "5", "--format", "json"]) == 0
    [clause] = json.loads(capsys.readouterr().out)["clauses"]
    assert (clause["handoff"], clause["clause"]) == ("every lead", "first touch")
    low, high = clause["attainment"]["ci95"]
    assert low <= clause["attainment"]["mean"] <= high


def test_what_the_model_does_not_cover_is_said_plainly(capsys):
    scenario = ROOT / "examples" / "scenarios" / "inbound-desk.toml"
    assert main(["simulate", str(ROOT / "policies" / "inbound-desk.sla"),
                 "--scenario", str(scenario)]) == 2
    assert "business calendars are not simulated yet" in capsys.readouterr().err
