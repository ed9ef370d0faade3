"""The simulator's parts on real policies, scenarios and timezones: the scenario format,
arrivals by profile and season, routing by weights and caps, the decay presets, the queue
discipline, and the whole run's sections."""

from __future__ import annotations

import datetime as dt
import json
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from sla_dsl.business_time.zones import US_PER_SECOND as US
from sla_dsl.business_time.zones import ZoneOffsets
from sla_dsl.cli import main
from sla_dsl.language.source import read_policy
from sla_dsl.planning.scenario import ScenarioError, load_scenario, parse_scenario
from sla_dsl.policy_file import check_source
from sla_dsl.simulator.arrivals import arrival_seconds
from sla_dsl.simulator.clock import origin_us
from sla_dsl.simulator.context import build
from sla_dsl.simulator.outcomes import Decay
from sla_dsl.simulator.routing import blocks_of, deal
from sla_dsl.simulator.simulation import simulate

from .conftest import ROOT

SCENARIOS = ROOT / "examples" / "scenarios"
NEW_YORK = ZoneInfo("America/New_York")


def _policy(name: str):
    return check_source(read_policy(ROOT / "policies" / name)).policy


@pytest.fixture(scope="module")
def company_x():
    return _policy("company-x.sla")


# ---------------------------------------------------------------- the scenario format


def test_the_company_x_scenario_reads_every_new_key():
    scenario = load_scenario(SCENARIOS / "company-x.toml")
    assert scenario.start == dt.date(2026, 1, 1)
    assert len(scenario.profile) == 7 and all(len(row) == 24 for row in scenario.profile)
    assert scenario.month == {1: 0.8, 3: 1.2}
    assert scenario.fields["score"].kind == "normal"
    assert scenario.fields["industry"].choices[0] == "software"
    assert scenario.teams == {"sdr": 3, "smb": 2, "marketing": 1}
    assert scenario.touch.distribution == "lognormal"
    assert scenario.touch.sd_hours == pytest.approx(0.1)
    assert scenario.follow_up.mean_hours == pytest.approx(0.1)
    assert scenario.discipline == "first-touch-first"
    assert scenario.outcomes.decay == "both"
    assert scenario.outcomes.deal_size.mean_hours == 100  # money, in the same slot


@pytest.mark.parametrize(("text", "mean_minutes"), [
    ('touch = "empirical [5, 8, 12, 30] minutes"', 13.75),
    ('touch = "gamma 12 minutes shape 2"', 12),
    ('touch = "fixed 90 seconds"', 1.5),
])
def test_work_time_distributions(text, mean_minutes):
    scenario = parse_scenario(f'[arrivals]\nrate = "1 per hour"\n[work]\n{text}\n')
    assert scenario.touch.mean_hours * 60 == pytest.approx(mean_minutes)


@pytest.mark.parametrize(("text", "where"), [
    ('[work]\ndiscipline = "lifo"', "work.discipline"),
    ('[arrivals.mix]\nhot = 0.5\nsmall = 0.2', "arrivals.mix"),
    ("[arrivals]\nprofile = [[1, 2]]", "arrivals.profile"),
    ('[arrivals]\nmonth = { smarch = 2.0 }', "arrivals.month.smarch"),
    ('[outcomes]\ndecay = "hbr-2012"', "outcomes.decay"),
    ("[outcomes]\nconnect = 1.5", "outcomes.connect"),
    ('[work]\ntouch = "lognormal 12 minutes"', "work.touch"),
    ('[work]\nresponse = "soon"', "work.response"),
    ('[outcomes]\nsurprise = 1', "outcomes.surprise"),
])
def test_scenario_mistakes_name_the_key_and_the_fix(text, where):
    base = '[arrivals]\nrate = "1 per hour"\n' if not text.startswith("[arrivals]") \
        else ""
    if text.startswith("[arrivals]"):
        text = text.replace("[arrivals]\n", '[arrivals]\nrate = "1 per hour"\n')
    with pytest.raises(ScenarioError) as error:
        parse_scenario(base + text, "plan.toml")
    assert f"plan.toml: {where}:" in str(error.value) and "help:" in str(error.value)


# ---------------------------------------------------------------- arrivals


def _arrivals(text: str, start: dt.date, timezone: str = "America/New_York") -> np.ndarray:
    scenario = parse_scenario(text)
    origin = origin_us(start, timezone)
    offsets = ZoneOffsets(ZoneInfo(timezone), origin - 86_400 * US,
                          origin + int(scenario.horizon_hours * 3600 + 86_400) * US)
    moments = arrival_seconds(scenario, np.random.default_rng(5), origin, offsets)
    return origin + moments.astype(np.int64) * US


def test_a_profile_puts_arrivals_in_its_hours_on_the_policys_wall_clock_across_dst():
    monday_nine = [[0] * 24 for _ in range(7)]
    monday_nine[0][9] = 1
    # four weeks over the 2026-03-08 change to daylight time in New York
    at = _arrivals(f'horizon = "28 days"\n[arrivals]\nrate = "10 per hour"\n'
                   f"profile = {monday_nine}\n", dt.date(2026, 3, 2))
    local = [dt.datetime.fromtimestamp(u / US, NEW_YORK) for u in at]
    assert {(t.weekday(), t.hour) for t in local} == {(0, 9)}
    assert len(at) == pytest.approx(10 * 28 * 24, rel=0.05)  # the weekly mean rate is kept


def test_monthly_seasonality_scales_the_rate():
    at = _arrivals('horizon = "59 days"\n[arrivals]\nrate = "40 per day"\n'
                   "month = { mar = 2.0 }\n", dt.date(2026, 2, 1))
    march = at >= origin_us(dt.date(2026, 3, 1), "America/New_York")
    per_day_feb, per_day_mar = np.count_nonzero(~march) / 28, np.count_nonzero(march) / 31
    assert per_day_mar / per_day_feb == pytest.approx(2.0, rel=0.1)


# ---------------------------------------------------------------- routing


def _hot(company_x):
    return next(b for b in blocks_of(company_x) if b.handoff.label == "hot")


def test_weighted_round_robin_deals_two_to_one_to_one(company_x):
    hot = _hot(company_x)
    hot.dealt = hot.dealt.model_copy(update={"cap": None})
    origin = origin_us(dt.date(2026, 1, 5), "America/New_York")
    handed = origin + np.arange(400, dtype=np.int64) * 3600 * US
    offsets = ZoneOffsets(NEW_YORK, origin - 86_400 * US, origin + 40 * 86_400 * US)
    owners, assigned = deal(hot, handed, [0, 1, 2], np.array([2.0, 1.0, 1.0]), offsets)
    assert np.bincount(owners).tolist() == [200, 100, 100]
    assert owners[:4].tolist() == [0, 1, 2, 0]  # smooth: alice's turns are spread out
    assert (assigned == handed).all()


def test_a_rep_at_the_daily_cap_is_skipped_and_a_full_team_waits_for_tomorrow(company_x):
    hot = _hot(company_x)  # cap 25 per day, weights 2:1:1
    ten_am = int(dt.datetime(2026, 1, 6, 10, tzinfo=NEW_YORK).timestamp()) * US
    handed = ten_am + np.arange(100, dtype=np.int64) * 60 * US  # 100 leads in 100 minutes
    offsets = ZoneOffsets(NEW_YORK, ten_am - 86_400 * US, ten_am + 10 * 86_400 * US)
    owners, assigned = deal(hot, handed, [0, 1, 2], np.array([2.0, 1.0, 1.0]), offsets)
    days = [dt.datetime.fromtimestamp(u / US, NEW_YORK).date() for u in assigned]
    per_rep_day = {}
    for owner, day in zip(owners.tolist(), days, strict=True):
        per_rep_day[owner, day] = per_rep_day.get((owner, day), 0) + 1
    assert max(per_rep_day.values()) == 25
    assert days.count(dt.date(2026, 1, 6)) == 75
    midnight = int(dt.datetime(2026, 1, 7, tzinfo=NEW_YORK).timestamp()) * US
    assert assigned[75] == midnight  # the 76th lead waits for the next local day


# ---------------------------------------------------------------- outcomes


def test_the_decay_presets_carry_the_studies_figures():
    hbr, mit = Decay.of("hbr-2011"), Decay.of("mit-2007")
    assert hbr(0.5) == 1 and hbr(1) == 1
    assert hbr(2) == pytest.approx(1 / 7) and hbr(24) == pytest.approx(1 / 60)
    assert hbr(72) == pytest.approx(1 / 60)  # flat after the last point
    assert hbr(1.5) == pytest.approx((1 / 7) ** 0.5)  # log-linear between points
    assert mit(5 / 60) == 1 and mit(0.5) == pytest.approx(0.01)
    assert mit(0.5) / mit(5 / 60) == pytest.approx(1 / 100)


def test_a_custom_decay_table():
    decay = Decay.of({"1 hour": 1.0, "10 hours": 0.1})
    assert decay(0) == 1 and decay(10) == pytest.approx(0.1)
    assert decay(5.5) == pytest.approx(0.1 ** 0.5)


@pytest.mark.parametrize("name", ["hbr-2011", "mit-2007", "none"])
def test_the_decay_read_for_many_delays_at_once_is_the_decay(name):
    """`sla plan` reads the decay at every step's attempts at once (`Decay.many`): it must be
    the simulator's own curve, flat before the first point and after the last."""
    decay = Decay.of(name)
    delays = np.array([0.0, 0.05, 5 / 60, 0.3, 0.5, 1.0, 1.5, 2.0, 7.0, 24.0, 100.0])
    assert decay.many(delays) == pytest.approx([decay(d) for d in delays.tolist()], rel=1e-12)


# ---------------------------------------------------------------- whole runs


@pytest.fixture(scope="module")
def company_x_run(company_x):
    scenario = load_scenario(SCENARIOS / "company-x.toml", {"horizon": "50 days"})
    return simulate(company_x, scenario, 4, seed=2)


def test_both_decay_presets_run_on_the_same_streams(company_x_run):
    hbr, mit = company_x_run["runs"]
    assert (hbr["decay"], mit["decay"]) == ("hbr-2011", "mit-2007")
    assert company_x_run["clauses"] == hbr["clauses"]
    assert hbr["leads"] == mit["leads"]  # the same arrivals under both

    def sqls(run):
        return sum(month["sqls"]["mean"] for month in run["months"])

    assert sqls(mit) < sqls(hbr)  # contact odds fall faster in the MIT study


def test_months_are_held_against_the_goals_and_the_commitments(company_x_run):
    january = company_x_run["runs"][0]["months"][0]
    assert january["month"] == "2026-01" and january["whole"]
    assert january["sqls"]["goal"] == 100  # deliver at least 100 sql per month
    assert january["customers"]["goal"] == 50  # 5000 USD / 100 USD deal size
    assert 0 <= january["sqls"]["p_goal_met"] <= 1
    assert not company_x_run["runs"][0]["months"][-1]["whole"]  # February is cut short


def test_utilisation_backlog_and_consequences(company_x_run):
    run = company_x_run["runs"][0]
    assert [t["team"] for t in run["teams"]] == ["sdr", "smb", "marketing"]
    assert all(0 < t["utilisation"]["mean"] < 1 for t in run["teams"])
    assert run["backlog"]["peak"]["mean"] >= run["backlog"]["mean"]["mean"] > 0
    assert len(run["backlog"]["weekly_mean"]) == 8
    assert {"warn", "strike"} <= {c["action"] for c in run["consequences"]}


def test_first_touch_first_serves_first_touches_better_than_fifo():
    policy = _policy("inbound-desk.sla")

    def first_touch(discipline: str) -> float:
        scenario = load_scenario(SCENARIOS / "inbound-desk.toml",
                                 {"horizon": "21 days", "work.discipline": discipline,
                                  "outcomes.decay": "none"})
        doc = simulate(policy, scenario, 3, seed=4, workers=1)
        return next(c for c in doc["clauses"] if c["clause"] == "first touch")[
            "attainment"]["mean"]

    assert first_touch("first-touch-first") > first_touch("fifo") + 0.1


def test_same_seed_same_answer_in_one_process_or_two(company_x):
    scenario = load_scenario(SCENARIOS / "company-x.toml",
                             {"horizon": "14 days", "outcomes.decay": "hbr-2011"})
    alone = simulate(company_x, scenario, 3, seed=8, workers=1)
    spread = simulate(company_x, scenario, 3, seed=8, workers=2)
    assert alone == spread


def test_a_mix_of_shares_routes_without_fields(company_x):
    scenario = load_scenario(SCENARIOS / "company-x.toml", {
        "horizon": "14 days", "outcomes.decay": "none", "arrivals.fields": {},
        "arrivals.mix": {"hot": 0.5, "small": 0.3, "nurture": 0.1, "discard": 0.1}})
    doc = simulate(company_x, scenario, 2, seed=1, workers=1)
    leads = {c["handoff"]: c["leads"]["mean"] for c in doc["clauses"]}
    total = doc["runs"][0]["leads"]["mean"]
    assert leads["hot"] / total == pytest.approx(0.5, abs=0.05)
    assert leads["small"] / total == pytest.approx(0.3, abs=0.05)


def test_a_policy_routing_by_definitions_needs_a_mix_or_fields(capsys):
    assert main(["simulate", str(ROOT / "policies" / "company-x.sla"), "--scenario",
                 str(SCENARIOS / "inbound-desk.toml")]) == 2
    err = capsys.readouterr().err
    assert "[arrivals.mix]" in err and "[arrivals.fields]" in err


def test_the_text_report_has_every_section(tmp_path, capsys):
    scenario = tmp_path / "cx.toml"
    scenario.write_text((SCENARIOS / "company-x.toml").read_text()
                        .replace('horizon = "90 days"', 'horizon = "31 days"'))
    assert main(["simulate", str(ROOT / "policies" / "company-x.sla"), "--scenario",
                 str(scenario), "--replications", "2"]) == 0
    out = capsys.readouterr().out
    for words in ("decay hbr-2011", "decay mit-2007", "attainment per clause",
                  "hot: first touch within 1 business hour", "utilisation", "sdr: 3 reps",
                  "backlog", "2026-01  leads", "P(goal met)", "consequences fired"):
        assert words in out, words


def test_json_keeps_the_shape_sweeps_read(capsys):
    assert main(["simulate", str(ROOT / "policies" / "inbound-desk.sla"), "--scenario",
                 str(SCENARIOS / "inbound-desk.toml"), "--replications", "2",
                 "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    for clause in doc["clauses"]:
        assert set(clause) >= {"handoff", "clause", "attainment"}
        assert set(clause["attainment"]) == {"mean", "ci95"}
    # 5 leads an hour, 3 touches of 12 minutes each, 5 reps open 30% of the week: too much
    [note] = doc["notes"]
    assert note.startswith("team sales: full cadences would need 3.00 reps' worth")


def test_the_context_names_reps_from_the_policy(company_x):
    context = build(company_x, load_scenario(SCENARIOS / "company-x.toml",
                                             {"team.sdr.reps": 4}))
    assert context.roster.names[:4] == ["alice", "bob", "chen", "sdr 4"]


def test_a_fixed_owner_works_every_lead_alone_on_the_policys_calendar(tmp_path):
    from sla_dsl.policy_file import check_text

    policy = check_text(
        'sla "Owner desk"\ntimezone "Europe/Amsterdam"\n'
        'party marketing contact "m@owner.example"\nparty sales contact "s@owner.example"\n'
        "calendar office {\n  open mon-fri 09:00-17:00\n}\n"
        "handoff every lead from marketing to sales {\n"
        '  assign to "Marisol"\n  first touch within 2 business hours\n'
        "  touches at least 2 within 3 business days\n}\n").policy
    scenario = parse_scenario('horizon = "14 days"\n[arrivals]\nrate = "8 per day"\n'
                              '[work]\ntouch = "fixed 10 minutes"\n[outcomes]\ndecay = "none"\n')
    out = tmp_path / "owner.csv"
    simulate(policy, scenario, 2, seed=1, emit_history=out, workers=1)
    rows = [line.split(",") for line in out.read_text().splitlines()[1:]]
    touches = [r for r in rows if r[2] in ("touch", "connected")]
    assert touches and {r[3] for r in touches} == {"Marisol"}
    for r in touches:  # every touch starts inside office hours, Amsterdam time
        local = dt.datetime.fromisoformat(r[1].replace("Z", "+00:00")).astimezone(
            ZoneInfo("Europe/Amsterdam"))
        assert local.weekday() < 5 and 9 <= local.hour < 17


def test_the_whole_model_agrees_with_erlang_c_on_the_textbook_desk():
    # c = 5 reps, 20 leads an hour at 12 minutes: A = 4 Erlangs; a 3-minute first touch
    from sla_dsl.planning.queueing import mean_wait, service_level

    from .conftest import FIXTURES

    policy = check_source(read_policy(FIXTURES / "simulation" / "desk.sla")).policy
    scenario = parse_scenario('horizon = "21 days"\n[arrivals]\nrate = "20 per hour"\n'
                              '[team.sales]\nreps = 5\n[work]\ntouch = "exponential 12 minutes"\n'
                              '[outcomes]\ndecay = "none"\n')
    doc = simulate(policy, scenario, 12, seed=1)
    low, high = doc["clauses"][0]["attainment"]["ci95"]
    assert low <= service_level(5, 4.0, 0.05, 0.2) <= high  # 0.5685
    assert high - low < 0.05
    low, high = doc["clauses"][0]["mean_wait_hours"]["ci95"]
    assert low <= mean_wait(5, 4.0, 0.2) <= high  # 6.6 minutes
    low, high = doc["runs"][0]["teams"][0]["utilisation"]["ci95"]
    assert low <= 0.8 <= high
