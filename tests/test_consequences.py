"""Consequences and commitments, hand-checked on small histories."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np

from sla_dsl.cli import main
from sla_dsl.evaluation.replay import evaluate
from sla_dsl.policy_file import check_text
from sla_dsl.reports import document as report

from .conftest import FIXTURES, ROOT
from .test_evaluation import at, history, us

BREACH_POLICY = """\
sla "Desk"
timezone "America/New_York"
party marketing contact "m@desk.example"
party sales contact "s@desk.example"

calendar business {
  open mon-fri 09:00-17:00
}

handoff every lead from marketing to sales {
  first touch within 1 business hour
}

on breach of first touch {
  warn at 50%
  escalate to "sales manager" after 30 minutes
  reassign after 1 business hour
  strike owner
}

strikes 2 per month then review
"""


def actions_by_lead(doc: dict) -> dict[str, list[tuple[str, str, str]]]:
    found: dict[str, list[tuple[str, str, str]]] = {}
    for row in doc["consequences"]:
        found.setdefault(row["lead_id"], []).append((row["action"], row["at"][11:16],
                                                     row["status"]))
    return {lead: sorted(rows) for lead, rows in found.items()}


def test_breach_actions_fire_at_their_times_while_the_clause_is_open():
    policy = check_text(BREACH_POLICY).policy
    handoff = at(2026, 3, 4, 10, 0)
    events = history(
        ("handoff", handoff, "", "never"), ("assigned", handoff, "ana", "never"),
        ("handoff", handoff, "", "late"), ("assigned", handoff, "ana", "late"),
        ("touch", at(2026, 3, 4, 11, 10), "ana", "late"),
        ("handoff", handoff, "", "quick"), ("assigned", handoff, "ben", "quick"),
        ("touch", at(2026, 3, 4, 10, 20), "ben", "quick"),
    )
    doc = report.document(evaluate(policy, events, as_of=us(at(2026, 3, 4, 11, 45))))
    assert actions_by_lead(doc) == {
        "never": [("escalate", "11:30", "fired"), ("reassign", "12:00", "scheduled"),
                  ("strike", "11:00", "fired"), ("warn", "10:30", "fired")],
        # touched at 11:10: warned at 10:30 and struck at 11:00, but done before 11:30
        "late": [("strike", "11:00", "fired"), ("warn", "10:30", "fired")],
    }
    assert doc["strikes"] == [{"owner": "ana", "period": "month", "start": "2026-03-01",
                               "strikes": 2, "limit": 2, "then": "review", "triggered": True}]


COMMITMENT_POLICY = """\
sla "Desk"
timezone "Europe/Amsterdam"
effective 2026-01-01
party marketing contact "m@desk.example"
party sales contact "s@desk.example"

stage hot when score >= 70

handoff every lead from marketing to sales

commit marketing to sales {
  deliver at least 2 hot per month
}

on miss of deliver {
  grace 1 month
  credit 5% of marketing budget
  escalate to "cmo"
}

cancel when deliver missed 2 months in a row
review when rate lead to hot < 50%
"""


def test_commitments_per_month_with_grace_credit_and_triggers():
    policy = check_text(COMMITMENT_POLICY).policy
    months = [(1, "90"), (2, "80"), (2, "75"), (2, "10"), (3, "95"), (4, "71")]
    events, scores = [], []
    for n, (month, score) in enumerate(months):
        moment = dt.datetime(2026, month, 10, 12, 0, tzinfo=dt.UTC)
        events += [("created", moment, "", f"L{n}"), ("handoff", moment, "", f"L{n}")]
        scores += [score, None]
    doc = report.document(evaluate(policy, history(*events, score=_by_sorted_rows(events,
                                                                                  scores)),
                                   as_of=us(dt.datetime(2026, 4, 20, tzinfo=dt.UTC))))
    rows = [(p["start"], p["delivered"], p["missed"], p["in_grace"], p["counts_as_miss"],
             p["credits_owed"]) for p in doc["periods"]]
    assert rows == [
        ("2026-01-01", 1.0, True, True, False, []),
        ("2026-02-01", 2.0, False, False, False, []),
        ("2026-03-01", 1.0, True, False, True, ["5% of marketing budget"]),
        ("2026-04-01", 1.0, False, False, False, []),  # not over yet: not missed
    ]
    march = doc["periods"][2]["daily"]
    assert march[9] == {"date": "2026-03-10", "goal": round(2 * 10 / 31, 2), "delivered": 1.0}
    cancel, review = doc["triggers"]
    assert (cancel["statement"], cancel["triggered"]) == ("cancel", False)
    assert (review["triggered"], review["readings"]) == (False, ["rate lead to hot = 83.3%"])


def _by_sorted_rows(events: list, values: list) -> list:
    """`history()` sorts rows by lead, time, order: give field values in that order."""
    order = sorted(range(len(events)), key=lambda i: (events[i][3], us(events[i][1]), i))
    return [values[i] for i in order]


def test_no_breach_no_consequence():
    policy = check_text(BREACH_POLICY).policy
    events = history(("handoff", at(2026, 3, 4, 10, 0), ""),
                     ("touch", at(2026, 3, 4, 10, 5), "ana"))
    doc = report.document(evaluate(policy, events))
    assert doc["consequences"] == [] and doc["strikes"] == []
    assert np.isclose(doc["summary"]["clauses"][0]["attainment"], 100.0)


def test_a_clock_paused_for_good_times_no_consequence(capsys):
    """L1 is on hold from its handoff on and never resumes: its clocks have no due time, so no
    warning, escalation or strike is timed from one (this once crashed on the 'stopped' due
    time); L2, touched days late, still gets the first-touch consequences of new-breed."""
    code = main(["evaluate", str(ROOT / "policies" / "new-breed.sla"), "--history",
                 str(FIXTURES / "histories" / "on_hold_forever.csv"), "--format", "json"])
    doc = json.loads(capsys.readouterr().out)
    assert code == 0
    by_lead = {lead["lead_id"]: lead for lead in doc["leads"]}
    first_touch = {c["clause"]: c for c in by_lead["L1"]["clauses"]}["first touch"]
    assert (first_touch["status"], first_touch["due"]) == ("pending", None)
    acted_on = {a["lead_id"] for a in doc["consequences"]}
    assert "L1" not in acted_on and "L2" in acted_on


PAUSES = FIXTURES / "pauses"


def _warnings(doc: dict) -> dict[str, str]:
    return {c["lead_id"]: c["at"][11:16] for c in doc["consequences"] if c["action"] == "warn"}


def test_a_warning_counts_the_allowed_time_a_pause_leaves(tmp_path):
    # 2 business hours from 10:00, warn at 50%: once an hour of the clock's own time has run.
    # The pauses were counted as allowed time, so the warning came early, even while paused
    # (P3 on hold 10:30-13:00 was warned at 12:15; P4, on hold from before its handoff until
    # 12:00, at 12:00, before its clock had run at all)
    out = tmp_path / "report.json"
    assert main(["evaluate", str(PAUSES / "warn-at-half.sla"), "--history",
                 str(PAUSES / "warn-at-half.csv"), "--as-of", "2026-03-20T00:00",
                 "--format", "json", "-o", str(out), "-q"]) == 0
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert _warnings(doc) == {"P1": "12:00", "P2": "11:30", "P3": "13:30", "P4": "13:00",
                              "P5": "12:00"}


def test_shards_keep_the_pauses_their_warnings_count(tmp_path):
    common = [str(PAUSES / "warn-at-half.sla"), "--history", str(PAUSES / "warn-at-half.csv"),
              "--as-of", "2026-03-20T00:00", "-q"]
    parts = [str(tmp_path / f"{i}.parquet") for i in range(3)]
    for i, part in enumerate(parts):
        assert main(["evaluate", *common, "--shard", f"{i}/3", "--partial", part]) == 0
    assert main(["merge", *parts, "--policy", str(PAUSES / "warn-at-half.sla"),
                 "--format", "json", "-o", str(tmp_path / "merged.json"), "-q"]) == 0
    assert main(["evaluate", *common, "--format", "json",
                 "-o", str(tmp_path / "single.json")]) == 0
    merged = (tmp_path / "merged.json").read_text(encoding="utf-8")
    assert merged == (tmp_path / "single.json").read_text(encoding="utf-8")
    assert _warnings(json.loads(merged))["P3"] == "13:30"
