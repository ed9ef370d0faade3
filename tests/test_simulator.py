"""The product simulator (`simulator.simulate`, the simpy model `sla simulate` runs) against
queueing theory, and its seeded reproducibility.

The textbook desk (`tests/fixtures/simulation/desk.sla`: no calendar, one shared queue, first
touch only) with Poisson arrivals and exponential work is Erlang C's M/M/c queue: c = 5 reps,
20 leads an hour at 12 minutes each (A = 4 Erlangs), a 3-minute first touch (T/AHT = 0.25).
Every figure below is the evaluator's count on the simulated history, as users get it.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import math
import re
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from sla_dsl.cli import main
from sla_dsl.language.source import read_policy
from sla_dsl.planning.queueing import mean_wait, service_level
from sla_dsl.planning.scenario import parse_scenario
from sla_dsl.policy_file import check_source, check_text
from sla_dsl.simulator import engine
from sla_dsl.simulator.context import build
from sla_dsl.simulator.errors import NotSimulated
from sla_dsl.simulator.simulation import simulate

from .conftest import FIXTURES, ROOT

DAYS = 21
REPLICATIONS = 20


def _desk_scenario(reps: int = 5, days: int = DAYS, rate: str = "20 per hour",
                   work: str = "") -> str:
    return (f'horizon = "{days} days"\n[arrivals]\nrate = "{rate}"\n[team.sales]\n'
            f'reps = {reps}\n[work]\ntouch = "exponential 12 minutes"\n{work}'
            '[outcomes]\ndecay = "none"\n')


@pytest.fixture(scope="module")
def desk():
    return check_source(read_policy(FIXTURES / "simulation" / "desk.sla")).policy


@pytest.fixture(scope="module")
def run(desk):
    """20 replications of three weeks (about 10,000 leads each), on both cores."""
    return simulate(desk, parse_scenario(_desk_scenario()), REPLICATIONS, seed=11, workers=2)


def test_attainment_agrees_with_erlang_c_within_the_runs_interval(run):
    expected = service_level(5, 4.0, 0.05, 0.2)  # 1 - C(5, 4) e^{-(5-4) 0.25} = 0.5685
    assert expected == pytest.approx(0.5685, abs=1e-4)
    attainment = run["clauses"][0]["attainment"]
    low, high = attainment["ci95"]
    assert low <= expected <= high
    assert high - low < 0.04  # and the interval is tight enough to mean something


def test_mean_wait_agrees_with_erlang_c(run):
    expected = mean_wait(5, 4.0, 0.2)  # C(5, 4) x 12 minutes / (5 - 4) = 6.6 minutes
    low, high = run["clauses"][0]["mean_wait_hours"]["ci95"]
    assert low <= expected <= high
    assert high - low < 0.03  # hours: under two minutes wide


def test_littles_law_holds_for_the_backlog(run):
    # time-average number waiting L = arrival rate x mean wait W, on the model's own backlog
    # measure; the realised rate (leads handed off / horizon), so only the edges differ:
    # tasks still waiting at the horizon's end, and whole seconds in the emitted history
    rate = run["runs"][0]["leads"]["mean"] / (DAYS * 24)
    waiting = run["runs"][0]["backlog"]["mean"]["mean"]
    assert waiting == pytest.approx(rate * run["clauses"][0]["mean_wait_hours"]["mean"],
                                    rel=0.03)
    # and both agree with Erlang C's Lq = lambda x Wq (2.2 leads) within the interval
    low, high = run["runs"][0]["backlog"]["mean"]["ci95"]
    assert low <= 20 * mean_wait(5, 4.0, 0.2) <= high


def test_utilisation_is_the_offered_load_per_rep(run):
    low, high = run["runs"][0]["teams"][0]["utilisation"]["ci95"]
    assert low <= 0.8 <= high
    assert high - low < 0.02


def test_same_seed_same_answer_in_one_process_or_two(desk):
    scenario = parse_scenario(_desk_scenario(days=7))
    alone = simulate(desk, scenario, 4, seed=3, workers=1)
    spread = simulate(desk, scenario, 4, seed=3, workers=2)
    assert alone == spread
    other = simulate(desk, scenario, 4, seed=4, workers=1)
    assert other["clauses"] != alone["clauses"]


def test_overload_is_detected_before_any_run(desk):
    # A = 4 Erlangs on 4 reps: the queue grows without end, so there is nothing to estimate
    with pytest.raises(NotSimulated, match="is overloaded"):
        simulate(desk, parse_scenario(_desk_scenario(reps=4)), 2, seed=1, workers=1)


def test_overload_is_reported_on_the_command_line(tmp_path, capsys):
    scenario = tmp_path / "busy.toml"
    scenario.write_text('[arrivals]\nrate = "20 per hour"\n[team.sales]\nreps = 5\n'
                        '[work]\ntouch = "exponential 12 minutes"\n')
    assert main(["simulate", str(ROOT / "policies" / "inbound-desk.sla"),
                 "--scenario", str(scenario)]) == 2
    err = capsys.readouterr().err
    assert "is overloaded" in err and "Traceback" not in err


def test_simulate_command_json(capsys):
    scenario = ROOT / "examples" / "scenarios" / "inbound-desk.toml"
    assert main(["simulate", str(FIXTURES / "simulation" / "desk.sla"), "--scenario",
                 str(scenario), "--replications", "4", "--seed", "5", "--format", "json"]) == 0
    [clause] = json.loads(capsys.readouterr().out)["clauses"]
    assert (clause["handoff"], clause["clause"]) == ("every lead", "first touch")
    low, high = clause["attainment"]["ci95"]
    assert low <= clause["attainment"]["mean"] <= high


def _calendar_desk(hours: str, within: str):
    return check_text(
        'sla "Desk with a calendar"\ntimezone "America/Chicago"\n'
        'party marketing contact "m@desk.example"\nparty sales contact "s@desk.example"\n'
        f"calendar office {{\n  open {hours}\n}}\n"
        f"handoff every lead from marketing to sales {{\n  first touch within {within}\n}}\n"
    ).policy


def test_a_calendar_open_around_the_clock_is_the_same_as_none(desk):
    scenario = parse_scenario(_desk_scenario(days=7))
    always = _calendar_desk("mon-sun 00:00-24:00", "3 business minutes")
    plain = simulate(desk, scenario, 3, seed=9, workers=1)["clauses"][0]
    assert simulate(always, scenario, 3, seed=9, workers=1)["clauses"][0] == plain


def test_closed_nights_and_weekends_make_the_morning_queue(desk):
    scenario = parse_scenario(_desk_scenario(days=14, rate="2 per hour"))
    office = _calendar_desk("mon-fri 08:00-18:00", "4 business hours")
    around = simulate(desk, scenario, 3, seed=2, workers=1)["clauses"][0]
    daytime = simulate(office, scenario, 3, seed=2, workers=1)["clauses"][0]
    assert around["mean_wait_hours"]["mean"] < 0.01  # 0.4 Erlangs on 5 reps: hardly a wait
    # leads handed off at night (14 hours closed) and over the weekend (62) wait for the office
    # to open: three in four arrive while it is shut
    assert daytime["mean_wait_hours"]["mean"] > 5
    # the 4 business hours are mostly kept: only Monday's pile (about 124 weekend leads, five
    # hours of work for five reps) runs past them
    assert 0.9 < daytime["attainment"]["mean"] < 1.0


def _touch_times(history: Path) -> dict[str, list[dt.datetime]]:
    """Each lead's touches, in order, from an emitted history."""
    attempts: dict[str, list[dt.datetime]] = {}
    for line in history.read_text().splitlines()[1:]:
        lead, at, event = line.split(",")[:3]
        if event == "touch":
            attempts.setdefault(lead, []).append(dt.datetime.fromisoformat(at))
    return attempts


def test_an_idle_reps_follow_up_starts_the_moment_its_spacing_has_passed(tmp_path):
    # one rep, a lead a day, nobody answers: the rep is idle when each follow-up falls due, so
    # it is woken for it and every attempt comes exactly 2 hours after the one before
    policy = check_text(
        'sla "Spaced desk"\ntimezone "Europe/Lisbon"\n'
        'party marketing contact "m@desk.example"\nparty sales contact "s@desk.example"\n'
        "handoff every lead from marketing to sales {\n  assign to \"Rosa\"\n"
        "  first touch within 1 hour\n  touches at least 3 within 2 days\n"
        "  spacing at least 2 hours\n}\n").policy
    scenario = parse_scenario('horizon = "20 days"\n[arrivals]\nrate = "1 per day"\n'
                              '[work]\ntouch = "fixed 5 minutes"\nfollow_up = "fixed 5 minutes"\n'
                              '[outcomes]\nconnect = 0.0\ndecay = "none"\n')
    out = tmp_path / "spaced.csv"
    simulate(policy, scenario, 2, seed=4, emit_history=out, workers=1)
    attempts = _touch_times(out)
    spaced = [later - earlier for times in attempts.values() if len(times) == 3
              for earlier, later in itertools.pairwise(times)]
    assert len(spaced) >= 20
    # whole seconds in the history: each start is truncated, so a gap may lose or gain one
    assert all(abs(gap - dt.timedelta(hours=2)) <= dt.timedelta(seconds=1) for gap in spaced)


def test_a_business_day_spacing_is_the_next_open_day_at_the_same_time(tmp_path):
    # Lisbon office hours, nobody answers: each follow-up of `spacing at least 1 business day`
    # is due the next open day at the attempt's time (Friday's on Monday), as the evaluator
    # counts the spacing, not 24 open hours (about three office days) later
    policy = check_text(
        'sla "Daily desk"\ntimezone "Europe/Lisbon"\n'
        'party marketing contact "m@desk.example"\nparty sales contact "s@desk.example"\n'
        "calendar office {\n  open mon-fri 09:00-17:00\n}\n"
        "handoff every lead from marketing to sales {\n  assign to \"Rosa\"\n"
        "  first touch within 1 business hour\n"
        "  touches at least 3 within 6 business days\n"
        "  spacing at least 1 business day\n}\n").policy
    scenario = parse_scenario('horizon = "28 days"\nstart = 2026-03-02\n'
                              '[arrivals]\nrate = "1 per day"\n'
                              '[work]\ntouch = "fixed 5 minutes"\nfollow_up = "fixed 5 minutes"\n'
                              '[outcomes]\nconnect = 0.0\ndecay = "none"\n')
    out = tmp_path / "daily.csv"
    simulate(policy, scenario, 1, seed=3, emit_history=out, workers=1)
    attempts = _touch_times(out)
    pairs = [(earlier, later) for times in attempts.values()
             for earlier, later in itertools.pairwise(times)]
    assert len(pairs) >= 15
    def seconds(moment: dt.datetime) -> int:
        return moment.hour * 3600 + moment.minute * 60 + moment.second

    for earlier, later in pairs:
        gap_days = 3 if earlier.weekday() == 4 else 1
        assert later.date() == earlier.date() + dt.timedelta(days=gap_days)
        # due at the same time of day: never sooner; later only while Rosa works the first
        # touches that waited for the opening (first-touch-first)
        assert seconds(later) >= seconds(earlier) - 1
    on_time = [p for p in pairs if abs(seconds(p[1]) - seconds(p[0])) <= 1]
    assert len(on_time) >= 15  # 19 of 51 with this seed: the rest queue behind Monday's pile


@pytest.mark.parametrize(("response", "met"), [("fixed 2 minutes", 1.0), ("fixed 4 minutes", 0.0)])
def test_a_reps_reaction_delays_every_touch_by_the_response_time(desk, response, met):
    # 2 leads an hour on 5 reps: hardly ever a queue, so the first touch comes the response
    # time after the handoff, inside or outside the 3 minutes
    scenario = parse_scenario(_desk_scenario(days=7, rate="2 per hour",
                                             work=f'response = "{response}"\n'))
    [clause] = simulate(desk, scenario, 2, seed=6, workers=1)["clauses"]
    assert clause["attainment"]["mean"] == pytest.approx(met, abs=0.01)
    minutes = float(response.split()[1])
    assert clause["mean_wait_hours"]["mean"] * 60 == pytest.approx(minutes, abs=0.05)


def _office_desk():
    """Office hours in Berlin, a two-touch cadence an open hour apart."""
    return check_text(
        'sla "Office desk"\ntimezone "Europe/Berlin"\n'
        'party marketing contact "m@office.example"\nparty sales contact "s@office.example"\n'
        "calendar office {\n  open mon-fri 09:00-17:00\n}\n"
        "handoff every lead from marketing to sales {\n  first touch within 4 business hours\n"
        "  touches at least 2 within 5 business days\n  spacing at least 1 business hour\n}\n"
    ).policy


def test_a_long_reaction_does_not_move_the_office_clock_for_a_short_one():
    # The engine walks each calendar forward with the loop's clock; a touch a reaction puts
    # ahead of it must not drag that walk into tomorrow for a touch made sooner.
    context = build(_office_desk(), parse_scenario(
        'horizon = "7 days"\n[arrivals]\nrate = "1 per day"\n[team.sales]\nreps = 2\n'
        '[work]\ntouch = "fixed 1 minute"\n'))
    hour = 3600.0
    monday = [14 * hour, 14 * hour + 600]  # 14:00 and 14:10 on Monday 5 January, Berlin
    leads = engine.Leads(handed=monday, ready=monday, block=[0, 0], owner=[-1, -1],
                         first_due=[18 * hour, 18 * hour], window_end=[math.inf, math.inf],
                         gap_wall=[math.inf, math.inf], connect=[0.0, 0.0])
    # slots: lead x 2 + attempt; the first lead's rep reacts 4 hours (touch at 18:00, closed),
    # the second's half an hour (touch at 14:40, its follow-up due an open hour later)
    react = np.array([4 * hour, 60.0, hour / 2, 60.0])
    trace = engine.run(context.floor, leads, 2, np.full(4, 60.0), np.full(4, 0.5),
                       lambda hours: 1.0, react)
    assert trace.started[2] == 14 * hour + 600 + hour / 2
    assert trace.ready_at[3] == trace.started[2] + hour  # 15:40 the same afternoon
    assert trace.started[0] == 18 * hour
    assert trace.ready_at[1] == 24 * hour + 10 * hour  # an open hour after 18:00: Tuesday 10:00


def test_a_task_picked_up_before_closing_is_touched_after_its_reaction_even_past_it(tmp_path):
    # as a touch started before closing runs to its end, a reaction started before closing
    # does: the touch the clocks see comes the response time after the pick-up
    office_hours = [[1 if weekday < 5 and 9 <= hour < 17 else 0 for hour in range(24)]
                    for weekday in range(7)]  # leads arrive only while the office is open
    scenario = parse_scenario(f'horizon = "28 days"\n[arrivals]\nrate = "0.25 per hour"\n'
                              f'profile = {office_hours}\n[team.sales]\nreps = 20\n'
                              '[work]\ntouch = "fixed 1 minute"\nresponse = "fixed 3 hours"\n'
                              '[outcomes]\nconnect = 0.0\ndecay = "none"\n')
    out = tmp_path / "office.csv"
    simulate(_office_desk(), scenario, 2, seed=8, emit_history=out, workers=1)
    berlin = ZoneInfo("Europe/Berlin")
    handed: dict[str, dt.datetime] = {}
    first: dict[str, dt.datetime] = {}
    for line in out.read_text().splitlines()[1:]:
        lead, at, event = line.split(",")[:3]
        moment = dt.datetime.fromisoformat(at).astimezone(berlin)
        if event == "handoff":
            handed[lead] = moment
        elif event == "touch" and lead not in first:
            first[lead] = moment
    # 20 reps take each lead at once: touched after the reaction, 3 hours later to the second
    touched = [lead for lead in handed if lead in first]
    assert len(touched) > 100
    assert all(abs(first[lead] - handed[lead] - dt.timedelta(hours=3)) <= dt.timedelta(seconds=1)
               for lead in touched)
    assert any(first[lead].hour >= 17 for lead in touched)  # picked up after 14:00


@pytest.mark.parametrize(("given", "message"), [
    ({"replications": 0}, "replications 0: an interval needs at least 2 replications"),
    ({"replications": 100_000}, "replications 100,000 is out of range: from 2 to 1,000"),
    ({"replications": "2"}, "replications '2' is not a whole number"),
    ({"seed": -1}, "seed -1 is out of range"),
    ({"seed": 1.5}, "seed 1.5 is out of range"),
])
def test_the_library_refuses_what_sla_simulate_refuses(given, message):
    # sla_dsl.simulate ran 100,000 replications for minutes, and raised IndexError for 0
    import sla_dsl

    policy = sla_dsl.load_policy(ROOT / "policies" / "company-x.sla")
    with pytest.raises(ValueError, match=re.escape(message)):
        sla_dsl.simulate(policy, ROOT / "examples" / "scenarios" / "company-x.toml", **given)
