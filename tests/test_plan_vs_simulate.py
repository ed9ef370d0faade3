"""`sla plan` and `sla simulate` give one answer to "can we hold it?".

The planner's first-touch estimate (`sla_dsl.planning.first_touch_plan`, a queue solved through the
scenario's days) must lie inside the simulator's 95% interval, or within 3 points of it, on the
shipped policies and scenarios and on calendars of every shape: around the clock, an office
day, a split shift. Erlang C, which the planner used before, said 100% on the office calendars
where the simulator says 50-80%: the night's and the weekend's leads wait for the opening.
A few seeded replications each (the simulator repeats exactly), so the whole file runs in
seconds on one core.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from sla_dsl.business_time.calendar import calendar_for
from sla_dsl.planning.plan import first_touch_estimates
from sla_dsl.planning.queueing import service_level
from sla_dsl.planning.scenario import load_scenario, parse_scenario
from sla_dsl.policy_file import check_text, load_policy
from sla_dsl.simulator.simulation import simulate

from .conftest import FIXTURES, ROOT

POINTS = 0.03  # how far outside the interval the estimate may lie
REPLICATIONS = 4
DESK = (ROOT / "policies" / "inbound-desk.sla").read_text(encoding="utf-8")
DESK_SCENARIO = (ROOT / "examples" / "scenarios" / "inbound-desk.toml").read_text(
    encoding="utf-8")
NO_DECAY = '\n[outcomes]\ndecay = "none"\n'  # one preset: first touches do not depend on it
TRIAL = ROOT / "policies" / "company-x-trial.sla"


def _office(hours: str):
    """The shipped inbound desk with other opening hours."""
    text = DESK.replace("open mon-fri 08:00-18:00", f"open mon-fri {hours}")
    assert text != DESK
    return check_text(text, "inbound-desk.sla").policy


def _around_the_clock():
    """The textbook desk (no calendar, a 3-minute first touch): 20 leads an hour, 5 reps."""
    policy = load_policy(FIXTURES / "simulation" / "desk.sla")
    scenario = parse_scenario('horizon = "14 days"\n[arrivals]\nrate = "20 per hour"\n'
                              '[team.sales]\nreps = 5\n[work]\ntouch = "exponential 12 minutes"'
                              + NO_DECAY)
    return policy, scenario


def _nine_to_five():
    """The issue's case: 3 reps, a 9-17 weekday calendar, 2.5 leads an hour around the clock
    (Erlang C: 99.9% within 4 business hours)."""
    text = DESK_SCENARIO.replace("reps = 5", "reps = 3").replace("5 per hour", "2.5 per hour")
    return _office("09:00-17:00"), parse_scenario(text + NO_DECAY)


def _split_shift():
    """The shipped scenario on a desk closed over lunch."""
    return _office("08:00-12:00, 13:00-18:00"), parse_scenario(DESK_SCENARIO + NO_DECAY)


def _company_x():
    """Shipped: fields routed by the policy, each SDR's own queue (2:1:1), a weekday profile,
    a slow January and a busy March, Saturday mornings open."""
    scenario = load_scenario(ROOT / "examples" / "scenarios" / "company-x.toml",
                             {"outcomes.decay": "none"})
    return load_policy(ROOT / "policies" / "company-x.sla"), scenario


def _company_x_fifo():
    """Shipped, but `fifo`, with the shipped decay's first preset (HBR 2011): the hot leads'
    follow-ups, 4 hours after a touch, fall due at 13:00 and after the 17:00 closing, and those
    wait for the opening ahead of the night's leads. Spread evenly over the open hours, they
    left the plan at 98.3% where the simulator says about 79.5%."""
    scenario = load_scenario(ROOT / "examples" / "scenarios" / "company-x.toml",
                             {"work.discipline": "fifo", "outcomes.decay": "hbr-2011"})
    return load_policy(ROOT / "policies" / "company-x.sla"), scenario


def _desk_fifo():
    """The shipped inbound desk under `fifo`: its follow-ups overload the reps (the backlog
    grows all quarter), so the first touches' wait runs to weeks. Spread evenly over the open
    hours the plan waited 186.6 elapsed hours where the simulator waits about 146."""
    return (check_text(DESK, "inbound-desk.sla").policy,
            load_scenario(ROOT / "examples" / "scenarios" / "inbound-desk.toml",
                          {"work.discipline": "fifo"}))


def _desk_earliest_due_first():
    """The shipped inbound desk under `earliest-due-first`: with every follow-up its cadence
    could make, the reps' work passes their open hours, so the follow-ups wait among the
    first touches until their window's end is near. The simulator's backlog levels off: the
    longer the wait, the fewer follow-ups still fall inside their window. Counted whole and
    spread over the open hours, the plan's backlog grew all quarter: a mean wait of 186.6
    elapsed hours where the simulator waits about 134 (the attainment agreed, about 6%)."""
    return (check_text(DESK, "inbound-desk.sla").policy,
            load_scenario(ROOT / "examples" / "scenarios" / "inbound-desk.toml",
                          {"work.discipline": "earliest-due-first"}))


def _busier_desk_earliest_due_first():
    """The same desk at 4 leads an hour: with its first touches' connects (0.6), the
    cadences' follow-ups leave room in the open hours, but the leads wait long, hardly ever
    connect, and the follow-ups fill them. Counted at a connect without the wait, the plan
    kept the follow-ups after the first touches and said 75.3% where the simulator has
    about 10%."""
    return (check_text(DESK, "inbound-desk.sla").policy,
            load_scenario(ROOT / "examples" / "scenarios" / "inbound-desk.toml",
                          {"work.discipline": "earliest-due-first",
                           "arrivals.rate": "4 per hour"}))


def _one_rep_fifo_short_follow_ups():
    """One rep under `fifo` whose follow-ups take 5 minutes against a 12-minute first touch:
    the plan counts each follow-up's own work time (`work.follow_up`), as the simulator does
    (at the first touch's 12 minutes the plan says 24.6%, here about 71%). New-breed's
    good-fit leads under `fifo` are 3 points under the simulation for another reason, its
    round robin: dealt at random by the same weights, the simulation agrees with the plan."""
    return (check_text(DESK, "inbound-desk.sla").policy,
            load_scenario(ROOT / "examples" / "scenarios" / "inbound-desk.toml",
                          {"work.discipline": "fifo", "arrivals.rate": "0.5 per hour",
                           "team.sales.reps": 1, "work.follow_up": "fixed 5 minutes"}))


def _new_breed_fifo():
    """Shipped, but `fifo`: follow-ups a business day apart, and the bad-fit leads' three
    touches spread over their window, waiting among the first touches."""
    return (load_policy(ROOT / "policies" / "new-breed.sla"),
            load_scenario(ROOT / "examples" / "scenarios" / "new-breed.toml",
                          {"work.discipline": "fifo"}))


def _new_breed():
    """Shipped: a mix, MDR desks on US and London calendars with holidays, earliest-due-first,
    two blocks in each MDR's own queue, and the advisors working the SQLs they hand on."""
    return (load_policy(ROOT / "policies" / "new-breed.sla"),
            load_scenario(ROOT / "examples" / "scenarios" / "new-breed.toml"))


def _trial(cap: int):
    """The trial agreement with its shipped scenario (3 SDRs, 900 leads a month, March 2027),
    its `cap 20 open leads` as shipped or lowered until it binds: the plan's places queue
    (`open_cap_plan`) against the simulator dealing lead by lead. Ignoring the cap, the plan
    says 98.6% at every cap; at 8 the simulator says about 38%."""
    text = TRIAL.read_text(encoding="utf-8")
    policy = check_text(text.replace("cap 20 open leads", f"cap {cap} open leads"),
                        "company-x-trial.sla").policy
    return policy, load_scenario(ROOT / "examples" / "scenarios" / "company-x-trial.toml")


def _spread_out_response():
    """A response longer than the deadline on average (73.5 minutes against 1 business hour),
    shorter in most draws: read at its mean the plan said 2.4%, the simulation about 25%."""
    text = DESK.replace("first touch within 4 business hours",
                        "first touch within 1 business hour")
    assert text != DESK
    scenario = parse_scenario('horizon = "60 days"\n[arrivals]\nrate = "1 per hour"\n'
                              '[team.sales]\nreps = 8\n[work]\ntouch = "fixed 5 minutes"\n'
                              'response = "exponential 73.5 minutes"' + NO_DECAY)
    return check_text(text, "inbound-desk.sla").policy, scenario


CASES = {"24/7": _around_the_clock, "9-17 weekdays": _nine_to_five,
         "spread-out response": _spread_out_response,
         "split shift": _split_shift, "company-x": _company_x, "new-breed": _new_breed,
         "company-x, fifo": _company_x_fifo, "new-breed, fifo": _new_breed_fifo,
         "inbound desk, fifo": _desk_fifo,
         "one rep, fifo, 5-minute follow-ups": _one_rep_fifo_short_follow_ups,
         "inbound desk, earliest-due-first": _desk_earliest_due_first,
         "inbound desk at 4 an hour, earliest-due-first": _busier_desk_earliest_due_first,
         "trial, cap 20 open leads": lambda: _trial(20),
         "trial, cap 10 open leads": lambda: _trial(10),
         "trial, cap 8 open leads": lambda: _trial(8)}


@pytest.fixture(scope="module", params=list(CASES))
def both(request):
    policy, scenario = CASES[request.param]()
    plan = first_touch_estimates(policy, scenario)
    run = simulate(policy, scenario, REPLICATIONS, seed=3, workers=1)
    return request.param, plan, run


def test_the_plan_lies_within_the_simulations_interval(both):
    name, plan, run = both
    assert plan
    for row in plan:
        clause = next(c for c in run["clauses"]
                      if c["handoff"] == row["handoff"] and c["clause"] == "first touch")
        low, high = clause["attainment"]["ci95"]
        assert low - POINTS <= row["attainment"] <= high + POINTS, (
            f"{name}, {row['handoff']}: plan {row['attainment']:.3f}, simulated "
            f"{clause['attainment']['mean']:.3f} ({low:.3f}-{high:.3f})")


def test_the_plans_waits_are_the_simulations_on_the_clock(both):
    """The simulator's mean wait runs from the handoff to the first attempt on the clock: the
    plan's elapsed hours, not its open hours, are the figure to set beside it."""
    name, plan, run = both
    for row in plan:
        clause = next(c for c in run["clauses"]
                      if c["handoff"] == row["handoff"] and c["clause"] == "first touch")
        simulated = clause["mean_wait_hours"]["mean"]
        if row["handoff"] == "sql":  # handed on as touches end: a mean touch after the MDR's
            # open hours in the plan, where some touches run longer past closing
            assert row["mean_wait_hours"] == pytest.approx(simulated, abs=0.5)
            continue
        assert row["mean_wait_hours"] == pytest.approx(simulated, rel=0.15, abs=0.02), name


def test_erlang_c_missed_the_office_calendars_by_far():
    """What the issue saw: Erlang C's steady state on the open hours' load says the 9-17 desk
    holds its 4 business hours for every lead; the queue through the days says otherwise."""
    policy, scenario = _nine_to_five()
    [row] = first_touch_estimates(policy, scenario)
    assert service_level(3, row["load"], 4.0, 0.2) > 0.99
    assert row["attainment"] < 0.8


def test_a_binding_open_lead_cap_is_in_the_plan_and_said():
    """At `cap 8 open leads` the plan's figures move with the cap, and its text says how many
    leads wait for a rep with a free place; the shipped cap of 20 keeps every lead dealt at
    once (a rep holds about 10 open leads on average)."""
    from sla_dsl.planning.plan import plan_document, render_plan

    shipped, scenario = _trial(20)
    [row] = first_touch_estimates(shipped, scenario)
    assert row["open_cap"]["dealt_in_time"] == 1.0 and row["open_cap"]["places"] == 60
    assert 9 < row["open_cap"]["open_leads_per_rep"] < 11
    lowered, _ = _trial(8)
    [capped] = first_touch_estimates(lowered, scenario)
    assert capped["attainment"] < row["attainment"] - 0.4
    assert capped["open_cap"]["waiting_share"] > 0.5
    text = render_plan(plan_document(lowered, scenario))
    assert "cap 8 open leads: " in text and "wait for a rep with a free place" in text


def test_fifo_follow_ups_fall_due_in_the_closed_hours_too():
    """The cause of the fifo gap: a hot lead's follow-ups, 4 hours after each touch, fall due
    at 13:00 and after the 17:00 closing, so about half wait for the opening (the simulator
    has 52% of them due while closed). The plan spread them over the open hours, so none."""
    from sla_dsl.business_time.open_time import open_time_between_many
    from sla_dsl.business_time.zones import day_start_us
    from sla_dsl.planning.follow_up_plan import Waiting, cadence_of, follow_up_arrivals
    from sla_dsl.planning.grid import Grid
    from sla_dsl.simulator.routing import blocks_of

    policy, scenario = _company_x_fifo()
    hot = next(b for b in blocks_of(policy) if b.handoff.label == "hot")
    calendar = calendar_for(policy, hot.first_within)
    hour = 3_600_000_000
    origin = day_start_us(dt.date(2026, 1, 1), ZoneInfo(policy.timezone))
    starts = origin + np.arange(90 * 48) * (hour // 2)
    steps = Grid(starts, hour // 2, int(starts[-1] + hour // 2), calendar)
    none = np.zeros(len(starts))
    due = follow_up_arrivals(cadence_of(policy, scenario, hot, steps), none + 0.5, steps,
                             Waiting(none, none + 1.0, none))
    closed = open_time_between_many(starts, starts + hour // 2, calendar) == 0
    assert 0.4 < due[closed].sum() / due.sum() < 0.6


def test_a_fifo_queue_that_does_not_settle_says_so(monkeypatch):
    """Each round solves the queue with the follow-ups the last round's wait makes; the
    overloaded desk swings from round to round before it settles. Cut short, the plan says in
    its text and JSON that its fifo estimate is approximate and by how much the rounds
    differed, rather than a confident figure; given its rounds, it settles on the
    simulator's."""
    import json

    from sla_dsl.planning import first_touch_plan
    from sla_dsl.planning.plan import plan_document, render_plan

    policy, scenario = _desk_fifo()
    [row] = first_touch_estimates(policy, scenario)
    assert "did not settle" not in (row["note"] or "")
    monkeypatch.setattr(first_touch_plan, "ROUNDS", 2)
    document = plan_document(policy, scenario)
    [cut] = document["first_touch"]
    assert cut["note"].startswith("fifo: the follow-ups' due times and the queue's wait did not "
                                  "settle in 2 rounds (the last two ")
    assert "points apart): the estimate is approximate" in cut["note"]
    assert cut["note"] in render_plan(document)
    assert cut["note"] in json.loads(json.dumps(document))["first_touch"][0]["note"]
