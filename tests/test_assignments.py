"""Round robin and caps as kept: shares against weights, who hit the cap and who was skipped."""

from __future__ import annotations

import csv
from collections import Counter

from sla_dsl.evaluation.replay import evaluate
from sla_dsl.history.read import history_from_rows, load_history
from sla_dsl.measures.assignments import assignment_summaries
from sla_dsl.policy_file import check_text, load_policy
from sla_dsl.reports.assignments_text import assignments_text

from .conftest import ROOT

CAPPED = """\
sla "Capped desk"
timezone "America/New_York"
party marketing contact "m@desk.example"
party sales contact "s@desk.example"

handoff every lead from marketing to sales {
  assign round robin team "desk" weights { "alice": 2, "bob": 1 } cap 2 per day
  first touch within 4 hours
}
"""


def _rows(*assignments: tuple[str, str, str]) -> list[dict]:
    rows = []
    for lead, at, rep in assignments:
        rows += [{"lead_id": lead, "at": at, "event": "created", "actor": None},
                 {"lead_id": lead, "at": at, "event": "handoff", "actor": "marketing"},
                 {"lead_id": lead, "at": at.replace(":00", ":05", 1), "event": "assigned",
                  "actor": rep}]
    return rows


def test_a_rep_at_cap_is_skipped_and_a_lead_over_cap_is_counted():
    # Monday: alice, alice (at her cap of 2), bob, alice (over cap), bob (at his cap).
    # Tuesday: the day starts afresh: alice once.
    policy = check_text(CAPPED).policy
    history = history_from_rows(_rows(
        ("L1", "2026-03-02T09:00", "alice"), ("L2", "2026-03-02T10:00", "alice"),
        ("L3", "2026-03-02T11:00", "bob"), ("L4", "2026-03-02T12:00", "alice"),
        ("L5", "2026-03-02T13:00", "bob"), ("L6", "2026-03-03T09:00", "alice")),
        timezone="America/New_York")
    (block,) = assignment_summaries(evaluate(policy, history))
    reps = {r["rep"]: r for r in block["reps"]}
    assert (reps["alice"]["assigned"], reps["alice"]["share"],
            reps["alice"]["expected_share"]) == (4, 66.7, 66.7)
    # alice filled her cap with L2; L3 and L5 went to bob after that: skipped twice
    assert (reps["alice"]["periods_at_cap"], reps["alice"]["skipped_at_cap"],
            reps["alice"]["over_cap"]) == (1, 2, 1)
    assert (reps["bob"]["periods_at_cap"], reps["bob"]["skipped_at_cap"],
            reps["bob"]["over_cap"]) == (1, 0, 0)
    text = "\n".join(assignments_text([block]))
    assert "alice                     4 leads   66.7% of them, promised 66.7%; at cap 1x, " \
           "skipped for 2, over cap 1" in text


def test_company_x_hot_leads_went_to_reps_outside_the_rotation():
    """The shipped quarter: the first assignee of each hot lead, counted straight from the
    CSV, is what the summary says; dana and eli took hot leads the rotation does not name."""
    policy = load_policy(ROOT / "policies" / "company-x.sla")
    path = ROOT / "examples" / "company-x" / "history.csv"
    evaluation = evaluate(policy, load_history([path], timezone="America/New_York"))
    hot = {str(evaluation.history.lead_ids[i]) for i in evaluation.leads_of("hot")}
    first: dict[str, str] = {}
    handed: set[str] = set()
    with path.open(newline="") as file:
        for row in csv.DictReader(file):
            if row["event"] == "handoff":
                handed.add(row["lead_id"])
            elif (row["event"] == "assigned" and row["lead_id"] in hot
                  and row["lead_id"] in handed):
                first.setdefault(row["lead_id"], row["actor"])
    summary = next(b for b in assignment_summaries(evaluation) if b["handoff"] == "hot")
    assert {r["rep"]: r["assigned"] for r in summary["reps"]} == dict(Counter(first.values()))
    outside = {r["rep"] for r in summary["reps"] if not r["in_rotation"]}
    assert outside == {"dana", "eli"}
    assert summary["cap"] == {"count": 25, "per": "day"}


def test_a_rotation_none_of_whose_reps_got_a_lead_is_said_in_one_line():
    # the trial policy's rotation (ana, bo, cy) against the Company X quarter, where the
    # reps are alice to eli: rep by rep it read as three reps left out
    policy = load_policy(ROOT / "policies" / "company-x-trial.sla")
    path = ROOT / "examples" / "company-x" / "history.csv"
    summaries = assignment_summaries(evaluate(policy, load_history(
        [path], timezone="America/New_York")))
    text = assignments_text(summaries)
    hot = text.index(next(line for line in text if line.startswith("assignments in hot:")))
    assert text[hot + 1] == (
        "  none of the rotation's reps (ana, bo, cy) was assigned a lead: every lead went to "
        "a rep outside it; check that the policy names the reps as the history does")
    # Company X's own rotation got its leads: no such line
    own = assignment_summaries(evaluate(load_policy(ROOT / "policies" / "company-x.sla"),
                                        load_history([path], timezone="America/New_York")))
    assert not any("none of the rotation's reps" in line for line in assignments_text(own))
