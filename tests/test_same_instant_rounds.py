"""Rounds that start at the instant the round before them ended, read from an event log.

A workflow that rejects a lead and hands it off again in the same second (Salesforce's
LeadHistory keeps seconds) writes `handoff`, `rejected`, `handoff` at one instant. The rows
before the re-handoff are the first round's, the rows after it the second's: the history's
order, not the instant, splits them. The policy is the shipped `company-x.sla` (New York,
open 09:00-17:00 on weekdays); Monday 2 March 2026 is EST (-05:00).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

import sla_dsl
from sla_dsl.evaluation.clock_audit import audit_lead, document, render_text
from sla_dsl.reports.sharded import evaluate_sharded

ROOT = Path(__file__).resolve().parent.parent
NEW_YORK = ZoneInfo("America/New_York")
HOT = "score,title,industry,employees,page_views"
LEAD = "80,VP Sales,software,200,2"  # hot: a good fit with high interest, over the bar of 70

# Each lead: created at 09:50, then every row at 10:00 sharp unless it says when, in the
# file's order.
LEADS = {
    # rejected and handed off again at the instant of the handoff; no decision since
    "REJ": ["handoff,marketing", "rejected,alice", "handoff,marketing", "assigned,bob"],
    # a connect before the re-handoff is the first round's: it meets that round's first touch
    # and cadence, not the second round's
    "CON": ["handoff,marketing", "assigned,alice", "connected,alice", "rejected,alice",
            "handoff,marketing", "assigned,bob"],
    # a touch after the re-handoff at the same instant is the second round's only
    "AFT": ["handoff,marketing", "rejected,alice", "handoff,marketing", "assigned,bob",
            "touch,bob"],
    # lost at 11:00 and handed off again at noon: the re-handoff is marketing's, no decision
    # by sales on the first round (a next level's handoff would be one)
    "LOS": ["handoff,marketing", "assigned,alice", "11:00 lost,alice", "12:00 handoff,marketing"],
}


def _write(folder: Path) -> Path:
    lines = [f"lead_id,at,event,actor,{HOT}"]
    for lead, rows in LEADS.items():
        lines.append(f"{lead},2026-03-02T09:50:00-05:00,created,,{LEAD}")
        for row in rows:
            when, row = row.split(" ") if " " in row else ("10:00", row)
            lines.append(f"{lead},2026-03-02T{when}:00-05:00,{row},,,,,")
    path = folder / "same-instant.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    policy = sla_dsl.load_policy(ROOT / "policies" / "company-x.sla")
    history = sla_dsl.load_history(_write(tmp_path_factory.mktemp("rounds")), policy=policy)
    return policy, history


def local(text: str) -> str:
    return dt.datetime.fromisoformat(text).replace(tzinfo=NEW_YORK).isoformat()


def clauses(report, lead: str) -> dict[tuple[str, int], tuple[str, str | None]]:
    """(clause, attempt) -> (status, at) of one lead, as the JSON report says them."""
    record = next(r for r in report.document["leads"] if r["lead_id"] == lead)
    return {(c["clause"], c.get("attempt", 1)): (c["status"], c["at"])
            for c in record["clauses"]}


AT_TEN = local("2026-03-02T10:00:00")


@pytest.mark.parametrize("as_of, later", [
    # Thursday: two business days from Monday 10:00 (due Wednesday 10:00) have passed
    ("2026-03-05T12:00:00", "breached"),
    # Tuesday noon: the second round's decision is still due
    ("2026-03-03T12:00:00", "pending"),
])
def test_the_rejection_before_the_re_handoff_decides_the_first_round_only(inputs, as_of,
                                                                           later):
    policy, history = inputs
    report = sla_dsl.evaluate(policy, history, as_of)
    verdicts = clauses(report, "REJ")
    assert verdicts["disposition", 1] == ("met", AT_TEN)
    assert verdicts["disposition", 2] == (later, None)


def test_a_touch_before_the_re_handoff_is_the_first_rounds_and_one_after_it_the_seconds(
        inputs):
    policy, history = inputs
    report = sla_dsl.evaluate(policy, history, "2026-03-05T12:00:00")
    connected = clauses(report, "CON")
    assert connected["first touch", 1] == ("met", AT_TEN)
    assert connected["touches", 1] == ("met", AT_TEN)  # until connected
    assert connected["first touch", 2] == ("breached", None)  # due Monday 11:00
    assert connected["touches", 2] == ("pending", None)  # ten business days to go
    after = clauses(report, "AFT")
    assert after["first touch", 1] == ("breached", None)
    assert after["first touch", 2] == ("met", AT_TEN)


def test_the_clock_audit_marks_each_rounds_own_events(inputs):
    policy, history = inputs
    as_of = int(dt.datetime(2026, 3, 5, 12, tzinfo=NEW_YORK).timestamp() * 1_000_000)
    audit = audit_lead(policy, history, "CON", as_of)
    notes = [(e.event, e.notes) for e in audit.events]
    assert notes[1] == ("handoff", ["starts every clock"])
    assert notes[3][0] == "connected" and "stops first touch (met)" in notes[3][1]
    assert notes[5] == ("handoff", ["handed off again: starts attempt 2 of handoff hot's "
                                    "clocks"])
    clocks = {(c["clause"], c["attempt"]): c for c in document(audit)["clocks"]}
    assert clocks["first touch", 2]["status"] == "breached"
    assert clocks["first touch", 2]["stopped_by"] is None
    assert clocks["disposition", 1]["stopped_by"]["event"] == "rejected"
    text = render_text(audit)
    assert "first touch within 1 business hour [attempt 2] (sales): BREACHED" in text


def test_shards_merge_into_the_single_run(inputs):
    policy, history = inputs
    single = sla_dsl.evaluate(policy, history, "2026-03-05T12:00:00")
    as_of = single.evaluation.as_of
    merged = evaluate_sharded(policy, history, 3, as_of=as_of)
    assert merged.json() == single.json() and merged.text() == single.text()
    assert json.loads(single.json())["leads"]  # the leads are in it


def test_a_re_handoff_after_a_loss_is_no_decision_on_the_round_it_follows(inputs):
    policy, history = inputs
    verdicts = clauses(sla_dsl.evaluate(policy, history, "2026-03-05T12:00:00"), "LOS")
    assert verdicts["disposition", 1] == ("breached", None)  # due Wednesday 10:00
    assert verdicts["disposition", 2] == ("breached", None)  # due Wednesday noon
