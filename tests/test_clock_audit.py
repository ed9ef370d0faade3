"""The clock audit of one lead (`sla evaluate --explain LEAD_ID`), on real policies.

The hand-checked leads live in `tests/fixtures/histories/audit_*.csv`: a Friday-evening handoff
on Company X (whose calendar also opens Saturday 10:00-14:00), a handoff on the Friday before
Europe's spring-forward weekend on the inbound desk, and leads put on hold.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from zoneinfo import ZoneInfo

import pytest

import sla_dsl
from sla_dsl.business_time.zones import local_time
from sla_dsl.cli import main
from sla_dsl.evaluation.clock_audit import UnknownLead, audit_lead, document, elapsed, render_text
from sla_dsl.evaluation.replay import NONE, STATUS_NAMES, STOPPED, evaluate, fields_needed
from sla_dsl.history.read import load_history
from sla_dsl.policy_file import load_policy

from .conftest import FIXTURES, ROOT

COMPANY_X = ROOT / "policies" / "company-x.sla"
INBOUND = ROOT / "policies" / "inbound-desk.sla"
HISTORY = ROOT / "examples" / "company-x" / "history.csv"
FRIDAY = FIXTURES / "histories" / "audit_company_x.csv"
DESK = FIXTURES / "histories" / "audit_inbound_desk.csv"
AFTER_CLOSE = FIXTURES / "histories" / "audit_inbound_desk_after_close.csv"
NEW_BREED = ROOT / "policies" / "new-breed.sla"
NEW_BREED_HISTORY = ROOT / "examples" / "new-breed" / "history.csv"
RECYCLED = FIXTURES / "histories" / "owners_recycled_reassigned.csv"
SALESFORCE = [ROOT / "examples" / "salesforce" / f"{name}.csv"
              for name in ("Lead", "LeadHistory", "Task", "Event", "User")]
NEW_YORK = ZoneInfo("America/New_York")
AMSTERDAM = ZoneInfo("Europe/Amsterdam")


def load(policy_path, history_path):
    policy = load_policy(policy_path)
    history = load_history([history_path], timezone=policy.timezone,
                           fields=fields_needed(policy))
    return policy, history


@pytest.fixture(scope="module")
def company_x():
    return load(COMPANY_X, HISTORY)


@pytest.fixture(scope="module")
def friday():
    return load(COMPANY_X, FRIDAY)


@pytest.fixture(scope="module")
def desk():
    return load(INBOUND, DESK)


def clock(audit, clause):
    return next(c for c in audit.clocks if c.clause == clause)


def local(zone, *parts):
    return dt.datetime(*parts, tzinfo=zone)


def spans(clock_):
    return [(s.kind, s.start, s.end, s.why) for s in clock_.segments]


# ---------------------------------------------------------------- agreement with the evaluator


def test_every_clock_of_every_lead_agrees_with_the_evaluator(company_x):
    policy, history = company_x
    evaluation = evaluate(policy, history)
    expected: dict[int, list] = {}
    for result in evaluation.clauses:
        for i, lead in enumerate(result.leads.tolist()):
            due, at = int(result.due[i]), int(result.at[i])
            expected.setdefault(lead, []).append((
                result.clause, STATUS_NAMES[int(result.status[i])],
                None if due in (NONE, STOPPED) else local_time(due, NEW_YORK),
                None if at == NONE else local_time(at, NEW_YORK)))
    assert len(expected) > 250
    for lead, clocks in list(expected.items())[::2]:  # every other lead keeps the test quick
        audit = audit_lead(policy, history, str(history.lead_ids[lead]))
        assert [(c.clause, c.status, c.due, c.at) for c in audit.clocks] == clocks, lead


def test_the_open_time_counted_up_to_a_missed_deadline_is_the_clause_s_allowance(company_x):
    # A second reading of the due time: the segments come from the scalar calendar, the due
    # time from the vectorised evaluator. Up to a first touch never made, a hot lead's clock
    # counts exactly 1 business hour and a small lead's runs to the same time of day.
    policy, history = company_x
    evaluation = evaluate(policy, history)
    first_touch = next(r for r in evaluation.clauses
                       if r.handoff == "hot" and r.clause == "first touch")
    missed = [int(lead) for lead, status, at in zip(first_touch.leads, first_touch.status,
                                                    first_touch.at, strict=True)
              if STATUS_NAMES[status] == "breached" and at == NONE]
    assert missed
    for lead in missed:
        audited = clock(audit_lead(policy, history, str(history.lead_ids[lead])), "first touch")
        assert audited.counted == dt.timedelta(hours=1)
        assert audited.segments[-1].end == audited.due


# ---------------------------------------------------------------- hand-checked leads


def test_a_friday_evening_handoff_waits_for_saturday_opening(friday):
    policy, history = friday
    audit = audit_lead(policy, history, "F1")
    assert (audit.segment, audit.handoff, audit.owner) == ("hot", "hot", "alice")
    first = clock(audit, "first touch")
    # handed off Fri 17:45; the calendar opens Sat 10:00, so 1 business hour is Sat 11:00
    assert first.status == "breached"
    assert first.due == local(NEW_YORK, 2026, 1, 10, 11, 0)
    assert first.at == local(NEW_YORK, 2026, 1, 12, 9, 30)
    assert spans(first) == [
        ("closed", local(NEW_YORK, 2026, 1, 9, 17, 45), local(NEW_YORK, 2026, 1, 10, 10),
         ["night"]),
        ("open", local(NEW_YORK, 2026, 1, 10, 10), local(NEW_YORK, 2026, 1, 10, 11), []),
        ("open", local(NEW_YORK, 2026, 1, 10, 11), local(NEW_YORK, 2026, 1, 10, 14), []),
        ("closed", local(NEW_YORK, 2026, 1, 10, 14), local(NEW_YORK, 2026, 1, 12, 9),
         ["night", "weekend"]),
        ("open", local(NEW_YORK, 2026, 1, 12, 9), local(NEW_YORK, 2026, 1, 12, 9, 30), []),
    ]
    # late by Sat 11:00-14:00 and Mon 09:00-09:30 of open time
    assert "3 hours 30 minutes of business time after the due time" in first.explanation
    assert first.started_by.event == "handoff" and first.stopped_by.actor == "alice"


def test_a_friday_evening_disposition_counts_saturday_as_a_business_day(friday):
    policy, history = friday
    disposition = clock(audit_lead(policy, history, "F1"), "disposition")
    # the clock starts at Saturday's opening, 10:00: two open days later is Tuesday 10:00
    assert disposition.due == local(NEW_YORK, 2026, 1, 13, 10, 0)
    assert disposition.status == "met"
    assert "0 minutes of business time to spare" in disposition.explanation


def test_touches_too_close_together_are_named_as_not_counted(friday):
    policy, history = friday
    audit = audit_lead(policy, history, "F1")
    notes = {e.at.strftime("%a %H:%M"): e.notes for e in audit.events if e.event == "touch"}
    assert "touch 1 of 6" in notes["Mon 09:30"]
    assert notes["Mon 11:00"] == ["not counted: less than 4 hours after the touch before it"]
    assert notes["Mon 16:00"] == ["touch 2 of 6"]
    assert clock(audit, "touches").status == "pending"


def test_a_lead_handed_off_below_the_threshold_is_the_senders_breach(friday):
    policy, history = friday
    threshold = clock(audit_lead(policy, history, "F2"), "threshold")
    assert (threshold.status, threshold.party) == ("breached", "marketing")
    assert "is an MQL and has a score of 70 or more" in threshold.explanation
    assert "score = '50'" in threshold.explanation
    assert threshold.segments == []


def test_the_spring_forward_weekend_is_an_hour_shorter(desk):
    policy, history = desk
    first = clock(audit_lead(policy, history, "D1"), "first touch")
    # Fri 16:00-18:00 CET is 2 open hours; Monday opens 08:00 CEST: 2 more hours by 10:00
    assert first.due == local(AMSTERDAM, 2026, 3, 30, 10, 0)
    assert first.status == "met"
    weekend = first.segments[1]
    assert (weekend.kind, weekend.why) == ("closed", ["night", "weekend"])
    assert weekend.start.utcoffset() == dt.timedelta(hours=1)
    assert weekend.end.utcoffset() == dt.timedelta(hours=2)
    # 18:00 CET Friday to 08:00 CEST Monday: 62 wall-clock hours, 61 real ones
    assert elapsed(weekend.start, weekend.end) == dt.timedelta(hours=61)
    assert first.counted == dt.timedelta(hours=3, minutes=15)
    text = render_text(audit_lead(policy, history, "D1"))
    assert "Fri 2026-03-27 18:00:00 CET -> Mon 2026-03-30 08:00:00 CEST   2d 13h" in text


def test_a_pause_is_shown_with_the_events_that_started_and_ended_it(desk):
    policy, history = desk
    audit = audit_lead(policy, history, "P1")
    notes = {e.at.strftime("%a %H:%M"): e.notes for e in audit.events}
    assert notes["Mon 10:00"] == ['pauses every clock (status == "on hold")']
    assert notes["Tue 09:00"] == ["resumes every clock"]
    first = clock(audit, "first touch")
    pause = first.pauses[0]
    assert (pause.start, pause.end) == (local(AMSTERDAM, 2026, 3, 2, 10),
                                        local(AMSTERDAM, 2026, 3, 3, 9))
    paused = first.segments[1]
    # one stretch from Monday 10:00 to Tuesday 09:00, the closed night inside it
    assert (paused.kind, paused.start, paused.end) == (
        "paused", local(AMSTERDAM, 2026, 3, 2, 10), local(AMSTERDAM, 2026, 3, 3, 9))
    assert paused.why == ['while status == "on hold"', "also closed: night"]
    assert paused.counted == dt.timedelta()


def test_a_pause_over_a_night_moves_the_due_time_by_all_its_open_time(desk):
    policy, history = desk
    first = clock(audit_lead(policy, history, "P1"), "first touch")
    # Mon 09:00-10:00 runs (1 h); on hold Mon 10:00-18:00 and Tue 08:00-09:00; 3 h more
    assert first.due == local(AMSTERDAM, 2026, 3, 3, 12, 0)
    assert first.status == "met"
    assert "with 1 hour of business time to spare" in first.explanation
    assert first.counted == dt.timedelta(hours=3)  # 1 h Monday, 2 h Tuesday to the touch


def test_a_pause_still_running_leaves_the_clock_pending_without_a_due_time(desk):
    policy, history = desk
    first = clock(audit_lead(policy, history, "P2"), "first touch")
    assert (first.status, first.due) == ("pending", None)
    assert first.pauses[0].end is None
    assert first.explanation.startswith("pending: the clock is paused since Wed 2026-03-04")
    assert [s.kind for s in first.segments] == ["open", "paused"]
    assert first.segments[-1].end == local_time(int(history.at.max()), AMSTERDAM)


def test_a_wall_clock_runs_through_nights_and_weekends(company_x):
    policy, history = company_x
    nurture = clock(audit_lead(policy, history, "L0000001"), "touches")
    # `touches at least 4 within 30 days`: 30 calendar days, no business calendar
    assert (nurture.status, nurture.business) == ("breached", False)
    assert nurture.calendar == "wall-clock time: runs day and night (New York time)"
    assert [s.kind for s in nurture.segments] == ["open"]
    assert nurture.counted == dt.timedelta(days=30)
    assert nurture.explanation.startswith("breached: 3 of 4 counted touches by the due time")


def test_a_closed_date_is_named():
    policy, history = load(COMPANY_X, FIXTURES / "histories" / "audit_company_x_thanksgiving.csv")
    first = clock(audit_lead(policy, history, "T1"), "first touch")
    # Wed 16:30-17:00 runs; Thanksgiving is closed; Friday 09:00-09:30 runs out the hour
    assert first.due == local(NEW_YORK, 2026, 11, 27, 9, 30)
    assert first.segments[1].why == ["night", "closed date Thursday 26 November 2026"]


def test_a_break_between_shifts_is_a_lunch_break(tmp_path):
    path = tmp_path / "split.sla"
    path.write_text('sla "Split shifts"\ntimezone "Europe/Berlin"\nparty marketing\n'
                    "party sales\ncalendar office {\n  open mon-fri 09:00-12:00, 13:00-17:00\n}\n"
                    "handoff every lead from marketing to sales {\n"
                    "  first touch within 2 business hours\n}\n", encoding="utf-8")
    events = tmp_path / "events.csv"
    events.write_text("lead_id,at,event,actor\nB1,2026-06-03T11:00:00,handoff,web\n"
                      "B1,2026-06-03T13:30:00,touch,lena\n", encoding="utf-8")
    policy, history = load(path, events)
    first = clock(audit_lead(policy, history, "B1"), "first touch")
    berlin = ZoneInfo("Europe/Berlin")
    assert first.due == local(berlin, 2026, 6, 3, 14, 0)  # 11:00-12:00, then 13:00-14:00
    assert [(s.kind, s.why) for s in first.segments] == [
        ("open", []), ("closed", ["lunch break"]), ("open", [])]
    assert first.status == "met"


# ---------------------------------------------------------------- leads without clocks


def test_a_lead_never_handed_off_has_no_clock(company_x):
    policy, history = company_x
    audit = audit_lead(policy, history, "L0000005")
    assert audit.clocks == [] and audit.handed_off_at is None
    assert "not handed off" in audit.note


def test_a_lead_handed_to_nobody_has_no_clock(company_x):
    policy, history = company_x
    audit = audit_lead(policy, history, "L0000035")
    assert audit.clocks == [] and audit.handoff == "discard"
    assert "handed to nobody" in audit.note
    # its handoff starts no clock, and says so (it said "starts every clock")
    assert any("starts no clock: handoff discard hands the lead to nobody" in e.notes
               for e in audit.events)
    assert not any("starts every clock" in e.notes for e in audit.events)


def test_an_unknown_lead_suggests_the_nearest_ids(company_x):
    policy, history = company_x
    with pytest.raises(UnknownLead) as caught:
        audit_lead(policy, history, "L000001")
    assert caught.value.suggestions[0] == "L0000001"
    assert "did you mean 'L0000001'" in str(caught.value)


# ---------------------------------------------------------------- the command line


def test_explain_prints_the_audit_as_text(capsys):
    code = main(["evaluate", str(COMPANY_X), "--history", str(FRIDAY), "--explain", "F1",
                 "--quiet"])
    out = capsys.readouterr().out
    assert code == 0
    assert out.startswith("clock audit of lead F1: Company X: marketing and sales")
    assert "first touch within 1 business hour (sales): BREACHED" in out
    assert "closed (night, weekend)" in out
    assert "--- due Sat 2026-01-10 11:00:00 EST ---" in out


def test_explain_as_json(capsys):
    code = main(["evaluate", str(INBOUND), "--history", str(DESK), "--explain", "P1",
                 "--format", "json", "--quiet"])
    doc = json.loads(capsys.readouterr().out)
    assert code == 0
    assert doc["lead_id"] == "P1" and doc["timezone"] == "Europe/Amsterdam"
    first = doc["clocks"][0]
    assert first["clause"] == "first touch"
    assert first["started_by"] == {"at": "2026-03-02T09:00:00+01:00", "event": "handoff",
                                   "actor": "marketing"}
    assert [s["kind"] for s in first["segments"]] == ["open", "paused", "open"]
    assert first["segments"][0]["counted_seconds"] == 3600
    assert first["pauses"][0]["ended_by"]["at"] == "2026-03-03T09:00:00+01:00"


def test_explain_an_unknown_lead_is_an_input_error(capsys):
    code = main(["evaluate", str(INBOUND), "--history", str(DESK), "--explain", "p1",
                 "--quiet"])
    err = capsys.readouterr().err
    assert code == 2
    assert "no lead 'p1' in the history" in err and "did you mean 'P1'?" in err


def test_explain_respects_as_of(capsys):
    code = main(["evaluate", str(COMPANY_X), "--history", str(FRIDAY), "--explain", "F1",
                 "--as-of", "2026-01-10T10:30", "--format", "json", "--quiet"])
    doc = json.loads(capsys.readouterr().out)
    assert code == 0
    first = next(c for c in doc["clocks"] if c["clause"] == "first touch")
    assert (first["status"], first["at"]) == ("pending", None)
    assert "30 minutes of business time left" in first["explanation"]
    assert doc["as_of"] == "2026-01-10T10:30:00-05:00"


def test_the_text_and_json_say_the_same(friday):
    policy, history = friday
    audit = audit_lead(policy, history, "F1")
    doc = document(audit)
    text = render_text(audit)
    for entry in doc["clocks"]:
        assert entry["explanation"] in text


def test_explain_fails_on_breach_of_the_lead_s_own_clocks(capsys):
    args = ["evaluate", str(COMPANY_X), "--history", str(FRIDAY), "--explain", "F1", "--quiet",
            "--fail-on-breach"]
    assert main(args) == 1  # F1's first touch was late
    assert main([*args[:5], "D9", *args[6:]]) == 2
    assert main([*args, "--html", "report.html"]) == 2
    assert "leave out one of them" in capsys.readouterr().err


def test_the_documented_audit_is_what_the_command_prints(capsys):
    documented = (ROOT / "docs" / "evaluate.md").read_text(encoding="utf-8")
    sample = documented.split("## The clock audit of one lead", 1)[1].split("```\n", 2)[2]
    sample = sample.split("```", 1)[0]
    main(["evaluate", str(COMPANY_X), "--history", str(FRIDAY), "--explain", "F1", "--quiet"])
    assert sample.strip() and sample in capsys.readouterr().out


def test_a_multilevel_lead_has_the_clocks_of_each_level_from_its_own_handoff():
    """New Breed: marketing hands S2 to an MDR on Tuesday 09:05; the MDR hands it on to the
    advisors on Wednesday 16:00 (as "mdr"), without a booked discovery call. The advisors'
    4 business hours (US calendar, 08:30-17:30) run 1.5 h on Wednesday and 2.5 h on Thursday:
    due Thursday 11:00, and Oskar's touch at 11:30 is late; the MDR's clocks kept running
    from Tuesday and were met."""
    policy = load_policy(ROOT / "policies" / "new-breed.sla")
    history = load_history([FIXTURES / "histories" / "audit_new_breed_two_levels.csv"],
                           timezone="America/New_York")
    as_of = dt.datetime(2026, 4, 10, 12, tzinfo=NEW_YORK)
    audit = audit_lead(policy, history, "S2", as_of=int(as_of.timestamp()) * 1_000_000)
    clocks = {(c.handoff, c.clause): c for c in audit.clocks}
    assert clocks[("good_fit_interested", "first touch")].status == "met"
    sql = clocks[("sql", "first touch")]
    assert (sql.status, sql.due.isoformat(), sql.at.isoformat()) == (
        "breached", "2026-03-12T11:00:00-04:00", "2026-03-12T11:30:00-04:00")
    assert clocks[("sql", "threshold")].status == "breached"
    assert [s.kind for s in sql.segments] == ["open", "closed", "open", "open"]
    text = render_text(audit)
    assert "handoff by mdr         starts the clocks of handoff sql" in text
    assert "sql: first touch within 4 business hours on calendar us (sales): BREACHED" in text


def test_a_lead_only_a_later_level_took_is_audited_from_that_handoff():
    """New Breed's outbound NB00018: no marketing handoff; Solveig (an MDR) hands the SQL to
    Oskar on Saturday 18:21, so the advisors' clocks start there and the header names them."""
    policy = load_policy(ROOT / "policies" / "new-breed.sla")
    history = load_history([ROOT / "examples" / "new-breed" / "history.csv"],
                           timezone="America/New_York")
    audit = audit_lead(policy, history, "NB00018")
    assert (audit.handoff, audit.sender, audit.receiver, audit.owner) == (
        "sql", "mdr", "sales", "Oskar")
    assert audit.handed_off_at.isoformat() == "2026-01-10T18:21:35-05:00"
    assert {c.handoff for c in audit.clocks} == {"sql"}
    # 4 business hours from a Saturday evening: Monday 08:30 to 12:30
    assert clock(audit, "first touch").due.isoformat() == "2026-01-12T12:30:00-05:00"
    quiet = audit_lead(policy, history, "NB00001")  # handed on by Inez, but not an SQL then
    assert quiet.clocks == [] and "no handoff block of that level applies" in quiet.note


# ---------------------------------------------------------------- who answers for each clock


@pytest.fixture(scope="module")
def new_breed():
    return load(NEW_BREED, NEW_BREED_HISTORY)


def test_each_clock_names_who_answers_for_it_and_where_it_started(new_breed):
    """NB00047: Rafferty (an MDR) owns it from marketing's handoff on 15 January and hands it
    on to the advisors on the 20th at 17:35; Oskar's connect two days later breaches their
    first touch. The header names the lead's first owner; the advisors' clocks are Oskar's,
    from Rafferty's handoff, as the report's owners table and consequences charge them."""
    policy, history = new_breed
    audit = audit_lead(policy, history, "NB00047")
    assert audit.owner == "Rafferty"
    clocks = {(c.handoff, c.clause): c for c in audit.clocks}
    mdr = clocks[("bad_fit_interested", "first touch")]
    assert (mdr.owner, mdr.clock_start) == ("Rafferty", None)
    sql = clocks[("sql", "first touch")]
    assert (sql.status, sql.owner, sql.clock_start) == (
        "breached", "Oskar", local(NEW_YORK, 2026, 1, 20, 17, 35, 26))
    text = render_text(audit)
    assert ("sql: first touch within 4 business hours on calendar us (sales): BREACHED\n"
            "  clock started Tue 2026-01-20 17:35:26 EST, at the handoff by Rafferty\n"
            "  due Wed 2026-01-21 12:30:00 EST\n") in text
    assert "  owner Oskar answers for it: the lead's owner at the due time\n" in text
    assert "  owner Rafferty answers for it: the lead's owner when it was met\n" in text
    as_json = {(c["handoff"], c["clause"]): c for c in document(audit)["clocks"]}
    assert (as_json[("sql", "first touch")]["owner"],
            as_json[("sql", "first touch")]["clock_start"]) == (
        "Oskar", "2026-01-20T17:35:26-05:00")
    assert "clock_start" not in as_json[("bad_fit_interested", "first touch")]


def test_every_clock_names_the_owner_and_start_of_its_report_record(new_breed):
    policy, history = new_breed
    report = json.loads(sla_dsl.evaluate(policy, history).json())
    leads = report["leads"]
    assert len(leads) > 200
    for lead in leads[::5]:  # every fifth lead keeps the test quick
        audit = document(audit_lead(policy, history, lead["lead_id"]))
        assert audit["owner"] == lead["owner"]
        said = sorted((c["handoff"], c["clause"], c.get("attempt", 1), c["owner"],
                       c.get("clock_start")) for c in audit["clocks"])
        recorded = sorted((r["handoff"], r["clause"], r.get("attempt", 1), r["owner"],
                           r.get("clock_start")) for r in lead["clauses"])
        assert said == recorded, lead["lead_id"]


def test_a_later_attempt_and_a_reassigned_lead_name_each_clock_s_owner():
    """R1: ann's first attempt, then bo's from the re-handoff on 16 March 17:30. R2: its first
    touch fell due at 13:00 while ann owned it; bo, its owner from 15:00, is in the header."""
    policy, history = load(INBOUND, RECYCLED)
    r1 = audit_lead(policy, history, "R1")
    assert [(c.clause, c.attempt, c.owner, c.clock_start) for c in r1.clocks] == [
        ("first touch", 1, "ann", None), ("touches", 1, "ann", None),
        ("first touch", 2, "bo", local(AMSTERDAM, 2026, 3, 16, 17, 30)),
        ("touches", 2, "bo", local(AMSTERDAM, 2026, 3, 16, 17, 30))]
    assert "  owner bo answers for it: the lead's owner now, while it is pending\n" in \
        render_text(r1)
    r2 = audit_lead(policy, history, "R2")
    assert (r2.owner, clock(r2, "first touch").owner, clock(r2, "touches").owner) == (
        "bo", "ann", "bo")


# ---------------------------------------------------------------- the pieces add up


def _minutes(parts: list[str]) -> int:
    """A column's length (`1d 2h 3m` as its parts, `<1m`) in minutes; `<1m` as none."""
    units = {"d": 1440, "h": 60, "m": 1}
    return sum(int(part[:-1]) * units[part[-1]] for part in parts if part != "<1m")


def _trailing_length(text: str) -> list[str]:
    """The parts of the length that ends `text` (`2h 54m`), read from the right."""
    parts: list[str] = []
    for word in reversed(text.split()):
        if not re.fullmatch(r"\d+[dhm]|<1m", word):
            break
        parts.insert(0, word)
    return parts


def _open_pieces(text: str) -> list[tuple[list[int], int]]:
    """Per clock of an audit's text, its open pieces' lengths and its last running total."""
    clocks = []
    for block in text.split("\n\n")[1:]:
        pieces = [line for line in block.splitlines() if line.endswith("  open")]
        if pieces:
            lengths = [_minutes(_trailing_length(line.split("  total")[0])) for line in pieces]
            total = _minutes(pieces[-1].split("  total")[1].split()[:-1])
            clocks.append((lengths, total))
    return clocks


def test_the_pieces_shown_add_up_to_the_total_shown():
    """00Q5g0000000046AAA, handed off Monday 15:06:02 on the inbound desk (open until 18:00):
    2 h 53 min 58 s on Monday and 1 h 6 min 2 s on Tuesday are its 4 business hours. Cut to
    the minute they read 2h 53m + 1h 6m beside a total of 4h; rounded, 2h 54m + 1h 6m."""
    policy = load_policy(INBOUND)
    history = sla_dsl.load_history(SALESFORCE, policy=policy, preset="salesforce")
    text = render_text(audit_lead(policy, history, "00Q5g0000000046AAA"))
    assert ("Mon 2026-03-02 15:06:02 CET -> 18:00:00 CET                   2h 54m  total  2h 54m"
            "  open") in text
    assert ("Tue 2026-03-03 08:00:00 CET -> 09:06:02 CET                    1h 6m  total      4h"
            "  open") in text
    for lead in history.lead_ids.astype(str)[::3]:
        for lengths, total in _open_pieces(render_text(audit_lead(policy, history, lead))):
            assert sum(lengths) == total, lead


# ---------------------------------------------------------------- the boundary rules, said


def test_a_touch_after_the_close_on_a_clause_due_at_the_close_says_why_it_is_late():
    """A: handed off Monday 14:00 on the inbound desk (open 08:00-18:00); its 4 business hours
    run out at the 18:00 close, so it is due then, and the touch at 19:00 is late by an hour
    in which the desk was closed. C, touched at the same hour but due at noon, is late by
    6 open hours and needs no such words."""
    policy, history = load(INBOUND, AFTER_CLOSE)
    a = audit_lead(policy, history, "A")
    first = clock(a, "first touch")
    assert (first.status, first.due) == ("breached", local(AMSTERDAM, 2026, 3, 2, 18))
    assert first.explanation == (
        "breached: touch by ann at Mon 2026-03-02 19:00:00 CET, 1 hour after the due time, "
        "outside business hours (no business time passed after it)")
    assert first.due_rule == (
        "due at the close: the 4 business hours run out exactly at the close, 18:00, and open "
        "time that runs out at a close is due at that close, not at the next opening")
    assert "  due Mon 2026-03-02 18:00:00 CET\n  due at the close: " in render_text(a)
    assert document(a)["clocks"][0]["due_rule"] == first.due_rule
    c = clock(audit_lead(policy, history, "C"), "first touch")
    assert (c.status, c.due_rule) == ("breached", None)
    assert c.explanation.endswith("6 hours of business time after the due time")


def test_business_days_started_while_closed_say_they_are_due_at_that_opening(new_breed):
    """NB00047's advisors: handed off Tuesday 17:35, after the US calendar's 17:30 close, so
    their 2 business days start at Wednesday's 08:30 opening and are due Friday 08:30; Oskar's
    accept on Thursday at 18:30, after the close, is in time with no open time to spare."""
    policy, history = new_breed
    audit = audit_lead(policy, history, "NB00047")
    disposition = next(c for c in audit.clocks if (c.handoff, c.clause) == ("sql",
                                                                           "disposition"))
    assert (disposition.status, disposition.due) == ("met", local(NEW_YORK, 2026, 1, 23, 8, 30))
    assert disposition.due_rule == (
        "handed off while the calendar was closed: the clock started at the next opening, "
        "Wed 2026-01-21 08:30:00 EST, and 2 business days are due 2 open days later at that "
        "time of day")
    assert disposition.explanation == (
        "met: accepted by Oskar at Thu 2026-01-22 18:30:26 EST, 14 hours before the due time, "
        "outside business hours (no business time to spare)")


# ---------------------------------------------------------------- notes name their clause


def test_a_note_on_an_event_names_the_clause_it_is_about(new_breed):
    """NB00006: Solveig (an MDR) works it under good_fit_interested, whose cadence wants a
    business day between touches, and hands it on to the advisors on Saturday 17 January at
    06:36; Oskar's connect the next morning is the advisors' first touch. It is no touch of
    the MDR's cadence (that level's work ended at the handoff), so it carries no note of it;
    the MDR's own touches too close together say whose cadence did not count them."""
    policy, history = new_breed
    audit = audit_lead(policy, history, "NB00006")
    notes = {(e.at.strftime("%a %d %H:%M"), e.event): e.notes for e in audit.events}
    assert notes[("Sun 18 06:31", "connected")] == ["stops sql's first touch (met)"]
    assert notes[("Sat 10 01:13", "touch")] == [
        "not counted for good_fit_interested's touches: less than 1 business day after the "
        "touch before it"]
    assert notes[("Fri 09 04:51", "touch")] == [
        "stops good_fit_interested's first touch (met)",
        "touch 1 of 6 for good_fit_interested's touches"]
    assert notes[("Fri 06 00:47", "touch")] == []  # Oskar's, after the MDR handed it on
    # one block, one clause of each kind: the notes need not say whose
    friday = audit_lead(*load(COMPANY_X, FRIDAY), "F1")
    assert any(n == "not counted: less than 4 hours after the touch before it"
               for e in friday.events for n in e.notes)


def test_a_handoff_to_a_block_without_a_clause_starts_no_clock():
    """Olist's policy hands every lead to sales with no clause (it measures deliveries only):
    a lead's handoff starts no clock, and the audit says so instead of "starts every clock"."""
    policy = load_policy(ROOT / "policies" / "olist.sla")
    history = sla_dsl.load_history([], mapping=ROOT / "examples" / "olist" / "mapping.toml",
                                   policy=policy)
    audit = audit_lead(policy, history, "5420aad7fec3549a85876ba1c529bd84")
    assert audit.clocks == [] and audit.handoff == "every lead"
    handoff = next(e for e in audit.events if e.event == "handoff")
    assert handoff.notes == ["starts no clock: handoff every lead has no clause"]
    assert audit.note == "handoff every lead has no clause: no clock runs"
    assert "starts every clock" not in render_text(audit)


def test_a_clock_stopped_while_paused_is_explained_not_a_crash(tmp_path, capsys):
    # handed off "on hold" and touched before the hold ended: met, with no due time; the
    # audit computed a margin against the missing due time and exited 70
    history = tmp_path / "held.csv"
    history.write_text("lead_id,at,event,actor,status\n"
                       "M1,2026-03-02T09:00:00Z,created,,\n"
                       "M1,2026-03-02T09:00:00Z,handoff,,on hold\n"
                       "M1,2026-03-02T11:00:00Z,touch,bo,\n")
    assert main(["evaluate", str(INBOUND), "--history", str(history), "--explain", "M1"]) == 0
    out = capsys.readouterr().out
    assert "met: touch by bo at Mon 2026-03-02 12:00:00 CET, while the clock was paused (no " \
           "due time was set)" in out
    assert main(["evaluate", str(INBOUND), "--history", str(history), "--explain", "M1",
                 "--format", "json"]) == 0
    clocks = json.loads(capsys.readouterr().out)["clocks"]
    assert [(c["clause"], c["status"], c["due"]) for c in clocks] == [
        ("first touch", "met", None), ("touches", "pending", None)]


def test_a_hold_after_the_connect_does_not_move_a_met_clock_s_due_time(capsys):
    # a Salesforce lead connected 51 minutes into a 4-hour clock, put on hold an hour later:
    # the audit said due Thursday, with 23 hours to spare, more than the whole clock
    assert main(["evaluate", str(ROOT / "policies" / "inbound-desk.sla"), "--history",
                 str(ROOT / "examples" / "salesforce" / "events" / "history.csv"),
                 "--explain", "00Q5g0000000026AAA"]) == 0
    out = capsys.readouterr().out
    assert "pauses every clock" in out
    first, touches = out.split("first touch within")[1], out.split("touches at least")[1]
    assert "due Tue 2026-03-10 11:08:32 CET" in first
    assert "with 3 hours 9 minutes of business time to spare" in first
    assert "due Mon 2026-03-16 17:08:32 CET" in touches
    assert "with 49 hours 9 minutes of business time to spare" in touches


def test_a_wall_clock_day_on_a_calendar_of_its_own_zone_is_said_in_that_zone(tmp_path):
    # `1 day` is counted on the wall clock of the calendar's own timezone (docs/language.md,
    # Wall-clock time): London's Sunday 12:00 after Saturday 12:00 EST is 13:00 EDT, as the
    # audit says, and it named New York beside it
    policy = tmp_path / "p.sla"
    policy.write_text('sla "t"\ntimezone "America/New_York"\nparty marketing\nparty sales\n'
                      'calendar emea timezone "Europe/London" {\n  open mon-fri 08:00-16:30\n}\n'
                      'handoff every lead from marketing to sales {\n  first touch within 1 day\n'
                      '}\n', encoding="utf-8")
    history = tmp_path / "h.csv"
    history.write_text("lead_id,at,event,actor\nD1,2026-03-07T12:00:00-05:00,created,\n"
                       "D1,2026-03-07T12:00:00-05:00,handoff,marketing\n"
                       "D1,2026-03-08T12:30:00-04:00,touch,ana\n", encoding="utf-8")
    loaded = load_policy(policy)
    text = render_text(audit_lead(loaded, load_history([history], timezone=loaded.timezone,
                                                       fields=fields_needed(loaded)), "D1"))
    assert "due Sun 2026-03-08 13:00:00 EDT" in text
    assert "wall-clock time: runs day and night (London time)" in text
