"""Issue 15, item 6: a rep's own calendar. `clocks run on owner hours` in a handoff block, the
reps file (`rep,timezone,hours`) that says whose hours are whose, and the evaluator counting
each lead's business time on its owner's hours and zone, on the calendar's holidays.

The hand-checked instants are those of policies/coast-to-coast.sla and its reps file
(policies/tests/coast-to-coast/reps.csv): ana in Los Angeles 08:00-16:00, bo in New York
09:00-17:00, dee in Chicago on mornings (Fridays to 12:00); cy is in no file.
"""

from __future__ import annotations

import datetime as dt
import random
import shutil
from zoneinfo import ZoneInfo

import numpy as np
import pytest

import sla_dsl
from sla_dsl.business_time.calendar import BusinessCalendar, deadline
from sla_dsl.business_time.rep_hours import hours_text, parse_hours
from sla_dsl.ci.policy_tests import run_cases
from sla_dsl.evaluation.replay import STATUS_NAMES
from sla_dsl.history.reps import read_reps
from sla_dsl.language import model as m
from sla_dsl.language.source import Source
from sla_dsl.policy_file import check_text, format_source

from .conftest import ROOT

POLICY = ROOT / "policies" / "coast-to-coast.sla"
REPS = ROOT / "policies" / "tests" / "coast-to-coast" / "reps.csv"
CHICAGO = ZoneInfo("America/Chicago")


@pytest.fixture(scope="module")
def policy():
    return sla_dsl.load_policy(POLICY)


def _history(tmp_path, rows: list[str], reps=REPS):
    path = tmp_path / "history.csv"
    path.write_text("lead_id,at,event,actor\n" + "".join(r + "\n" for r in rows))
    return sla_dsl.load_history(path, policy=sla_dsl.load_policy(POLICY), reps=reps)


def _handed(lead: str, at: str, rep: str) -> list[str]:
    return [f"{lead},{at},handoff,marketing", f"{lead},{at},assigned,{rep}"]


def _clause(report, clause: str, lead: str) -> tuple[str, str, str | None]:
    """A lead's clause: its status, due time in Chicago time, and whose hours counted."""
    result = next(r for r in report.evaluation.clauses if r.clause == clause)
    index = int(np.flatnonzero(report.evaluation.history.lead_ids == lead)[0])
    row = int(np.flatnonzero(result.leads == index)[0])
    due = dt.datetime.fromtimestamp(int(result.due[row]) / 1e6, CHICAGO)
    return STATUS_NAMES[int(result.status[row])], due.isoformat(), result.hours_of[row]


# ---------------------------------------------------------------- the hours text


@pytest.mark.parametrize("text, week", [
    ("mon-fri 09:00-17:00", {d: [(540, 1020)] for d in range(5)}),
    ("Mon, Wed 08:00-12:00, 13:00-17:00", {0: [(480, 720), (780, 1020)],
                                           2: [(480, 720), (780, 1020)]}),
    ("mon-thu 08:00-16:00; fri 08:00-12:00", {**{d: [(480, 960)] for d in range(4)},
                                              4: [(480, 720)]}),
    ("fri-mon 22:00-24:00", {d: [(1320, 1440)] for d in (4, 5, 6, 0)}),
])
def test_hours_are_written_as_a_calendar_open_line(text, week):
    assert parse_hours(text) == week


@pytest.mark.parametrize("text, why", [
    ("weekdays 09:00-17:00", "the days must come first"),
    ("mon-fri", "the days must come first"),
    ("mon-fri 9am-5pm", r"'9am-5pm' is not a span of hours like 09:00-17:00 \(write "
                        r"09:00-17:00\)"),
    ("sat 12pm-12:30 pm", r"\(write 12:00-12:30\)"),
    ("mon 17:00-09:00", "ends before it starts"),
    ("mon 24:30-25:00", "'24:30' is not a time of day"),
])
def test_bad_hours_say_what_is_wrong(text, why):
    with pytest.raises(ValueError, match=why):
        parse_hours(text)


def test_a_calendar_week_reads_back_as_hours_text():
    week = BusinessCalendar("UTC", parse_hours("mon-thu 09:00-13:00; fri 09:00-12:00")).week
    assert hours_text(week) == "mon-thu 09:00-13:00; fri 09:00-12:00"


# ---------------------------------------------------------------- the reps file


def test_bad_reps_rows_are_counted_and_said_never_dropped(tmp_path):
    path = tmp_path / "reps.csv"
    path.write_text("rep,timezone,hours\n"
                    "ana,America/Los_Angeles,mon-fri 08:00-16:00\n"
                    ",America/New_York,mon-fri 09:00-17:00\n"
                    "bo,Eastern,mon-fri 09:00-17:00\n"
                    "bo,America/New_York,mon-fri 9am-5pm\n"
                    "dee,,\n"
                    "dee,America/Chicago,mon-thu 09:00-13:00\n"
                    "dee,America/Denver,fri 09:00-12:00\n"
                    "dee,,fri 09:00-12:00\n")
    reps = read_reps(path)
    assert (reps.counts.read, reps.counts.accepted, reps.counts.rejected) == (8, 3, 5)
    assert [(r.row, r.reason) for r in reps.rejects] == [
        (2, "no rep named"),
        (3, "timezone 'Eastern' is not an IANA time zone (such as America/Los_Angeles)"),
        (4, "hours 'mon-fri 9am-5pm': '9am-5pm' is not a span of hours like 09:00-17:00 "
            "(write 09:00-17:00)"),
        (5, "neither a timezone nor hours"),
        (7, "timezone America/Denver differs from row 6's America/Chicago for dee")]
    assert sorted(reps.hours) == ["ana", "dee"]
    dee = reps.hours["dee"]
    assert dee.zone == "America/Chicago" and dee.source == "reps.csv rows 6, 8"
    assert dee.weekly[4] == ((540, 720),) and dee.weekly[0] == ((540, 780),)


def test_a_reps_file_without_its_columns_is_refused(tmp_path):
    path = tmp_path / "reps.csv"
    path.write_text("name,zone\nana,America/Los_Angeles\n")
    with pytest.raises(sla_dsl.HistoryError, match="the reps file has no rep column"):
        read_reps(path)


def test_a_side_files_values_are_never_dropped_without_a_word(tmp_path):
    # an unquoted comma (the docs' two-span form) lost bo's afternoon with "0 rejected", and
    # a column named twice kept its last value; the absences file read both the same way
    from sla_dsl.history.absences import read_absences

    path = tmp_path / "reps.csv"
    path.write_text("rep,timezone,hours\nbo,America/New_York,mon-fri 08:00-12:00, 13:00-17:00"
                    "\nana,UTC,mon-fri 09:00-17:00,,\n")
    reps = read_reps(path)
    assert [(r.row, r.reason) for r in reps.rejects] == [
        (1, "the row has 4 values, the header 3 columns (a value with a comma in it needs "
            "quotes)")]
    assert sorted(reps.hours) == ["ana"]  # empty values past the header are no values
    path.write_text("rep,timezone,hours,hours\nbo,UTC,mon 09:00-10:00,sat 10:00-11:00\n")
    with pytest.raises(sla_dsl.HistoryError, match="names column `hours` twice"):
        read_reps(path)
    absences = tmp_path / "absences.csv"
    absences.write_text("rep,start,end\nbo,2026-03-02,2026-03-03,training\n")
    [reject] = read_absences(absences, "UTC").rejects
    assert reject.reason.startswith("the row has 4 values, the header 3 columns")
    absences.write_text("rep,start,end,end\nbo,2026-03-02,2026-03-03,2026-03-09\n")
    with pytest.raises(sla_dsl.HistoryError, match="names column `end` twice"):
        read_absences(absences, "UTC")


def test_the_command_line_lists_bad_reps_rows(tmp_path, capsys):
    from sla_dsl.cli import main

    (tmp_path / "reps.csv").write_text("rep,timezone,hours\nana,America/Los_Angeles,"
                                       "mon-fri 08:00-16:00\nbo,Mars/Olympus,\n")
    (tmp_path / "h.csv").write_text("lead_id,at,event,actor\n"
                                    "A1,2027-03-12T15:30,handoff,marketing\n")
    code = main(["evaluate", str(POLICY), "--history", str(tmp_path / "h.csv"), "--reps",
                 str(tmp_path / "reps.csv"), "-q"])
    err = capsys.readouterr().err
    assert code == 0
    assert "reps.csv:2: rejected rep: timezone 'Mars/Olympus' is not an IANA time zone" in err
    assert "reps: 2 rows read, 1 accepted, 1 rejected; 1 rep" in err
    code = main(["evaluate", str(POLICY), "--history", str(tmp_path / "h.csv"), "--reps",
                 str(tmp_path / "reps.csv"), "-q", "--strict"])
    assert code == 2  # --strict fails on a rejected reps row as on a rejected event
    assert "sla evaluate: 1 row rejected (1 reps) (--strict)" in capsys.readouterr().err


# ---------------------------------------------------------------- the language


def _desk(line: str, receiver: str = "sales") -> str:
    return ('sla "t"\ntimezone "America/Chicago"\nparty marketing\nparty sales\n'
            "calendar business {\n  open mon-fri 09:00-17:00\n}\n"
            f"handoff every lead from marketing to {receiver} {{\n"
            f"  first touch within 1 business hour\n  {line}\n}}\n")


def test_the_line_parses_builds_and_formats_back():
    checked = check_text(_desk("clocks   run on  owner hours"))
    assert not checked.diagnostics
    assert isinstance(checked.policy.handoffs[0].item("owner_hours"), m.OwnerHours)
    assert checked.policy.handoffs[0].on_owner_hours
    formatted, problems = format_source(Source("t.sla", _desk("clocks  run on owner  hours")))
    assert not problems and "  clocks run on owner hours\n" in formatted
    assert not check_text(_desk("on reassign continue")).policy.handoffs[0].on_owner_hours


def test_a_field_called_clocks_still_reads_in_a_condition():
    checked = check_text(_desk("when clocks > 3"))
    assert not checked.diagnostics


@pytest.mark.parametrize("line, receiver, message", [
    ("clocks run on owner hours\n  clocks run on owner hours", "sales",
     "says its clocks run on owner hours twice"),
    ("clocks run on rep hours", "sales", "only the lead's owner has hours of their own"),
])
def test_misused_owner_hours_are_e422(line, receiver, message):
    checked = check_text(_desk(line, receiver))
    assert [d.code.code for d in checked.diagnostics] == ["E422"]
    assert message in checked.diagnostics[0].message


def test_a_block_to_nobody_has_no_owner_hours():
    text = ('sla "t"\ntimezone "America/Chicago"\nparty marketing\n'
            "handoff every lead to nobody {\n  clocks run on owner hours\n}\n")
    checked = check_text(text)
    assert "E422" in [d.code.code for d in checked.diagnostics]


def test_sla_explain_says_whose_hours(policy):
    from sla_dsl.reports.agreement import agreement, render_markdown

    text = render_markdown(agreement(policy))
    assert ("For every lead, the hours and the timezone are those of the lead's owner (each "
            "rep's own, from the reps file); the calendar's closed days and holidays close "
            "them too.") in text


# ---------------------------------------------------------------- the evaluator


def test_reps_in_two_zones_on_the_same_lead_times_across_dst_and_a_weekend(tmp_path):
    """Handed off Friday 12 March 2027 15:30 CST; the US springs forward on Sunday 14 March.
    ana (LA 08:00-16:00): 13:30 PST + 2 h = 15:30 PST, 17:30 CST. bo (NY 09:00-17:00):
    16:30 EST, 30 min on Friday, 90 min from Monday 09:00 EDT: 10:30 EDT, 09:30 CDT."""
    history = _history(tmp_path, _handed("A1", "2027-03-12T15:30", "ana")
                       + _handed("B1", "2027-03-12T15:30", "bo"))
    report = sla_dsl.evaluate(sla_dsl.load_policy(POLICY), history, as_of="2027-03-16T12:00")
    assert _clause(report, "first touch", "A1") == (
        "breached", "2027-03-12T17:30:00-06:00", "ana")
    assert _clause(report, "first touch", "B1") == (
        "breached", "2027-03-15T09:30:00-05:00", "bo")
    # 2 business days, the same local time on the second open day: ana Tuesday 13:30 PDT
    # (15:30 CDT), bo Tuesday 16:30 EDT (15:30 CDT)
    assert _clause(report, "touches", "A1")[1] == "2027-03-16T15:30:00-05:00"
    assert _clause(report, "touches", "B1")[1] == "2027-03-16T15:30:00-05:00"


def test_a_holiday_of_the_calendar_closes_the_rep_s_own_day(tmp_path):
    """Memorial Day, Monday 31 May 2027. bo: Friday 28 May 16:30 EDT, 30 min; Monday closed;
    Tuesday 09:00 EDT + 90 min = 10:30 EDT, 09:30 CDT. Were the holiday not closed for bo,
    Monday 09:30 CDT."""
    history = _history(tmp_path, _handed("M2", "2027-05-28T15:30", "bo"))
    report = sla_dsl.evaluate(sla_dsl.load_policy(POLICY), history, as_of="2027-06-10T12:00")
    assert _clause(report, "first touch", "M2")[1] == "2027-06-01T09:30:00-05:00"


def test_a_rep_missing_from_the_file_works_the_calendar_s_hours_and_is_counted(tmp_path):
    """cy is in no reps file: Chicago 09:00-17:00. Friday 12 March 16:30 CST, 30 min; Monday
    09:00 CDT + 90 min: 10:30 CDT. dee (mornings, Fridays to 12:00): Monday 09:00 + 2 h."""
    history = _history(tmp_path, _handed("C1", "2027-03-12T16:30", "cy")
                       + _handed("D1", "2027-03-12T16:30", "dee"))
    report = sla_dsl.evaluate(sla_dsl.load_policy(POLICY), history, as_of="2027-03-16T12:00")
    assert _clause(report, "first touch", "C1") == (
        "breached", "2027-03-15T10:30:00-05:00", "cy")
    assert _clause(report, "first touch", "D1")[1] == "2027-03-15T11:00:00-05:00"
    notes = report.document["rows"]["notes"]
    assert ("handoff every lead runs its clocks on owner hours: 2 clocks on their owner's own "
            "hours, 2 on the calendar's (not in the reps file, no zone from the export: "
            "cy (2))") in notes
    assert any("cy (2)" in line for line in report.text().splitlines())


def test_without_a_reps_file_every_clock_is_on_the_calendar(tmp_path, policy):
    history = _history(tmp_path, _handed("A1", "2027-03-12T15:30", "ana"), reps=None)
    report = sla_dsl.evaluate(policy, history, as_of="2027-03-16T12:00")
    # Chicago 09:00-17:00: 90 min on Friday, 30 min from Monday 09:00 CDT
    assert _clause(report, "first touch", "A1")[1] == "2027-03-15T09:30:00-05:00"


def test_each_owner_s_due_times_agree_with_the_scalar_deadline(tmp_path, policy):
    """Leads spread over 2027 (both clock changes, the federal holidays) across four owners:
    the grouped, vectorised due times equal `deadline` on a calendar built independently
    for each rep from their zone and hours, with the US holidays."""
    rng = random.Random(15)
    reps = {"ana": ("America/Los_Angeles", "mon-fri 08:00-16:00"),
            "bo": ("America/New_York", "mon-fri 09:00-17:00"),
            "dee": ("America/Chicago", "mon-thu 09:00-13:00; fri 09:00-12:00"),
            "cy": ("America/Chicago", "mon-fri 09:00-17:00")}  # cy: the calendar's
    rows, expected = [], {}
    start = dt.datetime(2027, 1, 1, tzinfo=CHICAGO)
    for i in range(240):
        rep = rng.choice(sorted(reps))
        at = start + dt.timedelta(minutes=rng.randrange(0, 365 * 24 * 60))
        lead = f"L{i:03}"
        rows += _handed(lead, at.strftime("%Y-%m-%dT%H:%M"), rep)
        zone, hours = reps[rep]
        calendar = BusinessCalendar(zone, parse_hours(hours), holidays=["US"])
        moment = dt.datetime.fromisoformat(at.strftime("%Y-%m-%dT%H:%M")).replace(tzinfo=CHICAGO)
        expected[lead] = {name: deadline(moment, item.within, calendar)
                          for name, item in (("first touch", policy.handoffs[0].items[1]),
                                             ("touches", policy.handoffs[0].items[2]))}
    history = _history(tmp_path, rows)
    report = sla_dsl.evaluate(policy, history, as_of="2028-01-31T00:00")
    for clause in ("first touch", "touches"):
        for lead, dues in expected.items():
            assert _clause(report, clause, lead)[1] == dues[clause].astimezone(CHICAGO).isoformat()


def test_restart_runs_on_the_new_owner_s_hours_continue_keeps_the_due_time(tmp_path):
    """Handed to ana Friday 12 March 2027 15:30 CST, reassigned to bo at 15:45 CST. Continue
    (the policy's): ana's due time stands, 15:30 PST = 17:30 CST, and bo answers for it.
    Restart: the clock starts again at 15:45 CST on bo's hours: 16:45 EST, 15 min on Friday,
    105 min from Monday 09:00 EDT: 10:45 EDT, 09:45 CDT."""
    rows = [*_handed("R1", "2027-03-12T15:30", "ana"), "R1,2027-03-12T15:45,assigned,bo"]
    history = _history(tmp_path, rows)
    report = sla_dsl.evaluate(sla_dsl.load_policy(POLICY), history, as_of="2027-03-16T12:00")
    assert _clause(report, "first touch", "R1") == (
        "breached", "2027-03-12T17:30:00-06:00", "ana")
    first = next(r for r in report.evaluation.clauses if r.clause == "first touch")
    assert first.owner[0] == "bo"
    text = POLICY.read_text().replace("on reassign continue", "on reassign restart")
    (tmp_path / "restart.sla").write_text(text)
    restart = sla_dsl.load_policy(tmp_path / "restart.sla")
    history = sla_dsl.load_history(tmp_path / "history.csv", policy=restart, reps=REPS)
    report = sla_dsl.evaluate(restart, history, as_of="2027-03-16T12:00")
    assert _clause(report, "first touch", "R1") == (
        "breached", "2027-03-15T09:45:00-05:00", "bo")


def test_the_clock_audit_names_the_rep_s_hours_and_zone(tmp_path, policy):
    from sla_dsl.evaluation.clock_audit import audit_lead, render_text

    history = _history(tmp_path, _handed("B1", "2027-03-12T15:30", "bo")
                       + _handed("C1", "2027-03-12T15:30", "cy"))
    as_of = int(dt.datetime(2027, 3, 16, 12, tzinfo=CHICAGO).timestamp()) * 1_000_000
    text = render_text(audit_lead(policy, history, "B1", as_of))
    assert ("counted on bo's own hours: mon-fri 09:00-17:00, America/New_York (reps.csv row "
            "2), with the business calendar's closed days and holidays") in text
    assert "due Mon 2027-03-15 09:30:00 CDT" in text
    # the open time, shown in the policy's zone: bo's Friday ends at 16:00 CST
    assert "Fri 2027-03-12 15:30:00 CST -> 16:00:00 CST" in text
    text = render_text(audit_lead(policy, history, "C1", as_of))
    assert ("(owner cy is not in the reps file and has no zone from the export: the "
            "calendar's hours, not the owner's)") in text


def test_the_due_list_gives_the_owner_s_local_time_and_time_left_on_their_hours(
        tmp_path, policy):
    """As of Friday 12 March 2027 16:00 CST (17:00 EST, 14:00 PST): bo's day is over, so all
    90 minutes of his first touch are left, due Monday 10:30 EDT; ana's is due 15:30 PST with
    90 minutes of her day to go."""
    history = _history(tmp_path, _handed("A1", "2027-03-12T15:30", "ana")
                       + _handed("B1", "2027-03-12T15:30", "bo"))
    due = sla_dsl.evaluate(policy, history, as_of="2027-03-12T16:00").due(within_hours=24)
    items = {(i["lead_id"], i["clause"]): i for i in due.document["items"]}
    assert items[("B1", "first touch")]["due_at"] == "2027-03-15T10:30:00-04:00"
    assert items[("B1", "first touch")]["zone"] == "America/New_York"
    assert items[("A1", "first touch")]["due_at"] == "2027-03-12T15:30:00-08:00"
    assert items[("A1", "first touch")]["left_seconds"] == 5400
    assert items[("B1", "first touch")]["left_seconds"] == 5400
    text = due.text()
    assert "Mon 2027-03-15 10:30 EDT  1 hour 30 minutes of business time left" in text
    assert "Fri 2027-03-12 15:30 PST  1 hour 30 minutes of business time left" in text


def test_the_salesforce_user_zones_feed_the_owner_hours(tmp_path):
    """The shipped Salesforce export read with the preset: every user is in Amsterdam. One
    user moved to Europe/London in User.csv works the inbound desk's 08:00-18:00 in London:
    each of their leads is due on that calendar, every other lead as on the desk's."""
    export = tmp_path / "export"
    shutil.copytree(ROOT / "examples" / "salesforce", export,
                    ignore=shutil.ignore_patterns("events", "README.md"))
    users = (export / "User.csv").read_text().splitlines()
    moved = users[1].split(",")
    users[1] = ",".join([*moved[:-1], "Europe/London"])
    (export / "User.csv").write_text("\n".join(users) + "\n")
    desk = ROOT / "policies" / "inbound-desk.sla"
    text = desk.read_text().replace('  pause while status == "on hold"\n',
                                    '  pause while status == "on hold"\n'
                                    '  clocks run on owner hours\n')
    (tmp_path / "desk.sla").write_text(text)
    policy = sla_dsl.load_policy(tmp_path / "desk.sla")
    history = sla_dsl.load_history(sorted(export.glob("*.csv")), policy=policy,
                                   preset="salesforce")
    assert history.actor_zones[moved[1]] == "Europe/London"
    result = next(r for r in sla_dsl.evaluate(policy, history).evaluation.clauses
                  if r.clause == "first touch")
    # the desk as shipped, every clock on Amsterdam hours: a lead put on hold is due later
    # than its plain deadline, and is left out of the comparison
    shipped = sla_dsl.load_policy(desk)
    before = next(r for r in sla_dsl.evaluate(shipped, sla_dsl.load_history(
        sorted((ROOT / "examples" / "salesforce").glob("*.csv")), policy=shipped,
        preset="salesforce")).evaluation.clauses if r.clause == "first touch")
    week = {d: [(480, 1080)] for d in range(5)}
    christmas = [(dt.date(2026, 12, 25), dt.date(2026, 12, 26))]
    london = BusinessCalendar("Europe/London", week, closed=christmas)
    amsterdam = BusinessCalendar("Europe/Amsterdam", week, closed=christmas)
    within = shipped.handoffs[0].items[0].within

    def due_on(calendar, start: int) -> int:
        moment = dt.datetime.fromtimestamp(start / 1e6, dt.UTC)
        return int(deadline(moment, within, calendar).timestamp()) * 1_000_000

    assert list(before.leads) == list(result.leads)
    theirs = moved_by_an_hour = 0
    for row in range(len(result.leads)):
        start = int(result.start[row])
        if int(before.due[row]) != due_on(amsterdam, start):
            continue  # on hold for a while
        mine = result.hours_of[row] == moved[1]
        theirs += mine
        assert int(result.due[row]) == due_on(london if mine else amsterdam, start)
        moved_by_an_hour += mine and int(result.due[row]) != int(before.due[row])
    assert theirs > 0 and moved_by_an_hour > 0


def test_a_test_case_with_a_bad_reps_row_fails_with_its_row(tmp_path):
    case = tmp_path / "case.toml"
    case.write_text(f'policy = "{POLICY}"\n'
                    'reps = """\nrep,timezone,hours\nana,America/Los_Angeles,'
                    'mon-fri 8-4\n"""\n'
                    'events = """\nlead_id,at,event,actor\n'
                    'A1,2027-03-12T15:30,handoff,marketing\nA1,2027-03-12T15:30,assigned,ana\n'
                    '"""\n[[expect]]\nlead = "A1"\nclause = "first touch"\nstatus = "pending"\n')
    (result,) = run_cases([case])
    assert result.outcome == "error"
    assert any("reps row 1 rejected: hours 'mon-fri 8-4'" in p.message for p in result.problems)


def test_an_absence_pauses_the_clock_on_the_owner_s_own_hours(tmp_path):
    """`when owner absent pause` with owner hours: bo (New York 09:00-17:00) is absent Monday
    15 March 2027 08:00-10:00 Chicago time, his first two hours (09:00-11:00 EDT). B1, handed
    off Friday 12 March 15:30 CST, used 30 min of its 2 h on Friday; unpaused it is due Monday
    10:30 EDT; the absence pushes it back by its 2 open hours of bo's: 12:30 EDT, 11:30 CDT.
    (On the calendar's hours the same absence covers one open hour: 10:30 CDT.)"""
    text = POLICY.read_text().replace("  on reassign continue\n",
                                      "  on reassign continue\n  when owner absent pause\n")
    (tmp_path / "absent.sla").write_text(text)
    policy = sla_dsl.load_policy(tmp_path / "absent.sla")
    (tmp_path / "history.csv").write_text(
        "lead_id,at,event,actor\n" + "".join(
            r + "\n" for r in _handed("B1", "2027-03-12T15:30", "bo")))
    (tmp_path / "absences.csv").write_text("rep,start,end\nbo,2027-03-15T08:00,2027-03-15T10:00\n")
    history = sla_dsl.load_history(tmp_path / "history.csv", policy=policy, reps=REPS,
                                   absences=tmp_path / "absences.csv")
    report = sla_dsl.evaluate(policy, history, as_of="2027-03-17T12:00")
    assert _clause(report, "first touch", "B1") == (
        "breached", "2027-03-15T11:30:00-05:00", "bo")


def test_sla_diff_replays_the_line_with_the_reps_file(tmp_path, capsys):
    """Adding the line to a policy that lacked it: dee (mornings, Fridays to 12:00) touched D1
    Monday 10:50, inside her 2 hours (due 11:00) but past the calendar's (due 09:30)."""
    from sla_dsl.cli import main

    old = tmp_path / "old.sla"
    old.write_text(POLICY.read_text().replace("  clocks run on owner hours\n", ""))
    (tmp_path / "h.csv").write_text("lead_id,at,event,actor\n" + "".join(
        r + "\n" for r in [*_handed("D1", "2027-03-12T15:30", "dee"),
                           "D1,2027-03-15T10:50,touch,dee"]))
    code = main(["diff", str(old), str(POLICY), "--history", str(tmp_path / "h.csv"),
                 "--reps", str(REPS), "--as-of", "2027-03-20T00:00"])
    out = capsys.readouterr().out
    assert code == 0
    assert "added      handoff 'every lead' > clocks run on owner hours" in out
    assert "breached -> met: 1 lead: D1" in out


def test_the_library_evaluate_takes_the_reps_file_too(tmp_path, policy):
    history = _history(tmp_path, _handed("A1", "2027-03-12T15:30", "ana"), reps=None)
    report = sla_dsl.evaluate(policy, history, as_of="2027-03-16T12:00", reps=REPS)
    assert _clause(report, "first touch", "A1")[1] == "2027-03-12T17:30:00-06:00"
    assert history.reps is None  # the history as it was read


def test_the_json_audit_says_whose_hours(tmp_path, policy):
    from sla_dsl.evaluation.clock_audit import audit_lead, document

    history = _history(tmp_path, _handed("D1", "2027-03-12T15:30", "dee")
                       + _handed("C1", "2027-03-12T15:30", "cy"))
    doc = document(audit_lead(policy, history, "D1"))
    assert doc["clocks"][0]["owner_hours"] == {
        "owner": "dee", "own": True, "timezone": "America/Chicago",
        "hours": "mon-thu 09:00-13:00; fri 09:00-12:00", "source": "reps.csv rows 3, 4"}
    doc = document(audit_lead(policy, history, "C1"))
    assert doc["clocks"][0]["owner_hours"] == {
        "owner": "cy", "own": False, "timezone": "America/Chicago",
        "hours": "mon-fri 09:00-17:00", "source": None}
