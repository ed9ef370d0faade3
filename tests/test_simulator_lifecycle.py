"""The lead's lifecycle in the simulator (issue 15): recycled leads handed off again, leads a
manager reassigns, reps on leave, and the party's review trigger, all on the trial policy
(policies/company-x-trial.sla) and its scenario (examples/scenarios/company-x-trial-lifecycle.toml).

What the clocks make of them is the evaluator's to say; these tests hold that the model acts
them out (a re-handoff only after a rejection, no work by a rep on leave, a lead moved when the
policy's `reassign` fires) and that `sla evaluate` on the run's written history and absences
gives the simulator's own counts, round by round."""

from __future__ import annotations

import csv
import datetime as dt
import itertools
import json
from collections import defaultdict
from pathlib import Path

import pytest

from sla_dsl.cli import main
from sla_dsl.evaluation.inputs import load_history
from sla_dsl.evaluation.replay import BREACHED, MET, NONE, PENDING, evaluate, fields_needed
from sla_dsl.language.source import read_policy
from sla_dsl.planning.scenario import ScenarioError, load_scenario, parse_scenario
from sla_dsl.policy_file import check_source
from sla_dsl.simulator.errors import NotSimulated
from sla_dsl.simulator.simulation import simulate

from .conftest import ROOT

TRIAL = ROOT / "policies" / "company-x-trial.sla"
SCENARIO = ROOT / "examples" / "scenarios" / "company-x-trial-lifecycle.toml"
SHORT = {"horizon": "45 days"}


def _policy(tmp_path: Path, *changes: tuple[str, str]):
    """The trial policy, with lines changed as a planner would try them."""
    text = TRIAL.read_text()
    for old, new in changes:
        assert old in text
        text = text.replace(old, new)
    path = tmp_path / "trial.sla"
    path.write_text(text)
    checked = check_source(read_policy(path))
    assert checked.policy is not None
    return checked.policy


def _evaluated(policy, history: Path, absences: Path | None) -> list[dict]:
    loaded = load_history([history], policy=policy, fields=fields_needed(policy),
                          absences=absences)
    assert loaded.counts.rejected == 0
    out = []
    for c in evaluate(policy, loaded).clauses:
        rounds = []
        for number in range(1, int(c.attempt.max(initial=1)) + 1):
            status = c.status[c.attempt == number]
            rounds.append({"attempt": number, "leads": len(status),
                           "met": int((status == MET).sum()),
                           "breached": int((status == BREACHED).sum()),
                           "pending": int((status == PENDING).sum())})
        out.append({"handoff": c.handoff, "clause": c.clause, "leads": len(c.leads),
                    "met": c.count(MET), "breached": c.count(BREACHED),
                    "pending": c.count(PENDING), "attempts": rounds})
    return out


def _emitted(doc: dict) -> list[dict]:
    return [{key: c[key] for key in ("handoff", "clause", "leads", "met", "breached", "pending",
                                     "attempts")} for c in doc["emitted"]["clauses"]]


def _rows(path: Path) -> list[dict]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def _instant(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


# ---------------------------------------------------------------- the scenario's keys


def test_the_trial_scenario_reads_its_lifecycle_tables():
    scenario = load_scenario(SCENARIO)
    assert scenario.recycle.share == 0.3 and scenario.recycle.rounds == 2
    assert scenario.recycle.after.distribution == "exponential"
    assert scenario.recycle.after.mean_hours == 21 * 24
    assert scenario.reassign.share == 0.05 and scenario.reassign.absent
    assert scenario.reassign.on_breach  # the default
    assert scenario.absence.share == 0.05
    assert scenario.absence.dates["ana"][0] == dt.date(2027, 3, 15)
    assert len(scenario.absence.dates["ana"]) == 5
    # TOML's own dates too, for a rep named with a space; repeated days count once
    written = parse_scenario('[arrivals]\nrate = "5 per day"\n[absence]\n'
                             'dates = { "sdr 4" = [2027-03-02, "2027-03-02", 2027-03-01] }\n')
    assert written.absence.dates == {"sdr 4": (dt.date(2027, 3, 1), dt.date(2027, 3, 2))}
    assert written.absence.share == 0.0 and written.recycle is None and not written.reassign


@pytest.mark.parametrize(("table", "key", "said"), [
    ('[recycle]\nshare = 0.3', "recycle.after", "missing"),
    ('[recycle]\nshare = 1.5\nafter = "2 days"', "recycle.share", "not a probability"),
    ('[recycle]\nshare = 0.3\nafter = "soon"', "recycle.after", "not a distribution"),
    ('[recycle]\nshare = 0.3\nafter = "2 days"\nrounds = 0', "recycle.rounds",
     "not a number of handoffs"),
    ('[recycle]\nshare = 0.3\nafter = "2 days"\nrounds = 9', "recycle.rounds",
     "not a number of handoffs"),
    ('[recycle]\nshare = 0.3\nafter = "400 days"', "recycle.after", "out of range"),
    ('[recycle]\nshare = 0.3\nafter = "2 days"\nlater = 1', "recycle.later", "unknown key"),
    ("[reassign]\nshare = 0.1", "reassign.after", "missing"),
    ('[reassign]\non_breach = "yes"', "reassign.on_breach", "not true or false"),
    ("[reassign]\nabsent = 1", "reassign.absent", "not true or false"),
    ("[absence]\nshare = 1", "absence.share", "no rep ever works"),
    ('[absence]\ndates = { ana = ["next monday"] }', "absence.dates.ana", "not a date"),
    ('[absence]\ndates = { ana = "2027-03-15" }', "absence.dates.ana", "list of dates"),
    ("recycle = 0.3", "recycle", "should be a table"),
])
def test_a_wrong_lifecycle_key_is_refused_with_the_key_and_a_fix(table, key, said):
    base = 'horizon = "30 days"\n[arrivals]\nrate = "5 per day"\n'
    text = base + table + "\n" if table.startswith("[") else table + "\n" + base
    with pytest.raises(ScenarioError) as error:
        parse_scenario(text, "wrong.toml")
    message = str(error.value)
    assert message.startswith(f"wrong.toml: {key}: ") and said in message
    assert "help:" in message


def test_absence_dates_must_name_a_rep_of_the_scenario(tmp_path):
    policy = _policy(tmp_path)
    scenario = load_scenario(SCENARIO, {**SHORT, "absence.dates": {"zed": ["2027-03-02"]}})
    with pytest.raises(NotSimulated, match="'zed', who is not a rep of the scenario: the reps "
                                           "are ana, bo, cy"):
        simulate(policy, scenario, 2, seed=1, workers=1)


def test_a_multilevel_agreement_refuses_the_lifecycle_tables():
    policy = check_source(read_policy(ROOT / "policies" / "new-breed.sla")).policy
    scenario = load_scenario(ROOT / "examples" / "scenarios" / "new-breed.toml",
                             {"recycle": {"share": 0.2, "after": "5 days"}})
    with pytest.raises(NotSimulated, match="one level"):
        simulate(policy, scenario, 2, seed=1, workers=1)


def test_the_command_line_says_what_is_wrong_without_a_traceback(tmp_path, capsys):
    scenario = tmp_path / "bad.toml"
    scenario.write_text(SCENARIO.read_text().replace("rounds = 2", "rounds = 7"))
    assert main(["simulate", str(TRIAL), "--scenario", str(scenario)]) == 2
    err = capsys.readouterr().err
    assert "recycle.rounds" in err and "from 1 to 5" in err and "Traceback" not in err


# ---------------------------------------------------------------- seeded runs


def test_the_same_seed_gives_the_same_run_on_one_core_or_two(tmp_path):
    policy = _policy(tmp_path)
    scenario = load_scenario(SCENARIO, SHORT)
    one = simulate(policy, scenario, 3, seed=5, workers=1)
    two = simulate(policy, scenario, 3, seed=5, workers=2)
    again = simulate(policy, scenario, 3, seed=5, workers=1)
    assert json.dumps(one, sort_keys=True) == json.dumps(two, sort_keys=True) \
        == json.dumps(again, sort_keys=True)
    other = simulate(policy, scenario, 3, seed=6, workers=1)
    assert json.dumps(other["clauses"]) != json.dumps(one["clauses"])
    life = one["runs"][0]["lifecycle"]
    assert life["handed_off_again"]["mean"] > 0 and life["reassigned"]["mean"] > 0
    assert life["rep_days_absent"]["mean"] >= 5  # ana's week, at least
    first_touch = one["clauses"][0]
    assert [r["attempt"] for r in first_touch["attempts"]][:2] == [1, 2]


def test_scenarios_without_the_tables_run_as_before():
    """The lifecycle's draws come after the others' and only with its tables: a scenario that
    has none gives the same numbers whether or not the model knows of them."""
    policy = check_source(read_policy(ROOT / "policies" / "company-x.sla")).policy
    scenario = load_scenario(ROOT / "examples" / "scenarios" / "company-x.toml",
                             {"horizon": "20 days"})
    doc = simulate(policy, scenario, 2, seed=3, workers=1)
    assert "lifecycle" not in doc["runs"][0]
    assert all(len(c["attempts"]) == 1 for c in doc["clauses"])


# ---------------------------------------------------------------- what the model acts out


@pytest.fixture(scope="module")
def trial_run(tmp_path_factory):
    """One run of the trial scenario written out: its history and its absences."""
    folder = tmp_path_factory.mktemp("trial")
    policy = check_source(read_policy(TRIAL)).policy
    out = folder / "trial.csv"
    doc = simulate(policy, load_scenario(SCENARIO), 2, seed=11, emit_history=out, workers=1)
    return policy, doc, out, folder / "trial-absences.csv"


def test_a_lead_is_handed_off_again_only_after_a_rejection(trial_run):
    _, doc, out, _ = trial_run
    events = defaultdict(list)
    for row in _rows(out):
        events[row["lead_id"]].append((row["event"], _instant(row["at"])))
    again = 0
    for rows in events.values():
        handoffs = [i for i, (event, _) in enumerate(rows) if event == "handoff"]
        assert len(handoffs) <= 3  # the first and at most `rounds = 2` more
        for before, after in itertools.pairwise(handoffs):
            between = [event for event, _ in rows[before + 1:after]]
            assert between.count("rejected") == 1  # one round, ended by a rejection
            assert rows[after][1] > max(at for event, at in rows[:after] if event == "rejected")
            again += 1
    assert again == doc["emitted"]["lifecycle"]["handed_off_again"] > 0


def test_no_rep_touches_or_keeps_a_lead_while_on_leave(trial_run):
    """A rep on leave makes no attempt; a lead dealt to them then (the round robin does not
    know who is away) goes to a present rep at once, since the scenario says `absent = true`,
    unless every present rep holds the policy's cap of 20 open leads (then it waits)."""
    _, doc, out, absences = trial_run
    away = defaultdict(list)
    for row in _rows(absences):
        away[row["rep"]].append((_instant(row["start"]), _instant(row["end"])))
    assert any(begin.date() <= dt.date(2027, 3, 15) < end.date() for begin, end in away["ana"])

    def absent(rep: str, at: dt.datetime) -> bool:
        return any(begin <= at < end for begin, end in away.get(rep, []))

    rows = _rows(out)
    moved_at_once = 0
    for i, row in enumerate(rows):
        at = _instant(row["at"])
        if row["event"] in ("touch", "connected"):
            assert not absent(row["actor"], at), row
        if row["event"] == "assigned" and absent(row["actor"], at):
            moved = [r for r in rows[i + 1:] if r["lead_id"] == row["lead_id"]
                     and r["event"] == "assigned"]
            if moved and _instant(moved[0]["at"]) == at:
                assert not absent(moved[0]["actor"], at)
                moved_at_once += 1
    assert moved_at_once > 0 and doc["emitted"]["lifecycle"]["reassigned"] >= moved_at_once


def test_sla_evaluate_on_the_written_run_gives_the_simulators_counts_round_by_round(trial_run):
    policy, doc, out, absences = trial_run
    counted = _evaluated(policy, out, absences)
    assert counted == _emitted(doc)
    assert any(len(c["attempts"]) > 1 for c in counted)


def test_the_partys_review_trigger_is_counted_as_sla_evaluate_counts_it(trial_run, capsys):
    _, doc, out, absences = trial_run
    assert main(["evaluate", str(TRIAL), "--history", str(out), "--absences", str(absences),
                 "--format", "json"]) in (0, 1)
    report = json.loads(capsys.readouterr().out)
    reached = sum(row["triggered"] for trigger in report["triggers"]
                  for row in trigger.get("breaches", []))
    assert reached == doc["emitted"]["team_limits_reached"] > 0
    # a manager moves a lead only to a rep below the policy's cap of 20 open leads
    (dealt,) = report["assignments"]
    assert all(rep["open_cap"]["over"] == 0 for rep in dealt["reps"])
    assert max(rep["open_cap"]["most_open"] for rep in dealt["reps"]) <= 20
    # every judged record of the report, by attempt, is the simulator's count of that round
    by_round: dict[tuple[str, int], list[int]] = defaultdict(lambda: [0, 0, 0])
    for lead in report["leads"]:
        for record in lead["clauses"]:
            status = ("met", "breached", "pending").index(record["status"])
            by_round[(record["clause"], record.get("attempt", 1))][status] += 1
    for clause in doc["emitted"]["clauses"]:
        for r in clause["attempts"]:
            assert by_round[(clause["clause"], r["attempt"])] == [r["met"], r["breached"],
                                                                  r["pending"]]


# ---------------------------------------------------------------- the policy's own rules


@pytest.mark.parametrize(("changes", "overrides"), [
    # the new owner inherits the clock (the trial policy as shipped)
    ((), {}),
    # a reassignment starts the clock again; the owner's absence pauses it
    ((("on reassign continue", "on reassign restart\n  when owner absent pause"),), {}),
    # blame split at the last reassignment
    ((("on reassign continue", "on reassign split"),), {"reassign.share": 0.3}),
    # a re-handoff starts no new round: one attempt, however often leads come back
    ((("  restart on re-handoff", "  no restart on re-handoff"),), {}),
])
def test_each_lifecycle_rule_is_counted_alike_by_both(tmp_path, changes, overrides):
    policy = _policy(tmp_path, *changes)
    scenario = load_scenario(SCENARIO, {**SHORT, **overrides})
    out = tmp_path / "run.csv"
    doc = simulate(policy, scenario, 2, seed=4, emit_history=out, workers=1)
    counted = _evaluated(policy, out, tmp_path / "run-absences.csv")
    assert counted == _emitted(doc)
    assert doc["emitted"]["lifecycle"]["handed_off_again"] > 0
    restarts = not any("no restart" in new for _, new in changes)
    assert any(len(c["attempts"]) > 1 for c in counted) == restarts
    if any("split" in new for _, new in changes):  # the blame before a move is the old owner's
        history = load_history([out], policy=policy, fields=fields_needed(policy),
                               absences=tmp_path / "run-absences.csv")
        clock = evaluate(policy, history).clauses[0]
        split = clock.split_at != NONE
        assert split.any()
        assert set(clock.split_from[split]) <= {"ana", "bo", "cy"}
        assert (clock.owner[split] != clock.split_from[split]).all()


def test_absences_pause_the_clocks_of_a_block_that_says_so(tmp_path):
    policy = _policy(tmp_path, ("on reassign continue", "when owner absent pause"))
    scenario = load_scenario(SCENARIO, {**SHORT, "reassign.absent": False,
                                        "absence.share": 0.2})
    out = tmp_path / "run.csv"
    doc = simulate(policy, scenario, 2, seed=2, emit_history=out, workers=1)
    absences = tmp_path / "run-absences.csv"
    paused = _evaluated(policy, out, absences)
    assert paused == _emitted(doc)
    running = _evaluated(policy, out, None)  # the same run judged as if nobody were away
    breached = [c["breached"] for c in paused]
    assert breached != [c["breached"] for c in running]
    assert sum(breached) < sum(c["breached"] for c in running)


def test_a_breach_that_says_reassign_moves_the_untouched_lead(tmp_path):
    """`on breach of first touch { reassign after 1 business hour }`: the model moves each lead
    still untouched when the action fires, so its reassignments are the evaluator's
    `reassign` actions fired, one for one."""
    policy = _policy(tmp_path, ('  escalate to "sales manager"',
                                '  escalate to "sales manager"\n'
                                "  reassign after 1 business hour"))
    scenario = load_scenario(SCENARIO, {**SHORT, "reassign.share": 0.0,
                                        "reassign.absent": False, "absence.share": 0.0,
                                        "absence.dates": {}})
    out = tmp_path / "run.csv"
    doc = simulate(policy, scenario, 2, seed=8, emit_history=out, workers=1)
    assert _evaluated(policy, out, None) == _emitted(doc)
    fired = sum(count for key, count in doc["emitted"]["actions"].items()
                if key.startswith("reassign|"))
    assert doc["emitted"]["lifecycle"]["reassigned"] == fired > 0
    scenario = load_scenario(SCENARIO, {**SHORT, "reassign.share": 0.0, "reassign.absent": False,
                                        "reassign.on_breach": False, "absence.share": 0.0,
                                        "absence.dates": {}})
    quiet = simulate(policy, scenario, 2, seed=8, workers=1)
    assert quiet["runs"][0]["lifecycle"]["reassigned"]["mean"] == 0


def test_a_team_trigger_is_counted_by_the_simulator_as_by_sla_evaluate(tmp_path, capsys):
    """`by team "sdr"` counts the breaches of the team's reps, whoever owned the lead when the
    clock was decided (a moved lead's breach is its new owner's, in the team all the same)."""
    policy = _policy(tmp_path, ("review when first touch missed 3 times per month by sales",
                                'review when first touch missed 4 times per week by team "sdr"'))
    out = tmp_path / "run.csv"
    doc = simulate(policy, load_scenario(SCENARIO, SHORT), 2, seed=9, emit_history=out,
                   workers=1)
    assert main(["evaluate", str(tmp_path / "trial.sla"), "--history", str(out), "--absences",
                 str(tmp_path / "run-absences.csv"), "--format", "json"]) in (0, 1)
    report = json.loads(capsys.readouterr().out)
    rows = [row for trigger in report["triggers"] for row in trigger.get("breaches", [])]
    assert {row["by"] for row in rows} == {"team sdr"}
    assert {row["period"] for row in rows} == {"week"}
    reached = sum(row["triggered"] for row in rows)
    assert reached == doc["emitted"]["team_limits_reached"] > 0
    assert len(rows) >= 5  # counted week by week over the 45 days, not once for the run


def test_sla_plan_says_it_leaves_the_lifecycle_to_the_simulation(capsys):
    assert main(["plan", str(TRIAL), "--scenario", str(SCENARIO), "--format", "json"]) == 0
    span = json.loads(capsys.readouterr().out)["first_touch_span"]
    assert span["left_out"] == ["[recycle]", "[reassign]", "[absence]"]
    assert main(["plan", str(TRIAL), "--scenario", str(SCENARIO)]) == 0
    assert "without the scenario's [recycle], [reassign], [absence]" in capsys.readouterr().out
    assert main(["plan", str(ROOT / "policies" / "company-x.sla"), "--scenario",
                 str(ROOT / "examples" / "scenarios" / "company-x.toml")]) == 0
    assert "without the scenario's" not in capsys.readouterr().out


def test_a_table_the_policy_gives_nothing_to_do_is_said(tmp_path):
    """[reassign] on a policy with no round robin, [recycle] where no block restarts: notes,
    not silence."""
    policy = check_source(read_policy(ROOT / "policies" / "inbound-desk.sla")).policy
    scenario = load_scenario(ROOT / "examples" / "scenarios" / "inbound-desk.toml", {
        "horizon": "7 days", "reassign": {"share": 0.2, "after": "1 hour"}})
    notes = simulate(policy, scenario, 2, seed=1, workers=1)["notes"]
    assert any(note.startswith("[reassign] moves the leads of a round robin") for note in notes)
    trial = _policy(tmp_path, ("  restart on re-handoff", "  no restart on re-handoff"))
    notes = simulate(trial, load_scenario(SCENARIO, {"horizon": "10 days"}), 2, seed=1,
                     workers=1)["notes"]
    assert any("start no new round of clocks" in note for note in notes)
    assert not any("[reassign]" in note for note in notes)
