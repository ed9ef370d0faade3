"""Recycled leads and reassignments (issue 15, items 1 and 2), hand-checked in real timezones.

Amsterdam's desk is open 08:00-18:00 on weekdays; Europe springs forward on Sunday 29 March
2026 (CET +01:00 to CEST +02:00), so a round before it and one after it are both checked.
"""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pytest

from sla_dsl.evaluation.clock_audit import audit_lead, render_text
from sla_dsl.evaluation.replay import BREACHED, MET, NONE, PENDING, evaluate
from sla_dsl.language.source import Source
from sla_dsl.policy_file import check_text, format_source
from sla_dsl.reports.document import document
from sla_dsl.reports.report import Report
from tests.test_evaluation import AMS, history, policy, us

HOURS = "mon-fri 08:00-18:00"


def desk(extra: str = ""):
    return policy("  first touch within 4 business hours\n"
                  "  touches at least 2 within 3 business days\n" + extra,
                  timezone="Europe/Amsterdam", hours=HOURS)


def at(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=AMS)


def rows(evaluation, clause: str) -> list[tuple]:
    """(lead, attempt, status, due, at, owner) of one clause, as the evaluator said them."""
    result = next(r for r in evaluation.clauses if r.clause == clause)
    ids = evaluation.history.lead_ids
    return [(str(ids[lead]), int(a), int(s), int(d), int(t), o) for lead, a, s, d, t, o in zip(
        result.leads, result.attempt, result.status, result.due, result.at, result.owner,
        strict=True)]


def test_a_handoff_after_a_rejection_starts_a_second_attempt_across_the_dst_change():
    # attempt 1: Friday 27 March 16:00 CET; 2 hours on Friday, 2 on Monday (CEST): due Monday
    # 30 March 10:00 CEST, touched 09:00. Rejected Monday noon, handed off again Tuesday 17:00
    # CEST: 1 hour on Tuesday, 3 on Wednesday: due Wednesday 1 April 11:00, touched 11:30.
    h = history(("handoff", at(2026, 3, 27, 16), "marketing"),
                ("assigned", at(2026, 3, 27, 16, 1), "eva"),
                ("touch", at(2026, 3, 30, 9), "eva"),
                ("rejected", at(2026, 3, 30, 12), "eva"),
                ("handoff", at(2026, 3, 31, 17), "marketing"),
                ("assigned", at(2026, 3, 31, 17, 1), "joost"),
                ("touch", at(2026, 4, 1, 11, 30), "joost"),
                ("touch", at(2026, 4, 2, 9), "joost"))
    evaluation = evaluate(desk(), h, us(at(2026, 4, 10)))
    assert rows(evaluation, "first touch") == [
        ("L1", 1, MET, us(at(2026, 3, 30, 10)), us(at(2026, 3, 30, 9)), "eva"),
        ("L1", 2, BREACHED, us(at(2026, 4, 1, 11)), us(at(2026, 4, 1, 11, 30)), "joost")]
    # the first round's window ends where the second begins: its one touch is not two
    touches = rows(evaluation, "touches")
    assert touches[0][:3] == ("L1", 1, BREACHED) and touches[0][4] == NONE
    # attempt 2: three open days from Tuesday 17:00 is Friday 3 April 17:00; two touches met it
    assert touches[1] == ("L1", 2, MET, us(at(2026, 4, 3, 17)), us(at(2026, 4, 2, 9)), "joost")


@pytest.mark.parametrize("ending, fields", [
    ("lost", {}),
    ("stage", {"stage": "Nurture"}),
    ("stage", {"status": "Nurturing"}),  # a CRM preset's lead status
])
def test_a_loss_or_a_return_to_nurture_ends_a_round(ending, fields):
    names = sorted(fields) or ["stage"]
    columns = {name: [None, fields.get(name) if ending == "stage" else None, None]
               for name in names}
    h = history(("handoff", at(2026, 3, 2, 9), "marketing"),
                (ending, at(2026, 3, 3, 9), "eva"),
                ("handoff", at(2026, 3, 9, 9), "marketing"), **columns)
    evaluation = evaluate(desk(), h, us(at(2026, 3, 9, 10)))
    first = rows(evaluation, "first touch")
    assert [(r[1], r[2], r[3]) for r in first] == [
        (1, BREACHED, us(at(2026, 3, 2, 13))), (2, PENDING, us(at(2026, 3, 9, 13)))]


def test_a_handoff_sent_twice_or_after_another_stage_is_one_round():
    h = history(("handoff", at(2026, 3, 2, 9), "marketing"),
                ("stage", at(2026, 3, 2, 10), "eva"),
                ("accepted", at(2026, 3, 2, 11), "eva"),
                ("handoff", at(2026, 3, 9, 9), "marketing"),
                stage=[None, "Working", None, None])
    evaluation = evaluate(desk(), h, us(at(2026, 3, 20)))
    assert [r[1] for r in rows(evaluation, "first touch")] == [1]


def test_no_restart_on_re_handoff_keeps_the_first_round():
    h = history(("handoff", at(2026, 3, 2, 9), "marketing"),
                ("rejected", at(2026, 3, 3, 9), "eva"),
                ("handoff", at(2026, 3, 9, 9), "marketing"),
                ("touch", at(2026, 3, 9, 10), "eva"))
    evaluation = evaluate(desk("  no restart on re-handoff\n"), h, us(at(2026, 3, 20)))
    # one round: the 9 March touch is late for the 2 March clock (due 13:00 that day)
    assert rows(evaluation, "first touch") == [
        ("L1", 1, BREACHED, us(at(2026, 3, 2, 13)), us(at(2026, 3, 9, 10)), "eva")]


def test_each_round_is_a_judged_clock_in_attainment_and_in_the_per_lead_record():
    h = history(("handoff", at(2026, 3, 2, 9), "marketing"),
                ("touch", at(2026, 3, 2, 10), "eva"),
                ("rejected", at(2026, 3, 3, 9), "eva"),
                ("handoff", at(2026, 3, 9, 9), "marketing"),
                ("touch", at(2026, 3, 10, 10), "eva"),
                ("handoff", at(2026, 3, 2, 9), "marketing", "L2"),
                ("touch", at(2026, 3, 2, 9, 30), "joost", "L2"))
    doc = document(evaluate(desk(), h, us(at(2026, 3, 20))))
    first = next(c for c in doc["summary"]["clauses"] if c["clause"] == "first touch")
    # three clocks (L1's two rounds and L2's) of two leads
    assert (first["clocks"], first["leads"], first["met"], first["breached"]) == (3, 2, 2, 1)
    l1, l2 = doc["leads"]
    assert [(c["clause"], c["attempt"], c["status"]) for c in l1["clauses"]] == [
        ("first touch", 1, "met"), ("first touch", 2, "breached"),
        ("touches", 1, "breached"), ("touches", 2, "breached")]
    assert all("attempt" not in c for c in l2["clauses"])  # one round: the record as before


def test_a_lead_alone_gets_the_rounds_it_gets_among_many():
    events = [("handoff", at(2026, 3, 2, 9), "marketing"),
              ("rejected", at(2026, 3, 3, 9), "eva"),
              ("handoff", at(2026, 3, 9, 9), "marketing"),
              ("lost", at(2026, 3, 10, 9), "eva"),
              ("handoff", at(2026, 3, 16, 9), "marketing"),
              ("handoff", at(2026, 3, 2, 12), "marketing", "L2"),
              ("handoff", at(2026, 3, 4, 12), "marketing", "L2")]
    together = rows(evaluate(desk(), history(*events), us(at(2026, 3, 20))), "first touch")
    assert [(r[0], r[1]) for r in together] == [("L1", 1), ("L1", 2), ("L1", 3), ("L2", 1)]
    alone = rows(evaluate(desk(), history(*events[:5]), us(at(2026, 3, 20))), "first touch")
    assert alone == together[:3]


def test_continue_blames_the_owner_at_the_due_time_not_the_one_after():
    # due 13:00; reassigned to joost at 15:00 after the breach: eva answers for it
    h = history(("handoff", at(2026, 3, 2, 9), "marketing"),
                ("assigned", at(2026, 3, 2, 9, 1), "eva"),
                ("assigned", at(2026, 3, 2, 15), "joost"),
                ("touch", at(2026, 3, 2, 16), "joost"))
    evaluation = evaluate(desk(), h, us(at(2026, 3, 20)))
    assert rows(evaluation, "first touch")[0][2:] == (
        BREACHED, us(at(2026, 3, 2, 13)), us(at(2026, 3, 2, 16)), "eva")


def test_restart_gives_the_new_owner_a_fresh_clock():
    # reassigned at 12:00, before the 13:00 due time: due again 4 business hours later, 16:00
    h = history(("handoff", at(2026, 3, 2, 9), "marketing"),
                ("assigned", at(2026, 3, 2, 9, 1), "eva"),
                ("assigned", at(2026, 3, 2, 12), "joost"),
                ("touch", at(2026, 3, 2, 15), "joost"))
    evaluation = evaluate(desk("  on reassign restart for first touch\n"), h,
                          us(at(2026, 3, 20)))
    assert rows(evaluation, "first touch")[0][2:] == (
        MET, us(at(2026, 3, 2, 16)), us(at(2026, 3, 2, 15)), "joost")
    # the cadence keeps its handoff's clock: the block restarts first touch only
    assert rows(evaluation, "touches")[0][3] == us(at(2026, 3, 5, 9))
    text = render_text(audit_lead(desk("  on reassign restart for first touch\n"), h, "L1",
                                  us(at(2026, 3, 20))))
    assert "on reassign restart: started again Mon 2026-03-02 12:00:00 CET for joost" in text
    assert "restarts first touch for joost" in text


def test_split_gives_each_owner_their_share_of_the_breach():
    # due 13:00, four open hours from 09:00; eva held it 09:01-12:00 (3 of the 4 hours from
    # the handoff), joost from 12:00: eva answers for 0.75 of the breach, joost for 0.25
    h = history(("handoff", at(2026, 3, 2, 9), "marketing"),
                ("assigned", at(2026, 3, 2, 9, 1), "eva"),
                ("assigned", at(2026, 3, 2, 12), "joost"),
                ("touch", at(2026, 3, 2, 14), "joost"),
                ("touch", at(2026, 3, 3, 14), "joost"))
    evaluation = evaluate(desk("  on reassign split for first touch\n"), h, us(at(2026, 3, 20)))
    doc = document(evaluation)
    owners = {o["owner"]: o for o in doc["summary"]["owners"]}
    assert owners["joost"]["breached"] == 1 and owners["joost"]["breach_share"] == 0.25
    assert owners["eva"]["breached"] == 0 and owners["eva"]["breach_share"] == 0.75
    record = doc["leads"][0]["clauses"][0]
    assert (record["reassigned_at"], record["owner_before"], record["owner"]) == (
        "2026-03-02T12:00:00+01:00", "eva", "joost")
    text = render_text(audit_lead(desk("  on reassign split for first touch\n"), h, "L1",
                                  us(at(2026, 3, 20))))
    assert ("on reassign split: Mon 2026-03-02 09:00:00 CET to Mon 2026-03-02 12:00:00 CET is "
            "eva's, from Mon 2026-03-02 12:00:00 CET joost's") in text


def test_the_first_assignment_after_a_handoff_is_routing_not_a_reassignment():
    h = history(("assigned", at(2026, 3, 2, 8), "marketer"),
                ("handoff", at(2026, 3, 2, 9), "marketing"),
                ("assigned", at(2026, 3, 2, 10), "eva"),
                ("touch", at(2026, 3, 2, 14), "eva"))
    evaluation = evaluate(desk("  on reassign restart\n"), h, us(at(2026, 3, 20)))
    assert rows(evaluation, "first touch")[0][2:4] == (BREACHED, us(at(2026, 3, 2, 13)))


def test_the_audit_shows_each_attempt():
    h = history(("handoff", at(2026, 3, 2, 9), "marketing"),
                ("touch", at(2026, 3, 2, 10), "eva"),
                ("rejected", at(2026, 3, 3, 9), "eva"),
                ("handoff", at(2026, 3, 9, 9), "marketing"))
    text = render_text(audit_lead(desk(), h, "L1", us(at(2026, 3, 9, 10))))
    assert "handed off again: starts attempt 2 of handoff every lead's clocks" in text
    assert "first touch within 4 business hours [attempt 2] (sales): PENDING" in text


@pytest.mark.parametrize("line, message", [
    ("restart on re-handoff\n  no restart on re-handoff", "says what a re-handoff does twice"),
    ("on reassign split for spacing", "'spacing' runs no clock"),
    ("on reassign split for disposition", "has no 'disposition' clause"),
    ("on reassign restart\n  on reassign continue", "is said twice"),
])
def test_misused_lifecycle_rules_are_e420(line, message):
    text = desk_text(line)
    checked = check_text(text)
    assert [d.code.code for d in checked.diagnostics] == ["E420"]
    assert message in checked.diagnostics[0].message


def desk_text(line: str) -> str:
    return ('sla "t"\nparty marketing\nparty sales\nhandoff every lead from marketing to sales {\n'
            f"  first touch within 1 hour\n  touches at least 2 within 2 days\n  {line}\n}}\n")


def test_the_rules_round_trip_through_the_formatter():
    text = desk_text("no restart on re-handoff\n  on reassign split for first touch, touches")
    checked = check_text(text)
    assert checked.ok
    assert format_source(Source("t.sla", text))[0] == text
    handoff = checked.policy.handoffs[0]
    assert not handoff.restarts
    assert handoff.on_reassign("touches") == "split"
    assert handoff.on_reassign("disposition") == "continue"


def test_reassignments_are_found_for_many_leads_at_once():
    # 2,000 leads, every other one reassigned before its due time: the restart moves exactly
    # those clocks, with no loop over leads
    events = []
    for n in range(2000):
        lead = f"L{n:04d}"
        events += [("handoff", at(2026, 3, 2, 9), "marketing", lead),
                   ("assigned", at(2026, 3, 2, 9, 1), "eva", lead)]
        if n % 2:
            events.append(("assigned", at(2026, 3, 2, 12), "joost", lead))
    evaluation = evaluate(desk("  on reassign restart for first touch\n"), history(*events),
                          us(at(2026, 3, 20)))
    result = next(r for r in evaluation.clauses if r.clause == "first touch")
    expected = np.where(np.arange(2000) % 2, us(at(2026, 3, 2, 16)), us(at(2026, 3, 2, 13)))
    assert (result.due == expected).all()


def test_a_first_round_begins_at_its_handoffs_instant_whatever_was_written_before_it():
    # A level's first round is bounded by an instant: rows written at the handoff's instant
    # before the handoff row (a touch, a note, a CRM's created) are in it, as at or after.
    # L1's touch comes right before its handoff, L2's behind two other rows of that instant,
    # L3's after it; L4's touch a minute before the handoff is not in the round.
    nine = at(2026, 3, 2, 9)
    events = [("touch", nine, "eva", "L1"), ("handoff", nine, "marketing", "L1"),
              ("touch", nine, "eva", "L2"), ("created", nine, "marketing", "L2"),
              ("assigned", nine, "eva", "L2"), ("handoff", nine, "marketing", "L2"),
              ("handoff", nine, "marketing", "L3"), ("touch", nine, "eva", "L3"),
              ("touch", at(2026, 3, 2, 8, 59), "eva", "L4"),
              ("handoff", nine, "marketing", "L4")]
    evaluation = evaluate(desk(), history(*events), us(at(2026, 3, 20)))
    result = next(r for r in evaluation.clauses if r.clause == "first touch")
    ids = evaluation.history.lead_ids[result.leads].tolist()
    assert ids == ["L1", "L2", "L3", "L4"]
    assert result.status.tolist() == [MET, MET, MET, BREACHED]
    assert result.at[:3].tolist() == [us(nine)] * 3


def test_the_json_of_a_recycled_lead_is_the_documents_with_its_attempts():
    # The column-wise JSON writer knows the plain records only: an evaluation whose records
    # carry attempts is written record by record, the same bytes as the document.
    h = history(("handoff", at(2026, 3, 2, 9), "marketing"),
                ("touch", at(2026, 3, 2, 10), "eva"),
                ("rejected", at(2026, 3, 3, 9), "eva"),
                ("handoff", at(2026, 3, 9, 9), "marketing"),
                ("touch", at(2026, 3, 10, 10), "eva"))
    report = Report(evaluate(desk(), h, us(at(2026, 3, 20))))
    written = json.loads(report.json())
    assert [c.get("attempt") for c in written["leads"][0]["clauses"]] == [1, 2, 1, 2]
    assert report.json() == json.dumps(report.document, indent=2) + "\n"
