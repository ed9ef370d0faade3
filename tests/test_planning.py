"""The goals' funnel arithmetic and the Erlang C estimates the planner and simulator rely on."""

from __future__ import annotations

import json
import math

import pytest

from sla_dsl.cli import main
from sla_dsl.planning.funnel import goal_plans
from sla_dsl.planning.plan import plan_document, render_plan
from sla_dsl.planning.queueing import erlang_b, erlang_c, mean_wait, servers_for, service_level
from sla_dsl.planning.scenario import load_scenario
from sla_dsl.policy_file import check_text, load_policy

from .conftest import ROOT


def test_the_seed_materials_worked_example():
    # $5,000 a month at $100 a sale and a 50% win rate: 50 customers, 100 qualified leads
    [plan] = goal_plans(load_policy(ROOT / "policies" / "company-x.sla"))
    assert (plan.sourced_revenue, plan.customers, plan.leads) == (5000, 50, 100)


def test_a_share_splits_the_goal_and_missing_steps_are_named():
    policy = check_text('sla "x"\nparty marketing\nparty sales\n'
                        "goal revenue 200000 EUR per quarter {\n  marketing share 40%\n"
                        "  sales share 60%\n  deal size 20000 EUR\n}\n").policy
    marketing, sales = goal_plans(policy)
    assert (marketing.customers, sales.customers) == (4, 6)
    assert marketing.leads is None and marketing.missing == ["close rate"]


def test_open_days_follow_the_calendar():
    doc = plan_document(load_policy(ROOT / "policies" / "company-x.sla"))
    january = doc["daily"][0]
    # mon-fri and saturday open in January 2026: 22 weekdays + 5 saturdays, no closed date
    assert (january["month"], january["open_days"]) == ("2026-01", 27)
    assert january["leads_per_day"] == round(100 / 27, 2)


def test_plan_command_prints_the_arithmetic(capsys):
    assert main(["plan", str(ROOT / "policies" / "company-x.sla")]) == 0
    out = capsys.readouterr().out
    assert "/ deal size 100 = 50.0 customers per month" in out
    assert "/ close rate 50% = 100.0 leads per month" in out


def test_issue_example_service_level():
    # c = 5 reps, A = 4 Erlangs, T/AHT = 0.25
    assert service_level(5, 4.0, 0.25, 1.0) == pytest.approx(0.5685, abs=5e-5)


def test_erlang_c_against_the_textbook_sum():
    servers, load = 7, 5.5
    top = load ** servers / math.factorial(servers) * servers / (servers - load)
    bottom = sum(load ** k / math.factorial(k) for k in range(servers)) + top
    assert erlang_c(servers, load) == pytest.approx(top / bottom, rel=1e-12)
    assert erlang_b(1, 1.0) == pytest.approx(0.5)


def test_mean_wait_and_overload():
    assert mean_wait(5, 4.0, 12.0) == pytest.approx(erlang_c(5, 4.0) * 12.0 / 1.0)
    assert erlang_c(4, 4.0) == 1.0 and service_level(4, 5.0, 1.0, 1.0) == 0.0
    assert math.isinf(mean_wait(3, 3.0, 1.0))


def test_smallest_team_for_a_target():
    team = servers_for(0.95, load=4.0, wait=0.25, handling=1.0)
    assert service_level(team, 4.0, 0.25, 1.0) >= 0.95
    assert service_level(team - 1, 4.0, 0.25, 1.0) < 0.95


SCENARIO = ROOT / "examples" / "scenarios" / "inbound-desk.toml"


def test_the_documented_scenario_keys_work_as_written():
    from sla_dsl.planning.scenario import load_scenario

    scenario = load_scenario(SCENARIO)
    assert (scenario.horizon_hours, scenario.arrivals_per_hour) == (90 * 24, 5)
    assert scenario.teams == {"sales": 5}
    assert (scenario.touch.distribution, scenario.touch.mean_hours) == ("exponential", 0.2)


@pytest.mark.parametrize(("text", "key"), [
    ('horizon = "soon"\n[arrivals]\nrate = "1 per hour"\n', "horizon"),
    ('[arrivals]\nrate = "lots"\n', "arrivals.rate"),
    ('[arrivals]\nrate = "1 per hour"\n[team.sales]\nreps = 0\n', "team.sales.reps"),
    ('[arrivals]\nrate = "1 per hour"\n[work]\ntouch = "gamma"\n', "work.touch"),
    ('teams = 3\n[arrivals]\nrate = "1 per hour"\n', "teams"),
    ('[arrivals]\nrate = "1 per hour"\nteams = 3\n', "arrivals.teams"),
])
def test_scenario_mistakes_name_the_key(text, key):
    from sla_dsl.planning.scenario import ScenarioError, parse_scenario

    with pytest.raises(ScenarioError, match=f": {key}: "):
        parse_scenario(text, "s.toml")


def test_an_office_calendar_piles_the_night_up_for_the_morning():
    """The inbound desk is open mon-fri 08:00-18:00. 5 leads an hour around the clock is 3.3
    reps' worth of work in the open hours for 5 reps: Erlang C called that 100% within 4
    business hours, but the weekend's 300 leads are waiting on Monday morning."""
    from sla_dsl.planning.plan import first_touch_estimates
    from sla_dsl.planning.scenario import parse_scenario

    policy = load_policy(ROOT / "policies" / "inbound-desk.sla")
    [row] = first_touch_estimates(policy, load_scenario(SCENARIO))
    # 90 days from Monday 2026-01-05: 12 weeks and 6 days, 650 open hours of 2,160
    assert row["load"] == pytest.approx(5 * 2160 / 650 * 0.2, rel=0.001)
    assert service_level(5, row["load"], 4.0, 0.2) > 0.999
    assert 0.55 < row["attainment"] < 0.70 and row["note"] is None
    # the wait in open hours, and the same wait on the clock (nights and weekends in it)
    assert 2 < row["mean_wait_open_hours"] < 6 < 12 < row["mean_wait_hours"] < 25
    overloaded = parse_scenario('[arrivals]\nrate = "20 per hour"\n[team.sales]\nreps = 5\n'
                                '[work]\ntouch = "exponential 12 minutes"\n')
    [row] = first_touch_estimates(policy, overloaded)
    assert row["note"].startswith("overloaded") and row["attainment"] < 0.01


def test_around_the_clock_the_estimate_is_erlang_c():
    """Without a calendar and with a steady rate, the queue settles into Erlang C's steady
    state within the first hours: the 21 days' estimate is the textbook figure."""
    from sla_dsl.planning.plan import first_touch_estimates
    from sla_dsl.planning.scenario import parse_scenario

    policy = load_policy(ROOT / "tests" / "fixtures" / "simulation" / "desk.sla")
    scenario = parse_scenario('horizon = "21 days"\n[arrivals]\nrate = "20 per hour"\n'
                              '[team.sales]\nreps = 5\n[work]\n'
                              'touch = "exponential 12 minutes"\n')
    [row] = first_touch_estimates(policy, scenario)
    assert row["load"] == 4.0 and row["queues"] == "one queue"
    assert row["attainment"] == pytest.approx(service_level(5, 4.0, 0.05, 0.2), abs=0.005)
    assert row["mean_wait_hours"] == pytest.approx(mean_wait(5, 4.0, 0.2), abs=0.005)
    assert row["mean_wait_hours"] == row["mean_wait_open_hours"]


def test_plan_with_a_scenario_from_the_command_line(capsys):
    assert main(["plan", str(ROOT / "policies" / "inbound-desk.sla"),
                 "--scenario", str(SCENARIO)]) == 0
    assert ("every lead: 62.7% within 4 business hours, mean wait 3.60 open h (18.49 elapsed "
            "h); sales: 5 reps, one queue, load 3.32 in the open hours") in \
        capsys.readouterr().out
    assert main(["plan", str(ROOT / "policies" / "inbound-desk.sla"),
                 "--scenario", "missing.toml"]) == 2


def test_lead_value_and_the_work_a_day_the_goal_sends_each_team():
    # Company X: 100 leads a month over 311 open days in 12 months (25.92 a month) is 3.86 a
    # day; the hot cadence's 6 touches make 23.15 a day, 7.72 for each of 3 SDRs. Its 5,000 USD
    # of lead value a month is 50 decision makers at 100 USD, 125 practitioners at 40 or 500
    # others at 10.
    policy = load_policy(ROOT / "policies" / "company-x.sla")
    scenario = load_scenario(ROOT / "examples" / "scenarios" / "company-x.toml")
    doc = plan_document(policy, scenario)
    hot = next(row for row in doc["workload"] if row["handoff"] == "hot")
    assert (hot["leads_per_day"], hot["touches_per_lead"], hot["touches_per_day"],
            hot["reps"], hot["touches_per_rep_per_day"]) == (3.86, 6, 23.15, 3, 7.72)
    (value,) = doc["lead_value"]
    assert [(k["persona"], k["leads"]) for k in value["leads_of_one_kind"]] == [
        ("decision_maker", 50), ("practitioner", 125), (None, 500)]
    text = render_plan(doc)
    assert "hot: 3.86 leads x 6 touches = 23.15 touches for sdr, 7.72 per rep of 3" in text
    assert "is 50 decision_maker leads (100 USD), or 125 practitioner leads" in text


def test_a_mix_splits_the_leads_between_the_blocks(tmp_path):
    scenario = tmp_path / "mix.toml"
    scenario.write_text('[arrivals]\nrate = "5 per hour"\n[arrivals.mix]\nhot = 0.25\n'
                        'small = 0.25\nnurture = 0.5\n[team.sdr]\nreps = 2\n', encoding="utf-8")
    policy = load_policy(ROOT / "policies" / "company-x.sla")
    rows = {r["handoff"]: r for r in plan_document(policy, load_scenario(scenario))["workload"]}
    assert rows["hot"]["leads_per_day"] == round(100 / (311 / 12) / 4, 2)
    assert rows["hot"]["touches_per_rep_per_day"] == round(100 / (311 / 12) / 4 * 6 / 2, 2)
    assert rows["small"]["reps"] is None and rows["small"]["touches_per_rep_per_day"] is None


def test_a_reps_reaction_counts_as_work_and_comes_before_the_touch(tmp_path):
    # desk.sla: a 3-minute first touch, no calendar. 6 leads an hour, 5 reps, 9 minutes of work
    # plus 1 of reaction: 10 minutes each (A = 1), and 2 of the 3 minutes left for the wait
    scenario = tmp_path / "react.toml"
    scenario.write_text('[arrivals]\nrate = "6 per hour"\n[team.sales]\nreps = 5\n[work]\n'
                        'touch = "exponential 9 minutes"\nresponse = "fixed 1 minute"\n',
                        encoding="utf-8")
    policy = load_policy(ROOT / "tests" / "fixtures" / "simulation" / "desk.sla")
    (row,) = plan_document(policy, load_scenario(scenario))["first_touch"]
    assert row["load"] == 1.0
    assert row["mean_wait_hours"] == pytest.approx(mean_wait(5, 1.0, 1 / 6) + 1 / 60, abs=1e-3)
    assert row["attainment"] == pytest.approx(service_level(5, 1.0, 2 / 60, 1 / 6), abs=1e-3)
    assert row["attainment"] < service_level(5, 1.0, 3 / 60, 1 / 6)


@pytest.mark.parametrize("today", ["2026-12-06T12:00:00+00:00", "2028-02-29T23:30:00+00:00",
                                   "2027-03-28T01:30:00+00:00"])
def test_a_plan_never_depends_on_the_day_it_runs(today, capsys):
    """December has Christmas closed: a plan that took its months from the clock gave another
    load in December than in January."""
    import time_machine

    policy = ROOT / "policies" / "inbound-desk.sla"
    args = ["plan", str(policy), "--scenario", str(SCENARIO), "--format", "json"]
    assert main(args) == 0
    usual = capsys.readouterr().out
    with time_machine.travel(today, tick=False):
        assert main(args) == 0
        assert capsys.readouterr().out == usual
        # only --from now reads the clock, and the plan says which months it used
        assert main([*args, "--from", "now"]) == 0
        months = json.loads(capsys.readouterr().out)["months"]
        assert months["from"] == today[:7] and months["source"] == "as asked with --from"
    doc = json.loads(usual)
    assert doc["months"] == {"from": "2026-01", "to": "2026-12",
                             "source": "a fixed default: the policy has no effective date; "
                                       "set one with --from"}


def test_plan_months_come_from_the_scenario_then_the_policy(tmp_path, capsys):
    scenario = tmp_path / "s.toml"
    scenario.write_text("start = 2026-12-01\n" + SCENARIO.read_text())
    assert main(["plan", str(ROOT / "policies" / "inbound-desk.sla"),
                 "--scenario", str(scenario)]) == 0
    out = capsys.readouterr().out
    assert "months planned: 2026-12 to 2027-11 (the scenario's start)" in out
    # the estimate runs over the scenario's days from its start: Christmas closed, and
    # December's leads waiting for the 28th
    assert "over the scenario's 90 days from 2026-12-01" in out
    assert "load 3.32 in the open hours" not in out
    assert main(["plan", str(ROOT / "policies" / "company-x.sla")]) == 0
    assert "months planned: 2026-01 to 2026-12 (the policy's effective date)" in \
        capsys.readouterr().out
    assert main(["plan", str(ROOT / "policies" / "company-x.sla"), "--from", "2027-02"]) == 2
    assert "after the policy's end" in capsys.readouterr().err


@pytest.mark.parametrize("closed", ["2026-01-01 to 2026-06-30", "2026-01-01 to 2029-11-30"])
def test_a_calendar_closed_all_along_is_said_not_a_traceback(closed, tmp_path, capsys):
    text = (ROOT / "policies" / "inbound-desk.sla").read_text(encoding="utf-8")
    policy = tmp_path / "closed.sla"
    policy.write_text(text.replace("closed 2026-12-25, 2026-12-26", f"closed {closed}"),
                      encoding="utf-8")
    assert main(["plan", str(policy), "--scenario", str(SCENARIO)]) == 0
    assert "every lead: no lead is touched: " in capsys.readouterr().out


def test_one_reps_steadier_touches_end_sooner():
    """Behind one busy rep a lead waits for the rest of the touch under way: a whole touch
    on average when touches are exponential, half of one when they all take 12 minutes."""
    import numpy as np

    from sla_dsl.planning.queueing import reached_within, wait_behind

    ahead = np.arange(4)  # leads in the queue when it arrives: 1 is the one being touched
    exponential = reached_within(ahead, 1, 5.0, 0.15, True)
    assert exponential[0] == 1.0 and exponential[1] == pytest.approx(1 - math.exp(-0.75))
    assert list(wait_behind(ahead, 1, 5.0)) == pytest.approx([0, 0.2, 0.4, 0.6])
    fixed = reached_within(ahead, 1, 5.0, 0.15, True, variability=0.0)
    assert list(wait_behind(ahead, 1, 5.0, 0.0)) == pytest.approx([0, 0.1, 0.3, 0.5])
    # within 9 minutes: behind the one being touched (the rest of it is 0 to 12 minutes, 75%
    # within 9; the gamma with its mean and spread says 83%), hardly ever behind two (18)
    assert fixed[1] == pytest.approx(0.83, abs=0.01) and fixed[1] > exponential[1]
    assert fixed[2] < 0.01 < exponential[2]
    # a free rep touches it at once, unless the deadline falls before the rep can start
    assert reached_within(ahead, 1, 5.0, 0.0, False)[0] == 0.0


@pytest.mark.parametrize("servers, service_hours, arrivals", [
    (120, 1 / 3600, 11.0),  # the fastest touch at the most reps solved in full
    (5, 1 / 60, 250.0),  # loaded, and past the reps' pace in the busiest hours
    (1, 1 / 60, 50.0),
])
def test_a_step_ended_at_its_steady_state_is_the_step_solved_piece_by_piece(
        monkeypatch, servers, service_hours, arrivals):
    """`Backlog` skips the rest of a step's pieces once its distribution lies at the pieces'
    steady state: the distribution through a day of changing arrivals, a closing and an
    opening is the one every piece gives, to 1e-9."""
    import numpy as np

    from sla_dsl.planning import queueing

    def day(chain):
        for hour in range(48):
            rate = arrivals * (0.5 + (hour % 7) / 6)
            chain.advance(rate, 0.5 if hour < 30 else 0.2 if hour == 30 else 0.0,
                          0.0 if hour < 30 else 0.3 if hour == 30 else 0.5, True)
            yield chain.now.copy()

    quick = list(day(queueing.Backlog(servers, service_hours, 256)))
    monkeypatch.setattr(queueing, "_SETTLED", 0.0)  # never near enough: every piece solved
    full = list(day(queueing.Backlog(servers, service_hours, 256)))
    for ours, theirs in zip(quick, full, strict=True):
        assert np.abs(ours - theirs).sum() < 1e-9


def test_reps_with_shares_of_their_own_are_solved_in_groups(tmp_path, monkeypatch):
    """Weights can give each of a thousand reps a share of their own, and each share was a
    queue solved through the horizon: a year of a thousand took minutes. Past 16 the reps
    are grouped by share, each group solved once at its mean share, and the row says so;
    40 reps weighted 1 to 40 plan within a tenth of a point of their 40 queues."""
    from sla_dsl.planning import first_touch_plan
    from sla_dsl.planning.plan import first_touch_estimates

    weights = ", ".join(f'"rep {k}": {k}' for k in range(1, 41))
    text = (ROOT / "policies" / "inbound-desk.sla").read_text(encoding="utf-8").replace(
        "first touch within 4 business hours",
        f'assign round robin team "sales" weights {{ {weights} }}\n'
        "  first touch within 4 business hours")
    policy = check_text(text, "weighted.sla").policy
    scenario = load_scenario(SCENARIO, {"team.sales.reps": 40, "horizon": "30 days",
                                        "arrivals.rate": "25 per hour"})
    solved = []
    solve = first_touch_plan._solve

    def counted(queue, *args):
        solved.append(queue.copies)
        return solve(queue, *args)

    monkeypatch.setattr(first_touch_plan, "_solve", counted)
    [grouped] = first_touch_estimates(policy, scenario)
    assert len(solved) == 16 and sum(solved) == 40
    assert grouped["queues"] == ("each rep's own queue (40 reps' shares solved as 16 groups "
                                 "of like shares)")
    solved.clear()
    monkeypatch.setattr(first_touch_plan, "MOST_QUEUES", 40)
    [each] = first_touch_estimates(policy, scenario)
    assert len(solved) == 40 and each["queues"] == "each rep's own queue"
    assert 0.5 < each["attainment"] < 0.95
    assert grouped["attainment"] == pytest.approx(each["attainment"], abs=0.001)


def test_a_block_the_mix_sends_nothing_says_so(tmp_path):
    scenario = tmp_path / "mix.toml"
    scenario.write_text('[arrivals]\nrate = "2 per hour"\n[arrivals.mix]\nsmall = 0.5\n'
                        'nurture = 0.5\n[team.sdr]\nreps = 2\n[team.smb]\nreps = 2\n'
                        '[work]\ntouch = "exponential 12 minutes"\n', encoding="utf-8")
    policy = load_policy(ROOT / "policies" / "company-x.sla")
    rows = {r["handoff"]: r for r in plan_document(policy, load_scenario(scenario))["first_touch"]}
    assert rows["hot"]["attainment"] is None
    assert rows["hot"]["note"] == "the scenario sends this block no leads"
    assert rows["small"]["attainment"] > 0.99 and rows["small"]["note"] is None


def test_the_plan_names_the_reading_of_each_share():
    """An attributed share is the model's credit, not revenue marketing brought in: the plan
    must not call it sourced."""
    text = (ROOT / "policies" / "company-x.sla").read_text()
    for written, said in (("100%", "sourced"), ("100% sourced", "sourced"),
                          ("100% attributed", "attributed")):
        checked = check_text(text.replace("marketing share 100%", f"marketing share {written}"))
        assert not [d for d in checked.diagnostics if d.severity == "error"]
        out = render_plan(plan_document(checked.policy))
        assert f"goal 5,000 USD per month, marketing share 100%: 5,000 USD {said}\n" in out


@pytest.mark.parametrize("rate", ["100 per day", "1000 per day"])
def test_an_overloaded_desk_is_said_to_be_and_its_wait_cut_a_year_past_the_horizon(
        rate, tmp_path, capsys):
    # a fluid backlog of centuries: the business-time arithmetic ran past the year 9999 and
    # `sla plan` ended in an internal error (1000 a day), or said 3,550,054 elapsed hours
    scenario = tmp_path / "overloaded.toml"
    scenario.write_text(f'horizon = "30 days"\n[arrivals]\nrate = "{rate}"\n'
                        '[team.sales]\nreps = 1\n[work]\ntouch = "fixed 30 days"\n')
    policy = str(ROOT / "policies" / "inbound-desk.sla")
    assert main(["plan", policy, "--scenario", str(scenario), "--format", "json"]) == 0
    [row] = json.loads(capsys.readouterr().out)["first_touch"]
    assert row["mean_wait_hours"] <= (30 + 366) * 24
    assert row["mean_wait_open_hours"] <= row["mean_wait_hours"]
    assert main(["plan", policy, "--scenario", str(scenario)]) == 0
    assert "the backlog grows without end" in capsys.readouterr().out
