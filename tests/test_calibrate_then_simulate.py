"""`sla calibrate` writes what `sla simulate` reads: a scenario calibrated from a shipped history
is simulated, not refused.

It was refused: on the Salesforce and HubSpot exports calibrate wrote the history's
handoff-to-first-attempt delay (`gamma 17.5 hours`, nights and waiting included) as
`work.response`, which the simulator counts as rep time, and `sla simulate` called the team
overloaded. A history whose attempts were logged under a second apart, or timed to the same
minute, had calibrate write a work time the scenario loader refuses (under a second, or a gamma
shape of ten billion). The inputs here are the shipped examples' histories and policies, and
the company-x history with its attempts logged those two ways.
"""

from __future__ import annotations

import collections
import csv
import datetime as dt
import json
import math
import tomllib
from pathlib import Path

import pytest

from sla_dsl.cli import main
from sla_dsl.planning.scenario import LEAST_WORK_SECONDS, load_scenario

from .conftest import OLIST_FULL, ROOT

EXAMPLES = ROOT / "examples"
COMPANY_X = EXAMPLES / "company-x" / "history.csv"


def _exported(crm: str) -> list[str]:
    return sorted(str(p) for p in (EXAMPLES / crm).glob("*.csv"))


# every example docs/calibrate.md calibrates, as it runs them
CALIBRATED = {
    "company-x": ("company-x.sla", ["--history", str(COMPANY_X)]),
    "salesforce": ("inbound-desk.sla", ["--preset", "salesforce", "--history",
                                        *_exported("salesforce")]),
    "hubspot": ("inbound-desk.sla", ["--preset", "hubspot", "--timezone", "Europe/Amsterdam",
                                     "--history", *_exported("hubspot")]),
    "olist excerpt": ("olist.sla", ["--mapping", str(EXAMPLES / "olist" / "mapping.toml")]),
    "olist full": ("olist.sla", [
        "--mapping", str(EXAMPLES / "olist" / "mapping.toml"), "--history",
        str(OLIST_FULL / "olist_marketing_qualified_leads_dataset.csv"),
        str(OLIST_FULL / "olist_closed_deals_dataset.csv")]),
}


def _calibrate(tmp_path: Path, capsys, policy: str, args: list[str]) -> tuple[Path, dict]:
    """The scenario written and the JSON report."""
    scenario = tmp_path / "calibrated.toml"
    assert main(["calibrate", "--policy", str(ROOT / "policies" / policy), *args, "-q",
                 "--format", "json", "-o", str(scenario)]) == 0
    return scenario, json.loads(capsys.readouterr().out)


def _simulate(capsys, policy: str, scenario: Path) -> tuple[int, str, str]:
    code = main(["simulate", str(ROOT / "policies" / policy), "--scenario", str(scenario),
                 "--replications", "2", "-q"])
    out, err = capsys.readouterr()
    return code, out, err


def _work_amounts(scenario: Path) -> dict[str, list[float]]:
    """Per work key written, the hours the simulator draws from: the mean, a lognormal's sd,
    an empirical sample's values (as the scenario loader reads them)."""
    loaded = load_scenario(scenario)
    amounts = {}
    for key, work in (("touch", loaded.touch), ("follow_up", loaded.follow_up),
                      ("response", loaded.response)):
        if work is not None:
            sd = [work.sd_hours] if work.distribution == "lognormal" else []
            amounts[key] = [work.mean_hours, *sd, *work.values]
    return amounts


def _at_least_a_second(amounts: dict[str, list[float]]) -> None:
    least = LEAST_WORK_SECONDS / 3600
    for key, hours in amounts.items():
        assert all(math.isfinite(h) and h >= least * (1 - 1e-9) for h in hours), (key, hours)


@pytest.mark.parametrize("example", list(CALIBRATED))
def test_a_scenario_calibrated_from_a_shipped_history_is_simulated(example, tmp_path, capsys):
    policy, args = CALIBRATED[example]
    scenario, report = _calibrate(tmp_path, capsys, policy, args)
    code, out, err = _simulate(capsys, policy, scenario)
    assert code == 0, err
    assert "attainment per clause" in out
    assert report["simulate"]["runs"] and report["simulate"]["refusal"] is None
    assert "response" not in tomllib.loads(scenario.read_text(encoding="utf-8"))["work"]
    _at_least_a_second(_work_amounts(scenario))


@pytest.mark.parametrize("crm", ["salesforce", "hubspot"])
def test_the_crm_scenario_says_why_it_has_no_response_and_what_to_put_there(crm, tmp_path,
                                                                            capsys):
    """The measured delay is in the file, beside why it is not rep time and the two bounds a
    planner's own figure must keep: the history's open hours, and the reps' room."""
    policy, args = CALIBRATED[crm]
    scenario, report = _calibrate(tmp_path, capsys, policy, args)
    text = scenario.read_text(encoding="utf-8")
    comments = " ".join(line[1:].strip() for line in text.splitlines() if line.startswith("#"))
    measured = report["response_hours"][0]
    assert measured["family"] == "gamma" and measured["mean"] == pytest.approx(17.5, abs=0.05)
    assert report["response_written"] is False
    assert "# response: left out, because the history cannot measure it." in text
    assert "elapsed: gamma 17.5 hours shape" in comments and "(47 leads" in comments
    assert "mostly waiting" in comments and "a timed sample" in comments
    assert "at its mean of 17.5 hours it is more than the reps' open hours can carry" in comments
    room = report["simulate"]["response_room_hours"]
    assert 0 < report["response_open_hours"] < room < measured["mean"]


def test_the_room_for_a_response_is_where_sla_simulate_starts_refusing(tmp_path, capsys):
    """The room calibrate reports is the simulator's own load check: a response just under it
    runs, one just over it (or the measured delay, as calibrate once wrote it) is refused."""
    from sla_dsl.planning.calibration_check import simulator_view
    from sla_dsl.policy_file import load_policy

    policy, args = CALIBRATED["salesforce"]
    scenario, report = _calibrate(tmp_path, capsys, policy, args)
    room = report["simulate"]["response_room_hours"]
    text = scenario.read_text(encoding="utf-8")
    desk = load_policy(ROOT / "policies" / policy)

    def with_response(words: str) -> str:
        return text.replace("[work]\n", f'[work]\nresponse = "{words}"\n', 1)

    assert simulator_view(desk, with_response(f"fixed {0.98 * room:.4f} hours")).refusal is None
    over = simulator_view(desk, with_response(f"fixed {1.02 * room:.4f} hours")).refusal
    assert over is not None and "overloaded" in over
    measured = report["response_hours"][0]
    once_written = f"gamma {measured['mean']:.1f} hours shape {measured['shape']:.3f}"
    assert "overloaded" in simulator_view(desk, with_response(once_written)).refusal


def _logged(tmp_path: Path, name: str, gaps_us: list[int]) -> Path:
    """The company-x history with each rep's attempts of a day logged one after another,
    `gaps_us` apart (in turn), from the day's last attempt: as a dialer or a bulk 'log
    activity' writes them."""
    with COMPANY_X.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    days: dict[tuple[str, dt.date], list[tuple[dt.datetime, int]]] = collections.defaultdict(list)
    for index, row in enumerate(rows):
        if row["event"] in ("touch", "connected") and row["actor"]:
            at = dt.datetime.fromisoformat(row["at"])
            days[(row["actor"], at.date())].append((at, index))
    for attempts in days.values():
        at = max(attempts)[0]
        for turn, (_, index) in enumerate(sorted(attempts)):
            rows[index]["at"] = at.isoformat().replace("+00:00", "Z")
            at += dt.timedelta(microseconds=gaps_us[turn % len(gaps_us)])
    path = tmp_path / f"{name}.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


@pytest.mark.parametrize(("logged", "gaps_us", "says"), [
    # a burst: 0.2 to 0.8 s apart; was "lognormal 0.00661 minutes sd 0.00405 minutes"
    ("burst", [200_000, 500_000, 800_000], "588 under a second apart left out"),
    # a minute apart to the millisecond; was "gamma 1 minutes shape 15402187508"
    ("minute", [60_000_000, 60_001_000], "the gamma fit is not written"),
])
def test_no_work_time_written_is_under_the_simulators_second(logged, gaps_us, says, tmp_path,
                                                             capsys):
    history = _logged(tmp_path, logged, gaps_us)
    scenario, report = _calibrate(tmp_path, capsys, "company-x.sla", ["--history", str(history)])
    amounts = _work_amounts(scenario)  # the loader reads it: every range held
    assert set(amounts) == {"touch"}
    _at_least_a_second(amounts)
    assert says in scenario.read_text(encoding="utf-8") or any(says in n for n in report["notes"])
    code, _, err = _simulate(capsys, "company-x.sla", scenario)
    assert code == 0, err


def test_a_scenario_the_simulator_refuses_says_so_first_and_stays_readable():
    """Should a history still give a scenario the simulator refuses, the file opens with the
    simulator's own message (as comments: the file stays valid TOML) and the report ends with
    it as a warning. The refusal here is the simulator's, on the company-x draft with a touch
    of 20 days."""
    from sla_dsl import load_history
    from sla_dsl.evaluation.replay import fields_needed
    from sla_dsl.planning.calibration import calibrate
    from sla_dsl.planning.calibration_check import simulator_view
    from sla_dsl.planning.calibration_output import render_report, scenario_toml
    from sla_dsl.policy_file import load_policy

    policy = load_policy(ROOT / "policies" / "company-x.sla")
    history = load_history([COMPANY_X], policy=policy, fields=fields_needed(policy) | {"stage"})
    cal = calibrate(policy, history)
    draft = scenario_toml(cal, "history.csv")
    touch = next(line for line in draft.splitlines() if line.startswith("touch = "))
    view = simulator_view(policy, draft.replace(touch, 'touch = "fixed 20 days"'))
    assert view.refusal is not None and "overloaded" in view.refusal
    written = scenario_toml(cal, "history.csv", view)
    assert written.splitlines()[3] == ("# sla simulate refuses this scenario as written, "
                                       "whatever the history says:")
    assert tomllib.loads(written) == tomllib.loads(draft)  # comments only
    assert render_report(cal, view).splitlines()[-1].startswith(
        "  warning: sla simulate refuses the scenario as written: handoff 'hot' is overloaded")
