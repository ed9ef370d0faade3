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
    return replicate(QUEUE, deadline=0.05, horizon_hours=500, replications=20, seed=11)


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


def test_overload_is_reported_up_front(tmp_path, capsys):
    scenario = tmp_path / "busy.toml"
    scenario.write_text('[arrivals]\nrate = "20 per hour"\n[team.sales]\nreps = 5\n'
                        '[work]\ntouch = "exponential 12 minutes"\n')
    assert main(["simulate", str(ROOT / "policies" / "inbound-desk.sla"),
                 "--scenario", str(scenario)]) == 2
    assert "is overloaded" in capsys.readouterr().err


def _duration(text: str):
    from sla_dsl.policy_file import check_text

    policy = check_text(f'sla "x"\ntimezone "UTC"\ncalendar c {{\n  open mon-fri 08:00-18:00\n}}\n'
                        f'on breach of first touch {{\n  escalate to "m" after {text}\n}}\n')
    return policy.policy.consequences[0].actions[0].after


def _calendar(hours: str):
    from sla_dsl.policy_file import check_text

    return check_text(f'sla "x"\ntimezone "UTC"\ncalendar c {{\n  open {hours}\n}}\n') \
        .policy.calendars[0]


def test_a_calendar_open_around_the_clock_is_the_same_as_none():
    from simulator.replications import Deadline

    always = Deadline(duration=_duration("3 minutes"), calendar=_calendar("mon-sun 00:00-24:00"))
    plain = replicate(QUEUE, 0.05, 50, 3, seed=9, workers=1)
    assert replicate(QUEUE, always, 50, 3, seed=9, workers=1) == plain


def test_closed_nights_and_weekends_make_the_morning_queue():
    from simulator.replications import Deadline

    office = Deadline(duration=_duration("4 business hours"),
                      calendar=_calendar("mon-fri 08:00-18:00"))
    calm = Queue(arrivals_per_hour=2, reps=5, mean_touch_hours=0.2)
    around = replicate(calm, 4.0, 500, 4, seed=2, workers=1)
    daytime = replicate(calm, office, 500, 4, seed=2, workers=1)
    assert around.attainment.mean > 0.99
    assert daytime.mean_wait_hours.mean > 5 * around.mean_wait_hours.mean
