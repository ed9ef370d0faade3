"""Policy changes replayed over Company X's shipped quarter, with the flips checked by hand.

The history is `examples/company-x/history.csv`; the policy's calendar is open mon-fri
09:00-17:00 and sat 10:00-14:00, America/New_York (EST, UTC-5, until 2026-03-08; EDT, UTC-4,
after). Each lead named below was read event by event and its verdict worked out on that
calendar; the comments give the reasoning.
"""

from __future__ import annotations

import csv
import json
import os
import re

import pytest

from sla_dsl.ci import change_impact as ci
from sla_dsl.cli import main
from sla_dsl.policy_file import check_text, load_policy

from .conftest import FIXTURES, ROOT

COMPANY_X = ROOT / "policies" / "company-x.sla"
HISTORY = str(ROOT / "examples" / "company-x" / "history.csv")
PAIRS = FIXTURES / "diff"

# hot, first touch within 1 -> 2 business hours: the 23 leads the replay flips
RELAXED = ["L0000003", "L0000020", "L0000052", "L0000088", "L0000121", "L0000135", "L0000137",
           "L0000157", "L0000167", "L0000179", "L0000210", "L0000231", "L0000267", "L0000279",
           "L0000286", "L0000301", "L0000304", "L0000330", "L0000340", "L0000350", "L0000357",
           "L0000388", "L0000391"]


@pytest.fixture(scope="module")
def old_replay() -> ci.Replay:
    policy = load_policy(COMPANY_X)
    history, _ = ci.histories(policy, policy, [HISTORY])
    return ci.replay(policy, history, ci.latest_event(history))


def impact_of(old_replay: ci.Replay, new_policy) -> dict:
    history = old_replay.evaluation.history
    return ci.impact(old_replay, ci.replay(new_policy, history, old_replay.evaluation.as_of))


def flips(impact: dict) -> dict[tuple[str, str], dict[str, list[str]]]:
    return {(c["handoff"], c["clause"]): c["flips"] for c in impact["clauses"] if c["flips"]}


@pytest.fixture(scope="module")
def relaxed(old_replay) -> dict:
    return impact_of(old_replay, load_policy(PAIRS / "company-x-first-touch-2h.sla"))


def test_relaxed_first_touch_flips_only_late_first_touches_to_met(relaxed):
    assert flips(relaxed) == {("hot", "first touch"): {"breached -> met": RELAXED}}
    assert relaxed["breaches"] == {"old": 348, "new": 325, "change": -23}


def test_relaxed_first_touch_flips_checked_by_hand(relaxed):
    flipped = set(flips(relaxed)[("hot", "first touch")]["breached -> met"])
    # L0000003: handed off Mon 2026-01-05 15:46:47 EST, first touch 18:00:18 EST. One business
    # hour is due 16:46:47 (breached); two are 1:13:13 on Monday and 0:46:47 from Tuesday's
    # 09:00, due Tue 09:46:47, after the touch (met).
    # L0000020: handed off Thu 2026-01-08 11:03:53 EST, first touch 12:14:53, 71 minutes on.
    # L0000388: handed off Thu 2026-04-02 13:03:45 EDT, first touch 14:29:14 EDT, 85 minutes
    # on: the flip holds across the change to daylight saving time.
    assert {"L0000003", "L0000020", "L0000388"} <= flipped
    # L0000061 stays breached: handed off Mon 2026-01-19 10:35:06 EST, first touch 15:08:48,
    # four and a half open hours on, late under both versions.
    assert "L0000061" not in flipped


def test_relaxed_first_touch_moves_strikes_and_owners(relaxed):
    strikes = relaxed["strikes"]
    assert (strikes["old"], strikes["new"]) == (71, 48)
    alice = next(r for r in strikes["rows"] if (r["owner"], r["start"]) == ("alice", "2026-01-01"))
    assert (alice["old"], alice["new"]) == (15, 11)
    assert alice["lost"] == ["L0000003", "L0000137", "L0000179", "L0000231"]
    lost = sorted(lead for row in strikes["rows"] for lead in row["lost"])
    assert lost == RELAXED  # the strike rule strikes exactly the breaches of first touch
    owners = {r["owner"]: r for r in relaxed["owners"]}
    assert owners["chen"]["change"] == -9
    assert sorted(lead for r in relaxed["owners"] for lead in r["no_longer_breached"]) == RELAXED


def test_extra_closed_date_flips_two_leads_checked_by_hand(old_replay):
    impact = impact_of(old_replay, load_policy(PAIRS / "company-x-mlk-day.sla"))
    # 2026-01-19 (a Monday) closed.
    # L0000061, hot: handed off on that Monday 10:35:06 EST, first touch 15:08:48 the same
    # day. Open, the hour ran out at 11:35:06 (breached); closed, the clock starts Tuesday
    # 09:00 and is due 10:00, after the touch (met).
    # L0000047, small: handed off Wed 2026-01-14 13:15:45 EST, one touch, then connected
    # Tue 01-20 20:01:06 EST. Five business days (Thu, Fri, Sat, Mon, Tue) end Tue 13:15:45,
    # before the connect (breached); with Monday closed they end Wed 01-21 13:15:45 (met).
    assert flips(impact) == {("hot", "first touch"): {"breached -> met": ["L0000061"]},
                             ("small", "touches"): {"breached -> met": ["L0000047"]}}
    dana = next(r for r in impact["strikes"]["rows"]
                if (r["owner"], r["start"]) == ("dana", "2026-01-01"))
    assert dana["lost"] == ["L0000061"]


def test_removed_consequence_keeps_verdicts_and_drops_every_action(old_replay):
    impact = impact_of(old_replay, load_policy(PAIRS / "company-x-no-breach-consequence.sla"))
    assert flips(impact) == {}
    assert impact["strikes"]["new"] == 0 and impact["strikes"]["old"] == 71
    assert {a["action"]: a["new"] for a in impact["actions"]} == {
        "escalate": 0, "reassign": 0, "strike": 0, "warn": 0}


def test_changed_goal_and_formatting_change_nothing_replayed(old_replay):
    for name in ("company-x-goal-raised.sla", "company-x-reformatted.sla"):
        impact = impact_of(old_replay, load_policy(PAIRS / name))
        assert flips(impact) == {}
        assert impact["breaches"]["change"] == 0
        assert impact["credits"]["rows"] == []


def _created_fields(name: str) -> dict[str, str]:
    """A field of each lead as its `created` row has it, read from the CSV directly rather
    than through the evaluator."""
    with open(HISTORY, encoding="utf-8", newline="") as file:
        return {row["lead_id"]: row[name] for row in csv.DictReader(file)
                if row["event"] == "created"}


def test_raised_threshold_breaches_exactly_the_leads_scored_70_to_79(old_replay):
    text = COMPANY_X.read_text(encoding="utf-8").replace("when mql and score >= 70",
                                                         "when mql and score >= 80")
    impact = impact_of(old_replay, check_text(text).policy)
    [(key, transitions)] = flips(impact).items()
    assert key == ("hot", "threshold")
    [(transition, leads)] = transitions.items()
    assert transition == "met -> breached"
    scores = _created_fields("score")
    assert len(leads) == 20 and all(70 <= int(scores[lead]) < 80 for lead in leads)


def test_a_narrower_stage_counts_fewer_leads_toward_the_commitment(old_replay):
    text = COMPANY_X.read_text(encoding="utf-8").replace("timeline <= 90 days",
                                                         "timeline <= 30 days")
    impact = impact_of(old_replay, check_text(text).policy)
    january = next(r for r in impact["credits"]["rows"]
                   if (r["deliver"], r["start"]) == ("sql", "2026-01-01"))
    assert (january["old"]["delivered"], january["new"]["delivered"]) == (7.0, 4.0)
    assert january["counted_only_before"] == ["L0000021", "L0000023", "L0000072"]
    assert january["counted_only_after"] == []


def test_cheaper_leads_owe_more_credits(old_replay):
    text = COMPANY_X.read_text(encoding="utf-8").replace("value decision_maker 100 USD",
                                                         "value decision_maker 50 USD")
    impact = impact_of(old_replay, check_text(text).policy)
    owed = impact["credits"]["credits_owed"]
    # February's and March's sql and March's lead value before (the leads marketing handed
    # sales, not those it kept nurturing or discarded); April, whose data ends on the 3rd, and
    # May, with none, are no miss
    assert owed["new"] > owed["old"] == 3
    newly = [r for r in impact["credits"]["rows"]
             if r["new"]["counts_as_miss"] and not r["old"]["counts_as_miss"]]
    assert {r["start"] for r in newly} == {"2026-02-01"}
    february = next(r for r in newly if r["start"] == "2026-02-01")
    # each decision maker handed off in February is worth 50 USD less: the leads named are
    # exactly the difference in value delivered, and each has a decision maker's title
    cheaper = february["value_changed"]
    assert len(cheaper) * 50 == february["old"]["delivered"] - february["new"]["delivered"]
    titles = _created_fields("title")
    assert all(re.search(r"(?i)\b(ceo|cfo|cto|vp|head|director)\b", titles[lead])
               for lead in cheaper)


# ---------------------------------------------------------------- the command


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(["diff", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_gate_fails_a_tightening_beyond_the_limit(capsys):
    tight, loose = str(COMPANY_X), str(PAIRS / "company-x-first-touch-2h.sla")
    code, out, _ = run(capsys, loose, tight, "--history", HISTORY,
                       "--fail-on-more-breaches", "22")
    assert code == 1
    assert "FAILS --fail-on-more-breaches 22: breaches 325 -> 348 (+23)" in out
    assert "met -> breached: 23 leads: L0000003, L0000020" in out
    code, out, _ = run(capsys, loose, tight, "--history", HISTORY, "--fail-on-more-breaches", "22",
                       "--format", "github")
    assert code == 1
    last = out.splitlines()[-1]
    assert last.startswith(f"::error file={tight},title=sla diff impact::breaches 325 -> 348")
    code, _, _ = run(capsys, loose, tight, "--history", HISTORY, "--fail-on-more-breaches", "23")
    assert code == 0
    code, out, _ = run(capsys, tight, loose, "--history", HISTORY, "--fail-on-more-breaches", "0",
                       "--format", "github")
    assert code == 0
    assert out.splitlines()[-1].startswith("::notice ")


def test_cli_as_of_shows_a_clock_still_running_as_pending(capsys):
    # at 17:30 New York time on 2026-01-05, L0000003 (handed off 15:46:47, first touch 18:00:18)
    # is late by one business hour but, with two, has until Tuesday 09:46:47
    code, out, _ = run(capsys, str(COMPANY_X), str(PAIRS / "company-x-first-touch-2h.sla"),
                       "--history", HISTORY, "--as-of", "2026-01-05T17:30", "--format", "json")
    impact = json.loads(out)["impact"]
    assert code == 0
    assert impact["as_of"] == "2026-01-05T17:30:00-05:00"
    assert flips(impact) == {("hot", "first touch"): {"breached -> pending": ["L0000003"]}}


def test_cli_json_has_every_lead_id(capsys):
    code, out, _ = run(capsys, str(COMPANY_X), str(PAIRS / "company-x-first-touch-2h.sla"),
                       "--history", HISTORY, "--format", "json")
    doc = json.loads(out)
    assert code == 0
    first_touch = next(c for c in doc["impact"]["clauses"]
                       if (c["handoff"], c["clause"]) == ("hot", "first touch"))
    assert first_touch["flips"]["breached -> met"] == RELAXED
    assert doc["changes"][0]["new"] == "2 business hours"


def test_cli_markdown_matches_the_reviewed_comment(capsys, monkeypatch):
    """The pull-request comment of the first-touch change, read by eye and kept."""
    monkeypatch.chdir(ROOT)
    code, out, _ = run(capsys, "policies/company-x.sla",
                       "tests/fixtures/diff/company-x-first-touch-2h.sla",
                       "--history", "examples/company-x/history.csv", "--format", "markdown",
                       "--fail-on-more-breaches", "0")
    golden = PAIRS / "company-x-first-touch-2h.md"
    if os.environ.get("SLA_UPDATE_GOLDEN"):
        golden.write_text(out, encoding="utf-8")
    assert code == 0
    assert out == golden.read_text(encoding="utf-8")


def test_the_page_shows_the_reviewed_comment():
    """docs/diff.md's markdown example is the golden comment the test above holds the command
    to."""
    page = (ROOT / "docs" / "diff.md").read_text(encoding="utf-8")
    (shown,) = re.findall(r"^````markdown\n(.*?)^````$", page, re.DOTALL | re.MULTILINE)
    assert shown == (PAIRS / "company-x-first-touch-2h.md").read_text(encoding="utf-8")


def test_cli_history_problems_are_usage_errors(capsys, tmp_path):
    code, _, err = run(capsys, str(COMPANY_X), str(COMPANY_X), "--fail-on-more-breaches", "0")
    assert code == 2 and "needs --history" in err
    code, _, err = run(capsys, str(COMPANY_X), str(COMPANY_X),
                       "--history", str(tmp_path / "missing.csv"))
    assert code == 2 and "missing.csv" in err and "Traceback" not in err
    code, _, err = run(capsys, str(COMPANY_X), str(COMPANY_X), "--history", HISTORY,
                       "--as-of", "last tuesday")
    assert code == 2 and "--as-of" in err


def test_a_new_timezone_moves_the_open_hours_both_ways(capsys, tmp_path):
    pacific = tmp_path / "company-x-pacific.sla"
    pacific.write_text(COMPANY_X.read_text(encoding="utf-8").replace(
        'timezone "America/New_York"', 'timezone "America/Los_Angeles"'), encoding="utf-8")
    code, out, _ = run(capsys, str(COMPANY_X), str(pacific), "--history", HISTORY,
                       "--format", "json")
    assert code == 0
    [change] = json.loads(out)["changes"]
    assert change["text"] == 'timezone: "America/New_York" -> "America/Los_Angeles"'
    first_touch = flips(json.loads(out)["impact"])[("hot", "first touch")]
    # L0000053: handed off 2026-01-15 21:14:19Z, first touch 2026-01-16 01:52:15Z. In New York
    # that is Thu 16:14:19 and 20:52:15: the hour runs to Fri 09:14:19, the touch is in time.
    # In Los Angeles it is Thu 13:14:19 and 17:52:15: the hour ran out at 14:14:19.
    assert "L0000053" in first_touch["met -> breached"]
    # L0000020: handed off 16:03:53Z, touched 17:14:53Z; in New York (11:03 -> 12:14) late,
    # in Los Angeles handed off at 08:03:53, before opening: the hour runs 09:00-10:00, met.
    assert "L0000020" in first_touch["breached -> met"]


# ---------------------------------------------------------------- recycled leads, per attempt

TRIAL = ROOT / "policies" / "company-x-trial.sla"
TRIAL_RECYCLED = ROOT / "policies" / "tests" / "company-x-trial" / "recycled-lead.toml"


def test_a_recycled_lead_is_compared_attempt_by_attempt(tmp_path):
    """The trial policy's shipped recycled lead R1 (Chicago time): attempt 1 handed off Monday
    2 February 2026 10:00, touched 10:30 (30 minutes), one touch in its ten days, rejected;
    attempt 2 handed off Monday 6 April 09:30, touched 10:15 (45 minutes), connected Tuesday.
    The change: first touch within 40 business minutes, and at least 1 touch in 10 days.
    - first touch: attempt 1, 30 minutes, met under both; attempt 2, 45 minutes, met -> breached,
      and its escalation and strike are new, for attempt 2.
    - touches: attempt 1, one touch of six breached, one of one met: breached -> met; attempt 2
      was met by the connect in both.
    Keeping only a lead's latest attempt would hide attempt 1's flip and name attempt 2's R1."""
    import tomllib

    events = tomllib.loads(TRIAL_RECYCLED.read_text())["events"]
    history = tmp_path / "history.csv"
    history.write_text("".join(line + "\n" for line in events.strip().splitlines()
                               if not line.startswith("#")))
    old = load_policy(TRIAL)
    new = check_text(TRIAL.read_text().replace(
        "first touch within 1 business hour", "first touch within 40 business minutes").replace(
        "touches at least 6 within", "touches at least 1 within")).policy
    old_history, new_history = ci.histories(old, new, [str(history)])
    as_of = ci.latest_event(old_history)
    impact = ci.impact(ci.replay(old, old_history, as_of), ci.replay(new, new_history, as_of))
    assert flips(impact) == {("hot", "first touch"): {"met -> breached": ["R1/attempt-2"]},
                             ("hot", "touches"): {"breached -> met": ["R1"]}}
    clauses = {c["clause"]: (c["old"], c["new"]) for c in impact["clauses"]}
    # two attempts, two verdicts per clause, as the report counts them
    assert clauses["first touch"] == ({"met": 2, "breached": 0, "pending": 0},
                                      {"met": 1, "breached": 1, "pending": 0})
    assert clauses["touches"] == ({"met": 1, "breached": 1, "pending": 0},
                                  {"met": 2, "breached": 0, "pending": 0})
    actions = {a["action"]: (a["old"], a["new"], a["gained"]) for a in impact["actions"]}
    assert actions == {"escalate": (0, 1, ["R1/attempt-2"]), "strike": (0, 1, ["R1/attempt-2"])}
    # attempt 2 was bo's, attempt 1 ana's: the new breach is bo's, the breach gone is ana's
    owners = {r["owner"]: (r["newly_breached"], r["no_longer_breached"])
              for r in impact["owners"]}
    assert owners == {"bo": (["R1/attempt-2"], []), "ana": ([], ["R1"])}
