"""Who answers for each clause, in the JSON's lead records (review item 7).

A lead record names its first level's owner and first handoff. A second level's clauses (New
Breed's advisors), a reassigned lead's and a recycled lead's later attempt are charged to
another owner and run from another handoff: each clause record says so (`owner`,
`clock_start`), so that the owners table, the consequences and the trend by month can be
rebuilt from `leads[]` alone, as a rep disputing a strike needs.
"""

from __future__ import annotations

import json
from collections import Counter
from functools import cache
from zoneinfo import ZoneInfo

import pytest

import sla_dsl
from sla_dsl.reports import document as document_module
from sla_dsl.reports.lead_table import lead_table, records

from .conftest import FIXTURES, ROOT

RECYCLED = FIXTURES / "histories" / "owners_recycled_reassigned.csv"
EXAMPLES = {
    "new-breed": ("new-breed.sla", ("examples/new-breed/history.csv",), None),
    "company-x": ("company-x.sla", ("examples/company-x/history.csv",), None),
    "salesforce": ("inbound-desk.sla", tuple(f"examples/salesforce/{name}.csv" for name in
                                             ("Lead", "LeadHistory", "Task", "Event", "User")),
                   "salesforce"),
    "recycled": ("inbound-desk.sla", (str(RECYCLED),), None),
}


@cache
def _report(name: str) -> sla_dsl.Report:
    policy_file, histories, preset = EXAMPLES[name]
    policy = sla_dsl.load_policy(ROOT / "policies" / policy_file)
    history = sla_dsl.load_history([ROOT / h for h in histories], policy=policy, preset=preset)
    return sla_dsl.evaluate(policy, history)


@cache
def _document(name: str) -> dict:
    """The document as `--format json` writes it (read back), not the dicts in memory."""
    return json.loads(_report(name).json())


def _lead(doc: dict, lead_id: str) -> dict:
    return next(lead for lead in doc["leads"] if lead["lead_id"] == lead_id)


def _record(lead: dict, handoff: str, clause: str, attempt: int = 1) -> dict:
    return next(r for r in lead["clauses"] if (r["handoff"], r["clause"],
                                               r.get("attempt", 1)) == (handoff, clause, attempt))


def test_a_second_level_clause_names_its_own_owner_and_handoff():
    """NB00047: marketing hands it to Rafferty (an MDR) on 15 January; Rafferty hands it on to
    the advisors on 20 January at 17:35, and Oskar, assigned five minutes later, connects two
    days late. The lead record is Rafferty's; the advisors' first touch is Oskar's breach."""
    lead = _lead(_document("new-breed"), "NB00047")
    assert (lead["owner"], lead["handed_off_at"]) == ("Rafferty", "2026-01-15T02:42:26-05:00")
    mdr = _record(lead, "bad_fit_interested", "first touch")
    assert mdr["owner"] == "Rafferty" and "clock_start" not in mdr
    sql = _record(lead, "sql", "first touch")
    assert (sql["status"], sql["owner"], sql["clock_start"]) == (
        "breached", "Oskar", "2026-01-20T17:35:26-05:00")
    # the advisors' disposition warning is Oskar's too, as its record says
    disposition = _record(lead, "sql", "disposition")
    assert (disposition["owner"], disposition["clock_start"]) == (
        "Oskar", "2026-01-20T17:35:26-05:00")
    charged = [(c["handoff"], c["clause"], c["action"], c["owner"])
               for c in _document("new-breed")["consequences"] if c["lead_id"] == "NB00047"]
    assert charged == [("sql", "disposition", "warn", "Oskar")]


def test_each_attempt_and_each_reassigned_clause_names_its_own_owner():
    """R1 is ann's, rejected, and handed off again on 16 March at 17:30 to bo: attempt 2 runs
    from there and is bo's. R2 is ann's until 15:00, after its first touch fell due at 13:00
    (ann's breach); bo owns it when its touches fall due (bo's), and the lead record names bo."""
    doc = _document("recycled")
    r1 = _lead(doc, "R1")
    assert r1["owner"] == "bo"
    first = _record(r1, "every lead", "first touch", 1)
    assert (first["owner"], "clock_start" in first) == ("ann", False)
    again = _record(r1, "every lead", "first touch", 2)
    assert (again["owner"], again["clock_start"]) == ("bo", "2026-03-16T17:30:00+01:00")
    r2 = _lead(doc, "R2")
    assert r2["owner"] == "bo"
    assert [(r["clause"], r["status"], r["owner"]) for r in r2["clauses"]] == [
        ("first touch", "breached", "ann"), ("touches", "breached", "bo")]


def _records_counted(doc: dict, key) -> Counter:
    """Every lead's clause records counted by `key(lead, record)` (None: not counted)."""
    return Counter(k for lead in doc["leads"] for record in lead["clauses"]
                   if (k := key(lead, record)) is not None)


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_the_owners_table_is_rebuilt_from_the_clause_records(name):
    doc = _document(name)
    counted = _records_counted(doc, lambda lead, record: None if record["clause"] == "threshold"
                               else (record["owner"], record["status"]))  # (the sender's)
    assert {(o["owner"], o["met"], o["breached"]) for o in doc["summary"]["owners"]} == {
        (owner, counted[(owner, "met")], counted[(owner, "breached")])
        for owner in {owner for owner, _ in counted}}


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_every_consequence_names_its_clause_record_s_owner(name):
    doc = _document(name)
    owners = {(lead["lead_id"], r["handoff"], r["clause"], r.get("attempt", 1)): r["owner"]
              for lead in doc["leads"] for r in lead["clauses"]}
    assert doc["consequences"] or name in ("salesforce", "recycled")
    for action in doc["consequences"]:
        key = (action["lead_id"], action["handoff"], action["clause"], action.get("attempt", 1))
        assert action["owner"] == owners[key], action


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_the_trend_by_month_is_rebuilt_from_each_record_s_clock_start(name):
    doc = _document(name)
    counted = _records_counted(doc, lambda lead, record: (
        record["handoff"], record["clause"],
        (record.get("clock_start") or lead["handed_off_at"])[:7], record["status"]))
    assert counted == Counter({
        (row["handoff"], row["clause"], month["month"], status): month[status]
        for row in doc["summary"]["by_month"] for month in row["months"]
        for status in ("met", "breached", "pending") if month[status]})


def test_the_record_by_record_writer_names_the_same_owners_and_starts(monkeypatch):
    """A lead with a later attempt or a restarting clock is written record by record
    (`document.lead_records`), the others column-wise (`lead_table`): on the two-level
    example both give the same records."""
    evaluation = _report("new-breed").evaluation
    zone = ZoneInfo("America/New_York")
    columns = records(lead_table(evaluation, zone))
    monkeypatch.setattr(document_module, "has_lifecycle_keys", lambda _evaluation: True)
    assert document_module.lead_records(evaluation, zone) == columns
    assert any("clock_start" in r for lead in columns for r in lead["clauses"])
